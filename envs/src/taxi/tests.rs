//! Taxi against Gymnasium 1.4's own table, start distribution and trajectories, and its
//! contract.
//!
//! The CSV files under `envs/tests/data/` are written by `tools/gen_taxi_reference.py` from
//! `gymnasium.make("Taxi-v4")` (and `is_rainy=True`): `env.unwrapped.P`,
//! `.initial_state_distrib`, `gymnasium.spec("Taxi-v4")`, and episodes stepped from states set
//! with `env.unwrapped.s`.

use super::*;
use crate::wrappers::TimeLimit;
use crate::{ParamValue, Params, Transition, check_env};

const P_DRY: &str = include_str!("../../tests/data/taxi_p_dry.csv");
const P_RAINY: &str = include_str!("../../tests/data/taxi_p_rainy.csv");
const START: &str = include_str!("../../tests/data/taxi_start.csv");
const SPEC: &str = include_str!("../../tests/data/taxi_spec.csv");
const TRAJECTORIES: &str = include_str!("../../tests/data/taxi_trajectories.csv");

/// The data rows of a CSV text (no quoting in these files), `#` comments skipped, header
/// checked and dropped.
fn rows<'a>(text: &'a str, header: &str) -> impl Iterator<Item = Vec<&'a str>> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(lines.next(), Some(header));
    lines.map(|l| l.split(',').collect())
}

fn taxi(params: &[(&str, ParamValue)]) -> Taxi {
    let mut config = TaxiConfig::default();
    let p = params
        .iter()
        .fold(Params::new(), |p, (k, v)| p.with(*k, v.clone()));
    config.apply_params(TAXI_ID, &p).unwrap();
    Taxi::new(config).unwrap()
}

fn state(row: usize, col: usize, passenger: usize, destination: usize) -> usize {
    TaxiState {
        row,
        col,
        passenger,
        destination,
    }
    .encode()
}

