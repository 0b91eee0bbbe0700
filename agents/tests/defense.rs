//! Defenses of the DQN against observation attacks: adversarial training's attacked batches,
//! SA-DQN's smoothness regularizer, their config errors, and determinism and checkpoints with
//! them on. Networks are randomly initialised with fixed seeds.

mod common;

use candle_core::{Device, Tensor};
use qlab_agents::adversarial::{Norm, QFunction, attacked_loss};
use qlab_agents::dqn::{
    AdversarialTraining, Defense, Dqn, DqnConfig, DqnRng, Smoothness, TrainingAttack,
};
use qlab_agents::nn::{AdamConfig, Algorithm, Optimizer, OptimizerConfig, QNetwork};
use qlab_envs::{BoxSpace, EnvRng};

use common::mlp;

/// A box with two bounded dimensions (±0.2, ±1) and two unbounded ones.
fn space() -> BoxSpace {
    let inf = f32::INFINITY;
    BoxSpace::from_bounds(vec![-0.2, -inf, -1.0, -inf], vec![0.2, inf, 1.0, inf])
}

/// `n` observations in the box, some on its faces so that clipping matters.
fn batch(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = EnvRng::new(seed);
    let mut x = Vec::with_capacity(4 * n);
    for i in 0..n {
        let r = |rng: &mut EnvRng, h: f64| ((2.0 * rng.next_f64() - 1.0) * h) as f32;
        x.push(if i % 3 == 0 { 0.2 } else { r(&mut rng, 0.2) });
        x.push(r(&mut rng, 2.0));
        x.push(if i % 4 == 1 { -1.0 } else { r(&mut rng, 1.0) });
        x.push(r(&mut rng, 2.0));
    }
    x
}

fn defense(adv: Option<AdversarialTraining>, sa: Option<Smoothness>) -> Defense {
    let mut d = Defense::new(adv.as_ref(), sa.as_ref(), 4, &[4], 2, &Device::Cpu)
        .unwrap()
        .unwrap();
    d.set_space(&space()).unwrap();
    d
}

