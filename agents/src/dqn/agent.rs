//! [`Dqn`]: deep Q-learning with a target network, Double DQN, n-step returns and
//! prioritized replay, stepped as Stable-Baselines3's `DQN` is.

use candle_core::{Device, Module, Tensor};

use serde::{Deserialize, Serialize};

use super::config::DqnConfig;
use super::nstep::NStep;
use super::per::Prioritized;
use super::replay::{Batch, ReplayBuffer};
use super::rng::{DqnRng, Uniform};
use super::robust::Defense;
use super::sequence::SequenceBatch;
use crate::nn::{AdamConfig, Algorithm, Optimizer, OptimizerConfig, ParamStore, QNetwork, argmax};
use crate::nn::{TdBatch, TdStep, TorsoConfig, q_network};
use crate::{Error, Result};

mod checkpoint;
mod drqn;
mod episode;

pub use crate::TrainStats;
pub use drqn::Memory;

/// The numbers of a [`Dqn`] checkpoint (its JSON sidecar); the arrays go with
/// [`Dqn::checkpoint`]'s tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DqnState {
    /// Env steps observed.
    pub steps: u64,
    /// Env steps since the last training.
    pub since_train: u64,
    /// Gradient steps taken.
    pub updates: u64,
    /// ε now.
    pub epsilon: f64,
    /// The agent's RNG: its seed and the number of 64-bit draws taken.
    pub rng: (u64, u64),
    /// The replay ring's next slot.
    pub replay_position: usize,
    /// Transitions in the replay buffer.
    pub replay_len: usize,
    /// Actions of the n-step accumulator's pending steps (observations are tensors).
    pub pending_actions: Vec<usize>,
    /// Their rewards.
    pub pending_rewards: Vec<f64>,
    /// The largest priority so far (prioritized replay).
    pub max_priority: Option<f64>,
    /// The optimizer's step count per variable.
    pub optimizer_steps: Vec<u64>,
}

