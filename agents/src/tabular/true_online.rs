//! True online TD(λ) and true online SARSA(λ) (van Seijen & Sutton 2014; van Seijen et al.
//! 2016; Sutton & Barto §12.5 and §12.7).
//!
//! Both use dutch traces and reproduce, step by step, the weights of the online λ-return
//! algorithm (S&B §12.4) at the cost of ordinary TD(λ).

use serde::{Deserialize, Serialize};

use super::Agent;
use super::config::{
    check_alpha, check_cutoff, check_initial_value, check_policy, check_unit, defaults,
};
use super::policy::{Policy, PolicyKind};
use super::schedule::{Schedule, StepSize};
use super::td_lambda::random_action;
use super::traces::{SparseTraces, TraceKind};
use super::values::{ActionValues, check_len, check_sizes, copy_features};
use crate::Result;
use qlab_envs::EnvRng;

/// Hyperparameters of [`TrueOnlineTdLambda`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `alpha` | `0.1` | `(0, 1]` | step size (divided by the number of active features) |
/// | `gamma` | `1.0` | `[0, 1]` | discount |
/// | `lambda` | `0.9` | `[0, 1]` | trace decay λ |
/// | `trace_cutoff` | `1e-4` | `[0, 1)` | traces at or below this are dropped ([`SparseTraces`]; `0` is exact) |
/// | `initial_value` | `0.0` | finite | every weight's initial value |
///
/// The traces are dutch by definition; there is no `trace` key.
///
/// ```toml
/// [agent]
/// algorithm = "true_online_td_lambda"
/// alpha = 0.1
/// lambda = 0.9
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrueOnlineTdLambdaConfig {
    /// Step size α. Default `0.1`; `(0, 1]`.
    pub alpha: f64,
    /// Discount factor γ. Default `1.0`; `[0, 1]`.
    pub gamma: f64,
    /// Trace decay λ. Default `0.9`; `[0, 1]`.
    pub lambda: f64,
    /// Traces of magnitude at or below this are dropped. Default `1e-4`; `[0, 1)`.
    pub trace_cutoff: f64,
    /// Initial value of every weight. Default `0.0`; finite.
    pub initial_value: f64,
}

impl Default for TrueOnlineTdLambdaConfig {
    fn default() -> Self {
        Self {
            alpha: defaults::ALPHA,
            gamma: defaults::GAMMA,
            lambda: defaults::LAMBDA,
            trace_cutoff: defaults::TRACE_CUTOFF,
            initial_value: 0.0,
        }
    }
}

impl TrueOnlineTdLambdaConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        check_alpha(self.alpha)?;
        check_unit("gamma", self.gamma)?;
        check_unit("lambda", self.lambda)?;
        check_cutoff(self.trace_cutoff)?;
        check_initial_value(self.initial_value)
    }
}

/// True online TD(λ): evaluates the uniformly random policy with state values
/// `V(x) = wᵀx` (S&B §12.5):
///
/// ```text
/// δ = R + γ V(S') − V(S)                  (V(S') = 0 when S' is terminal)
/// z ← γλ z + (1 − α γλ zᵀx) x             (dutch trace)
/// w ← w + α (δ + V(S) − V_old) z − α (V(S) − V_old) x
/// V_old ← V(S')
/// ```
///
/// with `V_old = 0` and `z = 0` at the start of each episode, and `V(S)`, `V(S')` computed
/// with the weights before the update. With `trace_cutoff = 0` the weights after each step
/// equal those of the online λ-return algorithm with the same α (tested). A prediction
/// agent, like [`TdLambda`](super::TdLambda): its actions are uniformly random.
///
/// Parameters: `w`, one weight per feature.
#[derive(Clone, Debug)]
pub struct TrueOnlineTdLambda {
    w: Vec<f64>,
    z: SparseTraces,
    n_actions: usize,
    alpha: f64,
    gamma: f64,
    lambda: f64,
    v_old: f64,
    x: Vec<usize>,
}

