//! `qlab envs`: list every registered env.

use anyhow::Result;
use qlab_envs::{AnyEnv, Env, Params};

/// One line per registered id: id, observation space, action space, description.
pub fn run() -> Result<String> {
    let mut rows = Vec::new();
    for spec in qlab_envs::registered() {
        let (obs, act) = match qlab_envs::make(spec.id, &Params::new())? {
            AnyEnv::Discrete(env) => spaces(&env),
            AnyEnv::Vector(env) => spaces(&env),
            AnyEnv::Continuous(env) => spaces(&env),
        };
        rows.push([spec.id.to_string(), obs, act, spec.description.to_string()]);
    }
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = format!(
        "{:w0$}  {:w1$}  {:w2$}  description\n",
        "id", "observation space", "action space"
    );
    for [id, obs, act, desc] in rows {
        out.push_str(&format!("{id:w0$}  {obs:w1$}  {act:w2$}  {desc}\n"));
    }
    Ok(out)
}

fn spaces<E: Env>(env: &E) -> (String, String) {
    (
        env.observation_space().to_string(),
        env.action_space().to_string(),
    )
}