/// A DQN agent over observations of shape `obs_shape` and `n_actions` discrete actions.
///
/// Observations travel as flat `f32` slices of `obs_shape`'s product, row-major (the replay
/// buffer stores them so); the Q-network sees them as `(N, …obs_shape)` when its torso is a
/// CNN (`obs_shape = [C, H, W]`) and as `(N, obs_dim)` otherwise.
///
/// The loop, per env step, is Stable-Baselines3's (`OffPolicyAlgorithm.collect_rollouts` and
/// `DQN._on_step`, `DQN.train`):
/// 1. [`act`](Dqn::act): a uniformly random action for the first `learning_starts` steps, then
///    ε-greedy with the current ε;
/// 2. [`observe`](Dqn::observe) the transition: it enters the replay buffer (through the
///    n-step accumulator), the step count rises, the target network is updated when the count
///    is a multiple of `target_update_interval` (Polyak with `tau`; `tau = 1` copies), ε follows
///    its schedule, and when the count is a multiple of `train_freq` and past `learning_starts`,
///    `gradient_steps` updates run on minibatches of `batch_size`.
///
/// Each update regresses `Q(s, a)` on `r + γᵏ max_a' Q⁻(s', a')` (Double DQN:
/// `Q⁻(s', argmax_a' Q(s', a'))`), cut to `r` where the transition terminated, with the Huber
/// or squared loss (weighted by importance weights under prioritized replay), clipping the
/// gradient's global norm to `max_grad_norm` before Adam's step. Every update, whatever the
/// features, goes one way: gather the batch, compute the targets, take the Q-network's loss
/// and gradient from its TD step ([`QNetwork::td_step`], or
/// [`td_step_sequences`](QNetwork::td_step_sequences) for a recurrent torso; the network
/// decides how to compute it), apply the optimizer.
///
/// With `adversarial_training` or `smoothness` in the config, each update also attacks part of
/// the batch or adds SA-DQN's regularizer to the loss ([`Defense`]; the loss reported then
/// includes the regularizer).
///
/// All randomness (exploration, replay sampling, the defenses' rows and PGD starts) comes from
/// the agent's own RNG, seeded at construction with the network weights: the same seed and
/// transitions give bit-identical results on the CPU.
///
/// **Recurrent torsos (DRQN, Hausknecht & Stone, 2015).** With an `lstm` or `gru` torso the
/// Q-values depend on the episode so far. While acting, the agent carries the network's
/// hidden state from step to step — [`act`](Dqn::act) feeds every observation through it,
/// whether the action taken is greedy or random — and [`observe`](Dqn::observe) resets it when
/// an episode ends. Greedy play outside training carries its own [`Memory`]
/// ([`greedy_with`](Dqn::greedy_with)). Each update samples `batch_size` sequences of
/// `sequence_length` consecutive transitions from the replay buffer ([`SequenceBatch`]): a
/// `burn_in` prefix from the zero state warms the hidden state without gradient
/// (Kapturowski et al., 2019), no sequence crosses the end of an episode (later positions are
/// masked out of the loss), and the targets read the next state's value from the target
/// network run over the same sequence, so a truncated transition bootstraps from its final
/// observation with its episode's hidden state. The loss is the mean over the unmasked
/// transitions.
///
/// ```
/// # fn main() -> qlab_agents::Result<()> {
/// use qlab_agents::dqn::{Dqn, DqnConfig};
/// let config = DqnConfig { learning_starts: 10, train_freq: 4, batch_size: 8, ..Default::default() };
/// let mut agent = Dqn::new(&[3], 2, &config, 1_000, 0)?;
/// let obs = [0.1f32, 0.2, 0.3];
/// for _ in 0..20 {
///     let a = agent.act(&obs)?;
///     agent.observe(&obs, a, 1.0, &obs, false, false)?;
/// }
/// assert_eq!(agent.steps(), 20);
/// assert_eq!(agent.updates(), 3); // after steps 12, 16 and 20
/// # Ok(())
/// # }
/// ```
pub struct Dqn {
    config: DqnConfig,
    obs_dim: usize,
    /// The shape the Q-network reads one observation as.
    net_shape: Vec<usize>,
    n_actions: usize,
    total_timesteps: u64,
    online: QNetwork,
    params: ParamStore,
    target: QNetwork,
    target_params: ParamStore,
    opt: Optimizer,
    replay: ReplayBuffer,
    per: Option<Prioritized>,
    nstep: NStep,
    batch: Batch,
    device: Device,
    rng: DqnRng,
    /// The recurrent network's state while acting.
    acting: Memory,
    /// Where the episode played through [`Agent`](crate::Agent) stands.
    episode: episode::Episode,
    /// The sequence minibatch, for recurrent torsos.
    sequences: Option<SequenceBatch>,
    steps: u64,
    since_train: u64,
    updates: u64,
    epsilon: f64,
    /// Adversarial training and the smoothness regularizer, when configured.
    defense: Option<Defense>,
    /// The online network over the same weights as constants, for the defenses' searches of
    /// the ε-ball (input gradients only); built when there is a defense.
    frozen: Option<QNetwork>,
}

impl std::fmt::Debug for Dqn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dqn")
            .field("obs_dim", &self.obs_dim)
            .field("net_shape", &self.net_shape)
            .field("n_actions", &self.n_actions)
            .field("steps", &self.steps)
            .field("updates", &self.updates)
            .field("epsilon", &self.epsilon)
            .finish_non_exhaustive()
    }
}

