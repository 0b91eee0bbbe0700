//! [`DiscretizeAction`]: a Box action space replaced by `Discrete(n)` over a grid of actions.

use super::checks::acted_box;
use crate::{
    Env, EnvRng, Error, Frame, Model, Reset, Result, Space, SpaceAction, Step,
    check_discrete_action,
};

/// The most actions a [`DiscretizeAction`] grid may have: `2²⁴`. Past it, a grid is a
/// mistake (`n = 10⁹`) rather than a choice, and its values alone would not fit in memory.
pub const MAX_ACTIONS: usize = 1 << 24;

/// Drives an env with Box actions through discrete ones: action `k` of `Discrete(N)` stands
/// for one point of a grid over the env's action box, so the tabular agents and DQN, which
/// choose among indices, can drive a continuous env.
///
/// # The grid
/// As Gymnasium 1.4's `DiscretizeAction(env, bins)`: element `d` of the box is cut into
/// `n_d ≥ 1` equal bins and takes their centres, computed in `f32` as NumPy computes them on a
/// `float32` box (`0.5 · (e_j + e_{j+1})` over the edges `e = np.linspace(low, high, n_d + 1)`:
/// `e_j = j · ((high − low) / n_d) + low`, the last edge exactly `high`). The bounds are never on
/// the grid: with 4 bins over `[-1, 1]` the values are −0.75, −0.25, 0.25, 0.75 (with 5 the
/// middle one is NumPy's `2.9802322e-8`, not 0: the edges are rounded to `f32`). A
/// multi-dimensional box is gridded by the Cartesian product, `N = n_0 · n_1 · …` actions,
/// numbered row-major with the **last element varying fastest**:
///
/// ```text
/// k = ((j_0 · n_1 + j_1) · n_2 + j_2) · …
/// ```
///
/// the order of `np.unravel_index(k, (n_0, n_1, …))` and of Gymnasium's `DiscretizeAction`.
/// So with two elements of 3 bins each, action 0 is `(first_0, first_1)`, action 1 is
/// `(first_0, middle_1)`, action 3 is `(middle_0, first_1)` and action 8 `(last_0, last_1)`.
///
/// # Everything else
/// The observations, rewards and flags are the env's. An index outside `Discrete(N)` is
/// [`Error::InvalidAction`] naming it, with nothing stepped. Not a
/// [`Wrapper`](super::Wrapper) (wrappers keep the actions), but [`inner`](Self::inner),
/// [`inner_mut`](Self::inner_mut) and [`into_inner`](Self::into_inner) work as theirs. There
/// is no model (an exact model's actions would be the env's); the RNG state is the inner
/// env's. A step copies one prepared action of the env's type (for a `Vec<f32>` action that
/// copy allocates, as the type-erased envs already do for their observations).
///
/// ```
/// use qlab_envs::point_mass::PointMass;
/// use qlab_envs::wrappers::DiscretizeAction;
/// use qlab_envs::{Env, Space};
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = DiscretizeAction::new(PointMass::new(), 4)?;
/// assert_eq!(*env.action_space(), Space::discrete(4));
/// assert_eq!(env.action_of(0), Some([-0.75])); // the force, N: -0.75, -0.25, 0.25, 0.75
/// assert_eq!(env.action_of(2), Some([0.25]));
/// env.reset(Some(0));
/// env.set_state(&[0.0, 0.0])?;
/// assert!(env.step(3)?.obs[1] > 0.0); // pushed right
/// assert!(env.step(4).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct DiscretizeAction<E: Env> {
    env: E,
    /// Values per element of the box.
    counts: Vec<usize>,
    /// Each element's values, element after element (`counts[d]` of them for element `d`).
    values: Vec<f32>,
    /// Where each element's values start in `values`.
    starts: Vec<usize>,
    /// An action of the env's type, overwritten with the grid point each step.
    action: E::Action,
    space: Space,
}

