//! Construction by id, and the type-erased form the runner uses.
//!
//! | id | env | time limit |
//! |---|---|---|
//! | `CartPole-v1` | [`CartPole`] | 500 |
//! | `CartPoleNoVelocity-v1` | [`CartPoleNoVelocity`] | 500 |
//! | `FrozenLake-v1`, `FrozenLake8x8-v1`, `CliffWalking-v1`, `CliffWalkingSlippery-v1`, `WindyGridworld-v0`, `RandomWalk19-v0`, `GridWorld-v0` | [`GridWorld`] presets | as Gymnasium's |
//! | `PixelGridWorld-v0` | a 6×6 maze [`GridWorld`] observed as [`GridPixels`] images | 50 |
//! | `PointMass-v0` | [`PointMass`]: a Box action, for testing | 200 |
//! | `Acrobot-v1` | [`Acrobot`] | 500 |
//! | `Pendulum-v1` | [`Pendulum`]: a Box action | 200 |
//! | `Blackjack-v1` | [`Blackjack`], with its exact model | none |
//! | `Taxi-v4` | [`Taxi`], with its exact model | 200 |
//! | `MountainCar-v0` | [`MountainCar`] | 200 |
//! | `MountainCarContinuous-v0` | [`MountainCarContinuous`]: a Box action | 999 |
//! | `ShortCorridor-v0` | [`ShortCorridor`]: Sutton & Barto's Example 13.1 | 1000 |

use crate::acrobot::{ACROBOT_ID, Acrobot, AcrobotConfig};
use crate::blackjack::{self, BLACKJACK_ID, Blackjack, BlackjackConfig};
use crate::cartpole::{CartPole, CartPoleConfig, CartPoleNoVelocity};
use crate::gridworld::{
    self, ALLOWED_PARAMS, GridPixels, GridWorld, GridWorldConfig, PIXEL_GRID_WORLD_ID, PixelMode,
};
use crate::mountain_car::{
    MOUNTAIN_CAR_CONTINUOUS_ID, MOUNTAIN_CAR_ID, MountainCar, MountainCarConfig,
    MountainCarContinuous,
};
use crate::params::invalid;
use crate::pendulum::{PENDULUM_ID, Pendulum, PendulumConfig};
use crate::point_mass::{self, POINT_MASS_ID, PointMass};
use crate::short_corridor::{SHORT_CORRIDOR_ID, ShortCorridor, ShortCorridorConfig};
use crate::taxi::{TAXI_ID, Taxi, TaxiConfig};
use crate::wrappers::{TimeLimit, Wrapper, inner_env_in};
use crate::{Env, Error, Frame, Model, ParamValue, Params, Reset, Result, Space, Step};

/// A type-erased env with discrete actions and a state-index observation.
pub type DiscreteEnv = Box<dyn Env<Obs = usize, Action = usize> + Send>;

/// A type-erased env with discrete actions and a vector observation.
///
/// The observation is an owned `Vec<f32>`: erasing the concrete array type costs one small
/// allocation per step. Use the concrete types where that matters.
pub type VectorEnv = Box<dyn Env<Obs = Vec<f32>, Action = usize> + Send>;

/// A type-erased env with Box (continuous) actions and a vector observation.
///
/// Both the observation and the action are owned `Vec<f32>`s: an action of the wrong length
/// is [`Error::InvalidAction`], like one out of bounds. Erasing the arrays costs a small
/// allocation per step; use the concrete types where that matters.
pub type ContinuousEnv = Box<dyn Env<Obs = Vec<f32>, Action = Vec<f32>> + Send>;

/// Any registered env, chosen at run time, sorted by the kinds of observation and action it
/// has.
pub enum AnyEnv {
    /// A discrete-state env with discrete actions (every GridWorld).
    Discrete(DiscreteEnv),
    /// A continuous-observation env with discrete actions (CartPole, Acrobot, and
    /// `PixelGridWorld-v0`'s images).
    Vector(VectorEnv),
    /// A continuous-observation env with Box actions (`PointMass-v0`, `Pendulum-v1`).
    Continuous(ContinuousEnv),
}

