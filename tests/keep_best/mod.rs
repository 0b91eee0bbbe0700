//! `[train] keep_best` and `[train] stop_at` (Stable-Baselines3's `EvalCallback` with
//! `best_model_save_path`, and `StopTrainingOnRewardThreshold`), and `--agent best|last`.

use std::path::Path;

use super::common::{TempDir, json, qlab, read, read_bytes};
use super::{TINY_DQN, resume, train};

/// Q-learning on the cliff walk, one greedy episode per evaluation: evaluations move in
/// steps of whole returns, so some tie.
const CLIFF_Q: &str = "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'q_learning'\n\
                       alpha = 0.5\n[train]\nepisodes = 200\nseeds = [0, 1]\neval_every = 4\n\
                       eval_episodes = 1\n";

/// `eval.csv` of a seed: (step, mean_return) per evaluation.
fn evaluations(seed_dir: &Path) -> Vec<(u64, f64)> {
    read(seed_dir.join("eval.csv"))
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect()
}

/// The first evaluation with the highest mean: strictly better replaces, a tie keeps the
/// earlier.
fn first_best(evals: &[(u64, f64)]) -> (u64, f64) {
    let mut best = evals[0];
    for &e in &evals[1..] {
        if e.1 > best.1 {
            best = e;
        }
    }
    best
}

