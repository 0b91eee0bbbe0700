//! [`ShortCorridor`]: Sutton & Barto's short corridor with switched actions (Example 13.1),
//! registered as `ShortCorridor-v0`.

use crate::{Env, EnvRng, Error, Frame, Info, Model, Params, Reset, Result, Space, Step};
use crate::{Transition, check_discrete_action, params::invalid};

/// The id [`ShortCorridor`] is registered under.
pub const SHORT_CORRIDOR_ID: &str = "ShortCorridor-v0";

/// The registry's time limit, in steps: far beyond any sensible policy's episodes (the
/// best stochastic policy's average 11.7 steps), it only ends the endless episodes of a
/// deterministic policy under aliasing.
pub const MAX_EPISODE_STEPS: u64 = 1000;

/// Action 0: move left.
pub const LEFT: usize = 0;
/// Action 1: move right.
pub const RIGHT: usize = 1;

/// The number of states: three in the corridor and the goal.
pub const N_STATES: usize = 4;

/// The goal, the terminal state.
pub const GOAL: usize = 3;

/// The probability of moving right of the best policy that cannot tell the states apart:
/// `2 − √2 ≈ 0.5858`, the minimiser of the start state's cost (see
/// [`ShortCorridor::start_value`]).
pub const OPTIMAL_RIGHT_PROBABILITY: f64 = 2.0 - std::f64::consts::SQRT_2;

/// The start state's value under that policy: `−(6 + 4√2) ≈ −11.657` (the book's "about
/// −11.6").
pub const OPTIMAL_START_VALUE: f64 = -(6.0 + 4.0 * std::f64::consts::SQRT_2);

/// The parameters [`ShortCorridor`] takes.
pub const ALLOWED_PARAMS: &[&str] = &["aliased", "max_episode_steps"];

/// `ShortCorridor-v0`'s settings.
///
/// | field | default | valid |
/// |---|---|---|
/// | `aliased` | `true` | whether every state is observed as 0 (the book's setting) |
/// | `max_episode_steps` | 1000 | an integer ≥ 1 (the registry's time limit) |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShortCorridorConfig {
    /// Every state observed as 0, so that no policy can tell them apart (the book's example);
    /// otherwise the state index is observed.
    pub aliased: bool,
    /// The registry's time limit, in steps.
    pub max_episode_steps: u64,
}

impl Default for ShortCorridorConfig {
    fn default() -> Self {
        Self {
            aliased: true,
            max_episode_steps: MAX_EPISODE_STEPS,
        }
    }
}

