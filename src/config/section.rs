//! One config section through serde, with serde's errors pointed at the key they concern.
//!
//! Every section is read the same way: its table goes to the section's serde type (each
//! `deny_unknown_fields`, its defaults in its `impl Default`), and then to the type's
//! `validate`. Serde's messages name no line, and inside an internally tagged enum not even
//! the key, so [`deserialize`] finds the key and rewords the message; [`Invalid`] carries the
//! key a `validate` refuses.

use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;

use super::source::{ConfigError, Document};

/// `Result` of reading a config.
pub(crate) type Read<T> = std::result::Result<T, ConfigError>;

/// What a section's `validate` refuses: the key at fault (`None`: the section as a whole)
/// and a message that names it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Invalid {
    /// The key, for the line the error points at.
    pub key: Option<&'static str>,
    /// The message.
    pub message: String,
}

impl Invalid {
    /// An error about `key`.
    pub fn key(key: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            key: Some(key),
            message: message.into(),
        }
    }

    /// An error about the section as a whole (a missing key, say).
    pub fn section(message: impl Into<String>) -> Self {
        Invalid {
            key: None,
            message: message.into(),
        }
    }

    /// The error, pointing at where `section`'s key was written.
    pub fn at(self, doc: &Document, section: &str) -> ConfigError {
        doc.error(section, self.key, self.message)
    }
}

/// The key that tags a section's enum (`algorithm` in `[agent]`, `kind` in `[features]`) and
/// how errors about it are worded.
pub(crate) struct Tag {
    /// The key.
    pub key: &'static str,
    /// Names read apart from the enum (and so not in its list), listed after its own.
    pub also: &'static [&'static str],
    /// The message for a missing tag, from the names allowed.
    pub missing: fn(&[String]) -> String,
    /// The message for a tag that is not one of the names allowed (or not a string).
    pub unknown: fn(&toml::Value, &[String]) -> String,
}

impl Tag {
    /// Every name allowed: the enum's, read from its error for an impossible one, then `also`.
    fn names<T: DeserializeOwned>(&self) -> Vec<String> {
        let probe = [(self.key.to_string(), toml::Value::String("\u{1}".into()))];
        let mut names = try_entries::<T>(&probe)
            .err()
            .map(|m| expected_names(&m))
            .unwrap_or_default();
        names.extend(self.also.iter().map(|s| s.to_string()));
        names
    }
}

/// Deserializes the required `section` of `doc` into `T`; when it is absent, the error at the
/// section says `missing`.
pub(crate) fn deserialize_required<T: DeserializeOwned>(
    doc: &Document,
    section: &str,
    missing: &str,
) -> Read<T> {
    if doc.section(section).is_none() {
        return Err(doc.error(section, None, missing));
    }
    deserialize(doc, section, None)
}

