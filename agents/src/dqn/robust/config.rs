//! The `[agent]` tables of the defenses: [`AdversarialTraining`] and [`Smoothness`], their
//! validation and their ε ramps.

use serde::{Deserialize, Serialize};

use crate::adversarial::Norm;
use crate::{Error, Result};

/// The attack adversarial training replaces observations with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainingAttack {
    /// One step of the full radius along the gradient's sign (L∞) or direction (L2).
    #[default]
    Fgsm,
    /// Projected gradient ascent: `iterations` steps of `step_size`, random start.
    Pgd,
}

/// Adversarial training: in every gradient step, a `fraction` of the sampled batch's
/// observations `s` are replaced by attacked ones before `Q(s, a)` is regressed on the TD
/// target — the `[agent] adversarial_training` table.
///
/// The attack is the untargeted one of [`adversarial`](crate::adversarial): it ascends the
/// cross-entropy of `softmax(Q(ŝ))` against the greedy action at the clean `s`, against the
/// *current online network* (the one being trained), inside the ball around `s`, clipped to
/// the observation box. Exactly `round(fraction · batch_size)` rows, drawn without replacement
/// from the agent's RNG, are attacked; the others stay clean. Only `obs` is attacked: the next
/// observations, and so the TD targets, stay clean (the attacker perturbs what the agent sees
/// when it acts; the target values what follows).
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `attack` | `"fgsm"` | `"fgsm"`, `"pgd"` | [`TrainingAttack`] |
/// | `eps` | required | finite, `≥ 0` | radius ε of the ball, in units of `scale` |
/// | `fraction` | `0.5` | `[0, 1]` | share of each batch's observations replaced |
/// | `norm` | `"linf"` | `"linf"`, `"l2"` | [`Norm`] of the ball |
/// | `scale` | `[]` (1 everywhere) | one finite value `> 0` per observation dimension | per-dimension scale `s`: `‖δ / s‖ ≤ ε` |
/// | `iterations` | `10` | `≥ 1` | PGD steps |
/// | `step_size` | `2.5 · ε / iterations` | finite, `> 0` | PGD step, in units of `scale` |
/// | `random_start` | `true` | | PGD starts from a uniform point of the ball |
/// | `ramp_start` | `0` | `≥ 0` | env step before which ε is 0 (no attack) |
/// | `ramp_steps` | `0` | `≥ 0` | env steps over which ε then rises linearly from 0 to `eps` (0: at once) |
///
/// ```toml
/// adversarial_training = { attack = "pgd", eps = 0.1, fraction = 0.5, iterations = 5 }
/// ```
///
/// Stable-Baselines3 has no such option. SA-DQN's code (Zhang et al. 2020) has one
/// (`adv_train`, `adv_ratio`) that attacks the observation the agent *acts* on while it
/// collects experience and stores the clean one; here the stored batch is attacked when it is
/// learned from, so the regression itself sees the attacked inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdversarialTraining {
    /// The attack. Default `fgsm`.
    #[serde(default)]
    pub attack: TrainingAttack,
    /// The radius ε. Required.
    pub eps: f64,
    /// Share of each batch attacked, in `[0, 1]`. Default `0.5`.
    #[serde(default = "half")]
    pub fraction: f64,
    /// The ball's norm. Default `linf`.
    #[serde(default)]
    pub norm: Norm,
    /// Per-dimension scale; empty means 1 everywhere.
    #[serde(default)]
    pub scale: Vec<f32>,
    /// PGD steps. Default `10`.
    #[serde(default = "ten")]
    pub iterations: usize,
    /// PGD step size; `None` for `2.5 · ε / iterations` (Madry et al.).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_size: Option<f64>,
    /// PGD's random start. Default `true`.
    #[serde(default = "yes")]
    pub random_start: bool,
    /// Env step at which ε starts to rise. Default `0`.
    #[serde(default)]
    pub ramp_start: u64,
    /// Env steps over which ε rises to `eps`. Default `0`.
    #[serde(default)]
    pub ramp_steps: u64,
}

