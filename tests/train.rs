//! `qlab train`, `qlab eval` and `qlab bench --config` run as a user runs them, and the
//! runner's guarantees: every shipped config runs, seeds are bit-identical, config errors point
//! at their line, runs are never overwritten.

mod common;
mod config_headers;
mod integrity;
mod keep_best;
mod off_policy;
mod signals;
mod sweep;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TempDir, json, qlab, read, read_bytes};
use qlab::agents::tabular::AgentConfig;

fn configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut all: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    all.sort();
    all
}

/// `--set` flags that shrink a config's budget: a config gives `episodes` or `steps`.
fn tiny(config: &Path) -> Vec<String> {
    let text = fs::read_to_string(config).unwrap();
    let budget = if text.lines().any(|l| l.trim_start().starts_with("steps =")) {
        "train.steps=60"
    } else {
        "train.episodes=3"
    };
    vec![
        "--set".into(),
        budget.into(),
        "--set".into(),
        "train.eval_episodes=2".into(),
        "--set".into(),
        "train.eval_every=2".into(),
        "--seeds".into(),
        "0,1".into(),
        "-q".into(),
    ]
}

/// The arguments `train CONFIG --out OUT -q EXTRA…`.
fn train_args<'a>(config: &'a str, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", config, "--out", out.to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    args
}

/// Runs `qlab train CONFIG --out OUT -q EXTRA…`, asserting success; returns stdout.
fn train(config: &str, out: &Path, extra: &[&str]) -> String {
    qlab(&train_args(config, out, extra)).ok()
}

/// Runs `qlab train --resume RUN -q`, asserting success; returns stdout.
fn resume(run: &Path) -> String {
    qlab(&["train", "--resume", run.to_str().unwrap(), "-q"]).ok()
}

