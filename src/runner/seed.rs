//! One seed's run: the training loop, its evaluations and its records.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use qlab_agents::tabular::{Agent, Evaluation, Features, evaluate_greedy};
use qlab_envs::{Env, EnvRng};

use super::progress::Slot;
use super::record::{EpisodeRow, Recorder, SeedSummary, save_agent};
use super::{Experiment, Truth};
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

/// Where the states an episode visits are noted: nowhere, or a list.
trait Visits {
    fn visit(&mut self, x: &[usize]);
    fn clear(&mut self);
    fn as_slice(&self) -> &[usize];
}

impl Visits for () {
    #[inline(always)]
    fn visit(&mut self, _: &[usize]) {}
    #[inline(always)]
    fn clear(&mut self) {}
    fn as_slice(&self) -> &[usize] {
        &[]
    }
}

impl Visits for Vec<usize> {
    #[inline(always)]
    fn visit(&mut self, x: &[usize]) {
        // A loop of pushes: one feature per state here, where `extend_from_slice` would call
        // `memcpy`.
        for &i in x {
            self.push(i);
        }
    }
    #[inline(always)]
    fn clear(&mut self) {
        Vec::clear(self);
    }
    fn as_slice(&self) -> &[usize] {
        self
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
/// The states each step reaches go to `visits`.
///
/// Its counters live in locals so that the compiler keeps them in registers: this loop sets
/// the runner's training throughput.
#[inline]
#[allow(clippy::too_many_arguments)]
fn play<E, V>(
    env: &mut E,
    agent: &mut dyn Agent,
    ep: &mut Episode,
    steps: &mut u64,
    stop_at: u64,
    max_steps: u64,
    rng: &mut EnvRng,
    visits: &mut V,
) -> Result<Pause>
where
    E: Env<Action = usize>,
    E::Obs: Features,
    V: Visits,
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
        let x = step.obs.features();
        ret += reward;
        length += 1;
        t += 1;
        let event = t == stop_at;
        // The budget cuts the episode: the agent sees it truncated.
        let cut = event && t == max_steps && !done;
        let next = agent.step(reward, x, terminated, step.truncated || cut, rng);
        visits.visit(x);
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
    // Only where there is a truth to compare with are visited states worth noting.
    match &exp.truth {
        Some(truth) => run(exp, make, seed, dir, slot, Some(truth), &mut Vec::new()),
        None => run(exp, make, seed, dir, slot, None, &mut ()),
    }
}

/// [`train`], noting each episode's states in `visits`.
fn run<E, F, V>(
    exp: &Experiment,
    make: &F,
    seed: u64,
    dir: &Path,
    slot: &Slot,
    truth: Option<&Truth>,
    visits: &mut V,
) -> Result<SeedSummary>
where
    E: Env<Action = usize>,
    E::Obs: Features,
    F: Fn() -> Result<E>,
    V: Visits,
{
    let start = Instant::now();
    let config = &exp.config;
    let train = &config.train;
    let mut env = make()?;
    let mut eval_env = make()?;
    let mut agent = config
        .agent
        .tabular("the tabular runner")?
        .build(exp.n_features, exp.n_actions)?;
    let mut rng = EnvRng::new(derive(seed, Stream::Agent));
    let mut rec = Recorder::create(dir)?;
    let mut window = Window::new(config.output.window);
    let mut errors = truth.map(|t| ValueErrors::new(t, agent.as_ref()));

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
        visits.clear();
        visits.visit(first.features());
        let mut ep = Episode {
            action: agent.start(first.features(), &mut rng),
            ret: 0.0,
            length: 0,
        };
        loop {
            let pause = play(
                &mut env,
                agent.as_mut(),
                &mut ep,
                &mut steps,
                stop_at,
                max_steps,
                &mut rng,
                visits,
            )?;
            if let Pause::Ended { terminated } = pause {
                episodes += 1;
                window.push(ep.ret);
                let value_rmse = errors
                    .as_mut()
                    .map(|e| e.refresh(agent.as_ref(), visits.as_slice(), episodes));
                rec.episode(&EpisodeRow {
                    episode: episodes,
                    step: steps,
                    ret: ep.ret,
                    length: ep.length,
                    terminated,
                    epsilon: agent.epsilon(),
                    value_rmse,
                })?;
                slot.episode(episodes, steps, window.recent());
            }
            if steps == stop_at {
                if steps == next_eval {
                    last_eval = Some(eval(agent.as_ref(), episodes, steps, &mut rec)?);
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

/// The squared error of the agent's value in each state the truth compares, kept from episode
/// to episode and refreshed only in the states an episode visited.
///
/// A tabular agent learning from an episode changes the values of the states it visited and
/// of no others (every algorithm here: one-step, n-step and Monte Carlo updates, and traces,
/// which start empty each episode), so the refreshed errors are the errors afresh and
/// [`ValueErrors::refresh`] returns exactly [`Truth::rmse`], bit for bit, at a fraction of
/// its cost. Debug builds check that on every episode.
struct ValueErrors<'a> {
    truth: &'a Truth,
    /// The index of each state in `truth.states`, or `usize::MAX` for states not compared.
    position: Vec<usize>,
    /// The squared error of each compared state, in `truth.states` order.
    squared: Vec<f64>,
    /// The episode in which each compared state was last refreshed.
    refreshed: Vec<u64>,
}

impl<'a> ValueErrors<'a> {
    fn new(truth: &'a Truth, agent: &dyn Agent) -> Self {
        let mut position = vec![usize::MAX; truth.values.len()];
        for (i, &s) in truth.states.iter().enumerate() {
            position[s] = i;
        }
        let squared = truth
            .states
            .iter()
            .map(|&s| (agent.value(&[s]) - truth.values[s]).powi(2))
            .collect();
        ValueErrors {
            truth,
            position,
            squared,
            refreshed: vec![0; truth.states.len()],
        }
    }

    /// Refreshes the states in `visited` (episode `episode`, from 1) and returns the RMS error.
    #[inline]
    fn refresh(&mut self, agent: &dyn Agent, visited: &[usize], episode: u64) -> f64 {
        for &s in visited {
            let i = self.position.get(s).copied().unwrap_or(usize::MAX);
            if i != usize::MAX && self.refreshed[i] != episode {
                self.refreshed[i] = episode;
                self.squared[i] = (agent.value(&[s]) - self.truth.values[s]).powi(2);
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
        rmse
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
}