/// SA-DQN's smoothness regularizer (Zhang et al. 2020, "Robust Deep Reinforcement Learning
/// against Adversarial Perturbations on State Observations", §4 and appendix, the PGD
/// solver) — the `[agent] smoothness` table.
///
/// Each gradient step adds `kappa · R` to the TD loss, with, over the batch's clean
/// observations `s` and `a*(s) = argmax_a Q(s, a)` of the current online network,
///
/// `R = mean_s max( max_{ŝ ∈ B(s)} max_{a ≠ a*(s)} Q(ŝ, a) − Q(ŝ, a*(s)), −hinge )`:
///
/// the largest amount by which another action overtakes the greedy one inside the ball, a
/// hinge with margin `hinge` below which it no longer pushes. The inner maximum is found by
/// PGD on that margin (`iterations` signed steps of `step_size` from a random start, each
/// projected onto the ball and clipped to the box), `ŝ` is then held fixed and `R`'s gradient
/// flows through `Q(ŝ, ·)` into the network. Under prioritized replay each observation's term
/// is weighted by its importance weight, as the TD loss is. ε is 0 before `ramp_start` (the
/// term is then 0 and costs nothing) and rises linearly to `eps` over `ramp_steps`.
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `eps` | required | finite, `≥ 0` | radius ε of the ball, in units of `scale` |
/// | `kappa` | `0.005` | finite, `≥ 0` | weight κ of the regularizer |
/// | `hinge` | `1.0` | finite, `≥ 0` | margin `c` of the hinge: the term is `max(margin, −c)` |
/// | `norm` | `"linf"` | `"linf"`, `"l2"` | [`Norm`] of the ball |
/// | `scale` | `[]` (1 everywhere) | one finite value `> 0` per observation dimension | per-dimension scale `s` |
/// | `iterations` | `5` | `≥ 1` | PGD steps |
/// | `step_size` | `ε / iterations` | finite, `> 0` | PGD step, in units of `scale` |
/// | `random_start` | `true` | | PGD starts from a uniform point of the ball |
/// | `ramp_start` | `0` | `≥ 0` | env step before which ε is 0 |
/// | `ramp_steps` | `0` | `≥ 0` | env steps over which ε then rises linearly from 0 to `eps` (0: at once) |
///
/// ```toml
/// smoothness = { eps = 0.1, kappa = 0.1, ramp_start = 10_000, ramp_steps = 20_000 }
/// ```
///
/// **As in SA-DQN's reference code** (`bound_solver = "pgd"`): the hinge on the margin
/// between the best other action and the clean greedy one, `hinge_c = 1`, the defaults κ =
/// 0.005, 5 PGD steps of ε/5 from a random start, the TD loss on clean observations, the
/// importance weights, ε held at 0 and then ramped linearly (their `"linear"` schedule;
/// their Atari configs use a `"smoothed"` one, exponential then linear).
/// **Different**: the hinge is taken per observation (their PGD branch sums the margins over
/// the batch before clamping); PGD keeps the iterate with the largest margin (theirs the
/// last), as [`adversarial`](crate::adversarial)'s PGD does; the ball is scaled per dimension
/// and clipped to the env's box (theirs clips pixels to `[0, 1]`); SA-DQN's certified variant
/// (convex relaxation bounds instead of PGD) is not implemented.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smoothness {
    /// The radius ε. Required.
    pub eps: f64,
    /// The weight κ. Default `0.005`.
    #[serde(default = "kappa")]
    pub kappa: f64,
    /// The hinge's margin `c`. Default `1.0`.
    #[serde(default = "one")]
    pub hinge: f64,
    /// The ball's norm. Default `linf`.
    #[serde(default)]
    pub norm: Norm,
    /// Per-dimension scale; empty means 1 everywhere.
    #[serde(default)]
    pub scale: Vec<f32>,
    /// PGD steps. Default `5`.
    #[serde(default = "five")]
    pub iterations: usize,
    /// PGD step size; `None` for `ε / iterations` (SA-DQN's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_size: Option<f64>,
    /// PGD's random start. Default `true`.
    #[serde(default = "yes")]
    pub random_start: bool,
    /// Env step at which ε starts to rise. Default `0`.
    #[serde(default)]
    pub ramp_start: u64,
    /// Env steps over which ε rises to `eps`. Default `0`.
    #[serde(default)]
    pub ramp_steps: u64,
}

