//! [`StateValues`]: the weights of a linear state-value function on binary features, shared by
//! the prediction agents.

use serde::{Deserialize, Serialize};

use super::agent::ValueFunction;
use super::policy::random_action;
use super::values::{check_len, check_sizes};
use crate::Result;
use qlab_envs::EnvRng;

/// `V(x) = Σ_{i ∈ x} w[i]`, one weight per feature, in an env with `n_actions` actions. The
/// policy evaluated is the uniformly random one, which is also its "greedy" policy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StateValues {
    w: Vec<f64>,
    n_actions: usize,
}

impl StateValues {
    /// `n_features` weights, each `initial_value`.
    ///
    /// # Errors
    /// If either size is 0.
    pub(crate) fn new(n_features: usize, n_actions: usize, initial_value: f64) -> Result<Self> {
        check_sizes(n_features, n_actions)?;
        Ok(Self {
            w: vec![initial_value; n_features],
            n_actions,
        })
    }

    /// `V(x)`.
    #[inline]
    pub(crate) fn v(&self, x: &[usize]) -> f64 {
        x.iter().map(|&i| self.w[i]).sum()
    }

    /// The weights.
    pub(crate) fn weights(&self) -> &[f64] {
        &self.w
    }

    /// The weights, mutably.
    #[inline]
    pub(crate) fn weights_mut(&mut self) -> &mut [f64] {
        &mut self.w
    }

    /// A uniformly random action: the policy evaluated.
    #[inline]
    pub(crate) fn random_action(&self, rng: &mut EnvRng) -> usize {
        random_action(self.n_actions, rng)
    }
}

impl ValueFunction for StateValues {
    fn n_actions(&self) -> usize {
        self.n_actions
    }

    fn greedy(&self, _x: &[usize], rng: &mut EnvRng) -> usize {
        self.random_action(rng)
    }

    fn value(&self, x: &[usize]) -> f64 {
        self.v(x)
    }

    fn parameters(&self) -> Vec<f64> {
        self.w.clone()
    }

    fn load_parameters(&mut self, params: &[f64]) -> Result<()> {
        check_len(params.len(), self.w.len(), || "one per feature".into())?;
        self.w.copy_from_slice(params);
        Ok(())
    }
}
