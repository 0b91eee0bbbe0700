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

/// The logistic sigmoid `1 / (1 + e^(−x))`, one op whose backward pass is `g·y·(1 − y)`
/// from its output `y`.
///
/// Its gradient is finite for every input. Built as `recip(1 + exp(−x))` from candle's ops,
/// the backward pass multiplies `e^(−x)` by `g / (1 + e^(−x))²`: below `x ≈ −88` (in `f32`)
/// that is `∞ · 0`, a NaN, as a saturated LSTM gate can reach.
pub fn sigmoid(xs: &Tensor) -> Result<Tensor> {
    candle_nn::ops::sigmoid(xs)
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Where `e^(−x)` overflows `f32` the gradient is 0, not NaN: a saturated gate passes no
    /// gradient and poisons none.
    #[test]
    fn the_sigmoid_gradient_is_finite_where_exp_overflows() {
        let xs = [-200.0f32, -100.0, -89.0, -20.0, 0.0, 20.0, 200.0];
        let x = Var::new(&xs[..], &Device::Cpu).unwrap();
        let y = sigmoid(x.as_tensor()).unwrap();
        let grads = y.sum_all().unwrap().backward().unwrap();
        let g = grads.get(x.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        let y = y.to_vec1::<f32>().unwrap();
        for ((&x, &y), &g) in xs.iter().zip(&y).zip(&g) {
            assert!(g.is_finite() && g >= 0.0, "sigmoid'({x}) = {g}");
            assert_eq!(g, y * (1.0 - y), "sigmoid'({x})");
        }
        assert_eq!((y[0], g[0], g[4]), (0.0, 0.0, 0.25));
    }
}
