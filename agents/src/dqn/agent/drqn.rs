//! DRQN's part of [`Dqn`]: playing with a carried hidden state, and the sequence update.

use candle_core::Tensor;

use super::super::sequence::SequenceBatch;
use super::{Dqn, argmax};
use crate::Result;
use crate::nn::{RecurrentState, TdSequences, TdStep};

/// What a Q-network carries from one step of an episode to the next while playing: a
/// recurrent torso's hidden state; nothing for the other torsos. A fresh or
/// [`reset`](Memory::reset) memory stands at the start of an episode.
///
/// ```
/// # fn main() -> qlab_agents::Result<()> {
/// use qlab_agents::dqn::{Dqn, DqnConfig};
/// let config = DqnConfig {
///     network: toml::from_str("torso = { type = \"gru\", hidden = 8 }").unwrap(),
///     ..Default::default()
/// };
/// let agent = Dqn::new(&[2], 2, &config, 1_000, 0)?;
/// let mut memory = agent.memory();
/// let first = agent.q_values_with(&[0.5, -0.5], &mut memory)?;
/// let second = agent.q_values_with(&[0.5, -0.5], &mut memory)?;
/// assert_ne!(first, second); // the same observation, later in the episode
/// memory.reset(); // a new episode
/// assert_eq!(agent.q_values_with(&[0.5, -0.5], &mut memory)?, first);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Memory {
    pub(super) state: Option<RecurrentState>,
}

impl Memory {
    /// Forgets the episode: the next step is the first of a new one.
    pub fn reset(&mut self) {
        self.state = None;
    }

    /// Whether it stands at the start of an episode.
    pub fn is_fresh(&self) -> bool {
        self.state.is_none()
    }
}

impl Dqn {
    /// Whether the Q-network is recurrent (DRQN): its values depend on the episode so far.
    pub fn is_recurrent(&self) -> bool {
        self.online.is_recurrent()
    }

    /// A fresh [`Memory`] for playing an episode.
    pub fn memory(&self) -> Memory {
        Memory::default()
    }

    /// `Q(obs, ·)` at the next step of the episode `memory` holds, which takes `obs` in. For
    /// a memoryless torso it is [`q_values`](Dqn::q_values).
    pub fn q_values_with(&self, obs: &[f32], memory: &mut Memory) -> Result<Vec<f32>> {
        if !self.online.is_recurrent() {
            return self.q_values(obs);
        }
        let x = Tensor::from_slice(obs, (1, 1, self.obs_dim), &self.device)?;
        let (q, state) = self.online.forward_seq(&x, memory.state.as_ref(), None)?;
        memory.state = state;
        Ok(q.flatten_all()?.to_vec1::<f32>()?)
    }

    /// The greedy action at the next step of the episode `memory` holds, which takes `obs`
    /// in; the first of equal values.
    pub fn greedy_with(&self, obs: &[f32], memory: &mut Memory) -> Result<usize> {
        Ok(argmax(&self.q_values_with(obs, memory)?))
    }

    /// The TD step on `batch_size` sampled sequences: their targets read the target
    /// network run over the whole window (and, with Double DQN, the online network's choice
    /// at the next step), and the loss is the mean over the trained transitions
    /// ([`QNetwork::td_step_sequences`](crate::nn::QNetwork::td_step_sequences)).
    pub(super) fn sequence_step(&mut self) -> Result<TdStep> {
        let mut seq = self
            .sequences
            .take()
            .expect("a recurrent agent samples sequences");
        seq.sample(&self.replay, &mut self.rng);
        let step = self.sequence_step_on(&seq);
        self.sequences = Some(seq);
        step
    }