impl ShortCorridorConfig {
    /// Applies `aliased` and `max_episode_steps` from `params` (env `id`); other keys are
    /// errors, and nothing changes on an error.
    ///
    /// # Errors
    /// An unknown key or a value of the wrong type or range.
    pub fn apply_params(&mut self, id: &str, params: &Params) -> Result<()> {
        params.check_keys(id, ALLOWED_PARAMS)?;
        let mut next = self.clone();
        if let Some(aliased) = params.bool("aliased")? {
            next.aliased = aliased;
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

/// The corridor's dynamics as a [`Model`]: the state index, for envs that observe it.
#[derive(Clone, Debug)]
struct CorridorModel {
    /// `transitions[s][a]`: one certain outcome each.
    transitions: Vec<[Transition; 1]>,
}

impl CorridorModel {
    fn new() -> Self {
        let mut transitions = Vec::with_capacity(N_STATES * 2);
        for s in 0..N_STATES {
            for a in [LEFT, RIGHT] {
                let next_state = next(s, a);
                transitions.push([Transition {
                    prob: 1.0,
                    next_state,
                    reward: -1.0,
                    terminated: next_state == GOAL,
                }]);
            }
        }
        CorridorModel { transitions }
    }
}

impl Model for CorridorModel {
    fn n_states(&self) -> usize {
        N_STATES
    }

    fn n_actions(&self) -> usize {
        2
    }

    fn transitions(&self, state: usize, action: usize) -> &[Transition] {
        &self.transitions[state * 2 + action]
    }

    fn initial_states(&self) -> &[(usize, f64)] {
        &[(0, 1.0)]
    }

    fn is_terminal(&self, state: usize) -> bool {
        state == GOAL
    }
}

/// Where action `a` leads from state `s` (the goal leads to itself).
fn next(s: usize, a: usize) -> usize {
    match (s, a) {
        (GOAL, _) => GOAL,
        // The second state has its actions switched.
        (1, LEFT) => 2,
        (1, _) => 0,
        (0, LEFT) => 0,
        (s, LEFT) => s - 1,
        (s, _) => s + 1,
    }
}

/// Whether an episode is under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotReset,
    Running,
    Ended,
}

/// Sutton & Barto's short corridor with switched actions (Example 13.1): a policy that cannot
/// tell the states apart does best by acting at random.
///
/// # Description
/// Three states in a row and a goal to their right. Left and right move one state that way in
/// the first and third states (left in the first stays put); in the second state the actions
/// are switched: right moves left and left moves right. Every step costs −1 until the goal.
/// With the states aliased (the default), every observation is the same, so a policy chooses
/// right with one probability `p` everywhere: a deterministic one never arrives, and the best
/// is `p = 2 − √2` ([`OPTIMAL_RIGHT_PROBABILITY`]), with the start state's value
/// `−(6 + 4√2) ≈ −11.66` ([`OPTIMAL_START_VALUE`]; [`ShortCorridor::start_value`] gives any
/// `p`'s). This is the book's example for policy-gradient methods (Figures 13.1 and 13.2).
///
/// # Action space
/// `Discrete(2)`: 0 left, 1 right. Another action is [`Error::InvalidAction`] and changes
/// nothing.
///
/// # Observation space
/// Aliased: `Discrete(1)`, always 0. With `aliased = false`: `Discrete(4)`, the state index
/// (0, 1, 2 in the corridor from the left, 3 the goal).
///
/// # Rewards
/// −1 for every step, the one into the goal included.
///
/// # Starting state
/// Always the leftmost state, 0; the env draws nothing at random.
///
/// # Episode end
/// - Termination: reaching the goal.
/// - Truncation: never by the env itself; [`make`](crate::make) wraps it in a
///   [`TimeLimit`](crate::wrappers::TimeLimit) of [`MAX_EPISODE_STEPS`] (1000), or of the
///   `max_episode_steps` parameter.
///
/// # Parameters
/// `aliased` (a boolean, default `true`) and `max_episode_steps` (an integer ≥ 1, default
/// 1000): [`ShortCorridorConfig`].
///
/// # Version notes
/// `ShortCorridor-v0`: first version. Gymnasium has no counterpart; the dynamics are the
/// book's. With `aliased = false` the env has an exact [`Model`] (the state is observed, so
/// dynamic programming applies: the best deterministic policy arrives in 3 steps).
///
/// ```
/// use qlab_envs::short_corridor::{LEFT, RIGHT, ShortCorridor, ShortCorridorConfig};
/// use qlab_envs::Env;
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = ShortCorridor::new(ShortCorridorConfig { aliased: false, ..Default::default() });
/// assert_eq!(env.reset(None).obs, 0);
/// assert_eq!(env.step(RIGHT)?.obs, 1);
/// assert_eq!(env.step(RIGHT)?.obs, 0); // switched: right moves left here
/// assert_eq!(env.step(RIGHT)?.obs, 1);
/// assert_eq!(env.step(LEFT)?.obs, 2);
/// let last = env.step(RIGHT)?;
/// assert!(last.terminated && last.obs == 3 && last.reward == -1.0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ShortCorridor {
    config: ShortCorridorConfig,
    state: usize,
    phase: Phase,
    observation_space: Space,
    action_space: Space,
    model: CorridorModel,
}

impl ShortCorridor {
    /// A corridor with `config`'s observation; call [`reset`](Env::reset) before stepping.
    pub fn new(config: ShortCorridorConfig) -> Self {
        let n = if config.aliased { 1 } else { N_STATES };
        ShortCorridor {
            config,
            state: 0,
            phase: Phase::NotReset,
            observation_space: Space::discrete(n),
            action_space: Space::discrete(2),
            model: CorridorModel::new(),
        }
    }

