//! Python values as env parameters (`gymnasium.make("qlab/FrozenLake-v1", is_slippery=False)`)
//! and as TOML values (a config given as a dict, overrides).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyLong, PyString, PyTuple};
use qlab_envs::{ParamValue, Params};

/// The keyword arguments of an env as its [`Params`], in their order.
///
/// # Errors
/// `TypeError` for a value that is not a boolean, integer, float, string or list of them.
pub fn params(kwargs: Option<&PyDict>) -> PyResult<Params> {
    let mut out = Params::new();
    if let Some(kwargs) = kwargs {
        for (key, value) in kwargs.iter() {
            let key: String = key.extract()?;
            let value = param_value(&key, value)?;
            out.set(key, value);
        }
    }
    Ok(out)
}

/// One parameter's value.
fn param_value(key: &str, value: &PyAny) -> PyResult<ParamValue> {
    if value.is_instance_of::<PyBool>() {
        return Ok(ParamValue::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyLong>() {
        return value.extract::<i64>().map(ParamValue::Int).map_err(|_| {
            PyValueError::new_err(format!(
                "invalid value {value} for `{key}`: expected an integer in the range of i64"
            ))
        });
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(ParamValue::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(ParamValue::Str(value.extract()?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .iter()?
            .map(|item| param_value(key, item?))
            .collect::<PyResult<_>>()
            .map(ParamValue::List);
    }
    // NumPy's scalars: its integers index, its floats convert.
    let type_name = value.get_type().name()?.to_string();
    if type_name.starts_with("int") || type_name.starts_with("uint") {
        if let Ok(i) = value.extract::<i64>() {
            return Ok(ParamValue::Int(i));
        }
    }
    if type_name.starts_with("float") {
        if let Ok(x) = value.extract::<f64>() {
            return Ok(ParamValue::Float(x));
        }
    }
    Err(PyTypeError::new_err(format!(
        "invalid value {} of type {type_name} for `{key}`: expected a boolean, an integer, a \
         float, a string or a list of them",
        value.repr()?
    )))
}

/// A Python value as a TOML value: a config given as a dict, or an override.
///
/// # Errors
/// `TypeError` for a value TOML has no form for (None, an object), naming `path`.
pub fn toml_value(path: &str, value: &PyAny) -> PyResult<toml::Value> {
    if let Ok(dict) = value.downcast::<PyDict>() {
        let mut table = toml::Table::new();
        for (key, item) in dict.iter() {
            let key: String = key.extract().map_err(|_| {
                PyTypeError::new_err(format!("{path}: a key must be a string, got {key}"))
            })?;
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            table.insert(key, toml_value(&inner, item)?);
        }
        return Ok(toml::Value::Table(table));
    }
    match param_value(path, value) {
        Ok(p) => Ok(param_to_toml(p)),
        Err(_) => Err(PyTypeError::new_err(format!(
            "invalid value {} for `{path}`: expected a boolean, an integer, a float, a string, \
             a list or a dict",
            value.repr()?
        ))),
    }
}

fn param_to_toml(p: ParamValue) -> toml::Value {
    match p {
        ParamValue::Bool(b) => toml::Value::Boolean(b),
        ParamValue::Int(i) => toml::Value::Integer(i),
        ParamValue::Float(x) => toml::Value::Float(x),
        ParamValue::Str(s) => toml::Value::String(s),
        ParamValue::List(items) => {
            toml::Value::Array(items.into_iter().map(param_to_toml).collect())
        }
    }
}
