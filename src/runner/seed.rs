//! One seed's run, for every agent: the training loop, its evaluations, its records and its
//! checkpoints.
//!
//! [`train`] is generic over the env, so that the hot loop steps a concrete env without
//! dynamic dispatch, and over the agent's observation type (active feature indices for the
//! tabular agents, the observation's numbers for networks): one loop for every agent.

use std::path::Path;

use anyhow::{Context, Result, bail};
use qlab_agents::{Agent, View};
use qlab_agents::{Evaluation, evaluate_policy};
use qlab_envs::{Env, EnvRng};

use super::checkpoint;
use super::envs::AgentEnv;
use super::ledger::{Ledger, Positions, synced_lengths, without_checkpoint};
use super::progress::Slot;
use super::record::{
    BEST, EVAL_HEADER, EpisodeRow, METRICS_HEADER, Recorder, TRAIN_HEADER, TrainLog,
};
use super::stop::{Stop, Stopped};
use super::summary::SeedSummary;
use super::tensorboard::{Board, Hparams};
use super::track::Tracker;
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
    E: AgentEnv<O> + ?Sized,
    O: ?Sized,
    G: Agent<O, usize> + ?Sized,
{
    let mut rng = EnvRng::new(derive(seed, Stream::EvalAgent));
    evaluate_policy(
        env,
        |obs, first| Ok(agent.greedy(obs, first, &mut rng)?),
        Some(derive(seed, Stream::EvalEnv)),
        episodes,
        max_steps,
    )
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
enum Played {
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
    rec: &mut Recorder,
) -> Result<Played>
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
                rec.train(&stats, agent.epsilon())?;
            }
        }
        tracker.visit(x);
        if done {
            break Played::Ended { terminated };
        }
        action = next;
        if event {
            break Played::Event;
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
    /// `[train] start_state`: the state set after each reset of a training episode.
    pub start_state: Option<&'a [f64]>,
    /// Whether the agent's trainings are written to `train.csv`.
    pub train_log: bool,
    /// The resolved config as checkpoints record it, which a checkpoint must match to be
    /// resumed (see [`Plan::fingerprint`]).
    pub config: &'a str,
    /// With `[output] tensorboard`: the run's hyperparameters, for its event files.
    pub tensorboard: Option<&'a Hparams>,
}

impl Plan<'_> {
    /// The text of `config` that a seed's checkpoints record and [`Plan::config`] holds: the
    /// resolved config less what may change before a resume (the seeds, the budget's size,
    /// `checkpoint_every`, the output directory).
    pub fn fingerprint(config: &crate::config::Config) -> String {
        checkpoint::fingerprint(config)
    }
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
    /// Read at every episode end: once requested, the seed writes a checkpoint there and
    /// returns [`Stopped`].
    pub stop: &'a Stop,
    /// Where the seed ends short of its budget, for a sweep's scheduler ([`Pause`]).
    pub pause: Option<Pause>,
}

impl<'a> Seed<'a> {
    /// Seed `seed` of a run as `run` says, in `dir`, shown on `slot`; continued from its
    /// checkpoint when `resume`.
    pub fn new(
        seed: u64,
        dir: &'a Path,
        slot: &'a Slot,
        run: &super::RunOptions<'a>,
        resume: bool,
    ) -> Seed<'a> {
        Seed {
            seed,
            dir,
            slot,
            resume,
            stop: run.stop,
            pause: run.pause,
        }
    }
}

/// Where a seed's run pauses or ends short of its budget, as a sweep's early-stopping
/// scheduler asks (the Python package's sweep executor): it trains a point's seeds from one
/// evaluation to the next, and after each asks the scheduler whether the point goes on.
///
/// `x` counts in the budget's unit: env steps for `steps = …`, episodes for `episodes = …`,
/// as `eval_every` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pause {
    /// Stop with a checkpoint at the first episode end once the evaluation at `x` has been
    /// made, returning [`Stopped::AtCheckpoint`]: resumed, the seed continues exactly as if it
    /// had never stopped. A seed resumed from a checkpoint at or past `x` returns so at once;
    /// one whose budget ends first finishes as usual.
    After(u64),
    /// End the seed, resumed from its checkpoint, right there, as if its budget ended there:
    /// its final evaluation is made at the checkpoint (unless one was made at that step), and
    /// its summary's `stopped_at_step` is the checkpoint's step.
    Here,
}

