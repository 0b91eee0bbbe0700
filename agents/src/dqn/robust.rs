//! Defenses of a [`Dqn`](super::Dqn) against attacks on its observations: adversarial
//! training and SA-DQN's smoothness regularizer, both configured in [`DqnConfig`](super::DqnConfig)
//! and run inside each gradient step by a [`Defense`].
//!
//! Both search the same ε-ball as the attacks of [`adversarial`](crate::adversarial): a
//! [`Ball`] of radius ε in L∞ or L2, scaled per dimension, every point clipped to the
//! observation box ([`Dqn::set_observation_space`](super::Dqn::set_observation_space); without
//! it the box is unbounded).

use candle_core::{DType, Device, Tensor, Var};
use qlab_envs::{BoxSpace, EnvRng};
use serde::{Deserialize, Serialize};

use super::rng::{DqnRng, Uniform};
use crate::adversarial::{Ball, Norm, QFunction, input_gradient};
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
fn ramp(eps: f64, start: u64, steps: u64, step: u64) -> f64 {
    if step < start {
        0.0
    } else if steps == 0 {
        eps
    } else {
        eps * ((step - start) as f64 / steps as f64).min(1.0)
    }
}

/// What a gradient attack inside the defense ascends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Objective {
    /// The cross-entropy of `softmax(Q)` against the clean greedy action
    /// ([`attacked_loss`](crate::adversarial::attacked_loss), untargeted).
    CrossEntropy,
    /// `max_{a ≠ a*} Q(a) − Q(a*)`, SA-DQN's margin.
    Margin,
}

/// How the ball is searched.
#[derive(Clone, Copy, Debug)]
enum Search {
    Fgsm,
    Pgd {
        iterations: usize,
        alpha: f32,
        random_start: bool,
    },
}

/// What the defenses did, counted since the agent was built (a checkpoint does not save it).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DefenseStats {
    /// Batch observations seen by adversarial training.
    pub observations: u64,
    /// Of those, the ones replaced by attacked observations.
    pub attacked: u64,
    /// The last regularizer value `R` (before the weight κ), 0 while ε is 0.
    pub last_regularizer: f64,
    /// The last clean margin `mean_s max(max_{a ≠ a*} Q(s, a) − Q(s, a*), −hinge)`, for
    /// comparison with `last_regularizer`.
    pub last_clean_margin: f64,
}

/// The defenses of one agent, built from its config: adversarial training and the smoothness
/// regularizer on batches of flat observations.
#[derive(Clone, Debug)]
pub struct Defense {
    adversarial: Option<AdversarialTraining>,
    smoothness: Option<Smoothness>,
    space: BoxSpace,
    net_shape: Vec<usize>,
    n_actions: usize,
    device: Device,
    stats: DefenseStats,
}

impl Defense {
    /// The defenses `adversarial` and `smoothness` (either may be absent; `None` when both
    /// are) for observations of `obs_dim` numbers, which the network reads with shape
    /// `net_shape`, and `n_actions` actions. The observation box is unbounded until
    /// [`set_space`](Defense::set_space).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if a table is invalid or its `scale` does not have `obs_dim`
    /// values.
    pub fn new(
        adversarial: Option<&AdversarialTraining>,
        smoothness: Option<&Smoothness>,
        obs_dim: usize,
        net_shape: &[usize],
        n_actions: usize,
        device: &Device,
    ) -> Result<Option<Defense>> {
        if adversarial.is_none() && smoothness.is_none() {
            return Ok(None);
        }
        if let Some(a) = adversarial {
            a.validate()?;
            check_scale("adversarial_training.scale", &a.scale, obs_dim)?;
        }
        if let Some(s) = smoothness {
            s.validate()?;
            check_scale("smoothness.scale", &s.scale, obs_dim)?;
        }
        Ok(Some(Defense {
            adversarial: adversarial.cloned(),
            smoothness: smoothness.cloned(),
            space: BoxSpace::from_bounds(
                vec![f32::NEG_INFINITY; obs_dim],
                vec![f32::INFINITY; obs_dim],
            ),
            net_shape: net_shape.to_vec(),
            n_actions,
            device: device.clone(),
            stats: DefenseStats::default(),
        }))
    }

    /// Clips every searched observation to `space` from now on.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the box does not have the observations' length.
    pub fn set_space(&mut self, space: &BoxSpace) -> Result<()> {
        if space.len() != self.space.len() {
            return Err(Error::config(
                "observation_space",
                format!("a box of {} values", space.len()),
                format!("{} values per observation", self.space.len()),
            ));
        }
        self.space = space.clone();
        Ok(())
    }

    /// The observation box searched points are clipped to.
    pub fn space(&self) -> &BoxSpace {
        &self.space
    }

