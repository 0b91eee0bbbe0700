//! [`ObservationHistory`]: the last `k` observations stacked into one.

use super::checks::observed_box;
use super::{Wrapper, inner_env_in};
use crate::{BoxSpace, Env, Error, Model, Result, Space, Step};

/// Stacks the last `k` observations, oldest first — Gymnasium's `FrameStackObservation` with
/// its default `padding_type="reset"`.
///
/// The observation is a flat `Vec<f32>` of length `k · n` (`n` the inner observation's length):
/// elements `[j·n, (j+1)·n)` hold the observation from `k − 1 − j` steps ago. A reset fills
/// all `k` slots with the reset observation, so the first stacks repeat it (Gymnasium's
/// "reset" padding; zero padding could fall outside the inner box). The observation space is
/// the inner box repeated `k` times, with shape `[k, …inner shape]`.
///
/// Each reset and step allocates the returned vector (the stack itself lives in a buffer
/// reused across steps). After [`set_state`](Env::set_state), the stack still holds the
/// observations before it until the next step. There is no model. The RNG state is the
/// inner env's: a reset refills the whole history, so nothing of it crosses episodes.
///
/// ```
/// # use qlab_envs::{BoxSpace, Env, Frame, Info, Reset, Result, Space, Step};
/// # struct Line { x: f32, obs: Space, act: Space }
/// # impl Env for Line {
/// #     type Obs = [f32; 1];
/// #     type Action = usize;
/// #     fn observation_space(&self) -> &Space { &self.obs }
/// #     fn action_space(&self) -> &Space { &self.act }
/// #     fn reset(&mut self, _: Option<u64>) -> Reset<[f32; 1]> {
/// #         self.x = 0.0;
/// #         Reset { obs: [self.x], info: Info::default() }
/// #     }
/// #     fn step(&mut self, a: usize) -> Result<Step<[f32; 1]>> {
/// #         qlab_envs::check_discrete_action(a, &self.act)?;
/// #         self.x += 1.0;
/// #         Ok(Step { obs: [self.x], reward: 0.0, terminated: false, truncated: false,
/// #                   info: Info::default() })
/// #     }
/// #     fn render_ansi(&self) -> String { String::new() }
/// #     fn render_rgb(&self) -> Frame { Frame::filled(1, 1, [0; 3]) }
/// #     fn name(&self) -> String { "Line".into() }
/// # }
/// # fn main() -> qlab_envs::Result<()> {
/// # let env = Line { x: 0.0, obs: BoxSpace::from_bounds(vec![0.0], vec![9.0]).into(),
/// #                  act: Space::discrete(1) };
/// use qlab_envs::wrappers::ObservationHistory;
///
/// // `env` observes a counter: 0 at reset, then 1, 2, …
/// let mut env = ObservationHistory::new(env, 3)?;
/// assert_eq!(env.reset(None).obs, vec![0.0, 0.0, 0.0]);
/// assert_eq!(env.step(0)?.obs, vec![0.0, 0.0, 1.0]);
/// assert_eq!(env.step(0)?.obs, vec![0.0, 1.0, 2.0]);
/// assert_eq!(env.step(0)?.obs, vec![1.0, 2.0, 3.0]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ObservationHistory<E> {
    env: E,
    k: usize,
    /// The inner observation's length.
    n: usize,
    /// The stack, oldest first, `k · n` values.
    stack: Vec<f32>,
    space: Space,
}

impl<E: Env> ObservationHistory<E>
where
    E::Obs: AsRef<[f32]>,
{
    /// Wraps `env`, stacking its last `k ≥ 1` observations.
    ///
    /// Errors if `k` is 0 or the observation space is not a box.
    pub fn new(env: E, k: usize) -> Result<Self> {
        if k == 0 {
            return Err(Error::InvalidParam {
                key: "k".into(),
                value: "0".into(),
                expected: "at least 1 observation to stack".into(),
            });
        }
        let boxed = observed_box(env.observation_space())?;
        let n = boxed.len();
        let mut shape = vec![k];
        shape.extend_from_slice(boxed.shape());
        let space = BoxSpace::new(boxed.low().repeat(k), boxed.high().repeat(k), shape).into();
        Ok(Self {
            env,
            k,
            n,
            stack: vec![0.0; k * n],
            space,
        })
    }

    /// The number of observations stacked.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The current stack, oldest first (what the last reset or step returned).
    pub fn stack(&self) -> &[f32] {
        &self.stack
    }
}

