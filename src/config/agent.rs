//! The `[agent]` section through serde, with serde's errors pointed at the key they concern.

use serde::de::DeserializeOwned;

use super::reader::{Read, Reader};
use super::source::Document;

/// Deserializes the `[agent]` section into `T` (an enum internally tagged by `algorithm`).
///
/// Serde's errors inside such an enum do not say which key they concern, so this finds it:
/// unknown keys and algorithms are named in the message; for a wrong type or value, the key
/// whose removal changes the error is the one at fault.
pub(crate) fn deserialize<T: DeserializeOwned>(doc: &Document) -> Read<T> {
    let r = Reader::new(doc, "agent");
    if !r.present() {
        return Err(doc.error(
            "agent",
            None,
            "missing section: add [agent] with `algorithm` and its hyperparameters",
        ));
    }
    let table = doc.section("agent").expect("present").table();
    if let Some(v) = table.get("algorithm").filter(|v| !v.is_str()) {
        return Err(r.error(
            Some("algorithm"),
            format!(
                "`algorithm` must be a string, one of: {}; got {}",
                algorithms::<T>().join(", "),
                super::reader::show(v)
            ),
        ));
    }
    let message = match try_table::<T>(&table) {
        Ok(t) => return Ok(t),
        Err(message) => message,
    };

    // An error inside an inline table (`network = { … }`, `smoothness = { … }`) names a key
    // or value of that table, not of [agent]: point at the table, the message as serde gives it.
    let nested = table
        .iter()
        .filter(|(k, v)| v.is_table() && *k != "algorithm")
        .map(|(k, _)| k)
        .find(|key| {
            let mut without = table.clone();
            without.remove(key.as_str());
            try_table::<T>(&without).err().as_ref() != Some(&message)
        });
    if let Some(key) = nested {
        return Err(r.error(Some(key), format!("in `{key}`: {message}")));
    }
    if let Some(key) = backticked(&message, "unknown field `") {
        let mut allowed = vec!["algorithm".to_string()];
        allowed.extend(expected_names(&message));
        return Err(r.error(
            Some(&key),
            format!("unknown key `{key}`; allowed: {}", allowed.join(", ")),
        ));
    }
    if let Some(name) = backticked(&message, "unknown variant `") {
        return Err(r.error(
            Some("algorithm"),
            format!(
                "unknown algorithm `{name}`; allowed: {}",
                expected_names(&message).join(", ")
            ),
        ));
    }
    if message.starts_with("missing field `algorithm`") {
        return Err(r.error(
            None,
            format!(
                "missing key `algorithm`; one of: {}",
                algorithms::<T>().join(", ")
            ),
        ));
    }
    if let Some(key) = backticked(&message, "missing field `") {
        return Err(r.error(None, format!("missing key `{key}`")));
    }
    // Removing `algorithm` always changes the error; it was checked above.
    let culprit = table.keys().filter(|k| *k != "algorithm").find(|key| {
        let mut without = table.clone();
        without.remove(key.as_str());
        try_table::<T>(&without).err().as_ref() != Some(&message)
    });
    Err(r.error(
        culprit.map(String::as_str),
        match culprit {
            Some(key) => explain_value(key, &message),
            None => message,
        },
    ))
}

fn try_table<T: DeserializeOwned>(table: &toml::Table) -> Result<T, String> {
    T::deserialize(toml::Value::Table(table.clone())).map_err(|e| e.message().to_string())
}

/// Every algorithm name, read from the error for an impossible one.
fn algorithms<T: DeserializeOwned>() -> Vec<String> {
    let mut probe = toml::Table::new();
    probe.insert("algorithm".into(), toml::Value::String("\u{1}".into()));
    try_table::<T>(&probe)
        .err()
        .map(|m| expected_names(&m))
        .unwrap_or_default()
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

/// Serde's "invalid type: X, expected Y" as "`key` must be Y, got X".
fn explain_value(key: &str, message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some((got, expected)) = rest.rsplit_once(", expected ") {
                return format!("`{key}` must be {expected}, got {got}");
            }
        }
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

    fn parse(text: &str) -> Read<Algo> {
        let doc = Document::parse("a.toml", text).unwrap();
        deserialize(&doc)
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
        assert_eq!(
            e("[env]\nid = 'x'\n"),
            "a.toml: [agent] missing section: add [agent] with `algorithm` and its \
             hyperparameters"
        );
    }
}
