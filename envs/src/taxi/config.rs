//! [`TaxiConfig`]: the settings of [`Taxi`](super::Taxi), and how parameters change them.

use crate::params::invalid;
use crate::{ParamValue, Params, Result};

/// Parameter keys [`TaxiConfig::apply_params`] takes.
pub const ALLOWED_PARAMS: &[&str] = &[
    "is_rainy",
    "fickle_passenger",
    "rainy_probability",
    "fickle_probability",
    "max_episode_steps",
];

/// The settings of [`Taxi`](super::Taxi), with Gymnasium's `TaxiEnv` arguments and defaults.
///
/// | field | default | valid range | parameter key |
/// |---|---|---|---|
/// | `is_rainy` | `false` | `true`, `false` | `is_rainy` |
/// | `fickle_passenger` | `false` | `true`, `false` | `fickle_passenger` |
/// | `rainy_probability` | `0.8` | `[0, 1]` | `rainy_probability` |
/// | `fickle_probability` | `0.3` | `[0, 1]` | `fickle_probability` |
/// | `max_episode_steps` | `200` | `≥ 1` | `max_episode_steps` |
///
/// ```
/// use qlab_envs::taxi::TaxiConfig;
/// use qlab_envs::{ParamValue, Params};
/// # fn main() -> qlab_envs::Result<()> {
/// let mut config = TaxiConfig::default();
/// config.apply_params("Taxi-v4", &Params::new().with("is_rainy", ParamValue::Bool(true)))?;
/// assert!(config.is_rainy && config.rainy_probability == 0.8);
/// let bad = Params::new().with("rainy_probability", ParamValue::Float(1.5));
/// assert!(config.apply_params("Taxi-v4", &bad).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct TaxiConfig {
    /// Moves go where intended with probability `rainy_probability`, else to either side at
    /// right angles. Default `false`: every move goes where intended.
    pub is_rainy: bool,
    /// The passenger may change their destination once, on the taxi's first move with them
    /// on board (see [`Taxi`](super::Taxi)). Default `false`.
    pub fickle_passenger: bool,
    /// With `is_rainy`, the probability that a move goes where intended; each side gets
    /// `(1 − rainy_probability) / 2`. Default 0.8; in `[0, 1]`.
    pub rainy_probability: f64,
    /// With `fickle_passenger`, the probability, drawn at each reset, that the passenger
    /// changes their mind in that episode. Default 0.3; in `[0, 1]`.
    pub fickle_probability: f64,
    /// The step after which the registry's [`TimeLimit`](crate::wrappers::TimeLimit)
    /// truncates an episode. Default 200, as `Taxi-v4`; at least 1. The env itself never
    /// truncates.
    pub max_episode_steps: u64,
}

impl Default for TaxiConfig {
    fn default() -> Self {
        Self {
            is_rainy: false,
            fickle_passenger: false,
            rainy_probability: 0.8,
            fickle_probability: 0.3,
            max_episode_steps: 200,
        }
    }
}

impl TaxiConfig {
    /// Overrides fields from named parameters (keys as in the table on the type).
    ///
    /// Unknown keys are [`Error::UnknownParam`](crate::Error::UnknownParam); a value of the
    /// wrong type or out of range is [`Error::InvalidParam`](crate::Error::InvalidParam)
    /// naming the key, the value and what is allowed. On error `self` is left unchanged.
    pub fn apply_params(&mut self, id: &str, params: &Params) -> Result<()> {
        params.check_keys(id, ALLOWED_PARAMS)?;
        let mut next = self.clone();
        if let Some(b) = params.bool("is_rainy")? {
            next.is_rainy = b;
        }
        if let Some(b) = params.bool("fickle_passenger")? {
            next.fickle_passenger = b;
        }
        for key in ["rainy_probability", "fickle_probability"] {
            if let Some(p) = params.f64(key)? {
                if !(0.0..=1.0).contains(&p) {
                    return Err(invalid(
                        key,
                        &ParamValue::Float(p),
                        "a probability in [0, 1]",
                    ));
                }
                match key {
                    "rainy_probability" => next.rainy_probability = p,
                    _ => next.fickle_probability = p,
                }
            }
        }
        if let Some(v) = params.get("max_episode_steps") {
            match params.usize("max_episode_steps")? {
                Some(n) if n >= 1 => next.max_episode_steps = n as u64,
                _ => return Err(invalid("max_episode_steps", v, "an integer ≥ 1")),
            }
        }
        *self = next;
        Ok(())
    }

    /// Checks the fields a struct literal or a deserialized config may have set out of range
    /// (`apply_params` refuses them already).
    pub(crate) fn validate(&self) -> Result<()> {
        for (key, p) in [
            ("rainy_probability", self.rainy_probability),
            ("fickle_probability", self.fickle_probability),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(invalid(
                    key,
                    &ParamValue::Float(p),
                    "a probability in [0, 1]",
                ));
            }
        }
        if self.max_episode_steps == 0 {
            return Err(invalid(
                "max_episode_steps",
                &ParamValue::Int(0),
                "an integer ≥ 1",
            ));
        }
        Ok(())
    }
}
