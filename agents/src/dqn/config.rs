//! [`DqnConfig`]: DQN's hyperparameters, with Stable-Baselines3's names and meanings.

use serde::{Deserialize, Serialize};

use super::robust::{AdversarialTraining, Smoothness};
use crate::nn::{DeviceConfig, QNetworkConfig};
use crate::{Error, Result};

/// The regression loss of the TD error: the network library's [`TdLoss`](crate::nn::TdLoss)
/// (`"huber"`, the default, or `"mse"`).
pub use crate::nn::TdLoss as Loss;

/// The hyperparameters of [`Dqn`](super::Dqn), an `[agent]` table with
/// `algorithm = "dqn"`.
///
/// The keys shared with Stable-Baselines3's `DQN` have its names, defaults and meanings, so
/// RL Zoo's tuned hyperparameters carry over unchanged. Steps are env steps; the budget
/// (`total_timesteps`) comes from `[train] steps`.
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `learning_rate` | `1e-4` | `> 0` | Adam's step size |
/// | `buffer_size` | `1_000_000` | `1 to 2⁴⁰`, and its memory within the machine's | replay capacity, transitions |
/// | `learning_starts` | `100` | `≥ 0` | env steps of uniformly random actions before learning; updates start once more steps than this have been taken |
/// | `batch_size` | `32` | `1 to 65536` | transitions per gradient step |
/// | `tau` | `1.0` | `(0, 1]` | target update `θ⁻ ← τθ + (1 − τ)θ⁻`; 1 is a hard copy |
/// | `gamma` | `0.99` | `[0, 1]` | discount |
/// | `train_freq` | `4` | `≥ 1` | train every this many env steps |
/// | `gradient_steps` | `1` | `1 to 1_000_000`, or `-1` | gradient steps per training; −1: as many as env steps since the last; with `batch_size`, at most 2²⁶ transitions drawn per training (`train_freq` steps for −1) |
/// | `target_update_interval` | `10_000` | `≥ 1` | env steps between target updates |
/// | `exploration_fraction` | `0.1` | `[0, 1]` | fraction of the budget over which ε falls linearly |
/// | `exploration_initial_eps` | `1.0` | `[0, 1]` | ε at the start |
/// | `exploration_final_eps` | `0.05` | `[0, 1]` | ε after the fall |
/// | `max_grad_norm` | `10.0` | `> 0` | clip the global gradient norm to this |
/// | `double` | `false` | | Double DQN: the online network picks the next action, the target network values it (van Hasselt et al., 2016) |
/// | `n_step` | `1` | `1 to 100` | rewards summed before bootstrapping: `Σₖ γᵏ r_{t+k} + γⁿ max Q(s_{t+n})` |
/// | `prioritized` | `false` | | prioritized replay (Schaul et al., 2016) |
/// | `prioritized_alpha` | `0.6` | `[0, 1]` | priority exponent α |
/// | `prioritized_beta0` | `0.4` | `[0, 1]` | importance-weight exponent β at the start, annealed linearly to 1 over the budget |
/// | `sequence_length` | `8` | `1 to 1000` | recurrent torsos: consecutive transitions trained per sampled sequence (`batch_size` sequences per gradient step) |
/// | `burn_in` | `0` | `0 to 1000` | recurrent torsos: steps before each sequence run only to warm the hidden state, no loss and no gradient (Kapturowski et al., 2019) |
/// | `loss` | `"huber"` | `"huber"`, `"mse"` | [`Loss`] |
/// | `network` | MLP `[64, 64]`, linear head | a [`QNetworkConfig`] table | the Q-network; `head = { type = "dueling" }` for the dueling architecture |
/// | `device` | `"cpu"` | `"cpu"`, `"cuda"`, `"auto"` | where the agent computes: both networks, the batches, the defenses' searches (the one device key; `network` has none) |
/// | `adversarial_training` | none | an [`AdversarialTraining`] table | replace a fraction of each batch's observations by FGSM or PGD attacks on the online network |
/// | `smoothness` | none | a [`Smoothness`] table | SA-DQN's regularizer: penalise the largest overtaking of the greedy action inside the ε-ball, found by PGD |
///
/// With a recurrent torso (`network.torso.type = "lstm"` or `"gru"`) the agent is DRQN
/// (Hausknecht & Stone, 2015): see [`Dqn`](super::Dqn). It takes `n_step = 1` and no
/// prioritized replay.
///
/// ε follows Stable-Baselines3's `get_linear_fn`: after `t` of `T` env steps,
/// `ε = initial + (final − initial) · min(1, t / (fraction · T))`.
///
/// ```
/// use qlab_agents::dqn::DqnConfig;
/// let c: DqnConfig = toml::from_str("learning_rate = 2.3e-3\nbatch_size = 64\n").unwrap();
/// assert_eq!((c.batch_size, c.max_grad_norm), (64, 10.0));
/// c.validate().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DqnConfig {
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Replay capacity.
    pub buffer_size: usize,
    /// Random steps before learning.
    pub learning_starts: u64,
    /// Minibatch size.
    pub batch_size: usize,
    /// Polyak coefficient of the target update.
    pub tau: f64,
    /// Discount.
    pub gamma: f64,
    /// Env steps between trainings.
    pub train_freq: u64,
    /// Gradient steps per training (−1: as many as env steps since the last).
    pub gradient_steps: i64,
    /// Env steps between target updates.
    pub target_update_interval: u64,
    /// Fraction of the budget over which ε falls.
    pub exploration_fraction: f64,
    /// Initial ε.
    pub exploration_initial_eps: f64,
    /// Final ε.
    pub exploration_final_eps: f64,
    /// Gradient-norm clip.
    pub max_grad_norm: f64,
    /// Double DQN targets.
    pub double: bool,
    /// n of n-step returns.
    pub n_step: usize,
    /// Prioritized replay.
    pub prioritized: bool,
    /// Priority exponent α.
    pub prioritized_alpha: f64,
    /// Initial importance exponent β.
    pub prioritized_beta0: f64,
    /// Recurrent torsos: transitions trained per sampled sequence.
    pub sequence_length: usize,
    /// Recurrent torsos: warm-up steps before each sequence.
    pub burn_in: usize,
    /// The loss.
    pub loss: Loss,
    /// The Q-network (a table; a list is refused rather than read positionally).
    #[serde(deserialize_with = "crate::nn::network_table")]
    pub network: QNetworkConfig,
    /// Where the networks run (and everything computed with them).
    pub device: DeviceConfig,
    /// Adversarial training; none by default. (Boxed: most configs have none.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adversarial_training: Option<Box<AdversarialTraining>>,
    /// SA-DQN's smoothness regularizer; none by default. (Boxed: most configs have none.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoothness: Option<Box<Smoothness>>,
}

