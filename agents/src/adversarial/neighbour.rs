//! The worst-case neighbour attack on tabular agents: the observed cell is replaced by a cell
//! within a Manhattan radius, chosen to do the most harm.
//!
//! In true state `s` the agent sees `s′` and takes its greedy action there. The attacker knows
//! the env's model, so it knows the true optimal action values `Q*(s, a)` (by
//! [value iteration](crate::dp::value_iteration)); it shows the agent the `s′` that minimises
//! `Q*(s, a)` of the action the agent will take, averaged over the agent's ties (which it breaks
//! uniformly at random). Candidates are the cells within Manhattan distance `radius` of `s`,
//! `s` itself included, walls excluded; on equal harm the true state is kept, then the lowest
//! index wins.

use qlab_envs::Model;
use qlab_envs::gridworld::{Cell, GridWorld};
use serde::{Deserialize, Serialize};

use super::AttackStats;
use crate::dp::{DpConfig, action_values, value_iteration};
use crate::tabular::ActionValues;
use crate::{Error, Result};

/// A tabular agent's action values, as the neighbour attack reads them.
///
/// # Contract
/// `q(state, action)` is defined for every state of the env and every action below
/// `n_actions()`, and the agent acts greedily on it, breaking ties uniformly at random.
pub trait TabularQ {
    /// The number of actions.
    fn n_actions(&self) -> usize;
    /// The agent's estimate `Q(state, action)`.
    fn q(&self, state: usize, action: usize) -> f64;
}

impl TabularQ for ActionValues {
    fn n_actions(&self) -> usize {
        ActionValues::n_actions(self)
    }
    fn q(&self, state: usize, action: usize) -> f64 {
        ActionValues::q(self, &[state], action)
    }
}

/// A table of action values, row-major (`values[state · n_actions + action]`): what every
/// tabular control agent's [`parameters`](crate::TabularAgent::parameters) are on one-hot states
/// (Double Q-learning's first half), and what [`action_values`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct QTable {
    values: Vec<f64>,
    n_actions: usize,
}

impl QTable {
    /// A table of `values.len() / n_actions` states.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `n_actions` is 0 or does not divide the length.
    pub fn new(values: Vec<f64>, n_actions: usize) -> Result<QTable> {
        if n_actions == 0 || values.len() % n_actions != 0 {
            return Err(Error::config(
                "n_actions",
                n_actions,
                format!("a positive divisor of the table's length {}", values.len()),
            ));
        }
        Ok(QTable { values, n_actions })
    }

    /// The values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

impl TabularQ for QTable {
    fn n_actions(&self) -> usize {
        self.n_actions
    }
    fn q(&self, state: usize, action: usize) -> f64 {
        self.values[state * self.n_actions + action]
    }
}

/// Settings of the [`NeighbourAttack`].
///
/// | key | default | valid | meaning |
/// |---|---|---|---|
/// | `radius` | `1` | any | the largest Manhattan distance between the true and the shown cell (`0`: no attack) |
/// | `gamma` | `1.0` | `[0, 1]` | discount of the true values `Q*` (with `1`, FrozenLake's `Q*` is the probability of reaching the goal) |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NeighbourConfig {
    /// The largest Manhattan distance between the true and the shown cell. Default `1`.
    pub radius: usize,
    /// Discount of the true values. In `[0, 1]`; default `1.0`.
    pub gamma: f64,
}

impl Default for NeighbourConfig {
    fn default() -> Self {
        NeighbourConfig {
            radius: 1,
            gamma: 1.0,
        }
    }
}

/// The worst-case neighbour attack on a [`GridWorld`]: the observed state is replaced by the
/// state within a Manhattan radius that minimises the true value of the action taken there.
#[derive(Clone, Debug)]
pub struct NeighbourAttack {
    radius: usize,
    n_actions: usize,
    /// `Q*(s, a)`, row-major.
    q_star: Vec<f64>,
    /// Candidates of state `s`: `candidates[offsets[s]..offsets[s + 1]]`, `s` first.
    offsets: Vec<usize>,
    candidates: Vec<usize>,
    stats: AttackStats,
}