impl TrueOnlineTdLambda {
    /// A true online TD(λ) agent over `n_features` binary features, in an env with
    /// `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(
        config: &TrueOnlineTdLambdaConfig,
        n_features: usize,
        n_actions: usize,
    ) -> Result<Self> {
        config.validate()?;
        check_sizes(n_features, n_actions)?;
        Ok(Self {
            w: vec![config.initial_value; n_features],
            z: SparseTraces::new(n_features, config.trace_cutoff),
            n_actions,
            alpha: config.alpha,
            gamma: config.gamma,
            lambda: config.lambda,
            v_old: 0.0,
            x: Vec::new(),
        })
    }

    /// The weights: `V` of each tabular state.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    #[inline]
    fn v(&self, x: &[usize]) -> f64 {
        x.iter().map(|&i| self.w[i]).sum()
    }
}

impl Agent for TrueOnlineTdLambda {
    fn n_actions(&self) -> usize {
        self.n_actions
    }

    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.z.clear();
        self.v_old = 0.0;
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
        let v = self.v(&self.x);
        let v_next = if terminated { 0.0 } else { self.v(x) };
        let delta = reward + self.gamma * v_next - v;
        let alpha = self.alpha / self.x.len() as f64;
        self.z.mark(&self.x, 1, 0, TraceKind::Dutch, alpha);
        self.z.apply_and_decay(
            &mut self.w,
            alpha * (delta + v - self.v_old),
            self.gamma * self.lambda,
        );
        let correction = alpha * (v - self.v_old);
        for &i in &self.x {
            self.w[i] -= correction;
        }
        self.v_old = v_next;
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

/// Hyperparameters of [`TrueOnlineSarsaLambda`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `alpha` | `0.1` | `(0, 1]` | step size (divided by the number of active features) |
/// | `gamma` | `1.0` | `[0, 1]` | discount |
/// | `lambda` | `0.9` | `[0, 1]` | trace decay λ |
/// | `trace_cutoff` | `1e-4` | `[0, 1)` | traces at or below this are dropped ([`SparseTraces`]; `0` is exact) |
/// | `policy` | `"epsilon_greedy"` | [`PolicyKind`] | behaviour policy |
/// | `epsilon` | `0.1` | `[0, 1]`, a [`Schedule`] | ε of the ε-greedy policy |
/// | `temperature` | `1.0` | `> 0`, a [`Schedule`] | temperature of the softmax policy |
/// | `initial_value` | `0.0` | finite | every weight's initial value |
///
/// The traces are dutch by definition; there is no `trace` key.
///
/// ```toml
/// [agent]
/// algorithm = "true_online_sarsa_lambda"
/// alpha = 0.5
/// lambda = 0.9
/// epsilon = 0.1
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrueOnlineSarsaLambdaConfig {
    /// Step size α. Default `0.1`; `(0, 1]`.
    pub alpha: f64,
    /// Discount factor γ. Default `1.0`; `[0, 1]`.
    pub gamma: f64,
    /// Trace decay λ. Default `0.9`; `[0, 1]`.
    pub lambda: f64,
    /// Traces of magnitude at or below this are dropped. Default `1e-4`; `[0, 1)`.
    pub trace_cutoff: f64,
    /// Behaviour policy. Default ε-greedy.
    pub policy: PolicyKind,
    /// ε of the ε-greedy policy, by episode. Default `0.1`; values in `[0, 1]`.
    pub epsilon: Schedule,
    /// Temperature of the softmax policy, by episode. Default `1.0`; values `> 0`.
    pub temperature: Schedule,
    /// Initial value of every weight. Default `0.0`; finite.
    pub initial_value: f64,
}

impl Default for TrueOnlineSarsaLambdaConfig {
    fn default() -> Self {
        Self {
            alpha: defaults::ALPHA,
            gamma: defaults::GAMMA,
            lambda: defaults::LAMBDA,
            trace_cutoff: defaults::TRACE_CUTOFF,
            policy: PolicyKind::EpsilonGreedy,
            epsilon: Schedule::Constant(defaults::EPSILON),
            temperature: Schedule::Constant(defaults::TEMPERATURE),
            initial_value: 0.0,
        }
    }
}

impl TrueOnlineSarsaLambdaConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        check_alpha(self.alpha)?;
        check_unit("lambda", self.lambda)?;
        check_cutoff(self.trace_cutoff)?;
        check_policy(
            self.gamma,
            &self.epsilon,
            &self.temperature,
            self.initial_value,
        )
    }
}

