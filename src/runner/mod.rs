//! The experiment runner: trains a config's agent once per seed, seeds in parallel, and
//! records every run.
//!
//! [`Experiment::new`] checks everything a config implies before anything runs — the env with
//! its parameters, the features, the agent at its real size, the dynamic-programming truth —
//! and reports a problem as a [`ConfigError`](crate::config::ConfigError) at the line that
//! caused it. [`train`] then runs the seeds on a pool of threads and writes the run directory
//! (see [`record`]); [`resume`] continues a killed or interrupted run from its checkpoints;
//! [`evaluate()`] reloads a run's agents and plays them greedily. Both stop cleanly at the
//! episode ends after a [`Stop`] is requested (see [`stop`]).
//!
//! Every agent that acts on one env goes through the same seed loop, [`seed::train`]: [`tabular`]
//! and [`deep`] only build the env and the agent of their kind; [`onpolicy`] steps a vector of envs for agents
//! that learn from whole rollouts (PPO, A2C).
//!
//! Each seed's run depends on the config and the seed alone ([`seed::Stream`]): the same
//! config and seed give bit-identical metrics, whatever the number of threads.

mod checkpoint;
pub mod deep;
pub mod envs;
pub mod interface;
mod ledger;
pub mod onpolicy;
pub mod progress;
pub mod record;
pub mod seed;
pub mod stop;
pub mod summary;
pub mod tabular;
pub mod tensorboard;
pub mod track;
pub mod wrap;

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use qlab_agents::tabular::Evaluation;

use crate::config::{AgentConfig, Config};
use deep::DeepExperiment;
use onpolicy::OnPolicyExperiment;
use progress::{Display, Progress};
use record::AgentChoice;
pub use seed::Pause;
pub use stop::{Interrupted, Stop, Stopped};
use summary::{SeedSummary, Status, Summary};
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
    Tabular(Box<TabularExperiment>),
    /// A deep Q-network over the env's observation.
    Deep(Box<DeepExperiment>),
    /// An on-policy actor-critic (PPO, A2C) over a vector of envs.
    OnPolicy(Box<OnPolicyExperiment>),
}

impl Experiment {
    /// Checks everything the config implies before anything runs.
    ///
    /// # Errors
    /// A [`ConfigError`](crate::config::ConfigError) pointing at the key at fault.
    pub fn new(config: Config) -> Result<Experiment> {
        Ok(match config.agent {
            AgentConfig::Dqn(_) => Experiment::Deep(Box::new(DeepExperiment::new(config)?)),
            AgentConfig::Ppo(_) | AgentConfig::A2c(_) => {
                Experiment::OnPolicy(Box::new(OnPolicyExperiment::new(config)?))
            }
            _ => Experiment::Tabular(Box::new(TabularExperiment::new(config)?)),
        })
    }

    /// The config.
    pub fn config(&self) -> &Config {
        match self {
            Experiment::Tabular(e) => &e.config,
            Experiment::Deep(e) => &e.config,
            Experiment::OnPolicy(e) => &e.config,
        }
    }

    /// Things worth telling that do not stop the run.
    pub fn warnings(&self) -> &[String] {
        match self {
            Experiment::Tabular(e) => &e.warnings,
            Experiment::Deep(_) | Experiment::OnPolicy(_) => &[],
        }
    }

    fn run_seeds(&self, dir: &Path, run: &RunOptions<'_>, resume: bool) -> Result<Summary> {
        match self {
            Experiment::Tabular(e) => tabular::run_seeds(e, dir, run, resume),
            Experiment::Deep(e) => deep::run_seeds(e, dir, run, resume),
            Experiment::OnPolicy(e) => onpolicy::run_seeds(e, dir, run, resume),
        }
    }
}

/// How a run's seeds are run: on how many threads, showing progress how, stopping when.
#[derive(Clone, Debug)]
pub struct RunOptions<'a> {
    /// The most seeds run at once.
    pub threads: usize,
    /// How progress is shown.
    pub display: Display,
    /// Read at every episode end: once it is requested, each seed in flight stops there with
    /// a checkpoint, and no other seed starts.
    pub stop: &'a Stop,
    /// Where every seed ends short of its budget, for a sweep's scheduler (`None`: at the
    /// budget).
    pub pause: Option<Pause>,
}

