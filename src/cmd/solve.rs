//! `qlab solve`: the optimal expected return of an episode, by dynamic programming on the
//! env's exact model.
//!
//! `value` is the optimal value averaged over the env's initial-state distribution,
//! `Σ p(s₀) · V*(s₀)`: the value of the one start state where there is one (FrozenLake,
//! CliffWalking), the mean over Taxi-v4's 300 equally likely start states.
//!
//! Output, one `key=value` a line (`value` at full precision, readable back as the same
//! `f64`):
//!
//! ```text
//! env=CliffWalking-v1
//! gamma=1
//! horizon=inf
//! theta=0
//! method=value_iteration
//! iterations=15
//! value=-13
//! ```
//!
//! The horizon is the env's time limit unless `--horizon` says otherwise (`inf` for none):
//! FrozenLake-v1's `value` is the best probability of reaching the goal within its 100 steps.
//! With a finite horizon both methods are backward induction (exact in `H` steps), reported
//! as `method=backward_induction`. For the infinite horizon the sweeps go on, by default
//! (`--theta 0`), until the values stop changing to the last bit, so that the digits printed
//! are the fixed point's, not a tolerance's. `--show` adds, for a GridWorld, the values and the greedy
//! policy drawn on the map; `--plot FILE.png` draws them as a heat map
//! ([`crate::plot::heatmap`]) and adds the line `plot=FILE.png`. For `Blackjack-v1`, `--plot`
//! draws Sutton & Barto's Figure 5.2 instead ([`crate::plot::blackjack`]).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use qlab_agents::dp::{self, DpConfig, DpSolution};
use qlab_envs::blackjack::BLACKJACK_ID;
use qlab_envs::gridworld::{Cell, GridWorld, Move};
use qlab_envs::{AnyEnv, Model};

use crate::plot::blackjack::{BlackjackFigure, write_figure_5_2};
use crate::plot::heatmap::{HeatMap, value_heatmap};

/// How far ahead to look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Horizon {
    /// The next `n ≥ 1` steps.
    Steps(u64),
    /// No limit: the infinite-horizon problem.
    Infinite,
}

impl std::str::FromStr for Horizon {
    type Err = anyhow::Error;

    /// `inf` (or `infinite`, `none`) for no limit, or a whole number of steps ≥ 1. `0` is
    /// refused rather than read as "no limit" (as `max_episode_steps=0` is): zero steps ahead
    /// is worth nothing, and saying `inf` is clearer.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if ["inf", "infinite", "none"].contains(&s) {
            return Ok(Horizon::Infinite);
        }
        match s.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Horizon::Steps(n)),
            _ => bail!("--horizon `{s}`: expected a number of steps ≥ 1, or `inf` for no limit"),
        }
    }
}

/// The dynamic-programming method for the infinite horizon: [`dp::value_iteration`] or
/// [`dp::policy_iteration`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Value iteration: sweep the best action's backup until the values settle.
    #[value(name = "value_iteration")]
    ValueIteration,
    /// Policy iteration: evaluate the policy, make it greedy, until it stops changing.
    #[value(name = "policy_iteration")]
    PolicyIteration,
}

/// Solve an env's exact model by dynamic programming; print the optimal value over the start
/// distribution, `Σ p(s₀) · V*(s₀)`, as `value=X`.
#[derive(Clone, Debug, clap::Args)]
pub struct SolveArgs {
    /// The env id (see `qlab envs`); it must have an exact model (every GridWorld, Taxi-v4).
    #[arg(long)]
    pub env: String,
    /// Discount factor γ, in [0, 1].
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub gamma: f64,
    /// Steps to look ahead, or `inf` for no limit [default: the env's time limit, `inf`
    /// when it has none].
    #[arg(long, value_name = "STEPS|inf", allow_hyphen_values = true)]
    pub horizon: Option<String>,
    /// Infinite horizon: stop when a sweep changes no value by more than this; 0 sweeps
    /// until the values stop changing, to the last bit.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub theta: f64,
    /// Env parameter KEY=VALUE; repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Also print the values and the greedy policy on the map (GridWorlds).
    #[arg(long)]
    pub show: bool,
    /// Also draw the values and the greedy policy as a heat map, PNG or SVG (GridWorlds;
    /// for Blackjack-v1, Sutton & Barto's Figure 5.2).
    #[arg(long, value_name = "FILE.png")]
    pub plot: Option<PathBuf>,
    /// The method for an infinite horizon (a finite one is always backward induction).
    #[arg(long, value_enum, default_value_t = Method::ValueIteration)]
    pub method: Method,
}

