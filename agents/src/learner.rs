//! [`Learner`]: what an on-policy algorithm's update reads and changes of the agent that
//! collected the rollout ([`crate::actor_critic::ActorCriticAgent`]), and the steps every
//! update is made of: the rollout's rows as tensors, the policy's evaluation of them, one
//! optimizer step down a loss. PPO's and A2C's updates ([`crate::ppo::update`],
//! [`crate::a2c::update`]) are written on it.

use candle_core::{Device, Tensor};
use qlab_envs::EnvRng;

use crate::nn::{ActionKind, ActorCritic, Optimizer};
use crate::rollout::Rollout;
use crate::{Error, Result};

/// The agent's parts an update works with, borrowed for one update.
pub(crate) struct Learner<'a> {
    /// The policy and value networks.
    pub net: &'a ActorCritic,
    /// Their optimizer.
    pub opt: &'a mut Optimizer,
    /// The full rollout, its advantages and returns computed.
    pub rollout: &'a Rollout,
    /// The agent's generator (PPO's minibatch permutations).
    pub rng: &'a mut EnvRng,
    /// The actions.
    pub kind: ActionKind,
    /// Where the tensors live.
    pub device: &'a Device,
    /// Env steps so far (named in a divergence error).
    pub steps: u64,
    /// `1 − steps / total_steps`, as Stable-Baselines3 reads its schedules.
    pub progress_remaining: f64,
    /// Gradient steps taken, counted by [`descend`](Learner::descend).
    pub updates: &'a mut u64,
}

/// The parts of an update's losses, summed over the minibatches it evaluated, with what PPO
/// measures of its ratios; [`UpdateStats`](crate::actor_critic::UpdateStats) holds their means.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Losses {
    /// Minibatches evaluated (a step taken on each but one that `target_kl` stopped at).
    pub evaluated: u64,
    /// Steps taken, and the sum of their losses.
    pub steps: u64,
    pub loss: f64,
    pub policy: f64,
    pub value: f64,
    pub entropy: f64,
    /// PPO only: the approximate KL and the clip fraction.
    pub approx_kl: f64,
    pub clip_fraction: f64,
}

impl Losses {
    /// Adds a minibatch's parts (scalar tensors).
    pub(crate) fn add(&mut self, policy: &Tensor, value: &Tensor, entropy: &Tensor) -> Result<()> {
        let read = |t: &Tensor| -> Result<f64> { Ok(t.to_scalar::<f32>()? as f64) };
        self.evaluated += 1;
        self.policy += read(policy)?;
        self.value += read(value)?;
        self.entropy += read(entropy)?;
        Ok(())
    }
}

/// Rows of the rollout as tensors, for one gradient step.
pub(crate) struct Batch {
    pub obs: Tensor,
    pub actions: Tensor,
    pub old_values: Tensor,
    pub old_log_probs: Tensor,
    pub advantages: Tensor,
    pub returns: Tensor,
}

impl Learner<'_> {
    /// The rollout's `rows` as tensors; the advantages scaled to mean 0 and standard deviation
    /// 1 over them with `normalize_advantage` (the sample standard deviation, `n − 1`, as
    /// `torch.std`).
    pub(crate) fn batch(&self, rows: &[usize], normalize_advantage: bool) -> Result<Batch> {
        let r = self.rollout;
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
        if normalize_advantage && b > 1 {
            let mean = adv.iter().sum::<f32>() / b as f32;
            let var = adv.iter().map(|a| (a - mean) * (a - mean)).sum::<f32>() / (b - 1) as f32;
            let std = var.sqrt();
            adv.iter_mut().for_each(|a| *a = (*a - mean) / (std + 1e-8));
        }
        let dev = self.device;
        let actions = match self.kind {
            ActionKind::Discrete(_) => {
                let idx: Vec<u32> = actions.iter().map(|&a| a as u32).collect();
                Tensor::from_vec(idx, b, dev)?
            }
            ActionKind::Continuous(d) => Tensor::from_vec(actions, (b, d), dev)?,
        };
        Ok(Batch {
            obs: Tensor::from_vec(obs, (b, obs_dim), dev)?,
            actions,
            old_values: Tensor::from_vec(old_values, b, dev)?,
            old_log_probs: Tensor::from_vec(old_log_probs, b, dev)?,
            advantages: Tensor::from_vec(adv, b, dev)?,
            returns: Tensor::from_vec(returns, b, dev)?,
        })
    }

    /// The policy's outputs, values, log-probabilities of the batch's actions and entropies.
    pub(crate) fn evaluate(&self, batch: &Batch) -> Result<(Tensor, Tensor, Tensor)> {
        Ok(self.net.evaluate(&batch.obs, &batch.actions)?)
    }

    /// One optimizer step down `loss` (a scalar), its gradient's global norm clipped first;
    /// the loss's value. `what` names the loss in the error if it is not finite.
    pub(crate) fn descend(&mut self, loss: &Tensor, what: &str) -> Result<f64> {
        let value = loss.to_scalar::<f32>()? as f64;
        if !value.is_finite() {
            return Err(Error::Diverged {
                step: self.steps,
                what: what.into(),
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
        *self.updates += 1;
        Ok(value)
    }
}
