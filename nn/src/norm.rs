//! Normalization layers: layer norm and batch norm.
//!
//! Both are built from differentiable tensor ops. candle-nn's `LayerNorm` takes a fused kernel
//! for contiguous inputs, and that kernel has no backward pass: a network built on it runs but
//! its earlier layers stop learning.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{D, Module, Result, Tensor};
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};

use super::TrainMode;

/// Hyperparameters of [`LayerNorm`].
///
/// | field    | default | valid      | meaning                                        |
/// |----------|---------|------------|------------------------------------------------|
/// | `eps`    | `1e-5`  | `> 0`      | added to the variance before the square root   |
/// | `affine` | `true`  |            | learn a per-feature scale `weight` and `bias`  |
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayerNormConfig {
    /// Added to the variance before the square root.
    pub eps: f64,
    /// Whether to learn a per-feature scale and shift.
    pub affine: bool,
}

impl Default for LayerNormConfig {
    fn default() -> Self {
        Self {
            eps: 1e-5,
            affine: true,
        }
    }
}

/// Layer normalization (Ba et al., 2016) over the last dimension:
/// `y = (x − mean) / √(var + eps) · weight + bias`, with the biased variance.
///
/// Parameters (when `affine`): `weight` (ones) and `bias` (zeros), each of shape `(dim)`.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    eps: f64,
}

/// Builds a [`LayerNorm`] over a last dimension of size `dim`.
pub fn layer_norm(dim: usize, config: LayerNormConfig, vb: VarBuilder) -> Result<LayerNorm> {
    let (weight, bias) = if config.affine {
        (
            Some(vb.get_with_hints(dim, "weight", Init::Const(1.0))?),
            Some(vb.get_with_hints(dim, "bias", Init::Const(0.0))?),
        )
    } else {
        (None, None)
    };
    Ok(LayerNorm {
        weight,
        bias,
        eps: config.eps,
    })
}

impl Module for LayerNorm {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let mean = xs.mean_keepdim(D::Minus1)?;
        let centred = xs.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let ys = centred.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => ys.broadcast_mul(w)?.broadcast_add(b),
            _ => Ok(ys),
        }
    }
}

/// Hyperparameters of [`BatchNorm`].
///
/// | field      | default | valid    | meaning                                                   |
/// |------------|---------|----------|-----------------------------------------------------------|
/// | `eps`      | `1e-5`  | `> 0`    | added to the variance before the square root              |
/// | `momentum` | `0.1`   | `[0, 1]` | weight of the new batch in the running averages (PyTorch's convention) |
/// | `affine`   | `true`  |          | learn a per-channel scale `weight` and `bias`             |
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchNormConfig {
    /// Added to the variance before the square root.
    pub eps: f64,
    /// Weight of the current batch in the running mean and variance.
    pub momentum: f64,
    /// Whether to learn a per-channel scale and shift.
    pub affine: bool,
}

impl Default for BatchNormConfig {
    fn default() -> Self {
        Self {
            eps: 1e-5,
            momentum: 0.1,
            affine: true,
        }
    }
}

/// Batch normalization (Ioffe & Szegedy, 2015) over dimension 1 of an input `(N, C)` or
/// `(N, C, …)`.
///
/// In training mode (the default) each channel is normalized with the mean and biased variance
/// of the batch, and the running averages are updated with the unbiased variance, as PyTorch
/// does. In evaluation mode ([`TrainMode::set_training`]`(false)`) the running averages are
/// used and nothing is updated.
///
/// Parameters: `weight` (ones), `bias` (zeros); buffers `running_mean` (zeros) and
/// `running_var` (ones); all of shape `(C)`.
#[derive(Debug)]
pub struct BatchNorm {
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    running_mean: candle_core::Var,
    running_var: candle_core::Var,
    config: BatchNormConfig,
    training: AtomicBool,
}

/// Builds a [`BatchNorm`] over `channels` channels.
pub fn batch_norm(channels: usize, config: BatchNormConfig, vb: VarBuilder) -> Result<BatchNorm> {
    if !(0.0..=1.0).contains(&config.momentum) {
        candle_core::bail!(
            "batch norm momentum must be in [0, 1], got {}",
            config.momentum
        )
    }
    let (weight, bias) = if config.affine {
        (
            Some(vb.get_with_hints(channels, "weight", Init::Const(1.0))?),
            Some(vb.get_with_hints(channels, "bias", Init::Const(0.0))?),
        )
    } else {
        (None, None)
    };
    let running_mean = vb.get_with_hints(channels, "running_mean", Init::Const(0.0))?;
    let running_var = vb.get_with_hints(channels, "running_var", Init::Const(1.0))?;
    Ok(BatchNorm {
        weight,
        bias,
        running_mean: candle_core::Var::from_tensor(&running_mean)?,
        running_var: candle_core::Var::from_tensor(&running_var)?,
        config,
        training: AtomicBool::new(true),
    })
}

impl BatchNorm {
    /// The running mean, shape `(C)`.
    pub fn running_mean(&self) -> &Tensor {
        self.running_mean.as_tensor()
    }

    /// The running (unbiased) variance, shape `(C)`.
    pub fn running_var(&self) -> &Tensor {
        self.running_var.as_tensor()
    }
}

impl TrainMode for BatchNorm {
    fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
    }

    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }
}

impl Module for BatchNorm {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let rank = xs.rank();
        if rank < 2 {
            candle_core::bail!("batch norm expects (N, C, ...), got shape {:?}", xs.dims())
        }
        let c = xs.dim(1)?;
        // Shape (1, C, 1, ...) for broadcasting per-channel statistics.
        let mut stat_shape = vec![1; rank];
        stat_shape[1] = c;
        let reduce: Vec<usize> = (0..rank).filter(|&d| d != 1).collect();
        let (mean, var) = if self.is_training() {
            let mean = xs.mean_keepdim(reduce.as_slice())?;
            let centred = xs.broadcast_sub(&mean)?;
            let var = centred.sqr()?.mean_keepdim(reduce.as_slice())?;
            let n = xs.elem_count() / c;
            let m = self.config.momentum;
            let unbiased = (var.detach() * (n as f64 / (n.max(2) - 1) as f64))?.reshape(c)?;
            let new_mean =
                ((self.running_mean.as_tensor() * (1.0 - m))? + (mean.detach().reshape(c)? * m)?)?;
            let new_var = ((self.running_var.as_tensor() * (1.0 - m))? + (unbiased * m)?)?;
            self.running_mean.set(&new_mean)?;
            self.running_var.set(&new_var)?;
            (mean, var)
        } else {
            (
                self.running_mean
                    .as_tensor()
                    .reshape(stat_shape.as_slice())?,
                self.running_var
                    .as_tensor()
                    .reshape(stat_shape.as_slice())?,
            )
        };
        let ys = xs
            .broadcast_sub(&mean)?
            .broadcast_div(&(var + self.config.eps)?.sqrt()?)?;
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => ys
                .broadcast_mul(&w.reshape(stat_shape.as_slice())?)?
                .broadcast_add(&b.reshape(stat_shape.as_slice())?),
            _ => Ok(ys),
        }
    }
}