/// Every entry of `P[s][a]`, dry and rainy, bit for bit and in Gymnasium's order. Gymnasium
/// lists a rainy move that cannot go ahead (edge or wall) as three equal entries
/// (0.8, 0.1, 0.1 of staying put); qlab keeps them as listed, so the tables compare entry by
/// entry with no merging of equal outcomes.
#[test]
fn transition_tables_equal_gymnasium_entry_by_entry() {
    for (name, csv, rainy) in [("dry", P_DRY, false), ("rainy", P_RAINY, true)] {
        let env = taxi(&[("is_rainy", ParamValue::Bool(rainy))]);
        let m = env.model().unwrap();
        let mut expected: Vec<Vec<Transition>> = vec![Vec::new(); N_STATES * N_ACTIONS];
        for r in rows(csv, "state,action,index,prob,next_state,reward,terminated") {
            let (s, a, i): (usize, usize, usize) = (
                r[0].parse().unwrap(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            );
            let list = &mut expected[s * N_ACTIONS + a];
            assert_eq!(list.len(), i, "{name}: entries out of order");
            list.push(Transition {
                prob: r[3].parse().unwrap(),
                next_state: r[4].parse().unwrap(),
                reward: r[5].parse().unwrap(),
                terminated: r[6] == "1",
            });
        }
        let mut duplicates = 0;
        for s in 0..N_STATES {
            for a in 0..N_ACTIONS {
                let want = &expected[s * N_ACTIONS + a];
                let got = m.transitions(s, a);
                let same = got.len() == want.len()
                    && got.iter().zip(want).all(|(g, w)| {
                        g.prob.to_bits() == w.prob.to_bits()
                            && g.next_state == w.next_state
                            && g.reward == w.reward
                            && g.terminated == w.terminated
                    });
                assert!(same, "{name} P[{s}][{a}]: {got:?} vs {want:?}");
                if got.len() == 3 && got[1].next_state == got[2].next_state {
                    duplicates += 1;
                }
            }
        }
        // Rainy moves into walls and edges do occur, and are compared as listed.
        assert_eq!(duplicates > 0, rainy, "{name}");
    }
}

#[test]
fn size_time_limit_and_start_distribution_equal_gymnasium() {
    let spec: Vec<Vec<&str>> = rows(SPEC, "id,n_states,n_actions,max_episode_steps").collect();
    assert_eq!(spec, [["Taxi-v4", "500", "6", "200"]]);
    let env = taxi(&[]);
    assert_eq!(env.observation_space().to_string(), "Discrete(500)");
    assert_eq!(env.action_space().to_string(), "Discrete(6)");
    assert_eq!(env.config().max_episode_steps, 200);
    let starts: Vec<(usize, f64)> = rows(START, "state,prob")
        .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(starts.len(), 300);
    assert_eq!(env.model().unwrap().initial_states(), starts.as_slice());
}

/// One reference episode: the start state, then (action, state, reward, terminated,
/// truncated, prob) per step.
type Episode = (usize, Vec<(usize, usize, f64, bool, bool, f64)>);

fn reference_episodes() -> Vec<Episode> {
    let header = "episode,t,action,state,reward,terminated,truncated,prob";
    let mut episodes: Vec<Episode> = Vec::new();
    for r in rows(TRAJECTORIES, header) {
        let flag = |s: &str| match s {
            "0" => false,
            "1" => true,
            _ => panic!("bad flag {s}"),
        };
        if r[1] == "0" {
            episodes.push((r[3].parse().unwrap(), Vec::new()));
        } else {
            let step = (
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
                r[4].parse().unwrap(),
                flag(r[5]),
                flag(r[6]),
                r[7].parse().unwrap(),
            );
            episodes.last_mut().unwrap().1.push(step);
        }
    }
    episodes
}

/// The dry env draws nothing while stepping, so Gymnasium's episodes replay exactly through
/// `TimeLimit(Taxi, 200)` from the same set states: observations, rewards, both flags and
/// `prob`, step for step, and the episode is over after its last recorded step. The greedy
/// episodes deliver the passenger; the random ones run into the time limit.
#[test]
fn matches_gymnasium_reference_episodes() {
    let episodes = reference_episodes();
    let mut env = TimeLimit::new(taxi(&[]), 200);
    let (mut steps, mut terminated, mut truncated) = (0, 0, 0);
    for (e, (start, rows)) in episodes.iter().enumerate() {
        let _ = env.reset(Some(e as u64));
        assert_eq!(env.set_state(&[*start as f64]).unwrap(), *start);
        for (t, &(action, obs, reward, term, trunc, prob)) in rows.iter().enumerate() {
            let step = env.step(action).unwrap();
            assert_eq!(
                (step.obs, step.reward, step.terminated, step.truncated),
                (obs, reward, term, trunc),
                "episode {e} step {}",
                t + 1
            );
            assert_eq!(step.info.prob, Some(prob));
            steps += 1;
        }
        let last = rows.last().unwrap();
        terminated += usize::from(last.3);
        truncated += usize::from(last.4);
        assert!(matches!(env.step(0), Err(Error::EpisodeEnded)));
    }
    assert_eq!((episodes.len(), steps), (20, 1964));
    assert_eq!((terminated, truncated), (12, 8));
}

/// Counts where `n` steps of `action` from `from` land in the rainy env; every outcome is one
/// the model lists with the probability reported, and each next state's frequency is within
/// 5 binomial standard deviations of its model probability (duplicates summed).
fn check_frequencies(e: &mut Taxi, from: usize, action: usize, n: usize) -> Vec<f64> {
    let mut counts = vec![0usize; N_STATES];
    e.reset(Some(2024));
    for _ in 0..n {
        e.set_state(&[from as f64]).unwrap();
        let s = e.step(action).unwrap();
        let listed =
            e.table().transitions(from, action).iter().any(|t| {
                t.next_state == s.obs && Some(t.prob) == s.info.prob && t.reward == s.reward
            });
        assert!(listed, "an outcome the model does not list: {s:?}");
        counts[s.obs] += 1;
    }
    let mut expected = vec![0.0; N_STATES];
    for t in e.table().transitions(from, action) {
        expected[t.next_state] += t.prob;
    }
    for (next, (&c, &p)) in counts.iter().zip(&expected).enumerate() {
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (c as f64 - n as f64 * p).abs() <= 5.0 * sd,
            "({from}, {action}) → {next}: {c} of {n}, expected p = {p}"
        );
    }
    expected
}

