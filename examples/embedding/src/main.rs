//! A crate of your own that embeds qlab's environments: it depends on `qlab-envs` alone (which
//! itself needs only `rand`), picks envs by id at run time, and evaluates a random policy on
//! each.
//!
//! Run: `cargo run -p qlab-embedding-example`

use qlab_envs::{AnyEnv, Env, EnvRng, Params, SpaceAction, make};

/// The mean return of `episodes` episodes of uniformly random actions, discrete or Box.
fn random_policy_return<E: Env>(env: &mut E, episodes: u32, seed: u64) -> f64
where
    E::Action: SpaceAction,
{
    let space = env.action_space().clone();
    let mut rng = EnvRng::new(seed);
    let mut total = 0.0;
    for episode in 0..episodes {
        env.reset(Some(seed + u64::from(episode)));
        loop {
            let action = E::Action::sample(&space, &mut rng).expect("the action space is sampled");
            let step = env.step(action).expect("a sampled action is valid");
            total += step.reward;
            if step.done() {
                break;
            }
        }
    }
    total / f64::from(episodes)
}

fn main() -> qlab_envs::Result<()> {
    for id in [
        "FrozenLake-v1",
        "CliffWalking-v1",
        "CartPole-v1",
        "PointMass-v0",
    ] {
        let mean = match make(id, &Params::new())? {
            AnyEnv::Discrete(mut env) => random_policy_return(&mut env, 100, 0),
            AnyEnv::Vector(mut env) => random_policy_return(&mut env, 100, 0),
            AnyEnv::Continuous(mut env) => random_policy_return(&mut env, 100, 0),
        };
        println!("{id:16} random policy: mean return {mean:.3}");
    }
    Ok(())
}
