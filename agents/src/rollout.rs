//! What on-policy agents (PPO, A2C) collect between updates: a [`Rollout`] of `n_steps` steps
//! of `n_envs` envs, its advantages by GAE(λ), and the [`Coefficient`]s that follow RL Zoo's
//! linear schedules over training.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// A hyperparameter that is a constant or decays linearly to 0 over training, written as RL
/// Zoo writes it: a number, or the string `"lin_<start>"` (e.g. `"lin_0.001"`), whose value is
/// `start × progress_remaining`, with `progress_remaining = 1 − steps / total_steps` as
/// Stable-Baselines3 computes it before each update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Coefficient {
    /// The same value throughout.
    Constant(f64),
    /// `start × progress_remaining`.
    Linear(f64),
}

impl Coefficient {
    /// The value at `progress_remaining` (1 at the start of training, 0 at its end).
    pub fn at(self, progress_remaining: f64) -> f64 {
        match self {
            Coefficient::Constant(c) => c,
            Coefficient::Linear(start) => start * progress_remaining,
        }
    }

    /// The value at the start of training.
    pub fn start(self) -> f64 {
        self.at(1.0)
    }

    /// Checks that the value starts positive and finite; the error names `key`.
    pub(crate) fn check_positive(self, key: &str) -> Result<()> {
        let v = self.start();
        if !(v > 0.0 && v.is_finite()) {
            return Err(Error::config(
                key,
                self,
                "> 0, or \"lin_<start>\" with start > 0",
            ));
        }
        Ok(())
    }
}

/// Checks the keys every on-policy algorithm has, in this order: `learning_rate`, `gamma`,
/// `gae_lambda`, `ent_coef`, `vf_coef`, `max_grad_norm`; the error names the first bad one.
pub(crate) fn check_shared_keys(
    learning_rate: Coefficient,
    gamma: f64,
    gae_lambda: f64,
    ent_coef: f64,
    vf_coef: f64,
    max_grad_norm: f64,
) -> Result<()> {
    learning_rate.check_positive("learning_rate")?;
    for (key, v) in [("gamma", gamma), ("gae_lambda", gae_lambda)] {
        if !(0.0..=1.0).contains(&v) {
            return Err(Error::config(key, v, "in [0, 1]"));
        }
    }
    for (key, v) in [("ent_coef", ent_coef), ("vf_coef", vf_coef)] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(Error::config(key, v, ">= 0"));
        }
    }
    if !(max_grad_norm > 0.0 && max_grad_norm.is_finite()) {
        return Err(Error::config("max_grad_norm", max_grad_norm, "> 0"));
    }
    Ok(())
}

impl fmt::Display for Coefficient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Coefficient::Constant(c) => write!(f, "{c}"),
            Coefficient::Linear(s) => write!(f, "\"lin_{s}\""),
        }
    }
}

impl Serialize for Coefficient {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            Coefficient::Constant(c) => s.serialize_f64(c),
            Coefficient::Linear(start) => s.serialize_str(&format!("lin_{start}")),
        }
    }
}

impl<'de> Deserialize<'de> for Coefficient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(c) => Ok(Coefficient::Constant(c)),
            Raw::Text(t) => t
                .strip_prefix("lin_")
                .and_then(|x| x.parse::<f64>().ok())
                .map(Coefficient::Linear)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "expected a number or \"lin_<start>\" (e.g. \"lin_0.001\"), got \"{t}\""
                    ))
                }),
        }
    }
}

/// `n_steps` steps of `n_envs` envs, stored step-major (`t · n_envs + env`), as
/// Stable-Baselines3's `RolloutBuffer` keeps them, with the advantages and returns computed
/// once the rollout is full.
#[derive(Clone, Debug)]
pub struct Rollout {
    n_steps: usize,
    n_envs: usize,
    obs_dim: usize,
    action_dim: usize,
    /// Observations acted on, `obs_dim` numbers each.
    pub obs: Vec<f32>,
    /// Actions taken (not clipped), `action_dim` numbers each (a discrete index as a number).
    pub actions: Vec<f32>,
    /// Rewards, a truncated episode's with `γ·V(final observation)` added.
    pub rewards: Vec<f32>,
    /// 1 where the observation began an episode.
    pub episode_starts: Vec<f32>,
    /// `V(obs)` when acting.
    pub values: Vec<f32>,
    /// `log π(action | obs)` when acting.
    pub log_probs: Vec<f32>,
    /// GAE(λ) advantages.
    pub advantages: Vec<f32>,
    /// `advantages + values`: the value targets.
    pub returns: Vec<f32>,
    len: usize,
}

impl Rollout {
    /// An empty rollout of `n_steps × n_envs` steps.
    pub fn new(n_steps: usize, n_envs: usize, obs_dim: usize, action_dim: usize) -> Rollout {
        let n = n_steps * n_envs;
        Rollout {
            n_steps,
            n_envs,
            obs_dim,
            action_dim,
            obs: Vec::with_capacity(n * obs_dim),
            actions: Vec::with_capacity(n * action_dim),
            rewards: Vec::with_capacity(n),
            episode_starts: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
            log_probs: Vec::with_capacity(n),
            advantages: vec![0.0; n],
            returns: vec![0.0; n],
            len: 0,
        }
    }

    /// Steps stored (each of all the envs).
    pub fn steps(&self) -> usize {
        self.len
    }

    /// Whether all `n_steps` steps are stored.
    pub fn is_full(&self) -> bool {
        self.len == self.n_steps
    }

    /// Transitions the full rollout holds, `n_steps × n_envs`.
    pub fn capacity(&self) -> usize {
        self.n_steps * self.n_envs
    }

