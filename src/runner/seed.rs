//! One seed's run, for every agent: the training loop, its evaluations, its records and its
//! checkpoints.
//!
//! [`train`] is generic over the env, so that the hot loop steps a concrete env without
//! dynamic dispatch, and over the agent's observation type (active feature indices for the
//! tabular agents, the observation's numbers for networks): one loop for every agent.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use qlab_agents::tabular::Evaluation;
use qlab_agents::{Agent, TrainStats, View};
use qlab_envs::{Env, EnvRng};
use serde::{Deserialize, Serialize};

use super::Truth;
use super::progress::Slot;
use super::record::{EpisodeRow, Recorder, SeedSummary};
use crate::config::{Budget, TrainConfig};

/// The random streams of a seed's run, each derived from the seed alone (SplitMix64 of the
/// seed and the stream's number), so that a run depends on nothing but its config and seed.
/// The training env is reset with the seed itself, as Gymnasium's `reset(seed=…)` is.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Stream {
    /// The agent's exploration and tie-breaking (and exploring starts).
    Agent = 1,
    /// The evaluation env's first reset.
    EvalEnv = 2,
    /// Tie-breaking of the greedy policy in evaluations.
    EvalAgent = 3,
}

/// The seed of `stream` in the run of `seed`.
pub fn derive(seed: u64, stream: Stream) -> u64 {
    let mut z = seed ^ (stream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A greedy evaluation of `agent` as every evaluation of this seed runs it: the same episode
/// seeds each time (common random numbers), so evaluations differ only by the policy, and
/// `qlab eval` on the saved agent reproduces the last one. Ties in the greedy policy are broken
/// with the seed's evaluation stream.
///
/// # Errors
/// `episodes = 0`, a failing env step or agent.
pub fn evaluate<E, O, G>(
    env: &mut E,
    agent: &mut G,
    seed: u64,
    episodes: u64,
    max_steps: u64,
) -> Result<Evaluation>
where
    E: Env<Action = usize> + ?Sized,
    E::Obs: View<O>,
    O: ?Sized,
    G: Agent<O, usize> + ?Sized,
{
    let mut rng = EnvRng::new(derive(seed, Stream::EvalAgent));
    evaluate_policy(
        env,
        |obs, first| Ok(agent.greedy(obs, first, &mut rng)?),
        derive(seed, Stream::EvalEnv),
        episodes,
        max_steps,
    )
}

/// Plays `episodes` episodes of at most `max_steps` steps with `policy`, the first reset
/// seeded with `first_seed` and the later ones continuing the env's stream; the mean and
/// (population) standard deviation of the returns. `policy(obs, first)` is told whether `obs`
/// is an episode's first (a policy with memory resets it there).
///
/// # Errors
/// `episodes = 0`, a failing env step or policy.
pub fn evaluate_policy<E, O>(
    env: &mut E,
    mut policy: impl FnMut(&O, bool) -> Result<usize>,
    first_seed: u64,
    episodes: u64,
    max_steps: u64,
) -> Result<Evaluation>
where
    E: Env<Action = usize> + ?Sized,
    E::Obs: View<O>,
    O: ?Sized,
{
    if episodes == 0 {
        bail!("an evaluation needs at least 1 episode, got 0");
    }
    let mut first = Some(first_seed);
    // Welford's running mean and sum of squared deviations.
    let (mut mean, mut m2) = (0.0, 0.0);
    for e in 0..episodes {
        let mut obs = env.reset(first.take()).obs;
        let (mut ret, mut length) = (0.0, 0u64);
        loop {
            let step = env.step(policy(obs.view(), length == 0)?)?;
            ret += step.reward;
            length += 1;
            if step.done() || length >= max_steps {
                break;
            }
            obs = step.obs;
        }
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

/// Mean returns over a moving window of episodes.
#[derive(Serialize, Deserialize)]
struct Window {
    returns: Vec<f64>,
    next: usize,
    filled: bool,
    sum: f64,
    best: Option<f64>,
}

impl Window {
    fn new(size: u64) -> Self {
        Self {
            returns: vec![0.0; usize::try_from(size).unwrap_or(usize::MAX).min(1 << 24)],
            next: 0,
            filled: false,
            sum: 0.0,
            best: None,
        }
    }

    #[inline]
    fn push(&mut self, ret: f64) {
        let n = self.returns.len();
        self.sum += ret - self.returns[self.next];
        self.returns[self.next] = ret;
        self.next += 1;
        if self.next == n {
            self.next = 0;
            self.filled = true;
            // Resum once per lap, so that rounding in the running sum never accumulates.
            self.sum = self.returns.iter().sum();
        }
        if self.filled {
            let mean = self.sum / n as f64;
            self.best = Some(self.best.map_or(mean, |b: f64| b.max(mean)));
        }
    }

    fn len(&self) -> usize {
        if self.filled {
            self.returns.len()
        } else {
            self.next
        }
    }

    /// The mean of the episodes in the window (all of them, before it fills), from the
    /// running sum: for progress displays.
    #[inline]
    fn recent(&self) -> Option<f64> {
        let k = self.len();
        (k > 0).then(|| self.sum / k as f64)
    }

    /// The same, summed afresh: for the summary.
    fn mean(&self) -> Option<f64> {
        let k = self.len();
        (k > 0).then(|| self.returns[..k].iter().sum::<f64>() / k as f64)
    }
}

/// What the loop notes of each episode beside its return: nothing (`()`), or the states it
/// visited, for the error of the agent's values ([`ValueErrors`]).
pub trait Tracker<O: ?Sized, G: ?Sized> {
    /// Takes the agent as a run starts or resumes.
    fn begin(&mut self, agent: &G);
    /// An episode starts.
    fn clear(&mut self);
    /// The episode reached `obs`.
    fn visit(&mut self, obs: &O);
    /// The episode (number `episode`, from 1) ended: the value error to record, if any.
    fn value_rmse(&mut self, agent: &G, episode: u64) -> Option<f64>;
}

impl<O: ?Sized, G: ?Sized> Tracker<O, G> for () {
    #[inline(always)]
    fn begin(&mut self, _: &G) {}
    #[inline(always)]
    fn clear(&mut self) {}
    #[inline(always)]
    fn visit(&mut self, _: &O) {}
    #[inline(always)]
    fn value_rmse(&mut self, _: &G, _: u64) -> Option<f64> {
        None
    }
}

/// `train.csv`: one row per training of an agent that trains in batches
/// (`step,loss,mean_q,epsilon,gradient_steps,steps_per_second`).
struct TrainLog {
    file: BufWriter<File>,
    path: PathBuf,
    /// The first step of this invocation and when it began, for `steps_per_second`.
    first: u64,
    start: Instant,
}

/// The header of `train.csv`.
pub const TRAIN_HEADER: &str = "step,loss,mean_q,epsilon,gradient_steps,steps_per_second";

impl TrainLog {
    fn row(&mut self, s: &TrainStats, epsilon: f64, t: u64) -> Result<()> {
        let rate = (t - self.first + 1) as f64 / self.start.elapsed().as_secs_f64();
        writeln!(
            self.file,
            "{},{},{},{},{},{:.0}",
            s.step, s.loss, s.mean_q, epsilon, s.gradient_steps, rate
        )
        .with_context(|| format!("{}", self.path.display()))
    }

    fn flush(&mut self) -> Result<u64> {
        self.file
            .flush()
            .with_context(|| format!("{}", self.path.display()))?;
        file_len(&self.path)
    }
}

/// An episode under way.
struct Episode {
    /// The action to take next.
    action: usize,
    ret: f64,
    length: u64,
}

/// Why [`play`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pause {
    /// The episode ended.
    Ended {
        /// By termination (else by truncation: a time limit or the step budget).
        terminated: bool,
    },
    /// The step count reached `stop_at` in the middle of the episode.
    Event,
}

/// The hot loop: steps `env` with the agent's actions until the episode ends or `steps`
/// reaches `stop_at` (an evaluation or the end of the budget, `max_steps`). The step that
/// reaches the budget in mid-episode is given to the agent as truncated.
///
/// The observations each step reaches go to `tracker`, what the agent trained to `log`.
///
/// Its counters live in locals so that the compiler keeps them in registers: this loop sets
/// the runner's training throughput.
#[inline]
#[allow(clippy::too_many_arguments)]
fn play<E, O, G, T>(
    env: &mut E,
    agent: &mut G,
    ep: &mut Episode,
    steps: &mut u64,
    stop_at: u64,
    max_steps: u64,
    rng: &mut EnvRng,
    tracker: &mut T,
    log: &mut Option<TrainLog>,
) -> Result<Pause>
where
    E: Env<Action = usize>,
    E::Obs: View<O>,
    O: ?Sized,
    G: Agent<O, usize> + ?Sized,
    T: Tracker<O, G>,
{
    let (mut action, mut ret, mut length, mut t) = (ep.action, ep.ret, ep.length, *steps);
    let pause = loop {
        // Read the step in place: moving it out of the `Result` copies it with wide loads
        // that stall on the callee's narrower stores (the same fix as `run_episode`'s).
        let result = env.step(action);
        let step = match result {
            Ok(ref step) => step,
            Err(e) => {
                *steps = t;
                return Err(e.into());
            }
        };
        let (reward, terminated, done) = (step.reward, step.terminated, step.done());
        let x = step.obs.view();
        ret += reward;
        length += 1;
        t += 1;
        let event = t == stop_at;
        // The budget cuts the episode: the agent sees it truncated.
        let cut = event && t == max_steps && !done;
        let next = match agent.step(reward, x, terminated, step.truncated || cut, rng) {
            Ok(next) => next,
            Err(e) => {
                *steps = t;
                return Err(
                    anyhow::Error::from(e).context("stopped; the last checkpoint (if any) is kept")
                );
            }
        };
        if let Some(log) = log.as_mut() {
            if let Some(stats) = agent.train_stats() {
                log.row(&stats, agent.epsilon(), t)?;
            }
        }
        tracker.visit(x);
        if done {
            break Pause::Ended { terminated };
        }
        action = next;
        if event {
            break Pause::Event;
        }
    };
    *ep = Episode {
        action,
        ret,
        length,
    };
    *steps = t;
    Ok(pause)
}

/// What a seed's run takes of its experiment.
pub struct Plan<'a> {
    /// `[train]`.
    pub train: &'a TrainConfig,
    /// Episodes in the moving window of returns.
    pub window: u64,
    /// The states exploring starts draw from (with the agent's stream, after each reset).
    pub exploring_starts: Option<&'a [usize]>,
    /// Whether the agent's trainings are written to `train.csv`.
    pub train_log: bool,
}

/// The sidecar of a checkpoint, `checkpoint.json` in the seed's directory: where the run
/// stands, and the agent's state file it names. Written last (to a temporary file, then
/// renamed), it is what makes a checkpoint count.
#[derive(Serialize, Deserialize)]
struct Checkpoint {
    /// The agent's state file beside it.
    agent: String,
    /// Env steps taken.
    step: u64,
    /// Episodes finished.
    episodes: u64,
    /// The moving window of returns.
    window: Window,
    /// The last evaluation: step, mean, std, episodes.
    last_eval: Option<(u64, f64, f64, usize)>,
    /// Lengths of `metrics.csv`, `eval.csv` and `train.csv` (0 when not written).
    files: (u64, u64, u64),
    /// Wall time spent so far.
    wall_seconds: f64,
    /// The agent's stream (exploration, tie-breaking, exploring starts).
    agent_rng: [u64; 4],
    /// The training env's stream.
    env_rng: [u64; 4],
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

/// One seed of a run: where it writes and how it shows progress.
pub struct Seed<'a> {
    /// The seed.
    pub seed: u64,
    /// Its directory, `seed_<seed>` in the run directory.
    pub dir: &'a Path,
    /// Its line of the progress display.
    pub slot: &'a Slot,
    /// Whether to continue from the seed's checkpoint (and keep a finished seed).
    pub resume: bool,
}

/// Trains `agent` for one seed with envs from `make`, writing its records under `seed.dir`:
/// from scratch, or, when `seed.resume`, from its last checkpoint (a seed that finished is
/// kept as it is; one without a checkpoint starts again). `save` writes the trained agent.
///
/// # Errors
/// A failing env, agent or file; a checkpoint asked of an env whose random stream cannot be
/// saved.
#[allow(clippy::too_many_arguments)]
pub fn train<E, O, G, T>(
    plan: &Plan<'_>,
    make: &impl Fn() -> Result<E>,
    agent: &mut G,
    tracker: &mut T,
    save: impl FnOnce(&G, &Path) -> Result<()>,
    seed: &Seed<'_>,
) -> Result<SeedSummary>
where
    E: Env<Action = usize>,
    E::Obs: View<O>,
    O: ?Sized,
    G: Agent<O, usize> + ?Sized,
    T: Tracker<O, G>,
{
    let start = Instant::now();
    let (dir, train) = (seed.dir, plan.train);
    let summary_path = dir.join(SEED_SUMMARY);
    if seed.resume && summary_path.is_file() {
        let text = std::fs::read_to_string(&summary_path)
            .with_context(|| format!("{}", summary_path.display()))?;
        let s: SeedSummary =
            serde_json::from_str(&text).with_context(|| format!("{}", summary_path.display()))?;
        seed.slot.finish(s.episodes, s.steps);
        return Ok(s);
    }
    let mut env = make()?;
    let mut eval_env = make()?;
    let mut rng = EnvRng::new(derive(seed.seed, Stream::Agent));
    let train_path = dir.join("train.csv");
    let checkpoint_path = dir.join(CHECKPOINT);
    let (mut steps, mut episodes) = (0u64, 0u64);
    let mut window = Window::new(plan.window);
    let mut last_eval: Option<(u64, Evaluation)> = None;
    let mut wall_before = 0.0;
    let mut first_reset = Some(seed.seed);
    let (mut rec, log_file) = if seed.resume && checkpoint_path.is_file() {
        let text = std::fs::read_to_string(&checkpoint_path)
            .with_context(|| format!("{}", checkpoint_path.display()))?;
        let c: Checkpoint = serde_json::from_str(&text)
            .with_context(|| format!("{}", checkpoint_path.display()))?;
        agent.restore(&dir.join(&c.agent))?;
        env.set_rng_state(c.env_rng)?;
        rng = EnvRng::from_state(c.agent_rng);
        first_reset = None;
        (steps, episodes, window, wall_before) = (c.step, c.episodes, c.window, c.wall_seconds);
        last_eval = c.last_eval.map(|(s, mean, std, episodes)| {
            (
                s,
                Evaluation {
                    mean,
                    std,
                    episodes,
                },
            )
        });
        let rec = Recorder::reopen(dir, c.files.0, c.files.1)?;
        let log = if plan.train_log {
            Some(reopen(&train_path, c.files.2)?)
        } else {
            None
        };
        seed.slot.episode(episodes, steps, window.recent());
        (rec, log)
    } else {
        if seed.resume && dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        }
        let rec = Recorder::create(dir)?;
        let log = if plan.train_log {
            let mut file =
                File::create(&train_path).with_context(|| format!("{}", train_path.display()))?;
            writeln!(file, "{TRAIN_HEADER}")
                .with_context(|| format!("{}", train_path.display()))?;
            Some(file)
        } else {
            None
        };
        (rec, log)
    };
    let mut log = log_file.map(|file| TrainLog {
        file: BufWriter::new(file),
        path: train_path.clone(),
        first: steps + 1,
        start: Instant::now(),
    });
    tracker.begin(agent);

    let (max_episodes, max_steps) = match train.budget {
        Budget::Episodes(n) => (n, u64::MAX),
        Budget::Steps(n) => (u64::MAX, n),
    };
    let by_steps = matches!(train.budget, Budget::Steps(_));
    let every = train.eval_every;
    let mut next_eval = if by_steps && every > 0 {
        (steps / every + 1).saturating_mul(every)
    } else {
        u64::MAX
    };
    // The one step count the hot loop compares with: the next evaluation or the budget.
    let mut stop_at = next_eval.min(max_steps);
    let checkpoint_every = train.checkpoint_every;
    let next_checkpoint = |t: u64| {
        t.checked_div(checkpoint_every)
            .map_or(u64::MAX, |k| (k + 1).saturating_mul(checkpoint_every))
    };
    let mut checkpoint_at = next_checkpoint(steps);

    let mut eval = |agent: &mut G,
                    episodes: u64,
                    steps: u64,
                    rec: &mut Recorder,
                    log: &mut Option<TrainLog>|
     -> Result<(u64, Evaluation)> {
        let e = evaluate(
            &mut eval_env,
            agent,
            seed.seed,
            train.eval_episodes,
            train.eval_max_steps,
        )?;
        rec.evaluation(episodes, steps, &e)?;
        if let Some(log) = log.as_mut() {
            log.flush()?;
        }
        Ok((steps, e))
    };

    'run: while episodes < max_episodes && steps < max_steps {
        let first = match plan.exploring_starts {
            // As `run_episode_exploring_starts`: reset, then a uniform non-terminal state.
            Some(states) => {
                let _ = env.reset(first_reset.take());
                let s = states[rng.below(states.len())];
                env.set_state(&[s as f64])?
            }
            None => env.reset(first_reset.take()).obs,
        };
        tracker.clear();
        tracker.visit(first.view());
        let mut ep = Episode {
            action: agent.start(first.view(), &mut rng)?,
            ret: 0.0,
            length: 0,
        };
        loop {
            let pause = play(
                &mut env, agent, &mut ep, &mut steps, stop_at, max_steps, &mut rng, tracker,
                &mut log,
            )
            .with_context(|| format!("{}", dir.display()))?;
            if let Pause::Ended { terminated } = pause {
                episodes += 1;
                window.push(ep.ret);
                let value_rmse = tracker.value_rmse(agent, episodes);
                rec.episode(&EpisodeRow {
                    episode: episodes,
                    step: steps,
                    ret: ep.ret,
                    length: ep.length,
                    terminated,
                    epsilon: agent.epsilon(),
                    value_rmse,
                })?;
                seed.slot.episode(episodes, steps, window.recent());
            }
            if steps == stop_at {
                if steps == next_eval {
                    last_eval = Some(eval(agent, episodes, steps, &mut rec, &mut log)?);
                    next_eval = next_eval.saturating_add(every);
                    stop_at = next_eval.min(max_steps);
                }
                if steps == max_steps {
                    break 'run;
                }
            }
            if let Pause::Ended { .. } = pause {
                break;
            }
        }
        if !by_steps && every > 0 && episodes % every == 0 {
            last_eval = Some(eval(agent, episodes, steps, &mut rec, &mut log)?);
        }
        if steps >= checkpoint_at && episodes < max_episodes {
            let Some(env_rng) = env.rng_state() else {
                bail!(
                    "{}: cannot checkpoint: {} does not save its random stream; set \
                     [train] checkpoint_every = 0",
                    dir.display(),
                    env.name()
                );
            };
            let c = Checkpoint {
                agent: format!("checkpoint-{steps}.agent"),
                step: steps,
                episodes,
                window,
                last_eval: last_eval.map(|(s, e)| (s, e.mean, e.std, e.episodes)),
                files: (0, 0, 0),
                wall_seconds: wall_before + start.elapsed().as_secs_f64(),
                agent_rng: rng.state(),
                env_rng,
            };
            window = save_checkpoint(dir, &*agent, c, &mut rec, &mut log)?;
            checkpoint_at = next_checkpoint(steps);
        }
    }
    let final_eval = match last_eval {
        Some((at, e)) if at == steps => e,
        _ => eval(agent, episodes, steps, &mut rec, &mut log)?.1,
    };
    rec.flush()?;
    if let Some(log) = log.as_mut() {
        log.flush()?;
    }
    save(agent, dir).context("saving the agent")?;
    seed.slot.finish(episodes, steps);
    let wall_seconds = wall_before + start.elapsed().as_secs_f64();
    let summary = SeedSummary {
        seed: seed.seed,
        episodes,
        steps,
        wall_seconds,
        steps_per_second: steps as f64 / wall_seconds,
        final_eval_mean_return: final_eval.mean,
        final_eval_std_return: final_eval.std,
        final_window_mean_return: window.mean(),
        best_window_mean_return: window.best,
    };
    write_atomic(&summary_path, |tmp| {
        std::fs::write(tmp, serde_json::to_string_pretty(&summary)? + "\n")
            .with_context(|| format!("{}", tmp.display()))
    })?;
    Ok(summary)
}

