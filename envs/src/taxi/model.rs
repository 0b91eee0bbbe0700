//! The map, the state encoding and the exact transition table of Taxi — Gymnasium's
//! `TaxiEnv.P` and `initial_state_distrib`.

use crate::{Model, Transition};

use super::TaxiConfig;

/// The map, as Gymnasium draws it: cells at odd columns of each inner line, `|` a wall
/// between two cells, `:` none; R, G, Y, B the four locations.
pub const MAP: [&str; 7] = [
    "+---------+",
    "|R: | : :G|",
    "| : | : : |",
    "| : : : : |",
    "| | : | : |",
    "|Y| : |B: |",
    "+---------+",
];

/// Rows and columns of the grid.
pub const SIZE: usize = 5;

/// The four locations where a passenger waits and wants to go, `(row, column)`: Red, Green,
/// Yellow, Blue (indices 0 to 3, as in Gymnasium).
pub const LOCATIONS: [(usize, usize); 4] = [(0, 0), (0, 4), (4, 0), (4, 3)];

/// The passenger index meaning "in the taxi".
pub const IN_TAXI: usize = 4;

/// The number of states: 25 taxi cells × 5 passenger indices × 4 destinations.
pub const N_STATES: usize = 500;

/// The number of actions: south, north, east, west, pickup, dropoff.
pub const N_ACTIONS: usize = 6;

/// The actions' names, in action order.
pub const ACTION_NAMES: [&str; N_ACTIONS] = ["South", "North", "East", "West", "Pickup", "Dropoff"];

const SOUTH: usize = 0;
const NORTH: usize = 1;
const EAST: usize = 2;
const WEST: usize = 3;
const PICKUP: usize = 4;
const DROPOFF: usize = 5;

/// One state of Taxi, decoded.
///
/// ```
/// use qlab_envs::taxi::TaxiState;
/// let s = TaxiState { row: 3, col: 1, passenger: 2, destination: 0 };
/// assert_eq!(s.encode(), ((3 * 5 + 1) * 5 + 2) * 4);
/// assert_eq!(TaxiState::decode(s.encode()), Some(s));
/// assert_eq!(TaxiState::decode(500), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaxiState {
    /// The taxi's row, 0 (top) to 4.
    pub row: usize,
    /// The taxi's column, 0 (left) to 4.
    pub col: usize,
    /// Where the passenger is: 0 to 3 waiting at that [`LOCATIONS`] entry, [`IN_TAXI`] (4) in
    /// the taxi.
    pub passenger: usize,
    /// Where the passenger wants to go: a [`LOCATIONS`] index, 0 to 3.
    pub destination: usize,
}

impl TaxiState {
    /// The state index, `((row · 5 + col) · 5 + passenger) · 4 + destination` (Gymnasium's
    /// `encode`).
    pub fn encode(self) -> usize {
        ((self.row * SIZE + self.col) * 5 + self.passenger) * 4 + self.destination
    }

    /// The state of an index; `None` outside `0..500`.
    pub fn decode(state: usize) -> Option<TaxiState> {
        (state < N_STATES).then_some(TaxiState {
            row: state / 100,
            col: state / 20 % 5,
            passenger: state / 4 % 5,
            destination: state % 4,
        })
    }

    /// Whether the passenger has been delivered: waiting at their destination. No episode
    /// starts in such a state; a successful dropoff enters one and terminates.
    pub fn delivered(self) -> bool {
        self.passenger == self.destination
    }

    fn at(self, (row, col): (usize, usize)) -> TaxiState {
        TaxiState { row, col, ..self }
    }
}

/// Whether no wall stands between `(row, col)` and the cell east of it (the map's `:`).
fn open_east(row: usize, col: usize) -> bool {
    MAP[1 + row].as_bytes()[2 * col + 2] == b':'
}

/// Whether no wall stands between `(row, col)` and the cell west of it.
fn open_west(row: usize, col: usize) -> bool {
    MAP[1 + row].as_bytes()[2 * col] == b':'
}

