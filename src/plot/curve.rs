//! The data behind a learning-curve plot, computed from a run's `metrics.csv` files: pure
//! functions, so that tests compare what is drawn with the files.
//!
//! For each run, one [`Curve`]:
//! 1. Each seed's metric column is smoothed with a trailing moving mean over `smooth`
//!    episodes ([`smooth`]; fewer at the start, empty cells skipped).
//! 2. The seeds are aligned:
//!    - `x = episode`: by row, so the i-th episode of every seed is one point. The curve stops
//!      at the last episode every seed reached, so that every point averages all the seeds
//!      with a value there (runs with a step budget have a different number of episodes per
//!      seed).
//!    - `x = step`: each seed's points (its `step` column at the end of each episode) are
//!      interpolated linearly onto a common grid of evenly spaced steps ([`interpolate`]),
//!      from the latest first step to the earliest last step over the seeds (no
//!      extrapolation), with as many points as the longest seed has episodes, at most
//!      [`CurveSpec::step_points`].
//! 3. At each point, the mean over the seeds with a value and a band ([`Band`], computed by
//!    [`summarize_with`]); with [`Band::Bootstrap`] the line is the IQM over those seeds
//!    instead of their mean.

use std::str::FromStr;

use anyhow::{Result, bail};

use super::runs::Run;
use crate::stats::{self, Bootstrap, ScoreMatrix};

/// What the x axis counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XAxis {
    /// Training episodes (the `episode` column).
    Episode,
    /// Env steps since the start of training (the `step` column).
    Step,
}

impl FromStr for XAxis {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "episode" => Ok(XAxis::Episode),
            "step" => Ok(XAxis::Step),
            _ => Err(format!("x axis `{s}` is not one of: episode, step")),
        }
    }
}

/// The shaded band around each run's mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    /// Mean ± the sample standard deviation over seeds (divisor n − 1).
    Std,
    /// Mean ± the half-width of a 95% confidence interval of the mean: Student's
    /// t(0.975, n − 1) · std / √n.
    Ci95,
    /// From the lowest to the highest seed.
    MinMax,
    /// The IQM (interquartile mean) over seeds — the line is the IQM, not the mean — with its
    /// stratified-bootstrap 95% percentile interval ([`crate::stats`], rliable's).
    Bootstrap,
    /// No band.
    None,
}

impl FromStr for Band {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "std" => Ok(Band::Std),
            "ci95" => Ok(Band::Ci95),
            "minmax" => Ok(Band::MinMax),
            "bootstrap" => Ok(Band::Bootstrap),
            "none" => Ok(Band::None),
            _ => Err(format!(
                "band `{s}` is not one of: std, ci95, minmax, bootstrap, none"
            )),
        }
    }
}

/// What to compute for each run.
///
/// | field | default | valid |
/// |---|---|---|
/// | `metric` | `"return"` | a column of `metrics.csv` other than `episode` and `step` |
/// | `x` | [`XAxis::Episode`] | |
/// | `smooth` | 1 (none) | ≥ 1 episodes |
/// | `band` | [`Band::Std`] | |
/// | `step_points` | 500 | ≥ 2: the most grid points for `x = step` |
/// | `bootstrap` | [`Bootstrap::default`] | the resampling of [`Band::Bootstrap`]; reps ≥ 1 |
#[derive(Clone, Debug, PartialEq)]
pub struct CurveSpec {
    /// The `metrics.csv` column plotted.
    pub metric: String,
    /// The x axis.
    pub x: XAxis,
    /// The trailing moving-mean window, in episodes.
    pub smooth: usize,
    /// The band.
    pub band: Band,
    /// The most points of the common step grid.
    pub step_points: usize,
    /// The resampling behind [`Band::Bootstrap`] (each point resampled with the same seed).
    pub bootstrap: Bootstrap,
}

impl Default for CurveSpec {
    fn default() -> Self {
        CurveSpec {
            metric: "return".into(),
            x: XAxis::Episode,
            smooth: 1,
            band: Band::Std,
            step_points: 500,
            bootstrap: Bootstrap::default(),
        }
    }
}