/// Runs every seed of `exp` into the new run directory `dir` as `run` says; returns the
/// summary, also written to `dir/summary.json`.
///
/// Seeds that fail do not stop the others; every failure is returned (as one [`Failure`], a
/// line per seed) after the summary of the rest has been written. A run stopped by `run.stop`
/// returns [`Interrupted`] after its summary (`"status": "interrupted"`) has been written.
pub fn train(exp: &Experiment, dir: &Path, run: &RunOptions<'_>) -> Result<Summary> {
    crate::files::write_file(&dir.join("config.toml"), exp.config().to_toml().as_bytes())
        .map_err(Failure)?;
    exp.run_seeds(dir, run, false)
}

/// Continues the run in `dir` (written by `qlab train`, killed or interrupted): seeds that
/// finished are kept, seeds with a checkpoint continue from it, seeds that never began start.
/// A checkpoint that is damaged, was written under another config (or a budget below it), or
/// whose record files lost data since is refused, as is a seed directory with records past a
/// checkpoint that is missing: such a seed fails, naming the file, and is left as it was. The
/// summary's run-level `wall_seconds` adds this invocation's time to the previous summary's.
pub fn resume(dir: &Path, run: &RunOptions<'_>) -> Result<(Experiment, Summary)> {
    let exp = Experiment::new(load_run_config(dir)?)?;
    let summary = exp.run_seeds(dir, run, true)?;
    Ok((exp, summary))
}

/// Runs `train` (every seed of `config`, showing progress on the [`Progress`] it is given),
/// timing it, and [`finish`]es the run in `dir`. A resumed run's time adds to the time its
/// previous summary records.
fn timed(
    dir: &Path,
    config: &Config,
    algorithm: &str,
    run: &RunOptions<'_>,
    resume: bool,
    train: impl FnOnce(&Progress) -> Vec<Result<SeedSummary>>,
) -> Result<Summary> {
    // A summary that does not read counts no time: resuming rewrites it.
    let before = match resume {
        true => Summary::read(dir)
            .ok()
            .flatten()
            .map_or(0.0, |s| s.aggregate.wall_seconds),
        false => 0.0,
    };
    let progress = Progress::new(&config.train.seeds, config.train.budget);
    let start = Instant::now();
    let results = train(&progress);
    let wall = before + start.elapsed().as_secs_f64();
    finish(dir, config, algorithm, results, wall, run.stop)
}

/// Writes the summary of a run's seeds that finished to `dir/summary.json` and returns it;
/// or, when a seed failed, every failure, one line per seed (`seed <k>: …`), as a
/// [`Failure`]; or, when seeds [`Stopped`] at `stop`'s request, [`Interrupted`]. The
/// summary's `status` says which.
///
/// `results` are in the order of the config's seeds. The summary lists every seed that
/// finished, in that order: those that finished now and those whose `seed_summary.json` was
/// on disk already (a resume that fails for a finished seed keeps it). When no seed has
/// finished and none stopped at a checkpoint, no summary is written (a previous one is left as
/// it was): an empty summary would look like a result.
pub(crate) fn finish(
    dir: &Path,
    config: &Config,
    algorithm: &str,
    results: Vec<Result<SeedSummary>>,
    wall: f64,
    stop: &Stop,
) -> Result<Summary> {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    let mut stopped = Vec::new();
    let mut unfinished = Vec::new();
    for (&seed, r) in config.train.seeds.iter().zip(results) {
        match r {
            Ok(s) => done.push(s),
            Err(e) => match e.downcast_ref::<Stopped>() {
                Some(&s) => {
                    unfinished.push(seed);
                    stopped.push(s);
                }
                None => {
                    failed.push(format!("seed {seed}: {e:#}"));
                    let seed_dir = dir.join(format!("seed_{seed}"));
                    match SeedSummary::read(&seed_dir) {
                        Ok(Some(s)) => done.push(s),
                        _ => unfinished.push(seed),
                    }
                }
            },
        }
    }
    let finished = done.len();
    let mut summary = Summary::new(&config.env.id, algorithm, config.output.window, done, wall);
    summary.status = match (failed.is_empty(), stopped.is_empty()) {
        (false, _) => Status::Failed,
        (true, false) => Status::Interrupted,
        (true, true) => Status::Complete,
    };
    summary.unfinished_seeds = unfinished;
    if !summary.per_seed.is_empty() || !stopped.is_empty() {
        if let Err(e) = summary.write(dir) {
            failed.push(format!("{e:#}"));
        }
    }
    if !failed.is_empty() {
        return Err(Failure(anyhow::anyhow!(failed.join("\n"))).into());
    }
    if !stopped.is_empty() {
        let count = |f: fn(&Stopped) -> bool| stopped.iter().filter(|s| f(s)).count();
        return Err(Interrupted {
            signal: stop.signal().unwrap_or(0),
            dir: dir.to_path_buf(),
            seeds: config.train.seeds.len(),
            finished,
            at_checkpoint: count(|s| matches!(s, Stopped::AtCheckpoint { .. })),
            without_checkpoint: count(|s| *s == Stopped::WithoutCheckpoint),
        }
        .into());
    }
    Ok(summary)
}

