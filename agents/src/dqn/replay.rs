//! [`ReplayBuffer`]: a preallocated ring of transitions, one array per field.

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use super::rng::Uniform;
use crate::memory::machine_memory;

/// A minibatch gathered from a [`ReplayBuffer`], in preallocated host arrays that are reused
/// from one sample to the next.
///
/// Row `i` of `obs` is `obs[i * obs_dim .. (i + 1) * obs_dim]`.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// The sampled slots of the buffer.
    pub indices: Vec<usize>,
    /// Observations, `(batch, obs_dim)` row-major.
    pub obs: Vec<f32>,
    /// Actions taken.
    pub actions: Vec<u32>,
    /// Rewards (n-step discounted sums for n-step transitions).
    pub rewards: Vec<f32>,
    /// Next observations, `(batch, obs_dim)` row-major.
    pub next_obs: Vec<f32>,
    /// The bootstrap factor of each target: `γᵏ` (k the number of rewards summed) where the
    /// next observation is not terminal, `0` where it is.
    pub discounts: Vec<f32>,
    /// Importance-sampling weights (all 1 for uniform sampling).
    pub weights: Vec<f32>,
}

impl Batch {
    /// A batch with room for `size` transitions of `obs_dim` numbers.
    pub fn new(size: usize, obs_dim: usize) -> Self {
        Batch {
            indices: vec![0; size],
            obs: vec![0.0; size * obs_dim],
            actions: vec![0; size],
            rewards: vec![0.0; size],
            next_obs: vec![0.0; size * obs_dim],
            discounts: vec![0.0; size],
            weights: vec![1.0; size],
        }
    }

    /// The number of transitions.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// A ring buffer of transitions `(s, a, r, s', γᵏ, terminated, truncated)` with a fixed
/// capacity, stored as a structure of arrays: one preallocated array per field, so that
/// [`push`](ReplayBuffer::push) copies numbers and allocates nothing, and gathering a batch
/// reads each field contiguously.
///
/// `terminated` and `truncated` are kept apart: a target bootstraps from `s'` unless the
/// transition *terminated* (the MDP ended). A truncated transition (a time limit) still
/// bootstraps, as Stable-Baselines3's `handle_timeout_termination` does.
///
/// Once full, each push overwrites the oldest transition.
#[derive(Clone, Debug)]
pub struct ReplayBuffer {
    capacity: usize,
    obs_dim: usize,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    actions: Vec<u32>,
    rewards: Vec<f32>,
    gammas: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    /// The slot the next push writes.
    pos: usize,
    len: usize,
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions of observations of `obs_dim` numbers, all
    /// of its memory allocated now. `capacity` and `obs_dim` must be at least 1.
    pub fn new(capacity: usize, obs_dim: usize) -> crate::Result<Self> {
        if capacity == 0 {
            return Err(crate::Error::config("buffer_size", 0, "at least 1"));
        }
        if obs_dim == 0 {
            return Err(crate::Error::config("obs_dim", 0, "at least 1"));
        }
        Self::check_capacity(capacity, obs_dim)?;
        Ok(ReplayBuffer {
            capacity,
            obs_dim,
            obs: vec![0.0; capacity * obs_dim],
            next_obs: vec![0.0; capacity * obs_dim],
            actions: vec![0; capacity],
            rewards: vec![0.0; capacity],
            gammas: vec![0.0; capacity],
            terminated: vec![false; capacity],
            truncated: vec![false; capacity],
            pos: 0,
            len: 0,
        })
    }

    /// Checks that `capacity` transitions of observations of `obs_dim` numbers fit in the
    /// machine's memory (`MemTotal` of `/proc/meminfo`, else 1 TiB): the error names the
    /// bytes the buffer would need. [`new`](Self::new) checks this before allocating.
    pub fn check_capacity(capacity: usize, obs_dim: usize) -> crate::Result<()> {
        let per_transition = Self::bytes_per_transition(obs_dim);
        let memory = machine_memory();
        let bytes = capacity.checked_mul(per_transition);
        if bytes.is_none_or(|b| b as u64 > memory) {
            let needed = bytes.map_or_else(
                || format!("more than {} bytes", usize::MAX),
                |b| format!("{b} bytes"),
            );
            return Err(crate::Error::config(
                "buffer_size",
                capacity,
                format!(
                    "at most {} for observations of {obs_dim} numbers: the replay would need \
                     {needed} ({per_transition} a transition), more than this machine's memory \
                     of {memory} bytes",
                    memory / per_transition as u64
                ),
            ));
        }
        Ok(())
    }

