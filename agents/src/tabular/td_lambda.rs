//! TD(λ) prediction with eligibility traces (Sutton 1988; Sutton & Barto §12.2).

use serde::{Deserialize, Serialize};

use super::Agent;
use super::config::{check_alpha, check_cutoff, check_initial_value, check_unit, defaults};
use super::traces::{SparseTraces, TraceKind};
use super::values::{check_len, check_sizes, copy_features};
use crate::Result;
use qlab_envs::EnvRng;

/// Hyperparameters of [`TdLambda`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `alpha` | `0.1` | `(0, 1]` | step size (divided by the number of active features) |
/// | `gamma` | `1.0` | `[0, 1]` | discount |
/// | `lambda` | `0.9` | `[0, 1]` | trace decay λ |
/// | `trace` | `"accumulating"` | [`TraceKind`] | how traces grow |
/// | `trace_cutoff` | `1e-4` | `[0, 1)` | traces at or below this are dropped ([`SparseTraces`]) |
/// | `initial_value` | `0.0` | finite | every weight's initial value (`V` of a tabular state) |
///
/// ```toml
/// [agent]
/// algorithm = "td_lambda"
/// alpha = 0.2
/// lambda = 0.8
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TdLambdaConfig {
    /// Step size α. Default `0.1`; `(0, 1]`.
    pub alpha: f64,
    /// Discount factor γ. Default `1.0`; `[0, 1]`.
    pub gamma: f64,
    /// Trace decay λ. Default `0.9`; `[0, 1]`.
    pub lambda: f64,
    /// Trace kind. Default accumulating.
    pub trace: TraceKind,
    /// Traces of magnitude at or below this are dropped. Default `1e-4`; `[0, 1)`.
    pub trace_cutoff: f64,
    /// Initial value of every weight. Default `0.0`; finite.
    pub initial_value: f64,
}

impl Default for TdLambdaConfig {
    fn default() -> Self {
        Self {
            alpha: defaults::ALPHA,
            gamma: defaults::GAMMA,
            lambda: defaults::LAMBDA,
            trace: TraceKind::Accumulating,
            trace_cutoff: defaults::TRACE_CUTOFF,
            initial_value: 0.0,
        }
    }
}

impl TdLambdaConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        check_alpha(self.alpha)?;
        check_unit("gamma", self.gamma)?;
        check_unit("lambda", self.lambda)?;
        check_cutoff(self.trace_cutoff)?;
        check_initial_value(self.initial_value)
    }
}

/// A uniformly random action, without drawing a number when there is one action.
#[inline]
pub(crate) fn random_action(n_actions: usize, rng: &mut EnvRng) -> usize {
    if n_actions > 1 {
        rng.below(n_actions)
    } else {
        0
    }
}

/// Semi-gradient TD(λ): evaluates the uniformly random policy with the state values
/// `V(x) = Σ_{i ∈ x} w_i` (S&B §12.2):
/// `δ = R + γ V(S') − V(S)`, `z ← γλ z + ∇V(S)` (or another [`TraceKind`]), `w ← w + α δ z`.
///
/// It is a prediction agent: [`Agent::step`] and [`Agent::greedy`] return uniformly random
/// actions (the policy evaluated), [`Agent::epsilon`] is 0 and [`Agent::value`] is `V(x)`.
/// After a truncated step `V(S')` is bootstrapped; after termination it is 0. Traces are
/// cleared at the start of each episode.
///
/// Parameters: `w`, one weight per feature.
#[derive(Clone, Debug)]
pub struct TdLambda {
    w: Vec<f64>,
    z: SparseTraces,
    n_actions: usize,
    alpha: f64,
    gamma: f64,
    lambda: f64,
    trace: TraceKind,
    x: Vec<usize>,
}

impl TdLambda {
    /// A TD(λ) agent over `n_features` binary features, in an env with `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(config: &TdLambdaConfig, n_features: usize, n_actions: usize) -> Result<Self> {
        config.validate()?;
        check_sizes(n_features, n_actions)?;
        Ok(Self {
            w: vec![config.initial_value; n_features],
            z: SparseTraces::new(n_features, config.trace_cutoff),
            n_actions,
            alpha: config.alpha,
            gamma: config.gamma,
            lambda: config.lambda,
            trace: config.trace,
            x: Vec::new(),
        })
    }

    /// The weights: `V` of each tabular state.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    /// The eligibility traces.
    pub fn traces(&self) -> &SparseTraces {
        &self.z
    }

    #[inline]
    fn v(&self, x: &[usize]) -> f64 {
        x.iter().map(|&i| self.w[i]).sum()
    }
}

impl Agent for TdLambda {
    fn n_actions(&self) -> usize {
        self.n_actions
    }

    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.z.clear();
        copy_features(&mut self.x, x);
        random_action(self.n_actions, rng)
    }

    fn step(
        &mut self,
        reward: f64,
        x: &[usize],
        terminated: bool,
        truncated: bool,
        rng: &mut EnvRng,
    ) -> usize {
        let next = if terminated { 0.0 } else { self.v(x) };
        let delta = reward + self.gamma * next - self.v(&self.x);
        let alpha = self.alpha / self.x.len() as f64;
        self.z.mark(&self.x, 1, 0, self.trace, alpha);
        self.z
            .apply_and_decay(&mut self.w, alpha * delta, self.gamma * self.lambda);
        if terminated || truncated {
            return 0;
        }
        copy_features(&mut self.x, x);
        random_action(self.n_actions, rng)
    }

    fn greedy(&self, _x: &[usize], rng: &mut EnvRng) -> usize {
        random_action(self.n_actions, rng)
    }

    fn value(&self, x: &[usize]) -> f64 {
        self.v(x)
    }

    fn epsilon(&self) -> f64 {
        0.0
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
