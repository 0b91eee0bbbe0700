//! Comparing runs in a table: final performance, how fast a threshold is reached, and speed.
//!
//! For each run, over its seeds:
//! - **final**: each seed's mean of the metric over its last `last` episodes (all of them
//!   when it has fewer); the table shows the mean ± the sample standard deviation of those
//!   per-seed means.
//! - **to threshold** (with a threshold): the first episode at which the mean of the metric
//!   over the last `window` episodes — a full window — is at least the threshold. The table
//!   shows the mean over the seeds that reach it of that episode's number (episodes played,
//!   from 1) and of the `step` column there (env steps), and how many seeds reached it.
//! - **wall time** and **steps/s**: the means over seeds of `wall_seconds` and
//!   `steps_per_second` from `summary.json` (empty when the run has none).
//! - **IQM** (with [`CompareSpec::iqm`]): the interquartile mean of the seeds' final values
//!   with its stratified-bootstrap 95% interval ([`crate::stats`], rliable's statistics).
//! - **probability of improvement** (with [`CompareSpec::versus`]): the probability that a
//!   seed of the run ends higher than a seed of the run compared against (ties count ½), with
//!   its bootstrap 95% interval.

use std::fmt::Write as _;

use anyhow::{Result, bail};

use super::curve::Band;
use super::curve::{mean, summarize};
use super::runs::{Run, SeedRun};
use crate::stats::{self, Bootstrap, Estimate, ScoreMatrix};

/// What to compare.
///
/// | field | default | valid |
/// |---|---|---|
/// | `metric` | `"return"` | a column of `metrics.csv` |
/// | `threshold` | none | any number |
/// | `window` | 100 | ≥ 1 episodes |
/// | `last` | 100 | ≥ 1 episodes |
/// | `iqm` | `false` | |
/// | `versus` | none | the index of a run |
/// | `bootstrap` | [`Bootstrap::default`] (2,000 resamples, 95%, seed 0) | reps ≥ 1 |
#[derive(Clone, Debug, PartialEq)]
pub struct CompareSpec {
    /// The `metrics.csv` column compared.
    pub metric: String,
    /// The level whose first reaching is reported.
    pub threshold: Option<f64>,
    /// Episodes in the moving mean tested against the threshold.
    pub window: usize,
    /// Episodes at the end of each seed in its final mean.
    pub last: usize,
    /// Whether to report the IQM of the seeds' final values and its interval (columns
    /// `iqm`, `iqm_low`, `iqm_high`).
    pub iqm: bool,
    /// The run (its index in the table) every run's probability of improvement is taken
    /// over (columns `p_improve`, `p_improve_low`, `p_improve_high`).
    pub versus: Option<usize>,
    /// The resampling behind the intervals.
    pub bootstrap: Bootstrap,
}

impl Default for CompareSpec {
    fn default() -> Self {
        CompareSpec {
            metric: "return".into(),
            threshold: None,
            window: 100,
            last: 100,
            iqm: false,
            versus: None,
            bootstrap: Bootstrap::default(),
        }
    }
}

/// One run's line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The run's name in the table.
    pub label: String,
    /// The number of seeds.
    pub seeds: usize,
    /// The mean over seeds of each seed's final mean.
    pub final_mean: f64,
    /// The sample standard deviation over seeds of each seed's final mean (0 for one seed).
    pub final_std: f64,
    /// How many seeds reached the threshold (0 without one).
    pub reached: usize,
    /// The mean episode number at which the seeds that did reached it.
    pub episodes_to_threshold: Option<f64>,
    /// The mean env step at which the seeds that did reached it.
    pub steps_to_threshold: Option<f64>,
    /// The mean wall-clock seconds of a seed's training.
    pub wall_seconds: Option<f64>,
    /// The mean env steps per second of a seed's training.
    pub steps_per_second: Option<f64>,
    /// The IQM over seeds of each seed's final mean and its interval (with
    /// [`CompareSpec::iqm`]).
    pub iqm: Option<Estimate>,
    /// The probability that a seed of this run ends higher than one of the
    /// [`CompareSpec::versus`] run, and its interval.
    pub p_improve: Option<Estimate>,
}

