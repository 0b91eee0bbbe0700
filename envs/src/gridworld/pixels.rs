//! [`GridPixels`]: a GridWorld seen as an image, for convolutional Q-networks, and the
//! `PixelGridWorld-v0` maze it is registered with.

use super::render::{AGENT, colour};
use super::{Cell, GridWorld, GridWorldConfig, Move};
use crate::wrappers::{Wrapper, inner_env_in};
use crate::{BoxSpace, Space};

/// The id [`GridPixels`] is registered under, over [`pixel_grid_world_config`].
pub const PIXEL_GRID_WORLD_ID: &str = "PixelGridWorld-v0";

/// The `PixelGridWorld-v0` maze: 6×6, start top left, goal bottom right, a wall bar across the
/// second row, two pillars and a wall that blocks the bottom row. Shortest path: 10 moves.
pub const PIXEL_GRID_WORLD_MAP: &str = "S.....\n.####.\n......\n.#..#.\n.#..#.\n...#.G";

/// The `PixelGridWorld-v0` config: [`PIXEL_GRID_WORLD_MAP`], the four moves of
/// [`Move::CLIFF_WALKING`] (0 = Up, 1 = Right, 2 = Down, 3 = Left), no slip, −1 a move, +1 for
/// entering the goal, a time limit of 50 steps.
///
/// A move costs −1 rather than −0.01 so that a Q-network starting near zero finds the actions
/// it has tried worse than those it has not, which sends it exploring: a uniformly random walk
/// on this map reaches the goal within 50 steps only about 5% of the time.
pub fn pixel_grid_world_config() -> GridWorldConfig {
    GridWorldConfig {
        id: PIXEL_GRID_WORLD_ID.into(),
        map: PIXEL_GRID_WORLD_MAP.into(),
        actions: Move::CLIFF_WALKING.to_vec(),
        reward_step: -1.0,
        reward_goal: 1.0,
        max_episode_steps: Some(50),
        ..GridWorldConfig::default()
    }
}

/// What a [`GridPixels`] observation shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum PixelMode {
    /// [`GridPixels::PLANES`] binary planes, one per kind of thing: `5 × rows × cols`.
    #[default]
    Planes,
    /// The rendered frame at one pixel per cell, red, green and blue planes in `[0, 1]`:
    /// `3 × rows × cols`.
    Rgb,
}

impl PixelMode {
    /// The names the `mode` parameter takes, in the order of the variants.
    pub const NAMES: [&'static str; 2] = ["planes", "rgb"];

    /// The mode a `mode` parameter names, if any.
    pub fn from_name(name: &str) -> Option<PixelMode> {
        match name {
            "planes" => Some(PixelMode::Planes),
            "rgb" => Some(PixelMode::Rgb),
            _ => None,
        }
    }

    /// The mode's parameter name.
    pub fn name(self) -> &'static str {
        match self {
            PixelMode::Planes => "planes",
            PixelMode::Rgb => "rgb",
        }
    }

    /// The number of channels of an observation.
    pub fn channels(self) -> usize {
        match self {
            PixelMode::Planes => GridPixels::PLANES.len(),
            PixelMode::Rgb => 3,
        }
    }
}

