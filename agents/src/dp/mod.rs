//! Dynamic programming on an exact model: policy evaluation, policy iteration and value
//! iteration (Sutton & Barto, chapter 4), discounted or within a finite horizon.
//!
//! Everything here works on any [`Model`] (every GridWorld has one) and returns a
//! [`DpSolution`]: a value per state, the greedy policy of those values, and how much work it
//! took.
//!
//! - [`value_iteration`] and [`policy_iteration`] give `V*`; [`evaluate_policy`] gives `V^π` of
//!   a stochastic policy `π(a|s)` ([`uniform_random_policy`], [`deterministic_policy`]).
//! - [`DpConfig::horizon`] switches from the infinite-horizon problem to the value of the next
//!   `H` steps only — the value an agent can reach within a time limit of `H` steps.
//! - [`start_value`] averages values over the start distribution; [`rms_error`] compares two
//!   value functions where it matters (the runner's `value_rmse` column).
//!
//! # Conventions
//! - Terminal states ([`Model::is_terminal`]) have value 0 and are never backed up; a
//!   transition marked `terminated` never bootstraps from its next state. (CliffWalking lists
//!   ordinary moves out of its goal, as Gymnasium does; they are ignored.)
//! - The greedy policy picks, in each state, the action with the highest value
//!   `Q(s, a) = Σ p · (r + γ · V(s'))`; actions whose values are within `θ` of the best (or
//!   within rounding, a relative `1e-12`, when that is larger) are ties, and the **lowest
//!   action index** among them wins. Terminal states get action 0.
//! - Policies as matrices are row-major, `n_states × n_actions`: `policy[s * n_actions + a]`
//!   is `π(a|s)`.
//!
//! ```
//! use qlab_agents::dp::{DpConfig, start_value, value_iteration};
//! use qlab_envs::gridworld::{GridWorld, GridWorldConfig};
//! # fn main() -> qlab_agents::Result<()> {
//! let env = GridWorld::new(GridWorldConfig::preset("CliffWalking-v1").unwrap()).unwrap();
//! let solution = value_iteration(&env, &DpConfig::default())?;
//! // The shortest safe path: up, 11 × right, down; −1 per step.
//! assert_eq!(start_value(&env, &solution.values), -13.0);
//! let up = 0;
//! assert_eq!(solution.policy[36], up);
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;

use qlab_envs::Model;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Settings of the dynamic-programming solvers.
///
/// | field | default | valid | meaning |
/// |---|---|---|---|
/// | `gamma` | `1.0` | `[0, 1]` | discount factor γ |
/// | `theta` | `1e-10` | finite, `≥ 0` | stop when a sweep changes no value by more than θ (`0`: until no value changes at all); also the tie tolerance of greedy policies |
/// | `max_iterations` | `100_000` | `≥ 1` | the most sweeps of value iteration or of one policy evaluation, and the most improvement rounds of policy iteration |
/// | `horizon` | `None` | `None`, or `Some(H)` with `H ≥ 1` | `None`: the infinite-horizon problem; `Some(H)`: the value of the next `H` steps only |
///
/// With `gamma = 1` and no horizon, the infinite-horizon values exist only where episodes end
/// with probability 1 (a *proper* episodic MDP, such as FrozenLake or CliffWalking, where
/// every policy that never ends an episode is infinitely bad or earns nothing). Where they do
/// not, the sweeps never settle and the solvers return an error naming `gamma` and
/// `max_iterations` rather than looping forever.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DpConfig {
    /// Discount factor γ. In `[0, 1]`; default `1.0` (undiscounted).
    pub gamma: f64,
    /// Convergence tolerance θ: the sweeps stop when no value changed by more than θ in one
    /// sweep. `0` sweeps until the values stop changing, to the last bit: a fixed point of the
    /// rounded backups. Where the rewards all have one sign and the values are finite, the
    /// sweeps reach one (rounding keeps the backups monotone, so from `V = 0` the values move
    /// one way only, through finitely many floats); elsewhere they do in practice, and
    /// `max_iterations` guards the rest. The error left by a positive
    /// θ is about θ times the number of sweeps a change takes to die out (for `gamma = 1`, the
    /// expected number of steps to the end of an episode). Greedy policies count actions
    /// within θ of the best as ties. Finite and `≥ 0`; default `1e-10`.
    pub theta: f64,
    /// The most sweeps of value iteration or of one policy evaluation, and the most
    /// improvement rounds of policy iteration, before giving up with an error. Unused with a
    /// horizon (backward induction takes at most `H` sweeps). At least 1; default `100_000`.
    pub max_iterations: usize,
    /// `None` for the infinite-horizon problem; `Some(H)` for the value of the next `H` steps
    /// only, by backward induction (`V_0 = 0`, `V_k` from `V_{k−1}`), as in an episode cut off
    /// by a time limit of `H` steps. `None` or at least 1; default `None`.
    pub horizon: Option<u64>,
}

