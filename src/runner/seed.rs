//! One seed's run: the training loop, its evaluations and its records.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use qlab_agents::tabular::{Agent, Evaluation, Features, evaluate_greedy};
use qlab_envs::{Env, EnvRng};

use super::Experiment;
use super::progress::Slot;
use super::record::{EpisodeRow, Recorder, SeedSummary, save_agent};
use crate::config::Budget;

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
/// `qlab eval` on the saved agent reproduces the last one.
pub fn evaluate<E>(
    env: &mut E,
    agent: &dyn Agent,
    seed: u64,
    episodes: u64,
    max_steps: u64,
) -> Result<Evaluation>
where
    E: Env<Action = usize>,
    E::Obs: Features,
{
    let mut rng = EnvRng::new(derive(seed, Stream::EvalAgent));
    Ok(evaluate_greedy(
        env,
        agent,
        usize::try_from(episodes).unwrap_or(usize::MAX),
        Some(derive(seed, Stream::EvalEnv)),
        &mut rng,
        Some(max_steps),
    )?)
}

/// Mean returns over a moving window of episodes.
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

    /// The mean of the episodes in the window (all of them, before it fills).
    fn mean(&self) -> Option<f64> {
        let k = if self.filled {
            self.returns.len()
        } else {
            self.next
        };
        (k > 0).then(|| self.returns[..k].iter().sum::<f64>() / k as f64)
    }
}

/// Trains one seed with envs from `make`, writing its records under `dir`.
pub fn train<E, F>(
    exp: &Experiment,
    make: &F,
    seed: u64,
    dir: &Path,
    slot: &Slot,
) -> Result<SeedSummary>
where
    E: Env<Action = usize>,
    E::Obs: Features,
    F: Fn() -> Result<E>,
{
    let start = Instant::now();
    let config = &exp.config;
    let train = &config.train;
    let mut env = make()?;
    let mut eval_env = make()?;
    let mut agent = config.agent.build(exp.n_features, exp.n_actions)?;
    let mut rng = EnvRng::new(derive(seed, Stream::Agent));
    let mut rec = Recorder::create(dir)?;
    let mut window = Window::new(config.output.window);

    let (max_episodes, max_steps) = match train.budget {
        Budget::Episodes(n) => (n, u64::MAX),
        Budget::Steps(n) => (u64::MAX, n),
    };
    let by_steps = matches!(train.budget, Budget::Steps(_));
    let every = train.eval_every;
    let mut next_eval = if by_steps && every > 0 {
        every
    } else {
        u64::MAX
    };
    // The one step count the hot loop compares with: the next evaluation or the budget.
    let mut stop_at = next_eval.min(max_steps);
    let (mut steps, mut episodes) = (0u64, 0u64);
    let mut last_eval: Option<(u64, Evaluation)> = None;
    let mut first_reset = Some(seed);

    let mut eval = |agent: &dyn Agent,
                    episodes: u64,
                    steps: u64,
                    rec: &mut Recorder|
     -> Result<(u64, Evaluation)> {
        let e = evaluate(
            &mut eval_env,
            agent,
            seed,
            train.eval_episodes,
            train.eval_max_steps,
        )?;
        rec.evaluation(episodes, steps, &e)?;
        Ok((steps, e))
    };

    'run: while episodes < max_episodes {
        let first = match &exp.exploring_starts {
            // As `run_episode_exploring_starts`: reset, then a uniform non-terminal state.
            Some(states) => {
                let _ = env.reset(first_reset.take());
                let s = states[rng.below(states.len())];
                env.set_state(&[s as f64])?
            }
            None => env.reset(first_reset.take()).obs,
        };
        let mut action = agent.start(first.features(), &mut rng);
        let (mut ret, mut length) = (0.0, 0u64);
        loop {
            let step = env.step(action)?;
            ret += step.reward;
            length += 1;
            steps += 1;
            let event = steps == stop_at;
            // The budget cuts the episode: the agent sees it truncated.
            let cut = event && steps == max_steps && !step.done();
            let next = agent.step(
                step.reward,
                step.obs.features(),
                step.terminated,
                step.truncated || cut,
                &mut rng,
            );
            if step.done() {
                episodes += 1;
                window.push(ret);
                rec.episode(&EpisodeRow {
                    episode: episodes,
                    step: steps,
                    ret,
                    length,
                    terminated: step.terminated,
                    epsilon: agent.epsilon(),
                    value_rmse: exp.truth.as_ref().map(|t| t.rmse(agent.as_ref())),
                })?;
                slot.episode(episodes, steps, window.mean());
            }
            if event {
                if steps == next_eval {
                    last_eval = Some(eval(agent.as_ref(), episodes, steps, &mut rec)?);
                    next_eval = next_eval.saturating_add(every);
                    stop_at = next_eval.min(max_steps);
                }
                if steps == max_steps {
                    break 'run;
                }
            }
            if step.done() {
                break;
            }
            action = next;
        }
        if !by_steps && every > 0 && episodes % every == 0 {
            last_eval = Some(eval(agent.as_ref(), episodes, steps, &mut rec)?);
        }
    }
    let final_eval = match last_eval {
        Some((at, e)) if at == steps => e,
        _ => eval(agent.as_ref(), episodes, steps, &mut rec)?.1,
    };
    rec.flush()?;
    save_agent(
        dir,
        config.agent.algorithm(),
        exp.n_features,
        agent.as_ref(),
    )
    .context("saving the agent")?;
    slot.finish(episodes, steps);
    let wall_seconds = start.elapsed().as_secs_f64();
    Ok(SeedSummary {
        seed,
        episodes,
        steps,
        wall_seconds,
        steps_per_second: steps as f64 / wall_seconds,
        final_eval_mean_return: final_eval.mean,
        final_eval_std_return: final_eval.std,
        final_window_mean_return: window.mean(),
        best_window_mean_return: window.best,
    })
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
}
