//! [`Acrobot`]: swing the tip of a two-link chain above a line by torquing the joint between
//! the links — Gymnasium's `Acrobot-v1`, step for step.

mod dynamics;
#[cfg(test)]
mod tests;

#[cfg(test)]
use dynamics::derivatives;
pub use dynamics::{DT, MAX_VEL_1, MAX_VEL_2};
use dynamics::{advance, is_terminal, observe};

use std::f64::consts::PI;

use rand::SeedableRng;

use crate::params::invalid;
use crate::{
    BoxSpace, Env, EnvRng, Error, Frame, Info, ParamValue, Params, Reset, Result, Space, Step,
    check_discrete_action,
};

/// The id [`Acrobot`] is registered under.
pub const ACROBOT_ID: &str = "Acrobot-v1";

/// The registry's time limit for `Acrobot-v1`, in steps (Gymnasium's `max_episode_steps`).
pub const MAX_EPISODE_STEPS: u64 = 500;

/// Each of the four start-state values is uniform in `[-RESET_BOUND, RESET_BOUND)`, rad or
/// rad/s.
pub const RESET_BOUND: f64 = 0.1;

/// The largest `torque_noise_max` taken, N·m: a thousand times the largest torque, far past
/// any use, and small enough that every state stays finite.
pub const TORQUE_NOISE_LIMIT: f64 = 1000.0;

/// Parameter keys [`AcrobotConfig::apply_params`] takes.
const ALLOWED: &[&str] = &["book_or_nips", "torque_noise_max", "max_episode_steps"];

/// Which equations of motion the acrobot follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AcrobotDynamics {
    /// Sutton & Barto's book (`"book"`, Gymnasium's default): the second joint's acceleration
    /// includes the term `m2·l1·lc2·θ̇1²·sin θ2`.
    #[default]
    Book,
    /// Sutton's 1996 NeurIPS paper (`"nips"`), which leaves that term out.
    Nips,
}

impl AcrobotDynamics {
    /// The values the `book_or_nips` parameter takes.
    pub const NAMES: [&'static str; 2] = ["book", "nips"];

    /// The parameter value naming these dynamics.
    pub fn as_str(self) -> &'static str {
        match self {
            AcrobotDynamics::Book => "book",
            AcrobotDynamics::Nips => "nips",
        }
    }
}

/// The settings of [`Acrobot`].
///
/// | field | default | valid range | parameter key |
/// |---|---|---|---|
/// | `book_or_nips` | `Book` | `Book`, `Nips` | `book_or_nips` (`"book"`, `"nips"`) |
/// | `torque_noise_max` | `0.0` | finite, in `[0, 1000]` | `torque_noise_max` |
/// | `max_episode_steps` | `500` | `≥ 1` | `max_episode_steps` |
///
/// ```
/// use qlab_envs::acrobot::{AcrobotConfig, AcrobotDynamics};
/// use qlab_envs::{ParamValue, Params};
/// # fn main() -> qlab_envs::Result<()> {
/// let mut config = AcrobotConfig::default();
/// let params = Params::new().with("book_or_nips", ParamValue::Str("nips".into()));
/// config.apply_params("Acrobot-v1", &params)?;
/// assert_eq!(config.book_or_nips, AcrobotDynamics::Nips);
/// let bad = Params::new().with("torque_noise_max", ParamValue::Float(-1.0));
/// assert!(config.apply_params("Acrobot-v1", &bad).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct AcrobotConfig {
    /// The equations of motion. Default [`AcrobotDynamics::Book`], as in Gymnasium.
    pub book_or_nips: AcrobotDynamics,
    /// Each step adds to the torque a value drawn uniformly from `[-torque_noise_max,
    /// torque_noise_max)`, N·m. Default 0: no noise, and nothing is drawn. Finite, in
    /// `[0, 1000]`.
    pub torque_noise_max: f64,
    /// The step after which the registry's [`TimeLimit`](crate::wrappers::TimeLimit)
    /// truncates an episode. Default 500, as `Acrobot-v1`; at least 1. The env itself never
    /// truncates.
    pub max_episode_steps: u64,
}

impl Default for AcrobotConfig {
    fn default() -> Self {
        Self {
            book_or_nips: AcrobotDynamics::Book,
            torque_noise_max: 0.0,
            max_episode_steps: MAX_EPISODE_STEPS,
        }
    }
}

