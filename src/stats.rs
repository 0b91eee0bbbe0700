//! Statistics that hold up over a handful of seeds, as Agarwal et al. (2021), "Deep
//! Reinforcement Learning at the Edge of the Statistical Precipice", define them and their
//! `rliable` library computes them.
//!
//! Everything works on a [`ScoreMatrix`]: runs × tasks, rliable's convention. A run directory
//! of `qlab train` is one task, so its matrix is one column: a score per seed.
//!
//! - Point estimates: [`iqm`] (interquartile mean), [`mean`], [`median`],
//!   [`optimality_gap`], [`probability_of_improvement`] and the [`performance_profile`].
//! - Their intervals: [`Bootstrap`], the stratified bootstrap (runs resampled with
//!   replacement independently within each task) with percentile intervals, seeded with
//!   [`EnvRng`] so that the same seed gives the same interval, bit for bit.
//!
//! `tools/rliable_reference.py` runs rliable on fixed matrices; the tests here check the point
//! estimates against it to 1e-6 and the intervals within Monte Carlo error.
//!
//! ```
//! use qlab::stats::{Bootstrap, ScoreMatrix, iqm};
//! # fn main() -> Result<(), qlab::stats::StatsError> {
//! let seeds = ScoreMatrix::from_column(&[1.0, 2.0, 3.0, 4.0, 100.0])?;
//! // int(0.25 · 5) = 1 score cut at each end: the mean of 2, 3, 4.
//! assert_eq!(iqm(&seeds), 3.0);
//! let e = Bootstrap::default().interval(&seeds, iqm)?;
//! assert!(e.low <= e.point && e.point <= e.high);
//! # Ok(())
//! # }
//! ```

use std::fmt;

use qlab_envs::EnvRng;

/// What is wrong with a score matrix or a bootstrap's settings.
#[derive(Clone, Debug, PartialEq)]
pub enum StatsError {
    /// A matrix without runs or without tasks.
    Empty {
        /// The number of runs given.
        runs: usize,
        /// The number of tasks given.
        tasks: usize,
    },
    /// A score that is NaN or infinite.
    NotFinite {
        /// The score's run (row).
        run: usize,
        /// The score's task (column).
        task: usize,
        /// The score.
        value: f64,
    },
    /// Rows of different lengths, or a flat buffer of the wrong length.
    Shape {
        /// What was given, in words.
        what: String,
    },
    /// Two matrices compared task by task with different numbers of tasks.
    TaskMismatch {
        /// The first matrix's tasks.
        x: usize,
        /// The second matrix's tasks.
        y: usize,
    },
    /// A bootstrap of zero resamples.
    NoReps,
    /// A confidence level outside (0, 1).
    Confidence(f64),
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::Empty { runs, tasks } => write!(
                f,
                "a score matrix needs at least one run and one task, got {runs} runs × {tasks} tasks"
            ),
            StatsError::NotFinite { run, task, value } => write!(
                f,
                "the score of run {run}, task {task} is {value}; scores must be finite numbers"
            ),
            StatsError::Shape { what } => write!(f, "not a score matrix: {what}"),
            StatsError::TaskMismatch { x, y } => write!(
                f,
                "the score matrices have {x} and {y} tasks; comparing them needs the same tasks"
            ),
            StatsError::NoReps => write!(f, "the bootstrap needs at least 1 resample, got 0"),
            StatsError::Confidence(c) => {
                write!(f, "the confidence level must be in (0, 1), got {c}")
            }
        }
    }
}

impl std::error::Error for StatsError {}

/// This module's results.
pub type Result<T> = std::result::Result<T, StatsError>;

/// Scores of runs on tasks: `runs × tasks`, every score finite, at least one of each (rliable's
/// `(num_runs, num_tasks)` arrays).
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreMatrix {
    runs: usize,
    tasks: usize,
    /// Task-major: task `t`'s runs are `data[t * runs..(t + 1) * runs]`, so that a stratum of
    /// the bootstrap is one slice.
    data: Vec<f64>,
}

