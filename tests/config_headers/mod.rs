//! The comment heading each shipped config names the algorithm the config runs.

use std::fs;

/// The name a config's first comment line gives each algorithm but DQN, as RESULTS.md and
/// Sutton & Barto write it.
const NAMES: [(&str, &str); 15] = [
    ("sarsa", "SARSA"),
    ("q_learning", "Q-learning"),
    ("expected_sarsa", "Expected SARSA"),
    ("double_q_learning", "Double Q-learning"),
    ("n_step_sarsa", "n-step SARSA"),
    ("sarsa_lambda", "SARSA(λ)"),
    ("true_online_sarsa_lambda", "True online SARSA(λ)"),
    ("q_lambda", "Watkins's Q(λ)"),
    ("td_lambda", "TD(λ)"),
    ("true_online_td_lambda", "True online TD(λ)"),
    ("mc_control", "On-policy Monte Carlo control"),
    (
        "off_policy_mc_prediction",
        "Off-policy Monte Carlo prediction",
    ),
    ("reinforce", "REINFORCE"),
    ("ppo", "PPO"),
    ("a2c", "A2C"),
];

/// `configs/cliffwalking_sarsa.toml` and `configs/cliffwalking_expected_sarsa.toml` once
/// carried Q-learning's header (its name and its −48.8 target) over their own `[agent]`.
#[test]
fn a_config_header_names_the_algorithm_the_config_runs_not_another() {
    let mut checked = 0;
    for config in super::configs() {
        let text = fs::read_to_string(&config).unwrap();
        let algorithm = super::algorithm_of(&text);
        if algorithm == "dqn" {
            // The DQN headers lead with the network (Double, dueling, DRQN, attention).
            continue;
        }
        let name = match (algorithm.as_str(), mc_variant(&text)) {
            ("mc_control", Some("exploring_starts")) => "Monte Carlo ES",
            ("mc_control", Some("off_policy")) => "Off-policy Monte Carlo control",
            _ => {
                NAMES
                    .iter()
                    .find(|(a, _)| *a == algorithm)
                    .unwrap_or_else(|| {
                        panic!("{}: no header name for `{algorithm}`", config.display())
                    })
                    .1
            }
        };
        let first = text.lines().next().unwrap_or_default();
        let title = first
            .trim_start_matches("# ")
            .trim_start_matches("One-step ");
        assert!(
            title.starts_with(&format!("{name} ")),
            "{}: the header `{first}` does not begin with `{name}` (algorithm = \"{algorithm}\")",
            config.display()
        );
        checked += 1;
    }
    assert!(checked >= 15, "{checked} configs checked");
}

/// The `variant` of an `[agent]` section (Monte Carlo control's), if the config sets one.
fn mc_variant(text: &str) -> Option<&str> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("variant"))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"'))
        .next()
}
