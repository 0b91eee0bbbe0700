//! The `qlab` binary, run as a user runs it: arguments in; stdout, stderr and the exit code out.

use std::process::Command;

/// What one run of `qlab` gave.
#[derive(Debug)]
struct Run {
    stdout: String,
    stderr: String,
    /// The exit code (`-1` if a signal ended the process).
    code: i32,
}

/// Runs the `qlab` binary of this build with `args`.
fn qlab(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_qlab"))
        .args(args)
        .output()
        .expect("the qlab binary runs");
    Run {
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        code: out.status.code().unwrap_or(-1),
    }
}

impl Run {
    /// Asserts a clean success and returns stdout.
    fn ok(self) -> String {
        assert!(self.code == 0 && self.stderr.is_empty(), "{self:?}");
        self.stdout
    }

    /// Asserts a usage failure: exit code 2, nothing on stdout, one `error:` line on stderr;
    /// returns that line.
    fn usage_error(self) -> String {
        assert_eq!(self.code, 2, "{self:?}");
        assert!(self.stdout.is_empty(), "{self:?}");
        assert!(
            self.stderr.starts_with("error: ") && self.stderr.lines().count() == 1,
            "{self:?}"
        );
        self.stderr.trim_end().to_string()
    }
}

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
    let out = qlab(&["solve", "--env", "CliffWalking-v1"]).ok();
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
    .ok();
    assert_eq!(field(&out, "value"), "-13");
    // One step short of the goal, the best is 12 steps of −1 that stay off the cliff.
    let out = qlab(&["solve", "--env", "CliffWalking-v1", "--horizon", "12"]).ok();
    assert_eq!(field(&out, "value"), "-12");
}

#[test]
fn solve_show_prints_the_values_and_the_policy_on_the_map() {
    let out = qlab(&["solve", "--env", "CliffWalking-v1", "--show"]).ok();
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
        let out = qlab(&[&["solve"], args].concat()).ok();
        let value: f64 = field(&out, "value").parse().unwrap();
        assert_eq!(
            format!("{value:.*}", rounded.len() - rounded.find('.').unwrap() - 1),
            rounded
        );
        assert!((value - reference).abs() < tolerance, "{args:?}: {value}");
    }
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
