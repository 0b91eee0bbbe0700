//! Actions checked against a [`Space`] and drawn from it: `usize` for `Discrete`, `[f32; N]`
//! and `Vec<f32>` for `Box`.

use std::fmt;

use crate::{EnvRng, Error, Result, Space};

/// Checks a discrete action against `Discrete(n)`; the error names both.
#[inline]
pub fn check_discrete_action(action: usize, space: &Space) -> Result<()> {
    match space {
        Space::Discrete(d) if d.contains(action) => Ok(()),
        _ => Err(invalid(&action, space)),
    }
}

/// Checks a Box action against a `Box` space: one value per element of the box, every value
/// finite and within its bounds. Otherwise [`Error::InvalidAction`] naming the action and
/// the space.
///
/// Finite means finite even where a bound is infinite: no force, torque or velocity command
/// is `inf`, and NaN lies in no box.
///
/// ```
/// use qlab_envs::{BoxSpace, Space, check_box_action};
/// let space: Space = BoxSpace::uniform(-1.0, 1.0, vec![2]).into();
/// assert!(check_box_action(&[0.5, -1.0], &space).is_ok());
/// for bad in [&[0.5][..], &[0.5, 1.5], &[f32::NAN, 0.0]] {
///     assert!(check_box_action(bad, &space).is_err());
/// }
/// let e = check_box_action(&[2.0, 0.0], &space).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "invalid action [2.0, 0.0]: not in the action space Box(-1, 1, (2,), float32)"
/// );
/// ```
#[inline]
pub fn check_box_action(action: &[f32], space: &Space) -> Result<()> {
    match space {
        Space::Box(b) if action.iter().all(|x| x.is_finite()) && b.contains(action) => Ok(()),
        _ => Err(invalid(&action, space)),
    }
}

/// `action` clipped to the box `space`, as Gymnasium's Pendulum and MountainCarContinuous clip
/// the action they are given: each finite value past a bound becomes the bound.
///
/// # Errors
/// [`Error::InvalidAction`] for a NaN or infinite value, an action of another length than the
/// box, or a `Discrete` space: no clipping makes those an action.
pub fn clip_box_action<const N: usize>(action: [f32; N], space: &Space) -> Result<[f32; N]> {
    match space {
        Space::Box(b) if b.len() == N && action.iter().all(|x| x.is_finite()) => {
            let mut out = action;
            for ((x, &lo), &hi) in out.iter_mut().zip(b.low()).zip(b.high()) {
                *x = x.clamp(lo, hi);
            }
            Ok(out)
        }
        _ => Err(invalid(&action, space)),
    }
}

#[cold]
fn invalid(action: &dyn fmt::Debug, space: &Space) -> Error {
    Error::InvalidAction {
        action: format!("{action:?}"),
        space: space.to_string(),
    }
}

/// An action type that can be checked against a [`Space`] and sampled from one, so that
/// generic code ([`check_env`](crate::check_env),
/// [`SyncVectorEnv`](crate::vector::SyncVectorEnv), a random policy) works with discrete and
/// Box actions alike.
///
/// Implemented for `usize` (`Discrete`), `[f32; N]` (a `Box` of `N` elements, for concrete
/// envs) and `Vec<f32>` (any `Box`, for type-erased envs).
///
/// # Contract
/// - [`check`](SpaceAction::check) is `Ok` exactly for the elements of the space that an env
///   must accept, and otherwise [`Error::InvalidAction`] naming the action and the space.
/// - [`sample`](SpaceAction::sample) returns an action that `check` accepts, or `None` when
///   the type cannot hold an element of the space (a `usize` for a `Box`, an array of the wrong
///   length, an empty `Discrete(0)`).
/// - Every action [`outside`](SpaceAction::outside) returns fails `check`.
pub trait SpaceAction: Clone + fmt::Debug {
    /// `Ok` if `self` is a valid action of `space`.
    fn check(&self, space: &Space) -> Result<()>;

    /// A random valid action: uniform over `Discrete(n)` (by [`EnvRng::below`]), as
    /// [`BoxSpace::sample_into`](crate::BoxSpace::sample_into) draws over a box.
    fn sample(space: &Space, rng: &mut EnvRng) -> Option<Self>;