impl Default for DpConfig {
    fn default() -> Self {
        Self {
            gamma: 1.0,
            theta: 1e-10,
            max_iterations: 100_000,
            horizon: None,
        }
    }
}

impl DpConfig {
    /// Checks every field against its range (see the table on [`DpConfig`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.gamma) {
            return Err(Error::config("gamma", self.gamma, "a discount in [0, 1]"));
        }
        if !(self.theta.is_finite() && self.theta >= 0.0) {
            return Err(Error::config("theta", self.theta, "a finite tolerance ≥ 0"));
        }
        if self.max_iterations == 0 {
            return Err(Error::config("max_iterations", 0, "at least 1"));
        }
        if self.horizon == Some(0) {
            return Err(Error::config(
                "horizon",
                0,
                "at least 1 step, or none for an infinite horizon",
            ));
        }
        Ok(())
    }
}

/// The most numbers a finite-horizon solution keeps in [`DpSolution::values_by_steps_left`]
/// (`2^22`, 32 MiB); a longer table is not kept.
pub const MAX_KEPT_VALUES: usize = 1 << 22;

/// What a solver returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DpSolution {
    /// The value of each state: `V*` from [`value_iteration`] and [`policy_iteration`], `V^π`
    /// from [`evaluate_policy`]; with a horizon `H`, the value of the next `H` steps (`V_H`).
    /// Terminal states have value 0.
    pub values: Vec<f64>,
    /// The greedy policy of `values` (ties to the lowest action index, see the
    /// [module docs](self)); with a horizon `H`, the best first action with `H` steps left
    /// (greedy with respect to `V_{H−1}`).
    pub policy: Vec<usize>,
    /// Value iteration: sweeps. Policy iteration: improvement rounds. Policy evaluation: sweeps.
    /// With a horizon: backward-induction steps, at most `H` (fewer when the values stopped
    /// changing, after which every further step would give the same values).
    pub iterations: usize,
    /// Sweeps over the state space in all, evaluations of policy iteration included.
    pub sweeps: usize,
    /// With a horizon `H`: `values_by_steps_left[k]` is `V_k`, the value with `k` steps left,
    /// from `V_0 = 0` until the values stopped changing or `V_H` — see
    /// [`values_at`](Self::values_at), which handles both. Empty for the infinite horizon,
    /// and when the table would pass [`MAX_KEPT_VALUES`] numbers.
    pub values_by_steps_left: Vec<Vec<f64>>,
    /// The horizon solved for (`None`: infinite).
    pub horizon: Option<u64>,
}

impl DpSolution {
    /// `V_k`, the values with `k` steps left, for `k ≤ H`; `None` for the infinite horizon,
    /// for `k > H`, or when the table was not kept.
    pub fn values_at(&self, steps_left: u64) -> Option<&[f64]> {
        let h = self.horizon?;
        if steps_left > h || self.values_by_steps_left.is_empty() {
            return None;
        }
        let last = self.values_by_steps_left.len() - 1;
        let k = usize::try_from(steps_left).map_or(last, |k| k.min(last));
        Some(&self.values_by_steps_left[k])
    }
}

/// The value of taking `action` in `state` and then following `values`:
/// `Σ p · (r + γ · V(s'))`, with no bootstrap through `terminated` transitions.
#[inline]
fn action_value(model: &dyn Model, values: &[f64], gamma: f64, state: usize, action: usize) -> f64 {
    model
        .transitions(state, action)
        .iter()
        .map(|t| {
            let next = if t.terminated {
                0.0
            } else {
                gamma * values[t.next_state]
            };
            t.prob * (t.reward + next)
        })
        .sum()
}

/// How far below the best action value `best` another still ties with it: `tie`, or
/// rounding (a relative `1e-12`) when that is larger.
#[inline]
fn tie_tolerance(tie: f64, best: f64) -> f64 {
    tie.max(1e-12 * best.abs().max(1.0))
}

