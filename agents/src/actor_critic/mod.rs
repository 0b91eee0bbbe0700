//! [`ActorCriticAgent`]: the on-policy actor-critic agents, PPO ([`crate::ppo`]) and A2C
//! ([`crate::a2c`]), stepped as Stable-Baselines3's `OnPolicyAlgorithm` steps them: actions
//! sampled at every env of a vector at once, the steps gathered into a [`Rollout`], advantages
//! by GAE(λ), then the algorithm's own update. Everything but the update lives here; each
//! algorithm's file holds its hyperparameters and its update.

use candle_core::{DType, Device};
use qlab_envs::EnvRng;
use rand::SeedableRng;

use crate::a2c::A2cConfig;
use crate::learner::Learner;
use crate::nn::{
    ActionKind, ActorCritic, Optimizer, OptimizerConfig, ParamStore, Sampled, actor_critic_with,
};
use crate::normalize::{Normalize, Normalizer};
use crate::ppo::PpoConfig;
use crate::rollout::Rollout;
use crate::{Error, Result};

mod checkpoint;
mod logits;

pub use logits::PolicyLogits;

/// The hyperparameters of an on-policy agent: which algorithm, with its own keys.
#[derive(Clone, Debug, PartialEq)]
pub enum OnPolicyConfig {
    /// PPO.
    Ppo(PpoConfig),
    /// A2C.
    A2c(A2cConfig),
}

impl OnPolicyConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        match self {
            OnPolicyConfig::Ppo(c) => c.validate(),
            OnPolicyConfig::A2c(c) => c.validate(),
        }
    }

    /// The keys every on-policy algorithm has.
    pub fn common(&self) -> Common {
        // The keys have the same names in every algorithm's config.
        macro_rules! common {
            ($c:expr) => {
                Common {
                    n_envs: $c.n_envs,
                    n_steps: $c.n_steps,
                    gamma: $c.gamma,
                    gae_lambda: $c.gae_lambda,
                    normalize: $c.normalize,
                    use_sde: $c.use_sde,
                    sde_sample_freq: $c.sde_sample_freq,
                }
            };
        }
        match self {
            OnPolicyConfig::Ppo(c) => common!(c),
            OnPolicyConfig::A2c(c) => common!(c),
        }
    }

    /// The networks.
    pub fn policy(&self) -> &crate::nn::ActorCriticConfig {
        match self {
            OnPolicyConfig::Ppo(c) => &c.policy,
            OnPolicyConfig::A2c(c) => &c.policy,
        }
    }
}

/// What the runner and the rollouts read of any on-policy config.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Common {
    /// Envs stepped together.
    pub n_envs: usize,
    /// Steps of each env per rollout.
    pub n_steps: usize,
    /// Discount.
    pub gamma: f64,
    /// GAE's λ.
    pub gae_lambda: f64,
    /// Observation and reward normalization.
    pub normalize: Normalize,
    /// Generalized state-dependent exploration.
    pub use_sde: bool,
    /// Steps between gSDE's noise draws (`≤ 0`: once per rollout).
    pub sde_sample_freq: i64,
}

/// What one update measured, under the names of Stable-Baselines3's `train/…` log keys:
/// means over the minibatches it evaluated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UpdateStats {
    /// Env steps of every env so far.
    pub step: u64,
    /// The loss minimized, the mean over the gradient steps taken.
    pub loss: f64,
    /// The policy's part: PPO's clipped surrogate, A2C's `−A·log π`, negated (Stable-Baselines3's
    /// A2C calls it `policy_loss`).
    pub policy_gradient_loss: f64,
    /// The value's mean squared error.
    pub value_loss: f64,
    /// Minus the policy's mean entropy.
    pub entropy_loss: f64,
    /// PPO: Schulman's estimate of the KL divergence of the new policy from the acting one,
    /// `E[(ρ − 1) − log ρ]`, before each minibatch's step.
    pub approx_kl: Option<f64>,
    /// PPO: the share of probability ratios outside `[1 − clip_range, 1 + clip_range]`.
    pub clip_fraction: Option<f64>,
    /// `1 − Var(R − V) / Var(R)` over the rollout: how much of the returns the values, as
    /// acted, explain.
    pub explained_variance: f64,
    /// The learning rate of the update.
    pub learning_rate: f64,
    /// A Gaussian policy's standard deviation after the update, `exp(log_std)` averaged (the
    /// noise weights' with gSDE).
    pub std: Option<f64>,
    /// Gradient steps taken.
    pub gradient_steps: u64,
}

