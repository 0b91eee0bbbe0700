//! The sweep file: what to sweep over a base config, read whole and checked before anything
//! runs, every error one line at the file, line and key.
//!
//! ```toml
//! base = "../configs/cliffwalking_sarsa.toml"   # relative to the sweep file
//! seeds = "0..10"                   # every point runs all these seeds (default: the base's)
//! metric = "final_eval_mean_return" # a per-seed key of summary.json (the default)
//! mode = "max"                      # "max" (the default) or "min"
//!
//! [grid]                            # every combination, keys in `--set` form
//! "agent.alpha" = [0.1, 0.3, 0.5]
//! "agent.epsilon" = [0.05, 0.1]
//!
//! [search]                          # sampled points, beside or instead of [grid]
//! method = "random"                 # "random" or "tpe"
//! trials = 20
//! seed = 0                          # the default
//!
//! [search.space]
//! "agent.alpha" = { loguniform = [0.01, 1.0] }
//! "agent.lambda" = { choice = [0.0, 0.5, 0.9] }
//!
//! [stop]                            # optional: stop hopeless points early
//! scheduler = "asha"                # or "median"
//! ```
//!
//! | key | default | valid |
//! |---|---|---|
//! | `base` | required | a config file, relative to the sweep file |
//! | `seeds` | the base config's | `"A..B"`, `"A,B,C"`, an integer, or a list of integers ≥ 0 |
//! | `metric` | `final_eval_mean_return` | one of [`METRICS`] |
//! | `mode` | `max` | `max` or `min` |
//! | `[grid]` | none | `"SECTION.KEY" = [values…]`, each list non-empty |
//! | `[search] method` | required | `random`, `tpe` |
//! | `[search] trials` | required | 1 to [`MAX_POINTS`] |
//! | `[search] seed` | 0 | an integer ≥ 0 |
//! | `[search.space]` | required | `"SECTION.KEY" = { DIST = … }`, or a joint key `"SECTION.KEY,SECTION.KEY" = { choice = [[…], …] }`; see [`Distribution`] |
//! | `[stop] scheduler` | required | `asha`, `median` |
//!
//! A sweep needs `[grid]`, `[search]` or both. `tpe` and `[stop]` are read and checked here,
//! but only the Python package's executor runs them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use toml::de::{DeTable, DeValue};

use crate::config::source::{line_of, parse_spanned};
use crate::config::{ConfigError, parse_seeds};

/// The per-seed keys of `summary.json` a sweep may rank its points by (timings are left out:
/// they differ from run to run).
pub const METRICS: [&str; 8] = [
    "final_eval_mean_return",
    "final_eval_std_return",
    "final_window_mean_return",
    "best_window_mean_return",
    "best_eval_mean_return",
    "episodes",
    "steps",
    "stopped_at_step",
];

/// The most points one sweep takes (grid combinations and search trials each): past this,
/// a sweep is a mistake rather than an experiment.
pub const MAX_POINTS: usize = 100_000;

/// Whether the best point has the highest metric or the lowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The highest mean over seeds is best (returns).
    Max,
    /// The lowest mean over seeds is best (losses, steps to solve).
    Min,
}

impl Mode {
    /// `"max"` or `"min"`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Max => "max",
            Mode::Min => "min",
        }
    }

    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Mode::Max => a > b,
            Mode::Min => a < b,
        }
    }
}

/// How `[search]` picks its trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Each trial drawn independently from the space (see [`super::points`]).
    Random,
    /// Optuna's tree-structured Parzen estimator: trials depend on earlier results, so only
    /// the Python package's executor runs it.
    Tpe,
}

impl Method {
    /// `"random"` or `"tpe"`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Random => "random",
            Method::Tpe => "tpe",
        }
    }
}

