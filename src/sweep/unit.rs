//! One unit of a sweep: one seed of one point, the piece of work the Python package's sweep
//! executors schedule — on a thread of this machine, or as a Ray task on any node of a
//! cluster. A unit runs exactly what the local executor runs for that point and seed: the
//! point's `config.toml` through the runner `qlab train` uses, for that one seed (each seed's
//! run depends on its config and seed alone, so its records are the local executor's, byte
//! for byte, but for the timing columns).
//!
//! A unit never writes into its point's final seed directory while it runs, so that a unit
//! killed at any moment (its worker process, its node) leaves no half-written seed in the
//! sweep, and a unit run twice (a retry of a unit that did finish) is kept once:
//!
//! - **Whole units** (no [`Pause`]) run in a directory of their own beside the seed's,
//!   `POINT/.seed_<k>.<pid>-<nanos>.tmp/` (a run directory of one seed). Finished, the seed's
//!   directory is moved into place, `POINT/seed_<k>/`, by one `rename`, which fails if
//!   another attempt put it there first: the first one is kept. A seed directory left
//!   unfinished in place (a local executor's stopped run) is moved into the unit's directory
//!   first and continues from its checkpoint.
//! - **Paused units** (a `[stop]` scheduler's, see [`Pause`]) train a seed from one
//!   evaluation to the next in `POINT/.seed_<k>.paused/`, a directory that lasts from the
//!   seed's first piece to its last, each piece continuing from the previous one's
//!   checkpoint (a piece killed on the way continues from the last checkpoint when run
//!   again). The finished seed, its last checkpoint removed, is moved into place as a whole
//!   unit's is.
//!
//! A finished unit's seed directory holds `seed_summary.json`: a unit of a seed that has one
//! returns it at once, which is how `--resume` skips finished units.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::config::{Budget, Config};
use crate::runner::summary::SeedSummary;
use crate::runner::{self, Experiment, Failure, Pause, RunOptions, Stop, progress::Display};

/// One seed of one point.
#[derive(Clone, Debug)]
pub struct Unit<'a> {
    /// The point's directory, which holds its `config.toml` (the sweep writes it before any
    /// of its units runs).
    pub point_dir: &'a Path,
    /// The seed.
    pub seed: u64,
    /// Where the seed pauses or ends early, for a `[stop]` scheduler (`None`: it runs its
    /// budget).
    pub pause: Option<Pause>,
}

/// Where a unit stands after running.
#[derive(Clone, Debug, PartialEq)]
pub enum UnitStatus {
    /// The seed finished (now, or before): its summary.
    Finished(SeedSummary),
    /// The seed paused as [`Pause::After`] asked, with a checkpoint.
    Paused,
    /// A stop was requested (a signal) before the seed finished.
    Interrupted,
}

/// What a unit came to.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitOutcome {
    /// Where the seed stands.
    pub status: UnitStatus,
    /// The seed's evaluations so far, in order: where each was made, in the budget's unit
    /// (env steps, or episodes), and its mean return.
    pub evals: Vec<(u64, f64)>,
}