#[test]
fn rainy_moves_slip_sideways_with_the_models_frequencies() {
    let mut e = taxi(&[("is_rainy", ParamValue::Bool(true))]);
    let (south, east) = (0, 2);
    // East from (2, 2): 0.8 on, 0.1 north, 0.1 south.
    let p = check_frequencies(&mut e, state(2, 2, 0, 1), east, 20_000);
    assert_eq!(p[state(2, 3, 0, 1)], 0.8);
    assert!((p[state(1, 2, 0, 1)] - 0.1).abs() < 1e-15);
    assert!((p[state(3, 2, 0, 1)] - 0.1).abs() < 1e-15);
    // South from (0, 1): the east side is walled off (the taxi stays), the west side is R.
    let p = check_frequencies(&mut e, state(0, 1, 4, 2), south, 20_000);
    assert_eq!(p[state(1, 1, 4, 2)], 0.8);
    assert!((p[state(0, 1, 4, 2)] - 0.1).abs() < 1e-15);
    assert!((p[state(0, 0, 4, 2)] - 0.1).abs() < 1e-15);
    // East from Y into its wall: nowhere, sideways neither.
    let p = check_frequencies(&mut e, state(4, 0, 1, 0), east, 2_000);
    assert!((p[state(4, 0, 1, 0)] - 1.0).abs() < 1e-15);
    // Pickup and dropoff stay certain.
    assert_eq!(e.table().transitions(state(4, 0, 2, 0), 4).len(), 1);
}

/// Picks the passenger up at R and drives them east along row 2's open road, recording the
/// destination after each step: `(destination before the first move, after it, after the
/// second move)`.
fn fickle_episode(e: &mut Taxi, destination: usize) -> (usize, usize, usize) {
    e.reset(None);
    // Reset drew whether this passenger is fickle; the state is set by hand.
    e.set_state(&[state(0, 0, 0, destination) as f64]).unwrap();
    let picked = e.step(4).unwrap();
    assert_eq!(
        TaxiState::decode(picked.obs).unwrap().destination,
        destination
    );
    let (north, south) = (1, 0);
    // North from row 0 does not move the taxi: no change of mind yet.
    let still = e.step(north).unwrap();
    assert_eq!(still.obs, picked.obs);
    let first = TaxiState::decode(e.step(south).unwrap().obs).unwrap();
    let second = TaxiState::decode(e.step(south).unwrap().obs).unwrap();
    assert_eq!((first.row, first.passenger, second.row), (1, IN_TAXI, 2));
    (destination, first.destination, second.destination)
}

/// Gymnasium's rule: with probability 0.3 (drawn at reset) the passenger changes their mind,
/// once, on the first step that moves the taxi with them already on board, to one of the
/// three other destinations uniformly.
#[test]
fn a_fickle_passenger_changes_destination_once_on_the_first_move_with_probability_0_3() {
    let mut e = taxi(&[("fickle_passenger", ParamValue::Bool(true))]);
    assert!(e.model().is_none());
    assert_eq!(e.table().initial_states().len(), 300);
    e.reset(Some(7));
    let n = 12_000;
    let mut changed = 0;
    let mut to = [0usize; 4];
    for _ in 0..n {
        let (before, first, second) = fickle_episode(&mut e, 1);
        assert_eq!(second, first, "a second change");
        if first != before {
            changed += 1;
            to[first] += 1;
        }
    }
    let sd = (n as f64 * 0.3 * 0.7).sqrt();
    assert!(
        (changed as f64 - 0.3 * n as f64).abs() <= 5.0 * sd,
        "{changed} of {n}"
    );
    assert_eq!(to[1], 0);
    let third = changed as f64 / 3.0;
    for d in [0, 2, 3] {
        let sd = (changed as f64 * (1.0 / 3.0) * (2.0 / 3.0)).sqrt();
        assert!((to[d] as f64 - third).abs() <= 5.0 * sd, "{to:?}");
    }
    for (p, always) in [(1.0, true), (0.0, false)] {
        let mut e = taxi(&[
            ("fickle_passenger", ParamValue::Bool(true)),
            ("fickle_probability", ParamValue::Float(p)),
        ]);
        e.reset(Some(3));
        for _ in 0..50 {
            let (before, first, _) = fickle_episode(&mut e, 2);
            assert_eq!(first != before, always);
        }
    }
    // Without `fickle_passenger` the destination never changes.
    let mut e = taxi(&[]);
    e.reset(Some(3));
    for _ in 0..50 {
        assert_eq!(fickle_episode(&mut e, 2), (2, 2, 2));
    }
}

