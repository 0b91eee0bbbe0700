//! Greedy evaluation: the one loop that plays a policy's episodes and sums their returns, for
//! every agent (the runner's evaluations, `qlab eval`, `qlab attack`,
//! [`tabular::evaluate_greedy`](crate::tabular::evaluate_greedy)).

use qlab_envs::Env;

use crate::{Error, View};

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

/// Plays `episodes` episodes of at most `max_steps` steps with `policy`, the first reset
/// seeded with `first_seed` and the later ones continuing the env's stream; the mean and
/// (population) standard deviation of the returns. `policy(obs, first)` is told whether `obs`
/// is an episode's first (a policy with memory resets it there). It learns nothing.
///
/// # Errors
/// `episodes = 0`, `max_steps = 0`, a failing env step or policy.
pub fn evaluate_policy<E, O, R>(
    env: &mut E,
    mut policy: impl FnMut(&O, bool) -> Result<E::Action, R>,
    first_seed: Option<u64>,
    episodes: u64,
    max_steps: u64,
) -> Result<Evaluation, R>
where
    E: Env + ?Sized,
    E::Obs: View<O>,
    O: ?Sized,
    R: From<Error>,
{
    if episodes == 0 {
        return Err(Error::config("episodes", 0, "at least 1").into());
    }
    if max_steps == 0 {
        return Err(Error::config("max_steps", 0, "at least 1").into());
    }
    let mut first = first_seed;
    // Welford's running mean and sum of squared deviations.
    let (mut mean, mut m2) = (0.0, 0.0);
    for e in 0..episodes {
        let mut obs = env.reset(first.take()).obs;
        let (mut ret, mut length) = (0.0, 0u64);
        loop {
            let action = policy(obs.view(), length == 0)?;
            let step = env.step(action).map_err(|e| R::from(Error::from(e)))?;
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
        let e = evaluate_policy::<_, _, Error>(
            &mut env,
            |_: &[f32], first| {
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
