use super::*;

fn env(id: &str) -> GridWorld {
    GridWorld::new(GridWorldConfig::preset(id).unwrap()).unwrap()
}

#[test]
fn step_before_reset_and_after_the_end_are_errors() {
    let mut e = GridWorld::from_map("SG").unwrap();
    assert!(matches!(e.step(0), Err(Error::NotReset)));
    e.reset(Some(1));
    let right = 1;
    let s = e.step(right).unwrap();
    assert!(s.terminated && !s.truncated && s.obs == 1 && s.reward == 1.0);
    assert!(matches!(e.step(right), Err(Error::EpisodeEnded)));
    assert_eq!(e.reset(None).obs, 0);
    assert!(e.step(right).is_ok());
}

/// Random-action episodes from unseeded resets: each step's (observation, reward).
fn play(e: &mut GridWorld, episodes: usize, actions: &mut EnvRng) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    for _ in 0..episodes {
        out.push((e.reset(None).obs, 0.0));
        for _ in 0..100 {
            let s = e.step(actions.below(4)).unwrap();
            out.push((s.obs, s.reward));
            if s.done() {
                break;
            }
        }
    }
    out
}

#[test]
fn rng_state_saved_at_an_episode_boundary_replays_the_episodes_after_it() {
    // Slippery FrozenLake: every move is drawn from the stream.
    let mut e = env("FrozenLake-v1");
    assert!(
        e.rng_state().is_some(),
        "a grid world owns a stream from the start"
    );
    e.reset(Some(5));
    play(&mut e, 2, &mut EnvRng::new(0));
    let saved = e.rng_state().unwrap();
    let ahead = play(&mut e, 5, &mut EnvRng::new(1));
    play(&mut e, 3, &mut EnvRng::new(2));
    // The same env restored, and a fresh one given the state, replay the same episodes.
    e.set_rng_state(saved).unwrap();
    assert_eq!(play(&mut e, 5, &mut EnvRng::new(1)), ahead);
    let mut fresh = env("FrozenLake-v1");
    fresh.set_rng_state(saved).unwrap();
    assert_eq!(play(&mut fresh, 5, &mut EnvRng::new(1)), ahead);
    // A state no stream can be in is refused, naming the env, and changes nothing.
    let err = fresh.set_rng_state([0; 4]).unwrap_err().to_string();
    assert!(
        err.contains("FrozenLake-v1") && err.contains("four zeros"),
        "{err}"
    );
    assert_eq!(fresh.rng_state(), e.rng_state());
}

#[test]
fn invalid_action_is_an_error_and_changes_nothing() {
    let mut e = env("FrozenLake-v1");
    e.reset(Some(3));
    e.set_state(&[6.0]).unwrap();
    let rng = e.rng.clone();
    let err = e.step(4).unwrap_err();
    assert!(matches!(err, Error::InvalidAction { .. }));
    assert!(err.to_string().contains("Discrete(4)"), "{err}");
    assert_eq!(
        (e.agent(), e.last_action, e.phase),
        (6, None, Phase::Running)
    );
    assert_eq!(e.rng, rng);
}

#[test]
fn cliff_sends_the_agent_back_to_the_start_without_ending_the_episode() {
    let mut e = env("CliffWalking-v1");
    assert_eq!(e.reset(Some(0)).obs, 36);
    let (up, right, down) = (0, 1, 2);
    let s = e.step(right).unwrap();
    assert_eq!((s.obs, s.reward, s.terminated), (36, -100.0, false));
    assert_eq!(s.info.prob, Some(1.0));
    let _ = e.step(up).unwrap();
    for _ in 0..5 {
        assert_eq!(e.step(right).unwrap().reward, -1.0);
    }
    assert_eq!(e.agent(), 24 + 5);
    let s = e.step(down).unwrap();
    assert_eq!((s.obs, s.reward, s.terminated), (36, -100.0, false));
    // The safe way round: up, 11 × right, down.
    let mut ret = e.step(up).unwrap().reward;
    for _ in 0..11 {
        ret += e.step(right).unwrap().reward;
    }
    let s = e.step(down).unwrap();
    assert_eq!((s.obs, s.terminated, ret + s.reward), (47, true, -13.0));
}

