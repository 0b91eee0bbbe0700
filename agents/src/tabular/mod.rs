//! Tabular and linear value-based agents: Monte Carlo control, TD control, eligibility traces.
//!
//! Every agent here sees a state as the indices of its **active binary features**. A tabular
//! state is a single index (the env's state index, i.e. one-hot features); tile coding gives
//! one index per tiling. Action values are linear in the features,
//! `Q(s, a) = Σ_{i active in s} w[i · n_actions + a]`, so the same code is tabular with
//! one-hot features and linear function approximation with tile-coded ones (Sutton & Barto,
//! *Reinforcement Learning*, 2nd ed., ch. 9–12).
//!
//! | `algorithm` | agent | S&B |
//! |---|---|---|
//! | `mc_control` | [`McControl`]: exploring starts, on-policy ε-soft, off-policy (weighted or ordinary importance sampling) | §5.3–5.7 |
//! | `sarsa` | [`Sarsa`] | §6.4 |
//! | `q_learning` | [`QLearning`] | §6.5 |
//! | `expected_sarsa` | [`ExpectedSarsa`] | §6.6 |
//! | `double_q_learning` | [`DoubleQLearning`] | §6.7 |
//! | `n_step_sarsa` | [`NStepSarsa`] | §7.2 |
//! | `td_lambda` | [`TdLambda`]: prediction of the uniformly random policy | §12.2 |
//! | `true_online_td_lambda` | [`TrueOnlineTdLambda`]: prediction | §12.5 |
//! | `sarsa_lambda` | [`SarsaLambda`] | §12.7 |
//! | `true_online_sarsa_lambda` | [`TrueOnlineSarsaLambda`] | §12.7 |
//! | `q_lambda` | [`QLambda`]: Watkins's Q(λ) | §12.10 |
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
//! - Traces: accumulating, replacing or dutch ([`TraceKind`]), kept sparse with a cutoff
//!   ([`SparseTraces`]).
//! - The episode loop: [`run_episode`], [`run_episode_exploring_starts`],
//!   [`evaluate_greedy`].
//!
//! ```
//! use qlab_agents::tabular::{AgentConfig, SarsaConfig, StepSize, evaluate_greedy, run_episode};
//! use qlab_envs::{make, AnyEnv, EnvRng, Params};
//! # fn main() -> qlab_agents::Result<()> {
//! let AnyEnv::Discrete(mut env) = make("WindyGridworld-v0", &Params::new())? else {
//!     unreachable!()
//! };
//! let config = AgentConfig::Sarsa(SarsaConfig { alpha: StepSize::Constant(0.5), ..Default::default() });
//! config.validate()?;
//! let mut agent = config.build(70, 4)?;
//! let mut rng = EnvRng::new(0);
//! let first = run_episode(&mut env, agent.as_mut(), Some(0), &mut rng, None)?;
//! for _ in 0..300 {
//!     run_episode(&mut env, agent.as_mut(), None, &mut rng, None)?;
//! }
//! // The first episode wanders for hundreds of steps; the greedy policy learned is short
//! // (15 steps is the shortest path; a greedy policy can also loop, hence the cap).
//! let greedy = evaluate_greedy(&mut env, agent.as_ref(), 1, None, &mut rng, Some(1000))?;
//! assert!(first.length > 100 && -greedy.mean < 30.0);
//! # Ok(())
//! # }
//! ```

mod checks;
mod config;
mod double_q_learning;
mod episode;
mod expected_sarsa;
mod mc_control;
mod n_step_sarsa;
pub mod policy;
mod q_lambda;
mod q_learning;
mod sarsa;
mod sarsa_lambda;
mod schedule;
mod td_lambda;
#[cfg(test)]
mod testing;
mod traces;
mod true_online;
mod values;

pub use config::AgentConfig;
pub use double_q_learning::{DoubleQLearning, DoubleQLearningConfig};
pub use episode::{
    EpisodeOutcome, Evaluation, evaluate_greedy, exploring_start_states, run_episode,
    run_episode_exploring_starts,
};
pub use expected_sarsa::{ExpectedSarsa, ExpectedSarsaConfig};
pub use mc_control::{ImportanceSampling, McControl, McControlConfig, McVariant, Visits};
pub use n_step_sarsa::{NStepSarsa, NStepSarsaConfig};
pub use policy::{Policy, PolicyKind};
pub use q_lambda::{QLambda, QLambdaConfig};
pub use q_learning::{QLearning, QLearningConfig};
pub use sarsa::{Sarsa, SarsaConfig};
pub use sarsa_lambda::{SarsaLambda, SarsaLambdaConfig};
pub use schedule::{Schedule, StepSize};
pub use td_lambda::{TdLambda, TdLambdaConfig};
pub use traces::{SparseTraces, TraceKind};
pub use true_online::{
    TrueOnlineSarsaLambda, TrueOnlineSarsaLambdaConfig, TrueOnlineTdLambda,
    TrueOnlineTdLambdaConfig,
};
pub use values::ActionValues;