    /// The bytes one transition takes: two observations of `obs_dim` `f32`s, the action,
    /// reward and discount (4 bytes each) and the two flags.
    pub fn bytes_per_transition(obs_dim: usize) -> usize {
        obs_dim.saturating_mul(2 * 4).saturating_add(3 * 4 + 2)
    }

    /// The most transitions it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of transitions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The numbers per observation.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// The slot the next push writes (the ring's position, saved in checkpoints).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Stores a transition in the next slot and returns that slot. `gamma_k` is the discount
    /// of the bootstrap from `next_obs` (`γ` for one-step transitions, `γⁿ` for n-step ones);
    /// it is ignored when `terminated`.
    ///
    /// # Panics
    /// If an observation's length is not `obs_dim` (a caller bug).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn push(
        &mut self,
        obs: &[f32],
        action: usize,
        reward: f32,
        next_obs: &[f32],
        gamma_k: f32,
        terminated: bool,
        truncated: bool,
    ) -> usize {
        let d = self.obs_dim;
        let i = self.pos;
        self.obs[i * d..(i + 1) * d].copy_from_slice(obs);
        self.next_obs[i * d..(i + 1) * d].copy_from_slice(next_obs);
        self.actions[i] = action as u32;
        self.rewards[i] = reward;
        self.gammas[i] = gamma_k;
        self.terminated[i] = terminated;
        self.truncated[i] = truncated;
        self.pos = (i + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        i
    }

    /// The buffer's arrays as tensors named `{prefix}obs`, `next_obs`, `actions`, `rewards`,
    /// `gammas`, `terminated`, `truncated` (flags as `u8`), for a checkpoint; with
    /// [`position`](Self::position) and [`len`](Self::len) they are the whole buffer.
    pub fn to_tensors(&self, prefix: &str) -> crate::Result<Vec<(String, Tensor)>> {
        let cpu = &Device::Cpu;
        let (c, d) = (self.capacity, self.obs_dim);
        let flags = |v: &[bool]| v.iter().map(|&b| u8::from(b)).collect::<Vec<u8>>();
        Ok(vec![
            (
                format!("{prefix}obs"),
                Tensor::from_slice(&self.obs, (c, d), cpu)?,
            ),
            (
                format!("{prefix}next_obs"),
                Tensor::from_slice(&self.next_obs, (c, d), cpu)?,
            ),
            (
                format!("{prefix}actions"),
                Tensor::from_slice(&self.actions, c, cpu)?,
            ),
            (
                format!("{prefix}rewards"),
                Tensor::from_slice(&self.rewards, c, cpu)?,
            ),
            (
                format!("{prefix}gammas"),
                Tensor::from_slice(&self.gammas, c, cpu)?,
            ),
            (
                format!("{prefix}terminated"),
                Tensor::from_vec(flags(&self.terminated), c, cpu)?,
            ),
            (
                format!("{prefix}truncated"),
                Tensor::from_vec(flags(&self.truncated), c, cpu)?,
            ),
        ])
    }

    /// Restores what [`to_tensors`](Self::to_tensors) saved, into a buffer of the same
    /// capacity and observation size.
    pub fn load_tensors(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        prefix: &str,
        position: usize,
        len: usize,
    ) -> crate::Result<()> {
        let get = |name: &str, n: usize| -> crate::Result<Tensor> {
            let key = format!("{prefix}{name}");
            let t = tensors.get(&key).ok_or_else(|| crate::Error::Checkpoint {
                path: "replay buffer".into(),
                message: format!("missing `{key}`"),
            })?;
            if t.elem_count() != n {
                return Err(crate::Error::Checkpoint {
                    path: "replay buffer".into(),
                    message: format!("`{key}` has {} values, expected {n}", t.elem_count()),
                });
            }
            Ok(t.flatten_all()?)
        };
        if position >= self.capacity || len > self.capacity {
            // The checkpoint was written with another `buffer_size`: name that, not the ring's
            // internals.
            return Err(crate::Error::Checkpoint {
                path: "replay buffer".into(),
                message: format!(
                    "it holds {len} transitions (next slot {position}), more than `buffer_size` \
                     = {} allows; resume with the buffer_size it was saved with",
                    self.capacity
                ),
            });
        }
        let (c, d) = (self.capacity, self.obs_dim);
        self.obs = get("obs", c * d)?.to_vec1()?;
        self.next_obs = get("next_obs", c * d)?.to_vec1()?;
        self.actions = get("actions", c)?.to_vec1()?;
        self.rewards = get("rewards", c)?.to_vec1()?;
        self.gammas = get("gammas", c)?.to_vec1()?;
        let flags = |v: Vec<u8>| v.into_iter().map(|b| b != 0).collect();
        self.terminated = flags(get("terminated", c)?.to_vec1()?);
        self.truncated = flags(get("truncated", c)?.to_vec1()?);
        self.pos = position;
        self.len = len;
        Ok(())
    }

    /// Whether the transition in `slot` ended its episode by termination.
    pub fn terminated(&self, slot: usize) -> bool {
        self.terminated[slot]
    }

    /// Whether the transition in `slot` ended its episode by truncation.
    pub fn truncated(&self, slot: usize) -> bool {
        self.truncated[slot]
    }

    /// The observation stored in `slot`.
    pub fn obs(&self, slot: usize) -> &[f32] {
        &self.obs[slot * self.obs_dim..(slot + 1) * self.obs_dim]
    }

    /// The next observation stored in `slot`.
    pub fn next_obs(&self, slot: usize) -> &[f32] {
        &self.next_obs[slot * self.obs_dim..(slot + 1) * self.obs_dim]
    }

    /// The action, reward and bootstrap discount (`γᵏ`, or 0 where the transition
    /// terminated) stored in `slot`.
    pub fn action_reward_discount(&self, slot: usize) -> (u32, f32, f32) {
        let discount = if self.terminated[slot] {
            0.0
        } else {
            self.gammas[slot]
        };
        (self.actions[slot], self.rewards[slot], discount)
    }

    /// Whether the transition in `slot` ended its episode (terminated or truncated).
    pub fn ends_episode(&self, slot: usize) -> bool {
        self.terminated[slot] || self.truncated[slot]
    }

    /// The slot of the oldest transition held (0 until the ring is full).
    pub fn oldest(&self) -> usize {
        if self.len < self.capacity {
            0
        } else {
            self.pos
        }
    }

    /// The slot of the newest transition held.
    pub fn newest(&self) -> usize {
        (self.pos + self.capacity - 1) % self.capacity
    }

    /// Draws `batch.len()` slots uniformly with replacement (Stable-Baselines3's
    /// `randint(0, size, batch_size)`) and gathers them into `batch`.
    ///
    /// # Panics
    /// If the buffer is empty.
    pub fn sample_uniform(&self, batch: &mut Batch, rng: &mut impl Uniform) {
        assert!(self.len > 0, "sampling an empty replay buffer");
        for k in 0..batch.len() {
            batch.indices[k] = rng.below(self.len);
        }
        batch.weights.fill(1.0);
        self.gather(batch);
    }

    /// Appends the next observations of the transitions at `indices` to `out`, row after row.
    pub fn next_observations_into(&self, indices: &[usize], out: &mut Vec<f32>) {
        let d = self.obs_dim;
        for &i in indices {
            out.extend_from_slice(&self.next_obs[i * d..(i + 1) * d]);
        }
    }

    /// Copies the transitions at `batch.indices` into the batch's arrays.
    pub fn gather(&self, batch: &mut Batch) {
        let d = self.obs_dim;
        for (k, &i) in batch.indices.iter().enumerate() {
            batch.obs[k * d..(k + 1) * d].copy_from_slice(&self.obs[i * d..(i + 1) * d]);
            batch.next_obs[k * d..(k + 1) * d].copy_from_slice(&self.next_obs[i * d..(i + 1) * d]);
            batch.actions[k] = self.actions[i];
            batch.rewards[k] = self.rewards[i];
            batch.discounts[k] = if self.terminated[i] {
                0.0
            } else {
                self.gammas[i]
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlab_envs::EnvRng;

    #[test]
    fn a_checkpoint_of_another_buffer_size_names_buffer_size_not_the_replay_position() {
        let mut r = ReplayBuffer::new(4, 2).unwrap();
        let e = r.load_tensors(&HashMap::new(), "", 7, 8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "checkpoint replay buffer: it holds 8 transitions (next slot 7), more than \
             `buffer_size` = 4 allows; resume with the buffer_size it was saved with"
        );
    }

    #[test]
    fn a_buffer_larger_than_the_machine_is_refused_before_it_is_allocated() {
        let e = ReplayBuffer::new(usize::MAX / 2, 4)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("invalid value "), "{e}");
        assert!(e.contains("for `buffer_size`"), "{e}");
        assert!(e.contains("more than this machine's memory"), "{e}");
    }

    #[test]
    fn ring_wraps_around_and_keeps_fields_apart() {
        let mut r = ReplayBuffer::new(3, 2).unwrap();
        for t in 0..5u32 {
            let x = t as f32;
            let slot = r.push(
                &[x, -x],
                t as usize,
                10.0 + x,
                &[x + 1.0, 0.0],
                0.9,
                t == 1,
                t == 3,
            );
            assert_eq!(slot, (t % 3) as usize);
        }
        assert_eq!((r.len(), r.position()), (3, 2));
        // Structure of arrays: slot 0 holds t = 3, slot 1 t = 4, slot 2 t = 2.
        assert_eq!(r.obs, vec![3.0, -3.0, 4.0, -4.0, 2.0, -2.0]);
        assert_eq!(r.actions, vec![3, 4, 2]);
        assert_eq!(r.rewards, vec![13.0, 14.0, 12.0]);
        assert_eq!(r.terminated, vec![false, false, false]);
        assert_eq!(r.truncated, vec![true, false, false]);
        // A truncated transition still bootstraps; a terminated one does not.
        let mut b = Batch::new(2, 2);
        b.indices.copy_from_slice(&[0, 2]);
        r.gather(&mut b);
        assert_eq!(b.discounts, vec![0.9, 0.9]);
        assert_eq!(b.next_obs, vec![4.0, 0.0, 3.0, 0.0]);
        let mut r = ReplayBuffer::new(2, 1).unwrap();
        r.push(&[0.0], 0, 1.0, &[1.0], 0.9, true, false);
        let mut b = Batch::new(1, 1);
        r.gather(&mut b);
        assert_eq!(b.discounts, vec![0.0]);
    }

    #[test]
    fn push_allocates_nothing() {
        let mut r = ReplayBuffer::new(4, 3).unwrap();
        let before = (r.obs.as_ptr(), r.obs.capacity(), r.next_obs.capacity());
        for t in 0..10 {
            r.push(&[1.0; 3], t % 2, 0.0, &[2.0; 3], 0.99, false, false);
        }
        assert_eq!(
            before,
            (r.obs.as_ptr(), r.obs.capacity(), r.next_obs.capacity())
        );
    }

    #[test]
    fn uniform_sampling_covers_only_filled_slots() {
        let mut r = ReplayBuffer::new(100, 1).unwrap();
        for t in 0..5 {
            r.push(&[t as f32], 0, 0.0, &[0.0], 1.0, false, false);
        }
        let mut b = Batch::new(64, 1);
        let mut rng = EnvRng::new(1);
        let mut seen = [false; 5];
        for _ in 0..10 {
            r.sample_uniform(&mut b, &mut rng);
            for (&i, &o) in b.indices.iter().zip(&b.obs) {
                assert!(i < 5);
                assert_eq!(o, i as f32);
                seen[i] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }
}
