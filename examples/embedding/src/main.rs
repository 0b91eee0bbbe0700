//! A crate of your own that embeds qlab's environments: it depends on `qlab-envs` alone (which
//! itself needs only `rand`), picks envs by id at run time, and evaluates a random policy on
//! each.
//!
//! Run: `cargo run -p qlab-embedding-example`

use qlab_envs::{AnyEnv, Env, EnvRng, Params, make};

/// The mean return of `episodes` episodes of uniformly random actions.
fn random_policy_return<E: Env<Action = usize>>(env: &mut E, episodes: u32, seed: u64) -> f64 {
    let n = env.action_space().flat_dim();
    let mut rng = EnvRng::new(seed);
    let mut total = 0.0;
    for episode in 0..episodes {
        env.reset(Some(seed + u64::from(episode)));
        loop {
            let step = env.step(rng.below(n)).expect("a sampled action is valid");
            total += step.reward;
            if step.done() {
                break;
            }
        }
    }
    total / f64::from(episodes)
}

fn main() -> qlab_envs::Result<()> {
    for id in ["FrozenLake-v1", "CliffWalking-v1", "CartPole-v1"] {
        let mean = match make(id, &Params::new())? {
            AnyEnv::Discrete(mut env) => random_policy_return(&mut env, 100, 0),
            AnyEnv::Vector(mut env) => random_policy_return(&mut env, 100, 0),
        };
        println!("{id:16} random policy: mean return {mean:.3}");
    }
    Ok(())
}
