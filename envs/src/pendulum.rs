//! [`Pendulum`]: swing a pendulum up and hold it upright with a bounded torque — Gymnasium's
//! `Pendulum-v1`, step for step.

use std::f64::consts::PI;

use rand::SeedableRng;

use crate::numpy::{square, square_f32};
use crate::params::invalid;
use crate::{
    BoxSpace, Env, EnvRng, Error, Frame, Info, ParamValue, Params, Reset, Result, Space, Step,
    clip_box_action,
};

/// The id [`Pendulum`] is registered under.
pub const PENDULUM_ID: &str = "Pendulum-v1";

/// The registry's time limit for `Pendulum-v1`, in steps (Gymnasium's `max_episode_steps`).
pub const MAX_EPISODE_STEPS: u64 = 200;

/// The largest torque, N·m: the action box is `[-MAX_TORQUE, MAX_TORQUE]`.
pub const MAX_TORQUE: f32 = 2.0;

/// The angular velocity is clipped to `[-MAX_SPEED, MAX_SPEED]`, rad/s.
pub const MAX_SPEED: f64 = 8.0;

/// Time one step lasts, s.
pub const DT: f64 = 0.05;

/// The largest `g` taken, m/s²: forty times Jupiter's, and small enough that every state
/// stays finite.
pub const G_LIMIT: f64 = 1000.0;

/// Mass of the pendulum, kg.
const MASS: f64 = 1.0;
/// Length of the pendulum, m.
const LENGTH: f64 = 1.0;

/// Parameter keys [`PendulumConfig::apply_params`] takes.
const ALLOWED: &[&str] = &["g", "max_episode_steps"];

/// The settings of [`Pendulum`].
///
/// | field | default | valid range | parameter key |
/// |---|---|---|---|
/// | `g` | `10.0` | finite, in `[0, 1000]` | `g` |
/// | `max_episode_steps` | `200` | `≥ 1` | `max_episode_steps` |
///
/// ```
/// use qlab_envs::pendulum::PendulumConfig;
/// use qlab_envs::{ParamValue, Params};
/// # fn main() -> qlab_envs::Result<()> {
/// let mut config = PendulumConfig::default();
/// config.apply_params("Pendulum-v1", &Params::new().with("g", ParamValue::Float(9.81)))?;
/// assert_eq!(config.g, 9.81);
/// let bad = Params::new().with("g", ParamValue::Float(-1.0));
/// assert!(config.apply_params("Pendulum-v1", &bad).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct PendulumConfig {
    /// Gravitational acceleration, m/s². Default 10.0, as Gymnasium's `g`; finite, in
    /// `[0, 1000]`.
    pub g: f64,
    /// The step after which the registry's [`TimeLimit`](crate::wrappers::TimeLimit)
    /// truncates an episode. Default 200, as `Pendulum-v1`; at least 1. The env itself never
    /// truncates.
    pub max_episode_steps: u64,
}

impl Default for PendulumConfig {
    fn default() -> Self {
        Self {
            g: 10.0,
            max_episode_steps: MAX_EPISODE_STEPS,
        }
    }
}