impl Dqn {
    /// A fresh agent: networks initialised from `seed`, the target a copy of the online
    /// network, an empty replay buffer. `total_timesteps` is the budget the ε and β schedules
    /// run over. The config is validated first.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `obs_shape` is empty or holds a zero, when `n_actions` is 0, or
    /// when the torso does not fit the shape (a CNN torso needs `[C, H, W]`).
    pub fn new(
        obs_shape: &[usize],
        n_actions: usize,
        config: &DqnConfig,
        total_timesteps: u64,
        seed: u64,
    ) -> Result<Dqn> {
        config.validate()?;
        if n_actions == 0 {
            return Err(Error::config("actions", 0, "at least 1"));
        }
        if obs_shape.is_empty() || obs_shape.contains(&0) {
            return Err(Error::config(
                "obs_shape",
                format!("{obs_shape:?}"),
                "at least one axis, none of length 0",
            ));
        }
        let obs_dim = obs_shape.iter().product();
        let network = &config.network;
        let device = config.device.resolve()?;
        // A CNN reads the image as it is, the attention torso the stack of observations;
        // every other torso reads the flat vector.
        let net_shape = match network.torso {
            TorsoConfig::Cnn { .. } | TorsoConfig::Attention { .. } => obs_shape.to_vec(),
            _ => vec![obs_dim],
        };
        let (online, params) = QNetwork::new(&net_shape, n_actions, network, seed, &device)?;
        let (target, target_params) = QNetwork::new(
            &net_shape,
            n_actions,
            network,
            seed.wrapping_add(1),
            &device,
        )?;
        target_params.copy_from(&params)?;
        let adam = Algorithm::Adam(AdamConfig {
            lr: config.learning_rate,
            ..AdamConfig::default()
        });
        let opt = Optimizer::new(
            params.trainable_vars(),
            OptimizerConfig {
                algorithm: adam,
                max_grad_norm: Some(config.max_grad_norm),
            },
        )?;
        // The RNG's stream differs from the weights' (SplitMix64 of the seed).
        let rng = DqnRng::new(seed ^ 0x5851_F42D_4C95_7F2D);
        let defense = Defense::new(
            config.adversarial_training.as_deref(),
            config.smoothness.as_deref(),
            obs_dim,
            &net_shape,
            n_actions,
            &device,
        )?;
        let frozen = match defense {
            Some(_) => Some(q_network(
                &net_shape,
                n_actions,
                network,
                params.frozen_var_builder(),
            )?),
            None => None,
        };
        Ok(Dqn {
            frozen,
            replay: ReplayBuffer::new(config.buffer_size, obs_dim)?,
            per: config
                .prioritized
                .then(|| Prioritized::new(config.buffer_size, config.prioritized_alpha)),
            nstep: NStep::new(config.n_step, config.gamma, obs_dim),
            batch: Batch::new(config.batch_size, obs_dim),
            epsilon: config.epsilon(0, total_timesteps),
            config: config.clone(),
            obs_dim,
            net_shape,
            n_actions,
            total_timesteps,
            online,
            params,
            target,
            target_params,
            opt,
            device,
            rng,
            acting: Memory::default(),
            episode: episode::Episode::default(),
            sequences: network.torso.cell().map(|_| {
                SequenceBatch::new(
                    config.batch_size,
                    config.burn_in,
                    config.sequence_length,
                    obs_dim,
                )
            }),
            steps: 0,
            since_train: 0,
            updates: 0,
            defense,
        })
    }

    /// Clips the observations that adversarial training and the smoothness regularizer search
    /// to the env's observation box (unbounded until this is called); nothing without them.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the box does not have [`obs_dim`](Dqn::obs_dim) values.
    pub fn set_observation_space(&mut self, space: &qlab_envs::BoxSpace) -> Result<()> {
        match self.defense.as_mut() {
            Some(d) => d.set_space(space),
            None => Ok(()),
        }
    }

    /// The defenses, when the config has `adversarial_training` or `smoothness`.
    pub fn defense(&self) -> Option<&Defense> {
        self.defense.as_ref()
    }

    /// The config.
    pub fn config(&self) -> &DqnConfig {
        &self.config
    }

    /// Env steps observed.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Gradient steps taken.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The current ε of the behaviour policy.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// The number of actions.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// The online network's parameters (for saving).
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// The target network's parameters.
    pub fn target_params(&self) -> &ParamStore {
        &self.target_params
    }

    /// The replay buffer.
    pub fn replay(&self) -> &ReplayBuffer {
        &self.replay
    }

    /// Loads online weights saved from [`params`](Dqn::params) and copies them into the
    /// target network.
    pub fn load_params(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.params.load(path)?;
        self.target_params.copy_from(&self.params)?;
        Ok(())
    }

