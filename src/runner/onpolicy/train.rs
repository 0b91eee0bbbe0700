//! One on-policy seed's run: whole rollouts from the vector of envs, evaluations, records and
//! checkpoints at rollout ends.

use std::path::Path;

use anyhow::{Context, Result};
use qlab_agents::actor_critic::{ActorCriticAgent, VecStep};
use qlab_agents::nn::Sampled;

use super::envs::VecEnvs;
use super::{OnPolicyExperiment, evaluate, save};
use crate::runner::checkpoint;
use crate::runner::ledger::{Ledger, Positions, synced_lengths, without_checkpoint};
use crate::runner::record::{
    EVAL_HEADER, EpisodeRow, METRICS_HEADER, ON_POLICY_TRAIN_HEADER, Recorder, TrainLog,
};
use crate::runner::seed::{self, Seed, Stream, Until, derive, pause_plan};
use crate::runner::stop::Stopped;
use crate::runner::summary::SeedSummary;
use crate::runner::tensorboard::{Board, Hparams};

/// Trains one seed of `exp` as [`seed::train`] trains the others, a rollout at a time: from
/// scratch, or, when `seed.resume`, from its last checkpoint (a finished seed is kept). A
/// checkpoint is written at the end of the first rollout that reaches each multiple of
/// `checkpoint_every` steps, and where a stop or a sweep's pause ([`Pause`](seed::Pause)) is asked: it
/// holds the agent's whole state in its file and where each env stands, so that the resumed
/// seed writes the same records as one never stopped.
///
/// # Errors
/// A failing env, agent or file; a checkpoint asked of an env that cannot save its random
/// stream; on resume, a checkpoint that does not load; [`Stopped`].
pub(super) fn train_seed(
    exp: &OnPolicyExperiment,
    seed: &Seed<'_>,
    fingerprint: &str,
    hparams: Option<&Hparams>,
) -> Result<SeedSummary> {
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
    let (mut steps, mut episodes) = (0u64, 0u64);
    let resumed = match seed.resume {
        true => {
            let expected = checkpoint::Expected {
                config: fingerprint,
                budget: train.budget,
                window: exp.config.output.window,
                train_log: true,
                envs: n,
                headers: [METRICS_HEADER, EVAL_HEADER, ON_POLICY_TRAIN_HEADER],
            };
            checkpoint::resume_point(dir, seed.seed, &expected, train.checkpoint_every)?
        }
        false => None,
    };
    let resumed_at = resumed.as_ref().map(|c| c.step);
    let mut envs = match &resumed {
        Some(c) => {
            let sidecar = dir.join(checkpoint::CHECKPOINT);
            agent.load_checkpoint(dir.join(&c.agent))?;
            (steps, episodes) = (c.step, c.episodes);
            VecEnvs::resume(
                || exp.env(),
                &c.envs,
                exp.obs_dim,
                exp.kind.action_dim(),
                &exp.bounds,
            )
            .with_context(|| format!("{}: impossible checkpoint", sidecar.display()))?
        }
        None => VecEnvs::start(|| exp.env(), n, seed.seed, exp.obs_dim)?,
    };
    let (mut ledger, mut rec, log) = Ledger::open(
        dir,
        exp.config.output.window,
        resumed.as_ref(),
        Some(ON_POLICY_TRAIN_HEADER),
    )?;
    let mut log = log.context("train.csv")?;
    if resumed.is_some() {
        seed.slot.episode(episodes, steps, ledger.window.recent());
    }
    if let Some(hparams) = hparams {
        rec.attach(Board::create(dir, seed.seed, hparams, resumed_at, false)?);
    }

    let mut max_steps = exp.total_steps;
    let pause_after = match pause_plan(seed, resumed_at.is_some(), steps, steps)? {
        Until::Budget => None,
        Until::PauseAfter(x) => Some(x),
        Until::Here => {
            max_steps = steps;
            ledger.stopped_at_step = Some(steps);
            None
        }
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
    // A greedy evaluation, recorded; with `keep_best` the policy is saved as the best when it
    // beats the best so far.
    let mut eval = |agent: &ActorCriticAgent,
                    (steps, episodes): (u64, u64),
                    rec: &mut Recorder,
                    log: &mut TrainLog,
                    ledger: &mut Ledger| {
        let e = evaluate(exp, &mut eval_env, agent, seed.seed, train.eval_episodes)?;
        rec.evaluation(episodes, steps, &e)?;
        log.flush()?;
        ledger.evaluated(steps, e, train.keep_best, || {
            seed::save_best(agent, dir, |a: &ActorCriticAgent, d: &Path| save(d, exp, a))
        })?;
        anyhow::Ok(e)
    };
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
                ledger.window.push(end.ret);
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
                log.update_row(&stats, steps)?;
                rec.update(&stats)?;
            }
            seed.slot.episode(episodes, steps, ledger.window.recent());
            if steps >= next_eval {
                let e = eval(&agent, (steps, episodes), &mut rec, &mut log, &mut ledger)?;
                next_eval = (steps / every + 1).saturating_mul(every);
                if train.stop_at.is_some_and(|r| e.mean >= r) {
                    ledger.stopped_at_step = Some(steps);
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
                    let name = envs.name();
                    let log = Some(&mut log);
                    return Err(without_checkpoint(stopping, dir, &name, &mut rec, log));
                };
                // What the checkpoint counts on is on disk before it is declared.
                let files = synced_lengths(&mut rec, Some(&mut log))?;
                ledger.checkpoint(
                    dir,
                    (steps, episodes),
                    files,
                    fingerprint,
                    Positions::Envs(positions),
                    |path| Ok(agent.save_checkpoint(path)?),
                )?;
                if stopping {
                    return Err(Stopped::AtCheckpoint { step: steps }.into());
                }
                checkpoint_at = next_checkpoint(steps);
            }
        }
    }
    let final_eval = match ledger.evaluation_at(steps) {
        Some(e) => e,
        None => eval(&agent, (steps, episodes), &mut rec, &mut log, &mut ledger)?,
    };
    // The records, then the policy, then `seed_summary.json`, which declares the seed
    // finished.
    synced_lengths(&mut rec, Some(&mut log))?;
    save(dir, exp, &agent).context("saving the agent")?;
    seed.slot.finish(episodes, steps);
    let summary = ledger.summary(seed.seed, (steps, episodes), &final_eval);
    summary.write(dir)?;
    Ok(summary)
}