    /// Numbers per observation and per action.
    pub fn dims(&self) -> (usize, usize) {
        (self.obs_dim, self.action_dim)
    }

    /// Empties the rollout for the next one.
    pub fn clear(&mut self) {
        self.obs.clear();
        self.actions.clear();
        self.rewards.clear();
        self.episode_starts.clear();
        self.values.clear();
        self.log_probs.clear();
        self.len = 0;
    }

    /// Stores one step of every env: what was acted on and what came of it.
    ///
    /// # Errors
    /// A full rollout, or slices whose lengths do not fit `n_envs`.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        obs: &[f32],
        actions: &[f32],
        rewards: &[f32],
        episode_starts: &[f32],
        values: &[f32],
        log_probs: &[f32],
    ) -> Result<()> {
        let n = self.n_envs;
        if self.is_full() {
            return Err(Error::config("rollout", self.len, "a rollout with room"));
        }
        let lens = [
            obs.len() == n * self.obs_dim,
            actions.len() == n * self.action_dim,
            rewards.len() == n,
            episode_starts.len() == n,
            values.len() == n,
            log_probs.len() == n,
        ];
        if lens.contains(&false) {
            return Err(Error::config(
                "rollout step",
                format!("{lens:?}"),
                format!("slices of {n} envs"),
            ));
        }
        self.obs.extend_from_slice(obs);
        self.actions.extend_from_slice(actions);
        self.rewards.extend_from_slice(rewards);
        self.episode_starts.extend_from_slice(episode_starts);
        self.values.extend_from_slice(values);
        self.log_probs.extend_from_slice(log_probs);
        self.len += 1;
        Ok(())
    }

    /// Generalized advantage estimation (Schulman et al., 2016), as Stable-Baselines3's
    /// `compute_returns_and_advantage`: backwards over the steps,
    /// `δ_t = r_t + γ·V_{t+1}·(1 − start_{t+1}) − V_t` and
    /// `A_t = δ_t + γλ·(1 − start_{t+1})·A_{t+1}`, where after the last step `V` is
    /// `last_values` (the observations the rollout ended on) and `start` is `last_dones`.
    /// Returns are `A + V`. Termination zeroes the bootstrap; truncation was folded into the
    /// reward when it was stored.
    pub fn compute_advantages(
        &mut self,
        last_values: &[f32],
        last_dones: &[bool],
        gamma: f32,
        gae_lambda: f32,
    ) {
        let n = self.n_envs;
        let mut last_gae = vec![0.0f32; n];
        for t in (0..self.len).rev() {
            for e in 0..n {
                let i = t * n + e;
                let (next_non_terminal, next_value) = if t + 1 == self.len {
                    (1.0 - last_dones[e] as u8 as f32, last_values[e])
                } else {
                    (1.0 - self.episode_starts[i + n], self.values[i + n])
                };
                let delta =
                    self.rewards[i] + gamma * next_value * next_non_terminal - self.values[i];
                last_gae[e] = delta + gamma * gae_lambda * next_non_terminal * last_gae[e];
                self.advantages[i] = last_gae[e];
                self.returns[i] = last_gae[e] + self.values[i];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_read_numbers_and_linear_schedules() {
        #[derive(Deserialize, Serialize)]
        struct T {
            c: Coefficient,
        }
        let t: T = toml::from_str("c = \"lin_0.001\"").unwrap();
        assert_eq!(t.c, Coefficient::Linear(0.001));
        assert_eq!(t.c.at(0.25), 0.00025);
        assert_eq!(toml::to_string(&t).unwrap().trim(), "c = \"lin_0.001\"");
        let t: T = toml::from_str("c = 0.2").unwrap();
        assert_eq!(t.c.at(0.0), 0.2);
        let e = toml::from_str::<T>("c = \"exp_0.1\"").err().unwrap();
        assert!(e.to_string().contains("\"lin_<start>\""), "{e}");
    }

    /// GAE of one env by the definition: the λ-weighted sum of the n-step advantages,
    /// cut at the episode's end.
    #[test]
    fn advantages_match_the_discounted_sum_of_td_errors_and_stop_at_episode_ends() {
        let mut r = Rollout::new(4, 1, 1, 1);
        let (values, rewards) = ([0.5f32, -0.2, 0.3, 0.8], [1.0f32, 0.0, 2.0, -1.0]);
        // The third observation begins a new episode: the second step ended one.
        let starts = [1.0f32, 0.0, 1.0, 0.0];
        for t in 0..4 {
            r.push(
                &[0.0],
                &[0.0],
                &[rewards[t]],
                &[starts[t]],
                &[values[t]],
                &[0.0],
            )
            .unwrap();
        }
        let (g, l) = (0.9f32, 0.8f32);
        r.compute_advantages(&[0.6], &[false], g, l);
        let d3 = rewards[3] + g * 0.6 - values[3];
        let d2 = rewards[2] + g * values[3] - values[2];
        let d1 = rewards[1] - values[1];
        let d0 = rewards[0] + g * values[1] - values[0];
        let expected = [d0 + g * l * d1, d1, d2 + g * l * d3, d3];
        for t in 0..4 {
            assert!((r.advantages[t] - expected[t]).abs() < 1e-6, "{t}");
            assert!((r.returns[t] - expected[t] - values[t]).abs() < 1e-6);
        }
        // A terminal last step does not bootstrap.
        r.compute_advantages(&[0.6], &[true], g, l);
        assert!((r.advantages[3] - (rewards[3] - values[3])).abs() < 1e-6);
    }
}
