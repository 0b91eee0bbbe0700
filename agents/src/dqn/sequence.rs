//! [`SequenceBatch`]: windows of consecutive transitions sampled from the replay buffer, for
//! recurrent Q-networks (DRQN).

use super::replay::ReplayBuffer;
use super::rng::Uniform;

/// A minibatch of sequences for a recurrent Q-network, in preallocated host arrays reused from
/// one sample to the next.
///
/// Each of the `N` sequences starts at a transition `t` drawn uniformly from the buffer and
/// covers `W = burn_in + length + 1` positions:
///
/// | positions | what |
/// |---|---|
/// | `0 .. burn_in` | the observations before `t` in its episode, run only to warm the hidden state (Kapturowski et al., 2019); where the episode (or the buffer) starts later, the positions before it are zeros and `episode_starts` marks its first step, so the state there is zero as it was while acting |
/// | `burn_in .. burn_in + length` | the observations of transitions `t, t+1, …` — the ones trained on |
/// | the one after the last trained transition | its next observation |
///
/// A sequence never crosses the end of an episode (nor the newest transition): after the
/// transition that ended it (terminated or truncated), the next position holds that
/// transition's final observation — the one a truncated transition bootstraps from — and the
/// remaining positions are zeros with `mask` 0. So the value of the next state of trained
/// position `i` is read at position `burn_in + i + 1`, with the hidden state of the same
/// episode.
///
/// Arrays are row-major: `obs` `(N, W, obs_dim)`, `episode_starts` `(N, W)`; `actions`,
/// `rewards`, `discounts` (`γ`, or 0 where the transition terminated) and `mask` (1 for a
/// trained transition, 0 for padding) `(N, length)`.
#[derive(Clone, Debug)]
pub struct SequenceBatch {
    burn_in: usize,
    length: usize,
    obs_dim: usize,
    /// The first trained transition's slot, per sequence.
    pub starts: Vec<usize>,
    /// Observations, `(N, W, obs_dim)`.
    pub obs: Vec<f32>,
    /// 1 where an episode starts (the hidden state is zeroed before that step), `(N, W)`.
    pub episode_starts: Vec<f32>,
    /// Actions of the trained transitions, `(N, length)`.
    pub actions: Vec<u32>,
    /// Their rewards.
    pub rewards: Vec<f32>,
    /// Their bootstrap factors: `γ`, or 0 where the transition terminated.
    pub discounts: Vec<f32>,
    /// 1 for a transition of the sequence's episode, 0 for padding after its end.
    pub mask: Vec<f32>,
}

impl SequenceBatch {
    /// Room for `size` sequences of `burn_in` warm-up steps and `length` trained transitions
    /// of observations of `obs_dim` numbers.
    pub fn new(size: usize, burn_in: usize, length: usize, obs_dim: usize) -> Self {
        let w = burn_in + length + 1;
        SequenceBatch {
            burn_in,
            length,
            obs_dim,
            starts: vec![0; size],
            obs: vec![0.0; size * w * obs_dim],
            episode_starts: vec![0.0; size * w],
            actions: vec![0; size * length],
            rewards: vec![0.0; size * length],
            discounts: vec![0.0; size * length],
            mask: vec![0.0; size * length],
        }
    }

    /// The number of sequences `N`.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Warm-up positions per sequence.
    pub fn burn_in(&self) -> usize {
        self.burn_in
    }

    /// Trained transitions per sequence (at most).
    pub fn length(&self) -> usize {
        self.length
    }

    /// Positions per sequence: `burn_in + length + 1`.
    pub fn width(&self) -> usize {
        self.burn_in + self.length + 1
    }

    /// Draws `len()` start transitions uniformly with replacement and gathers their sequences.
    ///
    /// # Panics
    /// If the buffer is empty, or its observations are not `obs_dim` long.
    pub fn sample(&mut self, replay: &ReplayBuffer, rng: &mut impl Uniform) {
        assert!(!replay.is_empty(), "sampling an empty replay buffer");
        for k in 0..self.len() {
            self.starts[k] = rng.below(replay.len());
        }
        self.gather(replay);
    }

