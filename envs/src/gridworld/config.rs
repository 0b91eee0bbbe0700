//! [`GridWorldConfig`], the [`Move`]s actions make, and setting both from [`Params`].

use crate::params::invalid;
use crate::{Error, ParamValue, Params, Result};

use super::map;

/// What one action does, before slip and wind.
///
/// A GridWorld's action `i` is `config.actions[i]`, so the list fixes both the action set and
/// its order (Gymnasium's FrozenLake and CliffWalking number the same four moves differently;
/// see [`Move::FROZEN_LAKE`] and [`Move::CLIFF_WALKING`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Move {
    /// One row up (towards row 0).
    Up,
    /// One row down.
    Down,
    /// One column left (towards column 0).
    Left,
    /// One column right.
    Right,
    /// Diagonally up and left (a king's move).
    UpLeft,
    /// Diagonally up and right (a king's move).
    UpRight,
    /// Diagonally down and left (a king's move).
    DownLeft,
    /// Diagonally down and right (a king's move).
    DownRight,
    /// Stay in place (wind still acts).
    Stay,
    /// One column left or right with probability 1/2 each: the single action of a random walk
    /// (Sutton & Barto, Example 6.2 and 7.1).
    LeftOrRight,
}

impl Move {
    /// FrozenLake's order: 0 = Left, 1 = Down, 2 = Right, 3 = Up (Gymnasium `frozen_lake.py`).
    pub const FROZEN_LAKE: [Move; 4] = [Move::Left, Move::Down, Move::Right, Move::Up];
    /// CliffWalking's order: 0 = Up, 1 = Right, 2 = Down, 3 = Left (Gymnasium
    /// `cliffwalking.py`); also qlab's order for Sutton & Barto's grid worlds.
    pub const CLIFF_WALKING: [Move; 4] = [Move::Up, Move::Right, Move::Down, Move::Left];
    /// The four diagonal moves, clockwise from up-right, in the order king's moves append them.
    pub const DIAGONALS: [Move; 4] = [Move::UpRight, Move::DownRight, Move::DownLeft, Move::UpLeft];
    /// King's moves: [`Move::CLIFF_WALKING`] then [`Move::DIAGONALS`] (Sutton & Barto,
    /// Exercise 6.9).
    pub const KING: [Move; 8] = [
        Move::Up,
        Move::Right,
        Move::Down,
        Move::Left,
        Move::UpRight,
        Move::DownRight,
        Move::DownLeft,
        Move::UpLeft,
    ];

    /// The `(row, column)` displacement of a move, `None` for [`Move::LeftOrRight`].
    pub fn delta(self) -> Option<(i64, i64)> {
        Some(match self {
            Move::Up => (-1, 0),
            Move::Down => (1, 0),
            Move::Left => (0, -1),
            Move::Right => (0, 1),
            Move::UpLeft => (-1, -1),
            Move::UpRight => (-1, 1),
            Move::DownLeft => (1, -1),
            Move::DownRight => (1, 1),
            Move::Stay => (0, 0),
            Move::LeftOrRight => return None,
        })
    }

    /// The move's name as rendered, e.g. `Left` or `UpRight`.
    pub fn name(self) -> &'static str {
        match self {
            Move::Up => "Up",
            Move::Down => "Down",
            Move::Left => "Left",
            Move::Right => "Right",
            Move::UpLeft => "UpLeft",
            Move::UpRight => "UpRight",
            Move::DownLeft => "DownLeft",
            Move::DownRight => "DownRight",
            Move::Stay => "Stay",
            Move::LeftOrRight => "LeftOrRight",
        }
    }

    /// Whether this is one of the four moves along a row or a column.
    pub fn is_orthogonal(self) -> bool {
        matches!(self, Move::Up | Move::Down | Move::Left | Move::Right)
    }

    /// Whether this is one of the four diagonal moves.
    pub fn is_diagonal(self) -> bool {
        Move::DIAGONALS.contains(&self)
    }
}

/// How the model lists the transitions out of a terminal cell (goal or hole). The env never
/// samples them, since the episode has ended; they matter to dynamic programming and to
/// comparing with Gymnasium's `P` entry by entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TerminalTransitions {
    /// One entry staying put with reward 0 and `terminated = true`, as FrozenLake lists them.
    #[default]
    Absorbing,
    /// The same moves as from any other cell, as CliffWalking lists its goal. Dynamic
    /// programming over such a model must not bootstrap from `terminated` entries.
    Moves,
}

