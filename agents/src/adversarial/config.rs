//! [`AttackConfig`]: which attack, and its parameters.

use serde::{Deserialize, Serialize};

use super::{Norm, Target};
use crate::{Error, Result};

/// The attack, by the names the `qlab attack --attack` list uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttackMethod {
    /// No perturbation.
    #[default]
    None,
    /// Uniform noise in the ball.
    Random,
    /// Gaussian noise of standard deviation ε·s per dimension, projected onto the ball.
    Gaussian,
    /// The fast gradient sign method: one step of size ε.
    Fgsm,
    /// Projected gradient descent (ascent on the attacked loss).
    Pgd,
    /// The strategically-timed attack: `timed_with` only where the preference gap exceeds
    /// `threshold`.
    Timed,
}

impl AttackMethod {
    /// The name in configs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackMethod::None => "none",
            AttackMethod::Random => "random",
            AttackMethod::Gaussian => "gaussian",
            AttackMethod::Fgsm => "fgsm",
            AttackMethod::Pgd => "pgd",
            AttackMethod::Timed => "timed",
        }
    }

    /// The method with this name.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the unknown method and the known ones.
    pub fn parse(name: &str) -> Result<AttackMethod> {
        const ALL: [AttackMethod; 6] = [
            AttackMethod::None,
            AttackMethod::Random,
            AttackMethod::Gaussian,
            AttackMethod::Fgsm,
            AttackMethod::Pgd,
            AttackMethod::Timed,
        ];
        ALL.into_iter().find(|m| m.as_str() == name).ok_or_else(|| {
            Error::config(
                "method",
                name,
                "one of none, random, gaussian, fgsm, pgd, timed",
            )
        })
    }

    /// Whether the method follows the gradient of the attacked loss.
    pub fn is_gradient(self) -> bool {
        matches!(
            self,
            AttackMethod::Fgsm | AttackMethod::Pgd | AttackMethod::Timed
        )
    }
}

/// Where PGD's first iterate lies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PgdStart {
    /// The clean observation.
    Zero,
    /// A uniformly random point of the ball (Madry et al.).
    #[default]
    Random,
    /// FGSM's perturbation. (Whatever the start, PGD keeps the point with the largest attacked
    /// loss among its iterates and FGSM's point, so it never ends with a smaller loss than
    /// FGSM.)
    Fgsm,
}

impl PgdStart {
    /// The start with this name (`zero`, `random`, `fgsm`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the unknown start and the known ones.
    pub fn parse(name: &str) -> Result<PgdStart> {
        match name {
            "zero" => Ok(PgdStart::Zero),
            "random" => Ok(PgdStart::Random),
            "fgsm" => Ok(PgdStart::Fgsm),
            _ => Err(Error::config("start", name, "one of zero, random, fgsm")),
        }
    }
}

/// An attack on observations (a TOML table).
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `method` | `"none"` | `none`, `random`, `gaussian`, `fgsm`, `pgd`, `timed` | [`AttackMethod`] |
/// | `eps` | `0.0` | finite, `≥ 0` | radius ε of the ball, in units of `scale` |
/// | `norm` | `"linf"` | `linf`, `l2` | [`Norm`] of the ball and of the gradient step |
/// | `scale` | `[]` (1 everywhere) | one finite value `> 0` per observation dimension | per-dimension scale `s`: `‖δ / s‖ ≤ ε` (e.g. the observation's standard deviation, [`observation_std`](super::observation_std)) |
/// | `target` | `"untargeted"` | [`Target`] | away from the greedy action, or toward one |
/// | `iterations` | `10` | `≥ 1` | PGD steps |
/// | `step_size` | none: `2.5 · ε / iterations` | finite, `> 0` | PGD step α, in units of `scale` (Madry et al.'s 2.5ε/k by default) |
/// | `start` | `"random"` | `zero`, `random`, `fgsm` | [`PgdStart`]: where PGD starts |
/// | `threshold` | `0.5` | `[0, 1]` | timed: attack only where `max softmax(Q) − min softmax(Q) > threshold` |
/// | `timed_with` | `"fgsm"` | `fgsm`, `pgd` | timed: the attack used at the chosen steps |
///
/// ```toml
/// method = "pgd"
/// eps = 0.05
/// iterations = 10
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackConfig {
    /// The attack. Default `none`.
    pub method: AttackMethod,
    /// Radius ε of the ball, in units of `scale`. Finite and `≥ 0`; default `0.0`.
    pub eps: f64,
    /// The norm of the ball. Default `linf`.
    pub norm: Norm,
    /// Per-dimension scale; empty means 1 everywhere. Default empty.
    pub scale: Vec<f32>,
    /// Away from the greedy action, or toward one. Default `untargeted`.
    pub target: Target,
    /// PGD steps. At least 1; default `10`.
    pub iterations: usize,
    /// PGD step size α in units of `scale`; `None` for `2.5 · ε / iterations`. Default `None`.
    pub step_size: Option<f64>,
    /// Where PGD starts. Default `random`.
    pub start: PgdStart,
    /// Timed attack: the preference gap above which a step is attacked. In `[0, 1]`; default
    /// `0.5`.
    pub threshold: f64,
    /// Timed attack: `fgsm` or `pgd` at the chosen steps. Default `fgsm`.
    pub timed_with: AttackMethod,
}

impl Default for AttackConfig {
    fn default() -> Self {
        AttackConfig {
            method: AttackMethod::None,
            eps: 0.0,
            norm: Norm::Linf,
            scale: Vec::new(),
            target: Target::Untargeted,
            iterations: 10,
            step_size: None,
            start: PgdStart::Random,
            threshold: 0.5,
            timed_with: AttackMethod::Fgsm,
        }
    }
}

impl AttackConfig {
    /// Checks every field against its range (see the table on [`AttackConfig`]); the scale's
    /// length and the target action are checked against the env when the attack is built.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(Error::config("eps", self.eps, "a finite radius ≥ 0"));
        }
        if let Some(s) = self.scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::config(
                "scale",
                s,
                "finite and > 0 in every dimension",
            ));
        }
        if self.iterations == 0 {
            return Err(Error::config("iterations", 0, "at least 1"));
        }
        if let Some(a) = self.step_size.filter(|a| !(a.is_finite() && *a > 0.0)) {
            return Err(Error::config("step_size", a, "finite and > 0"));
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::config(
                "threshold",
                self.threshold,
                "a preference gap in [0, 1]",
            ));
        }
        if !matches!(self.timed_with, AttackMethod::Fgsm | AttackMethod::Pgd) {
            return Err(Error::config(
                "timed_with",
                self.timed_with.as_str(),
                "fgsm or pgd",
            ));
        }
        Ok(())
    }

    /// The PGD step size α: `step_size`, or `2.5 · ε / iterations`.
    pub fn pgd_step_size(&self) -> f64 {
        self.step_size
            .unwrap_or(2.5 * self.eps / self.iterations as f64)
    }
}
