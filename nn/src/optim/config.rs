//! Optimizer configurations: the hyperparameters of each algorithm, as PyTorch names them, and
//! their validation.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// SGD's hyperparameters (`torch.optim.SGD`).
///
/// | field           | default | valid    | meaning                                      |
/// |-----------------|---------|----------|----------------------------------------------|
/// | `lr`            | `0.01`  | `> 0`    | learning rate                                |
/// | `momentum`      | `0.0`   | `[0, 1)` | momentum factor μ                            |
/// | `dampening`     | `0.0`   | `[0, 1]` | the gradient enters the momentum buffer scaled by `1 − dampening` |
/// | `nesterov`      | `false` |          | Nesterov momentum (needs `momentum > 0`, `dampening = 0`) |
/// | `weight_decay`  | `0.0`   | `≥ 0`    | L2 penalty added to the gradient             |
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Momentum dampening.
    pub dampening: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// L2 penalty.
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

/// RMSProp's hyperparameters (`torch.optim.RMSprop`; `eps` is added after the square root).
///
/// | field          | default | valid    | meaning                                          |
/// |----------------|---------|----------|--------------------------------------------------|
/// | `lr`           | `0.01`  | `> 0`    | learning rate                                    |
/// | `alpha`        | `0.99`  | `[0, 1)` | decay of the squared-gradient average            |
/// | `eps`          | `1e-8`  | `> 0`    | added to the denominator                         |
/// | `momentum`     | `0.0`   | `[0, 1)` | momentum on the scaled step                      |
/// | `centered`     | `false` |          | divide by the estimated variance (subtract the squared mean gradient) |
/// | `weight_decay` | `0.0`   | `≥ 0`    | L2 penalty added to the gradient                 |
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RmsPropConfig {
    /// Learning rate.
    pub lr: f64,
    /// Squared-gradient decay.
    pub alpha: f64,
    /// Denominator term.
    pub eps: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Centred variant.
    pub centered: bool,
    /// L2 penalty.
    pub weight_decay: f64,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            centered: false,
            weight_decay: 0.0,
        }
    }
}

/// Adam's and AdamW's hyperparameters (`torch.optim.Adam`, `torch.optim.AdamW`).
///
/// | field          | default | valid    | meaning                                          |
/// |----------------|---------|----------|--------------------------------------------------|
/// | `lr`           | `1e-3`  | `> 0`    | learning rate                                    |
/// | `beta1`        | `0.9`   | `[0, 1)` | decay of the gradient average                    |
/// | `beta2`        | `0.999` | `[0, 1)` | decay of the squared-gradient average            |
/// | `eps`          | `1e-8`  | `> 0`    | added to the denominator after the square root   |
/// | `weight_decay` | `0.0` (Adam), `0.01` (AdamW) | `≥ 0` | Adam: L2 penalty added to the gradient; AdamW: decoupled decay `θ ← θ(1 − lr·wd)` |
///
/// Both correct the bias of the averages: the step is `lr / (1 − β₁ᵗ)` and the denominator
/// `√v / √(1 − β₂ᵗ) + eps`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate.
    #[serde(default = "adam_lr")]
    pub lr: f64,
    /// First-moment decay.
    #[serde(default = "adam_beta1")]
    pub beta1: f64,
    /// Second-moment decay.
    #[serde(default = "adam_beta2")]
    pub beta2: f64,
    /// Denominator term.
    #[serde(default = "adam_eps")]
    pub eps: f64,
    /// Weight decay (L2 for Adam, decoupled for AdamW).
    #[serde(default)]
    pub weight_decay: f64,
}

fn adam_lr() -> f64 {
    1e-3
}
fn adam_beta1() -> f64 {
    0.9
}
fn adam_beta2() -> f64 {
    0.999
}
fn adam_eps() -> f64 {
    1e-8
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: adam_lr(),
            beta1: adam_beta1(),
            beta2: adam_beta2(),
            eps: adam_eps(),
            weight_decay: 0.0,
        }
    }
}

impl AdamConfig {
    /// AdamW's defaults: Adam's with `weight_decay = 0.01`.
    pub fn adamw() -> Self {
        Self {
            weight_decay: 0.01,
            ..Self::default()
        }
    }
}