fn trajectory(e: &mut GridWorld, seed: Option<u64>, n: usize) -> Vec<(usize, f64)> {
    let mut out = vec![(e.reset(seed).obs, 0.0)];
    for i in 0..n {
        let s = e.step(i % e.n_actions()).unwrap();
        out.push((s.obs, s.reward));
        if s.done() {
            out.push((e.reset(None).obs, 0.0));
        }
    }
    out
}

#[test]
fn same_seed_same_episode_and_reset_without_seed_continues() {
    let mut a = env("FrozenLake8x8-v1");
    let mut b = env("FrozenLake8x8-v1");
    let first = trajectory(&mut a, Some(11), 300);
    assert_eq!(first, trajectory(&mut b, Some(11), 300));
    assert_eq!(first, trajectory(&mut a, Some(11), 300));
    // Continuing the stream gives a different run than restarting it.
    let continued = trajectory(&mut a, None, 300);
    assert_ne!(continued, first);
    assert_ne!(trajectory(&mut b, Some(12), 300), first);
}

/// Counts where `n` steps from `state` with `action` land, and checks each next state's
/// frequency against its model probability within 5 binomial standard deviations.
fn check_frequencies(e: &mut GridWorld, state: usize, action: usize, n: usize) {
    let mut counts = vec![0usize; e.n_states()];
    e.reset(Some(2024));
    for _ in 0..n {
        e.set_state(&[state as f64]).unwrap();
        let s = e.step(action).unwrap();
        let listed = e
            .transitions(state, action)
            .iter()
            .any(|t| t.next_state == s.obs && Some(t.prob) == s.info.prob && t.reward == s.reward);
        assert!(
            listed,
            "step gave an outcome the model does not list: {s:?}"
        );
        counts[s.obs] += 1;
    }
    let mut expected = vec![0.0; e.n_states()];
    for t in e.transitions(state, action) {
        expected[t.next_state] += t.prob;
    }
    for (next, (&c, &p)) in counts.iter().zip(&expected).enumerate() {
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        let diff = (c as f64 - n as f64 * p).abs();
        assert!(
            diff <= 5.0 * sd,
            "{} ({state}, {action}) → {next}: {c} of {n}, expected p = {p}",
            e.name()
        );
    }
}

#[test]
fn step_frequencies_match_the_model() {
    // FrozenLake, down from cell 9: left to 8, down to 13, right to 10, 1/3 each.
    check_frequencies(&mut env("FrozenLake-v1"), 9, 1, 30_000);
    // Slip 0.8 on a custom map: 0.8 / 0.1 / 0.1, with walls turning a slip into staying.
    let mut e = GridWorld::new(GridWorldConfig {
        map: "S.#\n...\n..G".into(),
        success_rate: 0.8,
        ..Default::default()
    })
    .unwrap();
    check_frequencies(&mut e, 1, 0, 30_000);
    // Stochastic wind: thirds.
    let mut w = GridWorldConfig::preset("WindyGridworld-v0").unwrap();
    w.stochastic_wind = true;
    check_frequencies(&mut GridWorld::new(w).unwrap(), 4 * 10 + 6, 1, 30_000);
}

#[test]
fn several_starts_are_drawn_uniformly() {
    let mut e = GridWorld::from_map("S.S\n.S.\n..G").unwrap();
    assert_eq!(e.initial_states().len(), 3);
    let mut counts = [0usize; 9];
    e.reset(Some(5));
    let n = 30_000;
    for _ in 0..n {
        counts[e.reset(None).obs] += 1;
    }
    for s in [0, 2, 4] {
        let p = 1.0 / 3.0;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (counts[s] as f64 - n as f64 * p).abs() <= 5.0 * sd,
            "{counts:?}"
        );
    }
    assert_eq!(counts.iter().sum::<usize>(), n);
}

