//! The run directories given to `qlab plot` and `qlab compare`: loaded, and named by
//! `--labels` or by [`default_labels`].

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::plot::{Run, default_labels};

/// Loads each of `dirs` and names it: by `labels` (one per run directory, else an error naming
/// both counts) or, without `--labels`, by [`default_labels`], marked `(interrupted)`,
/// `(failed)` or `(unfinished)` where the run is not whole. A run that is not whole also gets
/// a warning line on stderr naming its directory.
pub fn load_labelled(
    dirs: &[PathBuf],
    labels: &Option<Vec<String>>,
) -> Result<(Vec<Run>, Vec<String>)> {
    let runs = dirs
        .iter()
        .map(|d| Run::load(d))
        .collect::<Result<Vec<_>>>()?;
    let unfinished: Vec<Option<String>> = runs.iter().map(Run::unfinished).collect();
    for (run, why) in runs.iter().zip(&unfinished) {
        if let Some(why) = why {
            eprintln!(
                "warning: {} is not a complete run ({why}); `qlab train --resume {}` finishes it",
                run.dir.display(),
                run.dir.display()
            );
        }
    }
    let labels = match labels {
        Some(l) if l.len() != runs.len() => bail!(
            "--labels has {} entries for {} run directories",
            l.len(),
            runs.len()
        ),
        Some(l) => l.clone(),
        None => default_labels(&runs)
            .into_iter()
            .zip(&unfinished)
            .map(|(label, why)| match why {
                Some(why) => format!("{label} ({})", mark(why)),
                None => label,
            })
            .collect(),
    };
    Ok((runs, labels))
}

/// The word a label gets for a run that is not whole: its status, or `unfinished`.
fn mark(why: &str) -> &str {
    match why.split_once(':') {
        Some((status @ ("interrupted" | "failed"), _)) => status,
        _ => "unfinished",
    }
}
