//! The `qlab` binary, run as a user runs it: arguments in; stdout, stderr and the exit code out.

mod common;
mod hostile;

use common::qlab;

/// The number after `key=` on its own line of `qlab solve`'s output.
fn field(stdout: &str, key: &str) -> String {
    let prefix = format!("{key}=");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{key}=` line in\n{stdout}"))
        .to_string()
}

#[test]
fn solve_cliff_walking_prints_minus_13() {
    let out = qlab(&["solve", "--env", "CliffWalking-v1"]).clean();
    assert!(out.lines().any(|l| l == "value=-13"), "{out}");
    assert_eq!(field(&out, "horizon"), "inf");
    assert_eq!(field(&out, "gamma"), "1");
    let out = qlab(&[
        "solve",
        "--env",
        "CliffWalking-v1",
        "--method",
        "policy_iteration",
    ])
    .clean();
    assert_eq!(field(&out, "value"), "-13");
    // One step short of the goal, the best is 12 steps of −1 that stay off the cliff.
    let out = qlab(&["solve", "--env", "CliffWalking-v1", "--horizon", "12"]).clean();
    assert_eq!(field(&out, "value"), "-12");
}

#[test]
fn solve_show_prints_the_values_and_the_policy_on_the_map() {
    let out = qlab(&["solve", "--env", "CliffWalking-v1", "--show"]).clean();
    let lines: Vec<&str> = out.lines().collect();
    let at = |title: &str| lines.iter().position(|l| *l == title).unwrap();
    let values = at("values:");
    assert_eq!(
        lines[values + 4],
        "-13   C   C   C   C   C   C   C   C   C   C   G"
    );
    let policy = at("greedy policy:");
    assert_eq!(lines[policy + 3], "→ → → → → → → → → → → ↓");
    assert_eq!(lines[policy + 4], "↑ C C C C C C C C C C G");
}

/// The reproductions recorded in RESULTS.md. References from `python3 tools/dp_reference.py`
/// (gymnasium 1.4.0's own `env.unwrapped.P`): FrozenLake-v1 within 100 steps
/// 0.7441902878292689, FrozenLake8x8-v1 within 200 steps 0.9132201502016288,
/// CliffWalkingSlippery-v1 (no time limit) −64.70917590996208.
#[test]
fn solve_reproduces_the_gymnasium_reference_values() {
    for (args, rounded, reference, tolerance) in [
        // Backward induction: exact but for rounding.
        (
            &["--env", "FrozenLake-v1"][..],
            "0.744",
            0.7441902878292689,
            1e-12,
        ),
        (
            &["--env", "FrozenLake8x8-v1"],
            "0.913",
            0.9132201502016288,
            1e-12,
        ),
        // Value iteration to its fixed point (θ = 0); in place rather than Jacobi's sweeps,
        // so rounded differently: a few ulps a step over a few hundred steps.
        (
            &["--env", "CliffWalkingSlippery-v1"],
            "-64.709",
            -64.70917590996208,
            1e-12,
        ),
    ] {
        let out = qlab(&[&["solve"], args].concat()).clean();
        let value: f64 = field(&out, "value").parse().unwrap();
        assert_eq!(
            format!("{value:.*}", rounded.len() - rounded.find('.').unwrap() - 1),
            rounded
        );
        assert!((value - reference).abs() < tolerance, "{args:?}: {value}");
    }
}

/// Blackjack's exact model: the optimal value over the deal under Sutton & Barto's rules
/// (the registered default), and Figure 5.2 drawn by `--plot`.
#[test]
fn solve_blackjack_prints_the_optimal_value_and_draws_figure_5_2() {
    let dir = std::env::temp_dir().join(format!("qlab-cli-blackjack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("figure.png");
    let out = qlab(&[
        "solve",
        "--env",
        "Blackjack-v1",
        "--plot",
        png.to_str().unwrap(),
    ])
    .clean();
    assert_eq!(field(&out, "horizon"), "inf");
    let value: f64 = field(&out, "value").parse().unwrap();
    assert!((value - -0.043113105413477015).abs() < 1e-15, "{out}");
    assert_eq!(field(&out, "plot"), png.to_str().unwrap());
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    let out = qlab(&["solve", "--env", "Blackjack-v1", "--param", "sab=false"]).clean();
    let plain: f64 = field(&out, "value").parse().unwrap();
    assert!(
        plain < value,
        "a natural is worth less without sab: {plain} vs {value}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Taxi starts in one of 300 states; `value` is the mean of their optimal values. References
/// from `python3 tools/dp_reference.py` (backward induction over gymnasium 1.4.0's own
/// `env.unwrapped.P`, summed over `initial_state_distrib`): dry 7.929999999999999 within the
/// 200-step limit and without one (the backups reach their fixed point in 19 sweeps), rainy
/// 3.954574516550826 (112 sweeps).
#[test]
fn solve_taxi_averages_the_optimal_values_over_its_start_states() {
    let out = qlab(&["solve", "--env", "Taxi-v4"]).clean();
    assert_eq!(field(&out, "horizon"), "200");
    assert_eq!(field(&out, "method"), "backward_induction");
    // Integer values averaged in state order, as the reference sums them: the same bits.
    assert_eq!(field(&out, "value"), "7.929999999999999");
    let out = qlab(&["solve", "--env", "Taxi-v4", "--horizon", "inf"]).clean();
    assert_eq!(field(&out, "value"), "7.929999999999999");
    let out = qlab(&["solve", "--env", "Taxi-v4", "--param", "is_rainy=true"]).clean();
    let value: f64 = field(&out, "value").parse().unwrap();
    assert!((value - 3.954574516550826).abs() < 1e-12, "{value}");
    // The fickle passenger's change of mind is not in the model.
    let e = qlab(&[
        "solve",
        "--env",
        "Taxi-v4",
        "--param",
        "fickle_passenger=true",
    ])
    .usage_error();
    assert!(e.contains("Taxi-v4 has no exact model"), "{e}");
}

#[test]
fn solve_errors_are_one_line_with_exit_code_2() {
    let e = qlab(&["solve", "--env", "CartPole-v1"]).usage_error();
    assert!(e.contains("CartPole-v1 has no exact model"), "{e}");
    let e = qlab(&["solve", "--env", "FrozenLake-v9"]).usage_error();
    assert!(e.contains("`FrozenLake-v9`"), "{e}");
    let e = qlab(&["solve", "--env", "CliffWalking-v1", "--gamma", "1.5"]).usage_error();
    assert!(e.contains("invalid value 1.5 for `gamma`"), "{e}");
    for bad in ["0", "-1", "soon"] {
        let e = qlab(&["solve", "--env", "CliffWalking-v1", "--horizon", bad]).usage_error();
        assert!(e.contains(&format!("--horizon `{bad}`")), "{e}");
    }
    // Undiscounted, a map without an end never settles: the error names gamma and the cap.
    let e = qlab(&[
        "solve",
        "--env",
        "GridWorld-v0",
        "--param",
        "map=\"S..\"",
        "--param",
        "reward_step=-1",
        "--horizon",
        "inf",
    ])
    .usage_error();
    assert!(
        e.contains("`gamma`") && e.contains("max_iterations = 100000"),
        "{e}"
    );
}

#[test]
fn envs_lists_every_registered_id_with_its_spaces() {
    let out = qlab(&["envs"]).clean();
    for id in [
        "CartPole-v1",
        "CartPoleNoVelocity-v1",
        "FrozenLake-v1",
        "FrozenLake8x8-v1",
        "CliffWalking-v1",
        "CliffWalkingSlippery-v1",
        "WindyGridworld-v0",
        "RandomWalk19-v0",
        "GridWorld-v0",
        "PixelGridWorld-v0",
        "PointMass-v0",
        "Taxi-v4",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(id)),
            "{id} missing:\n{out}"
        );
    }
    assert!(
        out.contains("Discrete(48)") && out.contains("Box("),
        "{out}"
    );
    // A Box action space is shown in its action column.
    let point_mass: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("PointMass-v0"))
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        &point_mass[..3],
        &[
            "PointMass-v0",
            "Box([-1, -2], [1, 2], (2,), float32)",
            "Box(-1, 1, (1,), float32)"
        ],
        "{out}"
    );
}

/// `PointMass-v0` (x' = v' · 0.1 with v' = v + force · 0.1, reward −x'²) from x = 0.5 at
/// rest, pushed with 0.5 N then −0.3 N: v = 0.05, x = 0.505; v = 0.02, x = 0.507.
#[test]
fn rollout_takes_box_actions_and_writes_them_in_the_action_column() {
    let out = qlab(&[
        "rollout",
        "--env",
        "PointMass-v0",
        "--seed",
        "0",
        "--state",
        "0.5,0",
        "--actions",
        "0.5,-0.3",
    ])
    .clean();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "t,action,reward,terminated,truncated,obs_0,obs_1");
    assert_eq!(lines[1], "0,,,,,0.5,0");
    assert_eq!(lines.len(), 4, "{out}");
    for (line, (action, x, v)) in lines[2..]
        .iter()
        .zip([("0.5", 0.505, 0.05), ("-0.3", 0.507, 0.02)])
    {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[1], action, "{line}");
        assert_eq!(&cells[3..5], &["false", "false"], "{line}");
        let num = |i: usize| cells[i].parse::<f64>().unwrap();
        assert!((num(2) + x * x).abs() < 1e-6, "{line}");
        assert!(
            (num(5) - x).abs() < 1e-6 && (num(6) - v).abs() < 1e-6,
            "{line}"
        );
    }
    // The components of one vector action are separated by spaces, written back the same way:
    // a 2-component action is the wrong length for this Box(1), a one-line error naming both.
    let e = qlab(&[
        "rollout",
        "--env",
        "PointMass-v0",
        "--actions",
        "0.5,-1 0.2",
    ])
    .usage_error();
    assert!(
        e.contains("--actions: step 2: invalid action [-1.0, 0.2]: not in the action space Box(-1, 1, (1,), float32)"),
        "{e}"
    );
    // A first action below zero is an action, not a flag (row 0 is the reset).
    let out = qlab(&["rollout", "--env", "PointMass-v0", "--actions", "-0.5,0.3"]).clean();
    assert_eq!(
        out.lines().nth(2).map(|l| l.split(',').nth(1)),
        Some(Some("-0.5")),
        "{out}"
    );
}

#[test]
fn rollout_with_random_box_actions_is_seeded_and_ends_at_the_time_limit() {
    let args = ["rollout", "--env", "PointMass-v0", "--seed", "3"];
    let out = qlab(&args).clean();
    assert_eq!(out, qlab(&args).clean());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2 + 200, "the header, the reset and 200 steps");
    for line in &lines[2..] {
        let action: f32 = line.split(',').nth(1).unwrap().parse().unwrap();
        assert!((-1.0..=1.0).contains(&action), "{line}");
    }
    assert!(lines.last().unwrap().contains(",false,true,"), "truncated");
    let out = qlab(&[
        "rollout",
        "--env",
        "PointMass-v0",
        "--param",
        "max_episode_steps=5",
        "--seed",
        "3",
    ])
    .clean();
    assert_eq!(out.lines().count(), 2 + 5, "{out}");
}

#[test]
fn rollout_rejects_bad_box_and_discrete_actions_with_one_line_and_code_2() {
    let box1 = "Box(-1, 1, (1,), float32)";
    let cases: [(&str, &str, String); 7] = [
        (
            "PointMass-v0",
            "0.5,1.5",
            format!("--actions: step 2: invalid action [1.5]: not in the action space {box1}"),
        ),
        (
            "PointMass-v0",
            "nan",
            format!("--actions: step 1: invalid action [NaN]: not in the action space {box1}"),
        ),
        (
            "PointMass-v0",
            "inf",
            format!("--actions: step 1: invalid action [inf]: not in the action space {box1}"),
        ),
        (
            "PointMass-v0",
            "0,0.5 0.5",
            format!("invalid action [0.5, 0.5]: not in the action space {box1}"),
        ),
        (
            "PointMass-v0",
            "0.1,push",
            format!("--actions: step 2: action `push`: `push` is not a number; PointMass-v0 has {box1}"),
        ),
        (
            "FrozenLake-v1",
            "1,1.5",
            "--actions: step 2: action `1.5` is not a non-negative integer; FrozenLake-v1 has Discrete(4)".into(),
        ),
        (
            "FrozenLake-v1",
            "0 1",
            "action `0 1` is not a non-negative integer".into(),
        ),
    ];
    for (env, actions, expected) in cases {
        let line = qlab(&["rollout", "--env", env, "--actions", actions]).usage_error();
        assert!(line.contains(&expected), "{actions}: {line}");
    }
}

/// `rollout` from a fixed state reproduces the first episode of the Gymnasium reference data
/// (`envs/tests/data/cartpole_euler.csv`, made by `tools/gen_cartpole_reference.py`).
#[test]
fn rollout_replays_a_gymnasium_trajectory() {
    let data = include_str!("../envs/tests/data/cartpole_euler.csv");
    let rows: Vec<Vec<&str>> = data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("episode"))
        .map(|l| l.split(',').collect())
        .filter(|r: &Vec<&str>| r[0] == "0")
        .collect();
    let state = rows[0][3..7].join(",");
    let actions: Vec<&str> = rows[1..].iter().map(|r| r[2]).collect();
    let out = qlab(&[
        "rollout",
        "--env",
        "CartPole-v1",
        "--seed",
        "0",
        "--state",
        &state,
        "--actions",
        &actions.join(","),
    ])
    .clean();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "t,action,reward,terminated,truncated,obs_0,obs_1,obs_2,obs_3"
    );
    assert_eq!(lines.len(), rows.len() + 1, "{out}");
    for (line, reference) in lines[1..].iter().zip(&rows) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[1], reference[2], "action");
        for i in 0..4 {
            let ours: f64 = cells[5 + i].parse().unwrap();
            let theirs: f64 = reference[3 + i].parse().unwrap();
            assert!((ours - theirs).abs() <= 1e-5, "{line} vs {reference:?}");
        }
        if cells[0] != "0" {
            assert_eq!(
                cells[2].parse::<f64>().unwrap(),
                reference[7].parse::<f64>().unwrap()
            );
            assert_eq!(cells[3] == "true", reference[8] == "1", "terminated");
            assert_eq!(cells[4] == "true", reference[9] == "1", "truncated");
        }
    }
    assert!(
        lines.last().unwrap().contains(",true,false,"),
        "ends by termination"
    );
}

#[test]
fn rollout_takes_env_parameters_and_stops_when_the_actions_run_out() {
    // Not slippery: right, right from the start cell 0 of FrozenLake reaches cell 2.
    let out = qlab(&[
        "rollout",
        "--env",
        "FrozenLake-v1",
        "--param",
        "is_slippery=false",
        "--seed",
        "1",
        "--actions",
        "2,2",
    ])
    .clean();
    assert_eq!(
        out,
        "t,action,reward,terminated,truncated,obs_0\n0,,,,,0\n1,2,0,false,false,1\n2,2,0,false,false,2\n"
    );
}

#[test]
fn rollout_with_random_actions_is_seeded() {
    let args = [
        "rollout",
        "--env",
        "CliffWalking-v1",
        "--seed",
        "5",
        "--max-steps",
        "50",
    ];
    assert_eq!(qlab(&args).clean(), qlab(&args).clean());
}

#[test]
fn rollout_and_bench_reject_bad_input_with_one_line_and_code_2() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["rollout", "--env", "CartPole-v9"],
            "unknown env id `CartPole-v9`",
        ),
        (
            &["rollout", "--env", "CartPole-v1", "--param", "gravity=3"],
            "unknown parameter `gravity`",
        ),
        (
            &["rollout", "--env", "CartPole-v1", "--actions", "0,2"],
            "invalid action 2",
        ),
        (
            &["rollout", "--env", "CartPole-v1", "--state", "0.1,0.2"],
            "CartPole takes 4 values",
        ),
        (
            &["rollout", "--env", "WindyGridworld-v0", "--state", "70"],
            "not a wall",
        ),
        (&["bench", "--env", "Nope-v0"], "unknown env id `Nope-v0`"),
    ];
    for (args, expected) in cases {
        let line = qlab(args).usage_error();
        assert!(line.contains(expected), "{args:?}: {line}");
    }
}

/// The envs `bench` steps through their concrete types besides CartPole and the GridWorlds.
const CONCRETE_BENCH_ENVS: [&str; 6] = [
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Acrobot-v1",
    "Pendulum-v1",
    "Taxi-v4",
    "Blackjack-v1",
];

#[test]
fn bench_prints_one_line_in_the_documented_format() {
    let concrete = CONCRETE_BENCH_ENVS.map(|id| ["bench", "--env", id, "--steps", "1000"]);
    for args in [
        &["bench", "--env", "FrozenLake-v1", "--steps", "1000"][..],
        &concrete[0],
        &concrete[1],
        &concrete[2],
        &concrete[3],
        &concrete[4],
        &concrete[5],
        &[
            "bench",
            "--env",
            "CartPole-v1",
            "--steps",
            "1000",
            "--num-envs",
            "8",
        ],
        &[
            "bench",
            "--env",
            "WindyGridworld-v0",
            "--steps",
            "1000",
            "--num-envs",
            "3",
        ],
    ] {
        let out = qlab(args).clean();
        let env = args[2];
        let k = args.get(6).unwrap_or(&"1");
        let prefix = format!("env={env} num_envs={k} steps=1000 steps_per_second=");
        assert!(out.starts_with(&prefix) && out.ends_with('\n'), "{out}");
        let rate: f64 = out[prefix.len()..].trim().parse().unwrap();
        assert!(rate > 0.0);
    }
}

/// `bench` builds these envs from their configs, not through `make`: the parameters still
/// reach them, checked as `make` checks them (a wrong key, a wrong value).
#[test]
fn bench_applies_and_checks_params_on_the_concrete_envs() {
    for id in CONCRETE_BENCH_ENVS {
        let args = ["bench", "--env", id, "--steps", "10", "--param", "nope=1"];
        let line = qlab(&args).usage_error();
        assert!(line.contains("unknown parameter `nope`"), "{id}: {line}");
    }
    // A time limit of one step ends every episode at once; a wrong one is refused.
    for id in ["MountainCar-v0", "Acrobot-v1", "Pendulum-v1", "Taxi-v4"] {
        let ok = [
            "bench",
            "--env",
            id,
            "--steps",
            "10",
            "--param",
            "max_episode_steps=1",
        ];
        assert!(qlab(&ok).clean().starts_with(&format!("env={id} ")));
        let bad = [
            "bench",
            "--env",
            id,
            "--steps",
            "10",
            "--param",
            "max_episode_steps=0",
        ];
        let line = qlab(&bad).usage_error();
        assert!(line.contains("max_episode_steps"), "{id}: {line}");
    }
}

/// `bench --config … --steps N` makes N the budget, which the run's `config.toml` holds as a
/// TOML integer: past 2⁶³ − 1 it is refused as bad input rather than crashing the writer.
#[test]
fn bench_refuses_a_budget_that_toml_cannot_hold() {
    let line = qlab(&[
        "bench",
        "--config",
        "configs/cliffwalking_sarsa.toml",
        "--steps",
        "9223372036854775808",
    ])
    .usage_error();
    assert_eq!(
        line,
        "error: --steps must be at most 9223372036854775807, got 9223372036854775808"
    );
}
