//! Both mountain cars against Gymnasium 1.4 trajectories, and their contract.

use super::*;
use crate::wrappers::TimeLimit;
use crate::{Env, ParamValue, check_env};

/// One episode of a reference file (see [`crate::reference`]).
type Episode = crate::reference::Episode<String, 2, 2>;

fn parse_reference(text: &str) -> Vec<Episode> {
    crate::reference::parse(
        text,
        "episode,t,action,position,velocity,reward,terminated,truncated",
    )
}

/// Replays reference episodes through `env` (wrapped in its registered time limit), each from
/// its recorded start state, with `act` turning the written action into the env's. The
/// observations must agree within 1e-5 relative, and in fact bit for bit, which is checked
/// too; rewards and flags exactly; the episode must be over after its last recorded step.
/// Returns the number of steps replayed.
fn replay<E>(text: &str, mut env: TimeLimit<E>, act: impl Fn(&str) -> E::Action) -> usize
where
    E: Env<Obs = [f32; 2]>,
{
    let episodes = parse_reference(text);
    assert!(!episodes.is_empty());
    let mut steps = 0;
    for (e, (start, rows)) in episodes.iter().enumerate() {
        env.reset(Some(e as u64));
        env.set_state(start).unwrap();
        let mut last = None;
        for (t, (action, obs, reward, terminated, truncated)) in rows.iter().enumerate() {
            let at = format!("episode {e} step {}", t + 1);
            let action = act(action);
            last = Some(action.clone());
            let step = env.step(action).unwrap();
            for (ours, theirs) in step.obs.iter().zip(obs) {
                assert!(
                    (ours - theirs).abs() <= 1e-5 * theirs.abs(),
                    "{at}: obs {:?}, Gymnasium {obs:?}",
                    step.obs
                );
            }
            assert_eq!(step.obs, *obs, "{at}: not bit-identical");
            assert_eq!(
                (step.reward, step.terminated, step.truncated),
                (*reward, *terminated, *truncated),
                "{at}"
            );
            steps += 1;
        }
        assert!(matches!(env.step(last.unwrap()), Err(Error::EpisodeEnded)));
    }
    steps
}

fn discrete(goal_velocity: f64) -> TimeLimit<MountainCar> {
    let config = MountainCarConfig {
        goal_velocity,
        ..MountainCarConfig::default()
    };
    TimeLimit::new(MountainCar::new(config), MAX_EPISODE_STEPS)
}

fn continuous(goal_velocity: f64) -> TimeLimit<MountainCarContinuous> {
    let config = MountainCarConfig {
        goal_velocity,
        ..MountainCarConfig::continuous()
    };
    TimeLimit::new(
        MountainCarContinuous::new(config),
        CONTINUOUS_MAX_EPISODE_STEPS,
    )
}

fn force(text: &str) -> [f32; 1] {
    [text.parse().unwrap()]
}

// The reference files are written by `tools/gen_mountain_car_reference.py` with gymnasium
// 1.4.0 (and NumPy 2): `gymnasium.make(id, goal_velocity=...)`, the start state assigned to
// `env.unwrapped.state` as a float64 array after reset, fixed policies; continuous forces
// passed as float32 arrays.

/// `MountainCar-v0`: random actions truncated at 200, pushing along the velocity to the goal
/// (over the left wall, which stops the car), a start next to the goal; and `goal_velocity`
/// 0.04, where the car passes the goal too slowly and stops at the right end.
#[test]
fn discrete_matches_gymnasium_reference_episodes() {
    let int = |a: &str| a.parse::<usize>().unwrap();
    let text = include_str!("../../tests/data/mountain_car_discrete.csv");
    assert_eq!(replay(text, discrete(0.0), int), 672);
    let text = include_str!("../../tests/data/mountain_car_discrete_goal_velocity.csv");
    assert_eq!(replay(text, discrete(0.04), int), 133);
}

/// `MountainCarContinuous-v0`: random forces truncated at 999, full and half force along the
/// velocity to the goal (+100), from the left wall and from next to the goal; and
/// `goal_velocity` 0.03. Bit for bit, with Gymnasium's float32 arithmetic.
#[test]
fn continuous_matches_gymnasium_reference_episodes() {
    let text = include_str!("../../tests/data/mountain_car_continuous.csv");
    assert_eq!(replay(text, continuous(0.0), force), 1265);
    let text = include_str!("../../tests/data/mountain_car_continuous_goal_velocity.csv");
    assert_eq!(replay(text, continuous(0.03), force), 115);
}

