//! DRQN's part of [`Dqn`]: playing with a carried hidden state, and the sequence update.

use candle_core::Tensor;

use super::{Dqn, argmax, elementwise_loss};
use crate::Result;
use crate::nn::RecurrentState;

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

    /// One gradient step on `batch_size` sampled sequences; returns the loss and the mean Q
    /// over the trained transitions.
    pub(super) fn update_sequences(&mut self) -> Result<(f64, f64)> {
        let mut seq = self.sequences.take().expect("a recurrent agent samples sequences");
        seq.sample(&self.replay, &mut self.rng);
        let (n, w, b, l) = (seq.len(), seq.width(), seq.burn_in(), seq.length());
        let dev = &self.device;
        let obs = Tensor::from_slice(&seq.obs, (n, w, self.obs_dim), dev)?;
        let starts = Tensor::from_slice(&seq.episode_starts, (n, w), dev)?;
        let actions = Tensor::from_slice(&seq.actions, (n, l, 1), dev)?;
        let rewards = Tensor::from_slice(&seq.rewards, (n, l), dev)?;
        let discounts = Tensor::from_slice(&seq.discounts, (n, l), dev)?;
        let mask = Tensor::from_slice(&seq.mask, (n, l), dev)?;
        let count = f64::from(seq.mask.iter().sum::<f32>());
        self.sequences = Some(seq);

        // The burn-in only warms the state: no gradient flows back into it.
        let warm = if b > 0 {
            let (_, s) = self.online.forward_seq(
                &obs.narrow(1, 0, b)?,
                None,
                Some(&starts.narrow(1, 0, b)?),
            )?;
            s.map(|s| s.detach())
        } else {
            None
        };
        // Online values at the trained positions and the one after the last.
        let (q_all, _) = self.online.forward_seq(
            &obs.narrow(1, b, l + 1)?,
            warm.as_ref(),
            Some(&starts.narrow(1, b, l + 1)?),
        )?;
        let (target_all, _) = self.target.forward_seq(&obs, None, Some(&starts))?;
        let next_target = target_all.narrow(1, b + 1, l)?.contiguous()?;
        let next_q = if self.config.double {
            let best = q_all.narrow(1, 1, l)?.detach().argmax_keepdim(2)?;
            next_target.gather(&best, 2)?.squeeze(2)?
        } else {
            next_target.max(2)?
        };
        let y = ((next_q * &discounts)? + &rewards)?.detach();
        let q = q_all
            .narrow(1, 0, l)?
            .contiguous()?
            .gather(&actions, 2)?
            .squeeze(2)?;
        let per_step = elementwise_loss(self.config.loss, &(&q - &y)?)?;
        let loss = ((per_step * &mask)?.sum_all()? / count)?;
        let mean_q = ((q * &mask)?.sum_all()? / count)?;
        self.apply_loss(&loss, &mean_q)
    }
}
