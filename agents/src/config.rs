//! [`AgentConfig`]: every agent's config in one serde enum, as an `[agent]` table.

use serde::{Deserialize, Serialize};

#[cfg(feature = "deep")]
use crate::Error;
use crate::Result;
#[cfg(feature = "deep")]
use crate::a2c::A2cConfig;
#[cfg(feature = "deep")]
use crate::actor_critic::OnPolicyConfig;
#[cfg(feature = "deep")]
use crate::dqn::DqnConfig;
#[cfg(feature = "deep")]
use crate::ppo::PpoConfig;
use crate::tabular::{DoubleQLearning, DoubleQLearningConfig, ExpectedSarsa, ExpectedSarsaConfig};
use crate::tabular::{McControl, McControlConfig, NStepSarsa, NStepSarsaConfig};
use crate::tabular::{OffPolicyMcPrediction, OffPolicyMcPredictionConfig, TargetPolicy};
use crate::tabular::{QLambda, QLambdaConfig, QLearning, QLearningConfig, Sarsa, SarsaConfig};
use crate::tabular::{Reinforce, ReinforceConfig};
use crate::tabular::{SarsaLambda, SarsaLambdaConfig, TabularAgent, TdLambda, TdLambdaConfig};
use crate::tabular::{TrueOnlineSarsaLambda, TrueOnlineSarsaLambdaConfig};
use crate::tabular::{TrueOnlineTdLambda, TrueOnlineTdLambdaConfig};

/// The configuration of any agent, tagged by `algorithm`: a new algorithm is one file and one
/// arm here.
///
/// In a config file it is one flat table: `algorithm` names the agent, the other keys are the
/// fields of that agent's config (each documented there, with its default and valid range);
/// keys that agent does not take are errors (each config is `deny_unknown_fields`, which
/// holds under the `algorithm` tag; tested), and missing keys take their defaults.
///
/// ```toml
/// [agent]
/// algorithm = "sarsa"
/// alpha = 0.5
/// epsilon = 0.1            # or { schedule = "linear", start = 1.0, end = 0.05, episodes = 500 }
/// gamma = 1.0
/// ```
///
/// | `algorithm` | config | agent |
/// |---|---|---|
/// | `mc_control` | [`McControlConfig`] | [`McControl`](crate::tabular::McControl) |
/// | `sarsa` | [`SarsaConfig`] | [`Sarsa`](crate::tabular::Sarsa) |
/// | `expected_sarsa` | [`ExpectedSarsaConfig`] | [`ExpectedSarsa`](crate::tabular::ExpectedSarsa) |
/// | `q_learning` | [`QLearningConfig`] | [`QLearning`](crate::tabular::QLearning) |
/// | `double_q_learning` | [`DoubleQLearningConfig`] | [`DoubleQLearning`](crate::tabular::DoubleQLearning) |
/// | `n_step_sarsa` | [`NStepSarsaConfig`] | [`NStepSarsa`](crate::tabular::NStepSarsa) |
/// | `td_lambda` | [`TdLambdaConfig`] | [`TdLambda`](crate::tabular::TdLambda) |
/// | `sarsa_lambda` | [`SarsaLambdaConfig`] | [`SarsaLambda`](crate::tabular::SarsaLambda) |
/// | `q_lambda` | [`QLambdaConfig`] | [`QLambda`](crate::tabular::QLambda) |
/// | `true_online_sarsa_lambda` | [`TrueOnlineSarsaLambdaConfig`] | [`TrueOnlineSarsaLambda`](crate::tabular::TrueOnlineSarsaLambda) |
/// | `true_online_td_lambda` | [`TrueOnlineTdLambdaConfig`] | [`TrueOnlineTdLambda`](crate::tabular::TrueOnlineTdLambda) |
/// | `off_policy_mc_prediction` | [`OffPolicyMcPredictionConfig`] | [`OffPolicyMcPrediction`](crate::tabular::OffPolicyMcPrediction) |
/// | `reinforce` | [`ReinforceConfig`] | [`Reinforce`](crate::tabular::Reinforce) |
///
/// ```
/// use qlab_agents::tabular::{AgentConfig, QLearningConfig, StepSize};
/// # fn main() -> qlab_agents::Result<()> {
/// let config = AgentConfig::QLearning(QLearningConfig {
///     alpha: StepSize::Constant(0.5),
///     ..Default::default()
/// });
/// assert_eq!(config.algorithm(), "q_learning");
/// let agent = config.build(48, 4)?; // CliffWalking: 48 states, 4 actions
/// assert_eq!(agent.n_actions(), 4);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum AgentConfig {
    /// Monte Carlo control.
    McControl(McControlConfig),
    /// SARSA.
    Sarsa(SarsaConfig),
    /// Expected SARSA.
    ExpectedSarsa(ExpectedSarsaConfig),
    /// Q-learning.
    QLearning(QLearningConfig),
    /// Double Q-learning.
    DoubleQLearning(DoubleQLearningConfig),
    /// n-step SARSA.
    NStepSarsa(NStepSarsaConfig),
    /// TD(λ) prediction of the uniformly random policy.
    TdLambda(TdLambdaConfig),
    /// SARSA(λ).
    SarsaLambda(SarsaLambdaConfig),
    /// Watkins's Q(λ).
    QLambda(QLambdaConfig),
    /// True online SARSA(λ).
    TrueOnlineSarsaLambda(TrueOnlineSarsaLambdaConfig),
    /// True online TD(λ) prediction of the uniformly random policy.
    TrueOnlineTdLambda(TrueOnlineTdLambdaConfig),
    /// Off-policy Monte Carlo prediction of a target policy by importance sampling.
    OffPolicyMcPrediction(OffPolicyMcPredictionConfig),
    /// REINFORCE, the Monte Carlo policy gradient, with or without a baseline.
    Reinforce(ReinforceConfig),
    /// A deep Q-network over the env's own observation ([`DqnConfig`], with the `deep`
    /// feature).
    #[cfg(feature = "deep")]
    Dqn(DqnConfig),
    /// Proximal policy optimization over a vector of envs ([`PpoConfig`], with the `deep`
    /// feature).
    #[cfg(feature = "deep")]
    Ppo(PpoConfig),
    /// The synchronous advantage actor-critic over a vector of envs ([`A2cConfig`], with the
    /// `deep` feature).
    #[cfg(feature = "deep")]
    A2c(A2cConfig),
}