/// Trains `agent` for one seed with envs from `make`, writing its records under `seed.dir`:
/// from scratch, or, when `seed.resume`, from its last checkpoint (a seed that finished is
/// kept as it is; one without a directory starts). `save` writes the trained agent into the
/// directory it is given: the seed's, and with `[train] keep_best` its `best/` after each
/// evaluation that beats the best so far.
///
/// With `[train] stop_at`, the seed ends at the first evaluation whose mean return reaches
/// it; that evaluation is the final one.
///
/// What a checkpoint or the finished seed stands on is synced to disk before it is declared:
/// the record files, then the agent's file, then `checkpoint.json` or `seed_summary.json`.
///
/// When `seed.stop` is requested, the seed stops at the next episode end that leaves budget
/// to train: it writes its records and a checkpoint there (whatever `checkpoint_every` says)
/// and returns the error [`Stopped::AtCheckpoint`]; resumed from that checkpoint it finishes
/// exactly as if it had never stopped. An env that cannot save its random stream gives
/// [`Stopped::WithoutCheckpoint`] instead.
///
/// # Errors
/// A failing env, agent or file; a checkpoint asked of an env whose random stream cannot be
/// saved; on resume, a checkpoint that does not load ([`Plan::config`]), or a seed directory
/// that holds records but no checkpoint; [`Stopped`].
#[allow(clippy::too_many_arguments)]
pub fn train<E, O, G, T>(
    plan: &Plan<'_>,
    make: &impl Fn() -> Result<E>,
    agent: &mut G,
    tracker: &mut T,
    save: impl Fn(&G, &Path) -> Result<()>,
    seed: &Seed<'_>,
) -> Result<SeedSummary>
where
    E: AgentEnv<O>,
    O: ?Sized,
    G: Agent<O, usize> + ?Sized,
    T: Tracker<O, G>,
{
    let (dir, train) = (seed.dir, plan.train);
    if seed.resume {
        if let Some(s) = SeedSummary::read(dir)? {
            seed.slot.finish(s.episodes, s.steps);
            return Ok(s);
        }
    }
    let mut env = make()?;
    let mut eval_env = make()?;
    let mut rng = EnvRng::new(derive(seed.seed, Stream::Agent));
    let (mut steps, mut episodes) = (0u64, 0u64);
    let mut first_reset = Some(seed.seed);
    let resumed = match seed.resume {
        true => {
            let expected = checkpoint::Expected {
                config: plan.config,
                budget: plan.train.budget,
                window: plan.window,
                train_log: plan.train_log,
                envs: 0,
                headers: [METRICS_HEADER, EVAL_HEADER, TRAIN_HEADER],
            };
            checkpoint::resume_point(dir, seed.seed, &expected, train.checkpoint_every)?
        }
        false => None,
    };
    let resumed_at = resumed.as_ref().map(|c| c.step);
    if let Some(c) = &resumed {
        agent.restore(&dir.join(&c.agent))?;
        // `load` checked that a checkpoint of one env has both.
        let (Some(env_rng), Some(agent_rng)) = (c.env_rng, c.agent_rng) else {
            bail!("{}: no random streams to resume from", dir.display());
        };
        env.set_rng_state(env_rng)?;
        rng = EnvRng::from_state(agent_rng);
        first_reset = None;
        (steps, episodes) = (c.step, c.episodes);
    }
    let train_header = plan.train_log.then_some(TRAIN_HEADER);
    let (mut ledger, mut rec, mut log) =
        Ledger::open(dir, plan.window, resumed.as_ref(), train_header)?;
    if resumed.is_some() {
        seed.slot.episode(episodes, steps, ledger.window.recent());
    }
    if let Some(hparams) = plan.tensorboard {
        // Agents without batch trainings report ε with each episode.
        let board = Board::create(dir, seed.seed, hparams, resumed_at, !plan.train_log)?;
        rec.attach(board);
    }
    tracker.begin(agent);

    let (mut max_episodes, mut max_steps) = match train.budget {
        Budget::Episodes(n) => (n, u64::MAX),
        Budget::Steps(n) => (u64::MAX, n),
    };
    let by_steps = matches!(train.budget, Budget::Steps(_));
    // How far the seed has come, in the budget's unit: what `Pause` counts.
    let progress = |steps: u64, episodes: u64| if by_steps { steps } else { episodes };
    let done = progress(steps, episodes);
    let pause_after = match pause_plan(seed, resumed_at.is_some(), done, steps)? {
        Until::Budget => None,
        Until::PauseAfter(x) => Some(x),
        Until::Here => {
            (max_episodes, max_steps) = (episodes, steps);
            ledger.stopped_at_step = Some(steps);
            None
        }
    };
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
                    log: &mut Option<TrainLog>,
                    ledger: &mut Ledger|
     -> Result<Evaluation> {
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
        ledger.evaluated(steps, e, train.keep_best, || save_best(agent, dir, &save))?;
        Ok(e)
    };
    // `stop_at` reached, as Stable-Baselines3's `StopTrainingOnRewardThreshold` (`>=`).
    let reached = |e: &Evaluation| train.stop_at.is_some_and(|r| e.mean >= r);

    'run: while episodes < max_episodes && steps < max_steps {
        let first = match (plan.exploring_starts, plan.start_state) {
            // As `run_episode_exploring_starts`: reset, then a uniform non-terminal state.
            (Some(states), _) => {
                let _ = env.reset(first_reset.take());
                let s = states[rng.below(states.len())];
                env.set_state(&[s as f64])?
            }
            (None, Some(state)) => {
                let _ = env.reset(first_reset.take());
                env.set_state(state)?
            }
            (None, None) => env.reset(first_reset.take()).obs,
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
                &mut log, &mut rec,
            )
            .with_context(|| format!("{}", dir.display()))?;
            if let Played::Ended { terminated } = pause {
                episodes += 1;
                ledger.window.push(ep.ret);
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
                seed.slot.episode(episodes, steps, ledger.window.recent());
            }
            if steps == stop_at {
                if steps == next_eval {
                    let e = eval(agent, episodes, steps, &mut rec, &mut log, &mut ledger)?;
                    if reached(&e) {
                        ledger.stopped_at_step = Some(steps);
                        break 'run;
                    }
                    next_eval = next_eval.saturating_add(every);
                    stop_at = next_eval.min(max_steps);
                }
                if steps == max_steps {
                    break 'run;
                }
            }
            if let Played::Ended { .. } = pause {
                break;
            }
        }
        if !by_steps && every > 0 && episodes % every == 0 {
            let e = eval(agent, episodes, steps, &mut rec, &mut log, &mut ledger)?;
            if reached(&e) {
                ledger.stopped_at_step = Some(steps);
                break 'run;
            }
        }
        // The one read of the stop request: at an episode end, where a checkpoint can be made.
        let stopping =
            seed.stop.requested() || pause_after.is_some_and(|x| progress(steps, episodes) >= x);
        if (steps >= checkpoint_at || stopping) && episodes < max_episodes {
            let Some(env_rng) = env.rng_state() else {
                let name = env.name();
                return Err(without_checkpoint(
                    stopping,
                    dir,
                    &name,
                    &mut rec,
                    log.as_mut(),
                ));
            };
            // What the checkpoint counts on is on disk before it is declared.
            let files = synced_lengths(&mut rec, log.as_mut())?;
            let positions = Positions::OneEnv {
                agent_rng: rng.state(),
                env_rng,
            };
            ledger.checkpoint(
                dir,
                (steps, episodes),
                files,
                plan.config,
                positions,
                |path| Ok(agent.checkpoint(path)?),
            )?;
            if stopping {
                return Err(Stopped::AtCheckpoint { step: steps }.into());
            }
            checkpoint_at = next_checkpoint(steps);
        }
    }
    let final_eval = match ledger.evaluation_at(steps) {
        Some(e) => e,
        None => eval(agent, episodes, steps, &mut rec, &mut log, &mut ledger)?,
    };
    // The records, then the agent, then `seed_summary.json`, which declares the seed finished.
    synced_lengths(&mut rec, log.as_mut())?;
    save(agent, dir).context("saving the agent")?;
    seed.slot.finish(episodes, steps);
    let summary = ledger.summary(seed.seed, (steps, episodes), &final_eval);
    summary.write(dir)?;
    Ok(summary)
}

