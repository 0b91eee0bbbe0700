//! Runs of on-policy actor-critic agents (`[agent] algorithm = "ppo"` or `"a2c"`): `n_envs`
//! copies of the env stepped together, as Stable-Baselines3's vector envs step them, the agent
//! learning from each full rollout.
//!
//! Env `i` of a seed's run is first reset with `seed + i` (Stable-Baselines3's `make_vec_env`
//! seeding); an env whose episode ends is reset at once, its final observation kept for the
//! bootstrap of a truncated episode. Box actions are clipped to the action space when stepping
//! (the agent learns from the sampled ones), in training and in evaluations. Training runs
//! whole rollouts: it stops at the end of the first rollout that reaches the step budget, so a
//! run takes the budget rounded up to a multiple of `n_steps × n_envs`, as
//! Stable-Baselines3's `learn` does.
//!
//! A seed's directory holds what a DQN run's does: `metrics.csv` (one row per episode of any
//! of the envs, in the order they end; `step` counts the steps of all envs), `eval.csv`
//! (greedy evaluations: the most likely action, or the Gaussian's mean, clipped),
//! `train.csv` (one row per update, under
//! [`ON_POLICY_TRAIN_HEADER`](super::record::ON_POLICY_TRAIN_HEADER): the losses and what
//! Stable-Baselines3 logs of an update, with its names) and the policy in
//! `policy.safetensors` with `agent.json`; with `[output] tensorboard = true`, the same
//! measures as TensorBoard events under Stable-Baselines3's tags (`train/approx_kl`, …).
//!
//! Checkpoints are written between rollouts: the agent's whole state, and where
//! each env stands as the actions since its episode began, which a resume replays. A seed
//! stopped or killed continues on `--resume` to the same records as one never stopped.

use std::path::Path;

use anyhow::{Context, Result, bail};
use qlab_agents::actor_critic::{ActorCriticAgent, OnPolicyConfig};
use qlab_agents::evaluate_policy;
use qlab_agents::nn::ActionKind;
use qlab_agents::normalize::Normalizer;
use qlab_envs::{AnyEnv, Env};
use serde::{Deserialize, Serialize};

mod envs;
mod train;

use super::record::{AgentChoice, read_agent_json, write_agent_json};
use super::seed::{self, Stream, derive};
use super::summary::Summary;
use super::{Failure, RunOptions, SeedEvaluation, for_each_seed};
use crate::config::{Budget, Config, Features, agent_error};

/// The envs an on-policy run steps: discrete or Box actions, vector observations.
enum Kind {
    Discrete(qlab_envs::registry::VectorEnv),
    Continuous(qlab_envs::registry::ContinuousEnv),
}

/// What one env step gave.
struct Outcome {
    obs: Vec<f32>,
    reward: f64,
    terminated: bool,
    truncated: bool,
}

impl Kind {
    fn reset(&mut self, seed: Option<u64>) -> Vec<f32> {
        match self {
            Kind::Discrete(e) => e.reset(seed).obs,
            Kind::Continuous(e) => e.reset(seed).obs,
        }
    }

    fn set_rng_state(&mut self, state: [u64; 4]) -> Result<()> {
        Ok(match self {
            Kind::Discrete(e) => e.set_rng_state(state),
            Kind::Continuous(e) => e.set_rng_state(state),
        }?)
    }

    fn rng_state(&self) -> Option<[u64; 4]> {
        match self {
            Kind::Discrete(e) => e.rng_state(),
            Kind::Continuous(e) => e.rng_state(),
        }
    }

    /// Steps with the policy's action: an index, or the Box's numbers clipped to `bounds`.
    fn step(&mut self, action: &[f32], bounds: &Bounds) -> Result<Outcome> {
        let step = match self {
            Kind::Discrete(e) => e.step(action[0] as usize)?,
            Kind::Continuous(e) => e.step(bounds.clip(action))?,
        };
        Ok(Outcome {
            obs: step.obs,
            reward: step.reward,
            terminated: step.terminated,
            truncated: step.truncated,
        })
    }
}

/// A Box action space's bounds (empty for discrete actions).
#[derive(Clone, Debug, Default)]
struct Bounds {
    low: Vec<f32>,
    high: Vec<f32>,
}

