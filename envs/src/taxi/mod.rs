//! Taxi: pick a passenger up at one of four locations and drop them off at another —
//! Gymnasium's `Taxi-v4` (Dietterich, 2000), with its exact model.

mod config;
mod model;
mod render;

pub use config::{ALLOWED_PARAMS, TaxiConfig};
pub use model::{ACTION_NAMES, IN_TAXI, LOCATIONS, MAP, N_ACTIONS, N_STATES, TaxiModel, TaxiState};

use rand::SeedableRng;

use crate::{
    Env, EnvRng, Error, Frame, Info, Model, Reset, Result, Space, Step, check_discrete_action,
};

/// The registry id.
pub const TAXI_ID: &str = "Taxi-v4";

/// Drive a taxi on a 5×5 map to a waiting passenger, pick them up and drop them off at their
/// destination — Gymnasium's `Taxi-v4`.
///
/// # Description
/// The map ([`MAP`]) has four marked locations, R(ed) at row 0, column 0, G(reen) at (0, 4),
/// Y(ellow) at (4, 0) and B(lue) at (4, 3) ([`LOCATIONS`]), and walls (`|`) between some
/// cells of the same row:
///
/// ```text
/// +---------+
/// |R: | : :G|
/// | : | : : |
/// | : : : : |
/// | | : | : |
/// |Y| : |B: |
/// +---------+
/// ```
///
/// A passenger waits at one location and wants to go to another. The taxi drives to them,
/// picks them up, drives to the destination and drops them off, which ends the episode.
/// From Dietterich, "Hierarchical Reinforcement Learning with the MAXQ Value Function
/// Decomposition", JAIR 13 (2000).
///
/// # Action space
/// `Discrete(6)`:
///
/// | action | meaning |
/// |---|---|
/// | 0 | south (down a row) |
/// | 1 | north (up a row) |
/// | 2 | east (right a column) |
/// | 3 | west (left a column) |
/// | 4 | pick the passenger up |
/// | 5 | drop the passenger off |
///
/// A move into the edge of the grid or a wall leaves the taxi where it is. A pickup succeeds
/// only on the passenger's location with the passenger waiting there; a dropoff only with the
/// passenger on board at one of the four locations — at the destination it delivers them, at
/// another location they get out and wait there.
///
/// # Observation space
/// `Discrete(500)`: the state `((taxi_row · 5 + taxi_col) · 5 + passenger) · 4 + destination`
/// ([`TaxiState`] encodes and decodes it).
///
/// | part | meaning | min | max |
/// |---|---|---|---|
/// | `taxi_row` | the taxi's row, from the top | 0 | 4 |
/// | `taxi_col` | the taxi's column, from the left | 0 | 4 |
/// | `passenger` | 0–3 waiting at R, G, Y, B; 4 in the taxi | 0 | 4 |
/// | `destination` | R, G, Y, B | 0 | 3 |
///
/// An episode visits 400 of the 500 states (the passenger is never waiting at their
/// destination), and ends in one of 4 more, with the passenger delivered.
///
/// # Rewards
/// −1 a step, +20 for delivering the passenger (instead of the −1), −10 for a pickup or
/// dropoff that cannot be done (instead of the −1). Dropping the passenger off at a location
/// other than the destination is an ordinary step (−1).
///
/// # Starting state
/// Uniform over the 300 states with the taxi anywhere, the passenger waiting at a location
/// and the destination one of the other three.
///
/// # Episode end
/// - Termination: the passenger is dropped off at their destination.
/// - Truncation: never by the env itself; the registry wraps it in
///   [`TimeLimit`](crate::wrappers::TimeLimit) with `max_episode_steps`, 200 steps as
///   `gymnasium.spec("Taxi-v4")`.
///
/// # Parameters
/// The fields of [`TaxiConfig`], by name: `is_rainy`, `fickle_passenger`,
/// `rainy_probability`, `fickle_probability`, `max_episode_steps`.
/// - `is_rainy`: a move goes where intended with probability `rainy_probability` (0.8), and
///   to each side at right angles with half the rest (0.1), each side stopped by walls and
///   the edge. A move that cannot go ahead (edge or wall) goes nowhere, sideways neither.
///   Pickup and dropoff stay certain.
/// - `fickle_passenger`: at each reset, with probability `fickle_probability` (0.3), the
///   passenger of that episode is fickle. Then on the first step that moves the taxi with
///   them already on board before the step, they pick a new destination, uniformly among
///   the three others. This happens once an episode at most.
///
/// # Version notes
/// - Reproduces Gymnasium 1.4.0's `Taxi-v4`: map, action numbers, rewards, termination, the
///   start distribution, the time limit, and the transition table `env.unwrapped.P` dry and
///   rainy, entry by entry, in the same order and to the last bit (tested against data dumped
///   by `tools/gen_taxi_reference.py`), duplicates included: a rainy move into a wall lists
///   the same outcome three times, as Gymnasium does. `Info::prob` is the probability of the
///   entry taken (1 at reset). The random streams differ from NumPy's: the same seed does
///   not give Gymnasium's trajectory of the rainy or fickle env or Gymnasium's start state.
/// - The exact model ([`Env::model`], [`TaxiModel`]) leaves out the fickle passenger, as
///   Gymnasium's `P` does: with `fickle_passenger` the next state depends on a draw the
///   state does not show, so `model()` is `None` ([`Taxi::table`] still gives the table).
/// - Gymnasium's `info["action_mask"]` is not provided, and frames are qlab's own drawing.
///
/// ```
/// use qlab_envs::taxi::{Taxi, TaxiConfig, TaxiState};
/// use qlab_envs::{Env, Model};
/// # fn main() -> qlab_envs::Result<()> {
/// let mut env = Taxi::new(TaxiConfig::default())?;
/// env.reset(Some(0));
/// // The taxi on Y with the passenger waiting there, who wants to go to B.
/// let start = TaxiState { row: 4, col: 0, passenger: 2, destination: 3 };
/// env.set_state(&[start.encode() as f64])?;
/// assert_eq!(env.step(4)?.reward, -1.0); // pickup
/// let wall = env.step(2)?; // east from Y: a wall, the taxi stays
/// assert_eq!(TaxiState::decode(wall.obs).unwrap().col, 0);
/// for a in [1, 1, 2, 2, 2, 0, 0] {
///     let _ = env.step(a)?; // north twice, east three times, south twice: around the walls
/// }
/// let last = env.step(5)?; // dropoff on B
/// assert!(last.terminated && last.reward == 20.0);
/// assert!(env.model().unwrap().is_terminal(last.obs));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Taxi {
    config: TaxiConfig,
    model: TaxiModel,
    observation_space: Space,
    action_space: Space,
    rng: EnvRng,
    state: usize,
    phase: Phase,
    /// Whether this episode's passenger may still change their mind (drawn at reset).
    fickle: bool,
    last_action: Option<usize>,
}

