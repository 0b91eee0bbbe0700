//! The run directory's integrity: a crash, a full disk or a bad input never leaves a result
//! that looks valid and is not. Each test is named after the failure it guards.

use std::fs;
use std::path::{Path, PathBuf};

use super::{resume, train};
use crate::common::{TempDir, json, qlab, read};

/// Three seeds of slippery FrozenLake, each checkpointing every 500 steps (a few times per
/// seed) and finishing well after its last checkpoint.
const CHECKPOINTED: &str = "[env]\nid = 'FrozenLake-v1'\n[agent]\nalgorithm = 'q_learning'\n\
    alpha = 0.1\n[train]\nepisodes = 300\nseeds = [0, 1, 2]\neval_every = 100\n\
    eval_episodes = 2\ncheckpoint_every = 500\n";

/// A finished run of [`CHECKPOINTED`] in `tmp/run`.
fn checkpointed_run(tmp: &TempDir) -> PathBuf {
    let config = tmp.file("frozen.toml", CHECKPOINTED);
    let run = tmp.path("run");
    train(&config, &run, &[]);
    run
}

/// Makes seed `seed` of `run` look killed after its last checkpoint: its final files go.
fn unfinish(run: &Path, seed: u64) -> PathBuf {
    let dir = run.join(format!("seed_{seed}"));
    for f in ["seed_summary.json", "agent.json", "agent.bin"] {
        fs::remove_file(dir.join(f)).unwrap();
    }
    assert!(dir.join("checkpoint.json").is_file());
    dir
}

