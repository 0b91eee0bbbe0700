//! [`Ppo`]: proximal policy optimization (Schulman et al., 2017) with the clipped surrogate,
//! stepped as Stable-Baselines3's `PPO` is, with its hyperparameter names and meanings, so that
//! an entry of RL Zoo's `ppo.yml` copies into `[agent]` unchanged.

use candle_core::{DType, Device, Tensor};
use qlab_envs::EnvRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::TrainStats;
use crate::nn::{
    ActionKind, ActorCritic, ActorCriticConfig, AdamConfig, Algorithm, Optimizer, OptimizerConfig,
    ParamStore, Sampled, actor_critic,
};
use crate::normalize::{Normalize, Normalizer};
use crate::rollout::{Coefficient, Rollout};
use crate::{Error, Result};

/// Hyperparameters of [`Ppo`], named and defaulted as Stable-Baselines3's `PPO` (RL Zoo's
/// `n_envs` included; `policy_kwargs` is the `policy` table).
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `n_envs` | `1` | `≥ 1` | envs stepped together (env `i` is first reset with `seed + i`) |
/// | `n_steps` | `2048` | `≥ 1` | steps of each env per rollout |
/// | `batch_size` | `64` | `≥ 2`, `≤ n_steps·n_envs` | minibatch size |
/// | `n_epochs` | `10` | `≥ 1` | passes over each rollout |
/// | `learning_rate` | `3e-4` | `> 0`, or `"lin_<start>"` | Adam's step size (Adam's ε is 1e-5, as Stable-Baselines3 sets it) |
/// | `gamma` | `0.99` | `[0, 1]` | discount |
/// | `gae_lambda` | `0.95` | `[0, 1]` | GAE's λ |
/// | `clip_range` | `0.2` | `> 0`, or `"lin_<start>"` | the surrogate's clip ε |
/// | `clip_range_vf` | none | `> 0`, or `"lin_<start>"` | clip of the value's change (none: no clipping) |
/// | `normalize_advantage` | `true` | | advantages scaled to mean 0 and standard deviation 1 per minibatch |
/// | `ent_coef` | `0.0` | `≥ 0` | entropy bonus weight |
/// | `vf_coef` | `0.5` | `≥ 0` | value loss weight |
/// | `max_grad_norm` | `0.5` | `> 0` | global gradient norm clip |
/// | `target_kl` | none | `> 0` | stop a rollout's epochs once the approximate KL passes `1.5 × target_kl` |
/// | `normalize` | `false` | `true`, `false`, `{ norm_obs, norm_reward }` | RL Zoo's `normalize`: observations and rewards scaled by running statistics ([`Normalize`]; the returns' discount is `gamma`) |
/// | `policy` | [`ActorCriticConfig`] | | the networks (`pi`, `vf`, `activation`, `ortho_init`, `log_std_init`) |
///
/// ```toml
/// [agent]          # RL Zoo's tuned CartPole-v1
/// algorithm = "ppo"
/// n_envs = 8
/// n_steps = 32
/// batch_size = 256
/// gae_lambda = 0.8
/// gamma = 0.98
/// n_epochs = 20
/// ent_coef = 0.0
/// learning_rate = "lin_0.001"
/// clip_range = "lin_0.2"
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Envs stepped together.
    pub n_envs: usize,
    /// Steps of each env per rollout.
    pub n_steps: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Passes over each rollout.
    pub n_epochs: usize,
    /// Adam's step size.
    pub learning_rate: Coefficient,
    /// Discount.
    pub gamma: f64,
    /// GAE's λ.
    pub gae_lambda: f64,
    /// The surrogate's clip.
    pub clip_range: Coefficient,
    /// The value's clip.
    pub clip_range_vf: Option<Coefficient>,
    /// Normalize the advantages per minibatch.
    pub normalize_advantage: bool,
    /// Entropy bonus weight.
    pub ent_coef: f64,
    /// Value loss weight.
    pub vf_coef: f64,
    /// Global gradient norm clip.
    pub max_grad_norm: f64,
    /// Early stop of a rollout's epochs on the approximate KL.
    pub target_kl: Option<f64>,
    /// Observation and reward normalization.
    pub normalize: Normalize,
    /// The networks.
    pub policy: ActorCriticConfig,
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            n_envs: 1,
            n_steps: 2048,
            batch_size: 64,
            n_epochs: 10,
            learning_rate: Coefficient::Constant(3e-4),
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_range: Coefficient::Constant(0.2),
            clip_range_vf: None,
            normalize_advantage: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            normalize: Normalize::default(),
            policy: ActorCriticConfig::default(),
        }
    }
}

