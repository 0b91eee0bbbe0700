//! The worst-case neighbour attack on a tabular agent: train Q-learning on slippery
//! FrozenLake-v1 (the settings of `configs/frozenlake_q_learning.toml`, seed 0), then evaluate
//! its greedy policy while each observed cell is replaced by the cell within a Manhattan
//! radius whose shown state makes the agent take the action of lowest true value.
//!
//! Run: `cargo run --release --example frozenlake_neighbour_attack`

use qlab_agents::adversarial::{AgainstTable, Attacked, NeighbourAttack, NeighbourConfig, QTable};
use qlab_agents::tabular::{AgentConfig, evaluate_greedy, run_episode};
use qlab_envs::gridworld::GridWorld;
use qlab_envs::registry::gridworld_config;
use qlab_envs::wrappers::TimeLimit;
use qlab_envs::{EnvRng, Model, Params};

const TRAIN_EPISODES: u64 = 20_000;
const EVAL_EPISODES: usize = 1_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent_config: AgentConfig = toml::from_str(
        r#"
        algorithm = "q_learning"
        alpha = 0.05
        gamma = 0.99
        epsilon = { schedule = "linear", start = 1.0, end = 0.05, episodes = 10000 }
        "#,
    )?;
    let grid_config = gridworld_config("FrozenLake-v1", &Params::new())?;
    let limit = grid_config
        .max_episode_steps
        .expect("FrozenLake-v1 has a time limit");
    let grid = GridWorld::new(grid_config)?;
    let (n_states, n_actions) = (grid.n_states(), grid.n_actions());

    let mut agent = agent_config.build(n_states, n_actions)?;
    let mut env = TimeLimit::new(grid.clone(), limit);
    let mut rng = EnvRng::new(0);
    for episode in 0..TRAIN_EPISODES {
        run_episode(
            &mut env,
            agent.as_mut(),
            (episode == 0).then_some(0),
            &mut rng,
            None,
        )?;
    }

    println!("radius,success_rate,std");
    for radius in 0..=3 {
        let attack = NeighbourAttack::new(&grid, &NeighbourConfig { radius, gamma: 1.0 })?;
        let table = QTable::new(agent.parameters(), n_actions)?;
        let mut attacked = TimeLimit::new(
            Attacked::new(grid.clone(), AgainstTable::new(attack, table)),
            limit,
        );
        let mut eval_rng = EnvRng::new(1);
        let eval = evaluate_greedy(
            &mut attacked,
            agent.as_ref(),
            EVAL_EPISODES,
            Some(1),
            &mut eval_rng,
            None,
        )?;
        println!("{radius},{},{}", eval.mean, eval.std);
    }
    Ok(())
}