/// Where moving one cell `direction` (0 to 3) from `(row, col)` ends: in place at the edge of
/// the grid or against a wall. (The map has no walls across rows.)
fn moved((row, col): (usize, usize), direction: usize) -> (usize, usize) {
    match direction {
        SOUTH => ((row + 1).min(SIZE - 1), col),
        NORTH => (row.saturating_sub(1), col),
        EAST if open_east(row, col) => (row, col + 1),
        WEST if open_west(row, col) => (row, col - 1),
        _ => (row, col),
    }
}

/// The two directions at right angles to a move, in Gymnasium's order (its "left" then
/// "right" of the heading): south → east, west; north → west, east; east → north, south;
/// west → south, north.
fn sides(direction: usize) -> [usize; 2] {
    match direction {
        SOUTH => [EAST, WEST],
        NORTH => [WEST, EAST],
        EAST => [NORTH, SOUTH],
        _ => [SOUTH, NORTH],
    }
}

/// The exact model of Taxi: every state's and action's outcomes, equal entry by entry and in
/// the same order to Gymnasium's `env.unwrapped.P`, and the uniform start distribution over
/// the 300 states with the passenger waiting somewhere other than their destination.
///
/// The fickle passenger is not in it, as it is not in Gymnasium's `P`: whether the
/// destination changes depends on a draw made at reset that the state does not show.
///
/// ```
/// use qlab_envs::taxi::{TaxiConfig, TaxiModel, TaxiState};
/// use qlab_envs::Model;
/// let m = TaxiModel::new(&TaxiConfig::default());
/// let s = TaxiState { row: 4, col: 3, passenger: 4, destination: 3 }.encode();
/// let dropoff = m.transitions(s, 5)[0];
/// assert_eq!((dropoff.reward, dropoff.terminated), (20.0, true));
/// assert_eq!(m.initial_states().len(), 300);
/// ```
#[derive(Clone, Debug)]
pub struct TaxiModel {
    /// The outcomes of `(s, a)` are `entries[offsets[k]..offsets[k + 1]]`, `k = s · 6 + a`.
    entries: Vec<Transition>,
    offsets: Vec<usize>,
    starts: Vec<(usize, f64)>,
}

impl TaxiModel {
    /// The table of a config: dry or rainy (with its `rainy_probability`); the other fields
    /// play no part.
    pub fn new(config: &TaxiConfig) -> TaxiModel {
        let mut entries = Vec::with_capacity(N_STATES * 14);
        let mut offsets = Vec::with_capacity(N_STATES * N_ACTIONS + 1);
        offsets.push(0);
        for state in 0..N_STATES {
            let s = TaxiState::decode(state).expect("in range");
            for action in 0..N_ACTIONS {
                outcomes(config, s, action, &mut entries);
                offsets.push(entries.len());
            }
        }
        // Gymnasium counts the start states, then divides by their number.
        let starts: Vec<usize> = (0..N_STATES)
            .filter(|&i| {
                let s = TaxiState::decode(i).expect("in range");
                s.passenger != IN_TAXI && !s.delivered()
            })
            .collect();
        let p = 1.0 / starts.len() as f64;
        TaxiModel {
            entries,
            offsets,
            starts: starts.into_iter().map(|s| (s, p)).collect(),
        }
    }

    /// The `i`-th of the 300 start states, in state order (`i < 300`).
    pub(crate) fn start(&self, i: usize) -> usize {
        self.starts[i].0
    }

    /// The outcome of `(state, action)` that a uniform draw `u ∈ [0, 1)` picks: the first
    /// whose running probability exceeds `u` (Gymnasium's `categorical_sample`), or the last
    /// possible one when the sums round below `u`. Never an outcome of probability 0.
    pub(crate) fn sample(&self, state: usize, action: usize, u: f64) -> &Transition {
        let k = state * N_ACTIONS + action;
        let out = &self.entries[self.offsets[k]..self.offsets[k + 1]];
        let mut sum = 0.0;
        let mut last = &out[0];
        for t in out {
            if t.prob > 0.0 {
                sum += t.prob;
                last = t;
                if u < sum {
                    return t;
                }
            }
        }
        last
    }

