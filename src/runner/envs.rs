//! Building a config's env, wrapped so that the agents see active features, as a concrete type.
//!
//! The training loop is generic over the env, so the registered GridWorlds and CartPoles are
//! built as their concrete types (stepped without dynamic dispatch or allocation); any other
//! registered id, and any env with `[wrappers]`, goes through [`qlab_envs::make`]'s boxed
//! form, wrapped by [`wrap::apply`].

use anyhow::Result;
use qlab_agents::View;
use qlab_envs::cartpole::{CartPole, CartPoleConfig, CartPoleNoVelocity};
use qlab_envs::gridworld::{GridWorld, GridWorldConfig};
use qlab_envs::wrappers::{Discretize, TileCoding, TimeLimit};
use qlab_envs::{AnyEnv, Env, Params, registry};

use super::wrap::{self, WrapError};
use crate::config::{Config, Features, WrappersConfig};

/// The env of a config, resolved: which concrete type, its settings, and its features.
#[derive(Clone, Debug)]
pub struct EnvSpec {
    kind: Kind,
    features: Features,
    /// `[train] max_steps_per_episode`, applied under the env's own limit.
    max_steps: Option<u64>,
}

#[derive(Clone, Debug)]
enum Kind {
    Grid(GridWorldConfig),
    CartPole(CartPoleConfig),
    CartPoleNoVelocity(CartPoleConfig),
    /// Any other registered id, or any env with `[wrappers]`: through `make`, then the
    /// wrappers.
    Other(String, Params, WrappersConfig),
}

/// An env an agent over observations `O` steps: actions are indices, each observation is
/// viewed as an `O` (`[usize]`: the active features of a tabular or linear agent).
pub trait AgentEnv<O: ?Sized>: Env<Action = usize, Obs: View<O>> {}

impl<O: ?Sized, E: Env<Action = usize, Obs: View<O>> + ?Sized> AgentEnv<O> for E {}

/// What to do with the env type: [`EnvSpec::visit`] calls [`EnvVisitor::visit`] with a maker of
/// fresh envs of the concrete type (one call per env needed: training, evaluation).
pub trait EnvVisitor {
    /// What the visit gives back.
    type Output;

    /// Works with envs made by `make`.
    fn visit<E: AgentEnv<[usize]>, F: Fn() -> Result<E> + Sync>(self, make: F) -> Self::Output;
}

