//! Pendulum against Gymnasium 1.4 trajectories, and its contract.

use super::*;
use crate::check_env;
use crate::wrappers::TimeLimit;

fn env_with(g: f64) -> Pendulum {
    let mut config = PendulumConfig::default();
    config
        .apply_params(PENDULUM_ID, &Params::new().with("g", ParamValue::Float(g)))
        .unwrap();
    Pendulum::new(config)
}

/// One episode of a reference file (see [`crate::reference`]).
type Episode = crate::reference::Episode<f32, 2, 3>;

fn parse_reference(text: &str) -> Vec<Episode> {
    crate::reference::parse(
        text,
        "episode,t,action,s0,s1,s2,reward,terminated,truncated",
    )
}

/// Replays reference episodes through `TimeLimit(Pendulum, 200)`, starting each from its
/// recorded state, each torque as recorded: one past `[-2, 2]` is clipped by the env, as
/// Gymnasium clips it. Observations
/// must agree within 1e-5 relative to `max(|value|, 1)`, rewards and flags exactly. Returns
/// the number of steps replayed, of them how many had an out-of-range torque, and how many
/// observations were bit-identical.
fn replay(text: &str, g: f64) -> (usize, usize, usize) {
    let episodes = parse_reference(text);
    assert!(!episodes.is_empty());
    let mut env = TimeLimit::new(env_with(g), MAX_EPISODE_STEPS);
    let (mut steps, mut clipped, mut identical) = (0, 0, 0);
    for (e, (start, rows)) in episodes.iter().enumerate() {
        let _ = env.reset(Some(e as u64));
        env.set_state(start).unwrap();
        for (t, &(u, obs, reward, terminated, truncated)) in rows.iter().enumerate() {
            // Out-of-range torques go in as recorded: the env clips them, as Gymnasium does.
            clipped += usize::from(u.abs() > MAX_TORQUE);
            let step = env.step([u]).unwrap();
            for (ours, theirs) in step.obs.iter().zip(&obs) {
                assert!(
                    (ours - theirs).abs() <= 1e-5 * theirs.abs().max(1.0),
                    "episode {e} step {}: obs {:?}, Gymnasium {:?}",
                    t + 1,
                    step.obs,
                    obs
                );
            }
            assert_eq!(
                (step.reward, step.terminated, step.truncated),
                (reward, terminated, truncated),
                "episode {e} step {}",
                t + 1
            );
            identical += usize::from(step.obs == obs);
            steps += 1;
        }
        assert!(matches!(env.step([0.0]), Err(Error::EpisodeEnded)));
    }
    (steps, clipped, identical)
}

// The reference files are written by `tools/gen_classic_control_reference.py` with gymnasium
// 1.4.0: `gymnasium.make("Pendulum-v1", g=...)`, the start state assigned to
// `env.unwrapped.state` after reset, then fixed torque sequences, each episode to the
// truncation at step 200.

/// Each reference file replays step for step through the truncation; the rewards, which
/// mix `f64` and Gymnasium's `float32` torque terms, agree exactly.
#[test]
fn matches_gymnasium_reference_episodes() {
    let cases = [
        (
            "random torques",
            include_str!("../../tests/data/pendulum_random.csv"),
            10.0,
        ),
        (
            "out-of-range torques, clipped",
            include_str!("../../tests/data/pendulum_clipped.csv"),
            10.0,
        ),
        (
            "damping controller, g = 9.81",
            include_str!("../../tests/data/pendulum_g9_81.csv"),
            9.81,
        ),
    ];
    for (name, text, g) in cases {
        let (steps, clipped, identical) = replay(text, g);
        assert_eq!(steps, 400, "{name}");
        if name.contains("clipped") {
            assert!(clipped > 200, "{name}: only {clipped} torques out of range");
        } else {
            assert_eq!(clipped, 0, "{name}");
        }
        // Same f64 operations, same libm: bit-identical on glibc.
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert_eq!(identical, steps, "{name}: observations not bit-identical");
        }
    }
}

