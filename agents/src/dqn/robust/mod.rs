//! Defenses of a [`Dqn`](super::Dqn) against attacks on its observations: adversarial
//! training and SA-DQN's smoothness regularizer, both configured in [`DqnConfig`](super::DqnConfig)
//! and run inside each gradient step by a [`Defense`].
//!
//! Both search the same ε-ball as the attacks of [`adversarial`](crate::adversarial): a
//! [`Ball`] of radius ε in L∞ or L2, scaled per dimension, every point clipped to the
//! observation box ([`Dqn::set_observation_space`](super::Dqn::set_observation_space); without
//! it the box is unbounded).

mod config;

use candle_core::{DType, Device, Tensor, Var};
use qlab_envs::{BoxSpace, EnvRng};

pub use config::{AdversarialTraining, Smoothness, TrainingAttack};

use super::rng::{DqnRng, Uniform};
use crate::adversarial::{Ball, QFunction, input_gradient};
use crate::{Error, Result};

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
        self.regularizer_with(q, q, obs, weights, step, rng)
    }

    /// [`regularizer`](Self::regularizer) with the ε-ball searched on `search_net`, a network
    /// computing what `q` computes (e.g. `q` over frozen weights, built with
    /// [`ParamStore::frozen_var_builder`](crate::nn::ParamStore::frozen_var_builder)): the
    /// search needs gradients with respect to the input alone, the final term flows into `q`.
    ///
    /// # Errors
    /// A candle error if `q` or `search` does not take the batch.
    pub fn regularizer_with(
        &mut self,
        q: &dyn QFunction,
        search_net: &dyn QFunction,
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
        let (labels, clean_q) = self.greedy_and_values(search_net, obs)?;
        let adv = self.search(
            search_net,
            &ball,
            search,
            Objective::Margin,
            obs,
            &labels,
            rng,
        )?;
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
            .map(|row| crate::nn::argmax(row) as u32)
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
    match crate::nn::argmax_except(q, y) {
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
        use super::config::ramp;
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
