//! Experiment configs: one TOML file describes one experiment.
//!
//! ```toml
//! [env]                      # the env: its id and its parameters (see `qlab envs`)
//! id = "CliffWalking-v1"
//!
//! [agent]                    # the algorithm and its hyperparameters
//! algorithm = "sarsa"
//! alpha = 0.5
//! epsilon = 0.1
//! gamma = 1.0
//!
//! [train]                    # the budget, the seeds, the evaluations
//! episodes = 500
//! seeds = "0..50"
//! eval_every = 100
//! eval_episodes = 10
//!
//! [output]                   # where the run directory goes
//! dir = "runs"
//! ```
//!
//! Sections, and the keys each takes:
//!
//! - `[env]`: `id` (required), then the env's own parameters, passed to [`qlab_envs::make`];
//!   an unknown parameter is reported with the list the env takes.
//! - `[features]` (optional): how a box observation becomes the active features the agents
//!   see; see [`Features`]. Discrete-state envs need none: their state index is the feature.
//! - `[agent]`: `algorithm` and its hyperparameters.
//! - `[train]`: see [`TrainConfig`].
//! - `[output]`: see [`OutputConfig`].
//!
//! Unknown sections and keys, wrong types and out-of-range values are errors of one line that
//! name the file, the line and the key, and say what is allowed. `--set SECTION.KEY=VALUE`
//! overrides are checked the same way and named by the flag. Nothing runs until the whole
//! config is valid.

mod agent;
mod reader;
pub mod source;

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use qlab_agents::dqn::DqnConfig;
use qlab_agents::tabular::AgentConfig;
use qlab_envs::{ParamValue, Params};

use reader::{Read, Reader, show};
pub use source::{ConfigError, Document, Origin};

/// The sections a config may have, in the order they are written.
pub const SECTIONS: [&str; 5] = ["env", "features", "agent", "train", "output"];

/// Per-dimension ranges of a box observation: `None` keeps the observation space's own.
pub type Bounds = Vec<Option<(f32, f32)>>;

/// A whole experiment, validated.
#[derive(Clone, Debug)]
pub struct Config {
    /// The document it was read from (for errors found later, e.g. when the env is built).
    pub doc: Document,
    /// `[env]`.
    pub env: EnvConfig,
    /// `[features]`.
    pub features: Features,
    /// `[agent]`.
    pub agent: AgentSpec,
    /// `[train]`.
    pub train: TrainConfig,
    /// `[output]`.
    pub output: OutputConfig,
}

/// `[agent]`: a tabular or linear agent ([`AgentConfig`]), or a deep Q-network
/// (`algorithm = "dqn"`, [`DqnConfig`]).
#[derive(Clone, Debug, PartialEq)]
pub enum AgentSpec {
    /// A tabular or linear agent over active features.
    Tabular(AgentConfig),
    /// A deep Q-network over the env's own observation vector.
    Dqn(DqnConfig),
}

/// The `algorithm` tag of the deep agents, for serde's tagged form of `[agent]`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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

    fn to_table(&self) -> toml::Table {
        let value = match self {
            AgentSpec::Tabular(a) => toml::Value::try_from(a),
            AgentSpec::Dqn(d) => toml::Value::try_from(DeepAgent::Dqn(d.clone())),
        };
        match value {
            Ok(toml::Value::Table(t)) => t,
            _ => unreachable!("an agent config serializes to a table"),
        }
    }
}

/// `[env]`: which env, with which parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvConfig {
    /// The registered id (`qlab envs` lists them). Required.
    pub id: String,
    /// Every other key of the section, as env parameters.
    pub params: Params,
}

/// `[features]`: how a box observation becomes the active features the agents see.
///
/// | `kind` | keys | features |
/// |---|---|---|
/// | (section absent) | | the env's state index (discrete-state envs only) |
/// | `"tile_coding"` | `tilings`, `tiles`, `bounds`, `memory_size` | one hashed tile per tiling ([`qlab_envs::wrappers::TileCoding`]) |
/// | `"discretize"` | `bins`, `bounds` | one bin index ([`qlab_envs::wrappers::Discretize`]) |
///
/// `bounds` lists one `[low, high]` per observation dimension (or `[]` to keep the space's
/// own); dimensions whose space is unbounded (CartPole's velocities) need one.
#[derive(Clone, Debug, PartialEq)]
pub enum Features {
    /// The env's own state index.
    State,
    /// Tile coding.
    TileCoding(TileCodingConfig),
    /// Uniform bins.
    Discretize(DiscretizeConfig),
}