impl AnyEnv {
    /// The env's name.
    pub fn name(&self) -> String {
        match self {
            AnyEnv::Discrete(e) => e.name(),
            AnyEnv::Vector(e) => e.name(),
            AnyEnv::Continuous(e) => e.name(),
        }
    }

    /// The observation space.
    pub fn observation_space(&self) -> &Space {
        match self {
            AnyEnv::Discrete(e) => e.observation_space(),
            AnyEnv::Vector(e) => e.observation_space(),
            AnyEnv::Continuous(e) => e.observation_space(),
        }
    }

    /// The action space.
    pub fn action_space(&self) -> &Space {
        match self {
            AnyEnv::Discrete(e) => e.action_space(),
            AnyEnv::Vector(e) => e.action_space(),
            AnyEnv::Continuous(e) => e.action_space(),
        }
    }
}

/// One registered env id.
#[derive(Clone, Copy, Debug)]
pub struct EnvSpec {
    /// The id, e.g. `CartPole-v1`.
    pub id: &'static str,
    /// A one-line description.
    pub description: &'static str,
}

const CARTPOLES: [EnvSpec; 2] = [
    EnvSpec {
        id: "CartPole-v1",
        description: "balance a pole on a cart by pushing it left or right (Gymnasium 1.4)",
    },
    EnvSpec {
        id: "CartPoleNoVelocity-v1",
        description: "CartPole with the two velocities hidden: partially observable",
    },
];

const PIXEL_GRID_WORLD: EnvSpec = EnvSpec {
    id: PIXEL_GRID_WORLD_ID,
    description: "a 6x6 maze seen as 5 one-hot planes (agent, goal, hole, cliff, wall) for CNNs; -1 a step, +1 at the goal",
};

const POINT_MASS: EnvSpec = EnvSpec {
    id: POINT_MASS_ID,
    description: "push a point mass to the origin with a force in [-1, 1] (a Box action); -x^2 a step",
};

const ACROBOT: EnvSpec = EnvSpec {
    id: ACROBOT_ID,
    description: "swing the tip of a two-link chain above a line by torquing the middle joint (Gymnasium 1.4); -1 a step",
};

const PENDULUM: EnvSpec = EnvSpec {
    id: PENDULUM_ID,
    description: "swing a pendulum upright with a torque in [-2, 2] (a Box action; Gymnasium 1.4)",
};

const BLACKJACK: EnvSpec = EnvSpec {
    id: BLACKJACK_ID,
    description: "Sutton & Barto's blackjack against a dealer, infinite deck (Gymnasium 1.4); stick or hit",
};

const TAXI: EnvSpec = EnvSpec {
    id: TAXI_ID,
    description: "pick a passenger up and drop them off on a 5x5 map with walls (Gymnasium 1.4); -1 a step, +20 delivered, -10 a wrong pickup or dropoff",
};

const SHORT_CORRIDOR: EnvSpec = EnvSpec {
    id: SHORT_CORRIDOR_ID,
    description: "Sutton & Barto's short corridor: three states that look alike, the middle one with its actions switched; -1 a step",
};

const MOUNTAIN_CARS: [EnvSpec; 2] = [
    EnvSpec {
        id: MOUNTAIN_CAR_ID,
        description: "drive an underpowered car up a hill by rocking it: push left, none or right; -1 a step (Gymnasium 1.4)",
    },
    EnvSpec {
        id: MOUNTAIN_CAR_CONTINUOUS_ID,
        description: "MountainCar with a force in [-1, 1] (a Box action); -0.1 a^2 a step, +100 at the goal (Gymnasium 1.4)",
    },
];

