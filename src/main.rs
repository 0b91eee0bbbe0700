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
