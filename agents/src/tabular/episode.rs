//! The episode loop: an [`Agent`] interacting with an [`Env`], as library code.
//!
//! The functions are generic over the env and the agent, so that a concrete env is stepped
//! without dynamic dispatch, and they allocate nothing per step. Observations reach the agent
//! as slices of active feature indices through [`Features`].

use super::Agent;
use crate::{Error, Result};
use qlab_envs::wrappers::Tiles;
use qlab_envs::{Env, EnvRng, Model};

/// An observation read as the indices of its active binary features.
pub trait Features {
    /// The active feature indices.
    fn features(&self) -> &[usize];
}

/// A state index is one active feature: one-hot (tabular) features.
impl Features for usize {
    #[inline]
    fn features(&self) -> &[usize] {
        std::slice::from_ref(self)
    }
}

/// Tile coding's active tiles, one per tiling.
impl Features for Tiles {
    #[inline]
    fn features(&self) -> &[usize] {
        self.as_slice()
    }
}

/// A list of active feature indices.
impl Features for Vec<usize> {
    #[inline]
    fn features(&self) -> &[usize] {
        self
    }
}

/// How one episode went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpisodeOutcome {
    /// The undiscounted sum of the episode's rewards.
    pub ret: f64,
    /// The number of steps taken.
    pub length: u64,
    /// The episode reached a terminal state.
    pub terminated: bool,
    /// The episode was cut short: by the env's time limit, or by `max_steps`.
    pub truncated: bool,
}

/// Runs one learning episode: resets `env` (with `seed` when given), then alternates
/// [`Agent::start`]/[`Agent::step`] with [`Env::step`] until the episode ends.
///
/// `max_steps` truncates the episode after that many steps if neither the env nor its time
/// limit has ended it: the agent sees `truncated = true` on that step and bootstraps from
/// the state reached, as with a time limit. Envs without a time limit (CliffWalking, the
/// windy grid world) can otherwise run for ever under a poor policy.
///
/// All the agent's randomness comes from `rng`; the env's from its own generator, seeded by
/// `seed`.
///
/// # Errors
/// `max_steps = Some(0)`, or an env error (an agent returning an action outside the action
/// space).
///
/// ```
/// use qlab_agents::tabular::{AgentConfig, QLearningConfig, run_episode};
/// use qlab_envs::{make, AnyEnv, EnvRng, Params};
/// # fn main() -> qlab_agents::Result<()> {
/// let AnyEnv::Discrete(mut env) = make("CliffWalking-v1", &Params::new())? else { unreachable!() };
/// let mut agent = AgentConfig::QLearning(QLearningConfig::default()).build(48, 4)?;
/// let mut rng = EnvRng::new(0);
/// let first = run_episode(&mut env, agent.as_mut(), Some(0), &mut rng, None)?;
/// assert!(first.terminated && first.ret <= -13.0);
/// for _ in 0..200 {
///     run_episode(&mut env, agent.as_mut(), None, &mut rng, None)?;
/// }
/// # Ok(())
/// # }
/// ```
#[inline]
pub fn run_episode<E, A>(
    env: &mut E,
    agent: &mut A,
    seed: Option<u64>,
    rng: &mut EnvRng,
    max_steps: Option<u64>,
) -> Result<EpisodeOutcome>
where
    E: Env<Action = usize> + ?Sized,
    E::Obs: Features,
    A: Agent + ?Sized,
{
    let limit = step_limit(max_steps)?;
    let first = env.reset(seed).obs;
    run_from(env, agent, &first, rng, limit)
}

/// The states an exploring start may begin in: every non-terminal state the env can be in —
/// a start state, or the next state of some transition. Walls, and CliffWalking's cliff
/// cells (stepping into one lands on the start), are never such states.
pub fn exploring_start_states(model: &dyn Model) -> Vec<usize> {
    let n = model.n_states();
    let mut reachable = vec![false; n];
    for &(s, p) in model.initial_states() {
        if p > 0.0 {
            reachable[s] = true;
        }
    }
    for s in 0..n {
        if model.is_terminal(s) {
            continue;
        }
        for a in 0..model.n_actions() {
            for t in model.transitions(s, a) {
                if t.prob > 0.0 {
                    reachable[t.next_state] = true;
                }
            }
        }
    }
    (0..n)
        .filter(|&s| reachable[s] && !model.is_terminal(s))
        .collect()
}

