//! qlab: a reinforcement-learning and control toolkit.
//!
//! This crate is the facade over [`qlab_envs`] (environments) and [`qlab_agents`] (agents),
//! and holds the `qlab` command-line tool's commands.
#![deny(missing_docs)]

pub use qlab_agents as agents;
pub use qlab_envs as envs;

pub mod cmd;
pub mod config;
pub mod params;
pub mod plot;
pub mod runner;
