//! Reinforcement-learning agents for qlab environments.
//!
//! This crate will hold the tabular agents (Monte Carlo control, SARSA, Expected SARSA,
//! Q-learning, TD(λ)), dynamic programming, the network library on candle and the deep
//! Q-network agents. It builds on [`qlab_envs`].
//!
//! - [`nn`]: network blocks, optimizers, gradient checking and checkpoints on candle.
#![deny(missing_docs)]

pub mod error;
pub mod nn;

pub use error::{Error, Result};
pub use qlab_envs as envs;
