//! The tabular training loop against the bare loop it runs: Q-learning (ε = 0.1, α = 0.5,
//! γ = 1) on `CliffWalking-v1`.
//!
//! - **bare**: the env as its concrete type and the same ε-greedy Q-learning update written
//!   out over a `Vec<f64>` table, with the policy functions the agents use; no records.
//! - **runner**: one seed of `configs/cliffwalking_q_learning.toml` through the runner's
//!   training loop, as `qlab bench --config … --set train.eval_every=0 --steps N` times it
//!   (metrics rows, value error, the final evaluation, the saved agent).
//!
//! The two run in turn, `ROUNDS` pairs; the report gives each one's median steps per second
//! and the median of the pairs' ratios (runner / bare).
//!
//! ```sh
//! cargo bench --bench tabular_loop                 # 100 M steps a side, 5 pairs
//! cargo bench --bench tabular_loop -- 20000000 3   # steps a side, pairs
//! ```

use std::hint::black_box;
use std::time::Instant;

use qlab::agents::tabular::policy::{epsilon_greedy, max_value};
use qlab::envs::gridworld::GridWorld;
use qlab::envs::registry::gridworld_config;
use qlab::envs::{Env, EnvRng, Params};

/// Q-learning over `steps` env steps with the env and the update alone; steps per second.
fn bare(steps: u64) -> f64 {
    let config = gridworld_config("CliffWalking-v1", &Params::new()).expect("a preset");
    let mut env = GridWorld::new(config).expect("a valid map");
    let (n_states, n_actions) = (48, 4);
    let (alpha, gamma, epsilon) = (0.5, 1.0, 0.1);
    let mut q = vec![0.0f64; n_states * n_actions];
    let mut rng = EnvRng::new(1);
    let start = Instant::now();
    let mut s = env.reset(Some(0)).obs;
    let mut a = epsilon_greedy(n_actions, epsilon, |b| q[s * n_actions + b], &mut rng);
    for _ in 0..steps {
        let step = env.step(a).expect("a valid action");
        let (s2, r, terminated) = (step.obs, step.reward, step.terminated);
        let target = if terminated {
            r
        } else {
            let row = &q[s2 * n_actions..(s2 + 1) * n_actions];
            r + gamma * max_value(n_actions, |b| row[b])
        };
        let i = s * n_actions + a;
        q[i] += alpha * (target - q[i]);
        s = if step.done() { env.reset(None).obs } else { s2 };
        a = epsilon_greedy(n_actions, epsilon, |b| q[s * n_actions + b], &mut rng);
    }
    let rate = steps as f64 / start.elapsed().as_secs_f64();
    black_box(&q);
    rate
}

/// One seed of the shipped config through the runner for `steps` steps; steps per second.
fn runner(steps: u64) -> f64 {
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/cliffwalking_q_learning.toml"
    );
    let line = qlab::cmd::bench::run_config(config, &["train.eval_every=0".into()], Some(steps))
        .expect("the shipped config runs");
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("steps_per_second="))
        .and_then(|v| v.parse().ok())
        .expect("a steps_per_second field")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; the numbers are the arguments after it.
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let steps = args.first().copied().unwrap_or(100_000_000);
    let rounds = args.get(1).copied().unwrap_or(5).max(1);
    let (mut b, mut r, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..rounds {
        let (x, y) = (bare(steps), runner(steps));
        println!(
            "pair {}: bare {:.1} M steps/s, runner {:.1} M steps/s, ratio {:.3}",
            k + 1,
            x / 1e6,
            y / 1e6,
            y / x
        );
        b.push(x);
        r.push(y);
        ratios.push(y / x);
    }
    println!(
        "Q-learning on CliffWalking-v1, {steps} steps a side, {rounds} pairs: bare {:.1} M steps/s, \
         runner {:.1} M steps/s (medians); runner / bare {:.3} (median of pairs; min {:.3}, max {:.3})",
        median(b) / 1e6,
        median(r) / 1e6,
        median(ratios.clone()),
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(0.0, f64::max),
    );
}
