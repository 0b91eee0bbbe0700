//! Many envs stepped at once, whole numpy arrays in and out, with Gymnasium's next-step
//! autoreset: [`CoreCartPoleVector`] (qlab's batched CartPole) and [`CoreSyncVector`] (qlab's
//! `SyncVectorEnv` over any registered env).

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use qlab_envs::batched_cartpole::CartPoleBatch;
use qlab_envs::registry::cartpole_config;
use qlab_envs::vector::SyncVectorEnv;
use qlab_envs::{AnyEnv, ContinuousEnv, DiscreteEnv, Error, Info, Space, VectorEnv, make};

use crate::error::{env_error, guarded};

/// What a vector step returns: observations, rewards, terminated, truncated, infos.
type StepArrays = (PyObject, PyObject, PyObject, PyObject, PyObject);

/// Indices `actions` as `usize`s into `out`, each checked against `Discrete(n)`.
fn discrete_actions(actions: &[i64], n: usize, out: &mut Vec<usize>) -> PyResult<()> {
    out.clear();
    for (i, &a) in actions.iter().enumerate() {
        match usize::try_from(a) {
            Ok(a) if a < n => out.push(a),
            _ => {
                return Err(env_error(Error::InvalidAction {
                    action: format!("actions[{i}] = {a}"),
                    space: Space::discrete(n).to_string(),
                }));
            }
        }
    }
    Ok(())
}

/// `n` CartPoles stepped together: qlab's [`CartPoleBatch`] (Gymnasium's
/// `CartPoleVectorEnv`). Actions are an int64 array of 0s and 1s, one per sub-env.
#[pyclass(module = "qlab._core")]
pub struct CoreCartPoleVector {
    batch: CartPoleBatch,
    actions: Vec<usize>,
}

#[pymethods]
impl CoreCartPoleVector {
    /// `num_envs` sub-envs of `CartPole-v1` with `params` (its `[env]` keys, with
    /// `max_episode_steps`).
    #[new]
    #[pyo3(signature = (num_envs, **params))]
    fn new(num_envs: usize, params: Option<&PyDict>) -> PyResult<Self> {
        let params = crate::params::params(params)?;
        if num_envs == 0 {
            return Err(env_error(Error::InvalidParam {
                key: "num_envs".into(),
                value: "0".into(),
                expected: "at least 1".into(),
            }));
        }
        let config = cartpole_config("CartPole-v1", &params).map_err(env_error)?;
        Ok(CoreCartPoleVector {
            batch: CartPoleBatch::new(num_envs, config),
            actions: Vec::with_capacity(num_envs),
        })
    }

    /// The number of sub-envs.
    #[getter]
    fn num_envs(&self) -> usize {
        self.batch.num_envs()
    }

    /// The time limit of each sub-env.
    #[getter]
    fn time_limit(&self) -> u64 {
        self.batch.config().max_episode_steps
    }

    /// Resets every sub-env (sub-env `i` with `seed + i`); returns the `(n, 4)` observations.
    #[pyo3(signature = (seed=None))]
    fn reset(&mut self, py: Python<'_>, seed: Option<u64>) -> PyResult<PyObject> {
        guarded(|| {
            self.batch.reset(seed);
            Ok(PyArray1::from_slice(py, self.batch.observations())
                .reshape([self.batch.num_envs(), 4])?
                .into_py(py))
        })
    }

    /// Steps every sub-env: `(obs, rewards, terminated, truncated, {})`, rewards as float32,
    /// as Gymnasium's `CartPoleVectorEnv` returns them.
    fn step(&mut self, py: Python<'_>, actions: PyReadonlyArray1<'_, i64>) -> PyResult<StepArrays> {
        guarded(|| {
            let n = self.batch.num_envs();
            let actions = actions.as_slice()?;
            if actions.len() != n {
                return Err(env_error(Error::InvalidAction {
                    action: format!("[{} actions]", actions.len()),
                    space: format!("MultiDiscrete([2; {n}]) (one action per sub-env)"),
                }));
            }
            discrete_actions(actions, 2, &mut self.actions)?;
            self.batch.step(&self.actions).map_err(env_error)?;
            let obs = PyArray1::from_slice(py, self.batch.observations()).reshape([n, 4])?;
            let rewards = PyArray1::from_iter(py, self.batch.rewards().iter().map(|&r| r as f32));
            Ok((
                obs.into_py(py),
                rewards.into_py(py),
                PyArray1::from_slice(py, self.batch.terminated()).into_py(py),
                PyArray1::from_slice(py, self.batch.truncated()).into_py(py),
                PyDict::new(py).into_py(py),
            ))
        })
    }

