//! One on-policy seed's run: whole rollouts from the vector of envs, evaluations, records and
//! checkpoints at rollout ends.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use qlab_agents::Evaluation;
use qlab_agents::actor_critic::{ActorCriticAgent, VecStep};
use qlab_agents::nn::Sampled;

use super::envs::VecEnvs;
use super::{OnPolicyExperiment, evaluate, save};
use crate::runner::checkpoint::{self, Checkpoint};
use crate::runner::progress::Slot;
use crate::runner::record::{EVAL_HEADER, EpisodeRow, METRICS_HEADER, Recorder};
use crate::runner::seed::{self, Pause, Stream, TRAIN_HEADER, TrainLog, derive};
use crate::runner::stop::{Stop, Stopped};
use crate::runner::summary::SeedSummary;
use crate::runner::track::Window;

/// One seed of an on-policy run: where it writes and how it stops.
pub(super) struct Seed<'a> {
    pub(super) seed: u64,
    pub(super) dir: &'a Path,
    pub(super) slot: &'a Slot,
    /// Whether to continue from the seed's checkpoint (and keep a finished seed).
    pub(super) resume: bool,
    pub(super) stop: &'a Stop,
    pub(super) pause: Option<Pause>,
    /// The config as checkpoints record it ([`checkpoint::fingerprint`]).
    pub(super) fingerprint: &'a str,
}

