//! Reinforcement-learning environments with Gymnasium's semantics.
//!
//! `qlab-envs` is the ground floor of qlab: it depends on `rand` and `qlab-rng` (its seedable
//! generator, [`EnvRng`]) only, plus `serde` behind a feature, so another crate can embed its
//! environments cheaply.
//!
//! - [`Env`]: seeded [`reset`](Env::reset), [`step`](Env::step) returning a [`Step`] with
//!   `terminated` and `truncated` kept apart, typed [`Space`]s, ANSI and RGB rendering.
//! - [`make`] builds any registered env by id with [`Params`], as an [`AnyEnv`].
//! - Actions are discrete (`usize`) or Box (`[f32; N]`, `Vec<f32>`): [`SpaceAction`] checks
//!   and samples both.
//! - Envs: [`gridworld`] (FrozenLake, CliffWalking, windy grid world, random walk, your own
//!   maps), [`taxi`] (Gymnasium's Taxi), [`blackjack`] (with its exact model), [`cartpole`],
//!   [`acrobot`], [`mountain_car`] (discrete and Box actions), [`pendulum`] (a Box action) and
//!   [`point_mass`] (a Box action, for testing); [`short_corridor`] (Sutton & Barto's
//!   Example 13.1);
//!   [`batched_cartpole`] and [`vector`] step many at once.
//! - [`wrappers`] add time limits, episode statistics, discretization and more;
//!   [`check_env`] checks any env against the contract.
#![deny(missing_docs)]

pub mod acrobot;
mod action;
pub mod batched_cartpole;
pub mod blackjack;
pub mod cartpole;
mod checker;
mod env;
mod error;
pub mod gridworld;
#[cfg(feature = "gymnasium-rs")]
pub mod gymnasium_rs;
pub mod mountain_car;
mod numpy;
pub mod params;
pub mod pendulum;
pub mod point_mass;
#[cfg(test)]
mod reference;
pub mod registry;
mod rng;
pub mod short_corridor;
mod space;
pub mod taxi;
pub mod vector;
pub mod wrappers;

pub use action::{SpaceAction, check_box_action, check_discrete_action, clip_box_action};
pub use checker::{CheckFailure, SpaceMember, check_env};
pub use env::{Env, EpisodeRecord, Frame, Info, Model, Reset, Step, Transition};
pub use error::{Error, Result};
pub use params::{ParamValue, Params};
pub use qlab_rng::EnvRng;
pub use registry::{
    AnyEnv, ContinuousEnv, DiscreteEnv, EnvSpec, VectorEnv, make, make_without_time_limit,
    registered,
};
pub use space::{BoxSpace, Discrete, Space};
pub use wrappers::Wrapper;
