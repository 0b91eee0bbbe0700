//! What a seed's run keeps of its episodes beside the records: the moving window of returns
//! and, where a model gives the true values, the error of the agent's values.

use qlab_agents::Agent;
use serde::{Deserialize, Serialize};

use super::Truth;

/// Mean returns over a moving window of episodes.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Window {
    returns: Vec<f64>,
    next: usize,
    filled: bool,
    sum: f64,
    pub(super) best: Option<f64>,
}

impl Window {
    pub(super) fn new(size: u64) -> Self {
        Self {
            returns: vec![0.0; Window::capacity(size)],
            next: 0,
            filled: false,
            sum: 0.0,
            best: None,
        }
    }

    /// The returns a window of `size` episodes keeps.
    fn capacity(size: u64) -> usize {
        usize::try_from(size).unwrap_or(usize::MAX).min(1 << 24)
    }

    #[inline]
    pub(super) fn push(&mut self, ret: f64) {
        let n = self.returns.len();
        self.sum += ret - self.returns[self.next];
        self.returns[self.next] = ret;
        self.next += 1;
        if self.next == n {
            self.next = 0;
            self.filled = true;
            // Resum once per lap, so that rounding in the running sum never accumulates.
            self.sum = self.returns.iter().sum();
        }
        if self.filled {
            let mean = self.sum / n as f64;
            self.best = Some(self.best.map_or(mean, |b: f64| b.max(mean)));
        }
    }

    /// Whether this is a window of `size` episodes as [`Window::new`] makes one and
    /// [`Window::push`] keeps it (a window read back from a checkpoint may not be).
    pub(super) fn fits(&self, size: u64) -> bool {
        let n = Window::capacity(size);
        self.returns.len() == n && self.next < n && self.filled == self.best.is_some()
    }

    fn len(&self) -> usize {
        if self.filled {
            self.returns.len()
        } else {
            self.next
        }
    }

    /// The mean of the episodes in the window (all of them, before it fills), from the
    /// running sum: for progress displays.
    #[inline]
    pub(super) fn recent(&self) -> Option<f64> {
        let k = self.len();
        (k > 0).then(|| self.sum / k as f64)
    }

    /// The same, summed afresh: for the summary.
    pub(super) fn mean(&self) -> Option<f64> {
        let k = self.len();
        (k > 0).then(|| self.returns[..k].iter().sum::<f64>() / k as f64)
    }
}

/// What the loop notes of each episode beside its return: nothing (`()`), or the states it
/// visited, for the error of the agent's values ([`ValueErrors`]).
pub trait Tracker<O: ?Sized, G: ?Sized> {
    /// Takes the agent as a run starts or resumes.
    fn begin(&mut self, agent: &G);
    /// An episode starts.
    fn clear(&mut self);
    /// The episode reached `obs`.
    fn visit(&mut self, obs: &O);
    /// The episode (number `episode`, from 1) ended: the value error to record, if any.
    fn value_rmse(&mut self, agent: &G, episode: u64) -> Option<f64>;
}

impl<O: ?Sized, G: ?Sized> Tracker<O, G> for () {
    #[inline(always)]
    fn begin(&mut self, _: &G) {}
    #[inline(always)]
    fn clear(&mut self) {}
    #[inline(always)]
    fn visit(&mut self, _: &O) {}
    #[inline(always)]
    fn value_rmse(&mut self, _: &G, _: u64) -> Option<f64> {
        None
    }
}

/// The squared error of the agent's value in each state the truth compares, kept from episode
/// to episode and refreshed only in the states an episode visited.
///
/// A tabular agent learning from an episode changes the values of the states it visited and
/// of no others (every algorithm here: one-step, n-step and Monte Carlo updates, and traces,
/// which start empty each episode), so the refreshed errors are the errors afresh and
/// its `value_rmse` returns exactly [`Truth::rmse`], bit for bit, at a fraction of
/// its cost. Debug builds check that on every episode.
pub struct ValueErrors<'a> {
    truth: &'a Truth,
    /// The index of each state in `truth.states`, or `usize::MAX` for states not compared.
    position: Vec<usize>,
    /// The squared error of each compared state, in `truth.states` order.
    squared: Vec<f64>,
    /// `sums[i]`: the squared errors of positions `0..=i` added in order, as `Iterator::sum`
    /// adds them, so that an episode that changed nothing before position `k` adds again
    /// from `k` only, with the same bits.
    sums: Vec<f64>,
    /// The episode in which each compared state was last refreshed.
    refreshed: Vec<u64>,
    /// The states the episode under way visited.
    visited: Vec<usize>,
}

