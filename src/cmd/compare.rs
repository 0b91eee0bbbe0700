//! `qlab compare`: a table of runs — final performance, time to a threshold, speed — printed
//! and written as Markdown and CSV.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::plot::compare::{CompareSpec, compare, to_csv, to_markdown};
use crate::plot::{Run, default_labels};

/// What one comparison needs.
#[derive(Clone, Debug)]
pub struct Compare {
    /// The run directories, one row each.
    pub runs: Vec<PathBuf>,
    /// The metric, the threshold and the window.
    pub spec: CompareSpec,
    /// Row names, one per run; `None` for [`default_labels`].
    pub labels: Option<Vec<String>>,
    /// The Markdown file; `None` for `compare.md` beside the first run directory.
    pub out_md: Option<PathBuf>,
    /// The CSV file; `None` for `compare.csv` beside the first run directory.
    pub out_csv: Option<PathBuf>,
}

/// Builds the table, writes both files and returns the table as Markdown for stdout.
pub fn run(c: &Compare) -> Result<String> {
    if c.runs.is_empty() {
        bail!("give at least one run directory");
    }
    let runs = c
        .runs
        .iter()
        .map(|d| Run::load(d))
        .collect::<Result<Vec<_>>>()?;
    let labels = match &c.labels {
        Some(l) if l.len() != runs.len() => bail!(
            "--labels has {} entries for {} run directories",
            l.len(),
            runs.len()
        ),
        Some(l) => l.clone(),
        None => default_labels(&runs),
    };
    let rows = compare(&runs, &labels, &c.spec)?;
    let md = to_markdown(&rows, &c.spec);
    let beside = beside_runs(&c.runs[0]);
    let out_md = c
        .out_md
        .clone()
        .unwrap_or_else(|| beside.join("compare.md"));
    let out_csv = c
        .out_csv
        .clone()
        .unwrap_or_else(|| beside.join("compare.csv"));
    std::fs::write(&out_md, &md).with_context(|| format!("cannot write {}", out_md.display()))?;
    std::fs::write(&out_csv, to_csv(&rows, &c.spec))
        .with_context(|| format!("cannot write {}", out_csv.display()))?;
    eprintln!("wrote {} and {}", out_md.display(), out_csv.display());
    Ok(md)
}

/// The directory holding a run directory (`runs/` for `runs/cliff-sarsa`), or `.` when it has
/// none.
fn beside_runs(run: &Path) -> PathBuf {
    let abs = run.canonicalize().unwrap_or_else(|_| run.to_path_buf());
    abs.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
