//! [`ActionValues`]: the weights of a linear action-value function on binary features, shared
//! by every control agent.

use super::agent::ValueFunction;
use super::policy::{self, Policy};
use super::schedule::StepSize;
use crate::{Error, Result};
use qlab_envs::EnvRng;
use serde::{Deserialize, Serialize};

/// The number of actions of the grid worlds, for which the tabular hot path has its own copy
/// of the greedy maximum and of sampling, with the loop over actions unrolled (the same
/// comparisons in the same order).
const FOUR: usize = 4;

/// `Q(x, a) = Σ_{i ∈ x} w[i · n_actions + a]`: one weight per (feature, action), stored
/// feature-major so that the values of all actions of a tabular state are contiguous.
///
/// Updates follow the agent's [`StepSize`]: `α / |x|` per active weight for a constant α, or
/// `1 / (n(i, a) · |x|)` with `n(i, a)` counting the updates of weight `(i, a)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActionValues {
    w: Vec<f64>,
    n_features: usize,
    n_actions: usize,
    alpha: StepSize,
    /// Updates per weight, for `1/n` step sizes; empty otherwise.
    counts: Vec<f64>,
}

impl ActionValues {
    /// `n_features × n_actions` weights, each `initial_value`.
    ///
    /// # Errors
    /// If either size is 0.
    pub fn new(
        n_features: usize,
        n_actions: usize,
        initial_value: f64,
        alpha: StepSize,
    ) -> Result<Self> {
        check_sizes(n_features, n_actions)?;
        let len = n_features * n_actions;
        Ok(Self {
            w: vec![initial_value; len],
            n_features,
            n_actions,
            alpha,
            counts: match alpha {
                StepSize::SampleAverage => vec![0.0; len],
                StepSize::Constant(_) => Vec::new(),
            },
        })
    }

    /// The number of actions.
    #[inline]
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// The number of features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The weights, `w[i · n_actions + a]`.
    #[inline]
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    /// The weights, mutably.
    #[inline]
    pub fn weights_mut(&mut self) -> &mut [f64] {
        &mut self.w
    }

    /// `Q(x, a)`.
    #[inline(always)]
    pub fn q(&self, x: &[usize], a: usize) -> f64 {
        let n = self.n_actions;
        match *x {
            [i] => self.w[i * n + a],
            _ => x.iter().map(|&i| self.w[i * n + a]).sum(),
        }
    }

    /// `max_a Q(x, a)`.
    #[inline(always)]
    pub fn max(&self, x: &[usize]) -> f64 {
        match *x {
            [i] => {
                let row = self.row(i);
                if let Ok(row) = <&[f64; FOUR]>::try_from(row) {
                    return policy::max_value(FOUR, |a| row[a]);
                }
                policy::max_value(row.len(), |a| row[a])
            }
            _ => policy::max_value(self.n_actions, |a| self.q(x, a)),
        }
    }

    /// The greedy action in `x`, ties broken uniformly at random.
    #[inline(always)]
    pub fn greedy(&self, x: &[usize], rng: &mut EnvRng) -> usize {
        match *x {
            [i] => {
                let row = self.row(i);
                if let Ok(row) = <&[f64; FOUR]>::try_from(row) {
                    return policy::greedy(FOUR, |a| row[a], rng);
                }
                policy::greedy(row.len(), |a| row[a], rng)
            }
            _ => policy::greedy(self.n_actions, |a| self.q(x, a), rng),
        }
    }

    /// An action in `x` drawn from `policy`.
    #[inline(always)]
    pub fn sample(&self, policy: &Policy, x: &[usize], rng: &mut EnvRng) -> usize {
        match *x {
            [i] => {
                let row = self.row(i);
                if let Ok(row) = <&[f64; FOUR]>::try_from(row) {
                    return policy.sample(FOUR, |a| row[a], rng);
                }
                policy.sample(row.len(), |a| row[a], rng)
            }
            _ => policy.sample(self.n_actions, |a| self.q(x, a), rng),
        }
    }

    /// `Σ_a π(a | x) Q(x, a)` under `policy`.
    #[inline]
    pub fn expectation(&self, policy: &Policy, x: &[usize]) -> f64 {
        match *x {
            [i] => {
                let row = self.row(i);
                policy.expectation(row.len(), |a| row[a])
            }
            _ => policy.expectation(self.n_actions, |a| self.q(x, a)),
        }
    }

    /// The weights of feature `i`, one per action: `Q(s, ·)` of tabular state `i`.
    #[inline(always)]
    fn row(&self, i: usize) -> &[f64] {
        &self.w[i * self.n_actions..(i + 1) * self.n_actions]
    }

