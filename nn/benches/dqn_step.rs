//! One DQN training step and one greedy action for a 4-256-256-2 MLP, on one CPU thread.
//!
//! ```text
//! cargo bench -p qlab-nn --bench dqn_step
//! cargo bench -p qlab-nn --bench dqn_step --features bench-system-alloc   # glibc malloc
//! ```
//!
//! The step is: target forward on the next observations, TD target
//! `r + γ(1 − done)·max_a Q_target(s', a)` (detached), online forward on the observations,
//! Q of the taken actions, Huber loss (δ = 1), backward, optimizer update — what
//! `tools/bench_torch_dqn_step.py` measures in PyTorch. Each call is timed on its own after a
//! warm-up; the median and the 10th and 90th percentiles are printed in microseconds.

#[cfg(not(feature = "bench-system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use candle_core::{Device, Module, Tensor};
use candle_nn::Optimizer as _;
use qlab_nn::{
    AdamConfig, Algorithm, Optimizer, OptimizerConfig, ParamStore, QNetwork, QNetworkConfig,
    SgdConfig, TorsoConfig, huber_loss,
};

const BATCH: usize = 64;
const OBS: usize = 4;
const ACTIONS: usize = 2;
const GAMMA: f64 = 0.99;
const WARMUP: usize = 300;
const SAMPLES: usize = 3000;

fn time_calls(mut f: impl FnMut()) -> (f64, f64, f64) {
    for _ in 0..WARMUP {
        f();
    }
    let mut xs: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    xs.sort_by(f64::total_cmp);
    let pick = |q: f64| xs[((q * xs.len() as f64) as usize).min(xs.len() - 1)];
    (pick(0.5), pick(0.1), pick(0.9))
}

fn report(name: &str, (median, p10, p90): (f64, f64, f64)) {
    println!("{name}: median {median:8.1} us  (p10 {p10:.1}, p90 {p90:.1})");
}

fn config() -> QNetworkConfig {
    QNetworkConfig {
        torso: TorsoConfig::Mlp {
            hidden: vec![256, 256],
            activation: Default::default(),
            layer_norm: false,
            dropout: 0.0,
        },
        ..Default::default()
    }
}

struct Batch {
    obs: Tensor,
    next_obs: Tensor,
    actions: Tensor,
    rewards: Tensor,
    discount: Tensor,
}

fn batch() -> candle_core::Result<Batch> {
    // A fixed pseudo-random batch (a simple LCG keeps the bench free of extra dependencies).
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let dev = Device::Cpu;
    let obs: Vec<f32> = (0..BATCH * OBS).map(|_| 2.0 * next() - 1.0).collect();
    let next_obs: Vec<f32> = (0..BATCH * OBS).map(|_| 2.0 * next() - 1.0).collect();
    let actions: Vec<u32> = (0..BATCH)
        .map(|_| (next() * ACTIONS as f32) as u32 % 2)
        .collect();
    let rewards: Vec<f32> = (0..BATCH).map(|_| next()).collect();
    let discount: Vec<f32> = (0..BATCH)
        .map(|_| if next() < 0.1 { 0.0 } else { GAMMA as f32 })
        .collect();
    Ok(Batch {
        obs: Tensor::from_vec(obs, (BATCH, OBS), &dev)?,
        next_obs: Tensor::from_vec(next_obs, (BATCH, OBS), &dev)?,
        actions: Tensor::from_vec(actions, (BATCH, 1), &dev)?,
        rewards: Tensor::from_vec(rewards, BATCH, &dev)?,
        discount: Tensor::from_vec(discount, BATCH, &dev)?,
    })
}

fn loss(online: &QNetwork, target: &QNetwork, b: &Batch) -> candle_core::Result<Tensor> {
    let next_q = target.forward(&b.next_obs)?.max(1)?;
    let y = ((next_q * &b.discount)? + &b.rewards)?.detach();
    let q = online.forward(&b.obs)?.gather(&b.actions, 1)?.squeeze(1)?;
    huber_loss(&q, &y, 1.0)
}

fn nets() -> qlab_nn::Result<(QNetwork, ParamStore, QNetwork)> {
    let (online, store) = QNetwork::new(&[OBS], ACTIONS, &config(), 0, &Device::Cpu)?;
    let (target, target_store) = QNetwork::new(&[OBS], ACTIONS, &config(), 1, &Device::Cpu)?;
    target_store.copy_from(&store)?;
    Ok((online, store, target))
}

