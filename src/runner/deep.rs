//! Runs of deep Q-networks (`[agent] algorithm = "dqn"`): the env's observation vector goes
//! straight into a [`Dqn`], no `[features]` section.
//!
//! A seed's directory holds what a tabular run's does — `metrics.csv` (one row per episode;
//! `value_rmse` empty), `eval.csv` — and `train.csv`, one row per training (every
//! `train_freq` env steps once learning has started):
//! `step,loss,mean_q,epsilon,gradient_steps,steps_per_second`. The learned network is
//! `q.safetensors` with `agent.json` beside it.
//!
//! Every column but `steps_per_second` (wall-clock) depends on the config and the seed alone:
//! the same config and seed give bit-identical files on the CPU.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use qlab_agents::dqn::{Dqn, DqnConfig};
use qlab_agents::tabular::Evaluation;
use qlab_envs::{AnyEnv, Env};
use serde::{Deserialize, Serialize};

use super::progress::{Display, Progress, Slot};
use super::record::{EpisodeRow, Recorder, SeedSummary, Summary};
use super::seed::{Stream, derive};
use super::{Failure, SeedEvaluation};
use crate::config::{AgentSpec, Budget, Config, Features, agent_error};

/// The boxed env deep runs step.
type VecEnv = qlab_envs::registry::VectorEnv;

/// A deep-Q-network config, checked: the env observes a vector and has discrete actions, the
/// budget is in steps, the networks build.
pub struct DeepExperiment {
    /// The config.
    pub config: Config,
    /// Its `[agent]`.
    pub agent: DqnConfig,
    /// Numbers per observation.
    pub obs_dim: usize,
    /// Actions.
    pub n_actions: usize,
    /// Env steps per seed.
    pub total_steps: u64,
}

fn make(config: &Config) -> Result<VecEnv> {
    match qlab_envs::make(&config.env.id, &config.env.params)? {
        AnyEnv::Vector(e) => Ok(e),
        AnyEnv::Discrete(e) => bail!(config.error(
            "env",
            Some("id"),
            format!(
                "{} observes {}, a state index; dqn needs a vector observation",
                config.env.id,
                e.observation_space()
            )
        )),
    }
}

impl DeepExperiment {
    /// Checks a config whose agent is a deep Q-network.
    ///
    /// # Errors
    /// A config error at the key at fault.
    pub fn new(config: Config) -> Result<DeepExperiment> {
        let AgentSpec::Dqn(agent) = config.agent.clone() else {
            bail!("not a dqn config");
        };
        if config.features != Features::State {
            bail!(config.error(
                "features",
                Some("kind"),
                "dqn reads the observation itself; remove the [features] section"
            ));
        }
        let Budget::Steps(total_steps) = config.train.budget else {
            bail!(config.error(
                "train",
                Some("episodes"),
                "dqn trains for a number of env steps: use `steps` instead of `episodes`"
            ));
        };
        let env = make(&config).map_err(|e| match e.downcast::<qlab_envs::Error>() {
            Ok(inner) => config.error("env", None, inner).into(),
            Err(e) => e,
        })?;
        let obs_dim = env.observation_space().flat_dim();
        let Some(n_actions) = env.action_space().as_discrete().map(|d| d.n) else {
            bail!(config.error(
                "env",
                Some("id"),
                format!(
                    "{} has continuous actions; dqn needs discrete ones",
                    config.env.id
                )
            ));
        };
        // The whole agent, networks and replay buffer, is built once here to check it.
        let small = DqnConfig {
            buffer_size: 1,
            ..agent.clone()
        };
        Dqn::new(obs_dim, n_actions, &small, total_steps, 0)
            .map_err(|e| agent_error(&config.doc, &e))?;
        Ok(DeepExperiment {
            config,
            agent,
            obs_dim,
            n_actions,
            total_steps,
        })
    }
}

/// What `agent.json` says of a saved Q-network.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedNetwork {
    /// `"dqn"`.
    pub algorithm: String,
    /// Numbers per observation.
    pub obs_dim: usize,
    /// Actions.
    pub n_actions: usize,
    /// Env steps trained.
    pub steps: u64,
    /// The weights' file, beside this one.
    pub parameters: String,
    /// Their format.
    pub format: String,
}

