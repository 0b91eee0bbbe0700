//! `qlab bench`: env throughput through the public API, or the runner's training throughput
//! on an experiment config.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use qlab_envs::acrobot::{ACROBOT_ID, Acrobot, AcrobotConfig};
use qlab_envs::batched_cartpole::CartPoleBatch;
use qlab_envs::blackjack::{BLACKJACK_ID, Blackjack, BlackjackConfig};
use qlab_envs::cartpole::CartPole;
use qlab_envs::gridworld::GridWorld;
use qlab_envs::mountain_car::{
    MOUNTAIN_CAR_CONTINUOUS_ID, MOUNTAIN_CAR_ID, MountainCar, MountainCarContinuous,
};
use qlab_envs::pendulum::{PENDULUM_ID, Pendulum, PendulumConfig};
use qlab_envs::taxi::{TAXI_ID, Taxi};
use qlab_envs::vector::SyncVectorEnv;
use qlab_envs::wrappers::TimeLimit;
use qlab_envs::{AnyEnv, Env, EnvRng, Params, SpaceAction, registry};
use rand::SeedableRng;

/// Measure env throughput with random actions through the public API, or (with
/// `--config`) the training throughput of an experiment config's first seed through the
/// runner's training loop.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// The env id (see `qlab envs`).
    #[arg(long, required_unless_present = "config", conflicts_with = "config")]
    pub env: Option<String>,
    /// An experiment config: time its first seed's training on one thread.
    #[arg(long)]
    pub config: Option<String>,
    /// With `--config`: override a config value; repeatable.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE", requires = "config")]
    pub sets: Vec<String>,
    /// Env-steps in total, over all envs; with `--config`, the training budget in steps
    /// [default: 10000000; with `--config`, the config's budget].
    #[arg(long)]
    pub steps: Option<u64>,
    /// Envs stepped together, 1 to 65536 (CartPole-v1 uses the native batched CartPole).
    #[arg(long, default_value_t = 1, conflicts_with = "config")]
    pub num_envs: usize,
    /// Env parameter KEY=VALUE; repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE", conflicts_with = "config")]
    pub params: Vec<String>,
}

/// Measures what the arguments ask for: with `--config`, that config's training
/// ([`run_config`]); otherwise the env's throughput ([`run_env`]).
pub fn run(args: &BenchArgs) -> Result<String> {
    match &args.config {
        Some(config) => run_config(config, &args.sets, args.steps),
        None => run_env(&Bench {
            env: args.env.clone().context("give --env ID or --config FILE")?,
            params: crate::params::parse_params(&args.params)?,
            steps: args.steps.unwrap_or(10_000_000),
            num_envs: args.num_envs,
        }),
    }
}

/// The most envs `bench` steps together: enough to measure a batch's throughput, few enough
/// that their states fit in memory.
pub const MAX_NUM_ENVS: usize = 1 << 16;

/// An env-throughput measurement.
#[derive(Clone, Debug)]
pub struct Bench {
    /// The env id.
    pub env: String,
    /// Env parameters.
    pub params: Params,
    /// Env steps in total (over all envs).
    pub steps: u64,
    /// Envs stepped together.
    pub num_envs: usize,
}

/// Steps the env with random actions (resetting when an episode ends) and reports the rate as
/// one line: `env=ID num_envs=K steps=N steps_per_second=X`.
pub fn run_env(b: &Bench) -> Result<String> {
    if !(1..=MAX_NUM_ENVS).contains(&b.num_envs) {
        bail!(
            "--num-envs must be in 1..={MAX_NUM_ENVS}, got {}",
            b.num_envs
        );
    }
    if b.steps == 0 {
        bail!("--steps must be at least 1, got 0");
    }
    let rate = if b.num_envs == 1 {
        single(b)?
    } else {
        vectorised(b)?
    };
    Ok(format!(
        "env={} num_envs={} steps={} steps_per_second={:.0}\n",
        b.env, b.num_envs, b.steps, rate
    ))
}