/// One step of every env, as [`ActorCriticAgent::observe`] learns from it.
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

/// An on-policy actor-critic agent over `n_envs` envs with observations of `obs_dim` numbers.
///
/// The loop is Stable-Baselines3's (`OnPolicyAlgorithm.collect_rollouts`, then the
/// algorithm's `train`):
/// 1. [`act`](ActorCriticAgent::act) samples an action at each env's observation from the
///    current policy, with its log-probability and the value estimate;
/// 2. [`observe`](ActorCriticAgent::observe) stores the step; a truncated episode's reward
///    gains `γ·V(final observation)` (bootstrapping on truncation, not on termination). When
///    the rollout holds `n_steps` steps of every env, the advantages are computed by GAE(λ)
///    from the values of the observations it ended on, and the algorithm's update runs (PPO's
///    minibatch epochs, A2C's one step on the whole rollout).
///
/// Schedules (`"lin_…"`) read `1 − steps / total_steps` before each update, where `steps`
/// counts the env steps of every env so far.
///
/// Actions are sampled on the host from the agent's own generator (as are PPO's minibatch
/// permutations), seeded at construction: the same seed and steps give bit-identical results
/// on the CPU. Box actions are returned as sampled; the runner clips them to the action space
/// when it steps the env, as Stable-Baselines3 does, and learns from the sampled ones.
pub struct ActorCriticAgent {
    config: OnPolicyConfig,
    common: Common,
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
    /// gSDE's noise weights of each env (`use_sde`), drawn at the start of each rollout and
    /// every `sde_sample_freq` steps.
    exploration: Vec<f64>,
    steps: u64,
    updates: u64,
    stats: Option<UpdateStats>,
    device: Device,
}

impl std::fmt::Debug for ActorCriticAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorCriticAgent")
            .field("kind", &self.kind)
            .field("steps", &self.steps)
            .field("updates", &self.updates)
            .finish()
    }
}

impl ActorCriticAgent {
    /// An agent for observations of `obs_dim` numbers and actions of `kind`, training for
    /// `total_steps` env steps (the schedules' length), its networks and generator seeded with
    /// `seed`.
    ///
    /// # Errors
    /// An invalid config.
    pub fn new(
        obs_dim: usize,
        kind: ActionKind,
        config: &OnPolicyConfig,
        total_steps: u64,
        seed: u64,
    ) -> Result<ActorCriticAgent> {
        config.validate()?;
        let common = config.common();
        let device = Device::Cpu;
        let params = ParamStore::new(seed, DType::F32, &device);
        let net = actor_critic_with(
            obs_dim,
            kind,
            config.policy(),
            &params,
            seed,
            common.use_sde,
        )?;
        let (algorithm, max_grad_norm) = match config {
            OnPolicyConfig::Ppo(c) => (c.optimizer(), c.max_grad_norm),
            OnPolicyConfig::A2c(c) => (c.optimizer(), c.max_grad_norm),
        };
        let opt = Optimizer::new(
            params.trainable_vars(),
            OptimizerConfig {
                algorithm,
                max_grad_norm: Some(max_grad_norm),
            },
        )?;
        let n = common.n_envs;
        Ok(ActorCriticAgent {
            rollout: Rollout::new(common.n_steps, n, obs_dim, kind.action_dim()),
            config: config.clone(),
            common,
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
            norm: Normalizer::new(common.normalize, obs_dim, n, common.gamma),
            seen_first: false,
            exploration: Vec::new(),
            steps: 0,
            updates: 0,
            stats: None,
            device,
        })
    }

