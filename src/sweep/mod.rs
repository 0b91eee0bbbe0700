//! Sweeps: one base config run at many points — every combination of a grid, random samples
//! of a search space, or both — each point for all the sweep's seeds, into one directory.
//!
//! - [`spec`]: the sweep file, read and checked, every error at its file, line and key;
//! - [`points`]: the points, in a fixed, documented order, and their names;
//! - [`local`]: the local executor, which runs the points one after another through the
//!   same runner as `qlab train`, and resumes a stopped sweep;
//! - [`table`]: `sweep.csv`, `best.toml` and the printed table.
//!
//! [`Sweep::load`] reads the sweep file and its base config, applies each point to the base
//! config as `--set` overrides and checks every point's experiment before anything runs: a
//! swept key the base config rejects is an error at the sweep file's line.
//!
//! A sweep directory holds `sweep.toml` (the sweep's resolved form, which `--resume` checks),
//! one ordinary run directory per point (`p000/`, `p001/`, …: `qlab plot` and `qlab compare`
//! read them), `sweep.csv` (rewritten after each point) and, once every point has run,
//! `best.toml`.

pub mod driven;
pub mod local;
pub mod points;
pub mod spec;
pub mod table;
pub mod unit;

use std::path::PathBuf;

use anyhow::Result;

use crate::config::Config;
use crate::runner::Experiment;
use crate::runner::stop::signal_name;
pub use local::{LocalOptions, Outcome};
pub use points::Point;
pub use spec::{Distribution, Method, Mode, Scheduler, Search, SweepSpec};
pub use table::{MetricStats, PointResult, PointStatus};
pub use unit::Unit;

/// A sweep file with its points, each point's experiment checked.
pub struct Sweep {
    /// The sweep file.
    pub spec: SweepSpec,
    /// The seeds every point runs.
    pub seeds: Vec<u64>,
    /// The points known before anything runs, grid points first, then random trials. A `tpe`
    /// search's trials are not among them: each is drawn once the trials before it have run
    /// (see [`Sweep::trial`]).
    pub points: Vec<Point>,
    /// How many of `points` come from `[grid]` (the rest from `[search]`).
    pub grid_points: usize,
    /// `experiments[i]` is `points[i]`'s: the base config with the point's overrides and the
    /// sweep's seeds.
    pub experiments: Vec<Experiment>,
    /// What the experiments warn about, each once.
    pub warnings: Vec<String>,
    /// The base config's file as named, and its text, which each point overrides.
    base: (String, String),
}

impl Sweep {
    /// Reads the sweep file at `path` and its base config, and checks every point. A `tpe`
    /// search's trials are checked as random trials of the same space stand in for them:
    /// every value of a distribution's range must be one the base config takes.
    ///
    /// # Errors
    /// A [`ConfigError`](crate::config::ConfigError) naming the file, the line and the key: in
    /// the sweep file, in the base config, or a swept value the base config rejects (named at
    /// the sweep file's line, with the base config's reason).
    pub fn load(path: &str) -> Result<Sweep> {
        let spec = SweepSpec::load(path)?;
        let base_file = spec.base_path.display().to_string();
        let base_text = std::fs::read_to_string(&spec.base_path)
            .map_err(|e| spec.error(&["base"], format!("`base`: cannot read {base_file}: {e}")))?;
        let base = Config::parse(&base_file, &base_text, &[])?;
        let seeds = spec
            .seeds
            .clone()
            .unwrap_or_else(|| base.train.seeds.clone());
        let mut points = points::points(&spec);
        let grid_points = points::grid(&spec.grid).len();
        let mut sweep = Sweep {
            spec,
            seeds,
            points: Vec::new(),
            grid_points,
            experiments: Vec::with_capacity(points.len()),
            warnings: Vec::new(),
            base: (base_file, base_text),
        };
        for (i, point) in points.iter().enumerate() {
            let exp = sweep.experiment(point, i >= grid_points)?;
            for w in exp.warnings() {
                if !sweep.warnings.contains(w) {
                    sweep.warnings.push(w.clone());
                }
            }
            sweep.experiments.push(exp);
        }
        if sweep.method() == Some(Method::Tpe) {
            points.truncate(grid_points);
            sweep.experiments.truncate(grid_points);
        }
        sweep.points = points;
        Ok(sweep)
    }

    /// `point`'s experiment: the base config with the point's overrides and the sweep's
    /// seeds, checked; `searched` says whether the point comes from `[search]` (else from
    /// `[grid]`), for where an error points.
    fn experiment(&self, point: &Point, searched: bool) -> Result<Experiment> {
        let (base_file, base_text) = &self.base;
        let table = if searched { "search" } else { "grid" };
        let exp = Config::parse(base_file, base_text, &point.sets())
            .and_then(|mut config| {
                config.set_seeds(self.seeds.clone());
                Experiment::new(config)
            })
            .map_err(|e| at_swept_key(&self.spec, point, table, e))?;
        if self.spec.metric == "best_eval_mean_return" && !exp.config().train.keep_best {
            return Err(self
                .spec
                .error(
                    &["metric"],
                    format!(
                        "`metric`: best_eval_mean_return is written only with [train] \
                         keep_best = true, which {}'s config leaves off",
                        point.name
                    ),
                )
                .into());
        }
        Ok(exp)
    }

