//! Double Q-learning (van Hasselt 2010; Sutton & Barto §6.7).

use serde::{Deserialize, Serialize};

use super::agent::{TabularAgent, Transition, ValueFunction};
use super::policy::{self, Policy};
use super::q_learning::QLearningConfig;
use super::values::{ActionValues, check_len, copy_features};
use crate::Result;
use qlab_envs::EnvRng;

/// Hyperparameters of [`DoubleQLearning`]: the keys of [`QLearningConfig`], with the same
/// defaults and ranges.
///
/// ```toml
/// [agent]
/// algorithm = "double_q_learning"
/// alpha = 0.1
/// epsilon = { schedule = "linear", start = 1.0, end = 0.05, episodes = 500 }
/// ```
pub type DoubleQLearningConfig = QLearningConfig;

/// Double Q-learning: two action-value tables, each updated towards the other's value of
/// its own greedy action, which removes Q-learning's maximization bias (S&B §6.7):
/// with probability ½,
/// `Q₁(S, A) ← Q₁(S, A) + α [R + γ Q₂(S', argmax_a Q₁(S', a)) − Q₁(S, A)]`, else the same
/// with 1 and 2 swapped.
///
/// The behaviour policy ([`PolicyKind`](super::PolicyKind)) acts on `Q₁ + Q₂` (S&B's
/// pseudocode), after the update; ties in the argmax are broken at random.
/// [`TabularAgent::value`] and [`TabularAgent::greedy`] use the mean `(Q₁ + Q₂) / 2`. On a
/// truncated step the target bootstraps from `S'`; on a terminal one it is `R`.
///
/// Parameters: `Q₁` then `Q₂`, each as `w[i · n_actions + a]` (see [`ActionValues`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DoubleQLearning {
    // Flattened: a checkpoint keeps the keys `q1` and `q2`.
    #[serde(flatten)]
    q: TwoTables,
    policy: Policy,
    gamma: f64,
    x: Vec<usize>,
    a: usize,
}

/// `Q₁` and `Q₂`, read as their mean.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct TwoTables {
    q1: ActionValues,
    q2: ActionValues,
}

impl TwoTables {
    /// `(Q₁(x, a) + Q₂(x, a)) / 2`.
    #[inline]
    fn mean(&self, x: &[usize], a: usize) -> f64 {
        0.5 * (self.q1.q(x, a) + self.q2.q(x, a))
    }
}

impl ValueFunction for TwoTables {
    fn n_actions(&self) -> usize {
        self.q1.n_actions()
    }

    fn greedy(&self, x: &[usize], rng: &mut EnvRng) -> usize {
        policy::greedy(self.q1.n_actions(), |a| self.mean(x, a), rng)
    }

    fn value(&self, x: &[usize]) -> f64 {
        policy::max_value(self.q1.n_actions(), |a| self.mean(x, a))
    }

    fn parameters(&self) -> Vec<f64> {
        [self.q1.weights(), self.q2.weights()].concat()
    }

    fn load_parameters(&mut self, params: &[f64]) -> Result<()> {
        let (nf, na) = (self.q1.n_features(), self.q1.n_actions());
        check_len(params.len(), 2 * nf * na, || {
            format!("2 tables × {nf} features × {na} actions")
        })?;
        let (a, b) = params.split_at(nf * na);
        self.q1.load(a)?;
        self.q2.load(b)
    }
}

impl DoubleQLearning {
    /// A Double Q-learning agent over `n_features` binary features and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(
        config: &DoubleQLearningConfig,
        n_features: usize,
        n_actions: usize,
    ) -> Result<Self> {
        config.validate()?;
        let q = ActionValues::new(n_features, n_actions, config.initial_value, config.alpha)?;
        Ok(Self {
            q: TwoTables {
                q1: q.clone(),
                q2: q,
            },
            policy: Policy::new(config.policy, config.epsilon, config.temperature),
            gamma: config.gamma,
            x: Vec::new(),
            a: 0,
        })
    }

    /// The two action-value tables.
    pub fn values(&self) -> (&ActionValues, &ActionValues) {
        (&self.q.q1, &self.q.q2)
    }

    #[inline]
    fn act(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        let n = self.q.q1.n_actions();
        self.a = self.policy.sample(n, |a| self.q.mean(x, a), rng);
        copy_features(&mut self.x, x);
        self.a
    }
}

