//! Runs of the tabular and linear agents: the env built as a concrete type with the
//! configured features, the agent over its active feature indices, the value error against
//! dynamic programming's truth where the env has a model.

use std::path::Path;

use anyhow::{Context, Result, bail};
use qlab_agents::dp::{self, DpConfig};
use qlab_agents::tabular::{
    AgentConfig, TabularAgent, TabularVisitor, TargetPolicy, exploring_start_states,
};
use qlab_agents::{Agent, View};
use qlab_envs::{AnyEnv, Env, Model};

use super::envs::{AgentEnv, EnvSpec, EnvVisitor, SpecError};
use super::progress::Progress;
use super::record::{self, AgentChoice};
use super::summary::{SeedSummary, Summary};
use super::tensorboard::Hparams;
use super::{Failure, RunOptions, SeedEvaluation, for_each_seed, seed, timed, track};
use crate::config::{Config, ConfigError, Features as FeatureConfig, agent_error};

/// The true state values the agent's estimates are compared with: `V*` for control agents,
/// `V^π` of the uniform random policy for prediction agents, by dynamic programming on the
/// env's model with the agent's discount (infinite horizon: the env's time limit is left out).
#[derive(Clone, Debug)]
pub struct Truth {
    /// The value of every state.
    pub values: Vec<f64>,
    /// The states compared: non-terminal states an episode can reach, as
    /// [`dp::rms_error`] counts them.
    pub(super) states: Vec<usize>,
}

impl Truth {
    /// The truth over the non-terminal states an episode can reach, or, for runs whose
    /// episodes all start in one state (`[train] start_state`), over that state alone.
    fn new(model: &dyn Model, values: Vec<f64>, start: Option<usize>) -> Truth {
        let states = match start {
            Some(s) => vec![s],
            None => {
                let reachable = dp::reachable_states(model);
                (0..model.n_states())
                    .filter(|&s| reachable[s] && !model.is_terminal(s))
                    .collect()
            }
        };
        Truth { values, states }
    }

    /// The RMS difference between `agent.value` and the truth over the compared states: the
    /// same number as [`dp::rms_error`], without its per-call search of the reachable states.
    #[inline]
    pub fn rmse<G: Agent<[usize], usize> + ?Sized>(&self, agent: &G) -> f64 {
        if self.states.is_empty() {
            return 0.0;
        }
        let mut sum = 0.0;
        for &s in &self.states {
            sum += (self.value_of(agent, s) - self.values[s]).powi(2);
        }
        (sum / self.states.len() as f64).sqrt()
    }

    /// The agent's value of state `s` (NaN from an agent that keeps none).
    #[inline]
    pub(super) fn value_of<G: Agent<[usize], usize> + ?Sized>(&self, agent: &G, s: usize) -> f64 {
        agent.value(&[s]).unwrap_or(f64::NAN)
    }
}

/// Algorithms that learn the values of a fixed policy (the uniform random one) rather than
/// control. (Off-policy prediction learns those of its target policy.)
pub const PREDICTION_ALGORITHMS: [&str; 2] = ["td_lambda", "true_online_td_lambda"];

/// A tabular or linear agent's config with everything it implies resolved and checked.
pub struct TabularExperiment {
    /// The config.
    pub config: Config,
    /// The agent's config as the agents are built from it: the config's, with a target policy
    /// the env names resolved into its actions.
    pub agent: AgentConfig,
    /// How to build its env.
    pub spec: EnvSpec,
    /// The number of features the agent sees.
    pub n_features: usize,
    /// The number of actions.
    pub n_actions: usize,
    /// The true values, for envs with a model and no feature wrapper.
    pub truth: Option<Truth>,
    /// The start states of exploring starts, for agents that learn from them.
    pub exploring_starts: Option<Vec<usize>>,
    /// Things worth telling that do not stop the run (e.g. the truth could not be computed).
    pub warnings: Vec<String>,
}

