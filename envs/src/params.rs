//! Env parameters given by name: the `[env]` table of a config, or `--param KEY=VALUE`.

use std::fmt;

use crate::{Error, Result};

/// One parameter value. The runner converts TOML values into these.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum ParamValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<ParamValue>),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Str(s) => write!(f, "{s:?}"),
            ParamValue::List(v) => {
                write!(f, "[")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{x}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// Named parameters, in the order given. Later entries with the same key override earlier ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    entries: Vec<(String, ParamValue)>,
}

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or overrides) a parameter; returns `self` for chaining.
    pub fn with(mut self, key: impl Into<String>, value: ParamValue) -> Self {
        self.set(key, value);
        self
    }

    /// Adds (or overrides) a parameter.
    pub fn set(&mut self, key: impl Into<String>, value: ParamValue) {
        let key = key.into();
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push((key, value));
    }

    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&ParamValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The parameters, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Fails on the first key not in `allowed`, naming it and the allowed keys.
    pub fn check_keys(&self, env: &str, allowed: &[&str]) -> Result<()> {
        match self
            .entries
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((key, _)) => Err(Error::UnknownParam {
                env: env.to_string(),
                key: key.clone(),
                allowed: allowed.iter().map(|s| s.to_string()).collect(),
            }),
            None => Ok(()),
        }
    }

    /// A boolean parameter, if given.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.typed(key, "a boolean", |v| match v {
            ParamValue::Bool(b) => Some(*b),
            _ => None,
        })
    }

    /// A float parameter, if given (integers are accepted).
    pub fn f64(&self, key: &str) -> Result<Option<f64>> {
        self.typed(key, "a number", as_number)
    }

    /// A non-negative integer parameter, if given.
    pub fn usize(&self, key: &str) -> Result<Option<usize>> {
        self.typed(key, "a non-negative integer", |v| {
            as_int(v).and_then(|i| usize::try_from(i).ok())
        })
    }

    /// An integer parameter, if given.
    pub fn i64(&self, key: &str) -> Result<Option<i64>> {
        self.typed(key, "an integer", as_int)
    }

    /// A string parameter, if given.
    pub fn str(&self, key: &str) -> Result<Option<&str>> {
        match self.get(key) {
            None => Ok(None),
            Some(ParamValue::Str(s)) => Ok(Some(s)),
            Some(v) => Err(invalid(key, v, "a string")),
        }
    }

    /// A string parameter that must be one of `choices`, if given.
    pub fn choice(&self, key: &str, choices: &[&str]) -> Result<Option<&str>> {
        match self.str(key)? {
            None => Ok(None),
            Some(s) if choices.contains(&s) => Ok(Some(s)),
            Some(s) => Err(invalid(
                key,
                &ParamValue::Str(s.to_string()),
                &format!("one of {}", choices.join(", ")),
            )),
        }
    }

    /// A list of integers, if given.
    pub fn i64_list(&self, key: &str) -> Result<Option<Vec<i64>>> {
        self.typed(key, "a list of integers", |v| list_of(v, as_int))
    }

    /// A list of floats, if given (integers are accepted).
    pub fn f64_list(&self, key: &str) -> Result<Option<Vec<f64>>> {
        self.typed(key, "a list of numbers", |v| list_of(v, as_number))
    }

    fn typed<T>(
        &self,
        key: &str,
        expected: &str,
        convert: impl FnOnce(&ParamValue) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => convert(v)
                .map(Some)
                .ok_or_else(|| invalid(key, v, expected)),
        }
    }
}

/// An integer value.
fn as_int(v: &ParamValue) -> Option<i64> {
    match v {
        ParamValue::Int(i) => Some(*i),
        _ => None,
    }
}

/// A number: a float, or an integer as one.
fn as_number(v: &ParamValue) -> Option<f64> {
    match v {
        ParamValue::Float(x) => Some(*x),
        ParamValue::Int(i) => Some(*i as f64),
        _ => None,
    }
}

/// A list whose every item `item` converts.
fn list_of<T>(v: &ParamValue, item: fn(&ParamValue) -> Option<T>) -> Option<Vec<T>> {
    match v {
        ParamValue::List(items) => items.iter().map(item).collect(),
        _ => None,
    }
}

/// An [`Error::InvalidParam`] for `key = value`, saying what was expected.
pub fn invalid(key: &str, value: &ParamValue, expected: &str) -> Error {
    Error::InvalidParam {
        key: key.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_key_and_allowed() {
        let p = Params::new().with("kingmoves", ParamValue::Bool(true));
        let e = p.check_keys("WindyGridworld-v0", &["king_moves", "stochastic_wind"]);
        let msg = e.unwrap_err().to_string();
        assert!(msg.contains("`kingmoves`") && msg.contains("king_moves, stochastic_wind"));
    }

    #[test]
    fn wrong_type_is_an_error_naming_the_key() {
        let p = Params::new().with("gamma", ParamValue::Str("x".into()));
        let msg = p.f64("gamma").unwrap_err().to_string();
        assert_eq!(msg, "invalid value \"x\" for `gamma`: expected a number");
        assert_eq!(p.f64("other").unwrap(), None);
    }

    #[test]
    fn later_values_override() {
        let mut p = Params::new().with("a", ParamValue::Int(1));
        p.set("a", ParamValue::Int(2));
        assert_eq!(p.usize("a").unwrap(), Some(2));
        assert_eq!(p.iter().count(), 1);
    }
}
