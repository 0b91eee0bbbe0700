//! The `qlab` subcommands. Each returns its output as text so that a failure prints nothing
//! to stdout.

pub mod attack;
pub mod bench;
pub mod compare;
pub mod envs;
pub mod eval;
pub mod plot;
pub mod render;
pub mod rollout;
mod run_dirs;
pub mod solve;
pub mod sweep;
pub mod train;
