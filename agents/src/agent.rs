//! The one interface every agent implements, and how an env's observation reaches it.
//!
//! An [`Agent`] is driven as RL-Glue drives one: [`start`](Agent::start) with an episode's
//! first observation, then [`step`](Agent::step) with each reward and next observation, until
//! a step ends the episode. Each call returns the next action of the behaviour policy.
//! [`greedy`](Agent::greedy) plays the learned policy without learning. The runner, the
//! evaluations and `qlab eval` speak only this trait; the tabular agents and the deep
//! Q-networks both implement it.
//!
//! The observation type `O` is what the agent reads (`[usize]`, the active feature indices, for
//! tabular and linear agents; `[f32]`, the observation's numbers, for networks) and the action
//! type `A` is what it returns (`usize` for a discrete action; a vector type for a Box action
//! fits the same trait). An env's own observation type is turned into `O` by [`View`].

use qlab_envs::EnvRng;
use qlab_envs::wrappers::Tiles;

use crate::Result;

/// What one training step of an agent that trains in batches measured (a row of a run's
/// `train.csv`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainStats {
    /// The env step it followed.
    pub step: u64,
    /// The mean loss over its gradient steps.
    pub loss: f64,
    /// The mean `Q(s, a)` of the sampled transitions over its gradient steps.
    pub mean_q: f64,
    /// Gradient steps taken.
    pub gradient_steps: u64,
}

/// A learning agent with observations read as `O` and actions of type `A`.
///
/// # Contract
/// An implementor guarantees:
/// - [`start`](Agent::start) begins an episode; each [`step`](Agent::step) learns from the
///   transition that the last returned action caused. After a step with `terminated` or
///   `truncated`, the returned action is meaningless and the next call is `start`.
/// - `terminated` means the next observation is terminal (its value is 0: never bootstrap from
///   it); `truncated` alone ends the episode at an ordinary state (bootstrap from it).
/// - [`greedy`](Agent::greedy) learns nothing and changes nothing that training reads: a run
///   with evaluations in it trains exactly as one without.
/// - All randomness comes from the `rng` passed in, or from a generator of the agent's own
///   seeded at construction and saved by [`checkpoint`](Agent::checkpoint): the same seed
///   gives the same run, bit for bit.
/// - [`checkpoint`](Agent::checkpoint) taken between episodes and
///   [`restore`](Agent::restore)d into an agent built from the same config gives an agent that
///   continues exactly as the original would have.
pub trait Agent<O: ?Sized, A>: Send {
    /// Begins an episode at `obs`; returns the first action.
    ///
    /// # Errors
    /// A failure inside the agent (a tensor error on a device).
    fn start(&mut self, obs: &O, rng: &mut EnvRng) -> Result<A>;

    /// Learns from `reward` and the next observation `obs` of the last action; returns the
    /// next action (meaningless when `terminated || truncated`).
    ///
    /// # Errors
    /// Training that diverged (a loss or value that is not finite), or a failure inside the
    /// agent; nothing of the failed update is applied.
    fn step(
        &mut self,
        reward: f64,
        obs: &O,
        terminated: bool,
        truncated: bool,
        rng: &mut EnvRng,
    ) -> Result<A>;

    /// The greedy action at `obs`, `first` telling whether `obs` begins an episode (an agent
    /// with memory resets it there). Ties are broken with `rng` where the agent breaks them at
    /// random.
    ///
    /// # Errors
    /// A failure inside the agent.
    fn greedy(&mut self, obs: &O, first: bool, rng: &mut EnvRng) -> Result<A>;

    /// The behaviour policy's current exploration rate ε (0 where it has none).
    fn epsilon(&self) -> f64;

    /// The agent's estimate of the value of `obs` (`max_a Q`, or `V` for prediction agents),
    /// where it keeps one that is cheap to read; `None` otherwise.
    fn value(&self, obs: &O) -> Option<f64> {
        let _ = obs;
        None
    }

    /// What the last [`step`](Agent::step) trained, if it trained (agents that learn from
    /// replayed batches); `None` for agents that learn on every step.
    fn train_stats(&self) -> Option<TrainStats> {
        None
    }

    /// Writes the learned parameters (what acting greedily needs) to `path`.
    ///
    /// # Errors
    /// A file that cannot be written.
    fn save(&self, path: &std::path::Path) -> Result<()>;

    /// Loads parameters written by [`save`](Agent::save) of an agent built the same way.
    ///
    /// # Errors
    /// A file that cannot be read, or that holds parameters of another shape.
    fn load(&mut self, path: &std::path::Path) -> Result<()>;

    /// Writes the whole training state — parameters, optimizer, replay, traces, counters,
    /// the agent's own random generator — to `path`, between episodes.
    ///
    /// # Errors
    /// A file that cannot be written.
    fn checkpoint(&self, path: &std::path::Path) -> Result<()>;

    /// Restores a state written by [`checkpoint`](Agent::checkpoint).
    ///
    /// # Errors
    /// A file that cannot be read or that an agent of this config did not write.
    fn restore(&mut self, path: &std::path::Path) -> Result<()>;
}

/// An env observation read as the agent's observation type `O`, without copying.
pub trait View<O: ?Sized> {
    /// The observation as the agent reads it.
    fn view(&self) -> &O;
}

/// A state index is one active feature: one-hot (tabular) features.
impl View<[usize]> for usize {
    #[inline]
    fn view(&self) -> &[usize] {
        std::slice::from_ref(self)
    }
}

/// Tile coding's active tiles, one per tiling.
impl View<[usize]> for Tiles {
    #[inline]
    fn view(&self) -> &[usize] {
        self.as_slice()
    }
}

/// A list of active feature indices.
impl View<[usize]> for Vec<usize> {
    #[inline]
    fn view(&self) -> &[usize] {
        self
    }
}

/// A vector (or flattened image) observation.
impl View<[f32]> for Vec<f32> {
    #[inline]
    fn view(&self) -> &[f32] {
        self
    }
}