/// The table's rows, one per run, named by `labels`.
///
/// # Errors
/// A window of 0; a metric a run lacks (with the list it has); a seed without a value of
/// the metric; an unreadable `summary.json`. With [`CompareSpec::iqm`] or
/// [`CompareSpec::versus`]: a run of fewer than 2 seeds, a `versus` index past the runs, 0
/// resamples.
pub fn compare(runs: &[Run], labels: &[String], spec: &CompareSpec) -> Result<Vec<Row>> {
    let robust = spec.iqm || spec.versus.is_some();
    if let Some(v) = spec.versus
        && v >= runs.len()
    {
        bail!(
            "--versus {v} is not a run: give a label or an index from 0 to {}",
            runs.len().saturating_sub(1)
        );
    }
    if robust {
        spec.bootstrap.check()?;
    }
    if spec.window == 0 {
        bail!("--window must be at least 1 episode, got 0");
    }
    if spec.last == 0 {
        bail!("--last must be at least 1 episode, got 0");
    }
    let mut rows = Vec::with_capacity(runs.len());
    let mut scores = Vec::with_capacity(runs.len());
    for (run, label) in runs.iter().zip(labels) {
        run.check_metric(&spec.metric)?;
        let mut finals = Vec::with_capacity(run.seeds.len());
        let (mut episodes, mut steps) = (Vec::new(), Vec::new());
        for seed in &run.seeds {
            let values = seed.metrics.numbers(&spec.metric)?;
            finals.push(final_value(seed, &values, &spec.metric, spec.last)?);
            if let Some(threshold) = spec.threshold
                && let Some(i) = first_reaching(&values, spec.window, threshold)
            {
                episodes.push((i + 1) as f64);
                let step = seed.metrics.numbers("step")?[i];
                steps.extend(step);
            }
        }
        let (final_mean, lo, _) = summarize(&finals, Band::Std);
        let summary = run.summary()?;
        let per_seed = |f: fn(&super::runs::SeedSummary) -> Option<f64>| {
            summary
                .as_ref()
                .and_then(|s| mean(s.seeds.iter().filter_map(f)))
        };
        rows.push(Row {
            label: label.clone(),
            seeds: run.seeds.len(),
            final_mean,
            final_std: final_mean - lo,
            reached: episodes.len(),
            episodes_to_threshold: mean(episodes.iter().copied()),
            steps_to_threshold: mean(steps.iter().copied()),
            wall_seconds: per_seed(|s| s.wall_seconds),
            steps_per_second: per_seed(|s| s.steps_per_second),
            iqm: None,
            p_improve: None,
        });
        if robust {
            if finals.len() < 2 {
                bail!(
                    "{}: `{label}` has {} seed; the IQM and bootstrap intervals need at least 2 \
                     seeds per run",
                    run.dir.display(),
                    finals.len()
                );
            }
            scores.push(ScoreMatrix::from_column(&finals)?);
        }
    }
    if spec.iqm {
        for (row, s) in rows.iter_mut().zip(&scores) {
            row.iqm = Some(spec.bootstrap.interval(s, stats::iqm)?);
        }
    }
    if let Some(v) = spec.versus {
        for (row, s) in rows.iter_mut().zip(&scores) {
            row.p_improve = Some(spec.bootstrap.probability_of_improvement(s, &scores[v])?);
        }
    }
    Ok(rows)
}

/// A seed's final value: the mean of the present values among the last `last` entries of
/// `values`, its `metric` column.
///
/// # Errors
/// No value there.
pub(crate) fn final_value(
    seed: &SeedRun,
    values: &[Option<f64>],
    metric: &str,
    last: usize,
) -> Result<f64> {
    let tail = &values[values.len().saturating_sub(last)..];
    match mean(tail.iter().flatten().copied()) {
        Some(m) => Ok(m),
        None => bail!(
            "{}: no value of `{metric}` in the last {last} episodes",
            seed.metrics.path.display(),
        ),
    }
}