/// Everything that defines a [`GridWorld`](super::GridWorld): its map, its actions, slip,
/// wind and rewards.
///
/// [`Default`] is the `GridWorld-v0` preset; [`GridWorldConfig::preset`] gives the others.
///
/// | field | default | valid |
/// |---|---|---|
/// | `id` | `"GridWorld-v0"` | any text |
/// | `map` | a 4×4 map with two walls | see [`GridWorld`](super::GridWorld) |
/// | `actions` | [`Move::CLIFF_WALKING`] | non-empty, no repeats |
/// | `wind` | empty (no wind) | empty, or one integer per column |
/// | `stochastic_wind` | `false` | |
/// | `success_rate` | `1.0` (no slip) | `[0, 1]` |
/// | `reward_step` | `0.0` | finite |
/// | `reward_goal` | `1.0` | finite |
/// | `reward_hole` | `0.0` | finite |
/// | `reward_cliff` | `-100.0` | finite |
/// | `terminal_transitions` | [`TerminalTransitions::Absorbing`] | |
/// | `max_episode_steps` | `Some(100)` | `None` or `Some(n)`, `n ≥ 1` |
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct GridWorldConfig {
    /// The env's name in messages and renders, normally its registry id.
    /// Default `"GridWorld-v0"`.
    pub id: String,
    /// The map, one text line per row (see [`GridWorld`](super::GridWorld) for the
    /// characters). Default: `"S...\n.#..\n..#.\n...G"`.
    pub map: String,
    /// The move each action makes: action `i` is `actions[i]`. Non-empty, no move twice.
    /// Default [`Move::CLIFF_WALKING`] (0 = Up, 1 = Right, 2 = Down, 3 = Left).
    pub actions: Vec<Move>,
    /// Upward push of each column, in cells (negative pushes down): the wind of the column a
    /// move starts from is applied after the move (Sutton & Barto, Example 6.5). Empty for no
    /// wind, else exactly one value per column. Default empty.
    pub wind: Vec<i64>,
    /// Where a column's wind `w` is non-zero, push `w − 1`, `w` or `w + 1` cells with
    /// probability 1/3 each (Sutton & Barto, Exercise 6.10). Default `false`.
    pub stochastic_wind: bool,
    /// Probability that a move goes where intended; otherwise it goes to either side, at right
    /// angles, with probability `(1 − success_rate) / 2` each (Gymnasium FrozenLake's
    /// `success_rate`). `1.0` means no slip, and one model entry per move. In `[0, 1]`;
    /// default `1.0`.
    pub success_rate: f64,
    /// Reward for entering a free or start cell, or bumping into a wall or the edge. Finite;
    /// default `0.0`.
    pub reward_step: f64,
    /// Reward for entering the goal (instead of `reward_step`). Finite; default `1.0`.
    pub reward_goal: f64,
    /// Reward for entering a hole (instead of `reward_step`). Finite; default `0.0`.
    pub reward_hole: f64,
    /// Reward for entering a cliff (instead of `reward_step`). Finite; default `-100.0`.
    pub reward_cliff: f64,
    /// How the model lists transitions out of terminal cells. Default
    /// [`TerminalTransitions::Absorbing`].
    pub terminal_transitions: TerminalTransitions,
    /// The time limit the registry wraps the env in
    /// ([`TimeLimit`](crate::wrappers::TimeLimit)); the env itself never truncates.
    /// `None` or at least 1; default `Some(100)`.
    pub max_episode_steps: Option<u64>,
}

impl Default for GridWorldConfig {
    fn default() -> Self {
        Self {
            id: "GridWorld-v0".into(),
            map: "S...\n.#..\n..#.\n...G".into(),
            actions: Move::CLIFF_WALKING.to_vec(),
            wind: Vec::new(),
            stochastic_wind: false,
            success_rate: 1.0,
            reward_step: 0.0,
            reward_goal: 1.0,
            reward_hole: 0.0,
            reward_cliff: -100.0,
            terminal_transitions: TerminalTransitions::Absorbing,
            max_episode_steps: Some(100),
        }
    }
}