    /// The state the agent is in (0, 1, 2, or [`GOAL`]), whatever it observes.
    pub fn state(&self) -> usize {
        self.state
    }

    /// The start state's value under the policy that moves right with probability `p` in
    /// every state: `−2 (2 − p) / (p (1 − p))` (from the three Bellman equations), `−∞` for
    /// `p` of 0 or 1.
    pub fn start_value(p: f64) -> f64 {
        -2.0 * (2.0 - p) / (p * (1.0 - p))
    }

    fn observe(&self) -> usize {
        if self.config.aliased { 0 } else { self.state }
    }
}

impl Env for ShortCorridor {
    type Obs = usize;
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    /// Starts in state 0; the seed is accepted and changes nothing (there is no randomness).
    fn reset(&mut self, _seed: Option<u64>) -> Reset<usize> {
        self.state = 0;
        self.phase = Phase::Running;
        Reset {
            obs: self.observe(),
            info: Info::default(),
        }
    }

    fn step(&mut self, action: usize) -> Result<Step<usize>> {
        match self.phase {
            Phase::NotReset => return Err(Error::NotReset),
            Phase::Ended => return Err(Error::EpisodeEnded),
            Phase::Running => {}
        }
        check_discrete_action(action, &self.action_space)?;
        self.state = next(self.state, action);
        let terminated = self.state == GOAL;
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
        let cells: String = (0..N_STATES)
            .map(|s| match s {
                _ if s == self.state => 'A',
                GOAL => 'G',
                1 => 'x',
                _ => '.',
            })
            .collect();
        format!("[{cells}]")
    }

    fn render_rgb(&self) -> Frame {
        const CELL: i64 = 40;
        let mut frame = Frame::filled(CELL as usize, CELL as usize * N_STATES, [255; 3]);
        for s in 0..N_STATES as i64 {
            let colour = match s as usize {
                GOAL => [60, 170, 60],
                1 => [230, 200, 120],
                _ => [220, 220, 220],
            };
            frame.fill_rect(2, s * CELL + 2, CELL - 2, (s + 1) * CELL - 2, colour);
        }
        let x = self.state as i64 * CELL;
        frame.fill_rect(12, x + 12, CELL - 12, x + CELL - 12, [200, 60, 40]);
        frame
    }

    fn name(&self) -> String {
        SHORT_CORRIDOR_ID.to_string()
    }

    /// Puts the agent in state `[s]` (0, 1 or 2) after a reset.
    fn set_state(&mut self, state: &[f64]) -> Result<usize> {
        let s = match *state {
            [s] if s.fract() == 0.0 && (0.0..GOAL as f64).contains(&s) => s as usize,
            _ => {
                return Err(Error::InvalidState {
                    message: format!(
                        "{SHORT_CORRIDOR_ID} takes one state [s] with s in 0, 1, 2, got \
                         {state:?}"
                    ),
                });
            }
        };
        if self.phase == Phase::NotReset {
            return Err(Error::InvalidState {
                message: format!("{SHORT_CORRIDOR_ID} takes a state only after reset"),
            });
        }
        self.state = s;
        self.phase = Phase::Running;
        Ok(self.observe())
    }

    /// The exact dynamics when the state is observed; none when aliased (the model's states
    /// would not be the observations).
    fn model(&self) -> Option<&dyn Model> {
        (!self.config.aliased).then_some(&self.model as &dyn Model)
    }

    /// The env draws nothing: its stream is empty.
    fn rng_state(&self) -> Option<[u64; 4]> {
        Some(EnvRng::new(0).state())
    }

    fn set_rng_state(&mut self, _state: [u64; 4]) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParamValue, check_env};

