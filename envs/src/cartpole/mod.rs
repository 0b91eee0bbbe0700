//! [`CartPole`]: balance a pole on a cart — Gymnasium's `CartPole-v1`, step for step — and
//! [`CartPoleNoVelocity`], the same task with the velocities hidden.

mod dynamics;
mod no_velocity;
mod render;
#[cfg(test)]
mod tests;

pub(crate) use dynamics::*;
pub use dynamics::{THETA_THRESHOLD, X_THRESHOLD};
pub use no_velocity::CartPoleNoVelocity;
use render::{ansi, draw};

use crate::params::invalid;
use crate::{
    BoxSpace, Env, EnvRng, Error, Frame, Info, ParamValue, Params, Reset, Result, Space, Step,
    check_discrete_action,
};
use rand::SeedableRng;

/// Parameter keys [`CartPoleConfig::apply_params`] takes.
const ALLOWED: &[&str] = &[
    "kinematics_integrator",
    "sutton_barto_reward",
    "reset_low",
    "reset_high",
    "max_episode_steps",
];

/// The values `kinematics_integrator` takes.
const INTEGRATORS: &[&str] = &["euler", "semi_implicit_euler"];

/// The largest magnitude allowed for the reset bounds: every start state then lies strictly
/// inside the termination thresholds, and observations stay inside the observation space.
const RESET_BOUND_LIMIT: f64 = 0.2;

/// How the equations of motion are advanced by one time step of `TAU` seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum KinematicsIntegrator {
    /// Explicit Euler: positions advance with the old velocities (Gymnasium's default,
    /// `"euler"`).
    #[default]
    Euler,
    /// Semi-implicit (symplectic) Euler: velocities first, then positions with the new
    /// velocities (`"semi_implicit_euler"`; Gymnasium takes any value other than `"euler"` as
    /// this).
    SemiImplicitEuler,
}

impl KinematicsIntegrator {
    /// The parameter value naming this integrator.
    pub fn as_str(self) -> &'static str {
        match self {
            KinematicsIntegrator::Euler => "euler",
            KinematicsIntegrator::SemiImplicitEuler => "semi_implicit_euler",
        }
    }
}

/// The settings of [`CartPole`] and [`CartPoleNoVelocity`].
///
/// | field | default | valid range | parameter key |
/// |---|---|---|---|
/// | `kinematics_integrator` | `Euler` | `Euler`, `SemiImplicitEuler` | `kinematics_integrator` (`"euler"`, `"semi_implicit_euler"`) |
/// | `sutton_barto_reward` | `false` | `true`, `false` | `sutton_barto_reward` |
/// | `reset_low` | `-0.05` | `[-0.2, reset_high]` | `reset_low` |
/// | `reset_high` | `0.05` | `[reset_low, 0.2]` | `reset_high` |
/// | `max_episode_steps` | `500` | `≥ 1` | `max_episode_steps` |
///
/// ```
/// use qlab_envs::cartpole::{CartPoleConfig, KinematicsIntegrator};
/// use qlab_envs::{ParamValue, Params};
/// # fn main() -> qlab_envs::Result<()> {
/// let mut config = CartPoleConfig::default();
/// let params = Params::new()
///     .with("kinematics_integrator", ParamValue::Str("semi_implicit_euler".into()))
///     .with("reset_high", ParamValue::Float(0.1));
/// config.apply_params("CartPole-v1", &params)?;
/// assert_eq!(config.kinematics_integrator, KinematicsIntegrator::SemiImplicitEuler);
/// assert_eq!(config.reset_high, 0.1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct CartPoleConfig {
    /// How the state is advanced each step. Default [`KinematicsIntegrator::Euler`], as in
    /// Gymnasium.
    pub kinematics_integrator: KinematicsIntegrator,
    /// Sutton & Barto's reward: 0 on every step, −1 on the step that terminates. Default
    /// `false`: +1 on every step, the terminating one included.
    pub sutton_barto_reward: bool,
    /// Lower bound of the uniform draw of each of the four start-state values. Default −0.05;
    /// finite, in `[-0.2, reset_high]`.
    pub reset_low: f64,
    /// Upper bound of the uniform draw of each of the four start-state values. Default 0.05;
    /// finite, in `[reset_low, 0.2]`.
    pub reset_high: f64,
    /// The step after which the registry's [`TimeLimit`](crate::wrappers::TimeLimit)
    /// truncates an episode (and [`CartPoleBatch`](crate::batched_cartpole::CartPoleBatch)
    /// truncates its own). Default 500, as `CartPole-v1`; at least 1. The env itself never
    /// truncates.
    pub max_episode_steps: u64,
}

impl Default for CartPoleConfig {
    fn default() -> Self {
        Self {
            kinematics_integrator: KinematicsIntegrator::Euler,
            sutton_barto_reward: false,
            reset_low: -0.05,
            reset_high: 0.05,
            max_episode_steps: 500,
        }
    }
}

