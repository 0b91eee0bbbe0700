//! The `qlab` command-line tool.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qlab::cmd;

/// qlab: reinforcement-learning environments, agents and experiments.
#[derive(Parser, Debug)]
#[command(name = "qlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every registered env with its spaces and a description.
    Envs,
    /// Run an experiment config once per seed, seeds in parallel; write a run directory.
    Train {
        /// The experiment config (TOML; see `configs/`).
        config: String,
        /// Seeds, replacing the config's: `0..10` (0 to 9), `0,3,7`, or one seed.
        #[arg(long)]
        seeds: Option<String>,
        /// Override a config value, e.g. `--set agent.alpha=0.3`; repeatable.
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        sets: Vec<String>,
        /// The run directory; it must not exist [default: runs/<env>_<algorithm>_<time>].
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// The most seeds run at once [default: the number of cores].
        #[arg(long)]
        threads: Option<usize>,
        /// No progress on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Reload a run's learned agents and evaluate them greedily; print CSV, one row per seed.
    Eval {
        /// The run directory written by `qlab train`.
        run_dir: std::path::PathBuf,
        /// Episodes per seed [default: the config's `eval_episodes`].
        #[arg(long)]
        episodes: Option<u64>,
    },
    /// Play one episode and print it as CSV: t,action,reward,terminated,truncated,obs_0,...
    Rollout {
        /// The env id (see `qlab envs`).
        #[arg(long)]
        env: String,
        /// Seed for the reset and for random actions.
        #[arg(long)]
        seed: Option<u64>,
        /// Internal state set after the reset (CartPole: x,x_dot,theta,theta_dot; GridWorld:
        /// the cell index).
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        state: Option<Vec<f64>>,
        /// Comma-separated actions, or `random` for random actions until the episode ends.
        #[arg(long, default_value = "random")]
        actions: cmd::rollout::Actions,
        /// Env parameter KEY=VALUE (the keys of a config's [env] table); repeatable.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Print the env after the reset and each step to stderr.
        #[arg(long, value_parser = ["ansi"])]
        render: Option<String>,
        /// The most steps played with random actions.
        #[arg(long, default_value_t = 100_000)]
        max_steps: usize,
    },
    /// Measure env throughput with random actions through the public API, or (with
    /// `--config`) the training throughput of an experiment config's first seed through the
    /// runner's training loop.
    Bench {
        /// The env id (see `qlab envs`).
        #[arg(long, required_unless_present = "config", conflicts_with = "config")]
        env: Option<String>,
        /// An experiment config: time its first seed's training on one thread.
        #[arg(long)]
        config: Option<String>,
        /// With `--config`: override a config value; repeatable.
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE", requires = "config")]
        sets: Vec<String>,
        /// Env-steps in total, over all envs; with `--config`, the training budget in steps
        /// [default: 10000000; with `--config`, the config's budget].
        #[arg(long)]
        steps: Option<u64>,
        /// Envs stepped together (CartPole-v1 uses the native batched CartPole).
        #[arg(long, default_value_t = 1, conflicts_with = "config")]
        num_envs: usize,
        /// Env parameter KEY=VALUE; repeatable.
        #[arg(long = "param", value_name = "KEY=VALUE", conflicts_with = "config")]
        params: Vec<String>,
    },
    /// Solve an env's exact model by dynamic programming; print the optimal value of the start
    /// state as `value=X`.
    Solve {
        /// The env id (see `qlab envs`); it must have an exact model (every GridWorld).
        #[arg(long)]
        env: String,
        /// Discount factor γ, in [0, 1].
        #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
        gamma: f64,
        /// Steps to look ahead, or `inf` for no limit [default: the env's time limit, `inf`
        /// when it has none].
        #[arg(long, value_name = "STEPS|inf", allow_hyphen_values = true)]
        horizon: Option<String>,
        /// Infinite horizon: stop when a sweep changes no value by more than this; 0 sweeps
        /// until the values stop changing, to the last bit.
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        theta: f64,
        /// Env parameter KEY=VALUE; repeatable.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Also print the values and the greedy policy on the map (GridWorlds).
        #[arg(long)]
        show: bool,
        /// The method for an infinite horizon (a finite one is always backward induction).
        #[arg(long, value_enum, default_value_t = cmd::solve::Method::ValueIteration)]
        method: cmd::solve::Method,
    },
}

fn run(cli: Cli) -> anyhow::Result<String> {
    match cli.command {
        Command::Envs => cmd::envs::run(),
        Command::Train {
            config,
            seeds,
            sets,
            out,
            threads,
            quiet,
        } => cmd::train::run(&cmd::train::Train {
            config,
            seeds,
            sets,
            out,
            threads,
            quiet,
        }),
        Command::Eval { run_dir, episodes } => {
            cmd::eval::run(&cmd::eval::Eval { run_dir, episodes })
        }
        Command::Rollout {
            env,
            seed,
            state,
            actions,
            params,
            render,
            max_steps,
        } => cmd::rollout::run(&cmd::rollout::Rollout {
            env,
            params: qlab::params::parse_params(&params)?,
            seed,
            state,
            actions,
            render: render.is_some(),
            max_steps,
        }),
        Command::Bench {
            env,
            config: Some(config),
            sets,
            steps,
            ..
        } => {
            debug_assert!(env.is_none());
            cmd::bench::run_config(&cmd::bench::TrainBench {
                config,
                sets,
                steps,
            })
        }
        Command::Bench {
            env,
            config: None,
            steps,
            num_envs,
            params,
            ..
        } => cmd::bench::run(&cmd::bench::Bench {
            env: env.expect("clap requires --env without --config"),
            params: qlab::params::parse_params(&params)?,
            steps: steps.unwrap_or(10_000_000),
            num_envs,
        }),
        Command::Solve {
            env,
            gamma,
            horizon,
            theta,
            params,
            show,
            method,
        } => cmd::solve::run(&cmd::solve::Solve {
            env,
            params: qlab::params::parse_params(&params)?,
            gamma,
            theta,
            horizon: horizon.as_deref().map(str::parse).transpose()?,
            method,
            show,
        }),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            // A failure while running exits 1; anything else comes from the command's input
            // (a config, a flag): the usage error code.
            if e.chain().any(|c| c.is::<qlab::runner::Failure>()) {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}
