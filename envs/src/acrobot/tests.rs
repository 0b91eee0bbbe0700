//! Acrobot against Gymnasium 1.4 trajectories, and its contract.

use super::*;
use crate::check_env;
use crate::wrappers::TimeLimit;

fn env_with(params: &Params) -> Acrobot {
    let mut config = AcrobotConfig::default();
    config.apply_params(ACROBOT_ID, params).unwrap();
    Acrobot::new(config)
}

/// One episode of a reference file (see [`crate::reference`]).
type Episode = crate::reference::Episode<usize, 4, 6>;

fn parse_reference(text: &str) -> Vec<Episode> {
    crate::reference::parse(
        text,
        "episode,t,action,s0,s1,s2,s3,s4,s5,reward,terminated,truncated",
    )
}

/// Replays reference episodes through `TimeLimit(Acrobot, 500)`, starting each from its
/// recorded state. Observations must agree within 1e-5 relative to `max(|value|, 1)`,
/// rewards and flags exactly, and the episode must be over after its last recorded step.
/// Returns the number of steps replayed and how many observations were bit-identical.
fn replay(text: &str, params: Params) -> (usize, usize) {
    let episodes = parse_reference(text);
    assert!(!episodes.is_empty());
    let mut env = TimeLimit::new(env_with(&params), MAX_EPISODE_STEPS);
    let (mut steps, mut identical) = (0, 0);
    for (e, (start, rows)) in episodes.iter().enumerate() {
        let _ = env.reset(Some(e as u64));
        env.set_state(start).unwrap();
        for (t, &(action, obs, reward, terminated, truncated)) in rows.iter().enumerate() {
            let step = env.step(action).unwrap();
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
        assert!(matches!(env.step(1), Err(Error::EpisodeEnded)));
    }
    (steps, identical)
}

// The reference files are written by `tools/gen_classic_control_reference.py` with gymnasium
// 1.4.0: `gymnasium.make("Acrobot-v1")`, `env.unwrapped.book_or_nips` set, the start state
// assigned to `env.unwrapped.state` after reset, then random actions or the swing-up policy.

/// Each reference file replays step for step, over the number of steps Gymnasium took: the
/// random episodes through the truncation at step 500 (and, from a fast start, through the
/// velocity clipping and angle wrapping), the swing-up episodes to their termination.
#[test]
fn matches_gymnasium_reference_episodes() {
    let nips = Params::new().with("book_or_nips", ParamValue::Str("nips".into()));
    let cases = [
        (
            "random actions, book dynamics",
            include_str!("../../tests/data/acrobot_book.csv"),
            Params::new(),
            503,
        ),
        (
            "random actions, nips dynamics",
            include_str!("../../tests/data/acrobot_nips.csv"),
            nips,
            503,
        ),
        (
            "swing-up to the target height",
            include_str!("../../tests/data/acrobot_swing_up.csv"),
            Params::new(),
            209,
        ),
    ];
    for (name, text, params, want) in cases {
        let (steps, identical) = replay(text, params);
        assert_eq!(steps, want, "{name}");
        // The same f64 operations in the same order with the same libm: on glibc every
        // observation is bit-identical. Elsewhere a last-bit difference in a sine may grow
        // along these chaotic trajectories, which the 1e-5 tolerance above bounds.
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert_eq!(identical, steps, "{name}: observations not bit-identical");
        }
    }
}

/// The two equations differ by the book's `m2·l1·lc2·θ̇1²·sin θ2` term in the numerator of
/// `θ̈2`: the same derivatives where it vanishes (θ̇1 = 0 or sin θ2 = 0), different elsewhere;
/// and whole steps differ once the chain moves.
#[test]
fn book_and_nips_differ_only_through_the_book_term() {
    for s in [[0.3, 0.5, 0.0, 1.0], [0.3, 0.0, 2.0, 1.0]] {
        assert_eq!(
            derivatives(s, 1.0, false),
            derivatives(s, 1.0, true),
            "{s:?}"
        );
    }
    let s = [0.3, 0.5, 2.0, 1.0];
    let (book, nips) = (derivatives(s, 1.0, false), derivatives(s, 1.0, true));
    assert_eq!(book[..2], nips[..2]);
    assert!(
        book[3] < nips[3],
        "the term is subtracted: {book:?} {nips:?}"
    );
    let step = |dynamics| {
        let mut env = Acrobot::new(AcrobotConfig {
            book_or_nips: dynamics,
            ..AcrobotConfig::default()
        });
        env.reset(Some(0));
        env.set_state(&s).unwrap();
        let _ = env.step(2).unwrap();
        env.state()
    };
    assert_ne!(step(AcrobotDynamics::Book), step(AcrobotDynamics::Nips));
}