/// Every registered env id, with a one-line description.
pub fn registered() -> Vec<EnvSpec> {
    CARTPOLES
        .iter()
        .copied()
        .chain(
            gridworld::presets()
                .iter()
                .map(|&(id, description)| EnvSpec { id, description }),
        )
        .chain([
            PIXEL_GRID_WORLD,
            POINT_MASS,
            ACROBOT,
            PENDULUM,
            BLACKJACK,
            TAXI,
        ])
        .chain(MOUNTAIN_CARS)
        .chain([SHORT_CORRIDOR])
        .collect()
}

fn unknown(id: &str) -> Error {
    Error::UnknownEnv {
        id: id.to_string(),
        known: registered().iter().map(|s| s.id.to_string()).collect(),
    }
}

/// The deterministic policy that env `id` names `name`, as one action per state index: the
/// fixed policies a book's example evaluates, for prediction agents to learn the values of.
///
/// | env | names | policy |
/// |---|---|---|
/// | `Blackjack-v1` | `stick_4` … `stick_21` | stick on a player sum of N or more, else hit ([`blackjack::stick_policy`]); `stick_20` is Sutton & Barto's Example 5.1 |
///
/// ```
/// use qlab_envs::registry::policy;
/// assert_eq!(policy("Blackjack-v1", "stick_20")?.len(), 714);
/// assert!(policy("Blackjack-v1", "stick_22").is_err());
/// assert!(policy("FrozenLake-v1", "stick_20").is_err());
/// # Ok::<(), qlab_envs::Error>(())
/// ```
///
/// # Errors
/// An unknown env, or a name the env does not define (the message lists those it does).
pub fn policy(id: &str, name: &str) -> Result<Vec<usize>> {
    if !registered().iter().any(|s| s.id == id) {
        return Err(unknown(id));
    }
    let unknown_policy = |known: &str| Error::UnknownPolicy {
        env: id.to_string(),
        name: name.to_string(),
        known: known.to_string(),
    };
    if id != BLACKJACK_ID {
        return Err(unknown_policy(
            "it names no policies: give one action per state instead",
        ));
    }
    match name.strip_prefix("stick_").map(str::parse::<u8>) {
        Some(Ok(n)) if (4..=21).contains(&n) && name == format!("stick_{n}") => {
            Ok(blackjack::stick_policy(n))
        }
        _ => Err(unknown_policy(
            "known: stick_4 … stick_21 (stick on that sum or more, else hit)",
        )),
    }
}

/// The CartPole config registered under `id` (`CartPole-v1` or `CartPoleNoVelocity-v1`) with
/// `params` applied.
pub fn cartpole_config(id: &str, params: &Params) -> Result<CartPoleConfig> {
    if !CARTPOLES.iter().any(|s| s.id == id) {
        return Err(unknown(id));
    }
    let mut config = CartPoleConfig::default();
    config.apply_params(id, params)?;
    Ok(config)
}

/// The MountainCar config registered under `id` (`MountainCar-v0` or
/// `MountainCarContinuous-v0`, whose time limits differ) with `params` applied.
pub fn mountain_car_config(id: &str, params: &Params) -> Result<MountainCarConfig> {
    let mut config = match id {
        MOUNTAIN_CAR_ID => MountainCarConfig::default(),
        MOUNTAIN_CAR_CONTINUOUS_ID => MountainCarConfig::continuous(),
        _ => return Err(unknown(id)),
    };
    config.apply_params(id, params)?;
    Ok(config)
}

/// The GridWorld config registered under `id` with `params` applied.
/// `PixelGridWorld-v0` is not among them: see [`pixel_gridworld_config`].
pub fn gridworld_config(id: &str, params: &Params) -> Result<GridWorldConfig> {
    let mut config = GridWorldConfig::preset(id).ok_or_else(|| unknown(id))?;
    config.apply_params(id, params)?;
    Ok(config)
}