/// The rows of a seed directory's `train.csv` without their last column, the wall-clock
/// `steps_per_second`.
fn train_rows(dir: &Path) -> Vec<String> {
    read(dir.join("train.csv"))
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

/// The records of one DQN seed that must be identical from run to run: `metrics.csv`,
/// `eval.csv`, `agent.json`, [`train_rows`] and the weights.
fn dqn_seed_files(run: &Path, seed: u64) -> Vec<String> {
    let dir = run.join(format!("seed_{seed}"));
    let mut v: Vec<String> = ["metrics.csv", "eval.csv", "agent.json"]
        .iter()
        .map(|f| read(dir.join(f)))
        .collect();
    let train = train_rows(&dir);
    assert!(train.len() > 2, "{train:?}");
    v.push(train.join("\n"));
    v.push(format!("{:?}", read_bytes(dir.join("q.safetensors"))));
    v
}

/// `qlab eval RUN` plays the same episodes as the run's final evaluation: under its header,
/// each seed's mean return is the bits of `final_eval_mean_return` in `summary.json`.
fn assert_eval_repeats_the_final_evaluation(run: &Path, what: &str) {
    let summary = json(run.join("summary.json"));
    let evaluated = qlab(&["eval".to_string(), run.display().to_string()]).ok();
    let mut rows = evaluated.lines();
    assert_eq!(rows.next(), Some("seed,mean_return,std_return,episodes"));
    for (seed, row) in rows.enumerate() {
        let mean: f64 = row.split(',').nth(1).unwrap().parse().unwrap();
        let want = summary["per_seed"][seed]["final_eval_mean_return"]
            .as_f64()
            .unwrap();
        assert_eq!(mean.to_bits(), want.to_bits(), "{what} seed {seed}");
    }
}

/// Every shipped config, at a tiny budget, through the command line: it trains, writes the
/// whole run directory, and `qlab eval` reloads its agents and repeats the final evaluation.
#[test]
fn every_shipped_config_runs_at_a_tiny_budget() {
    let tmp = TempDir::new();
    let all = configs();
    for name in [
        "cliffwalking_sarsa",
        "cliffwalking_q_learning",
        "cliffwalking_expected_sarsa",
        "windy_sarsa",
        "randomwalk_td_lambda",
        "frozenlake_q_learning",
        "frozenlake_mc_control",
        "blackjack_mc_es",
        "cartpole_sarsa_lambda",
    ] {
        assert!(
            all.iter().any(|p| p.file_stem().unwrap() == name),
            "configs/{name}.toml is missing"
        );
    }
    let mut algorithms = std::collections::BTreeSet::new();
    for config in &all {
        let stem = config.file_stem().unwrap().to_str().unwrap();
        let out = tmp.path(stem);
        let mut args = vec![
            "train".to_string(),
            config.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ];
        args.extend(tiny(config));
        let stdout = qlab(&args).ok();
        assert!(stdout.starts_with(&out.display().to_string()), "{stdout}");

        let resolved = read(out.join("config.toml"));
        algorithms.insert(algorithm_of(&resolved));
        let summary = json(out.join("summary.json"));
        assert_eq!(summary["per_seed"].as_array().unwrap().len(), 2, "{stem}");
        // The curve needs a finished episode in every seed (a steps budget of 60 may end none).
        if (0..2).all(|k| {
            read(out.join(format!("seed_{k}/metrics.csv")))
                .lines()
                .count()
                > 1
        }) {
            let curve = read_bytes(out.join("curve.png"));
            assert!(
                curve.starts_with(b"\x89PNG"),
                "{stem}: curve.png is not a PNG"
            );
        }
        for seed in [0, 1] {
            let dir = out.join(format!("seed_{seed}"));
            let metrics = read(dir.join("metrics.csv"));
            let mut lines = metrics.lines();
            assert_eq!(
                lines.next(),
                Some("episode,step,return,length,terminated,epsilon,value_rmse")
            );
            let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
            assert!(rows.iter().all(|r| r.len() == 7), "{stem}");
            // Envs with a model and no feature wrapper fill `value_rmse`; the others leave it
            // (the aliased short corridor has no model: what it observes is not its state).
            let has_truth = !resolved.contains("[features]")
                && !["dqn", "ppo", "a2c"].contains(&algorithm_of(&resolved).as_str())
                && !resolved.contains("\"ShortCorridor-v0\"");
            assert!(
                rows.iter().all(|r| r[6].is_empty() != has_truth),
                "{stem}: {metrics}"
            );
            let eval = read(dir.join("eval.csv"));
            assert!(eval.starts_with("episode,step,mean_return,std_return,episodes\n"));
            let weights = match algorithm_of(&resolved).as_str() {
                "dqn" => "q.safetensors",
                "ppo" | "a2c" => "policy.safetensors",
                _ => "agent.bin",
            };
            assert!(dir.join("agent.json").is_file() && dir.join(weights).is_file());
        }
        assert_eval_repeats_the_final_evaluation(&out, stem);
    }
    // Every tabular algorithm the agents library names, DQN, PPO and A2C.
    let every = AgentConfig::ALGORITHMS
        .into_iter()
        .chain(["dqn", "ppo", "a2c"]);
    for a in every {
        assert!(algorithms.contains(a), "no shipped config runs {a}");
    }
}

fn algorithm_of(resolved: &str) -> String {
    resolved
        .lines()
        .find_map(|l| l.strip_prefix("algorithm = "))
        .unwrap()
        .trim_matches('"')
        .to_string()
}

/// A DQN small enough to train in a fraction of a second.
const TINY_DQN: &str = "\
[env]
id = \"CartPole-v1\"

[agent]
algorithm = \"dqn\"
learning_starts = 100
train_freq = 50
gradient_steps = 4
batch_size = 16
buffer_size = 500
target_update_interval = 20
n_step = 2
network = { torso = { type = \"mlp\", hidden = [16] } }

[train]
steps = 400
seeds = [0, 1]
eval_every = 200
eval_episodes = 2
";

/// The same DQN config and seed give byte-identical records (all of `train.csv` but its
/// wall-clock `steps_per_second` column), whatever else runs beside them; `qlab eval`
/// reloads the networks and repeats the final evaluation.
#[test]
fn dqn_runs_are_bit_identical_and_reload() {
    let tmp = TempDir::new();
    let config = tmp.file("dqn.toml", TINY_DQN);
    let (a, b, c) = (tmp.path("a"), tmp.path("b"), tmp.path("c"));
    train(&config, &a, &["--threads", "1"]);
    train(&config, &b, &["--threads", "2"]);
    train(&config, &c, &["--seeds", "1"]);
    for (run, seed) in [(&a, 0), (&b, 0), (&a, 1), (&c, 1)] {
        let train = train_rows(&run.join(format!("seed_{seed}")));
        assert_eq!(train[0], "step,loss,mean_q,epsilon,gradient_steps");
        assert!(train[1].starts_with("150,"), "{}", train[1]);
    }
    assert_eq!(dqn_seed_files(&a, 0), dqn_seed_files(&b, 0));
    assert_eq!(dqn_seed_files(&a, 1), dqn_seed_files(&c, 1));
    assert_ne!(dqn_seed_files(&a, 0)[0], dqn_seed_files(&a, 1)[0]);
    assert_eval_repeats_the_final_evaluation(&a, "dqn");
}

/// A DRQN (LSTM) or attention DQN with torso `torso`, small enough to train in a fraction of
/// a second on CartPoleNoVelocity-v1: [`TINY_DQN`] with a smaller batch, sequences in place of
/// n-step returns, and checkpoints.
fn tiny_memory_dqn(torso: &str) -> String {
    let network = format!("sequence_length = 4\nburn_in = 2\nnetwork = {{ torso = {torso} }}");
    let mut text = TINY_DQN.to_string();
    for (from, to) in [
        ("CartPole-v1", "CartPoleNoVelocity-v1"),
        ("batch_size = 16", "batch_size = 8"),
        (
            "n_step = 2\nnetwork = { torso = { type = \"mlp\", hidden = [16] } }",
            &network,
        ),
        (
            "eval_episodes = 2\n",
            "eval_episodes = 2\ncheckpoint_every = 150\n",
        ),
    ] {
        assert!(text.contains(from), "TINY_DQN has no `{from}`");
        text = text.replace(from, to);
    }
    text
}

/// The recurrent and attention runs are byte-identical for the same config and seed, continue
/// from a checkpoint with `--resume` to the same files, and `qlab eval` reloads them and
/// repeats the final evaluation (the recurrent one carrying its state through each episode).
#[test]
fn recurrent_and_attention_runs_are_bit_identical_resume_and_reload() {
    let tmp = TempDir::new();
    for (name, torso) in [
        ("lstm", "{ type = \"lstm\", hidden = 8 }"),
        (
            "attention",
            "{ type = \"attention\", k = 3, dim = 8, heads = 2 }",
        ),
    ] {
        let config = tmp.file(&format!("{name}.toml"), &tiny_memory_dqn(torso));
        let out = |run: &str| tmp.path(&format!("{name}-{run}"));
        for run in ["a", "b"] {
            train(&config, &out(run), &[]);
        }
        let (a, b) = (out("a"), out("b"));
        assert_eq!(dqn_seed_files(&a, 0), dqn_seed_files(&b, 0), "{name}");
        assert_ne!(dqn_seed_files(&a, 0)[0], dqn_seed_files(&a, 1)[0], "{name}");
        // Seed 0 of `b` forgets that it finished: `--resume` continues it from its last
        // checkpoint (mid-run) to the same records.
        let seed_dir = b.join("seed_0");
        assert!(seed_dir.join("checkpoint.json").is_file(), "{name}");
        fs::remove_file(seed_dir.join("seed_summary.json")).unwrap();
        fs::remove_file(seed_dir.join("agent.json")).unwrap();
        resume(&b);
        assert_eq!(
            dqn_seed_files(&a, 0),
            dqn_seed_files(&b, 0),
            "{name}: resumed"
        );
        assert_eval_repeats_the_final_evaluation(&a, name);
    }
}

/// Trains `config` into `out` and kills the process with SIGKILL as soon as seed `seed` has
/// written a checkpoint, before it finishes.
fn kill_after_a_checkpoint(config: &str, out: &Path, seed: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qlab"))
        .args(["train", config, "--out", out.to_str().unwrap(), "-q"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let seed_dir = out.join(format!("seed_{seed}"));
    while !seed_dir.join("checkpoint.json").is_file() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended first");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    assert!(!child.wait().unwrap().success());
    assert!(
        !seed_dir.join("agent.json").exists(),
        "the run finished first"
    );
}

/// Trains `config` whole into `whole`, and again into `killed` killed after a checkpoint of
/// seed `seed` and continued with `--resume`; asserts that `files` of that seed are
/// byte-identical in both, and returns the two runs' `summary.json` with what the resume
/// printed.
fn kill_and_resume(
    tmp: &TempDir,
    config: &str,
    seed: u64,
    files: &[&str],
) -> (serde_json::Value, serde_json::Value, String) {
    let whole = tmp.path("whole");
    train(config, &whole, &[]);

    let killed = tmp.path("killed");
    kill_after_a_checkpoint(config, &killed, seed);

    let out = resume(&killed);
    let seed_dir = format!("seed_{seed}");
    for f in files {
        assert_eq!(
            read_bytes(whole.join(&seed_dir).join(f)),
            read_bytes(killed.join(&seed_dir).join(f)),
            "{f}"
        );
    }
    (
        json(whole.join("summary.json")),
        json(killed.join("summary.json")),
        out,
    )
}

/// A DQN run killed with SIGKILL after a checkpoint and continued with `--resume` finishes
/// with records and weights byte-identical to a run that was never interrupted.
#[test]
fn a_killed_dqn_run_resumes_bit_identically() {
    let tmp = TempDir::new();
    let text = TINY_DQN
        .replace("steps = 400", "steps = 20000\ncheckpoint_every = 500")
        .replace("seeds = [0, 1]", "seeds = [0]")
        .replace("eval_every = 200", "eval_every = 5000");
    let config = tmp.file("dqn.toml", &text);
    let files = ["metrics.csv", "eval.csv", "agent.json", "q.safetensors"];
    let (a, b, out) = kill_and_resume(&tmp, &config, 0, &files);
    let (whole, killed) = (tmp.path("whole"), tmp.path("killed"));
    assert!(out.starts_with(killed.to_str().unwrap()), "{out}");
    assert_eq!(
        train_rows(&whole.join("seed_0")),
        train_rows(&killed.join("seed_0"))
    );
    assert_eq!(
        a["per_seed"][0]["final_eval_mean_return"],
        b["per_seed"][0]["final_eval_mean_return"]
    );
    // A finished run resumes to the same summary without training again.
    resume(&killed);
    assert_eq!(
        json(killed.join("summary.json"))["per_seed"][0]["episodes"],
        b["per_seed"][0]["episodes"]
    );
}

/// A PPO run killed with SIGKILL after a checkpoint and continued with `--resume` finishes
/// with records, trainings and weights byte-identical to a run that was never interrupted:
/// Pendulum with gSDE and both normalizations, so that the optimizer's moments, the
/// generator, the statistics and each env's episode under way (replayed from its
/// checkpointed position) must all be restored.
#[test]
fn a_killed_ppo_run_resumes_bit_identically() {
    let tmp = TempDir::new();
    let config = tmp.file(
        "ppo.toml",
        "[env]\nid = 'Pendulum-v1'\n[agent]\nalgorithm = 'ppo'\nn_envs = 4\nn_steps = 64\n\
         batch_size = 64\nn_epochs = 2\ngamma = 0.9\nuse_sde = true\nsde_sample_freq = 4\n\
         normalize = true\n[train]\nsteps = 20000\nseeds = [0]\neval_every = 4096\n\
         eval_episodes = 2\ncheckpoint_every = 512\n",
    );
    let files = [
        "metrics.csv",
        "eval.csv",
        "agent.json",
        "policy.safetensors",
    ];
    let (a, b, _) = kill_and_resume(&tmp, &config, 0, &files);
    let (whole, killed) = (tmp.path("whole"), tmp.path("killed"));
    assert_eq!(
        train_rows(&whole.join("seed_0")),
        train_rows(&killed.join("seed_0"))
    );
    assert_eq!(
        a["per_seed"][0]["final_eval_mean_return"],
        b["per_seed"][0]["final_eval_mean_return"]
    );
}

/// A tabular run killed with SIGKILL after a checkpoint and continued with `--resume`
/// finishes with records and parameters byte-identical to a run that was never interrupted:
/// slippery FrozenLake, so that the env's own stream must be restored, with the value error
/// against the DP truth in every row.
#[test]
fn a_killed_tabular_run_resumes_bit_identically() {
    let tmp = TempDir::new();
    let config = tmp.file(
        "q.toml",
        "[env]\nid = 'FrozenLake8x8-v1'\n[agent]\nalgorithm = 'q_learning'\nalpha = 0.1\n\
         epsilon = { schedule = 'linear', start = 1.0, end = 0.1, episodes = 50000 }\n\
         [train]\nepisodes = 100000\nseeds = [3]\neval_every = 25000\neval_episodes = 20\n\
         checkpoint_every = 20000\n",
    );
    let files = ["metrics.csv", "eval.csv", "agent.json", "agent.bin"];
    let (a, b, _) = kill_and_resume(&tmp, &config, 3, &files);
    for key in [
        "episodes",
        "steps",
        "final_eval_mean_return",
        "final_window_mean_return",
        "best_window_mean_return",
    ] {
        assert_eq!(a["per_seed"][0][key], b["per_seed"][0][key], "{key}");
    }
}

/// DQN config errors name the file, the line and the key.
#[test]
fn dqn_config_errors_name_the_key() {
    let tmp = TempDir::new();
    let cases = [
        (
            "learning_rat = 1e-3\n",
            "dqn.toml:6: [agent] unknown key `learning_rat`; allowed: algorithm, learning_rate",
        ),
        (
            "gamma = 1.5\n",
            "dqn.toml:6: [agent] invalid value 1.5 for `gamma`: expected in [0, 1]",
        ),
        (
            "double = 3\n",
            "dqn.toml:6: [agent] `double` must be a boolean, got integer `3`",
        ),
        (
            "sequence_length = 0\n",
            "dqn.toml:6: [agent] invalid value 0 for `sequence_length`: expected 1 to 1000",
        ),
        (
            "smoothness = { eps = 0.1, kappa = -1.0 }\n",
            "dqn.toml:6: [agent] invalid value -1 for `smoothness.kappa`: expected finite and ≥ 0",
        ),
        (
            "adversarial_training = { eps = 0.1, fraction = 2.0 }\n",
            "dqn.toml:6: [agent] invalid value 2 for `adversarial_training.fraction`: expected in [0, 1]",
        ),
        (
            "adversarial_training = { eps = 0.1, attack = \"cw\" }\n",
            "dqn.toml:6: [agent] in `adversarial_training`: unknown variant `cw`, expected `fgsm` or `pgd`",
        ),
        (
            "smoothness = { eps = 0.1, weight = 1.0 }\n",
            "dqn.toml:6: [agent] in `smoothness`: unknown field `weight`, expected one of `eps`, `kappa`",
        ),
    ];
    for (line, want) in cases {
        let text = TINY_DQN.replace(
            "[agent]\nalgorithm = \"dqn\"\n",
            &format!("[agent]\nalgorithm = \"dqn\"\n{line}"),
        );
        let config = tmp.file("dqn.toml", &text);
        let err = qlab(&["train", &config, "-q"]).usage_message();
        assert!(err.contains(want), "{err}");
    }
    // TINY_DQN has `n_step = 2` (line 12), which a recurrent torso does not take.
    let text = TINY_DQN.replace("type = \"mlp\", hidden = [16]", "type = \"gru\"");
    let config = tmp.file("dqn.toml", &text);
    let err = qlab(&["train", &config, "-q"]).usage_message();
    assert!(
        err.contains(
            "dqn.toml:12: [agent] invalid value 2 for `n_step`: expected 1 with a recurrent torso"
        ),
        "{err}"
    );
    let text = TINY_DQN.replace("steps = 400", "episodes = 4");
    let config = tmp.file("dqn.toml", &text);
    let err = qlab(&["train", &config, "-q"]).usage_message();
    assert!(
        err.contains("dqn trains for a number of env steps"),
        "{err}"
    );
    // The device has one key, `[agent] device`: a `device` in the network's table, which the
    // agent's used to overwrite without a word, is refused and the right key named.
    let want = "[agent] `network.device` is not a key: the device is the whole agent's, set \
                it with `device` in [agent] (e.g. device = \"cuda\")";
    for (line, network) in [
        (
            13,
            "network = { torso = { type = \"mlp\", hidden = [16] }, device = \"cpu\" }\n",
        ),
        (14, "\n[agent.network]\ndevice = \"cuda\"\n"),
    ] {
        let text = TINY_DQN.replace(
            "network = { torso = { type = \"mlp\", hidden = [16] } }\n",
            network,
        );
        let config = tmp.file("dqn.toml", &text);
        let err = qlab(&["train", &config, "-q"]).usage_message();
        assert!(err.ends_with(&format!("dqn.toml:{line}: {want}")), "{err}");
    }
    // A device this build lacks is named at the flag or line that asked for it (it pointed at
    // the `[agent]` line before).
    #[cfg(not(feature = "cuda"))]
    {
        let config = tmp.file("dqn.toml", TINY_DQN);
        let err = qlab(&["train", &config, "-q", "--set", "agent.device=cuda"]).usage_message();
        assert_eq!(
            err,
            "--set agent.device=cuda: [agent] device `cuda` is not available: this build \
             has no CUDA support; rebuild with `--features cuda`"
        );
    }
}

const CLIFF: &str = "\
[env]
id = \"CliffWalking-v1\"

[agent]
algorithm = \"sarsa\"
alpha = 0.5
epsilon = 0.1

[train]
episodes = 30
seeds = \"0..4\"
eval_every = 10
eval_episodes = 3
";

/// A fresh temporary directory holding [`CLIFF`] as `cliff.toml`, and that file's path.
fn cliff() -> (TempDir, String) {
    let tmp = TempDir::new();
    let config = tmp.file("cliff.toml", CLIFF);
    (tmp, config)
}

#[test]
fn envs_with_box_actions_are_refused_naming_the_action_space() {
    let tmp = TempDir::new();
    let want = "needs discrete actions; PointMass-v0 has Box(-1, 1, (1,), float32)";
    let tabular = CLIFF.replace("CliffWalking-v1", "PointMass-v0");
    let config = tmp.file("tabular.toml", &tabular);
    let err = qlab(&["train", &config, "-q"]).usage_message();
    assert!(err.contains(&format!(":2: [env] sarsa {want}")), "{err}");
    let dqn = TINY_DQN.replace("CartPole-v1", "PointMass-v0");
    let config = tmp.file("dqn.toml", &dqn);
    let err = qlab(&["train", &config, "-q"]).usage_message();
    assert!(err.contains(&format!(":2: [env] dqn {want}")), "{err}");
}

/// `[wrappers] discretize_action` lets the tabular agents and DQN drive an env with Box
/// actions; the resolved config keeps the section and a run from it reads the same.
#[test]
fn discretized_actions_drive_point_mass_with_sarsa_and_dqn() {
    let tmp = TempDir::new();
    let wrappers = "\n[wrappers]\ndiscretize_action = 5\nreward_scale = 2.0\n";
    let tabular = CLIFF.replace("CliffWalking-v1", "PointMass-v0")
        + wrappers
        + "\n[features]\nkind = \"discretize\"\nbins = [6, 6]\n";
    let config = tmp.file("tabular.toml", &tabular);
    let out = tmp.path("tabular");
    train(&config, &out, &["--seeds", "0"]);
    let resolved = read(out.join("config.toml"));
    assert!(
        resolved.contains(
            "[wrappers]\nclip_action = false\ndiscretize_action = 5\nreward_scale = 2.0\n"
        ),
        "{resolved}"
    );
    assert!(read(out.join("seed_0/metrics.csv")).lines().count() > 1);
    let dqn = TINY_DQN.replace("CartPole-v1", "PointMass-v0") + wrappers;
    let config = tmp.file("dqn.toml", &dqn);
    let out = tmp.path("dqn");
    train(&config, &out, &["--seeds", "0"]);
    assert!(read(out.join("seed_0/metrics.csv")).lines().count() > 1);
    // A wrapper that does not fit the env is refused at its key.
    let bad = CLIFF.to_string() + "\n[wrappers]\nclip_action = true\n";
    let config = tmp.file("bad.toml", &bad);
    let err = qlab(&["train", &config, "-q"]).usage_message();
    assert!(
        err.contains(
            "[wrappers] `clip_action` needs Box (continuous) actions; CliffWalking-v1 has \
             Discrete(4)"
        ),
        "{err}"
    );
}

/// The files of one seed that must be identical from run to run.
fn seed_files(run: &Path, seed: u64) -> Vec<Vec<u8>> {
    let dir = run.join(format!("seed_{seed}"));
    ["metrics.csv", "eval.csv", "agent.bin", "agent.json"]
        .iter()
        .map(|f| fs::read(dir.join(f)).unwrap())
        .collect()
}

/// The same config and seed give byte-identical records, whatever else runs beside them and
/// on however many threads.
#[test]
fn seeds_are_bit_identical_across_runs_and_thread_counts() {
    let (tmp, config) = cliff();
    let (a, b, c) = (tmp.path("a"), tmp.path("b"), tmp.path("c"));
    train(&config, &a, &["--threads", "1"]);
    train(&config, &b, &["--threads", "4"]);
    train(&config, &c, &["--seeds", "2"]);
    for seed in 0..4 {
        assert_eq!(seed_files(&a, seed), seed_files(&b, seed), "seed {seed}");
    }
    assert_eq!(seed_files(&a, 2), seed_files(&c, 2));
    // Different seeds differ.
    assert_ne!(seed_files(&a, 0)[0], seed_files(&a, 1)[0]);
    // The resolved config runs the same experiment again.
    let d = tmp.path("d");
    train(a.join("config.toml").to_str().unwrap(), &d, &[]);
    assert_eq!(seed_files(&a, 3), seed_files(&d, 3));
}

/// PPO (with and without normalization, with gSDE) and A2C: the same config and seed give byte-identical
/// records and policies on one thread or two, and other seeds differ.
#[test]
fn actor_critic_seeds_are_bit_identical_across_runs_and_thread_counts() {
    let tmp = TempDir::new();
    let files = |run: &Path, seed: u64| -> Vec<Vec<u8>> {
        let dir = run.join(format!("seed_{seed}"));
        [
            "metrics.csv",
            "eval.csv",
            "policy.safetensors",
            "agent.json",
        ]
        .iter()
        .map(|f| fs::read(dir.join(f)).unwrap())
        .collect()
    };
    for (name, steps) in [
        ("cartpole_ppo", "600"),
        ("acrobot_ppo", "1100"),
        ("pendulum_ppo", "600"),
        ("cartpole_a2c", "800"),
    ] {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("configs/{name}.toml"));
        let config = config.to_str().unwrap();
        let budget = format!("train.steps={steps}");
        let extra = |threads| {
            [
                "--seeds",
                "0,1",
                "--threads",
                threads,
                "--set",
                budget.as_str(),
                "--set",
                "train.eval_every=400",
                "--set",
                "train.eval_episodes=2",
            ]
        };
        let (a, b) = (
            tmp.path(&format!("{name}-a")),
            tmp.path(&format!("{name}-b")),
        );
        train(config, &a, &extra("1"));
        train(config, &b, &extra("2"));
        for seed in [0, 1] {
            assert_eq!(files(&a, seed), files(&b, seed), "{name}, seed {seed}");
        }
        assert_ne!(files(&a, 0)[2], files(&a, 1)[2], "{name}: seeds 0 and 1");
        assert_eq!(train_rows(&a.join("seed_0")), train_rows(&b.join("seed_0")));
        update_rows_measure_what_the_algorithm_has(name, &a.join("seed_0"));
        if name == "acrobot_ppo" {
            let saved = read(a.join("seed_0/agent.json"));
            assert!(saved.contains("\"normalizer\""), "{saved}");
        }
        // `qlab render` plays the greedy policy: as text, and as a GIF whose frames keep one
        // size while the caption grows (Pendulum's frames are narrow).
        let text = qlab(&["render", a.to_str().unwrap(), "--max-steps", "3"]).ok();
        assert!(text.contains("episode 1  step 3"), "{name}: {text}");
        let gif = tmp.path(&format!("{name}.gif"));
        let gif = gif.to_str().unwrap();
        qlab(&[
            "render",
            a.to_str().unwrap(),
            "--max-steps",
            "12",
            "--out",
            gif,
        ])
        .ok();
        assert!(read_bytes(gif.into()).starts_with(b"GIF89a"), "{name}");
        attack_policy(&tmp, name, &a);
    }
}

/// `train.csv` of an actor-critic seed (config `name`) in `dir`: one row per update under
/// Stable-Baselines3's names; PPO's approximate KL and clip fraction (a share) filled, A2C's
/// empty; a Gaussian policy's standard deviation filled, a categorical one's empty.
fn update_rows_measure_what_the_algorithm_has(name: &str, dir: &Path) {
    let text = read(dir.join("train.csv"));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "step,loss,policy_gradient_loss,value_loss,entropy_loss,approx_kl,clip_fraction,\
             explained_variance,learning_rate,std,gradient_steps,steps_per_second"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!rows.is_empty(), "{name}");
    for r in &rows {
        let ppo = name.ends_with("_ppo");
        assert_eq!(!r[5].is_empty(), ppo, "{name}: approx_kl in {r:?}");
        if ppo {
            let clipped: f64 = r[6].parse().unwrap();
            assert!((0.0..=1.0).contains(&clipped), "{name}: {r:?}");
        }
        assert_eq!(
            !r[9].is_empty(),
            name == "pendulum_ppo",
            "{name}: std in {r:?}"
        );
        for i in [1, 2, 3, 4, 7, 8] {
            assert!(
                r[i].parse::<f64>().unwrap().is_finite(),
                "{name}: column {i} of {r:?}"
            );
        }
    }
}

/// `qlab attack` on an actor-critic run (`run`, config `name`): a categorical policy is
/// attacked through its logits (normalized observations too, in Acrobot's run), ε = 0
/// repeating `qlab eval`'s episodes and the gradient attacks changing actions at ε = 0.5; a
/// Gaussian policy is refused, saying why.
fn attack_policy(tmp: &TempDir, name: &str, run: &Path) {
    let out = tmp.path(&format!("{name}-attack.csv"));
    let args = [
        "attack",
        run.to_str().unwrap(),
        "--attack",
        "fgsm,pgd",
        "--eps",
        "0,0.5",
        "--episodes",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    if name == "pendulum_ppo" {
        let err = qlab(&args).usage_message();
        assert!(err.contains("Box actions"), "{err}");
        return;
    }
    qlab(&args).ok();
    let csv = read(out);
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 4, "{name}: {csv}");
    let clean = qlab(&["eval", run.to_str().unwrap(), "--episodes", "1"]).ok();
    let clean_mean = clean.lines().nth(1).unwrap().split(',').nth(1).unwrap();
    for r in &rows {
        if r[1] == "0" {
            assert_eq!((r[2], r[4]), (clean_mean, "0"), "{name}: {r:?}");
        } else {
            let changed: f64 = r[4].parse().unwrap();
            assert!(changed > 0.0 && r[5] == "1", "{name}: {r:?}");
        }
    }
}

/// `metrics.csv` pins: the step column counts env steps, lengths add up, the evaluation rows
/// come at the cadence, and a step budget stops exactly there without a partial episode.
#[test]
fn records_follow_the_budget_and_cadence() {
    let (tmp, config) = cliff();
    let out = tmp.path("steps");
    qlab(&train_args(
        &config,
        &out,
        &[
            "--seeds",
            "5",
            "--set",
            "train.steps=1000",
            "--set",
            "train.episodes=1",
        ],
    ))
    .usage_message();
    let text = CLIFF.replace("episodes = 30", "steps = 1000");
    let config = tmp.file("steps.toml", &text);
    train(
        &config,
        &out,
        &["--seeds", "5", "--set", "train.eval_every=250"],
    );
    let metrics = read(out.join("seed_5/metrics.csv"));
    let mut total = 0;
    for (i, row) in metrics.lines().skip(1).enumerate() {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(f[0], (i + 1).to_string());
        total += f[3].parse::<u64>().unwrap();
        assert_eq!(f[1], total.to_string(), "{row}");
        assert_eq!(f[4], "true", "CliffWalking has no time limit: {row}");
        assert_eq!(f[5], "0.1");
    }
    assert!(total <= 1000);
    let summary = json(out.join("summary.json"));
    assert_eq!(summary["per_seed"][0]["steps"], 1000);
    assert_eq!(
        summary["per_seed"][0]["episodes"],
        metrics.lines().count() as u64 - 1
    );
    let eval = read(out.join("seed_5/eval.csv"));
    let steps: Vec<&str> = eval
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(steps, ["250", "500", "750", "1000"]);
}

/// Config errors: exit code 2, one line naming the file and line (or the flag), the key and
/// what is allowed, and no run directory.
#[test]
fn config_errors_point_at_file_line_and_key() {
    let tmp = TempDir::new();
    let out = tmp.path("never");
    let cases: [(&str, &str, &[&str], &str); 8] = [
        (
            "alpah = 0.5\n",
            "alpha = 0.5\n",
            &[],
            ":6: [agent] unknown key `alpah`; allowed: algorithm, alpha, gamma, policy, epsilon, \
             temperature, initial_value",
        ),
        (
            "alpha = 1.5\n",
            "alpha = 0.5\n",
            &[],
            ":6: [agent] invalid value 1.5 for `alpha`: expected",
        ),
        ("", "", &["--set", "agent.gamma=2"], ""),
        (
            "id = \"CliffWalking-v1\"\nslippery = true\n",
            "id = \"CliffWalking-v1\"\n",
            &[],
            ":3: [env] unknown parameter `slippery` for CliffWalking-v1; allowed: map,",
        ),
        (
            "id = \"CartPole-v1\"\n",
            "id = \"CliffWalking-v1\"\n",
            &[],
            ":2: [env] CartPole-v1 observes Box([-4.8, -inf,",
        ),
        (
            "seeds = [1, 1]\n",
            "seeds = \"0..4\"\n",
            &[],
            ":11: [train] `seeds`: seed 1 is listed twice",
        ),
        (
            "[features]\nkind = \"discretize\"\nbins = [4]\n",
            "",
            &[],
            "[features] CliffWalking-v1 observes Discrete(48), already a state index; remove \
             the [features] section",
        ),
        ("", "", &["--set", "train.episode=3"], ""),
    ];
    for (i, (new, old, flags, want)) in cases.iter().enumerate() {
        let text = if old.is_empty() {
            format!("{CLIFF}{new}")
        } else {
            CLIFF.replacen(old, new, 1)
        };
        let config = tmp.file(&format!("bad{i}.toml"), &text);
        let mut args = vec!["train", &config, "--out", out.to_str().unwrap()];
        args.extend_from_slice(flags);
        let err = qlab(&args).usage_message();
        if flags.is_empty() {
            assert!(err.starts_with(&config), "{err}");
            assert!(err.contains(want), "{err}\nwanted: {want}");
        } else {
            assert!(err.starts_with(&format!("--set {}: ", flags[1])), "{err}");
        }
        assert!(!out.exists());
    }
    // A missing file and bad flags are usage errors too.
    let missing = qlab(&["train", "no/such.toml"]).usage_message();
    assert!(missing.starts_with("no/such.toml: "), "{missing}");
    let config = tmp.file("good.toml", CLIFF);
    let err = qlab(&["train", &config, "--seeds", "3..1"]).usage_message();
    assert_eq!(
        err,
        "--seeds 3..1: the range 3..1 is empty; `A..B` means seeds A to B − 1"
    );
}

#[test]
fn runs_are_never_overwritten() {
    let (tmp, config) = cliff();
    let out = tmp.path("run");
    let args = train_args(&config, &out, &["--seeds", "0"]);
    qlab(&args).ok();
    let before = fs::read(out.join("seed_0/metrics.csv")).unwrap();
    let err = qlab(&args).usage_message();
    assert!(err.ends_with("already exists; runs are never overwritten: choose another --out"));
    assert_eq!(fs::read(out.join("seed_0/metrics.csv")).unwrap(), before);
    // Default names under `[output] dir` never collide: a second run the same second gets
    // a suffix.
    let parent = tmp.path("runs");
    let set = format!("output.dir={}", parent.display());
    for _ in 0..2 {
        qlab(&["train", &config, "--set", &set, "--seeds", "0", "-q"]).ok();
    }
    let mut names: Vec<String> = fs::read_dir(&parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with("CliffWalking-v1_sarsa_"), "{names:?}");
}

/// A failure while running (here: the run directory cannot be made) exits 1, not 2.
#[test]
fn failures_while_running_exit_1() {
    let (_tmp, config) = cliff();
    let run = qlab(&["train", &config, "--out", "/dev/null/run", "-q"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(run.stderr.starts_with("error: /dev/null: "), "{run:?}");
}

/// `max_steps_per_episode` truncates episodes under the env's own limit, in training and in
/// evaluation.
#[test]
fn max_steps_per_episode_truncates() {
    let (tmp, config) = cliff();
    let out = tmp.path("run");
    train(
        &config,
        &out,
        &["--seeds", "0", "--set", "train.max_steps_per_episode=5"],
    );
    let metrics = read(out.join("seed_0/metrics.csv"));
    for row in metrics.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        // The goal is 13 steps away: every episode is cut at 5 steps.
        assert_eq!((f[3], f[4]), ("5", "false"), "{row}");
    }
    let eval = read(out.join("seed_0/eval.csv"));
    assert!(
        eval.lines()
            .skip(1)
            .all(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap() >= -500.0),
        "{eval}"
    );
}

/// Without a terminal, progress is plain lines on stderr, and stdout holds the table.
#[test]
fn progress_is_plain_lines_off_a_terminal() {
    let (tmp, config) = cliff();
    let out = tmp.path("run");
    let run = qlab(&["train", &config, "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains('\x1b'),
        "{run:?}"
    );
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("120/120 episodes · 4/4 seeds · "),
        "{run:?}"
    );
    assert!(run.stdout.lines().nth(1).unwrap().contains("final eval"));
}

#[test]
fn eval_takes_an_episode_count_and_rejects_other_directories() {
    let (tmp, config) = cliff();
    let out = tmp.path("run");
    train(&config, &out, &["--seeds", "0,1"]);
    let csv = qlab(&["eval", out.to_str().unwrap(), "--episodes", "7"]).ok();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3);
    assert!(
        rows[1].starts_with("0,") && rows[1].ends_with(",7"),
        "{csv}"
    );
    let err = qlab(&["eval", tmp.0.to_str().unwrap()]).usage_message();
    assert!(
        err.ends_with("is not a run directory: it has no config.toml"),
        "{err}"
    );
}

#[test]
fn bench_times_a_config_through_the_training_loop() {
    let (_tmp, config) = cliff();
    let line = qlab(&["bench", "--config", &config, "--steps", "5000"]).ok();
    assert!(
        line.starts_with(&format!(
            "config={config} env=CliffWalking-v1 algorithm=sarsa steps=5000 episodes="
        )),
        "{line}"
    );
    assert!(line.contains(" steps_per_second="), "{line}");
}

/// `qlab attack` on a DQN trained briefly from the shipped CartPole config: one row per attack
/// and ε under the fixed header, the same CSV from the same command, ε = 0 repeating `qlab
/// eval`, and one-line usage errors for bad input.
#[test]
fn attack_evaluates_a_dqn_run_under_each_attack_and_radius() {
    let tmp = TempDir::new();
    let run = tmp.path("run");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/cartpole_dqn.toml");
    train(
        config.to_str().unwrap(),
        &run,
        &[
            "--seeds",
            "0",
            "--set",
            "train.steps=300",
            "--set",
            "train.eval_every=300",
            "--set",
            "train.checkpoint_every=300",
            "--set",
            "train.eval_episodes=2",
        ],
    );
    let attack = |extra: &[&str]| {
        let mut args = vec![
            "attack",
            run.to_str().unwrap(),
            "--attack",
            "random,gaussian,fgsm,pgd,timed",
            "--eps",
            "0,0.05,0.2",
            "--episodes",
            "2",
        ];
        args.extend_from_slice(extra);
        qlab(&args)
    };
    let a = tmp.path("a.csv");
    attack(&["--out", a.to_str().unwrap()]).ok();
    attack(&[]).ok();
    let csv = read(a.clone());
    assert_eq!(
        csv,
        read(run.join("attack.csv")),
        "the same command, another CSV"
    );
    assert!(tmp.path("a.png").is_file() && run.join("attack.png").is_file());
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0].join(","),
        "attack,eps,mean_return,std_return,action_change_rate,attacked_fraction"
    );
    assert_eq!(rows.len(), 1 + 5 * 3, "{csv}");
    let clean = qlab(&["eval", run.to_str().unwrap(), "--episodes", "2"]).ok();
    let clean_mean = clean.lines().nth(1).unwrap().split(',').nth(1).unwrap();
    for r in &rows[1..] {
        let fraction: f64 = r[5].parse().unwrap();
        assert!((0.0..=1.0).contains(&fraction), "{r:?}");
        if r[1] == "0" {
            // No attack moves an observation by 0: the episodes are `qlab eval`'s.
            assert_eq!(r[2], clean_mean, "{r:?}");
            assert_eq!(r[4], "0", "{r:?}");
        } else if r[0] != "timed" {
            assert_eq!(fraction, 1.0, "{r:?}");
        }
    }

    let err = attack(&["--attack", "fgsm,sticker"]).usage_message();
    assert!(
        err.contains("`sticker`") && err.contains("random, gaussian, fgsm, pgd, timed"),
        "{err}"
    );
    let err = attack(&["--eps", "0.1,-0.01"]).usage_message();
    assert!(err.contains("-0.01"), "{err}");
    let cliff = tmp.file("cliff.toml", CLIFF);
    let tabular = tmp.path("tabular");
    train(
        &cliff,
        &tabular,
        &["--seeds", "0", "--set", "train.episodes=2"],
    );
    let tabular = tabular.to_str().unwrap();
    let err = qlab(&["attack", tabular, "--attack", "fgsm", "--eps", "0.1"]).usage_message();
    assert!(
        err.contains("is a sarsa run: qlab attack needs a saved network (dqn, ppo or a2c)"),
        "{err}"
    );
}
