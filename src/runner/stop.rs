//! Stopping a run cleanly: the [`Stop`] token the seed loop reads at each episode end, the
//! signal handlers of `qlab train` that set it, and what a stopped seed and a stopped run
//! return.
//!
//! When a stop is requested, each seed in flight finishes its current episode, writes its
//! records and a checkpoint (whatever `[train] checkpoint_every` says) and returns
//! [`Stopped`]; seeds not yet started are not started. The run's `summary.json` then says
//! `"status": "interrupted"` and lists the seeds left, and the run returns [`Interrupted`],
//! which names the `qlab train --resume` command that finishes it byte-identically.
//!
//! [`Stop::on_signals`] sets the token on the first SIGINT, SIGTERM or SIGHUP; a second one
//! ends the process at once, as SIGKILL would: every checkpoint is written atomically, so the
//! last ones are kept and `--resume` continues from them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A request to stop a run at the next episode end, shared by every seed's thread: cloning
/// it gives another handle on the same request. Reading it is one relaxed atomic load.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    /// The number of the signal that asked for the stop; 0 while none has.
    signal: Arc<AtomicUsize>,
}

impl Stop {
    /// A token no one has set yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks the run to stop, as the signal numbered `signal` (at least 1) does; the first
    /// request is the one kept.
    pub fn request(&self, signal: i32) {
        let signal = usize::try_from(signal).unwrap_or(0).max(1);
        let _ = self
            .signal
            .compare_exchange(0, signal, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Whether a stop has been requested.
    #[inline]
    pub fn requested(&self) -> bool {
        self.signal.load(Ordering::Relaxed) != 0
    }

    /// The number of the signal that asked for the stop, if one has.
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::Relaxed) {
            0 => None,
            s => Some(i32::try_from(s).unwrap_or(i32::MAX)),
        }
    }

    /// A token set by the first SIGINT, SIGTERM or SIGHUP, which also prints on stderr what
    /// happens next; a second such signal ends the process at once with the status shells
    /// give a process killed by it, 128 + its number. The handlers stay until the returned
    /// [`SignalGuard`] is dropped; after that, any of these signals ends the process at once.
    ///
    /// # Errors
    /// A handler that cannot be installed.
    #[cfg(unix)]
    pub fn on_signals() -> anyhow::Result<(Stop, SignalGuard)> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        use signal_hook::flag;
        use std::sync::atomic::AtomicBool;

        let stop = Stop::new();
        // Set by the first signal; the handler registered first ends the process when a
        // signal finds it set (signal-hook runs a signal's actions in the order registered).
        let armed = Arc::new(AtomicBool::new(false));
        for signal in SIGNALS {
            flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&armed))?;
            flag::register_usize(signal, Arc::clone(&stop.signal), signal as usize)?;
            flag::register(signal, Arc::clone(&armed))?;
        }
        // Printing is not safe in a signal handler: a thread says what happens next.
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        let handle = signals.handle();
        let notice = std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                eprintln!("\n{}", notice(signal));
            }
        });
        let guard = SignalGuard {
            stop: stop.clone(),
            armed,
            handle,
            notice: Some(notice),
        };
        Ok((stop, guard))
    }

    /// A token no signal sets: signals keep their default actions where they are not Unix's.
    #[cfg(not(unix))]
    pub fn on_signals() -> anyhow::Result<(Stop, SignalGuard)> {
        Ok((Stop::new(), SignalGuard {}))
    }
}

/// The signals that stop a run cleanly.
#[cfg(unix)]
const SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
];

/// What `qlab train` prints when the first signal arrives.
pub fn notice(signal: i32) -> String {
    let again = if signal_name(signal) == "SIGINT" {
        "press Ctrl-C again"
    } else {
        "send it again"
    };
    format!(
        "{}: stopping: each seed finishes its episode and writes a checkpoint ({again} to stop \
         at once, keeping only the checkpoints already written)",
        signal_name(signal)
    )
}

/// The signal handlers installed by [`Stop::on_signals`]. Dropping it stops the thread that
/// prints the notice, and makes any later SIGINT, SIGTERM or SIGHUP end the process at once
/// (with status 128 + its number), as it would without handlers.
pub struct SignalGuard {
    #[cfg(unix)]
    stop: Stop,
    #[cfg(unix)]
    armed: Arc<std::sync::atomic::AtomicBool>,
    #[cfg(unix)]
    handle: signal_hook::iterator::Handle,
    #[cfg(unix)]
    notice: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        // signal-hook leaves its handler in place when actions are removed, and a handler
        // with no actions would ignore the signal: the handlers stay, armed to end the
        // process.
        #[cfg(unix)]
        {
            self.armed.store(true, Ordering::SeqCst);
            // A signal came: give the notice its moment to be printed before closing.
            if let Some(t) = self.notice.take() {
                let start = std::time::Instant::now();
                while self.stop.requested()
                    && !t.is_finished()
                    && start.elapsed() < std::time::Duration::from_secs(1)
                {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                self.handle.close();
                let _ = t.join();
            }
        }
    }
}

