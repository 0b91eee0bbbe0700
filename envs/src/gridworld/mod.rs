//! The GridWorld family: one [`GridWorld`] type, driven by a text map and a
//! [`GridWorldConfig`], reproduces Gymnasium's FrozenLake and CliffWalking exactly and Sutton &
//! Barto's windy grid world and random walk.
//!
//! | id | map | actions | slip | step / goal / hole / cliff reward | time limit |
//! |---|---|---|---|---|---|
//! | `FrozenLake-v1` | 4×4 | [`Move::FROZEN_LAKE`] | 1/3 | 0 / 1 / 0 / – | 100 |
//! | `FrozenLake8x8-v1` | 8×8 | [`Move::FROZEN_LAKE`] | 1/3 | 0 / 1 / 0 / – | 200 |
//! | `CliffWalking-v1` | 4×12 | [`Move::CLIFF_WALKING`] | none | −1 / −1 / – / −100 | none |
//! | `CliffWalkingSlippery-v1` | 4×12 | [`Move::CLIFF_WALKING`] | 1/3 | −1 / −1 / – / −100 | none |
//! | `WindyGridworld-v0` | 7×10, wind | [`Move::CLIFF_WALKING`] (+ [`Move::DIAGONALS`], [`Move::Stay`]) | none | −1 / −1 / – / – | none |
//! | `RandomWalk19-v0` | 1×21 | [`Move::LeftOrRight`] | – | 0 / +1 / −1 / – | none |
//! | `GridWorld-v0` | yours | [`Move::CLIFF_WALKING`] | none | 0 / 1 / 0 / −100 | 100 |
//! | `PixelGridWorld-v0` | 6×6 maze, observed as [`GridPixels`] | [`Move::CLIFF_WALKING`] | none | −1 / 1 / 0 / −100 | 50 |
//!
//! [`presets`] lists the ids, [`GridWorldConfig::preset`] gives their configs and
//! [`GridWorldConfig::apply_params`] changes them by name, as the registry does.
//! `PixelGridWorld-v0` observes an image rather than a cell index, so it stands apart:
//! [`pixel_grid_world_config`] gives its config and [`GridPixels`] its observations.

mod config;
mod map;
mod model;
mod pixels;
mod presets;
mod render;

pub use config::{ALLOWED_PARAMS, EdgeRule, GridWorldConfig, Move, TerminalTransitions};
pub use map::Cell;
pub use pixels::{
    GridPixels, PIXEL_GRID_WORLD_ID, PIXEL_GRID_WORLD_MAP, PixelMode, pixel_grid_world_config,
};
pub use presets::presets;

use rand::SeedableRng;

use crate::{
    Env, EnvRng, Error, Frame, Info, Model, Reset, Result, Space, Step, Transition,
    check_discrete_action,
};
use map::Grid;
use model::Table;

