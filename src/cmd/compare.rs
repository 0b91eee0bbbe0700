//! `qlab compare`: a table of runs — final performance, time to a threshold, speed — printed
//! and written as Markdown and CSV.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::cmd::run_dirs::load_labelled;
use crate::plot::compare::{CompareSpec, compare, to_csv, to_markdown};
use crate::stats::Bootstrap;

/// Compare runs in a table: final metric (mean ± std over seeds), episodes and steps to
/// reach a threshold, wall time, steps/s; with --iqm the interquartile mean over seeds and
/// with --versus the probability of improvement, each with a stratified-bootstrap 95%
/// interval (rliable's statistics); printed, and written as Markdown and CSV.
#[derive(Clone, Debug, clap::Args)]
pub struct CompareArgs {
    /// Run directories written by `qlab train`.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// The metrics.csv column compared.
    #[arg(long, default_value = "return")]
    pub metric: String,
    /// Report the first episode where the moving mean over --window episodes reaches this.
    #[arg(long, allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// Episodes in the moving mean tested against --threshold (a full window).
    #[arg(long, default_value_t = 100)]
    pub window: usize,
    /// Episodes at the end of each seed averaged into its final value.
    #[arg(long, default_value_t = 100)]
    pub last: usize,
    /// Comma-separated row names, one per run.
    #[arg(long, value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
    /// The Markdown file (default: compare.md beside the first run directory).
    #[arg(long, value_name = "FILE.md")]
    pub out_md: Option<PathBuf>,
    /// The CSV file (default: compare.csv beside the first run directory).
    #[arg(long, value_name = "FILE.csv")]
    pub out_csv: Option<PathBuf>,
    /// Add the IQM (interquartile mean) over seeds of each seed's final value, with its
    /// stratified-bootstrap 95% interval (CSV: iqm, iqm_low, iqm_high).
    #[arg(long)]
    pub iqm: bool,
    /// Add each run's probability of improvement over this run (its label, or its index
    /// from 0 in the order given), with its bootstrap 95% interval (CSV: p_improve,
    /// p_improve_low, p_improve_high).
    #[arg(long, value_name = "LABEL_OR_INDEX")]
    pub versus: Option<String>,
    /// Bootstrap resamples behind the intervals of --iqm and --versus.
    #[arg(long, default_value_t = 2_000)]
    pub reps: usize,
    /// Seed of the bootstrap resampling: the same seed gives the same intervals.
    #[arg(long, default_value_t = 0)]
    pub bootstrap_seed: u64,
}

/// Builds the table, writes both files and returns the table as Markdown for stdout.
pub fn run(c: &CompareArgs) -> Result<String> {
    if c.runs.is_empty() {
        bail!("give at least one run directory");
    }
    if c.reps == 0 {
        bail!("--reps must be at least 1 bootstrap resample, got 0");
    }
    let (runs, labels) = load_labelled(&c.runs, &c.labels)?;
    let spec = CompareSpec {
        metric: c.metric.clone(),
        threshold: c.threshold,
        window: c.window,
        last: c.last,
        iqm: c.iqm,
        versus: c
            .versus
            .as_deref()
            .map(|v| versus(v, &labels))
            .transpose()?,
        bootstrap: Bootstrap {
            reps: c.reps,
            seed: c.bootstrap_seed,
            ..Bootstrap::default()
        },
    };
    let rows = compare(&runs, &labels, &spec)?;
    let md = to_markdown(&rows, &spec);
    let beside = beside_runs(&c.runs[0]);
    let out_md = c
        .out_md
        .clone()
        .unwrap_or_else(|| beside.join("compare.md"));
    let out_csv = c
        .out_csv
        .clone()
        .unwrap_or_else(|| beside.join("compare.csv"));
    crate::files::write_file(&out_md, md.as_bytes())?;
    crate::files::write_file(&out_csv, to_csv(&rows, &spec).as_bytes())?;
    eprintln!("wrote {} and {}", out_md.display(), out_csv.display());
    Ok(md)
}

/// The run `--versus` names: a label, else an index from 0.
fn versus(v: &str, labels: &[String]) -> Result<usize> {
    if let Some(i) = labels.iter().position(|l| l == v) {
        return Ok(i);
    }
    match v.parse::<usize>() {
        Ok(i) if i < labels.len() => Ok(i),
        _ => bail!(
            "--versus `{v}` is neither a run's label ({}) nor an index from 0 to {}",
            labels.join(", "),
            labels.len() - 1
        ),
    }
}

/// The directory holding a run directory (`runs/` for `runs/cliff-sarsa`), or `.` when it has
/// none.
fn beside_runs(run: &Path) -> PathBuf {
    let abs = run.canonicalize().unwrap_or_else(|_| run.to_path_buf());
    abs.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
