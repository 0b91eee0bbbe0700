//! `[agent]`: the algorithm and its hyperparameters.

use anyhow::Result;
use qlab_agents::dqn::DqnConfig;
use qlab_agents::tabular::AgentConfig;
use serde::{Deserialize, Serialize, Serializer};

use super::field::show;
use super::section::{self, Read, Tag};
use super::source::{ConfigError, Document};

/// `[agent]`: a tabular or linear agent ([`AgentConfig`]), or a deep Q-network
/// (`algorithm = "dqn"`, [`DqnConfig`]). The keys besides `algorithm`, their defaults and
/// their valid ranges are those of the algorithm's config.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentSpec {
    /// A tabular or linear agent over active features.
    Tabular(AgentConfig),
    /// A deep Q-network over the env's own observation vector.
    Dqn(DqnConfig),
}

/// The `algorithm` tag of the deep agents, for serde's tagged form of `[agent]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
enum DeepAgent {
    Dqn(DqnConfig),
}

impl AgentSpec {
    /// The `algorithm` tag, e.g. `"q_learning"` or `"dqn"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            AgentSpec::Tabular(a) => a.algorithm(),
            AgentSpec::Dqn(_) => "dqn",
        }
    }

    /// The tabular agent's config, or an error saying that `what` takes only those.
    pub fn tabular(&self, what: &str) -> Result<&AgentConfig> {
        match self {
            AgentSpec::Tabular(a) => Ok(a),
            AgentSpec::Dqn(_) => {
                anyhow::bail!(
                    "{what} takes tabular agents only, not `{}`",
                    self.algorithm()
                )
            }
        }
    }
}

impl Serialize for AgentSpec {
    /// The flat table of the config file: `algorithm` first, then the algorithm's keys.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AgentSpec::Tabular(a) => a.serialize(s),
            AgentSpec::Dqn(d) => DeepAgent::Dqn(d.clone()).serialize(s),
        }
    }
}

/// How errors about `algorithm` are worded. The deep agents are read apart from the tabular
/// enum, so they are listed after its names.
const ALGORITHM: Tag = Tag {
    key: "algorithm",
    also: &["dqn"],
    missing: |names| format!("missing key `algorithm`; one of: {}", names.join(", ")),
    unknown: |got, names| match got.as_str() {
        Some(name) => format!("unknown algorithm `{name}`; allowed: {}", names.join(", ")),
        None => format!(
            "`algorithm` must be a string, one of: {}; got {}",
            names.join(", "),
            show(got)
        ),
    },
};

/// Reads `[agent]`, which is required, and validates the algorithm's config.
pub(crate) fn read(doc: &Document) -> Read<AgentSpec> {
    let Some(section) = doc.section("agent") else {
        return Err(doc.error(
            "agent",
            None,
            "missing section: add [agent] with `algorithm` and its hyperparameters",
        ));
    };
    let deep = section
        .get("algorithm")
        .and_then(|e| e.value.as_str())
        .is_some_and(|a| a == "dqn");
    if deep {
        // One key chooses the device for the whole agent; the network's table has none.
        if section
            .get("network")
            .is_some_and(|e| e.value.get("device").is_some())
        {
            return Err(doc.error(
                "agent",
                Some("network"),
                "`network.device` is not a key: the device is the whole agent's, set it with \
                 `device` in [agent] (e.g. device = \"cuda\")",
            ));
        }
        let DeepAgent::Dqn(config) = section::deserialize(doc, "agent", Some(&ALGORITHM))?;
        config.validate().map_err(|e| agent_error(doc, &e))?;
        return Ok(AgentSpec::Dqn(config));
    }
    let config: AgentConfig = section::deserialize(doc, "agent", Some(&ALGORITHM))?;
    config.validate().map_err(|e| agent_error(doc, &e))?;
    Ok(AgentSpec::Tabular(config))
}

/// An agent's error, at the line of the key it names.
pub(crate) fn agent_error(doc: &Document, e: &qlab_agents::Error) -> ConfigError {
    use qlab_agents::{Error, nn};
    let key = match e {
        // `epsilon.decay` is written under `epsilon`.
        Error::InvalidConfig { key, .. } | Error::Nn(nn::Error::InvalidConfig { key, .. }) => {
            key.split(['.', '[']).next()
        }
        Error::Nn(nn::Error::DeviceUnavailable { .. }) => Some("device"),
        _ => None,
    };
    doc.error("agent", key, e)
}
