//! [`CoreEnv`]: one registered env, stepped from Python with numpy observations.

use numpy::{PyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use qlab_envs::{AnyEnv, Env, Info, Space, make_without_time_limit};

use crate::error::{env_error, guarded};

/// Every registered env: `(id, description, time limit or None)`, in the order of `qlab
/// envs`.
#[pyfunction]
pub fn registered() -> PyResult<Vec<(String, String, Option<u64>)>> {
    qlab_envs::registered()
        .into_iter()
        .map(|spec| {
            let (_, limit) =
                make_without_time_limit(spec.id, &qlab_envs::Params::new()).map_err(env_error)?;
            Ok((spec.id.to_string(), spec.description.to_string(), limit))
        })
        .collect()
}

/// One env of qlab's registry, without its time limit (Gymnasium's `TimeLimit` wrapper applies
/// it, as for Gymnasium's own envs); its time limit is the `time_limit` property.
///
/// The Python class `qlab.envs.QlabEnv` wraps it as a `gymnasium.Env`.
#[pyclass(module = "qlab._core")]
pub struct CoreEnv {
    env: AnyEnv,
    id: String,
    time_limit: Option<u64>,
    obs_shape: Vec<usize>,
}

/// A space as the tuple the Python side turns into a `gymnasium.spaces` object:
/// `("discrete", n)` or `("box", low, high, shape)`.
fn space_tuple(py: Python<'_>, space: &Space) -> PyObject {
    match space {
        Space::Discrete(d) => ("discrete", d.n).into_py(py),
        Space::Box(b) => (
            "box",
            PyArray1::from_slice(py, b.low()),
            PyArray1::from_slice(py, b.high()),
            PyTuple::new(py, b.shape()),
        )
            .into_py(py),
    }
}

/// The shape of a space's elements (`[]` for a discrete space).
pub fn shape(space: &Space) -> Vec<usize> {
    match space {
        Space::Discrete(_) => Vec::new(),
        Space::Box(b) => b.shape().to_vec(),
    }
}

/// A vector observation as a float32 array of the space's shape.
pub fn vector_obs(py: Python<'_>, obs: &[f32], shape: &[usize]) -> PyResult<PyObject> {
    let flat = PyArray1::from_slice(py, obs);
    if shape.len() <= 1 {
        Ok(flat.into_py(py))
    } else {
        Ok(flat.reshape(shape.to_vec())?.into_py(py))
    }
}

/// An info as Gymnasium's dict: `prob` where the env has an exact model.
pub fn info_dict<'py>(py: Python<'py>, info: &Info) -> PyResult<&'py PyDict> {
    let dict = PyDict::new(py);
    if let Some(p) = info.prob {
        dict.set_item("prob", p)?;
    }
    if let Some(e) = &info.episode {
        let episode = PyDict::new(py);
        episode.set_item("r", e.ret)?;
        episode.set_item("l", e.length)?;
        dict.set_item("episode", episode)?;
    }
    Ok(dict)
}

/// `value`'s `repr` on one line (a numpy array's spans several).
pub fn one_line(value: &PyAny) -> String {
    value.repr().map_or_else(
        |_| "?".to_string(),
        |r| {
            r.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        },
    )
}

/// A discrete action: a Python or NumPy integer (not a boolean) in `0..n`.
///
/// # Errors
/// `TypeError` for anything but an integer, `ValueError` (qlab's message) for one outside the
/// space.
pub fn discrete_action(action: &PyAny, space: &Space) -> PyResult<usize> {
    let py = action.py();
    let type_name = action.get_type().name()?;
    let wrong_type = || {
        PyTypeError::new_err(format!(
            "invalid action {} of type {type_name}: expected an integer of the action space \
             {space}",
            one_line(action)
        ))
    };
    if type_name == "bool" || type_name == "bool_" {
        return Err(wrong_type());
    }
    let value: i128 = match action.extract::<i128>() {
        Ok(v) => v,
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
            return Err(PyValueError::new_err(format!(
                "invalid action {}: not in the action space {space}",
                one_line(action)
            )));
        }
        Err(_) => return Err(wrong_type()),
    };
    match usize::try_from(value) {
        Ok(a) if space.as_discrete().is_some_and(|d| d.contains(a)) => Ok(a),
        _ => Err(PyValueError::new_err(format!(
            "invalid action {value}: not in the action space {space}"
        ))),
    }
}

/// A Box action: a float32 array of the space's shape (the Python side converts what it is
/// given with `numpy.asarray`). The env checks the values.
pub fn box_action(action: &PyAny, space: &Space) -> PyResult<Vec<f32>> {
    let array: PyReadonlyArrayDyn<'_, f32> = action.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "invalid action {}: expected a float32 array for the action space {space}",
            one_line(action)
        ))
    })?;
    let values: Vec<f32> = array.as_array().iter().copied().collect();
    if array.shape() != shape(space).as_slice() {
        return Err(env_error(qlab_envs::Error::InvalidAction {
            action: format!("{values:?} of shape {:?}", array.shape()),
            space: space.to_string(),
        }));
    }
    Ok(values)
}

/// What a step returns to Python.
type StepTuple = (PyObject, f64, bool, bool, PyObject);

