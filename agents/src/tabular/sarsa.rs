//! SARSA (Rummery & Niranjan 1994; Sutton & Barto §6.4).

use serde::{Deserialize, Serialize};

use super::TabularAgent;
use super::checks::{check_control, defaults};
use super::policy::{Policy, PolicyKind};
use super::schedule::{Schedule, StepSize};
use super::values::{ActionValues, copy_features};
use crate::Result;
use qlab_envs::EnvRng;

/// Hyperparameters of [`Sarsa`] (the same keys as [`QLearningConfig`](super::QLearningConfig)).
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
/// algorithm = "sarsa"
/// alpha = 0.5
/// epsilon = 0.1
/// gamma = 1.0
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SarsaConfig {
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

impl Default for SarsaConfig {
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

impl SarsaConfig {
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

/// SARSA: on-policy TD control,
/// `Q(S, A) ← Q(S, A) + α [R + γ Q(S', A') − Q(S, A)]` (S&B §6.4).
///
/// `A'` is drawn from the policy ([`PolicyKind`]) before the update, as in S&B's pseudocode,
/// and is the next action taken. On a truncated step the target bootstraps from `(S', A')`;
/// on a terminal one it is `R`.
///
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sarsa {
    q: ActionValues,
    policy: Policy,
    gamma: f64,
    x: Vec<usize>,
    a: usize,
}

impl Sarsa {
    /// A SARSA agent over `n_features` binary features and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(config: &SarsaConfig, n_features: usize, n_actions: usize) -> Result<Self> {
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

impl TabularAgent for Sarsa {
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
        _truncated: bool,
        rng: &mut EnvRng,
    ) -> usize {
        if terminated {
            let error = reward - self.q.q(&self.x, self.a);
            self.q.update(&self.x, self.a, error);
            return 0;
        }
        let next = self.q.sample(&self.policy, x, rng);
        let error = reward + self.gamma * self.q.q(x, next) - self.q.q(&self.x, self.a);
        self.q.update(&self.x, self.a, error);
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
    use crate::tabular::testing::*;
    use crate::tabular::{AgentConfig, evaluate_greedy};

    fn config() -> AgentConfig {
        AgentConfig::Sarsa(SarsaConfig {
            alpha: StepSize::Constant(0.5),
            epsilon: Schedule::Constant(0.1),
            gamma: 1.0,
            ..Default::default()
        })
    }

    /// S&B Figure 6.4: ε = 0.1, α = 0.5, γ = 1, 500 episodes; the mean return of episodes
    /// 401–500. In `CliffWalking-v1`, as in the book, the cliff costs −100 and sends the agent
    /// back to the start without ending the episode. Reference: `tools/tabular_references.py
    /// cliff`, 200 seeds: SARSA −26.446 (sd 6.070), Q-learning −49.950 (sd 7.323). qlab
    /// measured −27.14 and −50.99 over 50 seeds. SARSA learns the safer path and does better
    /// online than Q-learning, which walks the cliff edge and falls when it explores.
    #[test]
    fn cliff_walking_sarsa_matches_the_reference_and_beats_q_learning() {
        let seeds = 50;
        let sarsa = cliff_tails(&config(), seeds);
        let q = cliff_tails(&crate::tabular::q_learning::tests::cliff_config(), seeds);
        let (mean, _) = mean_sd(&sarsa);
        assert_close_to_reference("SARSA", mean, seeds as usize, -26.446, 200, 6.070);
        let (q_mean, _) = mean_sd(&q);
        assert!(mean > q_mean + 15.0, "SARSA {mean} vs Q-learning {q_mean}");
    }

    /// Episodes completed within the first 8,000 steps, and the greedy path after 500
    /// episodes (capped at 1,000 steps: a greedy policy can loop), over `seeds` seeds.
    fn windy(king_moves: bool, seeds: u64) -> (Vec<f64>, Vec<f64>) {
        let (mut completed, mut paths) = (Vec::new(), Vec::new());
        for seed in 0..seeds {
            let mut env = discrete("WindyGridworld-v0", king_moves);
            let mut agent = build(&config(), &env);
            let (outcomes, mut rng) = learn(&mut env, agent.as_mut(), 500, seed);
            let mut steps = 0;
            let done = outcomes
                .iter()
                .take_while(|o| {
                    steps += o.length;
                    steps <= 8000
                })
                .count();
            completed.push(done as f64);
            let eval =
                evaluate_greedy(&mut env, agent.as_ref(), 1, None, &mut rng, Some(1000)).unwrap();
            paths.push(-eval.mean);
        }
        (completed, paths)
    }

    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    }

    /// S&B Example 6.5, Figure 6.3: SARSA with ε = 0.1, α = 0.5 completes about 170 episodes
    /// in 8,000 steps (one run in the book) and finds the 15-step path (7 with king's moves).
    /// Reference: `tools/tabular_references.py windy`, 200 seeds: 160.28 episodes (sd 9.70),
    /// with king's moves 220.72 (sd 17.72); greedy paths after 500 episodes: shortest 15
    /// (31% of seeds), median 16, 23% looping; with king's moves shortest 7 (62%), median 7,
    /// 12% looping. qlab measured 160.30 and 222.00 episodes over 50 seeds, median paths 16
    /// and 7.
    #[test]
    fn windy_gridworld_matches_the_reference() {
        let seeds = 20;
        for (king, reference, sd, optimum) in
            [(false, 160.28, 9.70, 15.0), (true, 220.72, 17.72, 7.0)]
        {
            let (completed, mut paths) = windy(king, seeds);
            let (mean, _) = mean_sd(&completed);
            assert_close_to_reference("windy", mean, seeds as usize, reference, 200, sd);
            let shortest = paths.iter().copied().fold(f64::MAX, f64::min);
            assert_eq!(shortest, optimum, "king's moves: {king}, {paths:?}");
            assert!(
                median(&mut paths) <= optimum + 2.0,
                "king's moves: {king}, {paths:?}"
            );
        }
    }
}
