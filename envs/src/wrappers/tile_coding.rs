//! [`TileCoding`]: a box observation as the active features of offset tilings.

use std::fmt;
use std::ops::Deref;

use super::checks::resolve_bounds;
use super::{Wrapper, inner_env_in};
use crate::{Env, Error, Model, Result, Space};

/// The most tilings a [`TileCoding`] may have: the capacity of [`Tiles`].
pub const MAX_TILINGS: usize = 64;

/// The active feature indices of one observation, one per tiling, in tiling order.
///
/// A fixed-capacity inline array, so that producing one allocates nothing and copying one is
/// a `memcpy`. Read it as a slice (`tiles.as_slice()`, or any slice method through `Deref`).
/// Two tilings may hash to the same index; the entries are not deduplicated.
#[derive(Clone, Copy)]
pub struct Tiles {
    indices: [usize; MAX_TILINGS],
    len: usize,
}

impl Tiles {
    /// The indices, one per tiling.
    #[inline]
    pub fn as_slice(&self) -> &[usize] {
        &self.indices[..self.len]
    }
}

impl Deref for Tiles {
    type Target = [usize];

    #[inline]
    fn deref(&self) -> &[usize] {
        self.as_slice()
    }
}

impl AsRef<[usize]> for Tiles {
    #[inline]
    fn as_ref(&self) -> &[usize] {
        self.as_slice()
    }
}

