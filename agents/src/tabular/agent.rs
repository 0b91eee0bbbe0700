//! [`TabularAgent`]: the interface every tabular agent implements, the [`ValueFunction`] its
//! provided methods read, and the [`Agent`](crate::Agent) that every tabular agent is.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Result;
use qlab_envs::EnvRng;

/// What an agent has learned, as the runner reads it: the greedy policy, state values and a
/// flat parameter vector.
///
/// [`ActionValues`](super::ActionValues) is the value function of the control agents; the
/// prediction agents and Double Q-learning have their own.
pub trait ValueFunction {
    /// The number of actions.
    fn n_actions(&self) -> usize;

    /// The greedy action in `x`, ties broken uniformly at random (a uniformly random action
    /// for a prediction agent, whose policy is the random one).
    fn greedy(&self, x: &[usize], rng: &mut EnvRng) -> usize;

    /// The value of state `x`: `max_a Q(x, a)`, or `V(x)`.
    fn value(&self, x: &[usize]) -> f64;

    /// The learned weights, flat, in the agent's documented order.
    fn parameters(&self) -> Vec<f64>;

    /// Restores weights saved by [`parameters`](Self::parameters).
    ///
    /// # Errors
    /// A length other than the number of weights; the message names both.
    fn load_parameters(&mut self, params: &[f64]) -> Result<()>;
}

/// A learner's whole state as JSON: implemented for every type serde writes and reads, which
/// every agent here is (its derive covers the weights, counts, schedules' progress, traces
/// and episode buffers).
pub trait JsonState {
    /// The state as JSON.
    ///
    /// # Errors
    /// A value JSON cannot hold exactly (a weight that is not finite).
    fn write_json(&self) -> Result<String>;

    /// Replaces the state with one written by [`write_json`](Self::write_json).
    ///
    /// # Errors
    /// Text that is not such a state.
    fn read_json(&mut self, state: &str) -> Result<()>;
}

impl<T: Serialize + DeserializeOwned> JsonState for T {
    fn write_json(&self) -> Result<String> {
        let json = serde_json::to_string(self).map_err(|e| state_error(e.to_string()))?;
        // JSON has no infinities or NaN (serde_json writes them as `null`): read the state back
        // once, so that a checkpoint that could not be restored is refused here, not at resume.
        serde_json::from_str::<T>(&json).map_err(|_| {
            state_error("a learned value is not a finite number; no checkpoint written".into())
        })?;
        Ok(json)
    }

    fn read_json(&mut self, state: &str) -> Result<()> {
        *self = serde_json::from_str(state).map_err(|e| state_error(e.to_string()))?;
        Ok(())
    }
}

fn state_error(message: String) -> crate::Error {
    crate::Error::Checkpoint {
        path: "agent state".into(),
        message,
    }
}

/// What an agent learns from at each step: the reward, the next state's features and whether
/// the episode ended there (see [`TabularAgent`]'s contract for what each end means).
#[derive(Clone, Copy, Debug)]
pub struct Transition<'a> {
    /// `R`.
    pub reward: f64,
    /// The features of the next state `S'`.
    pub x: &'a [usize],
    /// `S'` is terminal.
    pub terminated: bool,
    /// The episode was cut at `S'`, an ordinary state.
    pub truncated: bool,
}

/// An agent that learns from a stream of episodes, choosing its own actions.
///
/// The runner drives it as RL-Glue does: `start` with the first state, then `step` with each
/// reward and next state, until a step reports the end of the episode. `step` returns the next
/// action, which the runner takes unless the episode ended ([`run_episode`](super::run_episode)
/// is that loop).
///
/// An implementor writes [`start`](Self::start), [`learn`](Self::learn),
/// [`value_function`](Self::value_function) (and its `_mut` twin) and
/// [`epsilon`](Self::epsilon); the rest are provided: [`step`](Self::step) is `learn` of the
/// step's [`Transition`], `n_actions`, `greedy`, `value`, `parameters` and `load_parameters`
/// read the value function, `save_state` and `load_state` are the agent's serde JSON
/// ([`JsonState`]).
///
/// # Contract
/// An implementor guarantees:
/// - Features are indices below the `n_features` the agent was built with (the runner builds
///   it with the size of the observation space). An index out of range panics on slice
///   indexing; it is a bug of the caller, not an input error.
/// - `terminated` means the next state is terminal: its value is 0 and the agent must not
///   bootstrap from it. `truncated` (without `terminated`) ends the episode but the next state
///   is an ordinary state: TD agents bootstrap from it; Monte Carlo agents end the return there.
/// - After a step that ends the episode, the action returned is meaningless (0 here), and
///   the next call is `start`.
/// - All randomness comes from the `rng` passed in, so a seeded run is bit-identical.
/// - `step` allocates nothing once the agent has seen its largest state (Monte Carlo control
///   records the episode in buffers that grow to the longest episode).
/// - [`parameters`](TabularAgent::parameters) are the learned weights only (visit counts, traces and
///   the episode number are learner state and are not included): `w[i · n_actions + a]` for
///   the control agents (Double Q-learning: `Q₁` then `Q₂`), `w[i]` for the prediction agents.
/// - [`JsonState`] holds the whole learner, so that an agent restored from
///   [`save_state`](TabularAgent::save_state) between episodes continues exactly as the
///   original would have.
pub trait TabularAgent: Send + JsonState {
    /// Begins an episode in state `x` and returns the first action.
    fn start(&mut self, x: &[usize], rng: &mut EnvRng) -> usize;

