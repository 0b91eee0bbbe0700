//! Performance profiles (Agarwal et al. 2021; rliable's `create_performance_profile`, here
//! [`crate::stats::performance_profile`]): for
//! each score `τ`, the fraction of a run's seeds whose final value is above `τ`, with a
//! stratified-bootstrap band — the whole distribution of results instead of one number.
//!
//! A seed's final value is the one `qlab compare` reports: the mean of the metric over its
//! last `last` episodes. Every run's profile is taken at the same `τ`s: `points` evenly spaced
//! from a little below the lowest final value of all runs to a little above the highest, so
//! that each profile starts at 1 and ends at 0.

use anyhow::{Result, bail};

use super::compare::final_value;
use super::curve::Curve;
use super::runs::Run;
use crate::stats::{Bootstrap, ScoreMatrix};

/// What to compute.
///
/// | field | default | valid |
/// |---|---|---|
/// | `metric` | `"return"` | a column of `metrics.csv` |
/// | `last` | 100 | ≥ 1 episodes |
/// | `points` | 201 | ≥ 2 values of `τ` |
/// | `bootstrap` | [`Bootstrap::default`] | reps ≥ 1 |
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileSpec {
    /// The `metrics.csv` column whose final value is profiled.
    pub metric: String,
    /// Episodes at the end of each seed in its final mean.
    pub last: usize,
    /// The number of `τ`s.
    pub points: usize,
    /// The resampling behind the bands.
    pub bootstrap: Bootstrap,
}

impl Default for ProfileSpec {
    fn default() -> Self {
        ProfileSpec {
            metric: "return".into(),
            last: 100,
            points: 201,
            bootstrap: Bootstrap::default(),
        }
    }
}

/// Each run's final values, one per seed.
///
/// # Errors
/// A metric a run lacks; a seed without a value in its last `last` episodes.
pub fn final_values(run: &Run, metric: &str, last: usize) -> Result<Vec<f64>> {
    run.check_metric(metric)?;
    run.seeds
        .iter()
        .map(|seed| final_value(seed, &seed.metrics.numbers(metric)?, metric, last))
        .collect()
}

/// The profiles of `runs`, named by `labels`, as curves: `x` the `τ`s, `mean` the fraction of
/// seeds above each, `lower` and `upper` its bootstrap interval, `count` the seeds.
///
/// # Errors
/// As [`final_values`]; a run of fewer than 2 seeds; fewer than 2 points, 0 episodes or 0
/// resamples; a final value that is not finite.
pub fn profiles(runs: &[Run], labels: &[String], spec: &ProfileSpec) -> Result<Vec<Curve>> {
    if spec.last == 0 {
        bail!("--last must be at least 1 episode, got 0");
    }
    if spec.points < 2 {
        bail!(
            "a performance profile needs at least 2 points, got {}",
            spec.points
        );
    }
    spec.bootstrap.check()?;
    let mut scores = Vec::with_capacity(runs.len());
    for (run, label) in runs.iter().zip(labels) {
        let finals = final_values(run, &spec.metric, spec.last)?;
        if finals.len() < 2 {
            bail!(
                "{}: `{label}` has {} seed; a performance profile's bootstrap band needs at \
                 least 2 seeds per run",
                run.dir.display(),
                finals.len()
            );
        }
        scores.push(
            ScoreMatrix::from_column(&finals).map_err(|e| {
                anyhow::anyhow!("{}: final `{}`: {e}", run.dir.display(), spec.metric)
            })?,
        );
    }
    let taus = taus(&scores, spec.points);
    let mut curves = Vec::with_capacity(runs.len());
    for ((m, label), run) in scores.iter().zip(labels).zip(runs) {
        let estimates = spec.bootstrap.performance_profile(m, &taus)?;
        curves.push(Curve {
            label: label.clone(),
            x: taus.clone(),
            mean: estimates.iter().map(|e| e.point).collect(),
            lower: estimates.iter().map(|e| e.low).collect(),
            upper: estimates.iter().map(|e| e.high).collect(),
            count: vec![run.seeds.len(); taus.len()],
        });
    }
    Ok(curves)
}

/// `points` evenly spaced `τ`s from 5% of the scores' span below their lowest to 5% above
/// their highest (±1 around them when all are equal).
fn taus(scores: &[ScoreMatrix], points: usize) -> Vec<f64> {
    let all = || {
        scores
            .iter()
            .flat_map(|m| (0..m.tasks()).flat_map(move |t| m.task(t).iter().copied()))
    };
    let lo = all().fold(f64::INFINITY, f64::min);
    let hi = all().fold(f64::NEG_INFINITY, f64::max);
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
    let (lo, hi) = (lo - pad, hi + pad);
    (0..points)
        .map(|k| lo + (hi - lo) * k as f64 / (points - 1) as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_taus_cover_every_score_with_a_margin() {
        let a = ScoreMatrix::from_column(&[0.0, 10.0]).unwrap();
        let b = ScoreMatrix::from_column(&[20.0, 5.0]).unwrap();
        assert_eq!(taus(&[a, b], 5), [-1.0, 4.5, 10.0, 15.5, 21.0]);
        let flat = ScoreMatrix::from_column(&[3.0, 3.0]).unwrap();
        assert_eq!(taus(&[flat], 3), [2.0, 3.0, 4.0]);
    }
}
