//! Progress of a run: each seed's worker stores its counts in its own [`Slot`] (a few relaxed
//! atomic stores per episode); one display thread reads them and draws a bar on a terminal,
//! or prints plain lines otherwise. Workers never touch the terminal.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::Budget;

/// One seed's counters, on its own cache line so that workers never share one.
#[repr(align(64))]
#[derive(Debug)]
pub struct Slot {
    episodes: AtomicU64,
    steps: AtomicU64,
    /// The recent mean return's bits; `u64::MAX` (a NaN) for none yet.
    recent: AtomicU64,
    done: AtomicBool,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            episodes: AtomicU64::new(0),
            steps: AtomicU64::new(0),
            recent: AtomicU64::new(u64::MAX),
            done: AtomicBool::new(false),
        }
    }
}

impl Slot {
    /// Records a finished episode.
    #[inline]
    pub fn episode(&self, episodes: u64, steps: u64, recent_return: Option<f64>) {
        self.episodes.store(episodes, Ordering::Relaxed);
        self.steps.store(steps, Ordering::Relaxed);
        self.recent.store(
            recent_return.map_or(u64::MAX, f64::to_bits),
            Ordering::Relaxed,
        );
    }

    /// Records the end of the seed's run.
    pub fn finish(&self, episodes: u64, steps: u64) {
        self.episodes.store(episodes, Ordering::Relaxed);
        self.steps.store(steps, Ordering::Relaxed);
        self.done.store(true, Ordering::Release);
    }

    fn recent(&self) -> Option<f64> {
        let r = f64::from_bits(self.recent.load(Ordering::Relaxed));
        (!r.is_nan()).then_some(r)
    }
}

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// A bar redrawn in place on stderr, for a terminal.
    Bar,
    /// A plain line on stderr every few seconds, for logs.
    Lines,
    /// Nothing.
    Quiet,
}

/// The slots of all seeds, and what the display needs to draw them.
pub struct Progress {
    /// One slot per seed, in seed order.
    pub slots: Vec<Slot>,
    seeds: Vec<u64>,
    budget: Budget,
    start: Instant,
}

impl Progress {
    /// Slots for `seeds`, each training for `budget`.
    pub fn new(seeds: &[u64], budget: Budget) -> Progress {
        Progress {
            slots: seeds.iter().map(|_| Slot::default()).collect(),
            seeds: seeds.to_vec(),
            budget,
            start: Instant::now(),
        }
    }

    fn totals(&self) -> (u64, u64, usize, Option<f64>) {
        let (mut episodes, mut steps, mut done) = (0, 0, 0);
        let (mut sum, mut n) = (0.0, 0);
        for s in &self.slots {
            episodes += s.episodes.load(Ordering::Relaxed);
            steps += s.steps.load(Ordering::Relaxed);
            done += usize::from(s.done.load(Ordering::Acquire));
            if let Some(r) = s.recent() {
                sum += r;
                n += 1;
            }
        }
        (episodes, steps, done, (n > 0).then(|| sum / n as f64))
    }

    /// The current state in one line: `[bar] done/total unit · seeds · rate · recent return`.
    pub fn line(&self, bar: bool) -> String {
        let (episodes, steps, done, recent) = self.totals();
        let seeds = self.slots.len() as u64;
        let (count, total, unit) = match self.budget {
            Budget::Episodes(n) => (episodes, n.saturating_mul(seeds), "episodes"),
            Budget::Steps(n) => (steps, n.saturating_mul(seeds), "steps"),
        };
        let elapsed = self.start.elapsed().as_secs_f64().max(1e-9);
        let mut out = String::new();
        if bar {
            let width = 20;
            let filled = ((count as f64 / total.max(1) as f64) * width as f64) as usize;
            let filled = filled.min(width);
            out.push('[');
            out.push_str(&"#".repeat(filled));
            out.push_str(&"-".repeat(width - filled));
            out.push_str("] ");
        }
        out.push_str(&format!(
            "{count}/{total} {unit} · {}/{} seeds · {} steps/s",
            done,
            seeds,
            si(steps as f64 / elapsed)
        ));
        if let Some(r) = recent {
            out.push_str(&format!(" · return {r:.2}"));
        }
        out
    }

    /// Shows progress until `finished` is set, then clears the bar. Run it on its own thread;
    /// wake it with `Thread::unpark` when setting `finished` so that it returns at once.
    pub fn show(&self, display: Display, finished: &AtomicBool) {
        let interval = match display {
            Display::Quiet => return,
            Display::Bar => Duration::from_millis(100),
            Display::Lines => Duration::from_secs(5),
        };
        let mut seen_done = vec![false; self.slots.len()];
        let mut stderr = std::io::stderr();
        while !finished.load(Ordering::Acquire) {
            std::thread::park_timeout(interval);
            match display {
                Display::Bar => {
                    let _ = write!(stderr, "\r\x1b[2K{}", self.line(true));
                }
                Display::Lines => {
                    for (i, s) in self.slots.iter().enumerate() {
                        if !seen_done[i] && s.done.load(Ordering::Acquire) {
                            seen_done[i] = true;
                            let _ = writeln!(
                                stderr,
                                "seed {} done: {} episodes, {} steps",
                                self.seeds[i],
                                s.episodes.load(Ordering::Relaxed),
                                s.steps.load(Ordering::Relaxed)
                            );
                        }
                    }
                    if !finished.load(Ordering::Acquire) {
                        let _ = writeln!(stderr, "{}", self.line(false));
                    }
                }
                Display::Quiet => {}
            }
            let _ = stderr.flush();
        }
        if display == Display::Bar {
            let _ = write!(stderr, "\r\x1b[2K");
        }
        let _ = writeln!(stderr, "{}", self.line(false));
    }
}

/// `x` with an SI prefix: `12.3M`.
pub fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.1}G", x / 1e9),
        x if x >= 1e6 => format!("{:.1}M", x / 1e6),
        x if x >= 1e3 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_sums_the_seeds() {
        let p = Progress::new(&[0, 1], Budget::Episodes(10));
        p.slots[0].episode(4, 40, Some(-2.0));
        p.slots[1].finish(10, 100);
        let line = p.line(true);
        assert!(
            line.starts_with("[##############------] 14/20 episodes · 1/2 seeds · "),
            "{line}"
        );
        assert!(line.ends_with(" steps/s · return -2.00"), "{line}");
        assert_eq!(si(12_345_678.0), "12.3M");
        assert_eq!(si(999.0), "999");
    }
}