    /// Moves `Q(x, a)` by the step size times `error` (the target minus `Q(x, a)`).
    #[inline(always)]
    pub fn update(&mut self, x: &[usize], a: usize, error: f64) {
        let n = self.n_actions;
        match (self.alpha, x) {
            (StepSize::Constant(alpha), &[i]) => self.w[i * n + a] += alpha * error,
            (StepSize::Constant(alpha), _) => {
                let step = alpha / x.len() as f64 * error;
                for &i in x {
                    self.w[i * n + a] += step;
                }
            }
            (StepSize::SampleAverage, _) => {
                let m = x.len() as f64;
                for &i in x {
                    let k = i * n + a;
                    self.counts[k] += 1.0;
                    self.w[k] += error / (self.counts[k] * m);
                }
            }
        }
    }

    /// Restores the weights from `params`.
    ///
    /// # Errors
    /// If `params` does not hold exactly `n_features × n_actions` values.
    pub fn load(&mut self, params: &[f64]) -> Result<()> {
        let (nf, na) = (self.n_features, self.n_actions);
        check_len(params.len(), nf * na, || {
            format!("{nf} features × {na} actions")
        })?;
        self.w.copy_from_slice(params);
        Ok(())
    }
}

impl ValueFunction for ActionValues {
    fn n_actions(&self) -> usize {
        self.n_actions
    }

    #[inline]
    fn greedy(&self, x: &[usize], rng: &mut EnvRng) -> usize {
        ActionValues::greedy(self, x, rng)
    }

    #[inline(always)]
    fn value(&self, x: &[usize]) -> f64 {
        self.max(x)
    }

    fn parameters(&self) -> Vec<f64> {
        self.w.clone()
    }

    fn load_parameters(&mut self, params: &[f64]) -> Result<()> {
        self.load(params)
    }
}

/// Overwrites `dst` with `src`, without allocating once `dst` has grown to the largest
/// state seen.
#[inline]
pub(crate) fn copy_features(dst: &mut Vec<usize>, src: &[usize]) {
    dst.clear();
    if let [i] = *src {
        dst.push(i);
    } else {
        dst.extend_from_slice(src);
    }
}

/// Both sizes at least 1, and a table of them that fits in the machine's memory.
pub(crate) fn check_sizes(n_features: usize, n_actions: usize) -> Result<()> {
    if n_features == 0 {
        return Err(Error::config("n_features", 0, "at least 1"));
    }
    if n_actions == 0 {
        return Err(Error::config("n_actions", 0, "at least 1"));
    }
    // One value per feature and action, 8 bytes each; refused before allocating, as an
    // allocation that fails aborts.
    let memory = crate::memory::machine_memory();
    let bytes = n_features
        .checked_mul(n_actions)
        .and_then(|len| len.checked_mul(8));
    if bytes.is_none_or(|b| b as u64 > memory) {
        return Err(Error::config(
            "n_features",
            n_features,
            format!(
                "a table that fits in this machine's memory of {memory} bytes: {n_features} \
                 features × {n_actions} actions at 8 bytes a value is more (a smaller \
                 [features] memory_size or tiling)"
            ),
        ));
    }
    Ok(())
}

/// A parameter vector of `want` values; `shape` says what they are, for the message.
pub(crate) fn check_len(len: usize, want: usize, shape: impl FnOnce() -> String) -> Result<()> {
    if len == want {
        return Ok(());
    }
    Err(Error::config(
        "parameters",
        format!("{len} values"),
        format!("{want} values ({})", shape()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_sums_over_active_features() {
        let mut v = ActionValues::new(4, 2, 0.0, StepSize::Constant(0.5)).unwrap();
        v.weights_mut()
            .copy_from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(v.q(&[0], 1), 2.0);
        assert_eq!(v.q(&[1, 3], 0), 3.0 + 7.0);
        assert_eq!(v.max(&[1, 3]), 4.0 + 8.0);
        // Constant α is split over the active features: Q(x, a) moves by α · error.
        v.update(&[1, 3], 0, 2.0);
        assert_eq!(v.q(&[1, 3], 0), 10.0 + 0.5 * 2.0);
        assert_eq!(v.weights()[2], 3.5);
    }

    #[test]
    fn one_over_n_averages_the_targets() {
        let mut v = ActionValues::new(2, 1, 0.0, StepSize::SampleAverage).unwrap();
        for target in [4.0, 8.0, 3.0] {
            let err = target - v.q(&[1], 0);
            v.update(&[1], 0, err);
        }
        assert!((v.q(&[1], 0) - 5.0).abs() < 1e-12);
        assert_eq!(v.q(&[0], 0), 0.0);
    }

    #[test]
    fn sizes_and_lengths_are_checked() {
        let e = ActionValues::new(0, 2, 0.0, StepSize::Constant(0.1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value 0 for `n_features`: expected at least 1"
        );
        assert!(ActionValues::new(3, 0, 0.0, StepSize::Constant(0.1)).is_err());
        let mut v = ActionValues::new(3, 2, 0.0, StepSize::Constant(0.1)).unwrap();
        let e = v.load(&[0.0; 5]).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value 5 values for `parameters`: expected 6 values (3 features × 2 actions)"
        );
        v.load(&[1.0; 6]).unwrap();
        assert_eq!(v.weights(), &[1.0; 6]);
    }
}