#[pymethods]
impl CoreEnv {
    /// The env registered under `id`, with `params` (its `[env]` keys) as keyword arguments.
    #[new]
    #[pyo3(signature = (id, **params))]
    fn new(id: &str, params: Option<&PyDict>) -> PyResult<Self> {
        let params = crate::params::params(params)?;
        guarded(|| {
            let (env, time_limit) = make_without_time_limit(id, &params).map_err(env_error)?;
            let obs_shape = shape(env.observation_space());
            Ok(CoreEnv {
                env,
                id: id.to_string(),
                time_limit,
                obs_shape,
            })
        })
    }

    /// The registry id.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// The time limit the registry gives the env (and its `max_episode_steps` parameter), or
    /// `None`.
    #[getter]
    fn time_limit(&self) -> Option<u64> {
        self.time_limit
    }

    /// `("discrete", n)` or `("box", low, high, shape)`.
    #[getter]
    fn observation_space(&self, py: Python<'_>) -> PyObject {
        space_tuple(py, self.env.observation_space())
    }

    /// `("discrete", n)` or `("box", low, high, shape)`.
    #[getter]
    fn action_space(&self, py: Python<'_>) -> PyObject {
        space_tuple(py, self.env.action_space())
    }

    /// Whether the env has an exact model (every grid world, Taxi, Blackjack).
    #[getter]
    fn has_model(&self) -> bool {
        match &self.env {
            AnyEnv::Discrete(e) => e.model().is_some(),
            AnyEnv::Vector(e) => e.model().is_some(),
            AnyEnv::Continuous(e) => e.model().is_some(),
        }
    }

    /// Starts an episode, reseeding with `seed` if given: `(obs, info)`.
    #[pyo3(signature = (seed=None))]
    fn reset(&mut self, py: Python<'_>, seed: Option<u64>) -> PyResult<(PyObject, PyObject)> {
        let shape = &self.obs_shape;
        let env = &mut self.env;
        guarded(|| {
            let (obs, info) = match env {
                AnyEnv::Discrete(e) => {
                    let r = e.reset(seed);
                    (r.obs.into_py(py), r.info)
                }
                AnyEnv::Vector(e) => {
                    let r = e.reset(seed);
                    (vector_obs(py, &r.obs, shape)?, r.info)
                }
                AnyEnv::Continuous(e) => {
                    let r = e.reset(seed);
                    (vector_obs(py, &r.obs, shape)?, r.info)
                }
            };
            Ok((obs, info_dict(py, &info)?.into_py(py)))
        })
    }

    /// Applies `action`: `(obs, reward, terminated, truncated, info)`. A Box action is a
    /// float32 array of the action space's shape.
    fn step(&mut self, py: Python<'_>, action: &PyAny) -> PyResult<StepTuple> {
        let shape = &self.obs_shape;
        let env = &mut self.env;
        guarded(|| {
            let (obs, s) = match env {
                AnyEnv::Discrete(e) => {
                    let a = discrete_action(action, e.action_space())?;
                    let s = e.step(a).map_err(env_error)?;
                    (s.obs.into_py(py), s.map_obs(|_| ()))
                }
                AnyEnv::Vector(e) => {
                    let a = discrete_action(action, e.action_space())?;
                    let s = e.step(a).map_err(env_error)?;
                    (vector_obs(py, &s.obs, shape)?, s.map_obs(|_| ()))
                }
                AnyEnv::Continuous(e) => {
                    let a = box_action(action, e.action_space())?;
                    let s = e.step(a).map_err(env_error)?;
                    (vector_obs(py, &s.obs, shape)?, s.map_obs(|_| ()))
                }
            };
            let info = info_dict(py, &s.info)?.into_py(py);
            Ok((obs, s.reward, s.terminated, s.truncated, info))
        })
    }

    /// Sets the state after a reset, as `qlab rollout --state` does (CartPole: x, x_dot,
    /// theta, theta_dot; a grid world, Taxi, Blackjack: the state index; …); returns its
    /// observation.
    fn set_state(&mut self, py: Python<'_>, state: Vec<f64>) -> PyResult<PyObject> {
        let shape = &self.obs_shape;
        let env = &mut self.env;
        guarded(|| match env {
            AnyEnv::Discrete(e) => Ok(e.set_state(&state).map_err(env_error)?.into_py(py)),
            AnyEnv::Vector(e) => vector_obs(py, &e.set_state(&state).map_err(env_error)?, shape),
            AnyEnv::Continuous(e) => {
                vector_obs(py, &e.set_state(&state).map_err(env_error)?, shape)
            }
        })
    }

    /// The state as text (Gymnasium's `ansi` render mode).
    fn render_ansi(&self) -> PyResult<String> {
        guarded(|| {
            Ok(match &self.env {
                AnyEnv::Discrete(e) => e.render_ansi(),
                AnyEnv::Vector(e) => e.render_ansi(),
                AnyEnv::Continuous(e) => e.render_ansi(),
            })
        })
    }

    /// The state as an RGB image, a `(height, width, 3)` uint8 array (Gymnasium's
    /// `rgb_array` render mode).
    fn render_rgb(&self, py: Python<'_>) -> PyResult<PyObject> {
        guarded(|| {
            let frame = match &self.env {
                AnyEnv::Discrete(e) => e.render_rgb(),
                AnyEnv::Vector(e) => e.render_rgb(),
                AnyEnv::Continuous(e) => e.render_rgb(),
            };
            Ok(PyArray1::from_vec(py, frame.data)
                .reshape([frame.height, frame.width, 3])?
                .into_py(py))
        })
    }

    fn __repr__(&self) -> String {
        format!("CoreEnv({:?})", self.id)
    }
}
