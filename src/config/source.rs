//! A TOML config as sections of keys, each remembering where it was written, so that every
//! error can point at a file and line (or at the `--set` flag that gave the value).

use std::fmt;

use anyhow::{Result, anyhow, bail};
use toml::de::{DeTable, DeValue};

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A 1-based line of the config file.
    Line(usize),
    /// A `--set SECTION.KEY=VALUE` flag (its text).
    Flag(String),
    /// Nowhere: the key is missing, or the value is a default.
    Default,
}

/// One `key = value` of a section.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: toml::Value,
    /// Where it was written.
    pub origin: Origin,
}

/// One `[section]` of a config, its entries in the order written (overrides replace in place
/// or append).
#[derive(Clone, Debug)]
pub struct Section {
    /// The section's name.
    pub name: String,
    /// The line of its header (or of its first key, for dotted keys at the top level).
    pub origin: Origin,
    /// Its keys and values.
    pub entries: Vec<Entry>,
}

impl Section {
    /// The entry of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The section's entries as a TOML table.
    pub fn table(&self) -> toml::Table {
        self.entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect()
    }
}

/// A parsed config: the file's name for messages and its sections in order.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file as named on the command line.
    pub file: String,
    /// The sections.
    pub sections: Vec<Section>,
}

/// A config error: one line that names the place, the section and the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The 1-based line holding byte `offset` of `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// `text`, read from `file`, parsed twice: with the span of every key and value, and as
/// values. A TOML syntax error is one line naming the file and line.
pub(crate) fn parse_spanned<'a>(
    file: &str,
    text: &'a str,
) -> std::result::Result<(toml::Spanned<DeTable<'a>>, toml::Table), ConfigError> {
    let fail = |offset: Option<usize>, message: &str| {
        // toml's own messages are short; only the first line is kept.
        let message = message.lines().next().unwrap_or("invalid TOML").trim();
        match offset {
            Some(o) => ConfigError(format!("{file}:{}: {message}", line_of(text, o))),
            None => ConfigError(format!("{file}: {message}")),
        }
    };
    let spans = DeTable::parse(text).map_err(|e| fail(e.span().map(|s| s.start), e.message()))?;
    let values = toml::from_str(text).map_err(|e| fail(e.span().map(|s| s.start), e.message()))?;
    Ok((spans, values))
}