    fn sequence_step_on(&self, seq: &SequenceBatch) -> Result<TdStep> {
        let (n, w, b, l) = (seq.len(), seq.width(), seq.burn_in(), seq.length());
        let dev = &self.device;
        let obs = Tensor::from_slice(&seq.obs, (n, w, self.obs_dim), dev)?;
        let starts = Tensor::from_slice(&seq.episode_starts, (n, w), dev)?;
        let rewards = Tensor::from_slice(&seq.rewards, (n, l), dev)?;
        let discounts = Tensor::from_slice(&seq.discounts, (n, l), dev)?;
        let (target_all, _) = self.target.forward_seq(&obs, None, Some(&starts))?;
        let next_target = target_all.narrow(1, b + 1, l)?.contiguous()?;
        let double = self.config.double;
        let targets = |next_online: &Tensor| -> crate::nn::Result<Vec<f32>> {
            let next_q = if double {
                let best = next_online.argmax_keepdim(2)?;
                next_target.gather(&best, 2)?.squeeze(2)?
            } else {
                next_target.max(2)?
            };
            let y = ((next_q * &discounts)? + &rewards)?;
            Ok(y.flatten_all()?.to_vec1::<f32>()?)
        };
        let input = TdSequences {
            obs: &obs,
            starts: &starts,
            burn_in: b,
            length: l,
            actions: &seq.actions,
            mask: &seq.mask,
            loss: self.config.loss,
        };
        Ok(self.online.td_step_sequences(&input, targets)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dqn::DqnConfig;

    fn config(torso: &str, extra: impl FnOnce(&mut DqnConfig)) -> DqnConfig {
        let mut c = DqnConfig {
            learning_starts: 16,
            batch_size: 4,
            buffer_size: 64,
            train_freq: 4,
            gradient_steps: 2,
            target_update_interval: 10,
            learning_rate: 1e-2,
            sequence_length: 3,
            burn_in: 2,
            network: toml::from_str(&format!("torso = {torso}")).unwrap(),
            ..Default::default()
        };
        extra(&mut c);
        c
    }

    fn lstm() -> DqnConfig {
        config("{ type = \"lstm\", hidden = 6 }", |_| {})
    }

    /// A cue-and-recall task: the first observation shows a cue `[±1, 0]`, the next ones
    /// `[0, 1]` until the last, where the action that matches the cue's sign pays 1.
    /// Episodes of 4 steps; every 3rd one is truncated instead of terminated. Returns the
    /// training's losses and mean Qs, in order.
    fn play(agent: &mut Dqn, episodes: usize, seed: u64) -> Vec<f64> {
        let mut rng = qlab_envs::EnvRng::new(seed);
        let mut out = Vec::new();
        for e in 0..episodes {
            let cue = if rng.below(2) == 0 { -1.0f32 } else { 1.0 };
            let mut obs = [cue, 0.0];
            for t in 0..4 {
                let a = agent.act(&obs).unwrap();
                let last = t == 3;
                let reward = if last && (a == 1) == (cue > 0.0) {
                    1.0
                } else {
                    0.0
                };
                let next = [0.0, 1.0];
                let truncated = last && e % 3 == 2;
                let stats = agent
                    .observe(&obs, a, reward, &next, last && !truncated, truncated)
                    .unwrap();
                if let Some(s) = stats {
                    out.extend([s.loss, s.mean_q]);
                }
                obs = next;
            }
        }
        out
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn the_hidden_state_is_carried_while_acting_and_reset_at_episode_end() {
        let mut a = Dqn::new(&[2], 2, &lstm(), 1000, 0).unwrap();
        assert!(a.is_recurrent() && a.acting.is_fresh());
        // Random actions (before learning_starts) still feed the state.
        let obs = [1.0f32, 0.0];
        let act = a.act(&obs).unwrap();
        assert!(!a.acting.is_fresh());
        // The acting state is the one a memory fed the same observations holds.
        let mut m = a.memory();
        a.q_values_with(&obs, &mut m).unwrap();
        let next = [0.0f32, 1.0];
        let want = a.q_values_with(&next, &mut m.clone()).unwrap();
        let mut acting = a.acting.clone();
        assert_eq!(a.q_values_with(&next, &mut acting).unwrap(), want);
        // … and differs from the start of an episode.
        assert_ne!(a.q_values(&next).unwrap(), want);
        a.observe(&obs, act, 0.0, &next, false, false).unwrap();
        assert!(!a.acting.is_fresh(), "reset in the middle of an episode");
        a.act(&next).unwrap();
        a.observe(&next, 0, 0.0, &next, false, true).unwrap();
        assert!(a.acting.is_fresh(), "not reset after a truncation");
        a.act(&obs).unwrap();
        a.observe(&obs, 0, 0.0, &next, true, false).unwrap();
        assert!(a.acting.is_fresh(), "not reset after a termination");
    }

    #[test]
    fn a_seeded_recurrent_run_is_bit_identical() {
        for c in [
            lstm(),
            config("{ type = \"gru\", hidden = 5, layers = 2 }", |c| {
                c.double = true;
                c.burn_in = 0;
                c.loss = crate::dqn::Loss::Mse;
            }),
        ] {
            let mut a = Dqn::new(&[2], 2, &c, 400, 3).unwrap();
            let mut b = Dqn::new(&[2], 2, &c, 400, 3).unwrap();
            let (la, lb) = (play(&mut a, 20, 1), play(&mut b, 20, 1));
            assert!(la.len() > 20 && la.iter().all(|x| x.is_finite()), "{la:?}");
            assert_eq!(bits(&la), bits(&lb));
            assert_eq!(
                a.params().to_bytes().unwrap(),
                b.params().to_bytes().unwrap()
            );
            let mut other = Dqn::new(&[2], 2, &c, 400, 4).unwrap();
            assert_ne!(bits(&play(&mut other, 20, 1)), bits(&la));
        }
    }

    /// A checkpoint taken mid-episode holds the acting state: the restored agent continues
    /// exactly.
    #[test]
    fn a_restored_recurrent_checkpoint_continues_exactly() {
        let c = lstm();
        let mut straight = Dqn::new(&[2], 2, &c, 400, 5).unwrap();
        play(&mut straight, 10, 2);
        let obs = [1.0f32, 0.0];
        let act = straight.act(&obs).unwrap();
        straight
            .observe(&obs, act, 0.0, &obs, false, false)
            .unwrap();
        let (tensors, state) = straight.checkpoint().unwrap();
        assert!(tensors.contains_key("acting.h") && tensors.contains_key("acting.c"));
        let mut resumed = Dqn::new(&[2], 2, &c, 400, 5).unwrap();
        resumed.restore(&tensors, &state).unwrap();
        let (x, y) = (straight.act(&obs).unwrap(), resumed.act(&obs).unwrap());
        assert_eq!(x, y);
        let mut m1 = straight.acting.clone();
        let mut m2 = resumed.acting.clone();
        assert_eq!(
            straight.q_values_with(&obs, &mut m1).unwrap(),
            resumed.q_values_with(&obs, &mut m2).unwrap()
        );
        straight.observe(&obs, x, 0.0, &obs, true, false).unwrap();
        resumed.observe(&obs, y, 0.0, &obs, true, false).unwrap();
        assert_eq!(
            bits(&play(&mut straight, 10, 3)),
            bits(&play(&mut resumed, 10, 3))
        );
    }

    /// The cue is seen three steps before the rewarded choice: the LSTM learns to recall it
    /// (greedy success 1.0 over both cues), which a memoryless network cannot (its best is
    /// 0.5: the last observation is the same for both cues).
    #[test]
    fn drqn_learns_to_recall_a_cue() {
        let c = config("{ type = \"lstm\", hidden = 8 }", |c| {
            c.sequence_length = 4;
            c.burn_in = 0;
            c.batch_size = 16;
            c.buffer_size = 2_000;
            c.learning_starts = 100;
            c.train_freq = 4;
            c.gradient_steps = 1;
            c.target_update_interval = 40;
            c.gamma = 0.9;
            c.learning_rate = 2e-2;
            c.exploration_fraction = 0.5;
        });
        let mut a = Dqn::new(&[2], 2, &c, 800, 0).unwrap();
        play(&mut a, 200, 7);
        for cue in [-1.0f32, 1.0] {
            let mut m = a.memory();
            let mut action = 0;
            for obs in [[cue, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]] {
                action = a.greedy_with(&obs, &mut m).unwrap();
            }
            assert_eq!(action == 1, cue > 0.0, "cue {cue}");
        }
    }
}
