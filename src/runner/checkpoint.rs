//! A seed's checkpoints.
//!
//! A checkpoint is the agent's state file `checkpoint-<step>.agent` and the sidecar
//! `checkpoint.json` that declares it: where the run stands, the lengths of the record files
//! at that moment, a CRC-32 of the agent file's bytes, the resolved config it was trained
//! under ([`fingerprint`]) and a CRC-32 of all of these. Before the sidecar is written, what it
//! depends on is on disk: the record files and the agent file are synced first, the sidecar
//! goes through [`write_atomic`]. A kill or a full disk at any moment leaves the previous
//! checkpoint or the new one; a flipped byte in either file, a record file cut short, a
//! sidecar naming a file outside its directory or a config edited since are refused on
//! resume, never silently continued.
//!
//! Checkpoints written before the checksums were added do not load: such a seed is refused on
//! resume (delete its directory to run it again).

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::files::{write_atomic, write_file};
use qlab_envs::EnvRng;
use serde::{Deserialize, Serialize};

use super::track::Window;
use crate::config::{Budget, Config};

/// Where a seed's run stands at a checkpoint: the fields of `checkpoint.json`, less its
/// checksums.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Checkpoint {
    /// The agent's state file beside it: `checkpoint-<step>.agent` ([`agent_file`]).
    pub(super) agent: String,
    /// Env steps taken.
    pub(super) step: u64,
    /// Episodes finished.
    pub(super) episodes: u64,
    /// The moving window of returns.
    pub(super) window: Window,
    /// The last evaluation: step, mean, std, episodes.
    pub(super) last_eval: Option<(u64, f64, f64, usize)>,
    /// Lengths of `metrics.csv`, `eval.csv` and `train.csv` (0 when not written).
    pub(super) files: (u64, u64, u64),
    /// Wall time spent so far.
    pub(super) wall_seconds: f64,
    /// The runner's stream the agent draws from (exploration, tie-breaking, exploring starts)
    /// in a run of one env; absent for the on-policy agents, whose generator is in their file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) agent_rng: Option<[u64; 4]>,
    /// The training env's stream, in a run of one env (taken at an episode's end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) env_rng: Option<[u64; 4]>,
    /// Each env of an on-policy run, mid-episode at a rollout's end: how its episode began
    /// and the actions since, which a resume replays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) envs: Vec<EnvPosition>,
    /// The resolved config the seed was trained under, as [`fingerprint`] writes it.
    pub(super) config: String,
    /// The best evaluation so far, with `[train] keep_best`: its step and mean return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) best: Option<(u64, f64)>,
}

/// How the episode under way in one env of an on-policy run began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum Began {
    /// A reset with this seed: the env's first episode.
    Seed(u64),
    /// An unseeded reset from this state of the env's random stream, taken as the episode
    /// before ended ([`Env::rng_state`](qlab_envs::Env::rng_state)).
    Stream([u64; 4]),
}

/// Where one env of an on-policy run stands at a checkpoint: an env built as the run builds
/// it, reset as [`Began`] says and stepped with `actions`, is where the run left it (the
/// [`Env::rng_state`](qlab_envs::Env::rng_state) contract). Episodes are short next to a
/// run, so the replay is too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EnvPosition {
    /// How the episode under way began.
    pub(super) began: Began,
    /// The actions taken since, each the action's numbers (one, an index, for discrete
    /// actions) in `f64`: an `f32` round-trips through JSON exactly so.
    pub(super) actions: Vec<f64>,
}

/// `checkpoint.json` as written: the checkpoint, the CRC-32 of its agent file, and the CRC-32
/// of both (of the JSON text of `[checkpoint, agent_crc32]`, which reads back to the same text:
/// floats are written in their shortest round-trip form).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sidecar {
    checkpoint: Checkpoint,
    agent_crc32: u32,
    crc32: u32,
}

/// [`Sidecar`] to write, borrowing the checkpoint.
#[derive(Serialize)]
struct SidecarOf<'a> {
    checkpoint: &'a Checkpoint,
    agent_crc32: u32,
    crc32: u32,
}

fn fields_crc32(c: &Checkpoint, agent_crc32: u32) -> Result<u32> {
    Ok(crc32fast::hash(
        serde_json::to_string(&(c, agent_crc32))?.as_bytes(),
    ))
}

pub(super) const CHECKPOINT: &str = "checkpoint.json";

/// The name of the agent state file of a checkpoint at `step`.
pub(super) fn agent_file(step: u64) -> String {
    format!("checkpoint-{step}.agent")
}