fn main() -> qlab_nn::Result<()> {
    // SAFETY: first statement of main, no other thread exists yet.
    unsafe { qlab_nn::set_cpu_threads(1) };
    let allocator = if cfg!(feature = "bench-system-alloc") {
        "system (glibc malloc)"
    } else {
        "mimalloc"
    };
    println!(
        "candle 0.11, {} thread(s), allocator {allocator}",
        qlab_nn::cpu_threads()
    );
    let b = batch()?;

    for (name, algorithm) in [
        (
            "dqn_step adam  (64 x 4-256-256-2)",
            Algorithm::Adam(AdamConfig {
                lr: 1e-4,
                ..Default::default()
            }),
        ),
        (
            "dqn_step adamw (64 x 4-256-256-2)",
            Algorithm::AdamW(AdamConfig {
                lr: 1e-4,
                ..AdamConfig::adamw()
            }),
        ),
        (
            "dqn_step sgd   (64 x 4-256-256-2)",
            Algorithm::Sgd(SgdConfig {
                lr: 1e-4,
                ..Default::default()
            }),
        ),
    ] {
        let (online, store, target) = nets()?;
        let mut opt = Optimizer::new(store.trainable_vars(), OptimizerConfig::from(algorithm))?;
        report(
            name,
            time_calls(|| {
                let l = loss(&online, &target, &b).expect("loss");
                opt.backward_step(&l).expect("step");
            }),
        );
    }

    // The starting point: candle-nn's own blocks (Linear, ReLU) and its AdamW.
    {
        let build = |varmap: &candle_nn::VarMap| -> candle_core::Result<candle_nn::Sequential> {
            let vb =
                candle_nn::VarBuilder::from_varmap(varmap, candle_core::DType::F32, &Device::Cpu);
            Ok(candle_nn::seq()
                .add(candle_nn::linear(OBS, 256, vb.pp("l0"))?)
                .add(candle_nn::Activation::Relu)
                .add(candle_nn::linear(256, 256, vb.pp("l1"))?)
                .add(candle_nn::Activation::Relu)
                .add(candle_nn::linear(256, ACTIONS, vb.pp("l2"))?))
        };
        let (online_vars, target_vars) = (candle_nn::VarMap::new(), candle_nn::VarMap::new());
        let online = build(&online_vars)?;
        let target = build(&target_vars)?;
        let params = candle_nn::ParamsAdamW {
            lr: 1e-4,
            ..Default::default()
        };
        let mut opt = candle_nn::AdamW::new(online_vars.all_vars(), params)?;
        report(
            "dqn_step candle-nn Linear + AdamW",
            time_calls(|| {
                let next_q = target
                    .forward(&b.next_obs)
                    .and_then(|q| q.max(1))
                    .expect("target");
                let y = ((next_q * &b.discount).expect("y") + &b.rewards)
                    .expect("y")
                    .detach();
                let q = online
                    .forward(&b.obs)
                    .and_then(|q| q.gather(&b.actions, 1))
                    .and_then(|q| q.squeeze(1))
                    .expect("q");
                let l = candle_nn::loss::huber(&q, &y, 1.0).expect("loss");
                opt.backward_step(&l).expect("step");
            }),
        );
    }

    // Parts of the step.
    {
        let (online, _store, target) = nets()?;
        report(
            "  part: loss only (two forwards)",
            time_calls(|| {
                loss(&online, &target, &b).expect("loss");
            }),
        );
        report(
            "  part: loss + backward",
            time_calls(|| {
                loss(&online, &target, &b)
                    .expect("loss")
                    .backward()
                    .expect("backward");
            }),
        );
    }

    {
        let (online, store, target) = nets()?;
        let grads = loss(&online, &target, &b)?.backward()?;
        let adam = Algorithm::Adam(AdamConfig {
            lr: 1e-4,
            ..Default::default()
        });
        let mut opt = Optimizer::new(store.trainable_vars(), OptimizerConfig::from(adam))?;
        report(
            "  part: adam update only",
            time_calls(|| opt.step(&grads).expect("step")),
        );
    }

    // Acting: one observation, forward + argmax, back on the host.
    {
        let (online, _store, _target) = nets()?;
        let obs = [0.01f32, -0.02, 0.03, 0.04];
        report(
            "act: forward + argmax (1 x 4)",
            time_calls(|| {
                let x = Tensor::from_slice(&obs, (1, OBS), &Device::Cpu).expect("obs");
                let a = online
                    .forward(&x)
                    .and_then(|q| q.argmax(1))
                    .and_then(|a| a.to_vec1::<u32>())
                    .expect("act");
                std::hint::black_box(a);
            }),
        );
    }
    Ok(())
}