    /// Gathers the sequences that start at `starts`.
    pub fn gather(&mut self, replay: &ReplayBuffer) {
        let (b, l, d, w) = (self.burn_in, self.length, self.obs_dim, self.width());
        let cap = replay.capacity();
        let (oldest, newest) = (replay.oldest(), replay.newest());
        self.obs.fill(0.0);
        self.episode_starts.fill(0.0);
        self.mask.fill(0.0);
        self.actions.fill(0);
        self.rewards.fill(0.0);
        self.discounts.fill(0.0);
        for (row, &t) in self.starts.iter().enumerate() {
            let at = |p: usize| (row * w + p) * d;
            // How many transitions before `t` share its episode (and the buffer), up to b.
            let held_before = (t + cap - oldest) % cap;
            let mut back = 0;
            while back < b.min(held_before) && !replay.ends_episode((t + cap - back - 1) % cap) {
                back += 1;
            }
            let first = b - back;
            self.episode_starts[row * w + first] = 1.0;
            for p in first..b {
                let slot = (t + cap - (b - p)) % cap;
                self.obs[at(p)..at(p) + d].copy_from_slice(replay.obs(slot));
            }
            for i in 0..l {
                let slot = (t + i) % cap;
                let p = b + i;
                self.obs[at(p)..at(p) + d].copy_from_slice(replay.obs(slot));
                let (a, r, g) = replay.action_reward_discount(slot);
                let k = row * l + i;
                (self.actions[k], self.rewards[k], self.discounts[k]) = (a, r, g);
                self.mask[k] = 1.0;
                if replay.ends_episode(slot) || slot == newest || i + 1 == l {
                    self.obs[at(p + 1)..at(p + 1) + d].copy_from_slice(replay.next_obs(slot));
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Episodes of lengths 3 (terminated), 4 (truncated) and 2 (still running), observations
    /// numbered 10·episode + step, next observations 10·episode + step + 1.
    fn buffer(capacity: usize) -> ReplayBuffer {
        let mut r = ReplayBuffer::new(capacity, 1).unwrap();
        for (e, (len, term, trunc)) in [(3, true, false), (4, false, true), (2, false, false)]
            .into_iter()
            .enumerate()
        {
            for s in 0..len {
                let last = s + 1 == len;
                let o = (10 * (e + 1) + s) as f32;
                r.push(&[o], s, o, &[o + 1.0], 0.9, last && term, last && trunc);
            }
        }
        r
    }

    fn gather(r: &ReplayBuffer, burn_in: usize, length: usize, start: usize) -> SequenceBatch {
        let mut b = SequenceBatch::new(1, burn_in, length, 1);
        b.starts[0] = start;
        b.gather(r);
        b
    }

    #[test]
    fn a_sequence_stops_at_a_termination_and_masks_the_rest() {
        let r = buffer(16);
        // Start at the episode's second step (slot 1): burn-in 2 reaches back one step, to
        // the episode's start, and no further.
        let b = gather(&r, 2, 4, 1);
        assert_eq!(b.obs, vec![0.0, 10.0, 11.0, 12.0, 13.0, 0.0, 0.0]);
        assert_eq!(b.episode_starts, vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(b.mask, vec![1.0, 1.0, 0.0, 0.0]);
        assert_eq!(b.actions, vec![1, 2, 0, 0]);
        assert_eq!(b.rewards, vec![11.0, 12.0, 0.0, 0.0]);
        // The last one terminated: no bootstrap.
        assert_eq!(b.discounts, vec![0.9, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn a_truncated_end_keeps_its_bootstrap_and_final_observation() {
        let r = buffer(16);
        // Episode 2 holds slots 3..7; start at slot 5 (its third step).
        let b = gather(&r, 3, 3, 5);
        // Burn-in: slots 3, 4 (the episode's start is at position 1; slot 2 belongs to the
        // episode before and is not read).
        assert_eq!(b.obs, vec![0.0, 20.0, 21.0, 22.0, 23.0, 24.0, 0.0]);
        assert_eq!(b.episode_starts[1], 1.0);
        assert_eq!(b.episode_starts.iter().sum::<f32>(), 1.0);
        assert_eq!(b.mask, vec![1.0, 1.0, 0.0]);
        assert_eq!(b.discounts, vec![0.9, 0.9, 0.0]);
    }

    #[test]
    fn a_long_burn_in_and_a_full_window_inside_one_episode() {
        let r = buffer(16);
        // Slot 6 is episode 2's last step; with length 1 the window is just it.
        let b = gather(&r, 1, 1, 6);
        assert_eq!(b.obs, vec![22.0, 23.0, 24.0]);
        assert_eq!(b.episode_starts, vec![1.0, 0.0, 0.0]);
        assert_eq!(b.mask, vec![1.0]);
        // The running episode: the newest transition ends the window, its next observation
        // follows.
        let b = gather(&r, 0, 4, 7);
        assert_eq!(b.obs, vec![30.0, 31.0, 32.0, 0.0, 0.0]);
        assert_eq!(b.mask, vec![1.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn the_ring_boundary_is_an_episode_start_and_an_end() {
        // Capacity 4 after 9 pushes holds slots 5..9 → ring slots: 0 ← t=8, 1 ← t=5,
        // 2 ← t=6, 3 ← t=7; the oldest is slot 1 (episode 2's third step, obs 22).
        let r = buffer(4);
        assert_eq!((r.oldest(), r.newest()), (1, 0));
        let b = gather(&r, 2, 2, 1);
        // Nothing before the oldest transition is read: the state starts there.
        assert_eq!(b.obs, vec![0.0, 0.0, 22.0, 23.0, 24.0]);
        assert_eq!(b.episode_starts, vec![0.0, 0.0, 1.0, 0.0, 0.0]);
        // From the newest (slot 0, obs 31) the window does not wrap into the oldest.
        let b = gather(&r, 1, 3, 0);
        assert_eq!(b.obs, vec![30.0, 31.0, 32.0, 0.0, 0.0]);
        assert_eq!(b.mask, vec![1.0, 0.0, 0.0]);
    }
}
