//! Learning-rate schedules.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the learning rate moves from the optimizer's configured rate `lr₀` over training, a
/// TOML table with a `type` key:
///
/// ```toml
/// schedule = { type = "linear", end_lr = 1e-5, steps = 100_000 }
/// ```
///
/// | type       | rate at step `t` (`t ≥ steps` keeps the final value)          |
/// |------------|---------------------------------------------------------------|
/// | `constant` | `lr₀`                                                         |
/// | `linear`   | `lr₀ + (end_lr − lr₀)·t/steps` (Stable-Baselines3's linear schedule) |
/// | `cosine`   | `end_lr + (lr₀ − end_lr)·(1 + cos(π·t/steps))/2` (Loshchilov & Hutter, 2017, without restarts) |
///
/// ```
/// use qlab_nn::LrSchedule;
/// let s = LrSchedule::Linear { end_lr: 0.0, steps: 100 };
/// assert_eq!(s.lr(1.0, 25), 0.75);
/// assert_eq!(s.lr(1.0, 1000), 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum LrSchedule {
    /// The configured rate throughout.
    #[default]
    Constant,
    /// Linear interpolation to `end_lr` over `steps`.
    Linear {
        /// The final rate.
        end_lr: f64,
        /// Steps to reach it (`≥ 1`).
        steps: u64,
    },
    /// Cosine annealing to `end_lr` over `steps`.
    Cosine {
        /// The final rate (default 0).
        #[serde(default)]
        end_lr: f64,
        /// Steps to reach it (`≥ 1`).
        steps: u64,
    },
}

impl LrSchedule {
    /// Checks the fields; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        match *self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::Linear { end_lr, steps } | LrSchedule::Cosine { end_lr, steps } => {
                if steps == 0 {
                    return Err(Error::config("schedule.steps", 0, "at least 1"));
                }
                if end_lr.is_nan() || end_lr < 0.0 {
                    return Err(Error::config("schedule.end_lr", end_lr, ">= 0"));
                }
                Ok(())
            }
        }
    }

    /// The learning rate at step `step` (counted from 0) when training starts at `start_lr`.
    pub fn lr(&self, start_lr: f64, step: u64) -> f64 {
        match *self {
            LrSchedule::Constant => start_lr,
            LrSchedule::Linear { end_lr, steps } => {
                let f = (step.min(steps) as f64) / steps.max(1) as f64;
                start_lr * (1.0 - f) + end_lr * f
            }
            LrSchedule::Cosine { end_lr, steps } => {
                let f = (step.min(steps) as f64) / steps.max(1) as f64;
                end_lr + (start_lr - end_lr) * 0.5 * (1.0 + (std::f64::consts::PI * f).cos())
            }
        }
    }
}
