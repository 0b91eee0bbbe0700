//! Runs of deep Q-networks (`[agent] algorithm = "dqn"`): the env's observation goes straight
//! into a [`Dqn`], no `[features]` section; its box's shape tells the Q-network how to read it
//! (a CNN torso sees `[C, H, W]` images).
//!
//! A seed's directory holds what a tabular run's does — `metrics.csv` (one row per episode;
//! `value_rmse` empty), `eval.csv` — and `train.csv`, one row per training (every
//! `train_freq` env steps once learning has started):
//! `step,loss,mean_q,epsilon,gradient_steps,steps_per_second`. The learned network is
//! `q.safetensors` with `agent.json` beside it.
//!
//! Every column but `steps_per_second` (wall-clock) depends on the config and the seed alone:
//! the same config and seed give bit-identical files on the CPU.
//!
//! An attention torso (`torso = { type = "attention", k = … }`) reads the last `k`
//! observations: the runner wraps the env (training, evaluation, `qlab eval`) in
//! [`ObservationHistory`](qlab_envs::wrappers::ObservationHistory) with that `k`, so the
//! agent and its replay buffer see the stack `[k, …]` as the observation. A recurrent torso
//! (`lstm`, `gru`) carries its hidden state through each episode, in training and in every
//! greedy evaluation.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use qlab_agents::dqn::{Dqn, DqnConfig, DqnState};
use qlab_agents::tabular::Evaluation;
use qlab_envs::{AnyEnv, Env};
use serde::{Deserialize, Serialize};

use super::progress::{Display, Progress, Slot};
use super::record::{EpisodeRow, Recorder, SeedSummary, Summary};
use super::seed::{Stream, derive};
use super::{Failure, SeedEvaluation, for_each_seed};
use crate::config::{AgentSpec, Budget, Config, Features, agent_error};

/// The boxed env deep runs step.
type VecEnv = qlab_envs::registry::VectorEnv;

/// A deep-Q-network config, checked: the env observes a box (a vector or an image) and has
/// discrete actions, the budget is in steps, the networks build for the box's shape.
pub struct DeepExperiment {
    /// The config.
    pub config: Config,
    /// Its `[agent]`.
    pub agent: DqnConfig,
    /// Numbers per observation.
    pub obs_dim: usize,
    /// The observation's shape (the env's box): `[d]` for a vector, `[C, H, W]` for an image.
    pub obs_shape: Vec<usize>,
    /// Actions.
    pub n_actions: usize,
    /// Env steps per seed.
    pub total_steps: u64,
}