/// Gymnasium takes forces outside `[-1, 1]` (±3, ±1.5 in the reference), clips them for the
/// dynamics and charges `0.1·a²` on the force as given; so does the env. Gymnasium's clipped
/// force is a Python float, whose increment is computed in `f64` (then rounded as it meets
/// the `float32` velocity): observations, rewards and flags agree bit for bit.
#[test]
fn continuous_clips_forces_as_gymnasium_and_charges_them_as_given() {
    let text = include_str!("../../tests/data/mountain_car_continuous_out_of_range.csv");
    let episodes = parse_reference(text);
    let mut env = continuous(0.0);
    assert!(env.clips_actions());
    let (mut steps, mut clipped) = (0, 0);
    for (e, (start, rows)) in episodes.iter().enumerate() {
        env.reset(Some(e as u64));
        env.set_state(start).unwrap();
        for (t, (action, obs, reward, terminated, truncated)) in rows.iter().enumerate() {
            let at = format!("episode {e} step {}", t + 1);
            let [a] = force(action);
            clipped += usize::from(a.abs() > 1.0);
            let step = env.step([a]).unwrap();
            assert_eq!(&step.obs, obs, "{at}");
            assert_eq!(
                (step.reward, step.terminated, step.truncated),
                (*reward, *terminated, *truncated),
                "{at}"
            );
            steps += 1;
        }
        assert!(rows.last().unwrap().3, "episode {e} reaches the goal");
    }
    assert_eq!((steps, clipped), (230, 170));
    assert!(env.step([f32::NAN]).is_err());
}

#[test]
fn both_pass_the_checker_with_and_without_a_time_limit() {
    check_env(|| MountainCar::new(MountainCarConfig::default()), 3, 300).unwrap();
    check_env(|| discrete(0.0), 5, 300).unwrap();
    let config = MountainCarConfig::continuous();
    check_env(|| MountainCarContinuous::new(config), 3, 300).unwrap();
    check_env(|| continuous(0.0), 5, 1100).unwrap();
    // Episodes that end by termination: from next to the goal any push reaches it.
    let near_goal = || {
        let mut env = MountainCar::new(MountainCarConfig {
            goal_velocity: -1.0,
            ..MountainCarConfig::default()
        });
        env.reset(Some(0));
        env
    };
    let mut env = near_goal();
    env.set_state(&[0.55, 0.0]).unwrap();
    let step = env.step(1).unwrap();
    assert!(step.terminated && step.obs[0] > 0.5);
    assert!(matches!(env.step(1), Err(Error::EpisodeEnded)));
}

/// Hand-computed first steps from rest at the valley's bottom (`cos(3·(−π/6)) = 0`: the slope
/// pulls nowhere), where only the push moves the car.
#[test]
fn a_push_at_the_bottom_changes_the_velocity_by_force_or_power() {
    let bottom = -std::f64::consts::PI / 6.0;
    let mut env = MountainCar::new(MountainCarConfig::default());
    env.reset(Some(0));
    for (action, dv) in [(0, -FORCE), (1, 0.0), (2, FORCE)] {
        env.set_state(&[bottom, 0.0]).unwrap();
        let _ = env.step(action).unwrap();
        let [p, v] = env.state();
        assert!(
            (v - dv).abs() < 1e-15 && (p - (bottom + dv)).abs() < 1e-15,
            "{action}"
        );
    }
    let mut env = MountainCarContinuous::new(MountainCarConfig::continuous());
    env.reset(Some(0));
    for a in [-1.0f32, -0.5, 0.0, 0.25, 1.0] {
        env.set_state(&[bottom, 0.0]).unwrap();
        let step = env.step([a]).unwrap();
        let dv = f64::from(a) * POWER;
        assert!((env.state()[1] - dv).abs() < 1e-9, "{a}: {:?}", env.state());
        assert_eq!(step.reward, -(f64::from(a) * f64::from(a)) * 0.1);
        assert!(!step.terminated);
    }
}

#[test]
fn the_left_wall_stops_the_car_and_the_right_end_only_holds_it() {
    let mut env = MountainCar::new(MountainCarConfig::default());
    env.reset(Some(0));
    env.set_state(&[-1.19, -0.05]).unwrap();
    let step = env.step(0).unwrap();
    assert_eq!(step.obs, [-1.2, 0.0]);
    let mut env = MountainCar::new(MountainCarConfig {
        goal_velocity: 0.07,
        ..MountainCarConfig::default()
    });
    env.reset(Some(0));
    env.set_state(&[0.59, 0.05]).unwrap();
    let step = env.step(2).unwrap();
    assert_eq!(step.obs[0], 0.6);
    assert!(step.obs[1] > 0.05 && !step.terminated, "{step:?}");
}

#[test]
fn bad_actions_and_states_are_one_line_errors_that_change_nothing() {
    let mut env = MountainCarContinuous::new(MountainCarConfig::continuous());
    assert!(matches!(env.step([0.0]), Err(Error::NotReset)));
    assert!(env.set_state(&[-0.5, 0.0]).is_err());
    env.reset(Some(1));
    let before = env.state();
    for bad in [[f32::NAN], [f32::INFINITY], [f32::NEG_INFINITY]] {
        let e = env.step(bad).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("invalid action {bad:?}: not in the action space Box(-1, 1, (1,), float32)")
        );
    }
    assert_eq!(env.state(), before);
    let mut discrete = MountainCar::new(MountainCarConfig::default());
    discrete.reset(Some(1));
    let e = discrete.step(3).unwrap_err().to_string();
    assert_eq!(e, "invalid action 3: not in the action space Discrete(3)");
    for bad in [
        &[-0.5][..],
        &[-0.5, 0.0, 0.0],
        &[-1.3, 0.0],
        &[0.61, 0.0],
        &[0.0, 0.08],
        &[f64::NAN, 0.0],
        &[0.0, f64::INFINITY],
    ] {
        for e in [
            env.set_state(bad).unwrap_err().to_string(),
            discrete.set_state(bad).unwrap_err().to_string(),
        ] {
            assert!(
                e.contains("takes 2 finite values [position, velocity]")
                    && e.contains(&format!("{bad:?}"))
                    && !e.contains('\n'),
                "{e}"
            );
        }
    }
    assert_eq!(env.state(), before);
}

