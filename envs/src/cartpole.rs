//! [`CartPole`]: balance a pole on a cart — Gymnasium's `CartPole-v1`, step for step — and
//! [`CartPoleNoVelocity`], the same task with the velocities hidden.

use std::f64::consts::{FRAC_PI_4, PI};
use std::fmt::Write as _;

use crate::params::invalid;
use crate::{
    BoxSpace, Env, EnvRng, Error, Frame, Info, ParamValue, Params, Reset, Result, Space, Step,
    check_discrete_action,
};
use rand::SeedableRng;

// Physical constants of the Barto, Sutton & Anderson (1983) cart-pole, as in Gymnasium
// `classic_control/cartpole.py`. Derived constants are computed in the same order as there, so
// that every intermediate value rounds the same way.

/// Gravitational acceleration, m/s².
const GRAVITY: f64 = 9.8;
/// Mass of the cart, kg.
const MASS_CART: f64 = 1.0;
/// Mass of the pole, kg.
const MASS_POLE: f64 = 0.1;
/// Cart plus pole, kg.
const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
/// Half the pole's length, m (the distance from the pivot to the pole's centre of mass).
const HALF_LENGTH: f64 = 0.5;
/// Pole mass times half-length, kg·m.
const POLE_MASS_LENGTH: f64 = MASS_POLE * HALF_LENGTH;
/// Magnitude of the force an action applies to the cart, N.
const FORCE_MAG: f64 = 10.0;
/// Time between state updates, s.
const TAU: f64 = 0.02;

/// The episode terminates when the cart's position leaves `[-X_THRESHOLD, X_THRESHOLD]`, m.
pub const X_THRESHOLD: f64 = 2.4;
/// The episode terminates when the pole's angle leaves `[-THETA_THRESHOLD, THETA_THRESHOLD]`:
/// 12° in radians, computed as Gymnasium computes it (`12 * 2 * pi / 360`).
pub const THETA_THRESHOLD: f64 = 12.0 * 2.0 * PI / 360.0;

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

/// The largest `|theta|` for which [`sin_cos`] uses its own polynomials (π/4, their domain).
pub(crate) const KERNEL_LIMIT: f64 = FRAC_PI_4;

// Minimax coefficients of the sine and cosine on [-π/4, π/4], from fdlibm's `k_sin.c` and
// `k_cos.c` (Sun Microsystems, 1993; the same numbers musl and openlibm carry), given by their
// bit patterns as published there (S1 = -1.66666666666666324348e-01, …).
const S1: f64 = f64::from_bits(0xBFC5_5555_5555_5549);
const S2: f64 = f64::from_bits(0x3F81_1111_1110_F8A6);
const S3: f64 = f64::from_bits(0xBF2A_01A0_19C1_61D5);
const S4: f64 = f64::from_bits(0x3EC7_1DE3_57B1_FE7D);
const S5: f64 = f64::from_bits(0xBE5A_E5E6_8A2B_9CEB);
const S6: f64 = f64::from_bits(0x3DE5_D93A_5ACF_D57C);
const C1: f64 = f64::from_bits(0x3FA5_5555_5555_554C);
const C2: f64 = f64::from_bits(0xBF56_C16C_16C1_5177);
const C3: f64 = f64::from_bits(0x3EFA_01A0_19CB_1590);
const C4: f64 = f64::from_bits(0xBE92_7E4F_809C_52AD);
const C5: f64 = f64::from_bits(0x3E21_EE9E_BDB4_B1C4);
const C6: f64 = f64::from_bits(0xBDA8_FAE9_BE88_38D4);

/// Sine and cosine for `|theta| ≤ π/4` by polynomials alone: no branches and no library
/// call, so a loop over many angles vectorizes. Within 1 ulp of the correctly rounded values.
#[inline(always)]
pub(crate) fn kernel_sin_cos(theta: f64) -> (f64, f64) {
    let z = theta * theta;
    let w = z * z;
    let r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let sin = theta + z * theta * (S1 + z * r);
    let r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let half_z = 0.5 * z;
    let head = 1.0 - half_z;
    // `(1 - head) - half_z` is the rounding error of `head`, added back.
    let cos = head + (((1.0 - head) - half_z) + z * r);
    (sin, cos)
}