/// Deserializes `section` of `doc` (an empty table if absent) into `T`; `tag` for an enum
/// internally tagged by that key.
///
/// A wrong type or value is put on the key whose removal changes serde's error: that is the
/// key serde stopped at. Messages of the form "must be …" (from the field readers in
/// `field.rs`) get the key in front; serde's "invalid type: X, expected Y" becomes "`key`
/// must be Y, got X".
pub(crate) fn deserialize<T: DeserializeOwned>(
    doc: &Document,
    section: &str,
    tag: Option<&Tag>,
) -> Read<T> {
    // The keys in the order written, so that serde meets them (and `[env]` keeps its
    // parameters) in that order.
    let entries: Vec<(String, toml::Value)> = doc
        .section(section)
        .map(|s| {
            s.entries
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let error = |key: Option<&str>, message: String| doc.error(section, key, message);
    if let Some(tag) = tag {
        match get(tag.key) {
            None => return Err(error(None, (tag.missing)(&tag.names::<T>()))),
            Some(v) if !v.is_str() => {
                return Err(error(Some(tag.key), (tag.unknown)(v, &tag.names::<T>())));
            }
            Some(_) => {}
        }
    }
    let message = match try_entries::<T>(&entries) {
        Ok(t) => return Ok(t),
        Err(message) => message,
    };
    let tag_key = tag.map(|t| t.key);
    // The first key (the tag aside: it was checked above) whose removal changes the error.
    let culprit = |tables_only: bool| {
        entries
            .iter()
            .filter(|(k, v)| Some(k.as_str()) != tag_key && (v.is_table() || !tables_only))
            .map(|(k, _)| k)
            .find(|key| {
                let without: Vec<_> = entries.iter().filter(|(k, _)| k != *key).cloned().collect();
                try_entries::<T>(&without).err().as_ref() != Some(&message)
            })
    };

    // An error inside an inline table (`network = { … }`, `smoothness = { … }`) names a key
    // or value of that table, not of the section: point at the table, the message as serde
    // gives it. (A table where none is allowed is refused by a message that names the key.)
    if let Some(key) = culprit(true) {
        let message = if names(&message, key) {
            message
        } else {
            format!("in `{key}`: {message}")
        };
        return Err(error(Some(key), message));
    }
    if let Some(key) = backticked(&message, "unknown field `") {
        let allowed: Vec<String> = tag_key
            .map(str::to_string)
            .into_iter()
            .chain(expected_names(&message))
            .collect();
        return Err(error(
            Some(&key),
            format!("unknown key `{key}`; allowed: {}", allowed.join(", ")),
        ));
    }
    // An unknown variant is the tag's only if the tag names it: an enum-valued key (`trace =
    // "x"`) fails the same way, and is the culprit below.
    if let Some(tag) = tag
        && let Some(name) = backticked(&message, "unknown variant `")
        && get(tag.key).and_then(toml::Value::as_str) == Some(name.as_str())
    {
        return Err(error(
            Some(tag.key),
            (tag.unknown)(&toml::Value::String(name), &tag.names::<T>()),
        ));
    }
    if let Some(key) = backticked(&message, "missing field `") {
        return Err(error(None, format!("missing key `{key}`")));
    }
    match culprit(false) {
        Some(key) => Err(error(Some(key), explain_value(key, &message))),
        None => Err(error(None, message)),
    }
}

/// Deserializes `T` from a table's entries, in their order; serde's message on failure.
fn try_entries<T: DeserializeOwned>(entries: &[(String, toml::Value)]) -> Result<T, String> {
    let map = MapDeserializer::<_, toml::de::Error>::new(
        entries.iter().map(|(k, v)| (k.as_str(), v.clone())),
    );
    T::deserialize(map).map_err(|e| e.message().to_string())
}

/// Whether `message` names `key` (in backticks).
fn names(message: &str, key: &str) -> bool {
    message.contains(&format!("`{key}`"))
}

/// The name in backticks right after `prefix` at the start of `message`.
fn backticked(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    Some(rest[..rest.find('`')?].to_string())
}

/// The backticked names after "expected" in a serde message.
fn expected_names(message: &str) -> Vec<String> {
    let Some(at) = message.find("expected") else {
        return Vec::new();
    };
    message[at..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// A message about the value of `key`, with the key in it:
///
/// - "must be …" (a field reader's) as "`key` must be …";
/// - "[i] must be …" (about one item of a list) as "`key[i]` must be …";
/// - serde's "invalid type: X, expected Y" as "`key` must be Y, got X";
/// - one that names the key already as it is; any other as "`key`: message".
fn explain_value(key: &str, message: &str) -> String {
    if message.starts_with("must be ") {
        return format!("`{key}` {message}");
    }
    if let Some((index, rest)) = message.split_once(' ')
        && index.starts_with('[')
        && index.ends_with(']')
    {
        return format!("`{key}{index}` {rest}");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((got, expected)) = rest.rsplit_once(", expected ")
        {
            return format!("`{key}` must be {expected}, got {got}");
        }
    }
    if names(message, key) {
        return message.to_string();
    }
    format!("`{key}`: {message}")
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(tag = "algorithm", rename_all = "snake_case")]
    enum Algo {
        Sarsa(Params),
        QLearning(Params),
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Params {
        alpha: f64,
        n: usize,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        eps: f64,
        #[serde(default)]
        kind: Kind,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        #[default]
        Fgsm,
        Pgd,
    }

    const ALGORITHM: Tag = Tag {
        key: "algorithm",
        also: &[],
        missing: |names| format!("missing key `algorithm`; one of: {}", names.join(", ")),
        unknown: |got, names| match got.as_str() {
            Some(name) => format!("unknown algorithm `{name}`; allowed: {}", names.join(", ")),
            None => format!(
                "`algorithm` must be a string, one of: {}; got {got}",
                names.join(", ")
            ),
        },
    };

    fn parse(text: &str) -> Read<Algo> {
        let doc = Document::parse("a.toml", text).unwrap();
        deserialize(&doc, "agent", Some(&ALGORITHM))
    }

    #[test]
    fn reads_a_variant() {
        let a = parse("[agent]\nalgorithm = 'q_learning'\nalpha = 1\n").unwrap();
        assert_eq!(
            a,
            Algo::QLearning(Params {
                alpha: 1.0,
                n: 0,
                inner: None
            })
        );
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let e = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            e("[agent]\nalgorithm = 'sarsa'\nalpah = 0.1\n"),
            "a.toml:3: [agent] unknown key `alpah`; allowed: algorithm, alpha, n, inner"
        );
        // Errors inside an inline table point at its line and say which table.
        let nested = "[agent]\nalgorithm = 'sarsa'\nalpha = 0.5\ninner = ";
        assert_eq!(
            e(&format!("{nested}{{ eps = 1, kind = 'cw' }}\n")),
            "a.toml:4: [agent] in `inner`: unknown variant `cw`, expected `fgsm` or `pgd`"
        );
        assert_eq!(
            e(&format!("{nested}{{ eps = 1, knd = 'pgd' }}\n")),
            "a.toml:4: [agent] in `inner`: unknown field `knd`, expected `eps` or `kind`"
        );
        assert_eq!(
            e(&format!("{nested}{{ kind = 'pgd' }}\n")),
            "a.toml:4: [agent] in `inner`: missing field `eps`"
        );
        assert_eq!(
            e("[agent]\nalgorithm = 'sarsb'\n"),
            "a.toml:2: [agent] unknown algorithm `sarsb`; allowed: sarsa, q_learning"
        );
        assert_eq!(
            e("[agent]\nalpha = 0.1\n"),
            "a.toml:1: [agent] missing key `algorithm`; one of: sarsa, q_learning"
        );
        assert_eq!(
            e("[agent]\nalgorithm = 'sarsa'\nn = 2\nalpha = 'x'\n"),
            "a.toml:4: [agent] `alpha` must be f64, got string \"x\""
        );
        assert_eq!(
            e("[agent]\nalgorithm = 'sarsa'\nalpha = 0.5\nn = -1\n"),
            "a.toml:4: [agent] `n` must be usize, got integer `-1`"
        );
        assert_eq!(
            e("[agent]\nalgorithm = 3\n"),
            "a.toml:2: [agent] `algorithm` must be a string, one of: sarsa, q_learning; got 3"
        );
    }

    #[test]
    fn value_messages_get_their_key() {
        assert_eq!(
            explain_value("tiles", "must be a list, got 3"),
            "`tiles` must be a list, got 3"
        );
        assert_eq!(
            explain_value("bounds", "[1] must be two numbers, got []"),
            "`bounds[1]` must be two numbers, got []"
        );
        assert_eq!(
            explain_value("seeds", "seed 1 is listed twice"),
            "`seeds`: seed 1 is listed twice"
        );
        assert_eq!(
            explain_value("map", "parameter `map`: a table is not allowed"),
            "parameter `map`: a table is not allowed"
        );
    }
}
