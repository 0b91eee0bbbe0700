//! TensorBoard event files (`[output] tensorboard = true`): each seed's records, as the
//! `tensorboard` package reads them, in `seed_<k>/tb/events.out.tfevents.<time>.<host>.qlab`.
//!
//! | tag | step | value |
//! |---|---|---|
//! | `episode/return`, `episode/length` | env steps when the episode ended | as in `metrics.csv` |
//! | `eval/mean_return` | env steps at the evaluation | as in `eval.csv` |
//! | `train/loss`, `train/mean_q`, `train/epsilon` | the training's env step | as in `train.csv`, for agents that train in batches |
//! | `train/epsilon` | env steps when the episode ended | ε per episode, for the other agents |
//!
//! Scalars are `simple_value`s (32-bit floats, as `torch.utils.tensorboard`'s `add_scalar`
//! writes them). The config's keys (`section.key`, with the seed in place of the list of
//! seeds) are the run's hyperparameters, written as `add_hparams` writes them: the `hparams`
//! plugin's experiment, session-start and session-end summaries, with `eval/mean_return` and
//! `episode/return` as the metrics.
//!
//! The file is a TFRecord stream: each record is its length (u64, little-endian), the masked
//! CRC-32C of those 8 bytes, the serialized `Event`, and its masked CRC-32C. The messages
//! are declared here with `prost`'s derive, field numbers as in TensorFlow's `event.proto`
//! and `summary.proto` and TensorBoard's `plugins/hparams/*.proto`.
//!
//! A resumed run starts a new file beside the first (TensorBoard reads every event file of
//! the directory, in name order) that opens with a `SessionLog` `START` event at the step
//! after the checkpoint: readers drop the first file's events past the checkpoint, which the
//! resumed run writes again.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use prost::Message;
use qlab_agents::actor_critic::UpdateStats;
use qlab_agents::{Evaluation, TrainStats};

use crate::config::Config;

/// The subdirectory of a seed's directory that holds its event files.
pub const TB_DIR: &str = "tb";

/// A hyperparameter's value: TensorBoard's `google.protobuf.Value` kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum Hparam {
    /// A number (integers too, as `add_hparams` writes them).
    Number(f64),
    /// Text (lists and other values are written as their TOML text).
    Text(String),
    /// A boolean.
    Bool(bool),
}

/// A config's hyperparameters: every key of the resolved config as `section.key` (nested
/// tables joined with dots), but the list of seeds, which each seed's file replaces with its
/// own `seed`.
#[derive(Clone, Debug, PartialEq)]
pub struct Hparams(pub BTreeMap<String, Hparam>);

impl Hparams {
    /// The hyperparameters of `config` when its run writes TensorBoard events (`[output]
    /// tensorboard = true`).
    pub fn wanted(config: &Config) -> Option<Hparams> {
        config.output.tensorboard.then(|| Hparams::of(config))
    }

    /// The hyperparameters of `config`.
    pub fn of(config: &Config) -> Hparams {
        let table: toml::Table = toml::from_str(&config.to_toml()).unwrap_or_default();
        let mut out = BTreeMap::new();
        flatten("", &toml::Value::Table(table), &mut out);
        out.remove("train.seeds");
        Hparams(out)
    }
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, Hparam>) {
    let value = match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
            return;
        }
        toml::Value::Integer(i) => Hparam::Number(*i as f64),
        toml::Value::Float(x) => Hparam::Number(*x),
        toml::Value::Boolean(b) => Hparam::Bool(*b),
        toml::Value::String(s) => Hparam::Text(s.clone()),
        other => Hparam::Text(other.to_string()),
    };
    out.insert(prefix.to_string(), value);
}

/// One seed's event file, written as the run goes.
pub struct Board {
    file: BufWriter<File>,
    path: PathBuf,
    /// Whether ε goes out with each episode (agents without batch trainings).
    epsilon_per_episode: bool,
    /// The record under construction.
    buf: Vec<u8>,
}