/// The discount the agent's config gives (every tabular config has a `gamma`).
pub fn gamma(agent: &AgentConfig) -> f64 {
    match toml::Value::try_from(agent) {
        Ok(toml::Value::Table(t)) => t.get("gamma").and_then(toml::Value::as_float),
        _ => None,
    }
    .unwrap_or(1.0)
}

/// The config's agent, or an error saying that `what` takes tabular agents only.
fn tabular_agent<'a>(agent: &'a AgentConfig, what: &str) -> Result<&'a AgentConfig> {
    if !agent.is_tabular() {
        bail!(
            "{what} takes tabular agents only, not `{}`",
            agent.algorithm()
        );
    }
    Ok(agent)
}

impl TabularExperiment {
    /// Checks the config's env, features and agent together, and computes the truth.
    ///
    /// # Errors
    /// A [`ConfigError`] pointing at the key at fault.
    pub fn new(config: Config) -> Result<TabularExperiment> {
        let agent = tabular_agent(&config.agent, "this command")?.clone();
        let agent = match agent.target_policy() {
            Some(TargetPolicy::Named(name)) => {
                let actions = qlab_envs::registry::policy(&config.env.id, name)
                    .map_err(|e| config.error("agent", Some("target"), format!("`target`: {e}")))?;
                agent.with_target_actions(actions)
            }
            _ => agent,
        };
        let spec = EnvSpec::new(&config).map_err(|e| spec_error(&config, e))?;
        let probe = spec.probe().map_err(|e| probe_error(&config, &spec, e))?;
        let n_features = probe
            .n_features
            .expect("`EnvSpec::new` checked the features");
        let Some(n_actions) = probe.n_actions else {
            bail!(config.error(
                "env",
                Some("id"),
                format!(
                    "{} has continuous actions; these agents need discrete ones",
                    probe.name
                )
            ));
        };
        agent
            .build(n_features, n_actions)
            .map_err(|e| agent_error(&config.doc, &e))?;

        let start = start_state(&config, &spec)?;
        let mut warnings = Vec::new();
        let model_env = match (&config.features, probe.has_model) {
            (FeatureConfig::State, true) => {
                match qlab_envs::make(&config.env.id, &config.env.params)? {
                    AnyEnv::Discrete(e) => Some(e),
                    AnyEnv::Vector(_) | AnyEnv::Continuous(_) => None,
                }
            }
            _ => None,
        };
        let model = model_env.as_ref().and_then(|e| e.model());
        let compared = model.filter(|_| agent.keeps_values());
        let truth = compared.and_then(|m| match solve(m, &agent) {
            Ok(values) => Some(Truth::new(m, values, start)),
            Err(e) => {
                warnings.push(format!(
                    "value_rmse left empty: the true values could not be computed: {e}"
                ));
                None
            }
        });
        if agent.exploring_starts() && config.train.start_state.is_some() {
            bail!(config.error(
                "train",
                Some("start_state"),
                format!(
                    "{} starts episodes in random states (exploring starts); drop \
                     `start_state` or choose another variant",
                    config.agent.algorithm()
                )
            ));
        }
        let exploring_starts = if agent.exploring_starts() {
            let Some(m) = model else {
                bail!(config.error(
                    "agent",
                    Some("algorithm"),
                    format!(
                        "{} learns from exploring starts, which need an env with a model \
                         (a GridWorld); {} has none",
                        config.agent.algorithm(),
                        config.env.id
                    )
                ));
            };
            Some(exploring_start_states(m))
        } else {
            None
        };
        Ok(TabularExperiment {
            config,
            agent,
            spec,
            n_features,
            n_actions,
            truth,
            exploring_starts,
            warnings,
        })
    }
}

