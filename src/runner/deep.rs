//! Runs of deep Q-networks (`[agent] algorithm = "dqn"`): the env's observation goes straight
//! into a [`Dqn`], no `[features]` section; its box's shape tells the Q-network how to read it
//! (a CNN torso sees `[C, H, W]` images).
//!
//! A seed's directory holds what a tabular run's does — `metrics.csv` (one row per episode;
//! `value_rmse` empty), `eval.csv` — and `train.csv`, one row per training (every
//! `train_freq` env steps once learning has started):
//! `step,loss,mean_q,epsilon,gradient_steps,steps_per_second`. The learned network is
//! `q.safetensors` with `agent.json` beside it.
//!
//! Every column but `steps_per_second` (wall-clock) depends on the config and the seed alone:
//! the same config and seed give bit-identical files on the CPU.
//!
//! `[wrappers]` wrap the registered env first (see
//! [`WrappersConfig`](crate::config::WrappersConfig)): `discretize_action` lets a DQN drive an
//! env with Box actions.
//!
//! An attention torso (`torso = { type = "attention", k = … }`) reads the last `k`
//! observations: the runner wraps the env (training, evaluation, `qlab eval`) in
//! [`FrameStackObservation`](qlab_envs::wrappers::FrameStackObservation) with that `k`, so the
//! agent and its replay buffer see the stack `[k, …]` as the observation. A recurrent torso
//! (`lstm`, `gru`) carries its hidden state through each episode, in training and in every
//! greedy evaluation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use qlab_agents::dqn::{Dqn, DqnConfig, ReplayBuffer};
use qlab_envs::{AnyEnv, Env};
use serde::{Deserialize, Serialize};

use super::record::{AgentChoice, read_agent_json, write_agent_json};
use super::seed::{self, Stream, derive};
use super::summary::Summary;
use super::tensorboard::Hparams;
use super::{Failure, RunOptions, SeedEvaluation, for_each_seed};
use crate::config::{AgentConfig, Budget, Config, Features, agent_error};

/// The boxed env deep runs step.
type VecEnv = qlab_envs::registry::VectorEnv;

/// A deep-Q-network config, checked: the env observes a box (a vector or an image) and has
/// discrete actions, the budget is in steps, the networks build for the box's shape.
pub struct DeepExperiment {
    /// The config.
    pub config: Config,
    /// Its `[agent]`.
    pub agent: DqnConfig,
    /// Numbers per observation.
    pub obs_dim: usize,
    /// The observation's shape (the env's box): `[d]` for a vector, `[C, H, W]` for an image.
    pub obs_shape: Vec<usize>,
    /// Actions.
    pub n_actions: usize,
    /// Env steps per seed.
    pub total_steps: u64,
}

fn make(config: &Config) -> Result<VecEnv> {
    let history = match &config.agent {
        AgentConfig::Dqn(d) => d.network.torso.history(),
        _ => None,
    };
    let made = qlab_envs::make(&config.env.id, &config.env.params)?;
    // `[wrappers]`, inside the history and `max_steps_per_episode`.
    let made = super::wrap::apply(made, &config.wrappers)
        .map_err(|e| config.error("wrappers", Some(e.key), e))?;
    let env: VecEnv = match made {
        AnyEnv::Vector(e) => match history {
            Some(k) => Box::new(qlab_envs::wrappers::FrameStackObservation::new(e, k)?),
            None => e,
        },
        AnyEnv::Continuous(e) => bail!(config.error(
            "env",
            Some("id"),
            format!(
                "dqn needs discrete actions; {} has {}; add [wrappers] discretize_action = n \
                 for a grid of n actions per element",
                config.env.id,
                e.action_space()
            )
        )),
        AnyEnv::Discrete(e) => bail!(config.error(
            "env",
            Some("id"),
            format!(
                "{} observes {}, a state index; dqn needs a vector observation",
                config.env.id,
                e.observation_space()
            )
        )),
    };
    // `[train] max_steps_per_episode`: a time limit under the env's own, in training and in
    // every evaluation, as for the other agents.
    Ok(match config.train.max_steps_per_episode {
        Some(limit) => Box::new(qlab_envs::wrappers::TimeLimit::new(env, limit)),
        None => env,
    })
}