    /// Learns from the transition that the last action caused and returns the next action
    /// (ignored by the runner when the episode ended there).
    fn learn(&mut self, t: Transition<'_>, rng: &mut EnvRng) -> usize;

    /// What the agent has learned: the values its greedy policy and
    /// [`parameters`](TabularAgent::parameters) come from.
    fn value_function(&self) -> &dyn ValueFunction;

    /// The same, mutably, for [`load_parameters`](TabularAgent::load_parameters).
    fn value_function_mut(&mut self) -> &mut dyn ValueFunction;

    /// The current exploration rate ε of the behaviour policy (0 for greedy or prediction).
    fn epsilon(&self) -> f64;

    /// Learns from `reward` and the next state `x`, and returns the next action (ignored by
    /// the runner when `terminated || truncated`): [`learn`](Self::learn) of that
    /// [`Transition`].
    #[inline(always)]
    fn step(
        &mut self,
        reward: f64,
        x: &[usize],
        terminated: bool,
        truncated: bool,
        rng: &mut EnvRng,
    ) -> usize {
        let t = Transition {
            reward,
            x,
            terminated,
            truncated,
        };
        self.learn(t, rng)
    }

    /// The number of actions.
    fn n_actions(&self) -> usize {
        self.value_function().n_actions()
    }

    /// The greedy action in `x`, ties broken uniformly at random.
    #[inline]
    fn greedy(&self, x: &[usize], rng: &mut EnvRng) -> usize {
        self.value_function().greedy(x, rng)
    }

    /// The agent's estimate of the value of state `x`: `max_a Q(x, a)` for control agents,
    /// `V(x)` for prediction agents.
    #[inline(always)]
    fn value(&self, x: &[usize]) -> f64 {
        self.value_function().value(x)
    }

    /// All learned parameters, flat, in a fixed documented order (for saving).
    fn parameters(&self) -> Vec<f64> {
        self.value_function().parameters()
    }

    /// Restores parameters saved by [`TabularAgent::parameters`]; a wrong length is an error.
    fn load_parameters(&mut self, params: &[f64]) -> Result<()> {
        self.value_function_mut().load_parameters(params)
    }

    /// The learner's whole state — parameters, counts, the schedules' progress, traces and
    /// episode buffers — as JSON, for a checkpoint between episodes.
    ///
    /// # Errors
    /// A value JSON cannot hold exactly (a weight that is not finite).
    fn save_state(&self) -> Result<String> {
        self.write_json()
    }

    /// Restores a state written by [`save_state`](TabularAgent::save_state) of an agent
    /// built from the same config.
    ///
    /// # Errors
    /// Text that is not such a state.
    fn load_state(&mut self, state: &str) -> Result<()> {
        self.read_json(state)
    }
}

/// Every tabular agent is an [`Agent`](crate::Agent) over active feature indices. Its
/// parameters are saved as little-endian `f64` in [`TabularAgent::parameters`] order
/// (`numpy.fromfile(path, "<f8")` reads them); its checkpoint is
/// [`TabularAgent::save_state`]'s JSON.
impl<T: TabularAgent + ?Sized> crate::Agent<[usize], usize> for T {
    #[inline]
    fn start(&mut self, obs: &[usize], rng: &mut EnvRng) -> Result<usize> {
        Ok(TabularAgent::start(self, obs, rng))
    }

    #[inline(always)]
    fn step(
        &mut self,
        reward: f64,
        obs: &[usize],
        terminated: bool,
        truncated: bool,
        rng: &mut EnvRng,
    ) -> Result<usize> {
        Ok(TabularAgent::step(
            self, reward, obs, terminated, truncated, rng,
        ))
    }

    #[inline]
    fn greedy(&mut self, obs: &[usize], _first: bool, rng: &mut EnvRng) -> Result<usize> {
        Ok(TabularAgent::greedy(self, obs, rng))
    }

    fn epsilon(&self) -> f64 {
        TabularAgent::epsilon(self)
    }

    #[inline(always)]
    fn value(&self, obs: &[usize]) -> Option<f64> {
        Some(TabularAgent::value(self, obs))
    }

    fn save(&self, path: &Path) -> Result<()> {
        let bytes: Vec<u8> = self
            .parameters()
            .iter()
            .flat_map(|p| p.to_le_bytes())
            .collect();
        std::fs::write(path, bytes).map_err(|source| io_error(path, source))
    }

    fn load(&mut self, path: &Path) -> Result<()> {
        let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
        if bytes.len() % 8 != 0 {
            return Err(crate::Error::Checkpoint {
                path: path.display().to_string(),
                message: format!("{} bytes, not a whole number of f64 values", bytes.len()),
            });
        }
        let params: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        self.load_parameters(&params)
            .map_err(|e| crate::Error::Checkpoint {
                path: path.display().to_string(),
                message: e.to_string(),
            })
    }

    fn checkpoint(&self, path: &Path) -> Result<()> {
        let state = self.save_state()?;
        std::fs::write(path, state).map_err(|source| io_error(path, source))
    }

    fn restore(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|source| io_error(path, source))?;
        self.load_state(&text)
            .map_err(|e| crate::Error::Checkpoint {
                path: path.display().to_string(),
                message: e.to_string(),
            })
    }
}

fn io_error(path: &Path, source: std::io::Error) -> crate::Error {
    crate::Error::Io {
        path: path.display().to_string(),
        source,
    }
}
