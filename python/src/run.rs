//! Runs from Python: [`train`] through the runner `qlab train` uses, and [`CoreRun`], a run's
//! saved agent reloaded to act and be evaluated.

use std::path::PathBuf;
use std::time::Duration;

use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use qlab::cmd::train::TrainArgs;
use qlab::config::Config;
use qlab::runner::interface::{EnvAction, Interface, Observation};
use qlab::runner::onpolicy::{self, OnPolicyExperiment};
use qlab::runner::record::AgentChoice;
use qlab::runner::{self, Experiment, Interrupted, Stop, deep, tabular};
use qlab_agents::Agent;
use qlab_agents::actor_critic::ActorCriticAgent;
use qlab_agents::dqn::Dqn;
use qlab_agents::tabular::TabularAgent;
use qlab_envs::EnvRng;
use rand::SeedableRng;

use crate::error::{guarded, run_error};
use crate::params::toml_value;

/// The config a Python value names: a path (a string or `os.PathLike`) to a TOML file, or a
/// dict in the TOML's shape; `overrides` (`{"agent.alpha": 0.3}` or
/// `{"agent": {"alpha": 0.3}}`) applied as `--set` flags are.
fn load_config(config: &PyAny, overrides: Option<&PyDict>) -> PyResult<Config> {
    let mut sets = Vec::new();
    if let Some(overrides) = overrides {
        let toml::Value::Table(table) = toml_value("", overrides)? else {
            unreachable!("a dict is a table")
        };
        flatten("", &toml::Value::Table(table), &mut sets)?;
    }
    if let Ok(dict) = config.downcast::<PyDict>() {
        let table = toml_value("", dict)?;
        let text =
            toml::to_string(&table).map_err(|e| PyValueError::new_err(format!("config: {e}")))?;
        return Config::parse("<dict>", &text, &sets).map_err(|e| run_error(&e));
    }
    let path: PathBuf = config.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "config must be a path to a TOML file or a dict, got {}",
            config.get_type().name().unwrap_or("?")
        ))
    })?;
    Config::load(&path.display().to_string(), &sets).map_err(|e| run_error(&e))
}

/// `--set` flags for every leaf of `value`, keyed by its dotted path.
fn flatten(path: &str, value: &toml::Value, out: &mut Vec<String>) -> PyResult<()> {
    match value {
        toml::Value::Table(t) if path.is_empty() || !path.contains('.') => {
            for (key, item) in t {
                let inner = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(&inner, item, out)?;
            }
            Ok(())
        }
        _ if !path.contains('.') => Err(PyValueError::new_err(format!(
            "override `{path}`: expected SECTION.KEY, e.g. agent.alpha"
        ))),
        _ => {
            out.push(format!("{path}={value}"));
            Ok(())
        }
    }
}

/// Trains a config once per seed through the runner of `qlab train`, into `out` (default:
/// `runs/<env>_<algorithm>_<time>`). Returns the run directory and the per-seed summaries as
/// JSON (as `summary.json` holds them).
///
/// The GIL is released while the seeds train. Ctrl-C (Python's SIGINT handler) stops the run
/// as the first Ctrl-C stops `qlab train`: each seed finishes its episode and writes a
/// checkpoint, then `KeyboardInterrupt` is raised, naming the command that finishes the run.
#[pyfunction]
#[pyo3(signature = (config, seeds=None, out=None, overrides=None, threads=None, quiet=false))]
pub fn train(
    py: Python<'_>,
    config: &PyAny,
    seeds: Option<&PyAny>,
    out: Option<PathBuf>,
    overrides: Option<&PyDict>,
    threads: Option<usize>,
    quiet: bool,
) -> PyResult<(String, String)> {
    let config = load_config(config, overrides)?;
    // A string is parsed as `--seeds` is (`0..10`, `0,3,7`); a list of integers is taken as is.
    let seeds = match seeds {
        None => None,
        Some(s) if s.is_instance_of::<pyo3::types::PyString>() => Some(s.extract::<String>()?),
        Some(s) => Some(
            s.extract::<Vec<u64>>()
                .map_err(|_| {
                    PyTypeError::new_err(format!(
                        "invalid seeds {}: expected a list of integers in [0, 2**64) or a \
                         string such as '0..10'",
                        crate::env::one_line(s)
                    ))
                })?
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
    };
    let args = TrainArgs {
        seeds,
        out,
        threads,
        quiet,
        ..TrainArgs::default()
    };
    if args.seeds.as_deref() == Some("") {
        return Err(PyValueError::new_err("seeds: give at least one seed"));
    }
    let stop = Stop::new();
    let (result, interrupt) = py.allow_threads(|| {
        std::thread::scope(|s| {
            let handle = s.spawn(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    qlab::cmd::train::train(config, &args, Some(&stop))
                }))
            });
            let mut interrupt = None;
            while !handle.is_finished() {
                std::thread::sleep(Duration::from_millis(20));
                if interrupt.is_none() {
                    // Python's handlers run here, on the thread that called `train`: a
                    // KeyboardInterrupt becomes a stop request.
                    if let Err(e) = Python::with_gil(|py| py.check_signals()) {
                        stop.request(2);
                        interrupt = Some(e);
                    }
                }
            }
            (handle.join(), interrupt)
        })
    });
    let result = match result {
        Ok(Ok(r)) => r,
        _ => {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "internal error (a bug in qlab, please report it): the training thread panicked",
            ));
        }
    };
    match result {
        Ok((dir, summary)) => {
            if let Some(e) = interrupt {
                // The run finished before the stop was seen: the interrupt still stands.
                return Err(e);
            }
            let json = serde_json::to_string(&summary.per_seed)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            Ok((dir.display().to_string(), json))
        }
        Err(e) => {
            if let Some(i) = e.chain().find_map(|c| c.downcast_ref::<Interrupted>()) {
                return Err(PyKeyboardInterrupt::new_err(i.to_string()));
            }
            Err(run_error(&e))
        }
    }
}