impl ScoreMatrix {
    /// The matrix whose row `r` is `rows[r]`: run `r`'s score on each task.
    ///
    /// # Errors
    /// No rows or an empty row ([`StatsError::Empty`]), rows of different lengths
    /// ([`StatsError::Shape`]), a NaN or infinite score ([`StatsError::NotFinite`]).
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Result<ScoreMatrix> {
        let runs = rows.len();
        let tasks = rows.first().map_or(0, |r| r.as_ref().len());
        if runs == 0 || tasks == 0 {
            return Err(StatsError::Empty { runs, tasks });
        }
        if let Some((r, row)) = rows
            .iter()
            .enumerate()
            .find(|(_, row)| row.as_ref().len() != tasks)
        {
            return Err(StatsError::Shape {
                what: format!(
                    "run {r} has {} scores, run 0 has {tasks}; every run needs one score per task",
                    row.as_ref().len()
                ),
            });
        }
        let mut data = Vec::with_capacity(runs * tasks);
        for t in 0..tasks {
            for (r, row) in rows.iter().enumerate() {
                let value = row.as_ref()[t];
                if !value.is_finite() {
                    return Err(StatsError::NotFinite {
                        run: r,
                        task: t,
                        value,
                    });
                }
                data.push(value);
            }
        }
        Ok(ScoreMatrix { runs, tasks, data })
    }

    /// One task: `scores[r]` is run (seed) `r`'s score.
    ///
    /// # Errors
    /// As [`from_rows`](ScoreMatrix::from_rows).
    pub fn from_column(scores: &[f64]) -> Result<ScoreMatrix> {
        if scores.is_empty() {
            return Err(StatsError::Empty { runs: 0, tasks: 1 });
        }
        let rows: Vec<[f64; 1]> = scores.iter().map(|&s| [s]).collect();
        ScoreMatrix::from_rows(&rows)
    }

    /// The number of runs (rows).
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// The number of tasks (columns).
    pub fn tasks(&self) -> usize {
        self.tasks
    }

    /// The score of `run` on `task`; `None` outside the matrix.
    pub fn get(&self, run: usize, task: usize) -> Option<f64> {
        (run < self.runs && task < self.tasks).then(|| self.data[task * self.runs + run])
    }

    /// Task `task`'s scores, one per run.
    ///
    /// # Panics
    /// If `task >= self.tasks()`.
    pub fn task(&self, task: usize) -> &[f64] {
        &self.data[task * self.runs..(task + 1) * self.runs]
    }

    /// Every score, task by task.
    fn all(&self) -> &[f64] {
        &self.data
    }

    /// Each task's mean over runs (numpy's `np.mean(scores, axis=0)`).
    fn task_means(&self) -> Vec<f64> {
        (0..self.tasks)
            .map(|t| self.task(t).iter().sum::<f64>() / self.runs as f64)
            .collect()
    }
}

/// The interquartile mean over all scores: scipy's `trim_mean(scores, 0.25, axis=None)`,
/// rliable's `aggregate_iqm`. Of the `n` scores sorted, `⌊0.25·n⌋` are cut at each end and the
/// rest averaged (so with fewer than 4 scores nothing is cut).
pub fn iqm(scores: &ScoreMatrix) -> f64 {
    let mut sorted = scores.all().to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    trimmed_mean_of_sorted(&sorted)
}

