//! Attacks on observations: balls, clipping, gradient ascent, timing, the neighbour attack and
//! the wrapper. Networks are randomly initialised with fixed seeds; no trained agent is needed.

mod common;

use candle_core::{Device, Tensor};
use qlab_agents::adversarial::{
    AgainstQ, AgainstTable, Attack, AttackConfig, AttackMethod, Attacked, NeighbourAttack,
    NeighbourConfig, Norm, PgdStart, QFunction, QTable, Target, attacked_loss, input_gradient,
    observation_std, preference_gap,
};
use qlab_agents::dp::{DpConfig, action_values, value_iteration};
use qlab_agents::nn::QNetwork;
use qlab_envs::cartpole::{CartPole, CartPoleConfig};
use qlab_envs::gridworld::{Cell, GridWorld};
use qlab_envs::{BoxSpace, Env, EnvRng, Model, Space};

use common::mlp;

fn cartpole_space() -> BoxSpace {
    let env = CartPole::new(CartPoleConfig::default());
    let Space::Box(b) = env.observation_space() else {
        unreachable!()
    };
    b.clone()
}

fn net(seed: u64) -> QNetwork {
    QNetwork::new(&[4], 2, &mlp(vec![32, 32]), seed, &Device::Cpu)
        .unwrap()
        .0
}

fn attack(method: AttackMethod, eps: f64, f: impl FnOnce(&mut AttackConfig)) -> Attack {
    let mut cfg = AttackConfig {
        method,
        eps,
        ..Default::default()
    };
    f(&mut cfg);
    Attack::new(&cfg, &cartpole_space(), 2, &Device::Cpu).unwrap()
}

/// Observations spread over CartPole's box (velocities within ±2).
fn observations(n: usize, seed: u64) -> Vec<[f32; 4]> {
    let mut rng = EnvRng::new(seed);
    let half = [4.8f64, 2.0, 0.418, 2.0];
    (0..n)
        .map(|_| std::array::from_fn(|i| ((2.0 * rng.next_f64() - 1.0) * half[i]) as f32))
        .collect()
}

fn loss(q: &QNetwork, obs: &[f32], label: usize, targeted: bool) -> f32 {
    let x = Tensor::from_slice(obs, (1, 4), &Device::Cpu).unwrap();
    let l = Tensor::new(&[label as u32], &Device::Cpu).unwrap();
    attacked_loss(&q.q_values(&x).unwrap(), &l, targeted)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()[0]
}