impl<E: Env> DiscretizeAction<E>
where
    E::Action: SpaceAction + AsMut<[f32]>,
{
    /// Wraps `env`, taking `n ≥ 2` values in every element of its action box.
    ///
    /// Errors ([`Error::InvalidParam`]) as [`with_counts`](Self::with_counts).
    pub fn new(env: E, n: usize) -> Result<Self> {
        let dims = acted_box(env.action_space())?.len();
        Self::with_counts(env, &vec![n; dims])
    }

    /// Wraps `env`, taking `counts[d] ≥ 2` values in element `d` of its action box.
    ///
    /// Errors ([`Error::InvalidParam`]) if the action space is not a box, a bound of it is
    /// infinite, `counts` has not one count per element or one is below 2, or the grid has
    /// more than [`MAX_ACTIONS`] points.
    pub fn with_counts(env: E, counts: &[usize]) -> Result<Self> {
        let boxed = acted_box(env.action_space())?;
        if counts.len() != boxed.len() {
            return Err(Error::InvalidParam {
                key: "n".into(),
                value: format!("{counts:?}"),
                expected: format!("one count per element of the action space {boxed}"),
            });
        }
        let mut values = Vec::new();
        let mut starts = Vec::with_capacity(counts.len());
        let mut total: usize = 1;
        for (d, &n) in counts.iter().enumerate() {
            if n < 1 {
                return Err(Error::InvalidParam {
                    key: "n".into(),
                    value: n.to_string(),
                    expected: "at least 1 bin per element".into(),
                });
            }
            let (low, high) = (boxed.low()[d], boxed.high()[d]);
            if !(low.is_finite() && high.is_finite()) {
                return Err(Error::InvalidParam {
                    key: "action_space".into(),
                    value: boxed.to_string(),
                    expected: format!("a box with finite bounds (element {d} is not)"),
                });
            }
            total = total
                .checked_mul(n)
                .filter(|&t| t <= MAX_ACTIONS)
                .ok_or_else(|| Error::InvalidParam {
                    key: "n".into(),
                    value: format!("{counts:?}"),
                    expected: format!("a grid of at most {MAX_ACTIONS} actions"),
                })?;
            starts.push(values.len());
            // NumPy's `float32` `np.linspace(low, high, n + 1)`: `j · step + low`, the last edge
            // exactly `high`; then the centres `0.5 · (e_j + e_{j+1})`, in `f32`.
            let step = (high - low) / n as f32;
            let edge = |j: usize| if j == n { high } else { j as f32 * step + low };
            values.extend((0..n).map(|j| 0.5 * (edge(j) + edge(j + 1))));
        }
        // Any element of the box gives an action of the env's type to overwrite; a type that
        // cannot hold one (an array of another length) cannot be driven at all.
        let action =
            E::Action::sample(env.action_space(), &mut EnvRng::new(0)).ok_or_else(|| {
                Error::InvalidParam {
                    key: "action_space".into(),
                    value: boxed.to_string(),
                    expected: "a box the env's action type can hold".into(),
                }
            })?;
        Ok(Self {
            counts: counts.to_vec(),
            values,
            starts,
            action,
            space: Space::discrete(total),
            env,
        })
    }

    /// The values per element of the box.
    pub fn counts(&self) -> &[usize] {
        &self.counts
    }

    /// The env's action that index `k` stands for, or `None` past the last index.
    pub fn action_of(&self, k: usize) -> Option<E::Action> {
        let mut action = self.action.clone();
        self.fill(k, action.as_mut()).then_some(action)
    }

    /// Writes the grid point of index `k` into `out`; `false` if `k` is past the last.
    #[inline]
    fn fill(&self, mut k: usize, out: &mut [f32]) -> bool {
        if k >= self.space.flat_dim() {
            return false;
        }
        // The last element varies fastest: peel the indices off from the back.
        for d in (0..self.counts.len()).rev() {
            let n = self.counts[d];
            out[d] = self.values[self.starts[d] + k % n];
            k /= n;
        }
        true
    }
}

impl<E: Env> DiscretizeAction<E> {
    /// The wrapped env.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped env, mutably. Stepping or resetting it directly bypasses the wrapper.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// Unwraps.
    pub fn into_inner(self) -> E {
        self.env
    }
}