/// One env, through its concrete type where the id names one (as an embedding crate would use
/// it: observations and Box actions as arrays, no allocation or dynamic dispatch per step),
/// inside its registered time limit, else through the type-erased form.
fn single(b: &Bench) -> Result<f64> {
    let (id, params, steps) = (b.env.as_str(), &b.params, b.steps);
    match id {
        "CartPole-v1" => {
            let config = registry::cartpole_config(id, params)?;
            let limit = config.max_episode_steps;
            return time_env(&mut TimeLimit::new(CartPole::new(config), limit), steps);
        }
        ACROBOT_ID => {
            let mut config = AcrobotConfig::default();
            config.apply_params(id, params)?;
            let limit = config.max_episode_steps;
            return time_env(&mut TimeLimit::new(Acrobot::new(config), limit), steps);
        }
        PENDULUM_ID => {
            let mut config = PendulumConfig::default();
            config.apply_params(id, params)?;
            let limit = config.max_episode_steps;
            return time_env(&mut TimeLimit::new(Pendulum::new(config), limit), steps);
        }
        // Registered without a time limit: every round ends within a few cards.
        BLACKJACK_ID => {
            let mut config = BlackjackConfig::default();
            config.apply_params(id, params)?;
            return time_env(&mut Blackjack::new(config), steps);
        }
        TAXI_ID => {
            let config = registry::taxi_config(id, params)?;
            let limit = config.max_episode_steps;
            return time_env(&mut TimeLimit::new(Taxi::new(config)?, limit), steps);
        }
        MOUNTAIN_CAR_ID => {
            let config = registry::mountain_car_config(id, params)?;
            let limit = config.max_episode_steps;
            return time_env(&mut TimeLimit::new(MountainCar::new(config), limit), steps);
        }
        MOUNTAIN_CAR_CONTINUOUS_ID => {
            let config = registry::mountain_car_config(id, params)?;
            let limit = config.max_episode_steps;
            let env = MountainCarContinuous::new(config);
            return time_env(&mut TimeLimit::new(env, limit), steps);
        }
        _ => {}
    }
    if let Ok(config) = registry::gridworld_config(&b.env, &b.params) {
        let limit = config.max_episode_steps;
        let env = GridWorld::new(config)?;
        return match limit {
            Some(limit) => time_env(&mut TimeLimit::new(env, limit), b.steps),
            None => time_env(&mut { env }, b.steps),
        };
    }
    match qlab_envs::make(&b.env, &b.params)? {
        AnyEnv::Discrete(mut env) => time_env(&mut env, b.steps),
        AnyEnv::Vector(mut env) => time_env(&mut env, b.steps),
        AnyEnv::Continuous(mut env) => time_env(&mut env, b.steps),
    }
}

/// `num_envs` envs together: the native batched CartPole for `CartPole-v1`, otherwise a
/// synchronous vector env. `steps` counts env-steps over all envs.
fn vectorised(b: &Bench) -> Result<f64> {
    let rounds = b.steps.div_ceil(b.num_envs as u64);
    let mut rng = EnvRng::seed_from_u64(0);
    let mut actions = vec![0usize; b.num_envs];
    if b.env == "CartPole-v1" {
        let config = registry::cartpole_config(&b.env, &b.params)?;
        let mut batch = CartPoleBatch::new(b.num_envs, config);
        batch.reset(Some(0));
        let start = Instant::now();
        for _ in 0..rounds {
            actions.iter_mut().for_each(|a| *a = rng.below(2));
            batch.step(&actions)?;
        }
        return Ok((rounds * b.num_envs as u64) as f64 / start.elapsed().as_secs_f64());
    }
    let any = (0..b.num_envs)
        .map(|_| qlab_envs::make(&b.env, &b.params))
        .collect::<qlab_envs::Result<Vec<_>>>()?;
    // `make` gives every env of one id the same kind.
    match any.first() {
        Some(AnyEnv::Discrete(_)) => {
            let envs = any.into_iter().filter_map(|e| match e {
                AnyEnv::Discrete(e) => Some(e),
                _ => None,
            });
            time_vector(SyncVectorEnv::new(envs.collect())?, rounds, &mut rng)
        }
        Some(AnyEnv::Continuous(_)) => {
            let envs = any.into_iter().filter_map(|e| match e {
                AnyEnv::Continuous(e) => Some(e),
                _ => None,
            });
            time_vector(SyncVectorEnv::new(envs.collect())?, rounds, &mut rng)
        }
        _ => {
            let envs = any.into_iter().filter_map(|e| match e {
                AnyEnv::Vector(e) => Some(e),
                _ => None,
            });
            time_vector(SyncVectorEnv::new(envs.collect())?, rounds, &mut rng)
        }
    }
}

