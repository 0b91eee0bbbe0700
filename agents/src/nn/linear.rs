//! The fully connected layer.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Init, VarBuilder};

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

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let dims = xs.dims();
        let y = if dims.len() == 2 {
            xs.matmul(&self.weight.t()?)?
        } else {
            // Fold the leading dimensions into one batch of rows: one large product is faster
            // than a broadcast batched one.
            let (lead, k) = dims.split_at(dims.len() - 1);
            let rows: usize = lead.iter().product();
            let mut out_shape = lead.to_vec();
            out_shape.push(self.out_dim());
            xs.reshape((rows, k[0]))?
                .matmul(&self.weight.t()?)?
                .reshape(out_shape)?
        };
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}