use std::path::Path;

use qlab_envs::EnvRng;

/// An agent that learns from a stream of episodes, choosing its own actions.
///
/// The runner drives it as RL-Glue does: `start` with the first state, then `step` with each
/// reward and next state, until a step reports the end of the episode. `step` returns the next
/// action, which the runner takes unless the episode ended ([`run_episode`] is that loop).
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
pub trait TabularAgent: Send {
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

    /// Restores parameters saved by [`TabularAgent::parameters`]; a wrong length is an error.
    fn load_parameters(&mut self, params: &[f64]) -> crate::Result<()>;

    /// The learner's whole state — parameters, counts, the schedules' progress, traces and
    /// episode buffers — as JSON, for a checkpoint between episodes.
    ///
    /// # Errors
    /// A value JSON cannot hold exactly (a weight that is not finite).
    fn save_state(&self) -> crate::Result<String>;

    /// Restores a state written by [`save_state`](TabularAgent::save_state) of an agent
    /// built from the same config.
    ///
    /// # Errors
    /// Text that is not such a state.
    fn load_state(&mut self, state: &str) -> crate::Result<()>;
}

/// [`TabularAgent::save_state`] of any agent that serializes.
fn save_state<T: serde::Serialize + serde::de::DeserializeOwned>(
    agent: &T,
) -> crate::Result<String> {
    let json = serde_json::to_string(agent).map_err(|e| state_error(e.to_string()))?;
    // JSON has no infinities or NaN (serde_json writes them as `null`): read the state back
    // once, so that a checkpoint that could not be restored is refused here, not at resume.
    serde_json::from_str::<T>(&json).map_err(|_| {
        state_error("a learned value is not a finite number; no checkpoint written".into())
    })?;
    Ok(json)
}

/// [`TabularAgent::load_state`] of any agent that deserializes.
fn load_state<T: serde::de::DeserializeOwned>(agent: &mut T, state: &str) -> crate::Result<()> {
    *agent = serde_json::from_str(state).map_err(|e| state_error(e.to_string()))?;
    Ok(())
}

fn state_error(message: String) -> crate::Error {
    crate::Error::Checkpoint {
        path: "agent state".into(),
        message,
    }
}

/// Every tabular agent is an [`Agent`](crate::Agent) over active feature indices. Its
/// parameters are saved as little-endian `f64` in [`TabularAgent::parameters`] order
/// (`numpy.fromfile(path, "<f8")` reads them); its checkpoint is
/// [`TabularAgent::save_state`]'s JSON.
impl<T: TabularAgent + ?Sized> crate::Agent<[usize], usize> for T {
    #[inline]
    fn start(&mut self, obs: &[usize], rng: &mut EnvRng) -> crate::Result<usize> {
        Ok(TabularAgent::start(self, obs, rng))
    }

    #[inline]
    fn step(
        &mut self,
        reward: f64,
        obs: &[usize],
        terminated: bool,
        truncated: bool,
        rng: &mut EnvRng,
    ) -> crate::Result<usize> {
        Ok(TabularAgent::step(
            self, reward, obs, terminated, truncated, rng,
        ))
    }

    #[inline]
    fn greedy(&mut self, obs: &[usize], _first: bool, rng: &mut EnvRng) -> crate::Result<usize> {
        Ok(TabularAgent::greedy(self, obs, rng))
    }

    fn epsilon(&self) -> f64 {
        TabularAgent::epsilon(self)
    }

    #[inline]
    fn value(&self, obs: &[usize]) -> Option<f64> {
        Some(TabularAgent::value(self, obs))
    }

    fn save(&self, path: &Path) -> crate::Result<()> {
        let bytes: Vec<u8> = self
            .parameters()
            .iter()
            .flat_map(|p| p.to_le_bytes())
            .collect();
        std::fs::write(path, bytes).map_err(|source| io_error(path, source))
    }

    fn load(&mut self, path: &Path) -> crate::Result<()> {
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

    fn checkpoint(&self, path: &Path) -> crate::Result<()> {
        let state = self.save_state()?;
        std::fs::write(path, state).map_err(|source| io_error(path, source))
    }

    fn restore(&mut self, path: &Path) -> crate::Result<()> {
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