    /// Policy evaluation on the model, with the aliased policy's `p` in every state, gives
    /// the closed form; the closed form's minimum is at `2 − √2`, worth `−(6 + 4√2)`.
    #[test]
    fn the_start_value_is_the_model_s_under_a_blind_policy() {
        let env = ShortCorridor::new(ShortCorridorConfig {
            aliased: false,
            ..Default::default()
        });
        let model = env.model().unwrap();
        for p in [0.05, 0.3, OPTIMAL_RIGHT_PROBABILITY, 0.8, 0.95] {
            let mut v = [0.0; N_STATES];
            for _ in 0..200_000 {
                let mut next_v = [0.0; N_STATES];
                for (s, slot) in next_v.iter_mut().enumerate().take(GOAL) {
                    for (a, prob) in [(LEFT, 1.0 - p), (RIGHT, p)] {
                        for t in model.transitions(s, a) {
                            *slot += prob * t.prob * (t.reward + v[t.next_state]);
                        }
                    }
                }
                v = next_v;
            }
            let want = ShortCorridor::start_value(p);
            assert!((v[0] - want).abs() < 1e-9, "p = {p}: {} vs {want}", v[0]);
        }
        let best = ShortCorridor::start_value(OPTIMAL_RIGHT_PROBABILITY);
        assert!((best - OPTIMAL_START_VALUE).abs() < 1e-12);
        for dp in [-1e-3, 1e-3] {
            assert!(ShortCorridor::start_value(OPTIMAL_RIGHT_PROBABILITY + dp) < best);
        }
        assert!((OPTIMAL_START_VALUE + 11.657).abs() < 1e-3);
    }

    /// Every state looks the same when aliased; the dynamics are the book's either way.
    #[test]
    fn aliased_states_look_alike_and_the_middle_one_is_switched() {
        let mut env = ShortCorridor::new(ShortCorridorConfig::default());
        assert_eq!(*env.observation_space(), Space::discrete(1));
        assert!(env.model().is_none());
        assert!(matches!(env.step(RIGHT), Err(Error::NotReset)));
        assert_eq!(env.reset(Some(3)).obs, 0);
        let moves = [
            (LEFT, 0),
            (RIGHT, 1),
            (RIGHT, 0),
            (RIGHT, 1),
            (LEFT, 2),
            (LEFT, 1),
        ];
        for (a, s) in moves {
            let step = env.step(a).unwrap();
            assert_eq!((step.obs, env.state(), step.reward), (0, s, -1.0));
            assert!(!step.terminated);
        }
        assert!(!env.step(LEFT).unwrap().terminated && env.state() == 2);
        let last = env.step(RIGHT).unwrap();
        assert!(last.terminated && env.state() == GOAL);
        assert!(matches!(env.step(RIGHT), Err(Error::EpisodeEnded)));
        env.reset(None);
        assert!(matches!(env.step(2), Err(Error::InvalidAction { .. })));
        assert_eq!(env.state(), 0);
        assert!(env.set_state(&[3.0]).is_err() && env.set_state(&[0.5]).is_err());
        assert_eq!(env.set_state(&[2.0]).unwrap(), 0);
        assert!(env.step(RIGHT).unwrap().terminated);
    }

    #[test]
    fn passes_the_env_checker_both_ways() {
        for aliased in [true, false] {
            check_env(
                || {
                    ShortCorridor::new(ShortCorridorConfig {
                        aliased,
                        ..Default::default()
                    })
                },
                0,
                200,
            )
            .unwrap();
        }
    }

    #[test]
    fn params_are_checked() {
        let mut c = ShortCorridorConfig::default();
        let p = Params::new()
            .with("aliased", ParamValue::Bool(false))
            .with("max_episode_steps", ParamValue::Int(50));
        c.apply_params(SHORT_CORRIDOR_ID, &p).unwrap();
        assert_eq!((c.aliased, c.max_episode_steps), (false, 50));
        let bad = Params::new().with("slippery", ParamValue::Bool(true));
        assert!(c.apply_params(SHORT_CORRIDOR_ID, &bad).is_err());
        let zero = Params::new().with("max_episode_steps", ParamValue::Int(0));
        assert!(c.apply_params(SHORT_CORRIDOR_ID, &zero).is_err());
        assert_eq!(c.max_episode_steps, 50);
    }
}
