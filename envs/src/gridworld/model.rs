//! The exact transition table of a GridWorld, built once; the env samples from it.

use crate::{Error, Result, Transition};

use super::config::{EdgeRule, GridWorldConfig, Move, TerminalTransitions};
use super::map::{Cell, Grid};

/// Every `(state, action)`'s outcomes in one flat array, with the cumulative probabilities
/// that sampling walks.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub n_actions: usize,
    /// The outcomes of `(s, a)` are `entries[offsets[k]..offsets[k + 1]]`, `k = s·n_actions + a`.
    pub entries: Vec<Transition>,
    pub offsets: Vec<usize>,
    /// Running sums of `entries[..].prob` within each `(s, a)`; the last entry with a positive
    /// probability, and any after it, hold `+∞`, so that a walk with `u ∈ [0, 1)` always
    /// stops on an outcome that can happen even when the sums round below 1.
    pub cumulative: Vec<f64>,
    pub starts: Vec<(usize, f64)>,
    /// Running sums of the start probabilities, `+∞` at the end (as `cumulative`).
    pub start_cumulative: Vec<f64>,
}

/// `(row, col)` as signed integers, so moves can step off the grid before being checked.
type Pos = (i64, i64);

/// Which way the config's action order turns around the compass; slip outcomes are listed in
/// that turning so that a four-move order gives Gymnasium's `[a − 1, a, a + 1]`.
#[derive(Clone, Copy, PartialEq)]
enum Turn {
    Clockwise,
    CounterClockwise,
}

/// A quarter turn clockwise on screen (rows grow downward): up → right → down → left.
fn clockwise((dr, dc): Pos) -> Pos {
    (dc, -dr)
}

fn counter_clockwise((dr, dc): Pos) -> Pos {
    (-dc, dr)
}

/// The turn from the first orthogonal action to the next orthogonal action at right angles to
/// it; clockwise when there is no such pair.
fn turn_of(actions: &[Move]) -> Turn {
    let mut orthogonal = actions.iter().filter_map(|m| match m.is_orthogonal() {
        true => m.delta(),
        false => None,
    });
    let Some(first) = orthogonal.next() else {
        return Turn::Clockwise;
    };
    for d in orthogonal {
        if d == clockwise(first) {
            return Turn::Clockwise;
        }
        if d == counter_clockwise(first) {
            return Turn::CounterClockwise;
        }
    }
    Turn::Clockwise
}

struct Builder<'a> {
    grid: &'a Grid,
    config: &'a GridWorldConfig,
    starts: Vec<(usize, f64)>,
    turn: Turn,
}

