//! Off-policy Monte Carlo prediction through `qlab train`: Figure 5.3's config, the start
//! state every episode begins in, and the policy an env names.

use std::path::Path;

use super::common::{TempDir, qlab, read};

/// The exact value of Example 5.4's state under "stick on 20 or 21" (`blackjack_values.csv`),
/// which policy evaluation reaches within 1e-9.
const EXACT: f64 = -0.277_204_191_8;

fn config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs/blackjack_off_policy.toml")
        .display()
        .to_string()
}

/// Column `name` of a seed's `metrics.csv`.
fn column(run: &Path, seed: u64, name: &str) -> Vec<f64> {
    let text = read(run.join(format!("seed_{seed}/metrics.csv")));
    let mut lines = text.lines();
    let j = lines
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == name)
        .unwrap();
    lines
        .map(|l| l.split(',').nth(j).unwrap().parse().unwrap())
        .collect()
}

/// Both estimators see the same episodes (the behaviour's stream is the seed's), every episode
/// starts in the example's state, and `value_rmse` is that state's error alone: the weighted
/// estimate is 0 until the first episode the target would have played, then that episode's
/// return. `--metric value_mse` plots the mean over seeds of its square.
#[test]
fn figure_5_3_config_records_the_start_state_error_and_plots_its_square() {
    let tmp = TempDir::new();
    let (ordinary, weighted) = (tmp.path("ordinary"), tmp.path("weighted"));
    let config = config();
    let run = |out: &Path, extra: &[&str]| {
        let out = out.to_str().unwrap();
        let mut args = vec!["train", &config, "--out", out, "--set", "train.episodes=40"];
        args.extend_from_slice(&["--seeds", "0..4", "-q"]);
        args.extend_from_slice(extra);
        qlab(&args).ok();
    };
    run(&ordinary, &[]);
    run(&weighted, &["--set", "agent.importance_sampling=weighted"]);
    for seed in 0..4 {
        let returns = column(&weighted, seed, "return");
        assert_eq!(returns, column(&ordinary, seed, "return"));
        // Until the target would have played an episode, every ratio is 0 and the estimate
        // 0; at the first it would have, the estimate is that episode's return.
        let errors = column(&weighted, seed, "value_rmse");
        let first = errors
            .iter()
            .position(|e| (e - EXACT.abs()).abs() > 1e-9)
            .unwrap_or_else(|| panic!("seed {seed}: no episode of the target's in 40"));
        assert!(
            (errors[first] - (returns[first] - EXACT).abs()).abs() < 1e-9,
            "seed {seed}, episode {}: {}",
            first + 1,
            errors[first]
        );
        // The weighted estimate is a weighted mean of returns in [−1, 1].
        let bound = 1.0 - EXACT + 1e-9;
        assert!(errors.iter().all(|&e| e <= bound));
    }

    let data = tmp.path("mse.csv");
    qlab(&[
        "plot",
        ordinary.to_str().unwrap(),
        "--metric",
        "value_mse",
        "--band",
        "none",
        "--out",
        tmp.path("mse.png").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ])
    .ok();
    let rows = read(data);
    let first: Vec<f64> = rows
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .skip(1)
        .take(2)
        .map(|c| c.parse().unwrap())
        .collect();
    let want = (0..4)
        .map(|s| column(&ordinary, s, "value_rmse")[0].powi(2))
        .sum::<f64>()
        / 4.0;
    assert_eq!(first[0], 1.0);
    assert!((first[1] - want).abs() < 1e-12, "{} vs {want}", first[1]);
}

/// A start state the env cannot take, a policy the env does not name, and exploring starts
/// with a start state are one-line errors naming the key, before any seed runs.
#[test]
fn a_bad_start_state_or_target_names_the_key_and_what_the_env_takes() {
    let tmp = TempDir::new();
    let out = tmp.path("out");
    let config = config();
    let mc_es = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs/blackjack_mc_es.toml")
        .display()
        .to_string();
    let cases: [(&str, &str, &str); 4] = [
        (
            &config,
            "train.start_state=[40,2,1]",
            "`start_state`: invalid state: Blackjack-v1 takes",
        ),
        (
            &config,
            "agent.target=stick_30",
            "`target`: unknown policy `stick_30` for Blackjack-v1; known: stick_4 … stick_21",
        ),
        (
            &config,
            "agent.target=[0,1]",
            "2 actions for `target`: expected one action per state (714)",
        ),
        (&mc_es, "train.start_state=[13,2,1]", "exploring starts"),
    ];
    for (config, set, want) in cases {
        let err = qlab(&[
            "train",
            config,
            "--set",
            set,
            "--out",
            out.to_str().unwrap(),
        ])
        .usage_message();
        assert!(err.contains(want), "{set}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!out.exists());
    }
}
