//! `[env]`: which env, with which parameters.

use std::fmt;

use qlab_envs::{ParamValue, Params};
use serde::de::{Error as _, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::field::show;
use super::section::{self, Read};
use super::source::Document;

/// `[env]`: which env, with which parameters.
///
/// | key | default | valid |
/// |---|---|---|
/// | `id` | required | a registered id (`qlab envs` lists them) |
/// | any other | | a parameter of that env: a boolean, number, string or list |
///
/// The parameters are checked by the env registry ([`qlab_envs::make`]) when the experiment is
/// built: an unknown one is reported with the list the env takes.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvConfig {
    /// The registered id (`qlab envs` lists them). Required.
    pub id: String,
    /// Every other key of the section, as env parameters, in the order written.
    pub params: Params,
}

/// Reads `[env]`.
pub(crate) fn read(doc: &Document) -> Read<EnvConfig> {
    section::deserialize_required(
        doc,
        "env",
        "missing section: add [env] with `id`, e.g. id = \"CliffWalking-v1\"",
    )
}

impl Serialize for EnvConfig {
    /// `id`, then the parameters as given.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let params: Vec<_> = self.params.iter().collect();
        let mut map = s.serialize_map(Some(1 + params.len()))?;
        map.serialize_entry("id", &self.id)?;
        for (key, value) in params {
            map.serialize_entry(key, &toml_of(value))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for EnvConfig {
    /// `id` (a string) and any other keys as parameters, in the order met.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EnvVisitor)
    }
}

struct EnvVisitor;

impl<'de> Visitor<'de> for EnvVisitor {
    type Value = EnvConfig;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a table with `id` and the env's parameters")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvConfig, A::Error> {
        let mut id = None;
        let mut params = Params::new();
        while let Some((key, value)) = map.next_entry::<String, toml::Value>()? {
            if key == "id" {
                match value {
                    toml::Value::String(s) => id = Some(s),
                    v => {
                        return Err(A::Error::custom(format!(
                            "must be a string, got {}",
                            show(&v)
                        )));
                    }
                }
            } else {
                let value = crate::params::param_value(&key, &value)
                    .map_err(|e| A::Error::custom(format!("{e:#}")))?;
                params.set(key, value);
            }
        }
        let id = id.ok_or_else(|| {
            A::Error::custom("missing key `id`: the env id (`qlab envs` lists them)")
        })?;
        Ok(EnvConfig { id, params })
    }
}

fn toml_of(v: &ParamValue) -> toml::Value {
    match v {
        ParamValue::Bool(b) => toml::Value::Boolean(*b),
        ParamValue::Int(i) => toml::Value::Integer(*i),
        ParamValue::Float(x) => toml::Value::Float(*x),
        ParamValue::Str(s) => toml::Value::String(s.clone()),
        ParamValue::List(items) => toml::Value::Array(items.iter().map(toml_of).collect()),
    }
}