/// The name of a signal: `SIGINT`, `SIGTERM`, `SIGHUP`, else `signal <n>`.
pub fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        1 => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}

/// Why a seed returned without finishing: a stop was requested. Returned as the seed's error
/// (the seed's counterpart of [`std::io::ErrorKind::Interrupted`]), so that it is told apart
/// from a failure by downcasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The seed stopped at an episode end and wrote a checkpoint there: `--resume`
    /// continues it from that step.
    AtCheckpoint {
        /// Env steps taken.
        step: u64,
    },
    /// The seed stopped at an episode end without a checkpoint, because its env cannot save
    /// its random stream: `--resume` starts it again.
    WithoutCheckpoint,
    /// The seed had not started.
    NotStarted,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::AtCheckpoint { step } => write!(f, "stopped at a checkpoint at step {step}"),
            Stopped::WithoutCheckpoint => write!(
                f,
                "stopped without a checkpoint (its env cannot save its random stream)"
            ),
            Stopped::NotStarted => write!(f, "not started"),
        }
    }
}

impl std::error::Error for Stopped {}

/// A run stopped before every seed finished, its records and checkpoints written and its
/// `summary.json` marked `"interrupted"`. Its message names the command that finishes it;
/// `qlab` exits with [`Interrupted::exit_code`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interrupted {
    /// The signal that asked for the stop.
    pub signal: i32,
    /// The run directory.
    pub dir: PathBuf,
    /// Seeds of the config.
    pub seeds: usize,
    /// Seeds that finished.
    pub finished: usize,
    /// Seeds that stopped at a checkpoint.
    pub at_checkpoint: usize,
    /// Seeds that stopped without one (`--resume` starts them again).
    pub without_checkpoint: usize,
}

impl Interrupted {
    /// The status a shell gives a process killed by the signal: 128 + its number (130 for
    /// SIGINT, 143 for SIGTERM, 129 for SIGHUP).
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal.clamp(0, 127)).unwrap_or(u8::MAX)
    }

    /// The command that finishes the run, its directory quoted for a POSIX shell.
    pub fn resume_command(&self) -> String {
        format!(
            "qlab train --resume {}",
            shell_quote(&self.dir.display().to_string())
        )
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let not_started = self
            .seeds
            .saturating_sub(self.finished + self.at_checkpoint + self.without_checkpoint);
        write!(
            f,
            "interrupted by {}: {} of {} seeds finished",
            signal_name(self.signal),
            self.finished,
            self.seeds
        )?;
        for (n, what) in [
            (self.at_checkpoint, "stopped at a checkpoint"),
            (self.without_checkpoint, "stopped without a checkpoint"),
            (not_started, "not started"),
        ] {
            if n > 0 {
                write!(f, ", {n} {what}")?;
            }
        }
        write!(f, "\nto finish it: {}", self.resume_command())
    }
}

impl std::error::Error for Interrupted {}

/// `s` as one word for a POSIX shell: as it is when it holds only characters no shell
/// treats specially, else in single quotes.
fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./+=:,@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_is_kept_and_every_handle_sees_it() {
        let stop = Stop::new();
        let other = stop.clone();
        assert!(!other.requested());
        assert_eq!(other.signal(), None);
        stop.request(15);
        stop.request(2);
        assert!(other.requested());
        assert_eq!(other.signal(), Some(15));
    }

    #[test]
    fn an_interrupted_run_names_its_resume_command_and_exit_code() {
        let i = Interrupted {
            signal: 2,
            dir: PathBuf::from("runs/it's here"),
            seeds: 5,
            finished: 1,
            at_checkpoint: 2,
            without_checkpoint: 0,
        };
        assert_eq!(
            i.to_string(),
            "interrupted by SIGINT: 1 of 5 seeds finished, 2 stopped at a checkpoint, \
             2 not started\nto finish it: qlab train --resume 'runs/it'\\''s here'"
        );
        assert_eq!(i.exit_code(), 130);
        let term = Interrupted {
            signal: 15,
            dir: PathBuf::from("runs/a_b-1"),
            ..i.clone()
        };
        assert_eq!(term.exit_code(), 143);
        assert_eq!(term.resume_command(), "qlab train --resume runs/a_b-1");
        assert_eq!(Interrupted { signal: 1, ..i }.exit_code(), 129);
    }

    #[test]
    fn the_notice_says_how_to_stop_at_once() {
        assert!(notice(2).starts_with("SIGINT: stopping: "), "{}", notice(2));
        assert!(notice(2).contains("press Ctrl-C again"));
        assert!(notice(15).contains("send it again"));
    }
}