/// The index of the first entry at which the mean of the present values among the last
/// `window` entries (a full window) is at least `threshold`.
pub fn first_reaching(values: &[Option<f64>], window: usize, threshold: f64) -> Option<usize> {
    let window = window.max(1);
    (window - 1..values.len()).find(|&i| {
        mean(values[i + 1 - window..=i].iter().flatten().copied()).is_some_and(|m| m >= threshold)
    })
}

/// The table's column headers and cells, as text.
fn cells(rows: &[Row], spec: &CompareSpec) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec![
        "run".to_string(),
        "seeds".to_string(),
        format!("final {} (last {} ep.)", spec.metric, spec.last),
    ];
    if let Some(t) = spec.threshold {
        header.push(format!("episodes to {} ≥ {t}", spec.metric));
        header.push(format!("steps to {} ≥ {t}", spec.metric));
        header.push("reached".to_string());
    }
    header.push("wall s / seed".to_string());
    header.push("steps/s".to_string());
    if spec.iqm {
        header.push("IQM (95% CI)".to_string());
    }
    if let Some(v) = spec.versus {
        let name = rows.get(v).map_or("", |r| r.label.as_str());
        header.push(format!("P(> {name}) (95% CI)"));
    }
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("–".to_string(), |v| format!("{v:.digits$}"));
    let body = rows
        .iter()
        .map(|r| {
            let mut c = vec![
                r.label.clone(),
                r.seeds.to_string(),
                mean_std(r.final_mean, r.final_std),
            ];
            if spec.threshold.is_some() {
                c.push(opt(r.episodes_to_threshold, 1));
                c.push(opt(r.steps_to_threshold, 0));
                c.push(format!("{}/{}", r.reached, r.seeds));
            }
            c.push(r.wall_seconds.map_or("–".to_string(), significant));
            c.push(opt(r.steps_per_second, 0));
            if spec.iqm {
                c.push(r.iqm.map_or("–".to_string(), |e| {
                    let d = decimals(e.point);
                    format!("{:.d$} [{:.d$}, {:.d$}]", e.point, e.low, e.high)
                }));
            }
            if spec.versus.is_some() {
                c.push(r.p_improve.map_or("–".to_string(), |e| {
                    format!("{:.2} [{:.2}, {:.2}]", e.point, e.low, e.high)
                }));
            }
            c
        })
        .collect();
    (header, body)
}

/// Three significant digits, no exponent (`0.00213`, `2.13`, `213`).
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let d = (2 - v.abs().log10().floor() as i64).max(0) as usize;
    format!("{v:.d$}")
}

/// `mean ± std`, both with the decimals that give the mean three significant digits at least
/// (one from 100 up, two from 1 up, four below).
fn mean_std(mean: f64, std: f64) -> String {
    let d = decimals(mean);
    format!("{mean:.d$} ± {std:.d$}")
}

/// The decimals that give `v` three significant digits at least: one from 100 up, two from 1
/// up, four below.
fn decimals(v: f64) -> usize {
    if v.abs() >= 100.0 {
        1
    } else if v.abs() >= 1.0 {
        2
    } else {
        4
    }
}

