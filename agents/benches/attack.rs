//! One attack on a single CartPole observation through a 4-256-256-2 MLP, on one CPU thread.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench -p qlab-agents --bench attack
//! ```
//!
//! Each call of `Attack::perturb` is timed on its own after a warm-up, on observations drawn
//! from CartPole's start distribution widened to ±0.5; the median and the 10th and 90th
//! percentiles are printed in microseconds. The network is randomly initialised (seed 0): an
//! attack's cost does not depend on the weights.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use candle_core::Device;
use qlab_agents::adversarial::{Attack, AttackConfig, AttackMethod};
use qlab_agents::nn::{QNetwork, QNetworkConfig, TorsoConfig, q_network, set_cpu_threads};
use qlab_envs::cartpole::{CartPole, CartPoleConfig};
use qlab_envs::{Env, EnvRng, Space};

const WARMUP: usize = 300;
const SAMPLES: usize = 3000;

fn main() -> qlab_agents::Result<()> {
    // SAFETY: first thing in main, before any other thread exists.
    unsafe { set_cpu_threads(1) };
    let env = CartPole::new(CartPoleConfig::default());
    let Space::Box(space) = env.observation_space() else {
        unreachable!("CartPole observes a box")
    };
    let config = QNetworkConfig {
        torso: TorsoConfig::Mlp {
            hidden: vec![256, 256],
            activation: Default::default(),
            layer_norm: false,
            dropout: 0.0,
        },
        ..Default::default()
    };
    let (_, params) = QNetwork::new(&[4], 2, &config, 0, &Device::Cpu)?;
    // The attacked network: the same weights as constants, as `qlab attack` builds it.
    let net = q_network(&[4], 2, &config, params.frozen_var_builder())?;
    let mut rng = EnvRng::new(0);
    let observations: Vec<[f32; 4]> = (0..64)
        .map(|_| std::array::from_fn(|_| (rng.next_f64() - 0.5) as f32))
        .collect();
    let cases = [
        ("random", AttackMethod::Random, 10),
        ("fgsm", AttackMethod::Fgsm, 10),
        ("pgd, 10 steps", AttackMethod::Pgd, 10),
        ("timed (fgsm), threshold 0", AttackMethod::Timed, 10),
    ];
    for (name, method, iterations) in cases {
        let cfg = AttackConfig {
            method,
            eps: 0.05,
            iterations,
            threshold: 0.0,
            ..Default::default()
        };
        let mut attack = Attack::new(&cfg, space, 2, &Device::Cpu)?;
        let mut out = [0.0f32; 4];
        let mut k = 0;
        let mut call = |rng: &mut EnvRng| -> qlab_agents::Result<f64> {
            let obs = &observations[k % observations.len()];
            k += 1;
            let t0 = Instant::now();
            attack.perturb(obs, &net, rng, &mut out)?;
            Ok(t0.elapsed().as_secs_f64() * 1e6)
        };
        for _ in 0..WARMUP {
            call(&mut rng)?;
        }
        let mut xs = (0..SAMPLES)
            .map(|_| call(&mut rng))
            .collect::<qlab_agents::Result<Vec<f64>>>()?;
        xs.sort_by(f64::total_cmp);
        let pick = |q: f64| xs[((q * xs.len() as f64) as usize).min(xs.len() - 1)];
        println!(
            "{name}: median {:8.1} us  (p10 {:.1}, p90 {:.1})",
            pick(0.5),
            pick(0.1),
            pick(0.9)
        );
    }
    Ok(())
}
