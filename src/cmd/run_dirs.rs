//! The run directories given to `qlab plot` and `qlab compare`: loaded, and named by
//! `--labels` or by [`default_labels`].

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::plot::{Run, default_labels};

/// Loads each of `dirs` and names it: by `labels` (one per run directory, else an error naming
/// both counts) or, without `--labels`, by [`default_labels`].
pub fn load_labelled(
    dirs: &[PathBuf],
    labels: &Option<Vec<String>>,
) -> Result<(Vec<Run>, Vec<String>)> {
    let runs = dirs
        .iter()
        .map(|d| Run::load(d))
        .collect::<Result<Vec<_>>>()?;
    let labels = match labels {
        Some(l) if l.len() != runs.len() => bail!(
            "--labels has {} entries for {} run directories",
            l.len(),
            runs.len()
        ),
        Some(l) => l.clone(),
        None => default_labels(&runs),
    };
    Ok((runs, labels))
}