/// A grid world read from a text map: FrozenLake, CliffWalking, Sutton & Barto's windy grid
/// world and random walk, or a map of your own.
///
/// # Description
/// An agent moves between the cells of a rectangular map. Each map character is one cell:
///
/// | char | cell | entering it |
/// |---|---|---|
/// | `S` | start | as free; several `S` make a uniform start distribution |
/// | `.` or `F` | free | `reward_step` |
/// | `G` | goal | `reward_goal`, and the episode terminates |
/// | `H` | hole | `reward_hole`, and the episode terminates |
/// | `C` | cliff | `reward_cliff`, and the agent is back on a start cell; the episode goes on |
/// | `#` | wall | impossible: the move leaves the agent in place (`reward_step`) |
///
/// One action resolves in this order, every stochastic choice listed as its own entry of the
/// exact model (see [`Model`]):
/// 1. **Slip.** With probability `success_rate` the move goes where intended, otherwise to
///    either side at right angles, `(1 − success_rate) / 2` each (FrozenLake's slip).
/// 2. **Move and wind.** The wind `w` of the column the move *started from* pushes the agent
///    `w` cells towards row 0 (negative: towards the last row); with `stochastic_wind`, a
///    non-zero push is `w − 1`, `w` or `w + 1` with probability 1/3 each (Sutton & Barto,
///    Exercise 6.10). How the move and the push meet the edges and walls is the config's
///    [`EdgeRule`]:
///    - [`EdgeRule::Block`] (the default): a move that would leave the grid or enter a wall
///      leaves the agent in place (a diagonal move too); then the push, cell by cell,
///      stopping at the edge or before a wall.
///    - [`EdgeRule::Clip`] (`WindyGridworld-v0`, as Sutton & Barto's code for Example 6.5):
///      the column step, clipped to the grid (held by a wall); then the move's row step and
///      the push together, clipped to the grid (stopped before a wall). A diagonal move into
///      an edge slides along it; a move off the grid that the wind brings back is not lost.
///
///    Without wind or diagonal moves the two agree.
/// 3. **Landing.** Only the final cell counts: its reward, and whether it ends the episode.
///
/// # Action space
/// `Discrete(n)`, `n = config.actions.len()`: action `i` makes the move `config.actions[i]`.
/// Gymnasium's presets number their four moves differently:
///
/// | preset | 0 | 1 | 2 | 3 | 4–7 | 8 |
/// |---|---|---|---|---|---|---|
/// | FrozenLake | Left | Down | Right | Up | | |
/// | CliffWalking, windy, `GridWorld-v0` | Up | Right | Down | Left | with `king_moves`: UpRight, DownRight, DownLeft, UpLeft | with `stay` (and king's moves): Stay |
/// | RandomWalk19 | left or right, 1/2 each | | | | | |
///
/// Slip outcomes are listed as Gymnasium lists them: the move at right angles that comes just
/// before the intended one in the turning of the action order, the intended move, the one just
/// after — for four moves, actions `a − 1`, `a`, `a + 1` (mod 4). `Stay` and the random-walk
/// action never slip.
///
/// # Observation space
/// `Discrete(rows · cols)`: the agent's cell `row · cols + col` (Gymnasium's encoding), from
/// 0 (top left) to `rows · cols − 1` (bottom right). Walls and cliffs are never observed.
/// [`GridWorld::coordinates`] and [`GridWorld::coordinate_features`] decode it.
///
/// # Rewards
/// The reward of a transition is that of the cell it lands on (table above); bumping into a
/// wall or the edge is a step. FrozenLake: 1 at the goal, 0 elsewhere. CliffWalking: −1 per
/// move (the goal included), −100 for the cliff. Windy: −1 per move. RandomWalk19: −1 for the
/// left end, +1 for the right end, 0 elsewhere.
///
/// # Starting state
/// A start cell, uniformly among the `S` cells: cell 0 in FrozenLake, 36 (row 3, column 0) in
/// CliffWalking, 30 (row 3, column 0) in the windy grid world, 10 (the middle) in RandomWalk19.
///
/// # Episode end
/// - Termination: entering a goal or a hole (FrozenLake's holes and goal, CliffWalking's goal
///   at cell 47, the windy goal at row 3, column 7, either end of the random walk).
/// - Truncation: never by the env itself; the registry wraps it in
///   [`TimeLimit`](crate::wrappers::TimeLimit) with `config.max_episode_steps` — 100 steps
///   for FrozenLake-v1, 200 for FrozenLake8x8-v1, none for the others but `GridWorld-v0`
///   (100), as `gymnasium.spec(id).max_episode_steps`.
///
/// # Parameters
/// All fields of [`GridWorldConfig`]; by name (see [`GridWorldConfig::apply_params`]): `map`,
/// `map_file`, `king_moves`, `stay`, `wind`, `stochastic_wind`, `edge_rule`, `success_rate`,
/// `is_slippery`, `reward_step`, `reward_goal`, `reward_hole`, `reward_cliff`,
/// `max_episode_steps`.
///
/// # Version notes
/// - The FrozenLake and CliffWalking presets reproduce Gymnasium 1.4.0: map, action numbers,
///   rewards, termination, the start distribution, the time limit and the transition table
///   `env.unwrapped.P`, entry by entry and in the same order (tested against data dumped from
///   Gymnasium by `tools/gen_gridworld_reference.py`). As in Gymnasium, the cliff cells and
///   CliffWalking's goal are states with ordinary moves in the table
///   ([`TerminalTransitions::Moves`]), FrozenLake's holes and goal stay put
///   ([`TerminalTransitions::Absorbing`]), and `Info::prob` is the probability of the entry
///   taken (1 at reset). Probabilities agree to the last bit except the sideways moves of
///   `CliffWalkingSlippery-v1`, one unit in the last place apart: Gymnasium writes 1/3 there,
///   and qlab computes FrozenLake's `(1 − success_rate) / 2` for every slip. The random
///   streams differ: the same seed does not give Gymnasium's trajectory.
/// - `CliffWalkingSlippery-v1` is Gymnasium's `CliffWalking-v1` with `is_slippery=True`:
///   every move goes where intended or to either side with probability 1/3 each.
/// - `WindyGridworld-v0` and `RandomWalk19-v0` follow Sutton & Barto (2nd edition), Examples
///   6.5 and 7.1; Gymnasium has neither. The windy grid world's transitions are those of the
///   book's own code (`windy_grid_world.py`, ShangtongZhang/reinforcement-learning-an-introduction),
///   for every state and action and also with king's moves, staying put and the stochastic
///   wind (tested against `tools/gen_windy_reference.py`). Earlier qlab versions blocked a
///   move at the edge before the wind blew ([`EdgeRule::Block`], still `edge_rule = "block"`),
///   which differs on the bottom row and, with king's moves, along every edge.
///
/// ```
/// use qlab_envs::gridworld::{GridWorld, GridWorldConfig};
/// use qlab_envs::{Env, Model};
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = GridWorld::new(GridWorldConfig::preset("FrozenLake-v1").unwrap())?;
/// assert_eq!(env.reset(Some(42)).obs, 0);
/// let step = env.step(2)?; // Right, but the ice is slippery
/// assert!([4, 1, 0].contains(&step.obs)); // slipped down, went right, or slipped up
/// assert_eq!(env.transitions(0, 2).len(), 3); // the exact model lists all three
///
/// let mut maze = GridWorld::from_map("S.#\n..G")?; // 0 = Up, 1 = Right, 2 = Down, 3 = Left
/// maze.reset(Some(0));
/// assert_eq!(maze.step(2)?.obs, 3);
/// assert_eq!(maze.step(1)?.obs, 4);
/// let last = maze.step(1)?;
/// assert!(last.terminated && last.obs == 5 && last.reward == 1.0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct GridWorld {
    config: GridWorldConfig,
    grid: Grid,
    table: Table,
    observation_space: Space,
    action_space: Space,
    rng: EnvRng,
    state: usize,
    phase: Phase,
    last_action: Option<usize>,
}