/// Writes a checkpoint: the agent's state to the file `c.agent` names, then the sidecar
/// `checkpoint.json` naming it, each through a temporary file and a rename; the previous
/// agent file goes last. A kill at any moment leaves the previous checkpoint or this one.
/// Gives the window back.
fn save_checkpoint<G, O>(
    dir: &Path,
    agent: &G,
    mut c: Checkpoint,
    rec: &mut Recorder,
    log: &mut Option<TrainLog>,
) -> Result<Window>
where
    O: ?Sized,
    G: Agent<O, usize> + ?Sized,
{
    write_atomic(&dir.join(&c.agent), |tmp| Ok(agent.checkpoint(tmp)?))?;
    let (metrics_len, eval_len) = rec.lengths()?;
    let train_len = match log.as_mut() {
        Some(log) => log.flush()?,
        None => 0,
    };
    c.files = (metrics_len, eval_len, train_len);
    let sidecar = dir.join(CHECKPOINT);
    let previous = std::fs::read_to_string(&sidecar)
        .ok()
        .and_then(|t| serde_json::from_str::<Checkpoint>(&t).ok())
        .map(|old| old.agent);
    write_atomic(&sidecar, |tmp| {
        std::fs::write(tmp, serde_json::to_string(&c)? + "\n")
            .with_context(|| format!("{}", tmp.display()))
    })?;
    if let Some(old) = previous.filter(|old| *old != c.agent) {
        let _ = std::fs::remove_file(dir.join(old));
    }
    Ok(c.window)
}