/// Gymnasium's slippery success rate (`frozen_lake.py`, and every move of `cliffwalking.py`
/// with `is_slippery=True`).
pub(crate) const GYMNASIUM_SUCCESS_RATE: f64 = 1.0 / 3.0;

/// The parameter keys every GridWorld id takes.
pub const ALLOWED_PARAMS: &[&str] = &[
    "map",
    "map_file",
    "king_moves",
    "stay",
    "wind",
    "stochastic_wind",
    "success_rate",
    "is_slippery",
    "reward_step",
    "reward_goal",
    "reward_hole",
    "reward_cliff",
    "max_episode_steps",
];

impl GridWorldConfig {
    /// Sets fields from named parameters, then validates the whole config.
    ///
    /// | key | type | effect |
    /// |---|---|---|
    /// | `map` | string | the map, rows separated by newlines |
    /// | `map_file` | string | a file to read the map from (not with `map`) |
    /// | `king_moves` | bool | the four moves plus the four diagonals ([`Move::DIAGONALS`]) |
    /// | `stay` | bool | add [`Move::Stay`] as the last action |
    /// | `wind` | list of integers | one upward push per column |
    /// | `stochastic_wind` | bool | push `w − 1`, `w`, `w + 1` with probability 1/3 each |
    /// | `success_rate` | number in `[0, 1]` | probability a move goes where intended |
    /// | `is_slippery` | bool | `true`: success rate 1/3 (Gymnasium's); `false`: 1 |
    /// | `reward_step`, `reward_goal`, `reward_hole`, `reward_cliff` | number | rewards |
    /// | `max_episode_steps` | integer ≥ 0 | time limit; `0` for none |
    ///
    /// `king_moves` and `stay` keep the order of the config's four moves where it has them
    /// (FrozenLake's stays FrozenLake's) and append diagonals, then `Stay`.
    ///
    /// # Errors
    /// [`Error::UnknownParam`] for a key not in the table (listing the allowed ones),
    /// [`Error::InvalidParam`] for a wrong type or an out-of-range value, [`Error::Io`] when
    /// `map_file` cannot be read, and whatever [`validate`](Self::validate) finds.
    pub fn apply_params(&mut self, id: &str, params: &Params) -> Result<()> {
        params.check_keys(id, ALLOWED_PARAMS)?;
        match (params.str("map")?, params.str("map_file")?) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "map_file",
                    params.get("map_file").expect("given"),
                    "either `map` or `map_file`, not both",
                ));
            }
            (Some(map), None) => self.map = map.to_string(),
            (None, Some(path)) => {
                self.map = std::fs::read_to_string(path).map_err(|source| Error::Io {
                    path: path.to_string(),
                    source,
                })?;
            }
            (None, None) => {}
        }

        let king = params.bool("king_moves")?;
        let stay = params.bool("stay")?;
        if king.is_some() || stay.is_some() {
            let king = king.unwrap_or_else(|| self.actions.iter().any(|m| m.is_diagonal()));
            let stay = stay.unwrap_or_else(|| self.actions.contains(&Move::Stay));
            let orthogonal: Vec<Move> = self
                .actions
                .iter()
                .copied()
                .filter(|m| m.is_orthogonal())
                .collect();
            let mut actions = if orthogonal.len() == 4 {
                orthogonal
            } else {
                Move::CLIFF_WALKING.to_vec()
            };
            if king {
                actions.extend_from_slice(&Move::DIAGONALS);
            }
            if stay {
                actions.push(Move::Stay);
            }
            self.actions = actions;
        }

        if let Some(wind) = params.i64_list("wind")? {
            self.wind = wind;
        }
        if let Some(b) = params.bool("stochastic_wind")? {
            self.stochastic_wind = b;
        }

        let slippery = params.bool("is_slippery")?;
        let rate = params.f64("success_rate")?;
        if let Some(rate) = rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(invalid(
                    "success_rate",
                    &ParamValue::Float(rate),
                    "a probability in [0, 1]",
                ));
            }
        }
        match (slippery, rate) {
            (Some(false), Some(r)) if r != 1.0 => {
                return Err(invalid(
                    "success_rate",
                    &ParamValue::Float(r),
                    "1 (or no `success_rate`) when `is_slippery` is false",
                ));
            }
            (Some(false), _) => self.success_rate = 1.0,
            (_, Some(r)) => self.success_rate = r,
            (Some(true), None) => self.success_rate = GYMNASIUM_SUCCESS_RATE,
            (None, None) => {}
        }

        for (key, field) in [
            ("reward_step", &mut self.reward_step),
            ("reward_goal", &mut self.reward_goal),
            ("reward_hole", &mut self.reward_hole),
            ("reward_cliff", &mut self.reward_cliff),
        ] {
            if let Some(r) = params.f64(key)? {
                if !r.is_finite() {
                    return Err(invalid(key, &ParamValue::Float(r), "a finite number"));
                }
                *field = r;
            }
        }
        if let Some(n) = params.usize("max_episode_steps")? {
            self.max_episode_steps = (n > 0).then_some(n as u64);
        }
        self.validate()
    }

    /// Checks the whole config: the map parses, and every field is in its range.
    ///
    /// # Errors
    /// [`Error::Map`] for a malformed map (with its line and column), [`Error::InvalidParam`]
    /// naming the field for anything else.
    pub fn validate(&self) -> Result<()> {
        let grid = map::parse(&self.map)?;
        self.validate_fields(grid.cols)
    }

    /// The checks of [`validate`](Self::validate) that need only the map's width.
    pub(crate) fn validate_fields(&self, cols: usize) -> Result<()> {
        if self.actions.is_empty() {
            return Err(Error::InvalidParam {
                key: "actions".into(),
                value: "[]".into(),
                expected: "at least one action".into(),
            });
        }
        for (i, m) in self.actions.iter().enumerate() {
            if self.actions[..i].contains(m) {
                return Err(Error::InvalidParam {
                    key: "actions".into(),
                    value: format!("{:?}", self.actions),
                    expected: format!("each move at most once ({m:?} repeats)"),
                });
            }
        }
        if !self.wind.is_empty() && self.wind.len() != cols {
            return Err(Error::InvalidParam {
                key: "wind".into(),
                value: format!("{:?} ({} values)", self.wind, self.wind.len()),
                expected: format!("one value per map column ({cols})"),
            });
        }
        if !(0.0..=1.0).contains(&self.success_rate) {
            return Err(Error::InvalidParam {
                key: "success_rate".into(),
                value: self.success_rate.to_string(),
                expected: "a probability in [0, 1]".into(),
            });
        }
        for (key, r) in [
            ("reward_step", self.reward_step),
            ("reward_goal", self.reward_goal),
            ("reward_hole", self.reward_hole),
            ("reward_cliff", self.reward_cliff),
        ] {
            if !r.is_finite() {
                return Err(Error::InvalidParam {
                    key: key.into(),
                    value: r.to_string(),
                    expected: "a finite number".into(),
                });
            }
        }
        if self.max_episode_steps == Some(0) {
            return Err(Error::InvalidParam {
                key: "max_episode_steps".into(),
                value: "0".into(),
                expected: "at least 1, or no limit".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(id: &str, params: Params) -> Result<GridWorldConfig> {
        let mut c = GridWorldConfig::preset(id).expect("preset");
        c.apply_params(id, &params).map(|()| c)
    }

    #[test]
    fn unknown_key_lists_the_allowed_ones() {
        let msg = apply(
            "WindyGridworld-v0",
            Params::new().with("kingmoves", ParamValue::Bool(true)),
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("`kingmoves`"), "{msg}");
        assert!(msg.contains("WindyGridworld-v0"), "{msg}");
        assert!(msg.contains(&ALLOWED_PARAMS.join(", ")), "{msg}");
    }

    #[test]
    fn success_rate_out_of_range_is_an_error_saying_so() {
        let err = apply(
            "FrozenLake-v1",
            Params::new().with("success_rate", ParamValue::Float(1.5)),
        )
        .unwrap_err();
        assert!(matches!(err, Error::InvalidParam { ref key, .. } if key == "success_rate"));
        assert!(err.to_string().contains("1.5") && err.to_string().contains("[0, 1]"));
        let ok = apply(
            "FrozenLake-v1",
            Params::new().with("success_rate", ParamValue::Float(0.75)),
        )
        .unwrap();
        assert_eq!(ok.success_rate, 0.75);
    }

    #[test]
    fn is_slippery_switches_between_gymnasium_slip_and_none() {
        let c = apply(
            "FrozenLake-v1",
            Params::new().with("is_slippery", ParamValue::Bool(false)),
        )
        .unwrap();
        assert_eq!(c.success_rate, 1.0);
        let c = apply(
            "CliffWalking-v1",
            Params::new().with("is_slippery", ParamValue::Bool(true)),
        )
        .unwrap();
        assert_eq!(c.success_rate, 1.0 / 3.0);
        let conflict = Params::new()
            .with("is_slippery", ParamValue::Bool(false))
            .with("success_rate", ParamValue::Float(0.5));
        assert!(apply("FrozenLake-v1", conflict).is_err());
    }

    #[test]
    fn king_moves_and_stay_keep_the_presets_order_and_append() {
        let c = apply(
            "WindyGridworld-v0",
            Params::new()
                .with("king_moves", ParamValue::Bool(true))
                .with("stay", ParamValue::Bool(true)),
        )
        .unwrap();
        assert_eq!(c.actions.len(), 9);
        assert_eq!(&c.actions[..8], &Move::KING);
        assert_eq!(c.actions[8], Move::Stay);
        let c = apply(
            "FrozenLake-v1",
            Params::new().with("king_moves", ParamValue::Bool(true)),
        )
        .unwrap();
        assert_eq!(&c.actions[..4], &Move::FROZEN_LAKE);
        assert_eq!(&c.actions[4..], &Move::DIAGONALS);
    }

    #[test]
    fn wind_must_have_one_value_per_column() {
        let wind = |n: usize| ParamValue::List(vec![ParamValue::Int(1); n]);
        let err = apply("WindyGridworld-v0", Params::new().with("wind", wind(9))).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidParam { ref key, .. } if key == "wind"));
        assert!(msg.contains("9 values") && msg.contains("(10)"), "{msg}");
        assert!(apply("WindyGridworld-v0", Params::new().with("wind", wind(10))).is_ok());
        // A new map must come with a wind of its width.
        let map = Params::new().with("map", ParamValue::Str("S.G".into()));
        assert!(apply("WindyGridworld-v0", map.clone()).is_err());
        assert!(apply("WindyGridworld-v0", map.with("wind", wind(3))).is_ok());
    }

    #[test]
    fn map_errors_and_unreadable_map_files_are_reported() {
        let err = apply(
            "GridWorld-v0",
            Params::new().with("map", ParamValue::Str("S.\n.X".into())),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::Map {
                line: 2,
                column: 2,
                ..
            }
        ));
        let path = "no/such/dir/map.txt";
        let err = apply(
            "GridWorld-v0",
            Params::new().with("map_file", ParamValue::Str(path.into())),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::Io { path: ref p, .. } if p == path),
            "{err}"
        );
    }

    #[test]
    fn map_file_is_read() {
        let path = std::env::temp_dir().join(format!("qlab-gridworld-{}.txt", std::process::id()));
        std::fs::write(&path, "S#G\n...\n").unwrap();
        let c = apply(
            "GridWorld-v0",
            Params::new().with(
                "map_file",
                ParamValue::Str(path.to_string_lossy().into_owned()),
            ),
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(c.unwrap().map, "S#G\n...\n");
    }

    #[test]
    fn rewards_and_time_limit_are_set_and_checked() {
        let c = apply(
            "GridWorld-v0",
            Params::new()
                .with("reward_step", ParamValue::Int(-1))
                .with("reward_goal", ParamValue::Float(10.0))
                .with("max_episode_steps", ParamValue::Int(0)),
        )
        .unwrap();
        assert_eq!((c.reward_step, c.reward_goal), (-1.0, 10.0));
        assert_eq!(c.max_episode_steps, None);
        let bad = Params::new().with("reward_hole", ParamValue::Float(f64::NAN));
        assert!(apply("GridWorld-v0", bad).is_err());
        let bad = Params::new().with("max_episode_steps", ParamValue::Int(-3));
        assert!(apply("GridWorld-v0", bad).is_err());
    }

    #[test]
    fn repeated_or_missing_actions_are_rejected() {
        let c = GridWorldConfig {
            actions: vec![Move::Up, Move::Up],
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("Up repeats"));
        let c = GridWorldConfig {
            actions: vec![],
            ..Default::default()
        };
        assert!(c.validate().is_err());
    }
}