/// An optimizer and its hyperparameters, a TOML table with a `type` key:
///
/// ```toml
/// [optimizer]
/// type = "adam"
/// lr = 1e-4
/// max_grad_norm = 10.0
/// ```
///
/// `max_grad_norm` (default none) clips the global gradient norm before every update, as
/// [`clip_grad_norm`](super::clip_grad_norm) does.
// No `deny_unknown_fields` here: serde does not support it together with `flatten`; the
// algorithm structs deny unknown keys themselves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// The algorithm and its hyperparameters.
    #[serde(flatten)]
    pub algorithm: Algorithm,
    /// Clip the global gradient norm to this value before each update.
    #[serde(default)]
    pub max_grad_norm: Option<f64>,
}

/// The update rule of an [`OptimizerConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Algorithm {
    /// Stochastic gradient descent with optional (Nesterov) momentum.
    Sgd(SgdConfig),
    /// RMSProp, optionally centred.
    RmsProp(RmsPropConfig),
    /// Adam with L2 weight decay.
    Adam(AdamConfig),
    /// AdamW: Adam with decoupled weight decay.
    #[serde(rename = "adamw")]
    AdamW(#[serde(default = "AdamConfig::adamw")] AdamConfig),
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Adam(AdamConfig::default()),
            max_grad_norm: None,
        }
    }
}

impl From<Algorithm> for OptimizerConfig {
    fn from(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            max_grad_norm: None,
        }
    }
}

fn check(key: &str, value: f64, ok: bool, expected: &str) -> Result<()> {
    if ok && !value.is_nan() {
        Ok(())
    } else {
        Err(Error::config(key, value, expected))
    }
}

impl OptimizerConfig {
    /// Checks every hyperparameter; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let unit = |x: f64| (0.0..1.0).contains(&x);
        match self.algorithm {
            Algorithm::Sgd(c) => {
                check("lr", c.lr, c.lr > 0.0, "> 0")?;
                check("momentum", c.momentum, unit(c.momentum), "in [0, 1)")?;
                check(
                    "dampening",
                    c.dampening,
                    (0.0..=1.0).contains(&c.dampening),
                    "in [0, 1]",
                )?;
                check(
                    "weight_decay",
                    c.weight_decay,
                    c.weight_decay >= 0.0,
                    ">= 0",
                )?;
                if c.nesterov && (c.momentum == 0.0 || c.dampening != 0.0) {
                    return Err(Error::config(
                        "nesterov",
                        true,
                        "momentum > 0 and dampening = 0 (Nesterov momentum)",
                    ));
                }
            }
            Algorithm::RmsProp(c) => {
                check("lr", c.lr, c.lr > 0.0, "> 0")?;
                check("alpha", c.alpha, unit(c.alpha), "in [0, 1)")?;
                check("eps", c.eps, c.eps > 0.0, "> 0")?;
                check("momentum", c.momentum, unit(c.momentum), "in [0, 1)")?;
                check(
                    "weight_decay",
                    c.weight_decay,
                    c.weight_decay >= 0.0,
                    ">= 0",
                )?;
            }
            Algorithm::Adam(c) | Algorithm::AdamW(c) => {
                check("lr", c.lr, c.lr > 0.0, "> 0")?;
                check("beta1", c.beta1, unit(c.beta1), "in [0, 1)")?;
                check("beta2", c.beta2, unit(c.beta2), "in [0, 1)")?;
                check("eps", c.eps, c.eps > 0.0, "> 0")?;
                check(
                    "weight_decay",
                    c.weight_decay,
                    c.weight_decay >= 0.0,
                    ">= 0",
                )?;
            }
        }
        if let Some(m) = self.max_grad_norm {
            check("max_grad_norm", m, m > 0.0, "> 0")?;
        }
        Ok(())
    }

    /// The learning rate: the algorithm's `lr`.
    pub fn lr(&self) -> f64 {
        match self.algorithm {
            Algorithm::Sgd(c) => c.lr,
            Algorithm::RmsProp(c) => c.lr,
            Algorithm::Adam(c) | Algorithm::AdamW(c) => c.lr,
        }
    }

    /// Sets the algorithm's `lr`, whichever the algorithm.
    pub fn set_lr(&mut self, lr: f64) {
        match &mut self.algorithm {
            Algorithm::Sgd(c) => c.lr = lr,
            Algorithm::RmsProp(c) => c.lr = lr,
            Algorithm::Adam(c) | Algorithm::AdamW(c) => c.lr = lr,
        }
    }

    /// Number of state buffers per parameter.
    pub(super) fn buffers(&self) -> usize {
        match self.algorithm {
            Algorithm::Sgd(c) => usize::from(c.momentum != 0.0),
            // square average, momentum buffer, gradient average
            Algorithm::RmsProp(_) => 3,
            Algorithm::Adam(_) | Algorithm::AdamW(_) => 2,
        }
    }
}
