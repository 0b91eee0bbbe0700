//! [`AgentConfig`]: every tabular agent's config in one serde enum, as an `[agent]` table.

use serde::{Deserialize, Serialize};

use super::Agent;
use super::q_learning::{QLearning, QLearningConfig};
use super::schedule::{Schedule, StepSize};
use crate::{Error, Result};

/// The defaults shared by the configs, in one place.
pub(crate) mod defaults {
    /// Step size α.
    pub const ALPHA: f64 = 0.1;
    /// Discount γ: the tabular tasks are episodic, as in Sutton & Barto's examples.
    pub const GAMMA: f64 = 1.0;
    /// ε of ε-greedy.
    pub const EPSILON: f64 = 0.1;
    /// Softmax temperature.
    pub const TEMPERATURE: f64 = 1.0;
    /// Trace-decay λ.
    pub const LAMBDA: f64 = 0.9;
    /// Traces at or below this magnitude are dropped.
    pub const TRACE_CUTOFF: f64 = 1e-4;
}

/// The configuration of any tabular or linear agent, tagged by `algorithm`.
///
/// In a config file it is one flat table: `algorithm` names the agent, the other keys are the
/// fields of that agent's config (each documented there, with its default and valid range);
/// keys that agent does not take are errors.
///
/// | `algorithm` | config | agent |
/// |---|---|---|
/// | `q_learning` | [`QLearningConfig`] | [`QLearning`] |
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
    /// Q-learning.
    QLearning(QLearningConfig),
}

impl AgentConfig {
    /// The `algorithm` tag, e.g. `"q_learning"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            AgentConfig::QLearning(_) => "q_learning",
        }
    }

    /// Checks every field; the error names the first bad key, its value and the valid range.
    pub fn validate(&self) -> Result<()> {
        match self {
            AgentConfig::QLearning(c) => c.validate(),
        }
    }

    /// Whether the agent learns from exploring starts: the runner must then begin each
    /// episode in a uniformly random non-terminal state
    /// ([`run_episode_exploring_starts`](super::run_episode_exploring_starts)).
    pub fn exploring_starts(&self) -> bool {
        false
    }

    /// Builds the agent for `n_features` binary features (the number of states of a tabular
    /// env, the feature-table size of a tile coder) and `n_actions` actions.
    ///
    /// # Errors
    /// An invalid config, or a size of 0.
    pub fn build(&self, n_features: usize, n_actions: usize) -> Result<Box<dyn Agent>> {
        Ok(match self {
            AgentConfig::QLearning(c) => Box::new(QLearning::new(c, n_features, n_actions)?),
        })
    }
}

/// `v` in `[0, 1]`.
pub(crate) fn check_unit(key: &str, v: f64) -> Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::config(key, v, "a number in [0, 1]"))
    }
}

/// A constant step size: `(0, 1]`.
pub(crate) fn check_alpha(v: f64) -> Result<()> {
    StepSize::Constant(v).validate("alpha")
}

/// A trace cutoff: `[0, 1)`.
pub(crate) fn check_cutoff(v: f64) -> Result<()> {
    if (0.0..1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::config("trace_cutoff", v, "a number in [0, 1)"))
    }
}

/// A finite initial value.
pub(crate) fn check_initial_value(v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::config("initial_value", v, "a finite number"))
    }
}

/// The fields every control config has.
pub(crate) fn check_control(
    alpha: StepSize,
    gamma: f64,
    epsilon: &Schedule,
    temperature: &Schedule,
    initial_value: f64,
) -> Result<()> {
    alpha.validate("alpha")?;
    check_unit("gamma", gamma)?;
    epsilon.validate(
        "epsilon",
        |v| (0.0..=1.0).contains(&v),
        "a number in [0, 1]",
    )?;
    temperature.validate(
        "temperature",
        |t| t > 0.0 && t.is_finite(),
        "a finite number > 0",
    )?;
    check_initial_value(initial_value)
}

/// A minimal self-describing value, to deserialize configs in tests as a TOML or JSON parser
/// would hand them over (this crate does not depend on a format crate).
#[cfg(test)]
pub(crate) mod value {
    use serde::de::value::{Error, MapDeserializer};
    use serde::de::{Deserializer, IntoDeserializer, Visitor};
    use serde::forward_to_deserialize_any;

    /// A TOML-like value.
    #[derive(Clone, Debug)]
    pub enum Value {
        Int(i64),
        Float(f64),
        Str(&'static str),
        Table(Vec<(&'static str, Value)>),
    }

    impl<'de> IntoDeserializer<'de, Error> for Value {
        type Deserializer = Value;
        fn into_deserializer(self) -> Value {
            self
        }
    }

    impl<'de> Deserializer<'de> for Value {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            match self {
                Value::Int(i) => v.visit_i64(i),
                Value::Float(f) => v.visit_f64(f),
                Value::Str(s) => v.visit_str(s),
                Value::Table(t) => v.visit_map(MapDeserializer::new(t.into_iter())),
            }
        }
        fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
            v.visit_some(self)
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            v: V,
        ) -> Result<V::Value, Error> {
            match self {
                // A unit variant written as a string, as TOML writes `policy = "softmax"`.
                Value::Str(s) => s.into_deserializer().deserialize_enum(name, variants, v),
                other => other.deserialize_any(v),
            }
        }
        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct
            identifier ignored_any
        }
    }

    /// Deserializes a `T` from a table.
    pub fn from_table<T: serde::de::DeserializeOwned>(
        table: Vec<(&'static str, Value)>,
    ) -> Result<T, Error> {
        T::deserialize(Value::Table(table))
    }
}

#[cfg(test)]
mod tests {
    use super::value::{Value, from_table};
    use super::*;
    use crate::tabular::PolicyKind;

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
}
