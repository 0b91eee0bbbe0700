//! Greedy evaluations: one function that every run, `qlab eval` and `qlab attack` play their
//! evaluation episodes with.

use anyhow::{Result, bail};
use qlab_agents::tabular::Evaluation;
use qlab_agents::{Agent, View};
use qlab_envs::EnvRng;

use super::envs::AgentEnv;
use super::seed::{Stream, derive};

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
pub fn evaluate_policy<E: AgentEnv<O> + ?Sized, O: ?Sized>(
    env: &mut E,
    mut policy: impl FnMut(&O, bool) -> Result<usize>,
    first_seed: u64,
    episodes: u64,
    max_steps: u64,
) -> Result<Evaluation> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
