//! The fully connected layer.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{Init, VarBuilder};

use super::Activation;
use super::fused::{FusedAct, FusedLinear, NoBias, WithBias, forward_row};

/// `y = x·Wᵀ + b`, applied to the last dimension of `x`.
///
/// Parameters: `weight` with shape `(out_dim, in_dim)` and, when built with a bias, `bias` with
/// shape `(out_dim)`. Both start uniform in `±1/√in_dim`, PyTorch's default for `nn.Linear`, so
/// that networks start out as they do in Stable-Baselines3 and CleanRL.
#[derive(Clone, Debug)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

/// Builds a [`Linear`] layer from `in_dim` to `out_dim` features, with or without a bias.
pub fn linear(in_dim: usize, out_dim: usize, bias: bool, vb: VarBuilder) -> Result<Linear> {
    let bound = 1.0 / (in_dim.max(1) as f64).sqrt();
    let init = Init::Uniform {
        lo: -bound,
        up: bound,
    };
    let weight = vb.get_with_hints((out_dim, in_dim), "weight", init)?;
    let bias = if bias {
        Some(vb.get_with_hints(out_dim, "bias", init)?)
    } else {
        None
    };
    Ok(Linear { weight, bias })
}

impl Linear {
    /// A layer with the given weight `(out_dim, in_dim)` and optional bias `(out_dim)`.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self { weight, bias }
    }

    /// The weight, shape `(out_dim, in_dim)`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, shape `(out_dim)`, if any.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// Number of input features.
    pub fn in_dim(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Number of output features.
    pub fn out_dim(&self) -> usize {
        self.weight.dims()[0]
    }
}

impl Linear {
    /// `act(x·Wᵀ + b)` in one step.
    ///
    /// On the CPU in `f32` and `f64` the product, bias and activation (relu, tanh, sigmoid,
    /// identity) run as one fused op whose backward pass is three matrix products (see
    /// `fused.rs`); elsewhere, and for gelu, this is [`forward_unfused`](Self::forward_unfused)
    /// followed by the activation. Inputs of rank above 2 are folded into rows.
    pub fn forward_act(&self, xs: &Tensor, act: Activation) -> Result<Tensor> {
        let fused_act = fused_act(act);
        let fusable = xs.device().is_cpu()
            && matches!(xs.dtype(), DType::F32 | DType::F64)
            && xs.dtype() == self.weight.dtype();
        match fused_act {
            Some(fa) if fusable => self.with_rows(xs, |x2| {
                let op = FusedLinear { act: fa };
                let x2 = x2.contiguous()?;
                match &self.bias {
                    Some(b) => x2.apply_op3(&self.weight, b, WithBias(op)),
                    None => x2.apply_op2(&self.weight, NoBias(op)),
                }
            }),
            _ => act.forward(&self.forward_unfused(xs)?),
        }
    }

    /// `act(x·Wᵀ + b)` for one input row on the CPU, without tensors: the values
    /// [`forward_act`](Self::forward_act) gives for that row, bit for bit. `None` where the
    /// fused op does not apply (other devices and dtypes, gelu) or `x` has the wrong length.
    pub fn forward_act_row(&self, x: &[f32], act: Activation) -> Option<Vec<f32>> {
        forward_row(fused_act(act)?, x, &self.weight, self.bias.as_ref())
    }

    /// `x·Wᵀ + b` from candle's generic tensor ops — the path taken on other devices and
    /// dtypes, kept public so that the fused CPU op can be checked against it.
    pub fn forward_unfused(&self, xs: &Tensor) -> Result<Tensor> {
        let y = self.with_rows(xs, |x2| x2.matmul(&self.weight.t()?))?;
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }

    /// Applies `f` to `xs` viewed as rows `(…, k)` → `(rows, k)` and restores the leading
    /// dimensions.
    fn with_rows(&self, xs: &Tensor, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
        let dims = xs.dims();
        if dims.len() == 2 {
            return f(xs);
        }
        let Some((&k, lead)) = dims.split_last() else {
            candle_core::bail!("linear layer needs an input of rank at least 1, got a scalar")
        };
        let rows: usize = lead.iter().product();
        let mut out_shape = lead.to_vec();
        out_shape.push(self.out_dim());
        f(&xs.reshape((rows, k))?)?.reshape(out_shape)
    }
}

/// The fused op's form of `act`, if it has one.
/// The fused op's form of `act`; `None` for gelu, which the op does not fuse.
pub(crate) fn fused_act(act: Activation) -> Option<FusedAct> {
    match act {
        Activation::Identity => Some(FusedAct::Identity),
        Activation::Relu => Some(FusedAct::Relu),
        Activation::Tanh => Some(FusedAct::Tanh),
        Activation::Sigmoid => Some(FusedAct::Sigmoid),
        Activation::Gelu => None,
    }
}

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.forward_act(xs, Activation::Identity)
    }
}
