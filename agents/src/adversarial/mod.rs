//! Adversarial perturbation of observations: attacks on what an agent sees, and a wrapper that
//! applies them inside any env.
//!
//! An attack replaces the observation `x₀` by `x = clip(x₀ + δ)` with `δ` inside a [`Ball`]:
//! `‖δ / s‖ ≤ ε` in L∞ or L2, `s` a per-dimension scale (the observation's standard deviation,
//! or 1), the result clipped to the observation box. What is attacked is a [`QFunction`]: a
//! network mapping observations to action values (every [`QNetwork`](crate::nn::QNetwork) is
//! one).
//!
//! | `method` | attack | file |
//! |---|---|---|
//! | `none` | the clean observation | |
//! | `random` | uniform noise in the ball (the baseline) | `noise.rs` |
//! | `gaussian` | Gaussian noise of standard deviation ε·s, projected onto the ball | `noise.rs` |
//! | `fgsm` | one signed-gradient (L∞) or normalised-gradient (L2) step of size ε (Goodfellow et al. 2015; Huang et al. 2017 on DQN) | `fgsm.rs` |
//! | `pgd` | projected gradient ascent: iterations, step size, random start (Madry et al. 2018); keeps the strongest point seen, FGSM's included | `pgd.rs` |
//! | `timed` | FGSM or PGD only where the agent's preference gap exceeds a threshold (Lin et al. 2017's strategically-timed attack) | `timed.rs` |
//!
//! The gradient attacks ascend the *attacked loss* through candle's autodiff, with gradients
//! taken with respect to the input: untargeted, the cross-entropy of `softmax(Q(x))` against the
//! agent's greedy action at `x₀` (push it away from that action); targeted, minus the
//! cross-entropy against a chosen action (pull it toward that one). See [`Target`] and
//! [`attacked_loss`].
//!
//! For tabular agents on discrete states, [`NeighbourAttack`] replaces the state by the
//! state within a Manhattan radius that minimises the true value (from the env's model) of
//! the action the agent will then take.
//!
//! [`Attacked`] wraps any env and applies an [`ObservationAttack`] (an attack bundled with the
//! agent it targets: [`AgainstQ`], [`AgainstTable`]) to every observation, counting attacked
//! steps and changed actions ([`AttackStats`]).
//!
//! ```
//! # fn main() -> qlab_agents::Result<()> {
//! use candle_core::Device;
//! use qlab_agents::adversarial::{Attack, AttackConfig, AttackMethod};
//! use qlab_agents::nn::{QNetwork, QNetworkConfig};
//! use qlab_envs::{EnvRng, Env, Space, cartpole::{CartPole, CartPoleConfig}};
//!
//! let env = CartPole::new(CartPoleConfig::default());
//! let Space::Box(space) = env.observation_space() else { unreachable!() };
//! let (net, _params) = QNetwork::new(&[4], 2, &QNetworkConfig::default(), 0, &Device::Cpu)?;
//! let config = AttackConfig { method: AttackMethod::Fgsm, eps: 0.05, ..Default::default() };
//! let mut attack = Attack::new(&config, space, 2, &Device::Cpu)?;
//! let obs = [0.01, -0.02, 0.03, 0.04];
//! let mut attacked = [0.0; 4];
//! attack.perturb(&obs, &net, &mut EnvRng::new(0), &mut attacked)?;
//! assert!(obs.iter().zip(&attacked).all(|(a, b)| (a - b).abs() <= 0.05 + 1e-6));
//! # Ok(())
//! # }
//! ```

mod attack;
mod ball;
mod config;
mod fgsm;
mod neighbour;
pub(crate) mod noise;
mod pgd;
mod timed;
mod wrapper;

use std::sync::Arc;

use candle_core::{Module, Tensor};
use serde::{Deserialize, Serialize};

use crate::nn::{argmax, argmin};

pub use attack::Attack;
pub use ball::{Ball, Norm, observation_std};
pub use config::{AttackConfig, AttackMethod, PgdStart};
pub use fgsm::{attacked_loss, input_gradient};
pub use neighbour::{NeighbourAttack, NeighbourConfig, QTable, TabularQ};
pub use timed::preference_gap;
pub use wrapper::{AgainstQ, AgainstTable, Attacked, ObservationAttack};

/// What a gradient attack attacks: observations `(N, d)` → action values `(N, A)`.
///
/// # Contract
/// An implementor guarantees that `q_values` is built from differentiable candle ops, so that
/// the gradient with respect to the input flows back (every [`QNetwork`](crate::nn::QNetwork)
/// is), and that each row of the output depends on the same row of the input only.
pub trait QFunction {
    /// The action values of a batch of observations, `(N, d)` → `(N, A)`.
    fn q_values(&self, obs: &Tensor) -> candle_core::Result<Tensor>;
}

impl QFunction for crate::nn::QNetwork {
    fn q_values(&self, obs: &Tensor) -> candle_core::Result<Tensor> {
        self.forward(obs)
    }
}

impl<Q: QFunction + ?Sized> QFunction for &Q {
    fn q_values(&self, obs: &Tensor) -> candle_core::Result<Tensor> {
        (**self).q_values(obs)
    }
}

impl<Q: QFunction + ?Sized> QFunction for Arc<Q> {
    fn q_values(&self, obs: &Tensor) -> candle_core::Result<Tensor> {
        (**self).q_values(obs)
    }
}

impl<Q: QFunction + ?Sized> QFunction for Box<Q> {
    fn q_values(&self, obs: &Tensor) -> candle_core::Result<Tensor> {
        (**self).q_values(obs)
    }
}

/// Which way a gradient attack pushes the agent.
///
/// ```toml
/// target = "untargeted"        # away from the greedy action (default)
/// target = "least_preferred"   # toward the action with the lowest Q at the clean observation
/// target = { action = 1 }      # toward action 1
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Maximise the cross-entropy of `softmax(Q(x))` against the greedy action at `x₀`.
    #[default]
    Untargeted,
    /// Minimise the cross-entropy against the least preferred action at `x₀`.
    LeastPreferred,
    /// Minimise the cross-entropy against this action.
    Action(usize),
}

impl Target {
    /// The action the attacked loss is about, given the clean action values, and whether the
    /// attack is targeted (pulls toward it) rather than untargeted (pushes away from it).
    pub fn resolve(self, clean_q: &[f32]) -> (usize, bool) {
        match self {
            Target::Untargeted => (argmax(clean_q), false),
            Target::LeastPreferred => (argmin(clean_q), true),
            Target::Action(a) => (a, true),
        }
    }
}

/// Counts of an attack's work: observations seen, observations perturbed, and (where the
/// attacked agent is known) greedy actions that the perturbation changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackStats {
    /// Observations passed to the attack.
    pub steps: u64,
    /// Observations it perturbed (all of them, except for the timed attack and radius-0 or
    /// ε = 0 attacks).
    pub attacked: u64,
    /// Observations whose greedy action differs from the clean observation's.
    pub action_changes: u64,
}

impl AttackStats {
    /// `attacked / steps` (0 before the first step): the `attacked_fraction` column.
    pub fn attacked_fraction(&self) -> f64 {
        ratio(self.attacked, self.steps)
    }

    /// `action_changes / steps` (0 before the first step): the `action_change_rate` column.
    pub fn action_change_rate(&self) -> f64 {
        ratio(self.action_changes, self.steps)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
