//! [`OneHot`]: a state index as a one-hot vector, for function approximators.

use super::checks::observed_discrete;
use super::{Wrapper, inner_env_in};
use crate::{BoxSpace, Env, Result, Space};

/// Turns a discrete observation `s` of `Discrete(n)` into the vector of `n` values that is 1 at
/// `s` and 0 elsewhere, so that agents with neural networks run on GridWorlds.
///
/// The observation space is `Box(0, 1, (n,))`. Each reset and step allocates the returned
/// vector. The model, if the inner env has one, is forwarded unchanged: its states are the
/// indices whose one-hot vectors this wrapper returns.
///
/// ```
/// # use qlab_envs::{Env, Frame, Info, Reset, Result, Space, Step};
/// # struct Ring { s: usize, obs: Space, act: Space }
/// # impl Env for Ring {
/// #     type Obs = usize;
/// #     type Action = usize;
/// #     fn observation_space(&self) -> &Space { &self.obs }
/// #     fn action_space(&self) -> &Space { &self.act }
/// #     fn reset(&mut self, _: Option<u64>) -> Reset<usize> {
/// #         self.s = 0;
/// #         Reset { obs: 0, info: Info::default() }
/// #     }
/// #     fn step(&mut self, a: usize) -> Result<Step<usize>> {
/// #         qlab_envs::check_discrete_action(a, &self.act)?;
/// #         self.s = (self.s + 1) % 4;
/// #         Ok(Step { obs: self.s, reward: 0.0, terminated: false, truncated: false,
/// #                   info: Info::default() })
/// #     }
/// #     fn render_ansi(&self) -> String { String::new() }
/// #     fn render_rgb(&self) -> Frame { Frame::filled(1, 1, [0; 3]) }
/// #     fn name(&self) -> String { "Ring".into() }
/// # }
/// # fn main() -> qlab_envs::Result<()> {
/// # let env = Ring { s: 0, obs: Space::discrete(4), act: Space::discrete(1) };
/// use qlab_envs::wrappers::OneHot;
///
/// // `env` moves around the 4 states of a ring.
/// let mut env = OneHot::new(env)?;
/// assert_eq!(env.observation_space().to_string(), "Box(0, 1, (4,), float32)");
/// assert_eq!(env.reset(None).obs, vec![1.0, 0.0, 0.0, 0.0]);
/// assert_eq!(env.step(0)?.obs, vec![0.0, 1.0, 0.0, 0.0]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct OneHot<E> {
    env: E,
    n: usize,
    space: Space,
}

impl<E: Env<Obs = usize>> OneHot<E> {
    /// Wraps `env`. Errors if its observation space is not discrete.
    pub fn new(env: E) -> Result<Self> {
        let n = observed_discrete(env.observation_space())?.n;
        Ok(Self {
            env,
            n,
            space: BoxSpace::uniform(0.0, 1.0, vec![n]).into(),
        })
    }

    /// The one-hot vector of state `s`.
    ///
    /// # Panics
    /// If `s` is not below the number of states.
    pub fn encode(&self, s: usize) -> Vec<f32> {
        let mut v = vec![0.0; self.n];
        v[s] = 1.0;
        v
    }
}

impl<E: Env<Obs = usize>> Wrapper for OneHot<E> {
    type Inner = E;
    type Obs = Vec<f32>;

    inner_env_in!(env);

    fn observation_space(this: &Self) -> &Space {
        &this.space
    }

    fn observation(this: &mut Self, s: usize) -> Vec<f32> {
        this.encode(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::wrappers::test_envs::Chain;

    fn hot(i: usize) -> Vec<f32> {
        (0..16).map(|j| if j == i { 1.0 } else { 0.0 }).collect()
    }

    #[test]
    fn encodes_every_state_of_an_episode() {
        // Chain(3) in Discrete(16): states 0, 1, 2, 3 in order, terminating on reaching 3.
        let mut env = OneHot::new(Chain::new(3)).unwrap();
        assert_eq!(
            env.observation_space(),
            &Space::Box(BoxSpace::uniform(0.0, 1.0, vec![16]))
        );
        assert_eq!(env.reset(Some(0)).obs, hot(0));
        assert_eq!(env.step(1).unwrap().obs, hot(1));
        assert_eq!(env.step(0).unwrap().obs, hot(2));
        let last = env.step(1).unwrap();
        assert_eq!(last.obs, hot(3));
        assert!(last.terminated);
        assert_eq!(last.reward, 2.0);
        let space = env.observation_space().as_box().unwrap();
        assert!(space.contains(&last.obs));
    }

    #[test]
    fn forwards_to_the_inner_env() {
        let mut env = OneHot::new(Chain::new(5)).unwrap();
        env.reset(Some(0));
        env.set_state(&[3.0]).unwrap();
        assert_eq!(env.inner().pos, 3);
        assert_eq!(env.render_ansi(), "3/5");
        assert_eq!(env.name(), "Chain5");
        assert!(env.model().is_none());
        assert!(matches!(env.step(9), Err(Error::InvalidAction { .. })));
        assert_eq!(env.into_inner().pos, 3);
    }

    #[test]
    fn rejects_a_box_observation_space() {
        // An env with `Obs = usize` but a box space breaks the Env contract; the wrapper still
        // refuses it with a message rather than indexing out of range later.
        let mut chain = Chain::new(2);
        chain.obs_space = Space::Box(BoxSpace::uniform(0.0, 1.0, vec![1]));
        let e = OneHot::new(chain).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value Box(0, 1, (1,), float32) for `observation_space`: expected a Discrete space"
        );
    }
}