impl AgentConfig {
    /// The `algorithm` tag, e.g. `"q_learning"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            AgentConfig::McControl(_) => "mc_control",
            AgentConfig::Sarsa(_) => "sarsa",
            AgentConfig::ExpectedSarsa(_) => "expected_sarsa",
            AgentConfig::QLearning(_) => "q_learning",
            AgentConfig::DoubleQLearning(_) => "double_q_learning",
            AgentConfig::NStepSarsa(_) => "n_step_sarsa",
            AgentConfig::TdLambda(_) => "td_lambda",
            AgentConfig::SarsaLambda(_) => "sarsa_lambda",
            AgentConfig::QLambda(_) => "q_lambda",
            AgentConfig::TrueOnlineSarsaLambda(_) => "true_online_sarsa_lambda",
            AgentConfig::TrueOnlineTdLambda(_) => "true_online_td_lambda",
            AgentConfig::OffPolicyMcPrediction(_) => "off_policy_mc_prediction",
            AgentConfig::Reinforce(_) => "reinforce",
            #[cfg(feature = "deep")]
            AgentConfig::Dqn(_) => "dqn",
            #[cfg(feature = "deep")]
            AgentConfig::Ppo(_) => "ppo",
            #[cfg(feature = "deep")]
            AgentConfig::A2c(_) => "a2c",
        }
    }

    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        match self {
            AgentConfig::McControl(c) => c.validate(),
            AgentConfig::Sarsa(c) => c.validate(),
            AgentConfig::ExpectedSarsa(c) => c.validate(),
            AgentConfig::QLearning(c) => c.validate(),
            AgentConfig::DoubleQLearning(c) => c.validate(),
            AgentConfig::NStepSarsa(c) => c.validate(),
            AgentConfig::TdLambda(c) => c.validate(),
            AgentConfig::SarsaLambda(c) => c.validate(),
            AgentConfig::QLambda(c) => c.validate(),
            AgentConfig::TrueOnlineSarsaLambda(c) => c.validate(),
            AgentConfig::TrueOnlineTdLambda(c) => c.validate(),
            AgentConfig::OffPolicyMcPrediction(c) => c.validate(),
            AgentConfig::Reinforce(c) => c.validate(),
            #[cfg(feature = "deep")]
            AgentConfig::Dqn(c) => c.validate(),
            #[cfg(feature = "deep")]
            AgentConfig::Ppo(c) => c.validate(),
            #[cfg(feature = "deep")]
            AgentConfig::A2c(c) => c.validate(),
        }
    }

    /// The config of an on-policy actor-critic agent (PPO, A2C), which the runner steps over
    /// a vector of envs; `None` for the others.
    #[cfg(feature = "deep")]
    pub fn on_policy(&self) -> Option<OnPolicyConfig> {
        match self {
            AgentConfig::Ppo(c) => Some(OnPolicyConfig::Ppo(c.clone())),
            AgentConfig::A2c(c) => Some(OnPolicyConfig::A2c(c.clone())),
            _ => None,
        }
    }

    /// Whether the agent keeps state values worth comparing with the true ones (the runner's
    /// `value_rmse`): every agent but REINFORCE without a baseline, which learns a policy only.
    pub fn keeps_values(&self) -> bool {
        !matches!(self, AgentConfig::Reinforce(c) if !c.baseline)
    }

    /// Whether the agent learns from exploring starts: the runner must then begin each
    /// episode in a uniformly random non-terminal state
    /// ([`run_episode_exploring_starts`](crate::tabular::run_episode_exploring_starts)).
    pub fn exploring_starts(&self) -> bool {
        match self {
            AgentConfig::McControl(c) => c.exploring_starts(),
            _ => false,
        }
    }

    /// Whether the agent is a tabular or linear one over active feature indices (built by
    /// [`build`](AgentConfig::build)); the others read the env's observation themselves.
    pub fn is_tabular(&self) -> bool {
        match self {
            #[cfg(feature = "deep")]
            AgentConfig::Dqn(_) | AgentConfig::Ppo(_) | AgentConfig::A2c(_) => false,
            _ => true,
        }
    }

    /// Every tabular `algorithm` name, in the order of the table above.
    pub const ALGORITHMS: [&'static str; 13] = [
        "mc_control",
        "sarsa",
        "expected_sarsa",
        "q_learning",
        "double_q_learning",
        "n_step_sarsa",
        "td_lambda",
        "sarsa_lambda",
        "q_lambda",
        "true_online_sarsa_lambda",
        "true_online_td_lambda",
        "off_policy_mc_prediction",
        "reinforce",
    ];

    /// The target policy of an off-policy prediction agent; `None` for the other agents.
    pub fn target_policy(&self) -> Option<&TargetPolicy> {
        match self {
            AgentConfig::OffPolicyMcPrediction(c) => Some(&c.target),
            _ => None,
        }
    }

    /// The same config with the target policy given as `actions`, one per state (for a
    /// target the env names: see [`TargetPolicy::Named`]); other agents' configs unchanged.
    pub fn with_target_actions(&self, actions: Vec<usize>) -> AgentConfig {
        match self {
            AgentConfig::OffPolicyMcPrediction(c) => {
                AgentConfig::OffPolicyMcPrediction(OffPolicyMcPredictionConfig {
                    target: TargetPolicy::Actions(actions),
                    ..c.clone()
                })
            }
            other => other.clone(),
        }
    }

    /// Builds the agent for `n_features` binary features (the number of states of a tabular
    /// env, the feature-table size of a tile coder) and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, a size of 0, or an agent that is not tabular
    /// ([`is_tabular`](AgentConfig::is_tabular)).
    pub fn build(&self, n_features: usize, n_actions: usize) -> Result<Box<dyn TabularAgent>> {
        Ok(match self {
            AgentConfig::McControl(c) => Box::new(McControl::new(c, n_features, n_actions)?),
            AgentConfig::Sarsa(c) => Box::new(Sarsa::new(c, n_features, n_actions)?),
            AgentConfig::ExpectedSarsa(c) => {
                Box::new(ExpectedSarsa::new(c, n_features, n_actions)?)
            }
            AgentConfig::QLearning(c) => Box::new(QLearning::new(c, n_features, n_actions)?),
            AgentConfig::DoubleQLearning(c) => {
                Box::new(DoubleQLearning::new(c, n_features, n_actions)?)
            }
            AgentConfig::NStepSarsa(c) => Box::new(NStepSarsa::new(c, n_features, n_actions)?),
            AgentConfig::TdLambda(c) => Box::new(TdLambda::new(c, n_features, n_actions)?),
            AgentConfig::SarsaLambda(c) => Box::new(SarsaLambda::new(c, n_features, n_actions)?),
            AgentConfig::QLambda(c) => Box::new(QLambda::new(c, n_features, n_actions)?),
            AgentConfig::TrueOnlineSarsaLambda(c) => {
                Box::new(TrueOnlineSarsaLambda::new(c, n_features, n_actions)?)
            }
            AgentConfig::TrueOnlineTdLambda(c) => {
                Box::new(TrueOnlineTdLambda::new(c, n_features, n_actions)?)
            }
            AgentConfig::OffPolicyMcPrediction(c) => {
                Box::new(OffPolicyMcPrediction::new(c, n_features, n_actions)?)
            }
            AgentConfig::Reinforce(c) => Box::new(Reinforce::new(c, n_features, n_actions)?),
            #[cfg(feature = "deep")]
            AgentConfig::Dqn(_) | AgentConfig::Ppo(_) | AgentConfig::A2c(_) => {
                return Err(Error::config(
                    "algorithm",
                    self.algorithm(),
                    "a tabular or linear agent (networks read the observation themselves)",
                ));
            }
        })
    }
}