fn half() -> f64 {
    0.5
}
fn ten() -> usize {
    10
}
fn five() -> usize {
    5
}
fn yes() -> bool {
    true
}
fn kappa() -> f64 {
    0.005
}
fn one() -> f64 {
    1.0
}

impl AdversarialTraining {
    /// FGSM of radius `eps` on half of each batch, the other keys at their defaults.
    pub fn new(eps: f64) -> Self {
        AdversarialTraining {
            attack: TrainingAttack::Fgsm,
            eps,
            fraction: half(),
            norm: Norm::Linf,
            scale: Vec::new(),
            iterations: ten(),
            step_size: None,
            random_start: true,
            ramp_start: 0,
            ramp_steps: 0,
        }
    }

    /// Checks every key; the error names it as `adversarial_training.<key>`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first key out of range.
    pub fn validate(&self) -> Result<()> {
        let key = |k: &str| format!("adversarial_training.{k}");
        check_ball(&key, self.eps, &self.scale, self.iterations, self.step_size)?;
        if !(0.0..=1.0).contains(&self.fraction) {
            return Err(Error::config(key("fraction"), self.fraction, "in [0, 1]"));
        }
        Ok(())
    }

    /// ε after `step` env steps.
    pub fn eps_at(&self, step: u64) -> f64 {
        ramp(self.eps, self.ramp_start, self.ramp_steps, step)
    }
}

impl Smoothness {
    /// The regularizer of radius `eps` and weight `kappa`, the other keys at their defaults.
    pub fn new(eps: f64, kappa: f64) -> Self {
        Smoothness {
            eps,
            kappa,
            hinge: one(),
            norm: Norm::Linf,
            scale: Vec::new(),
            iterations: five(),
            step_size: None,
            random_start: true,
            ramp_start: 0,
            ramp_steps: 0,
        }
    }

    /// Checks every key; the error names it as `smoothness.<key>`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first key out of range.
    pub fn validate(&self) -> Result<()> {
        let key = |k: &str| format!("smoothness.{k}");
        check_ball(&key, self.eps, &self.scale, self.iterations, self.step_size)?;
        for (k, v) in [("kappa", self.kappa), ("hinge", self.hinge)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::config(key(k), v, "finite and ≥ 0"));
            }
        }
        Ok(())
    }

    /// ε after `step` env steps.
    pub fn eps_at(&self, step: u64) -> f64 {
        ramp(self.eps, self.ramp_start, self.ramp_steps, step)
    }
}

fn check_ball(
    key: &dyn Fn(&str) -> String,
    eps: f64,
    scale: &[f32],
    iterations: usize,
    step_size: Option<f64>,
) -> Result<()> {
    if !(eps.is_finite() && eps >= 0.0) {
        return Err(Error::config(key("eps"), eps, "a finite radius ≥ 0"));
    }
    if let Some(s) = scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(Error::config(
            key("scale"),
            s,
            "finite and > 0 in every dimension",
        ));
    }
    if iterations == 0 {
        return Err(Error::config(key("iterations"), 0, "at least 1"));
    }
    if let Some(a) = step_size.filter(|a| !(a.is_finite() && *a > 0.0)) {
        return Err(Error::config(key("step_size"), a, "finite and > 0"));
    }
    Ok(())
}

/// `eps · min(1, (step − start) / steps)` from `start` on, 0 before.
pub(super) fn ramp(eps: f64, start: u64, steps: u64, step: u64) -> f64 {
    if step < start {
        0.0
    } else if steps == 0 {
        eps
    } else {
        eps * ((step - start) as f64 / steps as f64).min(1.0)
    }
}
