//! Tabular and linear value-based agents: Monte Carlo control, TD control, eligibility traces.
//!
//! Every agent here sees a state as the indices of its **active binary features**. A tabular
//! state is a single index (the env's state index, i.e. one-hot features); tile coding gives
//! one index per tiling. Action values are linear in the features,
//! `Q(s, a) = Σ_{i active in s} w[a][i]`, so the same code is tabular with one-hot features and
//! linear function approximation with tile-coded ones (Sutton & Barto ch. 9–12).
//!
//! - Configs: [`AgentConfig`] holds any agent's config, tagged by `algorithm`; each agent has
//!   its own `XConfig` (serde + `Default`) documenting every key's default and valid range.
//!   Hyperparameters carry Sutton & Barto's names: `alpha`, `gamma`, `epsilon`, `lambda`, `n`,
//!   `trace`.
//! - Step sizes: with several active features α is divided by their number (S&B's
//!   `α / numTilings` convention, §9.5.4), so that α is the fraction of the error one update
//!   removes from `Q(s, a)`; tabular states have one feature and take α as it is. See
//!   [`StepSize`].
//! - Exploration: [`policy`] (ε-greedy, softmax, greedy, ties always broken uniformly at
//!   random) with [`Schedule`]s over episodes.
//! - The episode loop: [`run_episode`], [`run_episode_exploring_starts`],
//!   [`evaluate_greedy`].

mod config;
mod episode;
pub mod policy;
mod q_learning;
mod schedule;
mod values;

pub use config::AgentConfig;
pub use episode::{
    EpisodeOutcome, Evaluation, Features, evaluate_greedy, exploring_start_states, run_episode,
    run_episode_exploring_starts,
};
pub use policy::{Policy, PolicyKind};
pub use q_learning::{QLearning, QLearningConfig};
pub use schedule::{Schedule, StepSize};
pub use values::ActionValues;

use qlab_envs::EnvRng;

/// An agent that learns from a stream of episodes, choosing its own actions.
///
/// The runner drives it as RL-Glue does: `start` with the first state, then `step` with each
/// reward and next state, until a step reports the end of the episode. `step` returns the next
/// action, which the runner takes unless the episode ended.
///
/// # Contract
/// - Features are indices below the `n_features` the agent was built with; an agent never
///   panics on them being out of range in release builds only because the runner checks them.
/// - `terminated` means the next state is terminal: its value is 0 and the agent must not
///   bootstrap from it. `truncated` (without `terminated`) ends the episode but the next state
///   is an ordinary state: TD agents bootstrap from it; Monte Carlo agents end the return there.
/// - All randomness comes from the `rng` passed in, so a seeded run is bit-identical.
pub trait Agent: Send {
    /// The number of actions.
    fn n_actions(&self) -> usize;

    /// Begins an episode in state `x` and returns the first action.
    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize;

    /// Learns from `reward` and the next state `x`, and returns the next action (ignored by
    /// the runner when `terminated || truncated`).
    fn step(
        &mut self,
        reward: f64,
        x: &[usize],
        terminated: bool,
        truncated: bool,
        rng: &mut EnvRng,
    ) -> usize;

    /// The greedy action in `x`, ties broken uniformly at random.
    fn greedy(&self, x: &[usize], rng: &mut EnvRng) -> usize;

    /// The agent's estimate of the value of state `x`: `max_a Q(x, a)` for control agents,
    /// `V(x)` for prediction agents.
    fn value(&self, x: &[usize]) -> f64;

    /// The current exploration rate ε of the behaviour policy (0 for greedy or prediction).
    fn epsilon(&self) -> f64;

    /// All learned parameters, flat, in a fixed documented order (for saving).
    fn parameters(&self) -> Vec<f64>;

    /// Restores parameters saved by [`Agent::parameters`]; a wrong length is an error.
    fn load_parameters(&mut self, params: &[f64]) -> crate::Result<()>;
}
