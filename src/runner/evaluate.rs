//! The greedy evaluation of a seed's agent, as every evaluation of a run and `qlab eval` play
//! it (on [`qlab_agents::evaluate_policy`], the one evaluation loop).

use anyhow::Result;
use qlab_agents::{Agent, Evaluation, evaluate_policy};
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
        Some(derive(seed, Stream::EvalEnv)),
        episodes,
        max_steps,
    )
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
        let e = evaluate_policy::<_, _, anyhow::Error>(
            &mut env,
            |_, first| {
                if first {
                    firsts.push(steps);
                }
                steps += 1;
                Ok(0)
            },
            Some(7),
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