    /// `[search] method`, if the sweep has a `[search]`.
    pub fn method(&self) -> Option<Method> {
        self.spec.search.as_ref().map(|s| s.method)
    }

    /// How many points the sweep runs: its grid points and every trial of its search.
    pub fn total_points(&self) -> usize {
        self.grid_points + self.spec.search.as_ref().map_or(0, |s| s.trials)
    }

    /// The point a `tpe` search drew as its trial `trial` (from 0): its name follows the
    /// grid points', and `values` are its swept keys' values in the order of
    /// `[search.space]`, each checked against its distribution and the point's experiment
    /// against the base config.
    ///
    /// # Errors
    /// A trial past `[search] trials`, a value outside its distribution, or a config the base
    /// config's checks refuse.
    pub fn trial(&self, trial: usize, values: Vec<toml::Value>) -> Result<(Point, Experiment)> {
        let Some(search) = self.spec.search.as_ref() else {
            anyhow::bail!("{}: the sweep has no [search]", self.spec.file);
        };
        if trial >= search.trials {
            anyhow::bail!(
                "trial {trial} is past the sweep's {} trials (`[search] trials`)",
                search.trials
            );
        }
        if values.len() != search.space.len() {
            anyhow::bail!(
                "trial {trial}: {} values for the {} keys of [search.space]",
                values.len(),
                search.space.len()
            );
        }
        for ((key, d), v) in search.space.iter().zip(&values) {
            if !d.contains(v) {
                anyhow::bail!(
                    "trial {trial}: `{key}` = {v} is outside its distribution {}",
                    d.to_toml()
                );
            }
        }
        let point = Point {
            name: points::name(self.grid_points + trial, self.total_points()),
            params: search
                .space
                .iter()
                .zip(values)
                .flat_map(|((k, _), v)| points::expand(k, v))
                .collect(),
        };
        let exp = self.experiment(&point, true)?;
        Ok((point, exp))
    }

    /// The sweep's resolved form, the sweep directory's `sweep.toml`: the sweep file with
    /// every default filled in, then every point's name and values, so that `--resume` can
    /// tell a directory of another sweep.
    pub fn to_toml(&self) -> String {
        let mut out = self.spec.to_toml(&self.seeds);
        for p in &self.points {
            out.push_str(&format!("\n[[points]]\nname = \"{}\"\n", p.name));
            for (k, v) in &p.params {
                out.push_str(&format!("{} = {v}\n", toml::Value::String(k.clone())));
            }
        }
        out
    }

    /// The swept keys, the columns of `sweep.csv`.
    pub fn keys(&self) -> Vec<String> {
        points::keys(&self.points)
    }
}

/// An error of the point's config that an override caused, put at the sweep file's line of
/// that key: `SWEEP:LINE: [grid] `KEY` = VALUE: <the base config's reason>`. Other errors
/// (of the base config itself) are left as they are.
fn at_swept_key(spec: &SweepSpec, point: &Point, table: &str, e: anyhow::Error) -> anyhow::Error {
    let message = format!("{e:#}");
    for (key, value) in &point.params {
        if let Some(reason) = message.strip_prefix(&format!("--set {key}={value}: ")) {
            // A key drawn under a joint key is written there.
            let joint = spec
                .search
                .iter()
                .flat_map(|s| &s.space)
                .find_map(|(k, _)| k.split(',').any(|part| part == key).then_some(k.as_str()));
            let path: Vec<&str> = match table {
                "grid" => vec!["grid", key],
                _ => vec!["search", "space", joint.unwrap_or(key)],
            };
            return spec
                .error(
                    &path,
                    format!("`{key}` = {value} ({}): {reason}", point.name),
                )
                .into();
        }
    }
    e
}

/// A sweep stopped by a signal before every point ran: the point in flight stopped with its
/// checkpoints, `sweep.csv` says where each point stands, and the message names the command
/// that finishes the sweep. `qlab` exits with [`Interrupted::exit_code`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interrupted {
    /// The signal that asked for the stop.
    pub signal: i32,
    /// The sweep file as named.
    pub file: String,
    /// The sweep directory.
    pub dir: PathBuf,
    /// The sweep's points.
    pub points: usize,
    /// Points that have run (finished or failed).
    pub done: usize,
}

impl Interrupted {
    /// 128 + the signal's number, as a shell reports a process it killed.
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal.clamp(0, 127)).unwrap_or(u8::MAX)
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quote = |s: &str| {
            let plain = |c: char| c.is_ascii_alphanumeric() || "_-./+=:,@%".contains(c);
            if !s.is_empty() && s.chars().all(plain) {
                s.to_string()
            } else {
                format!("'{}'", s.replace('\'', r"'\''"))
            }
        };
        write!(
            f,
            "interrupted by {}: {} of {} points run\nto finish it: qlab sweep {} --out {} --resume",
            signal_name(self.signal),
            self.done,
            self.points,
            quote(&self.file),
            quote(&self.dir.display().to_string())
        )
    }
}

impl std::error::Error for Interrupted {}