/// Sine and cosine of `theta`: the polynomials of [`kernel_sin_cos`] where `|theta| ≤ π/4`
/// (every angle an episode reaches before it terminates at 12°), the platform's library
/// beyond. Using our own polynomials makes trajectories bit-identical on every platform and
/// lets [`CartPoleBatch`](crate::batched_cartpole::CartPoleBatch) vectorize; they differ from
/// the correctly rounded values (and so from NumPy's) by at most 1 ulp, on about 1% of angles.
#[inline(always)]
pub(crate) fn sin_cos(theta: f64) -> (f64, f64) {
    if theta.abs() <= KERNEL_LIMIT {
        kernel_sin_cos(theta)
    } else {
        theta.sin_cos()
    }
}

/// One step of the cart-pole equations of motion (Florian 2007, "Correct equations for the
/// dynamics of the cart-pole system", with Gymnasium's frictionless simplification), in the
/// same order of floating-point operations as Gymnasium, so that results are bit-identical
/// given the same sine and cosine.
///
/// The state is `[x, x_dot, theta, theta_dot]`; `sin` and `cos` are those of `theta`;
/// `push_right` picks the sign of the force.
#[inline(always)]
pub(crate) fn advance_with(
    [x, x_dot, theta, theta_dot]: [f64; 4],
    (sin, cos): (f64, f64),
    push_right: bool,
    semi_implicit: bool,
) -> [f64; 4] {
    let force = if push_right { FORCE_MAG } else { -FORCE_MAG };
    let temp = (force + POLE_MASS_LENGTH * (theta_dot * theta_dot) * sin) / TOTAL_MASS;
    let theta_acc = (GRAVITY * sin - cos * temp)
        / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * (cos * cos) / TOTAL_MASS));
    let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
    if semi_implicit {
        let x_dot = x_dot + TAU * x_acc;
        let theta_dot = theta_dot + TAU * theta_acc;
        [x + TAU * x_dot, x_dot, theta + TAU * theta_dot, theta_dot]
    } else {
        [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ]
    }
}

/// [`advance_with`] with the sine and cosine of [`sin_cos`].
#[inline(always)]
pub(crate) fn advance(state: [f64; 4], push_right: bool, semi_implicit: bool) -> [f64; 4] {
    advance_with(state, sin_cos(state[2]), push_right, semi_implicit)
}

/// Whether the cart or the pole is past its threshold (strictly, as in Gymnasium). A NaN
/// state, reachable only through an absurd `set_state`, counts as terminal.
#[inline(always)]
pub(crate) fn is_terminal(x: f64, theta: f64) -> bool {
    !((-X_THRESHOLD..=X_THRESHOLD).contains(&x)
        && (-THETA_THRESHOLD..=THETA_THRESHOLD).contains(&theta))
}

/// The reward of a step that did or did not terminate.
#[inline(always)]
pub(crate) fn reward(terminated: bool, sutton_barto: bool) -> f64 {
    match (sutton_barto, terminated) {
        (false, _) => 1.0,
        (true, false) => 0.0,
        (true, true) => -1.0,
    }
}

/// The observation: the state rounded to `f32`, as Gymnasium casts its `float64` state.
#[inline(always)]
fn observe(s: &[f64; 4]) -> [f32; 4] {
    [s[0] as f32, s[1] as f32, s[2] as f32, s[3] as f32]
}

/// A start-state value: uniform in `[low, high)`, as NumPy's `uniform` (`low + (high − low)·u`).
#[inline]
pub(crate) fn draw_start(rng: &mut EnvRng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.next_f64()
}

/// Checks a state for `set_state`: four finite values.
pub(crate) fn check_state(state: &[f64]) -> Result<[f64; 4]> {
    let s: [f64; 4] = state.try_into().map_err(|_| Error::InvalidState {
        message: format!(
            "CartPole takes 4 values [x, x_dot, theta, theta_dot], got {}",
            state.len()
        ),
    })?;
    const NAMES: [&str; 4] = ["x", "x_dot", "theta", "theta_dot"];
    if let Some(i) = s.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidState {
            message: format!("{} must be finite, got {}", NAMES[i], s[i]),
        });
    }
    Ok(s)
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
}

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
/// observation has two values. [`set_state`](Env::set_state) still takes all four.
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

#[inline(always)]
fn hide_velocities(s: &[f64; 4]) -> [f32; 2] {
    [s[0] as f32, s[2] as f32]
}

