//! `qlab sweep` with the local executor: each point is the run `qlab train --set …` of it
//! makes, the same sweep gives the same points and the same `sweep.csv`, `--resume` finishes
//! a stopped sweep, and a malformed sweep file is refused before anything runs.

use std::fs;
use std::path::{Path, PathBuf};

use super::common::{Run, TempDir, json, qlab, read, read_bytes};
use super::signals::signal_when;
use super::{seed_files, train};

/// The base config of the sweeps here: a few cliff-walk episodes, evaluations cut short.
const BASE: &str = "\
[env]
id = \"CliffWalking-v1\"

[agent]
algorithm = \"sarsa\"
alpha = 0.5
epsilon = 0.1

[train]
episodes = 12
seeds = \"0..5\"
eval_every = 6
eval_episodes = 1
eval_max_steps = 60
max_steps_per_episode = 200
";

/// A 3 × 2 grid over the base config, three seeds.
const GRID: &str = "\
base = \"base.toml\"
seeds = \"0..3\"
metric = \"final_window_mean_return\"

[grid]
\"agent.alpha\" = [0.1, 0.3, 0.5]
\"agent.epsilon\" = [0.05, 0.1]
";

/// A grid of two points, then four random trials.
const MIXED: &str = "\
base = \"base.toml\"
seeds = [0, 1]
metric = \"final_window_mean_return\"

[grid]
\"agent.epsilon\" = [0.05, 0.2]

[search]
method = \"random\"
trials = 4
seed = 11

[search.space]
\"agent.alpha\" = { loguniform = [0.01, 1.0] }
\"agent.gamma\" = { uniform = [0.8, 1.0] }
\"train.episodes\" = { int = [4, 9] }
\"agent.policy\" = { choice = [\"epsilon_greedy\", \"softmax\"] }
";

/// A temporary directory holding [`BASE`] as `base.toml` and `sweep` as `sweep.toml`, and
/// the sweep file's path.
fn setup(sweep: &str) -> (TempDir, String) {
    let tmp = TempDir::new();
    tmp.file("base.toml", BASE);
    let file = tmp.file("sweep.toml", sweep);
    (tmp, file)
}

