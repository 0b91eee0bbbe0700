//! Hostile but realistic input: the binary ends every command with its output or with one
//! line of error, never with a panic, an abort or a hang.

use std::process::{Command, Stdio};

use crate::common::qlab;

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