fn make(config: &Config) -> Result<VecEnv> {
    let history = match &config.agent {
        AgentSpec::Dqn(d) => d.network.torso.history(),
        _ => None,
    };
    match qlab_envs::make(&config.env.id, &config.env.params)? {
        AnyEnv::Vector(e) => match history {
            Some(k) => Ok(Box::new(qlab_envs::wrappers::ObservationHistory::new(
                e, k,
            )?)),
            None => Ok(e),
        },
        AnyEnv::Continuous(e) => bail!(config.error(
            "env",
            Some("id"),
            format!(
                "dqn needs discrete actions; {} has {}",
                config.env.id,
                e.action_space()
            )
        )),
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
        agent.validate().map_err(|e| agent_error(&config.doc, &e))?;
        let env = make(&config).map_err(|e| match e.downcast::<qlab_envs::Error>() {
            Ok(inner) => config.error("env", None, inner).into(),
            Err(e) => e,
        })?;
        let obs_dim = env.observation_space().flat_dim();
        let obs_shape = match env.observation_space().as_box() {
            Some(b) => b.shape().to_vec(),
            None => vec![obs_dim],
        };
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
        Dqn::new(&obs_shape, n_actions, &small, total_steps, 0)
            .map_err(|e| agent_error(&config.doc, &e))?;
        Ok(DeepExperiment {
            config,
            agent,
            obs_dim,
            obs_shape,
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
    /// The observation's shape (absent from files written before it was recorded).
    #[serde(default)]
    pub obs_shape: Vec<usize>,
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
    run_seeds(exp, dir, threads, display, false)
}

/// Continues the run in `dir` (written by `qlab train`, possibly killed): seeds that finished
/// are kept, seeds with a checkpoint continue from it, the others start again.
pub fn resume(dir: &Path, threads: usize, display: Display) -> Result<(DeepExperiment, Summary)> {
    let config = super::load_run_config(dir)?;
    if !matches!(config.agent, AgentSpec::Dqn(_)) {
        bail!(
            "{}: --resume continues deep-Q-network runs; this one is `{}`",
            dir.display(),
            config.agent.algorithm()
        );
    }
    let exp = DeepExperiment::new(config)?;
    let summary = run_seeds(&exp, dir, threads, display, true)?;
    Ok((exp, summary))
}

fn run_seeds(
    exp: &DeepExperiment,
    dir: &Path,
    threads: usize,
    display: Display,
    resume: bool,
) -> Result<Summary> {
    let seeds = &exp.config.train.seeds;
    let progress = Progress::new(seeds, exp.config.train.budget);
    let start = Instant::now();
    let results = for_each_seed(seeds, threads, &progress, display, |i, seed| {
        let seed_dir = dir.join(format!("seed_{seed}"));
        train_seed(exp, seed, &seed_dir, &progress.slots[i], resume)
    });
    let wall = start.elapsed().as_secs_f64();
    super::finish(dir, &exp.config, "dqn", results, wall)
}

/// The sidecar of a checkpoint, `checkpoint.json` in the seed's directory: everything but the
/// arrays, which are in the safetensors file it names. Written last (to a temporary file,
/// then renamed), it is what makes a checkpoint count.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Checkpoint {
    /// The safetensors file beside it.
    tensors: String,
    /// The agent's numbers.
    agent: DqnState,
    /// Env steps taken.
    step: u64,
    /// Episodes finished.
    episodes: u64,
    /// Their returns.
    returns: Vec<f64>,
    /// The last evaluation: step, mean, std, episodes.
    last_eval: Option<(u64, f64, f64, usize)>,
    /// Lengths of `metrics.csv`, `eval.csv`, `train.csv` at the checkpoint.
    files: (u64, u64, u64),
    /// Wall time spent so far.
    wall_seconds: f64,
}

const CHECKPOINT: &str = "checkpoint.json";
const SEED_SUMMARY: &str = "seed_summary.json";

/// Writes `path` atomically: to a temporary file beside it, then renamed over it.
fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = path.with_extension("tmp");
    write(&tmp)?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}", path.display()))
}

fn file_len(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("{}", path.display()))?
        .len())
}

/// Cuts `path` back to `len` bytes and opens it for appending.
fn reopen(path: &Path, len: u64) -> Result<File> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    file.set_len(len)
        .with_context(|| format!("{}", path.display()))?;
    Ok(file)
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
    let mut memory = agent.memory();
    evaluate_policy(
        env,
        |obs, first| {
            if first {
                memory.reset();
            }
            Ok(agent.greedy_with(obs, &mut memory)?)
        },
        derive(seed, Stream::EvalEnv),
        episodes,
        max_steps,
    )
}

/// The episode seed a run's evaluations of `seed` start from: the first reset gets it, the
/// later ones continue the env's stream.
pub fn eval_seed(seed: u64) -> u64 {
    derive(seed, Stream::EvalEnv)
}

