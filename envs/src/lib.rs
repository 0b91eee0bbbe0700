//! Reinforcement-learning environments with Gymnasium's semantics.
//!
//! `qlab-envs` is the ground floor of qlab: it depends on `rand` only (plus `serde` behind a
//! feature), so another crate can embed its environments cheaply.
//!
//! - [`Env`]: seeded [`reset`](Env::reset), [`step`](Env::step) returning a [`Step`] with
//!   `terminated` and `truncated` kept apart, typed [`Space`]s, ANSI and RGB rendering.
//! - [`make`] builds any registered env by id with [`Params`], as an [`AnyEnv`].
//! - [`wrappers`] add time limits, episode statistics, discretization and more.
#![deny(missing_docs)]

pub mod batched_cartpole;
pub mod cartpole;
mod env;
mod error;
pub mod params;
mod registry;
mod rng;
mod space;
pub mod wrappers;

pub use env::{
    Env, EpisodeRecord, Frame, Info, Model, Reset, Step, Transition, check_discrete_action,
};
pub use error::{Error, Result};
pub use params::{ParamValue, Params};
pub use registry::{AnyEnv, DiscreteEnv, EnvSpec, VectorEnv, make, registered};
pub use rng::EnvRng;
pub use space::{BoxSpace, Discrete, Space};
