//! A sweep driven from outside this crate: the Python package's sweep executor decides what
//! runs where and when — its units ([`super::unit`]) on threads or as Ray tasks, `tpe`'s
//! trials drawn by Optuna, points stopped early by Optuna's pruners — and a [`Session`] does
//! the rest as the local executor does: the sweep directory and its `sweep.toml`, each
//! point's directory, `config.toml` and `summary.json`, `sweep.csv` after each point and
//! `best.toml` at the end. So a point is the same files whichever executor ran it.
//!
//! The driver calls, for each point in turn or all at once: [`Session::start_point`], then
//! runs the point's units, then [`Session::finish_point`]; a `tpe` trial is first added with
//! [`Session::add_trial`]. [`Session::finish`] ends the sweep.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::files::write_file;
use crate::runner::summary::{Status, Summary};
use crate::runner::{self, Failure, Stop};

use super::local::{self, Outcome};
use super::table::{self, PointResult, PointStatus};
use super::{Interrupted, Sweep, unit};

/// How a point ended, as its driver saw it.
#[derive(Clone, Debug, PartialEq)]
pub enum Ended {
    /// Every seed ran its budget.
    Finished,
    /// The `[stop]` scheduler stopped it after the evaluation at this point of the budget
    /// (env steps, or episodes); every seed ended there ([`runner::Pause::Here`]).
    Stopped(u64),
    /// A unit failed: why, on one line.
    Failed(String),
    /// A stop (a signal) came before every seed finished.
    Interrupted,
}

/// A sweep directory being filled by a driver.
pub struct Session {
    /// The sweep; a `tpe` search's trials join its points as they are added.
    pub sweep: Sweep,
    /// The sweep directory.
    pub dir: PathBuf,
    /// `results[i]` is point `i`'s.
    pub results: Vec<PointResult>,
    /// Set by the signals that stop the sweep (see [`crate::runner::stop`]).
    pub stop: Stop,
    /// The seconds each finished point's units took, from the first's start to the last's end,
    /// as the driver measured them.
    run_seconds: f64,
}

impl Session {
    /// Makes `dir` ready for `sweep` (a new sweep) or checks it (`resume`), as the local
    /// executor does, and writes `sweep.toml`.
    ///
    /// # Errors
    /// Those of the local executor's checks: a `dir` that is not empty (without `resume`), or
    /// that holds another sweep or a point directory of another config (with `resume`).
    pub fn open(sweep: Sweep, dir: &Path, resume: bool, stop: Stop) -> Result<Session> {
        local::prepare(&sweep, dir, resume)?;
        let results = sweep
            .points
            .iter()
            .map(|_| PointResult::pending())
            .collect();
        Ok(Session {
            sweep,
            dir: dir.to_path_buf(),
            results,
            stop,
            run_seconds: 0.0,
        })
    }

    /// Adds the `tpe` search's trial `trial` with its values (see [`Sweep::trial`]) as the
    /// sweep's next point; returns its index.
    ///
    /// # Errors
    /// Those of [`Sweep::trial`]; a trial added out of order.
    pub fn add_trial(&mut self, trial: usize, values: Vec<toml::Value>) -> Result<usize> {
        let index = self.sweep.grid_points + trial;
        if index != self.sweep.points.len() {
            bail!(
                "trial {trial} added after {} points; trials are added in order",
                self.sweep.points.len()
            );
        }
        let (point, exp) = self.sweep.trial(trial, values)?;
        self.sweep.points.push(point);
        self.sweep.experiments.push(exp);
        self.results.push(PointResult::pending());
        Ok(index)
    }

    /// The directory of point `i`.
    pub fn point_dir(&self, i: usize) -> PathBuf {
        self.dir.join(&self.sweep.points[i].name)
    }

    /// Makes point `i`'s directory with its `config.toml`, before any of its units runs; a
    /// directory there already (a resumed sweep) must hold the point's config.
    ///
    /// # Errors
    /// A directory that holds another config, or one that cannot be made.
    pub fn start_point(&self, i: usize) -> Result<PathBuf> {
        let dir = self.point_dir(i);
        let config = self.sweep.experiments[i].config().to_toml();
        let path = dir.join("config.toml");
        match fs::read_to_string(&path) {
            Ok(text) if text == config => {}
            Ok(_) => bail!(
                "{} is not {}'s config (did the base config change?); resume with the files \
                 that made the sweep, or choose another --out",
                path.display(),
                self.sweep.points[i].name
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(&dir).map_err(|e| {
                    Failure(anyhow::Error::new(e).context(dir.display().to_string()))
                })?;
                write_file(&path, config.as_bytes()).map_err(Failure)?;
            }
            Err(e) => {
                return Err(
                    Failure(anyhow::Error::new(e).context(path.display().to_string())).into(),
                );
            }
        }
        Ok(dir)
    }

