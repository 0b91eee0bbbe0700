//! A seed's ledger: what its run keeps besides the agent, the envs and the step counts — the
//! window of training returns, the last and the best evaluations, where it stopped early, the
//! wall time of the invocations before this one — fresh or read back from a checkpoint, and
//! what is written from it: a checkpoint's fields and the seed's summary. Both seed loops (one
//! env, `seed.rs`; a vector of envs, `onpolicy/train.rs`) keep one.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use qlab_agents::Evaluation;

use super::checkpoint::{self, Checkpoint, EnvPosition};
use super::record::{Recorder, TrainLog};
use super::stop::Stopped;
use super::summary::SeedSummary;
use super::track::Window;

/// A seed's bookkeeping; see the module.
pub(super) struct Ledger {
    /// The moving window of training returns.
    pub(super) window: Window,
    /// The last evaluation and its step.
    pub(super) last_eval: Option<(u64, Evaluation)>,
    /// The best evaluation so far (`keep_best`): its step and mean return.
    pub(super) best: Option<(u64, f64)>,
    /// Where the seed stopped short of its budget (`stop_at`, a sweep's scheduler).
    pub(super) stopped_at_step: Option<u64>,
    wall_before: f64,
    start: Instant,
}

/// Where the random streams and the envs stand at a checkpoint: a run of one env records the
/// runner's stream and the env's; an on-policy run, whose agent keeps its generator in its
/// file, each env's position.
pub(super) enum Positions {
    /// The runner's stream the agent draws from, and the env's.
    OneEnv {
        /// The agent's stream.
        agent_rng: [u64; 4],
        /// The env's stream.
        env_rng: [u64; 4],
    },
    /// Each env of the vector.
    Envs(Vec<EnvPosition>),
}

impl Ledger {
    /// The ledger of a seed starting, with a window of `window` episodes.
    fn new(window: u64) -> Ledger {
        Ledger {
            window: Window::new(window),
            last_eval: None,
            best: None,
            stopped_at_step: None,
            wall_before: 0.0,
            start: Instant::now(),
        }
    }

    /// The ledger of a seed and its record files in `dir`: created, or, resumed from the
    /// checkpoint `resumed`, as the checkpoint left them (files cut back to its lengths);
    /// `train.csv` under `train_header` when there is one. `window`: episodes in the moving
    /// window.
    pub(super) fn open(
        dir: &Path,
        window: u64,
        resumed: Option<&Checkpoint>,
        train_header: Option<&str>,
    ) -> Result<(Ledger, Recorder, Option<TrainLog>)> {
        let train_path = dir.join("train.csv");
        Ok(match resumed {
            Some(c) => {
                let rec = Recorder::reopen(dir, c.files.0, c.files.1)?;
                let log = match train_header {
                    Some(_) => Some(TrainLog::reopen(&train_path, c.files.2, c.step)?),
                    None => None,
                };
                (Ledger::resumed(c), rec, log)
            }
            None => {
                let rec = Recorder::create(dir)?;
                let log = match train_header {
                    Some(header) => Some(TrainLog::create(&train_path, header)?),
                    None => None,
                };
                (Ledger::new(window), rec, log)
            }
        })
    }

    /// The ledger the checkpoint `c` recorded.
    fn resumed(c: &Checkpoint) -> Ledger {
        Ledger {
            window: c.window.clone(),
            last_eval: c.last_eval.map(|(s, mean, std, episodes)| {
                let e = Evaluation {
                    mean,
                    std,
                    episodes,
                };
                (s, e)
            }),
            best: c.best,
            stopped_at_step: None,
            wall_before: c.wall_seconds,
            start: Instant::now(),
        }
    }

    /// Seconds of the seed's run so far, over every invocation.
    fn wall_seconds(&self) -> f64 {
        self.wall_before + self.start.elapsed().as_secs_f64()
    }

