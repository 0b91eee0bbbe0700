//! Reinforcement-learning agents for qlab environments.
//!
//! - [`tabular`]: Monte Carlo control, SARSA, Expected SARSA, Q-learning, TD(λ) and friends, on
//!   one-hot or tile-coded features.
//! - [`dp`]: policy evaluation, policy iteration and value iteration on an exact model,
//!   discounted or within a horizon.
//! - [`dqn`]: deep Q-networks: DQN, Double DQN, dueling, n-step, prioritized replay.
//! - [`nn`]: network blocks, optimizers, gradient checking and checkpoints on candle.
//! - [`adversarial`]: attacks on observations (noise, FGSM, PGD, strategically timed, worst-case
//!   neighbour) and a wrapper that applies them inside any env.
//!
//! Every agent implements [`Agent`], the one interface the runner drives; [`View`] reads an
//! env's observation as the agent's.
//!
//! It builds on [`qlab_envs`].
#![deny(missing_docs)]

pub mod adversarial;
mod agent;
pub mod dp;
pub mod dqn;
mod error;
pub mod nn;
pub mod tabular;

pub use agent::{Agent, TrainStats, View};
pub use error::{Error, Result};
pub use qlab_envs as envs;
pub use tabular::{AgentConfig, TabularAgent};