/// Why a config's env cannot be built.
#[derive(Debug)]
pub enum SpecError {
    /// The env rejected its id or parameters.
    Env(qlab_envs::Error),
    /// A box observation without a `[features]` section (the message says which env).
    NeedsFeatures(String),
    /// A `[features]` section for an env that observes a state index.
    NoFeaturesNeeded(String),
    /// An env with Box (continuous) actions: the agents here choose discrete ones (the
    /// message names the env and its action space).
    ContinuousActions(String),
    /// A `[wrappers]` key that does not fit the env.
    Wrap(WrapError),
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecError::Env(e) => write!(f, "{e}"),
            SpecError::NeedsFeatures(m) => write!(
                f,
                "{m}; add a [features] section (kind = \"tile_coding\" or \"discretize\")"
            ),
            SpecError::NoFeaturesNeeded(m) => write!(f, "{m}; remove the [features] section"),
            SpecError::ContinuousActions(m) => write!(
                f,
                "{m}; add [wrappers] discretize_action = n for a grid of n actions per element"
            ),
            SpecError::Wrap(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SpecError {}

impl From<WrapError> for SpecError {
    fn from(e: WrapError) -> Self {
        SpecError::Wrap(e)
    }
}

impl From<qlab_envs::Error> for SpecError {
    fn from(e: qlab_envs::Error) -> Self {
        SpecError::Env(e)
    }
}

impl EnvSpec {
    /// Resolves the config's `[env]`, `[features]` and `max_steps_per_episode`, checking that
    /// the features suit the observation. The feature wrapper itself is checked by
    /// [`EnvSpec::probe`].
    pub fn new(config: &Config) -> std::result::Result<EnvSpec, SpecError> {
        let (id, params) = (&config.env.id, &config.env.params);
        // Without wrappers, the registered GridWorlds and CartPoles as their concrete types.
        let concrete = if config.wrappers.is_none() {
            id.as_str()
        } else {
            ""
        };
        let (kind, observes_box) = match concrete {
            "CartPole-v1" => (Kind::CartPole(registry::cartpole_config(id, params)?), true),
            "CartPoleNoVelocity-v1" => (
                Kind::CartPoleNoVelocity(registry::cartpole_config(id, params)?),
                true,
            ),
            _ if !concrete.is_empty() && GridWorldConfig::preset(id).is_some() => {
                (Kind::Grid(registry::gridworld_config(id, params)?), false)
            }
            _ => {
                let made = wrap::apply(qlab_envs::make(id, params)?, &config.wrappers)?;
                let observes_box = match made {
                    AnyEnv::Discrete(_) => false,
                    AnyEnv::Vector(_) => true,
                    AnyEnv::Continuous(e) => {
                        return Err(SpecError::ContinuousActions(format!(
                            "{} needs discrete actions; {id} has {}",
                            config.agent.algorithm(),
                            e.action_space()
                        )));
                    }
                };
                let kind = Kind::Other(id.clone(), params.clone(), config.wrappers.clone());
                (kind, observes_box)
            }
        };
        let space = || -> std::result::Result<String, SpecError> {
            let made = wrap::apply(qlab_envs::make(id, params)?, &config.wrappers)?;
            Ok(made.observation_space().to_string())
        };
        match (&config.features, observes_box) {
            (Features::State, true) => {
                return Err(SpecError::NeedsFeatures(format!(
                    "{id} observes {}",
                    space()?
                )));
            }
            (Features::TileCoding(_) | Features::Discretize(_), false) => {
                return Err(SpecError::NoFeaturesNeeded(format!(
                    "{id} observes {}, already a state index",
                    space()?
                )));
            }
            _ => {}
        }
        Ok(EnvSpec {
            kind,
            features: config.features.clone(),
            max_steps: config.train.max_steps_per_episode,
        })
    }

    /// The env's time limit combined with `max_steps_per_episode`: the smaller.
    fn limit(&self, registered: Option<u64>) -> u64 {
        registered
            .unwrap_or(u64::MAX)
            .min(self.max_steps.unwrap_or(u64::MAX))
    }

    /// Calls `visitor` with a maker of this env, wrapped in its time limit and features.
    pub fn visit<V: EnvVisitor>(&self, visitor: V) -> V::Output {
        match &self.kind {
            // A GridWorld observes its state index: `Features::State` (checked by `new`).
            Kind::Grid(c) => match self.limit(c.max_episode_steps) {
                // Without a limit, unwrapped: the wrapper's copy of each step costs a tenth of
                // the training loop's time on CliffWalking.
                u64::MAX => visitor.visit(move || Ok(GridWorld::new(c.clone())?)),
                limit => {
                    visitor.visit(move || Ok(TimeLimit::new(GridWorld::new(c.clone())?, limit)))
                }
            },
            Kind::CartPole(c) => {
                let limit = self.limit(Some(c.max_episode_steps));
                self.with_features(visitor, move || {
                    TimeLimit::new(CartPole::new(c.clone()), limit)
                })
            }
            Kind::CartPoleNoVelocity(c) => {
                let limit = self.limit(Some(c.max_episode_steps));
                self.with_features(visitor, move || {
                    TimeLimit::new(CartPoleNoVelocity::new(c.clone()), limit)
                })
            }
            Kind::Other(id, params, wrappers) => {
                let limit = self.max_steps.unwrap_or(u64::MAX);
                let make = move || -> Result<AnyEnv> {
                    Ok(wrap::apply(qlab_envs::make(id, params)?, wrappers)?)
                };
                // `new` has built this env with these params and wrappers, and matched the
                // features to its kind of observation.
                match self.features {
                    Features::State => visitor.visit(move || match make()? {
                        AnyEnv::Discrete(e) => Ok(TimeLimit::new(e, limit)),
                        _ => unreachable!("{id} was checked to observe states"),
                    }),
                    _ => self.with_features(visitor, move || match make() {
                        Ok(AnyEnv::Vector(e)) => TimeLimit::new(e, limit),
                        _ => unreachable!("{id} was checked to observe a box"),
                    }),
                }
            }
        }
    }

    /// Wraps envs of a box observation in the configured features.
    fn with_features<V, E, F>(&self, visitor: V, make: F) -> V::Output
    where
        V: EnvVisitor,
        E: Env<Action = usize>,
        E::Obs: AsRef<[f32]>,
        F: Fn() -> E + Sync,
    {
        match &self.features {
            Features::TileCoding(t) => visitor.visit(move || {
                Ok(TileCoding::with_bounds(
                    make(),
                    t.tilings,
                    &t.tiles,
                    &t.bounds,
                    t.memory_size,
                )?)
            }),
            Features::Discretize(d) => {
                visitor.visit(move || Ok(Discretize::with_bounds(make(), &d.bins, &d.bounds)?))
            }
            Features::State => unreachable!("`EnvSpec::new` requires features for a box"),
        }
    }

    /// Whether the observation goes through a `[features]` wrapper.
    pub fn has_features(&self) -> bool {
        self.features != Features::State
    }

    /// Builds one env to check that the config can make it, and returns its number of
    /// features and of actions. Errors are the env's or the feature wrapper's.
    pub fn probe(&self) -> Result<Probe> {
        struct P;
        impl EnvVisitor for P {
            type Output = Result<Probe>;
            fn visit<E: AgentEnv<[usize]>, F: Fn() -> Result<E> + Sync>(
                self,
                make: F,
            ) -> Result<Probe> {
                let env = make()?;
                Ok(Probe {
                    name: env.name(),
                    n_features: env.observation_space().as_discrete().map(|d| d.n),
                    n_actions: env.action_space().as_discrete().map(|d| d.n),
                    has_model: env.model().is_some(),
                })
            }
        }
        self.visit(P)
    }
}

/// What [`EnvSpec::probe`] learns from one env.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The env's name.
    pub name: String,
    /// The number of features (the observation space's size), if it is discrete.
    pub n_features: Option<usize>,
    /// The number of actions, if discrete.
    pub n_actions: Option<usize>,
    /// Whether the env has an exact model.
    pub has_model: bool,
}
