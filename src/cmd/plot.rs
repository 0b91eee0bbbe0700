//! `qlab plot`: learning curves of runs as a PNG or SVG chart.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cmd::run_dirs::load_labelled;
use crate::plot::{Band, ChartStyle, CurveSpec, XAxis, curve, draw_curves, to_csv};

/// Draw learning curves: one line per run (the mean over its seeds) with a shaded band.
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
    /// The band around the mean: std, ci95 (95% confidence interval of the mean), minmax
    /// or none.
    #[arg(long, default_value = "std")]
    pub band: Band,
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
    /// Also write the plotted data (run,x,mean,lower,upper,seeds) to this CSV file.
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
    let spec = CurveSpec {
        metric: p.metric.clone(),
        x: p.x,
        smooth: p.smooth,
        band: p.band,
        ..CurveSpec::default()
    };
    if p.runs.is_empty() {
        bail!("give at least one run directory");
    }
    if spec.smooth == 0 {
        bail!("--smooth must be at least 1 episode, got 0");
    }
    let (x_range, y_range) = (limits("xlim", &p.xlim)?, limits("ylim", &p.ylim)?);
    crate::plot::check_size(p.width, p.height).context("--width, --height")?;
    crate::plot::ImageFormat::of(&p.out).context("--out")?;
    let (runs, labels) = load_labelled(&p.runs, &p.labels)?;
    let curves = runs
        .iter()
        .zip(&labels)
        .map(|(r, l)| curve(r, l, &spec))
        .collect::<Result<Vec<_>>>()?;
    let mut style = ChartStyle::describe(&runs, &spec);
    if let Some(t) = &p.title {
        style.title = t.clone();
    }
    style.width = p.width;
    style.height = p.height;
    style.x_range = x_range;
    style.y_range = y_range;
    draw_curves(&curves, &style, &p.out)?;
    if let Some(data) = &p.data {
        crate::files::write_file(data, to_csv(&curves).as_bytes())?;
    }
    Ok(format!("{}\n", p.out.display()))
}