#[test]
fn seeded_resets_repeat_and_starts_are_uniform_over_the_300() {
    let mut a = taxi(&[]);
    let mut b = taxi(&[]);
    let first: Vec<usize> = (0..20)
        .map(|i| a.reset((i == 0).then_some(11)).obs)
        .collect();
    let again: Vec<usize> = (0..20)
        .map(|i| b.reset((i == 0).then_some(11)).obs)
        .collect();
    assert_eq!(first, again);
    let mut counts = [0usize; N_STATES];
    let n = 60_000;
    for _ in 0..n {
        counts[a.reset(None).obs] += 1;
    }
    let starts: Vec<usize> = a.table().initial_states().iter().map(|s| s.0).collect();
    let (p, sd) = (1.0 / 300.0, (n as f64 / 300.0 * (1.0 - 1.0 / 300.0)).sqrt());
    for (s, &c) in counts.iter().enumerate() {
        if starts.contains(&s) {
            assert!((c as f64 - n as f64 * p).abs() <= 5.0 * sd, "{s}: {c}");
            let d = TaxiState::decode(s).unwrap();
            assert!(d.passenger < IN_TAXI && d.passenger != d.destination);
        } else {
            assert_eq!(c, 0, "{s}");
        }
    }
}

#[test]
fn step_before_reset_after_the_end_and_bad_actions_are_errors() {
    let mut e = taxi(&[]);
    assert!(matches!(e.step(0), Err(Error::NotReset)));
    e.reset(Some(0));
    let s = e.set_state(&[state(4, 3, 4, 3) as f64]).unwrap();
    let e6 = e.step(6).unwrap_err().to_string();
    assert_eq!(e6, "invalid action 6: not in the action space Discrete(6)");
    assert_eq!(e.decoded(), TaxiState::decode(s).unwrap());
    assert!(e.step(5).unwrap().terminated);
    assert!(matches!(e.step(0), Err(Error::EpisodeEnded)));
    // A delivered state ends the episode at once.
    e.reset(None);
    e.set_state(&[state(0, 0, 0, 0) as f64]).unwrap();
    assert!(matches!(e.step(0), Err(Error::EpisodeEnded)));
}

#[test]
fn set_state_takes_one_state_index() {
    let mut e = taxi(&[]);
    e.reset(Some(0));
    for bad in [
        &[][..],
        &[1.0, 2.0],
        &[500.0],
        &[-1.0],
        &[1.5],
        &[f64::NAN],
        &[f64::INFINITY],
    ] {
        let msg = e.set_state(bad).unwrap_err().to_string();
        assert!(
            msg.contains("Taxi-v4 takes one state index in 0..500") && !msg.contains('\n'),
            "{msg}"
        );
    }
    assert_eq!(e.set_state(&[499.0]).unwrap(), 499);
}

