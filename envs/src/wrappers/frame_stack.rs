//! [`FrameStackObservation`]: the last `k` observations stacked into one.

use super::checks::observed_box;
use super::{Wrapper, inner_env_in};
use crate::{BoxSpace, Env, Error, Model, Result, Space, Step};

/// Stacks the last `k` observations, oldest first — Gymnasium 1.x's `FrameStackObservation`
/// (`stack_size = k`, `padding_type` "reset" or "zero").
///
/// The observation is a flat `Vec<f32>` of length `k · n` (`n` the inner observation's length):
/// elements `[j·n, (j+1)·n)` hold the observation from `k − 1 − j` steps ago. A reset (and
/// [`set_state`](Env::set_state)) puts the new observation in the newest slot and fills the
/// `k − 1` older ones with the [`Padding`]: the reset observation itself
/// ([`Padding::Reset`], the default, as [`new`](Self::new) builds it) or zeros
/// ([`Padding::Zero`]) — each zero moved into the inner box where the box excludes 0 (its
/// `low` where `low > 0`, its `high` where `high < 0`), as Gymnasium's `create_zero_array`
/// does, so every stack lies in the space. The first stacks of an episode thus repeat its
/// first observation, or begin with the padding, and nothing of the previous episode remains:
/// Gymnasium 1.4's `reset` refills the queue the same way.
///
/// The observation space is the inner box repeated `k` times, with shape `[k, …inner shape]`.
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
/// #         self.x = 5.0;
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
/// # let env = Line { x: 5.0, obs: BoxSpace::from_bounds(vec![0.0], vec![9.0]).into(),
/// #                  act: Space::discrete(1) };
/// use qlab_envs::wrappers::{FrameStackObservation, Padding, Wrapper};
///
/// // `env` observes a counter: 5 at reset, then 6, 7, …
/// let mut env = FrameStackObservation::new(env, 3)?;
/// assert_eq!(env.reset(None).obs, vec![5.0, 5.0, 5.0]);
/// assert_eq!(env.step(0)?.obs, vec![5.0, 5.0, 6.0]);
/// assert_eq!(env.step(0)?.obs, vec![5.0, 6.0, 7.0]);
/// assert_eq!(env.step(0)?.obs, vec![6.0, 7.0, 8.0]);
///
/// let mut env = FrameStackObservation::with_padding(env.into_inner(), 3, Padding::Zero)?;
/// assert_eq!(env.reset(None).obs, vec![0.0, 0.0, 5.0]);
/// assert_eq!(env.step(0)?.obs, vec![0.0, 5.0, 6.0]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct FrameStackObservation<E> {
    env: E,
    k: usize,
    padding: Padding,
    /// What [`Padding::Zero`] pads with: the inner box's element nearest 0, `n` values.
    zero: Vec<f32>,
    /// The inner observation's length.
    n: usize,
    /// The stack, oldest first, `k · n` values.
    stack: Vec<f32>,
    space: Space,
}

/// The former name of [`FrameStackObservation`], which the attention torso's docs use.
pub type ObservationHistory<E> = FrameStackObservation<E>;

/// What fills the older slots of a [`FrameStackObservation`] after a reset — Gymnasium's
/// `padding_type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Padding {
    /// The reset observation, repeated (`padding_type="reset"`, Gymnasium's default).
    #[default]
    Reset,
    /// Zeros (`padding_type="zero"`).
    Zero,
}

impl Padding {
    /// The names a config gives them, as Gymnasium's `padding_type` strings.
    pub const NAMES: [&'static str; 2] = ["reset", "zero"];

    /// The padding named `name` (one of [`Padding::NAMES`]).
    pub fn from_name(name: &str) -> Option<Padding> {
        match name {
            "reset" => Some(Padding::Reset),
            "zero" => Some(Padding::Zero),
            _ => None,
        }
    }

    /// Its name, as [`Padding::from_name`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            Padding::Reset => "reset",
            Padding::Zero => "zero",
        }
    }
}

impl<E: Env> FrameStackObservation<E>
where
    E::Obs: AsRef<[f32]>,
{
    /// Wraps `env`, stacking its last `k ≥ 1` observations, padded with the reset observation.
    ///
    /// Errors if `k` is 0 or the observation space is not a box.
    pub fn new(env: E, k: usize) -> Result<Self> {
        Self::with_padding(env, k, Padding::Reset)
    }

    /// Wraps `env`, stacking its last `k ≥ 1` observations, padded with `padding` after each
    /// reset.
    ///
    /// Errors if `k` is 0 or the observation space is not a box.
    pub fn with_padding(env: E, k: usize, padding: Padding) -> Result<Self> {
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
        // Gymnasium's `create_zero_array`: 0, or the bound nearest it where the box excludes 0.
        let zero = boxed
            .low()
            .iter()
            .zip(boxed.high())
            .map(|(&l, &h)| {
                if l > 0.0 {
                    l
                } else if h < 0.0 {
                    h
                } else {
                    0.0
                }
            })
            .collect();
        Ok(Self {
            env,
            k,
            padding,
            zero,
            n,
            stack: vec![0.0; k * n],
            space,
        })
    }

    /// The number of observations stacked.
    pub fn k(&self) -> usize {
        self.k
    }

    /// What fills the older slots after a reset.
    pub fn padding(&self) -> Padding {
        self.padding
    }

    /// The current stack, oldest first (what the last reset or step returned).
    pub fn stack(&self) -> &[f32] {
        &self.stack
    }
}

