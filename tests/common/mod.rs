//! What the integration tests share: running the `qlab` binary of this build, a temporary
//! directory that cleans up after itself, and reading the files a run leaves.
//!
//! Each test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one run of `qlab` gave.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    /// The exit code (`-1` if a signal ended the process).
    pub code: i32,
}

/// Runs the `qlab` binary of this build with `args`.
pub fn qlab<S: AsRef<OsStr>>(args: &[S]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_qlab"))
        .args(args)
        .output()
        .expect("the qlab binary runs");
    Run {
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        code: out.status.code().unwrap_or(-1),
    }
}

impl Run {
    /// Asserts exit code 0 and returns stdout.
    pub fn ok(self) -> String {
        assert_eq!(self.code, 0, "{self:?}");
        self.stdout
    }

    /// Asserts a clean success, exit code 0 with nothing on stderr, and returns stdout.
    pub fn clean(self) -> String {
        assert!(self.code == 0 && self.stderr.is_empty(), "{self:?}");
        self.stdout
    }

    /// Asserts a usage failure: exit code 2, nothing on stdout, one `error:` line on stderr;
    /// returns that line.
    pub fn usage_error(self) -> String {
        assert_eq!(self.code, 2, "{self:?}");
        assert!(self.stdout.is_empty(), "{self:?}");
        assert!(
            self.stderr.starts_with("error: ") && self.stderr.lines().count() == 1,
            "{self:?}"
        );
        self.stderr.trim_end().to_string()
    }

    /// Asserts a usage failure as [`Run::usage_error`] does; returns the line after `error: `.
    pub fn usage_message(self) -> String {
        self.usage_error()["error: ".len()..].to_string()
    }
}

/// A fresh directory under the system's temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "qlab-train-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to `name` in this directory and returns its path as a string.
    pub fn file(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The text of `path`, naming the file if it cannot be read.
pub fn read(path: PathBuf) -> String {
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bytes of `path`, naming the file if it cannot be read.
pub fn read_bytes(path: PathBuf) -> Vec<u8> {
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON document in `path`.
pub fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap()
}