/// The tags of the metrics the hparams dashboard shows beside the hyperparameters.
const METRICS: [&str; 2] = ["eval/mean_return", "episode/return"];

impl Board {
    /// Starts a new event file in `seed_dir/tb/` for seed `seed` of a run with `hparams`:
    /// the file version, then, for a run resumed from a checkpoint at step `resumed_at`, a
    /// `SessionLog` `START` at the step after it, then the hyperparameters.
    /// `epsilon_per_episode` writes `train/epsilon` at each episode's end.
    ///
    /// # Errors
    /// A directory or file that cannot be written.
    pub fn create(
        seed_dir: &Path,
        seed: u64,
        hparams: &Hparams,
        resumed_at: Option<u64>,
        epsilon_per_episode: bool,
    ) -> Result<Board> {
        let dir = seed_dir.join(TB_DIR);
        fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        let (file, path) = new_event_file(&dir)?;
        let mut board = Board {
            file: BufWriter::new(file),
            path,
            epsilon_per_episode,
            buf: Vec::new(),
        };
        board.write(0, What::FileVersion("brain.Event:2".into()))?;
        if let Some(step) = resumed_at {
            board.write(
                step.saturating_add(1),
                What::SessionLog(SessionLog {
                    status: SESSION_START,
                }),
            )?;
        }
        let mut hparams = hparams.0.clone();
        hparams.insert("seed".into(), Hparam::Number(seed as f64));
        for (tag, data) in hparams_summaries(&hparams) {
            let value = Value {
                tag: tag.into(),
                metadata: Some(SummaryMetadata {
                    plugin_data: Some(PluginData {
                        plugin_name: "hparams".into(),
                        content: data.encode_to_vec(),
                    }),
                }),
                simple_value: None,
            };
            board.write(0, What::Summary(Summary { value: vec![value] }))?;
        }
        board.flush()?;
        Ok(board)
    }

    /// An episode's return and length (and ε, for agents without batch trainings), at the env
    /// step `step` where it ended.
    pub fn episode(&mut self, step: u64, ret: f64, length: u64, epsilon: f64) -> Result<()> {
        self.scalar(step, "episode/return", ret)?;
        self.scalar(step, "episode/length", length as f64)?;
        if self.epsilon_per_episode {
            self.scalar(step, "train/epsilon", epsilon)?;
        }
        Ok(())
    }

    /// An evaluation's mean return, at env step `step`.
    pub fn evaluation(&mut self, step: u64, e: &Evaluation) -> Result<()> {
        self.scalar(step, "eval/mean_return", e.mean)
    }

    /// A training's loss, mean Q and ε.
    pub fn train(&mut self, s: &TrainStats, epsilon: f64) -> Result<()> {
        self.scalar(s.step, "train/loss", s.loss)?;
        self.scalar(s.step, "train/mean_q", s.mean_q)?;
        self.scalar(s.step, "train/epsilon", epsilon)
    }

    /// An on-policy update's measures, under Stable-Baselines3's tags (`train/value_loss`, …).
    pub fn update(&mut self, s: &UpdateStats) -> Result<()> {
        let measured = [
            ("train/loss", Some(s.loss)),
            ("train/policy_gradient_loss", Some(s.policy_gradient_loss)),
            ("train/value_loss", Some(s.value_loss)),
            ("train/entropy_loss", Some(s.entropy_loss)),
            ("train/approx_kl", s.approx_kl),
            ("train/clip_fraction", s.clip_fraction),
            ("train/explained_variance", Some(s.explained_variance)),
            ("train/learning_rate", Some(s.learning_rate)),
            ("train/std", s.std),
        ];
        for (tag, x) in measured {
            if let Some(x) = x {
                self.scalar(s.step, tag, x)?;
            }
        }
        Ok(())
    }

    /// Writes the events kept so far to the file.
    pub fn flush(&mut self) -> Result<()> {
        self.file
            .flush()
            .with_context(|| format!("{}", self.path.display()))
    }

    fn scalar(&mut self, step: u64, tag: &str, x: f64) -> Result<()> {
        let value = Value {
            tag: tag.into(),
            metadata: None,
            simple_value: Some(x as f32),
        };
        self.write(step, What::Summary(Summary { value: vec![value] }))
    }