impl Bounds {
    fn clip(&self, action: &[f32]) -> Vec<f32> {
        action
            .iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(&a, (&lo, &hi))| a.clamp(lo, hi))
            .collect()
    }
}

fn make(config: &Config) -> Result<Kind> {
    let made = qlab_envs::make(&config.env.id, &config.env.params)?;
    let made = super::wrap::apply(made, &config.wrappers)
        .map_err(|e| config.error("wrappers", Some(e.key), e))?;
    let limit = config.train.max_steps_per_episode;
    Ok(match made {
        AnyEnv::Vector(e) => Kind::Discrete(match limit {
            Some(n) => Box::new(qlab_envs::wrappers::TimeLimit::new(e, n)),
            None => e,
        }),
        AnyEnv::Continuous(e) => Kind::Continuous(match limit {
            Some(n) => Box::new(qlab_envs::wrappers::TimeLimit::new(e, n)),
            None => e,
        }),
        AnyEnv::Discrete(e) => bail!(config.error(
            "env",
            Some("id"),
            format!(
                "{} observes {}, a state index; {} needs a vector observation",
                config.env.id,
                e.observation_space(),
                config.agent.algorithm()
            )
        )),
    })
}

/// An on-policy config, checked: the env observes a vector, the budget is in steps, the
/// agent builds.
#[derive(Clone)]
pub struct OnPolicyExperiment {
    /// The config.
    pub config: Config,
    /// Its `[agent]`.
    pub agent: OnPolicyConfig,
    /// Numbers per observation.
    pub obs_dim: usize,
    /// The actions.
    pub kind: ActionKind,
    /// Env steps per seed (the budget).
    pub total_steps: u64,
    bounds: Bounds,
}

impl OnPolicyExperiment {
    /// Checks a config whose agent is an on-policy actor-critic.
    ///
    /// # Errors
    /// A config error at the key at fault.
    pub fn new(config: Config) -> Result<OnPolicyExperiment> {
        let Some(agent) = config.agent.on_policy() else {
            bail!("not an on-policy config");
        };
        let algorithm = config.agent.algorithm();
        if config.features != Features::State {
            bail!(config.error(
                "features",
                Some("kind"),
                format!("{algorithm} reads the observation itself; remove the [features] section")
            ));
        }
        let Budget::Steps(total_steps) = config.train.budget else {
            bail!(config.error(
                "train",
                Some("episodes"),
                format!("{algorithm} trains for a number of env steps: use `steps` instead of `episodes`")
            ));
        };
        if config.train.start_state.is_some() {
            bail!(config.error(
                "train",
                Some("start_state"),
                format!("{algorithm} runs start each episode where the env's reset puts it; remove start_state")
            ));
        }
        agent.validate().map_err(|e| agent_error(&config.doc, &e))?;
        let env = make(&config).map_err(|e| match e.downcast::<qlab_envs::Error>() {
            Ok(inner) => config.error("env", None, inner).into(),
            Err(e) => e,
        })?;
        let (obs_space, action_space) = match &env {
            Kind::Discrete(e) => (e.observation_space(), e.action_space()),
            Kind::Continuous(e) => (e.observation_space(), e.action_space()),
        };
        let obs_dim = obs_space.flat_dim();
        let (kind, bounds) = match (action_space.as_discrete(), action_space.as_box()) {
            (Some(d), _) => (ActionKind::Discrete(d.n), Bounds::default()),
            (None, Some(b)) => (
                ActionKind::Continuous(b.low().len()),
                Bounds {
                    low: b.low().to_vec(),
                    high: b.high().to_vec(),
                },
            ),
            _ => bail!(config.error(
                "env",
                Some("id"),
                format!(
                    "{algorithm} needs discrete or Box actions; {} has {action_space}",
                    config.env.id
                )
            )),
        };
        ActorCriticAgent::new(obs_dim, kind, &agent, total_steps, 0)
            .map_err(|e| agent_error(&config.doc, &e))?;
        Ok(OnPolicyExperiment {
            config,
            agent,
            obs_dim,
            kind,
            total_steps,
            bounds,
        })
    }

