//! Interoperability with the `gymnasium-rs` crate (cargo feature `gymnasium-rs`).
//!
//! - [`ToGymnasium`] wraps a qlab env so that it implements `gymnasium_rs::core::Env`.
//! - [`FromGymnasium`] wraps an env written against `gymnasium_rs::core::Env` so that it
//!   implements qlab's [`Env`].
//!
//! That crate's own `CartPole` uses other masses than Gymnasium's; never use it as a
//! reference for CartPole's dynamics.

use std::collections::HashMap;
use std::fmt;

use gymnasium_rs::core as gym;

use crate::{BoxSpace, Env, Error, Frame, Info, Reset, Result, Space, Step};

fn to_gym_space(space: &Space) -> gym::Space {
    match space {
        Space::Discrete(d) => gym::Space::Discrete(i32::try_from(d.n).unwrap_or(i32::MAX)),
        Space::Box(b) => gym::Space::Box {
            low: b.low().to_vec().into(),
            high: b.high().to_vec().into(),
        },
    }
}

fn from_gym_space(space: &gym::Space) -> Space {
    match space {
        gym::Space::Discrete(n) => Space::discrete((*n).max(0) as usize),
        gym::Space::Box { low, high } => BoxSpace::from_bounds(
            low.iter().copied().collect(),
            high.iter().copied().collect(),
        )
        .into(),
    }
}

fn to_gym_frame(frame: Frame) -> Option<ndarray::Array3<u8>> {
    ndarray::Array3::from_shape_vec((frame.height, frame.width, 3), frame.data).ok()
}

/// A qlab env seen through `gymnasium-rs`'s `Env<Obs, usize>` trait.
///
/// That trait's `step` cannot return an error, so an invalid action (or a step after the end)
/// does not panic: it returns the last observation with reward 0 and `truncated = true`, and
/// the message under the info key `"error"`.
///
/// ```
/// use gymnasium_rs::core::Env as GymEnv;
/// use qlab_envs::gymnasium_rs::ToGymnasium;
/// # use qlab_envs::{Env, Frame, Reset, Result, Space, Step};
/// # struct Coin { space: Space, obs: usize }
/// # impl Env for Coin {
/// #     type Obs = usize;
/// #     type Action = usize;
/// #     fn observation_space(&self) -> &Space { &self.space }
/// #     fn action_space(&self) -> &Space { &self.space }
/// #     fn reset(&mut self, _: Option<u64>) -> Reset<usize> { Reset { obs: 0, info: Default::default() } }
/// #     fn step(&mut self, a: usize) -> Result<Step<usize>> {
/// #         qlab_envs::check_discrete_action(a, &self.space)?;
/// #         Ok(Step { obs: a, reward: 1.0, terminated: true, truncated: false, info: Default::default() })
/// #     }
/// #     fn render_ansi(&self) -> String { String::new() }
/// #     fn render_rgb(&self) -> Frame { Frame::filled(1, 1, [0, 0, 0]) }
/// #     fn name(&self) -> String { "Coin".into() }
/// # }
/// let mut env = ToGymnasium::new(Coin { space: Space::discrete(2), obs: 0 });
/// let (obs, _) = env.reset_seed(3);
/// assert_eq!(obs, 0);
/// let (_, reward, terminated, _, _) = env.step(1);
/// assert!(terminated && reward == 1.0);
/// let (_, _, _, truncated, info) = env.step(5); // an invalid action: no panic
/// assert!(truncated && info.contains_key("error"));
/// ```
pub struct ToGymnasium<E: Env> {
    env: E,
    last_obs: Option<E::Obs>,
}

impl<E: Env> ToGymnasium<E> {
    /// Wraps a qlab env.
    pub fn new(env: E) -> Self {
        Self {
            env,
            last_obs: None,
        }
    }

    /// Unwraps.
    pub fn into_inner(self) -> E {
        self.env
    }
}

impl<E: Env> gym::Env<E::Obs, E::Action> for ToGymnasium<E>
where
    E::Obs: Default,
{
    fn observation_space(&self) -> gym::Space {
        to_gym_space(self.env.observation_space())
    }

    fn action_space(&self) -> gym::Space {
        to_gym_space(self.env.action_space())
    }

    fn reset(&mut self, seed: Option<i32>, _options: gym::Options) -> (E::Obs, gym::Info) {
        // A negative seed is reinterpreted bit for bit: every i32 is a distinct seed.
        let reset = self.env.reset(seed.map(|s| s as u32 as u64));
        self.last_obs = Some(reset.obs.clone());
        (reset.obs, HashMap::new())
    }

    fn step(&mut self, action: E::Action) -> (E::Obs, gym::Reward, bool, bool, gym::Info) {
        match self.env.step(action) {
            Ok(step) => {
                self.last_obs = Some(step.obs.clone());
                let mut info = HashMap::new();
                if let Some(p) = step.info.prob {
                    info.insert("prob".to_string(), p.into());
                }
                (
                    step.obs,
                    step.reward as f32,
                    step.terminated,
                    step.truncated,
                    info,
                )
            }
            Err(e) => {
                let mut info = HashMap::new();
                info.insert("error".to_string(), e.to_string().into());
                let obs = self.last_obs.clone().unwrap_or_default();
                (obs, 0.0, false, true, info)
            }
        }
    }

    fn render(&self) -> Option<ndarray::Array3<u8>> {
        to_gym_frame(self.env.render_rgb())
    }

    fn close(&mut self) {}
}