    fn write(&mut self, step: u64, what: What) -> Result<()> {
        let event = Event {
            wall_time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            step: i64::try_from(step).unwrap_or(i64::MAX),
            what: Some(what),
        };
        self.buf.clear();
        event
            .encode(&mut self.buf)
            .expect("a Vec grows to hold any message");
        let len = (self.buf.len() as u64).to_le_bytes();
        let mut record = |bytes: &[u8]| self.file.write_all(bytes);
        record(&len)
            .and_then(|()| record(&masked_crc(&len).to_le_bytes()))
            .and_then(|()| record(&self.buf))
            .and_then(|()| record(&masked_crc(&self.buf).to_le_bytes()))
            .with_context(|| format!("{}", self.path.display()))
    }
}

/// `events.out.tfevents.<seconds>.<host>.qlab`, created new: the first second from now whose
/// name is free, so that later files sort after earlier ones.
fn new_event_file(dir: &Path) -> Result<(File, PathBuf)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let host = hostname();
    for secs in now.. {
        let path = dir.join(format!("events.out.tfevents.{secs}.{host}.qlab"));
        match File::create_new(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
        }
    }
    unreachable!("some second is free")
}

/// The machine's name, as TensorBoard's writers put it in file names (letters, digits, `-`,
/// `_` and `.` kept; `localhost` when it cannot be read).
fn hostname() -> String {
    let name = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into());
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// TFRecord's masked CRC-32C (`tensorflow/core/lib/hash/crc32c.h`, `Mask`).
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// The three summaries of `torch.utils.tensorboard.summary.hparams`: the experiment (the
/// hyperparameters' names and types, the metrics), the session's start (the values) and its
/// end (success), under their plugin tags.
fn hparams_summaries(hparams: &BTreeMap<String, Hparam>) -> [(&'static str, HParamsPluginData); 3] {
    let infos = hparams
        .iter()
        .map(|(name, v)| HParamInfo {
            name: name.clone(),
            r#type: match v {
                Hparam::Text(_) => DATA_TYPE_STRING,
                Hparam::Bool(_) => DATA_TYPE_BOOL,
                Hparam::Number(_) => DATA_TYPE_FLOAT64,
            },
        })
        .collect();
    let metrics = METRICS
        .iter()
        .map(|tag| MetricInfo {
            name: Some(MetricName {
                group: String::new(),
                tag: (*tag).into(),
            }),
        })
        .collect();
    let values = hparams
        .iter()
        .map(|(name, v)| {
            let kind = match v {
                Hparam::Number(x) => Kind::Number(*x),
                Hparam::Text(s) => Kind::Text(s.clone()),
                Hparam::Bool(b) => Kind::Bool(*b),
            };
            (name.clone(), ProtoValue { kind: Some(kind) })
        })
        .collect();
    let data = |d| HParamsPluginData {
        version: 0,
        data: Some(d),
    };
    [
        (
            "_hparams_/experiment",
            data(Data::Experiment(Experiment {
                hparam_infos: infos,
                metric_infos: metrics,
            })),
        ),
        (
            "_hparams_/session_start_info",
            data(Data::SessionStartInfo(SessionStartInfo { hparams: values })),
        ),
        (
            "_hparams_/session_end_info",
            data(Data::SessionEndInfo(SessionEndInfo {
                status: STATUS_SUCCESS,
            })),
        ),
    ]
}

// The messages, as far as they are written: tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto.

/// `tensorflow.Event`.
#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "What", tags = "3, 5, 7")]
    what: Option<What>,
}

/// `Event.what`.
#[derive(Clone, PartialEq, prost::Oneof)]
enum What {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

/// `tensorflow.SessionLog`: only its status.
#[derive(Clone, PartialEq, Message)]
struct SessionLog {
    #[prost(int32, tag = "1")]
    status: i32,
}

/// `SessionLog.START`.
const SESSION_START: i32 = 1;

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<Value>,
}