/// The config of `Taxi-v4` with `params` applied (keys:
/// [`taxi::ALLOWED_PARAMS`](crate::taxi::ALLOWED_PARAMS)).
pub fn taxi_config(id: &str, params: &Params) -> Result<TaxiConfig> {
    if id != TAXI_ID {
        return Err(unknown(id));
    }
    let mut config = TaxiConfig::default();
    config.apply_params(id, params)?;
    Ok(config)
}

/// The config and observation mode of `PixelGridWorld-v0` with `params` applied: every
/// GridWorld parameter ([`ALLOWED_PARAMS`]) and `mode` (`"planes"` or `"rgb"`).
pub fn pixel_gridworld_config(id: &str, params: &Params) -> Result<(GridWorldConfig, PixelMode)> {
    if id != PIXEL_GRID_WORLD_ID {
        return Err(unknown(id));
    }
    let allowed: Vec<&str> = ALLOWED_PARAMS.iter().copied().chain(["mode"]).collect();
    params.check_keys(id, &allowed)?;
    let mode = match params.str("mode")? {
        None => PixelMode::default(),
        Some(name) => PixelMode::from_name(name).ok_or_else(|| {
            invalid(
                "mode",
                &ParamValue::Str(name.to_string()),
                &format!("one of {}", PixelMode::NAMES.join(", ")),
            )
        })?,
    };
    let mut grid_params = Params::new();
    for (key, value) in params.iter().filter(|&(key, _)| key != "mode") {
        grid_params.set(key, value.clone());
    }
    let mut config = gridworld::pixel_grid_world_config();
    config.apply_params(id, &grid_params)?;
    Ok((config, mode))
}

/// Builds the env registered under `id`, with `params` overriding its defaults, wrapped in
/// its time limit.
///
/// Unknown ids and unknown or invalid parameters are errors that name the problem.
///
/// ```
/// use qlab_envs::{make, AnyEnv, Env, Params, ParamValue};
/// # fn main() -> qlab_envs::Result<()> {
/// let params = Params::new().with("is_slippery", ParamValue::Bool(false));
/// let AnyEnv::Discrete(mut env) = make("FrozenLake-v1", &params)? else { unreachable!() };
/// assert_eq!(env.reset(Some(0)).obs, 0);
/// assert_eq!(env.step(2)?.obs, 1); // right
/// assert!(make("FrozenLake-v2", &Params::new()).is_err());
/// # Ok(())
/// # }
/// ```
pub fn make(id: &str, params: &Params) -> Result<AnyEnv> {
    Ok(build(id, params, true)?.0)
}

/// The env [`make`] builds, without its time limit, and that limit (`None` for an env
/// registered without one, such as `Blackjack-v1`): for a host that applies the limit itself,
/// as Gymnasium's `TimeLimit` wrapper does around the envs of its registry.
///
/// A `max_episode_steps` parameter is checked as [`make`] checks it, and gives the limit
/// returned.
pub fn make_without_time_limit(id: &str, params: &Params) -> Result<(AnyEnv, Option<u64>)> {
    build(id, params, false)
}

/// `env` in a [`TimeLimit`] of `limit` steps where `wrap` is set and there is a limit.
fn limited<E>(
    env: E,
    limit: Option<u64>,
    wrap: bool,
) -> Box<dyn Env<Obs = E::Obs, Action = E::Action> + Send>
where
    E: Env + Send + 'static,
{
    match limit {
        Some(steps) if wrap => Box::new(TimeLimit::new(env, steps)),
        _ => Box::new(env),
    }
}