impl<'a> ValueErrors<'a> {
    /// Errors against `truth`, computed in full when the run begins.
    pub fn new(truth: &'a Truth) -> Self {
        let mut position = vec![usize::MAX; truth.values.len()];
        for (i, &s) in truth.states.iter().enumerate() {
            position[s] = i;
        }
        ValueErrors {
            truth,
            position,
            squared: Vec::new(),
            sums: Vec::new(),
            refreshed: vec![0; truth.states.len()],
            visited: Vec::new(),
        }
    }
}

impl ValueErrors<'_> {
    /// Adds the squared errors again from position `first` on, from the sum before it.
    #[inline]
    fn add_from(&mut self, first: usize) {
        // `Iterator::sum` of `f64` starts from −0.0: the first term alone, bit for bit.
        let mut sum = if first == 0 {
            -0.0
        } else {
            self.sums[first - 1]
        };
        for (total, &e) in self.sums[first..].iter_mut().zip(&self.squared[first..]) {
            sum += e;
            *total = sum;
        }
    }
}

impl<G: Agent<[usize], usize> + ?Sized> Tracker<[usize], G> for ValueErrors<'_> {
    fn begin(&mut self, agent: &G) {
        let truth = self.truth;
        self.squared = truth
            .states
            .iter()
            .map(|&s| (truth.value_of(agent, s) - truth.values[s]).powi(2))
            .collect();
        self.sums = vec![0.0; self.squared.len()];
        self.add_from(0);
    }

    #[inline(always)]
    fn clear(&mut self) {
        self.visited.clear();
    }

    #[inline(always)]
    fn visit(&mut self, x: &[usize]) {
        // A loop of pushes: one feature per state here, where `extend_from_slice` would call
        // `memcpy`.
        for &i in x {
            self.visited.push(i);
        }
    }

    /// Refreshes the states visited (episode `episode`, from 1) and returns the RMS error.
    #[inline]
    fn value_rmse(&mut self, agent: &G, episode: u64) -> Option<f64> {
        let mut first = usize::MAX;
        for &s in &self.visited {
            let i = self.position.get(s).copied().unwrap_or(usize::MAX);
            if i != usize::MAX && self.refreshed[i] != episode {
                self.refreshed[i] = episode;
                self.squared[i] = (self.truth.value_of(agent, s) - self.truth.values[s]).powi(2);
                first = first.min(i);
            }
        }
        // Summed in state order, as `Truth::rmse` and `dp::rms_error` sum.
        let rmse = match self.sums.last() {
            None => 0.0,
            Some(_) => {
                if first != usize::MAX {
                    self.add_from(first);
                }
                (self.sums[self.sums.len() - 1] / self.squared.len() as f64).sqrt()
            }
        };
        debug_assert_eq!(
            rmse.to_bits(),
            self.truth.rmse(agent).to_bits(),
            "an agent changed the value of a state its episode did not visit"
        );
        Some(rmse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_means_and_best() {
        let mut w = Window::new(3);
        assert_eq!(w.mean(), None);
        w.push(1.0);
        w.push(2.0);
        assert_eq!((w.mean(), w.best), (Some(1.5), None));
        w.push(6.0);
        assert_eq!((w.mean(), w.best), (Some(3.0), Some(3.0)));
        w.push(-6.0);
        assert_eq!((w.mean(), w.best), (Some(2.0 / 3.0), Some(3.0)));
        w.push(10.0);
        w.push(11.0);
        assert_eq!((w.mean(), w.best), (Some(5.0), Some(5.0)));
    }
}