/// The squared error of the agent's value in each state the truth compares, kept from episode
/// to episode and refreshed only in the states an episode visited.
///
/// A tabular agent learning from an episode changes the values of the states it visited and
/// of no others (every algorithm here: one-step, n-step and Monte Carlo updates, and traces,
/// which start empty each episode), so the refreshed errors are the errors afresh and
/// [`ValueErrors::refresh`] returns exactly [`Truth::rmse`], bit for bit, at a fraction of
/// its cost. Debug builds check that on every episode.
pub struct ValueErrors<'a> {
    truth: &'a Truth,
    /// The index of each state in `truth.states`, or `usize::MAX` for states not compared.
    position: Vec<usize>,
    /// The squared error of each compared state, in `truth.states` order.
    squared: Vec<f64>,
    /// The episode in which each compared state was last refreshed.
    refreshed: Vec<u64>,
    /// The states the episode under way visited.
    visited: Vec<usize>,
}

impl<'a> ValueErrors<'a> {
    /// Errors against `truth`, computed in full when the run begins.
    pub fn new(truth: &'a Truth) -> Self {
        let mut position = vec![usize::MAX; truth.values.len()];
        for (i, &s) in truth.states.iter().enumerate() {
            position[s] = i;
        }
        ValueErrors {
            truth,
            position,
            squared: Vec::new(),
            refreshed: vec![0; truth.states.len()],
            visited: Vec::new(),
        }
    }
}