impl Default for DqnConfig {
    fn default() -> Self {
        // Stable-Baselines3 2.x `DQN.__init__` defaults.
        DqnConfig {
            learning_rate: 1e-4,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 32,
            tau: 1.0,
            gamma: 0.99,
            train_freq: 4,
            gradient_steps: 1,
            target_update_interval: 10_000,
            exploration_fraction: 0.1,
            exploration_initial_eps: 1.0,
            exploration_final_eps: 0.05,
            max_grad_norm: 10.0,
            double: false,
            n_step: 1,
            prioritized: false,
            prioritized_alpha: 0.6,
            prioritized_beta0: 0.4,
            sequence_length: 8,
            burn_in: 0,
            loss: Loss::Huber,
            network: QNetworkConfig::default(),
            device: DeviceConfig::Cpu,
            adversarial_training: None,
            smoothness: None,
        }
    }
}

/// The largest `buffer_size`: 2⁴⁰ transitions (what fits in memory is checked when the
/// buffer is made, against the machine's memory).
pub const MAX_BUFFER_SIZE: usize = 1 << 40;

/// The largest `batch_size`.
pub const MAX_BATCH_SIZE: usize = 1 << 16;

/// The most `gradient_steps` per training.
pub const MAX_GRADIENT_STEPS: i64 = 1_000_000;

/// The most transitions one training phase draws: `gradient_steps × batch_size`.
const MAX_DRAWS: u64 = 1 << 26;