/// Solves the env; returns the text to print (nothing is printed, so an error leaves stdout
/// empty).
pub fn run(r: &SolveArgs) -> Result<String> {
    let params = crate::params::parse_params(&r.params)?;
    let horizon: Option<Horizon> = r.horizon.as_deref().map(str::parse).transpose()?;
    let env = qlab_envs::make(&r.env, &params)?;
    let (model, time_limit): (&dyn Model, Option<u64>) = match &env {
        AnyEnv::Discrete(e) => (
            e.model().ok_or_else(|| no_model(&r.env))?,
            time_limit(&r.env, &params),
        ),
        AnyEnv::Vector(_) | AnyEnv::Continuous(_) => return Err(no_model(&r.env)),
    };
    let horizon = match horizon {
        Some(Horizon::Steps(n)) => Some(n),
        Some(Horizon::Infinite) => None,
        None => time_limit,
    };
    let config = DpConfig {
        gamma: r.gamma,
        theta: r.theta,
        horizon,
        ..DpConfig::default()
    };
    let solution = match r.method {
        Method::ValueIteration => dp::value_iteration(model, &config),
        Method::PolicyIteration => dp::policy_iteration(model, &config),
    }
    .with_context(|| format!("solving {}", r.env))?;

    let mut out = String::new();
    let _ = writeln!(out, "env={}", r.env);
    let _ = writeln!(out, "gamma={}", r.gamma);
    let _ = writeln!(
        out,
        "horizon={}",
        horizon.map_or("inf".into(), |h| h.to_string())
    );
    let _ = writeln!(out, "theta={}", r.theta);
    let method = match (horizon, r.method) {
        (Some(_), _) => "backward_induction",
        (None, Method::ValueIteration) => "value_iteration",
        (None, Method::PolicyIteration) => "policy_iteration",
    };
    let _ = writeln!(out, "method={method}");
    let _ = writeln!(out, "iterations={}", solution.iterations);
    let _ = writeln!(
        out,
        "value={}",
        full_precision(dp::start_value(model, &solution.values))
    );
    if let (Some(path), BLACKJACK_ID) = (&r.plot, r.env.as_str()) {
        let figure = BlackjackFigure::new(&solution.values, &solution.policy)?;
        write_figure_5_2(&figure, path)?;
        let _ = writeln!(out, "plot={}", path.display());
    } else if let Some(path) = &r.plot {
        let config = qlab_envs::registry::gridworld_config(&r.env, &params)
            .map_err(|_| anyhow!("--plot draws GridWorld envs only; {} is not one", r.env))?;
        let grid = GridWorld::new(config)?;
        let mut map = HeatMap::for_gridworld(&grid, &solution.values, &solution.policy)?;
        map.title = match solution.horizon {
            Some(h) => format!("{}: values with {h} steps left, greedy policy", r.env),
            None => format!("{}: optimal values and greedy policy", r.env),
        };
        // Cells of 40 to 96 pixels, about 800 pixels across the grid.
        let cell = (800 / grid.cols() as u32).clamp(40, 96);
        value_heatmap(&map, path, cell)?;
        let _ = writeln!(out, "plot={}", path.display());
    }
    if r.show {
        let config = qlab_envs::registry::gridworld_config(&r.env, &params)
            .map_err(|_| anyhow!("--show draws GridWorld envs only; {} is not one", r.env))?;
        let grid = GridWorld::new(config)?;
        out.push('\n');
        out.push_str(&draw(&grid, &solution));
    }
    Ok(out)
}

