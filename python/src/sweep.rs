//! Sweeps from Python: the `qlab sweep` command's driver for what only the package runs
//! (`--executor ray`, `method = "tpe"`, `[stop]`), and the crossing it schedules through.
//!
//! Planning, running and the tables stay in Rust, in `qlab::sweep`: the Python side
//! (`qlab/sweep.py`) only decides what runs where and when.
//!
//! - [`CoreSweep`]: a sweep directory being filled ([`Session`]): its points, each point's
//!   directory and config, how a point ended, `sweep.csv`;
//! - [`sweep_unit`]: one (point, seed) unit ([`Unit`]), run in this process — on a thread of
//!   the driver's, or in a Ray worker on any node;
//! - [`PyDriver`]: the [`Driver`] the `qlab` command is given, which hands the session to
//!   `qlab.sweep.drive`.

use std::path::PathBuf;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use qlab::cmd::sweep::{Driver, SweepArgs};
use qlab::config::Budget;
use qlab::runner::{Pause, Stop};
use qlab::sweep::driven::{Ended, Session};
use qlab::sweep::unit::UnitStatus;
use qlab::sweep::{Distribution, Method, Sweep, Unit};

use crate::error::run_error;

/// A stop request shared with the sweep's units on other threads: set by the signals that
/// stop `qlab sweep`.
#[pyclass(module = "qlab._core")]
#[derive(Clone)]
pub struct CoreStop(Stop);

#[pymethods]
impl CoreStop {
    /// Whether a stop has been requested.
    fn requested(&self) -> bool {
        self.0.requested()
    }
}

/// A sweep directory being filled by the package's driver (`qlab.sweep`): one per
/// `qlab sweep` command, made by the command and handed to the driver.
#[pyclass(module = "qlab._core", unsendable)]
pub struct CoreSweep {
    session: Option<Session>,
}

impl CoreSweep {
    fn session(&self) -> PyResult<&Session> {
        self.session
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the sweep has ended"))
    }

    fn session_mut(&mut self) -> PyResult<&mut Session> {
        self.session
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("the sweep has ended"))
    }

    /// Point `i`, checked to exist.
    fn point(&self, i: usize) -> PyResult<&Session> {
        let s = self.session()?;
        if i >= s.sweep.points.len() {
            return Err(PyValueError::new_err(format!(
                "point {i}: the sweep has {} points so far",
                s.sweep.points.len()
            )));
        }
        Ok(s)
    }
}

#[pymethods]
impl CoreSweep {
    /// The sweep directory.
    #[getter]
    fn dir(&self) -> PyResult<String> {
        Ok(self.session()?.dir.display().to_string())
    }

    /// The seeds every point runs.
    #[getter]
    fn seeds(&self) -> PyResult<Vec<u64>> {
        Ok(self.session()?.sweep.seeds.clone())
    }

