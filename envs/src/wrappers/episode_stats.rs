//! [`EpisodeStats`]: return and length of every finished episode.

use super::{Wrapper, inner_env_in};
use crate::{Env, EpisodeRecord, Reset, Result, Step};

/// Records each episode's return and length — Gymnasium's `RecordEpisodeStatistics`.
///
/// The step that ends an episode (by termination or truncation) carries
/// `info.episode = Some(EpisodeRecord { ret, length, terminated })`; every other step has the
/// inner env's `info.episode` unchanged (normally `None`). A reset in the middle of an episode
/// discards its partial statistics. Unlike Gymnasium, no wall-clock time is recorded: records
/// stay deterministic.
///
/// Wrap it outside [`TimeLimit`](crate::wrappers::TimeLimit) so that truncated episodes are
/// recorded too. Observations, actions, rewards, the model and the RNG state are the inner
/// env's: the counters that outlive an episode ([`last_episode`](EpisodeStats::last_episode),
/// [`episodes_completed`](EpisodeStats::episodes_completed)) change nothing the env returns,
/// so a resume from [`rng_state`](Env::rng_state) replays the same episodes (the counters
/// restart).
///
/// ```
/// # use qlab_envs::{Env, Frame, Info, Reset, Result, Space, Step};
/// # struct Coin { t: u64, obs: Space, act: Space }
/// # impl Env for Coin {
/// #     type Obs = usize;
/// #     type Action = usize;
/// #     fn observation_space(&self) -> &Space { &self.obs }
/// #     fn action_space(&self) -> &Space { &self.act }
/// #     fn reset(&mut self, _: Option<u64>) -> Reset<usize> {
/// #         self.t = 0;
/// #         Reset { obs: 0, info: Info::default() }
/// #     }
/// #     fn step(&mut self, a: usize) -> Result<Step<usize>> {
/// #         qlab_envs::check_discrete_action(a, &self.act)?;
/// #         self.t += 1;
/// #         Ok(Step { obs: 0, reward: 1.0, terminated: self.t == 3, truncated: false,
/// #                   info: Info::default() })
/// #     }
/// #     fn render_ansi(&self) -> String { String::new() }
/// #     fn render_rgb(&self) -> Frame { Frame::filled(1, 1, [0; 3]) }
/// #     fn name(&self) -> String { "Coin".into() }
/// # }
/// # fn main() -> qlab_envs::Result<()> {
/// # let env = Coin { t: 0, obs: Space::discrete(1), act: Space::discrete(2) };
/// use qlab_envs::EpisodeRecord;
/// use qlab_envs::wrappers::EpisodeStats;
///
/// // `env` terminates on its third step and pays 1 per step.
/// let mut env = EpisodeStats::new(env);
/// env.reset(Some(0));
/// assert_eq!(env.step(0)?.info.episode, None);
/// assert_eq!(env.step(0)?.info.episode, None);
/// let last = env.step(0)?;
/// let record = EpisodeRecord { ret: 3.0, length: 3, terminated: true };
/// assert_eq!(last.info.episode, Some(record));
/// assert_eq!(env.last_episode(), Some(record));
/// assert_eq!(env.episodes_completed(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct EpisodeStats<E> {
    env: E,
    ret: f64,
    length: u64,
    last: Option<EpisodeRecord>,
    completed: u64,
}

impl<E: Env> EpisodeStats<E> {
    /// Wraps `env`.
    pub fn new(env: E) -> Self {
        Self {
            env,
            ret: 0.0,
            length: 0,
            last: None,
            completed: 0,
        }
    }

    /// The record of the most recently finished episode, if any has finished.
    pub fn last_episode(&self) -> Option<EpisodeRecord> {
        self.last
    }

    /// How many episodes have finished since the wrapper was made.
    pub fn episodes_completed(&self) -> u64 {
        self.completed
    }

    /// The return of the current episode so far.
    pub fn current_return(&self) -> f64 {
        self.ret
    }

    /// The number of steps of the current episode so far.
    pub fn current_length(&self) -> u64 {
        self.length
    }
}