impl<E: Env> Wrapper for ObservationHistory<E>
where
    E::Obs: AsRef<[f32]>,
{
    type Inner = E;
    type Obs = Vec<f32>;

    inner_env_in!(env);

    fn observation_space(this: &Self) -> &Space {
        &this.space
    }

    /// Fills the whole history with `obs`, as after a reset (or [`set_state`](Env::set_state)).
    fn observation(this: &mut Self, obs: E::Obs) -> Vec<f32> {
        for slot in this.stack.chunks_exact_mut(this.n.max(1)) {
            slot.copy_from_slice(obs.as_ref());
        }
        this.stack.clone()
    }

    fn step(this: &mut Self, action: E::Action) -> Result<Step<Vec<f32>>> {
        let step = this.env.step(action)?;
        let n = this.n;
        this.stack.copy_within(n.., 0);
        let newest = this.stack.len() - n;
        this.stack[newest..].copy_from_slice(step.obs.as_ref());
        let stack = this.stack.clone();
        Ok(step.map_obs(|_| stack))
    }

    /// None: the inner model's states are single observations, not histories.
    fn model(_: &Self) -> Option<&dyn Model> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Walk;

    #[test]
    fn stacks_oldest_first_and_pads_with_the_reset_observation() {
        // Walk observes [x, y]: x moves ±1 from 0, y is a fresh draw each time.
        let mut env = ObservationHistory::new(Walk::new(10.0), 3).unwrap();
        let r = env.reset(Some(4));
        let y0 = env.inner().y;
        assert_eq!(r.obs, vec![0.0, y0, 0.0, y0, 0.0, y0]);
        let mut seen = vec![[0.0, y0]];
        for a in [1, 1, 0, 1] {
            let s = env.step(a).unwrap();
            seen.push([env.inner().x, env.inner().y]);
            let want: Vec<f32> = seen[seen.len().saturating_sub(3)..]
                .iter()
                .flatten()
                .copied()
                .collect();
            let padded: Vec<f32> = std::iter::repeat_n(seen[0], 3 - want.len() / 2)
                .flatten()
                .chain(want)
                .collect();
            assert_eq!(s.obs, padded);
            assert_eq!(env.stack(), &padded[..]);
        }
        // A new episode forgets the old one.
        let r = env.reset(None);
        let y = env.inner().y;
        assert_eq!(r.obs, vec![0.0, y, 0.0, y, 0.0, y]);
    }

    #[test]
    fn space_is_the_inner_box_repeated() {
        let env = ObservationHistory::new(Walk::new(2.0), 2).unwrap();
        let b = env.observation_space().as_box().unwrap();
        assert_eq!(b.shape(), &[2, 2]);
        assert_eq!(b.low(), &[-2.0, 0.0, -2.0, 0.0]);
        assert_eq!(b.high(), &[2.0, 1.0, 2.0, 1.0]);
        assert_eq!(env.k(), 2);
    }

    #[test]
    fn k_one_is_the_observation_itself() {
        let mut env = ObservationHistory::new(Walk::new(2.0), 1).unwrap();
        env.reset(Some(1));
        let s = env.step(0).unwrap();
        assert_eq!(s.obs, vec![-1.0, env.inner().y]);
    }

    #[test]
    fn errors_leave_the_stack_unchanged() {
        let mut env = ObservationHistory::new(Walk::new(1.0), 2).unwrap();
        env.reset(Some(0));
        let before = env.stack().to_vec();
        assert!(env.step(5).is_err());
        assert_eq!(env.stack(), &before[..]);
        let last = env.step(1).unwrap();
        assert!(last.terminated);
        assert!(matches!(env.step(1), Err(Error::EpisodeEnded)));
    }

    #[test]
    fn rejects_zero_k() {
        let e = ObservationHistory::new(Walk::new(1.0), 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value 0 for `k`: expected at least 1 observation to stack"
        );
    }
}