/// scipy's `trim_mean(·, 0.25)` of sorted values: `int(0.25 * n)` cut at each end.
fn trimmed_mean_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    let cut = n / 4;
    let kept = &sorted[cut..n - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// The mean over tasks of each task's mean over runs (rliable's `aggregate_mean`).
pub fn mean(scores: &ScoreMatrix) -> f64 {
    let means = scores.task_means();
    means.iter().sum::<f64>() / means.len() as f64
}

/// The median over tasks of each task's mean over runs (rliable's `aggregate_median`; numpy's
/// median: the mean of the two middle values for an even number of tasks).
pub fn median(scores: &ScoreMatrix) -> f64 {
    let mut means = scores.task_means();
    means.sort_unstable_by(f64::total_cmp);
    let n = means.len();
    if n % 2 == 1 {
        means[n / 2]
    } else {
        (means[n / 2 - 1] + means[n / 2]) / 2.0
    }
}

/// How far the scores fall short of `gamma` on average: `gamma − mean(min(score, gamma))` over
/// all scores (rliable's `aggregate_optimality_gap`; rliable's default `gamma` is 1, for
/// normalized scores). Scores above `gamma` count as `gamma`: beating the target earns nothing.
pub fn optimality_gap(scores: &ScoreMatrix, gamma: f64) -> f64 {
    let all = scores.all();
    gamma - all.iter().map(|&s| s.min(gamma)).sum::<f64>() / all.len() as f64
}

/// The probability that a run of `x` scores higher than a run of `y` on a task, averaged over
/// tasks (rliable's `probability_of_improvement`): per task the Mann–Whitney
/// `U / (n_x · n_y)`, where `U` counts the pairs `(x_i, y_j)` with `x_i > y_j`, ties counting
/// ½. The runs of `x` and `y` may differ in number.
///
/// # Errors
/// [`StatsError::TaskMismatch`] when the matrices' tasks differ in number.
pub fn probability_of_improvement(x: &ScoreMatrix, y: &ScoreMatrix) -> Result<f64> {
    if x.tasks != y.tasks {
        return Err(StatsError::TaskMismatch {
            x: x.tasks,
            y: y.tasks,
        });
    }
    let per_task = |t: usize| {
        let (xs, ys) = (x.task(t), y.task(t));
        // Twice U, counted in integers: 2 per win, 1 per tie.
        let twice_u: usize = xs
            .iter()
            .map(|a| {
                ys.iter()
                    .map(|b| match a.total_cmp(b) {
                        std::cmp::Ordering::Greater => 2,
                        std::cmp::Ordering::Equal => 1,
                        std::cmp::Ordering::Less => 0,
                    })
                    .sum::<usize>()
            })
            .sum();
        twice_u as f64 / (2 * xs.len() * ys.len()) as f64
    };
    Ok((0..x.tasks).map(per_task).sum::<f64>() / x.tasks as f64)
}

/// The performance profile (rliable's score distribution, `create_performance_profile` with
/// its defaults): for each `τ` in `taus`, the fraction of all scores strictly above `τ` — per
/// task the fraction of runs above it, averaged over tasks.
pub fn performance_profile(scores: &ScoreMatrix, taus: &[f64]) -> Vec<f64> {
    let all = scores.all();
    taus.iter()
        .map(|&tau| all.iter().filter(|&&s| s > tau).count() as f64 / all.len() as f64)
        .collect()
}

/// The `q`-th percentile (`0 ≤ q ≤ 100`) of `sorted` (ascending, not empty) by numpy's default
/// rule, which arch's percentile intervals use: linear interpolation between the order
/// statistics at `q / 100 · (n − 1)`.
///
/// # Panics
/// If `sorted` is empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "the percentile of no values");
    let pos = (q / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    match sorted.get(lo + 1) {
        Some(&hi) if frac > 0.0 => sorted[lo] + (hi - sorted[lo]) * frac,
        _ => sorted[lo],
    }
}

/// A point estimate with its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The statistic of the scores themselves.
    pub point: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
}