#[test]
fn random_walk_ends_with_minus_one_on_the_left_and_plus_one_on_the_right() {
    let mut e = env("RandomWalk19-v0");
    let (mut left, mut right) = (0, 0);
    e.reset(Some(9));
    for _ in 0..200 {
        let mut s = e.reset(None).obs;
        assert_eq!(s, 10);
        loop {
            let st = e.step(0).unwrap();
            assert_eq!(st.obs.abs_diff(s), 1);
            assert_eq!(st.info.prob, Some(0.5));
            s = st.obs;
            if st.terminated {
                match s {
                    0 => (left += 1, assert_eq!(st.reward, -1.0)).0,
                    20 => (right += 1, assert_eq!(st.reward, 1.0)).0,
                    _ => panic!("terminated at {s}"),
                }
                break;
            }
            assert_eq!(st.reward, 0.0);
        }
    }
    assert!(left > 0 && right > 0 && left + right == 200);
}

#[test]
fn set_state_takes_one_non_wall_cell_index() {
    let mut e = GridWorld::from_map("S#\n.G").unwrap();
    e.reset(Some(0));
    for bad in [
        &[1.0][..],
        &[4.0],
        &[-1.0],
        &[0.5],
        &[f64::NAN],
        &[],
        &[0.0, 2.0],
    ] {
        let err = e.set_state(bad).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidState { .. }));
        assert!(
            msg.contains("0..4") && msg.contains(&format!("{bad:?}")),
            "{msg}"
        );
    }
    e.set_state(&[2.0]).unwrap();
    assert_eq!(e.agent(), 2);
    let right = 1;
    assert!(e.step(right).unwrap().terminated);
    e.set_state(&[3.0]).unwrap();
    assert!(matches!(e.step(right), Err(Error::EpisodeEnded)));
}

#[test]
fn coordinates_and_features() {
    let e = env("CliffWalking-v1");
    assert_eq!(e.coordinates(47), (3, 11));
    assert_eq!(e.coordinates(13), (1, 1));
    let mut f = [0.0f32; 2];
    e.coordinate_features(47, &mut f);
    assert_eq!(f, [1.0, 1.0]);
    e.coordinate_features(36, &mut f);
    assert_eq!(f, [1.0, 0.0]);
    let r = env("RandomWalk19-v0");
    r.coordinate_features(5, &mut f);
    assert_eq!(f, [0.0, 0.25]);
    assert_eq!(r.cell(0), Cell::Hole);
}

#[test]
fn boxes_as_a_discrete_env_under_a_time_limit() {
    let e = env("FrozenLake-v1");
    let limit = e.config().max_episode_steps.unwrap();
    let mut boxed: crate::DiscreteEnv = Box::new(crate::wrappers::TimeLimit::new(e, limit));
    boxed.reset(Some(0));
    assert!(boxed.model().is_some());
    assert_eq!(boxed.name(), "FrozenLake-v1");
    // Left from the corner until the limit: a hole can end it first, nothing else.
    let mut steps = 0;
    loop {
        let s = boxed.step(0).unwrap();
        steps += 1;
        if s.done() {
            assert!(
                s.terminated || (s.truncated && steps == 100),
                "{s:?} at {steps}"
            );
            break;
        }
    }
}

#[test]
fn the_env_and_its_model_agree() {
    let e = env("FrozenLake-v1");
    let m = e.model().expect("GridWorld has a model");
    assert_eq!(m.n_states(), 16);
    assert_eq!(
        m.transitions(5, 0),
        [Transition {
            prob: 1.0,
            next_state: 5,
            reward: 0.0,
            terminated: true
        }]
    );
    assert!(m.is_terminal(15) && m.is_terminal(5) && !m.is_terminal(0));
}

/// Without a time limit, a map whose goal no start can reach would step forever: refused
/// when the env is built, with the time limit as the way out.
#[test]
fn a_map_with_no_reachable_end_and_no_time_limit_is_refused_not_stepped_forever() {
    let walled = GridWorldConfig {
        map: "S#G".into(),
        max_episode_steps: None,
        ..GridWorldConfig::default()
    };
    let e = GridWorld::new(walled.clone()).unwrap_err().to_string();
    assert!(e.contains("`map`"), "{e}");
    assert!(
        e.contains("a goal or hole that can be reached from a start cell"),
        "{e}"
    );
    GridWorld::new(GridWorldConfig {
        max_episode_steps: Some(10),
        ..walled
    })
    .unwrap();
    GridWorld::new(GridWorldConfig {
        map: "S.G".into(),
        max_episode_steps: None,
        ..GridWorldConfig::default()
    })
    .unwrap();
}