/// Removes the checkpoint of the seed in `seed_dir` (`checkpoint.json` and its agent file),
/// if it has one: a finished seed never resumes from it.
///
/// # Errors
/// A file that is there but cannot be removed.
pub fn remove_checkpoint(seed_dir: &Path) -> Result<()> {
    checkpoint::remove(seed_dir)
}

/// Writes `dir/summary.json` for a run of `config` whose seeds ran apart from each other (a
/// sweep's units, each a run of one seed whose seed directory was then moved into `dir`), as
/// [`train`] writes it for seeds run together: each seed's `seed_summary.json`, in the order
/// of the config's seeds, aggregated, with `wall` (seconds) as the run's wall time. Its status
/// is complete when every seed has finished, else failed (`failed`) or interrupted, the seeds
/// left listed; nothing is written when no seed has finished.
///
/// # Errors
/// A seed summary that does not read, or a summary that cannot be written.
pub fn summarize(dir: &Path, config: &Config, wall: f64, failed: bool) -> Result<Summary> {
    let mut done = Vec::new();
    let mut unfinished = Vec::new();
    for &seed in &config.train.seeds {
        match SeedSummary::read(&dir.join(format!("seed_{seed}")))? {
            Some(s) => done.push(s),
            None => unfinished.push(seed),
        }
    }
    let mut summary = Summary::new(
        &config.env.id,
        config.agent.algorithm(),
        config.output.window,
        done,
        wall,
    );
    summary.status = match (unfinished.is_empty(), failed) {
        (_, true) => Status::Failed,
        (true, false) => Status::Complete,
        (false, false) => Status::Interrupted,
    };
    summary.unfinished_seeds = unfinished;
    if !summary.per_seed.is_empty() {
        summary.write(dir).map_err(Failure)?;
    }
    Ok(summary)
}

/// Runs `train(i, seed)` for every seed on `run.threads` worker threads, each taking the next
/// seed when it is free, while `progress` is shown; returns the results in seed order. Once
/// `run.stop` is requested no seed starts: those left are [`Stopped::NotStarted`].
pub(crate) fn for_each_seed<F>(
    seeds: &[u64],
    run: &RunOptions<'_>,
    progress: &Progress,
    train: F,
) -> Vec<Result<SeedSummary>>
where
    F: Fn(usize, u64) -> Result<SeedSummary> + Sync,
{
    let (threads, display) = (run.threads, run.display);
    let results: Vec<Mutex<Option<Result<SeedSummary>>>> =
        seeds.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let shown = scope.spawn(|| progress.show(display, &finished));
        let workers: Vec<_> = (0..threads.clamp(1, seeds.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    while !run.stop.requested() {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&seed) = seeds.get(i) else { break };
                        // A panic is a bug, but it fails its seed alone: the others run,
                        // the summary is written and the process ends.
                        let r = std::panic::catch_unwind(AssertUnwindSafe(|| train(i, seed)))
                            .unwrap_or_else(|panic| Err(internal_error(&*panic)));
                        *results[i].lock().expect("no worker panics holding it") = Some(r);
                    }
                })
            })
            .collect();
        let joined: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        // The progress display ends before any panic goes on: it would wait for ever.
        finished.store(true, Ordering::Release);
        shown.thread().unpark();
        for j in joined {
            if let Err(panic) = j {
                std::panic::resume_unwind(panic);
            }
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .expect("no worker panics holding it")
                .unwrap_or_else(|| Err(Stopped::NotStarted.into()))
        })
        .collect()
}

/// The error of a seed whose training panicked, with the panic's message.
fn internal_error(panic: &(dyn std::any::Any + Send)) -> anyhow::Error {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    anyhow::anyhow!("internal error (a bug in qlab, please report it): {message}")
}

