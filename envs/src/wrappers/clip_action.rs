//! [`ClipAction`]: Box actions clipped to the env's bounds.

use super::checks::acted_box;
use super::{Wrapper, inner_env_in};
use crate::{BoxSpace, Env, Result, Space, Step, check_box_action};

/// Clips every Box action to the bounds of the env inside — Gymnasium's `ClipAction`.
///
/// Each element `a[i]` becomes `min(max(a[i], low[i]), high[i])` (NumPy's `np.clip`), so an
/// agent whose policy overshoots (a Gaussian's sample, say) still drives the env. The action
/// space is `Box(-inf, inf)` of the inner shape, as Gymnasium 1.x declares it.
///
/// An action is still checked against that space first ([`check_box_action`]): one of the wrong
/// length, a NaN or an infinity is [`Error::InvalidAction`](crate::Error::InvalidAction) naming
/// it, and nothing is stepped. (Gymnasium would clip an infinity to the bound; every Box action
/// in qlab is finite.) Clipping is in place: stepping allocates nothing. The observations,
/// model and RNG state are the inner env's.
///
/// ```
/// use qlab_envs::point_mass::PointMass;
/// use qlab_envs::wrappers::ClipAction;
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = ClipAction::new(PointMass::new())?;
/// assert_eq!(env.action_space().to_string(), "Box(-inf, inf, (1,), float32)");
/// env.reset(Some(0));
/// env.set_state(&[0.0, 0.0])?;
/// // A force of 5 N is clipped to 1 N: v = 0.1 m/s after 0.1 s.
/// assert_eq!(env.step([5.0])?.obs, [0.01, 0.1]);
/// assert!(env.step([f32::NAN]).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ClipAction<E> {
    env: E,
    low: Vec<f32>,
    high: Vec<f32>,
    space: Space,
}

impl<E: Env> ClipAction<E>
where
    E::Action: AsMut<[f32]>,
{
    /// Wraps `env`, whose action space must be a box ([`Error::InvalidParam`](crate::Error::InvalidParam)
    /// naming it otherwise).
    pub fn new(env: E) -> Result<Self> {
        let boxed = acted_box(env.action_space())?;
        let n = boxed.len();
        let space = BoxSpace::new(
            vec![f32::NEG_INFINITY; n],
            vec![f32::INFINITY; n],
            boxed.shape().to_vec(),
        )
        .into();
        Ok(Self {
            low: boxed.low().to_vec(),
            high: boxed.high().to_vec(),
            env,
            space,
        })
    }
}

impl<E: Env> Wrapper for ClipAction<E>
where
    E::Action: AsMut<[f32]>,
{
    type Inner = E;
    type Obs = E::Obs;

    inner_env_in!(env);

    #[inline]
    fn observation(_: &mut Self, obs: E::Obs) -> E::Obs {
        obs
    }

    fn action_space(this: &Self) -> &Space {
        &this.space
    }

    #[inline]
    fn step(this: &mut Self, mut action: E::Action) -> Result<Step<E::Obs>> {
        check_box_action(action.as_mut(), &this.space)?;
        for ((a, &l), &h) in action.as_mut().iter_mut().zip(&this.low).zip(&this.high) {
            // `np.clip(a, low, high)`: the lower bound first, then the upper.
            *a = a.max(l).min(h);
        }
        this.env.step(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_env;
    use crate::point_mass::PointMass;
    use crate::wrappers::test_envs::Echo;

    /// Gymnasium 1.4's `ClipAction` on `Box([-1, -2, 0], [1, 2, 0.5])`:
    /// `tools/wrapper_references.py`, section "clip_action". Rows are (action, clipped).
    #[test]
    fn clips_as_gymnasium_does() {
        let space = BoxSpace::from_bounds(vec![-1.0, -2.0, 0.0], vec![1.0, 2.0, 0.5]);
        let mut env = ClipAction::new(Echo::new(space)).unwrap();
        env.reset(Some(0));
        for (a, want) in [
            ([0.5, -3.0, 0.25], [0.5, -2.0, 0.25]),
            ([-7.5, 2.5, -0.1], [-1.0, 2.0, 0.0]),
            ([1.0, -2.0, 0.5], [1.0, -2.0, 0.5]),
            ([1e30, -1e30, 0.75], [1.0, -2.0, 0.5]),
            ([-0.0, 1.9999999, 0.49999997], [-0.0, 1.9999999, 0.49999997]),
        ] {
            assert_eq!(env.step(a.to_vec()).unwrap().obs, want.to_vec(), "{a:?}");
        }
    }

    #[test]
    fn steps_the_clipped_action() {
        let mut clipped = ClipAction::new(PointMass::new()).unwrap();
        let mut plain = PointMass::new();
        clipped.reset(Some(3));
        plain.reset(Some(3));
        for (a, inner) in [
            (-4.0, -1.0),
            (0.5, 0.5),
            (1.0, 1.0),
            (9.0, 1.0),
            (-1.0, -1.0),
        ] {
            assert_eq!(clipped.step([a]).unwrap(), plain.step([inner]).unwrap());
        }
    }

    #[test]
    fn bad_actions_are_one_line_errors_that_step_nothing() {
        let mut env = ClipAction::new(PointMass::new()).unwrap();
        env.reset(Some(0));
        let before = env.set_state(&[0.25, 0.0]).unwrap();
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let e = env.step([bad]).unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "invalid action [{bad:?}]: not in the action space Box(-inf, inf, (1,), float32)"
                )
            );
        }
        // Nothing moved: a zero force from rest stays put.
        assert_eq!(env.step([0.0]).unwrap().obs, before);
    }

    #[test]
    fn needs_a_box_action_space() {
        let e = ClipAction::new(Echo::discrete()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value Discrete(2) for `action_space`: expected a Box"
        );
    }

    #[test]
    fn passes_the_checker() {
        check_env(|| ClipAction::new(PointMass::new()).unwrap(), 5, 300).unwrap();
    }
}