    /// The config.
    pub fn config(&self) -> &OnPolicyConfig {
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

    /// Loads parameters saved from [`params`](ActorCriticAgent::params) of an agent built the same way.
    ///
    /// # Errors
    /// A file that does not load or holds other shapes.
    pub fn load_params(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        Ok(self.params.load(path)?)
    }

    /// What the last [`observe`](ActorCriticAgent::observe) trained, if it ended a rollout.
    pub fn train_stats(&self) -> Option<UpdateStats> {
        self.stats
    }

    /// Samples an action at each env's observation (`obs`: `n_envs` rows of `obs_dim`, as the
    /// envs give them: the agent normalizes them itself with `normalize`).
    ///
    /// # Errors
    /// Observations of the wrong length, a failing network.
    pub fn act(&mut self, obs: &[f32]) -> Result<&[Sampled]> {
        let n = self.common.n_envs;
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
        self.sampled = if self.common.use_sde {
            // As Stable-Baselines3's `collect_rollouts`: new weights as a rollout begins and
            // every `sde_sample_freq` steps of it.
            let at = self.rollout.steps() as i64;
            let freq = self.common.sde_sample_freq;
            if at == 0 || (freq > 0 && at % freq == 0) {
                self.exploration = self.net.sample_exploration(n, &mut self.rng)?;
            }
            self.net.sample_sde(&self.acted_on, n, &self.exploration)?
        } else {
            self.net.sample(&self.acted_on, n, &mut self.rng)?
        };
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

    /// Learns from the step the last [`act`](ActorCriticAgent::act)'s actions took; trains when the
    /// rollout is full and returns what the training measured.
    ///
    /// # Errors
    /// A step that does not fit `n_envs`, training that diverged (a non-finite loss or
    /// gradient), a failing network.
    pub fn observe(&mut self, step: &VecStep<'_>) -> Result<Option<UpdateStats>> {
        let n = self.common.n_envs;
        if self.sampled.len() != n {
            return Err(Error::config("observe", "before act", "act, then observe"));
        }
        let gamma = self.common.gamma;
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
                self.common.gae_lambda as f32,
            );
            self.stats = Some(self.train()?);
            self.rollout.clear();
        }
        Ok(self.stats)
    }

    fn train(&mut self) -> Result<UpdateStats> {
        let progress_remaining = 1.0 - self.steps as f64 / self.total_steps as f64;
        let mut learner = Learner {
            net: &self.net,
            opt: &mut self.opt,
            rollout: &self.rollout,
            rng: &mut self.rng,
            kind: self.kind,
            device: &self.device,
            steps: self.steps,
            progress_remaining,
            updates: &mut self.updates,
        };
        let (losses, learning_rate) = match &self.config {
            OnPolicyConfig::Ppo(c) => (
                crate::ppo::update(&mut learner, c)?,
                c.learning_rate.at(progress_remaining),
            ),
            OnPolicyConfig::A2c(c) => (
                crate::a2c::update(&mut learner, c)?,
                c.learning_rate.at(progress_remaining),
            ),
        };
        let mean = |sum: f64, n: u64| if n > 0 { sum / n as f64 } else { f64::NAN };
        let ppo = matches!(self.config, OnPolicyConfig::Ppo(_));
        let evaluated = losses.evaluated;
        let std = match self.net.log_std() {
            Some(log_std) => {
                Some(log_std.as_tensor().exp()?.mean_all()?.to_scalar::<f32>()? as f64)
            }
            None => None,
        };
        Ok(UpdateStats {
            step: self.steps,
            loss: mean(losses.loss, losses.steps),
            policy_gradient_loss: mean(losses.policy, evaluated),
            value_loss: mean(losses.value, evaluated),
            entropy_loss: mean(losses.entropy, evaluated),
            approx_kl: ppo.then(|| mean(losses.approx_kl, evaluated)),
            clip_fraction: ppo.then(|| mean(losses.clip_fraction, evaluated)),
            explained_variance: explained_variance(&self.rollout.values, &self.rollout.returns),
            learning_rate,
            std,
            gradient_steps: losses.steps,
        })
    }
}

/// `1 − Var(y − ŷ) / Var(y)` of the predictions `predicted` of `y` (NaN when `y` does not
/// vary), as Stable-Baselines3's `explained_variance`: 1 for perfect predictions, 0 for the
/// mean's, below 0 for worse.
fn explained_variance(predicted: &[f32], y: &[f32]) -> f64 {
    let var = |x: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = x.collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / v.len() as f64
    };
    let var_y = var(&mut y.iter().map(|&a| a as f64));
    if var_y == 0.0 {
        return f64::NAN;
    }
    let residual = var(&mut y.iter().zip(predicted).map(|(&a, &p)| a as f64 - p as f64));
    1.0 - residual / var_y
}

#[cfg(test)]
mod tests;