impl PpoConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        let at_least = |key: &str, v: usize, min: usize| {
            if v < min {
                return Err(Error::config(key, v, format!("at least {min}")));
            }
            Ok(())
        };
        at_least("n_envs", self.n_envs, 1)?;
        at_least("n_steps", self.n_steps, 1)?;
        at_least("batch_size", self.batch_size, 2)?;
        at_least("n_epochs", self.n_epochs, 1)?;
        let rollout = self.n_steps * self.n_envs;
        if self.batch_size > rollout {
            return Err(Error::config(
                "batch_size",
                self.batch_size,
                format!("at most n_steps × n_envs = {rollout}"),
            ));
        }
        let positive = |key: &str, c: Coefficient| {
            let v = c.start();
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::config(
                    key,
                    c,
                    "> 0, or \"lin_<start>\" with start > 0",
                ));
            }
            Ok(())
        };
        positive("learning_rate", self.learning_rate)?;
        positive("clip_range", self.clip_range)?;
        if let Some(c) = self.clip_range_vf {
            positive("clip_range_vf", c)?;
        }
        for (key, v) in [("gamma", self.gamma), ("gae_lambda", self.gae_lambda)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::config(key, v, "in [0, 1]"));
            }
        }
        for (key, v) in [("ent_coef", self.ent_coef), ("vf_coef", self.vf_coef)] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(Error::config(key, v, ">= 0"));
            }
        }
        if !(self.max_grad_norm > 0.0 && self.max_grad_norm.is_finite()) {
            return Err(Error::config("max_grad_norm", self.max_grad_norm, "> 0"));
        }
        if let Some(kl) = self.target_kl {
            if !(kl > 0.0 && kl.is_finite()) {
                return Err(Error::config("target_kl", kl, "> 0"));
            }
        }
        self.policy
            .validate()
            .map_err(|e| Error::config("policy", e, "a valid network"))
    }
}

/// One step of every env, as [`Ppo::observe`] learns from it.
#[derive(Clone, Copy, Debug)]
pub struct VecStep<'a> {
    /// Each env's reward.
    pub rewards: &'a [f64],
    /// Whether each env's episode terminated (its next state is terminal).
    pub terminated: &'a [bool],
    /// Whether each env's episode was truncated (a time limit).
    pub truncated: &'a [bool],
    /// The observation each env's step reached, before any reset (`n_envs` rows): a truncated
    /// episode's reward is bootstrapped from it.
    pub final_obs: &'a [f32],
    /// What each env observes next: the reset observation where the episode ended.
    pub next_obs: &'a [f32],
}

/// PPO over `n_envs` envs with observations of `obs_dim` numbers.
///
/// The loop is Stable-Baselines3's (`OnPolicyAlgorithm.collect_rollouts`, `PPO.train`):
/// 1. [`act`](Ppo::act) samples an action at each env's observation from the current policy,
///    with its log-probability and the value estimate;
/// 2. [`observe`](Ppo::observe) stores the step; a truncated episode's reward gains
///    `γ·V(final observation)` (bootstrapping on truncation, not on termination). When the
///    rollout holds `n_steps` steps of every env, the advantages are computed by GAE(λ) from
///    the values of the observations it ended on, and the update runs: `n_epochs` passes over
///    the rollout in random minibatches of `batch_size`, each an Adam step on
///    `−min(A·ρ, A·clip(ρ, 1 ± ε)) + vf_coef·(R − V)² − ent_coef·H` (means over the minibatch;
///    `ρ` the probability ratio to the acting policy, `A` normalized per minibatch, `V`
///    optionally clipped around the acting value) after clipping the gradient's global norm.
///
/// Schedules (`"lin_…"`) read `1 − steps / total_steps` before each update, where `steps`
/// counts the env steps of every env so far.
///
/// Actions are sampled on the host from the agent's own generator (as are the minibatches'
/// permutations), seeded at construction: the same seed and steps give bit-identical results on
/// the CPU. Box actions are returned as sampled; the runner clips them to the action space
/// when it steps the env, as Stable-Baselines3 does, and learns from the sampled ones.
pub struct Ppo {
    config: PpoConfig,
    kind: ActionKind,
    obs_dim: usize,
    total_steps: u64,
    net: ActorCritic,
    params: ParamStore,
    opt: Optimizer,
    rollout: Rollout,
    rng: EnvRng,
    /// The observations last acted on and what the policy did there.
    acted_on: Vec<f32>,
    sampled: Vec<Sampled>,
    /// Whether each env's current observation began an episode.
    episode_starts: Vec<bool>,
    /// Observation and reward statistics (`normalize`).
    norm: Normalizer,
    /// Whether the statistics have seen the envs' first observations.
    seen_first: bool,
    steps: u64,
    updates: u64,
    stats: Option<TrainStats>,
    device: Device,
}

