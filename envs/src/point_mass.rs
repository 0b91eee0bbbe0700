//! [`PointMass`]: push a point mass along a line to the origin with a continuous force — the
//! smallest env with a Box action, registered as `PointMass-v0`.

use rand::SeedableRng;

use crate::{
    BoxSpace, Env, EnvRng, Error, Frame, Info, Reset, Result, Space, Step, check_box_action,
};

/// The id [`PointMass`] is registered under.
pub const POINT_MASS_ID: &str = "PointMass-v0";

/// The registry's time limit for `PointMass-v0`, in steps.
pub const MAX_EPISODE_STEPS: u64 = 200;

/// The time one step lasts, seconds.
pub const DT: f64 = 0.1;

/// The ends of the track, metres: the mass moves in `[-X_LIMIT, X_LIMIT]`.
pub const X_LIMIT: f64 = 1.0;

/// The largest speed the observation space allows, m/s. The mass cannot reach it: from rest at
/// one end, full force reaches the other end at under 2 m/s.
pub const V_LIMIT: f64 = 2.0;

/// The largest force, newtons: the action box is `[-F_MAX, F_MAX]`.
pub const F_MAX: f32 = 1.0;

/// Half the width of the start interval, metres: the start position is uniform in
/// `[-START, START)`.
pub const START: f64 = 0.5;

/// Where an episode stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotReset,
    Running,
}

/// Push a point mass along a line towards the origin with a continuous force.
///
/// # Description
/// A point of mass 1 kg slides without friction on a track from −1 m to 1 m. Each step the
/// agent applies a force for [`DT`] = 0.1 s, and the goal is to bring the mass to the origin
/// and keep it there. The motion is semi-implicit Euler: the velocity first, `v ← v + F·DT`,
/// then the position with the new velocity, `x ← x + v·DT`. At an end of the track the mass
/// stops: `x` is clamped to the end and `v` set to 0. Everything is computed in `f64`.
///
/// It exists to carry a Box action through the whole stack (the checker, vector envs, the
/// registry, the CLI); it is no benchmark.
///
/// # Action space
/// `Box(-1, 1, (1,), float32)`: the force, newtons, positive to the right. An action of the
/// wrong length, out of bounds, NaN or infinite is [`Error::InvalidAction`] and changes
/// nothing.
///
/// # Observation space
/// `Box([-1, -2], [1, 2], (2,), float32)`:
///
/// | index | meaning | min | max |
/// |---|---|---|---|
/// | 0 | position `x`, m | −1 | 1 |
/// | 1 | velocity `v`, m/s | −2 | 2 |
///
/// # Rewards
/// `−x²` of the position after the step: in `[-1, 0]`, 0 only at the origin.
///
/// # Starting state
/// `x` uniform in `[-0.5, 0.5)`, `v = 0`.
///
/// # Episode end
/// - Termination: never.
/// - Truncation: never by the env itself; [`make`](crate::make) wraps it in a
///   [`TimeLimit`](crate::wrappers::TimeLimit) of [`MAX_EPISODE_STEPS`] (200), or of the
///   `max_episode_steps` parameter.
///
/// # Parameters
/// `max_episode_steps` (an integer ≥ 1, default 200), the registry's time limit. The dynamics
/// take none.
///
/// # Version notes
/// `PointMass-v0`: first version. Gymnasium has no counterpart (its nearest is
/// `MountainCarContinuous-v0`, a point mass in a valley).
///
/// ```
/// use qlab_envs::point_mass::PointMass;
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = PointMass::new();
/// let x0 = env.reset(Some(0)).obs[0];
/// let step = env.step([1.0])?; // push right for 0.1 s: v = 0.1 m/s, x moves 1 cm
/// assert_eq!(step.obs[1], 0.1);
/// assert!((step.obs[0] - (x0 + 0.01)).abs() < 1e-6);
/// let x = env.state()[0];
/// assert_eq!(step.reward, -(x * x));
/// assert!(env.step([1.5]).is_err()); // out of bounds: rejected, nothing moves
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PointMass {
    /// `[x, v]`, metres and metres per second.
    state: [f64; 2],
    phase: Phase,
    rng: EnvRng,
    observation_space: Space,
    action_space: Space,
}

impl Default for PointMass {
    fn default() -> Self {
        Self::new()
    }
}

