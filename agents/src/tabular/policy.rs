//! Action selection from action values: greedy, ε-greedy and softmax, ties broken uniformly at
//! random.
//!
//! The functions take the action values as a closure `q(a)`, so that they work on one table,
//! on the sum of two (Double Q-learning) or on tile-coded features without a buffer. A closure
//! may be called several times per action; it must be cheap and pure.

use serde::{Deserialize, Serialize};

use super::schedule::Schedule;
use qlab_envs::EnvRng;

/// The greedy action among `0..n` under `q`, ties broken uniformly at random.
///
/// Sutton & Barto break ties at random throughout (their figures depend on it: with all
/// values 0 at the start, a fixed tie-break makes an agent walk into the same wall for ever).
/// One random number is drawn only when there is a tie.
#[inline(always)]
pub fn greedy(n: usize, q: impl Fn(usize) -> f64, rng: &mut EnvRng) -> usize {
    let mut best = q(0);
    let mut best_a = 0;
    let mut ties = 1;
    for a in 1..n {
        let v = q(a);
        if v > best {
            best = v;
            best_a = a;
            ties = 1;
        } else if v == best {
            ties += 1;
        }
    }
    if ties == 1 {
        return best_a;
    }
    let mut k = rng.below(ties);
    for a in best_a..n {
        if q(a) == best {
            if k == 0 {
                return a;
            }
            k -= 1;
        }
    }
    best_a
}

/// The largest of `q(0), …, q(n − 1)`, and how many actions reach it.
#[inline]
pub fn max_and_ties(n: usize, q: impl Fn(usize) -> f64) -> (f64, usize) {
    let mut best = q(0);
    let mut ties = 1;
    for a in 1..n {
        let v = q(a);
        if v > best {
            best = v;
            ties = 1;
        } else if v == best {
            ties += 1;
        }
    }
    (best, ties)
}

/// The largest of `q(0), …, q(n − 1)`.
#[inline(always)]
pub fn max_value(n: usize, q: impl Fn(usize) -> f64) -> f64 {
    // A plain comparison rather than `f64::max`, whose NaN handling lengthens the dependency
    // chain of this hot loop; values are never NaN unless learning has diverged.
    let mut m = q(0);
    for a in 1..n {
        let v = q(a);
        if v > m {
            m = v;
        }
    }
    m
}

/// With probability `epsilon` a uniformly random action (any of the `n`, the greedy ones
/// included), otherwise the greedy action with ties broken at random (S&B §2.2).
#[inline(always)]
pub fn epsilon_greedy(n: usize, epsilon: f64, q: impl Fn(usize) -> f64, rng: &mut EnvRng) -> usize {
    if epsilon > 0.0 && rng.next_f64() < epsilon {
        rng.below(n)
    } else {
        greedy(n, q, rng)
    }
}

/// An action drawn with probability `exp(q(a) / τ) / Σ_b exp(q(b) / τ)` (the Gibbs or
/// Boltzmann distribution, S&B §2.8 and §13.1), `τ = temperature > 0`.
#[inline]
pub fn softmax(n: usize, temperature: f64, q: impl Fn(usize) -> f64, rng: &mut EnvRng) -> usize {
    // Subtracting the maximum keeps exp from overflowing; it cancels in the ratio.
    let m = max_value(n, &q);
    let total: f64 = (0..n).map(|a| ((q(a) - m) / temperature).exp()).sum();
    let mut u = rng.next_f64() * total;
    for a in 0..n {
        u -= ((q(a) - m) / temperature).exp();
        if u < 0.0 {
            return a;
        }
    }
    // Rounding can leave u ≥ 0 after the last action; the last action with mass takes it.
    (0..n)
        .rev()
        .find(|&a| ((q(a) - m) / temperature).exp() > 0.0)
        .unwrap_or(n - 1)
}

/// How a control agent chooses its actions from its action values.
///
/// | TOML | policy |
/// |---|---|
/// | `policy = "epsilon_greedy"` (default) | ε-greedy, ε from the `epsilon` schedule |
/// | `policy = "softmax"` | softmax, τ from the `temperature` schedule |
/// | `policy = "greedy"` | greedy (exploration only from optimistic initial values) |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// ε-greedy.
    #[default]
    EpsilonGreedy,
    /// Softmax with a temperature.
    Softmax,
    /// Greedy.
    Greedy,
}

