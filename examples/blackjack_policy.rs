//! Compares the greedy policies a Blackjack-v1 run learned with the optimal one from dynamic
//! programming (Sutton & Barto, Figure 5.2).
//!
//! Run: `cargo run --release --example blackjack_policy -- RUN_DIR`
//!
//! `RUN_DIR` is a run of a tabular agent on `Blackjack-v1` (`configs/blackjack_mc_es.toml`).
//! For each seed's saved agent (`seed_<k>/agent.json`), over the 200 decision states of the
//! figure (player's sum 12–21, dealer's card 1–10, usable ace or not; no natural):
//!
//! - `differ`: the states where the agent's greedy action (hit when `Q(s, hit) > Q(s,
//!   stick)`) is not the optimal one;
//! - `max_gap`: the largest `|Q*(s, stick) − Q*(s, hit)|` among them (how much an episode
//!   loses by the wrong action, if it reaches `s`);
//! - `q_rmse`: the RMS error of the agent's 400 action values there against `Q*`, the scale of
//!   its estimation noise; a difference counts as a tie within noise (`noise_ties`) where the
//!   gap is below `2 √2 · q_rmse`, twice the spread of a difference of two estimates;
//! - `value`: the exact expected return of the agent's greedy policy (in every state) over the
//!   deal, by policy evaluation on the model, next to the optimum `v*`.
//!
//! Then one line per differing state: seed, the state, `Q*` of both actions and the agent's.

use std::path::{Path, PathBuf};

use qlab::runner::{load_run_config, record::load_agent};
use qlab_agents::dp::{self, DpConfig};
use qlab_envs::AnyEnv;
use qlab_envs::blackjack::BlackjackObs;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: blackjack_policy RUN_DIR")?,
    );
    let config = load_run_config(&run)?;
    if config.env.id != "Blackjack-v1" {
        return Err(format!(
            "{}: a run on {}, not Blackjack-v1",
            run.display(),
            config.env.id
        )
        .into());
    }
    let AnyEnv::Discrete(env) = qlab_envs::make(&config.env.id, &config.env.params)? else {
        return Err("Blackjack-v1 is a discrete env".into());
    };
    let model = env.model().ok_or("Blackjack-v1 has a model")?;
    let dp_config = DpConfig {
        theta: 0.0,
        ..DpConfig::default()
    };
    let optimal = dp::value_iteration(model, &dp_config)?;
    let q_star = dp::action_values(model, &optimal.values, 1.0);
    let v_star = dp::start_value(model, &optimal.values);
    let states = decision_states();

    println!("seed,differ,noise_ties,max_gap,q_rmse,value,v_star");
    let mut details = Vec::new();
    for (seed, dir) in seed_dirs(&run)? {
        let (_, q) = load_agent(&dir)?;
        if q.len() != 2 * model.n_states() {
            return Err(format!("{}: not a table of 714 × 2 action values", dir.display()).into());
        }
        let greedy: Vec<usize> = (0..model.n_states())
            .map(|s| usize::from(q[2 * s + 1] > q[2 * s]))
            .collect();
        let sq: f64 = states
            .iter()
            .flat_map(|&s| [2 * s, 2 * s + 1])
            .map(|k| (q[k] - q_star[k]).powi(2))
            .sum();
        let q_rmse = (sq / (2 * states.len()) as f64).sqrt();
        let (mut differ, mut ties, mut max_gap) = (0, 0, 0.0f64);
        for &s in &states {
            if greedy[s] != optimal.policy[s] {
                let gap = (q_star[2 * s] - q_star[2 * s + 1]).abs();
                differ += 1;
                ties += usize::from(gap < 2.0 * 2f64.sqrt() * q_rmse);
                max_gap = max_gap.max(gap);
                let o = BlackjackObs::from_index(s).expect("a state index");
                details.push(format!(
                    "{seed},{},{},{},{:.5},{:.5},{:.5},{:.5},{:.5}",
                    o.player_sum,
                    o.dealer_card,
                    u8::from(o.usable_ace),
                    q_star[2 * s],
                    q_star[2 * s + 1],
                    gap,
                    q[2 * s],
                    q[2 * s + 1]
                ));
            }
        }
        let policy = dp::deterministic_policy(model, &greedy)?;
        let values = dp::evaluate_policy(model, &policy, &dp_config)?.values;
        let value = dp::start_value(model, &values);
        println!("{seed},{differ},{ties},{max_gap:.5},{q_rmse:.5},{value:.7},{v_star:.7}");
    }
    println!("\nseed,player_sum,dealer_card,usable_ace,q_star_stick,q_star_hit,gap,q_stick,q_hit");
    for d in details {
        println!("{d}");
    }
    Ok(())
}

/// The 200 states of Figure 5.2: sums 12–21, the dealer's card 1–10, usable ace or not.
fn decision_states() -> Vec<usize> {
    let mut states = Vec::with_capacity(200);
    for usable_ace in [false, true] {
        for player_sum in 12..=21 {
            for dealer_card in 1..=10 {
                let obs = BlackjackObs {
                    player_sum,
                    dealer_card,
                    usable_ace,
                    natural: false,
                };
                states.push(obs.index());
            }
        }
    }
    states
}

/// The run's `seed_<k>` directories that hold a saved agent, by seed.
fn seed_dirs(run: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(run)? {
        let path = entry?.path();
        let seed = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("seed_"))
            .and_then(|k| k.parse().ok());
        if let Some(seed) = seed.filter(|_| path.join("agent.json").is_file()) {
            dirs.push((seed, path));
        }
    }
    dirs.sort();
    Ok(dirs)
}