/// How a seed follows a sweep's [`Pause`].
pub(super) enum Until {
    /// To its budget.
    Budget,
    /// Until the first place after its evaluation at this point (in the budget's unit) where a
    /// checkpoint can be made.
    PauseAfter(u64),
    /// It ends where it stands, at the checkpoint it resumed from.
    Here,
}

/// How `seed`, started or `resumed` from a checkpoint with `done` of its budget (in the
/// budget's unit) and `steps` env steps behind it, follows its pause.
///
/// # Errors
/// [`Stopped::AtCheckpoint`] for a seed resumed at or past the point it is to pause after;
/// [`Pause::Here`] for a seed that did not resume from a checkpoint.
pub(super) fn pause_plan(seed: &Seed<'_>, resumed: bool, done: u64, steps: u64) -> Result<Until> {
    Ok(match seed.pause {
        None => Until::Budget,
        Some(Pause::After(x)) => {
            if resumed && done >= x {
                return Err(Stopped::AtCheckpoint { step: steps }.into());
            }
            Until::PauseAfter(x)
        }
        Some(Pause::Here) => {
            if !resumed {
                bail!(
                    "{}: no checkpoint to end seed {} at",
                    seed.dir.display(),
                    seed.seed
                );
            }
            Until::Here
        }
    })
}

/// Saves `agent` with `save` as the seed's best, in `dir/best/`: written whole into
/// `best.tmp/`, then put in place of the previous best, which is moved aside to `best.old/`
/// first and removed last, so that a kill at any moment leaves a whole best agent in `best/`
/// or `best.old/` (where [`AgentChoice::dir`](super::record::AgentChoice::dir) looks).
pub(super) fn save_best<G: ?Sized>(
    agent: &G,
    dir: &Path,
    save: impl Fn(&G, &Path) -> Result<()>,
) -> Result<()> {
    let path = |suffix: &str| dir.join(format!("{BEST}{suffix}"));
    let (tmp, best, old) = (path(".tmp"), path(""), path(".old"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).with_context(|| format!("{}", tmp.display()))?;
    save(agent, &tmp).context("saving the best agent")?;
    if best.exists() {
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(&best, &old).with_context(|| format!("{}", best.display()))?;
    }
    std::fs::rename(&tmp, &best).with_context(|| format!("{}", best.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
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
}
