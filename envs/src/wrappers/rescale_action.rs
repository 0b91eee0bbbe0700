//! [`RescaleAction`]: a Box action in `[min_action, max_action]` mapped affinely onto the
//! env's bounds.

use super::checks::acted_box;
use super::{Wrapper, inner_env_in};
use crate::{BoxSpace, Env, Error, Result, Space, Step, check_box_action};

/// Presents a Box action space `[min_action, max_action]` and maps each action affinely onto
/// the env's own bounds `[low, high]` — Gymnasium's `RescaleAction`, computed as Gymnasium
/// 1.4 computes it.
///
/// Per element, with `low`, `high` the inner bounds and the coefficients rounded to `f32` as
/// Gymnasium's `rescale_box` rounds them into the box's dtype:
///
/// ```text
/// gradient  = f32((max_action − min_action) / (high − low))        (in f64)
/// intercept = f32(f64(gradient · −low) + min_action)               (the product in f32)
/// env action = (action − intercept) / gradient                       (in f32)
/// ```
///
/// so `min_action ↦ low` and `max_action ↦ high`. The result is then clamped to `[low, high]`:
/// in `f32` an end of the range can round a hair past the env's bound, which Gymnasium 1.4
/// passes on and every qlab env would refuse; inside the bounds the clamp changes nothing.
///
/// The action space is `Box(min_action, max_action)` of the inner shape, and an action outside
/// it (or of the wrong length, NaN, infinite) is [`Error::InvalidAction`] naming it, with
/// nothing stepped; wrap this in [`ClipAction`](super::ClipAction) to clip instead. The
/// mapping is in place: stepping allocates nothing. The observations, model and RNG state
/// are the inner env's.
///
/// ```
/// use qlab_envs::point_mass::PointMass;
/// use qlab_envs::wrappers::RescaleAction;
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// // PointMass takes a force in [-1, 1]; the agent acts in [0, 10].
/// let mut env = RescaleAction::new(PointMass::new(), 0.0, 10.0)?;
/// assert_eq!(env.action_space().to_string(), "Box(0, 10, (1,), float32)");
/// env.reset(Some(0));
/// env.set_state(&[0.0, 0.0])?;
/// assert_eq!(env.step([10.0])?.obs, [0.01, 0.1]); // 10 ↦ a force of 1 N
/// assert!(env.step([11.0]).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RescaleAction<E> {
    env: E,
    gradient: Vec<f32>,
    intercept: Vec<f32>,
    low: Vec<f32>,
    high: Vec<f32>,
    space: Space,
}

impl<E: Env> RescaleAction<E>
where
    E::Action: AsMut<[f32]>,
{
    /// Wraps `env`, presenting `[min_action, max_action]` in every element of its action box.
    ///
    /// Errors ([`Error::InvalidParam`]) if the action space is not a box, a bound of it is
    /// infinite, or `min_action < max_action` does not hold between finite numbers.
    pub fn new(env: E, min_action: f32, max_action: f32) -> Result<Self> {
        let n = acted_box(env.action_space())?.len();
        Self::with_bounds(env, &vec![min_action; n], &vec![max_action; n])
    }

    /// Wraps `env`, presenting `[min_action[i], max_action[i]]` in element `i` (one pair per
    /// element of its action box); errors as [`new`](Self::new), and for a number of bounds
    /// that is not the box's.
    pub fn with_bounds(env: E, min_action: &[f32], max_action: &[f32]) -> Result<Self> {
        let boxed = acted_box(env.action_space())?;
        let n = boxed.len();
        for (key, given) in [("min_action", min_action), ("max_action", max_action)] {
            if given.len() != n {
                return Err(Error::InvalidParam {
                    key: key.into(),
                    value: format!("{given:?}"),
                    expected: format!("one bound per element of the action space {boxed}"),
                });
            }
        }
        let (mut gradient, mut intercept) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..n {
            let (min, max) = (min_action[i], max_action[i]);
            if !(min.is_finite() && max.is_finite() && min < max) {
                return Err(Error::InvalidParam {
                    key: format!("min_action, max_action [{i}]"),
                    value: format!("({min}, {max})"),
                    expected: "finite numbers with min_action < max_action".into(),
                });
            }
            let (low, high) = (boxed.low()[i], boxed.high()[i]);
            if !(low.is_finite() && high.is_finite()) {
                return Err(Error::InvalidParam {
                    key: "action_space".into(),
                    value: boxed.to_string(),
                    expected: format!("a box with finite bounds (element {i} is not)"),
                });
            }
            // Gymnasium's `rescale_box(env.action_space, min_action, max_action)`, whose
            // backward map the wrapper applies; its arrays are in the box's dtype, f32.
            let g = ((max as f64 - min as f64) / (high as f64 - low as f64)) as f32;
            gradient.push(g);
            intercept.push(((g * -low) as f64 + min as f64) as f32);
        }
        let space = BoxSpace::new(
            min_action.to_vec(),
            max_action.to_vec(),
            boxed.shape().to_vec(),
        )
        .into();
        Ok(Self {
            low: boxed.low().to_vec(),
            high: boxed.high().to_vec(),
            gradient,
            intercept,
            env,
            space,
        })
    }

    /// The env action that `action` (in `[min_action, max_action]`) stands for, in place.
    #[inline]
    fn rescale(&self, action: &mut [f32]) {
        for (i, a) in action.iter_mut().enumerate() {
            let x = (*a - self.intercept[i]) / self.gradient[i];
            *a = x.max(self.low[i]).min(self.high[i]);
        }
    }
}