/// A run's saved agent, reloaded.
enum Loaded {
    /// A tabular or linear agent, with the run's env read through its wrappers and features.
    Tabular(Box<dyn TabularAgent>, Box<Interface>),
    Deep(Box<Dqn>),
    /// An actor-critic's policy (PPO, A2C), with its run's action space.
    Policy(Box<ActorCriticAgent>, Box<OnPolicyExperiment>),
}

/// The saved agent of one seed of a run written by `qlab train` (or `qlab.train`), built as
/// its `config.toml` builds it: `act` gives its greedy action,
/// `evaluate` evaluates every seed's agent as `qlab eval` does.
#[pyclass(module = "qlab._core")]
pub struct CoreRun {
    dir: PathBuf,
    seed: u64,
    agent: Loaded,
    /// Breaks ties between equally valued actions.
    rng: EnvRng,
    /// Whether the next `act` begins an episode.
    first: bool,
    n_obs: Option<usize>,
}

#[pymethods]
impl CoreRun {
    /// Reloads the agent of `seed` (default: the run's first seed with a saved agent) from
    /// `dir`; `best` takes the best evaluation's agent (`[train] keep_best`).
    #[new]
    #[pyo3(signature = (dir, seed=None, best=false))]
    fn new(dir: PathBuf, seed: Option<u64>, best: bool) -> PyResult<Self> {
        guarded(|| {
            let choice = if best {
                AgentChoice::Best
            } else {
                AgentChoice::Last
            };
            let config = runner::load_run_config(&dir).map_err(|e| run_error(&e))?;
            choice
                .check(&config.train, &dir)
                .map_err(|e| run_error(&e))?;
            let seeds = match seed {
                Some(s) => vec![s],
                None => config.train.seeds.clone(),
            };
            let exp = Experiment::new(config).map_err(|e| run_error(&e))?;
            for s in seeds {
                let seed_dir = choice.dir(&dir.join(format!("seed_{s}")));
                let loaded = match &exp {
                    Experiment::Tabular(e) => {
                        match tabular::load_agent(e, &seed_dir, "qlab.load")
                            .map_err(|e| run_error(&e))?
                        {
                            Some(agent) => {
                                let interface =
                                    Interface::new(&e.config).map_err(|e| run_error(&e))?;
                                Some(Loaded::Tabular(agent, Box::new(interface)))
                            }
                            None => None,
                        }
                    }
                    Experiment::Deep(e) => deep::load_agent(e, &seed_dir)
                        .map_err(|e| run_error(&e))?
                        .map(|a| Loaded::Deep(Box::new(a))),
                    Experiment::OnPolicy(e) => onpolicy::load_agent(e, &seed_dir)
                        .map_err(|e| run_error(&e))?
                        .map(|a| Loaded::Policy(Box::new(a), e.clone())),
                };
                if let Some(agent) = loaded {
                    let n_obs = match &exp {
                        Experiment::Deep(e) => Some(e.obs_shape.iter().product()),
                        Experiment::OnPolicy(e) => Some(e.obs_dim),
                        Experiment::Tabular(_) => None,
                    };
                    return Ok(CoreRun {
                        dir,
                        seed: s,
                        agent,
                        rng: EnvRng::seed_from_u64(s),
                        first: true,
                        n_obs,
                    });
                }
            }
            Err(PyValueError::new_err(format!(
                "{} holds no saved agent ({}){}",
                dir.display(),
                choice.file(),
                seed.map_or(String::new(), |s| format!(" for seed {s}"))
            )))
        })
    }

    /// The run directory.
    #[getter]
    fn dir(&self) -> String {
        self.dir.display().to_string()
    }

