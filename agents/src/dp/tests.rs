//! Tests of dynamic programming, pinned to Sutton & Barto's figures and to the reference
//! solutions.

use super::*;
use qlab_envs::Transition;
use qlab_envs::gridworld::{GridWorld, GridWorldConfig};

/// A model written out by hand: `outcomes[s * n_actions + a]`.
struct Table {
    n_actions: usize,
    outcomes: Vec<Vec<Transition>>,
    starts: Vec<(usize, f64)>,
    terminal: Vec<bool>,
}

impl Model for Table {
    fn n_states(&self) -> usize {
        self.terminal.len()
    }
    fn n_actions(&self) -> usize {
        self.n_actions
    }
    fn transitions(&self, state: usize, action: usize) -> &[Transition] {
        &self.outcomes[state * self.n_actions + action]
    }
    fn initial_states(&self) -> &[(usize, f64)] {
        &self.starts
    }
    fn is_terminal(&self, state: usize) -> bool {
        self.terminal[state]
    }
}

fn to(next_state: usize, reward: f64, terminated: bool) -> Vec<Transition> {
    vec![Transition {
        prob: 1.0,
        next_state,
        reward,
        terminated,
    }]
}

/// States 0 and 1, then terminal 2. Action 0 moves on (−1 from 0 to 1, +10 from 1 into
/// the end), action 1 stays put for 0.
fn go_or_stay() -> Table {
    Table {
        n_actions: 2,
        outcomes: vec![
            to(1, -1.0, false),
            to(0, 0.0, false),
            to(2, 10.0, true),
            to(1, 0.0, false),
            to(2, 0.0, true),
            to(2, 0.0, true),
        ],
        starts: vec![(0, 1.0)],
        terminal: vec![false, false, true],
    }
}

/// One state, one action that stays there at a cost of 1: no episode ever ends.
fn treadmill() -> Table {
    Table {
        n_actions: 1,
        outcomes: vec![to(0, -1.0, false)],
        starts: vec![(0, 1.0)],
        terminal: vec![false],
    }
}

fn preset(id: &str) -> GridWorld {
    GridWorld::new(GridWorldConfig::preset(id).unwrap()).unwrap()
}

fn config(gamma: f64, horizon: Option<u64>) -> DpConfig {
    DpConfig {
        gamma,
        horizon,
        ..DpConfig::default()
    }
}

#[test]
fn policy_evaluation_of_a_coin_flip_policy_matches_the_hand_computed_values() {
    let m = go_or_stay();
    let pi = uniform_random_policy(&m);
    // γ = 0.9: V(1) = ½·10 + ½·0.9·V(1) → V(1) = 100/11;
    //          V(0) = ½·(−1 + 0.9·V(1)) + ½·0.9·V(0) → V(0) = 790/121.
    let v = evaluate_policy(&m, &pi, &config(0.9, None)).unwrap();
    assert!((v.values[1] - 100.0 / 11.0).abs() < 1e-9, "{:?}", v.values);
    assert!((v.values[0] - 790.0 / 121.0).abs() < 1e-9, "{:?}", v.values);
    assert_eq!(v.values[2], 0.0);
    // γ = 1: V(1) = 5 + ½·V(1) → 10; V(0) = ½·(−1 + 10) + ½·V(0) → 9.
    let v = evaluate_policy(&m, &pi, &config(1.0, None)).unwrap();
    assert!((v.values[1] - 10.0).abs() < 1e-9 && (v.values[0] - 9.0).abs() < 1e-9);
    // One step of improvement from there: move on in both states.
    assert_eq!(&v.policy[..2], &[0, 0]);
    // Two steps left, γ = 1: V_1 = (−½, 5); V_2(1) = 5 + ½·5 = 7.5,
    // V_2(0) = ½·(−1 + 5) + ½·(−½) = 1.75.
    let v = evaluate_policy(&m, &pi, &config(1.0, Some(2))).unwrap();
    assert_eq!(v.values, [1.75, 7.5, 0.0]);
    assert_eq!(v.values_at(1), Some(&[-0.5, 5.0, 0.0][..]));
    assert_eq!(v.values_at(0), Some(&[0.0, 0.0, 0.0][..]));
    assert_eq!(v.values_at(3), None);
    // Always staying: V(1) = 0 with γ = 1 (never ends, earns nothing); V(0) alike.
    let stay = deterministic_policy(&m, &[1, 1, 0]).unwrap();
    let v = evaluate_policy(&m, &stay, &config(1.0, None)).unwrap();
    assert_eq!(v.values, [0.0, 0.0, 0.0]);
}