impl<E: Env> Wrapper for RescaleAction<E>
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
        this.rescale(action.as_mut());
        this.env.step(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_env;
    use crate::point_mass::PointMass;
    use crate::wrappers::test_envs::Echo;

    /// Gymnasium 1.4's `RescaleAction(env, min_action, max_action)`:
    /// `tools/wrapper_references.py`, section "rescale_action". Rows are (action, the action
    /// the env receives), equal to the last bit.
    #[test]
    fn maps_actions_as_gymnasium_does() {
        let space = BoxSpace::from_bounds(vec![-2.0, 0.0, -0.3], vec![2.0, 5.0, 0.7]);
        let mut env = RescaleAction::new(Echo::new(space), -1.0, 1.0).unwrap();
        env.reset(Some(0));
        let rows: [([f32; 3], [f32; 3]); 5] = [
            ([-1.0, -1.0, -1.0], [-2.0, 0.0, -0.3]),
            ([1.0, 1.0, 1.0], [2.0, 5.0, 0.7]),
            ([0.0, 0.0, 0.0], [0.0, 2.5, 0.199_999_99]),
            ([0.5, -0.25, 0.9], [1.0, 1.875, 0.65]),
            ([-0.3, 0.7, -0.77], [-0.6, 4.25, -0.185]),
        ];
        for (a, want) in rows {
            assert_eq!(env.step(a.to_vec()).unwrap().obs, want.to_vec(), "{a:?}");
        }
        // Per-element bounds whose f32 coefficients do not map the ends exactly.
        let space = BoxSpace::from_bounds(vec![-0.3, 1e-3], vec![0.7, 0.1]);
        let mut env =
            RescaleAction::with_bounds(Echo::new(space), &[-3.1, 0.2], &[0.9, 7.3]).unwrap();
        env.reset(None);
        let rows: [([f32; 2], [f32; 2]); 3] = [
            ([-3.1, 0.2], [-0.3, 0.001]),
            ([0.9, 7.3], [0.699_999_9, 0.1]),
            ([-1.0, 3.0], [0.224_999_96, 0.040_042_255]),
        ];
        for (a, want) in rows {
            assert_eq!(env.step(a.to_vec()).unwrap().obs, want.to_vec(), "{a:?}");
        }
    }

    #[test]
    fn ends_map_inside_the_bounds() {
        // Ends that round past the bounds unclamped: the clamp keeps them in the env's box.
        let space = BoxSpace::from_bounds(vec![-0.3, 1e-3, -1.0], vec![0.7, 0.1, 1.0]);
        let inner = space.clone();
        let mut env = RescaleAction::new(Echo::new(space), -0.1, 2.9).unwrap();
        env.reset(None);
        for a in [-0.1, 2.9] {
            let got = env.step(vec![a; 3]).unwrap().obs;
            assert!(inner.contains(&got), "{got:?}");
        }
    }

    #[test]
    fn bad_bounds_and_actions_are_one_line_errors() {
        let pm = PointMass::new;
        let e = |r: Result<RescaleAction<PointMass>>| r.unwrap_err().to_string();
        assert_eq!(
            e(RescaleAction::new(pm(), 1.0, 1.0)),
            "invalid value (1, 1) for `min_action, max_action [0]`: expected finite numbers \
             with min_action < max_action"
        );
        assert!(e(RescaleAction::new(pm(), f32::NAN, 1.0)).contains("(NaN, 1)"));
        assert!(e(RescaleAction::with_bounds(pm(), &[0.0, 0.0], &[1.0])).contains("`min_action`"));
        let inf = BoxSpace::from_bounds(vec![0.0], vec![f32::INFINITY]);
        assert_eq!(
            RescaleAction::new(Echo::new(inf), 0.0, 1.0)
                .unwrap_err()
                .to_string(),
            "invalid value Box(0, inf, (1,), float32) for `action_space`: expected a box with \
             finite bounds (element 0 is not)"
        );
        let mut env = RescaleAction::new(pm(), 0.0, 10.0).unwrap();
        env.reset(Some(0));
        assert_eq!(
            env.step([-0.5]).unwrap_err().to_string(),
            "invalid action [-0.5]: not in the action space Box(0, 10, (1,), float32)"
        );
        assert!(env.step([f32::NAN]).is_err());
    }

    #[test]
    fn passes_the_checker() {
        check_env(
            || RescaleAction::new(PointMass::new(), -5.0, 3.0).unwrap(),
            5,
            300,
        )
        .unwrap();
    }
}
