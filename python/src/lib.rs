//! `qlab._core`: the extension module of the Python package `qlab` (see `python/qlab/`).
//!
//! The Python side wraps these in Gymnasium's classes; everything here is a thin crossing of
//! the language boundary over qlab's own crates, with Python's exceptions for qlab's errors:
//!
//! - [`mod@env`]: one registered env ([`env::CoreEnv`]), stepped with numpy observations;
//! - [`vector`]: many at once — the batched CartPole and qlab's `SyncVectorEnv`;
//! - [`run`]: `train` through the runner the `qlab train` command uses, and a run's agents
//!   reloaded ([`run::CoreRun`]);
//! - [`error`]: qlab's errors and Rust panics as Python exceptions;
//! - [`params`]: Python values as env parameters and config values;
//! - [`sweep`]: `qlab sweep`'s driver for what only the package runs (Ray, Optuna), and the
//!   sweep units it schedules.
//!
//! The `qlab` console command calls [`qlab::cli::main_with`] through the function `cli`, with
//! the package's sweep driver.
#![deny(missing_docs)]
// PyO3 0.19's macros (the version qlab-envs's `gymnasium-rs` feature pins for the whole
// workspace) expand to unsafe calls without the `unsafe` blocks edition 2024 asks for, and to
// impl blocks inside functions, which newer compilers lint.
#![allow(unsafe_op_in_unsafe_fn, non_local_definitions)]

use pyo3::prelude::*;

pub mod env;
pub mod error;
pub mod params;
pub mod run;
pub mod sweep;
pub mod vector;

// The allocator of the `qlab` binary, for the same reason: candle allocates a buffer per
// tensor op, and glibc's malloc made a DQN training step 3× slower (BENCHMARKS.md,
// "Networks"). Memory handed to Python (numpy arrays) is copied into Python's own.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs the `qlab` command line with `argv` (the program name first) and returns its exit
/// status, as the `qlab` binary exits with it; `qlab sweep` runs what only the package runs
/// (`--executor ray`, `tpe`, `[stop]`) through `qlab.sweep`.
#[pyfunction]
fn cli(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.allow_threads(|| qlab::cli::main_with(argv, Some(&sweep::PyDriver)))
}

/// The module `qlab._core`.
#[pymodule]
fn _core(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    m.add_function(wrap_pyfunction!(env::registered, m)?)?;
    m.add_class::<env::CoreEnv>()?;
    m.add_class::<vector::CoreCartPoleVector>()?;
    m.add_class::<vector::CoreSyncVector>()?;
    m.add_function(wrap_pyfunction!(run::train, m)?)?;
    m.add_class::<run::CoreRun>()?;
    m.add_class::<sweep::CoreSweep>()?;
    m.add_class::<sweep::CoreStop>()?;
    m.add_function(wrap_pyfunction!(sweep::sweep_unit, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
