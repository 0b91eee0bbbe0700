//! Reinforcement-learning agents for qlab environments.
//!
//! This crate will hold the tabular agents (Monte Carlo control, SARSA, Expected SARSA,
//! Q-learning, TD(λ)), dynamic programming, the network library on candle and the deep
//! Q-network agents. It builds on [`qlab_envs`].
#![deny(missing_docs)]

pub use qlab_envs as envs;