/// `[features] kind = "tile_coding"`.
///
/// | key | default | valid |
/// |---|---|---|
/// | `tilings` | 8 | 1 to 64 |
/// | `tiles` | required | one integer ≥ 1 per dimension: tile widths across `bounds` |
/// | `bounds` | the space's | one `[low, high]` or `[]` per dimension |
/// | `memory_size` | 4096 | ≥ 1: the number of features (hash table size) |
#[derive(Clone, Debug, PartialEq)]
pub struct TileCodingConfig {
    /// The number of tilings.
    pub tilings: usize,
    /// Tiles across each dimension's range.
    pub tiles: Vec<usize>,
    /// Per-dimension range; `None` keeps the observation space's.
    pub bounds: Bounds,
    /// The number of features.
    pub memory_size: usize,
}

/// `[features] kind = "discretize"`.
///
/// | key | default | valid |
/// |---|---|---|
/// | `bins` | required | one integer ≥ 1 per dimension |
/// | `bounds` | the space's | one `[low, high]` or `[]` per dimension |
#[derive(Clone, Debug, PartialEq)]
pub struct DiscretizeConfig {
    /// Bins per dimension.
    pub bins: Vec<usize>,
    /// Per-dimension range; `None` keeps the observation space's.
    pub bounds: Bounds,
}

/// How long each seed trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// This many episodes.
    Episodes(u64),
    /// This many env steps; an episode the budget cuts short is not recorded.
    Steps(u64),
}

/// `[train]`.
///
/// | key | default | valid |
/// |---|---|---|
/// | `episodes` or `steps` | one is required | ≥ 1 |
/// | `seeds` | `[0]` | a list of integers, or text as for `--seeds`: `"0..10"` (0 to 9), `"0,3,7"` |
/// | `eval_every` | 0 | ≥ 0, in the budget's unit (episodes or steps); 0 evaluates only at the end |
/// | `eval_episodes` | 100 | ≥ 1: episodes in each greedy evaluation |
/// | `max_steps_per_episode` | none | ≥ 1: a time limit under the env's own |
/// | `eval_max_steps` | 10000 | ≥ 1: the longest evaluation episode (greedy policies can loop forever) |
/// | `checkpoint_every` | 0 | ≥ 0 env steps: deep-Q-network runs write a checkpoint at the first episode end after every this many steps, for `qlab train --resume`; 0 never |
///
/// Every evaluation of a seed plays the same episode seeds, so evaluations compare policies on
/// the same luck and `qlab eval` reproduces the final one exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// The budget per seed.
    pub budget: Budget,
    /// The seeds, each an independent run.
    pub seeds: Vec<u64>,
    /// Evaluate every this many episodes or steps (the budget's unit); 0: only at the end.
    pub eval_every: u64,
    /// Episodes per evaluation.
    pub eval_episodes: u64,
    /// A time limit on training and evaluation episodes, under the env's own.
    pub max_steps_per_episode: Option<u64>,
    /// The longest evaluation episode.
    pub eval_max_steps: u64,
    /// Env steps between checkpoints (deep-Q-network runs); 0: none.
    pub checkpoint_every: u64,
}

/// `[output]`.
///
/// | key | default | valid |
/// |---|---|---|
/// | `dir` | `"runs"` | where default-named run directories go (`--out` names one outright) |
/// | `window` | 100 | ≥ 1: episodes in the moving windows of `summary.json` and the progress display |
#[derive(Clone, Debug, PartialEq)]
pub struct OutputConfig {
    /// The parent of default-named run directories.
    pub dir: PathBuf,
    /// Episodes in the summary's and the progress display's moving windows.
    pub window: u64,
}

