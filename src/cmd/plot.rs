//! `qlab plot`: learning curves of runs as a PNG or SVG chart.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::plot::{ChartStyle, CurveSpec, Run, curve, default_labels, draw_curves, to_csv};

/// What one plot needs.
#[derive(Clone, Debug)]
pub struct Plot {
    /// The run directories, one line each.
    pub runs: Vec<PathBuf>,
    /// The metric, the x axis, the smoothing and the band.
    pub spec: CurveSpec,
    /// The image file (`.png` or `.svg`).
    pub out: PathBuf,
    /// Legend entries, one per run; `None` for [`default_labels`].
    pub labels: Option<Vec<String>>,
    /// The title; `None` for [`ChartStyle::describe`]'s.
    pub title: Option<String>,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Where to write the data behind the chart as CSV ([`to_csv`]), if anywhere.
    pub data: Option<PathBuf>,
    /// The x axis's range, `[LO, HI]`; `None` for the data's.
    pub xlim: Option<Vec<f64>>,
    /// The y axis's range, `[LO, HI]`; `None` for the data's.
    pub ylim: Option<Vec<f64>>,
}

/// Two numbers of `--xlim` or `--ylim` as a range.
fn limits(flag: &str, v: &Option<Vec<f64>>) -> Result<Option<(f64, f64)>> {
    match v.as_deref() {
        None => Ok(None),
        Some(&[lo, hi]) if lo < hi && lo.is_finite() && hi.is_finite() => Ok(Some((lo, hi))),
        Some(other) => bail!(
            "--{flag} takes two finite numbers LO,HI with LO < HI, got {}",
            other
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// Draws the chart; returns the line naming the file written.
pub fn run(p: &Plot) -> Result<String> {
    if p.runs.is_empty() {
        bail!("give at least one run directory");
    }
    if p.spec.smooth == 0 {
        bail!("--smooth must be at least 1 episode, got 0");
    }
    let (x_range, y_range) = (limits("xlim", &p.xlim)?, limits("ylim", &p.ylim)?);
    let runs = p
        .runs
        .iter()
        .map(|d| Run::load(d))
        .collect::<Result<Vec<_>>>()?;
    let labels = match &p.labels {
        Some(l) if l.len() != runs.len() => bail!(
            "--labels has {} entries for {} run directories",
            l.len(),
            runs.len()
        ),
        Some(l) => l.clone(),
        None => default_labels(&runs),
    };
    let curves = runs
        .iter()
        .zip(&labels)
        .map(|(r, l)| curve(r, l, &p.spec))
        .collect::<Result<Vec<_>>>()?;
    let mut style = ChartStyle::describe(&runs, &p.spec);
    if let Some(t) = &p.title {
        style.title = t.clone();
    }
    style.width = p.width;
    style.height = p.height;
    style.x_range = x_range;
    style.y_range = y_range;
    draw_curves(&curves, &style, &p.out)?;
    if let Some(data) = &p.data {
        std::fs::write(data, to_csv(&curves))
            .with_context(|| format!("cannot write {}", data.display()))?;
    }
    Ok(format!("{}\n", p.out.display()))
}
