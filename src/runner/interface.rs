//! A tabular agent acting outside the training loop (`qlab.load(...).act` from Python): one
//! observation of the config's env read as the agent's features, through the run's
//! `[wrappers]` and `[features]`, and the agent's action turned into the action the env takes.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Result, bail};
use qlab_agents::tabular::TabularAgent;
use qlab_envs::wrappers::{Discretize, TileCoding};
use qlab_envs::{AnyEnv, Env, EnvRng, Frame, Info, Reset, Space, Step, VectorEnv};

use super::wrap;
use crate::config::{Config, Features};

/// An observation of the env as the user steps it (the registered env in the run's
/// `[wrappers]`).
#[derive(Clone, Copy, Debug)]
pub enum Observation<'a> {
    /// A state index (envs that observe one).
    State(usize),
    /// A box observation's values, flattened.
    Values(&'a [f32]),
}

/// An action as the env takes it.
#[derive(Clone, Debug, PartialEq)]
pub enum EnvAction {
    /// A discrete action.
    Discrete(usize),
    /// A Box action: the point of `[wrappers] discretize_action`'s grid that the agent chose,
    /// mapped through the run's other action wrappers.
    Box(Vec<f32>),
}

/// How the agent reads the env's observation.
enum Reader {
    /// The state index itself, below the number of states.
    State(usize),
    /// Tile coding of a box observation.
    Tiles(TileCoding<VectorEnv>),
    /// Uniform bins over a box observation.
    Bins(Discretize<VectorEnv>),
}

/// The run's `[wrappers]` around an env that only records the action it is given: stepping it
/// with an agent's index gives the Box action the real env would take, whatever the wrappers
/// do to it on the way.
struct ActionMap {
    wrapped: VectorEnv,
    taken: Arc<Mutex<Vec<f32>>>,
}

/// The observation side and the action side of a config's env, for acting on a saved agent.
pub struct Interface {
    reader: Reader,
    /// The observation's length (Box observations), for the one-line error of a wrong one.
    obs_len: usize,
    actions: Option<ActionMap>,
}

impl Interface {
    /// Builds the reader of the config's env and features and, for `discretize_action`, the
    /// map from the agent's actions to the env's.
    ///
    /// # Errors
    /// An env, wrapper or feature setting the config cannot build (a run's own config
    /// builds).
    pub fn new(config: &Config) -> Result<Interface> {
        let (id, params) = (&config.env.id, &config.env.params);
        let env = wrap::apply(qlab_envs::make(id, params)?, &config.wrappers)?;
        let obs_len = env.observation_space().flat_dim();
        let reader =
            match (env, &config.features) {
                (AnyEnv::Discrete(e), Features::State) => {
                    let n = e.observation_space().flat_dim();
                    Reader::State(n)
                }
                (AnyEnv::Vector(e), Features::TileCoding(t)) => Reader::Tiles(
                    TileCoding::with_bounds(e, t.tilings, &t.tiles, &t.bounds, t.memory_size)?,
                ),
                (AnyEnv::Vector(e), Features::Discretize(d)) => {
                    Reader::Bins(Discretize::with_bounds(e, &d.bins, &d.bounds)?)
                }
                (env, _) => bail!(
                    "{id} observes {} and acts in {}: no tabular agent reads it with these \
                 [features] and [wrappers]",
                    env.observation_space(),
                    env.action_space()
                ),
            };
        let actions = match config.wrappers.discretize_action {
            Some(_) => Some(ActionMap::new(config)?),
            None => None,
        };
        Ok(Interface {
            reader,
            obs_len,
            actions,
        })
    }

    /// Whether the agent reads a state index (otherwise an observation's values).
    pub fn reads_state_index(&self) -> bool {
        matches!(self.reader, Reader::State(_))
    }

    /// The greedy action of `agent` at `obs`, as the env takes it; ties broken with `rng`.
    ///
    /// # Errors
    /// An observation of the wrong kind or length, a state index out of range, or a value
    /// that is not finite.
    pub fn act(
        &mut self,
        agent: &dyn TabularAgent,
        obs: Observation<'_>,
        rng: &mut EnvRng,
    ) -> Result<EnvAction> {
        let k = agent.greedy(&self.features(obs)?, rng);
        match &mut self.actions {
            Some(map) => Ok(EnvAction::Box(map.action_of(k)?)),
            None => Ok(EnvAction::Discrete(k)),
        }
    }