impl<E: Env> Wrapper for EpisodeStats<E> {
    type Inner = E;
    type Obs = E::Obs;

    inner_env_in!(env);

    #[inline]
    fn observation(_: &mut Self, obs: E::Obs) -> E::Obs {
        obs
    }

    fn reset(this: &mut Self, seed: Option<u64>) -> Reset<E::Obs> {
        this.ret = 0.0;
        this.length = 0;
        this.env.reset(seed)
    }

    fn step(this: &mut Self, action: E::Action) -> Result<Step<E::Obs>> {
        // An error leaves the counters untouched: the inner env did not move.
        let mut step = this.env.step(action)?;
        this.ret += step.reward;
        this.length += 1;
        if step.done() {
            let record = EpisodeRecord {
                ret: this.ret,
                length: this.length,
                terminated: step.terminated,
            };
            step.info.episode = Some(record);
            this.last = Some(record);
            this.completed += 1;
            this.ret = 0.0;
            this.length = 0;
        }
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::TimeLimit;
    use crate::wrappers::test_envs::{Chain, Walk};
    use crate::{Error, Space};

    #[test]
    fn records_terminated_episode_on_its_last_step_only() {
        // Chain(3) pays action + 1 per step and terminates after 3 steps.
        let mut env = EpisodeStats::new(Chain::new(3));
        env.reset(Some(1));
        let a = env.step(1).unwrap();
        let b = env.step(0).unwrap();
        assert_eq!((a.info.episode, b.info.episode), (None, None));
        assert_eq!(env.current_return(), 3.0);
        assert_eq!(env.current_length(), 2);
        let c = env.step(1).unwrap();
        let record = EpisodeRecord {
            ret: 5.0,
            length: 3,
            terminated: true,
        };
        assert!(c.terminated);
        assert_eq!(c.info.episode, Some(record));
        assert_eq!(env.last_episode(), Some(record));
        assert_eq!(env.episodes_completed(), 1);
        assert_eq!(env.current_length(), 0);
    }

    #[test]
    fn records_truncation_from_an_inner_time_limit() {
        let mut env = EpisodeStats::new(TimeLimit::new(Chain::new(10), 2));
        env.reset(Some(0));
        let _ = env.step(0).unwrap();
        let last = env.step(0).unwrap();
        assert!(last.truncated && !last.terminated);
        assert_eq!(
            last.info.episode,
            Some(EpisodeRecord {
                ret: 2.0,
                length: 2,
                terminated: false
            })
        );
    }

    #[test]
    fn counts_episodes_and_forgets_a_partial_one_on_reset() {
        let mut env = EpisodeStats::new(Chain::new(2));
        env.reset(Some(0));
        let _ = env.step(1).unwrap();
        // Reset mid-episode: the partial return 2 must not leak into the next record.
        env.reset(None);
        for ep in 1..=3u64 {
            let _ = env.step(0).unwrap();
            let last = env.step(0).unwrap();
            assert_eq!(last.info.episode.unwrap().ret, 2.0);
            assert_eq!(env.episodes_completed(), ep);
            env.reset(None);
        }
    }

    #[test]
    fn errors_do_not_count_as_steps() {
        let mut env = EpisodeStats::new(Walk::new(5.0));
        assert!(matches!(env.step(0), Err(Error::NotReset)));
        env.reset(Some(0));
        assert!(matches!(env.step(7), Err(Error::InvalidAction { .. })));
        assert_eq!(env.current_length(), 0);
        let s = env.step(1).unwrap();
        assert_eq!(s.reward, 1.0);
        assert_eq!(env.current_length(), 1);
    }

    #[test]
    fn forwards_to_the_inner_env() {
        let mut env = EpisodeStats::new(Chain::new(4));
        assert_eq!(env.name(), "Chain4");
        assert_eq!(env.observation_space(), &Space::discrete(16));
        env.reset(Some(0));
        env.set_state(&[2.0]).unwrap();
        assert_eq!(env.render_ansi(), "2/4");
        assert_eq!(env.inner().pos, 2);
        env.inner_mut().pos = 3;
        assert_eq!(env.into_inner().pos, 3);
    }
}