/// One seed's reloaded agent, evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedEvaluation {
    /// The seed.
    pub seed: u64,
    /// Its greedy evaluation.
    pub evaluation: Evaluation,
}

/// Each seed of `seeds` whose directory in the run `dir` holds a saved agent (`choice`: the
/// last or the best), loaded by `load` and evaluated by `evaluate` with its seed; the seeds
/// that saved none are left out.
fn evaluate_saved<A>(
    seeds: &[u64],
    dir: &Path,
    choice: AgentChoice,
    load: impl Fn(&Path) -> Result<Option<A>>,
    mut evaluate: impl FnMut(A, u64) -> Result<Evaluation>,
) -> Result<Vec<SeedEvaluation>> {
    let mut out = Vec::new();
    for &seed in seeds {
        let Some(agent) = load(&choice.dir(&dir.join(format!("seed_{seed}"))))? else {
            continue;
        };
        let evaluation = evaluate(agent, seed)?;
        out.push(SeedEvaluation { seed, evaluation });
    }
    Ok(out)
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
        Experiment::OnPolicy(e) => onpolicy::evaluate_seeds(e, dir, episodes, agent)?,
    };
    if out.is_empty() {
        bail!("{} holds no saved agent ({})", dir.display(), agent.file());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_summary(seed: u64) -> SeedSummary {
        SeedSummary {
            seed,
            episodes: 3,
            steps: 30,
            wall_seconds: 0.5,
            steps_per_second: 60.0,
            final_eval_mean_return: -13.0,
            final_eval_std_return: 0.0,
            final_window_mean_return: Some(-20.0),
            best_window_mean_return: None,
            stopped_at_step: None,
            best_eval_mean_return: None,
            best_eval_step: None,
        }
    }

    /// A resume where every seed failed (say, the agent could not be built) once rewrote
    /// `summary.json` with `per_seed: []`, though seeds had finished; and a run where every
    /// seed failed wrote that empty summary too. The summary keeps every seed finished on disk,
    /// an empty one is never written, and every failure is reported, a line per seed.
    #[test]
    fn failed_seeds_never_take_finished_ones_out_of_the_summary() {
        let text = "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'sarsa'\n\
                    [train]\nepisodes = 3\nseeds = [4, 0, 9]\n";
        let config = Config::parse("t.toml", text, &[]).unwrap();
        let dir = std::env::temp_dir().join(format!("qlab-finish-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let failed = || -> Vec<Result<SeedSummary>> {
            ["no memory", "no disk", "no luck"]
                .iter()
                .map(|e| Err(anyhow::anyhow!(*e).context("building")))
                .collect()
        };
        let e = finish(&dir, &config, "sarsa", failed(), 1.0, &Stop::new()).unwrap_err();
        assert!(e.is::<Failure>());
        assert_eq!(
            format!("{e:#}"),
            "seed 4: building: no memory\nseed 0: building: no disk\nseed 9: building: no luck"
        );
        assert!(!dir.join("summary.json").exists());

        for seed in [9, 4] {
            let seed_dir = dir.join(format!("seed_{seed}"));
            std::fs::create_dir_all(&seed_dir).unwrap();
            seed_summary(seed).write(&seed_dir).unwrap();
        }
        finish(&dir, &config, "sarsa", failed(), 1.0, &Stop::new()).unwrap_err();
        let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
        let summary: Summary = serde_json::from_str(&text).unwrap();
        assert_eq!(summary.per_seed, [seed_summary(4), seed_summary(9)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A seed whose training panicked once hung the process (the progress display waited for
    /// the workers for ever): it fails alone, with the panic's message, and the others finish.
    #[test]
    fn a_panicking_seed_fails_alone_instead_of_hanging_the_run() {
        let seeds = [0, 1, 2];
        let stop = Stop::new();
        let run = RunOptions {
            threads: 2,
            display: Display::Quiet,
            stop: &stop,
            pause: None,
        };
        let progress = Progress::new(&seeds, crate::config::Budget::Episodes(3));
        let results = for_each_seed(&seeds, &run, &progress, |_, seed| {
            assert_ne!(seed, 1, "a bug");
            Ok(seed_summary(seed))
        });
        assert_eq!(results[0].as_ref().unwrap(), &seed_summary(0));
        assert_eq!(results[2].as_ref().unwrap(), &seed_summary(2));
        let e = format!("{:#}", results[1].as_ref().unwrap_err());
        assert!(e.contains("internal error") && e.contains("a bug"), "{e}");
    }
}
