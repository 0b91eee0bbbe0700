//! `qlab train`: run an experiment config once per seed.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::config::{Config, parse_seeds};
use crate::runner::progress::Display;
use crate::runner::record;
use crate::runner::summary::Summary;
use crate::runner::{self, Experiment, RunOptions, Stop};

/// Run an experiment config once per seed, seeds in parallel; write a run directory.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct TrainArgs {
    /// The experiment config (TOML; see `configs/`).
    #[arg(required_unless_present = "resume")]
    pub config: Option<String>,
    /// Continue the run in this directory (interrupted, or killed even by
    /// SIGKILL) from each seed's last checkpoint, and finish it. A damaged checkpoint, or one
    /// that `config.toml` no longer matches, is refused.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["config", "seeds", "sets", "out"])]
    pub resume: Option<PathBuf>,
    /// Seeds, replacing the config's: `0..10` (0 to 9), `0,3,7`, or one seed.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Override a config value, e.g. `--set agent.alpha=0.3`; repeatable.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub sets: Vec<String>,
    /// The run directory; it must not exist (default: `runs/<env>_<algorithm>_<time>`).
    #[arg(
        long,
        help = "The run directory; it must not exist [default: runs/<env>_<algorithm>_<time>]"
    )]
    pub out: Option<PathBuf>,
    /// The most seeds run at once [default: the number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Reads and checks the config with its overrides, as `train` and `bench` take them.
pub fn experiment(config: &str, sets: &[String], seeds: Option<&str>) -> Result<Experiment> {
    let mut config = Config::load(config, sets)?;
    if let Some(seeds) = seeds {
        config.set_seeds(parse_seeds(seeds).map_err(|e| anyhow::anyhow!("--seeds {seeds}: {e}"))?);
    }
    Experiment::new(config)
}

/// Runs the experiment; returns the run directory and a table of the seeds' results.
///
/// Progress goes to stderr: a bar on a terminal, plain lines otherwise. SIGINT (Ctrl-C),
/// SIGTERM and SIGHUP stop the run cleanly at each seed's next episode end, with checkpoints:
/// the error is then [`runner::Interrupted`], naming the `--resume` command that finishes it.
/// A second signal ends the process at once.
pub fn run(t: &TrainArgs) -> Result<String> {
    if let Some(dir) = &t.resume {
        let threads = threads(t)?;
        if !t.quiet {
            eprintln!("resuming: {}", dir.display());
        }
        let (_, summary) = stoppable(threads, display(t), |run| runner::resume(dir, run))?;
        if let Err(e) = crate::plot::write_curve(dir) {
            eprintln!("warning: curve.png: {e:#}");
        }
        return Ok(report(dir, &summary));
    }
    let Some(path) = &t.config else {
        bail!("give a config file, or --resume RUN_DIR");
    };
    let config = Config::load(path, &t.sets)?;
    let (dir, summary) = train(config, t, None)?;
    Ok(report(&dir, &summary))
}

/// Trains `config` (already loaded, `t.sets` applied) as `qlab train` does, with `t`'s seeds,
/// run directory, threads and display: returns the run directory and the summary. The curve
/// is plotted as `qlab train` plots it.
///
/// With `stop`, the run stops when the caller requests it (a host that owns the signals, such
/// as Python); without, SIGINT, SIGTERM and SIGHUP stop it, as [`run`] describes.
///
/// # Errors
/// A config that does not check; a run directory that exists; [`runner::Interrupted`] for a
/// run stopped early; a run that fails.
pub fn train(mut config: Config, t: &TrainArgs, stop: Option<&Stop>) -> Result<(PathBuf, Summary)> {
    if let Some(seeds) = &t.seeds {
        config.set_seeds(parse_seeds(seeds).map_err(|e| anyhow::anyhow!("--seeds {seeds}: {e}"))?);
    }
    let exp = Experiment::new(config)?;
    let threads = threads(t)?;
    for w in exp.warnings() {
        eprintln!("warning: {w}");
    }
    let dir = match &t.out {
        Some(dir) => {
            record::create_run_dir(dir)?;
            dir.clone()
        }
        None => record::default_run_dir(
            &exp.config().output.dir,
            &exp.config().env.id,
            exp.config().agent.algorithm(),
        )?,
    };
    if !t.quiet {
        eprintln!("run directory: {}", dir.display());
    }
    let summary = match stop {
        Some(stop) => runner::train(
            &exp,
            &dir,
            &RunOptions {
                threads,
                display: display(t),
                stop,
                pause: None,
            },
        )?,
        None => stoppable(threads, display(t), |run| runner::train(&exp, &dir, run))?,
    };
    // The run's results are on disk already: a failed plot warns instead of failing the run.
    if let Err(e) = crate::plot::write_curve(&dir) {
        eprintln!("warning: curve.png: {e:#}");
    }
    Ok((dir, summary))
}

/// Runs `f` with the signal handlers of [`Stop::on_signals`] in place: they stop the run
/// cleanly, and are gone (a signal ends the process at once) when it returns.
fn stoppable<T>(
    threads: usize,
    display: Display,
    f: impl FnOnce(&RunOptions<'_>) -> Result<T>,
) -> Result<T> {
    let (stop, _signals) = Stop::on_signals()?;
    f(&RunOptions {
        threads,
        display,
        stop: &stop,
        pause: None,
    })
}

fn threads(t: &TrainArgs) -> Result<usize> {
    Ok(match t.threads {
        Some(0) => bail!("--threads must be at least 1, got 0"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    })
}

fn display(t: &TrainArgs) -> Display {
    if t.quiet {
        Display::Quiet
    } else if std::io::stderr().is_terminal() {
        Display::Bar
    } else {
        Display::Lines
    }
}

/// The run directory and one line per seed, then the aggregate.
pub fn report(dir: &std::path::Path, s: &Summary) -> String {
    let mut out = format!("{}\n", dir.display());
    let _ = writeln!(
        out,
        "{:>6} {:>9} {:>12} {:>9} {:>12} {:>12} {:>12}",
        "seed", "episodes", "steps", "seconds", "steps/s", "final eval", "last window"
    );
    let opt = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
    for p in &s.per_seed {
        let _ = writeln!(
            out,
            "{:>6} {:>9} {:>12} {:>9.3} {:>12.0} {:>12.3} {:>12}",
            p.seed,
            p.episodes,
            p.steps,
            p.wall_seconds,
            p.steps_per_second,
            p.final_eval_mean_return,
            opt(p.final_window_mean_return)
        );
    }
    let a = &s.aggregate;
    let _ = writeln!(
        out,
        "{:>6} {:>9} {:>12} {:>9.3} {:>12.0} {:>12.3} {:>12}",
        "all",
        a.episodes,
        a.steps,
        a.wall_seconds,
        a.steps_per_second,
        a.final_eval_mean_return,
        opt(a.final_window_mean_return)
    );
    out
}
