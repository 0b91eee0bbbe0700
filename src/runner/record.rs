//! The files of a run: the run directory, `metrics.csv`, `eval.csv`, the saved agent and
//! `summary.json`.
//!
//! ```text
//! RUN_DIR/
//!   config.toml          the resolved config: `qlab train RUN_DIR/config.toml` runs it again
//!   summary.json         status (complete, interrupted, failed), the seeds left; per seed
//!                        and aggregated: episodes, steps, time, final evaluation
//!   seed_<k>/
//!     metrics.csv        one row per training episode
//!     eval.csv           one row per greedy evaluation
//!     agent.json         the agent's algorithm, sizes and the parameter file's layout
//!     agent.bin          its parameters: little-endian f64, in `Agent::parameters` order
//!     tb/                with `[output] tensorboard`: TensorBoard event files (see
//!                        [`tensorboard`](super::tensorboard))
//!     best/              with `[train] keep_best`: the agent of the best evaluation, saved
//!                        as the last one is (`agent.json`, `agent.bin`)
//! ```
//!
//! Floats are written with Rust's shortest round-trip form, so that runs with bit-identical
//! numbers give byte-identical files.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::checkpoint::synced_len;
use crate::files::{write_atomic, write_file};
use qlab_agents::actor_critic::UpdateStats;
use qlab_agents::tabular::{Evaluation, TabularAgent};
use qlab_agents::{Agent, TrainStats};
use serde::{Deserialize, Serialize};

use super::tensorboard::Board;

/// The header of `metrics.csv`.
pub const METRICS_HEADER: &str = "episode,step,return,length,terminated,epsilon,value_rmse";

/// The header of `eval.csv`.
pub const EVAL_HEADER: &str = "episode,step,mean_return,std_return,episodes";

/// `train.csv`: one row per training of an agent that trains in batches
/// (`step,loss,mean_q,epsilon,gradient_steps,steps_per_second`).
pub(super) struct TrainLog {
    file: BufWriter<File>,
    path: PathBuf,
    /// The first step of this invocation and when it began, for `steps_per_second`.
    first: u64,
    start: Instant,
}

/// The header of `train.csv` of an on-policy run (PPO, A2C): one row per update, the
/// columns Stable-Baselines3's `train/…` log keys (empty where the algorithm has none: A2C's
/// `approx_kl` and `clip_fraction`, a categorical policy's `std`).
pub const ON_POLICY_TRAIN_HEADER: &str = "step,loss,policy_gradient_loss,value_loss,entropy_loss,\
     approx_kl,clip_fraction,explained_variance,learning_rate,std,gradient_steps,steps_per_second";

/// The header of `train.csv`.
pub const TRAIN_HEADER: &str = "step,loss,mean_q,epsilon,gradient_steps,steps_per_second";

impl TrainLog {
    /// A new `train.csv` at `path` under `header` ([`TRAIN_HEADER`] or
    /// [`ON_POLICY_TRAIN_HEADER`]), for a seed at step 0.
    pub(super) fn create(path: &Path, header: &str) -> Result<TrainLog> {
        let mut file = File::create(path).with_context(|| format!("{}", path.display()))?;
        writeln!(file, "{header}").with_context(|| format!("{}", path.display()))?;
        Ok(TrainLog::over(file, path, 0))
    }

    /// The `train.csv` at `path` cut back to `len` bytes ([`reopen`](super::checkpoint::reopen)), for a seed resumed at
    /// step `steps`.
    pub(super) fn reopen(path: &Path, len: u64, steps: u64) -> Result<TrainLog> {
        Ok(TrainLog::over(
            super::checkpoint::reopen(path, len)?,
            path,
            steps,
        ))
    }

    fn over(file: File, path: &Path, steps: u64) -> TrainLog {
        TrainLog {
            file: BufWriter::new(file),
            path: path.to_path_buf(),
            first: steps + 1,
            start: Instant::now(),
        }
    }

    /// Writes the row of a training at step `t` ([`TRAIN_HEADER`]).
    pub(super) fn row(&mut self, s: &TrainStats, epsilon: f64, t: u64) -> Result<()> {
        let rate = self.rate(t);
        writeln!(
            self.file,
            "{},{},{},{},{},{:.0}",
            s.step, s.loss, s.mean_q, epsilon, s.gradient_steps, rate
        )
        .with_context(|| format!("{}", self.path.display()))
    }