/// `[train] start_state` tried on an env of the config (reset with seed 0, then the state set):
/// the state's index for a tabular env without features, `None` without a start state or with
/// features.
///
/// # Errors
/// A state the env does not take, or exploring starts with a start state: the error points at
/// the key.
fn start_state(config: &Config, spec: &EnvSpec) -> Result<Option<usize>> {
    struct Start<'a>(&'a [f64]);
    impl EnvVisitor for Start<'_> {
        type Output = Result<Vec<usize>>;
        fn visit<E: AgentEnv<[usize]>, F: Fn() -> Result<E> + Sync>(self, make: F) -> Self::Output {
            let mut env = make()?;
            let _ = env.reset(Some(0));
            Ok(env.set_state(self.0)?.view().to_vec())
        }
    }
    let Some(state) = &config.train.start_state else {
        return Ok(None);
    };
    let x = spec.visit(Start(state)).map_err(|e| {
        config.error(
            "train",
            Some("start_state"),
            format!("`start_state`: {e:#}"),
        )
    })?;
    Ok(match (spec.has_features(), x.as_slice()) {
        (false, &[s]) => Some(s),
        _ => None,
    })
}

/// The values the agent should learn: `V*`, `V^π` of its target policy for off-policy
/// prediction, or `V^π` of the uniform random policy for the other prediction algorithms.
fn solve(model: &dyn Model, agent: &AgentConfig) -> qlab_agents::Result<Vec<f64>> {
    let config = DpConfig {
        gamma: gamma(agent),
        ..DpConfig::default()
    };
    let solution = if let Some(TargetPolicy::Actions(actions)) = agent.target_policy() {
        dp::evaluate_policy(model, &dp::deterministic_policy(model, actions)?, &config)?
    } else if PREDICTION_ALGORITHMS.contains(&agent.algorithm()) {
        dp::evaluate_policy(model, &dp::uniform_random_policy(model), &config)?
    } else {
        dp::value_iteration(model, &config)?
    };
    Ok(solution.values)
}

/// The `[env]` or `[features]` key an env error is about.
fn env_key(e: &qlab_envs::Error) -> Option<String> {
    use qlab_envs::Error as E;
    match e {
        E::UnknownParam { key, .. } | E::InvalidParam { key, .. } => {
            Some(key.split(['[', '.']).next().unwrap_or(key).to_string())
        }
        E::UnknownEnv { .. } => Some("id".into()),
        E::Map { .. } => Some("map".into()),
        E::Io { .. } => Some("map_file".into()),
        _ => None,
    }
}

fn spec_error(config: &Config, e: SpecError) -> ConfigError {
    match &e {
        SpecError::Env(inner) => config.error("env", env_key(inner).as_deref(), inner),
        SpecError::NeedsFeatures(_) => config.error("env", Some("id"), &e),
        SpecError::NoFeaturesNeeded(_) => config.error("features", Some("kind"), &e),
        SpecError::ContinuousActions(_) => config.error("env", Some("id"), &e),
        SpecError::Wrap(w) => config.error("wrappers", Some(w.key), w),
    }
}

fn probe_error(config: &Config, spec: &EnvSpec, e: anyhow::Error) -> ConfigError {
    let Some(inner) = e.downcast_ref::<qlab_envs::Error>() else {
        return config.error("env", None, format!("{e:#}"));
    };
    if spec.has_features() {
        // The wrapper names its arguments `n_tilings` and `bins`/`tiles`; the config `tilings`.
        let key = env_key(inner).map(|k| {
            if k == "n_tilings" {
                "tilings".into()
            } else {
                k
            }
        });
        config.error("features", key.as_deref(), inner)
    } else {
        config.error("env", env_key(inner).as_deref(), inner)
    }
}

/// Runs (`resume = false`) or continues (`resume = true`: finished seeds kept, the others
/// from their last checkpoint) every seed of `exp` in `dir`.
pub(super) fn run_seeds(
    exp: &TabularExperiment,
    dir: &Path,
    run: &RunOptions<'_>,
    resume: bool,
) -> Result<Summary> {
    let config = &exp.config;
    timed(
        dir,
        config,
        config.agent.algorithm(),
        run,
        resume,
        |progress| {
            exp.spec.visit(TrainSeeds {
                exp,
                hparams: Hparams::wanted(config),
                dir,
                run,
                progress,
                resume,
            })
        },
    )
}

