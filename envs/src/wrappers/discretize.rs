//! [`Discretize`]: a box observation as one state index, for tabular agents.

use super::checks::resolve_bounds;
use super::{Wrapper, inner_env_in};
use crate::{Env, Error, Model, Result, Space};

/// Turns a box observation into one state index by uniform bins per dimension — Gymnasium's
/// `DiscretizeObservation`.
///
/// Dimension `i` splits `[low[i], high[i]]` into `bins[i]` equal bins; a value below `low[i]`
/// falls in bin 0, one at or above `high[i]` in the last bin, and NaN in bin 0. The
/// per-dimension bin indices combine row-major, the first dimension most significant:
/// `index = ((b₀ · bins[1] + b₁) · bins[2] + b₂) …`, as `numpy.ravel_multi_index` does.
///
/// The observation space is `Discrete(bins[0] · bins[1] · …)`. The bounds default to the inner
/// box's; a dimension whose box bound is infinite (CartPole's velocities) needs an explicit
/// range in [`Discretize::with_bounds`]. There is no model: bins merge states.
///
/// ```
/// # use qlab_envs::{BoxSpace, Env, Frame, Info, Reset, Result, Space, Step};
/// # #[derive(Clone)]
/// # struct Line { x: f32, obs: Space, act: Space }
/// # impl Env for Line {
/// #     type Obs = [f32; 2];
/// #     type Action = usize;
/// #     fn observation_space(&self) -> &Space { &self.obs }
/// #     fn action_space(&self) -> &Space { &self.act }
/// #     fn reset(&mut self, _: Option<u64>) -> Reset<[f32; 2]> {
/// #         self.x = 0.1;
/// #         Reset { obs: [self.x, 0.0], info: Info::default() }
/// #     }
/// #     fn step(&mut self, a: usize) -> Result<Step<[f32; 2]>> {
/// #         qlab_envs::check_discrete_action(a, &self.act)?;
/// #         self.x += 0.25;
/// #         Ok(Step { obs: [self.x, 5.0], reward: 0.0, terminated: false, truncated: false,
/// #                   info: Info::default() })
/// #     }
/// #     fn render_ansi(&self) -> String { String::new() }
/// #     fn render_rgb(&self) -> Frame { Frame::filled(1, 1, [0; 3]) }
/// #     fn name(&self) -> String { "Line".into() }
/// # }
/// # fn main() -> qlab_envs::Result<()> {
/// # let env = Line {
/// #     x: 0.0,
/// #     obs: BoxSpace::from_bounds(vec![0.0, f32::NEG_INFINITY], vec![1.0, f32::INFINITY]).into(),
/// #     act: Space::discrete(2),
/// # };
/// use qlab_envs::wrappers::Discretize;
///
/// // `env` observes Box([0, -inf], [1, inf]); the second dimension needs explicit bounds.
/// assert!(Discretize::new(env.clone(), &[4, 3]).is_err());
/// let mut env = Discretize::with_bounds(env, &[4, 3], &[None, Some((-1.0, 1.0))])?;
/// assert_eq!(env.observation_space(), &Space::discrete(12));
/// assert_eq!(env.reset(None).obs, 0 * 3 + 1); // [0.1, 0.0]: bin 0 of 4, bin 1 of 3
/// assert_eq!(env.step(0)?.obs, 1 * 3 + 2); // [0.35, 5.0]: bin 1, clipped into bin 2
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Discretize<E> {
    env: E,
    bins: Vec<usize>,
    low: Vec<f32>,
    high: Vec<f32>,
    /// `bins[i] / (high[i] - low[i])`: bins per unit of dimension `i`.
    scale: Vec<f64>,
    space: Space,
}

impl<E: Env> Discretize<E>
where
    E::Obs: AsRef<[f32]>,
{
    /// Wraps `env` with `bins[i] ≥ 1` bins on dimension `i`, over the inner box's bounds.
    ///
    /// Errors if the observation space is not a box, `bins` has the wrong length or a zero, a
    /// bound is infinite, or the product of `bins` overflows `usize`.
    pub fn new(env: E, bins: &[usize]) -> Result<Self> {
        let dims = bins.len();
        Self::with_bounds(env, bins, &vec![None; dims])
    }

    /// Like [`Discretize::new`], with `bounds[i] = Some((low, high))` replacing the box's bounds
    /// on dimension `i` (`None` keeps them). Explicit bounds must be finite with `low < high`.
    pub fn with_bounds(env: E, bins: &[usize], bounds: &[Option<(f32, f32)>]) -> Result<Self> {
        let (low, high) = resolve_bounds(env.observation_space(), bins, bounds)?;
        let n = bins.iter().try_fold(1usize, |acc, &b| acc.checked_mul(b));
        let n = n.ok_or_else(|| Error::InvalidParam {
            key: "bins".into(),
            value: format!("{bins:?}"),
            expected: "bin counts whose product fits in usize".into(),
        })?;
        let scale = bins
            .iter()
            .zip(low.iter().zip(&high))
            .map(|(&b, (&l, &h))| b as f64 / (h as f64 - l as f64))
            .collect();
        Ok(Self {
            env,
            bins: bins.to_vec(),
            low,
            high,
            scale,
            space: Space::discrete(n),
        })
    }

    /// The state index of an observation.
    ///
    /// # Panics
    /// In debug builds, if `obs` does not have one value per dimension.
    #[inline]
    pub fn index_of(&self, obs: &[f32]) -> usize {
        debug_assert_eq!(obs.len(), self.bins.len(), "observation length");
        let mut index = 0;
        for (i, &x) in obs.iter().enumerate() {
            let b = self.bins[i];
            let t = ((x as f64 - self.low[i] as f64) * self.scale[i]).floor();
            // The cast saturates: negative values and NaN give 0; `min` clips the top.
            index = index * b + (t as usize).min(b - 1);
        }
        index
    }

    /// The number of bins per dimension.
    pub fn bins(&self) -> &[usize] {
        &self.bins
    }

    /// The lower bound of each dimension's range.
    pub fn low(&self) -> &[f32] {
        &self.low
    }

    /// The upper bound of each dimension's range.
    pub fn high(&self) -> &[f32] {
        &self.high
    }
}