/// Observes a [`GridWorld`] as an image, channel first, so that a convolutional Q-network can
/// see where the agent is relative to walls and goal.
///
/// # Description
/// The env is the wrapped GridWorld; only the observation changes. Registered as
/// `PixelGridWorld-v0` over [`pixel_grid_world_config`]: the 6×6 maze
///
/// ```text
/// S.....
/// .####.
/// ......
/// .#..#.
/// .#..#.
/// ...#.G
/// ```
///
/// whose shortest path from `S` to `G` takes 10 moves: right ×5 then down ×5, among others;
/// going down first and along the bottom row runs into the wall at `(5, 3)`.
///
/// # Action space
/// The GridWorld's: `Discrete(4)` for `PixelGridWorld-v0`, 0 = Up, 1 = Right, 2 = Down,
/// 3 = Left.
///
/// # Observation space
/// `Box(0, 1, (C, rows, cols))`, flat in row-major order: value `c · rows · cols + row · cols
/// + col` is channel `c` at the cell `(row, col)`.
///
/// With [`PixelMode::Planes`] (the default), `C = 5` planes of 0s and 1s, in the order of
/// [`GridPixels::PLANES`]:
///
/// | channel | plane | 1 at |
/// |---|---|---|
/// | 0 | [`GridPixels::AGENT`] | the agent's cell (exactly one) |
/// | 1 | [`GridPixels::GOAL`] | goal cells |
/// | 2 | [`GridPixels::HOLE`] | hole cells |
/// | 3 | [`GridPixels::CLIFF`] | cliff cells |
/// | 4 | [`GridPixels::WALL`] | wall cells |
///
/// Free and start cells are 0 in every plane. Only the agent plane changes from step to
/// step; on the last step of an episode the agent and goal planes are both 1 at the goal.
///
/// With [`PixelMode::Rgb`], `C = 3`: the red, green and blue of the pixel at each cell's
/// centre in [`Env::render_rgb`](crate::Env::render_rgb), divided by 255 — the cell's colour, or the agent's where the
/// agent is. Wind arrows are not at the centre and do not show.
///
/// Each reset, step and `set_state` returns a new `Vec<f32>`: one allocation, a copy of the
/// fixed background with the agent drawn in. [`GridPixels::encode_into`] writes an
/// observation into a buffer of the caller's without allocating.
///
/// # Rewards
/// The GridWorld's. `PixelGridWorld-v0`: −1 for each move (a bump into a wall included),
/// +1 for the move into the goal, so the best return is 1 − 9 = −8.
///
/// # Starting state
/// The GridWorld's start cells; `PixelGridWorld-v0` always starts at the top left, `(0, 0)`.
///
/// # Episode end
/// - Termination: entering the goal (or a hole, on maps with holes).
/// - Truncation: by the registry's [`TimeLimit`](crate::wrappers::TimeLimit), after the
///   config's `max_episode_steps`: 50 for `PixelGridWorld-v0`.
///
/// # Parameters
/// Every GridWorld parameter (see [`GridWorldConfig::apply_params`]: `map`, the rewards,
/// `max_episode_steps`, …) and `mode`: `"planes"` (default) or `"rgb"`.
///
/// # Version notes
/// - `PixelGridWorld-v0`: first version. Gymnasium has no counterpart. Observations are
///   channel first (`C × H × W`), the layout convolutions take, where Gymnasium's image
///   observations are `H × W × C`.
///
/// The model, `set_state`, rendering and RNG state are the GridWorld's: states are cell
/// indices, and `set_state(&[s])` returns the image of cell `s`.
///
/// ```
/// use qlab_envs::gridworld::{GridPixels, GridWorld, PixelMode};
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = GridPixels::new(GridWorld::from_map("S.#\n..G")?, PixelMode::Planes);
/// assert_eq!(env.observation_space().to_string(), "Box(0, 1, (5, 2, 3), float32)");
/// let obs = env.reset(Some(0)).obs;
/// assert_eq!(&obs[..6], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]); // the agent at (0, 0)
/// assert_eq!(&obs[6..12], &[0.0, 0.0, 0.0, 0.0, 0.0, 1.0]); // the goal at (1, 2)
/// assert_eq!(&obs[24..], &[0.0, 0.0, 1.0, 0.0, 0.0, 0.0]); // the wall at (0, 2)
/// let obs = env.step(2)?.obs; // down
/// assert_eq!(&obs[..6], &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct GridPixels {
    env: GridWorld,
    mode: PixelMode,
    /// The observation without the agent: everything that never changes.
    background: Vec<f32>,
    space: Space,
}

