//! The experiment runner: trains a config's agent once per seed, seeds in parallel, and
//! records every run.
//!
//! [`Experiment::new`] checks everything a config implies before anything runs — the env with
//! its parameters, the features, the agent at its real size, the dynamic-programming truth —
//! and reports a problem as a [`ConfigError`](crate::config::ConfigError) at the line that
//! caused it. [`train`] then runs the seeds on a pool of threads and writes the run directory
//! (see [`record`]); [`resume`] continues a killed run from its checkpoints; [`evaluate()`]
//! reloads a run's agents and plays them greedily.
//!
//! Every agent goes through the same seed loop, [`seed::train`]: [`tabular`] and [`deep`] only
//! build the env and the agent of their kind.
//!
//! Each seed's run depends on the config and the seed alone ([`seed::Stream`]): the same
//! config and seed give bit-identical metrics, whatever the number of threads.

mod checkpoint;
pub mod deep;
pub mod envs;
pub mod progress;
pub mod record;
pub mod seed;
pub mod tabular;
pub mod tensorboard;
pub mod track;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use qlab_agents::tabular::Evaluation;

use crate::config::{AgentConfig, Config};
use deep::DeepExperiment;
use progress::{Display, Progress};
use record::{AgentChoice, SeedSummary, Summary};
pub use tabular::{PREDICTION_ALGORITHMS, TabularExperiment, Truth, gamma};

/// A failure while running (as opposed to a problem with the config or the command line):
/// `qlab` exits with status 1 for these, 2 for the others.
#[derive(Debug)]
pub struct Failure(pub anyhow::Error);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Failure {}

/// A config with everything it implies resolved and checked, for any agent. The one place
/// the runner tells the kinds of agent apart: each kind builds its env and agent, then runs
/// the same seed loop ([`seed::train`]).
pub enum Experiment {
    /// A tabular or linear agent over active features.
    Tabular(TabularExperiment),
    /// A deep Q-network over the env's observation.
    Deep(DeepExperiment),
}

impl Experiment {
    /// Checks everything the config implies before anything runs.
    ///
    /// # Errors
    /// A [`ConfigError`](crate::config::ConfigError) pointing at the key at fault.
    pub fn new(config: Config) -> Result<Experiment> {
        Ok(match config.agent {
            AgentConfig::Dqn(_) => Experiment::Deep(DeepExperiment::new(config)?),
            _ => Experiment::Tabular(TabularExperiment::new(config)?),
        })
    }

    /// The config.
    pub fn config(&self) -> &Config {
        match self {
            Experiment::Tabular(e) => &e.config,
            Experiment::Deep(e) => &e.config,
        }
    }

    /// Things worth telling that do not stop the run.
    pub fn warnings(&self) -> &[String] {
        match self {
            Experiment::Tabular(e) => &e.warnings,
            Experiment::Deep(_) => &[],
        }
    }

    fn run_seeds(
        &self,
        dir: &Path,
        threads: usize,
        display: Display,
        resume: bool,
    ) -> Result<Summary> {
        match self {
            Experiment::Tabular(e) => tabular::run_seeds(e, dir, threads, display, resume),
            Experiment::Deep(e) => deep::run_seeds(e, dir, threads, display, resume),
        }
    }
}

/// Runs every seed of `exp` into the new run directory `dir` on up to `threads` threads,
/// showing progress as `display` says; returns the summary, also written to
/// `dir/summary.json`.
///
/// Seeds that fail do not stop the others; the first failure is returned (as a [`Failure`])
/// after the summary of the rest has been written.
pub fn train(exp: &Experiment, dir: &Path, threads: usize, display: Display) -> Result<Summary> {
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, exp.config().to_toml())
        .with_context(|| format!("{}", config_path.display()))
        .map_err(Failure)?;
    exp.run_seeds(dir, threads, display, false)
}

/// Continues the run in `dir` (written by `qlab train`, possibly killed): seeds that finished
/// are kept, seeds with a checkpoint continue from it, the others start again.
pub fn resume(dir: &Path, threads: usize, display: Display) -> Result<(Experiment, Summary)> {
    let exp = Experiment::new(load_run_config(dir)?)?;
    let summary = exp.run_seeds(dir, threads, display, true)?;
    Ok((exp, summary))
}