    /// Actions of this type that an env with action space `space` must reject: for
    /// `Discrete(n)`, `n`; for a box, a value past a bound, a NaN, an infinity and, for
    /// `Vec<f32>`, a vector of the wrong length.
    fn outside(space: &Space) -> Vec<Self>;

    /// The action an env that [clips its actions](crate::Env::clips_actions) takes for this
    /// one: the nearest element of `space` for a finite Box action of the right length; `None`
    /// where no clipping makes it an action (a `Discrete` action out of range, NaN, infinity, a
    /// wrong length).
    fn clipped(&self, space: &Space) -> Option<Self>;
}

impl SpaceAction for usize {
    #[inline]
    fn check(&self, space: &Space) -> Result<()> {
        check_discrete_action(*self, space)
    }

    #[inline]
    fn sample(space: &Space, rng: &mut EnvRng) -> Option<usize> {
        match space {
            Space::Discrete(d) if d.n > 0 => Some(rng.below(d.n)),
            _ => None,
        }
    }

    fn outside(space: &Space) -> Vec<usize> {
        match space {
            Space::Discrete(d) => vec![d.n],
            Space::Box(_) => vec![0],
        }
    }

    fn clipped(&self, _space: &Space) -> Option<usize> {
        None
    }
}

impl<const N: usize> SpaceAction for [f32; N] {
    #[inline]
    fn check(&self, space: &Space) -> Result<()> {
        check_box_action(self, space)
    }

    fn sample(space: &Space, rng: &mut EnvRng) -> Option<[f32; N]> {
        let b = space.as_box().filter(|b| b.len() == N)?;
        let mut out = [0.0; N];
        b.sample_into(rng, &mut out);
        Some(out)
    }

    fn outside(space: &Space) -> Vec<[f32; N]> {
        let Some(centre) = centre(space).filter(|c| c.len() == N) else {
            // No array of this length lies in the space: any one is outside.
            return vec![[0.0; N]];
        };
        let mut base = [0.0; N];
        base.copy_from_slice(&centre);
        spoiled(space, &base)
            .into_iter()
            .map(|v| {
                let mut a = base;
                a.copy_from_slice(&v);
                a
            })
            .collect()
    }

    fn clipped(&self, space: &Space) -> Option<[f32; N]> {
        clip_box_action(*self, space).ok()
    }
}

impl SpaceAction for Vec<f32> {
    #[inline]
    fn check(&self, space: &Space) -> Result<()> {
        check_box_action(self, space)
    }

    fn sample(space: &Space, rng: &mut EnvRng) -> Option<Vec<f32>> {
        space.as_box().map(|b| b.sample(rng))
    }

    fn outside(space: &Space) -> Vec<Vec<f32>> {
        let Some(centre) = centre(space) else {
            return vec![Vec::new(), vec![0.0]];
        };
        let mut out = spoiled(space, &centre);
        let mut longer = centre.clone();
        longer.push(0.0);
        out.push(longer);
        if !centre.is_empty() {
            out.push(Vec::new());
        }
        out
    }

    fn clipped(&self, space: &Space) -> Option<Vec<f32>> {
        let b = space.as_box().filter(|b| b.len() == self.len())?;
        self.iter()
            .zip(b.low().iter().zip(b.high()))
            .map(|(x, (&lo, &hi))| x.is_finite().then(|| x.clamp(lo, hi)))
            .collect()
    }
}

/// A valid element of a box: the middle of each finite range, the finite bound of a
/// half-open one, 0 where both bounds are infinite. `None` for a discrete space.
fn centre(space: &Space) -> Option<Vec<f32>> {
    let b = space.as_box()?;
    Some(
        b.low()
            .iter()
            .zip(b.high())
            .map(|(&l, &h)| match (l.is_finite(), h.is_finite()) {
                (true, true) => ((l as f64 + h as f64) / 2.0) as f32,
                (true, false) => l,
                (false, true) => h,
                (false, false) => 0.0,
            })
            .collect(),
    )
}