/// The best action value in `state` and the lowest action that ties with it.
#[inline]
fn best_action(
    model: &dyn Model,
    values: &[f64],
    gamma: f64,
    tie: f64,
    state: usize,
    q: &mut [f64],
) -> (f64, usize) {
    let mut best = f64::NEG_INFINITY;
    for (a, qa) in q.iter_mut().enumerate() {
        *qa = action_value(model, values, gamma, state, a);
        best = best.max(*qa);
    }
    let tie = tie_tolerance(tie, best);
    let action = q.iter().position(|&qa| qa >= best - tie).unwrap_or(0);
    (best, action)
}

/// `Q(s, a) = Σ p · (r + γ · V(s'))` for every state and action, row-major
/// (`q[s * n_actions + a]`); 0 in terminal states.
///
/// # Panics
/// If `values.len() != model.n_states()`.
pub fn action_values(model: &dyn Model, values: &[f64], gamma: f64) -> Vec<f64> {
    check_len(model, values);
    let na = model.n_actions();
    let mut q = vec![0.0; model.n_states() * na];
    for s in (0..model.n_states()).filter(|&s| !model.is_terminal(s)) {
        for a in 0..na {
            q[s * na + a] = action_value(model, values, gamma, s, a);
        }
    }
    q
}

/// The greedy policy of `values` under discount `gamma`: in each state the lowest action
/// whose value is within `tie` of the best, or within rounding (a relative `1e-12`) when that
/// is larger; action 0 in terminal states.
///
/// # Panics
/// If `values.len() != model.n_states()`.
pub fn greedy_policy(model: &dyn Model, values: &[f64], gamma: f64, tie: f64) -> Vec<usize> {
    check_len(model, values);
    let mut q = vec![0.0; model.n_actions()];
    (0..model.n_states())
        .map(|s| match model.is_terminal(s) {
            true => 0,
            false => best_action(model, values, gamma, tie, s, &mut q).1,
        })
        .collect()
}

/// The mean of `values` over the start distribution, `Σ p(s₀) · V(s₀)`: the value of an
/// episode before it begins.
///
/// # Panics
/// If a start state is not an index of `values`.
pub fn start_value(model: &dyn Model, values: &[f64]) -> f64 {
    model
        .initial_states()
        .iter()
        .map(|&(s, p)| p * values[s])
        .sum()
}

/// The policy that takes every action with the same probability, as a row-major
/// `n_states × n_actions` matrix.
pub fn uniform_random_policy(model: &dyn Model) -> Vec<f64> {
    let na = model.n_actions();
    vec![1.0 / na as f64; model.n_states() * na]
}

/// The matrix of a deterministic policy: `π(a|s) = 1` for `a = actions[s]`.
///
/// # Errors
/// [`Error::InvalidConfig`] when `actions` has not one entry per state or names an action
/// outside `0..n_actions`.
pub fn deterministic_policy(model: &dyn Model, actions: &[usize]) -> Result<Vec<f64>> {
    let (ns, na) = (model.n_states(), model.n_actions());
    if actions.len() != ns {
        return Err(Error::config(
            "policy",
            format!("{} actions", actions.len()),
            format!("one action per state ({ns})"),
        ));
    }
    let mut matrix = vec![0.0; ns * na];
    for (s, &a) in actions.iter().enumerate() {
        if a >= na {
            return Err(Error::config(
                "policy",
                format!("action {a} in state {s}"),
                format!("an action in 0..{na}"),
            ));
        }
        matrix[s * na + a] = 1.0;
    }
    Ok(matrix)
}

/// Which states can occur in an episode: those reachable from a start state through
/// transitions of positive probability, under some sequence of actions. Walls, and
/// CliffWalking's cliff cells (entering one sends the agent back to the start), cannot.
pub fn reachable_states(model: &dyn Model) -> Vec<bool> {
    let mut seen = vec![false; model.n_states()];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for &(s, p) in model.initial_states() {
        if p > 0.0 && !seen[s] {
            seen[s] = true;
            queue.push_back(s);
        }
    }
    while let Some(s) = queue.pop_front() {
        if model.is_terminal(s) {
            continue;
        }
        for a in 0..model.n_actions() {
            for t in model.transitions(s, a) {
                if t.prob > 0.0 && !seen[t.next_state] {
                    seen[t.next_state] = true;
                    queue.push_back(t.next_state);
                }
            }
        }
    }
    seen
}