    /// The shape of a batch of `n` observations as the Q-network reads it.
    fn batch_shape(&self, n: usize) -> Vec<usize> {
        std::iter::once(n)
            .chain(self.net_shape.iter().copied())
            .collect()
    }

    /// Numbers per observation (the product of its shape).
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// `Q(obs, ·)` for one observation.
    pub fn q_values(&self, obs: &[f32]) -> Result<Vec<f32>> {
        if let Some(q) = self.online.q_values_row(obs) {
            return Ok(q);
        }
        let x = Tensor::from_slice(obs, self.batch_shape(1), &self.device)?;
        Ok(self.online.forward(&x)?.squeeze(0)?.to_vec1::<f32>()?)
    }

    /// The greedy action `argmax_a Q(obs, a)`, the first of equal values (as PyTorch's
    /// `argmax`).
    ///
    /// A recurrent network sees `obs` as the first step of an episode; use
    /// [`greedy_with`](Dqn::greedy_with) to play whole episodes.
    pub fn greedy(&self, obs: &[f32]) -> Result<usize> {
        Ok(argmax(&self.q_values(obs)?))
    }

    /// The behaviour policy's action: uniformly random during the first `learning_starts`
    /// steps, then ε-greedy. A recurrent network's state takes in `obs` either way.
    pub fn act(&mut self, obs: &[f32]) -> Result<usize> {
        let greedy = if self.online.is_recurrent() {
            let mut memory = std::mem::take(&mut self.acting);
            let a = self.greedy_with(obs, &mut memory);
            self.acting = memory;
            Some(a?)
        } else {
            None
        };
        if self.steps < self.config.learning_starts || self.rng.next_f64() < self.epsilon {
            Ok(self.rng.below(self.n_actions))
        } else {
            match greedy {
                Some(a) => Ok(a),
                None => self.greedy(obs),
            }
        }
    }

