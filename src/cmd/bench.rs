//! `qlab bench`: env throughput through the public API.

use std::time::Instant;

use anyhow::{Result, bail};
use qlab_envs::{AnyEnv, Env, EnvRng, Params};
use rand::SeedableRng;

/// What to measure.
#[derive(Clone, Debug)]
pub struct Bench {
    /// The env id.
    pub env: String,
    /// Env parameters.
    pub params: Params,
    /// Env steps in total (over all envs).
    pub steps: u64,
    /// Envs stepped together.
    pub num_envs: usize,
}

/// Steps the env with random actions (resetting when an episode ends) and reports the rate as
/// one line: `env=ID num_envs=K steps=N steps_per_second=X`.
pub fn run(b: &Bench) -> Result<String> {
    if b.num_envs == 0 {
        bail!("--num-envs must be at least 1, got 0");
    }
    if b.steps == 0 {
        bail!("--steps must be at least 1, got 0");
    }
    let rate = if b.num_envs == 1 {
        single(b)?
    } else {
        vectorised(b)?
    };
    Ok(format!(
        "env={} num_envs={} steps={} steps_per_second={:.0}\n",
        b.env, b.num_envs, b.steps, rate
    ))
}

fn single(b: &Bench) -> Result<f64> {
    if let Some(rate) = crate::fast_paths::single(&b.env, &b.params, b.steps)? {
        return Ok(rate);
    }
    Ok(match qlab_envs::make(&b.env, &b.params)? {
        AnyEnv::Discrete(mut env) => time_env(&mut env, b.steps)?,
        AnyEnv::Vector(mut env) => time_env(&mut env, b.steps)?,
    })
}

fn vectorised(b: &Bench) -> Result<f64> {
    if let Some(rate) = crate::fast_paths::batched(&b.env, &b.params, b.num_envs, b.steps)? {
        return Ok(rate);
    }
    crate::fast_paths::sync_vector(&b.env, &b.params, b.num_envs, b.steps)
}

/// Steps `env` `steps` times with uniformly random actions; returns steps per second.
pub fn time_env<E: Env<Action = usize>>(env: &mut E, steps: u64) -> Result<f64> {
    let n = env.action_space().flat_dim();
    let mut rng = EnvRng::seed_from_u64(0);
    env.reset(Some(0));
    let start = Instant::now();
    for _ in 0..steps {
        let step = env.step(rng.below(n))?;
        if step.done() {
            env.reset(None);
        }
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64())
}
