//! [`CartPoleNoVelocity`]: [`CartPole`] with the velocities hidden.

use super::{CartPole, CartPoleConfig, THETA_THRESHOLD, X_THRESHOLD, reward};
use crate::wrappers::{Wrapper, inner_env_in};
use crate::{BoxSpace, Info, Reset, Result, Space, Step};

/// [`CartPole`] with the two velocities hidden: the observation is `[x, theta]` only.
///
/// # Description
/// The partially observable cart-pole used to test memory-based agents (RL Zoo's
/// `CartPoleNoVel-v1`, Stable-Baselines3's benchmark for recurrent PPO). Dynamics, rewards,
/// starting state and episode end are [`CartPole`]'s; an agent must infer the velocities from
/// successive observations.
///
/// # Action space
/// `Discrete(2)`: `0` pushes the cart to the left, `1` to the right.
///
/// # Observation space
/// `Box([-4.8, -0.41887903], [4.8, 0.41887903], (2,), float32)`.
///
/// | index | meaning | min | max |
/// |---|---|---|---|
/// | 0 | cart position `x`, m | −4.8 | 4.8 |
/// | 1 | pole angle `theta`, rad | ≈ −0.419 (−24°) | ≈ 0.419 (24°) |
///
/// # Rewards
/// As [`CartPole`]: +1 per step, or 0 per step and −1 on termination with
/// `sutton_barto_reward`.
///
/// # Starting state
/// As [`CartPole`]: each of the four hidden state values uniform in
/// `[reset_low, reset_high)`.
///
/// # Episode end
/// As [`CartPole`]: termination past 2.4 m or 12°; truncation by the registry's
/// [`TimeLimit`](crate::wrappers::TimeLimit) at `max_episode_steps` (500).
///
/// # Parameters
/// [`CartPoleConfig`], as [`CartPole`].
///
/// # Version notes
/// RL Zoo builds this as a wrapper that zeroes the velocities in a 4-value observation; here the
/// observation has two values. [`set_state`](crate::Env::set_state) still takes all four.
#[derive(Clone, Debug)]
pub struct CartPoleNoVelocity {
    inner: CartPole,
    observation_space: Space,
}

impl CartPoleNoVelocity {
    /// The velocity-free cart-pole with the given settings.
    pub fn new(config: CartPoleConfig) -> Self {
        let high = [(X_THRESHOLD * 2.0) as f32, (THETA_THRESHOLD * 2.0) as f32];
        Self {
            inner: CartPole::new(config),
            observation_space: BoxSpace::from_bounds(high.map(|h| -h).to_vec(), high.to_vec())
                .into(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &CartPoleConfig {
        self.inner.config()
    }

    /// The full state `[x, x_dot, theta, theta_dot]`, velocities included.
    pub fn state(&self) -> [f64; 4] {
        self.inner.state()
    }
}

impl Wrapper for CartPoleNoVelocity {
    type Inner = CartPole;
    type Obs = [f32; 2];

    inner_env_in!(inner);

    fn observation_space(this: &Self) -> &Space {
        &this.observation_space
    }

    /// `[x, theta]` of CartPole's `[x, x_dot, theta, theta_dot]`.
    #[inline(always)]
    fn observation(_: &mut Self, obs: [f32; 4]) -> [f32; 2] {
        [obs[0], obs[2]]
    }

    // CartPole's reset and step without building its four-value observation.
    fn reset(this: &mut Self, seed: Option<u64>) -> Reset<[f32; 2]> {
        this.inner.reset_state(seed);
        Reset {
            obs: hide_velocities(&this.inner.state),
            info: Info::default(),
        }
    }

    #[inline]
    fn step(this: &mut Self, action: usize) -> Result<Step<[f32; 2]>> {
        let terminated = this.inner.step_state(action)?;
        Ok(Step {
            obs: hide_velocities(&this.inner.state),
            reward: reward(terminated, this.inner.config.sutton_barto_reward),
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }

    fn name(_: &Self) -> String {
        "CartPoleNoVelocity-v1".to_string()
    }

    /// As [`CartPole`]'s, naming this env in the error.
    fn set_rng_state(this: &mut Self, state: [u64; 4]) -> Result<()> {
        this.inner.rng = Some(crate::rng::restore(state, &Self::name(this))?);
        Ok(())
    }
}

#[inline(always)]
fn hide_velocities(s: &[f64; 4]) -> [f32; 2] {
    [s[0] as f32, s[2] as f32]
}