/// A distribution of `[search.space]`, written as an inline table of one key.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// `{ uniform = [lo, hi] }`: a float uniform in `[lo, hi)`; `lo < hi`, both finite.
    Uniform(f64, f64),
    /// `{ loguniform = [lo, hi] }`: a float whose logarithm is uniform; `0 < lo < hi`.
    LogUniform(f64, f64),
    /// `{ int = [lo, hi] }`: an integer uniform in `lo..=hi`; `lo ≤ hi`.
    Int(i64, i64),
    /// `{ choice = [a, b, …] }`: one of the values, each as likely; non-empty. A value may be
    /// a table (`{ torso = { type = "mlp", hidden = [64] } }`), which replaces the key's
    /// whole table.
    ///
    /// Under a joint key, `"SECTION.KEY,SECTION.KEY" = { choice = [[a1, b1], [a2, b2]] }`,
    /// each choice is a list of one value per key, drawn together: for keys that depend on
    /// each other, such as a DQN's `train_freq` and `gradient_steps`. A choice may be listed
    /// more than once, to weigh it.
    Choice(Vec<toml::Value>),
}

impl Distribution {
    /// The names of the distributions, as written.
    pub const NAMES: [&'static str; 4] = ["uniform", "loguniform", "int", "choice"];

    /// Whether `v` is a value of the distribution's range: a float in `[lo, hi]` (closed, as
    /// Optuna's distributions are, which `tpe` draws from), an integer in `lo..=hi`, or one of
    /// the choices.
    pub fn contains(&self, v: &toml::Value) -> bool {
        match (self, v) {
            (
                Distribution::Uniform(lo, hi) | Distribution::LogUniform(lo, hi),
                toml::Value::Float(x),
            ) => lo <= x && x <= hi,
            (Distribution::Int(lo, hi), toml::Value::Integer(i)) => lo <= i && i <= hi,
            (Distribution::Choice(values), v) => values.contains(v),
            _ => false,
        }
    }

    /// The distribution as its inline table in the sweep file.
    pub fn to_toml(&self) -> String {
        let pair =
            |name: &str, a: toml::Value, b: toml::Value| format!("{{ {name} = [{a}, {b}] }}");
        match self {
            Distribution::Uniform(lo, hi) => pair("uniform", (*lo).into(), (*hi).into()),
            Distribution::LogUniform(lo, hi) => pair("loguniform", (*lo).into(), (*hi).into()),
            Distribution::Int(lo, hi) => pair("int", (*lo).into(), (*hi).into()),
            Distribution::Choice(values) => {
                format!("{{ choice = {} }}", toml::Value::Array(values.clone()))
            }
        }
    }
}

/// `[search]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// How trials are picked.
    pub method: Method,
    /// How many trials.
    pub trials: usize,
    /// The seed the trials are drawn from.
    pub seed: u64,
    /// Each swept key and its distribution, in the order written.
    pub space: Vec<(String, Distribution)>,
}

/// `[stop]`'s early-stopping schedulers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduler {
    /// Asynchronous successive halving.
    Asha,
    /// Stop a point whose evaluation falls below the median of the others' at the same step.
    Median,
}

impl Scheduler {
    /// `"asha"` or `"median"`.
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Asha => "asha",
            Scheduler::Median => "median",
        }
    }
}

/// A sweep file, read and checked (the base config is read and the points checked against it
/// by [`super::Sweep::load`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// The sweep file as named (for messages).
    pub file: String,
    /// `base` as written.
    pub base: String,
    /// `base` relative to the sweep file's directory.
    pub base_path: PathBuf,
    /// `seeds`, if given (else the base config's).
    pub seeds: Option<Vec<u64>>,
    /// `metric`.
    pub metric: String,
    /// `mode`.
    pub mode: Mode,
    /// `[grid]`: each key and its values, in the order written.
    pub grid: Vec<(String, Vec<toml::Value>)>,
    /// `[search]`.
    pub search: Option<Search>,
    /// `[stop]`.
    pub stop: Option<Scheduler>,
    /// Where each key was written, for errors found later.
    lines: Vec<(Vec<String>, usize)>,
}

/// The keys each table of a sweep file takes.
const TOP: [&str; 7] = ["base", "seeds", "metric", "mode", "grid", "search", "stop"];
const SEARCH: [&str; 4] = ["method", "trials", "seed", "space"];
const STOP: [&str; 1] = ["scheduler"];