/// Against NumPy: `((x + np.pi) % (2 * np.pi)) - np.pi` for each `x`.
#[test]
fn angle_normalize_matches_numpy() {
    let reference = [
        (0.0, 0.0),
        (PI, -PI),
        (-PI, -PI),
        (3.0 * PI, -PI),
        (40.0, 2.300888156922486),
        (-40.0, -2.300888156922479),
        (1e-17, 0.0),
        (7.0, 0.7168146928204138),
        (-7.0, -0.7168146928204138),
        (1000.5, 1.4735361584457785),
        (-3.5 * PI, std::f64::consts::FRAC_PI_2),
    ];
    for (x, want) in reference {
        assert_eq!(angle_normalize(x), want, "{x}");
    }
}

/// Hand-computed from the equations: from upright with θ̇ = 0 and u = 2, the velocity is
/// `3·2·0.05 = 0.3` (in `f32` arithmetic `3·u` is exact), the angle `0.3·0.05 = 0.015`, and
/// the cost only the torque's `0.001·4` (rounded to `f32`).
#[test]
fn velocity_first_then_angle_and_the_cost_of_the_old_state() {
    let mut env = Pendulum::new(PendulumConfig::default());
    env.reset(Some(0));
    env.set_state(&[0.0, 0.0]).unwrap();
    let step = env.step([2.0]).unwrap();
    assert_eq!(env.state(), [6.0 * DT * DT, 6.0 * DT]);
    assert_eq!(step.reward, -f64::from(0.001_f32 * 4.0));
    // Clipped at 8 rad/s.
    env.set_state(&[PI / 2.0, 7.9]).unwrap();
    let step = env.step([2.0]).unwrap();
    assert_eq!(env.state()[1], MAX_SPEED);
    assert_eq!(step.obs[2], 8.0);
}

#[test]
fn passes_the_checker_with_and_without_a_time_limit() {
    check_env(|| Pendulum::new(PendulumConfig::default()), 3, 300).unwrap();
    check_env(
        || TimeLimit::new(Pendulum::new(PendulumConfig::default()), 30),
        4,
        100,
    )
    .unwrap();
    check_env(|| env_with(0.0), 5, 100).unwrap();
}

#[test]
fn starts_anywhere_with_a_small_velocity_and_seeds_repeat() {
    let mut env = Pendulum::new(PendulumConfig::default());
    let first = env.reset(Some(3)).obs;
    let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for _ in 0..2000 {
        let obs = env.reset(None).obs;
        assert!(env.observation_space().as_box().unwrap().contains(&obs));
        let [theta, theta_dot] = env.state();
        assert!((-PI..PI).contains(&theta) && (-1.0..1.0).contains(&theta_dot));
        for (i, v) in [theta, theta_dot].into_iter().enumerate() {
            min[i] = min[i].min(v);
            max[i] = max[i].max(v);
        }
    }
    assert!(min[0] < -3.1 && max[0] > 3.1 && min[1] < -0.99 && max[1] > 0.99);
    assert_eq!(env.reset(Some(3)).obs, first);
    assert_ne!(env.reset(Some(4)).obs, first);
}

#[test]
fn bad_actions_states_and_params_are_one_line_errors() {
    let mut env = Pendulum::new(PendulumConfig::default());
    assert!(matches!(env.step([0.0]), Err(Error::NotReset)));
    assert!(env.set_state(&[0.0, 0.0]).is_err());
    env.reset(Some(1));
    let before = env.state();
    for bad in [[f32::NAN], [f32::INFINITY], [f32::NEG_INFINITY]] {
        let e = env.step(bad).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("invalid action {bad:?}: not in the action space Box(-2, 2, (1,), float32)")
        );
    }
    for bad in [&[0.0][..], &[0.0, 0.0, 0.0], &[f64::NAN, 0.0], &[0.0, 8.5]] {
        let e = env.set_state(bad).unwrap_err().to_string();
        assert!(e.contains("takes 2 values") && !e.contains('\n'), "{e}");
    }
    assert_eq!(env.state(), before);
    assert!(env.set_state(&[123.0, -8.0]).is_ok());

    for (key, value, says) in [
        ("g", ParamValue::Float(-1.0), "[0, 1000]"),
        ("g", ParamValue::Float(f64::INFINITY), "[0, 1000]"),
        ("g", ParamValue::Str("ten".into()), "a number"),
        ("max_episode_steps", ParamValue::Int(0), "≥ 1"),
        ("max_torque", ParamValue::Float(1.0), "g, max_episode_steps"),
    ] {
        let mut config = PendulumConfig::default();
        let e = config
            .apply_params(PENDULUM_ID, &Params::new().with(key, value))
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("`{key}`")) && e.contains(says), "{e}");
        assert_eq!(config, PendulumConfig::default());
    }
}