impl CartPoleConfig {
    /// Overrides fields from named parameters (keys as in the table on the type).
    ///
    /// Unknown keys are [`Error::UnknownParam`]; a value of the wrong type or out of range is
    /// [`Error::InvalidParam`] naming the key, the value and what is allowed. On error `self`
    /// is left unchanged.
    pub fn apply_params(&mut self, id: &str, params: &Params) -> Result<()> {
        params.check_keys(id, ALLOWED)?;
        let mut next = self.clone();
        if let Some(name) = params.choice("kinematics_integrator", INTEGRATORS)? {
            next.kinematics_integrator = if name == "euler" {
                KinematicsIntegrator::Euler
            } else {
                KinematicsIntegrator::SemiImplicitEuler
            };
        }
        if let Some(b) = params.bool("sutton_barto_reward")? {
            next.sutton_barto_reward = b;
        }
        let bound_range = format!(
            "a finite number in [{}, {}]",
            -RESET_BOUND_LIMIT, RESET_BOUND_LIMIT
        );
        for key in ["reset_low", "reset_high"] {
            if let Some(v) = params.f64(key)? {
                if !(v.is_finite() && (-RESET_BOUND_LIMIT..=RESET_BOUND_LIMIT).contains(&v)) {
                    return Err(invalid(key, &ParamValue::Float(v), &bound_range));
                }
                if key == "reset_low" {
                    next.reset_low = v;
                } else {
                    next.reset_high = v;
                }
            }
        }
        if next.reset_low > next.reset_high {
            // Blame whichever bound was given; with both given, the lower one.
            let key = if params.get("reset_low").is_some() {
                "reset_low"
            } else {
                "reset_high"
            };
            let value = if key == "reset_low" {
                next.reset_low
            } else {
                next.reset_high
            };
            return Err(invalid(
                key,
                &ParamValue::Float(value),
                &format!(
                    "reset_low ≤ reset_high (reset_low = {}, reset_high = {})",
                    next.reset_low, next.reset_high
                ),
            ));
        }
        if let Some(v) = params.get("max_episode_steps") {
            match params.usize("max_episode_steps")? {
                Some(n) if n >= 1 => next.max_episode_steps = n as u64,
                _ => return Err(invalid("max_episode_steps", v, "an integer ≥ 1")),
            }
        }
        *self = next;
        Ok(())
    }
}

/// Where an episode stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotReset,
    Running,
    Ended,
}

