//! Element-wise activation functions.

use candle_core::{Module, Result, Tensor};
use serde::{Deserialize, Serialize};

/// An element-wise nonlinearity, named in configs as `"relu"`, `"tanh"`, `"sigmoid"`, `"gelu"`
/// or `"identity"`.
///
/// Every variant has a backward pass (checked by the gradient-check tests). `gelu` is the exact
/// form `x·Φ(x)` with the Gaussian CDF `Φ`, PyTorch's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(x, 0)`; the gradient at exactly 0 is taken as 1.
    #[default]
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + e^(−x))`.
    Sigmoid,
    /// `x·Φ(x)`, Φ the standard normal CDF.
    Gelu,
    /// `x` unchanged.
    Identity,
}

impl Module for Activation {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Relu => xs.relu(),
            Activation::Tanh => xs.tanh(),
            Activation::Sigmoid => sigmoid(xs),
            Activation::Gelu => gelu(xs),
            Activation::Identity => Ok(xs.clone()),
        }
    }
}

/// The logistic sigmoid, built from differentiable ops: `1 / (1 + e^(−x))`.
pub fn sigmoid(xs: &Tensor) -> Result<Tensor> {
    (xs.neg()?.exp()? + 1.0)?.recip()
}

/// The exact GELU `x·Φ(x) = ½x(1 + erf(x/√2))`, built from `erf`.
///
/// candle's fused `gelu_erf` has a backward pass, but it uses `0.398942` for `1/√(2π)`; the
/// 7·10⁻⁷ relative error it adds to each term fails the gradient check where terms cancel.
/// `erf`'s own backward is exact.
pub fn gelu(xs: &Tensor) -> Result<Tensor> {
    let cdf = ((xs * std::f64::consts::FRAC_1_SQRT_2)?.erf()? + 1.0)?;
    (xs * cdf)? * 0.5
}