/// A behaviour policy: its kind, its schedules, and the episode it is in.
///
/// The schedules are read once per episode, in [`Policy::begin_episode`]. Every choice breaks
/// ties uniformly at random.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    kind: PolicyKind,
    epsilon_schedule: Schedule,
    temperature_schedule: Schedule,
    episode: u64,
    epsilon: f64,
    temperature: f64,
}

impl Policy {
    /// A policy of `kind` with its ε and temperature schedules, before its first episode.
    pub fn new(kind: PolicyKind, epsilon: Schedule, temperature: Schedule) -> Self {
        Self {
            kind,
            epsilon_schedule: epsilon,
            temperature_schedule: temperature,
            episode: 0,
            epsilon: epsilon.value(1),
            temperature: temperature.value(1),
        }
    }

    /// Moves to the next episode and reads the schedules for it.
    pub fn begin_episode(&mut self) {
        self.episode += 1;
        self.epsilon = self.epsilon_schedule.value(self.episode);
        self.temperature = self.temperature_schedule.value(self.episode);
    }

    /// The number of the current episode (1 for the first; 0 before it).
    pub fn episode(&self) -> u64 {
        self.episode
    }

    /// The kind of policy.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The ε in force, 0 unless the policy is ε-greedy.
    pub fn epsilon(&self) -> f64 {
        match self.kind {
            PolicyKind::EpsilonGreedy => self.epsilon,
            _ => 0.0,
        }
    }

    /// The temperature in force (meaningful for softmax only).
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// An action drawn from the policy over `n` actions with values `q`.
    #[inline(always)]
    pub fn sample(&self, n: usize, q: impl Fn(usize) -> f64, rng: &mut EnvRng) -> usize {
        match self.kind {
            PolicyKind::EpsilonGreedy => epsilon_greedy(n, self.epsilon, q, rng),
            PolicyKind::Softmax => softmax(n, self.temperature, q, rng),
            PolicyKind::Greedy => greedy(n, q, rng),
        }
    }

    /// The probability `π(a)` that [`Policy::sample`] returns `a`.
    ///
    /// For ε-greedy with `t` tied greedy actions: `ε/n + (1 − ε)/t` for each of them and
    /// `ε/n` for the others.
    pub fn probability(&self, n: usize, q: impl Fn(usize) -> f64, a: usize) -> f64 {
        match self.kind {
            PolicyKind::EpsilonGreedy | PolicyKind::Greedy => {
                let eps = self.epsilon();
                let (m, ties) = max_and_ties(n, &q);
                let greedy = if q(a) == m {
                    (1.0 - eps) / ties as f64
                } else {
                    0.0
                };
                eps / n as f64 + greedy
            }
            PolicyKind::Softmax => {
                let m = max_value(n, &q);
                let t = self.temperature;
                let total: f64 = (0..n).map(|b| ((q(b) - m) / t).exp()).sum();
                ((q(a) - m) / t).exp() / total
            }
        }
    }

    /// The expected value `Σ_a π(a) q(a)` under the policy (Expected SARSA's target).
    ///
    /// For ε-greedy the greedy mass goes to the maximum whichever way ties are broken:
    /// `(1 − ε) max_a q(a) + ε mean_a q(a)`.
    #[inline]
    pub fn expectation(&self, n: usize, q: impl Fn(usize) -> f64) -> f64 {
        match self.kind {
            PolicyKind::EpsilonGreedy | PolicyKind::Greedy => {
                let eps = self.epsilon();
                let mut m = q(0);
                let mut sum = m;
                for a in 1..n {
                    let v = q(a);
                    m = m.max(v);
                    sum += v;
                }
                (1.0 - eps) * m + eps * sum / n as f64
            }
            PolicyKind::Softmax => {
                let m = max_value(n, &q);
                let t = self.temperature;
                let (mut num, mut den) = (0.0, 0.0);
                for a in 0..n {
                    let e = ((q(a) - m) / t).exp();
                    num += e * q(a);
                    den += e;
                }
                num / den
            }
        }
    }
}