    /// Whether `(state, action)` has more than one outcome (a rainy move).
    pub(crate) fn is_random(&self, state: usize, action: usize) -> bool {
        let k = state * N_ACTIONS + action;
        self.offsets[k + 1] - self.offsets[k] > 1
    }
}

/// Appends the outcomes of `action` in `s`, as Gymnasium's `_build_dry_transitions` and
/// `_build_rainy_transitions` list them.
fn outcomes(config: &TaxiConfig, s: TaxiState, action: usize, out: &mut Vec<Transition>) {
    let entry = |prob: f64, next: TaxiState, reward: f64, terminated: bool| Transition {
        prob,
        next_state: next.encode(),
        reward,
        terminated,
    };
    let here = (s.row, s.col);
    match action {
        PICKUP => {
            let (next, reward) = if s.passenger < IN_TAXI && LOCATIONS[s.passenger] == here {
                (
                    TaxiState {
                        passenger: IN_TAXI,
                        ..s
                    },
                    -1.0,
                )
            } else {
                (s, -10.0)
            };
            out.push(entry(1.0, next, reward, false));
        }
        DROPOFF => {
            // Dropoff: at the destination it delivers (+20, the end); at another location
            // the passenger gets out and waits there (−1); anywhere else, or with no
            // passenger on board, −10.
            let at = LOCATIONS.iter().position(|&l| l == here);
            let (next, reward, terminated) = match at {
                Some(i) if s.passenger == IN_TAXI && i == s.destination => {
                    (TaxiState { passenger: i, ..s }, 20.0, true)
                }
                Some(i) if s.passenger == IN_TAXI => (TaxiState { passenger: i, ..s }, -1.0, false),
                _ => (s, -10.0, false),
            };
            out.push(entry(1.0, next, reward, terminated));
        }
        direction if config.is_rainy => {
            // The intended move with `rainy_probability`, then each side with half the rest.
            // A move into a wall or the edge goes nowhere, and then neither side does either
            // (Gymnasium 1.4): three entries, all staying put.
            let ahead = moved(here, direction);
            let [left, right] = match ahead == here {
                true => [here, here],
                false => sides(direction).map(|d| moved(here, d)),
            };
            let side = (1.0 - config.rainy_probability) / 2.0;
            out.push(entry(config.rainy_probability, s.at(ahead), -1.0, false));
            out.push(entry(side, s.at(left), -1.0, false));
            out.push(entry(side, s.at(right), -1.0, false));
        }
        direction => out.push(entry(1.0, s.at(moved(here, direction)), -1.0, false)),
    }
}

impl Model for TaxiModel {
    fn n_states(&self) -> usize {
        N_STATES
    }

    fn n_actions(&self) -> usize {
        N_ACTIONS
    }

    /// The outcomes of `(state, action)`, in Gymnasium's order; a rainy move into a wall
    /// lists the same outcome three times, as Gymnasium does.
    ///
    /// # Panics
    /// If `state ≥ 500` or `action ≥ 6`.
    fn transitions(&self, state: usize, action: usize) -> &[Transition] {
        assert!(
            state < N_STATES && action < N_ACTIONS,
            "({state}, {action}) is outside 0..{N_STATES} × 0..{N_ACTIONS}"
        );
        let k = state * N_ACTIONS + action;
        &self.entries[self.offsets[k]..self.offsets[k + 1]]
    }

    fn initial_states(&self) -> &[(usize, f64)] {
        &self.starts
    }

    /// The delivered states: passenger at their destination.
    fn is_terminal(&self, state: usize) -> bool {
        TaxiState::decode(state).is_some_and(TaxiState::delivered)
    }
}