/// Trains every seed into the run directory `dir`; see [`super::train`].
pub fn train(
    exp: &DeepExperiment,
    dir: &Path,
    threads: usize,
    display: Display,
) -> Result<Summary> {
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, exp.config.to_toml())
        .with_context(|| format!("{}", config_path.display()))
        .map_err(Failure)?;
    let seeds = &exp.config.train.seeds;
    let progress = Progress::new(seeds, exp.config.train.budget);
    let start = Instant::now();
    let results: Vec<Mutex<Option<Result<SeedSummary>>>> =
        seeds.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let shown = scope.spawn(|| progress.show(display, &finished));
        let workers: Vec<_> = (0..threads.clamp(1, seeds.len()))
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&seed) = seeds.get(i) else { break };
                        let seed_dir = dir.join(format!("seed_{seed}"));
                        let r = train_seed(exp, seed, &seed_dir, &progress.slots[i]);
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
    let wall = start.elapsed().as_secs_f64();
    let mut done = Vec::new();
    let mut failure = None;
    for (seed, r) in seeds.iter().zip(results) {
        match r.into_inner().expect("no worker panics holding it") {
            Some(Ok(s)) => done.push(s),
            Some(Err(e)) => {
                failure.get_or_insert(e.context(format!("seed {seed}")));
            }
            None => {
                failure.get_or_insert(anyhow::anyhow!("seed {seed} not run"));
            }
        }
    }
    let summary = Summary::new(
        &exp.config.env.id,
        "dqn",
        exp.config.output.window,
        done,
        wall,
    );
    summary.write(dir).map_err(Failure)?;
    match failure {
        Some(e) => Err(Failure(e).into()),
        None => Ok(summary),
    }
}

/// Greedy episodes of `agent` on `env`, seeded as every evaluation of `seed` is: the first
/// reset takes the seed's evaluation seed, later ones continue the env's stream.
fn evaluate_seed(
    env: &mut VecEnv,
    agent: &Dqn,
    seed: u64,
    episodes: u64,
    max_steps: u64,
) -> Result<Evaluation> {
    let (mut mean, mut m2) = (0.0, 0.0);
    let mut first = Some(derive(seed, Stream::EvalEnv));
    for e in 0..episodes {
        let mut obs = env.reset(first.take()).obs;
        let mut ret = 0.0;
        for _ in 0..max_steps {
            let step = env.step(agent.greedy(&obs)?)?;
            ret += step.reward;
            if step.done() {
                break;
            }
            obs = step.obs;
        }
        // Welford's running mean and sum of squared deviations.
        let delta = ret - mean;
        mean += delta / (e + 1) as f64;
        m2 += delta * (ret - mean);
    }
    Ok(Evaluation {
        mean,
        std: (m2 / episodes as f64).sqrt(),
        episodes: usize::try_from(episodes).unwrap_or(usize::MAX),
    })
}

/// One seed's run.
fn train_seed(exp: &DeepExperiment, seed: u64, dir: &Path, slot: &Slot) -> Result<SeedSummary> {
    let start = Instant::now();
    let config = &exp.config;
    let train = &config.train;
    let mut env = make(config)?;
    let mut eval_env = make(config)?;
    let mut agent = Dqn::new(
        exp.obs_dim,
        exp.n_actions,
        &exp.agent,
        exp.total_steps,
        derive(seed, Stream::Agent),
    )?;
    let mut rec = Recorder::create(dir)?;
    let train_path = dir.join("train.csv");
    let mut train_csv = BufWriter::new(
        File::create(&train_path).with_context(|| format!("{}", train_path.display()))?,
    );
    writeln!(
        train_csv,
        "step,loss,mean_q,epsilon,gradient_steps,steps_per_second"
    )?;
    let max_len = train.max_steps_per_episode.unwrap_or(u64::MAX);
    let total = exp.total_steps;
    let mut returns = Vec::new();
    let (mut episodes, mut ret, mut length) = (0u64, 0.0, 0u64);
    let mut last_eval: Option<(u64, Evaluation)> = None;
    let mut obs = env.reset(Some(seed)).obs;
    for t in 1..=total {
        let action = agent.act(&obs)?;
        let step = env.step(action)?;
        ret += step.reward;
        length += 1;
        let truncated = step.truncated || length >= max_len;
        let done = step.terminated || truncated;
        // The budget cuts the last episode: the agent sees it truncated.
        let cut = t == total && !done;
        let stats = agent
            .observe(
                &obs,
                action,
                step.reward,
                &step.obs,
                step.terminated,
                truncated || cut,
            )
            .with_context(|| format!("{}: keeping the last checkpoint", dir.display()))?;
        if let Some(s) = stats {
            let rate = t as f64 / start.elapsed().as_secs_f64();
            writeln!(
                train_csv,
                "{},{},{},{},{},{:.0}",
                s.step,
                s.loss,
                s.mean_q,
                agent.epsilon(),
                s.gradient_steps,
                rate
            )?;
        }
        if done {
            episodes += 1;
            returns.push(ret);
            rec.episode(&EpisodeRow {
                episode: episodes,
                step: t,
                ret,
                length,
                terminated: step.terminated,
                epsilon: agent.epsilon(),
                value_rmse: None,
            })?;
            let k = returns.len().min(config.output.window as usize);
            let recent = returns[returns.len() - k..].iter().sum::<f64>() / k as f64;
            slot.episode(episodes, t, Some(recent));
            (ret, length) = (0.0, 0);
            obs = env.reset(None).obs;
        } else {
            obs = step.obs;
        }
        if train.eval_every > 0 && t % train.eval_every == 0 {
            let e = evaluate_seed(
                &mut eval_env,
                &agent,
                seed,
                train.eval_episodes,
                train.eval_max_steps,
            )?;
            rec.evaluation(episodes, t, &e)?;
            train_csv.flush()?;
            last_eval = Some((t, e));
        }
    }
    let final_eval = match last_eval {
        Some((at, e)) if at == total => e,
        _ => {
            let e = evaluate_seed(
                &mut eval_env,
                &agent,
                seed,
                train.eval_episodes,
                train.eval_max_steps,
            )?;
            rec.evaluation(episodes, total, &e)?;
            e
        }
    };
    rec.flush()?;
    train_csv.flush()?;
    save(dir, exp, &agent)?;
    slot.finish(episodes, total);
    let wall_seconds = start.elapsed().as_secs_f64();
    let window = (config.output.window as usize).max(1);
    let means: Vec<f64> = returns
        .windows(window)
        .map(|w| w.iter().sum::<f64>() / window as f64)
        .collect();
    Ok(SeedSummary {
        seed,
        episodes,
        steps: total,
        wall_seconds,
        steps_per_second: total as f64 / wall_seconds,
        final_eval_mean_return: final_eval.mean,
        final_eval_std_return: final_eval.std,
        final_window_mean_return: means.last().copied(),
        best_window_mean_return: means.iter().copied().reduce(f64::max),
    })
}

