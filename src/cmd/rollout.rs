//! `qlab rollout`: play one episode and print it as CSV.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use qlab_envs::{AnyEnv, Env, EnvRng, Params, Space};
use rand::SeedableRng;

/// The actions to play.
#[derive(Clone, Debug, PartialEq)]
pub enum Actions {
    /// These actions, in order; the episode stops when they run out.
    List(Vec<usize>),
    /// Uniformly random actions until the episode ends (or `max_steps`).
    Random,
}

impl std::str::FromStr for Actions {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "random" {
            return Ok(Actions::Random);
        }
        s.split(',')
            .filter(|a| !a.trim().is_empty())
            .map(|a| {
                a.trim().parse::<usize>().map_err(|_| {
                    format!(
                        "action `{}` is not a non-negative integer (or use `random`)",
                        a.trim()
                    )
                })
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Actions::List)
    }
}

/// Play one episode and print it as CSV: t,action,reward,terminated,truncated,obs_0,...
#[derive(Clone, Debug, clap::Args)]
pub struct RolloutArgs {
    /// The env id (see `qlab envs`).
    #[arg(long)]
    pub env: String,
    /// Seed for the reset and for random actions.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Internal state set after the reset (CartPole: x,x_dot,theta,theta_dot; GridWorld:
    /// the cell index).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub state: Option<Vec<f64>>,
    /// Comma-separated actions, or `random` for random actions until the episode ends.
    #[arg(long, default_value = "random")]
    pub actions: Actions,
    /// Env parameter KEY=VALUE (the keys of a config's [env] table); repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Print the env after the reset and each step to stderr.
    #[arg(long, value_parser = ["ansi"])]
    pub render: Option<String>,
    /// The most steps played with random actions.
    #[arg(long, default_value_t = 100_000)]
    pub max_steps: usize,
}

impl RolloutArgs {
    /// The rollout these arguments ask for, its `--param`s parsed.
    pub fn rollout(self) -> Result<Rollout> {
        Ok(Rollout {
            env: self.env,
            params: crate::params::parse_params(&self.params)?,
            seed: self.seed,
            state: self.state,
            actions: self.actions,
            render: self.render.is_some(),
            max_steps: self.max_steps,
        })
    }
}

/// What one rollout needs.
#[derive(Clone, Debug)]
pub struct Rollout {
    /// The env id.
    pub env: String,
    /// Env parameters.
    pub params: Params,
    /// Seed for the reset (and the random actions).
    pub seed: Option<u64>,
    /// Internal state to set after the reset.
    pub state: Option<Vec<f64>>,
    /// The actions.
    pub actions: Actions,
    /// Print the ANSI render to stderr after the reset and each step.
    pub render: bool,
    /// The most steps played with random actions.
    pub max_steps: usize,
}

/// An observation written as CSV cells.
trait CsvObs {
    fn write_cells(&self, out: &mut String);
}

impl CsvObs for usize {
    fn write_cells(&self, out: &mut String) {
        let _ = write!(out, ",{self}");
    }
}

impl CsvObs for Vec<f32> {
    fn write_cells(&self, out: &mut String) {
        for x in self {
            // `{}` prints the shortest text that reads back as the same f32.
            let _ = write!(out, ",{x}");
        }
    }
}

/// Plays the episode; returns the CSV text (nothing is printed, so an error leaves stdout empty).
pub fn run(r: &Rollout) -> Result<String> {
    match qlab_envs::make(&r.env, &r.params)? {
        AnyEnv::Discrete(mut env) => play(&mut env, r),
        AnyEnv::Vector(mut env) => play(&mut env, r),
    }
}

fn play<E>(env: &mut E, r: &Rollout) -> Result<String>
where
    E: Env<Action = usize>,
    E::Obs: CsvObs,
{
    let n_obs = match env.observation_space() {
        Space::Discrete(_) => 1,
        Space::Box(b) => b.len(),
    };
    let mut csv = String::from("t,action,reward,terminated,truncated");
    for i in 0..n_obs {
        let _ = write!(csv, ",obs_{i}");
    }
    csv.push('\n');

    let mut obs = env.reset(r.seed).obs;
    if let Some(state) = &r.state {
        obs = env.set_state(state).context("--state")?;
    }
    csv.push_str("0,,,,");
    obs.write_cells(&mut csv);
    csv.push('\n');
    if r.render {
        eprintln!("{}", env.render_ansi());
    }

    let mut random = r.seed.map_or_else(EnvRng::from_os_entropy, |s| {
        EnvRng::seed_from_u64(s.wrapping_add(1))
    });
    let n_actions = env.action_space().flat_dim();
    let mut t = 0;
    loop {
        let action = match &r.actions {
            Actions::List(list) => match list.get(t) {
                Some(&a) => a,
                None => break,
            },
            Actions::Random => {
                if t >= r.max_steps {
                    break;
                }
                random.below(n_actions)
            }
        };
        let step = env
            .step(action)
            .with_context(|| format!("--actions: step {}", t + 1))?;
        t += 1;
        let _ = write!(
            csv,
            "{t},{action},{},{},{}",
            step.reward, step.terminated, step.truncated
        );
        step.obs.write_cells(&mut csv);
        csv.push('\n');
        if r.render {
            eprintln!("{}", env.render_ansi());
        }
        if step.done() {
            break;
        }
    }
    Ok(csv)
}
