//! A [`Dqn`]'s whole learner state as tensors and numbers, and back.

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use super::{Dqn, DqnRng, DqnState};
use crate::nn::RecurrentState;
use crate::{Error, Result};

impl Dqn {
    /// The whole learner state: tensors named `online.…`, `target.…` (the networks),
    /// `optim.…` (Adam's moments), `replay.…` (the buffer), `pending_obs`, `priorities`,
    /// `acting.h` and `acting.c` (a recurrent network's state mid-episode), and the numbers in
    /// a [`DqnState`]. [`restore`](Dqn::restore) on an agent built with the same
    /// arguments continues exactly where this one stands.
    pub fn checkpoint(&self) -> Result<(HashMap<String, Tensor>, DqnState)> {
        let mut t: HashMap<String, Tensor> = HashMap::new();
        // Copies: the optimizer updates the variables' storage in place.
        for (name, v) in self.params.tensors() {
            t.insert(format!("online.{name}"), v.copy()?);
        }
        for (name, v) in self.target_params.tensors() {
            t.insert(format!("target.{name}"), v.copy()?);
        }
        let (opt, optimizer_steps) = self.opt.state_tensors()?;
        for (name, v) in opt {
            t.insert(format!("optim.{name}"), v.copy()?);
        }
        t.extend(self.replay.to_tensors("replay.")?);
        let (obs, pending_actions, pending_rewards) = self.nstep.pending_steps();
        let n = obs.len();
        t.insert(
            "pending_obs".into(),
            Tensor::from_vec(obs, n, &Device::Cpu)?,
        );
        if let Some(state) = &self.acting.state {
            t.insert("acting.h".into(), state.h.copy()?);
            if let Some(c) = &state.c {
                t.insert("acting.c".into(), c.copy()?);
            }
        }
        let max_priority = match &self.per {
            Some(p) => {
                let (leaves, max) = p.state();
                let n = leaves.len();
                t.insert(
                    "priorities".into(),
                    Tensor::from_vec(leaves, n, &Device::Cpu)?,
                );
                Some(max)
            }
            None => None,
        };
        let state = DqnState {
            steps: self.steps,
            since_train: self.since_train,
            updates: self.updates,
            epsilon: self.epsilon,
            rng: self.rng.state(),
            replay_position: self.replay.position(),
            replay_len: self.replay.len(),
            pending_actions,
            pending_rewards,
            max_priority,
            optimizer_steps,
        };
        Ok((t, state))
    }

    /// Restores a [`checkpoint`](Dqn::checkpoint) into an agent built with the same
    /// arguments.
    pub fn restore(&mut self, t: &HashMap<String, Tensor>, state: &DqnState) -> Result<()> {
        let part = |prefix: &str| -> HashMap<String, Tensor> {
            t.iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
                .collect()
        };
        self.params
            .assign_all(&part("online."), "checkpoint (online network)")?;
        self.target_params
            .assign_all(&part("target."), "checkpoint (target network)")?;
        self.opt
            .load_state_tensors(&part("optim."), &state.optimizer_steps)?;
        self.replay
            .load_tensors(t, "replay.", state.replay_position, state.replay_len)?;
        let missing = |name: &str| Error::Checkpoint {
            path: "checkpoint".into(),
            message: format!("missing `{name}`"),
        };
        let obs: Vec<f32> = t
            .get("pending_obs")
            .ok_or_else(|| missing("pending_obs"))?
            .to_vec1()?;
        self.nstep
            .restore(&obs, &state.pending_actions, &state.pending_rewards);
        if let Some(p) = self.per.as_mut() {
            let leaves: Vec<f64> = t
                .get("priorities")
                .ok_or_else(|| missing("priorities"))?
                .to_vec1()?;
            p.restore(&leaves, state.max_priority.unwrap_or(1.0));
        }
        self.acting.state = match t.get("acting.h") {
            Some(h) => Some(RecurrentState {
                h: h.to_device(&self.device)?,
                c: match t.get("acting.c") {
                    Some(c) => Some(c.to_device(&self.device)?),
                    None => None,
                },
            }),
            None => None,
        };
        self.steps = state.steps;
        self.since_train = state.since_train;
        self.updates = state.updates;
        self.epsilon = state.epsilon;
        self.rng = DqnRng::restore(state.rng.0, state.rng.1);
        Ok(())
    }

    /// Writes [`checkpoint`](Dqn::checkpoint)'s tensors to the safetensors file `path` and
    /// returns its numbers (for a sidecar).
    pub fn save_checkpoint(&self, path: impl AsRef<std::path::Path>) -> Result<DqnState> {
        let path = path.as_ref();
        let (tensors, state) = self.checkpoint()?;
        candle_core::safetensors::save(&tensors, path).map_err(|e| Error::Checkpoint {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(state)
    }

    /// [`restore`](Dqn::restore) from a file written by
    /// [`save_checkpoint`](Dqn::save_checkpoint) and its numbers.
    pub fn load_checkpoint(
        &mut self,
        path: impl AsRef<std::path::Path>,
        state: &DqnState,
    ) -> Result<()> {
        let path = path.as_ref();
        let tensors =
            candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| Error::Checkpoint {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        self.restore(&tensors, state)
    }
}