fn save(dir: &Path, exp: &DeepExperiment, agent: &Dqn) -> Result<()> {
    agent
        .params()
        .save(dir.join("q.safetensors"))
        .context("saving the network")?;
    let saved = SavedNetwork {
        algorithm: "dqn".into(),
        obs_dim: exp.obs_dim,
        n_actions: exp.n_actions,
        steps: agent.steps(),
        parameters: "q.safetensors".into(),
        format: "safetensors: the online Q-network's parameters, f32".into(),
    };
    let path = dir.join("agent.json");
    std::fs::write(&path, serde_json::to_string_pretty(&saved)? + "\n")
        .with_context(|| format!("{}", path.display()))
}

/// Reloads each seed's network from the run in `dir` and evaluates it greedily, with the
/// same episode seeds as the run's own evaluations.
pub fn evaluate(config: &Config, dir: &Path, episodes: Option<u64>) -> Result<Vec<SeedEvaluation>> {
    let exp = DeepExperiment::new(config.clone())?;
    let episodes = episodes.unwrap_or(exp.config.train.eval_episodes);
    if episodes == 0 {
        bail!("--episodes must be at least 1, got 0");
    }
    let mut out = Vec::new();
    for &seed in &exp.config.train.seeds {
        let seed_dir = dir.join(format!("seed_{seed}"));
        let json = seed_dir.join("agent.json");
        if !json.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&json).with_context(|| format!("{}", json.display()))?;
        let saved: SavedNetwork =
            serde_json::from_str(&text).with_context(|| format!("{}", json.display()))?;
        if saved.obs_dim != exp.obs_dim || saved.n_actions != exp.n_actions {
            bail!(
                "{}: a network of {} inputs and {} actions, but config.toml makes one of {} and {}",
                json.display(),
                saved.obs_dim,
                saved.n_actions,
                exp.obs_dim,
                exp.n_actions
            );
        }
        let small = DqnConfig {
            buffer_size: 1,
            ..exp.agent.clone()
        };
        let agent = Dqn::new(exp.obs_dim, exp.n_actions, &small, exp.total_steps, 0)?;
        agent.load_params(seed_dir.join(&saved.parameters))?;
        let mut env = make(&exp.config)?;
        let evaluation = evaluate_seed(
            &mut env,
            &agent,
            seed,
            episodes,
            exp.config.train.eval_max_steps,
        )
        .map_err(Failure)?;
        out.push(SeedEvaluation { seed, evaluation });
    }
    if out.is_empty() {
        bail!(
            "{} holds no saved agent (seed_<k>/agent.json)",
            dir.display()
        );
    }
    Ok(out)
}