impl NeighbourAttack {
    /// Builds the attack on `grid`: solves its model for `Q*` and lists each cell's
    /// candidates.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a `gamma` outside `[0, 1]`, and value iteration's error if
    /// the values do not settle (see [`value_iteration`]).
    pub fn new(grid: &GridWorld, config: &NeighbourConfig) -> Result<NeighbourAttack> {
        let dp = DpConfig {
            gamma: config.gamma,
            ..DpConfig::default()
        };
        dp.validate()?;
        let solution = value_iteration(grid, &dp)?;
        let q_star = action_values(grid, &solution.values, config.gamma);
        let (rows, cols) = (grid.rows() as i64, grid.cols() as i64);
        let r = config.radius.min((rows + cols) as usize) as i64;
        let mut offsets = vec![0];
        let mut candidates = Vec::new();
        for s in 0..grid.n_states() {
            let (row, col) = grid.coordinates(s);
            let (row, col) = (row as i64, col as i64);
            candidates.push(s);
            for dr in -r..=r {
                let left = r - dr.abs();
                for dc in -left..=left {
                    let (y, x) = (row + dr, col + dc);
                    if (dr, dc) == (0, 0) || y < 0 || x < 0 || y >= rows || x >= cols {
                        continue;
                    }
                    let t = (y * cols + x) as usize;
                    if grid.cell(t) != Cell::Wall {
                        candidates.push(t);
                    }
                }
            }
            offsets.push(candidates.len());
        }
        Ok(NeighbourAttack {
            radius: config.radius,
            n_actions: grid.n_actions(),
            q_star,
            offsets,
            candidates,
            stats: AttackStats::default(),
        })
    }

    /// The radius.
    pub fn radius(&self) -> usize {
        self.radius
    }

    /// The true optimal action value `Q*(state, action)`.
    pub fn true_q(&self, state: usize, action: usize) -> f64 {
        self.q_star[state * self.n_actions + action]
    }

    /// The cells the attack may show in true state `state`, `state` first.
    pub fn candidates(&self, state: usize) -> &[usize] {
        &self.candidates[self.offsets[state]..self.offsets[state + 1]]
    }

    /// The expected true value `Q*(state, a)` of the action `a` an agent with action values
    /// `agent` takes when shown `shown` (the mean over its greedy ties).
    pub fn harm(&self, state: usize, shown: usize, agent: &dyn TabularQ) -> f64 {
        let n = self.n_actions;
        let best = (0..n)
            .map(|a| agent.q(shown, a))
            .fold(f64::NEG_INFINITY, f64::max);
        let (mut sum, mut ties) = (0.0, 0u32);
        for a in (0..n).filter(|&a| agent.q(shown, a) == best) {
            sum += self.true_q(state, a);
            ties += 1;
        }
        sum / ties as f64
    }

    /// The cell shown to `agent` in true state `state`. Counts the step, and an attacked step
    /// (and an action change) where the shown cell differs from the true one.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `state` is not a state of the grid or `agent` has another
    /// number of actions.
    pub fn perturb(&mut self, state: usize, agent: &dyn TabularQ) -> Result<usize> {
        if agent.n_actions() != self.n_actions {
            return Err(Error::config(
                "n_actions",
                agent.n_actions(),
                format!("the grid's {} actions", self.n_actions),
            ));
        }
        if state + 1 >= self.offsets.len() {
            return Err(Error::config(
                "state",
                state,
                format!("a state below {}", self.offsets.len() - 1),
            ));
        }
        self.stats.steps += 1;
        let mut best = state;
        let mut lowest = self.harm(state, state, agent);
        for &t in &self.candidates(state)[1..] {
            let v = self.harm(state, t, agent);
            if v < lowest {
                lowest = v;
                best = t;
            }
        }
        if best != state {
            self.stats.attacked += 1;
            // Strictly lower expected value: the distribution of the action taken changed.
            self.stats.action_changes += 1;
        }
        Ok(best)
    }

    /// Counts since the last [`reset_stats`](Self::reset_stats).
    pub fn stats(&self) -> AttackStats {
        self.stats
    }

    /// Zeroes the counts.
    pub fn reset_stats(&mut self) {
        self.stats = AttackStats::default();
    }
}