impl Config {
    /// Reads `path`, applies `--set` overrides and validates every section. (Whether the env
    /// can be built with its parameters and features is checked by
    /// [`Experiment::new`](crate::runner::Experiment::new).)
    pub fn load(path: &str, sets: &[String]) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| path.to_string())?;
        Self::parse(path, &text, sets)
    }

    /// Like [`Config::load`] from text; `file` names it in errors.
    pub fn parse(file: &str, text: &str, sets: &[String]) -> Result<Config> {
        let mut doc = Document::parse(file, text)?;
        for flag in sets {
            doc.set(flag)?;
        }
        Ok(Self::from_document(doc)?)
    }

    fn from_document(doc: Document) -> Read<Config> {
        for s in &doc.sections {
            if !SECTIONS.contains(&s.name.as_str()) {
                return Err(doc.error_at(
                    &s.origin,
                    &s.name,
                    format!(
                        "unknown section; allowed: {}",
                        SECTIONS
                            .iter()
                            .map(|s| format!("[{s}]"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(Config {
            env: env(&doc)?,
            features: features(&doc)?,
            agent: agent_config(&doc)?,
            train: train(&doc)?,
            output: output(&doc)?,
            doc,
        })
    }

    /// An error about `key` of `section`, pointing at where it was written.
    pub fn error(
        &self,
        section: &str,
        key: Option<&str>,
        message: impl std::fmt::Display,
    ) -> ConfigError {
        self.doc.error(section, key, message)
    }

    /// Replaces the budget (as `qlab bench --config … --steps N` does).
    pub fn set_budget(&mut self, budget: Budget) {
        self.train.budget = budget;
    }

    /// Applies `--seeds` (replacing `[train] seeds`).
    pub fn set_seeds(&mut self, seeds: Vec<u64>) {
        self.train.seeds = seeds;
    }

    /// The resolved config as TOML: every section with its defaults filled in (the env's
    /// parameters as given) and the seeds as a list. Reading it back gives the same experiment.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let mut section = |name: &str, entries: Vec<(&str, toml::Value)>| {
            let _ = writeln!(out, "[{name}]");
            for (k, v) in entries {
                let _ = writeln!(out, "{} = {v}", key(k));
            }
            out.push('\n');
        };
        let mut env = vec![("id", toml::Value::String(self.env.id.clone()))];
        env.extend(self.env.params.iter().map(|(k, v)| (k, toml_of(v))));
        section("env", env);
        let bounds = |b: &[Option<(f32, f32)>]| {
            toml::Value::Array(
                b.iter()
                    .map(|r| {
                        toml::Value::Array(match r {
                            Some((lo, hi)) => vec![float(*lo), float(*hi)],
                            None => vec![],
                        })
                    })
                    .collect(),
            )
        };
        match &self.features {
            Features::State => {}
            Features::TileCoding(t) => section(
                "features",
                vec![
                    ("kind", "tile_coding".into()),
                    ("tilings", int(t.tilings as u64)),
                    ("tiles", ints(&t.tiles)),
                    ("bounds", bounds(&t.bounds)),
                    ("memory_size", int(t.memory_size as u64)),
                ],
            ),
            Features::Discretize(d) => section(
                "features",
                vec![
                    ("kind", "discretize".into()),
                    ("bins", ints(&d.bins)),
                    ("bounds", bounds(&d.bounds)),
                ],
            ),
        }
        let agent = self.agent.to_table();
        // `algorithm` first, as people write it.
        let mut entries = vec![("algorithm", self.agent.algorithm().into())];
        entries.extend(
            agent
                .iter()
                .filter(|(k, _)| *k != "algorithm")
                .map(|(k, v)| (k.as_str(), v.clone())),
        );
        section("agent", entries);
        let t = &self.train;
        let mut train = vec![match t.budget {
            Budget::Episodes(n) => ("episodes", int(n)),
            Budget::Steps(n) => ("steps", int(n)),
        }];
        train.push((
            "seeds",
            toml::Value::Array(t.seeds.iter().map(|&s| int(s)).collect()),
        ));
        train.push(("eval_every", int(t.eval_every)));
        train.push(("eval_episodes", int(t.eval_episodes)));
        if let Some(n) = t.max_steps_per_episode {
            train.push(("max_steps_per_episode", int(n)));
        }
        train.push(("eval_max_steps", int(t.eval_max_steps)));
        if t.checkpoint_every > 0 {
            train.push(("checkpoint_every", int(t.checkpoint_every)));
        }
        section("train", train);
        section(
            "output",
            vec![
                (
                    "dir",
                    toml::Value::String(self.output.dir.display().to_string()),
                ),
                ("window", int(self.output.window)),
            ],
        );
        out.pop();
        out
    }
}

fn int(n: u64) -> toml::Value {
    toml::Value::Integer(n as i64)
}

fn ints(v: &[usize]) -> toml::Value {
    toml::Value::Array(v.iter().map(|&n| int(n as u64)).collect())
}

fn float(x: f32) -> toml::Value {
    // Through the shortest decimal of the f32, so that 2.4 is written 2.4, not 2.4000000953674316.
    toml::Value::Float(x.to_string().parse().expect("a float's text"))
}

/// A key as TOML writes it: bare where it can be, quoted otherwise.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
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

fn env(doc: &Document) -> Read<EnvConfig> {
    let r = Reader::new(doc, "env");
    if !r.present() {
        return Err(r.error(
            None,
            "missing section: add [env] with `id`, e.g. id = \"CliffWalking-v1\"",
        ));
    }
    let id = r.string("id")?.ok_or_else(|| {
        r.error(
            None,
            "missing key `id`: the env id (`qlab envs` lists them)",
        )
    })?;
    let mut params = Params::new();
    for e in r.entries().iter().filter(|e| e.key != "id") {
        let value = crate::params::param_value(&e.key, &e.value)
            .map_err(|err| r.error(Some(&e.key), err))?;
        params.set(e.key.clone(), value);
    }
    Ok(EnvConfig {
        id: id.to_string(),
        params,
    })
}

fn agent_config(doc: &Document) -> Read<AgentSpec> {
    let deep = doc.section("agent").is_some_and(|s| {
        s.table()
            .get("algorithm")
            .and_then(toml::Value::as_str)
            .is_some_and(|a| a == "dqn")
    });
    if deep {
        // One key chooses the device for the whole agent; the network's table has none.
        let network = doc.section("agent").and_then(|s| s.get("network"));
        if network.is_some_and(|e| e.value.get("device").is_some()) {
            return Err(doc.error(
                "agent",
                Some("network"),
                "`network.device` is not a key: the device is the whole agent's, set it with \
                 `device` in [agent] (e.g. device = \"cuda\")",
            ));
        }
        let DeepAgent::Dqn(config) = agent::deserialize(doc)?;
        config.validate().map_err(|e| agent_error(doc, &e))?;
        return Ok(AgentSpec::Dqn(config));
    }
    let config: AgentConfig = agent::deserialize(doc).map_err(|mut e| {
        // The deep agents are read apart from the tabular enum; list them too.
        if e.0.contains("unknown algorithm `") || e.0.contains("missing key `algorithm`") {
            e.0.push_str(", dqn");
        }
        e
    })?;
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

fn features(doc: &Document) -> Read<Features> {
    let r = Reader::new(doc, "features");
    if !r.present() {
        return Ok(Features::State);
    }
    let kind = r
        .choice("kind", &["tile_coding", "discretize"])?
        .ok_or_else(|| {
            r.error(
                None,
                "missing key `kind`: \"tile_coding\" or \"discretize\"",
            )
        })?;
    let bounds = |dims: usize| -> Read<Bounds> {
        match r.bounds("bounds")? {
            None => Ok(vec![None; dims]),
            Some(b) if b.len() == dims => Ok(b),
            Some(b) => Err(r.error(
                Some("bounds"),
                format!(
                    "`bounds` has {} ranges but there are {dims} dimensions (from `{}`)",
                    b.len(),
                    if kind == "discretize" {
                        "bins"
                    } else {
                        "tiles"
                    }
                ),
            )),
        }
    };
    if kind == "discretize" {
        r.check_keys(&["kind", "bins", "bounds"])?;
        let bins = r
            .uint_list("bins", 1)?
            .ok_or_else(|| r.error(None, "missing key `bins`: bins per observation dimension"))?;
        let bounds = bounds(bins.len())?;
        return Ok(Features::Discretize(DiscretizeConfig { bins, bounds }));
    }
    r.check_keys(&["kind", "tilings", "tiles", "bounds", "memory_size"])?;
    let tilings = r.uint("tilings", 1)?.unwrap_or(8);
    let max = qlab_envs::wrappers::MAX_TILINGS as u64;
    if tilings > max {
        return Err(r.error(
            Some("tilings"),
            format!("`tilings` must be an integer from 1 to {max}, got {tilings}"),
        ));
    }
    let tiles = r.uint_list("tiles", 1)?.ok_or_else(|| {
        r.error(
            None,
            "missing key `tiles`: tile widths across each observation dimension",
        )
    })?;
    let bounds = bounds(tiles.len())?;
    let memory_size = r.uint("memory_size", 1)?.unwrap_or(4096) as usize;
    Ok(Features::TileCoding(TileCodingConfig {
        tilings: tilings as usize,
        tiles,
        bounds,
        memory_size,
    }))
}

fn train(doc: &Document) -> Read<TrainConfig> {
    let r = Reader::new(doc, "train");
    if !r.present() {
        return Err(r.error(
            None,
            "missing section: add [train] with `episodes` or `steps`",
        ));
    }
    r.check_keys(&[
        "episodes",
        "steps",
        "seeds",
        "eval_every",
        "eval_episodes",
        "max_steps_per_episode",
        "eval_max_steps",
        "checkpoint_every",
    ])?;
    let budget = match (r.uint("episodes", 1)?, r.uint("steps", 1)?) {
        (Some(n), None) => Budget::Episodes(n),
        (None, Some(n)) => Budget::Steps(n),
        (None, None) => {
            return Err(r.error(
                None,
                "missing key: give the budget as `episodes` or `steps`",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(r.error(Some("steps"), "give `episodes` or `steps`, not both"));
        }
    };
    let seeds = match r.value("seeds") {
        None => vec![0],
        Some(toml::Value::String(s)) => {
            parse_seeds(s).map_err(|e| r.error(Some("seeds"), format!("`seeds`: {e}")))?
        }
        Some(toml::Value::Array(items)) => {
            let seeds: Option<Vec<u64>> = items
                .iter()
                .map(|v| match v {
                    toml::Value::Integer(i) if *i >= 0 => Some(*i as u64),
                    _ => None,
                })
                .collect();
            let seeds = seeds.filter(|s| !s.is_empty()).ok_or_else(|| {
                r.error(
                    Some("seeds"),
                    format!(
                        "`seeds` must be a non-empty list of integers ≥ 0 or text like \"0..10\", got {}",
                        show(&toml::Value::Array(items.clone()))
                    ),
                )
            })?;
            check_unique(&seeds).map_err(|e| r.error(Some("seeds"), format!("`seeds`: {e}")))?;
            seeds
        }
        Some(v) => {
            return Err(r.error(
                Some("seeds"),
                format!(
                    "`seeds` must be a list of integers ≥ 0 or text like \"0..10\", got {}",
                    show(v)
                ),
            ));
        }
    };
    Ok(TrainConfig {
        budget,
        seeds,
        eval_every: r.uint("eval_every", 0)?.unwrap_or(0),
        eval_episodes: r.uint("eval_episodes", 1)?.unwrap_or(100),
        max_steps_per_episode: r.uint("max_steps_per_episode", 1)?,
        eval_max_steps: r.uint("eval_max_steps", 1)?.unwrap_or(10_000),
        checkpoint_every: r.uint("checkpoint_every", 0)?.unwrap_or(0),
    })
}

fn output(doc: &Document) -> Read<OutputConfig> {
    let r = Reader::new(doc, "output");
    r.check_keys(&["dir", "window"])?;
    let dir = r.string("dir")?.unwrap_or("runs");
    if dir.is_empty() {
        return Err(r.error(Some("dir"), "`dir` must not be empty"));
    }
    Ok(OutputConfig {
        dir: PathBuf::from(dir),
        window: r.uint("window", 1)?.unwrap_or(100),
    })
}

/// Parses seeds as `--seeds` takes them: `A..B` (A to B − 1), `A,B,C`, or one `A`.
///
/// ```
/// use qlab::config::parse_seeds;
/// assert_eq!(parse_seeds("0..3").unwrap(), [0, 1, 2]);
/// assert_eq!(parse_seeds("0,3,7").unwrap(), [0, 3, 7]);
/// assert_eq!(parse_seeds("5").unwrap(), [5]);
/// assert!(parse_seeds("3..3").is_err());
/// ```
pub fn parse_seeds(text: &str) -> std::result::Result<Vec<u64>, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{}` is not a seed (an integer ≥ 0)", s.trim()))
    };
    let seeds = if let Some((a, b)) = text.split_once("..") {
        let (a, b) = (number(a)?, number(b)?);
        if a >= b {
            return Err(format!(
                "the range {a}..{b} is empty; `A..B` means seeds A to B − 1"
            ));
        }
        (a..b).collect()
    } else {
        text.split(',')
            .map(number)
            .collect::<std::result::Result<Vec<_>, _>>()?
    };
    check_unique(&seeds)?;
    Ok(seeds)
}

fn check_unique(seeds: &[u64]) -> std::result::Result<(), String> {
    for (i, s) in seeds.iter().enumerate() {
        if seeds[..i].contains(s) {
            return Err(format!("seed {s} is listed twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIFF: &str = "\
[env]
id = \"CliffWalking-v1\"

[agent]
algorithm = \"q_learning\"
alpha = 0.5

[train]
episodes = 500
seeds = \"0..3\"
eval_every = 100
";

    fn parse(text: &str, sets: &[&str]) -> Result<Config> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Config::parse("c.toml", text, &sets)
    }

    fn err(text: &str, sets: &[&str]) -> String {
        parse(text, sets).unwrap_err().to_string()
    }

    #[test]
    fn reads_sections_with_defaults() {
        let c = parse(CLIFF, &[]).unwrap();
        assert_eq!(c.env.id, "CliffWalking-v1");
        assert!(c.env.params.is_empty());
        assert_eq!(c.features, Features::State);
        assert_eq!(
            c.train,
            TrainConfig {
                budget: Budget::Episodes(500),
                seeds: vec![0, 1, 2],
                eval_every: 100,
                eval_episodes: 100,
                max_steps_per_episode: None,
                eval_max_steps: 10_000,
                checkpoint_every: 0,
            }
        );
        assert_eq!(c.output.dir, PathBuf::from("runs"));
        assert_eq!(c.output.window, 100);
    }

    #[test]
    fn overrides_apply_before_validation() {
        let c = parse(CLIFF, &["train.episodes=3", "env.is_slippery=true"]).unwrap();
        assert_eq!(c.train.budget, Budget::Episodes(3));
        assert_eq!(c.env.params.bool("is_slippery").unwrap(), Some(true));
        let c = parse(CLIFF, &["train.seeds=[4, 2]"]).unwrap();
        assert_eq!(c.train.seeds, [4, 2]);
    }

    #[test]
    fn errors_name_file_line_key_and_what_is_allowed() {
        assert_eq!(
            err(CLIFF, &["train.episode=3"]),
            "--set train.episode=3: [train] unknown key `episode`; allowed: episodes, steps, \
             seeds, eval_every, eval_episodes, max_steps_per_episode, eval_max_steps, checkpoint_every"
        );
        assert_eq!(
            err(&CLIFF.replace("episodes = 500", "episodes = -5"), &[]),
            "c.toml:9: [train] `episodes` must be an integer ≥ 1, got -5"
        );
        assert_eq!(
            err(&CLIFF.replace("episodes = 500", "episodes = \"many\""), &[]),
            "c.toml:9: [train] `episodes` must be an integer ≥ 1, got \"many\""
        );
        assert_eq!(
            err(CLIFF, &["train.steps=10"]),
            "--set train.steps=10: [train] give `episodes` or `steps`, not both"
        );
        assert_eq!(
            err(&CLIFF.replace("\"0..3\"", "\"3..0\""), &[]),
            "c.toml:10: [train] `seeds`: the range 3..0 is empty; `A..B` means seeds A to B − 1"
        );
        assert_eq!(
            err(&format!("{CLIFF}[outptu]\ndir = 'x'\n"), &[]),
            "c.toml:12: [outptu] unknown section; allowed: [env], [features], [agent], \
             [train], [output]"
        );
        assert_eq!(
            err("[agent]\nalgorithm = 'sarsa'\n[train]\nsteps = 1\n", &[]),
            "c.toml: [env] missing section: add [env] with `id`, e.g. id = \"CliffWalking-v1\""
        );
        assert_eq!(
            err(&CLIFF.replace("id = ", "map = { a = 1 }\nid = "), &[]),
            "c.toml:2: [env] parameter `map`: a table is not allowed; use a boolean, number, \
             string or list"
        );
    }

    #[test]
    fn features_are_checked() {
        let base = "[env]\nid = 'CartPole-v1'\n[agent]\nalgorithm = 'q_learning'\n[train]\nsteps = 1\n[features]\n";
        let c = parse(
            &format!("{base}kind = 'tile_coding'\ntiles = [4, 4, 4, 4]\nbounds = [[-2.4, 2.4], [-3, 3], [], [-3.5, 3.5]]\n"),
            &[],
        )
        .unwrap();
        assert_eq!(
            c.features,
            Features::TileCoding(TileCodingConfig {
                tilings: 8,
                tiles: vec![4; 4],
                bounds: vec![
                    Some((-2.4, 2.4)),
                    Some((-3.0, 3.0)),
                    None,
                    Some((-3.5, 3.5))
                ],
                memory_size: 4096,
            })
        );
        assert_eq!(
            err(&format!("{base}kind = 'tiles'\n"), &[]),
            "c.toml:8: [features] `kind` must be one of `tile_coding`, `discretize`, got \"tiles\""
        );
        assert_eq!(
            err(&format!("{base}kind = 'discretize'\nbins = [3, 0]\n"), &[]),
            "c.toml:9: [features] `bins` must be a non-empty list of integers ≥ 1, got [3, 0]"
        );
        assert_eq!(
            err(
                &format!("{base}kind = 'discretize'\nbins = [3, 3]\nbounds = [[1, 0], []]\n"),
                &[]
            ),
            "c.toml:10: [features] `bounds[0]` must be two finite numbers `[low, high]` with \
             low < high, got [1, 0]"
        );
        assert_eq!(
            err(
                &format!("{base}kind = 'discretize'\nbins = [3, 3]\nbounds = [[]]\n"),
                &[]
            ),
            "c.toml:10: [features] `bounds` has 1 ranges but there are 2 dimensions (from `bins`)"
        );
        assert_eq!(
            err(
                &format!("{base}kind = 'tile_coding'\ntiles = [2]\ntilings = 65\n"),
                &[]
            ),
            "c.toml:10: [features] `tilings` must be an integer from 1 to 64, got 65"
        );
        assert_eq!(
            err(
                &format!("{base}kind = 'discretize'\nbins = [3]\ntilings = 8\n"),
                &[]
            ),
            "c.toml:10: [features] unknown key `tilings`; allowed: kind, bins, bounds"
        );
    }

    #[test]
    fn resolved_config_reads_back_the_same() {
        let text = "[env]\nid = 'CartPole-v1'\nmax_episode_steps = 200\n[agent]\nalgorithm = 'q_learning'\nalpha = 0.25\n\
                    [train]\nsteps = 10\nseeds = '1..3'\n[features]\nkind = 'tile_coding'\n\
                    tiles = [4, 4, 4, 4]\nbounds = [[-2.4, 2.4], [-3, 3], [], [-3.5, 3.5]]\n";
        let c = parse(text, &[]).unwrap();
        let resolved = c.to_toml();
        assert!(
            resolved.contains("bounds = [[-2.4, 2.4], [-3.0, 3.0], [], [-3.5, 3.5]]"),
            "{resolved}"
        );
        let again = parse(&resolved, &[]).unwrap();
        assert_eq!(again.env, c.env);
        assert_eq!(again.features, c.features);
        assert_eq!(again.agent, c.agent);
        assert_eq!(again.train, c.train);
        assert_eq!(again.output, c.output);
        assert_eq!(again.to_toml(), resolved);
    }

    #[test]
    fn seeds_parse_as_ranges_and_lists() {
        assert_eq!(parse_seeds("0..10").unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(parse_seeds(" 2 , 9").unwrap(), [2, 9]);
        assert_eq!(parse_seeds("1,1").unwrap_err(), "seed 1 is listed twice");
        assert_eq!(
            parse_seeds("a..3").unwrap_err(),
            "`a` is not a seed (an integer ≥ 0)"
        );
    }
}

#[cfg(test)]
mod deep_tests {
    use super::*;

    #[test]
    fn reads_a_dqn_agent() {
        let text = std::fs::read_to_string("configs/cartpole_dqn.toml").unwrap();
        let c = Config::parse("c.toml", &text, &[]).unwrap();
        let AgentSpec::Dqn(d) = &c.agent else {
            panic!("{:?}", c.agent)
        };
        assert_eq!(
            (d.batch_size, d.train_freq, d.gradient_steps),
            (64, 256, 128)
        );
        let again = Config::parse("again.toml", &c.to_toml(), &[]).unwrap();
        assert_eq!(again.agent, c.agent);
        let err = Config::parse("c.toml", &text.replace("\"dqn\"", "\"dqm\""), &[])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:11: [agent] unknown algorithm `dqm`; allowed: mc_control"));
        assert!(err.ends_with("true_online_td_lambda, dqn"), "{err}");
    }
}
