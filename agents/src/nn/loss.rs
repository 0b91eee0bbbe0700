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
    let d = (pred - target)?;
    let a = d.abs()?;
    // q = min(|d|, δ): loss = ½q² + δ(|d| − q) is both branches at once.
    let q = a.clamp(0.0, delta)?;
    let loss = ((q.sqr()? * 0.5)? + ((a - &q)? * delta)?)?;
    loss.mean_all()
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