#[test]
fn params_apply_and_bad_ones_are_named() {
    let e = taxi(&[
        ("is_rainy", ParamValue::Bool(true)),
        ("rainy_probability", ParamValue::Float(0.5)),
        ("max_episode_steps", ParamValue::Int(50)),
    ]);
    assert_eq!(e.config().max_episode_steps, 50);
    let out = e.table().transitions(state(2, 2, 0, 1), 2);
    assert_eq!(
        out.iter().map(|t| t.prob).collect::<Vec<_>>(),
        [0.5, 0.25, 0.25]
    );
    for (key, value, expected) in [
        ("rainy_probability", ParamValue::Float(1.5), "[0, 1]"),
        ("fickle_probability", ParamValue::Float(f64::NAN), "[0, 1]"),
        ("max_episode_steps", ParamValue::Int(0), "≥ 1"),
        ("is_rainy", ParamValue::Int(1), "a boolean"),
    ] {
        let mut c = TaxiConfig::default();
        let e = c
            .apply_params(TAXI_ID, &Params::new().with(key, value))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("`{key}`")) && e.contains(expected),
            "{e}"
        );
        assert_eq!(c, TaxiConfig::default());
    }
    let e = TaxiConfig::default()
        .apply_params(
            TAXI_ID,
            &Params::new().with("rainy", ParamValue::Bool(true)),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("`rainy`") && e.contains("is_rainy"), "{e}");
    let bad = TaxiConfig {
        rainy_probability: -0.1,
        ..TaxiConfig::default()
    };
    assert!(Taxi::new(bad).is_err());
}

/// The checker over the variants the registry's run over every env does not reach.
#[test]
fn rainy_and_fickle_variants_pass_the_checker() {
    for params in [
        vec![("is_rainy", ParamValue::Bool(true))],
        vec![
            ("is_rainy", ParamValue::Bool(true)),
            ("fickle_passenger", ParamValue::Bool(true)),
            ("fickle_probability", ParamValue::Float(1.0)),
        ],
    ] {
        let make = || TimeLimit::new(taxi(&params), 200);
        check_env(make, 5, 300).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn ansi_marks_taxi_passenger_and_destination_and_names_the_last_action() {
    let mut e = taxi(&[]);
    e.reset(Some(0));
    // Taxi at (2, 1), passenger waiting at G, destination Y.
    e.set_state(&[state(2, 1, 1, 2) as f64]).unwrap();
    let text = e.render_ansi();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[0], "+---------+");
    assert_eq!(lines[1], "|R: | : :\x1b[1;34mG\x1b[0m|");
    assert_eq!(lines[3], "| :\x1b[30;43m \x1b[0m: : : |");
    assert_eq!(lines[5], "|\x1b[35mY\x1b[0m| : |B: |");
    assert_eq!(lines[7], "");
    // With the passenger on board the taxi is green, a blank drawn as `_`.
    e.set_state(&[state(2, 1, 4, 2) as f64]).unwrap();
    let _ = e.step(0).unwrap();
    let text = e.render_ansi();
    assert!(
        text.contains("\n| |\x1b[30;42m_\x1b[0m: | : |\n"),
        "{text:?}"
    );
    assert!(text.ends_with("  (South)\n"), "{text:?}");
}

#[test]
fn rgb_frame_shows_the_taxi_the_pads_and_the_walls() {
    let mut e = taxi(&[]);
    e.reset(Some(0));
    e.set_state(&[state(2, 2, 3, 0) as f64]).unwrap();
    let f = e.render_rgb();
    assert_eq!((f.height, f.width, f.data.len()), (201, 201, 201 * 201 * 3));
    let centre = |r: usize, c: usize| f.pixel(r * 40 + 20, c * 40 + 20);
    assert_eq!(centre(2, 2), [250, 200, 20]); // the taxi
    assert_eq!(centre(0, 4), [110, 200, 110]); // G's pad
    assert_eq!(centre(1, 1), [235, 238, 242]); // road
    // The wall between columns 1 and 2 of row 0, and none between columns 0 and 1.
    assert_eq!(f.pixel(20, 80), [60, 60, 68]);
    assert_ne!(f.pixel(20, 40), [60, 60, 68]);
}