#[test]
fn rng_state_resumes_the_start_states() {
    let mut env = Pendulum::new(PendulumConfig::default());
    assert_eq!(env.rng_state(), None);
    env.reset(Some(4));
    let saved = env.rng_state().unwrap();
    let ahead: Vec<_> = (0..5).map(|_| env.reset(None).obs).collect();
    let mut other = Pendulum::new(PendulumConfig::default());
    other.set_rng_state(saved).unwrap();
    let again: Vec<_> = (0..5).map(|_| other.reset(None).obs).collect();
    assert_eq!(again, ahead);
    assert!(other.set_rng_state([0; 4]).is_err());
}

#[test]
fn renders_the_rod() {
    let mut env = Pendulum::new(PendulumConfig::default());
    env.reset(Some(0));
    env.set_state(&[0.0, 0.0]).unwrap();
    assert!(env.render_ansi().starts_with("theta=+0.000"));
    let frame = env.render_rgb();
    assert_eq!((frame.height, frame.width), (200, 200));
    // Upright: rod pixels above the pivot, none below.
    assert_eq!(frame.pixel(40, 100), [204, 77, 77]);
    assert_eq!(frame.pixel(160, 100), [255, 255, 255]);
    env.set_state(&[PI / 2.0, 0.0]).unwrap();
    // A quarter turn counter-clockwise: the rod points left.
    assert_eq!(env.render_rgb().pixel(100, 40), [204, 77, 77]);
}

/// `make` builds it with `g` behind a 200-step time limit; the type-erased env takes vector
/// actions of length 1 only.
#[test]
fn make_registers_it_with_its_time_limit_and_parameters() {
    let crate::AnyEnv::Continuous(mut env) = crate::make(PENDULUM_ID, &Params::new()).unwrap()
    else {
        panic!("{PENDULUM_ID} has Box actions");
    };
    assert_eq!(env.action_space().to_string(), "Box(-2, 2, (1,), float32)");
    assert_eq!(
        env.observation_space().to_string(),
        "Box([-1, -1, -8], [1, 1, 8], (3,), float32)"
    );
    env.reset(Some(0));
    for bad in [vec![], vec![0.0, 0.0], vec![f32::NAN]] {
        let e = env.step(bad.clone()).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("invalid action {bad:?}: not in the action space Box(-2, 2, (1,), float32)")
        );
    }
    let steps = (0..1000)
        .take_while(|_| !env.step(vec![0.5]).unwrap().done())
        .count();
    assert_eq!(steps + 1, MAX_EPISODE_STEPS as usize);
    // g reaches the dynamics: from horizontal at rest without torque, θ̇ = 1.5·g·DT.
    let params = Params::new().with("g", ParamValue::Float(9.81));
    let crate::AnyEnv::Continuous(mut env) = crate::make(PENDULUM_ID, &params).unwrap() else {
        unreachable!()
    };
    env.reset(Some(0));
    env.set_state(&[PI / 2.0, 0.0]).unwrap();
    let obs = env.step(vec![0.0]).unwrap().obs;
    assert_eq!(obs[2], (3.0 * 9.81 / 2.0 * DT) as f32);
}

/// Gymnasium clips a torque past ±2 to ±2 before using it (`np.clip(u, -max_torque,
/// max_torque)`): a step with 5 equals a step with 2, from the same state, rewards included.
#[test]
fn an_out_of_range_torque_is_clipped_as_gymnasium_clips_it() {
    let mut a = Pendulum::new(PendulumConfig::default());
    let mut b = Pendulum::new(PendulumConfig::default());
    for (u, clipped) in [(5.0, 2.0), (-2.01, -2.0), (f32::MAX, 2.0)] {
        a.reset(Some(7));
        b.reset(Some(7));
        let (x, y) = (a.step([u]).unwrap(), b.step([clipped]).unwrap());
        assert_eq!(
            (x.obs, x.reward.to_bits()),
            (y.obs, y.reward.to_bits()),
            "{u}"
        );
    }
    assert!(a.clips_actions());
}