impl std::fmt::Debug for Ppo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ppo")
            .field("kind", &self.kind)
            .field("steps", &self.steps)
            .field("updates", &self.updates)
            .finish()
    }
}

impl Ppo {
    /// A PPO agent for observations of `obs_dim` numbers and actions of `kind`, training for
    /// `total_steps` env steps (the schedules' length), its networks and generator seeded with
    /// `seed`.
    ///
    /// # Errors
    /// An invalid config.
    pub fn new(
        obs_dim: usize,
        kind: ActionKind,
        config: &PpoConfig,
        total_steps: u64,
        seed: u64,
    ) -> Result<Ppo> {
        config.validate()?;
        let device = Device::Cpu;
        let params = ParamStore::new(seed, DType::F32, &device);
        let net = actor_critic(obs_dim, kind, &config.policy, &params, seed)?;
        let adam = Algorithm::Adam(AdamConfig {
            lr: config.learning_rate.start(),
            eps: 1e-5,
            ..AdamConfig::default()
        });
        let opt = Optimizer::new(
            params.trainable_vars(),
            OptimizerConfig {
                algorithm: adam,
                max_grad_norm: Some(config.max_grad_norm),
            },
        )?;
        let n = config.n_envs;
        Ok(Ppo {
            rollout: Rollout::new(config.n_steps, n, obs_dim, kind.action_dim()),
            config: config.clone(),
            kind,
            obs_dim,
            total_steps: total_steps.max(1),
            net,
            params,
            opt,
            rng: EnvRng::seed_from_u64(seed ^ 0x5050_4f5f_5345_4544),
            acted_on: Vec::with_capacity(n * obs_dim),
            sampled: Vec::with_capacity(n),
            episode_starts: vec![true; n],
            norm: Normalizer::new(config.normalize, obs_dim, n, config.gamma),
            seen_first: false,
            steps: 0,
            updates: 0,
            stats: None,
            device,
        })
    }

    /// The config.
    pub fn config(&self) -> &PpoConfig {
        &self.config
    }

    /// The actions the policy chooses among.
    pub fn kind(&self) -> ActionKind {
        self.kind
    }

    /// Env steps observed, over all envs.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Gradient steps taken.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The networks' parameters.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// The policy and value networks.
    pub fn network(&self) -> &ActorCritic {
        &self.net
    }

    /// Loads parameters saved from [`params`](Ppo::params) of an agent built the same way.
    ///
    /// # Errors
    /// A file that does not load or holds other shapes.
    pub fn load_params(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        Ok(self.params.load(path)?)
    }

    /// What the last [`observe`](Ppo::observe) trained, if it ended a rollout.
    pub fn train_stats(&self) -> Option<TrainStats> {
        self.stats
    }

