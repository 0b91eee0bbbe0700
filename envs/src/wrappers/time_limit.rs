//! [`TimeLimit`]: truncate episodes after a number of steps.

use super::{Wrapper, inner_env_in};
use crate::{Env, Error, Reset, Result, Step};

/// Truncates every episode after `max_steps` steps — Gymnasium's `TimeLimit`.
///
/// The step that reaches the limit returns `truncated = true`, unless the inner env terminated
/// on that same step, in which case both flags may be set (as in Gymnasium); further steps are
/// [`Error::EpisodeEnded`] until the next reset.
#[derive(Clone, Debug)]
pub struct TimeLimit<E> {
    env: E,
    max_steps: u64,
    elapsed: u64,
    ended: bool,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `env`, truncating after `max_steps` steps (`max_steps ≥ 1`).
    pub fn new(env: E, max_steps: u64) -> Self {
        Self {
            env,
            max_steps,
            elapsed: 0,
            ended: false,
        }
    }

    /// The step limit.
    pub fn max_steps(&self) -> u64 {
        self.max_steps
    }

    /// Steps taken in the current episode.
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }
}

impl<E: Env> Wrapper for TimeLimit<E> {
    type Inner = E;
    type Obs = E::Obs;

    inner_env_in!(env);

    #[inline]
    fn observation(_: &mut Self, obs: E::Obs) -> E::Obs {
        obs
    }

    fn reset(this: &mut Self, seed: Option<u64>) -> Reset<E::Obs> {
        this.elapsed = 0;
        this.ended = false;
        this.env.reset(seed)
    }

    // Inlined into training loops: a call here copies the whole step result once more.
    #[inline(always)]
    fn step(this: &mut Self, action: E::Action) -> Result<Step<E::Obs>> {
        if this.ended {
            return Err(Error::EpisodeEnded);
        }
        let mut step = this.env.step(action)?;
        this.elapsed += 1;
        if this.elapsed >= this.max_steps {
            step.truncated = true;
        }
        this.ended = step.done();
        Ok(step)
    }
}
