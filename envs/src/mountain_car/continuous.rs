//! [`MountainCarContinuous`]: Gymnasium's `MountainCarContinuous-v0`.

use rand::SeedableRng;

use super::render::{ansi, draw};
use super::*;
use crate::{Env, Frame, Info, Reset, Step, clip_box_action};

/// The reward for reaching the goal.
const GOAL_REWARD: f64 = 100.0;

/// The cost of a force `a`: `0.1·a²` per step.
const ACTION_COST: f64 = 0.1;

/// Drive an underpowered car out of a valley with a continuous force —
/// Gymnasium's `MountainCarContinuous-v0`.
///
/// # Description
/// The valley of [`MountainCar`] (height `sin(3·position)`, from `-1.2` to `0.6`), driven by a
/// force `a` in `[-1, 1]`. Each step:
///
/// ```text
/// velocity += a·0.0015 − 0.0025·cos(3·position)    then clipped to [-0.07, 0.07]
/// position += velocity                              then clipped to [-1.2, 0.6]
/// velocity  = 0   if position = -1.2 and velocity < 0
/// ```
///
/// Gymnasium keeps this env's state in `float32`: its `reset` leaves a `float64` state, and
/// every step stores the new one as `float32`, so from the second step on its arithmetic
/// (under NumPy 2's promotion rules) is `float32` — `3·position`, `a·0.0015` and the sums,
/// the constants rounded to `float32` — except the cosine and its product with 0.0025, taken
/// in `f64` and then rounded. This env does the same, each operation in the precision
/// Gymnasium's takes, so that given the same state and actions the observations of
/// gymnasium 1.4 are reproduced bit for bit (see the tests). The state after a reset or a
/// [`set_state`](Env::set_state) is kept in `f64`, as there; [`state`](Self::state) reports
/// it.
///
/// # Action space
/// `Box(-1, 1, (1,), float32)`: the force, positive to the right. A finite force past ±1 is
/// clipped to ±1 for the dynamics, as Gymnasium clips it ([`Env::clips_actions`]), and the
/// force as given is charged; NaN or infinity is [`Error::InvalidAction`] and changes nothing.
///
/// # Observation space
/// `Box([-1.2, -0.07], [0.6, 0.07], (2,), float32)`:
///
/// | index | meaning | min | max |
/// |---|---|---|---|
/// | 0 | position along the valley | −1.2 | 0.6 |
/// | 1 | velocity, position per step | −0.07 | 0.07 |
///
/// # Rewards
/// `−0.1·a²` for every step, plus 100 on the step that reaches the goal.
///
/// # Starting state
/// Position uniform in `[-0.6, -0.4)`, velocity 0.
///
/// # Episode end
/// - Termination: `position ≥ 0.45` with `velocity ≥ goal_velocity` (compared in `float32`
///   once the state is, as in Gymnasium).
/// - Truncation: never by the env itself; [`make`](crate::make) wraps it in a
///   [`TimeLimit`](crate::wrappers::TimeLimit) of `max_episode_steps` (999).
///
/// # Parameters
/// See [`MountainCarConfig`]: `goal_velocity` (default 0), `max_episode_steps` (999; use
/// [`MountainCarConfig::continuous`]).
///
/// # Version notes
/// Matches Gymnasium 1.4's `MountainCarContinuous-v0`, forces past `[-1, 1]` included (clipped
/// for the dynamics, charged as given; Gymnasium's clipped force is a Python float, so its
/// increment is computed in `f64`, as here). The start
/// position is drawn from qlab's [`EnvRng`], not NumPy's generator; stepping after
/// termination is [`Error::EpisodeEnded`]; the reset bounds are not options; the picture is
/// simpler (the car is not tilted). Gymnasium's `float32` arithmetic is NumPy 2's: under
/// NumPy 1's promotion rules the same code computes partly in `float64`.
///
/// ```
/// use qlab_envs::mountain_car::{MountainCarConfig, MountainCarContinuous};
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = MountainCarContinuous::new(MountainCarConfig::continuous());
/// let mut obs = env.reset(Some(7)).obs;
/// let mut ret = 0.0;
/// loop {
///     let step = env.step([if obs[1] >= 0.0 { 1.0 } else { -1.0 }])?; // full force along the velocity
///     (obs, ret) = (step.obs, ret + step.reward);
///     if step.terminated {
///         break;
///     }
/// }
/// assert!(obs[0] >= 0.45 && ret > 80.0);
/// assert!(env.step([f32::NAN]).is_err()); // not a force: refused
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MountainCarContinuous {
    config: MountainCarConfig,
    /// `[position, velocity]`: `f64` after a reset or `set_state`, `f32` values after a step.
    state: [f64; 2],
    /// Whether `state` holds `f32` values (after a step), so that the next step computes in
    /// `f32` as Gymnasium does.
    narrow: bool,
    phase: Phase,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl MountainCarContinuous {
    /// A car with the given settings (use [`MountainCarConfig::continuous`] for
    /// `MountainCarContinuous-v0`'s). Call [`reset`](Env::reset) before stepping.
    pub fn new(config: MountainCarConfig) -> Self {
        Self {
            config,
            state: [0.0; 2],
            narrow: false,
            phase: Phase::NotReset,
            rng: None,
            observation_space: observation_space(),
            action_space: BoxSpace::uniform(-1.0, 1.0, vec![1]).into(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &MountainCarConfig {
        &self.config
    }

    /// The state `[position, velocity]` (zeros before the first reset): full precision after
    /// a reset or `set_state`, `f32` values after a step.
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    fn observe(&self) -> [f32; 2] {
        self.state.map(|v| v as f32)
    }

    /// One step from an `f64` state (the first after a reset or `set_state`): Gymnasium's
    /// arithmetic on a `float64` state and a `float32` force (a Python float when Gymnasium
    /// `clipped` it). Returns the new state, rounded to `f32`, and whether it reached the goal.
    #[inline]
    fn advance_wide(&self, force: f32, clipped: bool) -> ([f64; 2], bool) {
        let [position, velocity] = self.state;
        let slope = GRAVITY * (3.0 * position).cos();
        // `force * power` is float32; subtracting the Python float rounds it to float32; adding
        // that to the float64 velocity is float64. A clipped force is a Python float: all f64.
        let dv = if clipped {
            f64::from(force) * POWER - slope
        } else {
            f64::from(force * POWER as f32 - slope as f32)
        };
        let velocity = (velocity + dv).clamp(-MAX_SPEED, MAX_SPEED);
        let position = (position + velocity).clamp(MIN_POSITION, MAX_POSITION);
        let velocity = if position == MIN_POSITION && velocity < 0.0 {
            0.0
        } else {
            velocity
        };
        let goal = position >= CONTINUOUS_GOAL_POSITION && velocity >= self.config.goal_velocity;
        ([position as f32 as f64, velocity as f32 as f64], goal)
    }

    /// One step from an `f32` state: every operation in `f32` (constants rounded to it, as
    /// NumPy rounds a Python float meeting a `float32`), the cosine in `f64`. A force
    /// Gymnasium `clipped` is a Python float: its increment is computed in `f64`, then rounded
    /// to `f32` as it meets the `float32` velocity.
    #[inline]
    fn advance_narrow(&self, force: f32, clipped: bool) -> ([f64; 2], bool) {
        let [position, velocity] = self.state.map(|v| v as f32);
        let slope = GRAVITY * f64::from(3.0 * position).cos();
        let dv = if clipped {
            (f64::from(force) * POWER - slope) as f32
        } else {
            force * POWER as f32 - slope as f32
        };
        let max_speed = MAX_SPEED as f32;
        let velocity = (velocity + dv).clamp(-max_speed, max_speed);
        let position = (position + velocity).clamp(MIN_POSITION as f32, MAX_POSITION as f32);
        let velocity = if position == MIN_POSITION as f32 && velocity < 0.0 {
            0.0
        } else {
            velocity
        };
        let goal = position >= CONTINUOUS_GOAL_POSITION as f32
            && velocity >= self.config.goal_velocity as f32;
        ([f64::from(position), f64::from(velocity)], goal)
    }
}

impl Env for MountainCarContinuous {
    type Obs = [f32; 2];
    type Action = [f32; 1];

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<[f32; 2]> {
        if let Some(seed) = seed {
            self.rng = Some(EnvRng::seed_from_u64(seed));
        }
        let rng = self.rng.get_or_insert_with(EnvRng::from_os_entropy);
        self.state = [draw_start(rng), 0.0];
        self.narrow = false;
        self.phase = Phase::Running;
        Reset {
            obs: self.observe(),
            info: Info::default(),
        }
    }

    #[inline]
    fn step(&mut self, action: [f32; 1]) -> Result<Step<[f32; 2]>> {
        self.phase.check_running()?;
        // Gymnasium clips the force to [-1, 1] for the dynamics and charges the force as given
        // (NaN and infinity are refused).
        let [force] = clip_box_action(action, &self.action_space)?;
        let clipped = force != action[0];
        let (state, terminated) = if self.narrow {
            self.advance_narrow(force, clipped)
        } else {
            self.advance_wide(force, clipped)
        };
        self.state = state;
        self.narrow = true;
        if terminated {
            self.phase = Phase::Ended;
        }
        let a = f64::from(action[0]);
        let bonus = if terminated { GOAL_REWARD } else { 0.0 };
        Ok(Step {
            obs: self.observe(),
            reward: bonus - a * a * ACTION_COST,
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        ansi(self.state, CONTINUOUS_GOAL_POSITION)
    }

    fn render_rgb(&self) -> Frame {
        draw(self.state[0], CONTINUOUS_GOAL_POSITION)
    }

    fn name(&self) -> String {
        MOUNTAIN_CAR_CONTINUOUS_ID.to_string()
    }

    /// Sets `[position, velocity]` after a reset, as assigning Gymnasium's
    /// `env.unwrapped.state` a `float64` array: two finite values, the position in
    /// `[-1.2, 0.6]`, the velocity in `[-0.07, 0.07]`, kept in full precision until the next
    /// step. The episode's phase is unchanged: after a termination it is still over.
    fn set_state(&mut self, state: &[f64]) -> Result<[f32; 2]> {
        let s = check_state(MOUNTAIN_CAR_CONTINUOUS_ID, state)?;
        if self.phase == Phase::NotReset {
            return Err(not_reset(MOUNTAIN_CAR_CONTINUOUS_ID));
        }
        self.state = s;
        self.narrow = false;
        Ok(self.observe())
    }

    /// `None` until the env has a stream (as [`MountainCar`]); after any reset, `Some`: the
    /// start position of each episode is drawn from it, and nothing else is random.
    fn clips_actions(&self) -> bool {
        true
    }

    fn rng_state(&self) -> Option<[u64; 4]> {
        self.rng.as_ref().map(EnvRng::state)
    }

    /// Gives the env this stream, also before its first reset.
    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = Some(crate::rng::restore(state, MOUNTAIN_CAR_CONTINUOUS_ID)?);
        Ok(())
    }
}
