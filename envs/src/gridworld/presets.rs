//! The registered GridWorld ids and their configs.

use super::config::{EdgeRule, GYMNASIUM_SUCCESS_RATE, GridWorldConfig, Move, TerminalTransitions};

/// Every GridWorld id with a one-line description.
pub fn presets() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "FrozenLake-v1",
            "Gymnasium's 4x4 frozen lake: slippery ice, holes, reward 1 at the goal",
        ),
        (
            "FrozenLake8x8-v1",
            "Gymnasium's 8x8 frozen lake: slippery ice, holes, reward 1 at the goal",
        ),
        (
            "CliffWalking-v1",
            "Gymnasium's 4x12 cliff walk (Sutton & Barto 6.6): -1 a step, -100 and back to start off the cliff",
        ),
        (
            "CliffWalkingSlippery-v1",
            "CliffWalking-v1 where every move slips to either side with probability 1/3 each",
        ),
        (
            "WindyGridworld-v0",
            "Sutton & Barto's 7x10 windy grid world (Example 6.5), -1 a step; king's moves and stochastic wind optional",
        ),
        (
            "RandomWalk19-v0",
            "Sutton & Barto's 19-state random walk (Example 7.1): -1 at the left end, +1 at the right",
        ),
        (
            "GridWorld-v0",
            "A grid world from your own map (`map` or `map_file`)",
        ),
    ]
}

/// FrozenLake's maps (Gymnasium `frozen_lake.py`, `MAPS`).
const FROZEN_LAKE_4X4: &str = "SFFF\nFHFH\nFFFH\nHFFG";
const FROZEN_LAKE_8X8: &str = "SFFFFFFF\nFFFFFFFF\nFFFHFFFF\nFFFFFHFF\n\
                               FFFHFFFF\nFHHFFFHF\nFHFFHFHF\nFFFHFFFG";
/// CliffWalking's 4×12 grid: start (3, 0), cliff (3, 1..=10), goal (3, 11).
const CLIFF_WALKING: &str = "............\n............\n............\nSCCCCCCCCCCG";
/// Sutton & Barto's windy grid world: 7×10, start (3, 0), goal (3, 7).
const WINDY: &str = "..........\n..........\n..........\nS......G..\n\
                     ..........\n..........\n..........";
/// The column winds of Sutton & Barto's Example 6.5.
const WINDY_WIND: [i64; 10] = [0, 0, 0, 1, 1, 1, 2, 2, 1, 0];
/// 19 non-terminal states between a terminal at each end, starting in the middle (state 10).
const RANDOM_WALK_19: &str = "H.........S.........G";

impl GridWorldConfig {
    /// The config registered under `id` (one of [`presets`]), or `None` for an unknown id.
    pub fn preset(id: &str) -> Option<GridWorldConfig> {
        let base = GridWorldConfig {
            id: id.to_string(),
            ..GridWorldConfig::default()
        };
        let frozen_lake = |map: &str, max_steps| GridWorldConfig {
            map: map.into(),
            actions: Move::FROZEN_LAKE.to_vec(),
            success_rate: GYMNASIUM_SUCCESS_RATE,
            reward_step: 0.0,
            reward_goal: 1.0,
            reward_hole: 0.0,
            max_episode_steps: Some(max_steps),
            ..base.clone()
        };
        let cliff_walking = |success_rate| GridWorldConfig {
            map: CLIFF_WALKING.into(),
            actions: Move::CLIFF_WALKING.to_vec(),
            success_rate,
            reward_step: -1.0,
            reward_goal: -1.0,
            reward_cliff: -100.0,
            terminal_transitions: TerminalTransitions::Moves,
            max_episode_steps: None,
            ..base.clone()
        };
        Some(match id {
            "FrozenLake-v1" => frozen_lake(FROZEN_LAKE_4X4, 100),
            "FrozenLake8x8-v1" => frozen_lake(FROZEN_LAKE_8X8, 200),
            "CliffWalking-v1" => cliff_walking(1.0),
            "CliffWalkingSlippery-v1" => cliff_walking(GYMNASIUM_SUCCESS_RATE),
            "WindyGridworld-v0" => GridWorldConfig {
                map: WINDY.into(),
                actions: Move::CLIFF_WALKING.to_vec(),
                wind: WINDY_WIND.to_vec(),
                edge_rule: EdgeRule::Clip,
                reward_step: -1.0,
                reward_goal: -1.0,
                max_episode_steps: None,
                ..base
            },
            "RandomWalk19-v0" => GridWorldConfig {
                map: RANDOM_WALK_19.into(),
                actions: vec![Move::LeftOrRight],
                reward_step: 0.0,
                reward_goal: 1.0,
                reward_hole: -1.0,
                max_episode_steps: None,
                ..base
            },
            "GridWorld-v0" => base,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    //! The Gymnasium presets against Gymnasium 1.4 itself: the CSV files under
    //! `envs/tests/data/` are written by `tools/gen_gridworld_reference.py` from
    //! `gymnasium.make(id).unwrapped.P`, `.initial_state_distrib` and
    //! `gymnasium.spec(id).max_episode_steps`.

    use super::*;
    use crate::gridworld::GridWorld;
    use crate::{Env, Model, Transition};

    const SPEC: &str = include_str!("../../tests/data/gridworld_spec.csv");
    const START: &str = include_str!("../../tests/data/gridworld_start.csv");
    const TABLES: [(&str, &str); 4] = [
        (
            "FrozenLake-v1",
            include_str!("../../tests/data/gridworld_p_frozenlake.csv"),
        ),
        (
            "FrozenLake8x8-v1",
            include_str!("../../tests/data/gridworld_p_frozenlake8x8.csv"),
        ),
        (
            "CliffWalking-v1",
            include_str!("../../tests/data/gridworld_p_cliffwalking.csv"),
        ),
        (
            "CliffWalkingSlippery-v1",
            include_str!("../../tests/data/gridworld_p_cliffwalkingslippery.csv"),
        ),
    ];

    /// The data rows of a CSV text (no quoting in these files), header checked and dropped.
    fn rows<'a>(text: &'a str, header: &str) -> impl Iterator<Item = Vec<&'a str>> {
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(header));
        lines.map(|l| l.split(',').collect())
    }

