//! qlab: a reinforcement-learning and control toolkit.
//!
//! This crate is the facade over [`qlab_envs`] (environments) and [`qlab_agents`] (agents),
//! and holds the experiment runner and the `qlab` command-line tool's commands:
//!
//! - [`config`]: experiment configs (TOML), checked whole, every error at its file and line;
//! - [`runner`]: trains a config once per seed, seeds in parallel, and writes the run
//!   directory;
//! - [`cmd`]: the subcommands;
//! - [`files`]: whole files written atomically;
//! - [`sweep`]: sweeps of a config over a grid or a search space, each point a run;
//! - [`stats`]: interquartile means, stratified-bootstrap intervals, probability of
//!   improvement and performance profiles over seeds (rliable's statistics).
#![deny(missing_docs)]

pub use qlab_agents as agents;
pub use qlab_envs as envs;

pub mod cli;
pub mod cmd;
pub mod config;
pub mod files;
pub mod float;
pub mod params;
pub mod plot;
pub mod runner;
pub mod stats;
pub mod sweep;