    /// What the defenses did so far.
    pub fn stats(&self) -> DefenseStats {
        self.stats
    }

    /// Adversarial training: replaces `round(fraction · N)` rows of the batch `obs` (`N` flat
    /// observations, row-major) in place by their attacked versions against `q`, at the ε of
    /// env step `step`; returns the indices of the rows replaced (none without adversarial
    /// training or at ε = 0, and then no random number is drawn).
    ///
    /// # Errors
    /// A candle error if `q` does not take the batch.
    pub fn attack_batch(
        &mut self,
        q: &dyn QFunction,
        obs: &mut [f32],
        step: u64,
        rng: &mut DqnRng,
    ) -> Result<Vec<usize>> {
        let Some(a) = &self.adversarial else {
            return Ok(Vec::new());
        };
        let d = self.space.len();
        let n = obs.len() / d;
        self.stats.observations += n as u64;
        let eps = a.eps_at(step);
        let k = (a.fraction * n as f64).round() as usize;
        if eps == 0.0 || k == 0 {
            return Ok(Vec::new());
        }
        // k distinct rows: a partial Fisher–Yates shuffle of 0..n, sorted for the gather.
        let mut rows: Vec<usize> = (0..n).collect();
        if k < n {
            for i in 0..k {
                let j = i + rng.below(n - i);
                rows.swap(i, j);
            }
        }
        rows.truncate(k);
        rows.sort_unstable();
        let mut x0 = Vec::with_capacity(k * d);
        for &r in &rows {
            x0.extend_from_slice(&obs[r * d..(r + 1) * d]);
        }
        let ball = Ball::new(eps, a.norm, &a.scale, &self.space)?;
        let search = match a.attack {
            TrainingAttack::Fgsm => Search::Fgsm,
            TrainingAttack::Pgd => Search::Pgd {
                iterations: a.iterations,
                alpha: a.step_size.unwrap_or(2.5 * eps / a.iterations as f64) as f32,
                random_start: a.random_start,
            },
        };
        let labels = self.greedy(q, &x0)?;
        let x = self.search(q, &ball, search, Objective::CrossEntropy, &x0, &labels, rng)?;
        for (i, &r) in rows.iter().enumerate() {
            obs[r * d..(r + 1) * d].copy_from_slice(&x[i * d..(i + 1) * d]);
        }
        self.stats.attacked += k as u64;
        Ok(rows)
    }

    /// SA-DQN's regularizer on the batch `obs` (clean, flat, row-major) at the ε of env step
    /// `step`: `kappa · R` as a scalar tensor whose gradient flows into `q`'s parameters, or
    /// `None` without the regularizer, at ε = 0 or κ = 0, or with fewer than two actions (and
    /// then no random number is drawn). `weights` are per-observation importance weights.
    ///
    /// # Errors
    /// A candle error if `q` does not take the batch.
    pub fn regularizer(
        &mut self,
        q: &dyn QFunction,
        obs: &[f32],
        weights: Option<&[f32]>,
        step: u64,
        rng: &mut DqnRng,
    ) -> Result<Option<Tensor>> {
        let Some(s) = &self.smoothness else {
            return Ok(None);
        };
        let eps = s.eps_at(step);
        if eps == 0.0 || s.kappa == 0.0 || self.n_actions < 2 {
            self.stats.last_regularizer = 0.0;
            return Ok(None);
        }
        let (kappa, hinge) = (s.kappa, s.hinge as f32);
        let ball = Ball::new(eps, s.norm, &s.scale, &self.space)?;
        let search = Search::Pgd {
            iterations: s.iterations,
            alpha: s.step_size.unwrap_or(eps / s.iterations as f64) as f32,
            random_start: s.random_start,
        };
        let (labels, clean_q) = self.greedy_and_values(q, obs)?;
        let adv = self.search(q, &ball, search, Objective::Margin, obs, &labels, rng)?;
        let n = labels.len();
        let a = self.n_actions;
        let x = Tensor::from_slice(&adv, self.shape(n), &self.device)?;
        let qv = q.q_values(&x)?;
        let host = qv.to_dtype(DType::F32)?.to_vec2::<f32>()?;
        // R = (1/N) Σ_s w_s · max(margin_s, −c): the active rows contribute w · (Q[r] − Q[a*])
        // through the coefficients, the ones at the floor the constant −c · w.
        let mut coef = vec![0.0f32; n * a];
        let (mut floor, mut value, mut clean) = (0.0f64, 0.0f64, 0.0f64);
        for (i, row) in host.iter().enumerate() {
            let w = weights.map_or(1.0, |w| w[i]);
            let y = labels[i] as usize;
            let (m, r) = margin(row, y);
            if m > -hinge {
                coef[i * a + r] += w / n as f32;
                coef[i * a + y] -= w / n as f32;
                value += f64::from(w * m);
            } else {
                floor -= f64::from(w * hinge);
                value -= f64::from(w * hinge);
            }
            clean += f64::from(margin(&clean_q[i * a..(i + 1) * a], y).0.max(-hinge));
        }
        self.stats.last_regularizer = value / n as f64;
        self.stats.last_clean_margin = clean / n as f64;
        let coef = Tensor::from_slice(&coef, (n, a), &self.device)?;
        let r = ((qv * coef)?.sum_all()? + floor / n as f64)?;
        Ok(Some((r * kappa)?))
    }