/// An env written against `gymnasium-rs`'s trait, seen as a qlab [`Env`].
///
/// Actions are checked against the action space when it is discrete (actions convert to
/// `i64` for that); stepping before a reset or after the end is an error, as for every qlab
/// env. The `gymnasium-rs` trait takes an `i32` seed: a qlab seed is truncated to its low 32
/// bits.
pub struct FromGymnasium<G, O, A> {
    env: G,
    observation_space: Space,
    action_space: Space,
    name: String,
    last_obs: Option<O>,
    ended: bool,
    _action: std::marker::PhantomData<A>,
}

impl<G: gym::Env<O, A>, O, A> FromGymnasium<G, O, A> {
    /// Wraps `env`; `name` is used in messages.
    pub fn new(env: G, name: impl Into<String>) -> Self {
        let observation_space = from_gym_space(&env.observation_space());
        let action_space = from_gym_space(&env.action_space());
        Self {
            env,
            observation_space,
            action_space,
            name: name.into(),
            last_obs: None,
            ended: true,
            _action: std::marker::PhantomData,
        }
    }

    /// The wrapped env.
    pub fn inner(&self) -> &G {
        &self.env
    }
}

impl<G, O, A> Env for FromGymnasium<G, O, A>
where
    G: gym::Env<O, A>,
    O: Clone + fmt::Debug,
    A: Copy + fmt::Debug + Into<i64>,
{
    type Obs = O;
    type Action = A;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<O> {
        let (obs, _) = self
            .env
            .reset(seed.map(|s| s as u32 as i32), HashMap::new());
        self.last_obs = Some(obs.clone());
        self.ended = false;
        Reset {
            obs,
            info: Info::default(),
        }
    }

    fn step(&mut self, action: A) -> Result<Step<O>> {
        if self.last_obs.is_none() {
            return Err(Error::NotReset);
        }
        if self.ended {
            return Err(Error::EpisodeEnded);
        }
        if let Space::Discrete(d) = &self.action_space {
            let a: i64 = action.into();
            if a < 0 || a as u64 >= d.n as u64 {
                return Err(Error::InvalidAction {
                    action: format!("{action:?}"),
                    space: self.action_space.to_string(),
                });
            }
        }
        let (obs, reward, terminated, truncated, _) = self.env.step(action);
        self.last_obs = Some(obs.clone());
        self.ended = terminated || truncated;
        Ok(Step {
            obs,
            reward: reward as f64,
            terminated,
            truncated,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        format!("{}: {:?}", self.name, self.last_obs)
    }

    fn render_rgb(&self) -> Frame {
        match self.env.render() {
            Some(img) if img.ndim() == 3 && img.shape()[2] == 3 => {
                let (h, w) = (img.shape()[0], img.shape()[1]);
                Frame {
                    height: h,
                    width: w,
                    data: img.iter().copied().collect(),
                }
            }
            // The wrapped env draws nothing: a blank frame keeps every qlab env renderable.
            _ => Frame::filled(1, 1, [255, 255, 255]),
        }
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gymnasium_rs::envs::cartpole::CartPole as GymCartPole;

    #[test]
    fn foreign_env_follows_the_qlab_contract() {
        let mut env = FromGymnasium::new(GymCartPole::new(), "gymnasium-rs CartPole");
        assert!(matches!(env.step(0), Err(Error::NotReset)));
        assert_eq!(env.action_space(), &Space::discrete(2));
        let reset = env.reset(Some(1));
        assert!(
            env.observation_space()
                .as_box()
                .unwrap()
                .contains(reset.obs.as_slice().unwrap())
        );
        let err = env.step(2).unwrap_err().to_string();
        assert!(
            err.contains("invalid action 2") && err.contains("Discrete(2)"),
            "{err}"
        );
        // Always pushing right topples the pole; after that, stepping is an error.
        let mut steps = 0;
        while !env.step(1).unwrap().done() {
            steps += 1;
            assert!(steps < 500, "pole never fell");
        }
        assert!(matches!(env.step(1), Err(Error::EpisodeEnded)));
    }

    #[test]
    fn spaces_round_trip() {
        let b: Space = BoxSpace::from_bounds(vec![-1.0, f32::NEG_INFINITY], vec![1.0, 2.0]).into();
        assert_eq!(from_gym_space(&to_gym_space(&b)), b);
        let d = Space::discrete(5);
        assert_eq!(from_gym_space(&to_gym_space(&d)), d);
    }
}