fn check(key: &str, value: impl std::fmt::Display, ok: bool, expected: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::config(key, value, expected))
    }
}

impl DqnConfig {
    /// Checks every key; the error names the first bad one and its valid range.
    pub fn validate(&self) -> Result<()> {
        let unit = |x: f64| (0.0..=1.0).contains(&x);
        let lr = self.learning_rate;
        check("learning_rate", lr, lr > 0.0 && lr.is_finite(), "> 0")?;
        check(
            "buffer_size",
            self.buffer_size,
            (1..=MAX_BUFFER_SIZE).contains(&self.buffer_size),
            "1 to 1099511627776 (2⁴⁰)",
        )?;
        let b = self.batch_size;
        check(
            "batch_size",
            b,
            (1..=MAX_BATCH_SIZE).contains(&b),
            "1 to 65536",
        )?;
        check(
            "tau",
            self.tau,
            self.tau > 0.0 && self.tau <= 1.0,
            "in (0, 1]",
        )?;
        check("gamma", self.gamma, unit(self.gamma), "in [0, 1]")?;
        check("train_freq", self.train_freq, self.train_freq >= 1, "≥ 1")?;
        let g = self.gradient_steps;
        check(
            "gradient_steps",
            g,
            (1..=MAX_GRADIENT_STEPS).contains(&g) || g == -1,
            "1 to 1000000, or -1",
        )?;
        // A training phase draws the indices of all its batches at once.
        let steps = if g == -1 { self.train_freq } else { g as u64 };
        let draws = steps.saturating_mul(b as u64);
        check(
            if g == -1 {
                "train_freq"
            } else {
                "gradient_steps"
            },
            if g == -1 { self.train_freq } else { g as u64 },
            draws <= MAX_DRAWS,
            &format!(
                "at most {} with batch_size = {b}: at most 2²⁶ transitions drawn per training{}",
                MAX_DRAWS / b as u64,
                if g == -1 {
                    " (gradient_steps = -1 trains one batch per env step)"
                } else {
                    ""
                }
            ),
        )?;
        let k = self.target_update_interval;
        check("target_update_interval", k, k >= 1, "≥ 1")?;
        for (key, v) in [
            ("exploration_fraction", self.exploration_fraction),
            ("exploration_initial_eps", self.exploration_initial_eps),
            ("exploration_final_eps", self.exploration_final_eps),
            ("prioritized_alpha", self.prioritized_alpha),
            ("prioritized_beta0", self.prioritized_beta0),
        ] {
            check(key, v, unit(v), "in [0, 1]")?;
        }
        let m = self.max_grad_norm;
        check("max_grad_norm", m, m > 0.0 && !m.is_nan(), "> 0")?;
        let n = self.n_step;
        check("n_step", n, (1..=100).contains(&n), "1 to 100")?;
        let l = self.sequence_length;
        check("sequence_length", l, (1..=1000).contains(&l), "1 to 1000")?;
        check("burn_in", self.burn_in, self.burn_in <= 1000, "0 to 1000")?;
        self.network.validate()?;
        if let Some(k) = self.network.torso.history() {
            check(
                "network",
                format!("k = {k}"),
                k >= 1,
                "an attention torso over k ≥ 1 observations",
            )?;
        }
        if self.network.torso.cell().is_some() {
            check("n_step", n, n == 1, "1 with a recurrent torso")?;
            let p = self.prioritized;
            check("prioritized", p, !p, "false with a recurrent torso")?;
            // The defenses work on the batch of single observations, not on sequences.
            let a = self.adversarial_training.is_some();
            check(
                "adversarial_training",
                a,
                !a,
                "absent with a recurrent torso",
            )?;
            let s = self.smoothness.is_some();
            check("smoothness", s, !s, "absent with a recurrent torso")?;
        }
        if let Some(a) = &self.adversarial_training {
            a.validate()?;
        }
        if let Some(s) = &self.smoothness {
            s.validate()?;
        }
        Ok(())
    }

