//! Drive an underpowered car up a hill — Gymnasium's `MountainCar-v0` ([`MountainCar`],
//! three discrete pushes) and `MountainCarContinuous-v0` ([`MountainCarContinuous`], a force
//! in `[-1, 1]`), step for step.
//!
//! Both share the valley, its constants, the start distribution, [`MountainCarConfig`] and
//! the picture; they differ in the action, the goal position, the reward and the arithmetic
//! (see each type).

mod continuous;
mod discrete;
mod render;
#[cfg(test)]
mod tests;

pub use continuous::MountainCarContinuous;
pub use discrete::MountainCar;

use crate::params::invalid;
use crate::{BoxSpace, EnvRng, Error, Params, Result, Space};

/// The id [`MountainCar`] is registered under.
pub const MOUNTAIN_CAR_ID: &str = "MountainCar-v0";

/// The id [`MountainCarContinuous`] is registered under.
pub const MOUNTAIN_CAR_CONTINUOUS_ID: &str = "MountainCarContinuous-v0";

/// The registry's time limit for `MountainCar-v0`, in steps (Gymnasium's).
pub const MAX_EPISODE_STEPS: u64 = 200;

/// The registry's time limit for `MountainCarContinuous-v0`, in steps (Gymnasium's).
pub const CONTINUOUS_MAX_EPISODE_STEPS: u64 = 999;

// Constants of Gymnasium `classic_control/mountain_car.py` and `continuous_mountain_car.py`
// (Moore 1990). Positions and velocities are in the env's own units: position along the
// valley, velocity in position per step.

/// The left end of the valley: the car stops against it (its velocity, if leftward, set to 0).
pub const MIN_POSITION: f64 = -1.2;
/// The right end of the valley: the position is clipped to it, the velocity kept.
pub const MAX_POSITION: f64 = 0.6;
/// The largest speed: the velocity is clipped to `[-MAX_SPEED, MAX_SPEED]` each step.
pub const MAX_SPEED: f64 = 0.07;
/// Where `MountainCar-v0`'s goal begins: reaching `position ≥ GOAL_POSITION` (at a velocity
/// of at least `goal_velocity`) terminates.
pub const GOAL_POSITION: f64 = 0.5;
/// Where `MountainCarContinuous-v0`'s goal begins (0.45, nearer than the discrete task's).
pub const CONTINUOUS_GOAL_POSITION: f64 = 0.45;
/// The velocity change of a discrete push, per step.
pub const FORCE: f64 = 0.001;
/// The pull of the slope: a step changes the velocity by `-GRAVITY · cos(3 · position)`.
pub const GRAVITY: f64 = 0.0025;
/// The velocity change of a continuous force of 1, per step.
pub const POWER: f64 = 0.0015;
/// The start position is uniform in `[RESET_LOW, RESET_HIGH)`, at velocity 0.
pub const RESET_LOW: f64 = -0.6;
/// The upper end of the start interval (exclusive).
pub const RESET_HIGH: f64 = -0.4;

/// Parameter keys [`MountainCarConfig::apply_params`] takes.
const ALLOWED: &[&str] = &["goal_velocity", "max_episode_steps"];

/// The settings of [`MountainCar`] and [`MountainCarContinuous`].
///
/// | field | default | valid range | parameter key |
/// |---|---|---|---|
/// | `goal_velocity` | `0.0` | any finite number | `goal_velocity` |
/// | `max_episode_steps` | `200` (`MountainCar-v0`), `999` (`MountainCarContinuous-v0`) | `≥ 1` | `max_episode_steps` |
///
/// ```
/// use qlab_envs::mountain_car::{MountainCarConfig, MOUNTAIN_CAR_ID};
/// use qlab_envs::{ParamValue, Params};
/// # fn main() -> qlab_envs::Result<()> {
/// let mut config = MountainCarConfig::default();
/// config.apply_params(MOUNTAIN_CAR_ID, &Params::new().with("goal_velocity", ParamValue::Float(0.02)))?;
/// assert_eq!(config.goal_velocity, 0.02);
/// assert_eq!(config.max_episode_steps, 200);
/// assert_eq!(MountainCarConfig::continuous().max_episode_steps, 999);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct MountainCarConfig {
    /// The least velocity at which reaching the goal position terminates (Gymnasium's
    /// `goal_velocity`). Default 0; finite. Above [`MAX_SPEED`] the goal is unreachable.
    pub goal_velocity: f64,
    /// The step after which the registry's [`TimeLimit`](crate::wrappers::TimeLimit)
    /// truncates an episode. Default [`MAX_EPISODE_STEPS`] (200) here and
    /// [`CONTINUOUS_MAX_EPISODE_STEPS`] (999) from [`continuous`](Self::continuous); at
    /// least 1. The envs themselves never truncate.
    pub max_episode_steps: u64,
}