/// One run's line and band: parallel vectors, one entry per point.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The legend entry.
    pub label: String,
    /// The x of each point (episode or env step).
    pub x: Vec<f64>,
    /// The mean over the seeds (the IQM with [`Band::Bootstrap`]; for a performance profile,
    /// the fraction of seeds above each x).
    pub mean: Vec<f64>,
    /// The band's lower edge.
    pub lower: Vec<f64>,
    /// The band's upper edge.
    pub upper: Vec<f64>,
    /// How many seeds had a value at each point.
    pub count: Vec<usize>,
}

/// The mean of `values` summed in order, `None` when there are none.
pub(crate) fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Trailing moving mean over `window` entries: entry `i` is the mean of the values present
/// among entries `i + 1 − window ..= i` (fewer at the start), `None` when there are none.
/// A window of 0 or 1 returns the values unchanged.
pub fn smooth(values: &[Option<f64>], window: usize) -> Vec<Option<f64>> {
    let window = window.max(1);
    // Each window summed afresh, so that results do not drift over long runs.
    (0..values.len())
        .map(|i| {
            mean(
                values[(i + 1).saturating_sub(window)..=i]
                    .iter()
                    .flatten()
                    .copied(),
            )
        })
        .collect()
}

/// The mean of `values` and the band's lower and upper edges. A single value has a band of
/// zero width. [`Band::Bootstrap`] resamples as [`Bootstrap::default`] does; see
/// [`summarize_with`].
///
/// # Panics
/// If `values` is empty.
pub fn summarize(values: &[f64], band: Band) -> (f64, f64, f64) {
    summarize_with(values, band, &Bootstrap::default())
}

/// [`summarize`] with the resampling of [`Band::Bootstrap`], whose line is the IQM of
/// `values` and whose band is its interval ([`Bootstrap::interval`]). Like the mean of the
/// other bands, it is NaN when a value is not finite (or when `bootstrap` has 0 resamples).
///
/// # Panics
/// If `values` is empty.
pub fn summarize_with(values: &[f64], band: Band, bootstrap: &Bootstrap) -> (f64, f64, f64) {
    assert!(!values.is_empty(), "summarize needs at least one value");
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let std = || {
        if n < 2 {
            0.0
        } else {
            (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        }
    };
    match band {
        Band::Std => {
            let s = std();
            (mean, mean - s, mean + s)
        }
        Band::Ci95 => {
            let half = if n < 2 {
                0.0
            } else {
                t_quantile_975(n - 1) * std() / (n as f64).sqrt()
            };
            (mean, mean - half, mean + half)
        }
        Band::MinMax => {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (mean, lo, hi)
        }
        Band::Bootstrap => ScoreMatrix::from_column(values)
            .and_then(|m| bootstrap.interval(&m, stats::iqm))
            .map_or((f64::NAN, f64::NAN, f64::NAN), |e| (e.point, e.low, e.high)),
        Band::None => (mean, mean, mean),
    }
}

/// Student's t quantile t(0.975, df) for `df ≥ 1`: the table for `df ≤ 30`, the
/// Cornish–Fisher expansion in 1/df (Abramowitz & Stegun 26.7.5, four terms) above, within
/// 1e-5 there. The table is `tools/t_quantiles.py`'s output.
pub fn t_quantile_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062047362,
        4.30265272975,
        3.18244630528,
        2.7764451052,
        2.57058183564,
        2.44691185114,
        2.36462425159,
        2.3060041352,
        2.2621571628,
        2.22813885199,
        2.20098516009,
        2.17881282967,
        2.16036865646,
        2.14478668792,
        2.13144954556,
        2.11990529922,
        2.10981557783,
        2.10092204024,
        2.09302405441,
        2.08596344727,
        2.07961384473,
        2.0738730679,
        2.06865761042,
        2.06389856163,
        2.05953855275,
        2.05552943864,
        2.05183051648,
        2.0484071418,
        2.04522964213,
        2.0422724563,
    ];
    if (1..=30).contains(&df) {
        return TABLE[df - 1];
    }
    let z: f64 = 1.959_963_984_540_054; // the normal quantile Φ⁻¹(0.975)
    let v = df.max(1) as f64;
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    let g1 = (z3 + z) / 4.0;
    let g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    let g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    let g4 = (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92160.0;
    z + g1 / v + g2 / v.powi(2) + g3 / v.powi(3) + g4 / v.powi(4)
}

