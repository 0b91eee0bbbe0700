//! What the set of exploring starts changes for Monte Carlo ES on Blackjack-v1: the runner's
//! (every non-terminal state an episode can reach, 290) against the book's (the 200 states of
//! Figure 5.2: sum 12–21, the dealer's card, usable ace).
//!
//! Run: `cargo run --release --example blackjack_es_starts -- [SEEDS] [EPISODES]`
//!
//! Defaults: seeds 0 to 9, 500,000 episodes each, with `configs/blackjack_mc_es.toml`'s agent
//! (first visit, sample averages, γ = 1). Prints CSV, one row per start set and seed: the
//! number of the 200 decision states where the greedy action (hit when `Q(s, hit) > Q(s,
//! stick)`) differs from the optimal one, and the exact expected return of the greedy policy
//! over the deal (policy evaluation on the model; the optimum is −0.0431131). With the book's
//! starts nothing is learned about the other 90 states (hard 4–11, the naturals), which the
//! book's rules play for the player (a hit below 12; a natural ends the round): there the
//! policy evaluated takes the optimal action.

use qlab_agents::dp::{self, DpConfig};
use qlab_agents::tabular::{
    AgentConfig, McControlConfig, McVariant, exploring_start_states, run_episode_exploring_starts,
};
use qlab_envs::blackjack::{Blackjack, BlackjackConfig, BlackjackObs};
use qlab_envs::{Env, EnvRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: u64 = args.first().map_or(Ok(10), |a| a.parse())?;
    let episodes: u64 = args.get(1).map_or(Ok(500_000), |a| a.parse())?;

    let mut env = Blackjack::new(BlackjackConfig::default());
    let table = Blackjack::new(BlackjackConfig::default());
    let model = table.model().ok_or("Blackjack-v1 has a model")?;
    let dp_config = DpConfig {
        theta: 0.0,
        ..DpConfig::default()
    };
    let optimal = dp::value_iteration(model, &dp_config)?.policy;
    let runner = exploring_start_states(model);
    let mut book = Vec::with_capacity(200);
    for usable_ace in [false, true] {
        for player_sum in 12..=21 {
            for dealer_card in 1..=10 {
                book.push(
                    BlackjackObs {
                        player_sum,
                        dealer_card,
                        usable_ace,
                        natural: false,
                    }
                    .index(),
                );
            }
        }
    }
    let config = AgentConfig::McControl(McControlConfig {
        variant: McVariant::ExploringStarts,
        ..McControlConfig::default()
    });

    println!("starts,seed,differ,value");
    for (name, starts) in [("runner_290", &runner), ("book_200", &book)] {
        for seed in 0..seeds {
            let mut agent = config.build(BlackjackObs::COUNT, 2)?;
            let mut rng = EnvRng::new(seed);
            for e in 0..episodes {
                let reset = (e == 0).then_some(seed);
                run_episode_exploring_starts(
                    &mut env,
                    agent.as_mut(),
                    starts,
                    reset,
                    &mut rng,
                    None,
                )?;
            }
            let q = agent.parameters();
            let mut greedy: Vec<usize> = (0..BlackjackObs::COUNT)
                .map(|s| usize::from(q[2 * s + 1] > q[2 * s]))
                .collect();
            if name == "book_200" {
                // Starts never land elsewhere, so nothing is learned about the actions there:
                // play them as the book's rules do (hit below 12) and as is optimal.
                for s in (0..greedy.len()).filter(|s| !book.contains(s)) {
                    greedy[s] = optimal[s];
                }
            }
            let differ = book.iter().filter(|&&s| greedy[s] != optimal[s]).count();
            let policy = dp::deterministic_policy(model, &greedy)?;
            let values = dp::evaluate_policy(model, &policy, &dp_config)?.values;
            let value = dp::start_value(model, &values);
            println!("{name},{seed},{differ},{value:.7}");
        }
    }
    Ok(())
}