/// Where the env is in the episode cycle, for the trait's `NotReset` and `EpisodeEnded`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotReset,
    Running,
    Ended,
}

impl GridWorld {
    /// Builds the env of a config, with its exact model.
    ///
    /// # Errors
    /// [`Error::Map`] for a malformed map (line and column from 1), [`Error::InvalidParam`]
    /// for a field out of its range (see [`GridWorldConfig`]), or for a map on which no
    /// episode can end: no time limit, and no goal or hole reachable from a start cell.
    pub fn new(config: GridWorldConfig) -> Result<GridWorld> {
        let grid = map::parse(&config.map)?;
        config.validate_fields(grid.cols)?;
        let table = model::build(&grid, &config);
        model::check_an_end(&config, &table)?;
        Ok(GridWorld {
            observation_space: Space::discrete(grid.rows * grid.cols),
            action_space: Space::discrete(config.actions.len()),
            rng: EnvRng::from_os_entropy(),
            state: table.starts[0].0,
            phase: Phase::NotReset,
            last_action: None,
            config,
            grid,
            table,
        })
    }

    /// A grid world on `map` with the rest of [`GridWorldConfig::default`].
    ///
    /// # Errors
    /// As [`GridWorld::new`].
    pub fn from_map(map: &str) -> Result<GridWorld> {
        GridWorld::new(GridWorldConfig {
            map: map.to_string(),
            ..GridWorldConfig::default()
        })
    }

    /// The config the env was built from.
    pub fn config(&self) -> &GridWorldConfig {
        &self.config
    }

    /// The number of rows of the map.
    pub fn rows(&self) -> usize {
        self.grid.rows
    }

    /// The number of columns of the map.
    pub fn cols(&self) -> usize {
        self.grid.cols
    }

    /// The cell at a state index.
    ///
    /// # Panics
    /// If `state ≥ rows · cols`.
    pub fn cell(&self, state: usize) -> Cell {
        self.grid.cells[state]
    }

    /// The `(row, column)` of a state index, both from 0.
    ///
    /// # Panics
    /// If `state ≥ rows · cols`.
    pub fn coordinates(&self, state: usize) -> (usize, usize) {
        assert!(
            state < self.n_states(),
            "state {state} is outside the grid (0..{})",
            self.n_states()
        );
        (state / self.grid.cols, state % self.grid.cols)
    }