impl DeepExperiment {
    /// Checks a config whose agent is a deep Q-network.
    ///
    /// # Errors
    /// A config error at the key at fault.
    pub fn new(config: Config) -> Result<DeepExperiment> {
        let AgentConfig::Dqn(agent) = config.agent.clone() else {
            bail!("not a dqn config");
        };
        if config.features != Features::State {
            bail!(config.error(
                "features",
                Some("kind"),
                "dqn reads the observation itself; remove the [features] section"
            ));
        }
        let Budget::Steps(total_steps) = config.train.budget else {
            bail!(config.error(
                "train",
                Some("episodes"),
                "dqn trains for a number of env steps: use `steps` instead of `episodes`"
            ));
        };
        agent.validate().map_err(|e| agent_error(&config.doc, &e))?;
        let env = make(&config).map_err(|e| match e.downcast::<qlab_envs::Error>() {
            Ok(inner) => config.error("env", None, inner).into(),
            Err(e) => e,
        })?;
        let obs_dim = env.observation_space().flat_dim();
        let obs_shape = match env.observation_space().as_box() {
            Some(b) => b.shape().to_vec(),
            None => vec![obs_dim],
        };
        let Some(n_actions) = env.action_space().as_discrete().map(|d| d.n) else {
            bail!(config.error(
                "env",
                Some("id"),
                format!(
                    "{} has continuous actions; dqn needs discrete ones",
                    config.env.id
                )
            ));
        };
        // The full buffer is not allocated here; only whether it fits in memory is checked.
        ReplayBuffer::check_capacity(agent.buffer_size, obs_dim)
            .map_err(|e| agent_error(&config.doc, &e))?;
        // The whole agent, networks and replay buffer, is built once here to check it.
        let small = DqnConfig {
            buffer_size: 1,
            ..agent.clone()
        };
        Dqn::new(&obs_shape, n_actions, &small, total_steps, 0)
            .map_err(|e| agent_error(&config.doc, &e))?;
        Ok(DeepExperiment {
            config,
            agent,
            obs_dim,
            obs_shape,
            n_actions,
            total_steps,
        })
    }
}

/// What `agent.json` says of a saved Q-network.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedNetwork {
    /// `"dqn"`.
    pub algorithm: String,
    /// Numbers per observation.
    pub obs_dim: usize,
    /// The observation's shape (absent from files written before it was recorded).
    #[serde(default)]
    pub obs_shape: Vec<usize>,
    /// Actions.
    pub n_actions: usize,
    /// Env steps trained.
    pub steps: u64,
    /// The weights' file, beside this one.
    pub parameters: String,
    /// Their format.
    pub format: String,
}

/// Runs or continues every seed of `exp` in `dir`; see [`super::train`].
pub(super) fn run_seeds(
    exp: &DeepExperiment,
    dir: &Path,
    run: &RunOptions<'_>,
    resume: bool,
) -> Result<Summary> {
    let fingerprint = seed::Plan::fingerprint(&exp.config);
    let hparams = Hparams::wanted(&exp.config);
    let plan = seed::Plan {
        train: &exp.config.train,
        window: exp.config.output.window,
        exploring_starts: None,
        start_state: exp.config.train.start_state.as_deref(),
        train_log: true,
        config: &fingerprint,
        tensorboard: hparams.as_ref(),
    };
    let make_env = || make(&exp.config);
    let seeds = &exp.config.train.seeds;
    super::timed(dir, &exp.config, "dqn", run, resume, |progress| {
        for_each_seed(seeds, run, progress, |i, seed| {
            let seed_dir = dir.join(format!("seed_{seed}"));
            let mut agent = Dqn::new(
                &exp.obs_shape,
                exp.n_actions,
                &exp.agent,
                exp.total_steps,
                derive(seed, Stream::Agent),
            )?;
            if let Some(space) = make_env()?.observation_space().as_box() {
                agent.set_observation_space(space)?;
            }
            let this = seed::Seed::new(seed, &seed_dir, &progress.slots[i], run, resume);
            seed::train(
                &plan,
                &make_env,
                &mut agent,
                &mut (),
                |agent: &Dqn, dir: &Path| save(dir, exp, agent),
                &this,
            )
        })
    })
}

