//! Watkins's Q(λ) (Watkins 1989; Sutton & Barto §12.10).

use serde::{Deserialize, Serialize};

use super::TabularAgent;
use super::checks::{check_alpha, check_cutoff, check_policy, check_unit, defaults};
use super::policy::{Policy, PolicyKind};
use super::schedule::{Schedule, StepSize};
use super::traces::{SparseTraces, TraceKind};
use super::values::{ActionValues, copy_features};
use crate::Result;
use qlab_envs::EnvRng;

/// Hyperparameters of [`QLambda`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `alpha` | `0.1` | `(0, 1]` | step size (divided by the number of active features) |
/// | `gamma` | `1.0` | `[0, 1]` | discount |
/// | `lambda` | `0.9` | `[0, 1]` | trace decay λ |
/// | `trace` | `"replacing"` | [`TraceKind`] | how traces grow |
/// | `trace_cutoff` | `1e-4` | `[0, 1)` | traces at or below this are dropped ([`SparseTraces`]) |
/// | `policy` | `"epsilon_greedy"` | [`PolicyKind`] | behaviour policy |
/// | `epsilon` | `0.1` | `[0, 1]`, a [`Schedule`] | ε of the ε-greedy policy |
/// | `temperature` | `1.0` | `> 0`, a [`Schedule`] | temperature of the softmax policy |
/// | `initial_value` | `0.0` | finite | every weight's initial value |
///
/// Replacing traces are the default, as for [`SarsaLambda`](super::SarsaLambda).
///
/// ```toml
/// [agent]
/// algorithm = "q_lambda"
/// alpha = 0.5
/// lambda = 0.9
/// trace = "replacing"
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QLambdaConfig {
    /// Step size α. Default `0.1`; `(0, 1]`.
    pub alpha: f64,
    /// Discount factor γ. Default `1.0`; `[0, 1]`.
    pub gamma: f64,
    /// Trace decay λ. Default `0.9`; `[0, 1]`.
    pub lambda: f64,
    /// Trace kind. Default replacing.
    pub trace: TraceKind,
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

impl Default for QLambdaConfig {
    fn default() -> Self {
        Self {
            alpha: defaults::ALPHA,
            gamma: defaults::GAMMA,
            lambda: defaults::LAMBDA,
            trace: TraceKind::Replacing,
            trace_cutoff: defaults::TRACE_CUTOFF,
            policy: PolicyKind::EpsilonGreedy,
            epsilon: Schedule::Constant(defaults::EPSILON),
            temperature: Schedule::Constant(defaults::TEMPERATURE),
            initial_value: 0.0,
        }
    }
}

impl QLambdaConfig {
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

/// Watkins's Q(λ): Q-learning with eligibility traces that are cut whenever the behaviour
/// policy takes an exploratory (non-greedy) action (S&B §12.10):
///
/// ```text
/// δ = R + γ max_a Q(S', a) − Q(S, A)   (R alone when S' is terminal)
/// z ← z + ∇Q(S, A)                     (accumulating; replacing and dutch: see TraceKind)
/// w ← w + α δ z
/// z ← γλ z if Q(S', A') = max_a Q(S', a), else z ← 0
/// ```
///
/// `A'` is drawn before the update (S&B's first edition, Figure 7.14); it counts as greedy
/// when it ties for the maximum. Traces are sparse ([`SparseTraces`]) and cleared at the
/// start of each episode. After a truncated step the target bootstraps from `S'`.
///
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QLambda {
    q: ActionValues,
    z: SparseTraces,
    policy: Policy,
    alpha: f64,
    gamma: f64,
    lambda: f64,
    trace: TraceKind,
    x: Vec<usize>,
    a: usize,
}

impl QLambda {
    /// A Watkins's Q(λ) agent over `n_features` binary features and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(config: &QLambdaConfig, n_features: usize, n_actions: usize) -> Result<Self> {
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
            trace: config.trace,
            x: Vec::new(),
            a: 0,
        })
    }

    /// The action values.
    pub fn values(&self) -> &ActionValues {
        &self.q
    }

    /// The eligibility traces, indexed as the weights.
    pub fn traces(&self) -> &SparseTraces {
        &self.z
    }
}