#[test]
fn passes_the_checker_with_and_without_a_time_limit() {
    check_env(|| Acrobot::new(AcrobotConfig::default()), 3, 600).unwrap();
    check_env(
        || TimeLimit::new(Acrobot::new(AcrobotConfig::default()), 40),
        4,
        100,
    )
    .unwrap();
    let noisy = Params::new().with("torque_noise_max", ParamValue::Float(0.5));
    check_env(|| env_with(&noisy), 5, 300).unwrap();
}

#[test]
fn starts_near_hanging_with_f32_values_and_seeds_repeat() {
    let mut env = Acrobot::new(AcrobotConfig::default());
    let first = env.reset(Some(3)).obs;
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for _ in 0..500 {
        let obs = env.reset(None).obs;
        assert!(env.observation_space().as_box().unwrap().contains(&obs));
        for v in env.state() {
            assert!((-RESET_BOUND..RESET_BOUND).contains(&v), "{v}");
            assert_eq!(f64::from(v as f32), v, "the start state is float32");
            min = min.min(v);
            max = max.max(v);
        }
    }
    assert!(min < -0.099 && max > 0.099, "{min} {max}");
    assert_eq!(env.reset(Some(3)).obs, first);
    let mut other = Acrobot::new(AcrobotConfig::default());
    assert_eq!(other.reset(Some(3)).obs, first);
    assert_ne!(other.reset(Some(4)).obs, first);
}

/// Noise is drawn from the env's stream only when `torque_noise_max > 0`: without it the
/// stream stands still while stepping; with it each step draws, seeds repeat, and the
/// trajectory leaves the noiseless one.
#[test]
fn torque_noise_is_drawn_only_when_asked_for() {
    let mut quiet = Acrobot::new(AcrobotConfig::default());
    quiet.reset(Some(8));
    let before = quiet.rng_state();
    for _ in 0..20 {
        let _ = quiet.step(2).unwrap();
    }
    assert_eq!(quiet.rng_state(), before);

    let noisy = Params::new().with("torque_noise_max", ParamValue::Float(0.3));
    let run = |seed| {
        let mut env = env_with(&noisy);
        env.reset(Some(seed));
        let rng_before = env.rng_state();
        let obs: Vec<_> = (0..20).map(|_| env.step(2).unwrap().obs).collect();
        assert_ne!(env.rng_state(), rng_before);
        obs
    };
    assert_eq!(run(8), run(8));
    let mut clean = Acrobot::new(AcrobotConfig::default());
    clean.reset(Some(8));
    let clean_obs: Vec<_> = (0..20).map(|_| clean.step(2).unwrap().obs).collect();
    assert_ne!(run(8), clean_obs);
}

#[test]
fn terminates_above_the_line_and_then_refuses_to_step() {
    let mut env = Acrobot::new(AcrobotConfig::default());
    assert!(matches!(env.step(1), Err(Error::NotReset)));
    env.reset(Some(0));
    // Upright and nearly still: the tip is at height 2, above the line after one step.
    env.set_state(&[PI - 0.01, 0.0, 0.0, 0.0]).unwrap();
    let step = env.step(1).unwrap();
    assert!(step.terminated && !step.truncated && step.reward == 0.0);
    assert!(env.tip_height() > 1.0);
    assert!(matches!(env.step(1), Err(Error::EpisodeEnded)));
    // Hanging: -1 a step, no end.
    env.reset(None);
    env.set_state(&[0.0; 4]).unwrap();
    let step = env.step(1).unwrap();
    assert_eq!((step.reward, step.terminated), (-1.0, false));
    // At rest (up to the rounding of cos(-π/2) in the gravity terms).
    for (v, want) in step.obs.iter().zip([1.0, 0.0, 1.0, 0.0, 0.0, 0.0]) {
        assert!((v - want).abs() < 1e-12, "{:?}", step.obs);
    }
}