/// Trains one seed of `exp` as [`seed::train`] trains the others, a rollout at a time: from
/// scratch, or, when `seed.resume`, from its last checkpoint (a finished seed is kept). A
/// checkpoint is written at the end of the first rollout that reaches each multiple of
/// `checkpoint_every` steps, and where a stop or a sweep's pause ([`Pause`]) is asked: it
/// holds the agent's whole state in its file and where each env stands, so that the resumed
/// seed writes the same records as one never stopped.
///
/// # Errors
/// A failing env, agent or file; a checkpoint asked of an env that cannot save its random
/// stream; on resume, a checkpoint that does not load; [`Stopped`].
pub(super) fn train_seed(exp: &OnPolicyExperiment, seed: &Seed<'_>) -> Result<SeedSummary> {
    let start = Instant::now();
    let (dir, train) = (seed.dir, &exp.config.train);
    if seed.resume {
        if let Some(s) = SeedSummary::read(dir)? {
            seed.slot.finish(s.episodes, s.steps);
            return Ok(s);
        }
    }
    let n = exp.agent.common().n_envs;
    let mut agent = ActorCriticAgent::new(
        exp.obs_dim,
        exp.kind,
        &exp.agent,
        exp.total_steps,
        derive(seed.seed, Stream::Agent),
    )?;
    let mut eval_env = exp.env()?;
    let train_path = dir.join("train.csv");
    let (mut steps, mut episodes) = (0u64, 0u64);
    let mut window = Window::new(exp.config.output.window);
    let mut last_eval: Option<(u64, Evaluation)> = None;
    let mut best: Option<(u64, f64)> = None;
    let mut stopped_at_step = None;
    let mut wall_before = 0.0;
    let resumed = match seed.resume {
        true => {
            let expected = checkpoint::Expected {
                config: seed.fingerprint,
                budget: train.budget,
                window: exp.config.output.window,
                train_log: true,
                envs: n,
                headers: [METRICS_HEADER, EVAL_HEADER, TRAIN_HEADER],
            };
            checkpoint::resume_point(dir, seed.seed, &expected, train.checkpoint_every)?
        }
        false => None,
    };
    let resumed_at = resumed.as_ref().map(|c| c.step);
    let (mut envs, mut rec, mut log) = match resumed {
        Some(c) => {
            let sidecar = dir.join(checkpoint::CHECKPOINT);
            agent.load_checkpoint(dir.join(&c.agent))?;
            let envs = VecEnvs::resume(
                || exp.env(),
                &c.envs,
                exp.obs_dim,
                exp.kind.action_dim(),
                &exp.bounds,
            )
            .with_context(|| format!("{}: impossible checkpoint", sidecar.display()))?;
            (steps, episodes, window, wall_before) = (c.step, c.episodes, c.window, c.wall_seconds);
            best = c.best;
            last_eval = c.last_eval.map(|(s, mean, std, episodes)| {
                let e = Evaluation {
                    mean,
                    std,
                    episodes,
                };
                (s, e)
            });
            let rec = Recorder::reopen(dir, c.files.0, c.files.1)?;
            let log = TrainLog::reopen(&train_path, c.files.2, steps)?;
            seed.slot.episode(episodes, steps, window.recent());
            (envs, rec, log)
        }
        None => (
            VecEnvs::start(|| exp.env(), n, seed.seed, exp.obs_dim)?,
            Recorder::create(dir)?,
            TrainLog::create(&train_path)?,
        ),
    };

    let mut max_steps = exp.total_steps;
    let pause_after = match seed.pause {
        Some(Pause::After(x)) => {
            if resumed_at.is_some() && steps >= x {
                return Err(Stopped::AtCheckpoint { step: steps }.into());
            }
            Some(x)
        }
        Some(Pause::Here) => {
            if resumed_at.is_none() {
                bail!(
                    "{}: no checkpoint to end seed {} at",
                    dir.display(),
                    seed.seed
                );
            }
            max_steps = steps;
            stopped_at_step = Some(steps);
            None
        }
        None => None,
    };
    let every = train.eval_every;
    // The first multiple of `every` past the steps taken (every evaluation is made at the
    // first vector step that reaches one).
    let mut next_eval = match every {
        0 => u64::MAX,
        _ => (steps / every + 1).saturating_mul(every),
    };
    let checkpoint_every = train.checkpoint_every;
    let next_checkpoint = |t: u64| {
        t.checked_div(checkpoint_every)
            .map_or(u64::MAX, |k| (k + 1).saturating_mul(checkpoint_every))
    };
    let mut checkpoint_at = next_checkpoint(steps);
    let mut actions: Vec<Sampled> = Vec::with_capacity(n);
    // Whole rollouts: the budget is checked where one ends, so a run takes the budget rounded
    // up to a multiple of `n_steps × n_envs`; a seed resumed at its budget has none to train.
    if steps < max_steps {
        loop {
            actions.clear();
            actions.extend_from_slice(agent.act(&envs.obs)?);
            let at = steps + n as u64;
            envs.step(&actions, &exp.bounds, |end| {
                episodes += 1;
                window.push(end.ret);
                rec.episode(&EpisodeRow {
                    episode: episodes,
                    step: at,
                    ret: end.ret,
                    length: end.length,
                    terminated: end.terminated,
                    epsilon: 0.0,
                    value_rmse: None,
                })
            })?;
            steps = at;
            let trained = agent.observe(&VecStep {
                rewards: &envs.rewards,
                terminated: &envs.terminated,
                truncated: &envs.truncated,
                final_obs: &envs.final_obs,
                next_obs: &envs.next_obs,
            })?;
            envs.advance();
            if let Some(stats) = trained {
                log.row(&stats, 0.0, steps)?;
                rec.train(&stats, 0.0)?;
            }
            seed.slot.episode(episodes, steps, window.recent());
            if steps >= next_eval {
                let e = evaluate(exp, &mut eval_env, &agent, seed.seed, train.eval_episodes)?;
                rec.evaluation(episodes, steps, &e)?;
                log.flush()?;
                last_eval = Some((steps, e));
                // Strictly better, as Stable-Baselines3's `EvalCallback`: a tie keeps the earlier.
                if train.keep_best && !e.mean.is_nan() && best.is_none_or(|(_, b)| e.mean > b) {
                    seed::save_best(&agent, dir, |a: &ActorCriticAgent, d: &Path| {
                        save(d, exp, a)
                    })?;
                    best = Some((steps, e.mean));
                }
                next_eval = (steps / every + 1).saturating_mul(every);
                if train.stop_at.is_some_and(|r| e.mean >= r) {
                    stopped_at_step = Some(steps);
                    break;
                }
            }
            // Between rollouts: where the budget is checked and a checkpoint can be made.
            if trained.is_none() {
                continue;
            }
            if steps >= max_steps {
                break;
            }
            let stopping = seed.stop.requested() || pause_after.is_some_and(|x| steps >= x);
            if steps >= checkpoint_at || stopping {
                let Some(positions) = envs.positions() else {
                    if stopping {
                        rec.flush()?;
                        log.flush()?;
                        return Err(Stopped::WithoutCheckpoint.into());
                    }
                    bail!(
                        "{}: cannot checkpoint: {} does not save its random stream; set [train] \
                         checkpoint_every = 0",
                        dir.display(),
                        envs.name()
                    );
                };
                // What the checkpoint counts on is on disk before it is declared.
                let (metrics_len, eval_len) = rec.sync()?;
                let train_len = log.sync()?;
                let c = Checkpoint {
                    agent: checkpoint::agent_file(steps),
                    step: steps,
                    episodes,
                    window,
                    last_eval: last_eval.map(|(s, e)| (s, e.mean, e.std, e.episodes)),
                    files: (metrics_len, eval_len, train_len),
                    wall_seconds: wall_before + start.elapsed().as_secs_f64(),
                    agent_rng: None,
                    env_rng: None,
                    envs: positions,
                    config: seed.fingerprint.to_string(),
                    best,
                };
                checkpoint::save(dir, |path| Ok(agent.save_checkpoint(path)?), &c)?;
                if stopping {
                    return Err(Stopped::AtCheckpoint { step: steps }.into());
                }
                window = c.window;
                checkpoint_at = next_checkpoint(steps);
            }
        }
    }
    let final_eval = match last_eval {
        Some((at, e)) if at == steps => e,
        _ => {
            let e = evaluate(exp, &mut eval_env, &agent, seed.seed, train.eval_episodes)?;
            rec.evaluation(episodes, steps, &e)?;
            e
        }
    };
    // The records, then the policy, then `seed_summary.json`, which declares the seed
    // finished.
    rec.sync()?;
    log.sync()?;
    save(dir, exp, &agent).context("saving the agent")?;
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
        stopped_at_step,
        best_eval_mean_return: best.map(|(_, mean)| mean),
        best_eval_step: best.map(|(step, _)| step),
    };
    summary.write(dir)?;
    Ok(summary)
}
