//! Hostile but realistic input: the binary ends every command with its output or with one
//! line of error, never with a panic, an abort or a hang.

mod fuzz;

use std::process::{Command, Stdio};

use crate::common::{TempDir, qlab};

/// Runs `qlab args` with its stdout a pipe whose reading end is closed at once, as
/// `qlab … | head -1` leaves it, and returns the exit code and stderr.
fn into_a_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qlab"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the qlab binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("qlab ends");
    (
        out.status.code(),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

#[test]
fn a_closed_stdout_pipe_ends_quietly_not_with_a_panic() {
    for args in [
        &["rollout", "--env", "CartPole-v1", "--seed", "1"][..],
        &["render", "--env", "CliffWalking-v1", "--max-steps", "50"],
        &["envs"],
    ] {
        let (code, stderr) = into_a_closed_pipe(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn a_set_with_a_newline_is_refused_not_half_applied() {
    let line = qlab(&[
        "train",
        "configs/cliffwalking_sarsa.toml",
        "--set",
        "train.episodes=1\ntrain.seeds=[1]",
    ])
    .usage_error();
    assert!(line.contains("a value must be on one line"), "{line}");
}

/// A DQN small enough to train in a fraction of a second.
const TINY_DQN: &str = "\
[env]
id = \"CartPole-v1\"

[agent]
algorithm = \"dqn\"
learning_starts = 50
train_freq = 50
batch_size = 8
buffer_size = 100
network = { torso = { type = \"mlp\", hidden = [8] } }

[train]
steps = 100
seeds = [0]
eval_every = 0
";

/// `qlab train CONFIG --set SET…`'s one line of error.
fn train_error(config: &str, sets: &[&str]) -> String {
    let mut args = vec!["train", config];
    for s in sets {
        args.extend(["--set", s]);
    }
    qlab(&args).usage_message()
}

#[test]
fn zero_width_layers_and_a_list_for_network_are_refused_before_anything_is_built() {
    for (set, key) in [
        (
            r#"agent.network={torso={type="mlp",hidden=[0]}}"#,
            "network.torso.hidden[0]",
        ),
        (
            r#"agent.network={torso={type="mlp",hidden=[64,0]}}"#,
            "network.torso.hidden[1]",
        ),
        (
            r#"agent.network={torso={type="lstm",hidden=0}}"#,
            "network.torso.hidden",
        ),
        (
            r#"agent.network={torso={type="gru",fc=[0]}}"#,
            "network.torso.fc[0]",
        ),
        (
            r#"agent.network={head={type="dueling",hidden=[0]}}"#,
            "network.head.hidden[0]",
        ),
    ] {
        let line = train_error("configs/cartpole_dqn.toml", &[set]);
        assert!(
            line.contains(&format!("`{key}`: expected 1 to 16384")),
            "{set}: {line}"
        );
    }
    let line = train_error(
        "configs/pixel_gridworld_cnn_dqn.toml",
        &[r#"agent.network={torso={type="cnn",layers=[{type="conv",channels=0,kernel=3}]}}"#],
    );
    assert!(
        line.contains("`network.torso.layers[0].channels`"),
        "{line}"
    );
    let line = train_error("configs/cartpole_dqn.toml", &["agent.network=[]"]);
    assert!(line.contains("`network` must be a table"), "{line}");
}

#[test]
fn huge_batch_gradient_steps_n_and_buffer_sizes_are_refused_not_a_capacity_overflow() {
    let huge = "100000000000000";
    for (key, expected) in [
        ("batch_size", "expected 1 to 65536"),
        ("gradient_steps", "expected 1 to 1000000, or -1"),
        ("buffer_size", "expected 1 to 1099511627776"),
        ("n_step", "expected 1 to 100"),
    ] {
        let line = train_error(
            "configs/cartpole_dqn.toml",
            &[&format!("agent.{key}={huge}")],
        );
        assert!(
            line.contains(&format!("for `{key}`: {expected}")),
            "{key}: {line}"
        );
    }
    // Within the ranges, but more draws per training than are held at once.
    let line = train_error(
        "configs/cartpole_dqn.toml",
        &["agent.gradient_steps=1000000", "agent.batch_size=65536"],
    );
    assert!(
        line.contains("at most 2²⁶ transitions drawn per training"),
        "{line}"
    );
    let line = train_error(
        "configs/cliffwalking_n_step_sarsa.toml",
        &[&format!("agent.n={huge}")],
    );
    assert!(line.contains("an integer from 1 to 100000"), "{line}");
}

#[test]
fn a_replay_buffer_larger_than_the_machine_is_refused_with_the_bytes_it_needs() {
    let tmp = TempDir::new();
    let out = tmp.path("run");
    let line = qlab(&[
        "train",
        "configs/cartpole_dqn.toml",
        "--set",
        "agent.buffer_size=1000000000000",
        "--out",
        out.to_str().unwrap(),
    ])
    .usage_message();
    // 10¹² transitions of 4 numbers: 46 bytes each.
    assert!(
        line.contains("the replay would need 46000000000000 bytes"),
        "{line}"
    );
    assert!(!out.exists(), "a refused config leaves no run directory");
}

#[test]
fn out_of_range_bench_and_plot_options_are_refused_not_allocated_or_looped_on() {
    let line = qlab(&["bench", "--env", "CartPole-v1", "--num-envs", "100000000"]).usage_message();
    assert_eq!(line, "--num-envs must be in 1..=65536, got 100000000");
    let line = qlab(&["plot", "no-such-run", "--width", "100000"]).usage_message();
    assert!(
        line.contains("16 to 8192 pixels a side, got 100000×640"),
        "{line}"
    );
    // An axis 2e308 wide: its tick search never ended.
    let line = qlab(&["plot", "no-such-run", "--ylim=-1e308,1e308"]).usage_message();
    assert!(
        line.starts_with("--ylim takes two finite numbers"),
        "{line}"
    );
    assert!(line.ends_with("got -1e308,1e308"), "{line}");
}

#[test]
fn a_gridworld_with_no_reachable_goal_and_no_time_limit_is_refused_not_stepped_forever() {
    let line = qlab(&[
        "rollout",
        "--env",
        "CliffWalking-v1",
        "--param",
        "map=\"S.#G\"",
        "--param",
        "max_episode_steps=0",
    ])
    .usage_message();
    assert!(
        line.contains("a goal or hole that can be reached from a start cell"),
        "{line}"
    );
}

#[test]
fn a_value_of_1e300_is_echoed_as_1e300_not_301_digits() {
    for set in [
        "agent.alpha=1e300",
        "agent.alpha=-1e300",
        "train.episodes=1e300",
    ] {
        let line = train_error("configs/cliffwalking_sarsa.toml", &[set]);
        let number = &set[set.find('=').unwrap() + 1..];
        assert!(line.matches(number).count() >= 2, "{set}: {line}");
        assert!(line.len() < 200, "{set}: {line}");
    }
}

#[test]
fn an_out_under_a_file_is_named_not_a_directory_not_file_exists() {
    let tmp = TempDir::new();
    let file = tmp.file("plain", "x");
    let line = train_error(
        "configs/cliffwalking_sarsa.toml",
        &[&format!("output.dir={file}"), "train.episodes=1"],
    );
    assert!(line.contains("is a file, not a directory"), "{line}");
    assert!(!line.contains("File exists"), "{line}");
    let under = format!("{file}/run");
    let line = qlab(&["train", "configs/cliffwalking_sarsa.toml", "--out", &under]).usage_message();
    assert_eq!(
        line,
        format!("{file} is a file, not a directory: {under} cannot be made under it")
    );
}

#[test]
fn render_with_a_bad_fps_leaves_an_existing_out_untouched() {
    let tmp = TempDir::new();
    let out = tmp.file("keep.gif", "keep");
    for fps in ["0", "1000", "NaN"] {
        let line = qlab(&[
            "render",
            "--env",
            "CartPole-v1",
            "--fps",
            fps,
            "--out",
            &out,
        ])
        .usage_message();
        assert!(line.starts_with("--fps must be in (0, 100]"), "{line}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
    }
    let line = qlab(&[
        "render",
        "--env",
        "CartPole-v1",
        "--episodes",
        "0",
        "--out",
        &out,
    ])
    .usage_message();
    assert_eq!(line, "--episodes must be at least 1, got 0");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
}

#[test]
fn render_plays_a_dqn_run_and_attack_with_a_huge_eps_writes_both_files() {
    let tmp = TempDir::new();
    let config = tmp.file("dqn.toml", TINY_DQN);
    let run = tmp.path("run");
    let run = run.to_str().unwrap();
    qlab(&["train", &config, "--out", run]).ok();
    let text = qlab(&["render", run, "--max-steps", "2"]).clean();
    assert!(text.starts_with("episode 1  step 0  return 0\n"), "{text}");
    assert!(text.contains("episode 1  step 2  return 2\n"), "{text}");
    let gif = tmp.path("agent.gif");
    let line = qlab(&[
        "render",
        run,
        "--max-steps",
        "3",
        "--out",
        gif.to_str().unwrap(),
    ])
    .clean();
    assert!(
        line.ends_with("1 episode, 4 frames at 50 fps, returns 3\n"),
        "{line}"
    );
    // One ε of 1e17: the chart's axis used to be 1e17 ± 0.5, which rounds to nothing.
    let csv = tmp.path("attack.csv");
    qlab(&[
        "attack",
        run,
        "--attack",
        "fgsm",
        "--eps",
        "1e17",
        "--episodes",
        "1",
        "--out",
        csv.to_str().unwrap(),
    ])
    .ok();
    assert!(csv.exists() && csv.with_extension("png").exists());
}

/// A saved network whose action count no longer matched its config was reported as "a network
/// for observations of shape [4] and 3 actions, but config.toml makes one for [4] and 2",
/// which reads as if the equal shapes differed: only what differs is named.
#[test]
fn a_saved_network_of_another_size_names_only_what_differs_not_shape_4_but_4() {
    let tmp = TempDir::new();
    let config = tmp.file("dqn.toml", TINY_DQN);
    let run = tmp.path("run");
    let run_arg = run.to_str().unwrap();
    qlab(&["train", &config, "--out", run_arg]).ok();
    let agent_json = run.join("seed_0").join("agent.json");
    let text = std::fs::read_to_string(&agent_json).unwrap();
    let edited = text.replace("\"n_actions\": 2", "\"n_actions\": 3");
    assert_ne!(edited, text, "{text}");
    std::fs::write(&agent_json, edited).unwrap();
    let r = qlab(&["eval", run_arg]);
    assert_ne!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("the saved network is for 3 actions, config.toml's env has 2"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("shape"), "{}", r.stderr);
}