impl TabularAgent for DoubleQLearning {
    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.policy.begin_episode();
        self.act(x, rng)
    }

    fn learn(&mut self, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        let TwoTables { q1, q2 } = &mut self.q;
        let (learner, other) = if rng.next_f64() < 0.5 {
            (q1, &*q2)
        } else {
            (q2, &*q1)
        };
        let target = if t.terminated {
            t.reward
        } else {
            let best = learner.greedy(t.x, rng);
            t.reward + self.gamma * other.q(t.x, best)
        };
        let error = target - learner.q(&self.x, self.a);
        learner.update(&self.x, self.a, error);
        if t.terminated || t.truncated {
            return 0;
        }
        self.act(t.x, rng)
    }

    fn value_function(&self) -> &dyn ValueFunction {
        &self.q
    }

    fn value_function_mut(&mut self) -> &mut dyn ValueFunction {
        &mut self.q
    }

    fn epsilon(&self) -> f64 {
        self.policy.epsilon()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::testing::mean_sd;
    use crate::tabular::{QLearning, StepSize};

    /// S&B Example 6.7, with ten actions everywhere: from A, action 0 (left) leads to B and
    /// the nine others (right) end the episode with reward 0; in B each of the ten actions
    /// ends it with a reward drawn from N(−0.1, 1). Left is worse, but the maximum of B's
    /// noisy estimates is positive, which draws Q-learning to the left. Whether each
    /// episode went left.
    fn left_fraction(agent: &mut dyn TabularAgent, episodes: usize, seed: u64) -> Vec<bool> {
        let (a_state, b_state) = ([0usize], [1usize]);
        let mut rng = EnvRng::new(seed);
        (0..episodes)
            .map(|_| {
                let left = agent.start(&a_state, &mut rng) == 0;
                if left {
                    agent.step(0.0, &b_state, false, false, &mut rng);
                    // Box–Muller.
                    let (u, v) = (1.0 - rng.next_f64(), rng.next_f64());
                    let noise = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                    agent.step(-0.1 + noise, &[2], true, false, &mut rng);
                } else {
                    agent.step(0.0, &[2], true, false, &mut rng);
                }
                left
            })
            .collect()
    }

    /// ε = 0.1, α = 0.1, γ = 1 (S&B Figure 6.5): the best policy goes left only when
    /// exploring, ε / 10 = 1% of the time. Over episodes 81–100 of 1,000 runs, Q-learning went
    /// left 63.6% of the time and Double Q-learning 8.4% (qlab, release build).
    #[test]
    fn double_q_learning_removes_the_maximization_bias() {
        let runs = 300;
        let episodes = 100;
        let share = |double: bool| {
            let mut counts = vec![0.0; episodes];
            for seed in 0..runs {
                let mut agent: Box<dyn TabularAgent> = if double {
                    Box::new(
                        DoubleQLearning::new(
                            &DoubleQLearningConfig {
                                alpha: StepSize::Constant(0.1),
                                ..Default::default()
                            },
                            3,
                            10,
                        )
                        .unwrap(),
                    )
                } else {
                    Box::new(
                        QLearning::new(
                            &QLearningConfig {
                                alpha: StepSize::Constant(0.1),
                                ..Default::default()
                            },
                            3,
                            10,
                        )
                        .unwrap(),
                    )
                };
                for (c, left) in
                    counts
                        .iter_mut()
                        .zip(left_fraction(agent.as_mut(), episodes, seed))
                {
                    *c += left as u8 as f64 / runs as f64;
                }
            }
            counts
        };
        let (q, double) = (share(false), share(true));
        let (q_late, _) = mean_sd(&q[80..]);
        let (double_late, _) = mean_sd(&double[80..]);
        assert!(q_late > 0.5, "Q-learning went left {q_late}");
        assert!(
            double_late < 0.12,
            "Double Q-learning went left {double_late}"
        );
    }
}
