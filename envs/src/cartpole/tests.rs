//! CartPole against Gymnasium 1.4 trajectories, and its contract.

use super::*;
use crate::wrappers::TimeLimit;

fn env_with(params: &Params) -> CartPole {
    let mut config = CartPoleConfig::default();
    config.apply_params("CartPole-v1", params).unwrap();
    CartPole::new(config)
}

/// One episode of a reference file (see [`crate::reference`]).
type Episode = crate::reference::Episode<usize, 4, 4>;

fn parse_reference(text: &str) -> Vec<Episode> {
    crate::reference::parse(
        text,
        "episode,t,action,x,x_dot,theta,theta_dot,reward,terminated,truncated",
    )
}

/// Replays reference episodes through `TimeLimit(CartPole, 500)`, starting each from its
/// recorded state. Observations must agree to 1e-5 — and in fact agree bit for bit, which
/// is checked too: the arithmetic is Gymnasium's, and our sine and cosine are exact enough
/// that no difference survives the rounding to `f32` on these trajectories. Rewards and
/// flags must agree exactly, and the episode must be over after its last recorded step.
fn replay(text: &str, params: Params) -> usize {
    let episodes = parse_reference(text);
    assert!(!episodes.is_empty());
    let mut env = TimeLimit::new(env_with(&params), 500);
    let mut steps = 0;
    for (e, (start, rows)) in episodes.iter().enumerate() {
        let _ = env.reset(Some(e as u64));
        env.set_state(start).unwrap();
        for (t, &(action, obs, reward, terminated, truncated)) in rows.iter().enumerate() {
            let step = env.step(action).unwrap();
            for (ours, theirs) in step.obs.iter().zip(&obs) {
                assert!(
                    (ours - theirs).abs() <= 1e-5,
                    "episode {e} step {}: obs {:?}, Gymnasium {:?}",
                    t + 1,
                    step.obs,
                    obs
                );
            }
            assert_eq!(
                step.obs,
                obs,
                "episode {e} step {}: not bit-identical",
                t + 1
            );
            assert_eq!(
                (step.reward, step.terminated, step.truncated),
                (reward, terminated, truncated),
                "episode {e} step {}",
                t + 1
            );
            steps += 1;
        }
        assert!(matches!(env.step(0), Err(Error::EpisodeEnded)));
    }
    steps
}

fn integrator(name: &str) -> Params {
    Params::new().with("kinematics_integrator", ParamValue::Str(name.into()))
}

// The reference files are written by `tools/gen_cartpole_reference.py` with gymnasium
// 1.4.0: `gymnasium.make("CartPole-v1", ...)`, start state assigned to
// `env.unwrapped.state` after reset, fixed action sequences.

/// Each reference file replays step for step, over the number of steps Gymnasium took.
#[test]
fn matches_gymnasium_reference_episodes() {
    let sutton_barto = Params::new().with("sutton_barto_reward", ParamValue::Bool(true));
    let cases = [
        (
            "random episodes, euler",
            include_str!("../../tests/data/cartpole_euler.csv"),
            Params::new(),
            137,
        ),
        (
            "random episodes, semi-implicit euler",
            include_str!("../../tests/data/cartpole_semi_implicit_euler.csv"),
            integrator("semi_implicit_euler"),
            69,
        ),
        (
            "Sutton & Barto reward",
            include_str!("../../tests/data/cartpole_sutton_barto.csv"),
            sutton_barto,
            32,
        ),
        (
            "balanced to the time limit, euler",
            include_str!("../../tests/data/cartpole_balanced_euler.csv"),
            Params::new(),
            514,
        ),
        (
            "balanced to the time limit, semi-implicit euler",
            include_str!("../../tests/data/cartpole_balanced_semi_implicit_euler.csv"),
            integrator("semi_implicit_euler"),
            500,
        ),
    ];
    for (name, text, params, steps) in cases {
        assert_eq!(replay(text, params), steps, "{name}");
    }
}

