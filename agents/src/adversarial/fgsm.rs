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
    pub fn gradient(&self, label: usize, targeted: bool, grad: &mut [f32]) -> Result<f32> {
        let labels = Tensor::new(&[label as u32], self.q.device())?;
        let loss = attacked_loss(&self.q, &labels, targeted)?.sum_all()?;
        let grads = loss.backward()?;
        match grads.get(self.x.as_tensor()) {
            Some(g) => {
                let g = g.flatten_all()?.to_vec1::<f32>()?;
                grad.copy_from_slice(&g);
            }
            None => grad.fill(0.0),
        }
        Ok(loss.to_scalar::<f32>()?)
    }
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
    let labels = Tensor::new(&[label as u32], device)?;
    let loss = attacked_loss(&q.q_values(&x)?, &labels, targeted)?;
    Ok(loss.sum_all()?.to_scalar::<f32>()?)
}

/// FGSM in scaled coordinates: turns `g`, the gradient with respect to the observation, into
/// `u`, the perturbation divided by the scale, in place.
pub(crate) fn fgsm_step(ball: &Ball, g: &mut [f32]) {
    ball.to_scaled(g);
    ball.ascent_step(g, ball.eps());
}
