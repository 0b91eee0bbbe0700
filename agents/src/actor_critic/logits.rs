//! [`PolicyLogits`]: a categorical policy as the attacks on observations see it.

use candle_core::{Module, Tensor};

use super::ActorCriticAgent;
use crate::adversarial::QFunction;
use crate::nn::{ActionKind, Mlp, policy_network};
use crate::normalize::RunningMeanStd;
use crate::{Error, Result};

/// An agent's categorical policy read as a [`QFunction`]: its logits at the raw observation,
/// normalized first as the agent reads it (`normalize`), differentiable with respect to that
/// observation and not to the weights (a frozen copy that shares them).
///
/// `softmax` of the logits is the policy, so the attacks' losses on `softmax(Q)` are losses
/// on the policy's action probabilities: the untargeted attack's cross-entropy against the
/// greedy action is `−log π(a*|x)`, the attack Huang et al. (2017) made on A3C and TRPO
/// policies, and the timed attack's preference gap `max π − min π` is the one Lin et al.
/// (2017) defined on policies.
pub struct PolicyLogits {
    pi: Mlp,
    norm: Option<RunningMeanStd>,
}

impl PolicyLogits {
    /// The policy of `agent`, which must choose among discrete actions.
    ///
    /// # Errors
    /// An agent with Box actions (the attacks push on action preferences).
    pub fn new(agent: &ActorCriticAgent) -> Result<PolicyLogits> {
        if let ActionKind::Continuous(d) = agent.kind {
            return Err(Error::config(
                "actions",
                format!("a Box of {d}"),
                "discrete actions (the attacks push on the policy's action preferences)",
            ));
        }
        let pi = policy_network(
            agent.obs_dim,
            agent.kind,
            agent.config.policy(),
            agent.params.frozen_var_builder(),
        )?;
        Ok(PolicyLogits {
            pi,
            norm: agent.norm.obs.clone(),
        })
    }
}

impl QFunction for PolicyLogits {
    fn q_values(&self, obs: &Tensor) -> candle_core::Result<Tensor> {
        match &self.norm {
            Some(n) => self.pi.forward(&n.normalize_tensor(obs)?),
            None => self.pi.forward(obs),
        }
    }
}