    /// The shape of a batch of `n` observations as the network reads it.
    fn shape(&self, n: usize) -> Vec<usize> {
        std::iter::once(n)
            .chain(self.net_shape.iter().copied())
            .collect()
    }

    fn values(&self, q: &dyn QFunction, x: &[f32]) -> Result<Vec<f32>> {
        let n = x.len() / self.space.len();
        let t = Tensor::from_slice(x, self.shape(n), &self.device)?;
        Ok(q.q_values(&t)?
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?)
    }

    /// The greedy actions of `q` at the rows of `x`.
    fn greedy(&self, q: &dyn QFunction, x: &[f32]) -> Result<Vec<u32>> {
        Ok(self.greedy_and_values(q, x)?.0)
    }

    fn greedy_and_values(&self, q: &dyn QFunction, x: &[f32]) -> Result<(Vec<u32>, Vec<f32>)> {
        let v = self.values(q, x)?;
        let labels = v
            .chunks(self.n_actions)
            .map(|row| crate::adversarial::argmax(row) as u32)
            .collect();
        Ok((labels, v))
    }

    /// The objective of every row of `x` and its gradient with respect to `x`, both on the
    /// host.
    fn objective(
        &self,
        q: &dyn QFunction,
        objective: Objective,
        x: &[f32],
        labels: &[u32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let n = labels.len();
        let t = Tensor::from_slice(x, self.shape(n), &self.device)?;
        match objective {
            Objective::CrossEntropy => {
                let y = Tensor::from_slice(labels, n, &self.device)?;
                let (loss, grad) = input_gradient(q, &t, &y, false)?;
                Ok((loss.to_vec1()?, grad.flatten_all()?.to_vec1()?))
            }
            Objective::Margin => {
                let v = Var::from_tensor(&t)?;
                let qv = q.q_values(v.as_tensor())?;
                let host = qv.to_dtype(DType::F32)?.to_vec2::<f32>()?;
                let a = self.n_actions;
                let mut coef = vec![0.0f32; n * a];
                let mut loss = Vec::with_capacity(n);
                for (i, row) in host.iter().enumerate() {
                    let y = labels[i] as usize;
                    let (m, r) = margin(row, y);
                    coef[i * a + r] += 1.0;
                    coef[i * a + y] -= 1.0;
                    loss.push(m);
                }
                let coef = Tensor::from_slice(&coef, (n, a), &self.device)?;
                let grads = (qv * coef)?.sum_all()?.backward()?;
                let grad = match grads.get(v.as_tensor()) {
                    Some(g) => g.flatten_all()?.to_vec1()?,
                    None => vec![0.0; x.len()],
                };
                Ok((loss, grad))
            }
        }
    }

    /// The rows of `x0` attacked by `search` on `objective`, inside `ball`: each row is its own
    /// attack, batched through the network.
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        q: &dyn QFunction,
        ball: &Ball,
        search: Search,
        objective: Objective,
        x0: &[f32],
        labels: &[u32],
        rng: &mut DqnRng,
    ) -> Result<Vec<f32>> {
        let d = ball.dim();
        let mut x = x0.to_vec();
        match search {
            Search::Fgsm => {
                let (_, mut g) = self.objective(q, objective, x0, labels)?;
                for ((g, x0), x) in g.chunks_mut(d).zip(x0.chunks(d)).zip(x.chunks_mut(d)) {
                    ball.to_scaled(g);
                    ball.ascent_step(g, ball.eps());
                    ball.apply(x0, g, x);
                }
                Ok(x)
            }
            Search::Pgd {
                iterations,
                alpha,
                random_start,
            } => {
                let mut u = vec![0.0f32; x0.len()];
                if random_start {
                    // One stream per batch, seeded from the agent's (which a checkpoint saves).
                    let mut r = EnvRng::new(rng.next_u64());
                    for u in u.chunks_mut(d) {
                        crate::adversarial::noise::uniform(ball, &mut r, u);
                    }
                }
                for ((u, x0), x) in u.chunks_mut(d).zip(x0.chunks(d)).zip(x.chunks_mut(d)) {
                    ball.apply(x0, u, x);
                }
                let mut best = x.clone();
                let mut best_loss = vec![f32::NEG_INFINITY; labels.len()];
                for _ in 0..iterations {
                    let (loss, mut g) = self.objective(q, objective, &x, labels)?;
                    keep_best(&loss, &x, &mut best_loss, &mut best, d);
                    for (((g, u), x0), x) in g
                        .chunks_mut(d)
                        .zip(u.chunks_mut(d))
                        .zip(x0.chunks(d))
                        .zip(x.chunks_mut(d))
                    {
                        ball.to_scaled(g);
                        ball.ascent_step(g, alpha);
                        u.iter_mut().zip(g.iter()).for_each(|(ui, gi)| *ui += gi);
                        ball.project(u);
                        ball.apply(x0, u, x);
                    }
                }
                let loss = self.final_objective(q, objective, &x, labels)?;
                keep_best(&loss, &x, &mut best_loss, &mut best, d);
                Ok(best)
            }
        }
    }