/// Plays `episodes` episodes of at most `max_steps` steps with `policy`, the first reset
/// seeded with `first_seed` and the later ones continuing the env's stream; the mean and
/// (population) standard deviation of the returns. `policy(obs, first)` is told whether `obs`
/// is an episode's first (a recurrent policy resets its memory there).
///
/// # Errors
/// A failing env step or policy.
pub fn evaluate_policy<E: Env<Obs = Vec<f32>, Action = usize> + ?Sized>(
    env: &mut E,
    mut policy: impl FnMut(&[f32], bool) -> Result<usize>,
    first_seed: u64,
    episodes: u64,
    max_steps: u64,
) -> Result<Evaluation> {
    let (mut mean, mut m2) = (0.0, 0.0);
    let mut first = Some(first_seed);
    for e in 0..episodes {
        let mut obs = env.reset(first.take()).obs;
        let mut ret = 0.0;
        for t in 0..max_steps {
            let step = env.step(policy(&obs, t == 0)?)?;
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

/// Where a seed's run stands.
struct Progressed {
    t: u64,
    episodes: u64,
    returns: Vec<f64>,
    last_eval: Option<(u64, Evaluation)>,
    wall_before: f64,
}

/// One seed's run, from its checkpoint when `resume` and there is one.
fn train_seed(
    exp: &DeepExperiment,
    seed: u64,
    dir: &Path,
    slot: &Slot,
    resume: bool,
) -> Result<SeedSummary> {
    let start = Instant::now();
    let config = &exp.config;
    let train = &config.train;
    if resume && dir.join(SEED_SUMMARY).is_file() {
        let path = dir.join(SEED_SUMMARY);
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
        let s: SeedSummary =
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        slot.finish(s.episodes, s.steps);
        return Ok(s);
    }
    let mut env = make(config)?;
    let mut eval_env = make(config)?;
    let mut agent = Dqn::new(
        &exp.obs_shape,
        exp.n_actions,
        &exp.agent,
        exp.total_steps,
        derive(seed, Stream::Agent),
    )?;
    if let Some(space) = env.observation_space().as_box() {
        agent.set_observation_space(space)?;
    }
    let train_path = dir.join("train.csv");
    let checkpoint = dir.join(CHECKPOINT);
    let (mut rec, train_file, mut at, mut obs) = if resume && checkpoint.is_file() {
        let text = std::fs::read_to_string(&checkpoint)
            .with_context(|| format!("{}", checkpoint.display()))?;
        let c: Checkpoint =
            serde_json::from_str(&text).with_context(|| format!("{}", checkpoint.display()))?;
        agent.load_checkpoint(dir.join(&c.tensors), &c.agent)?;
        let rec = Recorder::reopen(dir, c.files.0, c.files.1)?;
        let train_file = reopen(&train_path, c.files.2)?;
        // The env's stream is where it was: its first reset took the seed, each later episode
        // one reset (CartPole draws only when it resets).
        let mut obs = env.reset(Some(seed)).obs;
        for _ in 0..c.episodes {
            obs = env.reset(None).obs;
        }
        let at = Progressed {
            t: c.step,
            episodes: c.episodes,
            returns: c.returns,
            last_eval: c.last_eval.map(|(s, mean, std, episodes)| {
                (
                    s,
                    Evaluation {
                        mean,
                        std,
                        episodes,
                    },
                )
            }),
            wall_before: c.wall_seconds,
        };
        (rec, train_file, at, obs)
    } else {
        if resume && dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        }
        let rec = Recorder::create(dir)?;
        let mut train_file =
            File::create(&train_path).with_context(|| format!("{}", train_path.display()))?;
        writeln!(
            train_file,
            "step,loss,mean_q,epsilon,gradient_steps,steps_per_second"
        )?;
        let at = Progressed {
            t: 0,
            episodes: 0,
            returns: Vec::new(),
            last_eval: None,
            wall_before: 0.0,
        };
        (rec, train_file, at, env.reset(Some(seed)).obs)
    };
    let mut train_csv = BufWriter::new(train_file);
    let max_len = train.max_steps_per_episode.unwrap_or(u64::MAX);
    let total = exp.total_steps;
    let every = train.checkpoint_every;
    let next_checkpoint = |t: u64| {
        t.checked_div(every)
            .map_or(u64::MAX, |k| (k + 1).saturating_mul(every))
    };
    let mut checkpoint_at = next_checkpoint(at.t);
    let (mut ret, mut length) = (0.0, 0u64);
    let first = at.t + 1;
    for t in first..=total {
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
            .with_context(|| {
                format!(
                    "{}: stopped; the last checkpoint (if any) is kept",
                    dir.display()
                )
            })?;
        at.t = t;
        if let Some(s) = stats {
            let rate = (t - first + 1) as f64 / start.elapsed().as_secs_f64();
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
            at.episodes += 1;
            at.returns.push(ret);
            record_episode(&mut rec, &at, &step, length, agent.epsilon())?;
            slot.episode(at.episodes, t, recent(&at.returns, config.output.window));
        }
        if train.eval_every > 0 && t % train.eval_every == 0 {
            let e = evaluate_seed(
                &mut eval_env,
                &agent,
                seed,
                train.eval_episodes,
                train.eval_max_steps,
            )?;
            rec.evaluation(at.episodes, t, &e)?;
            train_csv.flush()?;
            at.last_eval = Some((t, e));
        }
        if done {
            (ret, length) = (0.0, 0);
            if t >= checkpoint_at && t < total {
                save_checkpoint(dir, &agent, &at, &mut rec, &mut train_csv, start)?;
                checkpoint_at = next_checkpoint(t);
            }
            obs = env.reset(None).obs;
        } else {
            obs = step.obs;
        }
    }
    let final_eval = match at.last_eval.take() {
        Some((s, e)) if s == total => e,
        _ => {
            let e = evaluate_seed(
                &mut eval_env,
                &agent,
                seed,
                train.eval_episodes,
                train.eval_max_steps,
            )?;
            rec.evaluation(at.episodes, total, &e)?;
            e
        }
    };
    rec.flush()?;
    train_csv.flush()?;
    save(dir, exp, &agent)?;
    slot.finish(at.episodes, total);
    let wall_seconds = at.wall_before + start.elapsed().as_secs_f64();
    let window = (config.output.window as usize).max(1);
    let means: Vec<f64> = at
        .returns
        .windows(window)
        .map(|w| w.iter().sum::<f64>() / window as f64)
        .collect();
    let summary = SeedSummary {
        seed,
        episodes: at.episodes,
        steps: total,
        wall_seconds,
        steps_per_second: total as f64 / wall_seconds,
        final_eval_mean_return: final_eval.mean,
        final_eval_std_return: final_eval.std,
        final_window_mean_return: means.last().copied(),
        best_window_mean_return: means.iter().copied().reduce(f64::max),
    };
    let path = dir.join(SEED_SUMMARY);
    write_atomic(&path, |tmp| {
        std::fs::write(tmp, serde_json::to_string_pretty(&summary)? + "\n")
            .with_context(|| format!("{}", tmp.display()))
    })?;
    Ok(summary)
}

/// The mean return of the last `window` episodes.
fn recent(returns: &[f64], window: u64) -> Option<f64> {
    let k = returns
        .len()
        .min(usize::try_from(window).unwrap_or(usize::MAX));
    (k > 0).then(|| returns[returns.len() - k..].iter().sum::<f64>() / k as f64)
}

fn record_episode(
    rec: &mut Recorder,
    at: &Progressed,
    step: &qlab_envs::Step<Vec<f32>>,
    length: u64,
    epsilon: f64,
) -> Result<()> {
    rec.episode(&EpisodeRow {
        episode: at.episodes,
        step: at.t,
        ret: *at.returns.last().expect("an episode was pushed"),
        length,
        terminated: step.terminated,
        epsilon,
        value_rmse: None,
    })
}

/// Writes a checkpoint: the arrays to `checkpoint-<step>.safetensors`, then the sidecar
/// `checkpoint.json` naming it, each through a temporary file and a rename; the previous
/// arrays file goes last. A kill at any moment leaves the previous checkpoint or this one.
fn save_checkpoint(
    dir: &Path,
    agent: &Dqn,
    at: &Progressed,
    rec: &mut Recorder,
    train_csv: &mut BufWriter<File>,
    start: Instant,
) -> Result<()> {
    let name = format!("checkpoint-{}.safetensors", at.t);
    let mut state = None;
    write_atomic(&dir.join(&name), |tmp| {
        state = Some(agent.save_checkpoint(tmp)?);
        Ok(())
    })?;
    let state = state.expect("written above");
    let (metrics_len, eval_len) = rec.lengths()?;
    train_csv.flush()?;
    let train_len = file_len(&dir.join("train.csv"))?;
    let sidecar = dir.join(CHECKPOINT);
    let previous = std::fs::read_to_string(&sidecar)
        .ok()
        .and_then(|t| serde_json::from_str::<Checkpoint>(&t).ok())
        .map(|c| c.tensors);
    let c = Checkpoint {
        tensors: name.clone(),
        agent: state,
        step: at.t,
        episodes: at.episodes,
        returns: at.returns.clone(),
        last_eval: at
            .last_eval
            .as_ref()
            .map(|(s, e)| (*s, e.mean, e.std, e.episodes)),
        files: (metrics_len, eval_len, train_len),
        wall_seconds: at.wall_before + start.elapsed().as_secs_f64(),
    };
    write_atomic(&sidecar, |tmp| {
        std::fs::write(tmp, serde_json::to_string(&c)? + "\n")
            .with_context(|| format!("{}", tmp.display()))
    })?;
    if let Some(old) = previous.filter(|old| *old != name) {
        let _ = std::fs::remove_file(dir.join(old));
    }
    Ok(())
}

fn save(dir: &Path, exp: &DeepExperiment, agent: &Dqn) -> Result<()> {
    agent
        .params()
        .save(dir.join("q.safetensors"))
        .context("saving the network")?;
    let saved = SavedNetwork {
        algorithm: "dqn".into(),
        obs_dim: exp.obs_dim,
        obs_shape: exp.obs_shape.clone(),
        n_actions: exp.n_actions,
        steps: agent.steps(),
        parameters: "q.safetensors".into(),
        format: "safetensors: the online Q-network's parameters, f32".into(),
    };
    let path = dir.join("agent.json");
    std::fs::write(&path, serde_json::to_string_pretty(&saved)? + "\n")
        .with_context(|| format!("{}", path.display()))
}

/// Reads a seed's `agent.json` in `seed_dir` and checks it against the config; returns the
/// path of the saved weights, or `None` when the seed saved no agent.
fn saved_weights(exp: &DeepExperiment, seed_dir: &Path) -> Result<Option<PathBuf>> {
    let json = seed_dir.join("agent.json");
    if !json.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&json).with_context(|| format!("{}", json.display()))?;
    let saved: SavedNetwork =
        serde_json::from_str(&text).with_context(|| format!("{}", json.display()))?;
    // Files written before `obs_shape` was recorded leave it empty: only the length is known.
    let shape_differs = !saved.obs_shape.is_empty() && saved.obs_shape != exp.obs_shape;
    if saved.obs_dim != exp.obs_dim || shape_differs || saved.n_actions != exp.n_actions {
        let saved_shape = if saved.obs_shape.is_empty() {
            vec![saved.obs_dim]
        } else {
            saved.obs_shape
        };
        bail!(
            "{}: a network for observations of shape {:?} and {} actions, but config.toml makes one for {:?} and {}",
            json.display(),
            saved_shape,
            saved.n_actions,
            exp.obs_shape,
            exp.n_actions
        );
    }
    Ok(Some(seed_dir.join(&saved.parameters)))
}

/// Reloads the greedy agent a seed saved in `seed_dir` (`agent.json` and the weights it
/// names), built as the config builds it; `None` when the seed saved no agent.
///
/// # Errors
/// An `agent.json` that does not match the config, weights that do not load.
pub fn load_agent(exp: &DeepExperiment, seed_dir: &Path) -> Result<Option<Dqn>> {
    let Some(weights) = saved_weights(exp, seed_dir)? else {
        return Ok(None);
    };
    // No replay buffer is needed to act.
    let small = DqnConfig {
        buffer_size: 1,
        ..exp.agent.clone()
    };
    let agent = Dqn::new(&exp.obs_shape, exp.n_actions, &small, exp.total_steps, 0)?;
    agent.load_params(weights)?;
    Ok(Some(agent))
}

/// The env a deep run steps, built from its config.
///
/// # Errors
/// An env the registry cannot build, or one that does not observe a vector.
pub fn make_env(config: &Config) -> Result<VecEnv> {
    make(config)
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
        let Some(agent) = load_agent(&exp, &seed_dir)? else {
            continue;
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy is told each episode's first step (where a recurrent policy resets its
    /// memory), and only those: one per episode, each right after a reset.
    #[test]
    fn evaluation_marks_each_episode_start() {
        let AnyEnv::Vector(mut env) =
            qlab_envs::make("CartPoleNoVelocity-v1", &Default::default()).unwrap()
        else {
            panic!("CartPoleNoVelocity-v1 observes a vector");
        };
        let (mut firsts, mut steps) = (Vec::new(), 0u64);
        let e = evaluate_policy(
            &mut env,
            |_, first| {
                if first {
                    firsts.push(steps);
                }
                steps += 1;
                Ok(0)
            },
            7,
            5,
            500,
        )
        .unwrap();
        assert_eq!(firsts.len(), 5);
        assert_eq!(firsts[0], 0);
        // Always pushing left ends each episode after a few steps; the starts are where the
        // episodes' lengths put them.
        let mean_len = steps as f64 / 5.0;
        assert_eq!(e.mean, mean_len, "CartPole pays 1 a step");
        assert!(firsts.windows(2).all(|w| w[1] > w[0] + 1), "{firsts:?}");
    }
}