impl<E: Env> Env for DiscretizeAction<E>
where
    E::Action: SpaceAction + AsMut<[f32]>,
{
    type Obs = E::Obs;
    type Action = usize;

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        &self.space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<E::Obs> {
        self.env.reset(seed)
    }

    #[inline]
    fn step(&mut self, action: usize) -> Result<Step<E::Obs>> {
        check_discrete_action(action, &self.space)?;
        let mut inner = self.action.clone();
        self.fill(action, inner.as_mut());
        self.env.step(inner)
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

    fn set_state(&mut self, state: &[f64]) -> Result<E::Obs> {
        self.env.set_state(state)
    }

    fn model(&self) -> Option<&dyn Model> {
        None
    }

    fn rng_state(&self) -> Option<[u64; 4]> {
        self.env.rng_state()
    }

    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.env.set_rng_state(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point_mass::PointMass;
    use crate::wrappers::test_envs::Echo;
    use crate::wrappers::{RescaleAction, TimeLimit};
    use crate::{BoxSpace, check_env};

    /// The grid over `Box([-2, 0.5], [1, 3])` with 3 × 4 bins, index by index:
    /// `tools/wrapper_references.py`, section "discretize_action" (Gymnasium 1.4's
    /// `DiscretizeAction(env, bins=(3, 4)).action(k)`).
    #[test]
    fn numbers_the_grid_as_gymnasium_and_numpy_do() {
        let space = BoxSpace::from_bounds(vec![-2.0, 0.5], vec![1.0, 3.0]);
        let mut env = DiscretizeAction::with_counts(Echo::new(space), &[3, 4]).unwrap();
        assert_eq!(*env.action_space(), Space::discrete(12));
        let want: [[f32; 2]; 12] = [
            [-1.5, 0.8125],
            [-1.5, 1.4375],
            [-1.5, 2.0625],
            [-1.5, 2.6875],
            [-0.5, 0.8125],
            [-0.5, 1.4375],
            [-0.5, 2.0625],
            [-0.5, 2.6875],
            [0.5, 0.8125],
            [0.5, 1.4375],
            [0.5, 2.0625],
            [0.5, 2.6875],
        ];
        env.reset(Some(0));
        for (k, w) in want.iter().enumerate() {
            assert_eq!(env.step(k).unwrap().obs, w.to_vec(), "index {k}");
            assert_eq!(env.action_of(k), Some(w.to_vec()));
        }
        assert_eq!(env.action_of(12), None);
    }

    #[test]
    fn bad_indices_and_settings_are_one_line_errors() {
        let mut env = DiscretizeAction::new(PointMass::new(), 3).unwrap();
        env.reset(Some(0));
        assert_eq!(
            env.step(3).unwrap_err().to_string(),
            "invalid action 3: not in the action space Discrete(3)"
        );
        let e = |r: Result<DiscretizeAction<PointMass>>| r.unwrap_err().to_string();
        assert_eq!(
            e(DiscretizeAction::new(PointMass::new(), 0)),
            "invalid value 0 for `n`: expected at least 1 bin per element"
        );
        // One bin: its centre, as Gymnasium's `bins=1`.
        assert_eq!(
            DiscretizeAction::new(PointMass::new(), 1)
                .unwrap()
                .action_of(0),
            Some([0.0])
        );
        assert!(e(DiscretizeAction::with_counts(PointMass::new(), &[2, 2])).contains("[2, 2]"));
        let inf = BoxSpace::from_bounds(vec![0.0], vec![f32::INFINITY]);
        assert!(DiscretizeAction::new(Echo::new(inf), 2).is_err());
        assert_eq!(
            DiscretizeAction::new(Echo::discrete(), 2)
                .unwrap_err()
                .to_string(),
            "invalid value Discrete(2) for `action_space`: expected a Box"
        );
        let wide = BoxSpace::uniform(-1.0, 1.0, vec![64]);
        let e = DiscretizeAction::new(Echo::new(wide), 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 16777216 actions"), "{e}");
        let huge = DiscretizeAction::new(PointMass::new(), usize::MAX).unwrap_err();
        assert!(huge.to_string().contains("at most 16777216"), "{huge}");
        assert_eq!(
            DiscretizeAction::new(PointMass::new(), MAX_ACTIONS)
                .unwrap()
                .action_space()
                .flat_dim(),
            MAX_ACTIONS
        );
    }

    /// Through the other action wrappers: the grid is over the box the agent sees.
    #[test]
    fn grids_the_box_of_the_wrapper_inside() {
        let rescaled = RescaleAction::new(PointMass::new(), 0.0, 4.0).unwrap();
        let env = DiscretizeAction::new(rescaled, 4).unwrap();
        // Bins of width 1 over [0, 4]: centres 0.5, 1.5, 2.5, 3.5.
        assert_eq!(env.action_of(1), Some([1.5]));
    }

    #[test]
    fn passes_the_checker_and_forwards_the_rng_state() {
        check_env(
            || TimeLimit::new(DiscretizeAction::new(PointMass::new(), 7).unwrap(), 50),
            5,
            300,
        )
        .unwrap();
        let mut a = DiscretizeAction::new(PointMass::new(), 3).unwrap();
        a.reset(Some(9));
        let state = a.rng_state().unwrap();
        let mut b = DiscretizeAction::new(PointMass::new(), 3).unwrap();
        b.set_rng_state(state).unwrap();
        assert_eq!(a.reset(None), b.reset(None));
    }
}