/// Runs `qlab sweep SWEEP --out OUT -q EXTRA…`.
fn sweep_run(sweep: &str, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["sweep", sweep, "--out", out.to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    qlab(&args)
}

/// The rows of `sweep.csv`, each split into its cells (no cell here holds a comma).
fn csv_rows(dir: &Path) -> Vec<Vec<String>> {
    read(dir.join("sweep.csv"))
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// `summary.json` without its timings, which differ from run to run.
fn untimed_summary(dir: &Path) -> serde_json::Value {
    let mut s = json(dir.join("summary.json"));
    for line in s["per_seed"].as_array_mut().unwrap() {
        let line = line.as_object_mut().unwrap();
        line.remove("wall_seconds").unwrap();
        line.remove("steps_per_second").unwrap();
    }
    let aggregate = s["aggregate"].as_object_mut().unwrap();
    aggregate.remove("wall_seconds").unwrap();
    aggregate.remove("steps_per_second").unwrap();
    s
}

/// The point directories of a sweep directory, sorted.
fn point_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn each_grid_point_is_the_run_qlab_train_makes_of_it() {
    let (tmp, sweep) = setup(GRID);
    let out = tmp.path("sweep");
    sweep_run(&sweep, &out, &[]).clean();
    assert_eq!(
        point_dirs(&out),
        ["p000", "p001", "p002", "p003", "p004", "p005"]
    );
    let rows = csv_rows(&out);
    assert_eq!(
        rows[0].join(","),
        "point,agent.alpha,agent.epsilon,metric_mean,metric_iqm,metric_low,metric_high,seeds,stopped_at,status"
    );
    assert_eq!(rows.len(), 7);
    let base = tmp.path("base.toml").display().to_string();
    let mut k = 0;
    for alpha in ["0.1", "0.3", "0.5"] {
        for epsilon in ["0.05", "0.1"] {
            let name = format!("p00{k}");
            let row = &rows[k + 1];
            assert_eq!(row[..3], [name.as_str(), alpha, epsilon], "{row:?}");
            assert_eq!(row[7..], ["3", "", "finished"], "{row:?}");
            let alone = tmp.path(&format!("alone-{k}"));
            let (a, e) = (
                format!("agent.alpha={alpha}"),
                format!("agent.epsilon={epsilon}"),
            );
            train(
                &base,
                &alone,
                &["--set", &a, "--set", &e, "--seeds", "0..3"],
            );
            let point = out.join(&name);
            assert_eq!(
                read(point.join("config.toml")),
                read(alone.join("config.toml"))
            );
            assert_eq!(untimed_summary(&point), untimed_summary(&alone), "{name}");
            for seed in 0..3 {
                assert!(
                    seed_files(&point, seed) == seed_files(&alone, seed),
                    "{name} seed {seed}"
                );
            }
            // The mean is the summary's own mean over seeds.
            let mean: f64 = row[3].parse().unwrap();
            let summary = json(point.join("summary.json"));
            assert_eq!(
                mean,
                summary["aggregate"]["final_window_mean_return"]
                    .as_f64()
                    .unwrap()
            );
            let (iqm, low, high): (f64, f64, f64) = (
                row[4].parse().unwrap(),
                row[5].parse().unwrap(),
                row[6].parse().unwrap(),
            );
            assert!(low <= iqm && iqm <= high, "{row:?}");
            k += 1;
        }
    }
    // best.toml is the config of the point with the highest mean, the first of equals.
    let means: Vec<f64> = rows[1..].iter().map(|r| r[3].parse().unwrap()).collect();
    let best = (0..means.len()).fold(0, |b, i| if means[i] > means[b] { i } else { b });
    let best_toml = read(out.join("best.toml"));
    assert_eq!(
        best_toml,
        read(out.join(format!("p00{best}")).join("config.toml"))
    );
    qlab::config::Config::parse("best.toml", &best_toml, &[]).unwrap();
}

#[test]
fn the_same_sweep_twice_gives_the_same_points_and_the_same_table() {
    let (tmp, sweep) = setup(MIXED);
    let (one, two) = (tmp.path("one"), tmp.path("two"));
    let printed = sweep_run(&sweep, &one, &[]).clean();
    sweep_run(&sweep, &two, &["--threads", "1"]).clean();
    assert_eq!(
        read_bytes(one.join("sweep.csv")),
        read_bytes(two.join("sweep.csv"))
    );
    assert_eq!(read(one.join("sweep.toml")), read(two.join("sweep.toml")));
    assert_eq!(read(one.join("best.toml")), read(two.join("best.toml")));
    let rows = csv_rows(&one);
    assert_eq!(
        rows[0].join(","),
        "point,agent.epsilon,agent.alpha,agent.gamma,train.episodes,agent.policy,metric_mean,\
         metric_iqm,metric_low,metric_high,seeds,stopped_at,status"
    );
    assert_eq!(rows.len(), 7);
    // Grid points leave the search keys at the base config's values, and the other way round.
    assert_eq!(rows[1][1..6], ["0.05", "", "", "", ""]);
    assert_eq!(rows[2][1..6], ["0.2", "", "", "", ""]);
    let mut episodes = Vec::new();
    for (i, row) in rows[3..].iter().enumerate() {
        assert_eq!(row[0], format!("p00{}", i + 2));
        assert_eq!(row[1], "");
        let alpha: f64 = row[2].parse().unwrap();
        let gamma: f64 = row[3].parse().unwrap();
        let n: u64 = row[4].parse().unwrap();
        assert!((0.01..=1.0).contains(&alpha), "{row:?}");
        assert!((0.8..1.0).contains(&gamma), "{row:?}");
        assert!((4..=9).contains(&n), "{row:?}");
        assert!(
            ["epsilon_greedy", "softmax"].contains(&row[5].as_str()),
            "{row:?}"
        );
        assert_eq!(row[12], "finished");
        // The values drawn are the point's config's, exactly.
        let config = read(one.join(&row[0]).join("config.toml"));
        assert!(
            config.contains(&format!("alpha = {}\n", row[2])),
            "{config}"
        );
        assert!(
            config.contains(&format!("gamma = {}\n", row[3])),
            "{config}"
        );
        assert!(config.contains(&format!("episodes = {n}\n")), "{config}");
        let summary = json(one.join(&row[0]).join("summary.json"));
        assert_eq!(summary["per_seed"][0]["episodes"].as_u64(), Some(n));
        episodes.push(n);
    }
    // Four draws of one stream, not one draw four times.
    assert!(episodes.windows(2).any(|w| w[0] != w[1]) || rows[3][2] != rows[4][2]);
    assert!(
        printed.starts_with(&format!("{}\n", one.display())),
        "{printed}"
    );
    assert!(printed.contains("best (max): p0"), "{printed}");
}

#[test]
fn a_resumed_sweep_runs_only_what_is_missing_and_ends_with_the_same_table() {
    let (tmp, sweep) = setup(GRID);
    let out = tmp.path("sweep");
    sweep_run(&sweep, &out, &[]).clean();
    let csv = read_bytes(out.join("sweep.csv"));
    let best = read_bytes(out.join("best.toml"));
    let kept = read_bytes(out.join("p000").join("summary.json"));
    let p001_seed_0 = seed_files(&out.join("p001"), 0);
    // As a sweep killed mid-way leaves it: a point whose summary was not written yet, a point
    // never begun, no best.toml.
    fs::remove_file(out.join("p001").join("summary.json")).unwrap();
    fs::remove_dir_all(out.join("p003")).unwrap();
    fs::remove_file(out.join("best.toml")).unwrap();
    sweep_run(&sweep, &out, &[]).usage_message();
    let printed = sweep_run(&sweep, &out, &["--resume"]).clean();
    assert!(printed.contains("p003"), "{printed}");
    assert_eq!(read_bytes(out.join("sweep.csv")), csv);
    assert_eq!(read_bytes(out.join("best.toml")), best);
    // The finished point was read, not run again (its timings would differ).
    assert_eq!(read_bytes(out.join("p000").join("summary.json")), kept);
    assert!(seed_files(&out.join("p001"), 0) == p001_seed_0);
    assert_eq!(
        json(out.join("p001").join("summary.json"))["status"],
        "complete"
    );
    assert_eq!(
        point_dirs(&out),
        ["p000", "p001", "p002", "p003", "p004", "p005"]
    );
    // Resuming a finished sweep changes nothing.
    sweep_run(&sweep, &out, &["--resume"]).clean();
    assert_eq!(read_bytes(out.join("p000").join("summary.json")), kept);
    assert_eq!(read_bytes(out.join("sweep.csv")), csv);
}

#[test]
fn a_directory_of_another_sweep_or_a_non_empty_one_is_refused() {
    let (tmp, sweep) = setup(GRID);
    let out = tmp.path("sweep");
    sweep_run(&sweep, &out, &[]).clean();
    let before = read_bytes(out.join("sweep.csv"));
    let other = tmp.file("other.toml", &GRID.replace("[0.1, 0.3, 0.5]", "[0.1, 0.3]"));
    let e = sweep_run(&other, &out, &["--resume"]).usage_message();
    assert_eq!(
        e,
        format!(
            "{} holds another sweep: its sweep.toml is not the resolved form of {other}; resume \
             it with the sweep file that made it, or choose another --out",
            out.display()
        )
    );
    let e = sweep_run(&other, &out, &[]).usage_message();
    assert!(
        e.contains("already exists and is not empty") && e.contains("--resume"),
        "{e}"
    );
    // A point whose config no longer is the point's: the base config changed.
    tmp.file("base.toml", &BASE.replace("episodes = 12", "episodes = 13"));
    let e = sweep_run(&sweep, &out, &["--resume"]).usage_message();
    assert!(e.ends_with("(did the base config change?); resume with the files that made the sweep, or choose another --out"), "{e}");
    let e = sweep_run(&sweep, &tmp.path("nowhere"), &["--resume"]).usage_message();
    assert!(
        e.contains("is not a sweep directory: it has no sweep.toml"),
        "{e}"
    );
    assert_eq!(read_bytes(out.join("sweep.csv")), before);
    let e = qlab(&["sweep", &sweep, "--resume"]).stderr;
    assert!(e.contains("--out"), "{e}");
}

#[test]
fn malformed_sweep_files_are_refused_in_one_line_at_file_line_and_key_before_anything_runs() {
    let (tmp, _) = setup(GRID);
    for (from, to, want) in [
        (
            "metric = ",
            "metrics = 1\nmetric = ",
            ":3: unknown key `metrics`; allowed: base, seeds, metric, mode, grid, search, stop",
        ),
        (
            "[0.05, 0.1]",
            "[]",
            ":7: [grid] `agent.epsilon` must be a non-empty list of values, got []",
        ),
        (
            "\"agent.epsilon\" = [0.05, 0.1]",
            "[search]\nmethod = \"random\"\ntrials = 2\n[search.space]\n\"agent.alpha\" = { loguniform = [0, 1] }",
            ":11: [search.space] `agent.alpha`: `loguniform` must be two finite numbers [lo, hi] \
             with 0 < lo < hi, got [0, 1]",
        ),
        (
            "\"agent.epsilon\"",
            "\"agent.nope\"",
            ":7: [grid] `agent.nope` = 0.05 (p000): [agent] unknown key `nope`; allowed: \
             algorithm, alpha, gamma, policy, epsilon, temperature, initial_value",
        ),
        (
            "[0.05, 0.1]",
            "[0.05, 1.5]",
            ":7: [grid] `agent.epsilon` = 1.5 (p001): [agent] invalid value 1.5 for `epsilon`: expected a number in [0, 1]",
        ),
        (
            "metric = \"final_window_mean_return\"",
            "metric = \"best_eval_mean_return\"",
            ":3: `metric`: best_eval_mean_return is written only with [train] keep_best = true, \
             which p000's config leaves off",
        ),
        ("base.toml", "missing.toml", ":1: `base`: cannot read "),
    ] {
        assert!(GRID.contains(from), "{from}");
        let file = tmp.file("bad.toml", &GRID.replacen(from, to, 1));
        let out = tmp.path("never");
        let e = sweep_run(&file, &out, &[]).usage_message();
        assert!(
            e.starts_with(&format!("{file}{}", &want[..want.len().min(20)])),
            "{e}"
        );
        if !want.ends_with("cannot read ") {
            assert_eq!(e, format!("{file}{want}"));
        }
        assert!(!out.exists(), "{e}");
    }
}

#[test]
fn the_ray_executor_tpe_and_early_stopping_are_refused_naming_the_python_package() {
    let (tmp, sweep) = setup(GRID);
    let out = tmp.path("never");
    let e = sweep_run(&sweep, &out, &["--executor", "ray"]).usage_message();
    assert_eq!(
        e,
        "--executor ray runs from the Python package's qlab command: pip install \
         \"./python[ray]\" (or \"qlab[ray]\"), then run its qlab sweep; or use --executor local"
    );
    let tpe = tmp.file("tpe.toml", &MIXED.replace("\"random\"", "\"tpe\""));
    let e = sweep_run(&tpe, &out, &[]).usage_message();
    assert_eq!(
        e,
        format!(
            "{tpe}:9: [search] `method = \"tpe\"` draws its trials with Optuna's TPESampler, \
             from the Python package's qlab command: pip install \"./python[tune]\", then run \
             its qlab sweep; or use method = \"random\""
        )
    );
    let asha = tmp.file(
        "asha.toml",
        &format!("{GRID}\n[stop]\nscheduler = \"asha\"\n"),
    );
    let e = sweep_run(&asha, &out, &[]).usage_message();
    assert!(
        e.starts_with(&format!("{asha}:10: [stop] early stopping")) && e.contains("[tune]"),
        "{e}"
    );
    // A scheduler compares evaluations, higher is better: a sweep for a minimum is refused.
    let min = tmp.file(
        "min.toml",
        &format!(
            "{}\n[stop]\nscheduler = \"median\"\n",
            GRID.replace("metric = ", "mode = \"min\"\nmetric = ")
        ),
    );
    let e = sweep_run(&min, &out, &[]).usage_message();
    assert!(
        e.starts_with(&format!("{min}:11: [stop] a [stop] scheduler")),
        "{e}"
    );
    // --address goes with --executor ray.
    let e = sweep_run(&sweep, &out, &["--address", "127.0.0.1:6379"]).usage_message();
    assert_eq!(
        e,
        "--address names a Ray cluster: it goes with --executor ray"
    );
    // Checked whole first: a bad key is reported before the executor is refused.
    let bad = tmp.file("bad.toml", &GRID.replace("agent.alpha", "agent.beta"));
    let e = sweep_run(&bad, &out, &["--executor", "ray"]).usage_message();
    assert!(e.contains("unknown key `beta`"), "{e}");
    assert!(!out.exists());
}

/// Runs the sweep `sweep` into `out` on one thread and sends it SIGINT once the point `point`
/// has begun; returns what the sweep gave, or `None` when it finished first.
fn interrupt_at(sweep: &str, out: &Path, point: &str) -> Option<Run> {
    let begun = out.join(point).join("seed_0").join("metrics.csv");
    let args = [
        "sweep",
        sweep,
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--threads",
        "1",
    ];
    signal_when(&args, || begun.exists(), "INT")
}

#[test]
fn a_sweep_stopped_by_sigint_resumes_to_the_table_of_one_never_stopped() {
    let tmp = TempDir::new();
    let mut stopped: Option<(String, PathBuf, Run)> = None;
    for k in 0..4u32 {
        let episodes = 200 * 4u64.pow(k);
        tmp.file(
            "base.toml",
            &BASE
                .replace("episodes = 12", &format!("episodes = {episodes}"))
                .replace("eval_every = 6", &format!("eval_every = {}", episodes / 2)),
        );
        let sweep = tmp.file(&format!("sweep-{k}.toml"), GRID);
        let out = tmp.path(&format!("stopped-{k}"));
        if let Some(run) = interrupt_at(&sweep, &out, "p001") {
            stopped = Some((sweep, out, run));
            break;
        }
    }
    let (sweep, out, run) = stopped.expect("every sweep finished before SIGINT landed");
    assert_eq!(run.code, 130, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    let resume = format!(
        "to finish it: qlab sweep {sweep} --out {} --resume",
        out.display()
    );
    assert!(run.stderr.lines().any(|l| l == resume), "{run:?}");
    let rows = csv_rows(&out);
    let status: Vec<&str> = rows[1..].iter().map(|r| r[9].as_str()).collect();
    assert_eq!(status[0], "finished", "{rows:?}");
    assert!(status.contains(&"interrupted"), "{rows:?}");
    assert_eq!(*status.last().unwrap(), "pending", "{rows:?}");
    assert!(!out.join("best.toml").exists());

    sweep_run(&sweep, &out, &["--resume"]).clean();
    let whole = tmp.path("whole");
    sweep_run(&sweep, &whole, &[]).clean();
    assert_eq!(
        read_bytes(out.join("sweep.csv")),
        read_bytes(whole.join("sweep.csv"))
    );
    assert_eq!(
        read_bytes(out.join("best.toml")),
        read_bytes(whole.join("best.toml"))
    );
}

/// Every shipped sweep file reads, and every point of it checks against its base config.
#[test]
fn every_shipped_sweep_file_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sweeps");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let sweep = qlab::sweep::Sweep::load(file.to_str().unwrap())
            .unwrap_or_else(|e| panic!("{}: {e:#}", file.display()));
        assert!(sweep.total_points() > 0, "{}", file.display());
    }
    let grid = qlab::sweep::Sweep::load(dir.join("cliffwalking_sarsa_grid.toml").to_str().unwrap())
        .unwrap();
    assert_eq!((grid.points.len(), grid.seeds.len()), (20, 10));
    assert_eq!(
        grid.experiments[19].config().train.budget,
        qlab::config::Budget::Episodes(500)
    );
}
