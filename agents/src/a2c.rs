//! A2C: the synchronous advantage actor-critic (Mnih et al., 2016), as Stable-Baselines3's
//! `A2C` updates, with its hyperparameter names and meanings, so that an entry of RL Zoo's
//! `a2c.yml` copies into `[agent]` unchanged. The agent that collects the rollouts is
//! [`ActorCriticAgent`](crate::actor_critic::ActorCriticAgent); this file holds A2C's
//! hyperparameters and its update, written on the agent's `Learner`.

use serde::{Deserialize, Serialize};

use crate::learner::{Learner, Losses};
use crate::nn::{ActorCriticConfig, AdamConfig, Algorithm, RmsPropConfig};
use crate::normalize::Normalize;
use crate::rollout::{Coefficient, check_shared_keys};
use crate::{Error, Result};

/// Hyperparameters of A2C, named and defaulted as Stable-Baselines3's `A2C` (RL Zoo's
/// `n_envs` included; `policy_kwargs` is the `policy` table).
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `n_envs` | `1` | `≥ 1` | envs stepped together (env `i` is first reset with `seed + i`) |
/// | `n_steps` | `5` | `≥ 1` | steps of each env per rollout: one update per rollout |
/// | `learning_rate` | `7e-4` | `> 0`, or `"lin_<start>"` | the optimizer's step size |
/// | `gamma` | `0.99` | `[0, 1]` | discount |
/// | `gae_lambda` | `1.0` | `[0, 1]` | GAE's λ (1: the n-step returns of the rollout) |
/// | `ent_coef` | `0.0` | `≥ 0` | entropy bonus weight |
/// | `vf_coef` | `0.5` | `≥ 0` | value loss weight |
/// | `max_grad_norm` | `0.5` | `> 0` | global gradient norm clip |
/// | `use_rms_prop` | `true` | | RMSprop (α = 0.99, ε = `rms_prop_eps`, as PyTorch's: ε after the square root); `false`: Adam with ε = 1e-5 |
/// | `rms_prop_eps` | `1e-5` | `> 0` | RMSprop's ε |
/// | `normalize_advantage` | `false` | | advantages scaled to mean 0 and standard deviation 1 per rollout |
/// | `use_sde` | `false` | | generalized state-dependent exploration (Box actions): the noise is the policy's last hidden layer times weights drawn per env ([`sde_log_prob_entropy`](crate::nn::sde_log_prob_entropy)) |
/// | `sde_sample_freq` | `-1` | integer | steps between draws of those weights; `-1` (or `0`): once per rollout |
/// | `normalize` | `false` | `true`, `false`, `{ norm_obs, norm_reward }` | RL Zoo's `normalize` ([`Normalize`]) |
/// | `policy` | [`ActorCriticConfig`] | | the networks (`pi`, `vf`, `activation`, `ortho_init`, `log_std_init`) |
///
/// ```toml
/// [agent]          # RL Zoo's CartPole-v1
/// algorithm = "a2c"
/// n_envs = 8
/// ent_coef = 0.0
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct A2cConfig {
    /// Envs stepped together.
    pub n_envs: usize,
    /// Steps of each env per rollout.
    pub n_steps: usize,
    /// The optimizer's step size.
    pub learning_rate: Coefficient,
    /// Discount.
    pub gamma: f64,
    /// GAE's λ.
    pub gae_lambda: f64,
    /// Entropy bonus weight.
    pub ent_coef: f64,
    /// Value loss weight.
    pub vf_coef: f64,
    /// Global gradient norm clip.
    pub max_grad_norm: f64,
    /// RMSprop rather than Adam.
    pub use_rms_prop: bool,
    /// RMSprop's ε.
    pub rms_prop_eps: f64,
    /// Normalize the advantages per rollout.
    pub normalize_advantage: bool,
    /// Generalized state-dependent exploration.
    pub use_sde: bool,
    /// Steps between gSDE's draws of its weights (`≤ 0`: once per rollout).
    pub sde_sample_freq: i64,
    /// Observation and reward normalization.
    pub normalize: Normalize,
    /// The networks.
    pub policy: ActorCriticConfig,
}