/// The stratified bootstrap with percentile intervals (rliable's `get_interval_estimates`
/// with its `StratifiedBootstrap`, method `percentile`).
///
/// Each resample draws, for every task, as many runs as the matrix has, uniformly with
/// replacement from that task's runs; statistics of several matrices (the probability of
/// improvement) resample each matrix independently. The interval's ends are the
/// `(1 − confidence) / 2` and `(1 + confidence) / 2` percentiles ([`percentile`]) of the
/// statistic over the resamples.
///
/// The resampling indices come from one [`EnvRng`] seeded with `seed` and drawn in a fixed
/// order (resample by resample; matrix by matrix; task by task; run by run), so the same seed
/// and scores give the same interval, bit for bit. rliable draws from numpy's generator, so
/// its intervals agree with these within Monte Carlo error only.
///
/// | field | default | valid |
/// |---|---|---|
/// | `reps` | 2,000 | ≥ 1 resamples (rliable's default is 50,000) |
/// | `confidence` | 0.95 | in (0, 1) |
/// | `seed` | 0 | any |
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bootstrap {
    /// The number of resamples.
    pub reps: usize,
    /// The interval's coverage.
    pub confidence: f64,
    /// The seed of the resampling.
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            reps: 2_000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

impl Bootstrap {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`StatsError::NoReps`] for 0 resamples; [`StatsError::Confidence`] for a confidence
    /// level outside (0, 1).
    pub fn check(&self) -> Result<()> {
        if self.reps == 0 {
            return Err(StatsError::NoReps);
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(StatsError::Confidence(self.confidence));
        }
        Ok(())
    }

    /// The statistic `stat` of each resample of `samples`: `reps` vectors. `stat` takes one
    /// resampled matrix per sample, in the order given, and returns a vector of the same length
    /// every time.
    ///
    /// # Errors
    /// As [`check`](Bootstrap::check).
    pub fn replicates<F>(&self, samples: &[&ScoreMatrix], mut stat: F) -> Result<Vec<Vec<f64>>>
    where
        F: FnMut(&[ScoreMatrix]) -> Vec<f64>,
    {
        self.check()?;
        let mut rng = EnvRng::new(self.seed);
        let mut resampled: Vec<ScoreMatrix> = samples.iter().map(|&m| m.clone()).collect();
        let mut out = Vec::with_capacity(self.reps);
        for _ in 0..self.reps {
            for (source, target) in samples.iter().zip(&mut resampled) {
                let runs = source.runs;
                for t in 0..source.tasks {
                    let stratum = source.task(t);
                    for slot in &mut target.data[t * runs..(t + 1) * runs] {
                        *slot = stratum[rng.below(runs)];
                    }
                }
            }
            out.push(stat(&resampled));
        }
        Ok(out)
    }

    /// Point estimates of `stat` on `samples` and their intervals, one per entry of the vector
    /// `stat` returns (see [`replicates`](Bootstrap::replicates)).
    ///
    /// # Errors
    /// As [`check`](Bootstrap::check).
    pub fn intervals<F>(&self, samples: &[&ScoreMatrix], mut stat: F) -> Result<Vec<Estimate>>
    where
        F: FnMut(&[ScoreMatrix]) -> Vec<f64>,
    {
        let originals: Vec<ScoreMatrix> = samples.iter().map(|&m| m.clone()).collect();
        let points = stat(&originals);
        let reps = self.replicates(samples, &mut stat)?;
        let (q_low, q_high) = self.percentiles();
        let mut column = Vec::with_capacity(reps.len());
        Ok(points
            .iter()
            .enumerate()
            .map(|(k, &point)| {
                column.clear();
                column.extend(reps.iter().map(|r| r[k]));
                column.sort_unstable_by(f64::total_cmp);
                Estimate {
                    point,
                    low: percentile(&column, q_low),
                    high: percentile(&column, q_high),
                }
            })
            .collect())
    }

    /// The percentiles (0 to 100) of the interval's ends.
    pub fn percentiles(&self) -> (f64, f64) {
        let alpha = (1.0 - self.confidence) / 2.0;
        (100.0 * alpha, 100.0 * (1.0 - alpha))
    }

    /// `stat` of `scores` and its interval.
    ///
    /// # Errors
    /// As [`check`](Bootstrap::check).
    pub fn interval<F>(&self, scores: &ScoreMatrix, stat: F) -> Result<Estimate>
    where
        F: Fn(&ScoreMatrix) -> f64,
    {
        let e = self.intervals(&[scores], |m| vec![stat(&m[0])])?;
        Ok(e[0])
    }

    /// [`probability_of_improvement`] of `x` over `y` and its interval, `x` and `y`
    /// resampled independently.
    ///
    /// # Errors
    /// As [`check`](Bootstrap::check) and [`probability_of_improvement`].
    pub fn probability_of_improvement(&self, x: &ScoreMatrix, y: &ScoreMatrix) -> Result<Estimate> {
        probability_of_improvement(x, y)?;
        let e = self.intervals(&[x, y], |m| {
            // Same task counts, checked above; resampling keeps them.
            vec![probability_of_improvement(&m[0], &m[1]).unwrap_or(f64::NAN)]
        })?;
        Ok(e[0])
    }

    /// The [`performance_profile`] of `scores` at each of `taus` and its band.
    ///
    /// # Errors
    /// As [`check`](Bootstrap::check).
    pub fn performance_profile(&self, scores: &ScoreMatrix, taus: &[f64]) -> Result<Vec<Estimate>> {
        self.intervals(&[scores], |m| performance_profile(&m[0], taus))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/data/rliable_reference.json`, written by `tools/rliable_reference.py` (rliable's
    /// numbers on fixed matrices; 50,000 resamples for its intervals).
    fn reference() -> serde_json::Value {
        serde_json::from_str(include_str!("../tests/data/rliable_reference.json")).unwrap()
    }

    fn matrix(r: &serde_json::Value, name: &str) -> ScoreMatrix {
        let rows: Vec<Vec<f64>> = serde_json::from_value(r["matrices"][name].clone()).unwrap();
        ScoreMatrix::from_rows(&rows).unwrap()
    }

    fn num(v: &serde_json::Value) -> f64 {
        v.as_f64().unwrap()
    }

    fn nums(v: &serde_json::Value) -> Vec<f64> {
        serde_json::from_value(v.clone()).unwrap()
    }

    /// The resamples of the qlab side of the interval checks.
    const REPS: usize = 20_000;

    /// Whether rliable's interval end `reference` is what qlab's resamples `sorted` (ascending,
    /// [`REPS`] of them) give at percentile `q`, within Monte Carlo error.
    ///
    /// The tolerance comes from the order statistics, so it holds for smooth and for lumpy
    /// (few distinct values) bootstrap distributions alike: an empirical quantile of `R`
    /// resamples at level `p` sits at a true level within `√(p(1 − p)/R)` (one binomial
    /// standard error). With qlab's `R = 20,000` and rliable's `50,000`, the two estimates'
    /// levels differ by a standard error of `σ = √(p(1 − p)(1/20,000 + 1/50,000))` (0.0013 at
    /// `p = 0.025`). The reference passes when it lies between qlab's quantiles at `p ± 4σ`
    /// (a chance of about 6e-5 of failing when both are right); a wrong statistic or a wrong
    /// resampling scheme moves an end by far more.
    fn within_monte_carlo_error(sorted: &[f64], q: f64, reference: f64, reference_reps: f64) {
        let p = q / 100.0;
        let sigma = (p * (1.0 - p) * (1.0 / sorted.len() as f64 + 1.0 / reference_reps)).sqrt();
        let lo = percentile(sorted, 100.0 * (p - 4.0 * sigma).max(0.0));
        let hi = percentile(sorted, 100.0 * (p + 4.0 * sigma).min(1.0));
        assert!(
            lo - 1e-9 <= reference && reference <= hi + 1e-9,
            "rliable's {reference} at percentile {q} is outside qlab's [{lo}, {hi}]"
        );
    }

    /// Checks each component of `stat`'s bootstrap on `samples` against rliable's ends.
    fn check_intervals<F>(samples: &[&ScoreMatrix], stat: F, low: &[f64], high: &[f64], refs: f64)
    where
        F: FnMut(&[ScoreMatrix]) -> Vec<f64>,
    {
        let b = Bootstrap {
            reps: REPS,
            seed: 7,
            ..Bootstrap::default()
        };
        let reps = b.replicates(samples, stat).unwrap();
        let (q_low, q_high) = b.percentiles();
        for k in 0..low.len() {
            let mut column: Vec<f64> = reps.iter().map(|r| r[k]).collect();
            column.sort_unstable_by(f64::total_cmp);
            within_monte_carlo_error(&column, q_low, low[k], refs);
            within_monte_carlo_error(&column, q_high, high[k], refs);
        }
    }

    #[test]
    fn point_estimates_equal_rliables() {
        let r = reference();
        for a in r["aggregates"].as_array().unwrap() {
            let name = a["matrix"].as_str().unwrap();
            let m = matrix(&r, name);
            let gamma = num(&a["gamma"]);
            for (key, ours) in [
                ("iqm", iqm(&m)),
                ("mean", mean(&m)),
                ("median", median(&m)),
                ("optimality_gap", optimality_gap(&m, gamma)),
            ] {
                let theirs = num(&a[key]["point"]);
                assert!(
                    (ours - theirs).abs() < 1e-6,
                    "{name} {key}: {ours} vs {theirs}"
                );
            }
        }
        for p in r["probability_of_improvement"].as_array().unwrap() {
            let (x, y) = (p["x"].as_str().unwrap(), p["y"].as_str().unwrap());
            let ours = probability_of_improvement(&matrix(&r, x), &matrix(&r, y)).unwrap();
            let theirs = num(&p["point"]);
            assert!(
                (ours - theirs).abs() < 1e-6,
                "P({x} > {y}): {ours} vs {theirs}"
            );
        }
        for p in r["profiles"].as_array().unwrap() {
            let name = p["matrix"].as_str().unwrap();
            let ours = performance_profile(&matrix(&r, name), &nums(&p["taus"]));
            for (o, t) in ours.iter().zip(nums(&p["point"])) {
                assert!((o - t).abs() < 1e-6, "profile of {name}: {ours:?}");
            }
        }
        let pc = &r["percentiles"];
        let mut values = nums(&pc["values"]);
        values.sort_unstable_by(f64::total_cmp);
        for (q, t) in nums(&pc["q"]).into_iter().zip(nums(&pc["numpy"])) {
            assert!((percentile(&values, q) - t).abs() < 1e-12, "percentile {q}");
        }
    }

    #[test]
    fn iqm_cuts_a_quarter_rounded_down_at_each_end() {
        // n = 3: ⌊0.75⌋ = 0 cut, the plain mean.
        let m = ScoreMatrix::from_column(&[0.0, 1.0, 5.0]).unwrap();
        assert_eq!(iqm(&m), 2.0);
        // n = 7: 1 cut at each end of 1..7 → mean of 2..6.
        let m = ScoreMatrix::from_column(&[7.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(iqm(&m), 4.0);
        // n = 8: 2 cut at each end; outliers gone.
        let m = ScoreMatrix::from_column(&[-1e9, -1e9, 1.0, 2.0, 3.0, 4.0, 1e9, 1e9]).unwrap();
        assert_eq!(iqm(&m), 2.5);
    }

    #[test]
    fn intervals_agree_with_rliables_within_monte_carlo_error() {
        let r = reference();
        let refs = num(&r["reps"]);
        for a in r["aggregates"].as_array().unwrap() {
            let m = matrix(&r, a["matrix"].as_str().unwrap());
            let gamma = num(&a["gamma"]);
            let keys = ["iqm", "mean", "median", "optimality_gap"];
            let low: Vec<f64> = keys.iter().map(|k| num(&a[k]["low"])).collect();
            let high: Vec<f64> = keys.iter().map(|k| num(&a[k]["high"])).collect();
            let stat = |s: &[ScoreMatrix]| {
                let m = &s[0];
                vec![iqm(m), mean(m), median(m), optimality_gap(m, gamma)]
            };
            check_intervals(&[&m], stat, &low, &high, refs);
        }
        for p in r["probability_of_improvement"].as_array().unwrap() {
            let x = matrix(&r, p["x"].as_str().unwrap());
            let y = matrix(&r, p["y"].as_str().unwrap());
            let stat = |s: &[ScoreMatrix]| vec![probability_of_improvement(&s[0], &s[1]).unwrap()];
            check_intervals(&[&x, &y], stat, &[num(&p["low"])], &[num(&p["high"])], refs);
        }
        for p in r["profiles"].as_array().unwrap() {
            let m = matrix(&r, p["matrix"].as_str().unwrap());
            let taus = nums(&p["taus"]);
            let stat = |s: &[ScoreMatrix]| performance_profile(&s[0], &taus);
            check_intervals(&[&m], stat, &nums(&p["low"]), &nums(&p["high"]), refs);
        }
    }

    #[test]
    fn a_wrong_statistic_fails_the_monte_carlo_check() {
        // The check above can fail: the mean's interval is not the IQM's on ties_10x1.
        let r = reference();
        let a = &r["aggregates"][0];
        let m = matrix(&r, a["matrix"].as_str().unwrap());
        let result = std::panic::catch_unwind(|| {
            check_intervals(
                &[&m],
                |s| vec![mean(&s[0])],
                &[num(&a["iqm"]["low"])],
                &[num(&a["iqm"]["high"])],
                num(&r["reps"]),
            )
        });
        assert!(result.is_err());
    }

    #[test]
    fn the_same_seed_gives_the_same_interval_bits() {
        let m =
            ScoreMatrix::from_rows(&[[1.0, 2.0], [3.0, -1.0], [0.5, 0.25], [7.0, 2.0]]).unwrap();
        let b = Bootstrap {
            reps: 500,
            seed: 42,
            ..Bootstrap::default()
        };
        let one = b.interval(&m, iqm).unwrap();
        let two = b.interval(&m, iqm).unwrap();
        assert_eq!(one.low.to_bits(), two.low.to_bits());
        assert_eq!(one.high.to_bits(), two.high.to_bits());
        assert_eq!(one.point, iqm(&m));
        let other = Bootstrap { seed: 43, ..b }.interval(&m, iqm).unwrap();
        assert_ne!((one.low, one.high), (other.low, other.high));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let empty: [[f64; 1]; 0] = [];
        assert_eq!(
            ScoreMatrix::from_rows(&empty),
            Err(StatsError::Empty { runs: 0, tasks: 0 })
        );
        assert!(matches!(
            ScoreMatrix::from_column(&[]),
            Err(StatsError::Empty { runs: 0, .. })
        ));
        let e = ScoreMatrix::from_column(&[1.0, f64::NAN]).unwrap_err();
        assert!(matches!(
            e,
            StatsError::NotFinite {
                run: 1,
                task: 0,
                ..
            }
        ));
        assert!(e.to_string().contains("NaN"), "{e}");
        let e = ScoreMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err();
        assert!(
            e.to_string().contains("run 1 has 1 scores, run 0 has 2"),
            "{e}"
        );
        let two = ScoreMatrix::from_rows(&[[1.0, 2.0]]).unwrap();
        let one = ScoreMatrix::from_column(&[1.0]).unwrap();
        assert_eq!(
            probability_of_improvement(&two, &one),
            Err(StatsError::TaskMismatch { x: 2, y: 1 })
        );
        assert_eq!(
            Bootstrap::default().probability_of_improvement(&two, &one),
            Err(StatsError::TaskMismatch { x: 2, y: 1 })
        );
        let none = Bootstrap {
            reps: 0,
            ..Bootstrap::default()
        };
        assert_eq!(none.interval(&one, iqm), Err(StatsError::NoReps));
        let all = Bootstrap {
            confidence: 1.0,
            ..Bootstrap::default()
        };
        assert_eq!(all.interval(&one, iqm), Err(StatsError::Confidence(1.0)));
    }
}