impl Unit<'_> {
    /// The seed's directory in its point once it has finished.
    pub fn seed_dir(&self) -> PathBuf {
        self.point_dir.join(format!("seed_{}", self.seed))
    }

    /// The directory paused pieces of the seed run in.
    fn paused_dir(&self) -> PathBuf {
        self.point_dir.join(format!(".seed_{}.paused", self.seed))
    }

    /// Runs the unit as the module's doc says; `stop` stops it at the next episode end.
    ///
    /// # Errors
    /// A point directory without a readable `config.toml`, a seed that fails (its error), a
    /// [`Pause`] asked of a seed whose env cannot save its random stream, or a seed directory
    /// that cannot be moved into place.
    pub fn run(&self, stop: &Stop) -> Result<UnitOutcome> {
        let config_path = self.point_dir.join("config.toml");
        let text = fs::read_to_string(&config_path)
            .with_context(|| format!("{}", config_path.display()))?;
        let mut config = Config::parse(&config_path.display().to_string(), &text, &[])?;
        let budget = config.train.budget;
        let by_steps = matches!(budget, Budget::Steps(_));
        let seed_dir = self.seed_dir();
        if let Some(summary) = SeedSummary::read(&seed_dir)? {
            return Ok(UnitOutcome {
                status: UnitStatus::Finished(summary),
                evals: evals(&seed_dir, by_steps)?,
            });
        }
        config.set_seeds(vec![self.seed]);
        let paused = self.paused_dir();
        let in_pieces = self.pause.is_some() || paused.exists();
        let (work, resume) = if in_pieces {
            let resume = paused.join("config.toml").is_file();
            (paused, resume)
        } else {
            (self.temp_dir(), false)
        };
        if !resume {
            fs::create_dir_all(&work).with_context(|| format!("{}", work.display()))?;
        }
        let work_seed = work.join(format!("seed_{}", self.seed));
        // A seed a local executor left unfinished in place continues here.
        let resume = resume
            || (seed_dir.exists() && !work_seed.exists() && {
                fs::rename(&seed_dir, &work_seed)
                    .with_context(|| format!("{}", seed_dir.display()))?;
                true
            });
        let run = RunOptions {
            threads: 1,
            display: Display::Quiet,
            stop,
            pause: self.pause,
        };
        let result = if resume {
            if !work.join("config.toml").is_file() {
                crate::files::write_file(&work.join("config.toml"), config.to_toml().as_bytes())?;
            }
            runner::resume(&work, &run).map(|(_, s)| s)
        } else {
            let exp = Experiment::new(config)?;
            runner::train(&exp, &work, &run)
        };
        match result {
            Ok(summary) => {
                let summary = summary.per_seed.into_iter().next().ok_or_else(|| {
                    anyhow::anyhow!("{}: the seed's summary is missing", work.display())
                })?;
                // The checkpoints of the pauses are no part of the finished seed.
                if in_pieces {
                    runner::remove_checkpoint(&work_seed)?;
                }
                let summary = self.put_in_place(&work, &work_seed, summary)?;
                Ok(UnitOutcome {
                    status: UnitStatus::Finished(summary),
                    evals: evals(&seed_dir, by_steps)?,
                })
            }
            Err(e) if e.is::<runner::Interrupted>() => {
                let evals = evals(&work_seed, by_steps)?;
                if stop.requested() {
                    if self.pause.is_none() {
                        let _ = fs::remove_dir_all(&work);
                    }
                    return Ok(UnitOutcome {
                        status: UnitStatus::Interrupted,
                        evals,
                    });
                }
                let i = e.downcast_ref::<runner::Interrupted>().expect("checked");
                if i.without_checkpoint > 0 {
                    bail!(
                        "{}: seed {} cannot pause at an evaluation: its env cannot save its \
                         random stream, which a [stop] scheduler needs; leave [stop] out",
                        self.point_dir.display(),
                        self.seed
                    );
                }
                Ok(UnitOutcome {
                    status: UnitStatus::Paused,
                    evals,
                })
            }
            Err(e) => {
                if self.pause.is_none() {
                    let _ = fs::remove_dir_all(&work);
                }
                Err(e)
            }
        }
    }

    /// A directory of this attempt's own beside the seed's.
    fn temp_dir(&self) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        self.point_dir.join(format!(
            ".seed_{}.{}-{nanos}.tmp",
            self.seed,
            std::process::id()
        ))
    }

    /// Moves the finished seed `work_seed` into place and removes `work`; if another attempt
    /// finished the seed first, its seed directory is kept (and its summary returned) and
    /// this one removed.
    fn put_in_place(
        &self,
        work: &Path,
        work_seed: &Path,
        summary: SeedSummary,
    ) -> Result<SeedSummary> {
        let seed_dir = self.seed_dir();
        let kept = match fs::rename(work_seed, &seed_dir) {
            Ok(()) => {
                crate::files::sync_dir(&seed_dir)?;
                summary
            }
            Err(e) => match SeedSummary::read(&seed_dir) {
                Ok(Some(first)) => first,
                _ => {
                    return Err(Failure(anyhow::Error::new(e).context(format!(
                        "moving {} to {}",
                        work_seed.display(),
                        seed_dir.display()
                    )))
                    .into());
                }
            },
        };
        let _ = fs::remove_dir_all(work);
        Ok(kept)
    }
}

/// The evaluations in `seed_dir/eval.csv` (none if it has none yet): where each was made,
/// env steps (`by_steps`) or episodes, and its mean return.
fn evals(seed_dir: &Path, by_steps: bool) -> Result<Vec<(u64, f64)>> {
    let path = seed_dir.join("eval.csv");
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    let column = if by_steps { 1 } else { 0 };
    text.lines()
        .skip(1)
        .enumerate()
        .map(|(i, row)| {
            let cells: Vec<&str> = row.split(',').collect();
            let x = cells.get(column).and_then(|c| c.parse::<u64>().ok());
            let mean = cells.get(2).and_then(|c| c.parse::<f64>().ok());
            match (x, mean) {
                (Some(x), Some(mean)) => Ok((x, mean)),
                _ => bail!("{}:{}: not an evaluation row: {row}", path.display(), i + 2),
            }
        })
        .collect()
}