impl<G: Agent<[usize], usize> + ?Sized> Tracker<[usize], G> for ValueErrors<'_> {
    fn begin(&mut self, agent: &G) {
        let truth = self.truth;
        self.squared = truth
            .states
            .iter()
            .map(|&s| (truth.value_of(agent, s) - truth.values[s]).powi(2))
            .collect();
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.visited.clear();
    }

    #[inline(always)]
    fn visit(&mut self, x: &[usize]) {
        // A loop of pushes: one feature per state here, where `extend_from_slice` would call
        // `memcpy`.
        for &i in x {
            self.visited.push(i);
        }
    }

    /// Refreshes the states visited (episode `episode`, from 1) and returns the RMS error.
    #[inline]
    fn value_rmse(&mut self, agent: &G, episode: u64) -> Option<f64> {
        for &s in &self.visited {
            let i = self.position.get(s).copied().unwrap_or(usize::MAX);
            if i != usize::MAX && self.refreshed[i] != episode {
                self.refreshed[i] = episode;
                self.squared[i] = (self.truth.value_of(agent, s) - self.truth.values[s]).powi(2);
            }
        }
        // Summed in state order, as `Truth::rmse` and `dp::rms_error` sum.
        let rmse = if self.squared.is_empty() {
            0.0
        } else {
            (self.squared.iter().sum::<f64>() / self.squared.len() as f64).sqrt()
        };
        debug_assert_eq!(
            rmse.to_bits(),
            self.truth.rmse(agent).to_bits(),
            "an agent changed the value of a state its episode did not visit"
        );
        Some(rmse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_depend_only_on_the_seed() {
        let all = [Stream::Agent, Stream::EvalEnv, Stream::EvalAgent];
        for seed in [0, 1, 7] {
            let d: Vec<u64> = all.iter().map(|&s| derive(seed, s)).collect();
            assert!(d[0] != d[1] && d[1] != d[2] && d[0] != d[2]);
            assert_eq!(d[0], derive(seed, Stream::Agent));
        }
        assert_ne!(derive(0, Stream::Agent), derive(1, Stream::Agent));
    }

    #[test]
    fn window_means_and_best() {
        let mut w = Window::new(3);
        assert_eq!(w.mean(), None);
        w.push(1.0);
        w.push(2.0);
        assert_eq!((w.mean(), w.best), (Some(1.5), None));
        w.push(6.0);
        assert_eq!((w.mean(), w.best), (Some(3.0), Some(3.0)));
        w.push(-6.0);
        assert_eq!((w.mean(), w.best), (Some(2.0 / 3.0), Some(3.0)));
        w.push(10.0);
        w.push(11.0);
        assert_eq!((w.mean(), w.best), (Some(5.0), Some(5.0)));
    }

    /// The policy is told each episode's first step (where a recurrent policy resets its
    /// memory), and only those: one per episode, each right after a reset.
    #[test]
    fn evaluation_marks_each_episode_start() {
        let qlab_envs::AnyEnv::Vector(mut env) =
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