    /// Records how point `i` ended and rewrites `sweep.csv`: for a point whose seeds all
    /// ended (finished, or stopped by the scheduler), its `summary.json` from their seed
    /// summaries, `wall` seconds its wall time (a complete summary already there, from before
    /// a resume, is kept as it is), and its row from it; for a failed point, the summary of
    /// the seeds that finished.
    ///
    /// # Errors
    /// A seed summary that does not read, a file that cannot be written.
    pub fn finish_point(&mut self, i: usize, wall: f64, ended: Ended) -> Result<()> {
        let dir = self.point_dir(i);
        let config = self.sweep.experiments[i].config();
        let metric = &self.sweep.spec.metric;
        self.results[i] = match ended {
            Ended::Finished | Ended::Stopped(_) => {
                let seeds = self.sweep.seeds.len();
                let summary = match Summary::read(&dir).ok().flatten() {
                    Some(s) if s.status == Status::Complete && s.per_seed.len() == seeds => s,
                    _ => {
                        self.run_seconds += wall;
                        runner::summarize(&dir, config, wall, false)?
                    }
                };
                if summary.status != Status::Complete {
                    let left: Vec<String> = summary
                        .unfinished_seeds
                        .iter()
                        .map(u64::to_string)
                        .collect();
                    PointResult::unfinished(PointStatus::Failed(format!(
                        "seeds {} have no seed_summary.json",
                        left.join(", ")
                    )))
                } else {
                    let status = match ended {
                        Ended::Stopped(at) => PointStatus::Stopped(at),
                        _ => PointStatus::Finished,
                    };
                    PointResult::ended(&summary, metric, status)
                }
            }
            Ended::Failed(why) => {
                runner::summarize(&dir, config, wall, true)?;
                PointResult::unfinished(PointStatus::Failed(why))
            }
            Ended::Interrupted => PointResult::unfinished(PointStatus::Interrupted),
        };
        self.write_csv()
    }

    /// Rewrites `sweep.csv` from the results so far.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn write_csv(&self) -> Result<()> {
        let keys = self.sweep.keys();
        write_file(
            &self.dir.join("sweep.csv"),
            table::csv(&self.sweep.points, &keys, &self.results).as_bytes(),
        )
        .map_err(Failure)?;
        Ok(())
    }

    /// The error of a sweep stopped by a signal before every point ran, naming the command
    /// that finishes it; `sweep.csv` is written first.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn interrupted(&self) -> Result<Interrupted> {
        self.write_csv()?;
        let done = self
            .results
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    PointStatus::Finished | PointStatus::Stopped(_) | PointStatus::Failed(_)
                )
            })
            .count();
        Ok(Interrupted {
            signal: self.stop.signal().unwrap_or(0),
            file: self.sweep.spec.file.clone(),
            dir: self.dir.clone(),
            points: self.sweep.total_points(),
            done,
        })
    }

    /// Ends a sweep whose every point has run: removes what units left unfinished in the
    /// point directories, writes `sweep.csv` and `best.toml`, as the local executor does.
    ///
    /// # Errors
    /// A point that has not run; a [`Failure`] naming the points that failed.
    pub fn finish(&self) -> Result<Outcome> {
        let total = self.sweep.total_points();
        if let Some(i) = (0..total).find(|&i| {
            self.results
                .get(i)
                .is_none_or(|r| matches!(r.status, PointStatus::Pending | PointStatus::Interrupted))
        }) {
            bail!(
                "the sweep's driver ended before point {} ran (of {total})",
                crate::sweep::points::name(i, total)
            );
        }
        for i in 0..total {
            unit::clean(&self.point_dir(i))?;
        }
        self.write_csv()?;
        let best = table::best(&self.results, self.sweep.spec.mode);
        if let Some(b) = best {
            write_file(
                &self.dir.join("best.toml"),
                self.sweep.experiments[b].config().to_toml().as_bytes(),
            )
            .map_err(Failure)?;
        }
        let failed: Vec<String> = self
            .sweep
            .points
            .iter()
            .zip(&self.results)
            .filter_map(|(p, r)| match &r.status {
                PointStatus::Failed(why) => Some(format!("{}: {why}", p.name)),
                _ => None,
            })
            .collect();
        if !failed.is_empty() {
            return Err(Failure(anyhow::anyhow!(
                "{} of {total} points failed (see {}):\n{}",
                failed.len(),
                self.dir.join("sweep.csv").display(),
                failed.join("\n")
            ))
            .into());
        }
        Ok(Outcome {
            results: self.results.clone(),
            best,
            run_seconds: self.run_seconds,
        })
    }
}