    /// The seed whose agent acts.
    #[getter]
    fn seed(&self) -> u64 {
        self.seed
    }

    /// The greedy action at `obs`, as the run's env takes it. A tabular agent reads a state
    /// index, or the env's observation array where the config has `[features]`, and gives an
    /// integer, or a float32 array where `[wrappers] discretize_action` made the Box actions a
    /// grid; a DQN reads a float32 array. `first` marks the first observation of an episode (an
    /// agent with memory resets there); by default the first call, and the one after
    /// `new_episode`, is.
    #[pyo3(signature = (obs, first=None))]
    fn act(&mut self, py: Python<'_>, obs: &PyAny, first: Option<bool>) -> PyResult<PyObject> {
        let first = first.unwrap_or(self.first);
        self.first = false;
        let n_obs = self.n_obs;
        guarded(|| match &mut self.agent {
            Loaded::Tabular(agent, interface) => {
                let values: Vec<f32>;
                let observation = if interface.reads_state_index() {
                    let state =
                        crate::env::discrete_action(obs, &qlab_envs::Space::discrete(usize::MAX))
                            .map_err(|_| {
                            PyTypeError::new_err(format!(
                                "act: expected a state index (a non-negative integer), got {}",
                                crate::env::one_line(obs)
                            ))
                        })?;
                    Observation::State(state)
                } else {
                    let array: PyReadonlyArrayDyn<'_, f32> = obs.extract().map_err(|_| {
                        PyTypeError::new_err(format!(
                            "act: expected a float32 array, got {}",
                            crate::env::one_line(obs)
                        ))
                    })?;
                    values = array.as_array().iter().copied().collect();
                    Observation::Values(&values)
                };
                let action = interface
                    .act(agent.as_ref(), observation, &mut self.rng)
                    .map_err(|e| PyValueError::new_err(format!("act: {e}")))?;
                Ok(match action {
                    EnvAction::Discrete(a) => a.into_py(py),
                    EnvAction::Box(v) => v.into_pyarray(py).into_py(py),
                })
            }
            Loaded::Deep(agent) => {
                let array: PyReadonlyArrayDyn<'_, f32> = obs.extract().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "act: expected a float32 array, got {}",
                        crate::env::one_line(obs)
                    ))
                })?;
                let values: Vec<f32> = array.as_array().iter().copied().collect();
                if Some(values.len()) != n_obs || values.iter().any(|x| !x.is_finite()) {
                    return Err(PyValueError::new_err(format!(
                        "act: expected {} finite values, got {values:?}",
                        n_obs.unwrap_or(0)
                    )));
                }
                Agent::greedy(agent.as_mut(), values.as_slice(), first, &mut self.rng)
                    .map(|a| a.into_py(py))
                    .map_err(|e| PyValueError::new_err(e.to_string()))
            }
            Loaded::Policy(agent, exp) => {
                let array: PyReadonlyArrayDyn<'_, f32> = obs.extract().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "act: expected a float32 array, got {}",
                        crate::env::one_line(obs)
                    ))
                })?;
                let values: Vec<f32> = array.as_array().iter().copied().collect();
                let action = exp
                    .greedy_action(agent, &values)
                    .map_err(|e| PyValueError::new_err(format!("act: {e:#}")))?;
                Ok(match action {
                    EnvAction::Discrete(a) => a.into_py(py),
                    EnvAction::Box(v) => v.into_pyarray(py).into_py(py),
                })
            }
        })
    }

    /// Marks the next `act` as the first of an episode.
    fn new_episode(&mut self) {
        self.first = true;
    }

    /// Evaluates every seed's saved agent greedily over `episodes` episodes (default: the
    /// config's `eval_episodes`), with the run's own evaluation seeds, as `qlab eval` does:
    /// `[(seed, mean, std, episodes)]`.
    #[pyo3(signature = (episodes=None, best=false))]
    fn evaluate(
        &self,
        py: Python<'_>,
        episodes: Option<u64>,
        best: bool,
    ) -> PyResult<Vec<(u64, f64, f64, u64)>> {
        let choice = if best {
            AgentChoice::Best
        } else {
            AgentChoice::Last
        };
        let dir = self.dir.clone();
        let out = py
            .allow_threads(|| std::panic::catch_unwind(|| runner::evaluate(&dir, episodes, choice)))
            .map_err(|_| {
                pyo3::exceptions::PyRuntimeError::new_err(
                    "internal error (a bug in qlab, please report it): evaluation panicked",
                )
            })?
            .map_err(|e| run_error(&e))?;
        Ok(out
            .into_iter()
            .map(|r| {
                let v = r.evaluation;
                (r.seed, v.mean, v.std, v.episodes as u64)
            })
            .collect())
    }

    fn __repr__(&self) -> String {
        format!(
            "CoreRun({:?}, seed={})",
            self.dir.display().to_string(),
            self.seed
        )
    }
}