/// The agent state file of the checkpoint in `seed_dir`.
fn checkpoint_agent(seed_dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> = fs::read_dir(seed_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "agent"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

/// Replaces the digit at or after `from` in `path` with another digit.
fn flip_digit(path: &Path, from: usize) {
    let mut bytes = fs::read(path).unwrap();
    let i = from
        + bytes[from..]
            .iter()
            .position(u8::is_ascii_digit)
            .expect("a digit");
    bytes[i] = if bytes[i] == b'9' { b'1' } else { bytes[i] + 1 };
    fs::write(path, bytes).unwrap();
}

/// Runs `qlab train --resume RUN -q`, asserting that it fails while running (exit 1);
/// returns stderr.
fn failed_resume(run: &Path) -> String {
    let r = qlab(&["train", "--resume", run.to_str().unwrap(), "-q"]);
    assert_eq!(r.code, 1, "{r:?}");
    r.stderr
}

/// The seeds `summary.json` of `run` lists.
fn summary_seeds(run: &Path) -> Vec<u64> {
    json(run.join("summary.json"))["per_seed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seed"].as_u64().unwrap())
        .collect()
}

/// A seed past TOML's largest integer was once written to `config.toml` as a negative number,
/// after which the run could not be evaluated or resumed: it is written losslessly.
#[test]
fn a_seed_above_i64_max_is_written_losslessly_so_the_run_evaluates_and_resumes() {
    let tmp = TempDir::new();
    let config = tmp.file(
        "cliff.toml",
        "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'sarsa'\n[train]\nepisodes = 3\n\
         eval_episodes = 1\n",
    );
    let run = tmp.path("run");
    let seed = "9223372036854775808";
    train(&config, &run, &["--seeds", seed]);
    assert!(read(run.join("config.toml")).contains(&format!("seeds = \"{seed}\"")));
    assert!(run.join(format!("seed_{seed}/agent.json")).is_file());
    let evaluated = qlab(&["eval", run.to_str().unwrap()]).ok();
    assert!(
        evaluated.lines().nth(1).unwrap().starts_with(seed),
        "{evaluated}"
    );
    resume(&run);
    assert_eq!(summary_seeds(&run), [1u64 << 63]);
}

/// `--seeds 0..100000000` hung in a pairwise duplicate check: it is refused at once.
#[test]
fn a_hundred_million_seeds_are_refused_at_once_instead_of_hanging() {
    let tmp = TempDir::new();
    let config = tmp.file(
        "cliff.toml",
        "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'sarsa'\n[train]\nepisodes = 1\n",
    );
    let err = qlab(&["train", &config, "--seeds", "0..100000000", "-q"]).usage_message();
    assert_eq!(
        err,
        "--seeds 0..100000000: the range 0..100000000 holds 100000000 seeds; a run takes at \
         most 100000"
    );
}

/// `--resume` once padded a `metrics.csv` shorter than its checkpoint recorded with NUL bytes
/// and exited 0: it refuses, naming the file, and leaves it as it was.
#[test]
fn a_metrics_csv_cut_short_after_its_checkpoint_is_refused_not_padded_with_nul_bytes() {
    let tmp = TempDir::new();
    let run = checkpointed_run(&tmp);
    let dir = unfinish(&run, 1);
    let metrics = dir.join("metrics.csv");
    fs::OpenOptions::new()
        .write(true)
        .open(&metrics)
        .unwrap()
        .set_len(100)
        .unwrap();
    let err = failed_resume(&run);
    assert!(
        err.contains("seed_1/metrics.csv") && err.contains("shorter than its checkpoint"),
        "{err}"
    );
    let bytes = fs::read(&metrics).unwrap();
    assert_eq!(bytes.len(), 100);
    assert!(!bytes.contains(&0));
}

/// A flipped byte in a checkpoint's agent state file once resumed silently with different
/// values: the checksum in `checkpoint.json` refuses it, naming the file.
#[test]
fn a_flipped_byte_in_a_checkpoint_agent_file_is_refused_naming_the_file() {
    let tmp = TempDir::new();
    let run = checkpointed_run(&tmp);
    let dir = unfinish(&run, 1);
    let agent = checkpoint_agent(&dir);
    let len = fs::metadata(&agent).unwrap().len() as usize;
    flip_digit(&agent, len / 2);
    let err = failed_resume(&run);
    let name = agent.file_name().unwrap().to_str().unwrap();
    assert!(
        err.contains(name) && err.contains("checksum"),
        "{name}: {err}"
    );
}

/// A flipped byte in `checkpoint.json` (here: its episode count) once resumed silently: its
/// checksum refuses it, naming the file.
#[test]
fn a_flipped_byte_in_checkpoint_json_is_refused_naming_the_file() {
    let tmp = TempDir::new();
    let run = checkpointed_run(&tmp);
    let dir = unfinish(&run, 1);
    let sidecar = dir.join("checkpoint.json");
    let at = read(sidecar.clone()).find("\"episodes\":").unwrap();
    flip_digit(&sidecar, at);
    let err = failed_resume(&run);
    assert!(
        err.contains("seed_1/checkpoint.json") && err.contains("checksum"),
        "{err}"
    );
}

/// A `config.toml` edited after a checkpoint once resumed with the new values mixed into the
/// old records: it is refused, naming the key; so is a budget cut below the checkpoint. A
/// longer budget continues.
#[test]
fn a_config_edited_since_the_checkpoint_is_refused_on_resume() {
    let tmp = TempDir::new();
    let run = checkpointed_run(&tmp);
    unfinish(&run, 1);
    let config = run.join("config.toml");
    let original = read(config.clone());
    assert!(original.contains("alpha = 0.1\n"), "{original}");
    fs::write(&config, original.replace("alpha = 0.1\n", "alpha = 0.2\n")).unwrap();
    let err = failed_resume(&run);
    assert!(
        err.contains("config.toml no longer matches the checkpoint")
            && err.contains("[agent] alpha = 0.1 at the checkpoint, alpha = 0.2 now"),
        "{err}"
    );
    fs::write(&config, original.replace("episodes = 300", "episodes = 5")).unwrap();
    let err = failed_resume(&run);
    assert!(
        err.contains("episodes = 5") && err.contains("below the checkpoint's"),
        "{err}"
    );
    fs::write(
        &config,
        original.replace("episodes = 300", "episodes = 400"),
    )
    .unwrap();
    resume(&run);
    let summary = json(run.join("summary.json"));
    assert_eq!(summary["per_seed"][1]["episodes"], 400);
    assert_eq!(summary["per_seed"][0]["episodes"], 300);
}

/// A seed directory whose `checkpoint.json` went missing was once deleted and started again
/// silently: it is refused, naming the directory and how to start the seed again.
#[test]
fn a_seed_directory_without_its_checkpoint_is_refused_not_deleted() {
    let tmp = TempDir::new();
    let run = checkpointed_run(&tmp);
    let dir = unfinish(&run, 1);
    fs::remove_file(dir.join("checkpoint.json")).unwrap();
    let err = failed_resume(&run);
    assert!(
        err.contains("seed_1 holds records but no checkpoint.json") && err.contains("delete"),
        "{err}"
    );
    assert!(dir.join("metrics.csv").is_file());
}

/// A seed killed before its first checkpoint was due has lost nothing (its run depends on the
/// config and seed alone): it starts again, and its records come out byte-identical.
#[test]
fn a_seed_killed_before_any_checkpoint_was_due_starts_again_identically() {
    let tmp = TempDir::new();
    let config = tmp.file(
        "frozen.toml",
        &CHECKPOINTED.replace("checkpoint_every = 500", "checkpoint_every = 0"),
    );
    let run = tmp.path("run");
    train(&config, &run, &[]);
    let dir = run.join("seed_1");
    let before = fs::read(dir.join("metrics.csv")).unwrap();
    for f in ["seed_summary.json", "agent.json", "agent.bin", "eval.csv"] {
        fs::remove_file(dir.join(f)).unwrap();
    }
    let half = before.len() / 2;
    fs::write(dir.join("metrics.csv"), &before[..half]).unwrap();
    let r = qlab(&["train", "--resume", run.to_str().unwrap(), "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("no checkpoint was due yet"),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read(dir.join("metrics.csv")).unwrap(), before);
    assert_eq!(summary_seeds(&run), [0, 1, 2]);
}

/// A `checkpoint.json` naming an agent file outside its seed directory was once restored from
/// and, at the next checkpoint, deleted: it is refused, and the file is kept.
#[test]
fn a_checkpoint_naming_a_file_outside_its_seed_directory_is_refused_and_the_file_kept() {
    let tmp = TempDir::new();
    let run = checkpointed_run(&tmp);
    let dir = unfinish(&run, 1);
    let agent = checkpoint_agent(&dir);
    let victim = tmp.path("victim");
    fs::copy(&agent, &victim).unwrap();
    let sidecar = dir.join("checkpoint.json");
    let name = agent.file_name().unwrap().to_str().unwrap();
    let text = read(sidecar.clone()).replace(name, "../../victim");
    fs::write(&sidecar, text).unwrap();
    failed_resume(&run);
    assert!(victim.is_file());
}

/// A resume where several seeds failed once reported only the first; it reports one line per
/// failed seed, and the summary keeps the seed that finished.
#[test]
fn every_failed_seed_is_reported_and_the_finished_seeds_kept_in_the_summary() {
    let tmp = TempDir::new();
    let run = checkpointed_run(&tmp);
    for seed in [1, 2] {
        let dir = unfinish(&run, seed);
        fs::write(dir.join("checkpoint.json"), "{").unwrap();
    }
    let err = failed_resume(&run);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("error: seed 1: "), "{err}");
    assert!(lines[1].starts_with("seed 2: "), "{err}");
    assert!(lines.iter().all(|l| l.contains("checkpoint.json")), "{err}");
    assert_eq!(summary_seeds(&run), [0]);
}

/// A resume where every seed failed once wrote a `summary.json` with `per_seed: []`, which
/// looks like a result: no summary is written.
#[test]
fn a_resume_where_every_seed_fails_writes_no_empty_summary() {
    let tmp = TempDir::new();
    let run = checkpointed_run(&tmp);
    fs::remove_file(run.join("summary.json")).unwrap();
    for seed in [0, 1, 2] {
        let dir = unfinish(&run, seed);
        fs::write(dir.join("checkpoint.json"), "{").unwrap();
    }
    let err = failed_resume(&run);
    assert_eq!(err.lines().count(), 3, "{err}");
    assert!(!run.join("summary.json").exists());
}
