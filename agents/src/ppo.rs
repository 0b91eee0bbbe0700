//! PPO: proximal policy optimization (Schulman et al., 2017) with the clipped surrogate, as
//! Stable-Baselines3's `PPO` updates, with its hyperparameter names and meanings, so that an
//! entry of RL Zoo's `ppo.yml` copies into `[agent]` unchanged. The agent that collects the
//! rollouts is [`ActorCriticAgent`](crate::actor_critic::ActorCriticAgent); this file holds PPO's
//! hyperparameters and its update, written on the agent's `Learner`.

use serde::{Deserialize, Serialize};

use crate::learner::{Learner, Losses};
use crate::nn::{ActorCriticConfig, AdamConfig, Algorithm};
use crate::normalize::Normalize;
use crate::rollout::{Coefficient, check_shared_keys};
use crate::{Error, Result};

/// Hyperparameters of PPO, named and defaulted as Stable-Baselines3's `PPO` (RL Zoo's
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
/// | `use_sde` | `false` | | generalized state-dependent exploration (Box actions): the noise is the policy's last hidden layer times weights drawn per env ([`sde_log_prob_entropy`](crate::nn::sde_log_prob_entropy)) |
/// | `sde_sample_freq` | `-1` | integer | steps between draws of those weights; `-1` (or `0`): once per rollout |
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
    /// Generalized state-dependent exploration.
    pub use_sde: bool,
    /// Steps between gSDE's draws of its weights (`≤ 0`: once per rollout).
    pub sde_sample_freq: i64,
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
            use_sde: false,
            sde_sample_freq: -1,
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
        check_shared_keys(
            self.learning_rate,
            self.gamma,
            self.gae_lambda,
            self.ent_coef,
            self.vf_coef,
            self.max_grad_norm,
        )?;
        self.clip_range.check_positive("clip_range")?;
        if let Some(c) = self.clip_range_vf {
            c.check_positive("clip_range_vf")?;
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

    /// Adam with ε = 1e-5, as Stable-Baselines3's policies set it.
    pub(crate) fn optimizer(&self) -> Algorithm {
        Algorithm::Adam(AdamConfig {
            lr: self.learning_rate.start(),
            eps: 1e-5,
            ..AdamConfig::default()
        })
    }
}

/// `n_epochs` passes over the rollout in random minibatches of `batch_size`, each an Adam
/// step on `−min(A·ρ, A·clip(ρ, 1 ± ε)) + vf_coef·(R − V)² − ent_coef·H` (means over the
/// minibatch; `ρ` the probability ratio to the acting policy, `A` normalized per minibatch,
/// `V` optionally clipped around the acting value) after clipping the gradient's global
/// norm. The losses and their parts, with the approximate KL and the clip fraction of every
/// minibatch evaluated (as Stable-Baselines3 logs them: the one `target_kl` stops at
/// included).
pub(crate) fn update(l: &mut Learner<'_>, c: &PpoConfig) -> Result<Losses> {
    let progress = l.progress_remaining;
    l.opt.set_learning_rate(c.learning_rate.at(progress));
    let clip = c.clip_range.at(progress);
    let clip_vf = c.clip_range_vf.map(|c| c.at(progress));
    let total = l.rollout.capacity();
    let mut order: Vec<usize> = (0..total).collect();
    let mut losses = Losses::default();
    'epochs: for _ in 0..c.n_epochs {
        // Fisher–Yates with the agent's generator.
        for i in (1..total).rev() {
            let j = l.rng.below(i + 1);
            order.swap(i, j);
        }
        for chunk in order.chunks(c.batch_size) {
            if !minibatch_step(l, c, chunk, (clip, clip_vf), &mut losses)? {
                break 'epochs;
            }
        }
    }
    Ok(losses)
}

/// One Adam step on the minibatch `rows` of the rollout, its parts added to `losses`; `false`
/// when the approximate KL stops the update (`target_kl`) before the step.
fn minibatch_step(
    l: &mut Learner<'_>,
    c: &PpoConfig,
    rows: &[usize],
    (clip, clip_vf): (f64, Option<f64>),
    losses: &mut Losses,
) -> Result<bool> {
    let batch = l.batch(rows, c.normalize_advantage)?;
    let (values, log_prob, entropy) = l.evaluate(&batch)?;
    let log_ratio = (&log_prob - &batch.old_log_probs)?;
    let adv = &batch.advantages;
    let ratio = log_ratio.exp()?;
    let surrogate = (adv * &ratio)?;
    let clipped = (adv * ratio.clamp(1.0 - clip, 1.0 + clip)?)?;
    let policy_loss = surrogate.minimum(&clipped)?.mean_all()?.neg()?;
    let old = &batch.old_values;
    let values = match clip_vf {
        Some(c) => (old + (&values - old)?.clamp(-c, c)?)?,
        None => values,
    };
    let value_loss = (&batch.returns - &values)?.sqr()?.mean_all()?;
    let entropy_loss = entropy.mean_all()?.neg()?;
    losses.add(&policy_loss, &value_loss, &entropy_loss)?;
    // Schulman's estimator of the KL, E[(ρ − 1) − log ρ], and the share of clipped ratios,
    // before this minibatch's step.
    let (lr, r) = (log_ratio.detach(), ratio.detach());
    let kl = ((r.clone() - 1.0)? - &lr)?.mean_all()?.to_scalar::<f32>()? as f64;
    let outside = (r - 1.0)?
        .abs()?
        .gt(clip)?
        .to_dtype(candle_core::DType::F32)?;
    losses.clip_fraction += outside.mean_all()?.to_scalar::<f32>()? as f64;
    losses.approx_kl += kl;
    if c.target_kl.is_some_and(|target| kl > 1.5 * target) {
        return Ok(false);
    }
    let loss = ((policy_loss + (entropy_loss * c.ent_coef)?)? + (value_loss * c.vf_coef)?)?;
    losses.loss += l.descend(&loss, "PPO loss")?;
    losses.steps += 1;
    Ok(true)
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
}
