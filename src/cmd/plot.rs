//! `qlab plot`: learning curves of runs, or their performance profiles, as a PNG or SVG
//! chart.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cmd::run_dirs::load_labelled;
use crate::plot::{
    Band, ChartStyle, CurveSpec, ProfileSpec, Run, XAxis, curve, draw_curves, profiles, to_csv,
};
use crate::stats::Bootstrap;

/// Draw learning curves: one line per run (the mean over its seeds, or with --band bootstrap
/// the IQM) with a shaded band; or with --profile, performance profiles.
#[derive(Clone, Debug, clap::Args)]
pub struct PlotArgs {
    /// Run directories written by `qlab train`.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// The metrics.csv column to plot (return, length, epsilon, value_rmse, loss, ...), or
    /// value_mse (value_rmse squared).
    #[arg(long, default_value = "return")]
    pub metric: String,
    /// The x axis: `episode` (seeds aligned by episode) or `step` (seeds interpolated
    /// onto a common grid of env steps).
    #[arg(long, default_value = "episode")]
    pub x: XAxis,
    /// Trailing moving mean over this many episodes, per seed, before averaging.
    #[arg(long, default_value_t = 1)]
    pub smooth: usize,
    /// The band around the mean: std, ci95 (95% confidence interval of the mean), minmax,
    /// bootstrap (the line is then the IQM over seeds, the band its stratified-bootstrap 95%
    /// interval) or none.
    #[arg(long, default_value = "std")]
    pub band: Band,
    /// Draw performance profiles instead of learning curves: x a score τ, y the fraction of
    /// a run's seeds whose final --metric (mean of its last --last episodes) is above τ, with
    /// a stratified-bootstrap 95% band.
    #[arg(long)]
    pub profile: bool,
    /// Episodes at the end of each seed averaged into its final value (--profile).
    #[arg(long, default_value_t = 100)]
    pub last: usize,
    /// Bootstrap resamples behind --band bootstrap and --profile.
    #[arg(long, default_value_t = 2_000)]
    pub reps: usize,
    /// Seed of the bootstrap resampling: the same seed gives the same bands.
    #[arg(long, default_value_t = 0)]
    pub bootstrap_seed: u64,
    /// The image file: .png or .svg.
    #[arg(long, default_value = "curves.png")]
    pub out: PathBuf,
    /// Comma-separated legend entries, one per run (default: the algorithms from the runs'
    /// configs, or the directory names).
    #[arg(long, value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
    /// The title (default: the env and what the band shows).
    #[arg(long)]
    pub title: Option<String>,
    /// Image width in pixels.
    #[arg(long, default_value_t = 1024)]
    pub width: u32,
    /// Image height in pixels.
    #[arg(long, default_value_t = 640)]
    pub height: u32,
    /// Also write the plotted data (run,x,mean,lower,upper,seeds) to this CSV file (with
    /// --band bootstrap `mean` holds the IQM; with --profile x is τ and `mean` the fraction).
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    /// The x axis's range LO,HI (default: the data's).
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "LO,HI"
    )]
    pub xlim: Option<Vec<f64>>,
    /// The y axis's range LO,HI (default: the data's); what lies outside is cut off.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "LO,HI"
    )]
    pub ylim: Option<Vec<f64>>,
}

/// Two numbers of `--xlim` or `--ylim` as a range.
fn limits(flag: &str, v: &Option<Vec<f64>>) -> Result<Option<(f64, f64)>> {
    match v.as_deref() {
        None => Ok(None),
        Some(&[lo, hi]) if crate::plot::chart::drawable(lo, hi) => Ok(Some((lo, hi))),
        Some(other) => bail!(
            "--{flag} takes two finite numbers LO,HI with LO < HI, less than {:e} apart, got {}",
            f64::MAX,
            other
                .iter()
                .map(|x| crate::float::short(*x))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// Draws the chart; returns the line naming the file written.
pub fn run(p: &PlotArgs) -> Result<String> {
    let bootstrap = Bootstrap {
        reps: p.reps,
        seed: p.bootstrap_seed,
        ..Bootstrap::default()
    };
    let spec = CurveSpec {
        metric: p.metric.clone(),
        x: p.x,
        smooth: p.smooth,
        band: p.band,
        bootstrap,
        ..CurveSpec::default()
    };
    if p.runs.is_empty() {
        bail!("give at least one run directory");
    }
    if spec.smooth == 0 {
        bail!("--smooth must be at least 1 episode, got 0");
    }
    let resampled = p.profile || p.band == Band::Bootstrap;
    if resampled && p.reps == 0 {
        bail!("--reps must be at least 1 bootstrap resample, got 0");
    }
    let (x_range, y_range) = (limits("xlim", &p.xlim)?, limits("ylim", &p.ylim)?);
    crate::plot::check_size(p.width, p.height).context("--width, --height")?;
    crate::plot::ImageFormat::of(&p.out).context("--out")?;
    let (runs, labels) = load_labelled(&p.runs, &p.labels)?;
    let (curves, mut style) = if p.profile {
        let spec = ProfileSpec {
            metric: p.metric.clone(),
            last: p.last,
            bootstrap,
            ..ProfileSpec::default()
        };
        (
            profiles(&runs, &labels, &spec)?,
            profile_style(&runs, &spec),
        )
    } else {
        if p.band == Band::Bootstrap {
            at_least_two_seeds(&runs, &labels, "--band bootstrap")?;
        }
        let curves = runs
            .iter()
            .zip(&labels)
            .map(|(r, l)| curve(r, l, &spec))
            .collect::<Result<Vec<_>>>()?;
        (curves, ChartStyle::describe(&runs, &spec))
    };
    if let Some(t) = &p.title {
        style.title = t.clone();
    }
    style.width = p.width;
    style.height = p.height;
    style.x_range = x_range;
    style.y_range = y_range.or(style.y_range);
    draw_curves(&curves, &style, &p.out)?;
    if let Some(data) = &p.data {
        crate::files::write_file(data, to_csv(&curves).as_bytes())?;
    }
    Ok(format!("{}\n", p.out.display()))
}

/// An error naming the first run with fewer than 2 seeds, which `what` cannot resample.
fn at_least_two_seeds(runs: &[Run], labels: &[String], what: &str) -> Result<()> {
    match runs.iter().zip(labels).find(|(r, _)| r.seeds.len() < 2) {
        Some((run, label)) => bail!(
            "{}: `{label}` has {} seed; {what} needs at least 2 seeds per run",
            run.dir.display(),
            run.seeds.len()
        ),
        None => Ok(()),
    }
}

/// The texts of a performance-profile chart, and the y axis from 0 to 1 (a little beyond, so
/// that lines at 0 and 1 stay visible).
fn profile_style(runs: &[Run], spec: &ProfileSpec) -> ChartStyle {
    let env = runs
        .first()
        .and_then(|r| r.env_id.clone())
        .filter(|e| runs.iter().all(|r| r.env_id.as_deref() == Some(e)));
    let what = "performance profile, stratified-bootstrap 95% band";
    ChartStyle {
        title: match env {
            Some(env) => format!("{env}: {what}"),
            None => "Performance profile, stratified-bootstrap 95% band".to_string(),
        },
        x_label: format!(
            "τ (final {}: mean of the last {} episodes)",
            spec.metric, spec.last
        ),
        y_label: format!("fraction of seeds with final {} > τ", spec.metric),
        y_range: Some((-0.02, 1.02)),
        ..ChartStyle::default()
    }
}