impl<'a> IntoIterator for &'a Tiles {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl PartialEq for Tiles {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Tiles {}

impl fmt::Debug for Tiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// Tile coding of a box observation — Sutton & Barto, *Reinforcement Learning* (2nd ed.),
/// §9.5.4 and §12, after Sutton's `tiles3` software.
///
/// Dimension `i` is scaled so that `[low[i], high[i]]` spans `tiles[i]` tile widths. Each of
/// `n_tilings` grids of such tiles is displaced from the first by `t / n_tilings` of a tile
/// times the vector `(1, 3, 5, …)` — the asymmetric offsets S&B recommend, which avoid the
/// diagonal artefacts of uniform offsets. Every tiling therefore covers the range with
/// `tiles[i] + 1` tiles per dimension. The tile holding the observation in tiling `t` is
/// hashed, with `t`, into a table of `memory_size` entries.
///
/// The observation is the [`Tiles`] list: `n_tilings` active feature indices, each
/// `< memory_size`. A linear learner keeps one weight per `(index, action)` and sums the
/// weights of the active indices. Values outside `[low, high]` are not clipped: the grid goes
/// on, so the bounds set the tile width, not a limit.
///
/// The observation space reported is `Discrete(memory_size)`, the space of feature indices;
/// an observation is a set of `n_tilings` of its elements rather than one element. Hash
/// collisions are possible (S&B's "hashing"); a table several times larger than the number of
/// tiles visited keeps them rare. There is no model, and stepping allocates nothing.
///
/// | parameter | valid range | S&B's advice |
/// |---|---|---|
/// | `n_tilings` | 1 to [`MAX_TILINGS`] | a power of two, at least 4 × the dimension |
/// | `tiles[i]` | at least 1 | |
/// | `memory_size` | at least 1 | e.g. 4096 for Mountain Car with 8 tilings of 8 × 8 |
///
/// ```
/// # use qlab_envs::{BoxSpace, Env, Frame, Info, Reset, Result, Space, Step};
/// # struct Line { x: f32, obs: Space, act: Space }
/// # impl Env for Line {
/// #     type Obs = [f32; 2];
/// #     type Action = usize;
/// #     fn observation_space(&self) -> &Space { &self.obs }
/// #     fn action_space(&self) -> &Space { &self.act }
/// #     fn reset(&mut self, _: Option<u64>) -> Reset<[f32; 2]> {
/// #         self.x = 0.5;
/// #         Reset { obs: [self.x, 0.5], info: Info::default() }
/// #     }
/// #     fn step(&mut self, a: usize) -> Result<Step<[f32; 2]>> {
/// #         qlab_envs::check_discrete_action(a, &self.act)?;
/// #         self.x += 0.01;
/// #         Ok(Step { obs: [self.x, 0.5], reward: 0.0, terminated: false, truncated: false,
/// #                   info: Info::default() })
/// #     }
/// #     fn render_ansi(&self) -> String { String::new() }
/// #     fn render_rgb(&self) -> Frame { Frame::filled(1, 1, [0; 3]) }
/// #     fn name(&self) -> String { "Line".into() }
/// # }
/// # fn main() -> qlab_envs::Result<()> {
/// # let env = Line {
/// #     x: 0.0,
/// #     obs: BoxSpace::from_bounds(vec![0.0, 0.0], vec![1.0, 1.0]).into(),
/// #     act: Space::discrete(2),
/// # };
/// use qlab_envs::wrappers::TileCoding;
///
/// // `env` observes Box([0, 0], [1, 1]): 8 tilings of 8 × 8 tiles, hashed into 4096 features.
/// let mut env = TileCoding::new(env, 8, &[8, 8], 4096)?;
/// assert_eq!(env.observation_space(), &Space::discrete(4096));
/// let first = env.reset(None).obs;
/// assert_eq!(first.len(), 8);
/// assert!(first.iter().all(|&i| i < 4096));
/// // A small move changes the tile in only a few tilings.
/// let next = env.step(0)?.obs;
/// let shared = first.iter().zip(&next).filter(|(a, b)| a == b).count();
/// assert!(shared >= 6);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TileCoding<E> {
    env: E,
    n_tilings: usize,
    tiles: Vec<usize>,
    low: Vec<f32>,
    high: Vec<f32>,
    /// `n_tilings · tiles[i] / (high[i] - low[i])`: offset steps per unit of dimension `i`.
    scale: Vec<f64>,
    memory_size: usize,
    space: Space,
}

impl<E: Env> TileCoding<E>
where
    E::Obs: AsRef<[f32]>,
{
    /// Wraps `env` with `n_tilings` tilings of `tiles[i]` tiles across the inner box's range
    /// on dimension `i`, hashed into `memory_size` features.
    ///
    /// Errors if the observation space is not a box or has an infinite bound, `tiles` has the
    /// wrong length or a zero, or `n_tilings` or `memory_size` is out of range (see the table
    /// on [`TileCoding`]).
    pub fn new(env: E, n_tilings: usize, tiles: &[usize], memory_size: usize) -> Result<Self> {
        let dims = tiles.len();
        Self::with_bounds(env, n_tilings, tiles, &vec![None; dims], memory_size)
    }

    /// Like [`TileCoding::new`], with `bounds[i] = Some((low, high))` replacing the box's bounds
    /// on dimension `i` (`None` keeps them). Explicit bounds must be finite with `low < high`.
    pub fn with_bounds(
        env: E,
        n_tilings: usize,
        tiles: &[usize],
        bounds: &[Option<(f32, f32)>],
        memory_size: usize,
    ) -> Result<Self> {
        if !(1..=MAX_TILINGS).contains(&n_tilings) {
            return Err(Error::InvalidParam {
                key: "n_tilings".into(),
                value: n_tilings.to_string(),
                expected: format!("1 to {MAX_TILINGS}"),
            });
        }
        if memory_size == 0 {
            return Err(Error::InvalidParam {
                key: "memory_size".into(),
                value: "0".into(),
                expected: "at least 1".into(),
            });
        }
        let (low, high) = resolve_bounds(env.observation_space(), tiles, bounds)
            .map_err(|e| rename_bins(e, "tiles"))?;
        let scale = tiles
            .iter()
            .zip(low.iter().zip(&high))
            .map(|(&n, (&l, &h))| n as f64 / (h as f64 - l as f64))
            .collect();
        Ok(Self {
            env,
            n_tilings,
            tiles: tiles.to_vec(),
            low,
            high,
            scale,
            memory_size,
            space: Space::discrete(memory_size),
        })
    }

    /// The active features of an observation.
    ///
    /// # Panics
    /// In debug builds, if `obs` does not have one value per dimension.
    #[inline]
    pub fn tiles_of(&self, obs: &[f32]) -> Tiles {
        debug_assert_eq!(obs.len(), self.tiles.len(), "observation length");
        let mut out = Tiles {
            indices: [0; MAX_TILINGS],
            len: self.n_tilings,
        };
        for (t, slot) in out.indices[..self.n_tilings].iter_mut().enumerate() {
            let mut h = hash_start(t);
            self.for_each_coord(obs, t, |c| h = hash_step(h, c));
            *slot = (hash_finish(h) % self.memory_size as u64) as usize;
        }
        out
    }

    /// Calls `f` with the integer coordinate of the tile holding `obs` in tiling `t`, dimension
    /// by dimension. As in `tiles3`, the scaled value is first quantized to `1 / n_tilings` of a
    /// tile, then displaced by `t · (2i + 1)` such quanta and floored to whole tiles.
    #[inline]
    fn for_each_coord(&self, obs: &[f32], t: usize, mut f: impl FnMut(i64)) {
        let n = self.n_tilings as i64;
        for (i, &x) in obs.iter().enumerate() {
            // Saturating casts: NaN gives 0, huge values stay huge; the hash takes any i64.
            let q = ((x as f64 - self.low[i] as f64) * self.scale[i] * n as f64).floor() as i64;
            let displaced = q.saturating_add(t as i64 * (2 * i as i64 + 1));
            f(displaced.div_euclid(n));
        }
    }

    /// The number of tilings.
    pub fn n_tilings(&self) -> usize {
        self.n_tilings
    }

    /// The number of tile widths across each dimension's range.
    pub fn tiles(&self) -> &[usize] {
        &self.tiles
    }

    /// The size of the feature table: every index is below it.
    pub fn memory_size(&self) -> usize {
        self.memory_size
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

/// The shared bound checks speak of `bins`; here the counts are `tiles`.
fn rename_bins(e: Error, to: &str) -> Error {
    match e {
        Error::InvalidParam {
            key,
            value,
            expected,
        } if key.starts_with("bins") => Error::InvalidParam {
            key: key.replacen("bins", to, 1),
            value,
            expected,
        },
        e => e,
    }
}

// The hash: FxHash-style multiply-rotate per coordinate, then SplitMix64's finalizer so that
// the low bits used by `% memory_size` depend on every coordinate. Written out here so that
// feature indices stay the same across Rust and dependency versions.
const HASH_MUL: u64 = 0x517c_c1b7_2722_0a95;

#[inline]
fn hash_start(tiling: usize) -> u64 {
    (tiling as u64)
        .wrapping_add(0x9e37_79b9_7f4a_7c15)
        .wrapping_mul(HASH_MUL)
}

#[inline]
fn hash_step(h: u64, coord: i64) -> u64 {
    (h.rotate_left(5) ^ coord as u64).wrapping_mul(HASH_MUL)
}

#[inline]
fn hash_finish(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl<E: Env> Wrapper for TileCoding<E>
where
    E::Obs: AsRef<[f32]>,
{
    type Inner = E;
    type Obs = Tiles;

    inner_env_in!(env);

    fn observation_space(this: &Self) -> &Space {
        &this.space
    }

    #[inline]
    fn observation(this: &mut Self, obs: E::Obs) -> Tiles {
        this.tiles_of(obs.as_ref())
    }

    // The features are not the inner model's states.
    fn model(_: &Self) -> Option<&dyn Model> {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::wrappers::test_envs::Walk;

    fn coder(n_tilings: usize, tiles: &[usize], memory_size: usize) -> TileCoding<Walk> {
        let env = Walk::with_bounds(100.0, vec![-1.0, 0.0], vec![1.0, 2.0]);
        TileCoding::new(env, n_tilings, tiles, memory_size).unwrap()
    }

    fn shared(a: &Tiles, b: &Tiles) -> usize {
        a.iter().zip(b.iter()).filter(|(x, y)| x == y).count()
    }

    /// Sutton's `tiles3` with an index hash table numbers tiles in order of first use, so the
    /// numbering depends only on the tile coordinates. `tools/wrapper_references.py` (section
    /// "tiles3") runs an independent transcription of `tiles3` over these points on
    /// `Box([-1, 0], [1, 2])` with 4 tilings of 4 × 3 tiles.
    #[test]
    fn tile_geometry_matches_tiles3() {
        let points: [[f32; 2]; 8] = [
            [0.0, 1.0],
            [0.13, 1.0],
            [0.3, 1.0],
            [0.0, 1.2],
            [-0.07, 0.95],
            [-0.9, 0.1],
            [1.3, -0.4],
            [-1.6, 2.5],
        ];
        let expected: [[usize; 4]; 8] = [
            [0, 1, 2, 3],
            [0, 1, 2, 4],
            [0, 1, 5, 4],
            [0, 1, 2, 6],
            [7, 1, 8, 3],
            [9, 10, 11, 12],
            [13, 14, 15, 16],
            [17, 18, 19, 20],
        ];
        let c = coder(4, &[4, 3], 1);
        let mut table: HashMap<Vec<i64>, usize> = HashMap::new();
        for (p, want) in points.iter().zip(expected) {
            let mut got = Vec::new();
            for t in 0..4 {
                let mut coords = vec![t as i64];
                c.for_each_coord(p, t, |x| coords.push(x));
                let next = table.len();
                got.push(*table.entry(coords).or_insert(next));
            }
            assert_eq!(got, want, "{p:?}");
        }
    }

    #[test]
    fn active_set_is_deterministic_and_in_range() {
        let a = coder(8, &[8, 8], 512);
        let b = coder(8, &[8, 8], 512);
        for k in 0..200 {
            let p = [(k as f32 * 0.37).sin(), (k as f32 * 0.11).cos() + 1.0];
            let t = a.tiles_of(&p);
            assert_eq!(t, b.tiles_of(&p));
            assert_eq!(t.len(), 8);
            assert!(t.iter().all(|&i| i < 512), "{t:?}");
        }
    }

    #[test]
    fn nearby_points_share_most_tiles_and_far_points_none() {
        let c = coder(8, &[8, 8], 1 << 20);
        // A tile is 0.25 wide in x; a step of 1/80 of it crosses into a new tile in at most a
        // few of the 8 tilings.
        let p = [0.1, 1.0];
        let near = [0.1 + 0.25 / 80.0, 1.0];
        assert!(shared(&c.tiles_of(&p), &c.tiles_of(&near)) >= 6);
        // More than one tile apart in x: no tiling can hold both in one tile.
        let far = [0.5, 1.0];
        assert_eq!(shared(&c.tiles_of(&p), &c.tiles_of(&far)), 0);
        // Generalization falls off with distance (S&B Figure 9.11).
        let counts: Vec<usize> = [0.0f32, 0.05, 0.1, 0.15, 0.2, 0.3]
            .iter()
            .map(|d| shared(&c.tiles_of(&p), &c.tiles_of(&[p[0] + d, 1.0])))
            .collect();
        assert_eq!(counts[0], 8);
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
        assert_eq!(counts[5], 0);
    }

    #[test]
    fn tilings_are_offset_from_one_another() {
        // Without offsets every tiling would switch tiles at the same x: moving 1/8 of a tile
        // from the origin would change all tiles or none.
        let c = coder(8, &[8, 8], 1 << 20);
        let p = [0.0, 0.5];
        let q = [0.25 / 8.0 + 1e-4, 0.5];
        let s = shared(&c.tiles_of(&p), &c.tiles_of(&q));
        assert!(0 < s && s < 8, "{s}");
    }

    #[test]
    fn steps_and_resets_give_tiles() {
        let mut env = TileCoding::new(Walk::new(3.0), 4, &[6, 2], 4096).unwrap();
        let first = env.reset(Some(0)).obs;
        let copy = env.tiles_of(&[0.0, env.inner().y]);
        assert_eq!(first, copy);
        let s = env.step(1).unwrap();
        assert_eq!(s.reward, 1.0);
        assert_eq!(s.obs, env.tiles_of(&[1.0, env.inner().y]));
        assert_eq!(env.observation_space(), &Space::discrete(4096));
        assert_eq!(env.name(), "Walk");
    }

    #[test]
    fn rejects_bad_arguments_naming_them() {
        let e = |r: Result<TileCoding<Walk>>| r.unwrap_err().to_string();
        let msg = e(TileCoding::new(Walk::new(1.0), 65, &[4, 4], 64));
        assert_eq!(msg, "invalid value 65 for `n_tilings`: expected 1 to 64");
        assert!(e(TileCoding::new(Walk::new(1.0), 0, &[4, 4], 64)).contains("`n_tilings`"));
        assert!(e(TileCoding::new(Walk::new(1.0), 4, &[4, 4], 0)).contains("`memory_size`"));
        assert!(e(TileCoding::new(Walk::new(1.0), 4, &[4], 64)).contains("`tiles`"));
        assert!(e(TileCoding::new(Walk::new(1.0), 4, &[4, 0], 64)).contains("`tiles[1]`"));
        let inf = f32::INFINITY;
        let open = Walk::with_bounds(1.0, vec![-inf, 0.0], vec![inf, 1.0]);
        let msg = e(TileCoding::new(open, 4, &[4, 4], 64));
        assert!(msg.contains("`bounds[0]`"), "{msg}");
    }

    #[test]
    fn tiles_debug_and_equality_see_only_the_active_entries() {
        let c = coder(2, &[1, 1], 7);
        let t = c.tiles_of(&[0.0, 0.0]);
        assert_eq!(format!("{t:?}"), format!("{:?}", t.as_slice()));
        assert_eq!(t.as_slice().len(), 2);
    }
}