    /// The action the greedy policy of `agent` takes at `obs` in the run's env: the most
    /// likely index, or the Gaussian's mean clipped to the action space, as evaluations take
    /// it.
    ///
    /// # Errors
    /// An observation of the wrong length or with a value that is not finite; a failing
    /// network.
    pub fn greedy_action(
        &self,
        agent: &ActorCriticAgent,
        obs: &[f32],
    ) -> Result<super::interface::EnvAction> {
        use super::interface::EnvAction;
        if obs.len() != self.obs_dim || obs.iter().any(|x| !x.is_finite()) {
            bail!("expected {} finite values, got {obs:?}", self.obs_dim);
        }
        let a = agent.greedy(obs)?;
        Ok(match self.kind {
            ActionKind::Discrete(_) => EnvAction::Discrete(a[0] as usize),
            ActionKind::Continuous(_) => EnvAction::Box(self.bounds.clip(&a)),
        })
    }

    /// A fresh env of the run, as training and evaluation make it.
    fn env(&self) -> Result<Kind> {
        make(&self.config)
    }

    /// A fresh env of a run with discrete actions, as evaluations make it (for `qlab
    /// attack`).
    ///
    /// # Errors
    /// An env with Box actions, or one that cannot be made.
    pub fn discrete_env(&self) -> Result<qlab_envs::registry::VectorEnv> {
        match self.env()? {
            Kind::Discrete(e) => Ok(e),
            Kind::Continuous(e) => bail!(
                "{} has Box actions ({}); this needs discrete ones",
                self.config.env.id,
                e.action_space()
            ),
        }
    }

    /// Plays `agent`'s greedy policy (as evaluations take it) in a fresh env of the run, for
    /// `qlab render`.
    ///
    /// # Errors
    /// An env that cannot be made or stepped, a failing network, a bad playback option.
    pub fn play(
        &self,
        agent: &ActorCriticAgent,
        playback: &crate::plot::render::Playback,
        view: crate::plot::render::View,
        sink: &mut dyn FnMut(qlab_envs::Frame) -> Result<()>,
    ) -> Result<crate::plot::render::Recording> {
        use super::interface::EnvAction;
        use crate::plot::render::play_with_into;
        match self.env()? {
            Kind::Discrete(mut env) => play_with_into(
                &mut env,
                |obs, _| match self.greedy_action(agent, obs)? {
                    EnvAction::Discrete(a) => Ok(a),
                    EnvAction::Box(_) => bail!("a Box action for a discrete env"),
                },
                playback,
                view,
                sink,
            ),
            Kind::Continuous(mut env) => play_with_into(
                &mut env,
                |obs, _| match self.greedy_action(agent, obs)? {
                    EnvAction::Box(a) => Ok(a),
                    EnvAction::Discrete(_) => bail!("a discrete action for a Box env"),
                },
                playback,
                view,
                sink,
            ),
        }
    }
}

/// What `agent.json` says of a saved policy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedPolicy {
    /// `"ppo"` or `"a2c"`.
    pub algorithm: String,
    /// Numbers per observation.
    pub obs_dim: usize,
    /// Discrete actions (`n`), or none for Box actions.
    pub n_actions: Option<usize>,
    /// Numbers per Box action, or none for discrete actions.
    pub action_dim: Option<usize>,
    /// Env steps trained.
    pub steps: u64,
    /// The weights' file, beside this one.
    pub parameters: String,
    /// Their format.
    pub format: String,
    /// The observation and reward statistics of a run with `normalize`, which the policy
    /// reads its observations through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalizer: Option<Normalizer>,
}

const POLICY_FILE: &str = "policy.safetensors";

fn save(dir: &Path, exp: &OnPolicyExperiment, agent: &ActorCriticAgent) -> Result<()> {
    crate::files::write_atomic(&dir.join(POLICY_FILE), |tmp| {
        agent.params().save(tmp).context("saving the policy")
    })?;
    let (n_actions, action_dim) = match exp.kind {
        ActionKind::Discrete(n) => (Some(n), None),
        ActionKind::Continuous(d) => (None, Some(d)),
    };
    let saved = SavedPolicy {
        algorithm: exp.config.agent.algorithm().into(),
        obs_dim: exp.obs_dim,
        n_actions,
        action_dim,
        steps: agent.steps(),
        parameters: POLICY_FILE.into(),
        format: "safetensors: the policy and value networks' parameters, f32".into(),
        normalizer: exp
            .agent
            .common()
            .normalize
            .any()
            .then(|| agent.normalizer().clone()),
    };
    write_agent_json(dir, &saved)
}

