//! [`MountainCar`]: Gymnasium's `MountainCar-v0`.

use rand::SeedableRng;

use super::render::{ansi, draw};
use super::*;
use crate::{Env, Frame, Info, Reset, Step, check_discrete_action};

/// Drive an underpowered car out of a valley by pushing left, not at all, or right —
/// Gymnasium's `MountainCar-v0`.
///
/// # Description
/// A car sits in a sinusoidal valley (height `sin(3·position)`) between `-1.2` and `0.6`; its
/// engine is too weak to climb the right hill directly, so it must rock back and forth to
/// build momentum (Moore 1990). Each step:
///
/// ```text
/// velocity += (action − 1)·0.001 − 0.0025·cos(3·position)    then clipped to [-0.07, 0.07]
/// position += velocity                                        then clipped to [-1.2, 0.6]
/// velocity  = 0   if position = -1.2 and velocity < 0          (the left wall stops the car)
/// ```
///
/// in `f64`, in Gymnasium's order of operations, so that given the same state and actions
/// the observations of gymnasium 1.4 are reproduced bit for bit (see the tests).
///
/// # Action space
/// `Discrete(3)`: `0` pushes left, `1` does not push, `2` pushes right.
///
/// # Observation space
/// `Box([-1.2, -0.07], [0.6, 0.07], (2,), float32)`: the `f64` state rounded to `f32`.
///
/// | index | meaning | min | max |
/// |---|---|---|---|
/// | 0 | position along the valley | −1.2 | 0.6 |
/// | 1 | velocity, position per step | −0.07 | 0.07 |
///
/// # Rewards
/// −1 for every step, the terminating one included.
///
/// # Starting state
/// Position uniform in `[-0.6, -0.4)`, velocity 0.
///
/// # Episode end
/// - Termination: `position ≥ 0.5` (the flag on the right hill) with `velocity ≥
///   goal_velocity`.
/// - Truncation: never by the env itself; [`make`](crate::make) wraps it in a
///   [`TimeLimit`](crate::wrappers::TimeLimit) of `max_episode_steps` (200).
///
/// # Parameters
/// See [`MountainCarConfig`]: `goal_velocity` (default 0), `max_episode_steps` (200).
///
/// # Version notes
/// Matches Gymnasium 1.4's `MountainCar-v0`. Differences: the start position is drawn from
/// qlab's [`EnvRng`], not NumPy's generator, so a seed gives a different (equally
/// distributed) start; stepping after termination is [`Error::EpisodeEnded`] where Gymnasium
/// continues; the reset bounds are not options; the picture is simpler (the car is not
/// tilted).
///
/// ```
/// use qlab_envs::mountain_car::{MountainCar, MountainCarConfig};
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = MountainCar::new(MountainCarConfig::default());
/// let start = env.reset(Some(7)).obs;
/// assert!((-0.6..-0.4).contains(&start[0]) && start[1] == 0.0);
/// // Push along the velocity: rocking builds the momentum pushing right alone lacks.
/// let (mut obs, mut steps) = (start, 0);
/// loop {
///     let step = env.step(if obs[1] >= 0.0 { 2 } else { 0 })?;
///     (obs, steps) = (step.obs, steps + 1);
///     assert_eq!(step.reward, -1.0);
///     if step.terminated {
///         break;
///     }
/// }
/// assert!(obs[0] >= 0.5 && steps < 200);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MountainCar {
    config: MountainCarConfig,
    /// `[position, velocity]`.
    state: [f64; 2],
    phase: Phase,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl MountainCar {
    /// A car with the given settings. Call [`reset`](Env::reset) before stepping.
    pub fn new(config: MountainCarConfig) -> Self {
        Self {
            config,
            state: [0.0; 2],
            phase: Phase::NotReset,
            rng: None,
            observation_space: observation_space(),
            action_space: Space::discrete(3),
        }
    }

    /// The settings.
    pub fn config(&self) -> &MountainCarConfig {
        &self.config
    }

    /// The full-precision state `[position, velocity]` (zeros before the first reset).
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    fn observe(&self) -> [f32; 2] {
        self.state.map(|v| v as f32)
    }
}

impl Env for MountainCar {
    type Obs = [f32; 2];
    type Action = usize;

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
        self.phase = Phase::Running;
        Reset {
            obs: self.observe(),
            info: Info::default(),
        }
    }

    #[inline]
    fn step(&mut self, action: usize) -> Result<Step<[f32; 2]>> {
        self.phase.check_running()?;
        check_discrete_action(action, &self.action_space)?;
        let [position, velocity] = self.state;
        // Gymnasium: `velocity += (action - 1) * force + cos(3 * position) * (-gravity)`.
        let push = (action as f64 - 1.0) * FORCE;
        let velocity =
            (velocity + (push + (3.0 * position).cos() * (-GRAVITY))).clamp(-MAX_SPEED, MAX_SPEED);
        let position = (position + velocity).clamp(MIN_POSITION, MAX_POSITION);
        let velocity = if position == MIN_POSITION && velocity < 0.0 {
            0.0
        } else {
            velocity
        };
        let terminated = position >= GOAL_POSITION && velocity >= self.config.goal_velocity;
        self.state = [position, velocity];
        if terminated {
            self.phase = Phase::Ended;
        }
        Ok(Step {
            obs: self.observe(),
            reward: -1.0,
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        ansi(self.state, GOAL_POSITION)
    }

    fn render_rgb(&self) -> Frame {
        draw(self.state[0], GOAL_POSITION)
    }

    fn name(&self) -> String {
        MOUNTAIN_CAR_ID.to_string()
    }

    /// Sets `[position, velocity]` after a reset, as assigning Gymnasium's
    /// `env.unwrapped.state`: two finite values, the position in `[-1.2, 0.6]`, the velocity
    /// in `[-0.07, 0.07]`. The episode's phase is unchanged: after a termination it is still
    /// over.
    fn set_state(&mut self, state: &[f64]) -> Result<[f32; 2]> {
        let s = check_state(MOUNTAIN_CAR_ID, state)?;
        if self.phase == Phase::NotReset {
            return Err(not_reset(MOUNTAIN_CAR_ID));
        }
        self.state = s;
        Ok(self.observe())
    }

    /// `None` until the env has a stream: one never reset has none yet (its first unseeded
    /// reset draws one from the OS). After any reset, `Some`: the start position of each
    /// episode is drawn from it, and nothing else is random.
    fn rng_state(&self) -> Option<[u64; 4]> {
        self.rng.as_ref().map(EnvRng::state)
    }

    /// Gives the env this stream, also before its first reset: the next unseeded reset draws
    /// its start position from it.
    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = Some(crate::rng::restore(state, MOUNTAIN_CAR_ID)?);
        Ok(())
    }
}