impl Builder<'_> {
    fn cell(&self, (r, c): Pos) -> Option<Cell> {
        let (rows, cols) = (self.grid.rows as i64, self.grid.cols as i64);
        ((0..rows).contains(&r) && (0..cols).contains(&c))
            .then(|| self.grid.cells[(r * cols + c) as usize])
    }

    /// The move outcomes of an action before wind, as `(probability, displacement)`, listed
    /// as Gymnasium lists slip: the perpendicular before the intended move in the action
    /// order's turning, the intended move, the perpendicular after it.
    fn move_outcomes(&self, m: Move, out: &mut Vec<(f64, Pos)>) {
        out.clear();
        match m.delta() {
            None => out.extend([(0.5, (0, -1)), (0.5, (0, 1))]),
            Some((0, 0)) => out.push((1.0, (0, 0))),
            Some(d) if self.config.success_rate < 1.0 => {
                let rate = self.config.success_rate;
                // Gymnasium's `fail_rate`, computed the same way so that the probabilities
                // agree to the last bit.
                let fail = (1.0 - rate) / 2.0;
                let (before, after) = match self.turn {
                    Turn::Clockwise => (counter_clockwise(d), clockwise(d)),
                    Turn::CounterClockwise => (clockwise(d), counter_clockwise(d)),
                };
                out.extend([(fail, before), (rate, d), (fail, after)]);
            }
            Some(d) => out.push((1.0, d)),
        }
    }

    /// The wind's pushes from column `col`, as `(probability, cells upward)`.
    fn wind_outcomes(&self, col: usize, out: &mut Vec<(f64, i64)>) {
        out.clear();
        let w = self.config.wind.get(col).copied().unwrap_or(0);
        if w != 0 && self.config.stochastic_wind {
            let third = 1.0 / 3.0;
            out.extend([(third, w - 1), (third, w), (third, w + 1)]);
        } else {
            out.push((1.0, w));
        }
    }

    /// Where a displacement from `from` lands: in place if it leaves the grid or enters a wall.
    fn displace(&self, from: Pos, (dr, dc): Pos) -> Pos {
        let to = (from.0 + dr, from.1 + dc);
        match self.cell(to) {
            Some(Cell::Wall) | None => from,
            Some(_) => to,
        }
    }

    /// Pushes `push` cells up (down if negative), one at a time, stopping at the edge or
    /// before a wall.
    fn blow(&self, pos: Pos, push: i64) -> Pos {
        self.walk_rows(pos, -push)
    }

    /// Moves `rows` rows down (up if negative), one at a time, stopping at the edge or before
    /// a wall: on an open column, `row + rows` clipped to the grid.
    fn walk_rows(&self, mut pos: Pos, rows: i64) -> Pos {
        let step = rows.signum();
        for _ in 0..rows.unsigned_abs().min(self.grid.rows as u64) {
            let next = (pos.0 + step, pos.1);
            match self.cell(next) {
                Some(Cell::Wall) | None => break,
                Some(_) => pos = next,
            }
        }
        pos
    }

    /// Where displacement `d` and then a push of `push` rows up carry the agent from `from`,
    /// under the config's [`EdgeRule`].
    fn resolve(&self, from: Pos, d: Pos, push: i64) -> Pos {
        match self.config.edge_rule {
            EdgeRule::Block => self.blow(self.displace(from, d), push),
            // Sutton & Barto's reference: the column step, clipped (held by a wall), then the
            // move's rows and the push together, clipped (stopped by a wall).
            EdgeRule::Clip => {
                let sideways = self.displace(from, (0, d.1));
                self.walk_rows(sideways, d.0 - push)
            }
        }
    }

    /// The entries for arriving at `pos` with probability `p`.
    fn land(&self, p: f64, pos: Pos, out: &mut Vec<Transition>) {
        let c = self.config;
        let cell = self.cell(pos).expect("moves stay on the grid");
        let state = (pos.0 as usize) * self.grid.cols + pos.1 as usize;
        let entry = |reward, terminated| Transition {
            prob: p,
            next_state: state,
            reward,
            terminated,
        };
        match cell {
            Cell::Goal => out.push(entry(c.reward_goal, true)),
            Cell::Hole => out.push(entry(c.reward_hole, true)),
            Cell::Cliff => out.extend(self.starts.iter().map(|&(s, q)| Transition {
                prob: p * q,
                next_state: s,
                reward: c.reward_cliff,
                terminated: false,
            })),
            Cell::Free | Cell::Start | Cell::Wall => out.push(entry(c.reward_step, false)),
        }
    }
}