/// What to do with a tabular agent once [`AgentConfig::build_into`] has built it.
pub trait TabularVisitor {
    /// What the visit gives back.
    type Output;

    /// Works with `agent`: a concrete type for the one-step TD control agents, whose steps a
    /// hot loop gains from inlining, `dyn TabularAgent` for the others.
    fn visit<G: TabularAgent + ?Sized + 'static>(self, agent: Box<G>) -> Self::Output;
}

impl AgentConfig {
    /// Builds the tabular agent as [`build`](AgentConfig::build) does and hands it to
    /// `visitor`: SARSA, Expected SARSA and Q-learning as their own types (a training loop
    /// over them compiles without dynamic dispatch), every other agent boxed.
    ///
    /// # Errors
    /// As [`build`](AgentConfig::build).
    pub fn build_into<V: TabularVisitor>(
        &self,
        n_features: usize,
        n_actions: usize,
        visitor: V,
    ) -> Result<V::Output> {
        Ok(match self {
            AgentConfig::Sarsa(c) => visitor.visit(Box::new(Sarsa::new(c, n_features, n_actions)?)),
            AgentConfig::ExpectedSarsa(c) => {
                visitor.visit(Box::new(ExpectedSarsa::new(c, n_features, n_actions)?))
            }
            AgentConfig::QLearning(c) => {
                visitor.visit(Box::new(QLearning::new(c, n_features, n_actions)?))
            }
            _ => visitor.visit(self.build(n_features, n_actions)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::PolicyKind;
    use crate::tabular::testing::value::{Value, from_table};
    use crate::tabular::{Schedule, StepSize};

    #[test]
    fn flat_table_deserializes_with_defaults_for_missing_keys() {
        let c: AgentConfig = from_table(vec![
            ("algorithm", Value::Str("q_learning")),
            ("alpha", Value::Float(0.5)),
            ("epsilon", Value::Float(0.1)),
            ("gamma", Value::Int(1)),
        ])
        .unwrap();
        let want = AgentConfig::QLearning(QLearningConfig {
            alpha: StepSize::Constant(0.5),
            gamma: 1.0,
            ..Default::default()
        });
        assert_eq!(c, want);
        assert_eq!(c.algorithm(), "q_learning");
        assert!(!c.exploring_starts());
    }

    #[test]
    fn unknown_keys_and_algorithms_are_rejected() {
        let e = from_table::<AgentConfig>(vec![
            ("algorithm", Value::Str("q_learning")),
            ("alpah", Value::Float(0.5)),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("unknown field `alpah`") && e.contains("`alpha`"),
            "{e}"
        );
        let e = from_table::<AgentConfig>(vec![("algorithm", Value::Str("qlearning"))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `qlearning`"), "{e}");
        let e = from_table::<AgentConfig>(vec![("alpha", Value::Float(0.5))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing field `algorithm`"), "{e}");
    }

    #[test]
    fn schedules_and_step_sizes_take_numbers_strings_and_tables() {
        let c: QLearningConfig = from_table(vec![
            ("alpha", Value::Str("1/n")),
            ("policy", Value::Str("softmax")),
            (
                "epsilon",
                Value::Table(vec![
                    ("schedule", Value::Str("linear")),
                    ("start", Value::Float(1.0)),
                    ("end", Value::Float(0.05)),
                    ("episodes", Value::Int(500)),
                ]),
            ),
            (
                "temperature",
                Value::Table(vec![
                    ("schedule", Value::Str("exponential")),
                    ("start", Value::Int(2)),
                    ("decay", Value::Float(0.9)),
                ]),
            ),
        ])
        .unwrap();
        assert_eq!(c.alpha, StepSize::SampleAverage);
        assert_eq!(c.policy, PolicyKind::Softmax);
        assert_eq!(
            c.epsilon,
            Schedule::Linear {
                start: 1.0,
                end: 0.05,
                episodes: 500
            }
        );
        assert_eq!(
            c.temperature,
            Schedule::Exponential {
                start: 2.0,
                decay: 0.9,
                end: 0.0
            }
        );
        let e = from_table::<QLearningConfig>(vec![(
            "epsilon",
            Value::Table(vec![
                ("schedule", Value::Str("inverse")),
                ("start", Value::Float(1.0)),
                ("stop", Value::Float(1.0)),
            ]),
        )])
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field `stop`"), "{e}");
        let e = from_table::<QLearningConfig>(vec![("alpha", Value::Str("1/k"))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"1/k\"") && e.contains("\"1/n\""), "{e}");
    }

    #[test]
    fn validation_names_the_key_value_and_range() {
        let bad = |c: QLearningConfig| {
            AgentConfig::QLearning(c)
                .validate()
                .unwrap_err()
                .to_string()
        };
        let d = QLearningConfig::default;
        assert_eq!(
            bad(QLearningConfig { gamma: 1.5, ..d() }),
            "invalid value 1.5 for `gamma`: expected a number in [0, 1]"
        );
        assert!(
            bad(QLearningConfig {
                alpha: StepSize::Constant(0.0),
                ..d()
            })
            .contains("`alpha`")
        );
        assert!(
            bad(QLearningConfig {
                epsilon: Schedule::Constant(-0.1),
                ..d()
            })
            .contains("`epsilon`")
        );
        assert!(
            bad(QLearningConfig {
                temperature: Schedule::Constant(0.0),
                ..d()
            })
            .contains("`temperature`")
        );
        assert!(
            bad(QLearningConfig {
                initial_value: f64::INFINITY,
                ..d()
            })
            .contains("`initial_value`")
        );
        let e = AgentConfig::QLearning(d()).build(0, 4).err().unwrap();
        assert!(e.to_string().contains("`n_features`"), "{e}");
    }

    /// One config of every algorithm, with its defaults; off-policy prediction (which has no
    /// default target) evaluates "down" in every state of the cliff walk.
    fn every_default() -> Vec<AgentConfig> {
        AgentConfig::ALGORITHMS
            .iter()
            .map(|&name| {
                let c: AgentConfig = from_table(vec![("algorithm", Value::Str(name))]).unwrap();
                c.with_target_actions(vec![2; 48])
            })
            .collect()
    }

    #[test]
    fn every_algorithm_name_round_trips() {
        let configs = every_default();
        for (config, name) in configs.iter().zip(AgentConfig::ALGORITHMS) {
            assert_eq!(config.algorithm(), name);
            config.validate().unwrap();
        }
        assert!(configs.iter().filter(|c| c.exploring_starts()).count() == 0);
        let es: AgentConfig = from_table(vec![
            ("algorithm", Value::Str("mc_control")),
            ("variant", Value::Str("exploring_starts")),
        ])
        .unwrap();
        assert!(es.exploring_starts());
    }

    /// parameters() then load_parameters() into a fresh agent gives the same values; a
    /// wrong length is an error naming both lengths.
    #[test]
    fn parameters_round_trip_and_wrong_lengths_are_errors() {
        use crate::tabular::testing::{build, discrete, learn};
        for config in every_default() {
            let mut env = discrete("CliffWalking-v1", false);
            let mut agent = build(&config, &env);
            learn(&mut env, agent.as_mut(), 20, 1);
            let params = agent.parameters();
            assert!(params.iter().any(|&p| p != 0.0), "{}", config.algorithm());
            let mut fresh = build(&config, &env);
            fresh.load_parameters(&params).unwrap();
            assert_eq!(fresh.parameters(), params);
            for s in 0..48 {
                assert_eq!(
                    fresh.value(&[s]),
                    agent.value(&[s]),
                    "{}",
                    config.algorithm()
                );
            }
            let e = fresh.load_parameters(&params[1..]).unwrap_err().to_string();
            let (got, want) = (params.len() - 1, params.len());
            assert!(
                e.contains("`parameters`")
                    && e.contains(&format!("{got} values"))
                    && e.contains(&format!("expected {want} values")),
                "{e}"
            );
        }
    }

    #[test]
    fn every_config_names_its_bad_key() {
        let bad = |table: Vec<(&'static str, Value)>, key: &str| {
            let config: AgentConfig = from_table(table).unwrap();
            let e = config.validate().unwrap_err().to_string();
            assert!(e.contains(&format!("`{key}`")), "{key}: {e}");
            assert!(config.build(4, 2).is_err());
        };
        let s = Value::Str;
        bad(
            vec![("algorithm", s("n_step_sarsa")), ("n", Value::Int(0))],
            "n",
        );
        for name in [
            "td_lambda",
            "sarsa_lambda",
            "q_lambda",
            "true_online_sarsa_lambda",
            "true_online_td_lambda",
        ] {
            bad(
                vec![("algorithm", s(name)), ("lambda", Value::Float(1.1))],
                "lambda",
            );
            bad(
                vec![("algorithm", s(name)), ("trace_cutoff", Value::Float(1.0))],
                "trace_cutoff",
            );
            bad(
                vec![("algorithm", s(name)), ("alpha", Value::Float(0.0))],
                "alpha",
            );
            bad(
                vec![("algorithm", s(name)), ("gamma", Value::Float(-0.5))],
                "gamma",
            );
        }
        for name in [
            "mc_control",
            "sarsa",
            "expected_sarsa",
            "double_q_learning",
            "sarsa_lambda",
            "q_lambda",
            "true_online_sarsa_lambda",
        ] {
            bad(
                vec![("algorithm", s(name)), ("epsilon", Value::Float(2.0))],
                "epsilon",
            );
        }
        bad(
            vec![
                ("algorithm", s("mc_control")),
                ("variant", s("off_policy")),
                ("alpha", Value::Float(0.1)),
            ],
            "alpha",
        );
        // Keys of another algorithm are unknown here.
        for (name, key) in [
            ("td_lambda", "epsilon"),
            ("sarsa", "lambda"),
            ("true_online_td_lambda", "trace"),
            ("q_learning", "n"),
        ] {
            let e =
                from_table::<AgentConfig>(vec![("algorithm", s(name)), (key, Value::Float(0.5))])
                    .unwrap_err()
                    .to_string();
            assert!(e.contains(&format!("unknown field `{key}`")), "{name}: {e}");
        }
        let e = from_table::<AgentConfig>(vec![
            ("algorithm", s("sarsa_lambda")),
            ("trace", s("dutchy")),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("`dutchy`") && e.contains("`replacing`"), "{e}");
    }
}
