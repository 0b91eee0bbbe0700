//! qlab's errors as Python exceptions, and Rust panics caught before they reach Python.
//!
//! | qlab | Python |
//! |---|---|
//! | an env's error (a bad action, parameter or state; a step after the episode ended) | `ValueError` |
//! | an env's file that cannot be read | `OSError` |
//! | a config or a run that fails (the `qlab` command's errors) | `ValueError`, its message as the command prints it |
//! | a panic (a bug in qlab) | `RuntimeError` |
//!
//! Each message is qlab's own, on one line where qlab's is.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::PyErr;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// An env's error as a Python exception.
pub fn env_error(e: qlab_envs::Error) -> PyErr {
    match e {
        qlab_envs::Error::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// An error of the runner or the config as a `ValueError`, its message as `qlab` prints it.
pub fn run_error(e: &anyhow::Error) -> PyErr {
    PyValueError::new_err(qlab::float::shorten_long_numbers(&format!("{e:#}")))
}

/// Runs `f`, turning a panic into a `RuntimeError` that names it as a bug, instead of
/// PyO3's `PanicException` (a `BaseException` that `except Exception` misses).
pub fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        Err(PyRuntimeError::new_err(format!(
            "internal error (a bug in qlab, please report it): {message}"
        )))
    })
}