    fn env(id: &str) -> GridWorld {
        GridWorld::new(GridWorldConfig::preset(id).unwrap()).unwrap()
    }

    #[test]
    fn transition_tables_equal_gymnasium_entry_by_entry() {
        for (id, csv) in TABLES {
            let env = env(id);
            let m: &dyn Model = &env;
            let mut expected: Vec<Vec<Transition>> = vec![Vec::new(); m.n_states() * m.n_actions()];
            for r in rows(csv, "state,action,index,prob,next_state,reward,terminated") {
                let (s, a, i): (usize, usize, usize) = (
                    r[0].parse().unwrap(),
                    r[1].parse().unwrap(),
                    r[2].parse().unwrap(),
                );
                let list = &mut expected[s * m.n_actions() + a];
                assert_eq!(list.len(), i, "{id}: entries out of order");
                list.push(Transition {
                    prob: r[3].parse().unwrap(),
                    next_state: r[4].parse().unwrap(),
                    reward: r[5].parse().unwrap(),
                    terminated: r[6] == "1",
                });
            }
            for s in 0..m.n_states() {
                for a in 0..m.n_actions() {
                    let want = &expected[s * m.n_actions() + a];
                    let got = m.transitions(s, a);
                    assert_eq!(
                        got.len(),
                        want.len(),
                        "{id} P[{s}][{a}]: {got:?} vs {want:?}"
                    );
                    for (g, w) in got.iter().zip(want) {
                        assert!(
                            (g.prob - w.prob).abs() <= 1e-12
                                && g.next_state == w.next_state
                                && g.reward == w.reward
                                && g.terminated == w.terminated,
                            "{id} P[{s}][{a}]: {got:?} vs {want:?}"
                        );
                        // Bit for bit, but for the one place Gymnasium writes 1/3 where
                        // qlab computes (1 - 1/3) / 2 (see the version notes of `GridWorld`).
                        if id != "CliffWalkingSlippery-v1" {
                            assert_eq!(g.prob.to_bits(), w.prob.to_bits(), "{id} P[{s}][{a}]");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn sizes_time_limits_and_start_distributions_equal_gymnasium() {
        let mut checked = 0;
        for r in rows(SPEC, "id,n_states,n_actions,max_episode_steps") {
            let env = env(r[0]);
            assert_eq!(env.n_states(), r[1].parse::<usize>().unwrap(), "{}", r[0]);
            assert_eq!(env.n_actions(), r[2].parse::<usize>().unwrap(), "{}", r[0]);
            assert_eq!(
                env.observation_space().to_string(),
                format!("Discrete({})", r[1])
            );
            assert_eq!(
                env.action_space().to_string(),
                format!("Discrete({})", r[2])
            );
            let max_steps = (!r[3].is_empty()).then(|| r[3].parse::<u64>().unwrap());
            assert_eq!(env.config().max_episode_steps, max_steps, "{}", r[0]);
            let starts: Vec<(usize, f64)> = rows(START, "id,state,prob")
                .filter(|s| s[0] == r[0])
                .map(|s| (s[1].parse().unwrap(), s[2].parse().unwrap()))
                .collect();
            assert_eq!(env.initial_states(), starts.as_slice(), "{}", r[0]);
            checked += 1;
        }
        assert_eq!(checked, TABLES.len());
    }

    #[test]
    fn every_preset_builds_and_its_model_keeps_the_contract() {
        for &(id, _) in presets() {
            let env = env(id);
            assert_eq!(env.name(), id);
            let m: &dyn Model = &env;
            for s in 0..m.n_states() {
                for a in 0..m.n_actions() {
                    let t = m.transitions(s, a);
                    assert!(!t.is_empty());
                    let total: f64 = t.iter().map(|t| t.prob).sum();
                    assert!((total - 1.0).abs() < 1e-9, "{id} ({s}, {a}): {total}");
                    assert!(t.iter().all(|t| t.next_state < m.n_states()));
                }
            }
            let total: f64 = m.initial_states().iter().map(|s| s.1).sum();
            assert!((total - 1.0).abs() < 1e-12);
        }
        assert!(GridWorldConfig::preset("FrozenLake-v0").is_none());
    }

    /// Every transition of the windy variants against `tools/gen_windy_reference.py`, which
    /// applies the rule of Sutton & Barto's own code for Example 6.5 (move plus the wind of the
    /// column left, then clipped to the grid) to every state and action, with king's moves,
    /// staying put and the stochastic wind of Exercises 6.9 and 6.10.
    #[test]
    fn windy_transitions_equal_sutton_and_bartos_rule_entry_by_entry() {
        use crate::{ParamValue, Params};
        const WINDY_REFERENCE: &str = include_str!("../../tests/data/windy_reference.csv");
        let variants: [(&str, &[&str]); 5] = [
            ("four", &[]),
            ("king", &["king_moves"]),
            ("king_stay", &["king_moves", "stay"]),
            ("stochastic", &["stochastic_wind"]),
            (
                "stochastic_king_stay",
                &["stochastic_wind", "king_moves", "stay"],
            ),
        ];
        let header = "variant,state,action,index,prob,next_state,reward,terminated";
        let mut total = 0;
        for (variant, switches) in variants {
            let mut config = GridWorldConfig::preset("WindyGridworld-v0").unwrap();
            let params = switches
                .iter()
                .fold(Params::new(), |p, &k| p.with(k, ParamValue::Bool(true)));
            config.apply_params("WindyGridworld-v0", &params).unwrap();
            let env = GridWorld::new(config).unwrap();
            let m: &dyn Model = &env;
            let mut expected: Vec<Vec<Transition>> = vec![Vec::new(); m.n_states() * m.n_actions()];
            for r in rows(WINDY_REFERENCE, header).filter(|r| r[0] == variant) {
                let (s, a, i): (usize, usize, usize) = (
                    r[1].parse().unwrap(),
                    r[2].parse().unwrap(),
                    r[3].parse().unwrap(),
                );
                let list = &mut expected[s * m.n_actions() + a];
                assert_eq!(list.len(), i, "{variant}: entries out of order");
                list.push(Transition {
                    prob: r[4].parse().unwrap(),
                    next_state: r[5].parse().unwrap(),
                    reward: r[6].parse().unwrap(),
                    terminated: r[7] == "1",
                });
            }
            for s in 0..m.n_states() {
                for a in 0..m.n_actions() {
                    let want = &expected[s * m.n_actions() + a];
                    assert!(!want.is_empty(), "{variant}: no reference for ({s}, {a})");
                    let got = m.transitions(s, a);
                    let same = got.len() == want.len()
                        && got.iter().zip(want).all(|(g, w)| {
                            g.prob.to_bits() == w.prob.to_bits()
                                && g.next_state == w.next_state
                                && g.reward == w.reward
                                && g.terminated == w.terminated
                        });
                    assert!(same, "{variant} ({s}, {a}): {got:?} vs {want:?}");
                    total += want.len();
                }
            }
        }
        assert_eq!(total, rows(WINDY_REFERENCE, header).count());
    }

    /// Sutton & Barto's presets, from the book: Example 6.5 and 7.1.
    #[test]
    fn sutton_and_barto_presets_have_the_books_facts() {
        let w = env("WindyGridworld-v0");
        assert_eq!((w.rows(), w.cols()), (7, 10));
        assert_eq!(w.initial_states(), [(3 * 10, 1.0)]);
        assert!(w.is_terminal(3 * 10 + 7));
        assert_eq!(w.config().wind, [0, 0, 0, 1, 1, 1, 2, 2, 1, 0]);
        assert_eq!(w.config().max_episode_steps, None);
        assert_eq!(w.n_actions(), 4);
        let r = env("RandomWalk19-v0");
        assert_eq!((r.rows(), r.cols(), r.n_actions()), (1, 21, 1));
        let non_terminal = (0..21).filter(|&s| !r.is_terminal(s)).count();
        assert_eq!(non_terminal, 19);
        assert_eq!(r.initial_states(), [(10, 1.0)]);
    }
}