    /// Writes the row of an on-policy update at step `t` ([`ON_POLICY_TRAIN_HEADER`]; what
    /// the algorithm does not measure is left empty).
    pub(super) fn update_row(&mut self, s: &UpdateStats, t: u64) -> Result<()> {
        let rate = self.rate(t);
        let some = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
        writeln!(
            self.file,
            "{},{},{},{},{},{},{},{},{},{},{},{:.0}",
            s.step,
            s.loss,
            s.policy_gradient_loss,
            s.value_loss,
            s.entropy_loss,
            some(s.approx_kl),
            some(s.clip_fraction),
            s.explained_variance,
            s.learning_rate,
            some(s.std),
            s.gradient_steps,
            rate
        )
        .with_context(|| format!("{}", self.path.display()))
    }

    /// Steps per second of this invocation up to step `t`.
    fn rate(&self, t: u64) -> f64 {
        (t - self.first + 1) as f64 / self.start.elapsed().as_secs_f64()
    }

    /// Writes what is buffered.
    pub(super) fn flush(&mut self) -> Result<()> {
        self.file
            .flush()
            .with_context(|| format!("{}", self.path.display()))
    }

    /// Flushes and syncs the file to disk; returns its length, for a checkpoint.
    pub(super) fn sync(&mut self) -> Result<u64> {
        self.flush()?;
        synced_len(self.file.get_ref(), &self.path)
    }
}

/// Creates the run directory `dir`; it must not exist yet, so that no run is overwritten.
///
/// # Errors
/// An existing `dir` is the caller's mistake (a plain error); any other failure to create it
/// is a [`Failure`](super::Failure).
pub fn create_run_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        bail!(
            "{} already exists; runs are never overwritten: choose another --out",
            dir.display()
        );
    }
    no_file_above(dir)?;
    let made = match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => fs::create_dir_all(parent).with_context(|| format!("{}", parent.display())),
        None => Ok(()),
    }
    .and_then(|()| fs::create_dir(dir).with_context(|| format!("{}", dir.display())));
    made.map_err(|e| super::Failure(e).into())
}

/// A plain error when a file stands where a directory above `dir` must be: create_dir_all
/// reports that as "File exists", which names neither the file nor the trouble.
fn no_file_above(dir: &Path) -> Result<()> {
    if let Some(file) = dir.ancestors().skip(1).find(|a| a.is_file()) {
        bail!(
            "{} is a file, not a directory: {} cannot be made under it",
            file.display(),
            dir.display()
        );
    }
    Ok(())
}

/// A new run directory under `parent` named `<env>_<algorithm>_<UTC time>`, with `-2`, `-3`, …
/// appended if that name is taken. The directory is created, so two runs started in the same
/// second get different names.
///
/// # Errors
/// A [`Failure`](super::Failure) when a directory cannot be created.
pub fn default_run_dir(parent: &Path, env: &str, algorithm: &str) -> Result<PathBuf> {
    no_file_above(&parent.join("run"))?;
    create_named(parent, env, algorithm).map_err(|e| super::Failure(e).into())
}

fn create_named(parent: &Path, env: &str, algorithm: &str) -> Result<PathBuf> {
    fs::create_dir_all(parent).with_context(|| format!("{}", parent.display()))?;
    let base = format!("{env}_{algorithm}_{}", utc_timestamp());
    for k in 1.. {
        let name = if k == 1 {
            base.clone()
        } else {
            format!("{base}-{k}")
        };
        let dir = parent.join(name);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("{}", dir.display())),
        }
    }
    unreachable!("some suffix is free")
}

/// The current UTC time as `YYYYMMDD-HHMMSS`.
fn utc_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// One row of `metrics.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpisodeRow {
    /// The episode's number, from 1.
    pub episode: u64,
    /// Env steps taken in training when the episode ended.
    pub step: u64,
    /// Its undiscounted return.
    pub ret: f64,
    /// Its number of steps.
    pub length: u64,
    /// Whether it ended in a terminal state (else it was truncated).
    pub terminated: bool,
    /// The behaviour policy's ε when it ended.
    pub epsilon: f64,
    /// RMS error of the agent's values against the DP truth, where there is a model.
    pub value_rmse: Option<f64>,
}