fn ce(q: &QNetwork, rows: &[f32], labels: &[u32]) -> f32 {
    let n = labels.len();
    let x = Tensor::from_slice(rows, (n, 4), &Device::Cpu).unwrap();
    let y = Tensor::from_slice(labels, n, &Device::Cpu).unwrap();
    attacked_loss(&q.q_values(&x).unwrap(), &y, false)
        .unwrap()
        .sum_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn greedy(q: &QNetwork, rows: &[f32]) -> Vec<u32> {
    let n = rows.len() / 4;
    let x = Tensor::from_slice(rows, (n, 4), &Device::Cpu).unwrap();
    q.q_values(&x)
        .unwrap()
        .argmax(1)
        .unwrap()
        .to_vec1::<u32>()
        .unwrap()
}

/// Adversarial training replaces exactly `round(fraction · N)` rows, leaves the others bit for
/// bit, keeps every attacked row inside its ball (scaled, L∞ or L2) and the box, and the
/// attacked rows have a larger attacked loss than the clean ones (the attack attacks).
#[test]
fn adversarial_batches_hold_the_configured_fraction_of_attacked_rows_in_ball_and_box() {
    let (q, _p) = QNetwork::new(&[4], 2, &mlp(vec![16, 16]), 3, &Device::Cpu).unwrap();
    let scale = vec![0.5f32, 2.0, 1.0, 1.0];
    for (attack, norm, fraction, want) in [
        (TrainingAttack::Fgsm, Norm::Linf, 0.25, 8),
        (TrainingAttack::Pgd, Norm::Linf, 0.5, 16),
        (TrainingAttack::Pgd, Norm::L2, 0.3, 10), // 9.6 rounds to 10
        (TrainingAttack::Fgsm, Norm::L2, 1.0, 32),
    ] {
        let cfg = AdversarialTraining {
            attack,
            norm,
            fraction,
            scale: scale.clone(),
            iterations: 5,
            ..AdversarialTraining::new(0.1)
        };
        let mut d = defense(Some(cfg.clone()), None);
        let clean = batch(32, 7);
        let mut obs = clean.clone();
        let rows = d
            .attack_batch(&q, &mut obs, 0, &mut DqnRng::new(1))
            .unwrap();
        assert_eq!(rows.len(), want, "{attack:?} {norm:?}");
        assert_eq!(d.stats().attacked, want as u64);
        assert_eq!(d.stats().observations, 32);
        let (mut x0, mut x) = (Vec::new(), Vec::new());
        for i in 0..32 {
            let (a, b) = (&clean[4 * i..4 * i + 4], &obs[4 * i..4 * i + 4]);
            if !rows.contains(&i) {
                assert_eq!(a, b, "row {i} is not attacked but changed");
                continue;
            }
            assert_ne!(a, b, "row {i} is attacked but unchanged");
            assert!(space().contains(b), "row {i} left the box: {b:?}");
            let u: Vec<f32> = (0..4).map(|k| (b[k] - a[k]) / scale[k]).collect();
            let n = norm.of(&u);
            assert!(n <= 0.1 + 1e-5, "row {i}: ‖δ/s‖ = {n}");
            x0.extend_from_slice(a);
            x.extend_from_slice(b);
        }
        let labels = greedy(&q, &x0);
        assert!(
            ce(&q, &x, &labels) > ce(&q, &x0, &labels),
            "{attack:?} {norm:?} did not raise the attacked loss"
        );
    }
}

/// FGSM moves each attacked row by exactly ε·s in every dimension that is not clipped; the
/// rows on a face of the box are clipped to it.
#[test]
fn adversarial_fgsm_takes_the_full_step_and_clips_to_the_box() {
    let (q, _p) = QNetwork::new(&[4], 2, &mlp(vec![16]), 5, &Device::Cpu).unwrap();
    let mut d = defense(
        Some(AdversarialTraining {
            fraction: 1.0,
            ..AdversarialTraining::new(0.05)
        }),
        None,
    );
    let clean = batch(12, 2);
    let mut obs = clean.clone();
    d.attack_batch(&q, &mut obs, 0, &mut DqnRng::new(0))
        .unwrap();
    let mut clipped = 0;
    for (k, (a, b)) in clean.iter().zip(&obs).enumerate() {
        let moved = (b - a).abs();
        let (lo, hi) = (space().low()[k % 4], space().high()[k % 4]);
        if *b == lo || *b == hi {
            clipped += 1;
            assert!(moved <= 0.05 + 1e-6);
        } else {
            assert!((moved - 0.05).abs() < 1e-6, "dimension {k}: moved {moved}");
        }
    }
    assert!(clipped > 0, "no observation was on a face of the box");
}

/// Nothing is attacked, and no random number drawn, at ε = 0 or before the ramp starts; the
/// ramp then scales the radius.
#[test]
fn adversarial_training_follows_the_ramp() {
    let (q, _p) = QNetwork::new(&[4], 2, &mlp(vec![16]), 1, &Device::Cpu).unwrap();
    let cfg = AdversarialTraining {
        fraction: 1.0,
        ramp_start: 100,
        ramp_steps: 100,
        ..AdversarialTraining::new(0.1)
    };
    let mut d = defense(Some(cfg), None);
    let clean = batch(8, 4);
    let mut obs = clean.clone();
    let mut rng = DqnRng::new(9);
    assert!(
        d.attack_batch(&q, &mut obs, 100, &mut rng)
            .unwrap()
            .is_empty()
    );
    assert_eq!(obs, clean);
    assert_eq!(rng.state(), (9, 0));
    d.attack_batch(&q, &mut obs, 150, &mut rng).unwrap();
    let moved = clean
        .iter()
        .zip(&obs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!((moved - 0.05).abs() < 1e-6, "half-way up the ramp: {moved}");
}

fn flat_net(seed: u64) -> (QNetwork, qlab_agents::nn::ParamStore) {
    QNetwork::new(&[4], 2, &mlp(vec![16]), seed, &Device::Cpu).unwrap()
}

/// Searching the ball on the network over frozen weights gives the regularizer of the
/// network itself, value and gradients, bit for bit.
#[test]
fn searching_on_frozen_weights_changes_nothing() {
    let (q, p) = flat_net(4);
    let frozen =
        qlab_agents::nn::q_network(&[4], 2, &mlp(vec![16]), p.frozen_var_builder()).unwrap();
    let obs = batch(16, 6);
    let run = |search: &QNetwork| {
        let mut d = defense(None, Some(Smoothness::new(0.2, 1.0)));
        let r = d
            .regularizer_with(&q, search, &obs, None, 0, &mut DqnRng::new(9))
            .unwrap()
            .unwrap();
        let grads = r.backward().unwrap();
        let mut out = vec![r.to_scalar::<f32>().unwrap().to_bits()];
        for v in p.trainable_vars() {
            let g = grads.get(v.as_tensor()).unwrap().flatten_all().unwrap();
            out.extend(g.to_vec1::<f32>().unwrap().iter().map(|x| x.to_bits()));
        }
        out
    };
    assert_eq!(run(&q), run(&frozen));
}

/// The regularizer is absent (0) at ε = 0 and before its ramp, costs no random number then,
/// and at ε > 0 without a random start it is at least the clean margin (PGD starts at the clean
/// observation and keeps its best iterate) and at least the floor −c.
#[test]
fn the_regularizer_is_zero_at_eps_zero_and_above_the_clean_margin_otherwise() {
    let (q, _p) = flat_net(2);
    let obs = batch(16, 3);
    let mut rng = DqnRng::new(5);
    let mut d = defense(None, Some(Smoothness::new(0.0, 1.0)));
    assert!(
        d.regularizer(&q, &obs, None, 1000, &mut rng)
            .unwrap()
            .is_none()
    );
    let mut d = defense(
        None,
        Some(Smoothness {
            ramp_start: 50,
            ..Smoothness::new(0.1, 1.0)
        }),
    );
    assert!(
        d.regularizer(&q, &obs, None, 49, &mut rng)
            .unwrap()
            .is_none()
    );
    assert_eq!(d.stats().last_regularizer, 0.0);
    assert_eq!(rng.state(), (5, 0));

    let hinge = 0.05;
    let mut d = defense(
        None,
        Some(Smoothness {
            random_start: false,
            hinge,
            ..Smoothness::new(0.2, 1.0)
        }),
    );
    let r = d
        .regularizer(&q, &obs, None, 0, &mut rng)
        .unwrap()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let s = d.stats();
    assert!((f64::from(r) - s.last_regularizer).abs() < 1e-5);
    assert!(s.last_regularizer >= -hinge - 1e-6);
    assert!(
        s.last_regularizer > s.last_clean_margin,
        "{} ≤ clean {}",
        s.last_regularizer,
        s.last_clean_margin
    );
    // No random start: nothing drawn.
    assert_eq!(rng.state(), (5, 0));
}

/// On a fresh network whose two action values are close, an action flips inside a ball of
/// radius 2 for most observations: the regularizer is positive; descending it alone (Adam,
/// 60 steps) drives it down to the floor −c, and the clean margin with it.
#[test]
fn the_regularizer_is_positive_and_decreases_under_training() {
    let (q, params) = flat_net(11);
    let mut opt = Optimizer::new(
        params.trainable_vars(),
        OptimizerConfig {
            algorithm: Algorithm::Adam(AdamConfig {
                lr: 1e-2,
                ..AdamConfig::default()
            }),
            max_grad_norm: None,
        },
    )
    .unwrap();
    let mut d = defense(
        None,
        Some(Smoothness {
            hinge: 0.5,
            ..Smoothness::new(2.0, 1.0)
        }),
    );
    let obs = batch(32, 8);
    let mut rng = DqnRng::new(0);
    let mut values = Vec::new();
    for _ in 0..60 {
        let r = d.regularizer(&q, &obs, None, 0, &mut rng).unwrap().unwrap();
        values.push(d.stats().last_regularizer);
        opt.step(&r.backward().unwrap()).unwrap();
    }
    let (first, last) = (values[0], values[values.len() - 1]);
    assert!(first > 0.0, "the regularizer starts at {first}");
    assert!(last < first - 0.3, "{first} → {last}");
    assert!((last + 0.5).abs() < 0.05, "not at the floor: {last}");
}

/// Importance weights scale each observation's term.
#[test]
fn the_regularizer_weights_each_observation() {
    let (q, _p) = flat_net(4);
    let obs = batch(8, 1);
    let value = |w: Option<&[f32]>| {
        let mut d = defense(
            None,
            Some(Smoothness {
                random_start: false,
                ..Smoothness::new(0.1, 1.0)
            }),
        );
        d.regularizer(&q, &obs, w, 0, &mut DqnRng::new(0))
            .unwrap()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    };
    let (one, two) = (value(None), value(Some(&[2.0; 8])));
    assert!((two - 2.0 * one).abs() < 1e-5, "{one} {two}");
}

fn small(extra: impl FnOnce(&mut DqnConfig)) -> DqnConfig {
    let mut c = DqnConfig {
        learning_starts: 20,
        batch_size: 8,
        buffer_size: 64,
        train_freq: 4,
        gradient_steps: 2,
        target_update_interval: 10,
        learning_rate: 1e-3,
        network: mlp(vec![8]),
        ..Default::default()
    };
    extra(&mut c);
    c
}

/// A point on a line: action 1 moves right by 0.25, action 0 left; reaching 1 terminates with
/// reward 1; episodes are truncated at 8 steps. Observations `[x, 1 − x, 0.5, −x]`.
fn play(agent: &mut Dqn, steps: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let (mut x, mut t) = (0.0f32, 0);
    let obs = |x: f32| [x, 1.0 - x, 0.5, -x];
    for _ in 0..steps {
        let a = agent.act(&obs(x)).unwrap();
        let next = if a == 1 {
            x + 0.25
        } else {
            (x - 0.25).max(0.0)
        };
        t += 1;
        let terminated = next >= 1.0;
        let truncated = !terminated && t == 8;
        let r = if terminated { 1.0 } else { 0.0 };
        if let Some(s) = agent
            .observe(&obs(x), a, r, &obs(next), terminated, truncated)
            .unwrap()
        {
            out.push(s.loss.to_bits());
            out.push(s.mean_q.to_bits());
        }
        if terminated || truncated {
            (x, t) = (0.0, 0);
        } else {
            x = next;
        }
    }
    out
}

fn defended(c: &mut DqnConfig) {
    c.prioritized = true;
    c.adversarial_training = Some(Box::new(AdversarialTraining {
        attack: TrainingAttack::Pgd,
        iterations: 3,
        ..AdversarialTraining::new(0.1)
    }));
    c.smoothness = Some(Box::new(Smoothness::new(0.1, 0.5)));
}

/// Same config and seed: bit-identical with both defenses on; the defenses change the run;
/// with ε = 0 (a ramp that starts after the budget) the run is bit-identical to an undefended
/// one.
#[test]
fn defended_runs_are_seeded_and_inert_at_eps_zero() {
    let space = BoxSpace::from_bounds(vec![-2.0; 4], vec![2.0; 4]);
    let run = |c: &DqnConfig, seed| {
        let mut a = Dqn::new(&[4], 2, c, 120, seed).unwrap();
        a.set_observation_space(&space).unwrap();
        let l = play(&mut a, 120);
        (l, a.params().to_bytes().unwrap())
    };
    let c = small(defended);
    let first = run(&c, 3);
    assert!(!first.0.is_empty());
    assert_eq!(first, run(&c, 3));
    let plain = small(|c| c.prioritized = true);
    assert_ne!(first, run(&plain, 3));
    let late = small(|c| {
        defended(c);
        c.adversarial_training.as_mut().unwrap().ramp_start = 1_000;
        c.smoothness.as_mut().unwrap().ramp_start = 1_000;
    });
    assert_eq!(run(&late, 3), run(&plain, 3));
}

/// A defended run checkpointed half-way and restored into a fresh agent ends bit-identical to
/// the run that went straight through (the defenses draw from the agent's RNG, which the
/// checkpoint saves).
#[test]
fn a_defended_checkpoint_continues_exactly() {
    let c = small(defended);
    let mut straight = Dqn::new(&[4], 2, &c, 240, 5).unwrap();
    let first = play(&mut straight, 120);
    let (tensors, state) = straight.checkpoint().unwrap();
    let rest = play(&mut straight, 120);
    let mut resumed = Dqn::new(&[4], 2, &c, 240, 5).unwrap();
    resumed.restore(&tensors, &state).unwrap();
    let again = play(&mut resumed, 120);
    assert!(!first.is_empty() && !rest.is_empty());
    assert_eq!(rest, again);
    assert_eq!(
        straight.params().to_bytes().unwrap(),
        resumed.params().to_bytes().unwrap()
    );
    let s = straight.defense().unwrap().stats();
    assert!(s.attacked > 0 && s.attacked * 2 == s.observations, "{s:?}");
}

#[test]
fn config_errors_name_the_key_and_the_allowed_values() {
    let parse = |s: &str| toml::from_str::<DqnConfig>(s);
    let bad = |s: &str| {
        let c = parse(s).unwrap();
        c.validate().unwrap_err().to_string()
    };
    let c = parse("adversarial_training = { attack = \"pgd\", eps = 0.1, fraction = 0.25 }\nsmoothness = { eps = 0.05, kappa = 0.1 }").unwrap();
    c.validate().unwrap();
    let a = c.adversarial_training.unwrap();
    assert_eq!(
        (a.attack, a.eps, a.fraction, a.iterations),
        (TrainingAttack::Pgd, 0.1, 0.25, 10)
    );
    let s = c.smoothness.unwrap();
    assert_eq!((s.eps, s.kappa, s.hinge, s.iterations), (0.05, 0.1, 1.0, 5));

    assert_eq!(
        bad("adversarial_training = { eps = 0.1, fraction = 1.5 }"),
        "invalid value 1.5 for `adversarial_training.fraction`: expected in [0, 1]"
    );
    assert_eq!(
        bad("adversarial_training = { eps = -0.1 }"),
        "invalid value -0.1 for `adversarial_training.eps`: expected a finite radius ≥ 0"
    );
    assert_eq!(
        bad("adversarial_training = { eps = 0.1, attack = \"pgd\", iterations = 0 }"),
        "invalid value 0 for `adversarial_training.iterations`: expected at least 1"
    );
    assert_eq!(
        bad("smoothness = { eps = 0.1, kappa = -1.0 }"),
        "invalid value -1 for `smoothness.kappa`: expected finite and ≥ 0"
    );
    assert_eq!(
        bad("smoothness = { eps = 0.1, step_size = 0.0 }"),
        "invalid value 0 for `smoothness.step_size`: expected finite and > 0"
    );
    assert_eq!(
        bad("smoothness = { eps = 0.1, scale = [1.0, 0.0] }"),
        "invalid value 0 for `smoothness.scale`: expected finite and > 0 in every dimension"
    );
    let e = parse("adversarial_training = { attack = \"cw\", eps = 0.1 }").unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown variant `cw`, expected `fgsm` or `pgd`"),
        "{e}"
    );
    let e = parse("smoothness = { kappa = 0.1 }").unwrap_err();
    assert!(e.to_string().contains("missing field `eps`"), "{e}");
    let e = parse("smoothness = { eps = 0.1, weight = 0.1 }").unwrap_err();
    assert!(e.to_string().contains("unknown field `weight`"), "{e}");
    // The scale's length is checked against the observations when the agent is built.
    let c = parse("smoothness = { eps = 0.1, scale = [1.0, 2.0, 3.0] }").unwrap();
    assert_eq!(
        Dqn::new(&[4], 2, &c, 100, 0).unwrap_err().to_string(),
        "invalid value 3 values for `smoothness.scale`: expected one per observation dimension (4), or none"
    );
    // A box of the wrong length is refused.
    let mut a = Dqn::new(&[4], 2, &small(defended), 100, 0).unwrap();
    let three = BoxSpace::from_bounds(vec![0.0; 3], vec![1.0; 3]);
    assert!(a.set_observation_space(&three).is_err());
}
