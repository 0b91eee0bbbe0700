//! Reinforcement-learning environments with Gymnasium's semantics.
//!
//! `qlab-envs` is the ground floor of qlab: it depends on `rand` and `qlab-rng` (its seedable
//! generator, [`EnvRng`]) only, plus `serde` behind a feature, so another crate can embed its
//! environments cheaply.
//!
//! - [`Env`]: seeded [`reset`](Env::reset), [`step`](Env::step) returning a [`Step`] with
//!   `terminated` and `truncated` kept apart, typed [`Space`]s, ANSI and RGB rendering.
//! - [`make`] builds any registered env by id with [`Params`], as an [`AnyEnv`].
//! - Envs: [`gridworld`] (FrozenLake, CliffWalking, windy grid world, random walk, your own
//!   maps) and [`cartpole`]; [`batched_cartpole`] and [`vector`] step many at once.
//! - [`wrappers`] add time limits, episode statistics, discretization and more;
//!   [`check_env`] checks any env against the contract.
#![deny(missing_docs)]

pub mod batched_cartpole;
pub mod cartpole;
mod checker;
mod env;
mod error;
pub mod gridworld;
#[cfg(feature = "gymnasium-rs")]
pub mod gymnasium_rs;
pub mod params;
pub mod registry;
mod space;
pub mod vector;
pub mod wrappers;

pub use checker::{CheckFailure, SpaceMember, check_env};
pub use env::{
    Env, EpisodeRecord, Frame, Info, Model, Reset, Step, Transition, check_discrete_action,
};
pub use error::{Error, Result};
pub use params::{ParamValue, Params};
pub use qlab_rng::EnvRng;
pub use registry::{AnyEnv, DiscreteEnv, EnvSpec, VectorEnv, make, registered};
pub use space::{BoxSpace, Discrete, Space};
