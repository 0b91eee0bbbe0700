//! What a sweep's points came to: `sweep.csv`, a row per point, `best.toml`, the best point's
//! resolved config, and the table `qlab sweep` prints.
//!
//! `sweep.csv`'s columns: `point`; each swept key (`SECTION.KEY`, a column each, empty for a
//! point that leaves it at the base config's value); `metric_mean`, the metric's mean over
//! the point's seeds; `metric_iqm`, its interquartile mean; `metric_low` and `metric_high`,
//! the IQM's stratified-bootstrap 95% interval ([`Bootstrap::default`]: 2,000 resamples,
//! seed 0); `seeds`, the number of seeds those are over; `stopped_at`, for a point that a
//! `[stop]` scheduler stopped early, the evaluation it stopped after (env steps for a
//! `steps` budget, episodes for an `episodes` budget; empty for the others); and `status`:
//! `finished`, `stopped` (by the scheduler: its seeds ended early, see `stopped_at`),
//! `interrupted` (stopped by a signal; `qlab sweep --resume` continues it), `failed: <why,
//! one line>`, or `pending` (not run yet: the sweep was stopped first). No column holds a
//! time, so the same sweep gives the same file, byte for byte.

use std::fmt::Write as _;

use crate::runner::summary::Summary;
use crate::stats::{Bootstrap, ScoreMatrix, iqm, mean};

use super::points::Point;
use super::spec::Mode;

/// Where a point stands.
#[derive(Clone, Debug, PartialEq)]
pub enum PointStatus {
    /// Every seed finished.
    Finished,
    /// Stopped early by the sweep's `[stop]` scheduler after the evaluation at this point of
    /// the budget (env steps or episodes): every seed ended there.
    Stopped(u64),
    /// Stopped by a signal; `--resume` continues it.
    Interrupted,
    /// A seed failed, or the metric could not be read: why, on one line.
    Failed(String),
    /// Not run yet.
    Pending,
}

impl std::fmt::Display for PointStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PointStatus::Finished => f.write_str("finished"),
            PointStatus::Stopped(_) => f.write_str("stopped"),
            PointStatus::Interrupted => f.write_str("interrupted"),
            PointStatus::Failed(why) => write!(f, "failed: {why}"),
            PointStatus::Pending => f.write_str("pending"),
        }
    }
}

/// The metric over a point's seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricStats {
    /// The mean over seeds.
    pub mean: f64,
    /// The interquartile mean over seeds.
    pub iqm: f64,
    /// The IQM's interval, lower end.
    pub low: f64,
    /// The IQM's interval, upper end.
    pub high: f64,
    /// The number of seeds.
    pub seeds: usize,
}

/// A point's row of `sweep.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    /// Where it stands.
    pub status: PointStatus,
    /// The metric over its seeds (for a finished point).
    pub stats: Option<MetricStats>,
}

impl PointResult {
    /// A point not run yet.
    pub fn pending() -> PointResult {
        PointResult {
            status: PointStatus::Pending,
            stats: None,
        }
    }

    /// A point that stopped (`Interrupted`) or failed: no metric.
    pub fn unfinished(status: PointStatus) -> PointResult {
        PointResult {
            status,
            stats: None,
        }
    }

    /// A finished point's result from its `summary`, the `metric` key of each seed's line:
    /// failed when a seed has no finite value of it.
    pub fn finished(summary: &Summary, metric: &str) -> PointResult {
        PointResult::ended(summary, metric, PointStatus::Finished)
    }

    /// The result of a point whose seeds all ended, finished or stopped early (`status`),
    /// from its `summary`: failed when a seed has no finite value of the metric.
    pub fn ended(summary: &Summary, metric: &str, status: PointStatus) -> PointResult {
        match metric_stats(summary, metric) {
            Ok(stats) => PointResult {
                status,
                stats: Some(stats),
            },
            Err(why) => PointResult::unfinished(PointStatus::Failed(why)),
        }
    }
}

/// The `metric` of every seed of `summary`, with its mean, IQM and interval.
fn metric_stats(summary: &Summary, metric: &str) -> Result<MetricStats, String> {
    let mut scores = Vec::with_capacity(summary.per_seed.len());
    for s in &summary.per_seed {
        let line = serde_json::to_value(s).expect("plain data serializes");
        match line.get(metric).and_then(serde_json::Value::as_f64) {
            Some(x) if x.is_finite() => scores.push(x),
            Some(x) => return Err(format!("seed {}: `{metric}` is {x}", s.seed)),
            None => return Err(format!("seed {}: summary.json has no `{metric}`", s.seed)),
        }
    }
    let matrix = ScoreMatrix::from_column(&scores).map_err(|e| e.to_string())?;
    let e = Bootstrap::default()
        .interval(&matrix, iqm)
        .map_err(|e| e.to_string())?;
    Ok(MetricStats {
        mean: mean(&matrix),
        iqm: e.point,
        low: e.low,
        high: e.high,
        seeds: scores.len(),
    })
}