impl Env for CartPoleNoVelocity {
    type Obs = [f32; 2];
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }

    fn reset(&mut self, seed: Option<u64>) -> Reset<[f32; 2]> {
        self.inner.reset_state(seed);
        Reset {
            obs: hide_velocities(&self.inner.state),
            info: Info::default(),
        }
    }

    #[inline]
    fn step(&mut self, action: usize) -> Result<Step<[f32; 2]>> {
        let terminated = self.inner.step_state(action)?;
        Ok(Step {
            obs: hide_velocities(&self.inner.state),
            reward: reward(terminated, self.inner.config.sutton_barto_reward),
            terminated,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        self.inner.render_ansi()
    }

    fn render_rgb(&self) -> Frame {
        self.inner.render_rgb()
    }

    fn name(&self) -> String {
        "CartPoleNoVelocity-v1".to_string()
    }

    /// Sets all four state values, velocities included (see [`CartPole`]'s `set_state`).
    fn set_state(&mut self, state: &[f64]) -> Result<[f32; 2]> {
        self.inner.set_state(state)?;
        Ok(hide_velocities(&self.inner.state()))
    }
}

/// The state as text, then the cart on a track of `[-2.4, 2.4]` m: `[|]` upright, `[/]`
/// leaning right, `[\]` leaning left (by more than 1°).
fn ansi(s: &[f64; 4]) -> String {
    const TRACK: usize = 49;
    let mut out = String::with_capacity(160);
    let _ = writeln!(
        out,
        "x={:+.4} x_dot={:+.4} theta={:+.4} theta_dot={:+.4}",
        s[0], s[1], s[2], s[3]
    );
    let frac = (s[0] + X_THRESHOLD) / (2.0 * X_THRESHOLD);
    let centre = (frac * (TRACK - 1) as f64)
        .round()
        .clamp(1.0, (TRACK - 2) as f64) as usize;
    let pole = if s[2] > 1f64.to_radians() {
        '/'
    } else if s[2] < -(1f64.to_radians()) {
        '\\'
    } else {
        '|'
    };
    out.push('|');
    for i in 0..TRACK {
        out.push(match i as isize - centre as isize {
            -1 => '[',
            0 => pole,
            1 => ']',
            _ => '-',
        });
    }
    out.push('|');
    out
}

/// A 600×400 picture like Gymnasium's: white background, black track line, black cart, the
/// pole as a brown bar at its angle, and a blue-grey axle. Geometry from Gymnasium
/// `cartpole.py` `render` (125 px per metre, cart 50×30 px centred 100 px above the bottom,
/// pole 10 px wide); positions are measured upward from the bottom row, as there after its
/// vertical flip.
fn draw(s: &[f64; 4]) -> Frame {
    const W: usize = 600;
    const H: usize = 400;
    const BLACK: [u8; 3] = [0, 0, 0];
    const POLE: [u8; 3] = [202, 152, 101];
    const AXLE: [u8; 3] = [129, 132, 203];
    let scale = W as f64 / (2.0 * X_THRESHOLD);
    let pole_width = 10.0;
    let pole_len = scale * (2.0 * HALF_LENGTH);
    let (cart_w, cart_h) = (50.0, 30.0);
    let cart_x = s[0] * scale + W as f64 / 2.0;
    let cart_y = 100.0;
    let axle_y = cart_y + cart_h / 4.0;
    let row = |y: f64| (H - 1) as i64 - y as i64;

    let mut frame = Frame::filled(H, W, [255, 255, 255]);

    // Cart: the pixels whose coordinates lie in the rectangle.
    let (x0, x1) = (
        (cart_x - cart_w / 2.0).ceil(),
        (cart_x + cart_w / 2.0).floor(),
    );
    let (y0, y1) = (cart_y - cart_h / 2.0, cart_y + cart_h / 2.0);
    if x0 <= x1 && x1 >= 0.0 && x0 < W as f64 {
        frame.fill_rect(row(y1), x0 as i64, row(y0) + 1, x1 as i64 + 1, BLACK);
    }

    // Pole: a rectangle pivoting at the axle, rotated clockwise by theta. A pixel is inside
    // when its coordinates in the pole's own frame (u across, v along) are within bounds.
    let (sin, cos) = s[2].sin_cos();
    let (u_lo, u_hi) = (-pole_width / 2.0, pole_width / 2.0);
    let (v_lo, v_hi) = (-pole_width / 2.0, pole_len - pole_width / 2.0);
    let corners = [(u_lo, v_lo), (u_lo, v_hi), (u_hi, v_hi), (u_hi, v_lo)]
        .map(|(u, v)| (cart_x + u * cos + v * sin, axle_y - u * sin + v * cos));
    let min_x = corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let max_x = corners
        .iter()
        .map(|c| c.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let min_y = corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
    let max_y = corners
        .iter()
        .map(|c| c.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let px_lo = min_x.ceil().max(0.0) as i64;
    let px_hi = max_x.floor().min((W - 1) as f64) as i64;
    let py_lo = min_y.ceil().max(0.0) as i64;
    let py_hi = max_y.floor().min((H - 1) as f64) as i64;
    for py in py_lo..=py_hi {
        for px in px_lo..=px_hi {
            let (dx, dy) = (px as f64 - cart_x, py as f64 - axle_y);
            let u = dx * cos - dy * sin;
            let v = dx * sin + dy * cos;
            if (u_lo..=u_hi).contains(&u) && (v_lo..=v_hi).contains(&v) {
                frame.set_pixel((H - 1) as i64 - py, px, POLE);
            }
        }
    }

    // Axle: a disc of radius 5 px at the integer part of its centre, as pygame draws it.
    let (ax, ay) = (cart_x as i64, axle_y as i64);
    let r = (pole_width / 2.0) as i64;
    for dy in -r..=r {
        for dx in -r..=r {
            if dx * dx + dy * dy <= r * r {
                frame.set_pixel((H - 1) as i64 - (ay + dy), ax + dx, AXLE);
            }
        }
    }

    // Track, drawn last, across the whole width.
    frame.fill_rect(row(cart_y), 0, row(cart_y) + 1, W as i64, BLACK);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::TimeLimit;

    fn env_with(params: &Params) -> CartPole {
        let mut config = CartPoleConfig::default();
        config.apply_params("CartPole-v1", params).unwrap();
        CartPole::new(config)
    }

    /// One episode of a reference file: the start state, then (action, obs, reward,
    /// terminated, truncated) per step.
    type Episode = ([f64; 4], Vec<(usize, [f32; 4], f64, bool, bool)>);

    fn parse_reference(text: &str) -> Vec<Episode> {
        let mut episodes: Vec<Episode> = Vec::new();
        let mut lines = text.lines().filter(|l| !l.starts_with('#'));
        assert_eq!(
            lines.next(),
            Some("episode,t,action,x,x_dot,theta,theta_dot,reward,terminated,truncated")
        );
        for line in lines {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 10, "{line}");
            let flag = |s: &str| match s {
                "0" => false,
                "1" => true,
                _ => panic!("bad flag {s} in {line}"),
            };
            if f[1] == "0" {
                let start = std::array::from_fn(|i| f[3 + i].parse::<f64>().unwrap());
                episodes.push((start, Vec::new()));
            } else {
                let obs = std::array::from_fn(|i| f[3 + i].parse::<f32>().unwrap());
                let row = (
                    f[2].parse().unwrap(),
                    obs,
                    f[7].parse().unwrap(),
                    flag(f[8]),
                    flag(f[9]),
                );
                episodes.last_mut().unwrap().1.push(row);
            }
        }
        episodes
    }

    /// Replays reference episodes through `TimeLimit(CartPole, 500)`, starting each from its
    /// recorded state. Observations must agree to 1e-5 — and in fact agree bit for bit, which
    /// is checked too: the arithmetic is Gymnasium's, and our sine and cosine are exact enough
    /// that no difference survives the rounding to `f32` on these trajectories. Rewards and
    /// flags must agree exactly, and the episode must be over after its last recorded step.
    fn replay(text: &str, params: Params) -> usize {
        let episodes = parse_reference(text);
        assert!(!episodes.is_empty());
        let mut env = TimeLimit::new(env_with(&params), 500);
        let mut steps = 0;
        for (e, (start, rows)) in episodes.iter().enumerate() {
            let _ = env.reset(Some(e as u64));
            env.set_state(start).unwrap();
            for (t, &(action, obs, reward, terminated, truncated)) in rows.iter().enumerate() {
                let step = env.step(action).unwrap();
                for (ours, theirs) in step.obs.iter().zip(&obs) {
                    assert!(
                        (ours - theirs).abs() <= 1e-5,
                        "episode {e} step {}: obs {:?}, Gymnasium {:?}",
                        t + 1,
                        step.obs,
                        obs
                    );
                }
                assert_eq!(
                    step.obs,
                    obs,
                    "episode {e} step {}: not bit-identical",
                    t + 1
                );
                assert_eq!(
                    (step.reward, step.terminated, step.truncated),
                    (reward, terminated, truncated),
                    "episode {e} step {}",
                    t + 1
                );
                steps += 1;
            }
            assert!(matches!(env.step(0), Err(Error::EpisodeEnded)));
        }
        steps
    }

    fn integrator(name: &str) -> Params {
        Params::new().with("kinematics_integrator", ParamValue::Str(name.into()))
    }

    // The reference files are written by `tools/gen_cartpole_reference.py` with gymnasium
    // 1.4.0: `gymnasium.make("CartPole-v1", ...)`, start state assigned to
    // `env.unwrapped.state` after reset, fixed action sequences.

    #[test]
    fn matches_gymnasium_random_episodes_euler() {
        let text = include_str!("../tests/data/cartpole_euler.csv");
        assert_eq!(replay(text, Params::new()), 137);
    }

    #[test]
    fn matches_gymnasium_random_episodes_semi_implicit_euler() {
        let text = include_str!("../tests/data/cartpole_semi_implicit_euler.csv");
        assert_eq!(replay(text, integrator("semi_implicit_euler")), 69);
    }

    #[test]
    fn matches_gymnasium_sutton_barto_reward() {
        let text = include_str!("../tests/data/cartpole_sutton_barto.csv");
        let params = Params::new().with("sutton_barto_reward", ParamValue::Bool(true));
        assert_eq!(replay(text, params), 32);
    }

    #[test]
    fn matches_gymnasium_balanced_to_the_time_limit_euler() {
        let text = include_str!("../tests/data/cartpole_balanced_euler.csv");
        assert_eq!(replay(text, Params::new()), 514);
    }

    #[test]
    fn matches_gymnasium_balanced_to_the_time_limit_semi_implicit_euler() {
        let text = include_str!("../tests/data/cartpole_balanced_semi_implicit_euler.csv");
        assert_eq!(replay(text, integrator("semi_implicit_euler")), 500);
    }

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn polynomial_sine_and_cosine_are_within_one_ulp() {
        // Correctly rounded values from mpmath at 200 bits:
        // `float(mpmath.sin(mpmath.mpf(x))), float(mpmath.cos(mpmath.mpf(x)))`.
        let reference = [
            (0.0, 0.0, 1.0),
            (1e-09, 1e-09, 1.0),
            (-3.5e-05, -3.499999999285416e-05, 0.9999999993875),
            (0.001, 0.0009999998333333417, 0.9999995000000417),
            (-0.0137, -0.01369957144518846, 0.9999061564678048),
            (0.05, 0.04997916927067833, 0.9987502603949663),
            (-0.1, -0.09983341664682815, 0.9950041652780258),
            (0.2, 0.19866933079506122, 0.9800665778412416),
            (0.20943951023931953, 0.20791169081775931, 0.9781476007338057),
            (-0.25, -0.24740395925452294, 0.9689124217106447),
            (0.3, 0.29552020666133955, 0.955336489125606),
            (-0.5, -0.479425538604203, 0.8775825618903728),
            (0.7, 0.644217687237691, 0.7648421872844885),
            (0.78, 0.7032794192004101, 0.7109135380122773),
        ];
        for (x, sin, cos) in reference {
            let (s, c) = sin_cos(x);
            assert!(ulps(s, sin) <= 1 && ulps(c, cos) <= 1, "{x}: ({s}, {c})");
        }
        // Beyond pi/4 the library is used.
        assert_eq!(sin_cos(1.0), 1.0f64.sin_cos());
        assert_eq!(sin_cos(-100.0), (-100.0f64).sin_cos());
    }

    #[test]
    fn seeded_reset_is_deterministic_and_none_continues_the_stream() {
        let mut a = CartPole::new(CartPoleConfig::default());
        let mut b = CartPole::new(CartPoleConfig::default());
        let first = a.reset(Some(3)).obs;
        assert_eq!(b.reset(Some(3)).obs, first);
        assert_eq!(a.state(), b.state());
        for action in [0, 1, 1, 0, 1] {
            assert_eq!(a.step(action).unwrap(), b.step(action).unwrap());
        }
        let second = a.reset(None).obs;
        assert_ne!(second, first);
        assert_eq!(b.reset(None).obs, second);
        assert_ne!(a.reset(Some(4)).obs, first);
        assert_eq!(a.reset(Some(3)).obs, first);
    }

    #[test]
    fn unseeded_envs_draw_different_start_states() {
        let mut a = CartPole::new(CartPoleConfig::default());
        let mut b = CartPole::new(CartPoleConfig::default());
        assert_ne!(a.reset(None).obs, b.reset(None).obs);
    }

    #[test]
    fn reset_states_lie_within_the_bounds() {
        for (low, high) in [(-0.05, 0.05), (-0.2, 0.1), (0.01, 0.02)] {
            let params = Params::new()
                .with("reset_low", ParamValue::Float(low))
                .with("reset_high", ParamValue::Float(high));
            let mut env = env_with(&params);
            let _ = env.reset(Some(9));
            let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
            for _ in 0..500 {
                let obs = env.reset(None).obs;
                assert!(env.observation_space().as_box().unwrap().contains(&obs));
                for v in env.state() {
                    assert!(low <= v && v < high, "{v} not in [{low}, {high})");
                    min = min.min(v);
                    max = max.max(v);
                }
            }
            // 2000 uniform draws come close to both ends.
            let width = high - low;
            assert!(min < low + 0.01 * width && max > high - 0.01 * width);
        }
        let mut fixed = env_with(
            &Params::new()
                .with("reset_low", ParamValue::Float(0.0))
                .with("reset_high", ParamValue::Float(0.0)),
        );
        assert_eq!(fixed.reset(Some(1)).obs, [0.0; 4]);
    }

    #[test]
    fn step_before_reset_after_end_and_with_a_bad_action() {
        let mut env = CartPole::new(CartPoleConfig::default());
        assert!(matches!(env.step(0), Err(Error::NotReset)));
        let _ = env.reset(Some(0));
        let before = env.state();
        let err = env.step(2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid action 2: not in the action space Discrete(2)"
        );
        assert_eq!(env.state(), before);
        let mut terminated = false;
        for _ in 0..200 {
            let step = env.step(0).unwrap();
            assert!(!step.truncated);
            if step.terminated {
                terminated = true;
                break;
            }
        }
        assert!(terminated, "pushing left forever must drop the pole");
        let ended = env.state();
        assert!(matches!(env.step(0), Err(Error::EpisodeEnded)));
        assert_eq!(env.state(), ended);
        let _ = env.reset(None);
        assert!(env.step(0).is_ok());
    }

    #[test]
    fn rewards_are_one_per_step_including_the_last() {
        let mut env = CartPole::new(CartPoleConfig::default());
        let _ = env.reset(Some(5));
        loop {
            let step = env.step(1).unwrap();
            assert_eq!(step.reward, 1.0);
            if step.terminated {
                break;
            }
        }
    }

    #[test]
    fn spaces_match_gymnasium() {
        let env = CartPole::new(CartPoleConfig::default());
        assert_eq!(env.action_space(), &Space::discrete(2));
        let b = env.observation_space().as_box().unwrap();
        // `gymnasium.make("CartPole-v1").observation_space.high.tolist()`.
        let high = [
            4.800000190734863,
            f64::INFINITY,
            0.41887903213500977,
            f64::INFINITY,
        ];
        for (i, h) in high.into_iter().enumerate() {
            assert_eq!(b.high()[i] as f64, h);
            assert_eq!(b.low()[i] as f64, -h);
        }
        assert_eq!(
            env.observation_space().to_string(),
            "Box([-4.8, -inf, -0.41887903, -inf], [4.8, inf, 0.41887903, inf], (4,), float32)"
        );
        // `12 * 2 * math.pi / 360` in Python.
        assert_eq!(THETA_THRESHOLD, 0.20943951023931953);
    }

    #[test]
    fn params_apply_and_reject_bad_values() {
        let mut c = CartPoleConfig::default();
        let p = Params::new()
            .with(
                "kinematics_integrator",
                ParamValue::Str("semi_implicit_euler".into()),
            )
            .with("sutton_barto_reward", ParamValue::Bool(true))
            .with("reset_low", ParamValue::Float(-0.1))
            .with("reset_high", ParamValue::Int(0))
            .with("max_episode_steps", ParamValue::Int(200));
        c.apply_params("CartPole-v1", &p).unwrap();
        assert_eq!(
            c,
            CartPoleConfig {
                kinematics_integrator: KinematicsIntegrator::SemiImplicitEuler,
                sutton_barto_reward: true,
                reset_low: -0.1,
                reset_high: 0.0,
                max_episode_steps: 200,
            }
        );

        let err = |p: Params| {
            let mut c = CartPoleConfig::default();
            let e = c.apply_params("CartPole-v1", &p).unwrap_err().to_string();
            assert_eq!(
                c,
                CartPoleConfig::default(),
                "config changed by a failed apply"
            );
            e
        };
        let e = err(Params::new().with("gravity", ParamValue::Float(1.0)));
        assert!(
            e.contains("`gravity`") && e.contains("kinematics_integrator"),
            "{e}"
        );
        assert_eq!(
            err(Params::new().with("kinematics_integrator", ParamValue::Str("rk4".into()))),
            "invalid value \"rk4\" for `kinematics_integrator`: expected one of euler, \
             semi_implicit_euler"
        );
        assert_eq!(
            err(Params::new().with("sutton_barto_reward", ParamValue::Int(1))),
            "invalid value 1 for `sutton_barto_reward`: expected a boolean"
        );
        assert_eq!(
            err(Params::new().with("reset_high", ParamValue::Float(0.5))),
            "invalid value 0.5 for `reset_high`: expected a finite number in [-0.2, 0.2]"
        );
        assert_eq!(
            err(Params::new().with("reset_low", ParamValue::Float(f64::NAN))),
            "invalid value NaN for `reset_low`: expected a finite number in [-0.2, 0.2]"
        );
        assert_eq!(
            err(Params::new().with("reset_low", ParamValue::Float(0.06))),
            "invalid value 0.06 for `reset_low`: expected reset_low ≤ reset_high \
             (reset_low = 0.06, reset_high = 0.05)"
        );
        assert_eq!(
            err(Params::new().with("reset_high", ParamValue::Float(-0.06))),
            "invalid value -0.06 for `reset_high`: expected reset_low ≤ reset_high \
             (reset_low = -0.05, reset_high = -0.06)"
        );
        for bad in [
            ParamValue::Int(0),
            ParamValue::Int(-3),
            ParamValue::Float(10.0),
        ] {
            let shown = bad.to_string();
            let e = err(Params::new().with("max_episode_steps", bad));
            assert!(e.starts_with(&format!("invalid value {shown} for `max_episode_steps`")));
        }
    }

    #[test]
    fn set_state_checks_its_input() {
        let mut env = CartPole::new(CartPoleConfig::default());
        assert_eq!(
            env.set_state(&[0.0; 4]).unwrap_err().to_string(),
            "invalid state: CartPole takes a state only after reset"
        );
        let _ = env.reset(Some(0));
        assert_eq!(
            env.set_state(&[0.0; 3]).unwrap_err().to_string(),
            "invalid state: CartPole takes 4 values [x, x_dot, theta, theta_dot], got 3"
        );
        assert_eq!(
            env.set_state(&[0.0, 0.0, f64::INFINITY, 0.0])
                .unwrap_err()
                .to_string(),
            "invalid state: theta must be finite, got inf"
        );
        env.set_state(&[0.1, -0.2, 0.03, 0.4]).unwrap();
        assert_eq!(env.state(), [0.1, -0.2, 0.03, 0.4]);
        // A state past the threshold terminates on the next step.
        env.set_state(&[2.5, 0.0, 0.0, 0.0]).unwrap();
        assert!(env.step(0).unwrap().terminated);
    }

    #[test]
    fn observations_stay_in_the_space_over_random_episodes() {
        let mut env = CartPole::new(CartPoleConfig::default());
        let mut rng = EnvRng::seed_from_u64(11);
        let space = env.observation_space().as_box().unwrap().clone();
        for e in 0..50 {
            assert!(space.contains(&env.reset(Some(e)).obs));
            loop {
                let step = env.step(rng.below(2)).unwrap();
                assert!(space.contains(&step.obs), "{:?}", step.obs);
                if step.terminated {
                    break;
                }
            }
        }
    }

    #[test]
    fn no_velocity_variant_hides_the_velocities() {
        let mut full = CartPole::new(CartPoleConfig::default());
        let mut partial = CartPoleNoVelocity::new(CartPoleConfig::default());
        let f = full.reset(Some(8)).obs;
        assert_eq!(partial.reset(Some(8)).obs, [f[0], f[2]]);
        for action in [1, 1, 0, 1, 0, 0, 0, 1] {
            let a = full.step(action).unwrap();
            let b = partial.step(action).unwrap();
            assert_eq!(b.obs, [a.obs[0], a.obs[2]]);
            assert_eq!((b.reward, b.terminated), (a.reward, a.terminated));
        }
        assert_eq!(partial.state(), full.state());
        partial.set_state(&[0.5, 1.0, -0.1, 2.0]).unwrap();
        assert_eq!(partial.state(), [0.5, 1.0, -0.1, 2.0]);
        assert_eq!(
            partial.observation_space().to_string(),
            "Box([-4.8, -0.41887903], [4.8, 0.41887903], (2,), float32)"
        );
        assert!(matches!(partial.step(2), Err(Error::InvalidAction { .. })));
        assert_eq!(partial.name(), "CartPoleNoVelocity-v1");
    }

    #[test]
    fn rgb_frame_shows_track_cart_pole_and_axle() {
        let mut env = CartPole::new(CartPoleConfig::default());
        let _ = env.reset(Some(0));
        env.set_state(&[0.0, 0.0, 0.0, 0.0]).unwrap();
        let f = env.render_rgb();
        assert_eq!((f.height, f.width, f.data.len()), (400, 600, 400 * 600 * 3));
        let white = [255, 255, 255];
        let (black, pole, axle) = ([0, 0, 0], [202, 152, 101], [129, 132, 203]);
        // Rows count down from the top: height 100 px above the bottom is row 299.
        assert_eq!(f.pixel(299, 0), black, "track");
        assert_eq!(f.pixel(299, 599), black, "track");
        assert_eq!(f.pixel(0, 0), white);
        assert_eq!(f.pixel(310, 280), black, "cart body");
        assert_eq!(f.pixel(310, 330), white, "right of the cart");
        assert_eq!(f.pixel(292, 300), axle, "axle at height 107");
        assert_eq!(f.pixel(200, 300), pole, "upright pole above the axle");
        assert_eq!(f.pixel(200, 310), white, "beside the upright pole");
        assert_eq!(
            f.pixel(170, 300),
            white,
            "above the pole's tip at height 227.5"
        );

        // Cart 1 m to the right (125 px), pole leaning right by 0.3 rad.
        env.set_state(&[1.0, 0.0, 0.3, 0.0]).unwrap();
        let f = env.render_rgb();
        assert_eq!(f.pixel(310, 425), black, "cart moved right");
        assert_eq!(f.pixel(310, 300), white, "old cart position");
        // A point 80 px along the pole from the axle (425, 107.5).
        let (x, y) = (425.0 + 80.0 * 0.3f64.sin(), 107.5 + 80.0 * 0.3f64.cos());
        assert_eq!(f.pixel(399 - y.round() as usize, x.round() as usize), pole);
        assert_eq!(f.pixel(399 - y.round() as usize, 425), white, "not upright");

        // Far off the screen: nothing but the track, and no panic.
        env.set_state(&[1e9, 0.0, 1.0, 0.0]).unwrap();
        let f = env.render_rgb();
        assert!((0..400).all(|r| f.pixel(r, 300) == if r == 299 { black } else { white }));
    }

    #[test]
    fn ansi_shows_the_state_and_the_cart() {
        let mut env = CartPole::new(CartPoleConfig::default());
        let _ = env.reset(Some(0));
        env.set_state(&[0.0, 0.5, 0.1, -1.25]).unwrap();
        let text = env.render_ansi();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "x=+0.0000 x_dot=+0.5000 theta=+0.1000 theta_dot=-1.2500"
        );
        assert_eq!(lines[1].len(), 51);
        assert_eq!(lines[1].find("[/]"), Some(24));
        env.set_state(&[-2.4, 0.0, -0.1, 0.0]).unwrap();
        assert!(
            env.render_ansi()
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("|[\\]--")
        );
        env.set_state(&[2.4, 0.0, 0.0, 0.0]).unwrap();
        assert!(env.render_ansi().ends_with("--[|]|"));
    }
}