/// A random action of `space`: uniform over `Discrete(n)` (one `below(n)` draw), as the box
/// samples over a `Box`.
fn random_action<A: SpaceAction>(space: &qlab_envs::Space, rng: &mut EnvRng) -> Result<A> {
    A::sample(space, rng).with_context(|| format!("no action can be drawn from {space}"))
}

fn time_vector<E: Env>(mut envs: SyncVectorEnv<E>, rounds: u64, rng: &mut EnvRng) -> Result<f64>
where
    E::Action: SpaceAction,
{
    let space = envs.single_action_space().clone();
    let mut actions = (0..envs.num_envs())
        .map(|_| random_action(&space, rng))
        .collect::<Result<Vec<E::Action>>>()?;
    envs.reset(Some(0));
    let start = Instant::now();
    for _ in 0..rounds {
        for a in &mut actions {
            *a = random_action(&space, rng)?;
        }
        envs.step(&actions)?;
    }
    Ok((rounds * envs.num_envs() as u64) as f64 / start.elapsed().as_secs_f64())
}

/// Times one seed of the config at `path` (with its `--set` overrides) through the runner's
/// training loop, on one thread, with everything it records (metrics, evaluations, the saved
/// agent) written to a temporary run directory that is removed afterwards; `steps` replaces
/// the budget with that many env steps. Reports one line:
/// `config=… env=… algorithm=… steps=N episodes=M seconds=S steps_per_second=X`.
///
/// The time is the seed's whole run: building the env and agent, training, recording, the
/// evaluations the config asks for and saving the agent.
pub fn run_config(path: &str, sets: &[String], steps: Option<u64>) -> Result<String> {
    use crate::config::{Budget, Config};
    use crate::runner::{self, Experiment, progress::Display};

    let mut config = Config::load(path, sets)?;
    if let Some(steps) = steps {
        if steps == 0 {
            bail!("--steps must be at least 1, got 0");
        }
        // The run's config.toml holds the budget as a TOML integer.
        let max = i64::MAX as u64;
        if steps > max {
            bail!("--steps must be at most {max}, got {steps}");
        }
        config.set_budget(Budget::Steps(steps));
    }
    let first = config.train.seeds[0];
    config.set_seeds(vec![first]);
    let exp = Experiment::new(config)?;
    let dir = std::env::temp_dir().join(format!(
        "qlab-bench-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    crate::runner::record::create_run_dir(&dir)?;
    let run = runner::RunOptions {
        threads: 1,
        display: Display::Quiet,
        stop: &runner::Stop::new(),
        pause: None,
    };
    let summary = runner::train(&exp, &dir, &run);
    let _ = std::fs::remove_dir_all(&dir);
    let s = &summary?.per_seed[0];
    Ok(format!(
        "config={} env={} algorithm={} steps={} episodes={} seconds={:.3} steps_per_second={:.0}\n",
        path,
        exp.config().env.id,
        exp.config().agent.algorithm(),
        s.steps,
        s.episodes,
        s.wall_seconds,
        s.steps_per_second
    ))
}

/// Steps `env` `steps` times with uniformly random actions (discrete or Box); returns steps
/// per second.
pub fn time_env<E: Env>(env: &mut E, steps: u64) -> Result<f64>
where
    E::Action: SpaceAction,
{
    let space = env.action_space().clone();
    let mut rng = EnvRng::seed_from_u64(0);
    env.reset(Some(0));
    let start = Instant::now();
    for _ in 0..steps {
        let step = env.step(random_action(&space, &mut rng)?)?;
        if step.done() {
            env.reset(None);
        }
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64())
}