/// The env registered under `id` and its time limit, wrapped in that limit if `wrap`.
fn build(id: &str, params: &Params, wrap: bool) -> Result<(AnyEnv, Option<u64>)> {
    if let Some(spec) = CARTPOLES.iter().find(|s| s.id == id) {
        let config = cartpole_config(spec.id, params)?;
        let limit = Some(config.max_episode_steps);
        let env = if spec.id == "CartPole-v1" {
            limited(VecObs(CartPole::new(config)), limit, wrap)
        } else {
            limited(VecObs(CartPoleNoVelocity::new(config)), limit, wrap)
        };
        return Ok((AnyEnv::Vector(env), limit));
    }
    if id == POINT_MASS_ID {
        params.check_keys(id, &["max_episode_steps"])?;
        let limit = match params.get("max_episode_steps") {
            None => point_mass::MAX_EPISODE_STEPS,
            Some(v) => match params.usize("max_episode_steps")? {
                Some(n) if n >= 1 => n as u64,
                _ => return Err(invalid("max_episode_steps", v, "an integer ≥ 1")),
            },
        };
        let env = limited(VecBox(PointMass::new()), Some(limit), wrap);
        return Ok((AnyEnv::Continuous(env), Some(limit)));
    }
    if id == ACROBOT_ID {
        let mut config = AcrobotConfig::default();
        config.apply_params(id, params)?;
        let limit = Some(config.max_episode_steps);
        let env = limited(VecObs(Acrobot::new(config)), limit, wrap);
        return Ok((AnyEnv::Vector(env), limit));
    }
    if id == PENDULUM_ID {
        let mut config = PendulumConfig::default();
        config.apply_params(id, params)?;
        let limit = Some(config.max_episode_steps);
        let env = limited(VecBox(Pendulum::new(config)), limit, wrap);
        return Ok((AnyEnv::Continuous(env), limit));
    }
    if id == BLACKJACK_ID {
        let mut config = BlackjackConfig::default();
        config.apply_params(id, params)?;
        return Ok((AnyEnv::Discrete(Box::new(Blackjack::new(config))), None));
    }
    if id == TAXI_ID {
        let config = taxi_config(id, params)?;
        let limit = Some(config.max_episode_steps);
        let env = limited(Taxi::new(config)?, limit, wrap);
        return Ok((AnyEnv::Discrete(env), limit));
    }
    if id == MOUNTAIN_CAR_ID {
        let config = mountain_car_config(id, params)?;
        let limit = Some(config.max_episode_steps);
        let env = limited(VecObs(MountainCar::new(config)), limit, wrap);
        return Ok((AnyEnv::Vector(env), limit));
    }
    if id == MOUNTAIN_CAR_CONTINUOUS_ID {
        let config = mountain_car_config(id, params)?;
        let limit = Some(config.max_episode_steps);
        let env = limited(VecBox(MountainCarContinuous::new(config)), limit, wrap);
        return Ok((AnyEnv::Continuous(env), limit));
    }
    if id == SHORT_CORRIDOR_ID {
        let mut config = ShortCorridorConfig::default();
        config.apply_params(id, params)?;
        let limit = Some(config.max_episode_steps);
        let env = limited(ShortCorridor::new(config), limit, wrap);
        return Ok((AnyEnv::Discrete(env), limit));
    }
    if id == PIXEL_GRID_WORLD_ID {
        let (config, mode) = pixel_gridworld_config(id, params)?;
        let limit = config.max_episode_steps;
        let env = GridPixels::new(GridWorld::new(config)?, mode);
        return Ok((AnyEnv::Vector(limited(env, limit, wrap)), limit));
    }
    let config = gridworld_config(id, params)?;
    let limit = config.max_episode_steps;
    let env = GridWorld::new(config)?;
    Ok((AnyEnv::Discrete(limited(env, limit, wrap)), limit))
}

/// Presents an env with a fixed-size array observation as one with a `Vec<f32>` observation.
struct VecObs<E>(E);

impl<E, const N: usize> Wrapper for VecObs<E>
where
    E: Env<Obs = [f32; N]>,
{
    type Inner = E;
    type Obs = Vec<f32>;

    inner_env_in!(0);
    fn observation(_: &mut Self, obs: [f32; N]) -> Vec<f32> {
        obs.to_vec()
    }
}