/// Whether `name` is one [`agent_file`] gives: a plain file name in the seed's directory.
fn is_agent_file(name: &str) -> bool {
    name.strip_prefix("checkpoint-")
        .and_then(|n| n.strip_suffix(".agent"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The resolved config as a checkpoint records it: [`Config::to_toml`] less what may change
/// between a checkpoint and a resume without changing the seed's run — the seeds (each seed's
/// run is its own), the budget's size (but not its unit: a budget below the checkpoint is
/// refused on its own), `checkpoint_every` and the output directory.
pub(super) fn fingerprint(config: &Config) -> String {
    let mut c = config.clone();
    c.set_seeds(Vec::new());
    c.set_budget(match c.train.budget {
        Budget::Episodes(_) => Budget::Episodes(0),
        Budget::Steps(_) => Budget::Steps(0),
    });
    c.train.checkpoint_every = 0;
    c.output.dir = PathBuf::new();
    c.to_toml()
}

/// Why `now` (a [`fingerprint`]) differs from `then`: the first line that differs, with its
/// section.
fn config_change(then: &str, now: &str) -> String {
    let mut section = "";
    fn lines(t: &str) -> impl Iterator<Item = &str> {
        t.lines().filter(|l| !l.trim().is_empty())
    }
    let (mut a, mut b) = (lines(then), lines(now));
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => {
                if x.starts_with('[') {
                    section = x;
                }
            }
            (None, None) => return "the same text".into(),
            (x, y) => {
                let show = |l: Option<&str>| l.map_or("nothing".to_string(), str::to_string);
                let header = x.or(y).is_some_and(|l| l.starts_with('['));
                let at = if section.is_empty() || header {
                    String::new()
                } else {
                    format!("{section} ")
                };
                return format!("{at}{} at the checkpoint, {} now", show(x), show(y));
            }
        }
    }
}

/// The length of `file` (at `path`), after syncing it to disk: what a checkpoint records.
pub(super) fn synced_len(file: &File, path: &Path) -> Result<u64> {
    file.sync_all()
        .and_then(|()| file.metadata())
        .map(|m| m.len())
        .with_context(|| format!("{}", path.display()))
}

fn file_len(path: &Path) -> Result<u64> {
    Ok(fs::metadata(path)
        .with_context(|| format!("{}", path.display()))?
        .len())
}

/// Cuts `path` back to `len` bytes (rows written after the checkpoint go) and opens it for
/// appending. A file shorter than `len` lost records the checkpoint counts on: an error.
pub(super) fn reopen(path: &Path, len: u64) -> Result<File> {
    check_len(path, len)?;
    let file = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    file.set_len(len)
        .with_context(|| format!("{}", path.display()))?;
    Ok(file)
}

/// An error unless `path` holds at least the `len` bytes its checkpoint recorded.
fn check_len(path: &Path, len: u64) -> Result<()> {
    let now = file_len(path)?;
    if now < len {
        bail!(
            "{}: {now} bytes, shorter than its checkpoint's {len}: records were lost since; \
             delete {} to run this seed again",
            path.display(),
            path.parent().unwrap_or(Path::new(".")).display()
        );
    }
    Ok(())
}

/// Writes a checkpoint in `dir`: the agent's state (`write_agent` writes it to the path it is
/// given) to the file `c.agent` names, then the sidecar `checkpoint.json` declaring it, each
/// through [`write_atomic`]; the previous agent file goes last. The record files `c.files`
/// measures must be synced already. A kill at any moment leaves the previous checkpoint or
/// this one.
pub(super) fn save(
    dir: &Path,
    write_agent: impl FnOnce(&Path) -> Result<()>,
    c: &Checkpoint,
) -> Result<()> {
    let agent_path = dir.join(&c.agent);
    write_atomic(&agent_path, write_agent)?;
    let bytes = fs::read(&agent_path).with_context(|| format!("{}", agent_path.display()))?;
    let agent_crc32 = crc32fast::hash(&bytes);
    let sidecar = dir.join(CHECKPOINT);
    // Only a file a checkpoint can name is ever deleted.
    let previous = fs::read_to_string(&sidecar)
        .ok()
        .and_then(|t| serde_json::from_str::<Sidecar>(&t).ok())
        .map(|old| old.checkpoint.agent)
        .filter(|old| is_agent_file(old) && *old != c.agent);
    let text = serde_json::to_string(&SidecarOf {
        checkpoint: c,
        agent_crc32,
        crc32: fields_crc32(c, agent_crc32)?,
    })? + "\n";
    write_file(&sidecar, text.as_bytes())?;
    if let Some(old) = previous {
        let _ = fs::remove_file(dir.join(old));
    }
    Ok(())
}

/// Removes the checkpoint in `dir`, if there is one: the sidecar first (so that a kill
/// half-way leaves no sidecar naming a missing file), then its agent file.
///
/// # Errors
/// A file that is there but cannot be removed.
pub(super) fn remove(dir: &Path) -> Result<()> {
    let sidecar = dir.join(CHECKPOINT);
    let agent = fs::read_to_string(&sidecar)
        .ok()
        .and_then(|t| serde_json::from_str::<Sidecar>(&t).ok())
        .map(|s| s.checkpoint.agent)
        .filter(|a| is_agent_file(a));
    match fs::remove_file(&sidecar) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("{}", sidecar.display())),
    }
    if let Some(agent) = agent {
        let path = dir.join(agent);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
        }
    }
    Ok(())
}

