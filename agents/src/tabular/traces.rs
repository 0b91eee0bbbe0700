//! Eligibility traces over binary features, kept sparse: [`SparseTraces`], [`TraceKind`].

use serde::{Deserialize, Serialize};

/// How the trace of an active feature grows — Sutton & Barto §12.2, §12.5 and §12.6, for
/// binary features `x` and step size `α`:
///
/// | TOML | trace | update of `z` when `x` is active |
/// |---|---|---|
/// | `trace = "accumulating"` | accumulating | `z ← γλ z + x` |
/// | `trace = "replacing"` | replacing | `z ← γλ z`, then `z_i ← 1` for every active `i` |
/// | `trace = "dutch"` | dutch | `z ← γλ z + (1 − α γλ zᵀx) x` |
///
/// On a tabular state the dutch trace of the state visited becomes `(1 − α) γλ z + 1`: between
/// the two others, and the trace that makes TD(λ) equal the online λ-return algorithm (the
/// true online methods).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    /// `z ← γλ z + x`.
    #[default]
    Accumulating,
    /// `z ← γλ z`, active features set to 1.
    Replacing,
    /// `z ← γλ z + (1 − α γλ zᵀx) x`.
    Dutch,
}

/// Eligibility traces `z`, one per weight, of which only the nonzero ones are visited.
///
/// A trace decays by `γλ` each step; an episode of `T` steps touches at most the weights of
/// the states it visited, and after `log(cutoff) / log(γλ)` steps without a visit a trace
/// falls to the cutoff and is dropped. The work per step is therefore proportional to the
/// number of recently visited weights, not to the size of the table.
///
/// **Cutoff.** A trace whose magnitude falls to `cutoff` or below is set to 0 and leaves the
/// list: the learner ignores credit below that size (with `γλ = 0.9` and cutoff `1e-4`, after
/// 88 steps). Cutoff `0` drops only traces that are exactly 0 (underflow, or a cut by
/// Watkins's Q(λ)), and is exact.
///
/// The order in which the step methods are called follows S&B's pseudocode with the decay
/// moved to the end of the step, so that one pass over the list updates the weights and
/// decays: [`mark`](Self::mark) the features of the current state (the stored traces are
/// then `γλ z_{t−1}`), then [`apply_and_decay`](Self::apply_and_decay).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SparseTraces {
    z: Vec<f64>,
    /// Whether each weight is in `active`.
    listed: Vec<bool>,
    /// The weights with a trace, in no particular order.
    active: Vec<usize>,
    cutoff: f64,
}

impl SparseTraces {
    /// Traces for `n` weights, all 0, dropping traces of magnitude `cutoff` or less.
    pub fn new(n: usize, cutoff: f64) -> Self {
        Self {
            z: vec![0.0; n],
            listed: vec![false; n],
            active: Vec::new(),
            cutoff,
        }
    }

    /// Sets every trace to 0 (at the start of an episode).
    pub fn clear(&mut self) {
        for &i in &self.active {
            self.z[i] = 0.0;
            self.listed[i] = false;
        }
        self.active.clear();
    }

    /// The trace of weight `i`.
    #[inline]
    pub fn get(&self, i: usize) -> f64 {
        self.z[i]
    }