/// `valid` with its first element made invalid in each way a box action can be: past a
/// finite bound, NaN, infinite. Empty for a box of no elements.
fn spoiled(space: &Space, valid: &[f32]) -> Vec<Vec<f32>> {
    let Some(b) = space.as_box().filter(|b| !b.is_empty()) else {
        return Vec::new();
    };
    let (low, high) = (b.low()[0], b.high()[0]);
    let mut values = Vec::new();
    // `2 · high` (or `high + 1` near 0) is past `high`, or overflows to infinity, also invalid.
    if high.is_finite() {
        values.push(high + high.abs().max(1.0));
    }
    if low.is_finite() {
        values.push(low - low.abs().max(1.0));
    }
    values.extend([f32::NAN, f32::INFINITY]);
    values
        .into_iter()
        .map(|x| {
            let mut v = valid.to_vec();
            v[0] = x;
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoxSpace;

    #[test]
    fn box_actions_need_the_length_finite_values_and_the_bounds() {
        let inf = f32::INFINITY;
        let space: Space = BoxSpace::from_bounds(vec![-1.0, -inf], vec![1.0, inf]).into();
        assert!(check_box_action(&[1.0, -1e30], &space).is_ok());
        for bad in [
            &[1.0001, 0.0][..],
            &[0.0, inf],
            &[0.0, f32::NAN],
            &[0.0],
            &[0.0, 0.0, 0.0],
        ] {
            let e = check_box_action(bad, &space).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{bad:?}")) && e.contains("Box([-1, -inf], [1, inf]"),
                "{e}"
            );
        }
        let e = check_box_action(&[0.0], &Space::discrete(2)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid action [0.0]: not in the action space Discrete(2)"
        );
    }

    #[test]
    fn samples_are_valid_and_outside_values_are_not() {
        let inf = f32::INFINITY;
        let spaces: [Space; 4] = [
            BoxSpace::uniform(-2.0, 0.5, vec![3]).into(),
            BoxSpace::from_bounds(vec![0.0, -inf, -inf], vec![inf, 1e30, inf]).into(),
            BoxSpace::uniform(-f32::MAX, f32::MAX, vec![3]).into(),
            BoxSpace::uniform(-1.0, 1.0, vec![1, 3]).into(),
        ];
        let mut rng = EnvRng::new(4);
        for space in &spaces {
            for _ in 0..200 {
                let v = Vec::<f32>::sample(space, &mut rng).unwrap();
                v.check(space).unwrap();
                let a = <[f32; 3]>::sample(space, &mut rng).unwrap();
                a.check(space).unwrap();
            }
            let bad = Vec::<f32>::outside(space);
            // Past a bound (one or two), NaN, infinite, too long, too short.
            assert!(bad.len() >= 5, "{space}: {bad:?}");
            assert!(bad.iter().all(|v| v.check(space).is_err()), "{bad:?}");
            let bad = <[f32; 3]>::outside(space);
            assert!(bad.len() >= 2 && bad.iter().all(|v| v.check(space).is_err()));
        }
        // An array of the wrong length is never a sample, and always outside.
        assert_eq!(<[f32; 2]>::sample(&spaces[0], &mut rng), None);
        assert!(
            <[f32; 2]>::outside(&spaces[0])[0]
                .check(&spaces[0])
                .is_err()
        );
        assert_eq!(<[f32; 2]>::sample(&Space::discrete(2), &mut rng), None);
    }

    #[test]
    fn discrete_samples_are_below_n_drawn_as_below_draws() {
        let space = Space::discrete(5);
        let (mut a, mut b) = (EnvRng::new(1), EnvRng::new(1));
        for _ in 0..100 {
            let x = usize::sample(&space, &mut a).unwrap();
            assert_eq!(x, b.below(5));
            x.check(&space).unwrap();
        }
        assert_eq!(usize::outside(&space), vec![5]);
        assert!(5usize.check(&space).is_err());
        assert_eq!(usize::sample(&Space::discrete(0), &mut a), None);
        assert_eq!(usize::sample(&spaces_box(), &mut a), None);
    }

    fn spaces_box() -> Space {
        BoxSpace::uniform(0.0, 1.0, vec![1]).into()
    }
}
