//! `qlab eval`: reload a run's learned agents and evaluate them greedily.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;

use crate::runner;
use crate::runner::record::AgentChoice;

/// Reload a run's learned agents and evaluate them greedily; print CSV, one row per seed.
#[derive(Clone, Debug, clap::Args)]
pub struct EvalArgs {
    /// The run directory written by `qlab train`.
    pub run_dir: PathBuf,
    /// Episodes per seed [default: the config's `eval_episodes`].
    #[arg(long)]
    pub episodes: Option<u64>,
    /// Which agent of each seed: `last` (as training left it) or `best` (the best
    /// evaluation's, kept by `[train] keep_best = true`).
    #[arg(long, value_enum, default_value_t = AgentChoice::Last)]
    pub agent: AgentChoice,
}

/// Evaluates every saved agent of the run; returns CSV, one row per seed:
/// `seed,mean_return,std_return,episodes`. The mean over seeds goes to stderr.
///
/// The episodes are seeded as the run's own evaluations were, so with the config's
/// `eval_episodes` each row repeats the seed's `final_eval_mean_return` exactly (with
/// `--agent best`, its `best_eval_mean_return`).
pub fn run(e: &EvalArgs) -> Result<String> {
    let results = runner::evaluate(&e.run_dir, e.episodes, e.agent)?;
    let mut out = String::from("seed,mean_return,std_return,episodes\n");
    for r in &results {
        let v = &r.evaluation;
        let _ = writeln!(out, "{},{},{},{}", r.seed, v.mean, v.std, v.episodes);
    }
    let n = results.len() as f64;
    let mean = results.iter().map(|r| r.evaluation.mean).sum::<f64>() / n;
    eprintln!("mean return over {} seeds: {mean:.4}", results.len());
    Ok(out)
}