    /// Writes the row and column of `state` scaled to `[0, 1]` (`row / (rows − 1)`, 0 for a
    /// single row; columns alike) into `out`: a two-feature encoding for function
    /// approximation.
    ///
    /// # Panics
    /// If `out.len() != 2` or `state ≥ rows · cols`.
    pub fn coordinate_features(&self, state: usize, out: &mut [f32]) {
        assert_eq!(out.len(), 2, "coordinate features take a buffer of 2");
        let (row, col) = self.coordinates(state);
        let scale = |i: usize, n: usize| {
            if n > 1 {
                i as f32 / (n - 1) as f32
            } else {
                0.0
            }
        };
        out[0] = scale(row, self.grid.rows);
        out[1] = scale(col, self.grid.cols);
    }

    /// The agent's current cell (the last observation).
    pub fn agent(&self) -> usize {
        self.state
    }
}

impl Env for GridWorld {
    type Obs = usize;
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<usize> {
        if let Some(seed) = seed {
            self.rng = EnvRng::seed_from_u64(seed);
        }
        let rng = &mut self.rng;
        self.state = self.table.sample_start(|| rng.next_f64());
        self.phase = Phase::Running;
        self.last_action = None;
        Reset {
            obs: self.state,
            // Gymnasium's reset info is `{"prob": 1}` whatever the start distribution.
            info: Info {
                prob: Some(1.0),
                episode: None,
            },
        }
    }

    #[inline(always)]
    fn step(&mut self, action: usize) -> Result<Step<usize>> {
        match self.phase {
            Phase::Running => {}
            Phase::NotReset => return Err(Error::NotReset),
            Phase::Ended => return Err(Error::EpisodeEnded),
        }
        check_discrete_action(action, &self.action_space)?;
        let rng = &mut self.rng;
        let i = self.table.sample(self.state, action, || rng.next_f64());
        let t = self.table.entries[i];
        self.state = t.next_state;
        self.last_action = Some(action);
        if t.terminated {
            self.phase = Phase::Ended;
        }
        Ok(Step {
            obs: t.next_state,
            reward: t.reward,
            terminated: t.terminated,
            truncated: false,
            info: Info {
                prob: Some(t.prob),
                episode: None,
            },
        })
    }

    fn render_ansi(&self) -> String {
        render::ansi(self)
    }

    fn render_rgb(&self) -> Frame {
        render::rgb(self)
    }

    fn name(&self) -> String {
        self.config.id.clone()
    }

    /// Puts the agent on a cell: `state` is one value, a cell index in `0..rows·cols` that is
    /// not a wall. A terminal cell ends the episode (stepping is then
    /// [`Error::EpisodeEnded`]); any other starts one there, without touching the RNG.
    fn set_state(&mut self, state: &[f64]) -> Result<usize> {
        let n = self.n_states();
        let cell = match state {
            &[v] if v.fract() == 0.0 && v >= 0.0 && v < n as f64 => Some(v as usize),
            _ => None,
        }
        .filter(|&s| self.grid.cells[s] != Cell::Wall);
        let Some(s) = cell else {
            return Err(Error::InvalidState {
                message: format!(
                    "{} takes one cell index in 0..{n} that is not a wall, got {state:?}",
                    self.config.id
                ),
            });
        };
        self.state = s;
        self.last_action = None;
        self.phase = if self.grid.cells[s].is_terminal() {
            Phase::Ended
        } else {
            Phase::Running
        };
        Ok(s)
    }

    fn model(&self) -> Option<&dyn Model> {
        Some(self)
    }

    /// Always `Some`: a grid world owns its stream from construction (drawn from the OS until
    /// a seeded reset). The start cell and every slip or gust are drawn from it.
    fn rng_state(&self) -> Option<[u64; 4]> {
        Some(self.rng.state())
    }

    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = crate::rng::restore(state, &self.config.id)?;
        Ok(())
    }
}

impl Model for GridWorld {
    fn n_states(&self) -> usize {
        self.grid.rows * self.grid.cols
    }

    fn n_actions(&self) -> usize {
        self.table.n_actions
    }

    /// The outcomes of `(state, action)`, in Gymnasium's order.
    ///
    /// # Panics
    /// If `state` or `action` is out of range.
    fn transitions(&self, state: usize, action: usize) -> &[Transition] {
        assert!(
            action < self.table.n_actions,
            "action {action} is outside 0..{}",
            self.table.n_actions
        );
        self.table.outcomes(state, action)
    }

    fn initial_states(&self) -> &[(usize, f64)] {
        &self.table.starts
    }

    fn is_terminal(&self, state: usize) -> bool {
        self.grid.cells[state].is_terminal()
    }
}

#[cfg(test)]
mod tests;
