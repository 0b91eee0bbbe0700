//! `[agent]`: the algorithm and its hyperparameters.

use qlab_agents::AgentConfig;

use super::field::show;
use super::section::{self, Read, Tag};
use super::source::{ConfigError, Document};

/// How errors about `algorithm` are worded.
const ALGORITHM: Tag = Tag {
    key: "algorithm",
    also: &[],
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
pub(crate) fn read(doc: &Document) -> Read<AgentConfig> {
    let Some(section) = doc.section("agent") else {
        return Err(doc.error(
            "agent",
            None,
            "missing section: add [agent] with `algorithm` and its hyperparameters",
        ));
    };
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
    let config: AgentConfig = section::deserialize(doc, "agent", Some(&ALGORITHM))?;
    config.validate().map_err(|e| agent_error(doc, &e))?;
    Ok(config)
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