/// The root-mean-square difference of two value functions over the states where values
/// matter: non-terminal states that an episode can reach ([`reachable_states`]). Terminal
/// states (value 0 by definition) and states no episode visits (walls, cliff cells) are left
/// out, so that an agent's never-updated entries there do not count. 0 when no state counts.
///
/// # Panics
/// If `a` or `b` does not have one value per state.
pub fn rms_error(a: &[f64], b: &[f64], model: &dyn Model) -> f64 {
    check_len(model, a);
    check_len(model, b);
    let reachable = reachable_states(model);
    let (mut sum, mut n) = (0.0, 0usize);
    for s in (0..model.n_states()).filter(|&s| reachable[s] && !model.is_terminal(s)) {
        sum += (a[s] - b[s]).powi(2);
        n += 1;
    }
    if n == 0 { 0.0 } else { (sum / n as f64).sqrt() }
}

fn check_len(model: &dyn Model, values: &[f64]) {
    assert_eq!(
        values.len(),
        model.n_states(),
        "a value function needs one value per state"
    );
}

/// Checks the config and that the model has an action to take.
fn check(model: &dyn Model, config: &DpConfig) -> Result<()> {
    config.validate()?;
    if model.n_actions() == 0 {
        return Err(Error::config("model", "0 actions", "at least one action"));
    }
    Ok(())
}

/// The error for sweeps that did not settle within `max_iterations`.
fn not_converged(what: &str, config: &DpConfig, delta: f64) -> Error {
    Error::config(
        "gamma",
        config.gamma,
        format!(
            "a discount under which {what} converges: it did not within max_iterations = {} \
             sweeps (last change {delta:.3e}, theta = {:e}); with gamma = 1 every episode must \
             end — use gamma < 1, a horizon, or a larger max_iterations",
            config.max_iterations, config.theta
        ),
    )
}

/// Checks a policy matrix: one row per state, each row of a non-terminal state a probability
/// distribution (rows of terminal states are not used).
fn check_policy(model: &dyn Model, policy: &[f64]) -> Result<()> {
    let (ns, na) = (model.n_states(), model.n_actions());
    if policy.len() != ns * na {
        return Err(Error::config(
            "policy",
            format!("{} numbers", policy.len()),
            format!(
                "a row-major n_states × n_actions matrix ({ns} × {na} = {})",
                ns * na
            ),
        ));
    }
    for s in (0..ns).filter(|&s| !model.is_terminal(s)) {
        let row = &policy[s * na..(s + 1) * na];
        let total: f64 = row.iter().sum();
        if row.iter().any(|&p| !(0.0..=1.0).contains(&p)) || (total - 1.0).abs() > 1e-9 {
            return Err(Error::config(
                "policy",
                format!("{row:?} in state {s}"),
                "probabilities in [0, 1] summing to 1 in every non-terminal state",
            ));
        }
    }
    Ok(())
}

/// How a backup combines the action values of a state.
#[derive(Clone, Copy)]
enum Backup<'a> {
    /// The best action's value (value iteration).
    Max,
    /// The expectation under a policy matrix (policy evaluation).
    Policy(&'a [f64]),
}

impl Backup<'_> {
    #[inline]
    fn value(self, model: &dyn Model, values: &[f64], gamma: f64, s: usize) -> f64 {
        let na = model.n_actions();
        match self {
            Backup::Max => (0..na)
                .map(|a| action_value(model, values, gamma, s, a))
                .fold(f64::NEG_INFINITY, f64::max),
            Backup::Policy(pi) => (0..na)
                .filter(|&a| pi[s * na + a] > 0.0)
                .map(|a| pi[s * na + a] * action_value(model, values, gamma, s, a))
                .sum(),
        }
    }
}

/// In-place (Gauss–Seidel) sweeps from `values` until no value changes by more than θ; returns the
/// number of sweeps.
fn sweep_to_convergence(
    model: &dyn Model,
    backup: Backup,
    config: &DpConfig,
    values: &mut [f64],
    what: &str,
) -> Result<usize> {
    let mut delta = f64::INFINITY;
    for sweep in 1..=config.max_iterations {
        delta = 0.0;
        for s in (0..model.n_states()).filter(|&s| !model.is_terminal(s)) {
            let v = backup.value(model, values, config.gamma, s);
            delta = f64::max(delta, (v - values[s]).abs());
            values[s] = v;
        }
        if delta <= config.theta {
            return Ok(sweep);
        }
    }
    Err(not_converged(what, config, delta))
}