/// `tensorflow.Summary.Value`: a tag, its metadata, and `simple_value` (of the `value` oneof).
#[derive(Clone, PartialEq, Message)]
struct Value {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(message, optional, tag = "9")]
    metadata: Option<SummaryMetadata>,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
}

/// `tensorflow.SummaryMetadata`: only its plugin data.
#[derive(Clone, PartialEq, Message)]
struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    plugin_data: Option<PluginData>,
}

/// `tensorflow.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, Message)]
struct PluginData {
    #[prost(string, tag = "1")]
    plugin_name: String,
    #[prost(bytes = "vec", tag = "2")]
    content: Vec<u8>,
}

// tensorboard/plugins/hparams/plugin_data.proto and api.proto.

/// `tensorboard.hparams.HParamsPluginData`.
#[derive(Clone, PartialEq, Message)]
struct HParamsPluginData {
    #[prost(int32, tag = "1")]
    version: i32,
    #[prost(oneof = "Data", tags = "2, 3, 4")]
    data: Option<Data>,
}

/// `HParamsPluginData.data`.
#[derive(Clone, PartialEq, prost::Oneof)]
enum Data {
    #[prost(message, tag = "2")]
    Experiment(Experiment),
    #[prost(message, tag = "3")]
    SessionStartInfo(SessionStartInfo),
    #[prost(message, tag = "4")]
    SessionEndInfo(SessionEndInfo),
}

/// `tensorboard.hparams.Experiment`: the hyperparameters and the metrics.
#[derive(Clone, PartialEq, Message)]
struct Experiment {
    #[prost(message, repeated, tag = "4")]
    hparam_infos: Vec<HParamInfo>,
    #[prost(message, repeated, tag = "5")]
    metric_infos: Vec<MetricInfo>,
}

/// `tensorboard.hparams.HParamInfo`: its name and type.
#[derive(Clone, PartialEq, Message)]
struct HParamInfo {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int32, tag = "4")]
    r#type: i32,
}

/// `DataType.DATA_TYPE_STRING`, `_BOOL`, `_FLOAT64`.
const DATA_TYPE_STRING: i32 = 1;
const DATA_TYPE_BOOL: i32 = 2;
const DATA_TYPE_FLOAT64: i32 = 3;

/// `tensorboard.hparams.MetricInfo`: its name.
#[derive(Clone, PartialEq, Message)]
struct MetricInfo {
    #[prost(message, optional, tag = "1")]
    name: Option<MetricName>,
}

/// `tensorboard.hparams.MetricName`.
#[derive(Clone, PartialEq, Message)]
struct MetricName {
    #[prost(string, tag = "1")]
    group: String,
    #[prost(string, tag = "2")]
    tag: String,
}

/// `tensorboard.hparams.SessionStartInfo`: the values.
#[derive(Clone, PartialEq, Message)]
struct SessionStartInfo {
    #[prost(btree_map = "string, message", tag = "1")]
    hparams: BTreeMap<String, ProtoValue>,
}

/// `tensorboard.hparams.SessionEndInfo`: its status.
#[derive(Clone, PartialEq, Message)]
struct SessionEndInfo {
    #[prost(int32, tag = "1")]
    status: i32,
}

/// `Status.STATUS_SUCCESS`.
const STATUS_SUCCESS: i32 = 1;

/// `google.protobuf.Value`, as far as hyperparameters use it.
#[derive(Clone, PartialEq, Message)]
struct ProtoValue {
    #[prost(oneof = "Kind", tags = "2, 3, 4")]
    kind: Option<Kind>,
}