/// Every key path of `table` with the line it was written on, each table's keys in the order
/// written, depth first.
fn collect_lines(
    text: &str,
    table: &DeTable<'_>,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) {
    let mut keys: Vec<_> = table.iter().collect();
    keys.sort_by_key(|(k, _)| k.span().start);
    for (key, value) in keys {
        let mut path = prefix.to_vec();
        path.push(key.get_ref().to_string());
        out.push((
            path.clone(),
            line_of(text, key.span().start.min(value.span().start)),
        ));
        if let DeValue::Table(inner) = value.get_ref() {
            collect_lines(text, inner, &path, out);
        }
    }
}

impl SweepSpec {
    /// Reads the sweep file at `path`.
    ///
    /// # Errors
    /// A file that cannot be read, or any [`parse`](SweepSpec::parse) error.
    pub fn load(path: &str) -> Result<SweepSpec> {
        let text = std::fs::read_to_string(path).with_context(|| path.to_string())?;
        Ok(SweepSpec::parse(path, &text)?)
    }

    /// Reads a sweep file's `text`; `file` names it in errors and places `base`.
    ///
    /// # Errors
    /// One line naming the file, the line and the key: TOML syntax, an unknown key, a missing
    /// or ill-typed value, an empty grid or grid list, a bad distribution, a swept key not in
    /// `SECTION.KEY` form.
    pub fn parse(file: &str, text: &str) -> std::result::Result<SweepSpec, ConfigError> {
        let (spans, values) = parse_spanned(file, text)?;
        let mut lines = Vec::new();
        collect_lines(text, spans.get_ref(), &[], &mut lines);
        let mut spec = SweepSpec {
            file: file.to_string(),
            base: String::new(),
            base_path: PathBuf::new(),
            seeds: None,
            metric: METRICS[0].to_string(),
            mode: Mode::Max,
            grid: Vec::new(),
            search: None,
            stop: None,
            lines,
        };
        spec.read(&values)?;
        Ok(spec)
    }

    /// The line `path` (a key, or a table's name) was written on, if it was.
    pub fn line(&self, path: &[&str]) -> Option<usize> {
        self.lines
            .iter()
            .find(|(p, _)| p.len() == path.len() && p.iter().zip(path).all(|(a, b)| a == b))
            .map(|&(_, l)| l)
    }

    /// An error about the key at `path` (`[]`: the file as a whole): `FILE:LINE: [TABLE]
    /// message`, the table left out for a top-level key.
    pub fn error(&self, path: &[&str], message: impl std::fmt::Display) -> ConfigError {
        // The nearest written key on the path: a missing key points at its table.
        let line = (1..=path.len()).rev().find_map(|n| self.line(&path[..n]));
        let place = match line {
            Some(l) => format!("{}:{l}", self.file),
            None => self.file.clone(),
        };
        let table = match path.len() {
            0 | 1 => String::new(),
            n => format!("[{}] ", path[..n - 1].join(".")),
        };
        ConfigError(format!("{place}: {table}{message}"))
    }

    /// The keys in the order written that `table` (a path) holds.
    fn keys_of(&self, table: &[&str]) -> Vec<String> {
        self.lines
            .iter()
            .filter(|(p, _)| p.len() == table.len() + 1 && p.iter().zip(table).all(|(a, b)| a == b))
            .map(|(p, _)| p[table.len()].clone())
            .collect()
    }