    /// Records the evaluation `e` made at `steps`; with `keep_best`, when it is strictly better
    /// than the best so far (as Stable-Baselines3's `EvalCallback`: a tie keeps the earlier),
    /// `save_best` saves the agent as the best first.
    pub(super) fn evaluated(
        &mut self,
        steps: u64,
        e: Evaluation,
        keep_best: bool,
        save_best: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        self.last_eval = Some((steps, e));
        if keep_best && !e.mean.is_nan() && self.best.is_none_or(|(_, b)| e.mean > b) {
            save_best()?;
            self.best = Some((steps, e.mean));
        }
        Ok(())
    }

    /// The last evaluation, if it was made at `steps`: the seed's final one then.
    pub(super) fn evaluation_at(&self, steps: u64) -> Option<Evaluation> {
        match self.last_eval {
            Some((at, e)) if at == steps => Some(e),
            _ => None,
        }
    }

    /// Writes a checkpoint in `dir` ([`checkpoint::save`]) at `steps` and `episodes`, the
    /// record files synced to the lengths `files`, under the config `config` (its
    /// [`checkpoint::fingerprint`]); `write_agent` writes the agent's state.
    pub(super) fn checkpoint(
        &self,
        dir: &Path,
        (steps, episodes): (u64, u64),
        files: (u64, u64, u64),
        config: &str,
        positions: Positions,
        write_agent: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        let (agent_rng, env_rng, envs) = match positions {
            Positions::OneEnv { agent_rng, env_rng } => {
                (Some(agent_rng), Some(env_rng), Vec::new())
            }
            Positions::Envs(envs) => (None, None, envs),
        };
        let c = Checkpoint {
            agent: checkpoint::agent_file(steps),
            step: steps,
            episodes,
            window: self.window.clone(),
            last_eval: self.last_eval.map(|(s, e)| (s, e.mean, e.std, e.episodes)),
            files,
            wall_seconds: self.wall_seconds(),
            agent_rng,
            env_rng,
            envs,
            config: config.to_string(),
            best: self.best,
        };
        checkpoint::save(dir, write_agent, &c)
    }

    /// The summary of seed `seed`, finished at `steps` and `episodes` with the final
    /// evaluation `final_eval`.
    pub(super) fn summary(
        &self,
        seed: u64,
        (steps, episodes): (u64, u64),
        final_eval: &Evaluation,
    ) -> SeedSummary {
        let wall_seconds = self.wall_seconds();
        SeedSummary {
            seed,
            episodes,
            steps,
            wall_seconds,
            steps_per_second: steps as f64 / wall_seconds,
            final_eval_mean_return: final_eval.mean,
            final_eval_std_return: final_eval.std,
            final_window_mean_return: self.window.mean(),
            best_window_mean_return: self.window.best,
            stopped_at_step: self.stopped_at_step,
            best_eval_mean_return: self.best.map(|(_, mean)| mean),
            best_eval_step: self.best.map(|(step, _)| step),
        }
    }
}

/// Flushes and syncs the record files to disk; returns the lengths of `metrics.csv`,
/// `eval.csv` and `train.csv` (0 without one), as a checkpoint records them.
pub(super) fn synced_lengths(
    rec: &mut Recorder,
    log: Option<&mut TrainLog>,
) -> Result<(u64, u64, u64)> {
    let (metrics, eval) = rec.sync()?;
    let train = match log {
        Some(log) => log.sync()?,
        None => 0,
    };
    Ok((metrics, eval, train))
}

/// What a seed returns where a checkpoint is due but its env (named `env`) cannot save its
/// random stream: asked to stop (`stopping`), it stops without one
/// ([`Stopped::WithoutCheckpoint`], its records flushed first: `--resume` starts it again); a
/// checkpoint due by `checkpoint_every` is an error naming the key.
pub(super) fn without_checkpoint(
    stopping: bool,
    dir: &Path,
    env: &str,
    rec: &mut Recorder,
    log: Option<&mut TrainLog>,
) -> anyhow::Error {
    if !stopping {
        return anyhow::anyhow!(
            "{}: cannot checkpoint: {env} does not save its random stream; set [train] \
             checkpoint_every = 0",
            dir.display()
        );
    }
    let flushed = rec.flush().and_then(|()| log.map_or(Ok(()), |l| l.flush()));
    match flushed {
        Ok(()) => Stopped::WithoutCheckpoint.into(),
        Err(e) => e,
    }
}
