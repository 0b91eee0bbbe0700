//! `qlab train` stopped by SIGINT, SIGTERM or SIGHUP: each seed in flight stops at an episode
//! end with a checkpoint (even with `checkpoint_every = 0`), the summary says `interrupted`,
//! the exit status is the shell's for the signal, and `--resume` finishes the run
//! byte-identically to one that was never stopped.
//!
//! The signal is sent once the first seed has written an evaluation, so that it lands while
//! the run trains; should the run still finish first, it is tried again with a larger budget.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::common::{Run, TempDir, json, qlab, read_bytes};
use super::{TINY_DQN, resume, train, train_rows};

/// Trains `config` into `out` on one thread and sends it `signal` (`INT`, `TERM`, `HUP`) once
/// seed `first` has written an evaluation; returns what the run gave, or `None` when it
/// finished before the signal landed.
fn signal_after_an_evaluation(config: &str, out: &Path, first: u64, signal: &str) -> Option<Run> {
    let out_dir = out.to_str().unwrap();
    let eval = out.join(format!("seed_{first}")).join("eval.csv");
    let lines = || std::fs::read(&eval).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
    signal_when(
        &["train", config, "--out", out_dir, "-q", "--threads", "1"],
        || lines() >= 2,
        signal,
    )
}

/// Runs `qlab` with `args` and sends it `signal` once `ready` holds; returns what the command
/// gave, or `None` when it finished before the signal landed.
pub(super) fn signal_when(args: &[&str], ready: impl Fn() -> bool, signal: &str) -> Option<Run> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qlab"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while !ready() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // Until it is waited for, the child's id stays its own, even once it has exited.
    let sent = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let run = Run {
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code().unwrap_or(-1),
    };
    (run.code != 0).then_some(run)
}

/// Writes the config `text(budget)` and stops a run of it with `signal` after the first
/// evaluation of seed `first`, the budget growing fourfold until the signal lands before the
/// run ends; returns the config's path, the run directory and what the run gave.
fn interrupted(
    tmp: &TempDir,
    text: impl Fn(u64) -> String,
    budget: u64,
    first: u64,
    signal: &str,
) -> (String, PathBuf, Run) {
    for k in 0..4 {
        let config = tmp.file(&format!("{signal}-{k}.toml"), &text(budget * 4u64.pow(k)));
        let out = tmp.path(&format!("{signal}-{k}"));
        if let Some(run) = signal_after_an_evaluation(&config, &out, first, signal) {
            return (config, out, run);
        }
    }
    panic!("every run finished before SIG{signal} landed");
}

/// The seeds of a summary's `unfinished_seeds`.
fn unfinished(summary: &serde_json::Value) -> Vec<u64> {
    let seeds = summary["unfinished_seeds"].as_array().unwrap();
    seeds.iter().map(|s| s.as_u64().unwrap()).collect()
}