/// Reloads the agent a seed saved in `seed_dir` (`agent.json` and the parameters beside it),
/// built as the config builds it; `None` when the seed saved no agent. `command` names what
/// asks, should the config's agent not be tabular.
///
/// # Errors
/// An `agent.json` that does not match the config, parameters that do not load.
pub fn load_agent(
    exp: &TabularExperiment,
    seed_dir: &Path,
    command: &str,
) -> Result<Option<Box<dyn TabularAgent>>> {
    if !seed_dir.join("agent.json").is_file() {
        return Ok(None);
    }
    let (saved, params) = record::load_agent(seed_dir)?;
    let algorithm = exp.config.agent.algorithm();
    if saved.algorithm != algorithm
        || saved.n_features != exp.n_features
        || saved.n_actions != exp.n_actions
    {
        bail!(
            "{}: a {} agent of {} features and {} actions, but config.toml makes a {} agent of \
             {} features and {} actions",
            seed_dir.join("agent.json").display(),
            saved.algorithm,
            saved.n_features,
            saved.n_actions,
            algorithm,
            exp.n_features,
            exp.n_actions
        );
    }
    let mut agent = tabular_agent(&exp.agent, command)?.build(exp.n_features, exp.n_actions)?;
    agent
        .load_parameters(&params)
        .with_context(|| format!("{}", seed_dir.join("agent.bin").display()))?;
    Ok(Some(agent))
}

/// Reloads each seed's agent from the run in `dir` and evaluates it greedily over `episodes`
/// episodes, with the same episode seeds as the run's own evaluations; `agent` picks the
/// last agent or the best.
pub(super) fn evaluate_seeds(
    exp: &TabularExperiment,
    dir: &Path,
    episodes: u64,
    agent: AgentChoice,
) -> Result<Vec<SeedEvaluation>> {
    exp.spec.visit(EvalSeeds {
        exp,
        dir,
        episodes,
        agent,
    })
}

struct TrainSeeds<'a> {
    exp: &'a TabularExperiment,
    hparams: Option<Hparams>,
    dir: &'a Path,
    run: &'a RunOptions<'a>,
    progress: &'a Progress,
    resume: bool,
}

impl EnvVisitor for TrainSeeds<'_> {
    type Output = Vec<Result<SeedSummary>>;

    fn visit<E: AgentEnv<[usize]>, F: Fn() -> Result<E> + Sync>(self, make: F) -> Self::Output {
        let exp = self.exp;
        let fingerprint = seed::Plan::fingerprint(&exp.config);
        let plan = seed::Plan {
            train: &exp.config.train,
            window: exp.config.output.window,
            exploring_starts: exp.exploring_starts.as_deref(),
            start_state: exp.config.train.start_state.as_deref(),
            train_log: false,
            config: &fingerprint,
            tensorboard: self.hparams.as_ref(),
        };
        for_each_seed(
            &exp.config.train.seeds,
            self.run,
            self.progress,
            |i, seed| {
                let dir = self.dir.join(format!("seed_{seed}"));
                let run =
                    seed::Seed::new(seed, &dir, &self.progress.slots[i], self.run, self.resume);
                let one = TrainOne {
                    exp,
                    plan: &plan,
                    make: &make,
                    seed: &run,
                };
                tabular_agent(&exp.agent, "the tabular runner")?.build_into(
                    exp.n_features,
                    exp.n_actions,
                    one,
                )?
            },
        )
    }
}

/// One seed's training, with the agent as the type [`AgentConfig::build_into`] gives.
struct TrainOne<'a, F> {
    exp: &'a TabularExperiment,
    plan: &'a seed::Plan<'a>,
    make: &'a F,
    seed: &'a seed::Seed<'a>,
}

