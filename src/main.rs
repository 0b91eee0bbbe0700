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
    /// Measure env throughput with random actions through the public API.
    Bench {
        /// The env id (see `qlab envs`).
        #[arg(long)]
        env: String,
        /// Env-steps in total, over all envs.
        #[arg(long, default_value_t = 10_000_000)]
        steps: u64,
        /// Envs stepped together (CartPole-v1 uses the native batched CartPole).
        #[arg(long, default_value_t = 1)]
        num_envs: usize,
        /// Env parameter KEY=VALUE; repeatable.
        #[arg(long = "param", value_name = "KEY=VALUE")]
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
            steps,
            num_envs,
            params,
        } => cmd::bench::run(&cmd::bench::Bench {
            env,
            params: qlab::params::parse_params(&params)?,
            steps,
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
            // Every failure of these commands comes from their input: usage error code.
            ExitCode::from(2)
        }
    }
}
