//! `qlab sweep`: run a base config at every point of a sweep file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::runner::progress::Display;
use crate::runner::{Stop, record};
use crate::sweep::driven::Session;
use crate::sweep::{self, LocalOptions, Method, Sweep, table};

/// Where a sweep's points run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Executor {
    /// On this machine: one point after another, each point's seeds in parallel (with `tpe`
    /// or `[stop]`, the Python package's executor runs each point's seeds as units on
    /// threads).
    #[default]
    Local,
    /// On a Ray cluster, each (point, seed) one Ray task of one CPU (the Python package's
    /// `qlab` command, installed with `pip install "./python[ray]"`).
    Ray,
}

impl Executor {
    /// `"local"` or `"ray"`.
    pub fn name(self) -> &'static str {
        match self {
            Executor::Local => "local",
            Executor::Ray => "ray",
        }
    }
}

/// Run a base config at every point of a sweep file (grid, random or tpe search), each point
/// for all the sweep's seeds; write a run directory per point, sweep.csv and best.toml.
#[derive(Clone, Debug, clap::Args)]
pub struct SweepArgs {
    /// The sweep file (TOML; see `sweeps/`).
    pub sweep: String,
    /// Where the points run.
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    pub executor: Executor,
    /// The Ray cluster to connect to, HOST:PORT as `ray start --head` prints it [default:
    /// the environment's RAY_ADDRESS].
    #[arg(long)]
    pub address: Option<String>,
    /// The sweep directory; it must be empty or not exist, unless `--resume` [default:
    /// `<base [output] dir>/sweep_<sweep file name>_<time>`].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the sweep in `--out`: finished points (and, with the Python package's
    /// executors, finished seeds) are kept, a stopped point continues from its checkpoints,
    /// the rest run. A directory of another sweep is refused.
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// The most seeds run at once on this machine [default: the number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What runs the sweeps the local executor of this crate does not — `--executor ray`,
/// `method = "tpe"` and `[stop]` — from outside it: the Python package's `qlab` command gives
/// its sweep executor (Ray, Optuna); the cargo-built binary gives none and refuses such
/// sweeps, naming the package to install.
pub trait Driver {
    /// Checks, before anything is made, that the driver can run `sweep` as `args` ask: its
    /// packages are installed, its cluster answers.
    ///
    /// # Errors
    /// What is missing, on one line.
    fn check(&self, sweep: &Sweep, args: &SweepArgs) -> Result<()>;