/// Where the env is in the episode cycle, for the trait's `NotReset` and `EpisodeEnded`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotReset,
    Running,
    Ended,
}

impl Taxi {
    /// Builds the env of a config, with its exact model.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for a field out of its range (see [`TaxiConfig`]).
    pub fn new(config: TaxiConfig) -> Result<Taxi> {
        config.validate()?;
        let model = TaxiModel::new(&config);
        Ok(Taxi {
            observation_space: Space::discrete(N_STATES),
            action_space: Space::discrete(N_ACTIONS),
            rng: EnvRng::from_os_entropy(),
            state: model.start(0),
            phase: Phase::NotReset,
            fickle: false,
            last_action: None,
            config,
            model,
        })
    }

    /// The config the env was built from.
    pub fn config(&self) -> &TaxiConfig {
        &self.config
    }

    /// The transition table, Gymnasium's `P`, also with `fickle_passenger` (which it leaves
    /// out; [`Env::model`] is then `None`).
    pub fn table(&self) -> &TaxiModel {
        &self.model
    }

    /// The current state (the last observation), decoded.
    pub fn decoded(&self) -> TaxiState {
        TaxiState::decode(self.state).expect("the state is always in range")
    }
}

impl Env for Taxi {
    type Obs = usize;
    type Action = usize;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    /// Draws the start state, then, with `fickle_passenger`, whether the passenger is fickle.
    fn reset(&mut self, seed: Option<u64>) -> Reset<usize> {
        if let Some(seed) = seed {
            self.rng = EnvRng::seed_from_u64(seed);
        }
        let n = self.model.initial_states().len();
        self.state = self.model.start(self.rng.below(n));
        self.fickle =
            self.config.fickle_passenger && self.rng.next_f64() < self.config.fickle_probability;
        self.phase = Phase::Running;
        self.last_action = None;
        Reset {
            obs: self.state,
            info: Info {
                prob: Some(1.0),
                episode: None,
            },
        }
    }

