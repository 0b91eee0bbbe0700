//! An [`ActorCriticAgent`]'s whole state between two rollouts, in one file, and back.

use std::collections::HashMap;
use std::path::Path;

use candle_core::Tensor;
use qlab_envs::EnvRng;
use serde::{Deserialize, Serialize};

use super::ActorCriticAgent;
use crate::Result;
use crate::normalize::Normalizer;
use crate::state_file;

/// The key of a checkpoint file's metadata that holds the [`State`] as JSON.
const STATE_KEY: &str = "actor_critic_state";

/// What an agent carries from one rollout to the next besides its tensors.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    steps: u64,
    updates: u64,
    rng: [u64; 4],
    /// Whether each env's current observation begins an episode.
    episode_starts: Vec<bool>,
    normalizer: Normalizer,
    seen_first: bool,
    /// The optimizer's step count of each variable.
    optimizer_steps: Vec<u64>,
}

impl ActorCriticAgent {
    /// Writes the agent's state to the file `path`: the networks' parameters (tensors named
    /// `policy.…`), the optimizer's moments (`optim.…`), and as JSON in the file's metadata
    /// the generator, the step and update counts, which envs begin an episode, and the
    /// observation and reward statistics. [`load_checkpoint`](Self::load_checkpoint) into an
    /// agent built with the same arguments continues exactly where this one stands.
    ///
    /// A checkpoint is taken between rollouts: after the [`observe`](Self::observe) that
    /// trained, before the next [`act`](Self::act) (gSDE draws its noise weights anew as
    /// each rollout begins, so they need no saving).
    ///
    /// # Errors
    /// A rollout under way; a file that cannot be written.
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if self.rollout.steps() != 0 || !self.sampled.is_empty() {
            return Err(state_file::error(
                path,
                format!(
                    "a checkpoint is taken between rollouts; this one has {} of its {} steps",
                    self.rollout.steps(),
                    self.common.n_steps
                ),
            ));
        }
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        // Copies: the optimizer updates the variables' storage in place.
        for (name, v) in self.params.tensors() {
            tensors.insert(format!("policy.{name}"), v.copy()?);
        }
        let (opt, optimizer_steps) = self.opt.state_tensors()?;
        for (name, v) in opt {
            tensors.insert(format!("optim.{name}"), v.copy()?);
        }
        let state = State {
            steps: self.steps,
            updates: self.updates,
            rng: self.rng.state(),
            episode_starts: self.episode_starts.clone(),
            normalizer: self.norm.clone(),
            seen_first: self.seen_first,
            optimizer_steps,
        };
        state_file::write(path, &tensors, STATE_KEY, &state)
    }

    /// Restores a state [`save_checkpoint`](Self::save_checkpoint) wrote, into an agent built
    /// with the same arguments.
    ///
    /// # Errors
    /// A file that does not read, or holds tensors, statistics or counts of another agent.
    pub fn load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let (tensors, state): (_, State) = state_file::read(path, STATE_KEY)?;
        let bad = |message: String| state_file::error(path, message);
        if state.episode_starts.len() != self.common.n_envs {
            return Err(bad(format!(
                "{} envs, the agent steps {}",
                state.episode_starts.len(),
                self.common.n_envs
            )));
        }
        if !EnvRng::is_valid_state(state.rng) {
            return Err(bad("the generator's state is all zeros".into()));
        }
        let part = |prefix: &str| -> HashMap<String, Tensor> {
            tensors
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
                .collect()
        };
        self.params
            .assign_all(&part("policy."), &path.display().to_string())?;
        self.opt
            .load_state_tensors(&part("optim."), &state.optimizer_steps)
            .map_err(|e| bad(e.to_string()))?;
        self.set_normalizer(state.normalizer)
            .map_err(|e| bad(e.to_string()))?;
        self.seen_first = state.seen_first;
        self.rng = EnvRng::from_state(state.rng);
        self.episode_starts = state.episode_starts;
        self.steps = state.steps;
        self.updates = state.updates;
        self.rollout.clear();
        self.sampled.clear();
        self.stats = None;
        Ok(())
    }
}