    /// `"max"` or `"min"`.
    #[getter]
    fn mode(&self) -> PyResult<&'static str> {
        Ok(self.session()?.sweep.spec.mode.name())
    }

    /// `[search] method` (`"random"`, `"tpe"`), or `None` without `[search]`.
    #[getter]
    fn method(&self) -> PyResult<Option<&'static str>> {
        Ok(self.session()?.sweep.method().map(Method::name))
    }

    /// `[search] seed` (0 without `[search]`).
    #[getter]
    fn search_seed(&self) -> PyResult<u64> {
        Ok(self
            .session()?
            .sweep
            .spec
            .search
            .as_ref()
            .map_or(0, |s| s.seed))
    }

    /// `[stop] scheduler` (`"asha"`, `"median"`), or `None`.
    #[getter]
    fn scheduler(&self) -> PyResult<Option<&'static str>> {
        Ok(self.session()?.sweep.spec.stop.map(|s| s.name()))
    }

    /// How many points the sweep runs, `tpe` trials included.
    #[getter]
    fn total_points(&self) -> PyResult<usize> {
        Ok(self.session()?.sweep.total_points())
    }

    /// How many points there are so far: those known before anything ran (grid points, random
    /// trials), then each `tpe` trial added.
    #[getter]
    fn points(&self) -> PyResult<usize> {
        Ok(self.session()?.sweep.points.len())
    }

    /// `[search.space]` for `tpe`: `(key, kind, args)` per key in the order written; `kind`
    /// is `uniform` and `loguniform` (`args` = `[lo, hi]`), `int` (`[lo, hi]`), or `choice`
    /// (`args` = `[n]`, the number of choices: a trial gives a choice's index).
    #[getter]
    fn space(&self) -> PyResult<Vec<(String, &'static str, Vec<f64>)>> {
        let s = self.session()?;
        let Some(search) = &s.sweep.spec.search else {
            return Ok(Vec::new());
        };
        Ok(search
            .space
            .iter()
            .map(|(key, d)| {
                let (kind, args) = match d {
                    Distribution::Uniform(lo, hi) => ("uniform", vec![*lo, *hi]),
                    Distribution::LogUniform(lo, hi) => ("loguniform", vec![*lo, *hi]),
                    Distribution::Int(lo, hi) => ("int", vec![*lo as f64, *hi as f64]),
                    Distribution::Choice(v) => ("choice", vec![v.len() as f64]),
                };
                (key.clone(), kind, args)
            })
            .collect())
    }

    /// Point `i`'s name.
    fn name(&self, i: usize) -> PyResult<String> {
        Ok(self.point(i)?.sweep.points[i].name.clone())
    }

    /// Point `i`'s swept keys and their values (TOML text), for messages.
    fn params(&self, i: usize) -> PyResult<Vec<String>> {
        Ok(self.point(i)?.sweep.points[i].sets())
    }

    /// Point `i`'s evaluation schedule: `(unit, every, budget)`, `unit` `"steps"` or
    /// `"episodes"`, evaluations every `every` of them (0: only the final one) up to
    /// `budget`.
    fn schedule(&self, i: usize) -> PyResult<(&'static str, u64, u64)> {
        let train = &self.point(i)?.sweep.experiments[i].config().train;
        let (unit, budget) = match train.budget {
            Budget::Steps(n) => ("steps", n),
            Budget::Episodes(n) => ("episodes", n),
        };
        Ok((unit, train.eval_every, budget))
    }

    /// Adds the `tpe` search's trial `trial` as the next point, from its values in the order
    /// of `[search.space]` (a float, an integer, or a choice's index); returns its index.
    fn add_trial(&mut self, trial: usize, values: Vec<&PyAny>) -> PyResult<usize> {
        let session = self.session_mut()?;
        let space = session
            .sweep
            .spec
            .search
            .as_ref()
            .map(|s| s.space.clone())
            .unwrap_or_default();
        if values.len() != space.len() {
            return Err(PyValueError::new_err(format!(
                "trial {trial}: {} values for the {} keys of [search.space]",
                values.len(),
                space.len()
            )));
        }
        let mut toml_values = Vec::with_capacity(values.len());
        for ((key, d), v) in space.iter().zip(values) {
            let value = match d {
                Distribution::Uniform(..) | Distribution::LogUniform(..) => {
                    toml::Value::Float(v.extract()?)
                }
                Distribution::Int(..) => toml::Value::Integer(v.extract()?),
                Distribution::Choice(choices) => {
                    let k: usize = v.extract()?;
                    choices.get(k).cloned().ok_or_else(|| {
                        PyValueError::new_err(format!(
                            "trial {trial}: `{key}`: choice {k} of {}",
                            choices.len()
                        ))
                    })?
                }
            };
            toml_values.push(value);
        }
        session
            .add_trial(trial, toml_values)
            .map_err(|e| run_error(&e))
    }

    /// Makes point `i`'s directory and `config.toml` (or checks them, resumed); returns the
    /// directory.
    fn start_point(&self, i: usize) -> PyResult<String> {
        let dir = self.point(i)?.start_point(i).map_err(|e| run_error(&e))?;
        Ok(dir.display().to_string())
    }

    /// Records how point `i` ended — `"finished"`, `"stopped"` (after the evaluation at
    /// `at`), `"failed"` (`why`) or `"interrupted"` — after `wall` seconds, and rewrites
    /// sweep.csv; returns the metric's mean over its seeds (`None` unless it finished or
    /// stopped).
    #[pyo3(signature = (i, ended, wall, at=0, why=String::new()))]
    fn finish_point(
        &mut self,
        i: usize,
        ended: &str,
        wall: f64,
        at: u64,
        why: String,
    ) -> PyResult<Option<f64>> {
        let ended = match ended {
            "finished" => Ended::Finished,
            "stopped" => Ended::Stopped(at),
            "failed" => Ended::Failed(why.lines().collect::<Vec<_>>().join("; ")),
            "interrupted" => Ended::Interrupted,
            other => {
                return Err(PyValueError::new_err(format!(
                    "ended must be finished, stopped, failed or interrupted, got {other:?}"
                )));
            }
        };
        self.point(i)?;
        let session = self.session_mut()?;
        session
            .finish_point(i, wall, ended)
            .map_err(|e| run_error(&e))?;
        Ok(session.results[i].stats.map(|s| s.mean))
    }

    /// Point `i`'s status as `sweep.csv` gives it.
    fn status(&self, i: usize) -> PyResult<String> {
        Ok(self.point(i)?.results[i].status.to_string())
    }

    /// The stop request the signals set, to hand to units on other threads.
    fn stop_token(&self) -> PyResult<CoreStop> {
        Ok(CoreStop(self.session()?.stop.clone()))
    }

    /// Whether a signal asked the sweep to stop.
    fn stop_requested(&self) -> PyResult<bool> {
        Ok(self.session()?.stop.requested())
    }

    /// Asks the sweep to stop as the signal numbered `signal` does, printing on stderr what
    /// happens next, as the command's own handlers do (for a handler the driver installs in
    /// place of one a library replaced); returns whether a stop had been asked already (a
    /// second signal, which should end the process at once).
    fn request_stop(&self, signal: i32) -> PyResult<bool> {
        let stop = &self.session()?.stop;
        if stop.requested() {
            return Ok(true);
        }
        stop.request(signal);
        eprintln!("\n{}", qlab::runner::stop::notice(signal));
        Ok(false)
    }
}

