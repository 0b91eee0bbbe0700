//! [`NStep`]: turns one-step transitions into n-step ones before they enter the replay buffer.

use super::replay::ReplayBuffer;

/// Holds the last `n − 1` steps of the current episode and writes, for each step `t`, the
/// transition `(s_t, a_t, Σ_{k<m} γᵏ r_{t+k}, s_{t+m}, γᵐ)` with `m = n`, or fewer where the
/// episode ended first.
///
/// At the end of an episode every pending step is written with the episode's final
/// observation and flags: after a *termination* none of them bootstraps (the return is
/// complete); after a *truncation* each bootstraps from the last observation with `γᵐ`.
/// With `n = 1` every step passes straight through. Its memory is allocated once.
#[derive(Clone, Debug)]
pub struct NStep {
    n: usize,
    gamma: f64,
    obs_dim: usize,
    /// Pending steps, oldest first, as a ring starting at `head`.
    obs: Vec<f32>,
    actions: Vec<usize>,
    rewards: Vec<f64>,
    head: usize,
    len: usize,
}

impl NStep {
    /// An accumulator of `n ≥ 1` steps with discount `gamma`.
    pub fn new(n: usize, gamma: f64, obs_dim: usize) -> Self {
        let n = n.max(1);
        NStep {
            n,
            gamma,
            obs_dim,
            obs: vec![0.0; n * obs_dim],
            actions: vec![0; n],
            rewards: vec![0.0; n],
            head: 0,
            len: 0,
        }
    }

    /// Steps waiting for their n-step return.
    pub fn pending(&self) -> usize {
        self.len
    }

    /// The pending steps for a checkpoint: observations, actions, rewards, oldest first.
    pub fn pending_steps(&self) -> (Vec<f32>, Vec<usize>, Vec<f64>) {
        let d = self.obs_dim;
        let mut obs = Vec::with_capacity(self.len * d);
        let (mut actions, mut rewards) = (Vec::new(), Vec::new());
        for k in 0..self.len {
            let i = (self.head + k) % self.n;
            obs.extend_from_slice(&self.obs[i * d..(i + 1) * d]);
            actions.push(self.actions[i]);
            rewards.push(self.rewards[i]);
        }
        (obs, actions, rewards)
    }

    /// Restores pending steps saved by [`pending_steps`](Self::pending_steps).
    pub fn restore(&mut self, obs: &[f32], actions: &[usize], rewards: &[f64]) {
        let d = self.obs_dim;
        self.head = 0;
        self.len = actions.len().min(self.n);
        for k in 0..self.len {
            self.obs[k * d..(k + 1) * d].copy_from_slice(&obs[k * d..(k + 1) * d]);
            self.actions[k] = actions[k];
            self.rewards[k] = rewards[k];
        }
    }

    /// Adds a step and writes to `replay` every transition it completes; `written` is called
    /// with each slot written.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        obs: &[f32],
        action: usize,
        reward: f64,
        next_obs: &[f32],
        terminated: bool,
        truncated: bool,
        replay: &mut ReplayBuffer,
        mut written: impl FnMut(usize),
    ) {
        let d = self.obs_dim;
        let tail = (self.head + self.len) % self.n;
        self.obs[tail * d..(tail + 1) * d].copy_from_slice(obs);
        self.actions[tail] = action;
        self.rewards[tail] = reward;
        self.len += 1;
        if terminated || truncated {
            while self.len > 0 {
                written(self.emit(next_obs, terminated, truncated, replay));
            }
            self.head = 0;
        } else if self.len == self.n {
            written(self.emit(next_obs, false, false, replay));
        }
    }

    /// Writes the oldest pending step with the return of all pending rewards.
    fn emit(
        &mut self,
        next_obs: &[f32],
        terminated: bool,
        truncated: bool,
        replay: &mut ReplayBuffer,
    ) -> usize {
        let (mut ret, mut discount) = (0.0, 1.0);
        for k in 0..self.len {
            ret += discount * self.rewards[(self.head + k) % self.n];
            discount *= self.gamma;
        }
        let d = self.obs_dim;
        let h = self.head;
        let slot = replay.push(
            &self.obs[h * d..(h + 1) * d],
            self.actions[h],
            ret as f32,
            next_obs,
            discount as f32,
            terminated,
            truncated,
        );
        self.head = (h + 1) % self.n;
        self.len -= 1;
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dqn::replay::Batch;

    fn run(n: usize, terminated: bool) -> Batch {
        let mut replay = ReplayBuffer::new(10, 1).unwrap();
        let mut acc = NStep::new(n, 0.5, 1);
        // Four steps s0 → s1 → s2 → s3 → s4 with rewards 1, 2, 4, 8; the last ends the episode.
        for t in 0..4 {
            let last = t == 3;
            acc.push(
                &[t as f32],
                t,
                f64::from(1u32 << t),
                &[t as f32 + 1.0],
                last && terminated,
                last && !terminated,
                &mut replay,
                |_| {},
            );
        }
        assert_eq!(acc.pending(), 0);
        let mut b = Batch::new(replay.len(), 1);
        for (k, i) in b.indices.iter_mut().enumerate() {
            *i = k;
        }
        replay.gather(&mut b);
        b
    }

    #[test]
    fn n_step_returns_cut_bootstrapping_only_on_termination() {
        // n = 2, γ = ½: R_t = r_t + ½ r_{t+1} → 2, 4, 8, then the last step alone: 8.
        let b = run(2, true);
        assert_eq!(b.obs, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(b.rewards, vec![2.0, 4.0, 8.0, 8.0]);
        assert_eq!(b.next_obs, vec![2.0, 3.0, 4.0, 4.0]);
        // Full n-step transitions bootstrap with γ²; the two that end in the terminal state
        // do not bootstrap at all.
        assert_eq!(b.discounts, vec![0.25, 0.25, 0.0, 0.0]);
        // Truncated: the same returns, but the tail bootstraps from s4 with γ^m.
        let b = run(2, false);
        assert_eq!(b.rewards, vec![2.0, 4.0, 8.0, 8.0]);
        assert_eq!(b.discounts, vec![0.25, 0.25, 0.25, 0.5]);
        // n = 3: 1 + 1 + 1 = 3, 2 + 2 + 2 = 6, then 4 + 4 = 8 and 8.
        let b = run(3, false);
        assert_eq!(b.rewards, vec![3.0, 6.0, 8.0, 8.0]);
        assert_eq!(b.discounts, vec![0.125, 0.125, 0.25, 0.5]);
    }

    #[test]
    fn one_step_passes_through() {
        let b = run(1, true);
        assert_eq!(b.rewards, vec![1.0, 2.0, 4.0, 8.0]);
        assert_eq!(b.discounts, vec![0.5, 0.5, 0.5, 0.0]);
    }
}