/// `Value.kind`: `number_value`, `string_value`, `bool_value`.
#[derive(Clone, PartialEq, prost::Oneof)]
enum Kind {
    #[prost(double, tag = "2")]
    Number(f64),
    #[prost(string, tag = "3")]
    Text(String),
    #[prost(bool, tag = "4")]
    Bool(bool),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Experiment, RunOptions, Stop, progress::Display};

    fn quiet_run(stop: &Stop) -> RunOptions<'_> {
        RunOptions {
            threads: 1,
            display: Display::Quiet,
            stop,
            pause: None,
        }
    }

    /// The events of every file in `tb_dir`, in name order: each record's length and data
    /// checked against their masked CRC-32C, the data decoded as an `Event`.
    fn read_events(tb_dir: &Path) -> Vec<Event> {
        let mut files: Vec<PathBuf> = fs::read_dir(tb_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut events = Vec::new();
        for path in files {
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(
                name.starts_with("events.out.tfevents.") && name.ends_with(".qlab"),
                "{name}"
            );
            let bytes = fs::read(&path).unwrap();
            let mut at = 0;
            while at < bytes.len() {
                let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
                let len_bytes = &bytes[at..at + 8];
                let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
                assert_eq!(word(at + 8), masked_crc(len_bytes), "{name}: length CRC");
                let data = &bytes[at + 12..at + 12 + len];
                assert_eq!(word(at + 12 + len), masked_crc(data), "{name}: data CRC");
                events.push(Event::decode(data).unwrap());
                at += 12 + len + 4;
            }
        }
        events
    }

    /// `repr` of a Python float: Rust's `{:?}` (the same shortest digits, and exponent form
    /// outside [1e-4, 1e16) as Python's) with Python's exponent (`1e-05`, `1e+16`).
    fn py_repr(x: f64) -> String {
        if x.is_nan() {
            return "nan".into();
        }
        if x.is_infinite() {
            return if x > 0.0 { "inf" } else { "-inf" }.into();
        }
        let s = format!("{x:?}");
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    }

    fn show(v: &ProtoValue) -> String {
        match &v.kind {
            Some(Kind::Number(x)) => py_repr(*x),
            Some(Kind::Text(s)) => serde_json::to_string(s).unwrap(),
            Some(Kind::Bool(b)) => b.to_string(),
            None => "none".into(),
        }
    }

    /// The text `tools/read_tensorboard.py` prints for one seed's events (which hold no
    /// events a resumed run wrote again: nothing to purge).
    fn text_of(events: &[Event], out: &mut Vec<String>) {
        let mut scalars: BTreeMap<String, Vec<(i64, f32)>> = BTreeMap::new();
        let mut plugin: BTreeMap<String, HParamsPluginData> = BTreeMap::new();
        for e in events {
            let Some(What::Summary(s)) = &e.what else {
                continue;
            };
            for v in &s.value {
                if let Some(x) = v.simple_value {
                    scalars.entry(v.tag.clone()).or_default().push((e.step, x));
                }
                if let Some(p) = v.metadata.as_ref().and_then(|m| m.plugin_data.as_ref()) {
                    assert_eq!(p.plugin_name, "hparams");
                    let data = HParamsPluginData::decode(&p.content[..]).unwrap();
                    plugin.entry(v.tag.clone()).or_insert(data);
                }
            }
        }
        if let Some(Some(Data::SessionStartInfo(s))) =
            plugin.get("_hparams_/session_start_info").map(|d| &d.data)
        {
            out.push("hparams".into());
            for (k, v) in &s.hparams {
                out.push(format!("  {k} = {}", show(v)));
            }
        }
        if let Some(Some(Data::Experiment(x))) = plugin.get("_hparams_/experiment").map(|d| &d.data)
        {
            let tags: Vec<&str> = x
                .metric_infos
                .iter()
                .map(|m| m.name.as_ref().map_or("", |n| n.tag.as_str()))
                .collect();
            out.push(format!("metrics {}", tags.join(" ")));
        }
        if let Some(Some(Data::SessionEndInfo(x))) =
            plugin.get("_hparams_/session_end_info").map(|d| &d.data)
        {
            out.push(format!("status {}", x.status));
        }
        for (tag, points) in &scalars {
            out.push(format!("scalars {tag}"));
            for (step, x) in points {
                out.push(format!("  {step} {}", py_repr(f64::from(*x))));
            }
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qlab-tb-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn train(toml: &str, name: &str) -> PathBuf {
        let config = Config::parse("c.toml", toml, &[]).unwrap();
        let exp = Experiment::new(config).unwrap();
        let dir = temp_dir(name);
        crate::runner::train(&exp, &dir, &quiet_run(&Stop::new())).unwrap();
        dir
    }

    /// The run of `tests/data/tensorboard/cliff.toml`, trained again, writes event files that
    /// decode (length, masked CRCs, messages) to what the `tensorboard` package read from it:
    /// `cliff.txt`, printed by `tools/read_tensorboard.py`.
    #[test]
    fn events_read_back_as_the_tensorboard_package_reads_them() {
        let run = train(
            include_str!("../../tests/data/tensorboard/cliff.toml"),
            "cliff",
        );
        let mut out = Vec::new();
        for seed in [0, 1] {
            out.push(format!("[seed_{seed}]"));
            let events = read_events(&run.join(format!("seed_{seed}")).join(TB_DIR));
            match &events[0].what {
                Some(What::FileVersion(v)) => assert_eq!(v, "brain.Event:2"),
                other => panic!("the first event is {other:?}"),
            }
            text_of(&events, &mut out);
        }
        let want = include_str!("../../tests/data/tensorboard/cliff.txt");
        assert_eq!(out.join("\n") + "\n", want);
        fs::remove_dir_all(&run).unwrap();
    }

    /// A resumed run starts a second event file that opens with a `SessionLog` `START` at
    /// the step after its checkpoint: with the events of the first file from that step on
    /// dropped, as TensorBoard's reader drops them, the records equal those of a run never
    /// stopped. (`tools/read_tensorboard.py` shows the same of the two runs.)
    #[test]
    fn a_resumed_run_restarts_its_events_after_the_checkpoint() {
        let toml = "[env]\nid = 'CliffWalking-v1'\n[agent]\nalgorithm = 'q_learning'\n\
                    alpha = 0.5\n[train]\nepisodes = 120\neval_every = 20\neval_episodes = 1\n\
                    checkpoint_every = 1000\n[output]\ntensorboard = true\n";
        let whole = train(toml, "whole");
        let stopped = train(toml, "stopped");
        let seed_dir = stopped.join("seed_0");
        let checkpoint: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(seed_dir.join("checkpoint.json")).unwrap())
                .unwrap();
        let at = checkpoint["checkpoint"]["step"].as_i64().unwrap();
        // As a stop after the last checkpoint leaves the seed: its end not yet written.
        for f in ["seed_summary.json", "agent.json", "agent.bin"] {
            fs::remove_file(seed_dir.join(f)).unwrap();
        }
        crate::runner::resume(&stopped, &quiet_run(&Stop::new())).unwrap();
        assert_eq!(fs::read_dir(seed_dir.join(TB_DIR)).unwrap().count(), 2);
        let mut kept: Vec<Event> = Vec::new();
        let mut restarts = Vec::new();
        for e in read_events(&seed_dir.join(TB_DIR)) {
            if let Some(What::SessionLog(log)) = &e.what {
                assert_eq!(log.status, SESSION_START);
                restarts.push(e.step);
                kept.retain(|k| k.step < e.step);
            }
            kept.push(e);
        }
        assert_eq!(restarts, [at + 1]);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        text_of(&read_events(&whole.join("seed_0").join(TB_DIR)), &mut a);
        text_of(&kept, &mut b);
        assert!(a.len() > 100);
        assert_eq!(a, b);
        fs::remove_dir_all(&whole).unwrap();
        fs::remove_dir_all(&stopped).unwrap();
    }

    /// Trains `toml` (one seed, `[output] tensorboard = true`) and checks that each `(tag,
    /// column)` of `columns` is, update by update, the column of `train.csv` (as 32-bit
    /// floats), that none of `absent` is written, and that the evaluations at `evals` and the
    /// episodes are.
    fn series_are_the_rows_of_train_csv(
        toml: &str,
        name: &str,
        columns: &[(&str, usize)],
        absent: &[&str],
        evals: &[i64],
    ) {
        let run = train(toml, name);
        let seed_dir = run.join("seed_0");
        let events = read_events(&seed_dir.join(TB_DIR));
        let series = |tag: &str| -> Vec<(i64, f32)> {
            events
                .iter()
                .filter_map(|e| match &e.what {
                    Some(What::Summary(s)) => s
                        .value
                        .iter()
                        .find(|v| v.tag == tag)
                        .and_then(|v| v.simple_value.map(|x| (e.step, x))),
                    _ => None,
                })
                .collect()
        };
        let csv = fs::read_to_string(seed_dir.join("train.csv")).unwrap();
        let rows: Vec<Vec<&str>> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        assert!(rows.len() >= 3, "{csv}");
        for &(tag, column) in columns {
            let want: Vec<(i64, f32)> = rows
                .iter()
                .map(|r| {
                    (
                        r[0].parse().unwrap(),
                        r[column].parse::<f64>().unwrap() as f32,
                    )
                })
                .collect();
            assert_eq!(series(tag), want, "{tag}");
        }
        for tag in absent {
            assert!(series(tag).is_empty(), "{tag}");
        }
        let at: Vec<i64> = series("eval/mean_return").iter().map(|e| e.0).collect();
        assert_eq!(at, evals);
        assert!(!series("episode/return").is_empty());
        fs::remove_dir_all(&run).unwrap();
    }

    /// A run that trains in batches sends each training's loss, mean Q and ε to the event
    /// file, the same numbers as `train.csv` (as 32-bit floats), and ε with no episode.
    #[test]
    fn dqn_trainings_are_the_rows_of_train_csv() {
        series_are_the_rows_of_train_csv(
            "[env]\nid = 'CartPole-v1'\n[agent]\nalgorithm = 'dqn'\nlearning_starts = 50\n\
             train_freq = 25\nbatch_size = 8\nbuffer_size = 200\n\
             network = { torso = { type = 'mlp', hidden = [8] } }\n\
             [train]\nsteps = 200\neval_every = 100\neval_episodes = 1\n\
             [output]\ntensorboard = true\n",
            "dqn",
            &[("train/loss", 1), ("train/mean_q", 2), ("train/epsilon", 3)],
            &[],
            &[100, 200],
        );
    }

    /// A PPO run sends each update's measures under Stable-Baselines3's tags, the numbers of
    /// its `train.csv` row; a categorical policy has no `train/std`, and no ε is sent.
    #[test]
    fn ppo_updates_are_the_rows_of_train_csv() {
        series_are_the_rows_of_train_csv(
            "[env]\nid = 'CartPole-v1'\n[agent]\nalgorithm = 'ppo'\nn_envs = 2\nn_steps = 16\n\
             batch_size = 16\nn_epochs = 2\n[train]\nsteps = 100\neval_every = 64\n\
             eval_episodes = 1\n[output]\ntensorboard = true\n",
            "ppo",
            &[
                ("train/loss", 1),
                ("train/policy_gradient_loss", 2),
                ("train/value_loss", 3),
                ("train/entropy_loss", 4),
                ("train/approx_kl", 5),
                ("train/clip_fraction", 6),
                ("train/explained_variance", 7),
                ("train/learning_rate", 8),
            ],
            &["train/std", "train/epsilon", "train/mean_q"],
            &[64, 128],
        );
    }

    /// The masked CRC of TFRecord, pinned to TensorFlow's: the record framing of an event
    /// whose data is the empty string (`tf.io.TFRecordWriter` writes the length 0 with the
    /// masked CRC below; CRC-32C("") = 0, masked = 0xa282ead8).
    #[test]
    fn masked_crc_is_tfrecords() {
        assert_eq!(masked_crc(b""), 0xa282_ead8);
        // CRC-32C("123456789") = 0xe3069283 (the check value of the Castagnoli polynomial);
        // masked: rotate right by 15, plus 0xa282ead8.
        assert_eq!(
            masked_crc(b"123456789"),
            0xe306_9283_u32.rotate_right(15).wrapping_add(0xa282_ead8)
        );
    }
}