#[test]
fn value_iteration_and_policy_iteration_agree() {
    for &(id, _) in qlab_envs::gridworld::presets() {
        let env = preset(id);
        for gamma in [1.0, 0.9] {
            let c = config(gamma, None);
            let vi = value_iteration(&env, &c).unwrap();
            let pi = policy_iteration(&env, &c).unwrap();
            for s in 0..env.n_states() {
                // θ = 1e-10 a sweep; the slowest preset (slippery cliff, γ = 1) needs a
                // few hundred sweeps, so the two may differ by ~1e-8 at most.
                assert!(
                    (vi.values[s] - pi.values[s]).abs() < 1e-7,
                    "{id} γ={gamma} V({s}): {} vs {}",
                    vi.values[s],
                    pi.values[s]
                );
            }
            // Each policy is greedy for the other's values (exact ties may differ).
            let q = action_values(&env, &vi.values, gamma);
            let na = env.n_actions();
            for s in (0..env.n_states()).filter(|&s| !env.is_terminal(s)) {
                let row = &q[s * na..(s + 1) * na];
                let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                for p in [&vi.policy, &pi.policy] {
                    assert!(best - row[p[s]] < 1e-7, "{id} γ={gamma} s={s}: {row:?}");
                }
            }
            assert!(pi.iterations < 50, "{id}: {} rounds", pi.iterations);
        }
    }
}

/// `python3 tools/dp_reference.py` (gymnasium 1.4.0, its own `env.unwrapped.P`, plain
/// Jacobi backward induction) prints:
///
/// ```text
/// FrozenLake-v1: time limit 100, terminal states [5, 7, 11, 12, 15]
///   horizon 100: start value 0.7441902878292689 (100 backups)
///   V_100 = [0.7441902878292689, 0.7178690459650033, 0.6992126364678164, 0.6895428419989043, 0.7499819254305871, 0.0, 0.47290224692678073, 0.0, 0.761139495116496, 0.776843602605386, 0.723580539061514, 0.0, 0.0, 0.8492056752385784, 0.9239776980449513, 0.0]
///   horizon inf: start value 0.8235294117647044 (1360 backups)
/// FrozenLake8x8-v1: time limit 200, terminal states [19, 29, 35, 41, 42, 46, 49, 52, 54, 59, 63]
///   horizon 200: start value 0.9132201502016288 (200 backups)
///   horizon inf: start value 1.0 (2359 backups)
/// CliffWalking-v1: time limit None, terminal states [47]
///   horizon 12: start value -12.0 (12 backups)
///   horizon 13: start value -13.0 (13 backups)
///   horizon inf: start value -13.0 (15 backups)
/// CliffWalkingSlippery-v1: time limit None, terminal states [47]
///   horizon 100: start value -63.013373291810275 (100 backups)
///   horizon 200: start value -64.70230760822342 (200 backups)
///   horizon inf: start value -64.70917590996208 (636 backups)
/// ```
#[test]
fn optimal_values_match_gymnasium_computed_independently() {
    const FROZEN_LAKE_V100: [f64; 16] = [
        0.7441902878292689,
        0.7178690459650033,
        0.6992126364678164,
        0.6895428419989043,
        0.7499819254305871,
        0.0,
        0.47290224692678073,
        0.0,
        0.761139495116496,
        0.776843602605386,
        0.723580539061514,
        0.0,
        0.0,
        0.8492056752385784,
        0.9239776980449513,
        0.0,
    ];
    let env = preset("FrozenLake-v1");
    let v = value_iteration(&env, &config(1.0, Some(100))).unwrap();
    for (s, (&got, &want)) in v.values.iter().zip(&FROZEN_LAKE_V100).enumerate() {
        // The same sums in the same order: equal but for the last bit.
        assert!((got - want).abs() <= 1e-15, "V_100({s}): {got} vs {want}");
    }
    assert_eq!(v.iterations, 100);
    assert_eq!(format!("{:.3}", start_value(&env, &v.values)), "0.744");

    // Finite horizons: backward induction is exact, so only rounding separates the two.
    for (id, h, want) in [
        ("FrozenLake8x8-v1", 200, 0.9132201502016288),
        ("CliffWalking-v1", 12, -12.0),
        ("CliffWalking-v1", 13, -13.0),
        ("CliffWalkingSlippery-v1", 100, -63.013373291810275),
        ("CliffWalkingSlippery-v1", 200, -64.70230760822342),
    ] {
        let env = preset(id);
        let v = value_iteration(&env, &config(1.0, Some(h))).unwrap();
        let got = start_value(&env, &v.values);
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{id} H={h}: {got}"
        );
    }
    // Infinite horizon: in-place sweeps stop at a change below θ = 1e-10; the error left
    // is at most θ times the expected number of steps still to go (under 1000 here).
    for (id, want) in [
        ("FrozenLake-v1", 0.8235294117647044),
        ("FrozenLake8x8-v1", 1.0),
        ("CliffWalking-v1", -13.0),
        ("CliffWalkingSlippery-v1", -64.70917590996208),
    ] {
        let env = preset(id);
        for solution in [
            value_iteration(&env, &config(1.0, None)).unwrap(),
            policy_iteration(&env, &config(1.0, None)).unwrap(),
        ] {
            let got = start_value(&env, &solution.values);
            assert!((got - want).abs() < 1e-7, "{id}: {got} vs {want}");
        }
    }
    // θ = 0: to the last bit. The fixed points of in-place and of Jacobi sweeps differ
    // only by rounding, a few ulps a step over a few hundred steps at most.
    for (id, want) in [
        ("FrozenLake-v1", 0.8235294117647044), // 14/17 but for the last digits
        ("FrozenLake8x8-v1", 1.0),
        ("CliffWalking-v1", -13.0),
        ("CliffWalkingSlippery-v1", -64.70917590996208),
    ] {
        let env = preset(id);
        let exact = DpConfig {
            theta: 0.0,
            ..DpConfig::default()
        };
        let got = start_value(&env, &value_iteration(&env, &exact).unwrap().values);
        assert!((got - want).abs() < 1e-12, "{id}: {got} vs {want}");
    }
}