    /// The objective of every row of `x`, without a gradient.
    fn final_objective(
        &self,
        q: &dyn QFunction,
        objective: Objective,
        x: &[f32],
        labels: &[u32],
    ) -> Result<Vec<f32>> {
        let v = self.values(q, x)?;
        let a = self.n_actions;
        Ok(v.chunks(a)
            .zip(labels)
            .map(|(row, &y)| match objective {
                Objective::Margin => margin(row, y as usize).0,
                Objective::CrossEntropy => cross_entropy(row, y as usize),
            })
            .collect())
    }
}

fn check_scale(key: &str, scale: &[f32], d: usize) -> Result<()> {
    if scale.is_empty() || scale.len() == d {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("{} values", scale.len()),
            format!("one per observation dimension ({d}), or none"),
        ))
    }
}

/// Rows whose objective beats their best so far become the best.
fn keep_best(loss: &[f32], x: &[f32], best_loss: &mut [f32], best: &mut [f32], d: usize) {
    for (i, &l) in loss.iter().enumerate() {
        if l > best_loss[i] {
            best_loss[i] = l;
            best[i * d..(i + 1) * d].copy_from_slice(&x[i * d..(i + 1) * d]);
        }
    }
}

/// `max_{a ≠ y} q[a] − q[y]` and that best other action (the first of equals); `(0, y)` with a
/// single action.
fn margin(q: &[f32], y: usize) -> (f32, usize) {
    let mut r = None;
    for (a, &v) in q.iter().enumerate() {
        if a != y && r.is_none_or(|b: usize| v > q[b]) {
            r = Some(a);
        }
    }
    match r {
        Some(r) => (q[r] - q[y], r),
        None => (0.0, y),
    }
}

/// `−log softmax(q)[y]` in `f64`.
fn cross_entropy(q: &[f32], y: usize) -> f32 {
    let max = q.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = q.iter().map(|&v| (v as f64 - max).exp()).sum();
    (max + sum.ln() - q[y] as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_picks_the_best_other_action() {
        assert_eq!(margin(&[1.0, 3.0, 2.0], 1), (-1.0, 2));
        assert_eq!(margin(&[1.0, 3.0, 2.0], 0), (2.0, 1));
        assert_eq!(margin(&[5.0], 0), (0.0, 0));
    }

    #[test]
    fn ramp_is_zero_then_linear_then_flat() {
        assert_eq!(ramp(0.1, 100, 200, 99), 0.0);
        assert_eq!(ramp(0.1, 100, 200, 100), 0.0);
        assert!((ramp(0.1, 100, 200, 200) - 0.05).abs() < 1e-12);
        assert_eq!(ramp(0.1, 100, 200, 300), 0.1);
        assert_eq!(ramp(0.1, 100, 200, 10_000), 0.1);
        assert_eq!(ramp(0.1, 100, 0, 100), 0.1);
        assert_eq!(ramp(0.1, 100, 0, 99), 0.0);
    }

    /// `cross_entropy` agrees with the attacks' own loss.
    #[test]
    fn cross_entropy_matches_attacked_loss() {
        let q = [0.3f32, -1.2, 2.0];
        let t = Tensor::from_slice(&q, (1, 3), &Device::Cpu).unwrap();
        for y in 0..3 {
            let l = Tensor::from_slice(&[y as u32], 1, &Device::Cpu).unwrap();
            let want = crate::adversarial::attacked_loss(&t, &l, false)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()[0];
            assert!((cross_entropy(&q, y) - want).abs() < 1e-5, "{y}");
        }
    }
}