    /// Learns from one env step; returns what the training measured when this step trained.
    ///
    /// # Errors
    /// [`Error::Diverged`] when a loss, Q-value or gradient norm is not finite (the update is
    /// not applied);
    /// candle's errors.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        obs: &[f32],
        action: usize,
        reward: f64,
        next_obs: &[f32],
        terminated: bool,
        truncated: bool,
    ) -> Result<Option<TrainStats>> {
        if terminated || truncated {
            self.acting.reset();
        }
        let per = &mut self.per;
        self.nstep.push(
            obs,
            action,
            reward,
            next_obs,
            terminated,
            truncated,
            &mut self.replay,
            |slot| {
                if let Some(p) = per.as_mut() {
                    p.insert(slot);
                }
            },
        );
        self.steps += 1;
        self.since_train += 1;
        // SB3 counts `_n_calls` (env steps) for the target update, whether or not it trains.
        if self.steps % self.config.target_update_interval == 0 {
            self.target_params
                .soft_update_from(&self.params, self.config.tau)?;
        }
        self.epsilon = self.config.epsilon(self.steps, self.total_timesteps);
        if self.steps % self.config.train_freq != 0 {
            return Ok(None);
        }
        let collected = std::mem::take(&mut self.since_train);
        if self.steps <= self.config.learning_starts || self.replay.is_empty() {
            return Ok(None);
        }
        let n = self.config.gradient_steps_for(collected);
        let plan = self.plan_phase(n as usize)?;
        let (mut loss_sum, mut q_sum) = (0.0, 0.0);
        for k in 0..n as usize {
            let (loss, q) = self.update(plan.as_ref().map(|p| p.batch(k)))?;
            loss_sum += loss;
            q_sum += q;
        }
        Ok(Some(TrainStats {
            step: self.steps,
            loss: loss_sum / n as f64,
            mean_q: q_sum / n as f64,
            gradient_steps: n,
        }))
    }

    /// β of the importance weights now: `β₀` rising linearly to 1 over the budget.
    pub fn beta(&self) -> f64 {
        let progress = (self.steps as f64 / self.total_timesteps.max(1) as f64).min(1.0);
        let b0 = self.config.prioritized_beta0;
        b0 + (1.0 - b0) * progress
    }

    /// Draws a training phase's `n` uniform batches before its first gradient step and
    /// computes the target network's `max_a Q(s', a)` once for each distinct transition among
    /// them, in batches of the batch size, where that gives the bits of sampling and
    /// bootstrapping batch by batch: uniform replay, no Double DQN, no defense, no sequences,
    /// and a CPU target network that computes each row alone
    /// ([`QNetwork::rows_are_independent`]). The target network only changes between env
    /// steps, so it is the same for the whole phase; and sampling is the only draw from the
    /// agent's generator in such an update, so drawing all indices first keeps the stream.
    /// Early in training most draws repeat a transition (8,192 draws from a few thousand), so
    /// this saves about a fifth of the target network's forward passes over a CartPole run.
    /// `None` where the plan does not apply (or `n` is 0).
    fn plan_phase(&mut self, n: usize) -> Result<Option<PhasePlan>> {
        let b = self.batch.len();
        let applies = self.per.is_none()
            && !self.config.double
            && self.defense.is_none()
            && self.sequences.is_none()
            && self.device.is_cpu()
            && self.target.rows_are_independent();
        if !applies || n == 0 || b == 0 {
            return Ok(None);
        }
        let len = self.replay.len();
        let indices: Vec<usize> = (0..n * b).map(|_| self.rng.below(len)).collect();
        let mut distinct = indices.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let mut values = Vec::with_capacity(distinct.len() + b);
        let mut next_obs = Vec::with_capacity(b * self.obs_dim);
        for chunk in distinct.chunks(b) {
            next_obs.clear();
            self.replay.next_observations_into(chunk, &mut next_obs);
            // The last chunk repeats a row up to the batch size: a batch's row count.
            for _ in chunk.len()..b {
                self.replay
                    .next_observations_into(&chunk[..1], &mut next_obs);
            }
            let q = self.target.q_values_rows(&next_obs, &self.net_shape)?;
            values.extend(
                q.chunks_exact(self.n_actions)
                    .take(chunk.len())
                    .map(max_value),
            );
        }
        let next_q = indices
            .iter()
            .map(|i| {
                values[distinct
                    .binary_search(i)
                    .expect("a drawn index is in the set")]
            })
            .collect();
        Ok(Some(PhasePlan {
            indices,
            next_q,
            batch: b,
        }))
    }

    /// One gradient step, whatever the features: gather the batch (uniform or prioritized
    /// transitions, or sequences for a recurrent torso), compute the targets, let the
    /// Q-network compute the loss and its gradient ([`QNetwork::td_step`]), and apply the
    /// optimizer. Returns the loss and the mean Q of the batch. `planned` is this step's
    /// batch and bootstrap values from [`plan_phase`](Self::plan_phase), if any.
    fn update(&mut self, planned: Option<(&[usize], &[f32])>) -> Result<(f64, f64)> {
        let step = if self.sequences.is_some() {
            self.sequence_step()?
        } else {
            self.transition_step(planned)?
        };
        for (what, v) in [("loss", step.loss), ("Q-value", step.mean_q)] {
            if !v.is_finite() {
                return Err(Error::Diverged {
                    step: self.steps,
                    what: what.into(),
                    value: v,
                });
            }
        }
        self.optimizer_step(&step.grads)?;
        self.updates += 1;
        if self.sequences.is_none()
            && let Some(p) = self.per.as_mut()
        {
            p.update(&self.batch.indices, &step.td_errors);
        }
        Ok((step.loss, step.mean_q))
    }

    /// The TD step on a minibatch of transitions: sampled (or `planned`), the targets
    /// `r + γᵏ Q⁻(s', ·)` bootstrapped, the defenses' attacked observations and regularizer
    /// when configured, and the network's loss and gradient.
    fn transition_step(&mut self, planned: Option<(&[usize], &[f32])>) -> Result<TdStep> {
        match (&self.per, planned) {
            (_, Some((indices, _))) => {
                self.batch.indices.copy_from_slice(indices);
                self.batch.weights.fill(1.0);
                self.replay.gather(&mut self.batch);
            }
            (Some(p), None) => {
                let beta = self.beta();
                p.sample(self.replay.len(), beta, &mut self.batch, &mut self.rng);
                self.replay.gather(&mut self.batch);
            }
            (None, None) => self.replay.sample_uniform(&mut self.batch, &mut self.rng),
        }
        let next_q = match planned {
            Some((_, values)) => values.to_vec(),
            None => self.bootstrap_values()?,
        };
        let b = &self.batch;
        let targets: Vec<f32> = (0..b.len())
            .map(|i| next_q[i] * b.discounts[i] + b.rewards[i])
            .collect();
        // Adversarial training regresses attacked observations; the regularizer reads the clean.
        let attacked = match self.defense.as_mut() {
            Some(d) => {
                let mut obs = self.batch.obs.clone();
                let q = self.frozen.as_ref().unwrap_or(&self.online);
                let rows = d.attack_batch(q, &mut obs, self.steps, &mut self.rng)?;
                (!rows.is_empty()).then_some(obs)
            }
            None => None,
        };
        let b = &self.batch;
        let weights = self.per.as_ref().map(|_| b.weights.as_slice());
        let regularizer = match self.defense.as_mut() {
            Some(d) => {
                let search = self.frozen.as_ref().unwrap_or(&self.online);
                d.regularizer_with(
                    &self.online,
                    search,
                    &b.obs,
                    weights,
                    self.steps,
                    &mut self.rng,
                )?
            }
            None => None,
        };
        let batch = TdBatch {
            obs: attacked.as_deref().unwrap_or(&b.obs),
            obs_shape: &self.net_shape,
            actions: &b.actions,
            targets: &targets,
            weights,
            loss: self.config.loss,
        };
        Ok(self.online.td_step(&batch, regularizer.as_ref())?)
    }

    /// `Q⁻(s', ·)`'s bootstrap value of each transition in the batch: `max_a Q⁻(s', a)`, or
    /// with Double DQN `Q⁻(s', argmax_a Q(s', a))`.
    fn bootstrap_values(&self) -> Result<Vec<f32>> {
        let next_obs = &self.batch.next_obs;
        let target = self.target.q_values_rows(next_obs, &self.net_shape)?;
        let rows = target.chunks_exact(self.n_actions);
        if !self.config.double {
            return Ok(rows.map(max_value).collect());
        }
        let online = self.online.q_values_rows(next_obs, &self.net_shape)?;
        Ok(rows
            .zip(online.chunks_exact(self.n_actions))
            .map(|(t, q)| t[argmax(q)])
            .collect())
    }

    /// One optimizer step from `grads`. A finite loss can still have a NaN or infinite
    /// gradient; that stops training as a divergence at this env step, with the networks
    /// untouched (the optimizer applies nothing).
    fn optimizer_step(&mut self, grads: &candle_core::backprop::GradStore) -> Result<()> {
        match self.opt.step(grads) {
            Err(crate::nn::Error::NonFiniteGradient { norm }) => Err(Error::Diverged {
                step: self.steps,
                what: "gradient norm".into(),
                value: norm,
            }),
            other => Ok(other?),
        }
    }
}

/// A training phase's batches drawn up front, with their bootstrap values
/// ([`Dqn::plan_phase`]).
struct PhasePlan {
    /// The replay indices of every batch, one batch after another.
    indices: Vec<usize>,
    /// `max_a Q_target(s', a)` of each drawn transition, in the same order.
    next_q: Vec<f32>,
    /// Transitions per batch.
    batch: usize,
}

impl PhasePlan {
    /// Batch `k`'s indices and bootstrap values.
    fn batch(&self, k: usize) -> (&[usize], &[f32]) {
        let r = k * self.batch..(k + 1) * self.batch;
        (&self.indices[r.clone()], &self.next_q[r])
    }
}

/// The largest of a row of action values: candle's `max`, which keeps the first value and
/// replaces it by each later one that is larger.
fn max_value(q: &[f32]) -> f32 {
    q.iter().fold(q[0], |m, &v| if m < v { v } else { m })
}

#[cfg(test)]
mod tests;
