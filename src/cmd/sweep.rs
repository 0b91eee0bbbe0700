//! `qlab sweep`: run a base config at every point of a sweep file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::runner::progress::Display;
use crate::runner::{Stop, record};
use crate::sweep::{self, LocalOptions, Method, Sweep, table};

/// Where a sweep's points run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Executor {
    /// One point after another in this process, each point's seeds in parallel.
    #[default]
    Local,
    /// Ray, from the Python package (not there yet).
    Ray,
}

/// Run a base config at every point of a sweep file (grid and random search), each point
/// for all the sweep's seeds; write a run directory per point, sweep.csv and best.toml.
#[derive(Clone, Debug, clap::Args)]
pub struct SweepArgs {
    /// The sweep file (TOML; see `sweeps/`).
    pub sweep: String,
    /// Where the points run.
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    pub executor: Executor,
    /// The sweep directory; it must be empty or not exist, unless `--resume` [default:
    /// `<base [output] dir>/sweep_<sweep file name>_<time>`].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the sweep in `--out`: finished points are kept, a stopped point continues
    /// from its checkpoints, the rest run. A directory of another sweep is refused.
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// The most seeds of a point run at once [default: the number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Checks the sweep file and every point, then runs the sweep; returns the table of its
/// points and the best one.
///
/// SIGINT (Ctrl-C), SIGTERM and SIGHUP stop it cleanly as they stop `qlab train`: the error is
/// then [`sweep::Interrupted`], naming the `--resume` command that finishes it.
pub fn run(a: &SweepArgs) -> Result<String> {
    let began = std::time::Instant::now();
    let threads = match a.threads {
        Some(0) => bail!("--threads must be at least 1, got 0"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let sweep = Sweep::load(&a.sweep)?;
    // Checked whole before refusing what only the Python package's executor runs.
    const LATER: &str = "which is not there yet";
    if a.executor == Executor::Ray {
        bail!(
            "--executor ray needs the Python package's sweep executor, {LATER}; use --executor local"
        );
    }
    if let Some(search) = &sweep.spec.search {
        if search.method == Method::Tpe {
            bail!(sweep.spec.error(
                &["search", "method"],
                format!("`method = \"tpe\"` needs the Python package's sweep executor, {LATER}; use method = \"random\"")
            ));
        }
    }
    if let Some(s) = sweep.spec.stop {
        bail!(sweep.spec.error(
            &["stop", "scheduler"],
            format!("early stopping (`scheduler = \"{}\"`) needs the Python package's sweep executor, {LATER}; leave [stop] out to run every point in full", s.name())
        ));
    }
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
    let display = if a.quiet || !std::io::stderr().is_terminal() {
        Display::Quiet
    } else {
        Display::Bar
    };
    let (stop, _signals) = Stop::on_signals()?;
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
    if !a.quiet {
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