/// A uniformly random action, without drawing a number when there is one action.
#[inline]
pub(crate) fn random_action(n_actions: usize, rng: &mut EnvRng) -> usize {
    if n_actions > 1 {
        rng.below(n_actions)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Checks counts against probabilities within 5 binomial standard deviations.
    fn assert_frequencies(counts: &[usize], probs: &[f64]) {
        let n: usize = counts.iter().sum();
        for (a, (&c, &p)) in counts.iter().zip(probs).enumerate() {
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (c as f64 - n as f64 * p).abs() <= 5.0 * sd + 1e-9,
                "action {a}: {c} of {n}, expected p = {p} ({counts:?})"
            );
        }
    }

    #[test]
    fn greedy_breaks_ties_uniformly() {
        let q = [1.0, 3.0, 0.0, 3.0, 3.0];
        let mut rng = EnvRng::seed_from_u64(1);
        let mut counts = [0usize; 5];
        for _ in 0..30_000 {
            counts[greedy(5, |a| q[a], &mut rng)] += 1;
        }
        assert_frequencies(&counts, &[0.0, 1.0 / 3.0, 0.0, 1.0 / 3.0, 1.0 / 3.0]);
        // A unique maximum draws no random number.
        let before = rng.clone();
        assert_eq!(greedy(3, |a| [0.0, 2.0, 1.0][a], &mut rng), 1);
        assert_eq!(rng, before);
    }

    #[test]
    fn epsilon_greedy_frequencies_and_probabilities_agree() {
        let q = [0.5, 2.0, 2.0, -1.0];
        let eps = 0.2;
        let policy = Policy::new(
            PolicyKind::EpsilonGreedy,
            Schedule::Constant(eps),
            Schedule::Constant(1.0),
        );
        // ε/4 each, plus (1 − ε)/2 for the two tied greedy actions.
        let probs = [0.05, 0.45, 0.45, 0.05];
        for (a, &p) in probs.iter().enumerate() {
            assert!((policy.probability(4, |b| q[b], a) - p).abs() < 1e-15);
        }
        let mut rng = EnvRng::seed_from_u64(2);
        let mut counts = [0usize; 4];
        for _ in 0..40_000 {
            counts[policy.sample(4, |a| q[a], &mut rng)] += 1;
        }
        assert_frequencies(&counts, &probs);
        let expected: f64 = probs.iter().zip(&q).map(|(p, v)| p * v).sum();
        assert!((policy.expectation(4, |a| q[a]) - expected).abs() < 1e-12);
    }

    #[test]
    fn softmax_frequencies_and_probabilities_agree() {
        let q = [1.0, 2.0, 0.0];
        let t = 0.5;
        let policy = Policy::new(
            PolicyKind::Softmax,
            Schedule::Constant(0.1),
            Schedule::Constant(t),
        );
        let z: f64 = q.iter().map(|v| (v / t).exp()).sum();
        let probs: Vec<f64> = q.iter().map(|v| (v / t).exp() / z).collect();
        for (a, &p) in probs.iter().enumerate() {
            assert!((policy.probability(3, |b| q[b], a) - p).abs() < 1e-12);
        }
        let mut rng = EnvRng::seed_from_u64(3);
        let mut counts = [0usize; 3];
        for _ in 0..40_000 {
            counts[policy.sample(3, |a| q[a], &mut rng)] += 1;
        }
        assert_frequencies(&counts, &probs);
        let expected: f64 = probs.iter().zip(&q).map(|(p, v)| p * v).sum();
        assert!((policy.expectation(3, |a| q[a]) - expected).abs() < 1e-12);
        assert_eq!(policy.epsilon(), 0.0);
        // Huge values do not overflow.
        let big = [1e6, 1e6 + 1.0];
        assert!(policy.probability(2, |a| big[a], 1).is_finite());
    }

    #[test]
    fn policy_reads_its_schedule_per_episode() {
        let mut p = Policy::new(
            PolicyKind::EpsilonGreedy,
            Schedule::Inverse { start: 1.0 },
            Schedule::Constant(1.0),
        );
        assert_eq!(p.episode(), 0);
        p.begin_episode();
        assert_eq!((p.episode(), p.epsilon()), (1, 1.0));
        p.begin_episode();
        assert_eq!((p.episode(), p.epsilon()), (2, 0.5));
        let g = Policy::new(
            PolicyKind::Greedy,
            Schedule::Constant(0.3),
            Schedule::Constant(1.0),
        );
        assert_eq!(g.epsilon(), 0.0);
        assert_eq!(g.probability(3, |a| [0.0, 1.0, 1.0][a], 1), 0.5);
    }
}
