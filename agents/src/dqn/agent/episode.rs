//! [`Dqn`] as an [`Agent`]: [`act`](Dqn::act) and [`observe`](Dqn::observe) driven one
//! episode at a time, greedy play with a memory of its own, and files.
//!
//! `step` observes the transition from the observation and action it remembers, then acts on
//! the new observation unless the episode ended: the same calls, in the same order, as a loop
//! that acts, steps the env and observes, so the runs are the same bits.

use std::path::Path;

use qlab_envs::EnvRng;

use super::{Dqn, DqnState, Memory};
use crate::{Agent, Result, TrainStats};

/// The episode under way, as [`Agent`] plays it.
#[derive(Debug, Default)]
pub(super) struct Episode {
    /// The last observation acted on.
    obs: Vec<f32>,
    /// The action taken there.
    action: usize,
    /// What the last step trained.
    stats: Option<TrainStats>,
    /// The recurrent network's state in greedy play.
    greedy: Memory,
}

/// The key of a checkpoint file's metadata that holds the [`DqnState`] as JSON.
const STATE_KEY: &str = "dqn_state";

impl Dqn {
    fn remember(&mut self, obs: &[f32], action: usize) {
        self.episode.obs.clear();
        self.episode.obs.extend_from_slice(obs);
        self.episode.action = action;
    }
}

impl Agent<[f32], usize> for Dqn {
    fn start(&mut self, obs: &[f32], _rng: &mut EnvRng) -> Result<usize> {
        let action = self.act(obs)?;
        self.remember(obs, action);
        Ok(action)
    }

    fn step(
        &mut self,
        reward: f64,
        obs: &[f32],
        terminated: bool,
        truncated: bool,
        _rng: &mut EnvRng,
    ) -> Result<usize> {
        let previous = std::mem::take(&mut self.episode.obs);
        let stats = self.observe(
            &previous,
            self.episode.action,
            reward,
            obs,
            terminated,
            truncated,
        );
        self.episode.obs = previous;
        self.episode.stats = stats?;
        if terminated || truncated {
            return Ok(0);
        }
        let action = self.act(obs)?;
        self.remember(obs, action);
        Ok(action)
    }

    fn greedy(&mut self, obs: &[f32], first: bool, _rng: &mut EnvRng) -> Result<usize> {
        if first {
            self.episode.greedy.reset();
        }
        let mut memory = std::mem::take(&mut self.episode.greedy);
        let action = self.greedy_with(obs, &mut memory);
        self.episode.greedy = memory;
        action
    }

    fn epsilon(&self) -> f64 {
        Dqn::epsilon(self)
    }

    fn train_stats(&self) -> Option<TrainStats> {
        self.episode.stats
    }

    fn save(&self, path: &Path) -> Result<()> {
        Ok(self.params().save(path)?)
    }

    fn load(&mut self, path: &Path) -> Result<()> {
        self.load_params(path)
    }

    /// Every tensor of [`Dqn::checkpoint`] in one safetensors file, its [`DqnState`] as JSON
    /// in the file's metadata.
    fn checkpoint(&self, path: &Path) -> Result<()> {
        let (tensors, state) = Dqn::checkpoint(self)?;
        crate::state_file::write(path, &tensors, STATE_KEY, &state)
    }

    fn restore(&mut self, path: &Path) -> Result<()> {
        let (tensors, state): (_, DqnState) = crate::state_file::read(path, STATE_KEY)?;
        Dqn::restore(self, &tensors, &state)
    }
}