/// Runs one learning episode from an exploring start (Sutton & Barto §5.3): after the reset,
/// puts the env in a state drawn uniformly from `states` with `rng`, by
/// [`Env::set_state`]`(&[s as f64])` — the form every GridWorld takes. Build `states` once
/// with [`exploring_start_states`]. The agent's first action should then be uniformly random
/// as well ([`McControlConfig`](super::McControlConfig) with exploring starts does that).
///
/// # Errors
/// `states` empty, `max_steps = Some(0)`, or an env error (an env without `set_state`, or a
/// state it cannot take).
pub fn run_episode_exploring_starts<E, A>(
    env: &mut E,
    agent: &mut A,
    states: &[usize],
    seed: Option<u64>,
    rng: &mut EnvRng,
    max_steps: Option<u64>,
) -> Result<EpisodeOutcome>
where
    E: Env<Action = usize> + ?Sized,
    E::Obs: Features,
    A: Agent + ?Sized,
{
    let limit = step_limit(max_steps)?;
    if states.is_empty() {
        return Err(Error::config(
            "exploring_starts",
            "no states",
            "at least one non-terminal start state",
        ));
    }
    let _ = env.reset(seed);
    let s = states[rng.below(states.len())];
    let first = env.set_state(&[s as f64])?;
    run_from(env, agent, &first, rng, limit)
}

fn step_limit(max_steps: Option<u64>) -> Result<u64> {
    match max_steps {
        Some(0) => Err(Error::config("max_steps", 0, "at least 1")),
        Some(n) => Ok(n),
        None => Ok(u64::MAX),
    }
}

#[inline]
fn run_from<E, A>(
    env: &mut E,
    agent: &mut A,
    first: &E::Obs,
    rng: &mut EnvRng,
    limit: u64,
) -> Result<EpisodeOutcome>
where
    E: Env<Action = usize> + ?Sized,
    E::Obs: Features,
    A: Agent + ?Sized,
{
    let mut action = agent.start(first.features(), rng);
    let mut ret = 0.0;
    let mut length = 0u64;
    loop {
        let step = env.step(action)?;
        ret += step.reward;
        length += 1;
        let truncated = step.truncated || length >= limit;
        let next = agent.step(
            step.reward,
            step.obs.features(),
            step.terminated,
            truncated,
            rng,
        );
        if step.terminated || truncated {
            return Ok(EpisodeOutcome {
                ret,
                length,
                terminated: step.terminated,
                truncated,
            });
        }
        action = next;
    }
}

/// The returns of greedy episodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean undiscounted return.
    pub mean: f64,
    /// Standard deviation of the returns (population, dividing by the number of episodes).
    pub std: f64,
    /// The number of episodes.
    pub episodes: usize,
}

/// Runs `episodes` episodes with the agent's greedy actions ([`Agent::greedy`], ties broken
/// at random with `rng`), learning nothing, and returns the mean and standard deviation of
/// their returns.
///
/// The first reset takes `seed`, later ones continue the env's stream. `max_steps` cuts each
/// episode as in [`run_episode`]; give one for envs without a time limit, where a greedy
/// policy may walk into a wall for ever.
///
/// # Errors
/// `episodes = 0`, `max_steps = Some(0)`, or an env error.
pub fn evaluate_greedy<E, A>(
    env: &mut E,
    agent: &A,
    episodes: usize,
    seed: Option<u64>,
    rng: &mut EnvRng,
    max_steps: Option<u64>,
) -> Result<Evaluation>
where
    E: Env<Action = usize> + ?Sized,
    E::Obs: Features,
    A: Agent + ?Sized,
{
    let limit = step_limit(max_steps)?;
    if episodes == 0 {
        return Err(Error::config("episodes", 0, "at least 1"));
    }
    // Welford's running mean and sum of squared deviations.
    let (mut mean, mut m2) = (0.0, 0.0);
    for e in 0..episodes {
        let mut obs = env.reset(if e == 0 { seed } else { None }).obs;
        let mut ret = 0.0;
        let mut length = 0u64;
        loop {
            let step = env.step(agent.greedy(obs.features(), rng))?;
            ret += step.reward;
            length += 1;
            if step.done() || length >= limit {
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
        episodes,
    })
}