/// The index of the best finished point: the highest mean (lowest, for [`Mode::Min`]), the
/// first in point order among equals. A point stopped early is never the best: its seeds did
/// not run their budget.
pub fn best(results: &[PointResult], mode: Mode) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, r) in results.iter().enumerate() {
        if let (PointStatus::Finished, Some(s)) = (&r.status, r.stats) {
            if best.is_none_or(|(_, b)| mode.better(s.mean, b)) {
                best = Some((i, s.mean));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// A swept value as a cell: a string as itself, anything else as TOML writes it.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `sweep.csv`: the header, then a row per point (`results[i]` is `points[i]`'s), the key
/// columns `keys`. Numbers are written as the shortest text that reads back as the same
/// `f64`.
pub fn csv(points: &[Point], keys: &[String], results: &[PointResult]) -> String {
    let mut out = String::from("point");
    for k in keys {
        out.push(',');
        out.push_str(&field(k));
    }
    out.push_str(",metric_mean,metric_iqm,metric_low,metric_high,seeds,stopped_at,status\n");
    for (p, r) in points.iter().zip(results) {
        out.push_str(&field(&p.name));
        for k in keys {
            out.push(',');
            out.push_str(&field(&p.get(k).map(value_text).unwrap_or_default()));
        }
        match r.stats {
            Some(s) => {
                let _ = write!(
                    out,
                    ",{},{},{},{},{}",
                    s.mean, s.iqm, s.low, s.high, s.seeds
                );
            }
            None => out.push_str(",,,,,"),
        }
        out.push(',');
        if let PointStatus::Stopped(at) = r.status {
            let _ = write!(out, "{at}");
        }
        out.push(',');
        out.push_str(&field(&r.status.to_string()));
        out.push('\n');
    }
    out
}

/// The table `qlab sweep` prints: a line per point with its values, the metric's mean and
/// IQM with its interval, and its status.
pub fn text(points: &[Point], keys: &[String], results: &[PointResult], metric: &str) -> String {
    let name_width = points
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let widths: Vec<usize> = keys
        .iter()
        .map(|k| {
            points
                .iter()
                .filter_map(|p| p.get(k).map(|v| value_text(v).chars().count()))
                .chain([k.chars().count()])
                .max()
                .unwrap_or(1)
        })
        .collect();
    let mut out = format!("metric: {metric} over seeds\n{:<name_width$}", "point");
    for (k, w) in keys.iter().zip(&widths) {
        let _ = write!(out, "  {k:<w$}");
    }
    let _ = writeln!(
        out,
        "  {:>10}  {:>10}  {:>23}  status",
        "mean", "iqm", "iqm 95% interval"
    );
    for (p, r) in points.iter().zip(results) {
        let _ = write!(out, "{:<name_width$}", p.name);
        for (k, w) in keys.iter().zip(&widths) {
            let v = p.get(k).map(value_text).unwrap_or_else(|| "-".into());
            let _ = write!(out, "  {v:<w$}");
        }
        match r.stats {
            Some(s) => {
                let interval = format!("[{:.3}, {:.3}]", s.low, s.high);
                let _ = write!(out, "  {:>10.3}  {:>10.3}  {interval:>23}", s.mean, s.iqm);
            }
            None => {
                let _ = write!(out, "  {:>10}  {:>10}  {:>23}", "-", "-", "-");
            }
        }
        match r.status {
            PointStatus::Stopped(at) => {
                let _ = writeln!(out, "  stopped after {at}");
            }
            ref status => {
                let _ = writeln!(out, "  {status}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(mean: f64) -> PointResult {
        PointResult {
            status: PointStatus::Finished,
            stats: Some(MetricStats {
                mean,
                iqm: mean,
                low: mean,
                high: mean,
                seeds: 2,
            }),
        }
    }

    #[test]
    fn the_best_point_is_the_first_of_equals_and_never_an_unfinished_one() {
        let results = [
            PointResult::unfinished(PointStatus::Failed("x".into())),
            stats(-3.0),
            stats(-1.0),
            stats(-1.0),
            PointResult::pending(),
            PointResult {
                status: PointStatus::Stopped(30),
                ..stats(5.0)
            },
        ];
        assert_eq!(best(&results, Mode::Max), Some(2));
        assert_eq!(best(&results, Mode::Min), Some(1));
        assert_eq!(best(&results[..1], Mode::Max), None);
    }

    #[test]
    fn csv_cells_are_quoted_when_they_must_be() {
        let points = [Point {
            name: "p000".into(),
            params: vec![
                ("env.map".into(), "a,b".into()),
                ("agent.alpha".into(), 0.1.into()),
            ],
        }];
        let keys = [
            "env.map".to_string(),
            "agent.alpha".into(),
            "agent.gamma".into(),
        ];
        let text = csv(
            &points,
            &keys,
            &[PointResult::unfinished(PointStatus::Failed(
                "seed 0: \"x\", y".into(),
            ))],
        );
        assert_eq!(
            text,
            "point,env.map,agent.alpha,agent.gamma,metric_mean,metric_iqm,metric_low,metric_high,seeds,stopped_at,status\n\
             p000,\"a,b\",0.1,,,,,,,,\"failed: seed 0: \"\"x\"\", y\"\n"
        );
    }
}