/// Writes `metrics.csv` and `eval.csv` of one seed as the run goes.
pub struct Recorder {
    /// `metrics.csv`, and the rows not yet written to it: they are formatted straight into
    /// this buffer, which goes to the file whenever it passes [`METRICS_BUFFER`] bytes.
    metrics: File,
    rows: Row,
    eval: BufWriter<File>,
    dir: PathBuf,
    /// The last ε written, and its text with the comma (ε rarely changes between episodes).
    epsilon: (u64, String),
    /// The TensorBoard event file that takes the same records, with `[output] tensorboard`.
    board: Option<Board>,
}

/// A run stopped by an error still writes the rows it kept.
impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.metrics.write_all(&self.rows.buf);
    }
}

/// Bytes of `metrics.csv` rows kept before they are written.
const METRICS_BUFFER: usize = 1 << 16;

fn create(path: &Path, header: &str) -> Result<File> {
    let mut file = File::create(path).with_context(|| format!("{}", path.display()))?;
    writeln!(file, "{header}").with_context(|| format!("{}", path.display()))?;
    Ok(file)
}

impl Recorder {
    /// Creates `dir` (a seed's directory) and its two CSV files with their headers.
    pub fn create(dir: &Path) -> Result<Recorder> {
        fs::create_dir(dir).with_context(|| format!("{}", dir.display()))?;
        Ok(Recorder {
            metrics: create(&dir.join("metrics.csv"), METRICS_HEADER)?,
            rows: Row {
                buf: Vec::with_capacity(METRICS_BUFFER + 1024),
            },
            eval: BufWriter::new(create(&dir.join("eval.csv"), EVAL_HEADER)?),
            dir: dir.to_path_buf(),
            epsilon: (f64::NAN.to_bits(), String::new()),
            board: None,
        })
    }

    /// Sends the episodes, evaluations and trainings recorded from now on to `board` too.
    pub fn attach(&mut self, board: Board) {
        self.board = Some(board);
    }

    /// Records one training of an agent that trains in batches (to the event file only:
    /// `train.csv` has its own writer).
    pub fn train(&mut self, s: &TrainStats, epsilon: f64) -> Result<()> {
        match self.board.as_mut() {
            Some(board) => board.train(s, epsilon),
            None => Ok(()),
        }
    }

    /// An on-policy update, to the TensorBoard events if there are any (`train.csv` has its
    /// row from the train log).
    pub fn update(&mut self, s: &UpdateStats) -> Result<()> {
        match self.board.as_mut() {
            Some(board) => board.update(s),
            None => Ok(()),
        }
    }

    /// Reopens the CSV files of a seed's directory to continue a run: each is cut back to the
    /// length it had at the checkpoint (rows written after it are dropped) and appended to.
    pub fn reopen(dir: &Path, metrics_len: u64, eval_len: u64) -> Result<Recorder> {
        let open = |name: &str, len: u64| super::checkpoint::reopen(&dir.join(name), len);
        Ok(Recorder {
            metrics: open("metrics.csv", metrics_len)?,
            rows: Row {
                buf: Vec::with_capacity(METRICS_BUFFER + 1024),
            },
            eval: BufWriter::new(open("eval.csv", eval_len)?),
            dir: dir.to_path_buf(),
            epsilon: (f64::NAN.to_bits(), String::new()),
            board: None,
        })
    }

    /// Writes everything kept, syncs both files to disk and returns the lengths of
    /// `metrics.csv` and `eval.csv`: what a checkpoint records, or what a finished seed's
    /// summary stands on.
    pub fn sync(&mut self) -> Result<(u64, u64)> {
        self.flush()?;
        if let Some(board) = self.board.as_mut() {
            board.flush()?;
        }
        let eval = self.dir.join("eval.csv");
        self.eval
            .flush()
            .with_context(|| format!("{}", eval.display()))?;
        Ok((
            synced_len(&self.metrics, &self.dir.join("metrics.csv"))?,
            synced_len(self.eval.get_ref(), &eval)?,
        ))
    }