    /// Runs every point of `session`'s sweep as `args` ask, through the session's methods,
    /// and gives the session back; it returns early, with the points run so far, once
    /// `session.stop` is requested.
    ///
    /// # Errors
    /// Whatever stops the driver: a cluster that cannot be reached, a missing Python package,
    /// a point that cannot be made.
    fn drive(&self, session: Session, args: &SweepArgs) -> Result<Session>;
}

/// Why the sweep needs a [`Driver`], with what to install for one; `None` when the local
/// executor runs it.
fn needs_driver(sweep: &Sweep, a: &SweepArgs) -> Option<anyhow::Error> {
    const PACKAGE: &str = "the Python package's qlab command";
    if a.executor == Executor::Ray {
        return Some(anyhow::anyhow!(
            "--executor ray runs from {PACKAGE}: pip install \"./python[ray]\" (or \"qlab[ray]\"), \
             then run its qlab sweep; or use --executor local"
        ));
    }
    if sweep.method() == Some(Method::Tpe) {
        return Some(
            sweep
                .spec
                .error(
                    &["search", "method"],
                    format!("`method = \"tpe\"` draws its trials with Optuna's TPESampler, from {PACKAGE}: pip install \"./python[tune]\", then run its qlab sweep; or use method = \"random\""),
                )
                .into(),
        );
    }
    if let Some(s) = sweep.spec.stop {
        return Some(
            sweep
                .spec
                .error(
                    &["stop", "scheduler"],
                    format!("early stopping (`scheduler = \"{}\"`) uses Optuna's pruners, from {PACKAGE}: pip install \"./python[tune]\", then run its qlab sweep; or leave [stop] out to run every point in full", s.name()),
                )
                .into(),
        );
    }
    None
}

/// Checks the sweep file and every point, then runs the sweep; returns the table of its
/// points and the best one. A sweep only a [`Driver`] runs is refused.
///
/// SIGINT (Ctrl-C), SIGTERM and SIGHUP stop it cleanly as they stop `qlab train`: the error is
/// then [`sweep::Interrupted`], naming the `--resume` command that finishes it.
pub fn run(a: &SweepArgs) -> Result<String> {
    run_with(a, None)
}

/// [`run`], with `driver` for the sweeps the local executor does not run.
pub fn run_with(a: &SweepArgs, driver: Option<&dyn Driver>) -> Result<String> {
    let began = std::time::Instant::now();
    let threads = match a.threads {
        Some(0) => bail!("--threads must be at least 1, got 0"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    if a.address.is_some() && a.executor != Executor::Ray {
        bail!("--address names a Ray cluster: it goes with --executor ray");
    }
    let sweep = Sweep::load(&a.sweep)?;
    // Checked whole before refusing what only a driver runs.
    let needs = needs_driver(&sweep, a);
    let driver = match (needs, driver) {
        (Some(why), None) => return Err(why),
        (Some(_), Some(d)) => {
            d.check(&sweep, a)?;
            Some(d)
        }
        (None, _) => None,
    };
    if !a.quiet {
        for w in &sweep.warnings {
            eprintln!("warning: {w}");
        }
    }
    let dir = match &a.out {
        Some(dir) => dir.clone(),
        None => {
            let stem = Path::new(&a.sweep)
                .file_stem()
                .map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned());
            let parent = &sweep.experiments[0].config().output.dir;
            record::default_run_dir(Path::new(parent), "sweep", &stem)?
        }
    };
    let (stop, _signals) = Stop::on_signals()?;
    let driven = driver.is_some();
    let (sweep, outcome) = match driver {
        Some(driver) => {
            if !a.quiet {
                eprintln!(
                    "sweep directory: {} ({} points × {} seeds, executor {})",
                    dir.display(),
                    sweep.total_points(),
                    sweep.seeds.len(),
                    a.executor.name()
                );
            }
            let session = Session::open(sweep, &dir, a.resume, stop.clone())?;
            let session = driver.drive(session, a)?;
            if session.stop.requested() {
                return Err(session.interrupted()?.into());
            }
            let outcome = session.finish()?;
            (session.sweep, outcome)
        }
        None => {
            let display = if a.quiet || !std::io::stderr().is_terminal() {
                Display::Quiet
            } else {
                Display::Bar
            };
            let outcome = sweep::local::run(
                &sweep,
                &dir,
                &LocalOptions {
                    threads,
                    display,
                    stop: &stop,
                    resume: a.resume,
                    quiet: a.quiet,
                },
            )?;
            (sweep, outcome)
        }
    };
    if !a.quiet && driven {
        // Units of many points run at once: their times overlap, and only the total tells.
        eprintln!(
            "{} points in {:.3} s",
            sweep.points.len(),
            began.elapsed().as_secs_f64()
        );
    } else if !a.quiet {
        // What the sweep costs beyond its runs: loading and checking the sweep file, the
        // points' statistics and the tables.
        let total = began.elapsed().as_secs_f64();
        let own = (total - outcome.run_seconds).max(0.0);
        eprintln!(
            "{} points in {total:.3} s: {:.3} s in their runs, {own:.3} s ({:.1}%) the sweep's own",
            sweep.points.len(),
            outcome.run_seconds,
            100.0 * own / total
        );
    }
    let keys = sweep.keys();
    let mut out = format!("{}\n", dir.display());
    out.push_str(&table::text(
        &sweep.points,
        &keys,
        &outcome.results,
        &sweep.spec.metric,
    ));
    if let Some(b) = outcome.best {
        let s = outcome.results[b].stats.expect("the best point finished");
        out.push_str(&format!(
            "best ({}): {} with mean {:.3}; its config: {}\n",
            sweep.spec.mode.name(),
            sweep.points[b].name,
            s.mean,
            dir.join("best.toml").display()
        ));
    }
    Ok(out)
}
