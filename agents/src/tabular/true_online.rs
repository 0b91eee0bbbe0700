//! True online TD(λ) and true online SARSA(λ) (van Seijen & Sutton 2014; van Seijen et al.
//! 2016; Sutton & Barto §12.5 and §12.7).
//!
//! Both use dutch traces and reproduce, step by step, the weights of the online λ-return
//! algorithm (S&B §12.4) at the cost of ordinary TD(λ).

use serde::{Deserialize, Serialize};

use super::agent::{TabularAgent, Transition, ValueFunction};
use super::checks::{check_policy, check_prediction, check_traces, defaults};
use super::control::{Control, ControlConfig, ControlRule, TdControl};
use super::policy::{Policy, PolicyKind};
use super::schedule::{Schedule, StepSize};
use super::state_values::StateValues;
use super::traces::{SparseTraces, TraceKind};
use super::values::ActionValues;
use super::values::copy_features;
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
        check_prediction(
            self.alpha,
            self.gamma,
            self.lambda,
            self.trace_cutoff,
            self.initial_value,
        )
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
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrueOnlineTdLambda {
    // Flattened: a checkpoint keeps the keys `w` and `n_actions`.
    #[serde(flatten)]
    values: StateValues,
    z: SparseTraces,
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
        Ok(Self {
            values: StateValues::new(n_features, n_actions, config.initial_value)?,
            z: SparseTraces::new(n_features, config.trace_cutoff),
            alpha: config.alpha,
            gamma: config.gamma,
            lambda: config.lambda,
            v_old: 0.0,
            x: Vec::new(),
        })
    }

    /// The weights: `V` of each tabular state.
    pub fn weights(&self) -> &[f64] {
        self.values.weights()
    }
}

impl TabularAgent for TrueOnlineTdLambda {
    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.z.clear();
        self.v_old = 0.0;
        copy_features(&mut self.x, x);
        self.values.random_action(rng)
    }

    fn learn(&mut self, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        let v = self.values.v(&self.x);
        let v_next = if t.terminated {
            0.0
        } else {
            self.values.v(t.x)
        };
        let delta = t.reward + self.gamma * v_next - v;
        let alpha = self.alpha / self.x.len() as f64;
        self.z.mark(&self.x, 1, 0, TraceKind::Dutch, alpha);
        let w = self.values.weights_mut();
        self.z.apply_and_decay(
            w,
            alpha * (delta + v - self.v_old),
            self.gamma * self.lambda,
        );
        let correction = alpha * (v - self.v_old);
        for &i in &self.x {
            w[i] -= correction;
        }
        self.v_old = v_next;
        if t.terminated || t.truncated {
            return 0;
        }
        copy_features(&mut self.x, t.x);
        self.values.random_action(rng)
    }

    fn value_function(&self) -> &dyn ValueFunction {
        &self.values
    }

    fn value_function_mut(&mut self) -> &mut dyn ValueFunction {
        &mut self.values
    }

    fn epsilon(&self) -> f64 {
        0.0
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
        check_traces(self.alpha, self.lambda, self.trace_cutoff)?;
        check_policy(
            self.gamma,
            &self.epsilon,
            &self.temperature,
            self.initial_value,
        )
    }
}