    fn unknown_keys(
        &self,
        table: &[&str],
        allowed: &[&str],
    ) -> std::result::Result<(), ConfigError> {
        for key in self.keys_of(table) {
            if !allowed.contains(&key.as_str()) {
                let mut path = table.to_vec();
                path.push(&key);
                return Err(self.error(
                    &path,
                    format!("unknown key `{key}`; allowed: {}", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    fn read(&mut self, values: &toml::Table) -> std::result::Result<(), ConfigError> {
        self.unknown_keys(&[], &TOP)?;
        let got = |v: &toml::Value| crate::float::shorten_long_numbers(&v.to_string());
        // base
        match values.get("base") {
            Some(toml::Value::String(s)) if !s.is_empty() => {
                self.base = s.clone();
                let dir = Path::new(&self.file).parent().unwrap_or(Path::new(""));
                self.base_path = dir.join(s);
            }
            Some(v) => {
                return Err(self.error(
                    &["base"],
                    format!("`base` must be a config file's path, got {}", got(v)),
                ));
            }
            None => {
                return Err(self.error(&[], "missing key `base`: the config the sweep overrides, relative to the sweep file"));
            }
        }
        // seeds
        if let Some(v) = values.get("seeds") {
            let text = match v {
                toml::Value::String(s) => Some(s.clone()),
                toml::Value::Integer(i) => Some(i.to_string()),
                toml::Value::Array(items) if !items.is_empty() => items
                    .iter()
                    .map(|i| i.as_integer().map(|i| i.to_string()))
                    .collect::<Option<Vec<_>>>()
                    .map(|l| l.join(",")),
                _ => None,
            };
            let text = text.ok_or_else(|| {
                self.error(&["seeds"], format!("`seeds` must be text like \"0..10\" or a non-empty list of integers ≥ 0, got {}", got(v)))
            })?;
            let seeds =
                parse_seeds(&text).map_err(|e| self.error(&["seeds"], format!("`seeds`: {e}")))?;
            self.seeds = Some(seeds);
        }
        // metric
        if let Some(v) = values.get("metric") {
            match v.as_str() {
                Some(m) if METRICS.contains(&m) => self.metric = m.to_string(),
                _ => {
                    return Err(self.error(
                        &["metric"],
                        format!(
                            "`metric` must be one of {}, got {}",
                            METRICS.join(", "),
                            got(v)
                        ),
                    ));
                }
            }
        }
        // mode
        if let Some(v) = values.get("mode") {
            self.mode = match v.as_str() {
                Some("max") => Mode::Max,
                Some("min") => Mode::Min,
                _ => {
                    return Err(self.error(
                        &["mode"],
                        format!("`mode` must be \"max\" or \"min\", got {}", got(v)),
                    ));
                }
            };
        }
        // [grid]
        if let Some(v) = values.get("grid") {
            let toml::Value::Table(table) = v else {
                return Err(self.error(
                    &["grid"],
                    format!(
                        "`grid` must be a table of `\"SECTION.KEY\" = [values…]`, got {}",
                        got(v)
                    ),
                ));
            };
            let keys = self.keys_of(&["grid"]);
            if keys.is_empty() {
                return Err(self.error(&["grid"], "[grid] is empty: give at least one `\"SECTION.KEY\" = [values…]`, or leave [grid] out"));
            }
            let mut size = 1usize;
            for key in keys {
                let path = ["grid", key.as_str()];
                self.swept_key(&path)?;
                let list = match &table[&key] {
                    toml::Value::Array(items)
                        if !items.is_empty() && items.iter().all(|i| !i.is_table()) =>
                    {
                        items.clone()
                    }
                    other => {
                        return Err(self.error(
                            &path,
                            format!(
                                "`{key}` must be a non-empty list of values, got {}",
                                got(other)
                            ),
                        ));
                    }
                };
                size = size.saturating_mul(list.len());
                if size > MAX_POINTS {
                    return Err(self.error(&path, format!("the grid has more than {MAX_POINTS} points; a sweep takes at most {MAX_POINTS}")));
                }
                self.grid.push((key, list));
            }
        }
        // [search]
        if let Some(v) = values.get("search") {
            let toml::Value::Table(table) = v else {
                return Err(self.error(
                    &["search"],
                    format!("`search` must be a table, got {}", got(v)),
                ));
            };
            self.search = Some(self.read_search(table)?);
        }
        // [stop]
        if let Some(v) = values.get("stop") {
            let toml::Value::Table(table) = v else {
                return Err(
                    self.error(&["stop"], format!("`stop` must be a table, got {}", got(v)))
                );
            };
            self.unknown_keys(&["stop"], &STOP)?;
            self.stop = Some(match table.get("scheduler").map(|v| (v, v.as_str())) {
                Some((_, Some("asha"))) => Scheduler::Asha,
                Some((_, Some("median"))) => Scheduler::Median,
                Some((v, _)) => {
                    return Err(self.error(
                        &["stop", "scheduler"],
                        format!("`scheduler` must be \"asha\" or \"median\", got {}", got(v)),
                    ));
                }
                None => {
                    return Err(
                        self.error(&["stop"], "missing key `scheduler`: \"asha\" or \"median\"")
                    );
                }
            });
        }
        if self.stop.is_some() && self.mode == Mode::Min {
            return Err(self.error(
                &["stop", "scheduler"],
                "a [stop] scheduler compares the points' evaluations, whose higher mean return is \
                 better: it needs mode = \"max\"; leave [stop] out to rank by a minimum",
            ));
        }
        if self.grid.is_empty() && self.search.is_none() {
            return Err(self.error(&[], "nothing to sweep: give [grid], [search] or both"));
        }
        Ok(())
    }

    /// Checks a swept key's form: `SECTION.KEY`, not the seeds; in `[search.space]`, also
    /// a joint key, `SECTION.KEY,SECTION.KEY,…` (see [`Distribution::Choice`]).
    fn swept_key(&self, path: &[&str]) -> std::result::Result<(), ConfigError> {
        let key = path[path.len() - 1];
        let parts: Vec<&str> = if key.contains(',') && path[0] == "search" {
            key.split(',').collect()
        } else {
            vec![key]
        };
        for (i, part) in parts.iter().enumerate() {
            if let Some(problem) = key_problem(part) {
                return Err(self.error(path, problem));
            }
            if parts[..i].contains(part) {
                return Err(self.error(path, format!("`{key}`: `{part}` twice")));
            }
        }
        Ok(())
    }

    fn read_search(&self, table: &toml::Table) -> std::result::Result<Search, ConfigError> {
        self.unknown_keys(&["search"], &SEARCH)?;
        let got = |v: &toml::Value| crate::float::shorten_long_numbers(&v.to_string());
        let method = match table.get("method") {
            Some(v) => match v.as_str() {
                Some("random") => Method::Random,
                Some("tpe") => Method::Tpe,
                _ => {
                    return Err(self.error(
                        &["search", "method"],
                        format!("`method` must be \"random\" or \"tpe\", got {}", got(v)),
                    ));
                }
            },
            None => {
                return Err(self.error(&["search"], "missing key `method`: \"random\" or \"tpe\""));
            }
        };
        let trials = match table.get("trials") {
            Some(v) => match v.as_integer() {
                Some(n) if n >= 1 && n as u64 <= MAX_POINTS as u64 => n as usize,
                _ => {
                    return Err(self.error(
                        &["search", "trials"],
                        format!(
                            "`trials` must be an integer from 1 to {MAX_POINTS}, got {}",
                            got(v)
                        ),
                    ));
                }
            },
            None => {
                return Err(self.error(
                    &["search"],
                    "missing key `trials`: how many points to sample",
                ));
            }
        };
        let seed = match table.get("seed") {
            Some(v) => match v.as_integer() {
                Some(n) if n >= 0 => n as u64,
                _ => {
                    return Err(self.error(
                        &["search", "seed"],
                        format!("`seed` must be an integer ≥ 0, got {}", got(v)),
                    ));
                }
            },
            None => 0,
        };
        let space = match table.get("space") {
            Some(toml::Value::Table(space)) => space,
            Some(v) => {
                return Err(self.error(
                    &["search", "space"],
                    format!(
                        "`space` must be a table of `\"SECTION.KEY\" = {{ DIST = … }}`, got {}",
                        got(v)
                    ),
                ));
            }
            None => {
                return Err(self.error(
                    &["search"],
                    "missing table [search.space]: the keys to sample and their distributions",
                ));
            }
        };
        let keys = self.keys_of(&["search", "space"]);
        if keys.is_empty() {
            return Err(self.error(
                &["search", "space"],
                "[search.space] is empty: give at least one `\"SECTION.KEY\" = { DIST = … }`",
            ));
        }
        let mut out = Vec::new();
        for key in keys {
            let path = ["search", "space", key.as_str()];
            self.swept_key(&path)?;
            let d = distribution(&space[&key])
                .map_err(|why| self.error(&path, format!("`{key}`: {why}")))?;
            if key.contains(',') {
                let n = key.split(',').count();
                let joint = match &d {
                    Distribution::Choice(items) => items
                        .iter()
                        .all(|i| i.as_array().is_some_and(|a| a.len() == n)),
                    _ => false,
                };
                if !joint {
                    return Err(self.error(
                        &path,
                        format!(
                            "`{key}`: a joint key takes `{{ choice = [[…], …] }}`, each choice \
                             a list of {n} values, one per key"
                        ),
                    ));
                }
            }
            out.push((key, d));
        }
        Ok(Search {
            method,
            trials,
            seed,
            space: out,
        })
    }

    /// The sweep's resolved form, written to the sweep directory's `sweep.toml`: every default
    /// filled in, the seeds as a list (`seeds_default` when the file gives none). Two sweep
    /// files with the same resolved form run the same points.
    pub fn to_toml(&self, seeds: &[u64]) -> String {
        let s = |v: &str| toml::Value::String(v.to_string());
        let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let mut out = String::new();
        let _ = writeln!(out, "base = {}", s(&self.base));
        let _ = writeln!(out, "seeds = [{}]", list(seeds));
        let _ = writeln!(out, "metric = {}", s(&self.metric));
        let _ = writeln!(out, "mode = {}", s(self.mode.name()));
        if !self.grid.is_empty() {
            out.push_str("\n[grid]\n");
            for (key, values) in &self.grid {
                let _ = writeln!(out, "{} = {}", s(key), toml::Value::Array(values.clone()));
            }
        }
        if let Some(search) = &self.search {
            let _ = write!(
                out,
                "\n[search]\nmethod = {}\ntrials = {}\nseed = {}\n\n[search.space]\n",
                s(search.method.name()),
                search.trials,
                search.seed
            );
            for (key, d) in &search.space {
                let _ = writeln!(out, "{} = {}", s(key), d.to_toml());
            }
        }
        if let Some(stop) = self.stop {
            let _ = writeln!(out, "\n[stop]\nscheduler = {}", s(stop.name()));
        }
        out
    }
}

/// What is wrong with a swept key, if anything: it must be `SECTION.KEY` as `--set` takes
/// it, and not the seeds.
fn key_problem(key: &str) -> Option<String> {
    let ok = key
        .split_once('.')
        .is_some_and(|(s, k)| !s.trim().is_empty() && !k.trim().is_empty() && !k.contains('.'));
    if !ok {
        return Some(format!(
            "`{key}`: a swept key is SECTION.KEY as `--set` takes it, e.g. \"agent.alpha\""
        ));
    }
    if key == "train.seeds" {
        return Some(
            "`train.seeds`: the seeds are not swept; every point runs the sweep's `seeds`".into(),
        );
    }
    None
}

/// Reads a distribution: an inline table of one of [`Distribution::NAMES`].
fn distribution(v: &toml::Value) -> std::result::Result<Distribution, String> {
    let got = |v: &toml::Value| crate::float::shorten_long_numbers(&v.to_string());
    let names = Distribution::NAMES.join(", ");
    let table = match v {
        toml::Value::Table(t) if t.len() == 1 => t,
        other => {
            return Err(format!(
                "a distribution is one of `{{ uniform = [lo, hi] }}`, `{{ loguniform = [lo, hi] }}`, `{{ int = [lo, hi] }}`, `{{ choice = [values…] }}`, got {}",
                got(other)
            ));
        }
    };
    let (name, args) = table.iter().next().expect("one key");
    let pair = || -> Option<(f64, f64)> {
        match args.as_array()?.as_slice() {
            [a, b] => {
                let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64));
                Some((num(a)?, num(b)?))
            }
            _ => None,
        }
    };
    match name.as_str() {
        "uniform" => match pair() {
            Some((lo, hi)) if lo.is_finite() && hi.is_finite() && lo < hi => {
                Ok(Distribution::Uniform(lo, hi))
            }
            _ => Err(format!(
                "`uniform` must be two finite numbers [lo, hi] with lo < hi, got {}",
                got(args)
            )),
        },
        "loguniform" => match pair() {
            Some((lo, hi)) if lo > 0.0 && hi.is_finite() && lo < hi => {
                Ok(Distribution::LogUniform(lo, hi))
            }
            _ => Err(format!(
                "`loguniform` must be two finite numbers [lo, hi] with 0 < lo < hi, got {}",
                got(args)
            )),
        },
        "int" => {
            let ints = args.as_array().and_then(|a| match a.as_slice() {
                [a, b] => Some((a.as_integer()?, b.as_integer()?)),
                _ => None,
            });
            match ints {
                Some((lo, hi)) if lo <= hi && hi.abs_diff(lo) < u64::from(u32::MAX) => {
                    Ok(Distribution::Int(lo, hi))
                }
                _ => Err(format!(
                    "`int` must be two integers [lo, hi] with lo ≤ hi (at most 2³² − 1 apart), got {}",
                    got(args)
                )),
            }
        }
        "choice" => match args.as_array() {
            Some(items) if !items.is_empty() => Ok(Distribution::Choice(items.clone())),
            _ => Err(format!(
                "`choice` must be a non-empty list of values, got {}",
                got(args)
            )),
        },
        other => Err(format!("unknown distribution `{other}`; allowed: {names}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWEEP: &str = "base = 'c.toml'\nseeds = '0..3'\n\n[grid]\n\"agent.alpha\" = [0.1, 0.5]\n\"agent.epsilon\" = [0.05, 0.1]\n\n[search]\nmethod = 'random'\ntrials = 4\n\n[search.space]\n\"agent.alpha\" = { loguniform = [0.01, 1.0] }\n\"agent.gamma\" = { choice = [0.9, 1.0] }\n";

    fn err(text: &str) -> String {
        SweepSpec::parse("dir/s.toml", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_sweep_file_reads_with_its_keys_in_the_order_written() {
        let s = SweepSpec::parse("dir/s.toml", SWEEP).unwrap();
        assert_eq!(s.base_path, Path::new("dir/c.toml"));
        assert_eq!(s.seeds, Some(vec![0, 1, 2]));
        assert_eq!(
            (s.metric.as_str(), s.mode),
            ("final_eval_mean_return", Mode::Max)
        );
        let keys: Vec<&str> = s.grid.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["agent.alpha", "agent.epsilon"]);
        let search = s.search.as_ref().unwrap();
        assert_eq!(
            (search.method, search.trials, search.seed),
            (Method::Random, 4, 0)
        );
        assert_eq!(search.space[0].1, Distribution::LogUniform(0.01, 1.0));
        assert_eq!(s.line(&["search", "space", "agent.gamma"]), Some(14));
        let resolved = s.to_toml(&[0, 1, 2]);
        assert!(
            resolved.contains("\"agent.alpha\" = { loguniform = [0.01, 1.0] }\n"),
            "{resolved}"
        );
        let again = SweepSpec::parse("dir/s.toml", &resolved).unwrap();
        assert_eq!(again.to_toml(&[0, 1, 2]), resolved);
    }

    /// Keys that depend on each other are drawn together under a joint key, and a choice may
    /// be a table (a whole network).
    #[test]
    fn joint_keys_take_lists_of_one_value_per_key() {
        let text = "base = 'c.toml'\n[search]\nmethod = 'random'\ntrials = 2\n[search.space]\n\
                    \"agent.train_freq,agent.gradient_steps\" = { choice = [[4, 4], [4, 1]] }\n\
                    \"agent.network\" = { choice = [{ torso = { type = 'mlp', hidden = [64] } }] }\n";
        let s = SweepSpec::parse("dir/s.toml", text).unwrap();
        let space = &s.search.as_ref().unwrap().space;
        assert_eq!(space[0].0, "agent.train_freq,agent.gradient_steps");
        assert!(space[1].1.contains(&space_value(&space[1].1)));
        let again = SweepSpec::parse("dir/s.toml", &s.to_toml(&[0])).unwrap();
        assert_eq!(again.search, s.search);
        for (from, to, want) in [
            (
                "[[4, 4], [4, 1]]",
                "[[4, 4], [4]]",
                "dir/s.toml:6: [search.space] `agent.train_freq,agent.gradient_steps`: a joint \
                 key takes `{ choice = [[…], …] }`, each choice a list of 2 values, one per key",
            ),
            (
                "{ choice = [[4, 4], [4, 1]] }",
                "{ uniform = [1, 2] }",
                "dir/s.toml:6: [search.space] `agent.train_freq,agent.gradient_steps`: a joint \
                 key takes `{ choice = [[…], …] }`, each choice a list of 2 values, one per key",
            ),
            (
                "agent.gradient_steps\"",
                "agent.train_freq\"",
                "dir/s.toml:6: [search.space] `agent.train_freq,agent.train_freq`: \
                 `agent.train_freq` twice",
            ),
            (
                "agent.gradient_steps\"",
                "gradient_steps\"",
                "dir/s.toml:6: [search.space] `gradient_steps`: a swept key is SECTION.KEY as \
                 `--set` takes it, e.g. \"agent.alpha\"",
            ),
        ] {
            assert!(text.contains(from), "{from}");
            assert_eq!(err(&text.replacen(from, to, 1)), want);
        }
    }

    fn space_value(d: &Distribution) -> toml::Value {
        match d {
            Distribution::Choice(v) => v[0].clone(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn malformed_sweep_files_name_file_line_and_key() {
        for (from, to, want) in [
            (
                "seeds = '0..3'",
                "seed = 3",
                "dir/s.toml:2: unknown key `seed`; allowed: base, seeds, metric, mode, grid, search, stop",
            ),
            (
                "trials = 4",
                "trials = 4\ntrails = 2",
                "dir/s.toml:11: [search] unknown key `trails`; allowed: method, trials, seed, space",
            ),
            (
                "[0.05, 0.1]",
                "[]",
                "dir/s.toml:6: [grid] `agent.epsilon` must be a non-empty list of values, got []",
            ),
            (
                "{ loguniform = [0.01, 1.0] }",
                "{ loguniform = [0, 1] }",
                "dir/s.toml:13: [search.space] `agent.alpha`: `loguniform` must be two finite numbers [lo, hi] with 0 < lo < hi, got [0, 1]",
            ),
            (
                "{ choice = [0.9, 1.0] }",
                "{ normal = [0, 1] }",
                "dir/s.toml:14: [search.space] `agent.gamma`: unknown distribution `normal`; allowed: uniform, loguniform, int, choice",
            ),
            (
                "'random'",
                "'grid'",
                "dir/s.toml:9: [search] `method` must be \"random\" or \"tpe\", got \"grid\"",
            ),
            (
                "\"agent.epsilon\"",
                "\"epsilon\"",
                "dir/s.toml:6: [grid] `epsilon`: a swept key is SECTION.KEY as `--set` takes it, e.g. \"agent.alpha\"",
            ),
            (
                "'0..3'",
                "'3..0'",
                "dir/s.toml:2: `seeds`: the range 3..0 is empty; `A..B` means seeds A to B − 1",
            ),
            (
                "base = 'c.toml'\n",
                "",
                "dir/s.toml: missing key `base`: the config the sweep overrides, relative to the sweep file",
            ),
            (
                "trials = 4",
                "trials = 0",
                "dir/s.toml:10: [search] `trials` must be an integer from 1 to 100000, got 0",
            ),
        ] {
            assert!(SWEEP.contains(from), "{from}");
            assert_eq!(err(&SWEEP.replacen(from, to, 1)), want);
        }
        assert_eq!(
            err("base = 'c.toml'\n[grid]\n"),
            "dir/s.toml:2: [grid] is empty: give at least one `\"SECTION.KEY\" = [values…]`, or leave [grid] out"
        );
        assert_eq!(
            err("base = 'c.toml'\n"),
            "dir/s.toml: nothing to sweep: give [grid], [search] or both"
        );
        assert_eq!(
            err("base = 'c.toml'\n[grid]\n'a.b' = [1]\n[stop]\nscheduler = 'hyperband'\n"),
            "dir/s.toml:5: [stop] `scheduler` must be \"asha\" or \"median\", got \"hyperband\""
        );
        assert!(err("base = 'c.toml'\n[grid\n").starts_with("dir/s.toml:2: "));
    }
}