impl TabularAgent for QLambda {
    fn save_state(&self) -> Result<String> {
        super::save_state(self)
    }

    fn load_state(&mut self, state: &str) -> Result<()> {
        super::load_state(self, state)
    }

    fn n_actions(&self) -> usize {
        self.q.n_actions()
    }

    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.policy.begin_episode();
        self.z.clear();
        self.a = self.q.sample(&self.policy, x, rng);
        copy_features(&mut self.x, x);
        self.a
    }

    #[inline]
    fn step(
        &mut self,
        reward: f64,
        x: &[usize],
        terminated: bool,
        _truncated: bool,
        rng: &mut EnvRng,
    ) -> usize {
        let mut delta = reward - self.q.q(&self.x, self.a);
        let mut decay = self.gamma * self.lambda;
        let next = if terminated {
            0
        } else {
            let next = self.q.sample(&self.policy, x, rng);
            let max = self.q.max(x);
            delta += self.gamma * max;
            if self.q.q(x, next) != max {
                decay = 0.0;
            }
            next
        };
        let alpha = self.alpha / self.x.len() as f64;
        let n = self.q.n_actions();
        self.z.mark(&self.x, n, self.a, self.trace, alpha);
        self.z
            .apply_and_decay(self.q.weights_mut(), alpha * delta, decay);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::td_lambda::tests::{EPISODE, feed};
    use crate::tabular::testing::*;
    use crate::tabular::{TdLambda, TdLambdaConfig};

    /// With one action every action is greedy: Q(λ) is TD(λ) on `Q(·, 0)`.
    #[test]
    fn one_action_is_td_lambda() {
        for trace in [
            TraceKind::Accumulating,
            TraceKind::Replacing,
            TraceKind::Dutch,
        ] {
            let (alpha, lambda, trace_cutoff) = (0.5, 0.5, 0.0);
            let mut td = TdLambda::new(
                &TdLambdaConfig {
                    alpha,
                    lambda,
                    trace,
                    trace_cutoff,
                    ..Default::default()
                },
                3,
                1,
            )
            .unwrap();
            let mut q = QLambda::new(
                &QLambdaConfig {
                    alpha,
                    lambda,
                    trace,
                    trace_cutoff,
                    ..Default::default()
                },
                3,
                1,
            )
            .unwrap();
            feed(&mut td, 0, &EPISODE);
            feed(&mut q, 0, &EPISODE);
            assert_eq!(td.parameters(), q.parameters(), "{trace:?}");
        }
    }

    /// Watkins's cut: after every step whose next action is exploratory (not greedy in the
    /// values it was chosen from) the traces are empty; after a greedy one they are not.
    #[test]
    fn traces_are_cut_after_exploratory_actions() {
        let config = QLambdaConfig {
            alpha: 0.5,
            epsilon: Schedule::Constant(0.5),
            ..Default::default()
        };
        let mut env = discrete("CliffWalking-v1", false);
        let mut agent = QLambda::new(&config, 48, 4).unwrap();
        let mut rng = EnvRng::new(2);
        learn(&mut env, &mut agent, 20, 2);
        let (mut cut, mut kept) = (0, 0);
        let mut x = env.reset(Some(5)).obs;
        let mut a = agent.start(&[x], &mut rng);
        for _ in 0..2000 {
            let step = env.step(a).unwrap();
            // Whether `next` will be greedy is judged on the values before this update.
            let before = agent.clone();
            let next = agent.step(step.reward, &[step.obs], step.terminated, false, &mut rng);
            if step.terminated {
                x = env.reset(None).obs;
                a = agent.start(&[x], &mut rng);
                continue;
            }
            let greedy = before.values().q(&[step.obs], next) == before.values().max(&[step.obs]);
            if greedy {
                kept += 1;
                assert!(!agent.traces().is_empty());
            } else {
                cut += 1;
                assert!(agent.traces().is_empty());
            }
            x = step.obs;
            a = next;
        }
        assert!(cut > 100 && kept > 100, "{cut} cut, {kept} kept");
        let _ = x;
    }
}
