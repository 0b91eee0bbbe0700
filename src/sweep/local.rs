//! The local executor: the points one after another, each point's seeds in parallel through
//! the runner `qlab train` uses, in this process.
//!
//! Each point's run directory is made and trained as `qlab train --out DIR/<point>` makes and
//! trains it, from the point's checked experiment, so its `config.toml`, records and
//! `summary.json` are the ones `qlab train --set …` of the same point writes (but for
//! timings). `curve.png` is left out (`qlab plot` draws it from the records).
//!
//! With `resume`, a point whose `summary.json` says it finished is read, not run again; a
//! point with a run directory that did not finish continues through the runner's own
//! `--resume`; a point without one starts. Every existing point directory's `config.toml`
//! must be the point's config, and the directory's `sweep.toml` the sweep's resolved form:
//! anything else is refused before anything runs.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::files::write_file;
use crate::runner::progress::Display;
use crate::runner::summary::{Status, Summary};
use crate::runner::{self, Failure, RunOptions, Stop, record};

use super::table::{self, PointResult, PointStatus};
use super::{Interrupted, Sweep};

/// How the local executor runs a sweep.
#[derive(Clone, Debug)]
pub struct LocalOptions<'a> {
    /// The most seeds of a point run at once.
    pub threads: usize,
    /// How each point's progress is shown.
    pub display: Display,
    /// Read at every episode end: once requested, the point in flight stops with its
    /// checkpoints, and no other point starts.
    pub stop: &'a Stop,
    /// Continue the sweep already in the directory.
    pub resume: bool,
    /// No line per point on stderr.
    pub quiet: bool,
}

/// What a sweep that ran to its end came to.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// `results[i]` is point `i`'s.
    pub results: Vec<PointResult>,
    /// The best finished point, whose config is `best.toml`.
    pub best: Option<usize>,
    /// The wall time spent inside the runner on the points run now (each point's setup,
    /// training, evaluations and run directory), seconds.
    pub run_seconds: f64,
}

/// Where a point stands before the sweep runs.
pub(super) enum Start {
    /// Not begun: its directory is made.
    Fresh,
    /// Begun, not finished: the runner resumes it.
    Resume,
    /// Finished: its summary.
    Done(Summary),
}

/// The sweep's resolved form in its directory.
pub const SWEEP_TOML: &str = "sweep.toml";

/// Runs `sweep` into `dir` on this machine as the module's doc says, writing `sweep.csv`
/// after each point and, once every point has run, `best.toml`.
///
/// # Errors
/// Before anything runs: a `dir` that is not empty (without `resume`), or that holds another
/// sweep or a point directory of another config (with `resume`). After: [`Interrupted`] for a
/// sweep stopped by `opts.stop`; a [`Failure`] naming the points that failed, once every
/// point has run.
pub fn run(sweep: &Sweep, dir: &Path, opts: &LocalOptions<'_>) -> Result<Outcome> {
    let starts = prepare(sweep, dir, opts.resume)?;
    if !opts.quiet {
        eprintln!(
            "sweep directory: {} ({} points × {} seeds)",
            dir.display(),
            sweep.points.len(),
            sweep.seeds.len()
        );
    }
    let keys = sweep.keys();
    let mut results: Vec<PointResult> = sweep
        .points
        .iter()
        .map(|_| PointResult::pending())
        .collect();
    let write_csv = |results: &[PointResult]| {
        write_file(
            &dir.join("sweep.csv"),
            table::csv(&sweep.points, &keys, results).as_bytes(),
        )
        .map_err(Failure)
    };
    let run_options = RunOptions {
        threads: opts.threads,
        display: opts.display,
        stop: opts.stop,
        pause: None,
    };
    let total = sweep.points.len();
    let mut in_runs = std::time::Duration::ZERO;
    for (i, start) in starts.into_iter().enumerate() {
        if opts.stop.requested() {
            break;
        }
        let point = &sweep.points[i];
        let point_dir = dir.join(&point.name);
        let kept = matches!(start, Start::Done(_));
        let began = std::time::Instant::now();
        let summary = match start {
            Start::Done(summary) => Ok(summary),
            Start::Fresh => record::create_run_dir(&point_dir)
                .and_then(|()| runner::train(&sweep.experiments[i], &point_dir, &run_options)),
            Start::Resume => runner::resume(&point_dir, &run_options).map(|(_, s)| s),
        };
        in_runs += began.elapsed();
        results[i] = match summary {
            Ok(summary) => PointResult::finished(&summary, &sweep.spec.metric),
            Err(e) if e.is::<runner::Interrupted>() => {
                PointResult::unfinished(PointStatus::Interrupted)
            }
            Err(e) => {
                let why = format!("{e:#}").lines().collect::<Vec<_>>().join("; ");
                PointResult::unfinished(PointStatus::Failed(why))
            }
        };
        if !opts.quiet {
            let values: Vec<String> = point.sets();
            let metric = results[i]
                .stats
                .map(|s| format!(", mean {:.3}", s.mean))
                .unwrap_or_default();
            let kept = if kept { " (kept from before)" } else { "" };
            eprintln!(
                "{} ({}/{total}) {}: {}{metric}{kept}",
                point.name,
                i + 1,
                values.join(" "),
                results[i].status
            );
        }
        write_csv(&results)?;
    }
    if opts.stop.requested() {
        write_csv(&results)?;
        let done = results
            .iter()
            .filter(|r| matches!(r.status, PointStatus::Finished | PointStatus::Failed(_)))
            .count();
        return Err(Interrupted {
            signal: opts.stop.signal().unwrap_or(0),
            file: sweep.spec.file.clone(),
            dir: dir.to_path_buf(),
            points: total,
            done,
        }
        .into());
    }
    let best = table::best(&results, sweep.spec.mode);
    if let Some(b) = best {
        write_file(
            &dir.join("best.toml"),
            sweep.experiments[b].config().to_toml().as_bytes(),
        )
        .map_err(Failure)?;
    }
    let failed: Vec<String> = sweep
        .points
        .iter()
        .zip(&results)
        .filter_map(|(p, r)| match &r.status {
            PointStatus::Failed(why) => Some(format!("{}: {why}", p.name)),
            _ => None,
        })
        .collect();
    if !failed.is_empty() {
        return Err(Failure(anyhow::anyhow!(
            "{} of {total} points failed (see {}):\n{}",
            failed.len(),
            dir.join("sweep.csv").display(),
            failed.join("\n")
        ))
        .into());
    }
    Ok(Outcome {
        results,
        best,
        run_seconds: in_runs.as_secs_f64(),
    })
}