impl PointMass {
    /// A point mass at rest at the origin; call [`reset`](Env::reset) before stepping. Its
    /// stream is drawn from the OS until a seeded reset.
    pub fn new() -> Self {
        let high = [X_LIMIT as f32, V_LIMIT as f32];
        PointMass {
            state: [0.0; 2],
            phase: Phase::NotReset,
            rng: EnvRng::from_os_entropy(),
            observation_space: BoxSpace::from_bounds(high.map(|h| -h).to_vec(), high.to_vec())
                .into(),
            action_space: BoxSpace::uniform(-F_MAX, F_MAX, vec![1]).into(),
        }
    }

    /// The full-precision state `[x, v]`.
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    fn observe(&self) -> [f32; 2] {
        self.state.map(|v| v as f32)
    }
}

impl Env for PointMass {
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
            self.rng = EnvRng::seed_from_u64(seed);
        }
        self.state = [START * (2.0 * self.rng.next_f64() - 1.0), 0.0];
        self.phase = Phase::Running;
        Reset {
            obs: self.observe(),
            info: Info::default(),
        }
    }

    #[inline]
    fn step(&mut self, action: [f32; 1]) -> Result<Step<[f32; 2]>> {
        if self.phase == Phase::NotReset {
            return Err(Error::NotReset);
        }
        check_box_action(&action, &self.action_space)?;
        let [mut x, mut v] = self.state;
        v = (v + f64::from(action[0]) * DT).clamp(-V_LIMIT, V_LIMIT);
        x += v * DT;
        if x.abs() >= X_LIMIT {
            // An end of the track: the mass stops against it.
            x = x.clamp(-X_LIMIT, X_LIMIT);
            v = 0.0;
        }
        self.state = [x, v];
        Ok(Step {
            obs: self.observe(),
            reward: -(x * x),
            terminated: false,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        const CELLS: usize = 21;
        let [x, v] = self.state;
        let at = ((x + X_LIMIT) / (2.0 * X_LIMIT) * (CELLS - 1) as f64).round() as usize;
        let track: String = (0..CELLS)
            .map(|i| match i {
                _ if i == at.min(CELLS - 1) => 'o',
                _ if i == CELLS / 2 => '+',
                _ => '-',
            })
            .collect();
        format!("|{track}| x={x:+.3} v={v:+.3}")
    }

    fn render_rgb(&self) -> Frame {
        const W: i64 = 200;
        const H: i64 = 40;
        let mut frame = Frame::filled(H as usize, W as usize, [255, 255, 255]);
        frame.fill_rect(H / 2, 0, H / 2 + 1, W, [120, 120, 120]);
        frame.fill_rect(H / 2 - 6, W / 2, H / 2 + 7, W / 2 + 1, [40, 160, 40]);
        let cx = ((self.state[0] + X_LIMIT) / (2.0 * X_LIMIT) * (W - 1) as f64).round() as i64;
        frame.fill_rect(H / 2 - 4, cx - 4, H / 2 + 5, cx + 5, [200, 60, 40]);
        frame
    }

    fn name(&self) -> String {
        POINT_MASS_ID.to_string()
    }

    /// Sets `[x, v]` after a reset: two finite values, `|x| ≤ 1`, `|v| ≤ 2`.
    fn set_state(&mut self, state: &[f64]) -> Result<[f32; 2]> {
        let ok = |v: f64, limit: f64| v.is_finite() && v.abs() <= limit;
        match state {
            &[x, v] if ok(x, X_LIMIT) && ok(v, V_LIMIT) => {}
            _ => {
                return Err(Error::InvalidState {
                    message: format!(
                        "{POINT_MASS_ID} takes 2 finite values [x, v] with |x| ≤ {X_LIMIT} \
                         and |v| ≤ {V_LIMIT}, got {state:?}"
                    ),
                });
            }
        }
        if self.phase == Phase::NotReset {
            return Err(Error::InvalidState {
                message: format!("{POINT_MASS_ID} takes a state only after reset"),
            });
        }
        self.state = [state[0], state[1]];
        Ok(self.observe())
    }

    /// Always `Some`: the start position of each episode is drawn from it, and nothing else
    /// is random.
    fn rng_state(&self) -> Option<[u64; 4]> {
        Some(self.rng.state())
    }

    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = crate::rng::restore(state, POINT_MASS_ID)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_env;
    use crate::wrappers::TimeLimit;

    #[test]
    fn passes_the_checker_with_and_without_a_time_limit() {
        check_env(PointMass::new, 3, 50).unwrap();
        check_env(|| TimeLimit::new(PointMass::new(), 30), 3, 50).unwrap();
    }

    /// Hand-computed: from x = 0.5 at rest, three full pushes left.
    #[test]
    fn integrates_semi_implicitly_and_pays_minus_x_squared() {
        let mut env = PointMass::new();
        env.reset(Some(0));
        env.set_state(&[0.5, 0.0]).unwrap();
        let mut xs = Vec::new();
        for _ in 0..3 {
            let s = env.step([-1.0]).unwrap();
            xs.push(env.state()[0]);
            assert_eq!(s.reward, -(env.state()[0] * env.state()[0]));
            assert!(!s.terminated && !s.truncated);
        }
        // v = -0.1, -0.2, -0.3; x = 0.5 - 0.01, - 0.02 more, - 0.03 more.
        let want = [0.49, 0.47, 0.44];
        for (x, w) in xs.iter().zip(want) {
            assert!((x - w).abs() < 1e-12, "{xs:?}");
        }
        assert!((env.state()[1] + 0.3).abs() < 1e-12);
    }

    #[test]
    fn stops_at_the_ends_of_the_track() {
        let mut env = PointMass::new();
        env.reset(Some(0));
        env.set_state(&[0.99, 1.0]).unwrap();
        let s = env.step([1.0]).unwrap();
        assert_eq!(s.obs, [1.0, 0.0]);
        assert_eq!(s.reward, -1.0);
        let s = env.step([-1.0]).unwrap();
        assert!((s.obs[0] - 0.99).abs() < 1e-6 && (s.obs[1] + 0.1).abs() < 1e-6);
    }

    #[test]
    fn bad_actions_and_states_are_errors_that_change_nothing() {
        let mut env = PointMass::new();
        assert!(matches!(env.step([0.0]), Err(Error::NotReset)));
        assert!(env.set_state(&[0.0, 0.0]).is_err());
        env.reset(Some(1));
        let before = env.state();
        for bad in [[1.01], [-2.0], [f32::NAN], [f32::INFINITY]] {
            let e = env.step(bad).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{bad:?}")) && e.contains("Box(-1, 1, (1,), float32)"),
                "{e}"
            );
        }
        assert_eq!(env.state(), before);
        for bad in [&[0.0][..], &[1.5, 0.0], &[0.0, f64::NAN], &[0.0, 2.5]] {
            let e = env.set_state(bad).unwrap_err().to_string();
            assert!(e.contains("takes 2 finite values"), "{e}");
        }
        assert_eq!(env.state(), before);
    }

    #[test]
    fn starts_inside_the_start_interval_and_renders() {
        let mut env = PointMass::new();
        for seed in 0..50 {
            let obs = env.reset(Some(seed)).obs;
            assert!(obs[0].abs() <= START as f32 && obs[1] == 0.0, "{obs:?}");
        }
        env.set_state(&[-1.0, 0.0]).unwrap();
        assert!(
            env.render_ansi().starts_with("|o---"),
            "{}",
            env.render_ansi()
        );
        env.set_state(&[0.0, 0.0]).unwrap();
        assert!(
            env.render_ansi().contains("----o----"),
            "{}",
            env.render_ansi()
        );
        let frame = env.render_rgb();
        assert_eq!(frame.pixel(20, 100), [200, 60, 40]);
        assert_eq!(frame.pixel(2, 2), [255, 255, 255]);
    }

    #[test]
    fn rng_state_resumes_the_start_positions() {
        let mut env = PointMass::new();
        env.reset(Some(4));
        let saved = env.rng_state().unwrap();
        let ahead: Vec<f32> = (0..5).map(|_| env.reset(None).obs[0]).collect();
        let mut other = PointMass::new();
        other.set_rng_state(saved).unwrap();
        let again: Vec<f32> = (0..5).map(|_| other.reset(None).obs[0]).collect();
        assert_eq!(again, ahead);
        assert!(other.set_rng_state([0; 4]).is_err());
    }
}
