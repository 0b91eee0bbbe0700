//! Watkins's Q(λ) (Watkins 1989; Sutton & Barto §12.10).

use serde::{Deserialize, Serialize};

use super::agent::Transition;
use super::control::{Control, ControlRule, TdControl};
use super::sarsa_lambda::{Eligibility, SarsaLambdaConfig};
use super::traces::SparseTraces;
use qlab_envs::EnvRng;

/// Hyperparameters of [`QLambda`]: the keys of [`SarsaLambdaConfig`], with the same defaults
/// and ranges (replacing traces by default).
///
/// ```toml
/// [agent]
/// algorithm = "q_lambda"
/// alpha = 0.5
/// lambda = 0.9
/// trace = "replacing"
/// ```
pub type QLambdaConfig = SarsaLambdaConfig;

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
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`](super::ActionValues)).
pub type QLambda = TdControl<QLambdaRule>;

impl QLambda {
    /// The eligibility traces, indexed as the weights.
    pub fn traces(&self) -> &SparseTraces {
        &self.rule().e.z
    }
}

/// Watkins's Q(λ) update, with its traces.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QLambdaRule {
    #[serde(flatten)]
    e: Eligibility,
}

impl ControlRule for QLambdaRule {
    type Config = QLambdaConfig;

    fn new(config: &QLambdaConfig, n_weights: usize) -> Self {
        Self {
            e: Eligibility::new(config, n_weights),
        }
    }

    fn begin_episode(&mut self) {
        self.e.z.clear();
    }

    #[inline]
    fn learn(&mut self, c: &mut Control, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        let mut delta = t.reward - c.pending();
        let mut decay = c.gamma * self.e.lambda;
        let next = if t.terminated {
            0
        } else {
            let next = c.q.sample(&c.policy, t.x, rng);
            let max = c.q.max(t.x);
            delta += c.gamma * max;
            if c.q.q(t.x, next) != max {
                decay = 0.0;
            }
            next
        };
        self.e.update(c, delta, decay);
        c.move_to(t.x, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::testing::value::Value;
    use crate::tabular::testing::*;
    use crate::tabular::{Schedule, TabularAgent};

    /// With one action every action is greedy: Q(λ) is TD(λ) on `Q(·, 0)`.
    #[test]
    fn one_action_is_td_lambda() {
        for trace in ["accumulating", "replacing", "dutch"] {
            let trace = [("trace", Value::Str(trace))];
            let td = lambda_config("td_lambda", &trace);
            assert_same_weights_on_episode(&td, &lambda_config("q_lambda", &trace), 1);
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