/// What a seed's checkpoint must agree with to be resumed.
pub(super) struct Expected<'a> {
    /// The config's [`fingerprint`], as `config.toml` reads now.
    pub(super) config: &'a str,
    /// The budget in `config.toml`.
    pub(super) budget: Budget,
    /// Episodes in the moving window.
    pub(super) window: u64,
    /// Whether the seed writes `train.csv`.
    pub(super) train_log: bool,
    /// The envs an on-policy run steps together; 0 for a run of one env.
    pub(super) envs: usize,
    /// The headers of `metrics.csv`, `eval.csv` and `train.csv`.
    pub(super) headers: [&'a str; 3],
}

/// Reads and checks the checkpoint in `dir`, if there is one: its checksums, the agent file's
/// name and checksum, its fields against each other and `expected`, and the record files'
/// lengths. Nothing is changed on disk.
///
/// # Errors
/// A sidecar or agent file that does not match its checksum, names a file outside `dir`, holds
/// impossible fields, or was written under another config; a record file shorter than
/// recorded. Each error names the file.
pub(super) fn load(dir: &Path, expected: &Expected<'_>) -> Result<Option<Checkpoint>> {
    let path = dir.join(CHECKPOINT);
    if !path.is_file() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let s: Sidecar = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a checkpoint of this version of qlab; delete {} to run this seed again",
            path.display(),
            dir.display()
        )
    })?;
    let c = s.checkpoint;
    if fields_crc32(&c, s.agent_crc32)? != s.crc32 {
        bail!(
            "{}: its checksum does not match its contents: the file is damaged",
            path.display()
        );
    }
    if !is_agent_file(&c.agent) {
        bail!(
            "{}: names the agent file `{}`; a checkpoint's is `checkpoint-<step>.agent` \
             beside it",
            path.display(),
            c.agent
        );
    }
    c.check(&path, expected)?;
    let agent = dir.join(&c.agent);
    let bytes = fs::read(&agent).with_context(|| format!("{}", agent.display()))?;
    if crc32fast::hash(&bytes) != s.agent_crc32 {
        bail!(
            "{}: its checksum does not match the one in {CHECKPOINT}: the file is damaged",
            agent.display()
        );
    }
    let names = ["metrics.csv", "eval.csv", "train.csv"];
    let lens = [c.files.0, c.files.1, c.files.2];
    for ((name, len), on) in names.iter().zip(lens).zip([true, true, expected.train_log]) {
        if on {
            check_len(&dir.join(name), len)?;
        }
    }
    Ok(Some(c))
}