/// Presents an env with array observations and array Box actions as one with `Vec<f32>`
/// observations and actions. An action of the wrong length is [`Error::InvalidAction`].
///
/// Not a [`Wrapper`]: it changes the action type, which wrappers keep.
struct VecBox<E>(E);

impl<E, const N: usize, const M: usize> Env for VecBox<E>
where
    E: Env<Obs = [f32; N], Action = [f32; M]>,
{
    type Obs = Vec<f32>;
    type Action = Vec<f32>;

    fn observation_space(&self) -> &Space {
        self.0.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.0.action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Reset<Vec<f32>> {
        self.0.reset(seed).map_obs(|o| o.to_vec())
    }
    fn step(&mut self, action: Vec<f32>) -> Result<Step<Vec<f32>>> {
        let action: [f32; M] = action
            .as_slice()
            .try_into()
            .map_err(|_| Error::InvalidAction {
                action: format!("{action:?}"),
                space: self.0.action_space().to_string(),
            })?;
        Ok(self.0.step(action)?.map_obs(|o| o.to_vec()))
    }
    fn render_ansi(&self) -> String {
        self.0.render_ansi()
    }
    fn render_rgb(&self) -> Frame {
        self.0.render_rgb()
    }
    fn name(&self) -> String {
        self.0.name()
    }
    fn set_state(&mut self, state: &[f64]) -> Result<Vec<f32>> {
        Ok(self.0.set_state(state)?.to_vec())
    }
    fn model(&self) -> Option<&dyn Model> {
        self.0.model()
    }
    fn rng_state(&self) -> Option<[u64; 4]> {
        self.0.rng_state()
    }
    fn clips_actions(&self) -> bool {
        self.0.clips_actions()
    }
    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        self.0.set_rng_state(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_env;

    /// The conformance checker over every registered env with its default parameters.
    #[test]
    fn every_registered_env_passes_the_checker() {
        for spec in registered() {
            let result = match make(spec.id, &Params::new()).unwrap() {
                AnyEnv::Discrete(_) => check_env(
                    || match make(spec.id, &Params::new()).unwrap() {
                        AnyEnv::Discrete(e) => e,
                        _ => unreachable!(),
                    },
                    7,
                    300,
                ),
                AnyEnv::Vector(_) => check_env(
                    || match make(spec.id, &Params::new()).unwrap() {
                        AnyEnv::Vector(e) => e,
                        _ => unreachable!(),
                    },
                    7,
                    600,
                ),
                AnyEnv::Continuous(_) => check_env(
                    || match make(spec.id, &Params::new()).unwrap() {
                        AnyEnv::Continuous(e) => e,
                        _ => unreachable!(),
                    },
                    7,
                    600,
                ),
            };
            result.unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Three episodes of at most 60 random actions from unseeded resets.
    fn episodes<E: Env>(env: &mut E, actions: &mut crate::EnvRng) -> Vec<(E::Obs, f64, bool)>
    where
        E::Action: crate::SpaceAction,
    {
        let space = env.action_space().clone();
        let mut out = Vec::new();
        for _ in 0..3 {
            out.push((env.reset(None).obs, 0.0, false));
            for _ in 0..60 {
                let a = crate::SpaceAction::sample(&space, actions).unwrap();
                let s = env.step(a).unwrap();
                let done = s.done();
                out.push((s.obs, s.reward, done));
                if done {
                    break;
                }
            }
        }
        out
    }

    /// Saves the state after a seeded episode; a fresh env given it replays what follows.
    fn resumes<E: Env>(make: impl Fn() -> E)
    where
        E::Action: crate::SpaceAction,
        E::Obs: PartialEq,
    {
        let mut env = make();
        env.reset(Some(21));
        episodes(&mut env, &mut crate::EnvRng::new(0));
        let saved = env.rng_state().unwrap_or_else(|| panic!("{}", env.name()));
        let ahead = episodes(&mut env, &mut crate::EnvRng::new(1));
        let mut fresh = make();
        fresh.set_rng_state(saved).unwrap();
        let again = episodes(&mut fresh, &mut crate::EnvRng::new(1));
        assert!(again == ahead, "{}", env.name());
    }

    /// Every registered env, through the type-erased stack `make` builds (box, time limit,
    /// adapters), hands out its RNG state and resumes from it.
    #[test]
    fn every_registered_env_resumes_from_its_rng_state() {
        for spec in registered() {
            let make_one = || make(spec.id, &Params::new()).unwrap();
            match make_one() {
                AnyEnv::Discrete(_) => resumes(|| match make_one() {
                    AnyEnv::Discrete(e) => e,
                    _ => unreachable!(),
                }),
                AnyEnv::Vector(_) => resumes(|| match make_one() {
                    AnyEnv::Vector(e) => e,
                    _ => unreachable!(),
                }),
                AnyEnv::Continuous(_) => resumes(|| match make_one() {
                    AnyEnv::Continuous(e) => e,
                    _ => unreachable!(),
                }),
            }
        }
    }

    #[test]
    fn point_mass_takes_vector_actions_of_its_length_and_its_time_limit() {
        let AnyEnv::Continuous(mut env) = make(POINT_MASS_ID, &Params::new()).unwrap() else {
            panic!("{POINT_MASS_ID} has Box actions");
        };
        assert_eq!(env.action_space().to_string(), "Box(-1, 1, (1,), float32)");
        env.reset(Some(0));
        for bad in [vec![], vec![0.0, 0.0], vec![1.5], vec![f32::NAN]] {
            let e = env.step(bad.clone()).unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "invalid action {bad:?}: not in the action space Box(-1, 1, (1,), float32)"
                )
            );
        }
        let steps = (0..500)
            .take_while(|_| !env.step(vec![0.0]).unwrap().done())
            .count();
        assert_eq!(steps + 1, point_mass::MAX_EPISODE_STEPS as usize);
        let p = Params::new().with("max_episode_steps", ParamValue::Int(3));
        let AnyEnv::Continuous(mut short) = make(POINT_MASS_ID, &p).unwrap() else {
            unreachable!()
        };
        short.reset(Some(0));
        assert!(!short.step(vec![0.5]).unwrap().done());
        assert!(!short.step(vec![0.5]).unwrap().done());
        assert!(short.step(vec![0.5]).unwrap().truncated);
        for (key, value) in [
            ("max_episode_steps", ParamValue::Int(0)),
            ("gravity", ParamValue::Float(1.0)),
        ] {
            let p = Params::new().with(key, value);
            let e = make(POINT_MASS_ID, &p).err().unwrap().to_string();
            assert!(e.contains(&format!("`{key}`")), "{e}");
        }
    }

    /// Both mountain cars through `make`: their spaces, Gymnasium's time limits (200 and 999
    /// steps), and the `max_episode_steps` and `goal_velocity` parameters.
    #[test]
    fn mountain_cars_have_their_time_limits_and_params() {
        let AnyEnv::Vector(mut env) = make(MOUNTAIN_CAR_ID, &Params::new()).unwrap() else {
            panic!("{MOUNTAIN_CAR_ID} has discrete actions");
        };
        assert_eq!(
            env.observation_space().to_string(),
            "Box([-1.2, -0.07], [0.6, 0.07], (2,), float32)"
        );
        assert_eq!(env.action_space().to_string(), "Discrete(3)");
        env.reset(Some(0));
        let steps = (0..1000)
            .take_while(|_| !env.step(1).unwrap().done())
            .count();
        assert_eq!(steps + 1, 200);
        let AnyEnv::Continuous(mut env) = make(MOUNTAIN_CAR_CONTINUOUS_ID, &Params::new()).unwrap()
        else {
            panic!("{MOUNTAIN_CAR_CONTINUOUS_ID} has Box actions");
        };
        assert_eq!(env.action_space().to_string(), "Box(-1, 1, (1,), float32)");
        env.reset(Some(0));
        assert!(env.step(vec![0.0, 0.0]).is_err() && env.step(vec![f32::NAN]).is_err());
        let steps = (0..2000)
            .take_while(|_| !env.step(vec![0.0]).unwrap().done())
            .count();
        assert_eq!(steps + 1, 999);
        // From next to the goal at rest, the car rolls back: only goal_velocity ≤ 0 ends it
        // at once, and a limit of 2 truncates.
        let p = Params::new()
            .with("goal_velocity", ParamValue::Float(-0.01))
            .with("max_episode_steps", ParamValue::Int(2));
        let AnyEnv::Continuous(mut env) = make(MOUNTAIN_CAR_CONTINUOUS_ID, &p).unwrap() else {
            unreachable!()
        };
        env.reset(Some(0));
        env.set_state(&[0.46, 0.0]).unwrap();
        assert!(env.step(vec![-1.0]).unwrap().terminated);
        env.reset(None);
        assert!(!env.step(vec![0.0]).unwrap().done());
        assert!(env.step(vec![0.0]).unwrap().truncated);
        let p = Params::new().with("goal_velocity", ParamValue::Str("high".into()));
        let e = make(MOUNTAIN_CAR_ID, &p).err().unwrap().to_string();
        assert!(e.contains("`goal_velocity`"), "{e}");
        let e = mountain_car_config("MountainCar-v1", &Params::new()).unwrap_err();
        assert!(e.to_string().contains("MountainCarContinuous-v0"), "{e}");
    }

    /// Without its time limit an env runs past it, and the limit comes back instead, as
    /// `make`'s parameters set it.
    #[test]
    fn make_without_time_limit_returns_the_limit_make_applies() {
        let p = Params::new().with("is_slippery", ParamValue::Bool(false));
        let (AnyEnv::Discrete(mut env), limit) =
            make_without_time_limit("FrozenLake-v1", &p).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(limit, Some(100));
        env.reset(Some(0));
        // Left from the start stays there: never terminated, and never truncated either.
        assert!((0..250).all(|_| !env.step(0).unwrap().done()));
        let AnyEnv::Discrete(mut limited) = make("FrozenLake-v1", &p).unwrap() else {
            unreachable!()
        };
        limited.reset(Some(0));
        assert_eq!(
            (0..250)
                .take_while(|_| !limited.step(0).unwrap().done())
                .count(),
            99
        );
        let seven = Params::new().with("max_episode_steps", ParamValue::Int(7));
        for (id, expected) in [
            ("CartPole-v1", Some(500)),
            ("Blackjack-v1", None),
            ("MountainCarContinuous-v0", Some(999)),
            ("PointMass-v0", Some(point_mass::MAX_EPISODE_STEPS)),
        ] {
            assert_eq!(
                make_without_time_limit(id, &Params::new()).unwrap().1,
                expected,
                "{id}"
            );
        }
        assert_eq!(
            make_without_time_limit("Taxi-v4", &seven).unwrap().1,
            Some(7)
        );
        assert!(make_without_time_limit("Taxi-v9", &seven).is_err());
    }

    #[test]
    fn unknown_ids_and_keys_are_named() {
        let e = make("CartPole-v9", &Params::new())
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("`CartPole-v9`") && e.contains("CartPole-v1"),
            "{e}"
        );
        let p = Params::new().with("gravity", crate::ParamValue::Float(1.0));
        let e = make("CartPole-v1", &p).err().unwrap().to_string();
        assert!(
            e.contains("`gravity`") && e.contains("kinematics_integrator"),
            "{e}"
        );
    }
}
