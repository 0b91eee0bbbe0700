//! Reinforcement-learning agents for qlab environments.
//!
//! - [`tabular`]: Monte Carlo control, SARSA, Expected SARSA, Q-learning, TD(λ) and friends, on
//!   one-hot or tile-coded features.
//! - [`dp`]: policy evaluation, policy iteration and value iteration on an exact model,
//!   discounted or within a horizon.
//! - [`dqn`]: deep Q-networks: DQN, Double DQN, dueling, n-step, prioritized replay.
//! - [`actor_critic`]: the on-policy actor-critic agents over a vector of envs, discrete or Box
//!   actions, on the [`rollout`]s they collect: [`ppo`] (proximal policy optimization) and
//!   [`a2c`] (advantage actor-critic), each its hyperparameters and its update.
//! - [`nn`]: the network library, the `qlab-nn` crate re-exported: network blocks, optimizers,
//!   gradient checking and checkpoints on candle.
//! - [`adversarial`]: attacks on observations (noise, FGSM, PGD, strategically timed, worst-case
//!   neighbour) and a wrapper that applies them inside any env.
//!
//! Every agent but the actor-critic ones implements [`Agent`], the one interface the runner
//! drives for them; [`View`] reads an
//! env's observation as the agent's.
//!
//! It builds on [`qlab_envs`]. The default feature `deep` brings in [`dqn`], [`adversarial`]
//! and [`nn`], and with them candle; without it (`default-features = false`) the crate holds
//! [`tabular`] and [`dp`] and depends on no network library. The `cuda` feature (which implies
//! `deep`) runs the networks on CUDA GPUs.
#![deny(missing_docs)]

#[cfg(feature = "deep")]
pub mod a2c;
#[cfg(feature = "deep")]
pub mod actor_critic;
#[cfg(feature = "deep")]
pub mod adversarial;
mod agent;
mod config;
pub mod dp;
#[cfg(feature = "deep")]
pub mod dqn;
mod error;
mod evaluate;
#[cfg(feature = "deep")]
mod learner;
mod memory;
#[cfg(feature = "deep")]
pub mod normalize;
#[cfg(feature = "deep")]
pub mod ppo;
#[cfg(feature = "deep")]
pub mod rollout;
#[cfg(feature = "deep")]
mod state_file;
pub mod tabular;

pub use agent::{Agent, TrainStats, View};
pub use config::{AgentConfig, TabularVisitor};
pub use error::{Error, Result};
pub use evaluate::{Evaluation, evaluate_policy};
pub use qlab_envs as envs;
#[cfg(feature = "deep")]
pub use qlab_nn as nn;
pub use tabular::TabularAgent;