/// Stops a run of `text` (budget `budget` or more; seeds `seeds`, `checkpoint_every = 0`)
/// with SIGINT and checks what it leaves: exit status 130, the notice and the resume command
/// on stderr, an `interrupted` summary, a checkpoint in the seed that was in flight and no
/// directory for the seeds after it. Then resumes it, and checks that `files` of every seed
/// are byte-identical to those of a run never stopped, as are the seeds' summaries. Returns
/// the stopped-and-resumed run and the whole one.
fn interrupt_and_resume(
    tmp: &TempDir,
    text: impl Fn(u64) -> String,
    budget: u64,
    seeds: &[u64],
    files: &[&str],
) -> (PathBuf, PathBuf) {
    let (config, dir, run) = interrupted(tmp, text, budget, seeds[0], "INT");
    assert_eq!(run.code, 130, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.contains("SIGINT: stopping: ") && run.stderr.contains("press Ctrl-C again"),
        "{run:?}"
    );
    let command = format!("to finish it: qlab train --resume {}", dir.display());
    assert!(run.stderr.lines().any(|l| l == command), "{run:?}");

    let summary = json(dir.join("summary.json"));
    assert_eq!(summary["status"], "interrupted");
    let left = unfinished(&summary);
    let finished = seeds.len() - left.len();
    assert_eq!(summary["per_seed"].as_array().unwrap().len(), finished);
    assert!(
        run.stderr.contains(&format!(
            "interrupted by SIGINT: {finished} of {} seeds finished, 1 stopped at a checkpoint",
            seeds.len()
        )),
        "{run:?}"
    );
    // On one thread, the seed in flight stopped with a checkpoint, and those after it never
    // started.
    let (in_flight, not_started) = left.split_first().expect("a seed left");
    let seed_dir = dir.join(format!("seed_{in_flight}"));
    assert!(seed_dir.join("checkpoint.json").is_file());
    assert!(!seed_dir.join("agent.json").exists());
    for s in not_started {
        assert!(!dir.join(format!("seed_{s}")).exists(), "seed {s}");
    }
    let wall_before = summary["aggregate"]["wall_seconds"].as_f64().unwrap();

    let out = resume(&dir);
    assert!(out.starts_with(dir.to_str().unwrap()), "{out}");
    let resumed = json(dir.join("summary.json"));
    assert_eq!(resumed["status"], "complete");
    assert!(unfinished(&resumed).is_empty());
    assert!(resumed["aggregate"]["wall_seconds"].as_f64().unwrap() > wall_before);

    let whole = tmp.path("whole");
    train(&config, &whole, &["--threads", "1"]);
    let expected = json(whole.join("summary.json"));
    for (i, seed) in seeds.iter().enumerate() {
        let seed_dir = format!("seed_{seed}");
        for f in files {
            assert!(
                read_bytes(whole.join(&seed_dir).join(f))
                    == read_bytes(dir.join(&seed_dir).join(f)),
                "{seed_dir}/{f}"
            );
        }
        for key in [
            "seed",
            "episodes",
            "steps",
            "final_eval_mean_return",
            "final_window_mean_return",
            "best_window_mean_return",
        ] {
            assert_eq!(
                expected["per_seed"][i][key], resumed["per_seed"][i][key],
                "{seed_dir}: {key}"
            );
        }
    }
    (dir, whole)
}

/// A tabular config whose seeds run long enough to be stopped: slippery FrozenLake, so that
/// the env's own stream must be restored; the value error against the DP truth in every row.
fn frozen_lake(episodes: u64) -> String {
    format!(
        "[env]\nid = 'FrozenLake8x8-v1'\n[agent]\nalgorithm = 'q_learning'\nalpha = 0.1\n\
         epsilon = {{ schedule = 'linear', start = 1.0, end = 0.1, episodes = 2000 }}\n\
         [train]\nepisodes = {episodes}\nseeds = [3, 4]\neval_every = 250\neval_episodes = 20\n"
    )
}

/// A tabular run stopped by Ctrl-C (SIGINT) and continued with `--resume` finishes with
/// records and parameters byte-identical to a run that was never stopped, though its config
/// asks for no checkpoints: the stop writes one.
#[test]
fn a_sigint_tabular_run_checkpoints_and_resumes_bit_identically() {
    let tmp = TempDir::new();
    let files = ["metrics.csv", "eval.csv", "agent.json", "agent.bin"];
    interrupt_and_resume(&tmp, frozen_lake, 4_000, &[3, 4], &files);
}

/// A DQN run stopped by Ctrl-C (SIGINT) and continued with `--resume` finishes with records,
/// trainings and weights byte-identical to a run that was never stopped, though its config
/// asks for no checkpoints: the stop writes one, replay buffer and optimizer included.
#[test]
fn a_sigint_dqn_run_checkpoints_and_resumes_bit_identically() {
    let tmp = TempDir::new();
    let text = |steps: u64| {
        TINY_DQN
            .replace("steps = 400", &format!("steps = {steps}"))
            .replace("eval_every = 200", "eval_every = 1000")
    };
    let files = ["metrics.csv", "eval.csv", "agent.json", "q.safetensors"];
    let (dir, whole) = interrupt_and_resume(&tmp, text, 8_000, &[0, 1], &files);
    for seed in ["seed_0", "seed_1"] {
        assert_eq!(
            train_rows(&whole.join(seed)),
            train_rows(&dir.join(seed)),
            "{seed}"
        );
    }
}