impl<E: AgentEnv<[usize]>, F: Fn() -> Result<E>> TabularVisitor for TrainOne<'_, F> {
    type Output = Result<SeedSummary>;

    fn visit<G: TabularAgent + ?Sized + 'static>(self, mut agent: Box<G>) -> Result<SeedSummary> {
        let exp = self.exp;
        let save = |agent: &G, dir: &Path| {
            record::save_agent(dir, exp.config.agent.algorithm(), exp.n_features, agent)
        };
        // Only where there is a truth to compare with are visited states worth noting.
        match &exp.truth {
            Some(truth) => seed::train(
                self.plan,
                self.make,
                agent.as_mut(),
                &mut track::ValueErrors::new(truth),
                save,
                self.seed,
            ),
            None => seed::train(
                self.plan,
                self.make,
                agent.as_mut(),
                &mut (),
                save,
                self.seed,
            ),
        }
    }
}

struct EvalSeeds<'a> {
    exp: &'a TabularExperiment,
    dir: &'a Path,
    episodes: u64,
    agent: AgentChoice,
}

impl EnvVisitor for EvalSeeds<'_> {
    type Output = Result<Vec<SeedEvaluation>>;

    fn visit<E: AgentEnv<[usize]>, F: Fn() -> Result<E> + Sync>(self, make: F) -> Self::Output {
        let exp = self.exp;
        let load = |seed_dir: &Path| load_agent(exp, seed_dir, "qlab eval");
        let seeds = &exp.config.train.seeds;
        super::evaluate_saved(seeds, self.dir, self.agent, load, |mut agent, seed| {
            let mut env = make()?;
            let max_steps = exp.config.train.eval_max_steps;
            let e = seed::evaluate(&mut env, agent.as_mut(), seed, self.episodes, max_steps);
            Ok(e.map_err(Failure)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::summary::Status;
    use crate::runner::{Interrupted, Stop};
    use std::path::PathBuf;

    fn experiment(text: &str) -> TabularExperiment {
        TabularExperiment::new(Config::parse("t.toml", text, &[]).unwrap()).unwrap()
    }

    /// Runs (or, with `resume`, continues) every seed of `exp` in `dir` on one thread,
    /// quietly, stopped by `stop`.
    fn run_quiet(
        exp: &TabularExperiment,
        dir: &Path,
        stop: &Stop,
        resume: bool,
    ) -> Result<Summary> {
        let run = RunOptions {
            threads: 1,
            display: crate::runner::progress::Display::Quiet,
            stop,
            pause: None,
        };
        run_seeds(exp, dir, &run, resume)
    }

    /// Runs every seed of `exp` into `dir` on one thread, quietly, never stopped.
    fn train_quiet(exp: &TabularExperiment, dir: &Path) -> Result<Summary> {
        run_quiet(exp, dir, &Stop::new(), false)
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qlab-runner-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// `Truth::rmse` is `dp::rms_error` of the agent's values, bit for bit.
    #[test]
    fn truth_rmse_is_dp_rms_error() {
        let exp = experiment(
            "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'q_learning'\n\
             initial_value = -3.25\n[train]\nepisodes = 1\n",
        );
        let truth = exp.truth.as_ref().unwrap();
        let agent = tabular_agent(&exp.config.agent, "t")
            .unwrap()
            .build(48, 4)
            .unwrap();
        let values: Vec<f64> = (0..48)
            .map(|s| TabularAgent::value(agent.as_ref(), &[s]))
            .collect();
        let env = grid_world("CliffWalking-v1");
        let want = dp::rms_error(&values, &truth.values, env.model().unwrap());
        assert_eq!(truth.rmse(agent.as_ref()).to_bits(), want.to_bits());
        // V* of the cliff walk from the start is −13 (the path along the cliff).
        assert_eq!(truth.values[36], -13.0);
    }

    fn grid_world(id: &str) -> qlab_envs::gridworld::GridWorld {
        let config = qlab_envs::registry::gridworld_config(id, &qlab_envs::Params::new());
        qlab_envs::gridworld::GridWorld::new(config.unwrap()).unwrap()
    }

    /// Every algorithm keeps the runner's `value_rmse` exact: learning from an episode changes
    /// only the values of the states it visited. Debug builds compare the incrementally kept
    /// error with the full sum after every episode; this runs each algorithm long enough for
    /// that comparison to mean something (traces, n-step tails, Monte Carlo returns, exploring
    /// starts).
    #[test]
    fn every_algorithm_keeps_the_value_error_exact() {
        let control = [
            ("mc_control", "variant = 'on_policy'\n"),
            ("mc_control", "variant = 'exploring_starts'\n"),
            ("mc_control", "variant = 'off_policy'\n"),
            ("sarsa", "alpha = 0.3\n"),
            ("expected_sarsa", "alpha = 0.3\n"),
            ("q_learning", "alpha = 0.3\n"),
            ("double_q_learning", "alpha = 0.3\n"),
            ("n_step_sarsa", "alpha = 0.3\nn = 3\n"),
            ("sarsa_lambda", "alpha = 0.3\ntrace = 'accumulating'\n"),
            ("sarsa_lambda", "alpha = 0.3\ntrace = 'replacing'\n"),
            ("q_lambda", "alpha = 0.3\n"),
            ("true_online_sarsa_lambda", "alpha = 0.3\n"),
            (
                "off_policy_mc_prediction",
                "target = [1, 2, 1, 0, 1, 0, 1, 0, 2, 1, 1, 0, 0, 2, 2, 0]\n",
            ),
        ];
        let prediction = [
            ("td_lambda", "alpha = 0.3\n"),
            ("true_online_td_lambda", "alpha = 0.3\n"),
        ];
        let runs = control
            .iter()
            .map(|c| ("FrozenLake-v1", c))
            .chain(prediction.iter().map(|p| ("RandomWalk19-v0", p)));
        for (i, (env, (algorithm, extra))) in runs.enumerate() {
            let exp = experiment(&format!(
                "[env]\nid = '{env}'\n[agent]\nalgorithm = '{algorithm}'\n{extra}\
                 [train]\nepisodes = 150\nseeds = [3]\neval_episodes = 1\n"
            ));
            assert!(exp.truth.is_some());
            let dir = temp_dir(&format!("exact-{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let summary =
                train_quiet(&exp, &dir).unwrap_or_else(|e| panic!("{algorithm} {extra}: {e:#}"));
            assert_eq!(summary.per_seed[0].episodes, 150);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn prediction_truth_is_the_random_policy_value() {
        let exp = experiment(
            "[env]\nid = 'RandomWalk19-v0'\n[agent]\nalgorithm = 'td_lambda'\n[train]\nepisodes = 1\n",
        );
        // S&B Example 7.1: the true values of the 19 states run from −0.9 to 0.9 in steps of 0.1.
        let v = &exp.truth.as_ref().unwrap().values;
        for (k, s) in (1..=19).enumerate() {
            // Iterative policy evaluation stops within θ = 1e-10 per sweep; the slow walk leaves
            // about 1e-9.
            assert!(
                (v[s] - (-0.9 + 0.1 * k as f64)).abs() < 1e-8,
                "{s}: {}",
                v[s]
            );
        }
    }

    #[test]
    fn gamma_comes_from_the_agent_config() {
        let exp = experiment(
            "[env]\nid = 'FrozenLake-v1'\n[agent]\nalgorithm = 'sarsa'\ngamma = 0.9\n[train]\nepisodes = 1\n",
        );
        assert_eq!(gamma(tabular_agent(&exp.config.agent, "t").unwrap()), 0.9);
        // V*(start) of FrozenLake with γ = 0.9 (`qlab solve --env FrozenLake-v1 --gamma 0.9
        // --horizon inf`): 0.0689.
        let v0 = exp.truth.as_ref().unwrap().values[0];
        assert!((v0 - 0.068_9).abs() < 1e-4, "{v0}");
    }

    /// `load_agent` reloads what a seed saved, skips a seed that saved nothing, and refuses an
    /// `agent.json` that another config wrote, naming both agents.
    #[test]
    fn load_agent_checks_agent_json_against_the_config() {
        let text = "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'sarsa'\n\
                    [train]\nepisodes = 3\nseeds = [0]\neval_episodes = 1\n";
        let exp = experiment(text);
        let dir = temp_dir("load-agent");
        std::fs::create_dir_all(&dir).unwrap();
        train_quiet(&exp, &dir).unwrap();
        let agent = load_agent(&exp, &dir.join("seed_0"), "t").unwrap();
        assert!(agent.is_some());
        assert!(
            load_agent(&exp, &dir.join("seed_1"), "t")
                .unwrap()
                .is_none()
        );
        let other = experiment(&text.replace("'sarsa'", "'q_learning'"));
        let e = load_agent(&other, &dir.join("seed_0"), "t").err().unwrap();
        assert!(
            format!("{e:#}").ends_with(
                "seed_0/agent.json: a sarsa agent of 48 features and 4 actions, but config.toml \
                 makes a q_learning agent of 48 features and 4 actions"
            ),
            "{e:#}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A stop requested before the run starts leaves every seed unstarted: no seed directory,
    /// a summary that says `interrupted` and lists every seed, and [`Interrupted`] naming the
    /// signal and the counts. Resumed, the run trains every seed as a fresh run does.
    #[test]
    fn a_stop_before_the_first_seed_starts_none_and_the_run_resumes_whole() {
        let text = "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'sarsa'\n\
                    [train]\nepisodes = 5\nseeds = [0, 1]\neval_episodes = 1\n";
        let exp = experiment(text);
        let dir = temp_dir("stopped-first");
        std::fs::create_dir_all(&dir).unwrap();
        let stop = Stop::new();
        stop.request(15);
        let e = run_quiet(&exp, &dir, &stop, false).unwrap_err();
        let i = e.downcast_ref::<Interrupted>().expect("an interruption");
        assert_eq!(
            (i.signal, i.seeds, i.finished, i.at_checkpoint),
            (15, 2, 0, 0)
        );
        assert_eq!(i.exit_code(), 143);
        assert!(!dir.join("seed_0").exists() && !dir.join("seed_1").exists());
        let s = crate::runner::summary::Summary::read(&dir)
            .unwrap()
            .unwrap();
        assert_eq!(s.status, Status::Interrupted);
        assert_eq!(s.unfinished_seeds, [0, 1]);
        assert!(s.per_seed.is_empty());

        let resumed = run_quiet(&exp, &dir, &Stop::new(), true).unwrap();
        assert_eq!(resumed.status, Status::Complete);
        assert!(resumed.unfinished_seeds.is_empty());
        let whole_dir = temp_dir("stopped-first-whole");
        std::fs::create_dir_all(&whole_dir).unwrap();
        train_quiet(&exp, &whole_dir).unwrap();
        for seed in ["seed_0", "seed_1"] {
            for f in ["metrics.csv", "eval.csv", "agent.bin"] {
                let read = |d: &Path| std::fs::read(d.join(seed).join(f)).unwrap();
                assert_eq!(read(&dir), read(&whole_dir), "{seed}/{f}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&whole_dir).unwrap();
    }

    /// The run-level `wall_seconds` of a resumed run adds the time its previous summary
    /// records to its own, so that it covers the whole run: the time before an interruption
    /// is not lost.
    #[test]
    fn a_resumed_run_counts_the_wall_time_before_its_interruption() {
        let text = "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'sarsa'\n\
                    [train]\nepisodes = 3\nseeds = [0]\neval_episodes = 1\n";
        let exp = experiment(text);
        let dir = temp_dir("resumed-wall");
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = train_quiet(&exp, &dir).unwrap();
        // As if the run had been interrupted after 1000 seconds.
        s.aggregate.wall_seconds = 1000.0;
        s.write(&dir).unwrap();
        let resumed = run_quiet(&exp, &dir, &Stop::new(), true).unwrap();
        let wall = resumed.aggregate.wall_seconds;
        assert!((1000.0..1100.0).contains(&wall), "{wall}");
        assert_eq!(
            resumed.aggregate.steps_per_second,
            resumed.aggregate.steps as f64 / wall
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