/// Reloads the policy a seed saved in `seed_dir`; `None` when the seed saved none.
///
/// # Errors
/// An `agent.json` that does not match the config, weights that do not load.
pub fn load_agent(exp: &OnPolicyExperiment, seed_dir: &Path) -> Result<Option<ActorCriticAgent>> {
    let Some((json, saved)) = read_agent_json::<SavedPolicy>(seed_dir)? else {
        return Ok(None);
    };
    let mut agent = ActorCriticAgent::new(exp.obs_dim, exp.kind, &exp.agent, exp.total_steps, 0)?;
    if saved.obs_dim != exp.obs_dim || saved.algorithm != exp.config.agent.algorithm() {
        bail!(
            "{}: the saved {} policy observes {} numbers; config.toml's {} run observes {}",
            json.display(),
            saved.algorithm,
            saved.obs_dim,
            exp.config.agent.algorithm(),
            exp.obs_dim
        );
    }
    if let Some(n) = saved.normalizer {
        agent
            .set_normalizer(n)
            .with_context(|| format!("{}", json.display()))?;
    } else if exp.agent.common().normalize.any() {
        bail!(
            "{}: the run normalizes observations but no statistics were saved",
            json.display()
        );
    }
    let weights = seed_dir.join(&saved.parameters);
    agent
        .load_params(&weights)
        .with_context(|| format!("{}", weights.display()))?;
    Ok(Some(agent))
}

/// A greedy evaluation of `agent` as every evaluation of this seed runs it (the episode seeds
/// of [`seed::evaluate`]).
fn evaluate(
    exp: &OnPolicyExperiment,
    env: &mut Kind,
    agent: &ActorCriticAgent,
    seed: u64,
    episodes: u64,
) -> Result<qlab_agents::Evaluation> {
    let first = Some(derive(seed, Stream::EvalEnv));
    let max_steps = exp.config.train.eval_max_steps;
    let greedy = |obs: &[f32]| -> Result<Vec<f32>, qlab_agents::Error> { agent.greedy(obs) };
    Ok(match env {
        Kind::Discrete(e) => evaluate_policy(
            e,
            |obs: &[f32], _| Ok::<_, qlab_agents::Error>(greedy(obs)?[0] as usize),
            first,
            episodes,
            max_steps,
        )?,
        Kind::Continuous(e) => evaluate_policy(
            e,
            |obs: &[f32], _| Ok::<_, qlab_agents::Error>(exp.bounds.clip(&greedy(obs)?)),
            first,
            episodes,
            max_steps,
        )?,
    })
}

/// Runs or continues every seed of `exp` in `dir`; see [`super::train`].
pub(super) fn run_seeds(
    exp: &OnPolicyExperiment,
    dir: &Path,
    run: &RunOptions<'_>,
    resume: bool,
) -> Result<Summary> {
    let fingerprint = seed::Plan::fingerprint(&exp.config);
    let hparams = super::tensorboard::Hparams::wanted(&exp.config);
    let seeds = &exp.config.train.seeds;
    let algorithm = exp.config.agent.algorithm();
    super::timed(dir, &exp.config, algorithm, run, resume, |progress| {
        for_each_seed(seeds, run, progress, |i, seed| {
            let seed_dir = dir.join(format!("seed_{seed}"));
            let this = seed::Seed::new(seed, &seed_dir, &progress.slots[i], run, resume);
            train::train_seed(exp, &this, &fingerprint, hparams.as_ref())
                .with_context(|| format!("{}", seed_dir.display()))
        })
    })
}

/// Reloads each seed's policy from the run in `dir` and evaluates it greedily over
/// `episodes` episodes, with the same episode seeds as the run's own evaluations.
pub(super) fn evaluate_seeds(
    exp: &OnPolicyExperiment,
    dir: &Path,
    episodes: u64,
    agent: AgentChoice,
) -> Result<Vec<SeedEvaluation>> {
    let load = |seed_dir: &Path| load_agent(exp, seed_dir);
    super::evaluate_saved(&exp.config.train.seeds, dir, agent, load, |policy, seed| {
        let mut env = exp.env()?;
        Ok(evaluate(exp, &mut env, &policy, seed, episodes).map_err(Failure)?)
    })
}