/// An A2C run stopped by Ctrl-C (SIGINT) and continued with `--resume` finishes with records,
/// trainings and weights byte-identical to a run that was never stopped, though its config
/// asks for no checkpoints: the stop writes one at the end of the rollout under way, with
/// where each of its envs stands.
#[test]
fn a_sigint_a2c_run_checkpoints_and_resumes_bit_identically() {
    let tmp = TempDir::new();
    let text = |steps: u64| {
        format!(
            "[env]\nid = 'CartPole-v1'\n[agent]\nalgorithm = 'a2c'\nn_envs = 4\nn_steps = 8\n\
             [train]\nsteps = {steps}\nseeds = [0, 1]\neval_every = 1000\neval_episodes = 2\n"
        )
    };
    let files = [
        "metrics.csv",
        "eval.csv",
        "agent.json",
        "policy.safetensors",
    ];
    let (dir, whole) = interrupt_and_resume(&tmp, text, 8_000, &[0, 1], &files);
    for seed in ["seed_0", "seed_1"] {
        assert_eq!(
            train_rows(&whole.join(seed)),
            train_rows(&dir.join(seed)),
            "{seed}"
        );
    }
}

/// SIGTERM and SIGHUP stop a run as SIGINT does, each with the status a shell gives it
/// (128 + its number) and a notice naming it.
#[test]
fn sigterm_and_sighup_stop_a_run_cleanly_with_their_own_exit_status() {
    let tmp = TempDir::new();
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let (_, dir, run) = interrupted(&tmp, frozen_lake, 4_000, 3, signal);
        assert_eq!(run.code, code, "{run:?}");
        assert!(
            run.stderr.contains(&format!("SIG{signal}: stopping: "))
                && run.stderr.contains("send it again"),
            "{run:?}"
        );
        assert!(
            run.stderr
                .contains(&format!("interrupted by SIG{signal}: ")),
            "{run:?}"
        );
        assert_eq!(json(dir.join("summary.json"))["status"], "interrupted");
    }
}

/// `qlab plot` and `qlab compare` on an interrupted run draw and table what it has, with a
/// warning naming the directory and a legend or row that says `interrupted`.
#[test]
fn plot_and_compare_warn_about_an_interrupted_run() {
    let tmp = TempDir::new();
    let (_, dir, _) = interrupted(&tmp, frozen_lake, 4_000, 3, "INT");
    let run_dir = dir.to_str().unwrap();
    let warning = format!("warning: {run_dir} is not a complete run (interrupted: ");
    let png = tmp.path("curves.png");
    let data = tmp.path("curves.csv");
    let plotted = qlab(&[
        "plot",
        run_dir,
        "--out",
        png.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(plotted.code, 0, "{plotted:?}");
    assert!(plotted.stderr.starts_with(&warning), "{plotted:?}");
    let rows = std::fs::read_to_string(&data).unwrap();
    assert!(
        rows.lines()
            .nth(1)
            .unwrap()
            .starts_with("q_learning (interrupted),"),
        "{rows}"
    );
    let md = tmp.path("compare.md");
    let csv = tmp.path("compare.csv");
    let compared = qlab(&[
        "compare",
        run_dir,
        "--out-md",
        md.to_str().unwrap(),
        "--out-csv",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(compared.code, 0, "{compared:?}");
    assert!(compared.stderr.starts_with(&warning), "{compared:?}");
    assert!(
        compared.stdout.contains("q_learning (interrupted)"),
        "{compared:?}"
    );
}
