//! Construction by id, and the type-erased form the runner uses.

use crate::{Env, Error, Params, Result};

/// A type-erased env with discrete actions and a state-index observation.
pub type DiscreteEnv = Box<dyn Env<Obs = usize, Action = usize> + Send>;

/// A type-erased env with discrete actions and a vector observation.
///
/// The observation is an owned `Vec<f32>`: erasing the concrete array type costs one small
/// allocation per step. Use the concrete types where that matters.
pub type VectorEnv = Box<dyn Env<Obs = Vec<f32>, Action = usize> + Send>;

/// Any registered env, chosen at run time, sorted by the kind of observation it gives.
pub enum AnyEnv {
    /// A discrete-state env (every GridWorld, discretized CartPole).
    Discrete(DiscreteEnv),
    /// A continuous-observation env (CartPole).
    Vector(VectorEnv),
}

/// One registered env id.
#[derive(Clone, Copy, Debug)]
pub struct EnvSpec {
    /// The id, e.g. `CartPole-v1`.
    pub id: &'static str,
    /// A one-line description.
    pub description: &'static str,
}

/// Every registered env id.
pub fn registered() -> &'static [EnvSpec] {
    &[]
}

/// Builds the env registered under `id`, with `params` overriding its defaults.
///
/// Unknown ids and unknown or invalid parameters are errors that name the problem.
pub fn make(id: &str, params: &Params) -> Result<AnyEnv> {
    let _ = params;
    Err(Error::UnknownEnv {
        id: id.to_string(),
        known: registered().iter().map(|s| s.id.to_string()).collect(),
    })
}