impl AcrobotConfig {
    /// Overrides fields from named parameters (keys as in the table on the type).
    ///
    /// Unknown keys are [`Error::UnknownParam`]; a value of the wrong type or out of range is
    /// [`Error::InvalidParam`] naming the key, the value and what is allowed. On error `self`
    /// is left unchanged.
    pub fn apply_params(&mut self, id: &str, params: &Params) -> Result<()> {
        params.check_keys(id, ALLOWED)?;
        let mut next = self.clone();
        if let Some(name) = params.choice("book_or_nips", &AcrobotDynamics::NAMES)? {
            next.book_or_nips = if name == "book" {
                AcrobotDynamics::Book
            } else {
                AcrobotDynamics::Nips
            };
        }
        if let Some(v) = params.f64("torque_noise_max")? {
            if !(0.0..=TORQUE_NOISE_LIMIT).contains(&v) {
                return Err(invalid(
                    "torque_noise_max",
                    &ParamValue::Float(v),
                    &format!("a finite number in [0, {TORQUE_NOISE_LIMIT}]"),
                ));
            }
            next.torque_noise_max = v;
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

/// Swing the free end of a two-link chain above a line by torquing the joint between the
/// links — Gymnasium's `Acrobot-v1`.
///
/// # Description
/// Two links of 1 m and 1 kg hang in a chain from a fixed, unactuated pivot (Sutton 1996;
/// Sutton & Barto's book). Only the joint between the links is actuated. The chain starts
/// hanging down, nearly at rest, and the goal is to swing the free end above a line one link
/// length above the pivot in as few steps as possible. Each step applies the chosen torque for
/// [`DT`] = 0.2 s: the equations of motion, with the torque held constant, are integrated by
/// one step of fourth-order Runge–Kutta in `f64`, in Gymnasium's order of operations; then
/// both angles are wrapped into `[-π, π]` and the angular velocities clipped to `±4π` and
/// `±9π` rad/s. Given the same state and actions, the reference trajectories recorded with
/// gymnasium 1.4's `Acrobot-v1` (see the tests) are reproduced.
///
/// # Action space
/// `Discrete(3)`: the torque on the joint between the links, N·m.
///
/// | action | torque |
/// |---|---|
/// | 0 | −1 |
/// | 1 | 0 |
/// | 2 | +1 |
///
/// # Observation space
/// `Box([-1, -1, -1, -1, -12.566371, -28.274334], [1, 1, 1, 1, 12.566371, 28.274334], (6,),
/// float32)`: the `f64` state's sines and cosines and velocities, rounded to `f32`.
///
/// | index | meaning | min | max |
/// |---|---|---|---|
/// | 0 | `cos θ1` | −1 | 1 |
/// | 1 | `sin θ1` | −1 | 1 |
/// | 2 | `cos θ2` | −1 | 1 |
/// | 3 | `sin θ2` | −1 | 1 |
/// | 4 | `θ̇1`, rad/s | ≈ −12.566 (−4π) | ≈ 12.566 (4π) |
/// | 5 | `θ̇2`, rad/s | ≈ −28.274 (−9π) | ≈ 28.274 (9π) |
///
/// `θ1` is the first link's angle from straight down; `θ2` is the second link's angle
/// relative to the first (0: the links in line). `[1, 0, 1, 0, 0, 0]` hangs straight down at
/// rest.
///
/// # Rewards
/// −1 for every step that does not reach the target height, 0 for the step that does. The
/// reward threshold is −100.
///
/// # Starting state
/// Each of `θ1`, `θ2`, `θ̇1`, `θ̇2` is drawn uniformly from `[-0.1, 0.1)` and rounded to
/// `f32` (Gymnasium stores its start state as `float32`).
///
/// # Episode end
/// - Termination: the free end is above the target height, `−cos θ1 − cos(θ1 + θ2) > 1`.
/// - Truncation: never by the env itself; [`make`](crate::make) wraps it in a
///   [`TimeLimit`](crate::wrappers::TimeLimit) of `max_episode_steps` (500).
///
/// # Parameters
/// See [`AcrobotConfig`]: `book_or_nips` (`"book"` or `"nips"`), `torque_noise_max`,
/// `max_episode_steps`.
///
/// # Version notes
/// Matches Gymnasium 1.4's `Acrobot-v1` (v1: time limit 500 and the angles observed by sine
/// and cosine; v0 had 200 steps and the angles themselves). Differences: the start state and
/// the torque noise are drawn from qlab's [`EnvRng`], not NumPy's generator, so a seed gives
/// different (equally distributed) draws than Gymnasium; stepping after termination is
/// [`Error::EpisodeEnded`] where Gymnasium continues; the reset bounds are fixed (Gymnasium
/// takes them as `reset` options), and `dt` is not adjustable.
///
/// ```
/// use qlab_envs::acrobot::{Acrobot, AcrobotConfig};
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = Acrobot::new(AcrobotConfig::default());
/// let first = env.reset(Some(42));
/// assert!(first.obs[0] > 0.99); // hanging down
/// let mut steps = 0;
/// loop {
///     // Torque along the second joint's velocity pumps energy into the swing.
///     let step = env.step(if env.state()[3] > 0.0 { 2 } else { 0 })?;
///     steps += 1;
///     if step.terminated {
///         assert_eq!(step.reward, 0.0);
///         break;
///     }
///     assert_eq!(step.reward, -1.0);
/// }
/// assert!(steps < 200);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Acrobot {
    config: AcrobotConfig,
    /// `[θ1, θ2, θ̇1, θ̇2]`, rad and rad/s.
    state: [f64; 4],
    phase: Phase,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Acrobot {
    /// An acrobot with the given settings. Call [`reset`](Env::reset) before stepping.
    pub fn new(config: AcrobotConfig) -> Self {
        let high = [1.0, 1.0, 1.0, 1.0, MAX_VEL_1 as f32, MAX_VEL_2 as f32];
        Self {
            config,
            state: [0.0; 4],
            phase: Phase::NotReset,
            rng: None,
            observation_space: BoxSpace::from_bounds(high.map(|h| -h).to_vec(), high.to_vec())
                .into(),
            action_space: Space::discrete(3),
        }
    }

    /// The settings.
    pub fn config(&self) -> &AcrobotConfig {
        &self.config
    }

    /// The full-precision state `[θ1, θ2, θ̇1, θ̇2]` (zeros before the first reset).
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// The height of the free end above the pivot, in link lengths: `−cos θ1 − cos(θ1 + θ2)`,
    /// in `[-2, 2]`; the episode terminates above 1.
    pub fn tip_height(&self) -> f64 {
        -self.state[0].cos() - (self.state[1] + self.state[0]).cos()
    }
}

impl Env for Acrobot {
    type Obs = [f32; 6];
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<[f32; 6]> {
        if let Some(seed) = seed {
            self.rng = Some(EnvRng::seed_from_u64(seed));
        }
        let rng = self.rng.get_or_insert_with(EnvRng::from_os_entropy);
        let (low, high) = (-RESET_BOUND, RESET_BOUND);
        // NumPy's `uniform(low, high)`, then Gymnasium's `astype(np.float32)`.
        self.state =
            std::array::from_fn(|_| f64::from((low + (high - low) * rng.next_f64()) as f32));
        self.phase = Phase::Running;
        Reset {
            obs: observe(&self.state),
            info: Info::default(),
        }
    }

    #[inline]
    fn step(&mut self, action: usize) -> Result<Step<[f32; 6]>> {
        match self.phase {
            Phase::Running => {}
            Phase::NotReset => return Err(Error::NotReset),
            Phase::Ended => return Err(Error::EpisodeEnded),
        }
        check_discrete_action(action, &self.action_space)?;
        let mut torque = dynamics::AVAIL_TORQUE[action];
        let noise = self.config.torque_noise_max;
        if noise > 0.0 {
            // NumPy's `uniform(-noise, noise)`; drawn only when there is noise, as Gymnasium.
            let rng = self.rng.as_mut().expect("a running episode has a stream");
            torque += -noise + (noise - -noise) * rng.next_f64();
        }
        self.state = advance(
            self.state,
            torque,
            self.config.book_or_nips == AcrobotDynamics::Nips,
        );
        let terminated = is_terminal(&self.state);
        if terminated {
            self.phase = Phase::Ended;
        }
        Ok(Step {
            obs: observe(&self.state),
            reward: if terminated { 0.0 } else { -1.0 },
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        let [t1, t2, v1, v2] = self.state;
        format!(
            "theta1={t1:+.3} theta2={t2:+.3} dtheta1={v1:+.3} dtheta2={v2:+.3} tip height={:+.3} (target > 1)",
            self.tip_height()
        )
    }

    fn render_rgb(&self) -> Frame {
        // Gymnasium's picture at 200×200: the pivot in the centre, 2.2 link lengths to each
        // edge, the target line one link above the pivot, links cyan, joints yellow.
        const SIZE: i64 = 200;
        let scale = SIZE as f64 / 4.4;
        let centre = SIZE as f64 / 2.0;
        let mut frame = Frame::filled(SIZE as usize, SIZE as usize, [255, 255, 255]);
        let target = (centre - scale).round() as i64;
        frame.fill_rect(target, 0, target + 1, SIZE, [0, 0, 0]);
        let [t1, t2, ..] = self.state;
        // y grows downwards in the frame; θ = 0 hangs down.
        let joint = (centre + scale * t1.cos(), centre + scale * t1.sin());
        let tip = (
            joint.0 + scale * (t1 + t2).cos(),
            joint.1 + scale * (t1 + t2).sin(),
        );
        for (from, to) in [((centre, centre), joint), (joint, tip)] {
            thick_line(&mut frame, from, to, 3, [0, 204, 204]);
        }
        for (y, x) in [(centre, centre), joint] {
            let (y, x) = (y.round() as i64, x.round() as i64);
            frame.fill_rect(y - 3, x - 3, y + 4, x + 4, [204, 204, 0]);
        }
        frame
    }

    fn name(&self) -> String {
        ACROBOT_ID.to_string()
    }

    /// Sets `[θ1, θ2, θ̇1, θ̇2]` after a reset, as assigning Gymnasium's
    /// `env.unwrapped.state`: the angles in `[-π, π]`, `|θ̇1| ≤ 4π`, `|θ̇2| ≤ 9π` (the states a
    /// step can reach). The episode's phase is unchanged: after a termination it is still
    /// over.
    fn set_state(&mut self, state: &[f64]) -> Result<[f32; 6]> {
        const LIMITS: [(&str, f64); 4] = [
            ("theta1", PI),
            ("theta2", PI),
            ("dtheta1", MAX_VEL_1),
            ("dtheta2", MAX_VEL_2),
        ];
        let s: [f64; 4] = state.try_into().map_err(|_| Error::InvalidState {
            message: format!(
                "{ACROBOT_ID} takes 4 values [theta1, theta2, dtheta1, dtheta2], got {}",
                state.len()
            ),
        })?;
        for (v, (name, limit)) in s.iter().zip(LIMITS) {
            if v.is_nan() || v.abs() > limit {
                return Err(Error::InvalidState {
                    message: format!("{name} must be in [{}, {limit}], got {v}", -limit),
                });
            }
        }
        if self.phase == Phase::NotReset {
            return Err(Error::InvalidState {
                message: format!("{ACROBOT_ID} takes a state only after reset"),
            });
        }
        self.state = s;
        Ok(observe(&s))
    }

    /// `None` until the env has a stream: one never reset has none yet (its first unseeded
    /// reset draws one from the OS). After any reset, `Some`: the start state of each episode
    /// is drawn from it, and the torque noise when `torque_noise_max > 0`.
    fn rng_state(&self) -> Option<[u64; 4]> {
        self.rng.as_ref().map(EnvRng::state)
    }

    /// Gives the env this stream, also before its first reset: the next unseeded reset draws
    /// its start state from it.
    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = Some(crate::rng::restore(state, ACROBOT_ID)?);
        Ok(())
    }
}

/// Draws a segment `thickness` pixels wide from `from` to `to`, each `(y, x)` in pixels.
fn thick_line(frame: &mut Frame, from: (f64, f64), to: (f64, f64), thickness: i64, rgb: [u8; 3]) {
    let steps = ((to.0 - from.0).abs().max((to.1 - from.1).abs()).ceil() as i64).max(1);
    let half = thickness / 2;
    for i in 0..=steps {
        let f = i as f64 / steps as f64;
        let y = (from.0 + f * (to.0 - from.0)).round() as i64;
        let x = (from.1 + f * (to.1 - from.1)).round() as i64;
        frame.fill_rect(y - half, x - half, y + half + 1, x + half + 1, rgb);
    }
}