/// Makes `dir` ready (a new sweep) or checks it (a resumed one), writes `sweep.toml`, and
/// says where each point stands.
pub(super) fn prepare(sweep: &Sweep, dir: &Path, resume: bool) -> Result<Vec<Start>> {
    let resolved = sweep.to_toml();
    let marker = dir.join(SWEEP_TOML);
    if resume {
        let old = match fs::read_to_string(&marker) {
            Ok(old) => old,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{} is not a sweep directory: it has no {SWEEP_TOML}; run without --resume to start the sweep",
                dir.display()
            ),
            Err(e) => return Err(e).with_context(|| marker.display().to_string()),
        };
        if old != resolved {
            bail!(
                "{} holds another sweep: its {SWEEP_TOML} is not the resolved form of {}; resume it with the sweep file that made it, or choose another --out",
                dir.display(),
                sweep.spec.file
            );
        }
    } else {
        let empty = match fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(e).with_context(|| dir.display().to_string()),
        };
        if !empty {
            bail!(
                "{} already exists and is not empty; sweeps are never overwritten: give --resume to continue the sweep there, or choose another --out",
                dir.display()
            );
        }
        if let Some(file) = dir.ancestors().find(|a| a.is_file()) {
            bail!(
                "{} is a file, not a directory: {} cannot be made",
                file.display(),
                dir.display()
            );
        }
        fs::create_dir_all(dir)
            .with_context(|| dir.display().to_string())
            .map_err(Failure)?;
        write_file(&marker, resolved.as_bytes()).map_err(Failure)?;
    }
    let mut starts = Vec::with_capacity(sweep.points.len());
    for (point, exp) in sweep.points.iter().zip(&sweep.experiments) {
        let point_dir = dir.join(&point.name);
        if !resume || !point_dir.exists() {
            starts.push(Start::Fresh);
            continue;
        }
        let config_path = point_dir.join("config.toml");
        match fs::read_to_string(&config_path) {
            Ok(text) if text == exp.config().to_toml() => {}
            Ok(_) => bail!(
                "{} is not {}'s config (did the base config change?); resume with the files that made the sweep, or choose another --out",
                config_path.display(),
                point.name
            ),
            // Made, then stopped before its config was written: it starts again.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_empty(&point_dir) => {
                fs::remove_dir(&point_dir).with_context(|| point_dir.display().to_string())?;
                starts.push(Start::Fresh);
                continue;
            }
            Err(e) => return Err(e).with_context(|| config_path.display().to_string()),
        }
        let summary = Summary::read(&point_dir)
            .ok()
            .flatten()
            .filter(|s| s.status == Status::Complete && s.per_seed.len() == sweep.seeds.len());
        starts.push(match summary {
            Some(s) => Start::Done(s),
            None => Start::Resume,
        });
    }
    Ok(starts)
}

fn is_empty(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut e| e.next().is_none())
}
