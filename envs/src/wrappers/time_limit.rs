//! [`TimeLimit`]: truncate episodes after a number of steps.

use crate::{Env, Error, Frame, Model, Reset, Result, Space, Step};

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

    /// The wrapped env.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped env, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// Unwraps.
    pub fn into_inner(self) -> E {
        self.env
    }
}

impl<E: Env> Env for TimeLimit<E> {
    type Obs = E::Obs;
    type Action = E::Action;

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<E::Obs> {
        self.elapsed = 0;
        self.ended = false;
        self.env.reset(seed)
    }

    // Inlined into training loops: a call here copies the whole step result once more.
    #[inline(always)]
    fn step(&mut self, action: E::Action) -> Result<Step<E::Obs>> {
        if self.ended {
            return Err(Error::EpisodeEnded);
        }
        let mut step = self.env.step(action)?;
        self.elapsed += 1;
        if self.elapsed >= self.max_steps {
            step.truncated = true;
        }
        self.ended = step.done();
        Ok(step)
    }

    fn render_ansi(&self) -> String {
        self.env.render_ansi()
    }

    fn render_rgb(&self) -> Frame {
        self.env.render_rgb()
    }

    fn name(&self) -> String {
        self.env.name()
    }

    fn rng_state(&self) -> Option<[u64; 4]> {
        self.env.rng_state()
    }

    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.env.set_rng_state(state)
    }

    fn set_state(&mut self, state: &[f64]) -> Result<E::Obs> {
        self.env.set_state(state)
    }

    fn model(&self) -> Option<&dyn Model> {
        self.env.model()
    }
}