/// Builds the table of a parsed map under a validated config.
pub(crate) fn build(grid: &Grid, config: &GridWorldConfig) -> Table {
    let n_states = grid.rows * grid.cols;
    let n_actions = config.actions.len();
    let start_states: Vec<usize> = (0..n_states)
        .filter(|&s| grid.cells[s] == Cell::Start)
        .collect();
    let share = 1.0 / start_states.len() as f64;
    let starts: Vec<(usize, f64)> = start_states.iter().map(|&s| (s, share)).collect();
    let b = Builder {
        grid,
        config,
        starts,
        turn: turn_of(&config.actions),
    };

    let mut entries = Vec::new();
    let mut offsets = Vec::with_capacity(n_states * n_actions + 1);
    offsets.push(0);
    let (mut moves, mut winds) = (Vec::new(), Vec::new());
    for s in 0..n_states {
        let from = ((s / grid.cols) as i64, (s % grid.cols) as i64);
        let cell = grid.cells[s];
        for &m in &config.actions {
            let absorbing = cell == Cell::Wall
                || (cell.is_terminal()
                    && config.terminal_transitions == TerminalTransitions::Absorbing);
            if absorbing {
                // Walls are never occupied; list them as staying put so that every state has
                // a distribution, as the `Model` contract asks.
                entries.push(Transition {
                    prob: 1.0,
                    next_state: s,
                    reward: 0.0,
                    terminated: cell.is_terminal(),
                });
            } else {
                b.move_outcomes(m, &mut moves);
                b.wind_outcomes(s % grid.cols, &mut winds);
                for &(p, d) in &moves {
                    for &(q, push) in &winds {
                        b.land(p * q, b.resolve(from, d, push), &mut entries);
                    }
                }
            }
            offsets.push(entries.len());
        }
    }

    let mut cumulative = Vec::with_capacity(entries.len());
    for k in 0..n_states * n_actions {
        let span = &entries[offsets[k]..offsets[k + 1]];
        cumulative.extend(running_sums(span.iter().map(|t| t.prob)));
    }
    let start_cumulative = running_sums(b.starts.iter().map(|&(_, p)| p));
    Table {
        n_actions,
        entries,
        offsets,
        cumulative,
        starts: b.starts,
        start_cumulative,
    }
}

/// Running sums with `+∞` from the last positive term on (see [`Table::cumulative`]).
fn running_sums(probs: impl Iterator<Item = f64> + Clone) -> Vec<f64> {
    let last_positive = probs
        .clone()
        .enumerate()
        .filter(|&(_, p)| p > 0.0)
        .map(|(i, _)| i)
        .last()
        .unwrap_or(0);
    let mut sum = 0.0;
    probs
        .enumerate()
        .map(|(i, p)| {
            sum += p;
            if i >= last_positive {
                f64::INFINITY
            } else {
                sum
            }
        })
        .collect()
}

impl Table {
    /// The outcomes of taking action `a` in state `s`.
    #[inline]
    pub fn outcomes(&self, s: usize, a: usize) -> &[Transition] {
        let k = s * self.n_actions + a;
        &self.entries[self.offsets[k]..self.offsets[k + 1]]
    }

    /// Draws one outcome of `(s, a)` with the uniform `u` in `[0, 1)`; returns its index in
    /// `entries`.
    #[inline]
    pub fn sample(&self, s: usize, a: usize, u: impl FnOnce() -> f64) -> usize {
        let k = s * self.n_actions + a;
        let (lo, hi) = (self.offsets[k], self.offsets[k + 1]);
        if hi - lo == 1 {
            return lo;
        }
        // The first entry whose running sum exceeds `u` is the number of sums at or below
        // it (they rise); counting them without branching avoids a mispredicted branch per
        // step, which would cost more than the rest of the step.
        let u = u();
        let mut i = lo;
        for &c in &self.cumulative[lo..hi - 1] {
            i += usize::from(u >= c);
        }
        i
    }

    /// Draws a start state with the uniform `u` (only called when there are several).
    pub fn sample_start(&self, u: impl FnOnce() -> f64) -> usize {
        if self.starts.len() == 1 {
            return self.starts[0].0;
        }
        let u = u();
        let i = self
            .start_cumulative
            .iter()
            .position(|&c| u < c)
            .expect("the last running sum is infinite");
        self.starts[i].0
    }
}

/// The fewest steps from a start into a terminal state, by breadth-first search over every
/// listed outcome: for a deterministic model, the length of the shortest path. For tests.
/// Whether some episode can end: a breadth-first search from the start cells along every
/// transition of positive probability of the exact `table` (moves, slips, wind, cliffs
/// included) finds one that terminates (enters a goal or a hole). Without a time limit, a
/// map where none can would step forever.
pub(crate) fn reaches_an_end(table: &Table) -> bool {
    let n_states = table.offsets.len().saturating_sub(1) / table.n_actions.max(1);
    let mut seen = vec![false; n_states];
    let mut queue: std::collections::VecDeque<usize> = table
        .starts
        .iter()
        .filter(|&&(_, p)| p > 0.0)
        .map(|&(s, _)| s)
        .collect();
    for &s in &queue {
        seen[s] = true;
    }
    while let Some(s) = queue.pop_front() {
        for k in s * table.n_actions..(s + 1) * table.n_actions {
            for t in &table.entries[table.offsets[k]..table.offsets[k + 1]] {
                if t.prob <= 0.0 {
                    continue;
                }
                if t.terminated {
                    return true;
                }
                if !seen[t.next_state] {
                    seen[t.next_state] = true;
                    queue.push_back(t.next_state);
                }
            }
        }
    }
    false
}

