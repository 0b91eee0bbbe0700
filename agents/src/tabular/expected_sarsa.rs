//! Expected SARSA (van Seijen et al. 2009; Sutton & Barto §6.6).

use serde::{Deserialize, Serialize};

use super::TabularAgent;
use super::checks::{check_control, defaults};
use super::policy::{Policy, PolicyKind};
use super::schedule::{Schedule, StepSize};
use super::values::{ActionValues, copy_features};
use crate::Result;
use qlab_envs::EnvRng;

/// Hyperparameters of [`ExpectedSarsa`] (the same keys as [`QLearningConfig`](super::QLearningConfig)).
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
/// algorithm = "expected_sarsa"
/// alpha = 0.5
/// epsilon = 0.1
/// gamma = 1.0
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpectedSarsaConfig {
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

impl Default for ExpectedSarsaConfig {
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

impl ExpectedSarsaConfig {
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

/// Expected SARSA: TD control on the expectation of the next action value under the policy,
/// `Q(S, A) ← Q(S, A) + α [R + γ Σ_a π(a | S') Q(S', a) − Q(S, A)]` (S&B §6.6).
///
/// `π` is the behaviour policy itself ([`PolicyKind`], with the ε or temperature of the
/// current episode), so this is on-policy Expected SARSA; with `policy = "greedy"` it is
/// Q-learning. The next action is drawn after the update. On a truncated step the target
/// bootstraps from `S'`; on a terminal one it is `R`.
///
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExpectedSarsa {
    q: ActionValues,
    policy: Policy,
    gamma: f64,
    x: Vec<usize>,
    a: usize,
}

impl ExpectedSarsa {
    /// An Expected SARSA agent over `n_features` binary features and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(config: &ExpectedSarsaConfig, n_features: usize, n_actions: usize) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            q: ActionValues::new(n_features, n_actions, config.initial_value, config.alpha)?,
            policy: Policy::new(config.policy, config.epsilon, config.temperature),
            gamma: config.gamma,
            x: Vec::new(),
            a: 0,
        })
    }

    /// The action values.
    pub fn values(&self) -> &ActionValues {
        &self.q
    }

    #[inline]
    fn act(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.a = self.q.sample(&self.policy, x, rng);
        copy_features(&mut self.x, x);
        self.a
    }
}

impl TabularAgent for ExpectedSarsa {
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
        self.act(x, rng)
    }

    #[inline]
    fn step(
        &mut self,
        reward: f64,
        x: &[usize],
        terminated: bool,
        truncated: bool,
        rng: &mut EnvRng,
    ) -> usize {
        let target = if terminated {
            reward
        } else {
            reward + self.gamma * self.q.expectation(&self.policy, x)
        };
        let error = target - self.q.q(&self.x, self.a);
        self.q.update(&self.x, self.a, error);
        if terminated || truncated {
            return 0;
        }
        self.act(x, rng)
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
    use crate::tabular::AgentConfig;
    use crate::tabular::testing::*;

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