/// Balance a pole on a cart by pushing the cart left or right — Gymnasium's `CartPole-v1`.
///
/// # Description
/// A pole is hinged, unactuated, to a cart that moves without friction along a track (Barto,
/// Sutton & Anderson 1983). The pole starts almost upright; each step the agent pushes the
/// cart with a fixed force to the left or to the right, and the goal is to keep the pole up and
/// the cart on the track. The dynamics are Gymnasium's, computed in the same `f64` operations
/// in the same order; only the sine and cosine are qlab's own (polynomials within 1 ulp of the
/// correctly rounded values, so that a trajectory is the same on every platform). Given the
/// same state and actions, the observations of the reference trajectories recorded with
/// gymnasium 1.4's `CartPole-v1` (see the tests) are reproduced bit for bit.
///
/// # Action space
/// `Discrete(2)`: `0` pushes the cart to the left, `1` to the right, with a force of 10 N. How
/// much the push changes the cart's velocity depends on the pole's angle.
///
/// # Observation space
/// `Box([-4.8, -inf, -0.41887903, -inf], [4.8, inf, 0.41887903, inf], (4,), float32)`: the
/// `f64` state rounded to `f32`.
///
/// | index | meaning | min | max |
/// |---|---|---|---|
/// | 0 | cart position `x`, m | −4.8 | 4.8 |
/// | 1 | cart velocity `x_dot`, m/s | −inf | inf |
/// | 2 | pole angle `theta`, rad (0 upright, positive leaning right) | ≈ −0.419 (−24°) | ≈ 0.419 (24°) |
/// | 3 | pole angular velocity `theta_dot`, rad/s | −inf | inf |
///
/// The bounds on `x` and `theta` are twice the termination thresholds, so that the
/// observation of the terminating step still lies inside the box.
///
/// # Rewards
/// +1 for every step, the terminating step included, so the return is the episode's length
/// (500 at most under the time limit). With `sutton_barto_reward`, 0 for every step and −1 for
/// the step that terminates.
///
/// # Starting state
/// Each of the four state values is drawn uniformly from `[reset_low, reset_high)`, by default
/// `[-0.05, 0.05)`.
///
/// # Episode end
/// - Termination: the cart's position leaves `[-2.4, 2.4]` or the pole's angle leaves
///   `[-12°, 12°]` (strict inequalities, as in Gymnasium).
/// - Truncation: never by the env itself; [`make`](crate::make) wraps it in a
///   [`TimeLimit`](crate::wrappers::TimeLimit) of `max_episode_steps` (500).
///
/// # Parameters
/// See [`CartPoleConfig`]: `kinematics_integrator` (`"euler"` or `"semi_implicit_euler"`),
/// `sutton_barto_reward`, `reset_low`, `reset_high`, `max_episode_steps`.
///
/// # Version notes
/// Matches Gymnasium 1.4's `CartPole-v1` (v1: time limit 500, reward threshold 475; v0 had
/// 200 and 195). Differences: the start state is drawn from qlab's [`EnvRng`], not NumPy's
/// generator, so a seed gives a different (equally distributed) start state than Gymnasium;
/// stepping after termination is [`Error::EpisodeEnded`] where Gymnasium warns and continues;
/// reset bounds are parameters instead of `reset` options, and are limited to `[-0.2, 0.2]`;
/// the sine and cosine may differ from NumPy's in the last bit (see the description).
///
/// ```
/// use qlab_envs::cartpole::{CartPole, CartPoleConfig};
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = CartPole::new(CartPoleConfig::default());
/// let first = env.reset(Some(42));
/// assert!(first.obs.iter().all(|v| v.abs() < 0.05));
/// let mut steps = 0;
/// loop {
///     let step = env.step(1)?; // always push right: the pole falls within a few dozen steps
///     steps += 1;
///     if step.terminated {
///         break;
///     }
/// }
/// assert!(steps < 100);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CartPole {
    config: CartPoleConfig,
    state: [f64; 4],
    phase: Phase,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl CartPole {
    /// A cart-pole with the given settings. Call [`reset`](Env::reset) before stepping.
    pub fn new(config: CartPoleConfig) -> Self {
        let high = [
            (X_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
            (THETA_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
        ];
        Self {
            config,
            state: [0.0; 4],
            phase: Phase::NotReset,
            rng: None,
            observation_space: BoxSpace::from_bounds(high.map(|h| -h).to_vec(), high.to_vec())
                .into(),
            action_space: Space::discrete(2),
        }
    }

    /// The settings.
    pub fn config(&self) -> &CartPoleConfig {
        &self.config
    }

    /// The full-precision state `[x, x_dot, theta, theta_dot]` (zeros before the first reset).
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    fn step_state(&mut self, action: usize) -> Result<bool> {
        match self.phase {
            Phase::Running => {}
            Phase::NotReset => return Err(Error::NotReset),
            Phase::Ended => return Err(Error::EpisodeEnded),
        }
        check_discrete_action(action, &self.action_space)?;
        self.state = advance(
            self.state,
            action == 1,
            self.config.kinematics_integrator == KinematicsIntegrator::SemiImplicitEuler,
        );
        let terminated = is_terminal(self.state[0], self.state[2]);
        if terminated {
            self.phase = Phase::Ended;
        }
        Ok(terminated)
    }

    fn reset_state(&mut self, seed: Option<u64>) {
        if let Some(seed) = seed {
            self.rng = Some(EnvRng::seed_from_u64(seed));
        }
        let rng = self.rng.get_or_insert_with(EnvRng::from_os_entropy);
        let (low, high) = (self.config.reset_low, self.config.reset_high);
        self.state = std::array::from_fn(|_| draw_start(rng, low, high));
        self.phase = Phase::Running;
    }
}

impl Env for CartPole {
    type Obs = [f32; 4];
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<[f32; 4]> {
        self.reset_state(seed);
        Reset {
            obs: observe(&self.state),
            info: Info::default(),
        }
    }

    #[inline]
    fn step(&mut self, action: usize) -> Result<Step<[f32; 4]>> {
        let terminated = self.step_state(action)?;
        Ok(Step {
            obs: observe(&self.state),
            reward: reward(terminated, self.config.sutton_barto_reward),
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        ansi(&self.state)
    }

    fn render_rgb(&self) -> Frame {
        draw(&self.state)
    }

    fn name(&self) -> String {
        "CartPole-v1".to_string()
    }

    /// Sets `[x, x_dot, theta, theta_dot]` (four finite values) after a reset, as assigning
    /// Gymnasium's `env.unwrapped.state`. The episode's phase is unchanged: after a
    /// termination it is still over.
    fn set_state(&mut self, state: &[f64]) -> Result<[f32; 4]> {
        let s = check_state(state)?;
        if self.phase == Phase::NotReset {
            return Err(Error::InvalidState {
                message: "CartPole takes a state only after reset".into(),
            });
        }
        self.state = s;
        Ok(observe(&s))
    }

    /// `None` until the env has a stream: one never reset nor given a state has none yet (its
    /// first unseeded reset draws one from the OS). After any reset, `Some`: the start state
    /// of each episode is drawn from it, and nothing else is random.
    fn rng_state(&self) -> Option<[u64; 4]> {
        self.rng.as_ref().map(EnvRng::state)
    }

    /// Gives the env this stream, also before its first reset: the next unseeded reset draws
    /// its start state from it.
    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = Some(crate::rng::restore(state, &self.name())?);
        Ok(())
    }
}
