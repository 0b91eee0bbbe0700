//! Prioritized experience replay (Schaul et al., 2016): a sum tree over priorities, sampling
//! in proportion to `pᵢ^α`, importance-sampling weights with an annealed β.

use super::rng::Uniform;

use super::replay::Batch;

/// A binary tree whose leaves hold non-negative priorities and whose inner nodes hold the sum
/// (and, alongside, the minimum) of their children: setting a priority and finding the leaf
/// where a prefix sum falls are both `O(log n)`.
#[derive(Clone, Debug)]
pub struct SumTree {
    /// Leaves start at `leaves`; node `k`'s children are `2k` and `2k + 1`; node 0 is unused.
    sum: Vec<f64>,
    min: Vec<f64>,
    leaves: usize,
    capacity: usize,
}

impl SumTree {
    /// A tree of `capacity` zero priorities.
    pub fn new(capacity: usize) -> Self {
        let leaves = capacity.max(1).next_power_of_two();
        SumTree {
            sum: vec![0.0; 2 * leaves],
            min: vec![f64::INFINITY; 2 * leaves],
            leaves,
            capacity,
        }
    }

    /// The number of leaves in use.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sets leaf `i`'s priority.
    ///
    /// # Panics
    /// If `i ≥ capacity` (a caller bug).
    pub fn set(&mut self, i: usize, priority: f64) {
        assert!(i < self.capacity, "leaf {i} of {}", self.capacity);
        let mut k = i + self.leaves;
        self.sum[k] = priority;
        self.min[k] = priority;
        while k > 1 {
            k /= 2;
            self.sum[k] = self.sum[2 * k] + self.sum[2 * k + 1];
            self.min[k] = self.min[2 * k].min(self.min[2 * k + 1]);
        }
    }

    /// Leaf `i`'s priority.
    pub fn get(&self, i: usize) -> f64 {
        self.sum[i + self.leaves]
    }

    /// The sum of all priorities.
    pub fn total(&self) -> f64 {
        self.sum[1]
    }

    /// The smallest priority of the leaves set so far (infinite before any).
    pub fn min(&self) -> f64 {
        self.min[1]
    }

    /// The leaf `i` where the prefix sums pass `mass`: the smallest `i` with
    /// `p₀ + … + pᵢ > mass`, for `mass` in `[0, total)`. Leaves of priority 0 are never found.
    pub fn find(&self, mut mass: f64) -> usize {
        let mut k = 1;
        while k < self.leaves {
            let left = self.sum[2 * k];
            if mass < left {
                k *= 2;
            } else {
                mass -= left;
                k = 2 * k + 1;
            }
        }
        // Rounding can walk past the last leaf in use or onto a zero leaf; step back to the
        // nearest leaf with a priority.
        let mut i = (k - self.leaves).min(self.capacity - 1);
        while self.get(i) <= 0.0 && i > 0 {
            i -= 1;
        }
        i
    }
}

/// Priorities for a replay buffer's slots: sampling probability `P(i) = pᵢ^α / Σ_j p_j^α`,
/// importance weights `wᵢ = (N·P(i))^(−β) / max_j w_j`.
///
/// New transitions get the largest priority seen so far, so each is replayed at least once
/// soon; after a replay, a transition's priority becomes `|δ| + ε` (δ its TD error).
#[derive(Clone, Debug)]
pub struct Prioritized {
    tree: SumTree,
    alpha: f64,
    max_priority: f64,
    eps: f64,
}

impl Prioritized {
    /// Priorities for `capacity` slots with exponent `alpha` (0 is uniform).
    pub fn new(capacity: usize, alpha: f64) -> Self {
        Prioritized {
            tree: SumTree::new(capacity),
            alpha,
            max_priority: 1.0,
            eps: 1e-6,
        }
    }

    /// The tree of `pᵢ^α`.
    pub fn tree(&self) -> &SumTree {
        &self.tree
    }

    /// Every slot's `pᵢ^α` and the largest priority so far, for a checkpoint.
    pub fn state(&self) -> (Vec<f64>, f64) {
        let leaves = (0..self.tree.capacity())
            .map(|i| self.tree.get(i))
            .collect();
        (leaves, self.max_priority)
    }

    /// Restores what [`state`](Self::state) saved.
    pub fn restore(&mut self, leaves: &[f64], max_priority: f64) {
        for (i, &p) in leaves.iter().enumerate().take(self.tree.capacity()) {
            if p > 0.0 {
                self.tree.set(i, p);
            }
        }
        self.max_priority = max_priority;
    }