/// Removes what units left in `point_dir` that never finished: their temporary and paused
/// directories. Only for a sweep that has ended, when no unit of it runs any more.
pub fn clean(point_dir: &Path) -> Result<()> {
    let entries = match fs::read_dir(point_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("{}", point_dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("{}", point_dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".seed_") && (name.ends_with(".tmp") || name.ends_with(".paused")) {
            fs::remove_dir_all(entry.path())
                .with_context(|| format!("{}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary one.
    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qlab-unit-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A point directory holding `config` (a cliff-walk SARSA with `budget`).
    fn point(name: &str, budget: &str) -> (PathBuf, Config) {
        let text = format!(
            "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'sarsa'\nalpha = 0.5\n\
             epsilon = 0.1\n[train]\n{budget}\nseeds = [0, 3]\neval_episodes = 1\n\
             eval_max_steps = 60\nmax_steps_per_episode = 200\n"
        );
        let config = Config::parse("c.toml", &text, &[]).unwrap();
        let dir = temp(name);
        fs::write(dir.join("config.toml"), config.to_toml()).unwrap();
        (dir, config)
    }

    /// The files of a seed that hold no time.
    fn records(seed_dir: &Path) -> Vec<Vec<u8>> {
        ["metrics.csv", "eval.csv", "agent.bin", "agent.json"]
            .iter()
            .map(|f| fs::read(seed_dir.join(f)).unwrap())
            .collect()
    }

    /// What `qlab train` makes of `config`'s seed `seed`.
    fn trained(config: &Config, seed: u64, name: &str) -> PathBuf {
        let dir = temp(name).join("run");
        fs::create_dir(&dir).unwrap();
        let mut config = config.clone();
        config.set_seeds(vec![seed]);
        let exp = Experiment::new(config).unwrap();
        let run = RunOptions {
            threads: 1,
            display: Display::Quiet,
            stop: &Stop::new(),
            pause: None,
        };
        runner::train(&exp, &dir, &run).unwrap();
        dir.join(format!("seed_{seed}"))
    }

    fn unit(dir: &Path, seed: u64, pause: Option<Pause>) -> UnitOutcome {
        Unit {
            point_dir: dir,
            seed,
            pause,
        }
        .run(&Stop::new())
        .unwrap()
    }

    #[test]
    fn a_whole_unit_is_the_seed_qlab_train_runs_and_is_kept_once() {
        let (dir, config) = point("whole", "episodes = 30\neval_every = 10");
        let out = unit(&dir, 3, None);
        let UnitStatus::Finished(summary) = &out.status else {
            panic!("{out:?}")
        };
        assert_eq!(summary.seed, 3);
        let alone = trained(&config, 3, "whole-alone");
        assert_eq!(records(&dir.join("seed_3")), records(&alone));
        assert_eq!(
            out.evals.iter().map(|e| e.0).collect::<Vec<_>>(),
            [10, 20, 30]
        );
        // Run again (a retry of a unit that did finish): the first is kept, nothing is left.
        let again = unit(&dir, 3, None);
        assert_eq!(again, out);
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["config.toml", "seed_3"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Paused after each evaluation and resumed, a seed finishes as one never paused, byte
    /// for byte: with evaluations at episode ends (an episode budget) and in the middle of
    /// episodes (a step budget), where the pause waits for the episode's end.
    #[test]
    fn a_seed_run_in_pieces_is_the_seed_run_whole() {
        for (name, budget, every) in [
            ("episodes", "episodes = 30\neval_every = 10", 10),
            ("steps", "steps = 3000\neval_every = 700", 700),
        ] {
            let (dir, config) = point(name, budget);
            let mut pieces = 0;
            let mut seen = 0;
            let out = loop {
                let x = (seen as u64 + 1) * every;
                let out = unit(&dir, 0, Some(Pause::After(x)));
                pieces += 1;
                // Each piece has made the evaluation it paused after, and every one before.
                assert!(out.evals.len() > seen, "{name}: {out:?}");
                assert!(
                    out.evals
                        .iter()
                        .zip(1..)
                        .all(|(e, k)| e.0 == k * every || k as usize == out.evals.len())
                );
                seen = out.evals.len();
                if matches!(out.status, UnitStatus::Finished(_)) {
                    break out;
                }
                assert_eq!(out.status, UnitStatus::Paused);
                assert!(!dir.join("seed_0").exists());
            };
            assert!(pieces >= 3, "{name}: {pieces} pieces");
            let alone = trained(&config, 0, &format!("{name}-alone"));
            assert_eq!(records(&dir.join("seed_0")), records(&alone), "{name}");
            let UnitStatus::Finished(s) = out.status else {
                unreachable!()
            };
            assert_eq!(s.stopped_at_step, None);
            // No pause's directory or checkpoint is left.
            assert!(!dir.join(".seed_0.paused").exists());
            assert!(!dir.join("seed_0").join("checkpoint.json").exists());
            fs::remove_dir_all(&dir).unwrap();
        }
    }

    /// A PPO seed paused after each evaluation (at the end of the rollout under way, its envs
    /// mid-episode) and resumed finishes as one never paused, byte for byte.
    #[test]
    fn a_ppo_seed_run_in_pieces_is_the_seed_run_whole() {
        let text = "[env]\nid = 'CartPole-v1'\n[agent]\nalgorithm = 'ppo'\nn_envs = 2\n\
                    n_steps = 32\nbatch_size = 32\nn_epochs = 2\n[train]\nsteps = 1000\n\
                    eval_every = 250\nseeds = [0]\neval_episodes = 1\neval_max_steps = 60\n";
        let config = Config::parse("c.toml", text, &[]).unwrap();
        let dir = temp("ppo");
        fs::write(dir.join("config.toml"), config.to_toml()).unwrap();
        let mut pieces = 0;
        let out = loop {
            let out = unit(&dir, 0, Some(Pause::After((pieces + 1) * 250)));
            pieces += 1;
            if matches!(out.status, UnitStatus::Finished(_)) {
                // The budget's rollout ends at step 1024, past the evaluation at 1000: a final
                // evaluation there.
                assert_eq!(out.evals.last().map(|e| e.0), Some(1024), "{out:?}");
                break out;
            }
            assert_eq!(out.evals.len() as u64, pieces, "{out:?}");
            assert_eq!(out.status, UnitStatus::Paused);
        };
        assert_eq!(pieces, 4);
        let alone = trained(&config, 0, "ppo-alone");
        let files = |d: &Path| -> Vec<Vec<u8>> {
            [
                "metrics.csv",
                "eval.csv",
                "policy.safetensors",
                "agent.json",
            ]
            .iter()
            .map(|f| fs::read(d.join(f)).unwrap())
            .collect()
        };
        assert_eq!(files(&dir.join("seed_0")), files(&alone));
        let UnitStatus::Finished(s) = out.status else {
            unreachable!()
        };
        assert_eq!((s.steps, s.stopped_at_step), (1024, None));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A seed a scheduler stops ends at its checkpoint: its summary says where, and its
    /// records are those of the seed run whole up to there.
    #[test]
    fn a_stopped_seed_ends_at_its_pause() {
        let (dir, config) = point("here", "steps = 3000\neval_every = 700");
        let paused = unit(&dir, 0, Some(Pause::After(700)));
        assert_eq!(paused.status, UnitStatus::Paused);
        assert_eq!(paused.evals.len(), 1);
        let out = unit(&dir, 0, Some(Pause::Here));
        let UnitStatus::Finished(s) = &out.status else {
            panic!("{out:?}")
        };
        assert!(s.steps >= 700 && s.steps < 3000, "{s:?}");
        assert_eq!(s.stopped_at_step, Some(s.steps));
        // A final evaluation at the end, after the one at step 700.
        assert_eq!(out.evals.len(), 2);
        assert_eq!(out.evals[1].0, s.steps);
        let whole = trained(&config, 0, "here-alone");
        let rows = |d: &Path| {
            fs::read_to_string(d.join("metrics.csv"))
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let (mine, all) = (rows(&dir.join("seed_0")), rows(&whole));
        assert_eq!(mine[..], all[..mine.len()]);
        // Nothing to end at without a checkpoint.
        let e = Unit {
            point_dir: &dir,
            seed: 3,
            pause: Some(Pause::Here),
        }
        .run(&Stop::new())
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("no checkpoint to end seed 3 at"),
            "{e:#}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