/// Runs `train` (every seed of `config`, showing progress on the [`Progress`] it is given),
/// timing it, and [`finish`]es the run in `dir`.
fn timed(
    dir: &Path,
    config: &Config,
    algorithm: &str,
    train: impl FnOnce(&Progress) -> Vec<Result<SeedSummary>>,
) -> Result<Summary> {
    let progress = Progress::new(&config.train.seeds, config.train.budget);
    let start = Instant::now();
    let results = train(&progress);
    let wall = start.elapsed().as_secs_f64();
    finish(dir, config, algorithm, results, wall)
}

/// Writes the summary of a run's seeds that finished (`results` in the order of the config's
/// seeds) to `dir/summary.json` and returns it; or, when a seed failed, the first failure,
/// named for its seed, as a [`Failure`].
pub(crate) fn finish(
    dir: &Path,
    config: &Config,
    algorithm: &str,
    results: Vec<Result<SeedSummary>>,
    wall: f64,
) -> Result<Summary> {
    let mut done = Vec::new();
    let mut failure = None;
    for (seed, r) in config.train.seeds.iter().zip(results) {
        match r {
            Ok(s) => done.push(s),
            Err(e) => {
                failure.get_or_insert(e.context(format!("seed {seed}")));
            }
        }
    }
    let summary = Summary::new(&config.env.id, algorithm, config.output.window, done, wall);
    summary.write(dir).map_err(Failure)?;
    match failure {
        Some(e) => Err(Failure(e).into()),
        None => Ok(summary),
    }
}

/// Runs `train(i, seed)` for every seed on `threads` worker threads, each taking the next
/// seed when it is free, while `progress` is shown; returns the results in seed order.
pub(crate) fn for_each_seed<F>(
    seeds: &[u64],
    threads: usize,
    progress: &Progress,
    display: Display,
    train: F,
) -> Vec<Result<SeedSummary>>
where
    F: Fn(usize, u64) -> Result<SeedSummary> + Sync,
{
    let results: Vec<Mutex<Option<Result<SeedSummary>>>> =
        seeds.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let shown = scope.spawn(|| progress.show(display, &finished));
        let workers: Vec<_> = (0..threads.clamp(1, seeds.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&seed) = seeds.get(i) else { break };
                        let r = train(i, seed);
                        *results[i].lock().expect("no worker panics holding it") = Some(r);
                    }
                })
            })
            .collect();
        for w in workers {
            if let Err(panic) = w.join() {
                std::panic::resume_unwind(panic);
            }
        }
        finished.store(true, Ordering::Release);
        shown.thread().unpark();
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .expect("no worker panics holding it")
                .unwrap_or_else(|| Err(anyhow::anyhow!("not run")))
        })
        .collect()
}

/// One seed's reloaded agent, evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedEvaluation {
    /// The seed.
    pub seed: u64,
    /// Its greedy evaluation.
    pub evaluation: Evaluation,
}

/// The config a run in `dir` was written with (its `config.toml`).
///
/// # Errors
/// A directory without `config.toml` ("not a run directory"), or a config that no longer
/// loads.
pub fn load_run_config(dir: &Path) -> Result<Config> {
    let config_path = dir.join("config.toml");
    if !config_path.is_file() {
        bail!(
            "{} is not a run directory: it has no config.toml",
            dir.display()
        );
    }
    Config::load(&config_path.display().to_string(), &[])
}

/// Reloads the agents of the run in `dir` (written by [`train`]) and evaluates each greedily
/// over `episodes` episodes (the config's `eval_episodes` if `None`), with the same episode
/// seeds as the run's own evaluations: with the same number of episodes, the result equals
/// the run's final evaluation. `agent` picks each seed's last agent or its best
/// (`[train] keep_best`).
pub fn evaluate(
    dir: &Path,
    episodes: Option<u64>,
    agent: AgentChoice,
) -> Result<Vec<SeedEvaluation>> {
    let exp = Experiment::new(load_run_config(dir)?)?;
    agent.check(&exp.config().train, dir)?;
    let episodes = episodes.unwrap_or(exp.config().train.eval_episodes);
    if episodes == 0 {
        bail!("--episodes must be at least 1, got 0");
    }
    let out = match &exp {
        Experiment::Tabular(e) => tabular::evaluate_seeds(e, dir, episodes, agent)?,
        Experiment::Deep(e) => deep::evaluate_seeds(e, dir, episodes, agent)?,
    };
    if out.is_empty() {
        bail!("{} holds no saved agent ({})", dir.display(), agent.file());
    }
    Ok(out)
}