    /// The full-precision state of sub-env `i`.
    fn state(&self, i: usize) -> PyResult<[f64; 4]> {
        if i >= self.batch.num_envs() {
            return Err(env_error(Error::InvalidParam {
                key: "i".into(),
                value: i.to_string(),
                expected: format!("a sub-env index below {}", self.batch.num_envs()),
            }));
        }
        Ok(self.batch.state(i))
    }
}

/// The sub-envs of a [`CoreSyncVector`], by kind.
enum Envs {
    Discrete(SyncVectorEnv<DiscreteEnv>),
    Vector(SyncVectorEnv<VectorEnv>),
    Continuous(SyncVectorEnv<ContinuousEnv>),
}

/// `n` registered envs (each in its time limit) stepped one after another in Rust: qlab's
/// [`SyncVectorEnv`], with Gymnasium's next-step autoreset.
#[pyclass(module = "qlab._core")]
pub struct CoreSyncVector {
    envs: Envs,
    obs_shape: Vec<usize>,
    actions: Vec<usize>,
}

fn make_n(id: &str, params: &qlab_envs::Params, n: usize) -> qlab_envs::Result<Vec<AnyEnv>> {
    (0..n).map(|_| make(id, params)).collect()
}

/// Observations as an int64 `(n,)` array or a float32 `(n, *shape)` one.
fn index_obs(py: Python<'_>, obs: &[usize]) -> PyObject {
    PyArray1::from_iter(py, obs.iter().map(|&o| o as i64)).into_py(py)
}

fn vector_obs(py: Python<'_>, obs: &[Vec<f32>], shape: &[usize]) -> PyResult<PyObject> {
    let flat = PyArray1::from_iter(py, obs.iter().flatten().copied());
    let mut full = vec![obs.len()];
    full.extend_from_slice(shape);
    Ok(flat.reshape(full)?.into_py(py))
}

/// Gymnasium's vector info: each key an array over sub-envs, with a `_key` mask of the
/// sub-envs that set it; keys no sub-env set are left out.
fn infos(py: Python<'_>, infos: &[Info]) -> PyResult<PyObject> {
    let dict = PyDict::new(py);
    if infos.iter().any(|i| i.prob.is_some()) {
        let prob = PyArray1::from_iter(py, infos.iter().map(|i| i.prob.unwrap_or(0.0)));
        let mask = PyArray1::from_iter(py, infos.iter().map(|i| i.prob.is_some()));
        dict.set_item("prob", prob)?;
        dict.set_item("_prob", mask)?;
    }
    Ok(dict.into_py(py))
}

macro_rules! flags {
    ($py:expr, $v:expr) => {
        (
            PyArray1::from_slice($py, $v.rewards()).into_py($py),
            PyArray1::from_slice($py, $v.terminated()).into_py($py),
            PyArray1::from_slice($py, $v.truncated()).into_py($py),
            infos($py, $v.infos())?,
        )
    };
}

#[pymethods]
impl CoreSyncVector {
    /// `num_envs` envs registered under `id`, with `params`.
    #[new]
    #[pyo3(signature = (id, num_envs, **params))]
    fn new(id: &str, num_envs: usize, params: Option<&PyDict>) -> PyResult<Self> {
        let params = crate::params::params(params)?;
        guarded(|| {
            let envs = make_n(id, &params, num_envs).map_err(env_error)?;
            let obs_shape = match envs.first().map(|e| e.observation_space()) {
                Some(Space::Box(b)) => b.shape().to_vec(),
                _ => Vec::new(),
            };
            let err = |e| env_error(e);
            let envs = match envs.first() {
                None => {
                    return Err(env_error(Error::InvalidParam {
                        key: "num_envs".into(),
                        value: "0".into(),
                        expected: "at least 1".into(),
                    }));
                }
                Some(AnyEnv::Discrete(_)) => Envs::Discrete(
                    SyncVectorEnv::new(
                        envs.into_iter()
                            .filter_map(|e| match e {
                                AnyEnv::Discrete(e) => Some(e),
                                _ => None,
                            })
                            .collect(),
                    )
                    .map_err(err)?,
                ),
                Some(AnyEnv::Vector(_)) => Envs::Vector(
                    SyncVectorEnv::new(
                        envs.into_iter()
                            .filter_map(|e| match e {
                                AnyEnv::Vector(e) => Some(e),
                                _ => None,
                            })
                            .collect(),
                    )
                    .map_err(err)?,
                ),
                Some(AnyEnv::Continuous(_)) => Envs::Continuous(
                    SyncVectorEnv::new(
                        envs.into_iter()
                            .filter_map(|e| match e {
                                AnyEnv::Continuous(e) => Some(e),
                                _ => None,
                            })
                            .collect(),
                    )
                    .map_err(err)?,
                ),
            };
            Ok(CoreSyncVector {
                envs,
                obs_shape,
                actions: Vec::with_capacity(num_envs),
            })
        })
    }