    /// Samples an action at each env's observation (`obs`: `n_envs` rows of `obs_dim`, as the
    /// envs give them: the agent normalizes them itself with `normalize`).
    ///
    /// # Errors
    /// Observations of the wrong length, a failing network.
    pub fn act(&mut self, obs: &[f32]) -> Result<&[Sampled]> {
        let n = self.config.n_envs;
        if obs.len() != n * self.obs_dim {
            return Err(Error::config(
                "observations",
                obs.len(),
                format!("{n} envs × {} numbers", self.obs_dim),
            ));
        }
        if !self.seen_first {
            self.norm.update_obs(obs);
            self.seen_first = true;
        }
        self.norm.obs(obs, &mut self.acted_on);
        self.sampled = self.net.sample(&self.acted_on, n, &mut self.rng)?;
        Ok(&self.sampled)
    }

    /// The policy's deterministic action at one observation: the most likely index, or the
    /// Gaussian's mean (not clipped).
    ///
    /// # Errors
    /// A failing network.
    pub fn greedy(&self, obs: &[f32]) -> Result<Vec<f32>> {
        let mut x = Vec::with_capacity(obs.len());
        self.norm.obs(obs, &mut x);
        Ok(self.net.deterministic(&x)?)
    }

    /// The observation and reward statistics (`normalize`).
    pub fn normalizer(&self) -> &Normalizer {
        &self.norm
    }

    /// Replaces the observation and reward statistics, e.g. with those a run saved beside
    /// its policy.
    ///
    /// # Errors
    /// Statistics of another shape or kind than this agent's config makes.
    pub fn set_normalizer(&mut self, norm: Normalizer) -> Result<()> {
        let dims = |n: &Normalizer| {
            (
                n.obs.as_ref().map(|s| s.mean.len()),
                n.ret.is_some(),
                n.returns.len(),
            )
        };
        if dims(&norm) != dims(&self.norm) {
            return Err(Error::config(
                "normalize",
                format!("{:?}", dims(&norm)),
                format!("statistics of this agent's shape {:?}", dims(&self.norm)),
            ));
        }
        self.norm = norm;
        self.seen_first = true;
        Ok(())
    }

    /// Learns from the step the last [`act`](Ppo::act)'s actions took; trains when the
    /// rollout is full and returns what the training measured.
    ///
    /// # Errors
    /// A step that does not fit `n_envs`, training that diverged (a non-finite loss or
    /// gradient), a failing network.
    pub fn observe(&mut self, step: &VecStep<'_>) -> Result<Option<TrainStats>> {
        let n = self.config.n_envs;
        if self.sampled.len() != n {
            return Err(Error::config("observe", "before act", "act, then observe"));
        }
        let gamma = self.config.gamma;
        let dones: Vec<bool> = (0..n)
            .map(|e| step.terminated[e] || step.truncated[e])
            .collect();
        // As Stable-Baselines3's `VecNormalize.step_wait`: the statistics take the new
        // observations, then the rewards are scaled; the final observations that bootstrap
        // truncated episodes are scaled with the updated statistics.
        self.norm.update_obs(step.next_obs);
        let mut rewards = self.norm.rewards(step.rewards, &dones);
        let mut row = Vec::with_capacity(self.obs_dim);
        for (e, reward) in rewards.iter_mut().enumerate() {
            if step.truncated[e] && !step.terminated[e] {
                let raw = &step.final_obs[e * self.obs_dim..(e + 1) * self.obs_dim];
                self.norm.obs(raw, &mut row);
                let v = self.net.host_values(&row, 1)?[0];
                *reward += (gamma as f32) * v;
            }
        }
        let mut actions = Vec::with_capacity(n * self.kind.action_dim());
        let (mut values, mut log_probs) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for s in &self.sampled {
            actions.extend_from_slice(&s.action);
            values.push(s.value);
            log_probs.push(s.log_prob);
        }
        let starts: Vec<f32> = self
            .episode_starts
            .iter()
            .map(|&b| b as u8 as f32)
            .collect();
        self.rollout.push(
            &self.acted_on,
            &actions,
            &rewards,
            &starts,
            &values,
            &log_probs,
        )?;
        self.sampled.clear();
        self.episode_starts.copy_from_slice(&dones);
        self.steps += n as u64;
        self.stats = None;
        if self.rollout.is_full() {
            let mut next = Vec::with_capacity(step.next_obs.len());
            self.norm.obs(step.next_obs, &mut next);
            let last_values = self.net.host_values(&next, n)?;
            self.rollout.compute_advantages(
                &last_values,
                &dones,
                gamma as f32,
                self.config.gae_lambda as f32,
            );
            self.stats = Some(self.train()?);
            self.rollout.clear();
        }
        Ok(self.stats)
    }

