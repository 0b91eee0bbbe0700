//! What a run's seeds came to: `seed_<k>/seed_summary.json`, written last by a seed that
//! finished, and the run's `summary.json`, each seed's line and their aggregate, with the run's
//! status (complete, interrupted, failed).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::files::write_file;

/// One seed's line of `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedSummary {
    /// The seed.
    pub seed: u64,
    /// Training episodes completed.
    pub episodes: u64,
    /// Training env steps.
    pub steps: u64,
    /// Wall-clock seconds of the seed's whole run, evaluations and file writes included.
    pub wall_seconds: f64,
    /// `steps / wall_seconds`.
    pub steps_per_second: f64,
    /// Mean return of the last greedy evaluation.
    pub final_eval_mean_return: f64,
    /// Standard deviation of the returns of the last greedy evaluation.
    pub final_eval_std_return: f64,
    /// Mean training return over the last `window` episodes (fewer if fewer were played;
    /// `null` if none).
    pub final_window_mean_return: Option<f64>,
    /// The best mean training return over `window` consecutive episodes (`null` if fewer
    /// than `window` were played).
    pub best_window_mean_return: Option<f64>,
    /// With `[train] stop_at`: the step of the evaluation that reached it, where the seed
    /// stopped; for a seed of a sweep's point that its scheduler stopped early
    /// ([`Pause::Here`](super::Pause::Here)): the step where it ended (absent when it ran its
    /// whole budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at_step: Option<u64>,
    /// With `[train] keep_best`: the mean return of the best evaluation, whose agent is in
    /// `seed_<k>/best/` (absent without `keep_best`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_eval_mean_return: Option<f64>,
    /// With `[train] keep_best`: the step of that evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_eval_step: Option<u64>,
}

/// A finished seed's summary, `seed_summary.json` in its directory: written last, it says the
/// seed finished.
pub const SEED_SUMMARY: &str = "seed_summary.json";

impl SeedSummary {
    /// Reads [`SEED_SUMMARY`] in the seed directory `dir`: `None` when the seed has not
    /// finished.
    ///
    /// # Errors
    /// A file that cannot be read or is not a seed's summary.
    pub fn read(dir: &Path) -> Result<Option<SeedSummary>> {
        let path = dir.join(SEED_SUMMARY);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
        };
        let s = serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        Ok(Some(s))
    }

    /// Writes [`SEED_SUMMARY`] in the seed directory `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("plain data serializes") + "\n";
        write_file(&dir.join(SEED_SUMMARY), text.as_bytes())
    }
}

/// The aggregate over seeds in `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Seeds that finished.
    pub seeds: usize,
    /// Training episodes, all seeds together.
    pub episodes: u64,
    /// Training env steps, all seeds together.
    pub steps: u64,
    /// Wall-clock seconds of the whole run (seeds run in parallel), every invocation
    /// together: a resumed run adds the time its previous summary records.
    pub wall_seconds: f64,
    /// `steps / wall_seconds`: the run's throughput over all cores.
    pub steps_per_second: f64,
    /// Mean over seeds of `final_eval_mean_return`.
    pub final_eval_mean_return: f64,
    /// Standard deviation over seeds of `final_eval_mean_return` (population).
    pub final_eval_mean_return_std: f64,
    /// Mean over seeds of `final_window_mean_return` (`null` if a seed has none).
    pub final_window_mean_return: Option<f64>,
    /// Mean over seeds of `best_window_mean_return` (`null` if a seed has none).
    pub best_window_mean_return: Option<f64>,
}

/// Whether a run finished: `summary.json`'s `status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every seed finished (also what a summary written before `status` existed reads as).
    #[default]
    Complete,
    /// A stop (Ctrl-C, SIGTERM, SIGHUP) ended the run first: `qlab train --resume` finishes
    /// it.
    Interrupted,
    /// A seed failed.
    Failed,
}