    fn step(&mut self, action: usize) -> Result<Step<usize>> {
        match self.phase {
            Phase::Running => {}
            Phase::NotReset => return Err(Error::NotReset),
            Phase::Ended => return Err(Error::EpisodeEnded),
        }
        check_discrete_action(action, &self.action_space)?;
        let u = match self.model.is_random(self.state, action) {
            true => self.rng.next_f64(),
            false => 0.0,
        };
        let t = *self.model.sample(self.state, action, u);
        let mut next = t.next_state;
        if self.fickle {
            let (before, after) = (self.decoded(), TaxiState::decode(next).expect("in range"));
            if before.passenger == IN_TAXI && (after.row, after.col) != (before.row, before.col) {
                // Once: a new destination, uniform among the three others.
                self.fickle = false;
                let k = self.rng.below(3);
                let destination = k + usize::from(k >= before.destination);
                next = TaxiState {
                    destination,
                    ..after
                }
                .encode();
            }
        }
        self.state = next;
        self.last_action = Some(action);
        if t.terminated {
            self.phase = Phase::Ended;
        }
        Ok(Step {
            obs: next,
            reward: t.reward,
            terminated: t.terminated,
            truncated: false,
            info: Info {
                prob: Some(t.prob),
                episode: None,
            },
        })
    }

    fn render_ansi(&self) -> String {
        render::ansi(self)
    }

    fn render_rgb(&self) -> Frame {
        render::rgb(self)
    }

    fn name(&self) -> String {
        TAXI_ID.to_string()
    }

    /// Puts the env in a state: `state` is one value, a state index in `0..500`. A delivered
    /// state (passenger at their destination) ends the episode (stepping is then
    /// [`Error::EpisodeEnded`]); any other starts one there, without touching the RNG or the
    /// fickle draw of the last reset.
    fn set_state(&mut self, state: &[f64]) -> Result<usize> {
        let s = match state {
            &[v] if v.fract() == 0.0 && (0.0..N_STATES as f64).contains(&v) => v as usize,
            _ => {
                return Err(Error::InvalidState {
                    message: format!(
                        "{TAXI_ID} takes one state index in 0..{N_STATES}, got {state:?}"
                    ),
                });
            }
        };
        self.state = s;
        self.last_action = None;
        self.phase = match self.model.is_terminal(s) {
            true => Phase::Ended,
            false => Phase::Running,
        };
        Ok(s)
    }

    /// The exact model, or `None` with `fickle_passenger` (see the version notes).
    fn model(&self) -> Option<&dyn Model> {
        match self.config.fickle_passenger {
            true => None,
            false => Some(&self.model),
        }
    }

    /// Always `Some`: the env owns its stream from construction (drawn from the OS until a
    /// seeded reset). Start states, rainy slips and the fickle passenger's draws come from it.
    fn rng_state(&self) -> Option<[u64; 4]> {
        Some(self.rng.state())
    }

    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.rng = crate::rng::restore(state, TAXI_ID)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