    /// The active features the agent reads at `obs`.
    fn features(&self, obs: Observation<'_>) -> Result<Vec<usize>> {
        match (&self.reader, obs) {
            (Reader::State(n), Observation::State(s)) if s < *n => Ok(vec![s]),
            (Reader::State(n), Observation::State(s)) => {
                bail!("expected a state index below {n}, got {s}")
            }
            (Reader::State(n), Observation::Values(v)) => {
                bail!("expected a state index below {n}, got {} values", v.len())
            }
            (_, Observation::State(s)) => {
                bail!(
                    "expected {} observation values, got the index {s}",
                    self.obs_len
                )
            }
            (reader, Observation::Values(v)) => {
                if v.len() != self.obs_len || v.iter().any(|x| !x.is_finite()) {
                    bail!("expected {} finite values, got {v:?}", self.obs_len);
                }
                Ok(match reader {
                    Reader::Tiles(t) => t.tiles_of(v).as_slice().to_vec(),
                    Reader::Bins(b) => vec![b.index_of(v)],
                    Reader::State(_) => unreachable!("matched above"),
                })
            }
        }
    }
}

impl ActionMap {
    fn new(config: &Config) -> Result<ActionMap> {
        let (id, params) = (&config.env.id, &config.env.params);
        let AnyEnv::Continuous(env) = qlab_envs::make(id, params)? else {
            bail!("`discretize_action` needs Box actions; {id} has none");
        };
        let taken = Arc::new(Mutex::new(Vec::new()));
        let tap = ActionTap {
            name: env.name(),
            observation_space: env.observation_space().clone(),
            action_space: env.action_space().clone(),
            obs: vec![0.0; env.observation_space().flat_dim()],
            taken: Arc::clone(&taken),
        };
        let AnyEnv::Vector(mut wrapped) =
            wrap::apply(AnyEnv::Continuous(Box::new(tap)), &config.wrappers)?
        else {
            bail!("`discretize_action` of {id} does not give discrete actions");
        };
        let _ = wrapped.reset(None);
        Ok(ActionMap { wrapped, taken })
    }

    /// The Box action the env is given when the wrapped env is stepped with `k`.
    fn action_of(&mut self, k: usize) -> Result<Vec<f32>> {
        let _ = self.wrapped.step(k)?;
        let taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(taken.clone())
    }
}

/// An env with another env's spaces that records each action it is stepped with and does
/// nothing else (its observation is all zeros, its reward 0, its episodes never end).
struct ActionTap {
    name: String,
    observation_space: Space,
    action_space: Space,
    obs: Vec<f32>,
    taken: Arc<Mutex<Vec<f32>>>,
}