/// Backward induction over `horizon` steps: `V_0 = 0`, `V_k = backup(V_{k−1})`.
fn backward_induction(
    model: &dyn Model,
    backup: Backup,
    config: &DpConfig,
    horizon: u64,
) -> DpSolution {
    let ns = model.n_states();
    // Kept while the table stays within MAX_KEPT_VALUES numbers, dropped whole past it.
    let mut keep = ns <= MAX_KEPT_VALUES;
    let mut v = vec![0.0; ns]; // V_k
    let mut next = vec![0.0; ns]; // V_{k+1}
    let mut kept = if keep { vec![v.clone()] } else { Vec::new() };
    let mut k = 0u64;
    let mut settled = false;
    while k < horizon {
        for (s, x) in next.iter_mut().enumerate() {
            *x = match model.is_terminal(s) {
                true => 0.0,
                false => backup.value(model, &v, config.gamma, s),
            };
        }
        k += 1;
        // The backup is a fixed function of the previous values: once a step changes nothing,
        // no later step will, and `V_H` is `V_k`.
        if next == v {
            settled = true;
            break;
        }
        std::mem::swap(&mut v, &mut next);
        if keep && (kept.len() + 1) * ns <= MAX_KEPT_VALUES {
            kept.push(v.clone());
        } else if keep {
            keep = false;
            kept = Vec::new();
        }
    }
    // The best first action with H steps left looks ahead with V_{H−1}: `next` after the
    // last swap, or `v` itself once the values settled.
    let before_last = if settled { &v } else { &next };
    let policy = greedy_policy(model, before_last, config.gamma, config.theta);
    DpSolution {
        values: v,
        policy,
        iterations: k as usize,
        sweeps: k as usize,
        values_by_steps_left: kept,
        horizon: Some(horizon),
    }
}

/// `V^π`: the value of every state under the stochastic policy `policy` (`π(a|s)` as a
/// row-major `n_states × n_actions` matrix), by iterative policy evaluation (Sutton & Barto
/// §4.1, in place); with a horizon `H`, the value of the next `H` steps under `π`. The
/// solution's `policy` is the greedy policy of `V^π` — one step of policy improvement.
///
/// # Errors
/// [`Error::InvalidConfig`] for an invalid config or policy matrix (wrong size, a row of a
/// non-terminal state that is not a distribution), and, for the infinite horizon, when the
/// sweeps do not settle within `max_iterations` (with `gamma = 1`: the policy does not end
/// every episode).
///
/// ```
/// use qlab_agents::dp::{DpConfig, evaluate_policy, uniform_random_policy};
/// use qlab_envs::gridworld::{GridWorld, GridWorldConfig};
/// # fn main() -> qlab_agents::Result<()> {
/// let walk = GridWorld::new(GridWorldConfig::preset("RandomWalk19-v0").unwrap()).unwrap();
/// let v = evaluate_policy(&walk, &uniform_random_policy(&walk), &DpConfig::default())?.values;
/// // Sutton & Barto, Example 7.1: V(i) = i/10 − 1 for the states 1..=19.
/// assert!((1..=19).all(|i| (v[i] - (i as f64 / 10.0 - 1.0)).abs() < 1e-8));
/// # Ok(())
/// # }
/// ```
pub fn evaluate_policy(model: &dyn Model, policy: &[f64], config: &DpConfig) -> Result<DpSolution> {
    check(model, config)?;
    check_policy(model, policy)?;
    solve_by_sweeps(model, Backup::Policy(policy), config, "policy evaluation")
}

/// `V*` and a greedy optimal policy by value iteration (Sutton & Barto §4.4, in place): sweep
/// `V(s) ← max_a Σ p · (r + γ · V(s'))` from `V = 0` until no value changes by more than θ. With a
/// horizon `H`, backward induction: the optimal value of the next `H` steps.
///
/// # Errors
/// [`Error::InvalidConfig`] for an invalid config, and, for the infinite horizon, when the
/// sweeps do not settle within `max_iterations` (with `gamma = 1`: some state's values grow
/// without bound, as when no policy ends the episode there).
pub fn value_iteration(model: &dyn Model, config: &DpConfig) -> Result<DpSolution> {
    check(model, config)?;
    solve_by_sweeps(model, Backup::Max, config, "value iteration")
}

/// Backward induction within a horizon; otherwise in-place sweeps of `backup` from `V = 0`
/// until they settle, and the greedy policy of the values reached.
fn solve_by_sweeps(
    model: &dyn Model,
    backup: Backup<'_>,
    config: &DpConfig,
    what: &str,
) -> Result<DpSolution> {
    if let Some(h) = config.horizon {
        return Ok(backward_induction(model, backup, config, h));
    }
    let mut values = vec![0.0; model.n_states()];
    let sweeps = sweep_to_convergence(model, backup, config, &mut values, what)?;
    Ok(DpSolution {
        policy: greedy_policy(model, &values, config.gamma, config.theta),
        values,
        iterations: sweeps,
        sweeps,
        values_by_steps_left: Vec::new(),
        horizon: None,
    })
}