    /// Resets every sub-env (sub-env `i` with `seed + i`); returns `(obs, infos)`.
    #[pyo3(signature = (seed=None))]
    fn reset(&mut self, py: Python<'_>, seed: Option<u64>) -> PyResult<(PyObject, PyObject)> {
        let shape = &self.obs_shape;
        let envs = &mut self.envs;
        guarded(|| match envs {
            Envs::Discrete(v) => {
                let obs = index_obs(py, v.reset(seed));
                Ok((obs, infos(py, v.infos())?))
            }
            Envs::Vector(v) => {
                let obs = vector_obs(py, v.reset(seed), shape)?;
                Ok((obs, infos(py, v.infos())?))
            }
            Envs::Continuous(v) => {
                let obs = vector_obs(py, v.reset(seed), shape)?;
                Ok((obs, infos(py, v.infos())?))
            }
        })
    }

    /// Steps every sub-env: an int64 `(n,)` array of discrete actions, or a float32
    /// `(n, *shape)` array of Box actions. Returns `(obs, rewards, terminated, truncated,
    /// infos)`.
    fn step(&mut self, py: Python<'_>, actions: &PyAny) -> PyResult<StepArrays> {
        let shape = &self.obs_shape;
        let buffer = &mut self.actions;
        let envs = &mut self.envs;
        guarded(|| match envs {
            Envs::Discrete(v) => {
                let a: PyReadonlyArray1<'_, i64> = actions.extract()?;
                let n = v.single_action_space().flat_dim();
                discrete_actions(a.as_slice()?, n, buffer)?;
                v.step(buffer).map_err(env_error)?;
                let (r, te, tr, info) = flags!(py, v);
                Ok((index_obs(py, v.observations()), r, te, tr, info))
            }
            Envs::Vector(v) => {
                let a: PyReadonlyArray1<'_, i64> = actions.extract()?;
                let n = v.single_action_space().flat_dim();
                discrete_actions(a.as_slice()?, n, buffer)?;
                v.step(buffer).map_err(env_error)?;
                let (r, te, tr, info) = flags!(py, v);
                Ok((vector_obs(py, v.observations(), shape)?, r, te, tr, info))
            }
            Envs::Continuous(v) => {
                let a: PyReadonlyArrayDyn<'_, f32> = actions.extract()?;
                let rows = a.shape().first().copied().unwrap_or(0);
                let width = v.single_action_space().flat_dim();
                if a.ndim() != 2 || a.shape()[1] != width {
                    return Err(env_error(Error::InvalidAction {
                        action: format!("an array of shape {:?}", a.shape()),
                        space: format!(
                            "{} for each of {} sub-envs",
                            v.single_action_space(),
                            v.num_envs()
                        ),
                    }));
                }
                let view = a.as_array();
                let owned: Vec<Vec<f32>> = (0..rows)
                    .map(|i| {
                        view.index_axis(numpy::ndarray::Axis(0), i)
                            .iter()
                            .copied()
                            .collect()
                    })
                    .collect();
                v.step(&owned).map_err(env_error)?;
                let (r, te, tr, info) = flags!(py, v);
                Ok((vector_obs(py, v.observations(), shape)?, r, te, tr, info))
            }
        })
    }

    /// The number of sub-envs.
    #[getter]
    fn num_envs(&self) -> usize {
        match &self.envs {
            Envs::Discrete(v) => v.num_envs(),
            Envs::Vector(v) => v.num_envs(),
            Envs::Continuous(v) => v.num_envs(),
        }
    }

    /// The shape of one observation (`()` for a state index).
    #[getter]
    fn single_observation_shape(&self, py: Python<'_>) -> PyObject {
        PyTuple::new(py, &self.obs_shape).into_py(py)
    }
}