#[test]
fn bad_actions_states_and_params_are_one_line_errors() {
    let mut env = Acrobot::new(AcrobotConfig::default());
    assert!(env.set_state(&[0.0; 4]).is_err());
    env.reset(Some(1));
    let before = env.state();
    assert_eq!(
        env.step(3).unwrap_err().to_string(),
        "invalid action 3: not in the action space Discrete(3)"
    );
    for (bad, says) in [
        (&[0.0; 3][..], "takes 4 values"),
        (&[0.0, 0.0, 0.0, 0.0, 0.0], "takes 4 values"),
        (&[4.0, 0.0, 0.0, 0.0], "theta1 must be in"),
        (&[0.0, f64::NAN, 0.0, 0.0], "theta2 must be in"),
        (&[0.0, 0.0, 13.0, 0.0], "dtheta1 must be in"),
        (&[0.0, 0.0, 0.0, f64::NEG_INFINITY], "dtheta2 must be in"),
    ] {
        let e = env.set_state(bad).unwrap_err().to_string();
        assert!(e.contains(says) && !e.contains('\n'), "{e}");
    }
    assert_eq!(env.state(), before);
    assert!(env.set_state(&[PI, -PI, MAX_VEL_1, -MAX_VEL_2]).is_ok());

    for (key, value, says) in [
        (
            "book_or_nips",
            ParamValue::Str("paper".into()),
            "one of book, nips",
        ),
        ("torque_noise_max", ParamValue::Float(-0.1), "[0, 1000]"),
        ("torque_noise_max", ParamValue::Float(f64::NAN), "[0, 1000]"),
        ("max_episode_steps", ParamValue::Int(0), "≥ 1"),
        ("gravity", ParamValue::Float(1.0), "book_or_nips"),
    ] {
        let mut config = AcrobotConfig::default();
        let e = config
            .apply_params(ACROBOT_ID, &Params::new().with(key, value))
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("`{key}`")) && e.contains(says), "{e}");
        assert_eq!(config, AcrobotConfig::default());
    }
}

#[test]
fn rng_state_resumes_the_start_states() {
    let mut env = Acrobot::new(AcrobotConfig::default());
    assert_eq!(env.rng_state(), None);
    env.reset(Some(4));
    let saved = env.rng_state().unwrap();
    let ahead: Vec<_> = (0..5).map(|_| env.reset(None).obs).collect();
    let mut other = Acrobot::new(AcrobotConfig::default());
    other.set_rng_state(saved).unwrap();
    let again: Vec<_> = (0..5).map(|_| other.reset(None).obs).collect();
    assert_eq!(again, ahead);
    assert!(other.set_rng_state([0; 4]).is_err());
}

#[test]
fn renders_the_links_and_the_target_line() {
    let mut env = Acrobot::new(AcrobotConfig::default());
    env.reset(Some(0));
    env.set_state(&[0.0, 0.0, 0.0, 0.0]).unwrap();
    let text = env.render_ansi();
    assert!(text.contains("tip height=-2.000"), "{text}");
    let frame = env.render_rgb();
    assert_eq!((frame.height, frame.width), (200, 200));
    // Hanging straight down: link pixels below the pivot, the target line above it.
    assert_eq!(frame.pixel(150, 100), [0, 204, 204]);
    assert_eq!(frame.pixel(55, 10), [0, 0, 0]);
    assert_eq!(frame.pixel(30, 30), [255, 255, 255]);
}

/// `make` builds it with its parameters behind a 500-step time limit.
#[test]
fn make_registers_it_with_its_time_limit_and_parameters() {
    let crate::AnyEnv::Vector(mut env) = crate::make(ACROBOT_ID, &Params::new()).unwrap() else {
        panic!("{ACROBOT_ID} has discrete actions and vector observations");
    };
    assert_eq!(env.action_space().to_string(), "Discrete(3)");
    assert_eq!(
        env.observation_space().to_string(),
        "Box([-1, -1, -1, -1, -12.566371, -28.274334], [1, 1, 1, 1, 12.566371, 28.274334], (6,), float32)"
    );
    assert_eq!(env.reset(Some(0)).obs.len(), 6);
    env.set_state(&[0.0; 4]).unwrap();
    let steps = (0..1000)
        .take_while(|_| !env.step(1).unwrap().done())
        .count();
    assert_eq!(steps + 1, MAX_EPISODE_STEPS as usize);
    let short = Params::new()
        .with("max_episode_steps", ParamValue::Int(2))
        .with("book_or_nips", ParamValue::Str("nips".into()));
    let crate::AnyEnv::Vector(mut env) = crate::make(ACROBOT_ID, &short).unwrap() else {
        unreachable!()
    };
    env.reset(Some(0));
    assert!(!env.step(0).unwrap().done());
    assert!(env.step(0).unwrap().truncated);
    let bad = Params::new().with("torque_noise_max", ParamValue::Float(2000.0));
    let e = crate::make(ACROBOT_ID, &bad).err().unwrap().to_string();
    assert!(
        e.contains("`torque_noise_max`") && e.contains("2000"),
        "{e}"
    );
}