#[test]
fn a_finite_horizon_cuts_off_the_reward_beyond_it() {
    // A corridor: the goal is 5 moves right of the start; reward 1 on reaching it.
    let corridor = GridWorld::from_map("S....G").unwrap();
    let (up, right) = (0, 1);
    for h in 1..=8u64 {
        let v = value_iteration(&corridor, &config(1.0, Some(h))).unwrap();
        let reached = h >= 5;
        assert_eq!(v.values[0], if reached { 1.0 } else { 0.0 }, "H={h}");
        // Out of reach, every action is worth 0, and with a step to spare undiscounted,
        // bumping up into the edge first is as good as going: ties go to the lowest index.
        assert_eq!(v.policy[0], if h == 5 { right } else { up }, "H={h}");
        for k in 0..=h {
            let vk = v.values_at(k).unwrap();
            for (s, &x) in vk.iter().enumerate().take(5) {
                let within = 5 - s as u64 <= k;
                assert_eq!(x, if within { 1.0 } else { 0.0 }, "H={h} V_{k}({s})");
            }
        }
        // V_6 = V_5: the values settle after the sixth backup.
        assert_eq!(v.iterations as u64, h.min(6));
    }
    let discounted = value_iteration(&corridor, &config(0.9, Some(1_000_000))).unwrap();
    assert!((discounted.values[0] - 0.9f64.powi(4)).abs() < 1e-15);
    // Discounted, going at once is strictly better.
    assert_eq!(discounted.policy[0], right);
    assert_eq!(discounted.iterations, 6);
    assert_eq!(discounted.values_by_steps_left.len(), 6);
    assert_eq!(
        discounted.values_at(1_000_000),
        Some(&discounted.values[..])
    );
    assert_eq!(discounted.values_at(5), Some(&discounted.values[..]));
    assert_ne!(discounted.values_at(4), Some(&discounted.values[..]));
}

