//! The defaults and range checks the tabular configs share: a leaf that every algorithm's
//! file imports and that imports none of them.

use super::schedule::{Schedule, StepSize};
use crate::{Error, Result};

/// The defaults shared by the configs, in one place.
pub(crate) mod defaults {
    /// Step size α.
    pub const ALPHA: f64 = 0.1;
    /// Discount γ: the tabular tasks are episodic, as in Sutton & Barto's examples.
    pub const GAMMA: f64 = 1.0;
    /// ε of ε-greedy.
    pub const EPSILON: f64 = 0.1;
    /// Softmax temperature.
    pub const TEMPERATURE: f64 = 1.0;
    /// Trace-decay λ.
    pub const LAMBDA: f64 = 0.9;
    /// Traces at or below this magnitude are dropped.
    pub const TRACE_CUTOFF: f64 = 1e-4;
}

/// `v` in `[0, 1]`.
pub(crate) fn check_unit(key: &str, v: f64) -> Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::config(key, v, "a number in [0, 1]"))
    }
}

/// A constant step size: `(0, 1]`.
pub(crate) fn check_alpha(v: f64) -> Result<()> {
    if v > 0.0 && v <= 1.0 {
        Ok(())
    } else {
        Err(Error::config("alpha", v, "a number in (0, 1]"))
    }
}

/// A trace cutoff: `[0, 1)`.
pub(crate) fn check_cutoff(v: f64) -> Result<()> {
    if (0.0..1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::config("trace_cutoff", v, "a number in [0, 1)"))
    }
}

/// A finite initial value.
pub(crate) fn check_initial_value(v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::config("initial_value", v, "a finite number"))
    }
}

/// The step size, trace decay and trace cutoff of the λ configs.
pub(crate) fn check_traces(alpha: f64, lambda: f64, trace_cutoff: f64) -> Result<()> {
    check_alpha(alpha)?;
    check_unit("lambda", lambda)?;
    check_cutoff(trace_cutoff)
}

/// The fields of the prediction configs but the trace kind.
pub(crate) fn check_prediction(
    alpha: f64,
    gamma: f64,
    lambda: f64,
    trace_cutoff: f64,
    initial_value: f64,
) -> Result<()> {
    check_alpha(alpha)?;
    check_unit("gamma", gamma)?;
    check_unit("lambda", lambda)?;
    check_cutoff(trace_cutoff)?;
    check_initial_value(initial_value)
}

/// The fields every control config has.
pub(crate) fn check_control(
    alpha: StepSize,
    gamma: f64,
    epsilon: &Schedule,
    temperature: &Schedule,
    initial_value: f64,
) -> Result<()> {
    alpha.validate("alpha")?;
    check_policy(gamma, epsilon, temperature, initial_value)
}

/// The fields of a control config but the step size.
pub(crate) fn check_policy(
    gamma: f64,
    epsilon: &Schedule,
    temperature: &Schedule,
    initial_value: f64,
) -> Result<()> {
    check_unit("gamma", gamma)?;
    epsilon.validate(
        "epsilon",
        |v| (0.0..=1.0).contains(&v),
        "a number in [0, 1]",
    )?;
    temperature.validate(
        "temperature",
        |t| t > 0.0 && t.is_finite(),
        "a finite number > 0",
    )?;
    check_initial_value(initial_value)
}