    /// Appends one episode.
    #[inline]
    pub fn episode(&mut self, r: &EpisodeRow) -> Result<()> {
        if let Some(board) = self.board.as_mut() {
            board.episode(r.step, r.ret, r.length, r.epsilon)?;
        }
        // Formatting a row costs less than the steps of a short episode: see `Row`.
        let row = &mut self.rows;
        row.u64(r.episode);
        row.u64(r.step);
        row.f64(r.ret);
        row.u64(r.length);
        row.text(if r.terminated { "true," } else { "false," });
        if r.epsilon.to_bits() != self.epsilon.0 {
            self.epsilon = (r.epsilon.to_bits(), Row::of(r.epsilon));
        }
        row.text(&self.epsilon.1);
        match r.value_rmse {
            Some(e) => {
                row.f64(e);
                row.end();
            }
            // An empty last field: the comma after ε stays.
            None => row.text("\n"),
        }
        if row.buf.len() >= METRICS_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends one evaluation, and flushes both files so that a run stopped later keeps them.
    pub fn evaluation(&mut self, episode: u64, step: u64, e: &Evaluation) -> Result<()> {
        if let Some(board) = self.board.as_mut() {
            board.evaluation(step, e)?;
            board.flush()?;
        }
        writeln!(
            self.eval,
            "{episode},{step},{},{},{}",
            e.mean, e.std, e.episodes
        )
        .and_then(|()| self.eval.flush())
        .with_context(|| format!("{}", self.dir.join("eval.csv").display()))?;
        self.flush()
    }

    /// Writes the rows kept so far to `metrics.csv`.
    pub fn flush(&mut self) -> Result<()> {
        let written = self.metrics.write_all(&self.rows.buf);
        self.rows.buf.clear();
        written.with_context(|| format!("{}", self.dir.join("metrics.csv").display()))
    }

    /// Writes everything kept, the event file's too: the run's records are complete.
    pub fn finish(&mut self) -> Result<()> {
        self.flush()?;
        match self.board.as_mut() {
            Some(board) => board.flush(),
            None => Ok(()),
        }
    }
}

/// CSV rows under construction: fields each followed by a comma, the last comma replaced by
/// the line end. Numbers are formatted by hand where that is faster than `fmt` and gives the
/// same text.
#[derive(Default)]
struct Row {
    buf: Vec<u8>,
}

impl Row {
    /// `x` and a comma, as a new string.
    fn of(x: f64) -> String {
        let mut r = Row::default();
        r.f64(x);
        String::from_utf8_lossy(&r.buf).into_owned()
    }

    #[inline]
    fn text(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// `n` and a comma.
    #[inline]
    fn u64(&mut self, mut n: u64) {
        let count = n.checked_ilog10().map_or(1, |d| d as usize + 1);
        // Written in place at the end of the row (the comma first), two digits at a time from
        // a table: half as many dependent divisions, and no copy of a stack array whose
        // narrow stores the wide loads of a copy would wait for.
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899";
        let start = self.buf.len();
        self.buf.resize(start + count + 1, b',');
        let out = &mut self.buf[start..start + count];
        let mut i = count;
        while i >= 2 {
            let pair = 2 * (n % 100) as usize;
            n /= 100;
            out[i - 2..i].copy_from_slice(&PAIRS[pair..pair + 2]);
            i -= 2;
        }
        if i == 1 {
            out[0] = b'0' + n as u8;
        }
    }

    /// `x` exactly as `format!("{x}")` writes it (the shortest text that reads back as the
    /// same number, never in exponent form), and a comma.
    #[inline]
    fn f64(&mut self, x: f64) {
        // Whole numbers (the returns of most tasks) as integers: below 2^53 every integer is
        // a double and none shorter reads back as it, so this is `{}`'s text.
        if x == x.trunc() && x.abs() < 9_007_199_254_740_992.0 {
            if x.is_sign_negative() {
                self.text("-");
            }
            self.u64(x.abs() as u64);
            return;
        }
        // Where the lowest set bit of `x` lies below 2^-26, its exact decimal expansion (and
        // that of the ends of its rounding interval) runs past 18 significant digits, so no
        // two shortest candidates tie: zmij's digits (Schubfach) are then `{}`'s, four times
        // faster. Its exponent form for small numbers (`1.25e-7`) is written out as `{}`
        // writes it (`0.000000125`); elsewhere, `{}` itself.
        if x.is_finite() && (x * 67_108_864.0).fract() != 0.0 {
            let mut b = zmij::Buffer::new();
            let s = b.format_finite(x);
            match s.split_once('e') {
                None => {
                    self.text(s);
                    self.text(",");
                    return;
                }
                Some((mantissa, exp)) => {
                    if let Some(zeros) = exp.strip_prefix('-').and_then(|e| e.parse::<usize>().ok())
                    {
                        self.small(mantissa, zeros);
                        return;
                    }
                }
            }
        }
        use std::io::Write as _;
        let _ = write!(self.buf, "{x},");
    }

    /// `mantissa · 10^-exp` (`mantissa` as zmij writes it: `d`, `d.ddd`, signed) in plain
    /// decimal, and a comma.
    #[inline(never)]
    fn small(&mut self, mantissa: &str, exp: usize) {
        let (sign, digits) = match mantissa.strip_prefix('-') {
            Some(m) => ("-", m),
            None => ("", mantissa),
        };
        let (first, rest) = digits.split_once('.').unwrap_or((digits, ""));
        self.text(sign);
        self.text("0.");
        self.buf.resize(self.buf.len() + exp - 1, b'0');
        self.text(first);
        self.text(rest);
        self.text(",");
    }

    /// Replaces the trailing comma with the line end.
    #[inline]
    fn end(&mut self) {
        if let Some(last) = self.buf.last_mut() {
            *last = b'\n';
        }
    }
}

/// The subdirectory of a seed's directory that holds the best agent (`[train] keep_best`),
/// saved as the seed's last agent is: `seed_<k>/best/agent.json` and the parameters beside it.
pub const BEST: &str = "best";

/// Which of a seed's saved agents a command reloads (`--agent`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AgentChoice {
    /// The agent as training left it, in `seed_<k>/`.
    #[default]
    Last,
    /// The agent of the best evaluation (`[train] keep_best`), in `seed_<k>/best/`.
    Best,
}

impl AgentChoice {
    /// The directory that holds this agent of the seed whose directory is `seed_dir`.
    pub fn dir(self, seed_dir: &Path) -> PathBuf {
        match self {
            AgentChoice::Last => seed_dir.to_path_buf(),
            AgentChoice::Best => {
                // A kill while the best was replaced leaves the previous best aside.
                let (best, old) = (seed_dir.join(BEST), seed_dir.join(format!("{BEST}.old")));
                if !best.exists() && old.exists() {
                    old
                } else {
                    best
                }
            }
        }
    }

