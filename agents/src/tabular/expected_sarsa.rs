//! Expected SARSA (van Seijen et al. 2009; Sutton & Barto §6.6).

use serde::{Deserialize, Serialize};

use super::agent::Transition;
use super::control::{Control, OneStepRule, TdControl};
use super::q_learning::QLearningConfig;
use qlab_envs::EnvRng;

/// Hyperparameters of [`ExpectedSarsa`]: the keys of [`QLearningConfig`], with the same
/// defaults and ranges.
///
/// ```toml
/// [agent]
/// algorithm = "expected_sarsa"
/// alpha = 0.5
/// policy = "softmax"        # the expectation is then under the softmax policy
/// temperature = 0.5
/// ```
pub type ExpectedSarsaConfig = QLearningConfig;

/// Expected SARSA: TD control on the expectation of the next action value under the policy,
/// `Q(S, A) ← Q(S, A) + α [R + γ Σ_a π(a | S') Q(S', a) − Q(S, A)]` (S&B §6.6).
///
/// `π` is the behaviour policy itself ([`PolicyKind`](super::PolicyKind), with the ε or
/// temperature of the current episode), so this is on-policy Expected SARSA; with
/// `policy = "greedy"` it is Q-learning. The next action is drawn after the update. On a
/// truncated step the target bootstraps from `S'`; on a terminal one it is `R`.
///
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`](super::ActionValues)).
pub type ExpectedSarsa = TdControl<ExpectedSarsaRule>;

/// Expected SARSA's update: the target bootstraps from the policy's expectation in `S'`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExpectedSarsaRule {}

impl OneStepRule for ExpectedSarsaRule {
    type Config = ExpectedSarsaConfig;

    /// `Q(S, A)` towards `R + γ Σ_a π(a | S') Q(S', a)`, then `A'`.
    #[inline(always)]
    fn learn(c: &mut Control, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        c.learn_then_act(t, rng, |q, policy| q.expectation(policy, t.x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::testing::*;
    use crate::tabular::{AgentConfig, Schedule, StepSize, TabularAgent};

    /// S&B Figure 6.3 (right: interim performance, ε = 0.1, α = 0.5): Expected SARSA beats
    /// SARSA on the cliff walk. Reference: `tools/tabular_references.py cliff`, 200 seeds:
    /// −20.717 (sd 1.974) over episodes 401–500. qlab measured −21.08 over 50 seeds.
    #[test]
    fn cliff_walking_return_matches_the_reference() {
        let config = AgentConfig::ExpectedSarsa(ExpectedSarsaConfig {
            alpha: StepSize::Constant(0.5),
            epsilon: Schedule::Constant(0.1),
            gamma: 1.0,
            ..Default::default()
        });
        let seeds = 50;
        let (mean, _) = mean_sd(&cliff_tails(&config, seeds));
        assert_close_to_reference("Expected SARSA", mean, seeds as usize, -20.717, 200, 1.974);
    }

    /// The target is the expectation under the ε-greedy policy: with Q(S', ·) = (2, 0) and
    /// ε = 0.5 it is R + γ (0.75 · 2 + 0.25 · 0) = R + 1.5 γ.
    #[test]
    fn target_is_the_policy_expectation() {
        let config = ExpectedSarsaConfig {
            alpha: StepSize::Constant(1.0),
            epsilon: Schedule::Constant(0.5),
            gamma: 0.5,
            ..Default::default()
        };
        let mut agent = ExpectedSarsa::new(&config, 2, 2).unwrap();
        agent.load_parameters(&[0.0, 0.0, 2.0, 0.0]).unwrap();
        let mut rng = EnvRng::new(0);
        let a = agent.start(&[0], &mut rng);
        agent.step(1.0, &[1], false, false, &mut rng);
        assert_eq!(agent.values().q(&[0], a), 1.0 + 0.5 * 1.5);
    }
}