#[test]
fn sweeps_that_never_settle_are_an_error_naming_gamma_and_the_cap() {
    let m = treadmill();
    let c = DpConfig {
        max_iterations: 1000,
        ..DpConfig::default()
    };
    let errors = [
        value_iteration(&m, &c).unwrap_err(),
        policy_iteration(&m, &c).unwrap_err(),
        evaluate_policy(&m, &uniform_random_policy(&m), &c).unwrap_err(),
    ];
    for e in errors {
        let msg = e.to_string();
        assert!(matches!(e, Error::InvalidConfig { ref key, .. } if key == "gamma"));
        assert!(
            msg.contains("invalid value 1 for `gamma`") && msg.contains("max_iterations = 1000"),
            "{msg}"
        );
    }
    // Discounted, the same model is fine: −1 / (1 − 0.5) = −2.
    let v = value_iteration(&m, &config(0.5, None)).unwrap();
    assert!((v.values[0] + 2.0).abs() < 1e-9);
    // So is any finite horizon: −1 a step.
    let v = value_iteration(&m, &config(1.0, Some(7))).unwrap();
    assert_eq!(v.values[0], -7.0);
}

#[test]
fn rms_error_ignores_terminal_and_unreachable_states() {
    let cliff = preset("CliffWalking-v1");
    let v = value_iteration(&cliff, &DpConfig::default())
        .unwrap()
        .values;
    let mut other = v.clone();
    other[47] = 1e6; // the goal: terminal
    // Entering a cliff cell sends the agent back: they are never occupied.
    other[37..47].fill(-1e6);
    assert_eq!(rms_error(&v, &other, &cliff), 0.0);
    other[0] += 2.0;
    // 48 cells, less 10 cliff cells and the goal: 37 states count.
    assert!((rms_error(&v, &other, &cliff) - (4.0f64 / 37.0).sqrt()).abs() < 1e-15);
    assert_eq!(rms_error(&other, &v, &cliff), rms_error(&v, &other, &cliff));

    let walls = GridWorld::from_map("S#\n.G").unwrap();
    let reachable = reachable_states(&walls);
    assert_eq!(reachable, [true, false, true, true]);
    assert_eq!(
        rms_error(&[0.0, 5.0, 1.0, 9.0], &[0.0; 4], &walls),
        0.5f64.sqrt()
    );
}

#[test]
fn start_value_averages_over_the_start_distribution() {
    let m = GridWorld::from_map("S.S\n.S.\n..G").unwrap();
    let values: Vec<f64> = (0..9).map(|s| s as f64).collect();
    assert_eq!(start_value(&m, &values), (0.0 + 2.0 + 4.0) / 3.0);
}

#[test]
fn configs_and_policies_out_of_range_are_named() {
    let m = go_or_stay();
    for (c, key) in [
        (config(1.5, None), "gamma"),
        (config(-0.1, None), "gamma"),
        (config(f64::NAN, None), "gamma"),
        (config(1.0, Some(0)), "horizon"),
        (
            DpConfig {
                theta: -1e-3,
                ..DpConfig::default()
            },
            "theta",
        ),
        (
            DpConfig {
                max_iterations: 0,
                ..DpConfig::default()
            },
            "max_iterations",
        ),
    ] {
        let e = value_iteration(&m, &c).unwrap_err();
        assert!(
            matches!(e, Error::InvalidConfig { key: ref k, .. } if k == key),
            "{e}"
        );
    }
    assert_eq!(
        config(1.5, None).validate().unwrap_err().to_string(),
        "invalid value 1.5 for `gamma`: expected a discount in [0, 1]"
    );
    let c = DpConfig::default();
    for bad in [
        vec![0.5; 5],
        vec![0.7, 0.7, 0.5, 0.5, 0.0, 0.0],
        vec![1.5, -0.5, 0.5, 0.5, 0.0, 0.0],
    ] {
        let e = evaluate_policy(&m, &bad, &c).unwrap_err();
        assert!(e.to_string().contains("`policy`"), "{e}");
    }
    // Rows of terminal states are not used.
    let ok = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    assert!(evaluate_policy(&m, &ok, &c).is_ok());
    assert!(deterministic_policy(&m, &[0, 2, 0]).is_err());
    assert!(deterministic_policy(&m, &[0, 1]).is_err());
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = DpConfig::default();
    assert_eq!(
        (c.gamma, c.theta, c.max_iterations, c.horizon),
        (1.0, 1e-10, 100_000, None)
    );
    assert!(c.validate().is_ok());
}