/// The table as Markdown, columns padded so that it also reads aligned as plain text.
pub fn to_markdown(rows: &[Row], spec: &CompareSpec) -> String {
    let (header, body) = cells(rows, spec);
    let width = |j: usize| {
        std::iter::once(&header[j])
            .chain(body.iter().map(|r| &r[j]))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String], out: &mut String| {
        out.push('|');
        for (j, c) in cells.iter().enumerate() {
            let pad = widths[j] - c.chars().count();
            if j == 0 {
                let _ = write!(out, " {c}{} |", " ".repeat(pad));
            } else {
                let _ = write!(out, " {}{c} |", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    let mut out = String::new();
    line(&header, &mut out);
    out.push('|');
    for (j, w) in widths.iter().enumerate() {
        // The label column left-aligned, the numbers right-aligned.
        if j == 0 {
            let _ = write!(out, ":{}|", "-".repeat(w + 1));
        } else {
            let _ = write!(out, "{}:|", "-".repeat(w + 1));
        }
    }
    out.push('\n');
    for r in &body {
        line(r, &mut out);
    }
    out
}

/// The table as CSV with one number per cell (empty when unknown):
/// `run,seeds,final_mean,final_std,threshold,reached,episodes_to_threshold,steps_to_threshold,wall_seconds,steps_per_second`,
/// then `iqm,iqm_low,iqm_high` with [`CompareSpec::iqm`] and
/// `p_improve,p_improve_low,p_improve_high` with [`CompareSpec::versus`].
pub fn to_csv(rows: &[Row], spec: &CompareSpec) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let mut out = String::from(
        "run,seeds,final_mean,final_std,threshold,reached,episodes_to_threshold,steps_to_threshold,wall_seconds,steps_per_second",
    );
    if spec.iqm {
        out.push_str(",iqm,iqm_low,iqm_high");
    }
    if spec.versus.is_some() {
        out.push_str(",p_improve,p_improve_low,p_improve_high");
    }
    out.push('\n');
    let estimate = |e: Option<Estimate>| {
        e.map_or(",,".to_string(), |e| {
            format!("{},{},{}", e.point, e.low, e.high)
        })
    };
    for r in rows {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            r.label,
            r.seeds,
            r.final_mean,
            r.final_std,
            opt(spec.threshold),
            if spec.threshold.is_some() {
                r.reached.to_string()
            } else {
                String::new()
            },
            opt(r.episodes_to_threshold),
            opt(r.steps_to_threshold),
            opt(r.wall_seconds),
            opt(r.steps_per_second),
        );
        if spec.iqm {
            let _ = write!(out, ",{}", estimate(r.iqm));
        }
        if spec.versus.is_some() {
            let _ = write!(out, ",{}", estimate(r.p_improve));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_needs_a_full_window() {
        let v = [Some(10.0), Some(0.0), Some(4.0), None, Some(8.0)];
        // Windows of 2: [10,0] → 5, [0,4] → 2, [4,-] → 4, [-,8] → 8.
        assert_eq!(first_reaching(&v, 2, 5.0), Some(1));
        assert_eq!(first_reaching(&v, 2, 6.0), Some(4));
        assert_eq!(first_reaching(&v, 2, 9.0), None);
        // A window longer than the run is never full.
        assert_eq!(first_reaching(&v, 6, -100.0), None);
        assert_eq!(first_reaching(&v, 1, 10.0), Some(0));
    }

    #[test]
    fn times_have_three_significant_digits() {
        assert_eq!(significant(0.0021349), "0.00213");
        assert_eq!(significant(2.1349), "2.13");
        assert_eq!(significant(213.49), "213");
        assert_eq!(significant(21349.0), "21349");
    }

    #[test]
    fn markdown_is_aligned_and_numbers_are_right_aligned() {
        let rows = vec![Row {
            label: "sarsa".into(),
            seeds: 2,
            final_mean: -20.5,
            final_std: 0.5,
            reached: 1,
            episodes_to_threshold: Some(3.0),
            steps_to_threshold: Some(40.0),
            wall_seconds: None,
            steps_per_second: Some(1000.4),
            iqm: None,
            p_improve: None,
        }];
        let spec = CompareSpec {
            threshold: Some(-30.0),
            window: 3,
            last: 2,
            ..CompareSpec::default()
        };
        let md = to_markdown(&rows, &spec);
        assert_eq!(
            md,
            "| run   | seeds | final return (last 2 ep.) | episodes to return ≥ -30 | steps to return ≥ -30 | reached | wall s / seed | steps/s |\n\
             |:------|------:|--------------------------:|-------------------------:|----------------------:|--------:|--------------:|--------:|\n\
             | sarsa |     2 |             -20.50 ± 0.50 |                      3.0 |                    40 |     1/2 |             – |    1000 |\n"
        );
        assert_eq!(
            to_csv(&rows, &spec),
            "run,seeds,final_mean,final_std,threshold,reached,episodes_to_threshold,steps_to_threshold,wall_seconds,steps_per_second\n\
             sarsa,2,-20.5,0.5,-30,1,3,40,,1000.4\n"
        );
    }
}
