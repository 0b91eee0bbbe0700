//! Whole files written so that they hold their old bytes or their new ones, whatever happens:
//! a kill, a full disk or a failing encoder never leaves a file half-written or at 0 bytes.
//!
//! Every whole file `qlab` writes goes through [`write_atomic`]: a run's records and agents,
//! checkpoints, plots, tables and GIFs.

use std::fs::{self, File};
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `path` so that it holds its old bytes or its new ones whatever happens: `write` writes
/// the new bytes to a temporary file beside it, which is synced to disk, renamed over `path`,
/// and the directory synced. On failure the temporary file is removed and `path` is left as it
/// was.
pub fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!("{name}.tmp"));
    let written = write(&tmp)
        .and_then(|()| sync_file(&tmp))
        .and_then(|()| fs::rename(&tmp, path).with_context(|| format!("{}", path.display())))
        .and_then(|()| sync_dir(path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("{} was not written", path.display()))
}

/// [`write_atomic`] of `bytes`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |tmp| {
        fs::write(tmp, bytes).with_context(|| format!("{}", tmp.display()))
    })
}

/// Syncs the file at `path` to disk.
fn sync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("{}", path.display()))
}

/// Syncs the directory holding `path`, so that a rename into it is on disk.
pub fn sync_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("{}", dir.display()))?;
    }
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::bail;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("qlab-files-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A write that fails half-way (a full disk) once left `summary.json` at 0 bytes: the
    /// previous file stays whole and no temporary file is left.
    #[test]
    fn a_failed_write_leaves_the_previous_file_intact() {
        let dir = temp_dir("atomic");
        let path = dir.join("summary.json");
        write_file(&path, b"old\n").unwrap();
        let e = write_atomic(&path, |tmp| {
            fs::write(tmp, b"ne").unwrap();
            bail!("No space left on device")
        })
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("summary.json was not written: No space left on device"),
            "{e:#}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"old\n");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        write_file(&path, b"new\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new\n");
        fs::remove_dir_all(&dir).unwrap();
    }
}
