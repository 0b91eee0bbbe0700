//! Q-learning (Watkins 1989; Sutton & Barto §6.5).

use serde::{Deserialize, Serialize};

use super::agent::Transition;
use super::checks::{check_control, defaults};
use super::control::{Control, ControlConfig, OneStepRule, TdControl};
use super::policy::{Policy, PolicyKind};
use super::schedule::{Schedule, StepSize};
use super::values::ActionValues;
use crate::Result;
use qlab_envs::EnvRng;

/// Hyperparameters of [`QLearning`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `alpha` | `0.1` | `(0, 1]` or `"1/n"` | step size ([`StepSize`]; divided by the number of active features) |
/// | `gamma` | `1.0` | `[0, 1]` | discount |
/// | `policy` | `"epsilon_greedy"` | [`PolicyKind`] | behaviour policy |
/// | `epsilon` | `0.1` | `[0, 1]`, a [`Schedule`] | ε of the ε-greedy policy |
/// | `temperature` | `1.0` | `> 0`, a [`Schedule`] | temperature of the softmax policy |
/// | `initial_value` | `0.0` | finite | every weight's initial value (`Q` of a tabular state) |
///
/// ```toml
/// [agent]
/// algorithm = "q_learning"
/// alpha = 0.5
/// epsilon = 0.1
/// gamma = 1.0
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QLearningConfig {
    /// Step size. Default `0.1`; `(0, 1]` or `"1/n"`.
    pub alpha: StepSize,
    /// Discount factor γ. Default `1.0`; `[0, 1]`.
    pub gamma: f64,
    /// Behaviour policy. Default ε-greedy.
    pub policy: PolicyKind,
    /// ε of the ε-greedy policy, by episode. Default `0.1`; values in `[0, 1]`.
    pub epsilon: Schedule,
    /// Temperature of the softmax policy, by episode. Default `1.0`; values `> 0`.
    pub temperature: Schedule,
    /// Initial value of every weight. Default `0.0`; finite.
    pub initial_value: f64,
}

impl Default for QLearningConfig {
    fn default() -> Self {
        Self {
            alpha: StepSize::Constant(defaults::ALPHA),
            gamma: defaults::GAMMA,
            policy: PolicyKind::EpsilonGreedy,
            epsilon: Schedule::Constant(defaults::EPSILON),
            temperature: Schedule::Constant(defaults::TEMPERATURE),
            initial_value: 0.0,
        }
    }
}

impl QLearningConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        check_control(
            self.alpha,
            self.gamma,
            &self.epsilon,
            &self.temperature,
            self.initial_value,
        )
    }
}

impl ControlConfig for QLearningConfig {
    fn control(&self, n_features: usize, n_actions: usize) -> Result<Control> {
        self.validate()?;
        let q = ActionValues::new(n_features, n_actions, self.initial_value, self.alpha)?;
        let policy = Policy::new(self.policy, self.epsilon, self.temperature);
        Ok(Control::new(q, policy, self.gamma))
    }
}

/// Q-learning: off-policy TD control,
/// `Q(S, A) ← Q(S, A) + α [R + γ max_a Q(S', a) − Q(S, A)]` (S&B §6.5).
///
/// The behaviour policy ([`PolicyKind`]) chooses each action from the values after the
/// update, as in S&B's pseudocode; the target is the greedy policy. On a truncated step the
/// target bootstraps from `S'`; on a terminal one it is `R`.
///
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`](super::ActionValues)).
pub type QLearning = TdControl<QLearningRule>;

/// Q-learning's update: the target bootstraps from the greedy value of `S'`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QLearningRule {}

impl OneStepRule for QLearningRule {
    type Config = QLearningConfig;

    /// `Q(S, A)` towards `R + γ max_a Q(S', a)`, then `A'`.
    #[inline(always)]
    fn learn(c: &mut Control, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        c.learn_then_act(t, rng, |q, _| q.max(t.x))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tabular::testing::*;
    use crate::tabular::{AgentConfig, evaluate_greedy};

    pub(crate) fn cliff_config() -> AgentConfig {
        AgentConfig::QLearning(QLearningConfig {
            alpha: StepSize::Constant(0.5),
            epsilon: Schedule::Constant(0.1),
            gamma: 1.0,
            ..Default::default()
        })
    }

    /// S&B Figure 6.4: ε = 0.1, α = 0.5, γ = 1, 500 episodes; the mean return of episodes
    /// 401–500 (the figure shows about −50). Reference: `tools/tabular_references.py cliff`,
    /// 200 seeds: −49.950, seed-to-seed sd 7.323. qlab measured −50.99 over 50 seeds.
    #[test]
    fn cliff_walking_return_matches_the_reference() {
        let seeds = 50;
        let (mean, _) = mean_sd(&cliff_tails(&cliff_config(), seeds));
        assert_close_to_reference("Q-learning", mean, seeds as usize, -49.950, 200, 7.323);
    }

    /// Slippery FrozenLake-v1 (100-step limit): the best success probability of any policy is
    /// 0.7442, of a stationary one 0.7402 (`tools/tabular_references.py lake`). With γ = 0.99,
    /// α = 0.05 and ε going linearly from 1 to 0.01 over 10,000 of 20,000 episodes, the greedy
    /// policies of all 20 seeds tried are that best stationary policy (exact success 0.7402,
    /// from the model); over 1,000 evaluation episodes they succeed 0.698–0.772. With γ = 1
    /// the greedy policy stalls (staying put costs nothing) and never succeeds in time.
    #[test]
    fn frozen_lake_greedy_policy_succeeds_at_least_70_percent() {
        let config = AgentConfig::QLearning(QLearningConfig {
            alpha: StepSize::Constant(0.05),
            gamma: 0.99,
            epsilon: Schedule::Linear {
                start: 1.0,
                end: 0.01,
                episodes: 10_000,
            },
            ..Default::default()
        });
        let mut env = discrete("FrozenLake-v1", false);
        let mut agent = build(&config, &env);
        let (_, mut rng) = learn(&mut env, agent.as_mut(), 20_000, 1);
        let exact = greedy_success(&env, agent.as_ref(), 100, &mut rng);
        assert!(
            (exact - 0.7402).abs() < 1e-4,
            "exact success probability {exact}"
        );
        let eval =
            evaluate_greedy(&mut env, agent.as_ref(), 1000, Some(7), &mut rng, None).unwrap();
        assert!(eval.mean >= 0.70, "success rate {}", eval.mean);
    }
}