    /// ε after `step` of `total_timesteps` env steps (Stable-Baselines3's `get_linear_fn`
    /// of the progress `step / total_timesteps`).
    pub fn epsilon(&self, step: u64, total_timesteps: u64) -> f64 {
        let progress = step as f64 / total_timesteps.max(1) as f64;
        let (start, end) = (self.exploration_initial_eps, self.exploration_final_eps);
        if progress > self.exploration_fraction {
            end
        } else {
            start + progress * (end - start) / self.exploration_fraction
        }
    }

    /// Gradient steps for a training after `collected` env steps.
    pub fn gradient_steps_for(&self, collected: u64) -> u64 {
        if self.gradient_steps < 0 {
            collected
        } else {
            self.gradient_steps as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stable-Baselines3's schedule, `stable_baselines3/common/utils.py`:
    /// ```python
    /// def get_linear_fn(start, end, end_fraction):
    ///     def func(progress_remaining):
    ///         if (1 - progress_remaining) > end_fraction:
    ///             return end
    ///         else:
    ///             return start + (1 - progress_remaining) * (end - start) / end_fraction
    /// ```
    /// with `progress_remaining = 1 - num_timesteps / total_timesteps`. The pinned values
    /// are that formula for RL Zoo's CartPole settings (1.0 → 0.04 over 0.16 of 50,000).
    #[test]
    fn epsilon_is_stable_baselines3_linear_schedule() {
        let c = DqnConfig {
            exploration_fraction: 0.16,
            exploration_final_eps: 0.04,
            ..Default::default()
        };
        let t = 50_000;
        assert_eq!(c.epsilon(0, t), 1.0);
        assert!((c.epsilon(4_000, t) - 0.52).abs() < 1e-12);
        assert!((c.epsilon(8_000, t) - 0.04).abs() < 1e-12);
        assert_eq!(c.epsilon(8_001, t), 0.04);
        assert_eq!(c.epsilon(50_000, t), 0.04);
    }

    #[test]
    fn validation_names_the_key() {
        let bad = |c: DqnConfig| c.validate().unwrap_err().to_string();
        let c = || DqnConfig::default();
        assert_eq!(
            bad(DqnConfig { gamma: 1.5, ..c() }),
            "invalid value 1.5 for `gamma`: expected in [0, 1]"
        );
        assert_eq!(
            bad(DqnConfig {
                gradient_steps: 0,
                ..c()
            }),
            "invalid value 0 for `gradient_steps`: expected 1 to 1000000, or -1"
        );
        assert_eq!(
            bad(DqnConfig { tau: 0.0, ..c() }),
            "invalid value 0 for `tau`: expected in (0, 1]"
        );
        assert_eq!(
            bad(DqnConfig { n_step: 0, ..c() }),
            "invalid value 0 for `n_step`: expected 1 to 100"
        );
        assert_eq!(
            bad(DqnConfig {
                sequence_length: 0,
                ..c()
            }),
            "invalid value 0 for `sequence_length`: expected 1 to 1000"
        );
        assert_eq!(
            bad(DqnConfig {
                burn_in: 1001,
                ..c()
            }),
            "invalid value 1001 for `burn_in`: expected 0 to 1000"
        );
        let lstm = |c: DqnConfig| DqnConfig {
            network: toml::from_str("torso = { type = \"lstm\" }").unwrap(),
            ..c
        };
        assert_eq!(
            bad(lstm(DqnConfig { n_step: 3, ..c() })),
            "invalid value 3 for `n_step`: expected 1 with a recurrent torso"
        );
        assert_eq!(
            bad(lstm(DqnConfig {
                prioritized: true,
                ..c()
            })),
            "invalid value true for `prioritized`: expected false with a recurrent torso"
        );
        lstm(c()).validate().unwrap();
        // The device is `device`; the network's table has no key for it (it was overwritten
        // by this one without a word).
        let e = toml::from_str::<DqnConfig>("network = { device = \"cuda\" }").unwrap_err();
        assert!(e.to_string().contains("unknown field `device`"), "{e}");
        let e = toml::from_str::<DqnConfig>("learning_rat = 1.0").unwrap_err();
        assert!(
            e.to_string().contains("unknown field `learning_rat`"),
            "{e}"
        );
    }
}