impl GridPixels {
    /// The plane of the agent's cell.
    pub const AGENT: usize = 0;
    /// The plane of goal cells.
    pub const GOAL: usize = 1;
    /// The plane of hole cells.
    pub const HOLE: usize = 2;
    /// The plane of cliff cells.
    pub const CLIFF: usize = 3;
    /// The plane of wall cells.
    pub const WALL: usize = 4;
    /// The planes of [`PixelMode::Planes`] by name, in channel order.
    pub const PLANES: [&'static str; 5] = ["agent", "goal", "hole", "cliff", "wall"];

    /// Wraps `env`, observed as `mode` says.
    pub fn new(env: GridWorld, mode: PixelMode) -> GridPixels {
        let (rows, cols) = (env.rows(), env.cols());
        let n = rows * cols;
        let mut background = vec![0.0; mode.channels() * n];
        for s in 0..n {
            let cell = env.cell(s);
            match mode {
                PixelMode::Planes => {
                    let plane = match cell {
                        Cell::Goal => Some(Self::GOAL),
                        Cell::Hole => Some(Self::HOLE),
                        Cell::Cliff => Some(Self::CLIFF),
                        Cell::Wall => Some(Self::WALL),
                        Cell::Free | Cell::Start => None,
                    };
                    if let Some(p) = plane {
                        background[p * n + s] = 1.0;
                    }
                }
                PixelMode::Rgb => {
                    for (c, &v) in colour(cell).iter().enumerate() {
                        background[c * n + s] = f32::from(v) / 255.0;
                    }
                }
            }
        }
        GridPixels {
            space: BoxSpace::uniform(0.0, 1.0, vec![mode.channels(), rows, cols]).into(),
            env,
            mode,
            background,
        }
    }

    /// What the observations show.
    pub fn mode(&self) -> PixelMode {
        self.mode
    }

    /// The observation's shape, `[channels, rows, cols]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.mode.channels(), self.env.rows(), self.env.cols()]
    }

    /// Writes the image of the agent at cell `state` into `out`, without allocating.
    ///
    /// # Panics
    /// If `out.len()` is not the product of [`shape`](Self::shape), or `state ≥ rows · cols`.
    pub fn encode_into(&self, state: usize, out: &mut [f32]) {
        assert_eq!(
            out.len(),
            self.background.len(),
            "a pixel observation takes a buffer of {}",
            self.background.len()
        );
        let n = self.env.rows() * self.env.cols();
        assert!(state < n, "state {state} is outside the grid (0..{n})");
        out.copy_from_slice(&self.background);
        match self.mode {
            PixelMode::Planes => out[Self::AGENT * n + state] = 1.0,
            PixelMode::Rgb => {
                for (c, &v) in AGENT.iter().enumerate() {
                    out[c * n + state] = f32::from(v) / 255.0;
                }
            }
        }
    }

    /// The image of the agent at cell `state`, as a new vector.
    ///
    /// # Panics
    /// If `state ≥ rows · cols`.
    pub fn encode(&self, state: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.background.len()];
        self.encode_into(state, &mut out);
        out
    }
}

impl Wrapper for GridPixels {
    type Inner = GridWorld;
    type Obs = Vec<f32>;

    inner_env_in!(env);

    fn observation_space(this: &Self) -> &Space {
        &this.space
    }