    /// The number of nonzero traces.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// Whether every trace is 0.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// The nonzero traces as `(weight, trace)`, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.active.iter().map(|&i| (i, self.z[i]))
    }

    #[inline]
    fn list(&mut self, i: usize) {
        if !self.listed[i] {
            self.listed[i] = true;
            self.active.push(i);
        }
    }

    /// Adds the active features of the current state to the traces, which must hold
    /// `γλ z_{t−1}` (the decay of the previous [`apply_and_decay`](Self::apply_and_decay)).
    ///
    /// The weights are `x[j] · stride + offset`: `stride = n_actions` and `offset = a` for
    /// the features of a state-action pair, `stride = 1` and `offset = 0` for state values.
    /// `alpha` is the step size of this update, used by dutch traces only.
    #[inline]
    pub fn mark(&mut self, x: &[usize], stride: usize, offset: usize, kind: TraceKind, alpha: f64) {
        match kind {
            TraceKind::Accumulating => {
                for &i in x {
                    let k = i * stride + offset;
                    self.list(k);
                    self.z[k] += 1.0;
                }
            }
            TraceKind::Replacing => {
                for &i in x {
                    let k = i * stride + offset;
                    self.list(k);
                    self.z[k] = 1.0;
                }
            }
            TraceKind::Dutch => {
                // (1 − α γλ z_{t−1}ᵀx) with the stored traces already multiplied by γλ.
                let zx: f64 = x.iter().map(|&i| self.z[i * stride + offset]).sum();
                let add = 1.0 - alpha * zx;
                for &i in x {
                    let k = i * stride + offset;
                    self.list(k);
                    self.z[k] += add;
                }
            }
        }
    }

    /// In one pass over the nonzero traces: `w += step · z`, then `z ← decay · z`, dropping
    /// the traces that fall to the cutoff or below. `decay = 0` clears them all (Watkins's
    /// Q(λ) after an exploratory action).
    #[inline]
    pub fn apply_and_decay(&mut self, w: &mut [f64], step: f64, decay: f64) {
        let mut j = 0;
        while j < self.active.len() {
            let i = self.active[j];
            let z = self.z[i];
            w[i] += step * z;
            let z = z * decay;
            if z.abs() > self.cutoff {
                self.z[i] = z;
                j += 1;
            } else {
                self.z[i] = 0.0;
                self.listed[i] = false;
                self.active.swap_remove(j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlab_envs::EnvRng;

    /// The same operations on a dense vector, straight from S&B's formulas.
    struct Dense {
        z: Vec<f64>,
    }

    impl Dense {
        fn mark(&mut self, x: &[usize], kind: TraceKind, alpha: f64) {
            let zx: f64 = x.iter().map(|&i| self.z[i]).sum();
            for &i in x {
                match kind {
                    TraceKind::Accumulating => self.z[i] += 1.0,
                    TraceKind::Replacing => self.z[i] = 1.0,
                    TraceKind::Dutch => self.z[i] += 1.0 - alpha * zx,
                }
            }
        }
        fn apply_and_decay(&mut self, w: &mut [f64], step: f64, decay: f64) {
            for (wi, zi) in w.iter_mut().zip(self.z.iter_mut()) {
                *wi += step * *zi;
                *zi *= decay;
            }
        }
    }

    #[test]
    fn sparse_traces_equal_dense_traces() {
        let n = 12;
        for kind in [
            TraceKind::Accumulating,
            TraceKind::Replacing,
            TraceKind::Dutch,
        ] {
            let mut rng = EnvRng::new(5);
            let mut sparse = SparseTraces::new(n, 0.0);
            let mut dense = Dense { z: vec![0.0; n] };
            let (mut ws, mut wd) = (vec![0.0; n], vec![0.0; n]);
            for t in 0..300 {
                if t % 50 == 0 {
                    sparse.clear();
                    dense.z.fill(0.0);
                }
                // Three active features, sometimes repeated (a hash collision of tile coding).
                let x = [rng.below(n), rng.below(n), rng.below(4)];
                let alpha = 0.1;
                sparse.mark(&x, 1, 0, kind, alpha);
                dense.mark(&x, kind, alpha);
                let step = rng.next_f64() - 0.5;
                // Now and then an exploratory action cuts the traces.
                let decay = if t % 17 == 0 { 0.0 } else { 0.9 * 0.8 };
                sparse.apply_and_decay(&mut ws, step, decay);
                dense.apply_and_decay(&mut wd, step, decay);
                for i in 0..n {
                    assert!((ws[i] - wd[i]).abs() < 1e-12, "{kind:?} t={t} w[{i}]");
                    assert!(
                        (sparse.get(i) - dense.z[i]).abs() < 1e-12,
                        "{kind:?} t={t} z[{i}]"
                    );
                }
                assert_eq!(sparse.len(), dense.z.iter().filter(|&&z| z != 0.0).count());
            }
        }
    }

    /// One tabular state visited twice: `γλ = 0.5`, α = 0.5.
    #[test]
    fn trace_kinds_against_hand_computed_values() {
        let run = |kind| {
            let mut z = SparseTraces::new(2, 0.0);
            let mut w = vec![0.0; 2];
            z.mark(&[0], 1, 0, kind, 0.5);
            z.apply_and_decay(&mut w, 1.0, 0.5);
            z.mark(&[0], 1, 0, kind, 0.5);
            (z.get(0), w[0])
        };
        // Accumulating: 1 → 0.5 → 1.5. Replacing: 1 → 0.5 → 1.
        // Dutch: 1 → 0.5 → 0.5 + (1 − 0.5 · 0.5) = 1.25, i.e. (1 − α) γλ · 1 + 1.
        assert_eq!(run(TraceKind::Accumulating), (1.5, 1.0));
        assert_eq!(run(TraceKind::Replacing), (1.0, 1.0));
        assert_eq!(run(TraceKind::Dutch), (1.25, 1.0));
    }

    #[test]
    fn traces_below_the_cutoff_are_dropped() {
        let mut z = SparseTraces::new(3, 0.1);
        let mut w = vec![0.0; 3];
        z.mark(&[0, 2], 1, 0, TraceKind::Replacing, 0.0);
        for _ in 0..3 {
            z.apply_and_decay(&mut w, 1.0, 0.5);
        }
        // 1 → 0.5 → 0.25 → 0.125: still listed; the weights got 1 + 0.5 + 0.25.
        assert_eq!((z.len(), z.get(0), w[0]), (2, 0.125, 1.75));
        z.apply_and_decay(&mut w, 1.0, 0.5);
        assert_eq!((z.len(), z.get(0), w[0]), (0, 0.0, 1.875));
        assert!(z.is_empty());
        // Stride and offset address state-action weights.
        let mut z = SparseTraces::new(6, 0.0);
        z.mark(&[2], 2, 1, TraceKind::Accumulating, 0.0);
        assert_eq!(z.iter().collect::<Vec<_>>(), [(5, 1.0)]);
        z.clear();
        assert!(z.is_empty() && z.get(5) == 0.0);
    }
}