impl PendulumConfig {
    /// Overrides fields from named parameters (keys as in the table on the type).
    ///
    /// Unknown keys are [`Error::UnknownParam`]; a value of the wrong type or out of range is
    /// [`Error::InvalidParam`] naming the key, the value and what is allowed. On error `self`
    /// is left unchanged.
    pub fn apply_params(&mut self, id: &str, params: &Params) -> Result<()> {
        params.check_keys(id, ALLOWED)?;
        let mut next = self.clone();
        if let Some(g) = params.f64("g")? {
            if !(0.0..=G_LIMIT).contains(&g) {
                return Err(invalid(
                    "g",
                    &ParamValue::Float(g),
                    &format!("a finite number in [0, {G_LIMIT}]"),
                ));
            }
            next.g = g;
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

/// Whether an episode has started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotReset,
    Running,
}

/// Swing a pendulum up and hold it upright with a bounded torque — Gymnasium's
/// `Pendulum-v1`.
///
/// # Description
/// A rod of 1 m and 1 kg turns about a fixed pivot at one end; the agent applies a torque at
/// the pivot. The pendulum starts at a random angle with a small random velocity, and the
/// goal is to bring it upright and keep it there; the torque alone is too weak to lift it
/// straight up, so it must be swung. Each step of [`DT`] = 0.05 s updates the velocity first,
/// `θ̇ ← clip(θ̇ + (3g/(2l)·sin θ + 3/(ml²)·u)·DT, ±8)`, from the old angle, and then the
/// angle with the new velocity, `θ ← θ + θ̇·DT`. The angle is never wrapped. The arithmetic
/// is Gymnasium's, in `f64` except where Gymnasium computes in `float32` (the torque terms,
/// `3·u` and `0.001·u²`, where `u` is the `float32` action). Given the same state and
/// actions, the reference trajectories recorded with gymnasium 1.4's `Pendulum-v1` (see the
/// tests) are reproduced.
///
/// # Action space
/// `Box(-2, 2, (1,), float32)`: the torque `u`, N·m, positive counter-clockwise. A finite
/// torque past ±2 is clipped to ±2, as Gymnasium clips it ([`Env::clips_actions`]); NaN or
/// infinity is [`Error::InvalidAction`] and changes nothing.
///
/// # Observation space
/// `Box([-1, -1, -8], [1, 1, 8], (3,), float32)`: the free end's position and the velocity,
/// rounded to `f32`.
///
/// | index | meaning | min | max |
/// |---|---|---|---|
/// | 0 | `x = cos θ` | −1 | 1 |
/// | 1 | `y = sin θ` | −1 | 1 |
/// | 2 | `θ̇`, rad/s | −8 | 8 |
///
/// `θ = 0` is upright.
///
/// # Rewards
/// `−(θₙ² + 0.1·θ̇² + 0.001·u²)` of the state before the step and the torque applied, where
/// `θₙ` is the angle normalized into `[-π, π)`: 0 upright at rest without torque, at least
/// `−(π² + 0.1·8² + 0.001·2²) ≈ −16.27`.
///
/// # Starting state
/// `θ` uniform in `[-π, π)`, `θ̇` uniform in `[-1, 1)`.
///
/// # Episode end
/// - Termination: never.
/// - Truncation: never by the env itself; [`make`](crate::make) wraps it in a
///   [`TimeLimit`](crate::wrappers::TimeLimit) of `max_episode_steps` (200).
///
/// # Parameters
/// See [`PendulumConfig`]: `g`, `max_episode_steps`.
///
/// # Version notes
/// Matches Gymnasium 1.4's `Pendulum-v1` (v1 simplified v0's equations without changing its
/// behaviour). Differences: the start state is drawn from qlab's [`EnvRng`], not NumPy's
/// generator, so a seed gives a different (equally distributed) start state than Gymnasium;
/// the reset bounds are fixed (Gymnasium takes them as `reset` options).
///
/// ```
/// use qlab_envs::pendulum::{Pendulum, PendulumConfig};
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = Pendulum::new(PendulumConfig::default());
/// env.reset(Some(0));
/// env.set_state(&[0.0, 0.0])?; // upright at rest: it stays, and costs nothing
/// let step = env.step([0.0])?;
/// assert_eq!((step.obs, step.reward), ([1.0, 0.0, 0.0], -0.0));
/// assert!(env.step([f32::NAN]).is_err()); // not a torque: refused, nothing moves
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Pendulum {
    config: PendulumConfig,
    /// `[θ, θ̇]`, rad and rad/s.
    state: [f64; 2],
    phase: Phase,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Pendulum {
    /// A pendulum with the given settings. Call [`reset`](Env::reset) before stepping.
    pub fn new(config: PendulumConfig) -> Self {
        let high = [1.0, 1.0, MAX_SPEED as f32];
        Self {
            config,
            state: [0.0; 2],
            phase: Phase::NotReset,
            rng: None,
            observation_space: BoxSpace::from_bounds(high.map(|h| -h).to_vec(), high.to_vec())
                .into(),
            action_space: BoxSpace::uniform(-MAX_TORQUE, MAX_TORQUE, vec![1]).into(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &PendulumConfig {
        &self.config
    }

    /// The full-precision state `[θ, θ̇]` (zeros before the first reset).
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    fn observe(&self) -> [f32; 3] {
        let [theta, theta_dot] = self.state;
        [theta.cos() as f32, theta.sin() as f32, theta_dot as f32]
    }
}

/// `x` moved into `[-π, π)` by whole turns: `((x + π) mod 2π) − π` with a floored modulo, as
/// NumPy's `%` (the remainder takes the sign of `2π`, and a zero remainder is `+0`).
#[inline]
pub fn angle_normalize(x: f64) -> f64 {
    let period = 2.0 * PI;
    let r = (x + PI) % period;
    let r = if r == 0.0 {
        0.0
    } else if r < 0.0 {
        r + period
    } else {
        r
    };
    r - PI
}

impl Env for Pendulum {
    type Obs = [f32; 3];
    type Action = [f32; 1];

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<[f32; 3]> {
        if let Some(seed) = seed {
            self.rng = Some(EnvRng::seed_from_u64(seed));
        }
        let rng = self.rng.get_or_insert_with(EnvRng::from_os_entropy);
        // NumPy's `uniform(low=[-π, -1], high=[π, 1])`: `low + (high − low)·u`, in order.
        let theta = -PI + (PI - -PI) * rng.next_f64();
        let theta_dot = -1.0 + (1.0 - -1.0) * rng.next_f64();
        self.state = [theta, theta_dot];
        self.phase = Phase::Running;
        Reset {
            obs: self.observe(),
            info: Info::default(),
        }
    }

    #[inline]
    fn step(&mut self, action: [f32; 1]) -> Result<Step<[f32; 3]>> {
        if self.phase == Phase::NotReset {
            return Err(Error::NotReset);
        }
        // Gymnasium clips the torque to ±2 before using it (NaN and infinity are refused).
        let [u] = clip_box_action(action, &self.action_space)?;
        let [th, thdot] = self.state;
        let g = self.config.g;
        // Gymnasium computes the torque terms in float32: `u` is the float32 action, and the
        // Python floats 0.001 and 3.0 take its type. Its squares are NumPy's `x**2`.
        let torque_cost = (0.001_f64 as f32) * square_f32(u);
        let torque_acc = (3.0 / (MASS * (LENGTH * LENGTH))) as f32 * u;
        let costs = square(angle_normalize(th)) + 0.1 * square(thdot) + f64::from(torque_cost);
        let newthdot = thdot + (3.0 * g / (2.0 * LENGTH) * th.sin() + f64::from(torque_acc)) * DT;
        let newthdot = newthdot.clamp(-MAX_SPEED, MAX_SPEED);
        let newth = th + newthdot * DT;
        self.state = [newth, newthdot];
        Ok(Step {
            obs: self.observe(),
            reward: -costs,
            terminated: false,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        let [theta, theta_dot] = self.state;
        format!(
            "theta={theta:+.3} (normalized {:+.3}, 0 upright) theta_dot={theta_dot:+.3}",
            angle_normalize(theta)
        )
    }

    fn render_rgb(&self) -> Frame {
        // Gymnasium's picture at 200×200: the pivot in the centre, the rod red, pointing up
        // at θ = 0 and turning counter-clockwise as θ grows.
        const SIZE: i64 = 200;
        let centre = SIZE as f64 / 2.0;
        let length = SIZE as f64 / 2.2;
        let mut frame = Frame::filled(SIZE as usize, SIZE as usize, [255, 255, 255]);
        let theta = self.state[0];
        let (tip_y, tip_x) = (centre - length * theta.cos(), centre - length * theta.sin());
        let steps = length.ceil() as i64;
        for i in 0..=steps {
            let f = i as f64 / steps as f64;
            let y = (centre + f * (tip_y - centre)).round() as i64;
            let x = (centre + f * (tip_x - centre)).round() as i64;
            frame.fill_rect(y - 4, x - 4, y + 5, x + 5, [204, 77, 77]);
        }
        let c = centre as i64;
        frame.fill_rect(c - 2, c - 2, c + 3, c + 3, [0, 0, 0]);
        frame
    }

    fn name(&self) -> String {
        PENDULUM_ID.to_string()
    }

    /// Sets `[θ, θ̇]` after a reset, as assigning Gymnasium's `env.unwrapped.state`: `θ`
    /// finite (any number of turns), `|θ̇| ≤ 8`.
    fn set_state(&mut self, state: &[f64]) -> Result<[f32; 3]> {
        match state {
            &[theta, theta_dot] if theta.is_finite() && theta_dot.abs() <= MAX_SPEED => {}
            _ => {
                return Err(Error::InvalidState {
                    message: format!(
                        "{PENDULUM_ID} takes 2 values [theta, theta_dot], theta finite and \
                         |theta_dot| ≤ {MAX_SPEED}, got {state:?}"
                    ),
                });
            }
        }
        if self.phase == Phase::NotReset {
            return Err(Error::InvalidState {
                message: format!("{PENDULUM_ID} takes a state only after reset"),
            });
        }
        self.state = [state[0], state[1]];
        Ok(self.observe())
    }

    /// `None` until the env has a stream: one never reset has none yet (its first unseeded
    /// reset draws one from the OS). After any reset, `Some`: the start state of each
    /// episode is drawn from it, and nothing else is random.
    fn clips_actions(&self) -> bool {
        true
    }

    fn rng_state(&self) -> Option<[u64; 4]> {
        self.rng.as_ref().map(EnvRng::state)
    }

    /// Gives the env this stream, also before its first reset: the next unseeded reset draws
    /// its start state from it.
    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = Some(crate::rng::restore(state, PENDULUM_ID)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
