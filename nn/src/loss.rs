//! Regression losses for value learning.

use candle_core::{Result, Tensor};

/// The Huber loss (PyTorch's `smooth_l1_loss` with `beta = delta` times `delta`, i.e.
/// `huber_loss`), averaged over all elements:
/// `½d²` where `|d| ≤ δ`, `δ(|d| − ½δ)` elsewhere, `d = pred − target`.
///
/// With `δ = 1` it is the loss of the DQN papers and Stable-Baselines3. The gradient is `d`
/// inside the band and `δ·sign(d)` outside; `target` should be detached.
pub fn huber_loss(pred: &Tensor, target: &Tensor, delta: f64) -> Result<Tensor> {
    if pred.dims() != target.dims() {
        candle_core::bail!(
            "huber loss: prediction shape {:?} differs from target shape {:?}",
            pred.dims(),
            target.dims()
        )
    }
    if delta.is_nan() || delta <= 0.0 {
        candle_core::bail!("huber loss: delta must be > 0, got {delta}")
    }
    huber_elementwise(&(pred - target)?, delta)?.mean_all()
}

/// The Huber loss of each element of `d` (a difference `pred − target`), unreduced:
/// `½d²` where `|d| ≤ δ`, `δ(|d| − ½δ)` elsewhere. [`huber_loss`] is its mean.
pub fn huber_elementwise(d: &Tensor, delta: f64) -> Result<Tensor> {
    let a = d.abs()?;
    // q = min(|d|, δ): loss = ½q² + δ(|d| − q) is both branches at once.
    let q = a.clamp(0.0, delta)?;
    (q.sqr()? * 0.5)? + ((a - &q)? * delta)?
}

/// Mean squared error over all elements.
pub fn mse_loss(pred: &Tensor, target: &Tensor) -> Result<Tensor> {
    if pred.dims() != target.dims() {
        candle_core::bail!(
            "mse loss: prediction shape {:?} differs from target shape {:?}",
            pred.dims(),
            target.dims()
        )
    }
    (pred - target)?.sqr()?.mean_all()
}

/// Log-softmax along `dim`, from differentiable ops (the max is detached: the result does not
/// depend on the shift).
pub fn log_softmax(xs: &Tensor, dim: candle_core::D) -> Result<Tensor> {
    let max = xs.max_keepdim(dim)?.detach();
    let shifted = xs.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(dim)?.log()?;
    shifted.broadcast_sub(&lse)
}

/// Cross-entropy of `logits` `(N, K)` against class indices `targets` `(N)` (`u32`), averaged
/// over the batch.
pub fn cross_entropy(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let (n, _) = logits.dims2()?;
    if targets.dims() != [n] {
        candle_core::bail!(
            "cross entropy: targets of shape {:?} for logits of shape {:?}; expected [{n}]",
            targets.dims(),
            logits.dims()
        )
    }
    let logp = log_softmax(logits, candle_core::D::Minus1)?;
    let picked = logp.gather(&targets.unsqueeze(1)?, 1)?;
    picked.mean_all()?.neg()
}
