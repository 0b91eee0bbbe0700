//! n-step SARSA (Sutton & Barto §7.2).

use serde::{Deserialize, Serialize};

use super::Agent;
use super::config::{check_control, defaults};
use super::policy::{Policy, PolicyKind};
use super::schedule::{Schedule, StepSize};
use super::values::{ActionValues, copy_features};
use crate::{Error, Result};
use qlab_envs::EnvRng;

/// Hyperparameters of [`NStepSarsa`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `n` | `4` | `≥ 1` | steps before bootstrapping (1 is SARSA) |
/// | `alpha` | `0.1` | `(0, 1]` or `"1/n"` | step size ([`StepSize`]; divided by the number of active features) |
/// | `gamma` | `1.0` | `[0, 1]` | discount |
/// | `policy` | `"epsilon_greedy"` | [`PolicyKind`] | behaviour policy |
/// | `epsilon` | `0.1` | `[0, 1]`, a [`Schedule`] | ε of the ε-greedy policy |
/// | `temperature` | `1.0` | `> 0`, a [`Schedule`] | temperature of the softmax policy |
/// | `initial_value` | `0.0` | finite | every weight's initial value (`Q` of a tabular state) |
///
/// ```toml
/// [agent]
/// algorithm = "n_step_sarsa"
/// n = 4
/// alpha = 0.5
/// epsilon = 0.1
/// gamma = 1.0
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NStepSarsaConfig {
    /// Steps of real rewards before bootstrapping. Default `4`; at least 1.
    pub n: usize,
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

impl Default for NStepSarsaConfig {
    fn default() -> Self {
        Self {
            n: 4,
            alpha: StepSize::Constant(defaults::ALPHA),
            gamma: defaults::GAMMA,
            policy: PolicyKind::EpsilonGreedy,
            epsilon: Schedule::Constant(defaults::EPSILON),
            temperature: Schedule::Constant(defaults::TEMPERATURE),
            initial_value: 0.0,
        }
    }
}

impl NStepSarsaConfig {
    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        if self.n == 0 {
            return Err(Error::config("n", 0, "an integer ≥ 1"));
        }
        check_control(
            self.alpha,
            self.gamma,
            &self.epsilon,
            &self.temperature,
            self.initial_value,
        )
    }
}

/// n-step SARSA: each `Q(S_τ, A_τ)` moves towards the n-step return
/// `G = R_{τ+1} + γ R_{τ+2} + … + γ^{n−1} R_{τ+n} + γ^n Q(S_{τ+n}, A_{τ+n})` (S&B §7.2).
///
/// The update of time `τ` happens `n` steps later; when the episode ends, the remaining
/// ones are made with the rewards up to the end. After termination nothing is bootstrapped;
/// after truncation the returns bootstrap from `Q(S_T, A_T)`, `A_T` drawn from the policy.
/// Actions are drawn before the update, as in S&B's pseudocode. `n = 1` is [`Sarsa`](super::Sarsa).
///
/// Parameters: `Q` as `w[i · n_actions + a]` (see [`ActionValues`]).
#[derive(Clone, Debug)]
pub struct NStepSarsa {
    q: ActionValues,
    policy: Policy,
    gamma: f64,
    n: usize,
    /// `S_t`, `A_t`, `R_t` of the last `n + 1` times, at index `t mod (n + 1)`.
    states: Vec<Vec<usize>>,
    actions: Vec<usize>,
    rewards: Vec<f64>,
    /// The time of the latest state.
    t: usize,
}

impl NStepSarsa {
    /// An n-step SARSA agent over `n_features` binary features and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(config: &NStepSarsaConfig, n_features: usize, n_actions: usize) -> Result<Self> {
        config.validate()?;
        let slots = config.n + 1;
        Ok(Self {
            q: ActionValues::new(n_features, n_actions, config.initial_value, config.alpha)?,
            policy: Policy::new(config.policy, config.epsilon, config.temperature),
            gamma: config.gamma,
            n: config.n,
            states: vec![Vec::new(); slots],
            actions: vec![0; slots],
            rewards: vec![0.0; slots],
            t: 0,
        })
    }

    /// The action values.
    pub fn values(&self) -> &ActionValues {
        &self.q
    }

    /// Updates `Q(S_τ, A_τ)` towards the return over `R_{τ+1} … R_h`, plus
    /// `γ^{h−τ} Q(S_h, A_h)` when `bootstrap`.
    fn update(&mut self, tau: usize, h: usize, bootstrap: bool) {
        let slots = self.n + 1;
        let mut g = 0.0;
        let mut discount = 1.0;
        for i in tau + 1..=h {
            g += discount * self.rewards[i % slots];
            discount *= self.gamma;
        }
        if bootstrap {
            g += discount * self.q.q(&self.states[h % slots], self.actions[h % slots]);
        }
        let (x, a) = (&self.states[tau % slots], self.actions[tau % slots]);
        let error = g - self.q.q(x, a);
        self.q.update(x, a, error);
    }
}

impl Agent for NStepSarsa {
    fn n_actions(&self) -> usize {
        self.q.n_actions()
    }

    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.policy.begin_episode();
        self.t = 0;
        let a = self.q.sample(&self.policy, x, rng);
        copy_features(&mut self.states[0], x);
        self.actions[0] = a;
        a
    }

    fn step(
        &mut self,
        reward: f64,
        x: &[usize],
        terminated: bool,
        truncated: bool,
        rng: &mut EnvRng,
    ) -> usize {
        self.t += 1;
        let t = self.t;
        let slot = t % (self.n + 1);
        self.rewards[slot] = reward;
        copy_features(&mut self.states[slot], x);
        // After truncation A_T is still drawn: the returns bootstrap from Q(S_T, A_T).
        let next = if terminated {
            0
        } else {
            self.q.sample(&self.policy, x, rng)
        };
        self.actions[slot] = next;
        if t >= self.n {
            self.update(t - self.n, t, !terminated);
        }
        if terminated || truncated {
            for tau in (t + 1).saturating_sub(self.n)..t {
                self.update(tau, t, !terminated);
            }
        }
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