fn ulps(a: f64, b: f64) -> u64 {
    (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
}

#[test]
fn polynomial_sine_and_cosine_are_within_one_ulp() {
    // Correctly rounded values from mpmath at 200 bits:
    // `float(mpmath.sin(mpmath.mpf(x))), float(mpmath.cos(mpmath.mpf(x)))`.
    let reference = [
        (0.0, 0.0, 1.0),
        (1e-09, 1e-09, 1.0),
        (-3.5e-05, -3.499999999285416e-05, 0.9999999993875),
        (0.001, 0.0009999998333333417, 0.9999995000000417),
        (-0.0137, -0.01369957144518846, 0.9999061564678048),
        (0.05, 0.04997916927067833, 0.9987502603949663),
        (-0.1, -0.09983341664682815, 0.9950041652780258),
        (0.2, 0.19866933079506122, 0.9800665778412416),
        (0.20943951023931953, 0.20791169081775931, 0.9781476007338057),
        (-0.25, -0.24740395925452294, 0.9689124217106447),
        (0.3, 0.29552020666133955, 0.955336489125606),
        (-0.5, -0.479425538604203, 0.8775825618903728),
        (0.7, 0.644217687237691, 0.7648421872844885),
        (0.78, 0.7032794192004101, 0.7109135380122773),
    ];
    for (x, sin, cos) in reference {
        let (s, c) = sin_cos(x);
        assert!(ulps(s, sin) <= 1 && ulps(c, cos) <= 1, "{x}: ({s}, {c})");
    }
    // Beyond pi/4 the library is used.
    assert_eq!(sin_cos(1.0), 1.0f64.sin_cos());
    assert_eq!(sin_cos(-100.0), (-100.0f64).sin_cos());
}

#[test]
fn seeded_reset_is_deterministic_and_none_continues_the_stream() {
    let mut a = CartPole::new(CartPoleConfig::default());
    let mut b = CartPole::new(CartPoleConfig::default());
    let first = a.reset(Some(3)).obs;
    assert_eq!(b.reset(Some(3)).obs, first);
    assert_eq!(a.state(), b.state());
    for action in [0, 1, 1, 0, 1] {
        assert_eq!(a.step(action).unwrap(), b.step(action).unwrap());
    }
    let second = a.reset(None).obs;
    assert_ne!(second, first);
    assert_eq!(b.reset(None).obs, second);
    assert_ne!(a.reset(Some(4)).obs, first);
    assert_eq!(a.reset(Some(3)).obs, first);
}

#[test]
fn unseeded_envs_draw_different_start_states() {
    let mut a = CartPole::new(CartPoleConfig::default());
    let mut b = CartPole::new(CartPoleConfig::default());
    assert_ne!(a.reset(None).obs, b.reset(None).obs);
}

#[test]
fn reset_states_lie_within_the_bounds() {
    for (low, high) in [(-0.05, 0.05), (-0.2, 0.1), (0.01, 0.02)] {
        let params = Params::new()
            .with("reset_low", ParamValue::Float(low))
            .with("reset_high", ParamValue::Float(high));
        let mut env = env_with(&params);
        let _ = env.reset(Some(9));
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for _ in 0..500 {
            let obs = env.reset(None).obs;
            assert!(env.observation_space().as_box().unwrap().contains(&obs));
            for v in env.state() {
                assert!(low <= v && v < high, "{v} not in [{low}, {high})");
                min = min.min(v);
                max = max.max(v);
            }
        }
        // 2000 uniform draws come close to both ends.
        let width = high - low;
        assert!(min < low + 0.01 * width && max > high - 0.01 * width);
    }
    let mut fixed = env_with(
        &Params::new()
            .with("reset_low", ParamValue::Float(0.0))
            .with("reset_high", ParamValue::Float(0.0)),
    );
    assert_eq!(fixed.reset(Some(1)).obs, [0.0; 4]);
}

#[test]
fn step_before_reset_after_end_and_with_a_bad_action() {
    let mut env = CartPole::new(CartPoleConfig::default());
    assert!(matches!(env.step(0), Err(Error::NotReset)));
    let _ = env.reset(Some(0));
    let before = env.state();
    let err = env.step(2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid action 2: not in the action space Discrete(2)"
    );
    assert_eq!(env.state(), before);
    let mut terminated = false;
    for _ in 0..200 {
        let step = env.step(0).unwrap();
        assert!(!step.truncated);
        if step.terminated {
            terminated = true;
            break;
        }
    }
    assert!(terminated, "pushing left forever must drop the pole");
    let ended = env.state();
    assert!(matches!(env.step(0), Err(Error::EpisodeEnded)));
    assert_eq!(env.state(), ended);
    let _ = env.reset(None);
    assert!(env.step(0).is_ok());
}

#[test]
fn rewards_are_one_per_step_including_the_last() {
    let mut env = CartPole::new(CartPoleConfig::default());
    let _ = env.reset(Some(5));
    loop {
        let step = env.step(1).unwrap();
        assert_eq!(step.reward, 1.0);
        if step.terminated {
            break;
        }
    }
}

#[test]
fn spaces_match_gymnasium() {
    let env = CartPole::new(CartPoleConfig::default());
    assert_eq!(env.action_space(), &Space::discrete(2));
    let b = env.observation_space().as_box().unwrap();
    // `gymnasium.make("CartPole-v1").observation_space.high.tolist()`.
    let high = [
        4.800000190734863,
        f64::INFINITY,
        0.41887903213500977,
        f64::INFINITY,
    ];
    for (i, h) in high.into_iter().enumerate() {
        assert_eq!(b.high()[i] as f64, h);
        assert_eq!(b.low()[i] as f64, -h);
    }
    assert_eq!(
        env.observation_space().to_string(),
        "Box([-4.8, -inf, -0.41887903, -inf], [4.8, inf, 0.41887903, inf], (4,), float32)"
    );
    // `12 * 2 * math.pi / 360` in Python.
    assert_eq!(THETA_THRESHOLD, 0.20943951023931953);
}

#[test]
fn params_apply_and_reject_bad_values() {
    let mut c = CartPoleConfig::default();
    let p = Params::new()
        .with(
            "kinematics_integrator",
            ParamValue::Str("semi_implicit_euler".into()),
        )
        .with("sutton_barto_reward", ParamValue::Bool(true))
        .with("reset_low", ParamValue::Float(-0.1))
        .with("reset_high", ParamValue::Int(0))
        .with("max_episode_steps", ParamValue::Int(200));
    c.apply_params("CartPole-v1", &p).unwrap();
    assert_eq!(
        c,
        CartPoleConfig {
            kinematics_integrator: KinematicsIntegrator::SemiImplicitEuler,
            sutton_barto_reward: true,
            reset_low: -0.1,
            reset_high: 0.0,
            max_episode_steps: 200,
        }
    );

    let err = |p: Params| {
        let mut c = CartPoleConfig::default();
        let e = c.apply_params("CartPole-v1", &p).unwrap_err().to_string();
        assert_eq!(
            c,
            CartPoleConfig::default(),
            "config changed by a failed apply"
        );
        e
    };
    let e = err(Params::new().with("gravity", ParamValue::Float(1.0)));
    assert!(
        e.contains("`gravity`") && e.contains("kinematics_integrator"),
        "{e}"
    );
    assert_eq!(
        err(Params::new().with("kinematics_integrator", ParamValue::Str("rk4".into()))),
        "invalid value \"rk4\" for `kinematics_integrator`: expected one of euler, \
         semi_implicit_euler"
    );
    assert_eq!(
        err(Params::new().with("sutton_barto_reward", ParamValue::Int(1))),
        "invalid value 1 for `sutton_barto_reward`: expected a boolean"
    );
    assert_eq!(
        err(Params::new().with("reset_high", ParamValue::Float(0.5))),
        "invalid value 0.5 for `reset_high`: expected a finite number in [-0.2, 0.2]"
    );
    assert_eq!(
        err(Params::new().with("reset_low", ParamValue::Float(f64::NAN))),
        "invalid value NaN for `reset_low`: expected a finite number in [-0.2, 0.2]"
    );
    assert_eq!(
        err(Params::new().with("reset_low", ParamValue::Float(0.06))),
        "invalid value 0.06 for `reset_low`: expected reset_low ≤ reset_high \
         (reset_low = 0.06, reset_high = 0.05)"
    );
    assert_eq!(
        err(Params::new().with("reset_high", ParamValue::Float(-0.06))),
        "invalid value -0.06 for `reset_high`: expected reset_low ≤ reset_high \
         (reset_low = -0.05, reset_high = -0.06)"
    );
    for bad in [
        ParamValue::Int(0),
        ParamValue::Int(-3),
        ParamValue::Float(10.0),
    ] {
        let shown = bad.to_string();
        let e = err(Params::new().with("max_episode_steps", bad));
        assert!(e.starts_with(&format!("invalid value {shown} for `max_episode_steps`")));
    }
}

#[test]
fn set_state_checks_its_input() {
    let mut env = CartPole::new(CartPoleConfig::default());
    assert_eq!(
        env.set_state(&[0.0; 4]).unwrap_err().to_string(),
        "invalid state: CartPole takes a state only after reset"
    );
    let _ = env.reset(Some(0));
    assert_eq!(
        env.set_state(&[0.0; 3]).unwrap_err().to_string(),
        "invalid state: CartPole takes 4 values [x, x_dot, theta, theta_dot], got 3"
    );
    assert_eq!(
        env.set_state(&[0.0, 0.0, f64::INFINITY, 0.0])
            .unwrap_err()
            .to_string(),
        "invalid state: theta must be finite, got inf"
    );
    env.set_state(&[0.1, -0.2, 0.03, 0.4]).unwrap();
    assert_eq!(env.state(), [0.1, -0.2, 0.03, 0.4]);
    // A state past the threshold terminates on the next step.
    env.set_state(&[2.5, 0.0, 0.0, 0.0]).unwrap();
    assert!(env.step(0).unwrap().terminated);
}

#[test]
fn observations_stay_in_the_space_over_random_episodes() {
    let mut env = CartPole::new(CartPoleConfig::default());
    let mut rng = EnvRng::seed_from_u64(11);
    let space = env.observation_space().as_box().unwrap().clone();
    for e in 0..50 {
        assert!(space.contains(&env.reset(Some(e)).obs));
        loop {
            let step = env.step(rng.below(2)).unwrap();
            assert!(space.contains(&step.obs), "{:?}", step.obs);
            if step.terminated {
                break;
            }
        }
    }
}

#[test]
fn no_velocity_variant_hides_the_velocities() {
    let mut full = CartPole::new(CartPoleConfig::default());
    let mut partial = CartPoleNoVelocity::new(CartPoleConfig::default());
    let f = full.reset(Some(8)).obs;
    assert_eq!(partial.reset(Some(8)).obs, [f[0], f[2]]);
    for action in [1, 1, 0, 1, 0, 0, 0, 1] {
        let a = full.step(action).unwrap();
        let b = partial.step(action).unwrap();
        assert_eq!(b.obs, [a.obs[0], a.obs[2]]);
        assert_eq!((b.reward, b.terminated), (a.reward, a.terminated));
    }
    assert_eq!(partial.state(), full.state());
    partial.set_state(&[0.5, 1.0, -0.1, 2.0]).unwrap();
    assert_eq!(partial.state(), [0.5, 1.0, -0.1, 2.0]);
    assert_eq!(
        partial.observation_space().to_string(),
        "Box([-4.8, -0.41887903], [4.8, 0.41887903], (2,), float32)"
    );
    assert!(matches!(partial.step(2), Err(Error::InvalidAction { .. })));
    assert_eq!(partial.name(), "CartPoleNoVelocity-v1");
}

#[test]
fn rgb_frame_shows_track_cart_pole_and_axle() {
    let mut env = CartPole::new(CartPoleConfig::default());
    let _ = env.reset(Some(0));
    env.set_state(&[0.0, 0.0, 0.0, 0.0]).unwrap();
    let f = env.render_rgb();
    assert_eq!((f.height, f.width, f.data.len()), (400, 600, 400 * 600 * 3));
    let white = [255, 255, 255];
    let (black, pole, axle) = ([0, 0, 0], [202, 152, 101], [129, 132, 203]);
    // Rows count down from the top: height 100 px above the bottom is row 299.
    assert_eq!(f.pixel(299, 0), black, "track");
    assert_eq!(f.pixel(299, 599), black, "track");
    assert_eq!(f.pixel(0, 0), white);
    assert_eq!(f.pixel(310, 280), black, "cart body");
    assert_eq!(f.pixel(310, 330), white, "right of the cart");
    assert_eq!(f.pixel(292, 300), axle, "axle at height 107");
    assert_eq!(f.pixel(200, 300), pole, "upright pole above the axle");
    assert_eq!(f.pixel(200, 310), white, "beside the upright pole");
    assert_eq!(
        f.pixel(170, 300),
        white,
        "above the pole's tip at height 227.5"
    );

    // Cart 1 m to the right (125 px), pole leaning right by 0.3 rad.
    env.set_state(&[1.0, 0.0, 0.3, 0.0]).unwrap();
    let f = env.render_rgb();
    assert_eq!(f.pixel(310, 425), black, "cart moved right");
    assert_eq!(f.pixel(310, 300), white, "old cart position");
    // A point 80 px along the pole from the axle (425, 107.5).
    let (x, y) = (425.0 + 80.0 * 0.3f64.sin(), 107.5 + 80.0 * 0.3f64.cos());
    assert_eq!(f.pixel(399 - y.round() as usize, x.round() as usize), pole);
    assert_eq!(f.pixel(399 - y.round() as usize, 425), white, "not upright");

    // Far off the screen: nothing but the track, and no panic.
    env.set_state(&[1e9, 0.0, 1.0, 0.0]).unwrap();
    let f = env.render_rgb();
    assert!((0..400).all(|r| f.pixel(r, 300) == if r == 299 { black } else { white }));
}

#[test]
fn ansi_shows_the_state_and_the_cart() {
    let mut env = CartPole::new(CartPoleConfig::default());
    let _ = env.reset(Some(0));
    env.set_state(&[0.0, 0.5, 0.1, -1.25]).unwrap();
    let text = env.render_ansi();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "x=+0.0000 x_dot=+0.5000 theta=+0.1000 theta_dot=-1.2500"
    );
    assert_eq!(lines[1].len(), 51);
    assert_eq!(lines[1].find("[/]"), Some(24));
    env.set_state(&[-2.4, 0.0, -0.1, 0.0]).unwrap();
    assert!(
        env.render_ansi()
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("|[\\]--")
    );
    env.set_state(&[2.4, 0.0, 0.0, 0.0]).unwrap();
    assert!(env.render_ansi().ends_with("--[|]|"));
}