impl Default for A2cConfig {
    fn default() -> Self {
        Self {
            n_envs: 1,
            n_steps: 5,
            learning_rate: Coefficient::Constant(7e-4),
            gamma: 0.99,
            gae_lambda: 1.0,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            use_rms_prop: true,
            rms_prop_eps: 1e-5,
            normalize_advantage: false,
            use_sde: false,
            sde_sample_freq: -1,
            normalize: Normalize::default(),
            policy: ActorCriticConfig::default(),
        }
    }
}

impl A2cConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("n_envs", self.n_envs), ("n_steps", self.n_steps)] {
            if v < 1 {
                return Err(Error::config(key, v, "at least 1"));
            }
        }
        check_shared_keys(
            self.learning_rate,
            self.gamma,
            self.gae_lambda,
            self.ent_coef,
            self.vf_coef,
            self.max_grad_norm,
        )?;
        if !(self.rms_prop_eps > 0.0 && self.rms_prop_eps.is_finite()) {
            return Err(Error::config("rms_prop_eps", self.rms_prop_eps, "> 0"));
        }
        self.policy
            .validate()
            .map_err(|e| Error::config("policy", e, "a valid network"))
    }

    /// RMSprop (α = 0.99, ε = `rms_prop_eps`) or Adam (ε = 1e-5), as Stable-Baselines3's
    /// `A2C` builds its optimizer.
    pub(crate) fn optimizer(&self) -> Algorithm {
        let lr = self.learning_rate.start();
        if self.use_rms_prop {
            Algorithm::RmsProp(RmsPropConfig {
                lr,
                alpha: 0.99,
                eps: self.rms_prop_eps,
                ..RmsPropConfig::default()
            })
        } else {
            Algorithm::Adam(AdamConfig {
                lr,
                eps: 1e-5,
                ..AdamConfig::default()
            })
        }
    }
}

/// One step on the whole rollout: `−A·log π(a|s) + vf_coef·(R − V)² − ent_coef·H`, means
/// over the rollout, after clipping the gradient's global norm. The loss and its parts.
pub(crate) fn update(l: &mut Learner<'_>, c: &A2cConfig) -> Result<Losses> {
    let progress = l.progress_remaining;
    l.opt.set_learning_rate(c.learning_rate.at(progress));
    let rows: Vec<usize> = (0..l.rollout.capacity()).collect();
    let batch = l.batch(&rows, c.normalize_advantage)?;
    let (values, log_prob, entropy) = l.evaluate(&batch)?;
    let policy_loss = (&batch.advantages * &log_prob)?.mean_all()?.neg()?;
    let value_loss = (&batch.returns - &values)?.sqr()?.mean_all()?;
    let entropy_loss = entropy.mean_all()?.neg()?;
    let mut losses = Losses::default();
    losses.add(&policy_loss, &value_loss, &entropy_loss)?;
    let loss = ((policy_loss + (entropy_loss * c.ent_coef)?)? + (value_loss * c.vf_coef)?)?;
    losses.loss = l.descend(&loss, "A2C loss")?;
    losses.steps = 1;
    Ok(losses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_read_rl_zoos_entry_and_refuse_bad_values() {
        let c: A2cConfig = toml::from_str("n_envs = 8\nent_coef = 0.0\n").unwrap();
        assert_eq!((c.n_envs, c.n_steps, c.gae_lambda), (8, 5, 1.0));
        c.validate().unwrap();
        let bad = A2cConfig {
            rms_prop_eps: 0.0,
            ..c.clone()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("rms_prop_eps"), "{e}");
        let e = toml::from_str::<A2cConfig>("batch_size = 64\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch_size"), "{e}");
    }
}