impl<E: Env> Wrapper for Discretize<E>
where
    E::Obs: AsRef<[f32]>,
{
    type Inner = E;
    type Obs = usize;

    inner_env_in!(env);

    fn observation_space(this: &Self) -> &Space {
        &this.space
    }

    #[inline]
    fn observation(this: &mut Self, obs: E::Obs) -> usize {
        this.index_of(obs.as_ref())
    }

    // Bins merge states: the inner model does not describe the bin indices.
    fn model(_: &Self) -> Option<&dyn Model> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Walk;

    /// Gymnasium's `DiscretizeObservation` on `Box([-1, 0], [1, 3])` with bins (4, 3), from
    /// `tools/wrapper_references.py` (section "discretize"): each row is `(x, y, index)`.
    const GYMNASIUM_DISCRETIZE: [(f32, f32, usize); 12] = [
        (-1.0, 0.0, 0),
        (1.0, 3.0, 11),
        (-0.5, 1.0, 4),
        (-0.5001, 0.999, 0),
        (0.0, 2.0, 8),
        (0.49, 2.99, 8),
        (0.75, 1.5, 10),
        (-3.0, 7.0, 2),
        (5.0, -2.0, 9),
        (0.3, 0.2, 6),
        (-0.9, 2.5, 2),
        (0.999, 0.0, 9),
    ];

    #[test]
    fn matches_gymnasium_discretize_observation() {
        let env = Walk::with_bounds(10.0, vec![-1.0, 0.0], vec![1.0, 3.0]);
        let d = Discretize::new(env, &[4, 3]).unwrap();
        assert_eq!(d.observation_space(), &Space::discrete(12));
        for (x, y, expected) in GYMNASIUM_DISCRETIZE {
            assert_eq!(d.index_of(&[x, y]), expected, "({x}, {y})");
        }
    }

    #[test]
    fn every_index_is_reached_once_row_major() {
        let env = Walk::with_bounds(10.0, vec![0.0, 0.0], vec![2.0, 3.0]);
        let d = Discretize::new(env, &[2, 3]).unwrap();
        let mut seen = Vec::new();
        for i in 0..2 {
            for j in 0..3 {
                seen.push(d.index_of(&[i as f32 + 0.5, j as f32 + 0.5]));
            }
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(d.index_of(&[f32::NAN, f32::INFINITY]), 2);
    }

    #[test]
    fn steps_and_resets_give_indices() {
        // Walk: x starts at 0 and moves ±1, y ∈ [0, 1); the episode terminates at |x| = 2.
        let env = Walk::with_bounds(2.0, vec![-2.0, 0.0], vec![2.0, 1.0]);
        let mut d = Discretize::new(env, &[4, 1]).unwrap();
        assert_eq!(d.reset(Some(3)).obs, 2);
        assert_eq!(d.step(1).unwrap().obs, 3);
        let last = d.step(1).unwrap();
        assert_eq!((last.obs, last.reward, last.terminated), (3, 2.0, true));
        d.reset(None);
        assert_eq!(d.step(0).unwrap().obs, 1);
        d.set_state(&[-2.0, 0.5]).unwrap();
        assert_eq!(d.inner().x, -2.0);
        assert_eq!(d.name(), "Walk");
    }

    #[test]
    fn explicit_bounds_replace_infinite_ones() {
        let inf = f32::INFINITY;
        let make = || Walk::with_bounds(2.0, vec![-2.0, -inf], vec![2.0, inf]);
        let err = Discretize::new(make(), &[4, 2]).unwrap_err().to_string();
        assert!(err.contains("bounds[1]") && err.contains("inf"), "{err}");
        let d = Discretize::with_bounds(make(), &[4, 2], &[None, Some((0.0, 1.0))]).unwrap();
        assert_eq!(d.low(), &[-2.0, 0.0]);
        assert_eq!(d.high(), &[2.0, 1.0]);
        assert_eq!(d.index_of(&[-2.0, 0.75]), 1);
    }

    #[test]
    fn rejects_bad_arguments_naming_them() {
        let walk = || Walk::new(2.0);
        let err = |r: Result<Discretize<Walk>>| r.unwrap_err().to_string();
        assert!(err(Discretize::new(walk(), &[3])).contains("`bins`"));
        assert!(err(Discretize::new(walk(), &[3, 0])).contains("`bins[1]`"));
        let e = err(Discretize::new(walk(), &[usize::MAX, 2]));
        assert!(e.contains("fits in usize"), "{e}");
        let e = err(Discretize::with_bounds(walk(), &[2, 2], &[None]));
        assert!(e.contains("`bounds`"), "{e}");
        let e = err(Discretize::with_bounds(
            walk(),
            &[2, 2],
            &[Some((1.0, 1.0)), None],
        ));
        assert!(e.contains("`bounds[0]`") && e.contains("(1, 1)"), "{e}");
        // No test env observes `[f32]` from a discrete space, so check the space test directly.
        let e = resolve_bounds(&Space::discrete(3), &[2], &[None]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value Discrete(3) for `observation_space`: expected a Box"
        );
    }
}