/// The episode seed a run's evaluations of `seed` start from: the first reset gets it, the
/// later ones continue the env's stream.
pub fn eval_seed(seed: u64) -> u64 {
    derive(seed, Stream::EvalEnv)
}

fn save(dir: &Path, exp: &DeepExperiment, agent: &Dqn) -> Result<()> {
    crate::files::write_atomic(&dir.join("q.safetensors"), |tmp| {
        agent.params().save(tmp).context("saving the network")
    })?;
    let saved = SavedNetwork {
        algorithm: "dqn".into(),
        obs_dim: exp.obs_dim,
        obs_shape: exp.obs_shape.clone(),
        n_actions: exp.n_actions,
        steps: agent.steps(),
        parameters: "q.safetensors".into(),
        format: "safetensors: the online Q-network's parameters, f32".into(),
    };
    write_agent_json(dir, &saved)
}

/// Reads a seed's `agent.json` in `seed_dir` and checks it against the config; returns the
/// path of the saved weights, or `None` when the seed saved no agent.
fn saved_weights(exp: &DeepExperiment, seed_dir: &Path) -> Result<Option<PathBuf>> {
    let Some((json, saved)) = read_agent_json::<SavedNetwork>(seed_dir)? else {
        return Ok(None);
    };
    // Files written before `obs_shape` was recorded leave it empty: only the length is known.
    let shape_differs = !saved.obs_shape.is_empty() && saved.obs_shape != exp.obs_shape;
    if saved.obs_dim != exp.obs_dim || shape_differs || saved.n_actions != exp.n_actions {
        // Only what differs is named: a message listing two equal shapes reads as if they
        // differed.
        let mut differences = Vec::new();
        if shape_differs {
            differences.push(format!(
                "observations of shape {:?}, config.toml's have shape {:?}",
                saved.obs_shape, exp.obs_shape
            ));
        } else if saved.obs_dim != exp.obs_dim {
            differences.push(format!(
                "observations of {} numbers, config.toml's have {} (shape {:?})",
                saved.obs_dim, exp.obs_dim, exp.obs_shape
            ));
        }
        if saved.n_actions != exp.n_actions {
            differences.push(format!(
                "{} actions, config.toml's env has {}",
                saved.n_actions, exp.n_actions
            ));
        }
        bail!(
            "{}: the saved network is for {}",
            json.display(),
            differences.join(", and for ")
        );
    }
    Ok(Some(seed_dir.join(&saved.parameters)))
}

/// Reloads the greedy agent a seed saved in `seed_dir` (`agent.json` and the weights it
/// names), built as the config builds it; `None` when the seed saved no agent.
///
/// # Errors
/// An `agent.json` that does not match the config, weights that do not load.
pub fn load_agent(exp: &DeepExperiment, seed_dir: &Path) -> Result<Option<Dqn>> {
    let Some(weights) = saved_weights(exp, seed_dir)? else {
        return Ok(None);
    };
    // No replay buffer is needed to act.
    let small = DqnConfig {
        buffer_size: 1,
        ..exp.agent.clone()
    };
    let agent = Dqn::new(&exp.obs_shape, exp.n_actions, &small, exp.total_steps, 0)?;
    agent.load_params(weights)?;
    Ok(Some(agent))
}

/// The env a deep run steps, built from its config.
///
/// # Errors
/// An env the registry cannot build, or one that does not observe a vector.
pub fn make_env(config: &Config) -> Result<VecEnv> {
    make(config)
}

/// Reloads each seed's network from the run in `dir` and evaluates it greedily over
/// `episodes` episodes, with the same episode seeds as the run's own evaluations; `agent`
/// picks the last network or the best.
pub(super) fn evaluate_seeds(
    exp: &DeepExperiment,
    dir: &Path,
    episodes: u64,
    agent: AgentChoice,
) -> Result<Vec<SeedEvaluation>> {
    let load = |seed_dir: &Path| load_agent(exp, seed_dir);
    super::evaluate_saved(
        &exp.config.train.seeds,
        dir,
        agent,
        load,
        |mut agent, seed| {
            let mut env = make(&exp.config)?;
            let max_steps = exp.config.train.eval_max_steps;
            Ok(seed::evaluate(&mut env, &mut agent, seed, episodes, max_steps).map_err(Failure)?)
        },
    )
}