impl ControlConfig for TrueOnlineSarsaLambdaConfig {
    fn control(&self, n_features: usize, n_actions: usize) -> Result<Control> {
        self.validate()?;
        let alpha = StepSize::Constant(self.alpha);
        let q = ActionValues::new(n_features, n_actions, self.initial_value, alpha)?;
        let policy = Policy::new(self.policy, self.epsilon, self.temperature);
        Ok(Control::new(q, policy, self.gamma))
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
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`](super::ActionValues)).
pub type TrueOnlineSarsaLambda = TdControl<TrueOnlineSarsaLambdaRule>;

/// True online SARSA(λ)'s update, with its dutch traces and `Q_old`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrueOnlineSarsaLambdaRule {
    z: SparseTraces,
    alpha: f64,
    lambda: f64,
    q_old: f64,
}

impl ControlRule for TrueOnlineSarsaLambdaRule {
    type Config = TrueOnlineSarsaLambdaConfig;

    fn new(config: &TrueOnlineSarsaLambdaConfig, n_weights: usize) -> Self {
        Self {
            z: SparseTraces::new(n_weights, config.trace_cutoff),
            alpha: config.alpha,
            lambda: config.lambda,
            q_old: 0.0,
        }
    }

    fn begin_episode(&mut self) {
        self.z.clear();
        self.q_old = 0.0;
    }

    fn learn(&mut self, c: &mut Control, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        let q = c.pending();
        let (next, q_next) = if t.terminated {
            (0, 0.0)
        } else {
            let next = c.q.sample(&c.policy, t.x, rng);
            (next, c.q.q(t.x, next))
        };
        let delta = t.reward + c.gamma * q_next - q;
        let alpha = self.alpha / c.x.len() as f64;
        let n = c.q.n_actions();
        self.z.mark(&c.x, n, c.a, TraceKind::Dutch, alpha);
        let w = c.q.weights_mut();
        self.z
            .apply_and_decay(w, alpha * (delta + q - self.q_old), c.gamma * self.lambda);
        let correction = alpha * (q - self.q_old);
        for &i in &c.x {
            w[i * n + c.a] -= correction;
        }
        self.q_old = q_next;
        c.move_to(t.x, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::AgentConfig;
    use crate::tabular::td_lambda::tests::random_walk_rms;
    use crate::tabular::testing::value::Value;
    use crate::tabular::testing::*;

    /// The online λ-return algorithm (S&B §12.4; van Seijen et al. 2016, §3), by brute force:
    /// for each horizon `h`, redo the updates `w ← w + α [G^λ_{t:h} − wᵀx_t] x_t` for
    /// `t = 0 … h − 1` from the episode's initial weights, where the truncated λ-return
    /// `G^λ_{t:h} = (1 − λ) Σ_{n=1}^{h−t−1} λ^{n−1} G_{t:t+n} + λ^{h−t−1} G_{t:h}` bootstraps
    /// `G_{t:t+n}` with the weights `w_{t+n−1}` of horizon `t + n − 1`, and from 0 at the
    /// terminal state. Returns `w_h` for `h = 1 … T`.
    fn online_lambda_return(
        xs: &[Vec<usize>],
        rewards: &[f64],
        w0: &[f64],
        alpha: f64,
        gamma: f64,
        lambda: f64,
    ) -> Vec<Vec<f64>> {
        let big_t = rewards.len();
        let v = |w: &[f64], x: &[usize]| x.iter().map(|&i| w[i]).sum::<f64>();
        let mut diagonal = vec![w0.to_vec()];
        for h in 1..=big_t {
            // G_{t:t+n}, with n ≤ h − t.
            let n_step = |t: usize, n: usize| {
                let mut g = 0.0;
                for k in 1..=n {
                    g += gamma.powi(k as i32 - 1) * rewards[t + k - 1];
                }
                if t + n < big_t {
                    g += gamma.powi(n as i32) * v(&diagonal[t + n - 1], &xs[t + n]);
                }
                g
            };
            let mut w = w0.to_vec();
            for (t, x) in xs.iter().enumerate().take(h) {
                let mut g = 0.0;
                for n in 1..h - t {
                    g += (1.0 - lambda) * lambda.powi(n as i32 - 1) * n_step(t, n);
                }
                g += lambda.powi((h - t - 1) as i32) * n_step(t, h - t);
                let err = g - v(&w, x);
                let step = alpha / x.len() as f64;
                for &i in x {
                    w[i] += step * err;
                }
            }
            diagonal.push(w);
        }
        diagonal.split_off(1)
    }

    /// True online TD(λ) equals the online λ-return algorithm after every step of an
    /// episode on a small chain with two active features per state (one shared by
    /// neighbours), random rewards, γ = 0.9, λ = 0.7.
    #[test]
    fn true_online_td_lambda_equals_the_online_lambda_return_algorithm() {
        let (alpha, gamma, lambda) = (0.3, 0.9, 0.7);
        let mut rng = EnvRng::new(11);
        // States of a walk on 5 cells; cell c has features {c, 5 + c / 2}.
        let mut cells = vec![2usize];
        while cells.len() < 12 {
            let c = *cells.last().unwrap();
            cells.push(if rng.next_f64() < 0.5 {
                c.saturating_sub(1)
            } else {
                (c + 1).min(4)
            });
        }
        let xs: Vec<Vec<usize>> = cells.iter().map(|&c| vec![c, 5 + c / 2]).collect();
        let rewards: Vec<f64> = (1..xs.len()).map(|_| rng.next_f64() * 2.0 - 1.0).collect();
        let w0: Vec<f64> = (0..8).map(|i| 0.1 * i as f64 - 0.3).collect();
        let expected = online_lambda_return(&xs, &rewards, &w0, alpha, gamma, lambda);

        let config = TrueOnlineTdLambdaConfig {
            alpha,
            gamma,
            lambda,
            trace_cutoff: 0.0,
            ..Default::default()
        };
        let mut agent = TrueOnlineTdLambda::new(&config, 8, 1).unwrap();
        agent.load_parameters(&w0).unwrap();
        agent.start(&xs[0], &mut rng);
        for (h, want) in expected.iter().enumerate() {
            let terminal = h + 1 == rewards.len();
            agent.step(rewards[h], &xs[h + 1], terminal, false, &mut rng);
            for (got, want) in agent.weights().iter().zip(want) {
                assert!(
                    (got - want).abs() < 1e-12,
                    "h = {}: {:?} vs {want:?}",
                    h + 1,
                    agent.weights()
                );
            }
        }
    }

    /// S&B Figure 12.8: true online TD(λ) on the 19-state random walk does a little better
    /// than TD(λ). Reference: `tools/tabular_references.py walk_precise`: at λ = 0.8 the best
    /// α among 0.35, 0.4, 0.45 is 0.4, RMS 0.2566 over 1,000 runs (sd over runs 0.0571).
    /// qlab measured 0.2549 over 1,000 runs, best α 0.4.
    #[test]
    fn random_walk_rms_error_matches_the_reference() {
        let runs = 200;
        let best = [0.35, 0.4, 0.45]
            .iter()
            .map(|&alpha| {
                let config = AgentConfig::TrueOnlineTdLambda(TrueOnlineTdLambdaConfig {
                    alpha,
                    lambda: 0.8,
                    ..Default::default()
                });
                mean_sd(&random_walk_rms(&config, runs)).0
            })
            .fold(f64::MAX, f64::min);
        assert_close_to_reference(
            "true online TD(0.8)",
            best,
            runs as usize,
            0.2566,
            1000,
            0.0571,
        );
    }

    /// With one action, true online SARSA(λ) is true online TD(λ) on `Q(·, 0)`, and with
    /// λ = 0 both are TD(0) (the dutch trace is then just `x`).
    #[test]
    fn true_online_sarsa_with_one_action_is_true_online_td() {
        let gamma = [("gamma", Value::Float(0.9))];
        let online = lambda_config("true_online_td_lambda", &gamma);
        let sarsa = lambda_config("true_online_sarsa_lambda", &gamma);
        assert_same_weights_on_episode(&online, &sarsa, 3);
        let zero = [("gamma", Value::Float(0.9)), ("lambda", Value::Float(0.0))];
        let mut td0 = lambda_config("td_lambda", &zero).build(3, 1).unwrap();
        let mut online0 = lambda_config("true_online_td_lambda", &zero)
            .build(3, 1)
            .unwrap();
        for _ in 0..3 {
            feed(td0.as_mut(), 0, &EPISODE);
            feed(online0.as_mut(), 0, &EPISODE);
        }
        for (a, b) in td0.parameters().iter().zip(online0.parameters()) {
            assert!((a - b).abs() < 1e-15);
        }
    }
}