/// `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The env id.
    pub env: String,
    /// The algorithm.
    pub algorithm: String,
    /// Episodes in the moving windows (`[output] window`).
    pub window: u64,
    /// Whether every seed finished (absent from summaries written before it existed, which
    /// were complete).
    #[serde(default)]
    pub status: Status,
    /// The seeds of the config that did not finish, in the order of the seeds (empty for a
    /// complete run).
    #[serde(default)]
    pub unfinished_seeds: Vec<u64>,
    /// One entry per finished seed, in the order of the seeds.
    pub per_seed: Vec<SeedSummary>,
    /// The same, over all finished seeds. Its `wall_seconds` covers the whole run: a resumed
    /// run adds the time before its interruption.
    pub aggregate: Aggregate,
}

fn mean(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let xs: Vec<f64> = xs.collect();
    let n = xs.len().max(1) as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

impl Summary {
    /// Aggregates `per_seed` (in seed order), run in `wall_seconds`.
    pub fn new(
        env: &str,
        algorithm: &str,
        window: u64,
        per_seed: Vec<SeedSummary>,
        wall_seconds: f64,
    ) -> Summary {
        let steps: u64 = per_seed.iter().map(|s| s.steps).sum();
        let (final_eval, final_eval_std) = mean(per_seed.iter().map(|s| s.final_eval_mean_return));
        let all = |f: fn(&SeedSummary) -> Option<f64>| -> Option<f64> {
            let v: Option<Vec<f64>> = per_seed.iter().map(f).collect();
            v.filter(|v| !v.is_empty()).map(|v| mean(v.into_iter()).0)
        };
        let aggregate = Aggregate {
            seeds: per_seed.len(),
            episodes: per_seed.iter().map(|s| s.episodes).sum(),
            steps,
            wall_seconds,
            steps_per_second: steps as f64 / wall_seconds,
            final_eval_mean_return: final_eval,
            final_eval_mean_return_std: final_eval_std,
            final_window_mean_return: all(|s| s.final_window_mean_return),
            best_window_mean_return: all(|s| s.best_window_mean_return),
        };
        Summary {
            env: env.to_string(),
            algorithm: algorithm.to_string(),
            window,
            status: Status::Complete,
            unfinished_seeds: Vec::new(),
            per_seed,
            aggregate,
        }
    }

    /// Reads `dir/summary.json`, if there is one.
    pub fn read(dir: &Path) -> Result<Option<Summary>> {
        let path = dir.join("summary.json");
        if !path.is_file() {
            return Ok(None);
        }
        let text = fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
        let summary = serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        Ok(Some(summary))
    }

    /// Writes `dir/summary.json`, atomically: a failed write leaves the previous one.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("plain data serializes") + "\n";
        write_file(&dir.join("summary.json"), text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_means_over_seeds() {
        let seed = |s, ret, best| SeedSummary {
            seed: s,
            episodes: 10,
            steps: 100,
            wall_seconds: 1.0,
            steps_per_second: 100.0,
            final_eval_mean_return: ret,
            final_eval_std_return: 0.0,
            final_window_mean_return: Some(ret),
            best_window_mean_return: best,
            stopped_at_step: None,
            best_eval_mean_return: None,
            best_eval_step: None,
        };
        let s = Summary::new(
            "X",
            "q_learning",
            10,
            vec![seed(0, -1.0, Some(1.0)), seed(1, -3.0, None)],
            0.5,
        );
        let a = &s.aggregate;
        assert_eq!((a.seeds, a.episodes, a.steps), (2, 20, 200));
        assert_eq!(a.steps_per_second, 400.0);
        assert_eq!(a.final_eval_mean_return, -2.0);
        assert_eq!(a.final_eval_mean_return_std, 1.0);
        assert_eq!(a.final_window_mean_return, Some(-2.0));
        assert_eq!(a.best_window_mean_return, None);
    }

    /// A `summary.json` written before `status` and `unfinished_seeds` existed still loads,
    /// as a complete run.
    #[test]
    fn a_summary_without_a_status_reads_as_complete() {
        let s = Summary::new("X", "sarsa", 10, vec![], 1.0);
        let mut json = serde_json::to_value(&s).unwrap();
        let object = json.as_object_mut().unwrap();
        assert_eq!(object.remove("status"), Some("complete".into()));
        assert!(object.remove("unfinished_seeds").is_some());
        let old: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(old, s);
        let mut interrupted = s.clone();
        interrupted.status = Status::Interrupted;
        let text = serde_json::to_string(&interrupted).unwrap();
        assert!(text.contains(r#""status":"interrupted""#), "{text}");
    }
}
