//! The `qlab` command-line tool.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qlab::cmd;
use qlab::plot::{Band, CurveSpec, XAxis};

// candle allocates a buffer per tensor op, and glibc's malloc serves the 64–256 KiB ones with
// mmap/munmap: a DQN training step ran 3× slower on it than on mimalloc (page faults
// 2,963,599 against 1,658 over one benchmark run; BENCHMARKS.md, "Networks").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        #[arg(required_unless_present = "resume")]
        config: Option<String>,
        /// Continue the deep-Q-network run in this directory (killed, even by SIGKILL) from
        /// each seed's last checkpoint, and finish it.
        #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["config", "seeds", "sets", "out"])]
        resume: Option<std::path::PathBuf>,
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
    /// Evaluate a dqn run's saved greedy agent under attacks on its observations, for each
    /// attack and radius ε; write CSV (attack,eps,mean_return,std_return,action_change_rate,
    /// attacked_fraction) and a plot of mean return against ε; print the table.
    Attack {
        /// The run directory written by `qlab train` (a dqn run).
        run_dir: PathBuf,
        /// Comma-separated attacks: random, gaussian, fgsm, pgd, timed, none.
        #[arg(long, value_delimiter = ',', required = true)]
        attack: Vec<String>,
        /// Comma-separated radii ε ≥ 0, in observation units.
        #[arg(
            long,
            value_delimiter = ',',
            required = true,
            allow_hyphen_values = true
        )]
        eps: Vec<f64>,
        /// Episodes per attack and ε [default: the config's `eval_episodes`].
        #[arg(long)]
        episodes: Option<u64>,
        /// Seed of each evaluation's first reset [default: the seed the run's own evaluations
        /// start from].
        #[arg(long)]
        seed: Option<u64>,
        /// The training seed whose network is attacked [default: the first one saved].
        #[arg(long)]
        run_seed: Option<u64>,
        /// The CSV file [default: RUN_DIR/attack.csv]; the PNG plot goes beside it, same stem.
        #[arg(long, value_name = "FILE.csv")]
        out: Option<PathBuf>,
        /// The norm of the ball: linf or l2.
        #[arg(long, default_value = "linf", value_parser = ["linf", "l2"])]
        norm: String,
        /// The timed attack's threshold on the preference gap (max − min of softmax(Q)), in
        /// [0, 1].
        #[arg(long, default_value_t = 0.5, allow_hyphen_values = true)]
        threshold: f64,
        /// Where PGD starts: random (a uniform point of the ball), zero (the clean
        /// observation) or fgsm (FGSM's perturbation; PGD then never ends below FGSM's loss).
        #[arg(long, default_value = "random", value_parser = ["random", "zero", "fgsm"])]
        pgd_start: String,
        /// The attack the timed attack makes at the steps it strikes: fgsm or pgd.
        #[arg(long, default_value = "fgsm", value_parser = ["fgsm", "pgd"])]
        timed_with: String,
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
    /// Draw learning curves: one line per run (the mean over its seeds) with a shaded band.
    Plot {
        /// Run directories written by `qlab train`.
        #[arg(required = true, value_name = "RUN_DIR")]
        runs: Vec<PathBuf>,
        /// The metrics.csv column to plot (return, length, epsilon, value_rmse, loss, ...).
        #[arg(long, default_value = "return")]
        metric: String,
        /// The x axis: `episode` (seeds aligned by episode) or `step` (seeds interpolated
        /// onto a common grid of env steps).
        #[arg(long, default_value = "episode")]
        x: XAxis,
        /// Trailing moving mean over this many episodes, per seed, before averaging.
        #[arg(long, default_value_t = 1)]
        smooth: usize,
        /// The band around the mean: std, ci95 (95% confidence interval of the mean), minmax
        /// or none.
        #[arg(long, default_value = "std")]
        band: Band,
        /// The image file: .png or .svg.
        #[arg(long, default_value = "curves.png")]
        out: PathBuf,
        /// Comma-separated legend entries, one per run (default: the algorithms from the runs'
        /// configs, or the directory names).
        #[arg(long, value_delimiter = ',')]
        labels: Option<Vec<String>>,
        /// The title (default: the env and what the band shows).
        #[arg(long)]
        title: Option<String>,
        /// Image width in pixels.
        #[arg(long, default_value_t = 1024)]
        width: u32,
        /// Image height in pixels.
        #[arg(long, default_value_t = 640)]
        height: u32,
        /// Also write the plotted data (run,x,mean,lower,upper,seeds) to this CSV file.
        #[arg(long, value_name = "FILE.csv")]
        data: Option<PathBuf>,
        /// The x axis's range LO,HI (default: the data's).
        #[arg(
            long,
            value_delimiter = ',',
            allow_hyphen_values = true,
            value_name = "LO,HI"
        )]
        xlim: Option<Vec<f64>>,
        /// The y axis's range LO,HI (default: the data's); what lies outside is cut off.
        #[arg(
            long,
            value_delimiter = ',',
            allow_hyphen_values = true,
            value_name = "LO,HI"
        )]
        ylim: Option<Vec<f64>>,
    },
    /// Compare runs in a table: final metric (mean ± std over seeds), episodes and steps to
    /// reach a threshold, wall time, steps/s; printed, and written as Markdown and CSV.
    Compare {
        /// Run directories written by `qlab train`.
        #[arg(required = true, value_name = "RUN_DIR")]
        runs: Vec<PathBuf>,
        /// The metrics.csv column compared.
        #[arg(long, default_value = "return")]
        metric: String,
        /// Report the first episode where the moving mean over --window episodes reaches this.
        #[arg(long, allow_hyphen_values = true)]
        threshold: Option<f64>,
        /// Episodes in the moving mean tested against --threshold (a full window).
        #[arg(long, default_value_t = 100)]
        window: usize,
        /// Episodes at the end of each seed averaged into its final value.
        #[arg(long, default_value_t = 100)]
        last: usize,
        /// Comma-separated row names, one per run.
        #[arg(long, value_delimiter = ',')]
        labels: Option<Vec<String>>,
        /// The Markdown file (default: compare.md beside the first run directory).
        #[arg(long, value_name = "FILE.md")]
        out_md: Option<PathBuf>,
        /// The CSV file (default: compare.csv beside the first run directory).
        #[arg(long, value_name = "FILE.csv")]
        out_csv: Option<PathBuf>,
    },
    /// Watch episodes as an animated GIF (--out) or as text frames in the terminal: a run's
    /// greedy agent (RUN_DIR), or random actions (--env).
    Render {
        /// A run directory written by `qlab train`: render its greedy agent.
        #[arg(
            value_name = "RUN_DIR",
            required_unless_present = "env",
            conflicts_with = "env"
        )]
        run_dir: Option<PathBuf>,
        /// Render this env with random actions instead (see `qlab envs`).
        #[arg(long)]
        env: Option<String>,
        /// Episodes to play.
        #[arg(long, default_value_t = 1)]
        episodes: usize,
        /// Seed of the first reset (and of the random actions).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The GIF file; without it, text frames go to stdout.
        #[arg(long, value_name = "FILE.gif")]
        out: Option<PathBuf>,
        /// GIF frames per second (default: the env's, CartPole 50, grid worlds 4).
        #[arg(long)]
        fps: Option<f64>,
        /// Cut an episode after this many steps if its time limit has not ended it.
        #[arg(long, default_value_t = 1000)]
        max_steps: usize,
        /// Leave out the caption (episode, step, return) above each GIF frame.
        #[arg(long)]
        no_caption: bool,
        /// Draw each pixel of the env's frames as a SCALE × SCALE square (1 to 16).
        #[arg(long, default_value_t = 1)]
        scale: usize,
        /// Env parameter KEY=VALUE (with --env); repeatable.
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
        /// Also draw the values and the greedy policy as a heat map, PNG or SVG (GridWorlds).
        #[arg(long, value_name = "FILE.png")]
        plot: Option<PathBuf>,
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
            resume,
            seeds,
            sets,
            out,
            threads,
            quiet,
        } => cmd::train::run(&cmd::train::Train {
            config: config.unwrap_or_default(),
            resume,
            seeds,
            sets,
            out,
            threads,
            quiet,
        }),
        Command::Eval { run_dir, episodes } => {
            cmd::eval::run(&cmd::eval::Eval { run_dir, episodes })
        }
        Command::Attack {
            run_dir,
            attack,
            eps,
            episodes,
            seed,
            run_seed,
            out,
            norm,
            threshold,
            pgd_start,
            timed_with,
        } => cmd::attack::run(&cmd::attack::Attack {
            run_dir,
            attacks: attack,
            eps,
            episodes,
            seed,
            run_seed,
            out,
            norm: if norm == "l2" {
                qlab_agents::adversarial::Norm::L2
            } else {
                qlab_agents::adversarial::Norm::Linf
            },
            threshold,
            pgd_start: qlab_agents::adversarial::PgdStart::parse(&pgd_start)?,
            timed_with: qlab_agents::adversarial::AttackMethod::parse(&timed_with)?,
        }),
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
        Command::Plot {
            runs,
            metric,
            x,
            smooth,
            band,
            out,
            labels,
            title,
            width,
            height,
            data,
            xlim,
            ylim,
        } => cmd::plot::run(&cmd::plot::Plot {
            runs,
            spec: CurveSpec {
                metric,
                x,
                smooth,
                band,
                ..CurveSpec::default()
            },
            out,
            labels,
            title,
            width,
            height,
            data,
            xlim,
            ylim,
        }),
        Command::Compare {
            runs,
            metric,
            threshold,
            window,
            last,
            labels,
            out_md,
            out_csv,
        } => cmd::compare::run(&cmd::compare::Compare {
            runs,
            spec: qlab::plot::compare::CompareSpec {
                metric,
                threshold,
                window,
                last,
            },
            labels,
            out_md,
            out_csv,
        }),
        Command::Render {
            run_dir,
            env,
            episodes,
            seed,
            out,
            fps,
            max_steps,
            no_caption,
            scale,
            params,
        } => cmd::render::run(&cmd::render::Render {
            source: match (run_dir, env) {
                (_, Some(id)) => cmd::render::Source::Env {
                    id,
                    params: qlab::params::parse_params(&params)?,
                },
                (Some(dir), None) => cmd::render::Source::Run(dir),
                (None, None) => unreachable!("clap requires RUN_DIR or --env"),
            },
            playback: qlab::plot::render::Playback {
                episodes,
                seed,
                max_steps,
                caption: !no_caption,
                scale,
            },
            out,
            fps,
        }),
        Command::Solve {
            env,
            gamma,
            horizon,
            theta,
            params,
            show,
            plot,
            method,
        } => cmd::solve::run(&cmd::solve::Solve {
            env,
            params: qlab::params::parse_params(&params)?,
            gamma,
            theta,
            horizon: horizon.as_deref().map(str::parse).transpose()?,
            method,
            show,
            plot,
        }),
    }
}

fn main() -> ExitCode {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // One thread per candle kernel: the networks here are small, and on two cores a second
        // kernel thread made a DQN step slower, not faster (BENCHMARKS.md). Seeds run in
        // parallel instead.
        // SAFETY: the first statement of `main`; no other thread exists yet.
        unsafe { qlab_agents::nn::set_cpu_threads(1) };
    }
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