    /// The image of the agent at cell `s`. [`set_state`](crate::Env::set_state) puts the agent on a
    /// cell, as [`GridWorld`]'s, and returns its image.
    fn observation(this: &mut Self, s: usize) -> Vec<f32> {
        this.encode(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{AnyEnv, make, pixel_gridworld_config};
    use crate::wrappers::TimeLimit;
    use crate::{Env, Error, Model, ParamValue, Params, check_env};

    const UP: usize = 0;
    const RIGHT: usize = 1;
    const DOWN: usize = 2;
    const LEFT: usize = 3;

    fn maze(mode: PixelMode) -> GridPixels {
        GridPixels::new(GridWorld::new(pixel_grid_world_config()).unwrap(), mode)
    }

    fn registered(params: &Params) -> crate::VectorEnv {
        match make(PIXEL_GRID_WORLD_ID, params).unwrap() {
            AnyEnv::Vector(e) => e,
            _ => panic!("{PIXEL_GRID_WORLD_ID} observes images"),
        }
    }

    /// Checks every value of a planes observation against the map and the agent's cell.
    fn assert_planes(env: &GridPixels, obs: &[f32]) {
        let g = env.inner();
        let n = g.rows() * g.cols();
        assert_eq!(obs.len(), 5 * n);
        let agent = &obs[..n];
        assert_eq!(agent.iter().filter(|&&v| v == 1.0).count(), 1, "{agent:?}");
        assert_eq!(
            agent[g.agent()],
            1.0,
            "agent plane misses {:?}",
            g.coordinates(g.agent())
        );
        for s in 0..n {
            for (plane, cell) in [
                (GridPixels::GOAL, Cell::Goal),
                (GridPixels::HOLE, Cell::Hole),
                (GridPixels::CLIFF, Cell::Cliff),
                (GridPixels::WALL, Cell::Wall),
            ] {
                let want = if g.cell(s) == cell { 1.0 } else { 0.0 };
                assert_eq!(obs[plane * n + s], want, "plane {plane} at {s}");
            }
        }
        assert!(obs.iter().all(|&v| v == 0.0 || v == 1.0));
    }

    #[test]
    fn planes_follow_the_agent_and_show_the_map() {
        let mut env = maze(PixelMode::Planes);
        let obs = env.reset(Some(0)).obs;
        assert_planes(&env, &obs);
        assert_eq!(obs[0], 1.0); // the agent at (0, 0)
        // The map has one goal at (5, 5) and nine walls.
        assert_eq!(obs[36 + 35], 1.0);
        assert_eq!(obs[4 * 36..].iter().sum::<f32>(), 9.0);
        // Down, down, right (into (2, 1)), up (a wall: stays), right.
        let expected = [
            (DOWN, (1, 0)),
            (DOWN, (2, 0)),
            (RIGHT, (2, 1)),
            (UP, (2, 1)),
            (RIGHT, (2, 2)),
        ];
        for (action, (row, col)) in expected {
            let step = env.step(action).unwrap();
            assert_planes(&env, &step.obs);
            assert_eq!(step.obs[row * 6 + col], 1.0, "after {action}");
            assert_eq!(step.reward, -1.0);
        }
        let obs = env.set_state(&[29.0]).unwrap(); // (4, 5)
        assert_planes(&env, &obs);
        assert_eq!(obs[29], 1.0);
        let bump = env.step(LEFT).unwrap(); // into the wall at (4, 4)
        assert_eq!(
            (bump.obs[29], bump.obs[28], bump.terminated),
            (1.0, 0.0, false)
        );
        assert_eq!(bump.obs, obs);
        let last = env.step(DOWN).unwrap();
        assert!(last.terminated && last.reward == 1.0);
        // On the goal, agent and goal planes are both set.
        assert_eq!((last.obs[35], last.obs[36 + 35]), (1.0, 1.0));
        assert_planes(&env, &last.obs);
    }

    #[test]
    fn planes_show_holes_and_cliffs() {
        let env = GridPixels::new(
            GridWorld::from_map("SH\nCG\n#.").unwrap(),
            PixelMode::Planes,
        );
        let obs = env.encode(5);
        let n = 6;
        assert_eq!(&obs[..n], &[0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(obs[GridPixels::GOAL * n + 3], 1.0);
        assert_eq!(obs[GridPixels::HOLE * n + 1], 1.0);
        assert_eq!(obs[GridPixels::CLIFF * n + 2], 1.0);
        assert_eq!(obs[GridPixels::WALL * n + 4], 1.0);
        assert_eq!(obs.iter().sum::<f32>(), 5.0);
    }

    #[test]
    fn observation_space_is_channels_rows_cols() {
        let planes = maze(PixelMode::Planes);
        let space = planes.observation_space().as_box().unwrap();
        assert_eq!(space.shape(), &[5, 6, 6]);
        assert_eq!(planes.shape(), [5, 6, 6]);
        assert_eq!(
            planes.observation_space().to_string(),
            "Box(0, 1, (5, 6, 6), float32)"
        );
        let rgb = registered(&Params::new().with("mode", ParamValue::Str("rgb".into())));
        assert_eq!(
            rgb.observation_space().to_string(),
            "Box(0, 1, (3, 6, 6), float32)"
        );
        let wide = GridPixels::new(GridWorld::from_map("S..#\n...G").unwrap(), PixelMode::Rgb);
        assert_eq!(wide.shape(), [3, 2, 4]);
        assert_eq!(wide.action_space(), &Space::discrete(4));
    }

    #[test]
    fn rgb_is_the_rendered_frame_at_each_cell_centre() {
        let mut env = maze(PixelMode::Rgb);
        env.reset(Some(3));
        for action in [DOWN, DOWN, RIGHT, RIGHT] {
            let obs = env.step(action).unwrap().obs;
            let frame = env.render_rgb();
            // `render.rs` draws a cell (row, col) as 32 pixels a side after a one-pixel line.
            for s in 0..36 {
                let (row, col) = (s / 6, s % 6);
                let px = frame.pixel(row * 32 + 16, col * 32 + 16);
                for c in 0..3 {
                    assert_eq!(obs[c * 36 + s], f32::from(px[c]) / 255.0, "cell {s}");
                }
            }
        }
        assert!(
            env.observation_space()
                .as_box()
                .unwrap()
                .contains(&env.encode(0))
        );
    }

    #[test]
    fn the_registered_maze_passes_the_checker_in_both_modes() {
        for mode in PixelMode::NAMES {
            let params = Params::new().with("mode", ParamValue::Str(mode.into()));
            check_env(|| registered(&params), 5, 200).unwrap();
        }
        check_env(|| maze(PixelMode::Planes), 9, 100).unwrap();
    }

    /// The fewest moves from the start into a terminal cell, over the model's outcomes.
    fn shortest_path(model: &dyn Model) -> Option<usize> {
        let (n, n_actions) = (model.n_states(), model.n_actions());
        super::super::model::shortest_path(n, n_actions, model.initial_states(), |s, a| {
            model.transitions(s, a)
        })
    }

    #[test]
    fn the_registered_maze_takes_ten_moves_and_returns_minus_eight() {
        let mut env = registered(&Params::new());
        assert_eq!(shortest_path(env.model().unwrap()), Some(10));
        env.reset(Some(0));
        let mut ret = 0.0;
        for (i, action) in [[RIGHT; 5], [DOWN; 5]].concat().into_iter().enumerate() {
            let step = env.step(action).unwrap();
            ret += step.reward;
            assert_eq!(step.terminated, i == 9);
        }
        assert_eq!(ret, -8.0);
        // Down first: along the bottom row the wall at (5, 3) stops the agent.
        env.reset(None);
        for action in [[DOWN; 5], [RIGHT; 5]].concat() {
            assert!(!env.step(action).unwrap().done());
        }
        assert_eq!(env.set_state(&[32.0]).unwrap()[32], 1.0);
    }

    /// The chance that a uniformly random policy enters the goal within the 50-step limit,
    /// from the model. Reference, an independent walk over the map in Python:
    ///
    /// ```python
    /// m = ["S.....", ".####.", "......", ".#..#.", ".#..#.", "...#.G"]
    /// ok = lambda r, c: 0 <= r < 6 and 0 <= c < 6 and m[r][c] != "#"
    /// def nxt(r, c, a):
    ///     dr, dc = [(-1, 0), (0, 1), (1, 0), (0, -1)][a]
    ///     return (r + dr, c + dc) if ok(r + dr, c + dc) else (r, c)
    /// p = {(r, c): 0.0 for r in range(6) for c in range(6) if ok(r, c)}
    /// p[(0, 0)] = 1.0
    /// hit = 0.0
    /// for _ in range(50):
    ///     q = dict.fromkeys(p, 0.0)
    ///     for s, v in p.items():
    ///         for a in range(4):
    ///             q[nxt(*s, a)] += v / 4
    ///     hit += q[(5, 5)]; q[(5, 5)] = 0.0; p = q
    /// print(repr(hit))  # 0.04701484392850056
    /// ```
    #[test]
    fn a_random_walk_rarely_finds_the_goal_within_the_limit() {
        let (config, mode) = pixel_gridworld_config(PIXEL_GRID_WORLD_ID, &Params::new()).unwrap();
        assert_eq!(
            (config.max_episode_steps, mode),
            (Some(50), PixelMode::Planes)
        );
        let env = GridWorld::new(config).unwrap();
        let m: &dyn Model = &env;
        let mut p = vec![0.0; m.n_states()];
        p[0] = 1.0;
        let mut hit = 0.0;
        for _ in 0..50 {
            let mut q = vec![0.0; m.n_states()];
            for (s, &v) in p.iter().enumerate().filter(|&(s, _)| !m.is_terminal(s)) {
                for a in 0..m.n_actions() {
                    for t in m.transitions(s, a) {
                        q[t.next_state] += v * t.prob / 4.0;
                    }
                }
            }
            hit += q[35];
            q[35] = 0.0;
            p = q;
        }
        assert!((hit - 0.04701484392850056).abs() < 1e-12, "{hit}");
    }

    #[test]
    fn params_choose_the_mode_and_change_the_grid_world() {
        let params = Params::new()
            .with("map", ParamValue::Str("S.G".into()))
            .with("max_episode_steps", ParamValue::Int(3))
            .with("mode", ParamValue::Str("rgb".into()));
        let mut env = registered(&params);
        assert_eq!(
            env.observation_space().to_string(),
            "Box(0, 1, (3, 1, 3), float32)"
        );
        env.reset(Some(1));
        let s = env.step(LEFT).unwrap();
        assert!(!s.done() && s.reward == -1.0);
        assert_eq!(env.name(), PIXEL_GRID_WORLD_ID);

        let bad = Params::new().with("mode", ParamValue::Str("grey".into()));
        let msg = make(PIXEL_GRID_WORLD_ID, &bad).err().unwrap().to_string();
        assert_eq!(
            msg,
            "invalid value \"grey\" for `mode`: expected one of planes, rgb"
        );
        let typo = Params::new().with("mdoe", ParamValue::Str("rgb".into()));
        let err = make(PIXEL_GRID_WORLD_ID, &typo).err().unwrap();
        let msg = err.to_string();
        assert!(matches!(err, Error::UnknownParam { .. }), "{msg}");
        assert!(
            msg.contains("`mdoe`") && msg.contains("map_file") && msg.contains("mode"),
            "{msg}"
        );
        // The GridWorld-only registry function does not take the pixel id.
        assert!(crate::registry::gridworld_config(PIXEL_GRID_WORLD_ID, &Params::new()).is_err());
    }

    #[test]
    fn encode_into_writes_without_allocating_and_checks_the_buffer() {
        let env = maze(PixelMode::Planes);
        let mut buf = vec![0.5; 180];
        env.encode_into(7, &mut buf);
        assert_eq!(buf, env.encode(7));
        let short = std::panic::catch_unwind(|| env.encode_into(0, &mut [0.0; 10]));
        assert!(short.is_err());
        assert_eq!(PixelMode::from_name("rgb"), Some(PixelMode::Rgb));
        assert_eq!(PixelMode::Rgb.name(), "rgb");
        assert!(PixelMode::from_name("RGB").is_none());
    }

    #[test]
    fn forwards_the_model_the_time_limit_and_rendering() {
        let env = maze(PixelMode::Planes);
        assert_eq!(env.model().unwrap().n_states(), 36);
        assert!(env.render_ansi().contains("...#.G"));
        let mut limited = TimeLimit::new(env, 2);
        limited.reset(Some(0));
        let _ = limited.step(UP).unwrap();
        assert!(limited.step(UP).unwrap().truncated);
        assert_eq!(limited.inner().inner().agent(), 0);
    }
}
