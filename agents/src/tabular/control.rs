//! The part the TD control agents share: [`Control`] (action values, behaviour policy, γ and
//! the current state-action pair) and [`TdControl`], the agent that holds one and lets a
//! [`ControlRule`] — SARSA's, Q-learning's, SARSA(λ)'s… — learn with it.
//!
//! Each algorithm's file holds its rule and names its agent:
//! `pub type Sarsa = TdControl<SarsaRule>`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::agent::{TabularAgent, Transition, ValueFunction};
use super::policy::Policy;
use super::values::{ActionValues, copy_features};
use crate::Result;
use qlab_envs::EnvRng;

/// A control learner: `Q`, the behaviour policy that acts on it, the discount γ, and the
/// state-action pair `(S, A)` whose update is pending.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Control {
    pub(crate) q: ActionValues,
    pub(crate) policy: Policy,
    pub(crate) gamma: f64,
    /// The features of `S`.
    pub(crate) x: Vec<usize>,
    /// `A`.
    pub(crate) a: usize,
}

impl Control {
    /// A learner of `q` acting by `policy`, with discount `gamma`.
    pub(crate) fn new(q: ActionValues, policy: Policy, gamma: f64) -> Self {
        Self {
            q,
            policy,
            gamma,
            x: Vec::new(),
            a: 0,
        }
    }

    /// Draws `A` in `x` from the policy and makes `(x, A)` the pending pair.
    #[inline(always)]
    pub(crate) fn act(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.a = self.q.sample(&self.policy, x, rng);
        copy_features(&mut self.x, x);
        self.a
    }

    /// Makes `(x, a)` the pending pair; returns `a`.
    #[inline]
    pub(crate) fn move_to(&mut self, x: &[usize], a: usize) -> usize {
        copy_features(&mut self.x, x);
        self.a = a;
        a
    }

    /// `Q(S, A)` of the pending pair.
    #[inline(always)]
    pub(crate) fn pending(&self) -> f64 {
        self.q.q(&self.x, self.a)
    }

    /// Moves `Q(S, A)` towards `target` by the step size.
    #[inline(always)]
    pub(crate) fn learn(&mut self, target: f64) {
        let error = target - self.pending();
        self.q.update(&self.x, self.a, error);
    }

    /// The one-step update of Q-learning and Expected SARSA: `Q(S, A)` towards
    /// `R + γ bootstrap(Q, π)` (`R` alone when `terminated`), then, unless the episode
    /// ended, the next action drawn from the updated values.
    #[inline(always)]
    pub(crate) fn learn_then_act(
        &mut self,
        t: Transition<'_>,
        rng: &mut EnvRng,
        bootstrap: impl FnOnce(&ActionValues, &Policy) -> f64,
    ) -> usize {
        let target = if t.terminated {
            t.reward
        } else {
            t.reward + self.gamma * bootstrap(&self.q, &self.policy)
        };
        self.learn(target);
        if t.terminated || t.truncated {
            return 0;
        }
        self.act(t.x, rng)
    }
}

/// An update rule of a [`TdControl`] agent, with the state it keeps beside the [`Control`]
/// learner (eligibility traces; nothing for the one-step rules).
///
/// An implementor's [`step`](Self::step) meets [`TabularAgent::step`]'s contract, and its
/// serde form holds all its state (it is written beside the learner's in a checkpoint).
pub trait ControlRule: Send + Serialize + DeserializeOwned {
    /// The config the agent is built from.
    type Config: ControlConfig;

    /// The rule's state for a learner of `n_weights` weights.
    fn new(config: &Self::Config, n_weights: usize) -> Self;

    /// Clears what lasts one episode (traces); the policy's episode is already counted.
    fn begin_episode(&mut self) {}

    /// Learns from the transition with `c`, whose pending pair is the last state and action,
    /// and returns the next action (0 when `S'` is terminal), as [`TabularAgent::learn`].
    fn learn(&mut self, c: &mut Control, t: Transition<'_>, rng: &mut EnvRng) -> usize;
}

/// The update of a one-step TD control agent ([`Sarsa`](super::Sarsa),
/// [`QLearning`](super::QLearning), [`ExpectedSarsa`](super::ExpectedSarsa)): a
/// [`ControlRule`] with no state of its own.
pub trait OneStepRule: Default + Send + Serialize + DeserializeOwned {
    /// The config the agent is built from.
    type Config: ControlConfig;

    /// Learns from the transition with `c`, as [`ControlRule::learn`].
    fn learn(c: &mut Control, t: Transition<'_>, rng: &mut EnvRng) -> usize;
}

impl<R: OneStepRule> ControlRule for R {
    type Config = R::Config;

    fn new(_: &R::Config, _: usize) -> Self {
        R::default()
    }

    #[inline(always)]
    fn learn(&mut self, c: &mut Control, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        <R as OneStepRule>::learn(c, t, rng)
    }
}

/// The config of a [`TdControl`] agent.
pub trait ControlConfig {
    /// Checks every field (the error names the first bad key, its value and the valid range)
    /// and builds the learner over `n_features` binary features and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    fn control(&self, n_features: usize, n_actions: usize) -> Result<Control>;
}

/// A TD control agent: a [`Control`] learner and the update rule `R`
/// ([`Sarsa`](super::Sarsa), [`QLearning`](super::QLearning),
/// [`ExpectedSarsa`](super::ExpectedSarsa), [`SarsaLambda`](super::SarsaLambda),
/// [`QLambda`](super::QLambda), [`TrueOnlineSarsaLambda`](super::TrueOnlineSarsaLambda)).
///
/// Each episode it counts the policy's episode, lets the rule clear its traces and draws the
/// first action; each step is the rule's. Parameters: `Q` as `w[i · n_actions + a]` (see
/// [`ActionValues`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TdControl<R> {
    // Flattened: a checkpoint has the same keys as when each agent held these fields itself.
    #[serde(flatten)]
    c: Control,
    #[serde(flatten)]
    rule: R,
}

impl<R: ControlRule> TdControl<R> {
    /// The agent of `config` over `n_features` binary features and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn new(config: &R::Config, n_features: usize, n_actions: usize) -> Result<Self> {
        let c = config.control(n_features, n_actions)?;
        Ok(Self {
            rule: R::new(config, n_features * n_actions),
            c,
        })
    }

    /// The action values.
    pub fn values(&self) -> &ActionValues {
        &self.c.q
    }

    /// The update rule and its state.
    pub(crate) fn rule(&self) -> &R {
        &self.rule
    }
}

impl<R: ControlRule> TabularAgent for TdControl<R> {
    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.c.policy.begin_episode();
        self.rule.begin_episode();
        self.c.act(x, rng)
    }

    #[inline(always)]
    fn learn(&mut self, t: Transition<'_>, rng: &mut EnvRng) -> usize {
        self.rule.learn(&mut self.c, t, rng)
    }

    #[inline(always)]
    fn value_function(&self) -> &dyn ValueFunction {
        &self.c.q
    }

    fn value_function_mut(&mut self) -> &mut dyn ValueFunction {
        &mut self.c.q
    }

    fn epsilon(&self) -> f64 {
        self.c.policy.epsilon()
    }
}