impl Env for ActionTap {
    type Obs = Vec<f32>;
    type Action = Vec<f32>;

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, _seed: Option<u64>) -> Reset<Vec<f32>> {
        Reset {
            obs: self.obs.clone(),
            info: Info::default(),
        }
    }

    fn step(&mut self, action: Vec<f32>) -> qlab_envs::Result<Step<Vec<f32>>> {
        *self.taken.lock().unwrap_or_else(PoisonError::into_inner) = action;
        Ok(Step {
            obs: self.obs.clone(),
            reward: 0.0,
            terminated: false,
            truncated: false,
            info: Info::default(),
        })
    }

    fn render_ansi(&self) -> String {
        String::new()
    }

    fn render_rgb(&self) -> Frame {
        Frame::filled(1, 1, [0, 0, 0])
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::envs::{AgentEnv, EnvSpec, EnvVisitor};
    use qlab_agents::View;

    fn config(text: &str) -> Config {
        let text = format!("{text}[train]\nepisodes = 1\n");
        Config::parse("t.toml", &text, &[]).unwrap()
    }

    /// The Box action behind each index of the grid is the one the run's env takes, through
    /// `rescale_action`: a raw Pendulum stepped with it lands where the wrapped one stepped
    /// with the index does.
    #[test]
    fn discretized_actions_come_back_as_the_env_takes_them() {
        let c = config(
            "[env]\nid = 'Pendulum-v1'\n[wrappers]\nrescale_action = [-1.0, 1.0]\n\
             discretize_action = 5\n[features]\nkind = 'discretize'\nbins = [2, 2, 2]\n\
             [agent]\nalgorithm = 'q_learning'\n",
        );
        let mut interface = Interface::new(&c).unwrap();
        let map = interface.actions.as_mut().unwrap();
        let make = || qlab_envs::make("Pendulum-v1", &c.env.params).unwrap();
        let mut actions = Vec::new();
        for k in 0..5 {
            let action = map.action_of(k).unwrap();
            let AnyEnv::Vector(mut wrapped) = wrap::apply(make(), &c.wrappers).unwrap() else {
                panic!("a discretized Pendulum has discrete actions");
            };
            let AnyEnv::Continuous(mut raw) = make() else {
                panic!("Pendulum has Box actions");
            };
            assert_eq!(
                wrapped.reset(Some(k as u64)).obs,
                raw.reset(Some(k as u64)).obs
            );
            let (a, b) = (wrapped.step(k).unwrap(), raw.step(action.clone()).unwrap());
            assert_eq!(a.obs, b.obs, "action {k}: {action:?}");
            assert_eq!(a.reward.to_bits(), b.reward.to_bits());
            actions.push(action[0]);
        }
        // Five bins' centres over [−1, 1], scaled to the torque's [−2, 2].
        assert!(actions.windows(2).all(|w| w[0] < w[1]), "{actions:?}");
        assert!((actions[0] + 1.6).abs() < 1e-6 && (actions[4] - 1.6).abs() < 1e-6);
        assert!(map.action_of(5).is_err());
    }

    /// The features read from an observation are those the training env's feature wrapper
    /// gives for the same state.
    #[test]
    fn observations_read_as_the_training_env_reads_them() {
        struct FirstFeatures;
        impl EnvVisitor for FirstFeatures {
            type Output = Vec<usize>;
            fn visit<E: AgentEnv<[usize]>, F: Fn() -> anyhow::Result<E> + Sync>(
                self,
                make: F,
            ) -> Vec<usize> {
                make().unwrap().reset(Some(7)).obs.view().to_vec()
            }
        }
        let c = config(
            "[env]\nid = 'MountainCar-v0'\n[features]\nkind = 'tile_coding'\ntilings = 8\n\
             tiles = [8, 8]\nmemory_size = 4096\n[agent]\nalgorithm = 'sarsa'\n",
        );
        let AnyEnv::Vector(mut env) = qlab_envs::make("MountainCar-v0", &c.env.params).unwrap()
        else {
            panic!("MountainCar-v0 observes a box");
        };
        let obs = env.reset(Some(7)).obs;
        let interface = Interface::new(&c).unwrap();
        let got = interface.features(Observation::Values(&obs)).unwrap();
        let want = EnvSpec::new(&c).unwrap().visit(FirstFeatures);
        assert_eq!(got, want);
        assert_eq!(got.len(), 8);
        let wrong = interface.features(Observation::Values(&obs[..1]));
        assert_eq!(
            wrong.unwrap_err().to_string(),
            "expected 2 finite values, got [".to_string() + &format!("{}]", obs[0])
        );
        let index = interface.features(Observation::State(3)).unwrap_err();
        assert_eq!(
            index.to_string(),
            "expected 2 observation values, got the index 3"
        );
    }

    /// A state-index env reads the index, in range only.
    #[test]
    fn a_state_index_is_read_in_range() {
        let c = config("[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'q_learning'\n");
        let interface = Interface::new(&c).unwrap();
        assert_eq!(interface.features(Observation::State(47)).unwrap(), [47]);
        let err = interface.features(Observation::State(48)).unwrap_err();
        assert_eq!(err.to_string(), "expected a state index below 48, got 48");
        assert!(interface.actions.is_none());
    }
}
