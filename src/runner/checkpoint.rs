//! A seed's checkpoints: `checkpoint.json`, the sidecar that says where the run stands and
//! names the agent's state file beside it, written atomically so that a kill at any moment
//! leaves the previous checkpoint or the new one.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use qlab_agents::Agent;
use serde::{Deserialize, Serialize};

use super::track::Window;

/// The sidecar of a checkpoint, `checkpoint.json` in the seed's directory: where the run
/// stands, and the agent's state file it names. Written last (to a temporary file, then
/// renamed), it is what makes a checkpoint count.
#[derive(Serialize, Deserialize)]
pub(super) struct Checkpoint {
    /// The agent's state file beside it.
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
    /// The agent's stream (exploration, tie-breaking, exploring starts).
    pub(super) agent_rng: [u64; 4],
    /// The training env's stream.
    pub(super) env_rng: [u64; 4],
    /// The best evaluation so far, with `[train] keep_best`: its step and mean return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) best: Option<(u64, f64)>,
}

pub(super) const CHECKPOINT: &str = "checkpoint.json";
pub(super) const SEED_SUMMARY: &str = "seed_summary.json";

/// Writes `path` atomically: to a temporary file beside it, then renamed over it.
pub(super) fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = path.with_extension("tmp");
    write(&tmp)?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}", path.display()))
}

pub(super) fn file_len(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("{}", path.display()))?
        .len())
}

/// Cuts `path` back to `len` bytes and opens it for appending.
pub(super) fn reopen(path: &Path, len: u64) -> Result<File> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    file.set_len(len)
        .with_context(|| format!("{}", path.display()))?;
    Ok(file)
}

/// Writes a checkpoint: the agent's state to the file `c.agent` names, then the sidecar
/// `checkpoint.json` naming it, each through a temporary file and a rename; the previous
/// agent file goes last. A kill at any moment leaves the previous checkpoint or this one.
pub(super) fn save<G, O>(dir: &Path, agent: &G, c: &Checkpoint) -> Result<()>
where
    O: ?Sized,
    G: Agent<O, usize> + ?Sized,
{
    write_atomic(&dir.join(&c.agent), |tmp| Ok(agent.checkpoint(tmp)?))?;
    let sidecar = dir.join(CHECKPOINT);
    let previous = std::fs::read_to_string(&sidecar)
        .ok()
        .and_then(|t| serde_json::from_str::<Checkpoint>(&t).ok())
        .map(|old| old.agent);
    write_atomic(&sidecar, |tmp| {
        std::fs::write(tmp, serde_json::to_string(c)? + "\n")
            .with_context(|| format!("{}", tmp.display()))
    })?;
    if let Some(old) = previous.filter(|old| *old != c.agent) {
        let _ = std::fs::remove_file(dir.join(old));
    }
    Ok(())
}

/// Reads the sidecar `checkpoint.json` in `dir`, if there is one.
pub(super) fn load(dir: &Path) -> Result<Option<Checkpoint>> {
    let path = dir.join(CHECKPOINT);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let c = serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
    Ok(Some(c))
}
