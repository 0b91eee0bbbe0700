//! [`GridPixels`]: a GridWorld seen as an image, for convolutional Q-networks, and the
//! `PixelGridWorld-v0` maze it is registered with.

use super::render::{AGENT, colour};
use super::{Cell, GridWorld, GridWorldConfig, Move};
use crate::{BoxSpace, Env, Frame, Model, Reset, Result, Space, Step};

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
/// ## Description
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
/// ## Action space
/// The GridWorld's: `Discrete(4)` for `PixelGridWorld-v0`, 0 = Up, 1 = Right, 2 = Down,
/// 3 = Left.
///
/// ## Observation space
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
/// centre in [`Env::render_rgb`], divided by 255 — the cell's colour, or the agent's where the
/// agent is. Wind arrows are not at the centre and do not show.
///
/// Each reset, step and `set_state` returns a new `Vec<f32>`: one allocation, a copy of the
/// fixed background with the agent drawn in. [`GridPixels::encode_into`] writes an
/// observation into a buffer of the caller's without allocating.
///
/// ## Rewards
/// The GridWorld's. `PixelGridWorld-v0`: −1 for each move (a bump into a wall included),
/// +1 for the move into the goal, so the best return is 1 − 9 = −8.
///
/// ## Starting state
/// The GridWorld's start cells; `PixelGridWorld-v0` always starts at the top left, `(0, 0)`.
///
/// ## Episode end
/// - Termination: entering the goal (or a hole, on maps with holes).
/// - Truncation: by the registry's [`TimeLimit`](crate::wrappers::TimeLimit), after the
///   config's `max_episode_steps`: 50 for `PixelGridWorld-v0`.
///
/// ## Parameters
/// Every GridWorld parameter (see [`GridWorldConfig::apply_params`]: `map`, the rewards,
/// `max_episode_steps`, …) and `mode`: `"planes"` (default) or `"rgb"`.
///
/// ## Version notes
/// - `PixelGridWorld-v0`: first version. Gymnasium has no counterpart; the planes follow the
///   layout of MiniGrid-style symbolic observations, channel first as convolutions take them.
///
/// The model, `set_state` and rendering are the GridWorld's: states are cell indices, and
/// `set_state(&[s])` returns the image of cell `s`.
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

    /// The wrapped env.
    pub fn inner(&self) -> &GridWorld {
        &self.env
    }

    /// The wrapped env, mutably.
    pub fn inner_mut(&mut self) -> &mut GridWorld {
        &mut self.env
    }

    /// Unwraps.
    pub fn into_inner(self) -> GridWorld {
        self.env
    }
}

impl Env for GridPixels {
    type Obs = Vec<f32>;
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.space
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<Vec<f32>> {
        let reset = self.env.reset(seed);
        let obs = self.encode(reset.obs);
        reset.map_obs(|_| obs)
    }

    fn step(&mut self, action: usize) -> Result<Step<Vec<f32>>> {
        let step = self.env.step(action)?;
        let obs = self.encode(step.obs);
        Ok(step.map_obs(|_| obs))
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

    /// Puts the agent on a cell, as [`GridWorld`]'s `set_state`, and returns its image.
    fn set_state(&mut self, state: &[f64]) -> Result<Vec<f32>> {
        let s = self.env.set_state(state)?;
        Ok(self.encode(s))
    }

    fn model(&self) -> Option<&dyn Model> {
        self.env.model()
    }
}