fn q_values(q: &QNetwork, obs: &[f32]) -> Vec<f32> {
    let x = Tensor::from_slice(obs, (1, 4), &Device::Cpu).unwrap();
    q.q_values(&x)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn greedy(q: &QNetwork, obs: &[f32]) -> usize {
    qlab_agents::nn::argmax(&q_values(q, obs))
}

#[test]
fn fgsm_linf_perturbation_has_norm_exactly_eps_before_clipping() {
    let q = net(0);
    let mut rng = EnvRng::new(0);
    let mut out = [0.0; 4];
    // Scale 1: every dimension moves by exactly ε (as f32).
    let mut a = attack(AttackMethod::Fgsm, 0.05, |_| {});
    for obs in observations(50, 1) {
        a.perturb(&obs, &q, &mut rng, &mut out).unwrap();
        assert!(
            a.last_delta().iter().all(|d| d.abs() == 0.05f32),
            "{:?}",
            a.last_delta()
        );
        assert_eq!(a.ball().scaled_norm(a.last_delta()), 0.05f32);
    }
    // A per-dimension scale: |δ_i| = ε·s_i, to rounding.
    let scale = vec![0.5, 2.0, 0.1, 1.5];
    let mut a = attack(AttackMethod::Fgsm, 0.2, |c| c.scale = scale.clone());
    for obs in observations(50, 2) {
        a.perturb(&obs, &q, &mut rng, &mut out).unwrap();
        for (d, s) in a.last_delta().iter().zip(&scale) {
            assert!((d.abs() / s - 0.2).abs() < 1e-6, "{d} / {s}");
        }
    }
}

#[test]
fn fgsm_l2_perturbation_has_length_eps() {
    let q = net(1);
    let mut a = attack(AttackMethod::Fgsm, 0.3, |c| c.norm = Norm::L2);
    let mut out = [0.0; 4];
    for obs in observations(50, 3) {
        a.perturb(&obs, &q, &mut EnvRng::new(0), &mut out).unwrap();
        assert!((a.ball().scaled_norm(a.last_delta()) - 0.3).abs() < 1e-6);
    }
}

#[test]
fn pgd_from_fgsm_never_ends_below_fgsm() {
    let mut rng = EnvRng::new(12);
    let (mut out, mut wins) = ([0.0; 4], 0);
    for seed in 0..3 {
        let q = net(seed);
        let mut fgsm = attack(AttackMethod::Fgsm, 0.1, |_| {});
        let mut pgd = attack(AttackMethod::Pgd, 0.1, |c| c.start = PgdStart::Fgsm);
        for obs in observations(40, 200 + seed) {
            let a = greedy(&q, &obs);
            fgsm.perturb(&obs, &q, &mut rng, &mut out).unwrap();
            let lf = loss(&q, &out, a, false);
            pgd.perturb(&obs, &q, &mut rng, &mut out).unwrap();
            let lp = loss(&q, &out, a, false);
            assert!(lp >= lf, "PGD from FGSM's point ends at {lp}, FGSM at {lf}");
            wins += u32::from(lp > lf);
        }
    }
    assert!(wins > 0, "PGD's steps never improved on FGSM");
}

/// PGD keeps the strongest point it finds, FGSM's included: at the same ε its attacked loss is
/// never below FGSM's, whatever its start or norm. Before it counted FGSM's point, PGD (10 steps
/// of 2.5ε/10) ended below FGSM on 10 of these 200 observations under L∞ from a random start,
/// 3 under L∞ from zero, and 149 under L2 from a random start.
#[test]
fn pgd_is_never_weaker_than_fgsm_at_the_same_eps() {
    let mut rng = EnvRng::new(21);
    let mut out = [0.0; 4];
    for (norm, start) in [
        (Norm::Linf, PgdStart::Random),
        (Norm::Linf, PgdStart::Zero),
        (Norm::L2, PgdStart::Random),
    ] {
        for seed in 0..4 {
            let q = net(seed);
            let mut fgsm = attack(AttackMethod::Fgsm, 0.1, |c| c.norm = norm);
            let mut pgd = attack(AttackMethod::Pgd, 0.1, |c| {
                c.norm = norm;
                c.start = start;
            });
            for obs in observations(50, 300 + seed) {
                let a = greedy(&q, &obs);
                fgsm.perturb(&obs, &q, &mut rng, &mut out).unwrap();
                let lf = loss(&q, &out, a, false);
                pgd.perturb(&obs, &q, &mut rng, &mut out).unwrap();
                let lp = loss(&q, &out, a, false);
                // The attack ranks points by the loss computed in f64 from the network's f32
                // values, `attacked_loss` by candle's f32 log-softmax: they may differ in the
                // last bits, so two points FGSM and PGD hold as equal may rank either way here.
                assert!(
                    lp >= lf - 1e-6,
                    "{norm:?} from {start:?}, net {seed}, {obs:?}: PGD {lp} < FGSM {lf}"
                );
            }
        }
    }
}

#[test]
fn every_attack_stays_in_its_ball_and_in_the_observation_space() {
    let space = cartpole_space();
    let q = net(2);
    let mut rng = EnvRng::new(5);
    let mut out = [0.0; 4];
    // Observations on the box's edge, where clipping matters, and inside it.
    let mut obs = observations(15, 4);
    obs.push([4.8, 0.0, -0.418_879, 0.0]);
    obs.push([-4.8, 3.0, 0.418_879, -3.0]);
    let methods = ["none", "random", "gaussian", "fgsm", "pgd", "timed"];
    for method in methods.map(|name| AttackMethod::parse(name).unwrap()) {
        for norm in [Norm::Linf, Norm::L2] {
            for scale in [vec![], vec![1.0, 0.5, 0.1, 0.5]] {
                let eps = 0.3;
                let mut a = attack(method, eps, |c| {
                    c.norm = norm;
                    c.scale = scale.clone();
                    c.threshold = 0.0;
                });
                for o in &obs {
                    a.perturb(o, &q, &mut rng, &mut out).unwrap();
                    assert!(space.contains(&out), "{method:?} {norm:?}: {out:?}");
                    let applied: Vec<f32> = out.iter().zip(o).map(|(x, y)| x - y).collect();
                    let n = a.ball().scaled_norm(&applied);
                    assert!(n <= eps as f32 * (1.0 + 1e-5), "{method:?} {norm:?}: {n}");
                }
            }
        }
    }
}

#[test]
fn clipping_holds_the_observation_at_the_box_edge() {
    let q = net(3);
    let mut a = attack(AttackMethod::Random, 1.0, |_| {});
    let mut out = [0.0; 4];
    let mut rng = EnvRng::new(0);
    for _ in 0..100 {
        a.perturb(&[4.8, 0.0, 0.0, 0.0], &q, &mut rng, &mut out)
            .unwrap();
        assert!(out[0] <= 4.8);
    }
    // The velocities are unbounded: nothing clips them.
    assert!(a.last_delta()[1] != 0.0);
}

#[test]
fn gradient_attacks_increase_the_attacked_loss_and_pgd_beats_fgsm_on_average() {
    let mut sums = [0.0f64; 3]; // clean, FGSM, PGD
    let mut rng = EnvRng::new(11);
    let mut out = [0.0; 4];
    for seed in 0..4 {
        let q = net(seed);
        let mut fgsm = attack(AttackMethod::Fgsm, 0.1, |_| {});
        let mut pgd = attack(AttackMethod::Pgd, 0.1, |c| c.iterations = 20);
        for obs in observations(50, 100 + seed) {
            let a = greedy(&q, &obs);
            let clean = loss(&q, &obs, a, false);
            fgsm.perturb(&obs, &q, &mut rng, &mut out).unwrap();
            let lf = loss(&q, &out, a, false);
            pgd.perturb(&obs, &q, &mut rng, &mut out).unwrap();
            let lp = loss(&q, &out, a, false);
            // A single signed step can overshoot on a ReLU network, but not often.
            assert!(lf >= clean - 1e-4 || lp >= clean, "{clean} {lf} {lp}");
            assert!(
                lp >= clean - 1e-6,
                "PGD keeps its best iterate: {clean} {lp}"
            );
            sums[0] += clean as f64;
            sums[1] += lf as f64;
            sums[2] += lp as f64;
        }
    }
    assert!(sums[1] > sums[0], "{sums:?}");
    assert!(sums[2] >= sums[1], "{sums:?}");
}

#[test]
fn targeted_attack_moves_toward_the_target() {
    let q = net(7);
    let mut out = [0.0; 4];
    let mut closer = 0;
    let obs = observations(50, 8);
    for target in [0, 1] {
        let mut a = attack(AttackMethod::Pgd, 0.2, |c| {
            c.target = Target::Action(target)
        });
        for o in &obs {
            a.perturb(o, &q, &mut EnvRng::new(0), &mut out).unwrap();
            let (before, after) = (q_values(&q, o), q_values(&q, &out));
            let gap = |v: &[f32]| v[target] - v[1 - target];
            assert!(gap(&after) >= gap(&before) - 1e-5, "{before:?} {after:?}");
            closer += usize::from(gap(&after) > gap(&before));
        }
    }
    assert!(closer > 90, "{closer} of 100 moved toward the target");
}

#[test]
fn autodiff_gradient_matches_the_closed_form_used_by_the_attacks() {
    // FGSM's direction from `input_gradient` (the full log-softmax through autodiff) equals
    // the one `Attack` takes (closed-form gradient on the action values).
    let q = net(9);
    let mut a = attack(AttackMethod::Fgsm, 0.1, |_| {});
    let mut out = [0.0; 4];
    for obs in observations(20, 10) {
        let label = greedy(&q, &obs);
        let x = Tensor::from_slice(&obs, (1, 4), &Device::Cpu).unwrap();
        let l = Tensor::new(&[label as u32], &Device::Cpu).unwrap();
        let (_, g) = input_gradient(&q, &x, &l, false).unwrap();
        let g: Vec<f32> = g.flatten_all().unwrap().to_vec1().unwrap();
        a.perturb(&obs, &q, &mut EnvRng::new(0), &mut out).unwrap();
        for (d, gi) in a.last_delta().iter().zip(&g) {
            assert_eq!(d.signum(), gi.signum(), "{:?} {g:?}", a.last_delta());
        }
    }
}

#[test]
fn timed_attack_strikes_only_above_its_threshold_and_reports_the_fraction() {
    let q = net(4);
    let obs = observations(200, 12);
    let gaps: Vec<f32> = obs
        .iter()
        .map(|o| preference_gap(&q_values(&q, o)))
        .collect();
    let mut sorted = gaps.clone();
    sorted.sort_by(f32::total_cmp);
    let threshold = sorted[100] as f64; // the median: about half the steps
    let mut a = attack(AttackMethod::Timed, 0.1, |c| c.threshold = threshold);
    let mut out = [0.0; 4];
    let mut expected = 0;
    for (o, &gap) in obs.iter().zip(&gaps) {
        let hit = a.perturb(o, &q, &mut EnvRng::new(0), &mut out).unwrap();
        assert_eq!(
            hit,
            gap > threshold as f32,
            "gap {gap}, threshold {threshold}"
        );
        if !hit {
            assert_eq!(&out, o);
        }
        expected += usize::from(hit);
    }
    let stats = a.stats();
    assert_eq!((stats.steps, stats.attacked), (200, expected as u64));
    assert!((stats.attacked_fraction() - expected as f64 / 200.0).abs() < 1e-12);
    assert!((90..=110).contains(&expected), "{expected}");
    // The gap: softmax([0, ln 3]) = [1/4, 3/4].
    assert!((preference_gap(&[0.0, 3f32.ln()]) - 0.5).abs() < 1e-6);
}

#[test]
fn seeded_attacks_repeat_exactly() {
    let q = net(5);
    for method in [
        AttackMethod::Random,
        AttackMethod::Gaussian,
        AttackMethod::Pgd,
    ] {
        let run = || {
            let mut a = attack(method, 0.1, |_| {});
            let mut rng = EnvRng::new(42);
            let mut out = [0.0; 4];
            observations(20, 13)
                .iter()
                .map(|o| {
                    a.perturb(o, &q, &mut rng, &mut out).unwrap();
                    out
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run(), "{method:?}");
    }
}

#[test]
fn invalid_configs_are_errors_naming_the_key() {
    let space = cartpole_space();
    let bad = |f: fn(&mut AttackConfig), key: &str| {
        let mut c = AttackConfig::default();
        f(&mut c);
        let e = Attack::new(&c, &space, 2, &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(e.contains(key), "{e}");
    };
    bad(|c| c.eps = -0.1, "eps");
    bad(|c| c.eps = f64::NAN, "eps");
    bad(|c| c.iterations = 0, "iterations");
    bad(|c| c.step_size = Some(0.0), "step_size");
    bad(|c| c.threshold = 1.5, "threshold");
    bad(|c| c.timed_with = AttackMethod::Random, "timed_with");
    bad(|c| c.scale = vec![1.0; 3], "scale");
    bad(|c| c.scale = vec![1.0, 0.0, 1.0, 1.0], "scale");
    bad(|c| c.target = Target::Action(2), "target");
    assert!(AttackMethod::parse("fgsm").is_ok());
    assert!(
        AttackMethod::parse("cw")
            .unwrap_err()
            .to_string()
            .contains("cw")
    );
    let toml: AttackConfig =
        toml::from_str("method = \"pgd\"\neps = 0.05\ntarget = { action = 1 }").unwrap();
    assert_eq!(toml.method, AttackMethod::Pgd);
    assert_eq!(toml.target, Target::Action(1));
    assert!(toml::from_str::<AttackConfig>("epsilon = 1").is_err());
}

#[test]
fn observation_std_scales_each_dimension() {
    let obs = [[0.0f32, 1.0], [2.0, 1.0]];
    // Population std: 1 in the first dimension, 0 (floored) in the second.
    assert_eq!(observation_std(&obs, 1e-3).unwrap(), vec![1.0, 1e-3]);
    assert!(observation_std(&obs[..1], 1e-3).is_err());
}

/// A 3 × 3 deterministic grid with a wall, a hole and the goal:
/// ```text
/// S . .
/// . # .
/// H . G
/// ```
fn small_grid() -> GridWorld {
    GridWorld::from_map("S..\n.#.\nH.G").unwrap()
}

fn optimal_table(grid: &GridWorld) -> QTable {
    let dp = DpConfig::default();
    let v = value_iteration(grid, &dp).unwrap().values;
    QTable::new(action_values(grid, &v, dp.gamma), grid.n_actions()).unwrap()
}

#[test]
fn neighbour_attack_stays_within_the_radius_avoids_walls_and_lowers_the_true_value() {
    let grid = small_grid();
    let table = optimal_table(&grid);
    let cols = grid.cols();
    for radius in 0..=3 {
        let cfg = NeighbourConfig {
            radius,
            ..Default::default()
        };
        let mut attack = NeighbourAttack::new(&grid, &cfg).unwrap();
        let mut lowered = 0;
        for s in
            (0..grid.n_states()).filter(|&s| grid.cell(s) != Cell::Wall && !grid.is_terminal(s))
        {
            let shown = attack.perturb(s, &table).unwrap();
            let dist = (s / cols).abs_diff(shown / cols) + (s % cols).abs_diff(shown % cols);
            assert!(dist <= radius, "{s} → {shown} at radius {radius}");
            assert_ne!(grid.cell(shown), Cell::Wall);
            let clean = attack.harm(s, s, &table);
            let attacked = attack.harm(s, shown, &table);
            assert!(attacked <= clean);
            // The clean value of the optimal agent is V*(s).
            let v_star = (0..4).map(|a| attack.true_q(s, a)).fold(f64::MIN, f64::max);
            assert!((clean - v_star).abs() < 1e-12);
            lowered += usize::from(attacked < clean);
        }
        if radius == 0 {
            assert_eq!((lowered, attack.stats().attacked), (0, 0));
        } else {
            assert!(lowered > 0, "radius {radius} lowered nothing");
        }
    }
    // By hand. With deterministic moves, no step cost and γ = 1, every non-terminal cell has
    // V* = 1 and only the move into the hole has Q* = 0. In cell 3, right above the hole, the
    // candidates at radius 1 are 3, 0 and the hole 6 (cell 4 is the wall). In cell 0 the
    // optimal table ties all four actions (each keeps the goal reachable), and in the hole all
    // four are 0: shown either, the agent picks uniformly and falls in with probability 1/4,
    // so the true value drops from 1 to 3/4; cell 0 comes first.
    let mut attack = NeighbourAttack::new(&grid, &NeighbourConfig::default()).unwrap();
    assert_eq!(attack.candidates(3), &[3, 0, 6]);
    assert_eq!(attack.perturb(3, &table).unwrap(), 0);
    assert_eq!(attack.harm(3, 0, &table), 0.75);
    assert_eq!(attack.harm(3, 6, &table), 0.75);
    assert_eq!(attack.harm(3, 3, &table), 1.0);
}

#[test]
fn neighbour_attack_rejects_a_table_of_the_wrong_size() {
    let grid = small_grid();
    let mut attack = NeighbourAttack::new(&grid, &NeighbourConfig::default()).unwrap();
    let table = QTable::new(vec![0.0; 9 * 2], 2).unwrap();
    assert!(attack.perturb(0, &table).is_err());
    assert!(attack.perturb(99, &optimal_table(&grid)).is_err());
    assert!(QTable::new(vec![0.0; 7], 2).is_err());
}

#[test]
fn wrapper_keeps_cartpole_observations_in_space_and_repeats_with_a_seed() {
    let q = net(6);
    let make = || {
        let a = attack(AttackMethod::Pgd, 0.1, |c| c.iterations = 3);
        Attacked::new(
            CartPole::new(CartPoleConfig::default()),
            AgainstQ::new(a, &q),
        )
    };
    qlab_envs::check_env(make, 0, 200).unwrap();

    // The agent (greedy on the same network) plays; the attack counts every observation.
    let mut env = make();
    let mut obs = env.reset(Some(1)).obs;
    let mut steps = 1;
    loop {
        let s = env.step(greedy(&q, &obs)).unwrap();
        steps += 1;
        obs = s.obs;
        assert!(env.observation_space().contains_obs(&obs));
        if s.done() {
            break;
        }
    }
    let stats = env.stats();
    assert_eq!((stats.steps, stats.attacked), (steps, steps));
    assert!(stats.action_change_rate() <= 1.0);
}

#[test]
fn wrapper_applies_the_neighbour_attack_to_a_grid() {
    let grid = small_grid();
    let table = optimal_table(&grid);
    let attack = NeighbourAttack::new(&grid, &NeighbourConfig::default()).unwrap();
    let make = || {
        Attacked::new(
            small_grid(),
            AgainstTable::new(attack.clone(), table.clone()),
        )
    };
    qlab_envs::check_env(make, 0, 50).unwrap();
}

trait ContainsObs {
    fn contains_obs(&self, obs: &[f32; 4]) -> bool;
}

impl ContainsObs for Space {
    fn contains_obs(&self, obs: &[f32; 4]) -> bool {
        matches!(self, Space::Box(b) if b.contains(obs))
    }
}