/// The shortest text that reads back as the same `f64`: plain digits, or with an exponent
/// below `1e-4` in size (as Python's `repr`), where plain digits would run to a long row of
/// zeros. `-0` prints as `0`.
fn full_precision(v: f64) -> String {
    let v = v + 0.0;
    if v != 0.0 && v.abs() < 1e-4 {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// The registered time limit of an env with a model: a GridWorld's, or Taxi's.
fn time_limit(id: &str, params: &qlab_envs::Params) -> Option<u64> {
    match qlab_envs::registry::gridworld_config(id, params) {
        Ok(c) => c.max_episode_steps,
        Err(_) => qlab_envs::registry::taxi_config(id, params)
            .ok()
            .map(|c| c.max_episode_steps),
    }
}

fn no_model(id: &str) -> anyhow::Error {
    anyhow!(
        "{id} has no exact model to solve; `qlab solve` takes an env with one (a GridWorld, \
         e.g. FrozenLake-v1 or CliffWalking-v1, or Taxi-v4 without fickle_passenger)"
    )
}

/// The arrow of a move: `← ↓ → ↑`, diagonals `↖ ↗ ↙ ↘`, `·` for staying, `↔` for a random
/// walk's left-or-right.
fn arrow(m: Move) -> char {
    match m {
        Move::Up => '↑',
        Move::Down => '↓',
        Move::Left => '←',
        Move::Right => '→',
        Move::UpLeft => '↖',
        Move::UpRight => '↗',
        Move::DownLeft => '↙',
        Move::DownRight => '↘',
        Move::Stay => '·',
        Move::LeftOrRight => '↔',
    }
}

/// The letter drawn instead of a value or an arrow, for cells that have none worth drawing:
/// walls `#`, cliffs `C` (never occupied), goals `G` and holes `H` (terminal, value 0).
fn marker(cell: Cell) -> Option<char> {
    match cell {
        Cell::Wall => Some('#'),
        Cell::Cliff => Some('C'),
        Cell::Goal => Some('G'),
        Cell::Hole => Some('H'),
        Cell::Free | Cell::Start => None,
    }
}

/// The values as a grid of right-aligned numbers (no decimals when every value is a whole
/// number, else three), then the greedy policy as arrows.
fn draw(grid: &GridWorld, solution: &DpSolution) -> String {
    let (rows, cols) = (grid.rows(), grid.cols());
    let n = rows * cols;
    let whole = solution.values.iter().all(|v| (v - v.round()).abs() < 1e-9);
    let decimals = if whole { 0 } else { 3 };
    let text: Vec<String> = (0..n)
        .map(|s| match marker(grid.cell(s)) {
            Some(c) => c.to_string(),
            None => {
                // Rounded first, then `+ 0.0`, so that a value rounding to zero prints as 0,
                // never as `-0.000`.
                let scale = 10f64.powi(decimals as i32);
                let v = (solution.values[s] * scale).round() / scale + 0.0;
                format!("{v:.decimals$}")
            }
        })
        .collect();
    let width = text.iter().map(|t| t.chars().count()).max().unwrap_or(1);

    let mut out = String::new();
    let _ = match solution.horizon {
        Some(h) => writeln!(out, "values with {h} steps left:"),
        None => writeln!(out, "values:"),
    };
    for r in 0..rows {
        let line: Vec<String> = (0..cols)
            .map(|c| format!("{:>width$}", text[r * cols + c]))
            .collect();
        let _ = writeln!(out, "{}", line.join(" "));
    }
    let _ = writeln!(out, "\ngreedy policy:");
    let actions = &grid.config().actions;
    for r in 0..rows {
        let line: String = (0..cols)
            .map(|c| {
                let s = r * cols + c;
                marker(grid.cell(s)).unwrap_or_else(|| arrow(actions[solution.policy[s]]))
            })
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(out, "{line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_are_steps_or_inf_and_zero_is_refused() {
        assert_eq!("100".parse::<Horizon>().unwrap(), Horizon::Steps(100));
        assert_eq!("inf".parse::<Horizon>().unwrap(), Horizon::Infinite);
        assert_eq!("none".parse::<Horizon>().unwrap(), Horizon::Infinite);
        for bad in ["0", "-3", "1.5", "forever", ""] {
            let e = bad.parse::<Horizon>().unwrap_err().to_string();
            assert!(e.contains(&format!("`{bad}`")) && e.contains("inf"), "{e}");
        }
    }

    #[test]
    fn values_print_at_full_precision_and_small_ones_with_an_exponent() {
        for (v, text) in [
            (-13.0, "-13"),
            (0.7441902878292689, "0.7441902878292689"),
            (-1.5404344466674047e-15, "-1.5404344466674047e-15"),
            (1e-4, "0.0001"),
            (-0.0, "0"),
        ] {
            assert_eq!(full_precision(v), text);
            assert_eq!(text.parse::<f64>().unwrap(), v);
        }
    }

    fn solve(env: &str, horizon: Option<Horizon>, method: Method) -> Result<String> {
        run(&SolveArgs {
            env: env.into(),
            params: Vec::new(),
            gamma: 1.0,
            theta: 0.0,
            horizon: horizon.map(|h| match h {
                Horizon::Steps(n) => n.to_string(),
                Horizon::Infinite => "inf".into(),
            }),
            method,
            show: true,
            plot: None,
        })
    }

    #[test]
    fn the_cliff_walk_is_drawn_with_its_values_and_arrows() {
        let out = solve("CliffWalking-v1", None, Method::PolicyIteration).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            &lines[..7],
            [
                "env=CliffWalking-v1",
                "gamma=1",
                "horizon=inf",
                "theta=0",
                "method=policy_iteration",
                lines[5],
                "value=-13"
            ]
        );
        // −1 a step, cliffs and the goal marked; ties go to the lowest action (0 = up).
        assert_eq!(lines[8], "values:");
        assert_eq!(lines[12], "-13   C   C   C   C   C   C   C   C   C   C   G");
        assert_eq!(lines[11], "-12 -11 -10  -9  -8  -7  -6  -5  -4  -3  -2  -1");
        assert_eq!(lines[14], "greedy policy:");
        assert_eq!(lines[17], "→ → → → → → → → → → → ↓");
        assert_eq!(lines[18], "↑ C C C C C C C C C C G");
    }

    #[test]
    fn frozen_lake_values_have_three_decimals_and_holes_are_marked() {
        let out = solve("FrozenLake-v1", None, Method::ValueIteration).unwrap();
        assert!(out.contains("horizon=100\ntheta=0\nmethod=backward_induction\niterations=100\n"));
        assert!(out.contains("values with 100 steps left:\n0.744 0.718 0.699 0.690\n"));
        assert!(out.contains("0.750     H 0.473     H\n"), "{out}");
        // Left (←) in the start cell: the classic optimal FrozenLake policy hugs the edge.
        assert!(
            out.contains("greedy policy:\n← ↑ ↑ ↑\n← H ← H\n↑ ↓ ← H\nH → ↓ G\n"),
            "{out}"
        );
    }
}