    /// Where a seed keeps this agent's `agent.json`, as error messages name it.
    pub fn file(self) -> &'static str {
        match self {
            AgentChoice::Last => "seed_<k>/agent.json",
            AgentChoice::Best => "seed_<k>/best/agent.json",
        }
    }

    /// Checks that the run in `dir`, trained with `train`, keeps this agent: `best` needs
    /// `[train] keep_best = true`.
    ///
    /// # Errors
    /// `best` asked of a run trained without `keep_best`.
    pub fn check(self, train: &crate::config::TrainConfig, dir: &Path) -> Result<()> {
        if self == AgentChoice::Best && !train.keep_best {
            bail!(
                "--agent best: {} was trained without [train] keep_best = true, so it kept only \
                 its last agents; use --agent last",
                dir.display()
            );
        }
        Ok(())
    }
}

/// `agent.json`: what is needed to load `agent.bin` back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedAgent {
    /// The `algorithm` of the config.
    pub algorithm: String,
    /// The number of features the agent was built with.
    pub n_features: usize,
    /// The number of actions.
    pub n_actions: usize,
    /// The number of parameters in `agent.bin`.
    pub n_parameters: usize,
    /// The parameter file's name, next to this one.
    pub parameters: String,
    /// Its format: `"f64-le"`, little-endian IEEE 754 doubles, in the agent's documented
    /// order (`numpy.fromfile(path, "<f8")` reads it).
    pub format: String,
}

/// The name of the file that describes a saved agent, beside its parameters.
pub const AGENT_JSON: &str = "agent.json";

/// Writes `meta` as `dir/agent.json` (pretty JSON, a final newline).
pub(super) fn write_agent_json<T: Serialize>(dir: &Path, meta: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(meta)? + "\n";
    write_file(&dir.join(AGENT_JSON), text.as_bytes())
}

/// Reads `dir/agent.json` as `T`, with its path (for messages); `None` when there is none
/// (the seed saved no agent).
pub(super) fn read_agent_json<T: serde::de::DeserializeOwned>(
    dir: &Path,
) -> Result<Option<(PathBuf, T)>> {
    let json = dir.join(AGENT_JSON);
    if !json.is_file() {
        return Ok(None);
    }
    let text = fs::read_to_string(&json).with_context(|| format!("{}", json.display()))?;
    let meta = serde_json::from_str(&text).with_context(|| format!("{}", json.display()))?;
    Ok(Some((json, meta)))
}