/// Refuses a config whose episodes could never end: no time limit, and no goal or hole
/// reachable from a start cell ([`reaches_an_end`]).
pub(crate) fn check_an_end(config: &GridWorldConfig, table: &Table) -> Result<()> {
    if config.max_episode_steps.is_some() || reaches_an_end(table) {
        return Ok(());
    }
    let mut shown: String = config.map.chars().take(60).collect();
    if shown.len() < config.map.len() {
        shown.push('…');
    }
    Err(Error::InvalidParam {
        key: "map".into(),
        value: format!("{shown:?}"),
        expected: "a goal or hole that can be reached from a start cell, or a \
                   max_episode_steps limit (without either, an episode never ends)"
            .into(),
    })
}

#[cfg(test)]
pub(super) fn shortest_path<'a>(
    n_states: usize,
    n_actions: usize,
    starts: &[(usize, f64)],
    outcomes: impl Fn(usize, usize) -> &'a [Transition],
) -> Option<usize> {
    let mut dist = vec![usize::MAX; n_states];
    let mut queue = std::collections::VecDeque::new();
    for &(s, _) in starts {
        dist[s] = 0;
        queue.push_back(s);
    }
    while let Some(s) = queue.pop_front() {
        for a in 0..n_actions {
            for t in outcomes(s, a) {
                if t.terminated {
                    return Some(dist[s] + 1);
                }
                if dist[t.next_state] == usize::MAX {
                    dist[t.next_state] = dist[s] + 1;
                    queue.push_back(t.next_state);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gridworld::map;

    fn table(config: &GridWorldConfig) -> (Grid, Table) {
        let grid = map::parse(&config.map).unwrap();
        let t = build(&grid, config);
        (grid, t)
    }

    fn windy(params: impl FnOnce(&mut GridWorldConfig)) -> (Grid, Table) {
        let mut c = GridWorldConfig::preset("WindyGridworld-v0").unwrap();
        params(&mut c);
        table(&c)
    }

    fn shortest_path(grid: &Grid, t: &Table) -> Option<usize> {
        super::shortest_path(grid.rows * grid.cols, t.n_actions, &t.starts, |s, a| {
            t.outcomes(s, a)
        })
    }

    fn deterministic(t: &Table) -> bool {
        (0..t.offsets.len() - 1).all(|k| t.offsets[k + 1] - t.offsets[k] == 1)
    }

    /// Sutton & Barto, Example 6.5: with the four moves the shortest path through the wind
    /// takes 15 steps; Exercise 6.9: with king's moves, 7 (with or without staying put).
    #[test]
    fn windy_shortest_paths_match_sutton_and_barto() {
        let (grid, t) = windy(|_| {});
        assert!(deterministic(&t));
        assert_eq!(shortest_path(&grid, &t), Some(15));
        let (grid, t) = windy(|c| c.actions = Move::KING.to_vec());
        assert_eq!(shortest_path(&grid, &t), Some(7));
        let (grid, t) = windy(|c| {
            c.actions = Move::KING.to_vec();
            c.actions.push(Move::Stay);
        });
        assert_eq!(shortest_path(&grid, &t), Some(7));
        // Without wind the goal is 7 columns away.
        let (grid, t) = windy(|c| c.wind.clear());
        assert_eq!(shortest_path(&grid, &t), Some(7));
    }

    #[test]
    fn windy_push_uses_the_column_the_move_starts_from_and_stops_at_the_edge() {
        let (grid, t) = windy(|_| {});
        let s = |r: usize, c: usize| r * grid.cols + c;
        // Right from (3, 5) (wind 1) to column 6 (wind 2): pushed one row, to (2, 6).
        let right = 1;
        assert_eq!(t.outcomes(s(3, 5), right)[0].next_state, s(2, 6));
        // Right from (3, 6) (wind 2): pushed two rows, to (1, 7).
        assert_eq!(t.outcomes(s(3, 6), right)[0].next_state, s(1, 7));
        // Up from (1, 6) (wind 2): three rows up, clipped at row 0.
        let up = 0;
        assert_eq!(t.outcomes(s(1, 6), up)[0].next_state, s(0, 6));
        let tr = t.outcomes(s(3, 6), right)[0];
        assert_eq!((tr.prob, tr.reward, tr.terminated), (1.0, -1.0, false));
    }

    /// Sutton & Barto's code for Example 6.5 moves Down to row `min(i + 1 − w, 6)`: from the
    /// bottom row under wind 1 that is the bottom row again. The older rule lost the move at
    /// the edge and then let the wind blow, ending one row higher.
    #[test]
    fn a_move_down_off_the_bottom_row_under_wind_is_undone_by_the_push_not_lost() {
        let down = 2;
        let (grid, t) = windy(|_| {});
        let s = |r: usize, c: usize| r * grid.cols + c;
        assert_eq!(t.outcomes(s(6, 3), down)[0].next_state, s(6, 3));
        // Wind 2: one row up (6 + 1 − 2 = 5).
        assert_eq!(t.outcomes(s(6, 6), down)[0].next_state, s(5, 6));
        let (_, block) = windy(|c| c.edge_rule = EdgeRule::Block);
        assert_eq!(block.outcomes(s(6, 3), down)[0].next_state, s(5, 3));
        assert_eq!(block.outcomes(s(6, 6), down)[0].next_state, s(4, 6));
    }

    /// Clipping the row and the column each on its own slides a diagonal move along the edge
    /// it runs into (Sutton & Barto's rule applied to king's moves).
    #[test]
    fn a_kings_diagonal_move_into_an_edge_slides_along_it() {
        let (grid, t) = windy(|c| c.actions = Move::KING.to_vec());
        let s = |r: usize, c: usize| r * grid.cols + c;
        let at = |t: &Table, from, m: Move| {
            let a = Move::KING.iter().position(|&k| k == m).unwrap();
            t.outcomes(from, a)[0].next_state
        };
        assert_eq!(at(&t, s(0, 0), Move::UpRight), s(0, 1));
        assert_eq!(at(&t, s(6, 1), Move::DownLeft), s(6, 0));
        assert_eq!(at(&t, s(2, 9), Move::DownRight), s(3, 9));
        // Into the corner: both clipped, the agent stays.
        assert_eq!(at(&t, s(0, 0), Move::UpLeft), s(0, 0));
        // Wind 1 in column 3: UpRight from the top row slides right and stays on it.
        assert_eq!(at(&t, s(0, 3), Move::UpRight), s(0, 4));
        let (_, block) = windy(|c| {
            c.actions = Move::KING.to_vec();
            c.edge_rule = EdgeRule::Block;
        });
        assert_eq!(at(&block, s(0, 0), Move::UpRight), s(0, 0));
        assert_eq!(at(&block, s(2, 9), Move::DownRight), s(2, 9));
    }

    /// Under the clipping rule walls stop the agent as the edges do: the column step first,
    /// then the move's rows and the push together.
    #[test]
    fn clipping_rule_walls_hold_the_column_and_stop_the_rows() {
        let c = GridWorldConfig {
            map: "..\n#.\nS.\n".into(),
            wind: vec![1, 2],
            edge_rule: EdgeRule::Clip,
            ..Default::default()
        };
        let (_, t) = table(&c);
        let (up, right, down) = (0, 1, 2);
        // Up from (2, 0): one row for the move and one for the wind, stopped by the wall.
        assert_eq!(t.outcomes(4, up)[0].next_state, 4);
        // Right from (2, 0) to (2, 1), then the wind of column 0 (1): to (1, 1).
        assert_eq!(t.outcomes(4, right)[0].next_state, 3);
        // Down from (0, 1) under wind 2: net one row up, into the top edge: stays.
        assert_eq!(t.outcomes(1, down)[0].next_state, 1);
        // Down from (1, 1) under wind 2: net one row up, to (0, 1).
        assert_eq!(t.outcomes(3, down)[0].next_state, 1);
    }

    #[test]
    fn stochastic_wind_spreads_the_push_in_thirds() {
        let (grid, t) = windy(|c| c.stochastic_wind = true);
        let s = |r: usize, c: usize| r * grid.cols + c;
        let (up, right, down) = (0, 1, 2);
        // Down from (4, 6), wind 2: to (5, 6), then pushed 1, 2 or 3 rows.
        let out = t.outcomes(s(4, 6), down);
        let got: Vec<(f64, usize)> = out.iter().map(|t| (t.prob, t.next_state)).collect();
        let third = 1.0 / 3.0;
        assert_eq!(got, [(third, s(4, 6)), (third, s(3, 6)), (third, s(2, 6))]);
        // No wind in column 0: one outcome.
        assert_eq!(t.outcomes(s(3, 0), right).len(), 1);
        // Wind 1 in column 3: pushes 0, 1, 2 — from (3, 3) up to (2, 3), then 2, 1 or 0.
        let out: Vec<usize> = t
            .outcomes(s(3, 3), up)
            .iter()
            .map(|t| t.next_state)
            .collect();
        assert_eq!(out, [s(2, 3), s(1, 3), s(0, 3)]);
        // Right from (3, 6) enters the goal, but the push of 1, 2 or 3 rows carries the agent
        // on: nothing terminates.
        assert!(t.outcomes(s(3, 6), right).iter().all(|t| !t.terminated));
        // From (4, 6) right: to (4, 7), pushed 1 (→ the goal), 2 or 3 rows.
        let out = t.outcomes(s(4, 6), right);
        assert_eq!(out[0].next_state, s(3, 7));
        assert!(out[0].terminated && !out[1].terminated && !out[2].terminated);
        for s in 0..grid.rows * grid.cols {
            for a in 0..4 {
                let total: f64 = t.outcomes(s, a).iter().map(|t| t.prob).sum();
                assert!((total - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn walls_stop_moves_and_wind() {
        let c = GridWorldConfig {
            map: "..\n#.\nS.\n".into(),
            wind: vec![1, 2],
            ..Default::default()
        };
        let (_, t) = table(&c);
        let (up, right) = (0, 1);
        // Up from (2, 0) into the wall: stays, then the wind (1) is blocked by the wall too.
        assert_eq!(t.outcomes(4, up)[0].next_state, 4);
        // Right from (2, 0) to (2, 1), then wind 1 (of column 0): to (1, 1).
        assert_eq!(t.outcomes(4, right)[0].next_state, 3);
        // Wall cells stay put with reward 0.
        assert_eq!(t.outcomes(2, up)[0].next_state, 2);
        assert_eq!(t.outcomes(2, up)[0].reward, 0.0);
    }

    #[test]
    fn cliff_returns_to_every_start_evenly_without_terminating() {
        let c = GridWorldConfig {
            map: "S.S\n.C.".into(),
            ..Default::default()
        };
        let (_, t) = table(&c);
        let down = 2;
        let out = t.outcomes(1, down);
        assert_eq!(out.len(), 2);
        for (tr, start) in out.iter().zip([0, 2]) {
            assert_eq!(tr.next_state, start);
            assert_eq!((tr.prob, tr.reward, tr.terminated), (0.5, -100.0, false));
        }
        assert_eq!(t.starts, [(0, 0.5), (2, 0.5)]);
    }

    #[test]
    fn slip_goes_at_right_angles_in_gymnasium_order_for_both_orders() {
        for (order, before_up, after_up) in [
            (Move::FROZEN_LAKE, Move::Right, Move::Left),
            (Move::CLIFF_WALKING, Move::Left, Move::Right),
        ] {
            let c = GridWorldConfig {
                map: "...\n.S.\n...".into(),
                actions: order.to_vec(),
                success_rate: 0.5,
                ..Default::default()
            };
            let (_, t) = table(&c);
            let up = order.iter().position(|&m| m == Move::Up).unwrap();
            let dest = |m: Move| {
                let (dr, dc) = m.delta().unwrap();
                ((1 + dr) * 3 + 1 + dc) as usize
            };
            let got: Vec<(f64, usize)> = t
                .outcomes(4, up)
                .iter()
                .map(|t| (t.prob, t.next_state))
                .collect();
            assert_eq!(
                got,
                [
                    (0.25, dest(before_up)),
                    (0.5, dest(Move::Up)),
                    (0.25, dest(after_up))
                ]
            );
            // Gymnasium's a − 1, a, a + 1, for every action.
            for a in 0..4 {
                let got: Vec<usize> = t.outcomes(4, a).iter().map(|t| t.next_state).collect();
                let want: Vec<usize> = [(a + 3) % 4, a, (a + 1) % 4]
                    .iter()
                    .map(|&b| dest(order[b]))
                    .collect();
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn random_walk_action_goes_left_or_right_evenly() {
        let c = GridWorldConfig::preset("RandomWalk19-v0").unwrap();
        let (grid, t) = table(&c);
        assert_eq!((grid.rows, grid.cols), (1, 21));
        assert_eq!(t.starts, [(10, 1.0)]);
        let at = |s| -> Vec<(f64, usize, f64, bool)> {
            t.outcomes(s, 0)
                .iter()
                .map(|t| (t.prob, t.next_state, t.reward, t.terminated))
                .collect()
        };
        assert_eq!(at(1), [(0.5, 0, -1.0, true), (0.5, 2, 0.0, false)]);
        assert_eq!(at(10), [(0.5, 9, 0.0, false), (0.5, 11, 0.0, false)]);
        assert_eq!(at(19), [(0.5, 18, 0.0, false), (0.5, 20, 1.0, true)]);
        assert_eq!(at(0), [(1.0, 0, 0.0, true)]);
        assert_eq!(at(20), [(1.0, 20, 0.0, true)]);
    }

    /// Sampling picks the first entry whose running probability exceeds `u`, as Gymnasium's
    /// `categorical_sample` does.
    #[test]
    fn sampling_walks_the_cumulative_probabilities() {
        let mut windy = GridWorldConfig::preset("WindyGridworld-v0").unwrap();
        windy.stochastic_wind = true;
        windy.success_rate = 0.6;
        for c in [GridWorldConfig::preset("FrozenLake-v1").unwrap(), windy] {
            let (grid, t) = table(&c);
            for s in 0..grid.rows * grid.cols {
                for a in 0..t.n_actions {
                    let out = t.outcomes(s, a);
                    for k in 0..1000 {
                        let u = k as f64 / 1000.0;
                        let mut sum = 0.0;
                        let want = out
                            .iter()
                            .position(|tr| {
                                sum += tr.prob;
                                u < sum
                            })
                            .unwrap_or(out.len() - 1);
                        let got = t.sample(s, a, || u) - t.offsets[s * t.n_actions + a];
                        assert_eq!(got, want, "({s}, {a}), u = {u}");
                    }
                }
            }
        }
    }

    #[test]
    fn sampling_never_picks_an_impossible_outcome() {
        // success_rate 0 lists the intended move with probability 0, between two halves.
        let c = GridWorldConfig {
            map: "...\n.S.\n...".into(),
            success_rate: 0.0,
            ..Default::default()
        };
        let (_, t) = table(&c);
        let up = 0;
        for u in [0.0, 0.25, 0.4999, 0.5, 0.75, 1.0 - f64::EPSILON] {
            let i = t.sample(4, up, || u);
            assert!(t.entries[i].prob > 0.0, "u = {u}");
        }
        assert_eq!(t.sample(4, up, || 0.49), t.offsets[4 * 4 + up]);
        assert_eq!(t.sample(4, up, || 0.5), t.offsets[4 * 4 + up] + 2);
    }
}