/// The value at `x` of the piecewise-linear function through the points `(xs[i], ys[i])`,
/// `xs` non-decreasing; `None` outside `[xs[0], xs[last]]`. Where several points share an x,
/// the last of them counts.
pub fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n == 0 || x < xs[0] || x > xs[n - 1] {
        return None;
    }
    // The first point right of x; x lies in [xs[j - 1], xs[j]).
    let j = xs[..n].partition_point(|&p| p <= x);
    if j == n {
        return Some(ys[n - 1]);
    }
    let (x0, x1, y0, y1) = (xs[j - 1], xs[j], ys[j - 1], ys[j]);
    Some(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
}

/// The curve of one run. `label` becomes its legend entry.
///
/// # Errors
/// A metric the run's `metrics.csv` files lack (the message lists those they have); a metric
/// with no value at all; a malformed cell; [`Band::Bootstrap`] with 0 resamples.
pub fn curve(run: &Run, label: &str, spec: &CurveSpec) -> Result<Curve> {
    run.check_metric(&spec.metric)?;
    if spec.band == Band::Bootstrap {
        spec.bootstrap.check()?;
    }
    let mut series = Vec::with_capacity(run.seeds.len());
    for seed in &run.seeds {
        let x_column = match spec.x {
            XAxis::Episode => "episode",
            XAxis::Step => "step",
        };
        let x = seed.metrics.numbers(x_column)?;
        let y = smooth(&seed.metrics.numbers(&spec.metric)?, spec.smooth);
        series.push((x, y));
    }
    let mut c = Curve {
        label: label.to_string(),
        x: Vec::new(),
        mean: Vec::new(),
        lower: Vec::new(),
        upper: Vec::new(),
        count: Vec::new(),
    };
    let push = |c: &mut Curve, x: f64, values: &[f64]| {
        if values.is_empty() {
            return;
        }
        let (m, lo, hi) = summarize_with(values, spec.band, &spec.bootstrap);
        c.x.push(x);
        c.mean.push(m);
        c.lower.push(lo);
        c.upper.push(hi);
        c.count.push(values.len());
    };
    let mut values = Vec::with_capacity(series.len());
    match spec.x {
        XAxis::Episode => {
            let rows = series.iter().map(|(x, _)| x.len()).min().unwrap_or(0);
            for i in 0..rows {
                let Some(x) = series[0].0[i] else {
                    bail!(
                        "{}:{}: the `episode` cell is empty",
                        run.seeds[0].metrics.path.display(),
                        i + 2
                    );
                };
                values.clear();
                values.extend(series.iter().filter_map(|(_, y)| y[i]));
                push(&mut c, x, &values);
            }
        }
        XAxis::Step => {
            let points: Vec<(Vec<f64>, Vec<f64>)> = series
                .iter()
                .map(|(x, y)| {
                    x.iter()
                        .zip(y)
                        .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
                        .unzip()
                })
                .collect();
            if points.iter().all(|(xs, _)| !xs.is_empty()) {
                let lo = points.iter().map(|(xs, _)| xs[0]).fold(f64::MIN, f64::max);
                let hi = points
                    .iter()
                    .map(|(xs, _)| xs[xs.len() - 1])
                    .fold(f64::MAX, f64::min);
                if lo > hi {
                    bail!(
                        "{}: the seeds' step ranges do not overlap; plot it with --x episode",
                        run.dir.display()
                    );
                }
                let longest = points.iter().map(|(xs, _)| xs.len()).max().unwrap_or(1);
                let n = longest.min(spec.step_points.max(2));
                let n = if hi > lo { n.max(2) } else { 1 };
                for k in 0..n {
                    let x = if n == 1 {
                        lo
                    } else {
                        lo + (hi - lo) * k as f64 / (n - 1) as f64
                    };
                    values.clear();
                    values.extend(points.iter().filter_map(|(xs, ys)| interpolate(xs, ys, x)));
                    push(&mut c, x, &values);
                }
            }
        }
    }
    if c.x.is_empty() {
        bail!(
            "{}: metric `{}` has no values",
            run.dir.display(),
            spec.metric
        );
    }
    Ok(c)
}

/// Curves as CSV, one row per point: `run,x,mean,lower,upper,seeds`. Numbers are written in
/// the shortest form that reads back as the same `f64`; labels must not contain commas.
pub fn to_csv(curves: &[Curve]) -> String {
    let mut out = String::from("run,x,mean,lower,upper,seeds\n");
    for c in curves {
        for i in 0..c.x.len() {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                c.label, c.x[i], c.mean[i], c.lower[i], c.upper[i], c.count[i]
            ));
        }
    }
    out
}