    /// Gives a newly written slot the largest priority so far.
    pub fn insert(&mut self, slot: usize) {
        self.tree.set(slot, self.max_priority.powf(self.alpha));
    }

    /// Sets the priorities of replayed slots from their TD errors.
    pub fn update(&mut self, slots: &[usize], td_errors: &[f32]) {
        for (&i, &d) in slots.iter().zip(td_errors) {
            let p = f64::from(d).abs() + self.eps;
            self.max_priority = self.max_priority.max(p);
            self.tree.set(i, p.powf(self.alpha));
        }
    }

    /// Draws `batch.len()` slots among the first `len` in proportion to their priorities, one
    /// from each of `batch.len()` equal segments of the total (Schaul et al.'s stratified
    /// sampling), and writes their importance weights for exponent `beta` into the batch.
    /// The caller gathers the transitions.
    pub fn sample(&self, len: usize, beta: f64, batch: &mut Batch, rng: &mut impl Uniform) {
        let total = self.tree.total();
        let n = batch.len();
        let segment = total / n as f64;
        let count = len as f64;
        // The largest weight belongs to the smallest priority.
        let max_w = (count * self.tree.min() / total).powf(-beta);
        for k in 0..n {
            let mass = (k as f64 + rng.next_f64()) * segment;
            let i = self.tree.find(mass.min(total * (1.0 - f64::EPSILON)));
            batch.indices[k] = i;
            let p = self.tree.get(i) / total;
            batch.weights[k] = ((count * p).powf(-beta) / max_w) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlab_envs::EnvRng;

    #[test]
    fn tree_sums_and_finds_prefixes() {
        let mut t = SumTree::new(5);
        for (i, p) in [1.0, 2.0, 3.0, 4.0, 0.0].into_iter().enumerate() {
            t.set(i, p);
        }
        assert_eq!(t.total(), 10.0);
        assert_eq!(t.min(), 0.0);
        // Prefix sums 1, 3, 6, 10.
        let cases = [
            (0.0, 0),
            (0.99, 0),
            (1.0, 1),
            (2.99, 1),
            (3.0, 2),
            (5.99, 2),
            (6.0, 3),
        ];
        for (mass, want) in cases {
            assert_eq!(t.find(mass), want, "mass {mass}");
        }
        // Past the end, rounding lands on the last leaf with a priority, never on a zero one.
        assert_eq!(t.find(10.0), 3);
        t.set(1, 0.5);
        assert_eq!(t.total(), 8.5);
    }

    #[test]
    fn sampling_follows_priorities_and_weights_correct_for_it() {
        let alpha = 0.5;
        let mut per = Prioritized::new(4, alpha);
        for i in 0..4 {
            per.insert(i);
        }
        // |δ| = 1, 4, 9, 16 → pᵅ = 1, 2, 3, 4 (ε = 1e-6 aside).
        per.update(&[0, 1, 2, 3], &[1.0, 4.0, 9.0, 16.0]);
        let mut b = Batch::new(100, 1);
        let mut rng = EnvRng::new(7);
        let mut counts = [0usize; 4];
        let draws = 400;
        for _ in 0..draws {
            per.sample(4, 0.4, &mut b, &mut rng);
            for &i in &b.indices {
                counts[i] += 1;
            }
        }
        let n = (draws * 100) as f64;
        for (i, &c) in counts.iter().enumerate() {
            let want = (i + 1) as f64 / 10.0;
            let got = c as f64 / n;
            // Stratified sampling makes the frequencies nearly exact.
            assert!((got - want).abs() < 0.002, "slot {i}: {got} vs {want}");
        }
        // wᵢ = (N·Pᵢ)^(−β) / max_j w_j with Pᵢ = (i + 1)/10: the rarest slot weighs 1.
        per.sample(4, 0.4, &mut b, &mut rng);
        for (&i, &w) in b.indices.iter().zip(&b.weights) {
            let p = |k: usize| (k + 1) as f64 / 10.0;
            let want = (4.0 * p(i)).powf(-0.4) / (4.0 * p(0)).powf(-0.4);
            assert!(
                (f64::from(w) - want).abs() < 1e-5,
                "slot {i}: {w} vs {want}"
            );
        }
        // β = 0: no correction.
        per.sample(4, 0.0, &mut b, &mut rng);
        assert!(b.weights.iter().all(|&w| w == 1.0));
    }

    #[test]
    fn new_slots_get_the_largest_priority() {
        let mut per = Prioritized::new(3, 1.0);
        per.insert(0);
        per.update(&[0], &[5.0]);
        per.insert(1);
        assert!((per.tree().get(1) - 5.0).abs() < 1e-5);
    }
}