impl Checkpoint {
    /// An error naming `path` (the sidecar) unless the fields agree with each other and with
    /// `expected`.
    fn check(&self, path: &Path, expected: &Expected<'_>) -> Result<()> {
        if self.config != expected.config {
            bail!(
                "config.toml no longer matches the checkpoint {}: {}",
                path.display(),
                config_change(&self.config, expected.config)
            );
        }
        let (key, budget, done, unit) = match expected.budget {
            Budget::Episodes(n) => ("episodes", n, self.episodes, "episodes"),
            Budget::Steps(n) => ("steps", n, self.step, "steps"),
        };
        if budget < done {
            bail!(
                "config.toml's budget `{key} = {budget}` is below the checkpoint's {done} \
                 {unit} ({}); give at least {done}",
                path.display()
            );
        }
        let problem = if self.agent != agent_file(self.step) {
            Some(format!(
                "the agent file `{}` is not the one of step {}",
                self.agent, self.step
            ))
        } else if self.episodes > self.step {
            Some(format!(
                "{} episodes in {} steps (an episode takes a step at least)",
                self.episodes, self.step
            ))
        } else if self.last_eval.is_some_and(|(at, ..)| at > self.step) {
            Some(format!("an evaluation after step {}", self.step))
        } else if !self.window.fits(expected.window) {
            Some(format!(
                "its window of returns is not one of {} episodes",
                expected.window
            ))
        } else if self.envs.len() != expected.envs {
            Some(format!(
                "the positions of {} envs; the run steps {}",
                self.envs.len(),
                expected.envs.max(1)
            ))
        } else if expected.envs == 0 && (self.agent_rng.is_none() || self.env_rng.is_none()) {
            Some("no random stream of the agent or of the env".into())
        } else if self.agent_rng.is_some_and(|s| !EnvRng::is_valid_state(s)) {
            Some("the agent's random stream is all zeros".into())
        } else if !self.wall_seconds.is_finite() || self.wall_seconds < 0.0 {
            Some(format!("wall_seconds {}", self.wall_seconds))
        } else {
            let lens = [self.files.0, self.files.1, self.files.2];
            let names = ["metrics.csv", "eval.csv", "train.csv"];
            (0..3).find_map(|i| {
                let written = i < 2 || expected.train_log;
                let least = if written {
                    expected.headers[i].len() as u64 + 1
                } else {
                    0
                };
                let bad = if written {
                    lens[i] < least
                } else {
                    lens[i] != 0
                };
                bad.then(|| {
                    format!(
                        "a length of {} bytes for {} (its header alone is {least})",
                        lens[i], names[i]
                    )
                })
            })
        };
        match problem {
            Some(p) => bail!("{}: impossible checkpoint: {p}", path.display()),
            None => Ok(()),
        }
    }
}

/// The checkpoint the resumed seed `seed` continues from in its directory `dir`, checked
/// against `expected` ([`load`]); `None` to start the seed afresh, which only a seed may do
/// whose records stop before its first checkpoint was due (every `checkpoint_every` steps):
/// a directory with records past a checkpoint that has gone missing is refused, never
/// deleted.
pub(super) fn resume_point(
    dir: &Path,
    seed: u64,
    expected: &Expected<'_>,
    checkpoint_every: u64,
) -> Result<Option<Checkpoint>> {
    if let Some(c) = load(dir, expected)? {
        return Ok(Some(c));
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries.count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}", dir.display())),
    };
    if entries > 0 && checkpoint_was_due(checkpoint_every, dir) {
        bail!(
            "{} holds records but no {} to continue from; to run seed {seed} again from the \
             start, delete {} yourself",
            dir.display(),
            CHECKPOINT,
            dir.display()
        );
    }
    if entries > 0 {
        eprintln!(
            "note: {}: no checkpoint was due yet; seed {seed} starts again from the beginning \
             (its records come out the same)",
            dir.display()
        );
        std::fs::remove_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    } else {
        std::fs::remove_dir(dir).with_context(|| format!("{}", dir.display()))?;
    }
    Ok(None)
}