/// Legend entries for runs: each run's `[agent] algorithm`, prefixed by its `[env] id` when
/// the runs' envs differ. When a run has no config or two entries would be the same, the
/// directory names instead.
pub fn default_labels(runs: &[Run]) -> Vec<String> {
    let same_env = runs.windows(2).all(|w| w[0].env_id == w[1].env_id);
    let from_config: Option<Vec<String>> = runs
        .iter()
        .map(|r| {
            let algorithm = r.algorithm.clone()?;
            Some(match (&r.env_id, same_env) {
                (Some(env), false) => format!("{env} {algorithm}"),
                _ => algorithm,
            })
        })
        .collect();
    match from_config {
        Some(labels)
            if labels
                .iter()
                .enumerate()
                .all(|(i, l)| !labels[..i].contains(l)) =>
        {
            labels
        }
        _ => runs.iter().map(|r| r.name.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_is_a_trailing_mean_that_skips_empty_cells() {
        let v = [Some(1.0), Some(2.0), None, Some(6.0), Some(10.0)];
        // Hand-computed: [1], [1,2], [1,2,-], [2,-,6], [-,6,10].
        assert_eq!(
            smooth(&v, 3),
            vec![Some(1.0), Some(1.5), Some(1.5), Some(4.0), Some(8.0)]
        );
        assert_eq!(smooth(&v, 1), v.to_vec());
        assert_eq!(
            smooth(&[None, None, Some(3.0)], 2),
            vec![None, None, Some(3.0)]
        );
    }

    #[test]
    fn bands_on_a_hand_example() {
        // Values 1, 2, 6: mean 3, sample variance ((−2)² + (−1)² + 3²) / 2 = 7.
        let v = [1.0, 2.0, 6.0];
        let s = 7f64.sqrt();
        assert_eq!(summarize(&v, Band::Std), (3.0, 3.0 - s, 3.0 + s));
        let half = 4.30265272975 * s / 3f64.sqrt();
        let (m, lo, hi) = summarize(&v, Band::Ci95);
        assert_eq!(m, 3.0);
        assert!((lo - (3.0 - half)).abs() < 1e-12 && (hi - (3.0 + half)).abs() < 1e-12);
        assert_eq!(summarize(&v, Band::MinMax), (3.0, 1.0, 6.0));
        assert_eq!(summarize(&v, Band::None), (3.0, 3.0, 3.0));
        assert_eq!(summarize(&[5.0], Band::Ci95), (5.0, 5.0, 5.0));
    }

    #[test]
    fn t_quantiles_match_mpmath() {
        // tools/t_quantiles.py, "large df".
        for (df, t) in [
            (31, 2.0395134464),
            (40, 2.02107539031),
            (49, 2.00957523713),
            (99, 1.98421695159),
            (1000, 1.96233908083),
        ] {
            assert!((t_quantile_975(df) - t).abs() < 1e-5, "df {df}");
        }
        assert_eq!(t_quantile_975(1), 12.7062047362);
    }

    #[test]
    fn interpolation_is_linear_inside_and_none_outside() {
        let xs = [10.0, 20.0, 40.0];
        let ys = [0.0, 1.0, -1.0];
        assert_eq!(interpolate(&xs, &ys, 10.0), Some(0.0));
        assert_eq!(interpolate(&xs, &ys, 15.0), Some(0.5));
        assert_eq!(interpolate(&xs, &ys, 30.0), Some(0.0));
        assert_eq!(interpolate(&xs, &ys, 40.0), Some(-1.0));
        assert_eq!(interpolate(&xs, &ys, 9.0), None);
        assert_eq!(interpolate(&xs, &ys, 41.0), None);
    }

    #[test]
    fn axes_and_bands_parse_and_name_the_choices() {
        assert_eq!("step".parse::<XAxis>(), Ok(XAxis::Step));
        assert_eq!(
            "time".parse::<XAxis>().unwrap_err(),
            "x axis `time` is not one of: episode, step"
        );
        assert_eq!("minmax".parse::<Band>(), Ok(Band::MinMax));
        assert!("iqr".parse::<Band>().unwrap_err().contains("std, ci95"));
    }
}