/// `V*` and a greedy optimal policy by policy iteration (Sutton & Barto §4.3): evaluate the
/// current deterministic policy, make it greedy, repeat until it no longer changes. With a
/// horizon, the same backward induction as [`value_iteration`] (exact in `H` steps).
///
/// The first policy ends episodes wherever that is possible: each state takes an action with
/// a positive probability of getting closer to termination (a breadth-first search back from
/// the terminal transitions). With `gamma = 1` the evaluation of a policy that never ends an
/// episode need not converge; starting from one that does keeps every later policy proper on
/// models where never ending is infinitely bad (Bertsekas, stochastic shortest paths). A
/// state's action changes only when another is better by more than θ (or than rounding), so near-ties do not
/// make it cycle; the solution's `policy` is then the greedy policy of the final values, with
/// the same tie rule as [`value_iteration`].
///
/// # Errors
/// [`Error::InvalidConfig`] for an invalid config, and when an evaluation does not settle
/// within `max_iterations` sweeps, or the policy keeps changing for `max_iterations` rounds.
pub fn policy_iteration(model: &dyn Model, config: &DpConfig) -> Result<DpSolution> {
    check(model, config)?;
    if let Some(h) = config.horizon {
        return Ok(backward_induction(model, Backup::Max, config, h));
    }
    let (ns, na) = (model.n_states(), model.n_actions());
    let mut actions = proper_start(model);
    let mut matrix = vec![0.0; ns * na];
    let mut values = vec![0.0; ns];
    let mut q = vec![0.0; na];
    let mut sweeps = 0;
    for round in 1..=config.max_iterations {
        matrix.fill(0.0);
        for (s, &a) in actions.iter().enumerate() {
            matrix[s * na + a] = 1.0;
        }
        // Warm start from the previous policy's values: the next policy's are close.
        sweeps += sweep_to_convergence(
            model,
            Backup::Policy(&matrix),
            config,
            &mut values,
            "policy evaluation",
        )?;
        let mut stable = true;
        for s in (0..ns).filter(|&s| !model.is_terminal(s)) {
            let (best, a) = best_action(model, &values, config.gamma, config.theta, s, &mut q);
            if best > q[actions[s]] + tie_tolerance(config.theta, best) {
                actions[s] = a;
                stable = false;
            }
        }
        if stable {
            return Ok(DpSolution {
                policy: greedy_policy(model, &values, config.gamma, config.theta),
                values,
                iterations: round,
                sweeps,
                values_by_steps_left: Vec::new(),
                horizon: None,
            });
        }
    }
    Err(Error::config(
        "max_iterations",
        config.max_iterations,
        "enough rounds for policy iteration to settle: the policy was still changing",
    ))
}

/// A deterministic policy that ends episodes with probability 1 from every state that can
/// end one: breadth-first back from the transitions that terminate, each state takes the
/// first action found that can move it to a state already closer to the end. States that
/// cannot reach an end take action 0.
fn proper_start(model: &dyn Model) -> Vec<usize> {
    let (ns, na) = (model.n_states(), model.n_actions());
    let mut actions = vec![0; ns];
    let mut done = vec![false; ns];
    let mut queue = VecDeque::new();
    // predecessors[x]: the (state, action) pairs that can move to x without terminating.
    let mut predecessors: Vec<Vec<(usize, usize)>> = vec![Vec::new(); ns];
    for s in (0..ns).filter(|&s| !model.is_terminal(s)) {
        for a in 0..na {
            for t in model.transitions(s, a).iter().filter(|t| t.prob > 0.0) {
                if t.terminated || model.is_terminal(t.next_state) {
                    if !done[s] {
                        done[s] = true;
                        actions[s] = a;
                        queue.push_back(s);
                    }
                } else {
                    predecessors[t.next_state].push((s, a));
                }
            }
        }
    }
    while let Some(x) = queue.pop_front() {
        for &(s, a) in &predecessors[x] {
            if !done[s] {
                done[s] = true;
                actions[s] = a;
                queue.push_back(s);
            }
        }
    }
    actions
}

#[cfg(test)]
mod tests;