/// Runs one unit — seed `seed` of the point in `point_dir` — in this process, as
/// `qlab::sweep::unit` says: `pause_after` pauses it after the evaluation there (a
/// `[stop]` scheduler's piece), `end_here` ends it at its checkpoint; `stop` stops it at the
/// next episode end. Returns JSON: `{"status": "finished" | "paused" | "interrupted",
/// "summary": the seed's summary or null, "evals": [[x, mean_return], …], "pid": …}`.
///
/// The GIL is released while it runs.
#[pyfunction]
#[pyo3(signature = (point_dir, seed, pause_after=None, end_here=false, stop=None))]
pub fn sweep_unit(
    py: Python<'_>,
    point_dir: PathBuf,
    seed: u64,
    pause_after: Option<u64>,
    end_here: bool,
    stop: Option<CoreStop>,
) -> PyResult<String> {
    let pause = match (pause_after, end_here) {
        (Some(_), true) => {
            return Err(PyValueError::new_err(
                "pause_after and end_here exclude each other",
            ));
        }
        (Some(x), false) => Some(Pause::After(x)),
        (None, true) => Some(Pause::Here),
        (None, false) => None,
    };
    let stop = stop.map_or_else(Stop::new, |s| s.0);
    let unit = Unit {
        point_dir: &point_dir,
        seed,
        pause,
    };
    let outcome = py
        .allow_threads(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unit.run(&stop)))
        })
        .map_err(|_| {
            PyRuntimeError::new_err(
                "internal error (a bug in qlab, please report it): a sweep unit panicked",
            )
        })?
        .map_err(|e| run_error(&e))?;
    let (status, summary) = match outcome.status {
        UnitStatus::Finished(s) => ("finished", Some(s)),
        UnitStatus::Paused => ("paused", None),
        UnitStatus::Interrupted => ("interrupted", None),
    };
    let json = serde_json::json!({
        "status": status,
        "summary": summary,
        "evals": outcome.evals,
        "pid": std::process::id(),
    });
    Ok(json.to_string())
}

/// The driver of the package's `qlab` command: hands the session to `qlab.sweep.drive`.
pub struct PyDriver;

/// The command line's options as `qlab.sweep` takes them.
fn options<'py>(py: Python<'py>, args: &SweepArgs) -> PyResult<&'py PyDict> {
    let options = PyDict::new(py);
    options.set_item("executor", args.executor.name())?;
    options.set_item("address", args.address.clone())?;
    options.set_item("threads", args.threads)?;
    options.set_item("quiet", args.quiet)?;
    Ok(options)
}

/// A Python exception as the command's error: a `ValueError` is the sweep's input at fault (a
/// config, an address, a missing package), anything else failed while running.
fn command_error(py: Python<'_>, e: &PyErr) -> anyhow::Error {
    let message = e
        .value(py)
        .str()
        .map_or_else(|_| "?".to_string(), |s| s.to_string());
    if e.is_instance_of::<PyValueError>(py) {
        return anyhow::anyhow!("{message}");
    }
    let kind = e
        .get_type(py)
        .name()
        .map_or_else(|_| "error".to_string(), str::to_string);
    qlab::runner::Failure(anyhow::anyhow!("{kind}: {message}")).into()
}

impl Driver for PyDriver {
    fn check(&self, sweep: &Sweep, args: &SweepArgs) -> anyhow::Result<()> {
        let tune = sweep.method() == Some(Method::Tpe) || sweep.spec.stop.is_some();
        Python::with_gil(|py| {
            py.import("qlab.sweep")
                .and_then(|m| m.getattr("check"))
                .and_then(|f| f.call1((options(py, args)?, tune)))
                .map(|_| ())
                .map_err(|e| command_error(py, &e))
        })
    }

    fn drive(&self, session: Session, args: &SweepArgs) -> anyhow::Result<Session> {
        Python::with_gil(|py| {
            let core = Py::new(
                py,
                CoreSweep {
                    session: Some(session),
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let options = options(py, args).map_err(|e| command_error(py, &e))?;
            py.import("qlab.sweep")
                .and_then(|m| m.getattr("drive"))
                .and_then(|f| f.call1((core.clone_ref(py), options)))
                .map_err(|e| command_error(py, &e))?;
            let session = core.borrow_mut(py).session.take();
            session.ok_or_else(|| anyhow::anyhow!("the sweep's session went missing"))
        })
    }
}