#[test]
fn rng_state_is_none_until_a_reset_and_then_replays_the_start_states() {
    let mut env = CartPole::new(CartPoleConfig::default());
    assert_eq!(env.rng_state(), None, "never reset: no stream yet");
    env.reset(Some(8));
    let saved = env.rng_state().unwrap();
    let starts: Vec<[f32; 4]> = (0..4).map(|_| env.reset(None).obs).collect();
    env.set_rng_state(saved).unwrap();
    let again: Vec<[f32; 4]> = (0..4).map(|_| env.reset(None).obs).collect();
    assert_eq!(again, starts);
    // Given before the first reset, the state is what that reset draws from.
    let mut fresh = CartPole::new(CartPoleConfig::default());
    fresh.set_rng_state(saved).unwrap();
    assert_eq!(fresh.reset(None).obs, starts[0]);
    assert!(fresh.set_rng_state([0; 4]).is_err());
    // The velocity-free form draws the same start states from the same stream.
    let mut hidden = CartPoleNoVelocity::new(CartPoleConfig::default());
    assert_eq!(hidden.rng_state(), None);
    hidden.set_rng_state(saved).unwrap();
    assert_eq!(hidden.rng_state(), Some(saved));
    let obs = hidden.reset(None).obs;
    assert_eq!(obs, [starts[0][0], starts[0][2]]);
    let e = hidden.set_rng_state([0; 4]).unwrap_err().to_string();
    assert!(e.contains("CartPoleNoVelocity-v1"), "{e}");
}
