//! The strategically-timed attack (Lin et al. 2017): perturb only at the steps where the agent
//! cares strongly which action it takes.
//!
//! The agent's preference at `x₀` is `π = softmax(Q(x₀))`; the gap `max π − min π` is near 1
//! where one action is far better than another and near 0 where all look alike. The attack
//! perturbs (with FGSM or PGD) only where the gap exceeds a threshold β, and leaves the other
//! observations clean; [`AttackStats::attacked_fraction`](super::AttackStats::attacked_fraction)
//! reports how many steps that was.

/// `max softmax(q) − min softmax(q)`, in `[0, 1)`: the preference gap of action values `q`.
pub fn preference_gap(q: &[f32]) -> f32 {
    let max = q.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let min = q.iter().copied().fold(f32::INFINITY, f32::min);
    // softmax_i = e^{q_i − max} / Σ_j e^{q_j − max}: the largest is 1 / Σ, the smallest
    // e^{min − max} / Σ.
    let sum: f32 = q.iter().map(|&v| (v - max).exp()).sum();
    (1.0 - (min - max).exp()) / sum
}

/// Whether the timed attack strikes at action values `q`: the gap strictly exceeds β.
pub(crate) fn strikes(q: &[f32], threshold: f32) -> bool {
    preference_gap(q) > threshold
}