/// Whether the records in `dir` reach a step where a checkpoint was due (every
/// `checkpoint_every` steps; never when 0). A seed killed before its first checkpoint can
/// start again without losing anything, since its run depends on the config and seed alone;
/// one past it has lost its checkpoint, and is refused. Unreadable records count as due.
fn checkpoint_was_due(checkpoint_every: u64, dir: &Path) -> bool {
    if checkpoint_every == 0 {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(dir.join("metrics.csv")) else {
        return true;
    };
    let last_step = text
        .lines()
        .skip(1)
        .filter_map(|row| row.split(',').nth(1)?.parse::<u64>().ok())
        .last()
        .unwrap_or(0);
    last_step >= checkpoint_every
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qlab-ckpt-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    const CONFIG: &str = "[env]\nid = 'A'\n";

    /// A checkpoint at step 100 of a 1000-step budget, consistent with [`expected`].
    fn good() -> Checkpoint {
        Checkpoint {
            agent: agent_file(100),
            step: 100,
            episodes: 10,
            window: Window::new(5),
            last_eval: Some((50, 1.0, 0.0, 2)),
            files: (40, 30, 0),
            wall_seconds: 1.5,
            agent_rng: Some([1, 2, 3, 4]),
            env_rng: Some([5, 6, 7, 8]),
            envs: Vec::new(),
            config: CONFIG.into(),
            best: None,
        }
    }

    fn expected() -> Expected<'static> {
        Expected {
            config: CONFIG,
            budget: Budget::Steps(1000),
            window: 5,
            train_log: false,
            envs: 0,
            headers: ["metrics", "eval", "train"],
        }
    }

    /// Writes `c` into `dir` as [`save`] does, with its agent file and record files long enough.
    fn put(dir: &Path, c: &Checkpoint) {
        let state = b"agent state";
        fs::write(dir.join(&c.agent), state).unwrap();
        let agent_crc32 = crc32fast::hash(state);
        let sidecar = SidecarOf {
            checkpoint: c,
            agent_crc32,
            crc32: fields_crc32(c, agent_crc32).unwrap(),
        };
        fs::write(
            dir.join(CHECKPOINT),
            serde_json::to_string(&sidecar).unwrap(),
        )
        .unwrap();
        fs::write(dir.join("metrics.csv"), [b'x'; 40]).unwrap();
        fs::write(dir.join("eval.csv"), [b'x'; 30]).unwrap();
    }

    /// Checkpoints with impossible fields (here written with valid checksums, as a bug or a
    /// hand edit would) are errors naming the sidecar, never panics or silent resumes.
    #[test]
    fn corrupted_checkpoint_fields_are_errors_not_panics() {
        let dir = temp_dir("fields");
        put(&dir, &good());
        assert!(load(&dir, &expected()).unwrap().is_some());
        type Spoil = fn(&mut Checkpoint);
        let cases: Vec<(&str, Spoil)> = vec![
            ("below the checkpoint's 2000 steps", |c| {
                c.step = 2000;
                c.agent = agent_file(2000);
            }),
            (
                "the agent file `checkpoint-7.agent` is not the one of step 100",
                |c| c.agent = agent_file(7),
            ),
            ("20000 episodes in 100 steps", |c| c.episodes = 20_000),
            ("an evaluation after step 100", |c| {
                c.last_eval = Some((900, 0.0, 0.0, 1))
            }),
            ("not one of 5 episodes", |c| c.window = Window::new(7)),
            ("all zeros", |c| c.agent_rng = Some([0; 4])),
            ("no random stream of the agent", |c| c.env_rng = None),
            ("the positions of 1 envs; the run steps 1", |c| {
                c.envs = vec![EnvPosition {
                    began: Began::Seed(3),
                    actions: vec![1.0],
                }]
            }),
            ("wall_seconds -1", |c| c.wall_seconds = -1.0),
            ("a length of 3 bytes for metrics.csv", |c| c.files.0 = 3),
            ("a length of 9 bytes for train.csv", |c| c.files.2 = 9),
            ("shorter than its checkpoint's 4000", |c| c.files.1 = 4000),
            ("no longer matches the checkpoint", |c| {
                c.config = "[env]\nid = 'B'\n".into()
            }),
        ];
        for (want, spoil) in cases {
            for entry in fs::read_dir(&dir).unwrap() {
                fs::remove_file(entry.unwrap().path()).unwrap();
            }
            let mut c = good();
            spoil(&mut c);
            put(&dir, &c);
            let e = format!("{:#}", load(&dir, &expected()).err().expect(want));
            assert!(e.contains(want), "{want}: {e}");
            assert!(
                e.contains("checkpoint.json") || e.contains("eval.csv"),
                "{e}"
            );
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Only names a checkpoint gives are agent files: nothing outside the seed's directory.
    #[test]
    fn a_checkpoint_names_only_a_plain_file_beside_it() {
        assert!(is_agent_file(&agent_file(120)));
        for bad in [
            "../../x",
            "/etc/passwd",
            "checkpoint-.agent",
            "checkpoint-1/../../x.agent",
            "checkpoint-1.agent/..",
            "x",
        ] {
            assert!(!is_agent_file(bad), "{bad}");
        }
    }

    /// The first line that differs, with its section.
    #[test]
    fn config_changes_name_the_section_and_the_line() {
        let then = "[env]\nid = 'A'\n\n[agent]\nalpha = 0.1\ngamma = 1.0\n";
        assert_eq!(
            config_change(then, &then.replace("0.1", "0.2")),
            "[agent] alpha = 0.1 at the checkpoint, alpha = 0.2 now"
        );
        assert_eq!(
            config_change(then, "[env]\nid = 'A'\n"),
            "[agent] at the checkpoint, nothing now"
        );
        assert_eq!(config_change(then, then), "the same text");
    }
}