impl Document {
    /// Parses `text`, read from `file`. A TOML syntax error becomes one line naming the file
    /// and line; keys outside a section are errors.
    pub fn parse(file: &str, text: &str) -> Result<Document> {
        let (spans, values) = parse_spanned(file, text)?;

        let mut sections = Vec::new();
        let mut ordered: Vec<_> = spans.get_ref().iter().collect();
        ordered.sort_by_key(|(k, _)| k.span().start);
        for (key, value) in ordered {
            let name = key.get_ref().to_string();
            let DeValue::Table(table) = value.get_ref() else {
                bail!(ConfigError(format!(
                    "{file}:{}: key `{name}` is outside a section; put it under one of {}",
                    line_of(text, key.span().start),
                    super::SECTIONS
                        .iter()
                        .map(|s| format!("[{s}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            let Some(toml::Value::Table(section_values)) = values.get(&name) else {
                return Err(anyhow!("{file}: section [{name}] could not be read"));
            };
            let mut entries: Vec<Entry> = table
                .iter()
                .map(|(k, v)| Entry {
                    key: k.get_ref().to_string(),
                    value: section_values[k.get_ref().as_ref()].clone(),
                    origin: Origin::Line(line_of(text, k.span().start.min(v.span().start))),
                })
                .collect();
            entries.sort_by_key(|e| match e.origin {
                Origin::Line(l) => l,
                _ => usize::MAX,
            });
            sections.push(Section {
                name,
                origin: Origin::Line(line_of(text, value.span().start)),
                entries,
            });
        }
        Ok(Document {
            file: file.to_string(),
            sections,
        })
    }

    /// The section called `name`, if present.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Applies `--set SECTION.KEY=VALUE`: `VALUE` is read as a TOML value, and text that is not
    /// TOML as a string (`--set env.id=CliffWalking-v1` needs no quotes). The section is made
    /// if missing; the key replaces any value from the file.
    pub fn set(&mut self, flag: &str) -> Result<()> {
        let usage = |why: &str| ConfigError(format!("--set {flag}: {why}"));
        if flag.contains(['\n', '\r']) {
            // TOML would read the text after the line break as more keys, and they would be
            // dropped: one flag sets one key. The flag is echoed escaped, on one line.
            bail!(ConfigError(format!(
                "--set {}: a value must be on one line; give each assignment its own --set",
                flag.escape_debug()
            )));
        }
        let (path, raw) = flag
            .split_once('=')
            .ok_or_else(|| usage("expected SECTION.KEY=VALUE"))?;
        let (section, key) = path
            .trim()
            .split_once('.')
            .ok_or_else(|| usage("expected SECTION.KEY=VALUE, e.g. agent.alpha=0.1"))?;
        let (section, key) = (section.trim(), key.trim());
        if section.is_empty() || key.is_empty() || key.contains('.') {
            bail!(usage("expected SECTION.KEY=VALUE, e.g. agent.alpha=0.1"));
        }
        let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
            Ok(mut table) => table.remove("v").expect("parsed one key"),
            Err(_) => toml::Value::String(raw.to_string()),
        };
        let origin = Origin::Flag(flag.to_string());
        let index = match self.sections.iter().position(|s| s.name == section) {
            Some(i) => i,
            None => {
                self.sections.push(Section {
                    name: section.to_string(),
                    origin: origin.clone(),
                    entries: Vec::new(),
                });
                self.sections.len() - 1
            }
        };
        let entries = &mut self.sections[index].entries;
        let entry = Entry {
            key: key.to_string(),
            value,
            origin,
        };
        match entries.iter_mut().find(|e| e.key == key) {
            Some(old) => *old = entry,
            None => entries.push(entry),
        }
        Ok(())
    }

    /// An error about `key` of `section` (or the section itself for `None`), pointing at where
    /// that key (or section) was written: `FILE:LINE: [section] message`, or
    /// `--set FLAG: [section] message` for a value from the command line.
    pub fn error(
        &self,
        section: &str,
        key: Option<&str>,
        message: impl fmt::Display,
    ) -> ConfigError {
        let sec = self.section(section);
        let origin = key
            .and_then(|k| sec.and_then(|s| s.get(k)))
            .map(|e| &e.origin)
            .or(sec.map(|s| &s.origin))
            .cloned()
            .unwrap_or(Origin::Default);
        self.error_at(&origin, section, message)
    }

    /// An error at an explicit origin.
    pub fn error_at(
        &self,
        origin: &Origin,
        section: &str,
        message: impl fmt::Display,
    ) -> ConfigError {
        // A value echoed by serde's `{}` (1e300 as 301 digits) in the exponent form.
        let message = crate::float::shorten_long_numbers(&message.to_string());
        ConfigError(match origin {
            Origin::Line(line) => format!("{}:{line}: [{section}] {message}", self.file),
            Origin::Flag(flag) => format!("--set {flag}: [{section}] {message}"),
            Origin::Default => format!("{}: [{section}] {message}", self.file),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# an experiment\n[env]\nid = \"CliffWalking-v1\"\n\n[agent]\nalgorithm = \"sarsa\"\nalpha = 0.5\n";

    #[test]
    fn keys_keep_their_lines() {
        let doc = Document::parse("x.toml", TEXT).unwrap();
        let names: Vec<_> = doc.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["env", "agent"]);
        let agent = doc.section("agent").unwrap();
        assert_eq!(agent.origin, Origin::Line(5));
        assert_eq!(agent.get("alpha").unwrap().origin, Origin::Line(7));
        assert_eq!(agent.get("alpha").unwrap().value, toml::Value::Float(0.5));
        assert_eq!(
            doc.error("agent", Some("alpha"), "bad").to_string(),
            "x.toml:7: [agent] bad"
        );
        assert_eq!(
            doc.error("agent", Some("beta"), "missing").to_string(),
            "x.toml:5: [agent] missing"
        );
        assert_eq!(
            doc.error("train", None, "x").to_string(),
            "x.toml: [train] x"
        );
    }

    #[test]
    fn syntax_errors_are_one_line_with_the_line_number() {
        let e = Document::parse("x.toml", "[env]\nid = = 3\n").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("x.toml:2: "), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        let e = Document::parse("x.toml", "[env]\nid = 'a'\nid = 'b'\n").unwrap_err();
        assert!(e.to_string().starts_with("x.toml:3: "), "{e}");
    }

    #[test]
    fn keys_outside_sections_are_errors() {
        let e = Document::parse("x.toml", "seed = 3\n[env]\nid = 'a'\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.toml:1: key `seed` is outside a section; put it under one of [env], [wrappers], \
             [features], [agent], [train], [output]"
        );
    }

    #[test]
    fn set_overrides_and_names_the_flag() {
        let mut doc = Document::parse("x.toml", TEXT).unwrap();
        doc.set("agent.alpha=0.25").unwrap();
        doc.set("train.episodes=3").unwrap();
        doc.set("env.id=FrozenLake-v1").unwrap();
        let agent = doc.section("agent").unwrap();
        assert_eq!(agent.get("alpha").unwrap().value, toml::Value::Float(0.25));
        assert_eq!(
            doc.section("env").unwrap().get("id").unwrap().value,
            toml::Value::String("FrozenLake-v1".into())
        );
        assert_eq!(
            doc.error("train", Some("episodes"), "bad").to_string(),
            "--set train.episodes=3: [train] bad"
        );
        for bad in ["agent", "alpha=1", ".alpha=1", "agent.=1", "a.b.c=1"] {
            let e = doc.set(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--set {bad}: expected")), "{e}");
        }
    }

    #[test]
    fn a_newline_in_set_is_refused_not_its_second_assignment_silently_dropped() {
        let mut doc = Document::parse("x.toml", TEXT).unwrap();
        let e = doc.set("agent.alpha=0.25\nagent.gamma=0.5").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--set agent.alpha=0.25\\nagent.gamma=0.5: a value must be on one line; give each \
             assignment its own --set"
        );
        assert_eq!(
            doc.section("agent").unwrap().get("alpha").unwrap().value,
            toml::Value::Float(0.5)
        );
    }
}