/// True online SARSA(λ): the control version of [`TrueOnlineTdLambda`], on the features of
/// state-action pairs (S&B §12.7):
///
/// ```text
/// A' ~ π(S'),  Q = Q(S, A),  Q' = Q(S', A')     (Q' = 0 when S' is terminal)
/// δ = R + γ Q' − Q
/// z ← γλ z + (1 − α γλ zᵀx) x                   (x: the features of (S, A))
/// w ← w + α (δ + Q − Q_old) z − α (Q − Q_old) x
/// Q_old ← Q'
/// ```
///
/// with `Q_old = 0` and `z = 0` at the start of each episode. `A'` is drawn before the
/// update. After a truncated step the target bootstraps from `(S', A')`.
///
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`]).
#[derive(Clone, Debug)]
pub struct TrueOnlineSarsaLambda {
    q: ActionValues,
    z: SparseTraces,
    policy: Policy,
    alpha: f64,
    gamma: f64,
    lambda: f64,
    q_old: f64,
    x: Vec<usize>,
    a: usize,
}

impl TrueOnlineSarsaLambda {
    /// A true online SARSA(λ) agent over `n_features` binary features and `n_actions`
    /// actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(
        config: &TrueOnlineSarsaLambdaConfig,
        n_features: usize,
        n_actions: usize,
    ) -> Result<Self> {
        config.validate()?;
        let q = ActionValues::new(
            n_features,
            n_actions,
            config.initial_value,
            StepSize::Constant(config.alpha),
        )?;
        Ok(Self {
            z: SparseTraces::new(n_features * n_actions, config.trace_cutoff),
            q,
            policy: Policy::new(config.policy, config.epsilon, config.temperature),
            alpha: config.alpha,
            gamma: config.gamma,
            lambda: config.lambda,
            q_old: 0.0,
            x: Vec::new(),
            a: 0,
        })
    }

    /// The action values.
    pub fn values(&self) -> &ActionValues {
        &self.q
    }
}

impl Agent for TrueOnlineSarsaLambda {
    fn n_actions(&self) -> usize {
        self.q.n_actions()
    }

    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.policy.begin_episode();
        self.z.clear();
        self.q_old = 0.0;
        self.a = self.q.sample(&self.policy, x, rng);
        copy_features(&mut self.x, x);
        self.a
    }

    fn step(
        &mut self,
        reward: f64,
        x: &[usize],
        terminated: bool,
        _truncated: bool,
        rng: &mut EnvRng,
    ) -> usize {
        let q = self.q.q(&self.x, self.a);
        let (next, q_next) = if terminated {
            (0, 0.0)
        } else {
            let next = self.q.sample(&self.policy, x, rng);
            (next, self.q.q(x, next))
        };
        let delta = reward + self.gamma * q_next - q;
        let alpha = self.alpha / self.x.len() as f64;
        let n = self.q.n_actions();
        self.z.mark(&self.x, n, self.a, TraceKind::Dutch, alpha);
        let w = self.q.weights_mut();
        self.z.apply_and_decay(
            w,
            alpha * (delta + q - self.q_old),
            self.gamma * self.lambda,
        );
        let correction = alpha * (q - self.q_old);
        for &i in &self.x {
            w[i * n + self.a] -= correction;
        }
        self.q_old = q_next;
        copy_features(&mut self.x, x);
        self.a = next;
        next
    }

    fn greedy(&self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.q.greedy(x, rng)
    }

    fn value(&self, x: &[usize]) -> f64 {
        self.q.max(x)
    }

    fn epsilon(&self) -> f64 {
        self.policy.epsilon()
    }

    fn parameters(&self) -> Vec<f64> {
        self.q.weights().to_vec()
    }

    fn load_parameters(&mut self, params: &[f64]) -> Result<()> {
        self.q.load(params)
    }
}