impl<E: Env> Wrapper for FrameStackObservation<E>
where
    E::Obs: AsRef<[f32]>,
{
    type Inner = E;
    type Obs = Vec<f32>;

    inner_env_in!(env);

    fn observation_space(this: &Self) -> &Space {
        &this.space
    }

    /// Starts a new stack from `obs`, as after a reset (or [`set_state`](Env::set_state)):
    /// `obs` newest, the older slots padded.
    fn observation(this: &mut Self, obs: E::Obs) -> Vec<f32> {
        let newest = this.stack.len() - this.n;
        match this.padding {
            Padding::Reset => {
                for slot in this.stack.chunks_exact_mut(this.n.max(1)) {
                    slot.copy_from_slice(obs.as_ref());
                }
            }
            Padding::Zero => {
                for slot in this.stack[..newest].chunks_exact_mut(this.n.max(1)) {
                    slot.copy_from_slice(&this.zero);
                }
                this.stack[newest..].copy_from_slice(obs.as_ref());
            }
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
    use crate::wrappers::test_envs::{Echo, Walk};

    #[test]
    fn stacks_oldest_first_and_pads_with_the_reset_observation() {
        // Walk observes [x, y]: x moves ±1 from 0, y is a fresh draw each time.
        let mut env = FrameStackObservation::new(Walk::new(10.0), 3).unwrap();
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

    /// Gymnasium 1.4's `FrameStackObservation(Echo(box), 3, padding_type)`:
    /// `tools/wrapper_references.py`, section "frame_stack". Episodes of 4 and 1 steps with
    /// actions 3, 4, 5, …; one row per reset or step.
    #[test]
    fn pads_as_gymnasium_does() {
        let cases: [(f32, Padding, [[f32; 3]; 7]); 3] = [
            (
                -1.0,
                Padding::Reset,
                [
                    [-1.0, -1.0, -1.0],
                    [-1.0, -1.0, 3.0],
                    [-1.0, 3.0, 4.0],
                    [3.0, 4.0, 5.0],
                    [4.0, 5.0, 6.0],
                    [-1.0, -1.0, -1.0],
                    [-1.0, -1.0, 7.0],
                ],
            ),
            (
                -1.0,
                Padding::Zero,
                [
                    [0.0, 0.0, -1.0],
                    [0.0, -1.0, 3.0],
                    [-1.0, 3.0, 4.0],
                    [3.0, 4.0, 5.0],
                    [4.0, 5.0, 6.0],
                    [0.0, 0.0, -1.0],
                    [0.0, -1.0, 7.0],
                ],
            ),
            (
                2.0,
                Padding::Zero,
                [
                    [2.0, 2.0, 2.0],
                    [2.0, 2.0, 3.0],
                    [2.0, 3.0, 4.0],
                    [3.0, 4.0, 5.0],
                    [4.0, 5.0, 6.0],
                    [2.0, 2.0, 2.0],
                    [2.0, 2.0, 7.0],
                ],
            ),
        ];
        for (low, padding, want) in cases {
            let echo = Echo::new(BoxSpace::from_bounds(vec![low], vec![9.0]));
            let mut env = FrameStackObservation::with_padding(echo, 3, padding).unwrap();
            let mut got = Vec::new();
            let mut action = 3.0;
            for steps in [4, 1] {
                got.push(env.reset(Some(0)).obs);
                for _ in 0..steps {
                    got.push(env.step(vec![action]).unwrap().obs);
                    action += 1.0;
                }
            }
            let want: Vec<Vec<f32>> = want.iter().map(|r| r.to_vec()).collect();
            assert_eq!(got, want, "{low} {padding:?}");
            assert!(
                got.iter()
                    .all(|o| env.observation_space().as_box().unwrap().contains(o))
            );
        }
    }

    #[test]
    fn padding_names_read_back() {
        for name in Padding::NAMES {
            assert_eq!(Padding::from_name(name).unwrap().name(), name);
        }
        assert_eq!(Padding::from_name("zeros"), None);
        assert_eq!(Padding::default(), Padding::Reset);
    }

    #[test]
    fn space_is_the_inner_box_repeated() {
        let env = FrameStackObservation::new(Walk::new(2.0), 2).unwrap();
        let b = env.observation_space().as_box().unwrap();
        assert_eq!(b.shape(), &[2, 2]);
        assert_eq!(b.low(), &[-2.0, 0.0, -2.0, 0.0]);
        assert_eq!(b.high(), &[2.0, 1.0, 2.0, 1.0]);
        assert_eq!(env.k(), 2);
    }

    #[test]
    fn k_one_is_the_observation_itself() {
        let mut env = FrameStackObservation::new(Walk::new(2.0), 1).unwrap();
        env.reset(Some(1));
        let s = env.step(0).unwrap();
        assert_eq!(s.obs, vec![-1.0, env.inner().y]);
    }

    #[test]
    fn errors_leave_the_stack_unchanged() {
        let mut env = FrameStackObservation::new(Walk::new(1.0), 2).unwrap();
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
        let e = FrameStackObservation::new(Walk::new(1.0), 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value 0 for `k`: expected at least 1 observation to stack"
        );
    }
}