impl Default for MountainCarConfig {
    /// `MountainCar-v0`'s settings: `goal_velocity` 0, 200 steps.
    fn default() -> Self {
        Self {
            goal_velocity: 0.0,
            max_episode_steps: MAX_EPISODE_STEPS,
        }
    }
}

impl MountainCarConfig {
    /// `MountainCarContinuous-v0`'s settings: `goal_velocity` 0, 999 steps.
    pub fn continuous() -> Self {
        Self {
            goal_velocity: 0.0,
            max_episode_steps: CONTINUOUS_MAX_EPISODE_STEPS,
        }
    }

    /// Overrides fields from named parameters (keys as in the table on the type).
    ///
    /// Unknown keys are [`Error::UnknownParam`]; a value of the wrong type or out of range is
    /// [`Error::InvalidParam`] naming the key, the value and what is allowed. On error `self`
    /// is left unchanged.
    pub fn apply_params(&mut self, id: &str, params: &Params) -> Result<()> {
        params.check_keys(id, ALLOWED)?;
        let mut next = *self;
        if let Some(v) = params.get("goal_velocity") {
            match params.f64("goal_velocity")? {
                Some(g) if g.is_finite() => next.goal_velocity = g,
                _ => return Err(invalid("goal_velocity", v, "a finite number")),
            }
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

impl Phase {
    /// `Ok` when a step may be taken.
    #[inline]
    fn check_running(self) -> Result<()> {
        match self {
            Phase::Running => Ok(()),
            Phase::NotReset => Err(Error::NotReset),
            Phase::Ended => Err(Error::EpisodeEnded),
        }
    }
}

/// `Box([-1.2, -0.07], [0.6, 0.07], (2,), float32)`.
fn observation_space() -> Space {
    let low = [MIN_POSITION as f32, -MAX_SPEED as f32];
    let high = [MAX_POSITION as f32, MAX_SPEED as f32];
    BoxSpace::from_bounds(low.to_vec(), high.to_vec()).into()
}

/// A start position: uniform in `[-0.6, -0.4)`, as NumPy's `uniform` computes it
/// (`low + (high − low)·u`).
fn draw_start(rng: &mut EnvRng) -> f64 {
    RESET_LOW + (RESET_HIGH - RESET_LOW) * rng.next_f64()
}

/// Checks a state for `set_state`: `[position, velocity]`, finite, the position in
/// `[-1.2, 0.6]` and the speed at most 0.07 (the states the car can be in).
fn check_state(id: &str, state: &[f64]) -> Result<[f64; 2]> {
    let ok = |&[p, v]: &[f64; 2]| {
        (MIN_POSITION..=MAX_POSITION).contains(&p) && (-MAX_SPEED..=MAX_SPEED).contains(&v)
    };
    match <[f64; 2]>::try_from(state) {
        Ok(s) if ok(&s) => Ok(s),
        _ => Err(Error::InvalidState {
            message: format!(
                "{id} takes 2 finite values [position, velocity] with position in \
                 [{MIN_POSITION}, {MAX_POSITION}] and velocity in [-{MAX_SPEED}, {MAX_SPEED}], \
                 got {state:?}"
            ),
        }),
    }
}

/// The error of `set_state` before the first reset.
fn not_reset(id: &str) -> Error {
    Error::InvalidState {
        message: format!("{id} takes a state only after reset"),
    }
}
