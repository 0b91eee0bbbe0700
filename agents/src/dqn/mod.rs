//! Deep Q-networks on the [`nn`](crate::nn) library: DQN (Mnih et al., 2015) with a target
//! network (hard or Polyak updates), Double DQN, the dueling head, n-step returns and
//! prioritized replay; recurrent (DRQN) and attention Q-networks through the network config.
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | [`DqnConfig`]: Stable-Baselines3's hyperparameter names and meanings |
//! | `agent.rs` | [`Dqn`]: acting, learning, the target network |
//! | `replay.rs` | [`ReplayBuffer`]: a preallocated ring, one array per field |
//! | `nstep.rs` | [`NStep`]: n-step transitions, cut at termination, bootstrapped at truncation |
//! | `rng.rs` | [`DqnRng`]: the agent's random stream, saved as `(seed, draws)` |
//! | `per.rs` | [`SumTree`], [`Prioritized`]: prioritized replay |
//! | `sequence.rs` | [`SequenceBatch`]: sequences with burn-in for recurrent Q-networks |
//! | `agent/drqn.rs` | DRQN: [`Memory`] (the hidden state carried while playing), the sequence update |
//! | `robust/` | [`Defense`]: adversarial training and SA-DQN's smoothness regularizer ([`AdversarialTraining`], [`Smoothness`]) |

mod agent;
mod config;
mod nstep;
mod per;
mod replay;
mod rng;
mod robust;
mod sequence;

pub use agent::{Dqn, DqnState, Memory, TrainStats};
pub use config::{DqnConfig, Loss};
pub use nstep::NStep;
pub use per::{Prioritized, SumTree};
pub use replay::{Batch, ReplayBuffer};
pub use rng::{DqnRng, Uniform};
pub use robust::{AdversarialTraining, Defense, DefenseStats, Smoothness, TrainingAttack};
pub use sequence::SequenceBatch;
