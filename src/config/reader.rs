//! Typed reading of one config section, every error pointing at its key.

use super::source::{ConfigError, Document, Entry, Section};

/// Reads the keys of one section of a [`Document`].
pub(crate) struct Reader<'a> {
    doc: &'a Document,
    name: &'static str,
    section: Option<&'a Section>,
}

/// `Result` of reading a config.
pub(crate) type Read<T> = std::result::Result<T, ConfigError>;

impl<'a> Reader<'a> {
    pub(crate) fn new(doc: &'a Document, name: &'static str) -> Self {
        Self {
            doc,
            name,
            section: doc.section(name),
        }
    }

    /// Whether the section is in the config.
    pub(crate) fn present(&self) -> bool {
        self.section.is_some()
    }

    pub(crate) fn entries(&self) -> &'a [Entry] {
        self.section.map_or(&[], |s| s.entries.as_slice())
    }

    pub(crate) fn value(&self, key: &str) -> Option<&'a toml::Value> {
        self.section.and_then(|s| s.get(key)).map(|e| &e.value)
    }

    /// An error about `key` (or the section, for `None`), at the line that wrote it.
    pub(crate) fn error(&self, key: Option<&str>, message: impl std::fmt::Display) -> ConfigError {
        self.doc.error(self.name, key, message)
    }

    /// Fails on the first key not in `allowed`, listing those.
    pub(crate) fn check_keys(&self, allowed: &[&str]) -> Read<()> {
        match self
            .entries()
            .iter()
            .find(|e| !allowed.contains(&e.key.as_str()))
        {
            Some(e) => Err(self.error(
                Some(&e.key),
                format!("unknown key `{}`; allowed: {}", e.key, allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    fn wrong(&self, key: &str, expected: &str, got: &toml::Value) -> ConfigError {
        self.error(
            Some(key),
            format!("`{key}` must be {expected}, got {}", show(got)),
        )
    }

    /// An integer `≥ min`, if given.
    pub(crate) fn uint(&self, key: &str, min: u64) -> Read<Option<u64>> {
        let Some(v) = self.value(key) else {
            return Ok(None);
        };
        match v {
            toml::Value::Integer(i) if *i >= 0 && *i as u64 >= min => Ok(Some(*i as u64)),
            _ => Err(self.wrong(key, &format!("an integer ≥ {min}"), v)),
        }
    }

    /// A string, if given.
    pub(crate) fn string(&self, key: &str) -> Read<Option<&'a str>> {
        match self.value(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong(key, "a string", v)),
        }
    }

    /// A string that must be one of `choices`, if given.
    pub(crate) fn choice(&self, key: &str, choices: &[&str]) -> Read<Option<&'a str>> {
        let expected = || format!("one of {}", quoted(choices));
        match self.value(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) if choices.contains(&s.as_str()) => Ok(Some(s)),
            Some(v) => Err(self.wrong(key, &expected(), v)),
        }
    }

    /// A non-empty list of integers `≥ min`, if given.
    pub(crate) fn uint_list(&self, key: &str, min: u64) -> Read<Option<Vec<usize>>> {
        let Some(v) = self.value(key) else {
            return Ok(None);
        };
        let expected = format!("a non-empty list of integers ≥ {min}");
        let toml::Value::Array(items) = v else {
            return Err(self.wrong(key, &expected, v));
        };
        let list: Option<Vec<usize>> = items
            .iter()
            .map(|x| match x {
                toml::Value::Integer(i) if *i >= 0 && *i as u64 >= min => Some(*i as usize),
                _ => None,
            })
            .collect();
        match list {
            Some(list) if !list.is_empty() => Ok(Some(list)),
            _ => Err(self.wrong(key, &expected, v)),
        }
    }

    /// A list of ranges, one per observation dimension: each `[low, high]` (finite numbers,
    /// `low < high`) or `[]` to keep the observation space's bounds.
    pub(crate) fn bounds(&self, key: &str) -> Read<Option<super::Bounds>> {
        let Some(v) = self.value(key) else {
            return Ok(None);
        };
        let expected = "a list with one `[low, high]` (or `[]` for the space's own) per dimension";
        let toml::Value::Array(items) = v else {
            return Err(self.wrong(key, expected, v));
        };
        let number = |x: &toml::Value| match x {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                toml::Value::Array(pair) if pair.is_empty() => Ok(None),
                toml::Value::Array(pair) if pair.len() == 2 => {
                    match (number(&pair[0]), number(&pair[1])) {
                        (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() && lo < hi => {
                            Ok(Some((lo as f32, hi as f32)))
                        }
                        _ => Err(self.error(
                            Some(key),
                            format!(
                                "`{key}[{i}]` must be two finite numbers `[low, high]` with low < high, got {}",
                                show(item)
                            ),
                        )),
                    }
                }
                _ => Err(self.wrong(key, expected, v)),
            })
            .collect::<Read<Vec<_>>>()
            .map(Some)
    }
}

/// A TOML value as it would be written in the file.
pub(crate) fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(_) => "a table".into(),
        v => v.to_string(),
    }
}

/// `a, b` as "`a`, `b`".
pub(crate) fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