/// The `mean_return` column of `qlab eval RUN ARGS…`.
fn eval_means(run: &Path, args: &[&str]) -> Vec<f64> {
    let mut all = vec!["eval", run.to_str().unwrap()];
    all.extend_from_slice(args);
    qlab(&all)
        .ok()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

/// With `keep_best`, each seed keeps the agent of its first best evaluation in `best/`, the
/// summary names that evaluation, and `qlab eval --agent best` reloads that agent and
/// repeats that evaluation exactly; `--agent last` (the default) still repeats the final one.
/// Saving the best perturbs nothing: the records equal those of a run without it.
#[test]
fn keep_best_keeps_the_first_best_evaluation_and_eval_reloads_it() {
    let tmp = TempDir::new();
    let plain = tmp.file("plain.toml", CLIFF_Q);
    let kept = tmp.file("kept.toml", &format!("{CLIFF_Q}keep_best = true\n"));
    let (a, b) = (tmp.path("plain"), tmp.path("kept"));
    train(&plain, &a, &[]);
    train(&kept, &b, &[]);
    let summary = json(b.join("summary.json"));
    let mut ties = 0;
    for (i, seed) in [0u64, 1].iter().enumerate() {
        let (da, db) = (
            a.join(format!("seed_{seed}")),
            b.join(format!("seed_{seed}")),
        );
        for f in ["metrics.csv", "eval.csv", "agent.json", "agent.bin"] {
            assert_eq!(read_bytes(da.join(f)), read_bytes(db.join(f)), "{f}");
        }
        assert!(!da.join("best").exists());
        let evals = evaluations(&db);
        let (step, mean) = first_best(&evals);
        ties += evals.iter().filter(|e| e.1 == mean).count() - 1;
        let s = &summary["per_seed"][i];
        assert_eq!(s["best_eval_step"].as_u64(), Some(step), "seed {seed}");
        assert_eq!(
            s["best_eval_mean_return"].as_f64(),
            Some(mean),
            "seed {seed}"
        );
        assert!(db.join("best/agent.json").is_file() && db.join("best/agent.bin").is_file());
        assert!(!db.join("best.tmp").exists());
    }
    // The tie rule is exercised: some seed's best mean recurs after it.
    assert!(ties > 0, "no tie to keep the earlier of");
    let best = eval_means(&b, &["--agent", "best"]);
    let last = eval_means(&b, &[]);
    for (i, (best, last)) in best.iter().zip(&last).enumerate() {
        let s = &summary["per_seed"][i];
        assert_eq!(
            best.to_bits(),
            s["best_eval_mean_return"].as_f64().unwrap().to_bits()
        );
        assert_eq!(
            last.to_bits(),
            s["final_eval_mean_return"].as_f64().unwrap().to_bits()
        );
    }
    // Without keep_best the summary does not mention it.
    let plain_summary = read(a.join("summary.json"));
    assert!(!plain_summary.contains("best_eval"), "{plain_summary}");
    assert!(
        !plain_summary.contains("stopped_at_step"),
        "{plain_summary}"
    );
}

/// A PPO run with `keep_best` keeps the policy of its first best evaluation, the final one
/// (made where the budget's rollout ends, past the last multiple of `eval_every`) counted
/// like the others, and `qlab eval --agent best` repeats it.
#[test]
fn keep_best_keeps_a_ppo_policy_of_any_evaluation_the_final_one_included() {
    let tmp = TempDir::new();
    let config = tmp.file(
        "ppo.toml",
        "[env]\nid = 'CartPole-v1'\n[agent]\nalgorithm = 'ppo'\nn_envs = 2\nn_steps = 32\n\
         batch_size = 32\nn_epochs = 4\n[train]\nsteps = 1000\nseeds = [0, 1, 2]\n\
         eval_every = 250\neval_episodes = 2\nkeep_best = true\n",
    );
    let run = tmp.path("run");
    train(&config, &run, &[]);
    let summary = json(run.join("summary.json"));
    let best = eval_means(&run, &["--agent", "best"]);
    for (i, seed) in [0u64, 1, 2].iter().enumerate() {
        let dir = run.join(format!("seed_{seed}"));
        let evals = evaluations(&dir);
        // Four at the multiples of 250, and the final one at step 1024.
        assert_eq!(evals.len(), 5, "{evals:?}");
        let (step, mean) = first_best(&evals);
        let s = &summary["per_seed"][i];
        assert_eq!(s["best_eval_step"].as_u64(), Some(step), "seed {seed}");
        assert_eq!(best[i].to_bits(), mean.to_bits(), "seed {seed}");
        assert!(dir.join("best/policy.safetensors").is_file());
    }
}

/// `--agent best` of a run trained without `keep_best` is a one-line usage error naming the
/// key, from `qlab eval`, `qlab render` and `qlab attack` alike (the config alone decides).
#[test]
fn agent_best_of_a_run_without_keep_best_is_refused_naming_keep_best() {
    let tmp = TempDir::new();
    let tabular = tmp.path("tabular");
    std::fs::create_dir(&tabular).unwrap();
    std::fs::write(tabular.join("config.toml"), CLIFF_Q).unwrap();
    let deep = tmp.path("deep");
    std::fs::create_dir(&deep).unwrap();
    std::fs::write(deep.join("config.toml"), TINY_DQN).unwrap();
    let (t, d) = (tabular.to_str().unwrap(), deep.to_str().unwrap());
    for args in [
        vec!["eval", t, "--agent", "best"],
        vec!["render", t, "--agent", "best"],
        vec![
            "attack", d, "--attack", "fgsm", "--eps", "0.1", "--agent", "best",
        ],
    ] {
        let e = qlab(&args).usage_message();
        assert!(
            e.starts_with("--agent best: ")
                && e.ends_with("was trained without [train] keep_best = true, so it kept only its last agents; use --agent last"),
            "{args:?}: {e}"
        );
    }
    let e = qlab(&["eval", t, "--agent", "first"]);
    assert!(
        e.code == 2 && e.stderr.contains("[possible values: last, best]"),
        "{e:?}"
    );
}

/// A seed with `stop_at` ends at its first evaluation whose mean return reaches it (`>=`),
/// with the budget in episodes or in steps: that evaluation is the last row of `eval.csv`
/// and the final evaluation of the summary, which says where the seed stopped; no episode
/// is recorded after it.
#[test]
fn a_seed_stops_at_the_first_evaluation_that_reaches_stop_at() {
    let tmp = TempDir::new();
    // −13 is the cliff walk's best return: greedy Q-learning reaches it well within budget.
    for (name, budget) in [("episodes", "episodes = 200"), ("steps", "steps = 10000")] {
        let text = CLIFF_Q.replace("episodes = 200", budget).replace(
            "eval_every = 4",
            if name == "steps" {
                "eval_every = 100"
            } else {
                "eval_every = 4"
            },
        ) + "stop_at = -13\n";
        let config = tmp.file(&format!("{name}.toml"), &text);
        let run = tmp.path(name);
        train(&config, &run, &[]);
        let summary = json(run.join("summary.json"));
        for (i, seed) in [0u64, 1].iter().enumerate() {
            let dir = run.join(format!("seed_{seed}"));
            let evals = evaluations(&dir);
            let (step, mean) = *evals.last().unwrap();
            assert_eq!(mean, -13.0, "{name} seed {seed}");
            assert!(evals[..evals.len() - 1].iter().all(|e| e.1 < -13.0));
            let s = &summary["per_seed"][i];
            assert_eq!(
                s["stopped_at_step"].as_u64(),
                Some(step),
                "{name} seed {seed}"
            );
            assert_eq!(s["steps"].as_u64(), Some(step));
            assert_eq!(s["final_eval_mean_return"].as_f64(), Some(mean));
            let metrics = read(dir.join("metrics.csv"));
            let last = metrics.lines().last().unwrap();
            let last_step: u64 = last.split(',').nth(1).unwrap().parse().unwrap();
            assert!(last_step <= step, "{name}: {last}");
            if name == "episodes" {
                assert!(s["episodes"].as_u64().unwrap() < 200);
                assert_eq!(last_step, step);
            } else {
                assert!(step < 10000);
            }
        }
    }
}

/// A run with `keep_best` stopped after its last checkpoint and resumed keeps the best
/// evaluation from before the stop: the cliff walk's greedy return settles at its best, −13,
/// so later evaluations only tie, and a resume that forgot the best would take the first
/// evaluation after the checkpoint as the best.
#[test]
fn keep_best_survives_a_resume_from_a_checkpoint() {
    let tmp = TempDir::new();
    let config = tmp.file(
        "q.toml",
        &format!("{CLIFF_Q}keep_best = true\ncheckpoint_every = 1000\n")
            .replace("seeds = [0, 1]", "seeds = [0]"),
    );
    let run = tmp.path("run");
    train(&config, &run, &[]);
    let seed_dir = run.join("seed_0");
    let whole = json(run.join("summary.json"))["per_seed"][0].clone();
    let checkpoint = json(seed_dir.join("checkpoint.json"))["checkpoint"].clone();
    let best_step = whole["best_eval_step"].as_u64().unwrap();
    assert!(
        checkpoint["best"][0].as_u64() == Some(best_step),
        "{checkpoint}"
    );
    assert!(
        checkpoint["step"].as_u64().unwrap() > best_step,
        "{checkpoint}"
    );
    let best_agent = read_bytes(seed_dir.join("best/agent.bin"));
    // As a kill after the last checkpoint leaves it: the records of the end not yet written.
    for f in ["seed_summary.json", "agent.json", "agent.bin"] {
        std::fs::remove_file(seed_dir.join(f)).unwrap();
    }
    resume(&run);
    let resumed = &json(run.join("summary.json"))["per_seed"][0];
    for key in [
        "best_eval_step",
        "best_eval_mean_return",
        "final_eval_mean_return",
        "steps",
    ] {
        assert_eq!(whole[key], resumed[key], "{key}");
    }
    assert_eq!(read_bytes(seed_dir.join("best/agent.bin")), best_agent);
}