    /// `1 − steps / total_steps`, as Stable-Baselines3 reads its schedules.
    fn progress_remaining(&self) -> f64 {
        1.0 - self.steps as f64 / self.total_steps as f64
    }

    fn train(&mut self) -> Result<TrainStats> {
        let progress = self.progress_remaining();
        self.opt
            .set_learning_rate(self.config.learning_rate.at(progress));
        let clip = self.config.clip_range.at(progress);
        let clip_vf = self.config.clip_range_vf.map(|c| c.at(progress));
        let total = self.rollout.capacity();
        let batch = self.config.batch_size;
        let mut order: Vec<usize> = (0..total).collect();
        let (mut loss_sum, mut count) = (0.0f64, 0u64);
        'epochs: for _ in 0..self.config.n_epochs {
            // Fisher–Yates with the agent's generator.
            for i in (1..total).rev() {
                let j = self.rng.below(i + 1);
                order.swap(i, j);
            }
            for chunk in order.chunks(batch) {
                let Some(loss) = self.minibatch_step(chunk, clip, clip_vf)? else {
                    break 'epochs;
                };
                loss_sum += loss;
                count += 1;
            }
        }
        let mean_value = self.rollout.values.iter().map(|&v| v as f64).sum::<f64>()
            / self.rollout.values.len() as f64;
        Ok(TrainStats {
            step: self.steps,
            loss: if count > 0 {
                loss_sum / count as f64
            } else {
                f64::NAN
            },
            mean_q: mean_value,
            gradient_steps: count,
        })
    }

    /// One Adam step on the minibatch `rows` of the rollout; its loss, or `None` when the
    /// approximate KL stops the update (`target_kl`).
    fn minibatch_step(
        &mut self,
        rows: &[usize],
        clip: f64,
        clip_vf: Option<f64>,
    ) -> Result<Option<f64>> {
        let r = &self.rollout;
        let (obs_dim, action_dim) = r.dims();
        let b = rows.len();
        let mut obs = Vec::with_capacity(b * obs_dim);
        let mut actions = Vec::with_capacity(b * action_dim);
        let (mut old_values, mut old_log_probs) = (Vec::with_capacity(b), Vec::with_capacity(b));
        let (mut adv, mut returns) = (Vec::with_capacity(b), Vec::with_capacity(b));
        for &i in rows {
            obs.extend_from_slice(&r.obs[i * obs_dim..(i + 1) * obs_dim]);
            actions.extend_from_slice(&r.actions[i * action_dim..(i + 1) * action_dim]);
            old_values.push(r.values[i]);
            old_log_probs.push(r.log_probs[i]);
            adv.push(r.advantages[i]);
            returns.push(r.returns[i]);
        }
        if self.config.normalize_advantage && b > 1 {
            // The sample standard deviation (n − 1), as `torch.std`.
            let mean = adv.iter().sum::<f32>() / b as f32;
            let var = adv.iter().map(|a| (a - mean) * (a - mean)).sum::<f32>() / (b - 1) as f32;
            let std = var.sqrt();
            adv.iter_mut().for_each(|a| *a = (*a - mean) / (std + 1e-8));
        }
        let dev = &self.device;
        let obs = Tensor::from_vec(obs, (b, obs_dim), dev)?;
        let actions = match self.kind {
            ActionKind::Discrete(_) => {
                let idx: Vec<u32> = actions.iter().map(|&a| a as u32).collect();
                Tensor::from_vec(idx, b, dev)?
            }
            ActionKind::Continuous(d) => Tensor::from_vec(actions, (b, d), dev)?,
        };
        let old_values = Tensor::from_vec(old_values, b, dev)?;
        let old_log_probs = Tensor::from_vec(old_log_probs, b, dev)?;
        let adv = Tensor::from_vec(adv, b, dev)?;
        let returns = Tensor::from_vec(returns, b, dev)?;

        let (outputs, values) = self.net.forward(&obs)?;
        let (log_prob, entropy) = self.net.log_prob_entropy(&outputs, &actions)?;
        let log_ratio = (&log_prob - &old_log_probs)?;
        if let Some(target) = self.config.target_kl {
            // Schulman's estimator, E[(ρ − 1) − log ρ], before this minibatch's step.
            let lr = log_ratio.detach();
            let kl = ((lr.exp()? - 1.0)? - &lr)?.mean_all()?.to_scalar::<f32>()? as f64;
            if kl > 1.5 * target {
                return Ok(None);
            }
        }
        let ratio = log_ratio.exp()?;
        let surrogate = (&adv * &ratio)?;
        let clipped = (&adv * ratio.clamp(1.0 - clip, 1.0 + clip)?)?;
        let policy_loss = surrogate.minimum(&clipped)?.mean_all()?.neg()?;
        let values = match clip_vf {
            Some(c) => (&old_values + (&values - &old_values)?.clamp(-c, c)?)?,
            None => values,
        };
        let value_loss = (&returns - &values)?.sqr()?.mean_all()?;
        let entropy_loss = entropy.mean_all()?.neg()?;
        let loss = ((policy_loss + (entropy_loss * self.config.ent_coef)?)?
            + (value_loss * self.config.vf_coef)?)?;
        let value = loss.to_scalar::<f32>()? as f64;
        if !value.is_finite() {
            return Err(Error::Diverged {
                step: self.steps,
                what: "PPO loss".into(),
                value,
            });
        }
        let grads = loss.backward()?;
        match self.opt.step(&grads) {
            Err(crate::nn::Error::NonFiniteGradient { norm }) => {
                return Err(Error::Diverged {
                    step: self.steps,
                    what: "gradient norm".into(),
                    value: norm,
                });
            }
            other => other?,
        }
        self.updates += 1;
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_read_rl_zoos_cartpole_entry_and_refuse_bad_values() {
        let c: PpoConfig = toml::from_str(
            "n_envs = 8\nn_steps = 32\nbatch_size = 256\ngae_lambda = 0.8\ngamma = 0.98\n\
             n_epochs = 20\nent_coef = 0.0\nlearning_rate = \"lin_0.001\"\nclip_range = \"lin_0.2\"\n",
        )
        .unwrap();
        assert_eq!(c.learning_rate, Coefficient::Linear(0.001));
        c.validate().unwrap();
        let bad = PpoConfig {
            batch_size: 512,
            ..c.clone()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("batch_size") && e.contains("256"), "{e}");
        let bad = PpoConfig {
            gae_lambda: 1.5,
            ..c
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("gae_lambda")
        );
    }

    /// A two-armed bandit with one observation: PPO moves the policy to the arm that pays.
    #[test]
    fn ppo_learns_a_bandit_and_reruns_bit_identically() {
        let run = |seed: u64| -> (f32, Vec<f32>) {
            let config = PpoConfig {
                n_envs: 2,
                n_steps: 16,
                batch_size: 8,
                n_epochs: 4,
                learning_rate: Coefficient::Constant(3e-3),
                ..Default::default()
            };
            let mut agent = Ppo::new(1, ActionKind::Discrete(2), &config, 2000, seed).unwrap();
            let obs = [1.0f32, 1.0];
            let mut losses = Vec::new();
            for _ in 0..500 {
                let actions: Vec<usize> = agent
                    .act(&obs)
                    .unwrap()
                    .iter()
                    .map(|s| s.action[0] as usize)
                    .collect();
                let rewards: Vec<f64> = actions.iter().map(|&a| a as f64).collect();
                let stats = agent
                    .observe(&VecStep {
                        rewards: &rewards,
                        terminated: &[true, true],
                        truncated: &[false, false],
                        final_obs: &obs,
                        next_obs: &obs,
                    })
                    .unwrap();
                if let Some(s) = stats {
                    losses.push(s.loss as f32);
                }
            }
            let greedy = agent.greedy(&[1.0]).unwrap()[0];
            (greedy, losses)
        };
        let (greedy, losses) = run(3);
        assert_eq!(greedy, 1.0, "the paying arm");
        assert_eq!(losses.len(), 500 / 16);
        assert_eq!(run(3).1, losses, "bit-identical rerun");
        assert_ne!(run(4).1, losses);
    }
}