/// Saves `agent` as `dir/agent.json` and `dir/agent.bin`.
pub fn save_agent<G: TabularAgent + ?Sized>(
    dir: &Path,
    algorithm: &str,
    n_features: usize,
    agent: &G,
) -> Result<()> {
    let bin = dir.join("agent.bin");
    write_atomic(&bin, |tmp| Ok(Agent::<[usize], usize>::save(agent, tmp)?))?;
    let meta = SavedAgent {
        algorithm: algorithm.to_string(),
        n_features,
        n_actions: agent.n_actions(),
        n_parameters: agent.parameters().len(),
        parameters: "agent.bin".into(),
        format: "f64-le".into(),
    };
    write_agent_json(dir, &meta)
}

/// Reads `dir/agent.json` and the parameters it names.
pub fn load_agent(dir: &Path) -> Result<(SavedAgent, Vec<f64>)> {
    let json = dir.join("agent.json");
    let text = fs::read_to_string(&json).with_context(|| format!("{}", json.display()))?;
    let meta: SavedAgent =
        serde_json::from_str(&text).with_context(|| format!("{}", json.display()))?;
    if meta.format != "f64-le" {
        bail!(
            "{}: unknown parameter format `{}`; expected `f64-le`",
            json.display(),
            meta.format
        );
    }
    let bin = dir.join(&meta.parameters);
    let bytes = fs::read(&bin).with_context(|| format!("{}", bin.display()))?;
    if bytes.len() != meta.n_parameters * 8 {
        bail!(
            "{}: {} bytes, expected {} ({} parameters of 8 bytes)",
            bin.display(),
            bytes.len(),
            meta.n_parameters * 8,
            meta.n_parameters
        );
    }
    let params = bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    Ok((meta, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row writer's numbers are exactly `{}`'s, over whole numbers, ordinary fractions,
    /// extremes and random bit patterns.
    #[test]
    fn rows_write_floats_as_display_does() {
        let mut rng = qlab_envs::EnvRng::new(7);
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -13.0,
            0.1,
            1e-7,
            1.5e-300,
            1e15,
            9.0e15,
            1e16,
            1e300,
            -2.5,
            6.536416763623292,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            123456789.125,
            0.30000000000000004,
        ];
        for _ in 0..20_000 {
            use rand::RngCore;
            values.push(f64::from_bits(rng.next_u64()));
            values.push(rng.next_f64() * 1000.0 - 500.0);
            values.push(rng.next_f64());
            values.push(rng.next_f64().powi(8));
            // Few significant bits, where digit ties live.
            values.push((rng.below(1 << 20) as f64) * 2f64.powi(rng.below(80) as i32 - 60));
            // Small numbers, which zmij writes in its exponent form.
            values.push(-(rng.next_f64() * 10f64.powi(-(rng.below(40) as i32))));
        }
        for x in values {
            let mut row = Row::default();
            row.text("x,");
            row.f64(x);
            row.u64(u64::MAX);
            row.end();
            let want = format!("x,{x},{}\n", u64::MAX);
            assert_eq!(std::str::from_utf8(&row.buf).unwrap(), want, "{:e}", x);
        }
    }

    /// The row writer's integers are `{}`'s, at every length.
    #[test]
    fn rows_write_integers_as_display_does() {
        let mut rng = qlab_envs::EnvRng::new(3);
        let mut values = vec![0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, u64::MAX];
        for d in 0..20 {
            values.push(10u64.pow(d) - 1);
            values.push(10u64.pow(d));
        }
        for _ in 0..10_000 {
            use rand::RngCore;
            values.push(rng.next_u64() >> rng.below(64));
        }
        for n in values {
            let mut row = Row::default();
            row.u64(n);
            row.end();
            assert_eq!(std::str::from_utf8(&row.buf).unwrap(), format!("{n}\n"));
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        // 2024-12-31 is day 20088 (`date -d 2024-12-31 +%s` / 86400).
        assert_eq!(civil_from_days(20_088), (2024, 12, 31));
        assert_eq!(civil_from_days(20_089), (2025, 1, 1));
    }
}
