//! The attacked loss, its gradient with respect to the input, and FGSM.
//!
//! FGSM (Goodfellow et al. 2015, applied to DQN policies by Huang et al. 2017) takes one step of
//! the full radius along the gradient of the attacked loss, in scaled coordinates `u = δ / s`:
//! `u = ε · sign(s ⊙ ∇ₓL)` under L∞ (every dimension moves exactly ε, except where the
//! gradient is exactly zero), `u = ε · (s ⊙ ∇ₓL) / ‖s ⊙ ∇ₓL‖₂` under L2.

use candle_core::{D, Device, Tensor, Var};

use super::{Ball, QFunction};
use crate::Result;
use crate::nn::log_softmax;

/// The attacked loss of each row of `q` `(N, A)`, shape `(N)`: the quantity a gradient attack
/// ascends.
///
/// Untargeted, `−log softmax(q)[label]`: the cross-entropy of the agent's action distribution
/// against its greedy action, which grows as the agent is pushed away from it. Targeted,
/// `+log softmax(q)[label]`: minus the cross-entropy against the target, which grows as the
/// agent is pulled toward it. `labels` is `(N)`, `u32`.
pub fn attacked_loss(q: &Tensor, labels: &Tensor, targeted: bool) -> candle_core::Result<Tensor> {
    let logp = log_softmax(q, D::Minus1)?;
    let picked = logp.gather(&labels.unsqueeze(1)?, 1)?.squeeze(1)?;
    if targeted { Ok(picked) } else { picked.neg() }
}

/// The attacked loss `(N)` of a batch of observations `(N, d)` and its gradient with respect
/// to the observations `(N, d)`, through candle's autodiff: the building block of batched
/// attacks (adversarial training, the smoothness regularizer).
///
/// # Errors
/// A candle error if the shapes do not fit the network.
pub fn input_gradient(
    q: &dyn QFunction,
    obs: &Tensor,
    labels: &Tensor,
    targeted: bool,
) -> Result<(Tensor, Tensor)> {
    let x = Var::from_tensor(&obs.detach())?;
    let loss = attacked_loss(&q.q_values(x.as_tensor())?, labels, targeted)?;
    let grads = loss.sum_all()?.backward()?;
    let grad = match grads.get(x.as_tensor()) {
        Some(g) => g.clone(),
        // The loss does not depend on the input at all (e.g. a constant network).
        None => x.as_tensor().zeros_like()?,
    };
    Ok((loss.detach(), grad))
}

/// One observation through the network, with the graph kept for a gradient.
pub(crate) struct Forward {
    x: Var,
    q: Tensor,
    /// The action values, `A` of them.
    pub values: Vec<f32>,
}

impl Forward {
    /// Runs `obs` through `q`.
    pub fn new(q: &dyn QFunction, obs: &[f32], device: &Device) -> Result<Forward> {
        let x = Var::from_slice(obs, (1, obs.len()), device)?;
        let q = q.q_values(x.as_tensor())?;
        let values = q.flatten_all()?.to_vec1::<f32>()?;
        Ok(Forward { x, q, values })
    }

    /// The attacked loss about `label` and its gradient with respect to the observation,
    /// written into `grad`.
    ///
    /// The loss's gradient with respect to the action values has a closed form,
    /// `∂(−log softmax(q)[a]) / ∂q = softmax(q) − onehot(a)`; it is computed here on the `A`
    /// values and only the network is differentiated by autodiff, through `Σ q ⊙ c` with `c`
    /// that constant. This gives the same input gradient as differentiating
    /// [`attacked_loss`] (a test checks it) at a fraction of the cost: the log-softmax's
    /// dozen small ops and their backward passes dominate a single-observation attack.
    pub fn gradient(&self, label: usize, targeted: bool, grad: &mut [f32]) -> Result<f32> {
        let (loss, c) = loss_and_dq(&self.values, label, targeted);
        let c = Tensor::from_slice(&c, (1, c.len()), self.q.device())?;
        let grads = (&self.q * c)?.sum_all()?.backward()?;
        match grads.get(self.x.as_tensor()) {
            Some(g) => {
                let g = g.flatten_all()?.to_vec1::<f32>()?;
                grad.copy_from_slice(&g);
            }
            None => grad.fill(0.0),
        }
        Ok(loss)
    }
}

/// The attacked loss of action values `q` about `label` and its gradient with respect to `q`
/// (see [`attacked_loss`]), in `f64` on the host.
fn loss_and_dq(q: &[f32], label: usize, targeted: bool) -> (f32, Vec<f32>) {
    let max = q.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = q.iter().map(|&v| (v as f64 - max).exp()).sum();
    let log_p = q[label] as f64 - max - sum.ln();
    let sign = if targeted { 1.0 } else { -1.0 };
    let dq = q
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let p = (v as f64 - max).exp() / sum;
            // ∂ log softmax(q)[label] / ∂q_i = onehot_i − p_i.
            (sign * (f64::from(u8::from(i == label)) - p)) as f32
        })
        .collect();
    ((sign * log_p) as f32, dq)
}

/// The attacked loss at `obs` (one forward, no gradient).
pub(crate) fn loss_at(
    q: &dyn QFunction,
    obs: &[f32],
    label: usize,
    targeted: bool,
    device: &Device,
) -> Result<f32> {
    let x = Tensor::from_slice(obs, (1, obs.len()), device)?;
    let values = q.q_values(&x)?.flatten_all()?.to_vec1::<f32>()?;
    Ok(loss_and_dq(&values, label, targeted).0)
}

/// FGSM in scaled coordinates: turns `g`, the gradient with respect to the observation, into
/// `u`, the perturbation divided by the scale, in place.
pub(crate) fn fgsm_step(ball: &Ball, g: &mut [f32]) {
    ball.to_scaled(g);
    ball.ascent_step(g, ball.eps());
}