#[test]
fn params_set_the_goal_velocity_and_the_time_limit_and_bad_ones_are_named() {
    let mut config = MountainCarConfig::continuous();
    let params = Params::new()
        .with("goal_velocity", ParamValue::Int(0))
        .with("max_episode_steps", ParamValue::Int(50));
    config
        .apply_params(MOUNTAIN_CAR_CONTINUOUS_ID, &params)
        .unwrap();
    assert_eq!(config.goal_velocity, 0.0);
    assert_eq!(config.max_episode_steps, 50);
    for (key, value, want) in [
        (
            "goal_velocity",
            ParamValue::Float(f64::NAN),
            "a finite number",
        ),
        ("goal_velocity", ParamValue::Str("fast".into()), "a number"),
        ("max_episode_steps", ParamValue::Int(0), "an integer ≥ 1"),
    ] {
        let before = config;
        let p = Params::new().with(key, value);
        let e = config
            .apply_params(MOUNTAIN_CAR_ID, &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("`{key}`")) && e.contains(want), "{e}");
        assert_eq!(config, before);
    }
    let p = Params::new().with("gravity", ParamValue::Float(1.0));
    let e = config
        .apply_params(MOUNTAIN_CAR_ID, &p)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`gravity`") && e.contains("goal_velocity"),
        "{e}"
    );
}

#[test]
fn starts_in_the_start_interval_at_rest_and_seeds_repeat() {
    let mut a = MountainCar::new(MountainCarConfig::default());
    let mut b = MountainCarContinuous::new(MountainCarConfig::continuous());
    for seed in 0..200 {
        let obs = a.reset(Some(seed)).obs;
        assert!(
            (-0.6..-0.4).contains(&a.state()[0]) && obs[1] == 0.0,
            "{obs:?}"
        );
        // The same stream draws the same start in both envs.
        assert_eq!(b.reset(Some(seed)).obs, obs);
    }
    let first = a.reset(Some(3)).obs;
    let second = a.reset(None).obs;
    assert_ne!(first, second);
    assert_eq!(a.reset(Some(3)).obs, first);
}

#[test]
fn rng_state_resumes_the_start_positions() {
    let mut env = MountainCarContinuous::new(MountainCarConfig::continuous());
    assert_eq!(env.rng_state(), None);
    env.reset(Some(4));
    let saved = env.rng_state().unwrap();
    let ahead: Vec<f32> = (0..5).map(|_| env.reset(None).obs[0]).collect();
    let mut other = MountainCarContinuous::new(MountainCarConfig::continuous());
    other.set_rng_state(saved).unwrap();
    let again: Vec<f32> = (0..5).map(|_| other.reset(None).obs[0]).collect();
    assert_eq!(again, ahead);
    assert!(other.set_rng_state([0; 4]).is_err());
    let mut discrete = MountainCar::new(MountainCarConfig::default());
    discrete.set_rng_state(saved).unwrap();
    let again: Vec<f32> = (0..5).map(|_| discrete.reset(None).obs[0]).collect();
    assert_eq!(again, ahead);
}

#[test]
fn renders_the_car_and_the_flag() {
    let mut env = MountainCar::new(MountainCarConfig::default());
    env.reset(Some(0));
    env.set_state(&[-1.2, 0.0]).unwrap();
    let text = env.render_ansi();
    assert!(text.contains("|o___") && text.contains('F'), "{text}");
    env.set_state(&[0.6, 0.0]).unwrap();
    assert!(env.render_ansi().ends_with("F_o|"), "{}", env.render_ansi());
    let frame = env.render_rgb();
    assert_eq!((frame.height, frame.width), (400, 600));
    // The car at the right end, the flag's banner at 0.5, white sky in the top-left corner.
    let row = |y: f64| (399.0 - y.round()) as usize;
    let scale = 600.0 / 1.8;
    let car_y = row(((3.0f64 * 0.6).sin() * 0.45 + 0.55) * scale + 20.0);
    assert_eq!(frame.pixel(car_y, 590), [60, 60, 60]);
    let flag_y = row(((3.0f64 * 0.5).sin() * 0.45 + 0.55) * scale + 45.0);
    assert_eq!(frame.pixel(flag_y, 568), [204, 204, 0]);
    assert_eq!(frame.pixel(2, 2), [255, 255, 255]);
}
