//! Convolutional torsos: the residual block, squeeze-and-excitation, and the configurable
//! [`Cnn`] with the Nature-DQN preset.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::activation::sigmoid;
use super::conv::{Conv2d, Conv2dConfig, GlobalAvgPool, Pool2d, PoolKind, conv2d};
use super::norm::{BatchNorm, BatchNormConfig, batch_norm};
use super::{Activation, Linear, TrainMode, linear};

/// A residual block with two 3×3 convolutions that keep the shape `(N, C, H, W)`:
/// `y = x + conv₂(act(conv₁(act(x))))`, the pre-activation form of the IMPALA network
/// (Espeholt et al., 2018).
///
/// Parameters: `conv1.{weight,bias}`, `conv2.{weight,bias}`.
#[derive(Clone, Debug)]
pub struct ResidualBlock {
    conv1: Conv2d,
    conv2: Conv2d,
    activation: Activation,
}

/// Builds a [`ResidualBlock`] over `channels` channels.
pub fn residual_block(
    channels: usize,
    activation: Activation,
    vb: VarBuilder,
) -> Result<ResidualBlock> {
    let same = Conv2dConfig {
        padding: 1,
        ..Default::default()
    };
    Ok(ResidualBlock {
        conv1: conv2d(channels, channels, 3, same, vb.pp("conv1"))?,
        conv2: conv2d(channels, channels, 3, same, vb.pp("conv2"))?,
        activation,
    })
}

impl Module for ResidualBlock {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let h = self.conv1.forward(&self.activation.forward(xs)?)?;
        let h = self.conv2.forward(&self.activation.forward(&h)?)?;
        xs + h
    }
}

/// Squeeze-and-excitation (Hu et al., 2018): each channel of `(N, C, H, W)` is rescaled by a
/// gate in `(0, 1)` computed from the global average of all channels,
/// `s = σ(W₂ relu(W₁ mean_hw(x)))`, `y = x · s`.
///
/// Parameters: `fc1` `(C/r, C)` and `fc2` `(C, C/r)` linear layers, `r` the reduction.
#[derive(Clone, Debug)]
pub struct SqueezeExcitation {
    fc1: Linear,
    fc2: Linear,
}

/// Builds a [`SqueezeExcitation`] block over `channels` channels with bottleneck width
/// `max(channels / reduction, 1)`.
pub fn squeeze_excitation(
    channels: usize,
    reduction: usize,
    vb: VarBuilder,
) -> Result<SqueezeExcitation> {
    if reduction == 0 {
        candle_core::bail!("squeeze-excitation reduction must be at least 1, got 0")
    }
    let mid = (channels / reduction).max(1);
    Ok(SqueezeExcitation {
        fc1: linear(channels, mid, true, vb.pp("fc1"))?,
        fc2: linear(mid, channels, true, vb.pp("fc2"))?,
    })
}

impl Module for SqueezeExcitation {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (n, c, _, _) = xs.dims4()?;
        let s = GlobalAvgPool.forward(xs)?;
        let s = sigmoid(&self.fc2.forward(&self.fc1.forward(&s)?.relu()?)?)?;
        xs.broadcast_mul(&s.reshape((n, c, 1, 1))?)
    }
}

/// One layer of a [`CnnConfig`], written in TOML as a table with a `type` key.
///
/// ```toml
/// layers = [
///   { type = "conv", channels = 32, kernel = 8, stride = 4 },
///   { type = "max_pool", kernel = 2 },
///   { type = "residual" },
///   { type = "squeeze_excitation", reduction = 4 },
///   { type = "global_avg_pool" },
/// ]
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CnnLayer {
    /// A [`Conv2d`] followed by the network's activation.
    Conv {
        /// Output channels.
        channels: usize,
        /// Kernel size.
        kernel: usize,
        /// Stride (default 1).
        #[serde(default = "one")]
        stride: usize,
        /// Zero padding (default 0).
        #[serde(default)]
        padding: usize,
    },
    /// Max pooling; `stride` defaults to `kernel`.
    MaxPool {
        /// Window size.
        kernel: usize,
        /// Window step (default: the kernel size).
        stride: Option<usize>,
    },
    /// Average pooling; `stride` defaults to `kernel`.
    AvgPool {
        /// Window size.
        kernel: usize,
        /// Window step (default: the kernel size).
        stride: Option<usize>,
    },
    /// Batch norm over the channels.
    BatchNorm,
    /// A [`ResidualBlock`] (keeps the shape).
    Residual,
    /// A [`SqueezeExcitation`] block (keeps the shape).
    SqueezeExcitation {
        /// Channel reduction of the bottleneck (default 4).
        #[serde(default = "four")]
        reduction: usize,
    },
    /// Global average pooling to `(N, C)`; must be last.
    GlobalAvgPool,
}

fn one() -> usize {
    1
}

fn four() -> usize {
    4
}

/// A convolutional network: a list of [`CnnLayer`]s over an input `(N, C, H, W)`, its output
/// flattened to `(N, features)`.
///
/// | field        | default         | meaning                                   |
/// |--------------|-----------------|-------------------------------------------|
/// | `layers`     | the Nature-DQN convolutions | the layers, input side first  |
/// | `activation` | `"relu"`        | after each `conv` layer, and inside residual blocks |
///
/// The default is the Nature-DQN torso (Mnih et al., 2015): 32 filters 8×8 stride 4, 64 filters
/// 4×4 stride 2, 64 filters 3×3 stride 1, each followed by ReLU; on 84×84 frames it gives
/// 64·7·7 = 3136 features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CnnConfig {
    /// The layers, input side first.
    pub layers: Vec<CnnLayer>,
    /// Activation after each convolution.
    pub activation: Activation,
}

impl Default for CnnConfig {
    fn default() -> Self {
        Self::nature_dqn()
    }
}

impl CnnConfig {
    /// The Nature-DQN convolutions: 32×8×8/4, 64×4×4/2, 64×3×3/1, ReLU after each.
    pub fn nature_dqn() -> Self {
        let conv = |channels, kernel, stride| CnnLayer::Conv {
            channels,
            kernel,
            stride,
            padding: 0,
        };
        Self {
            layers: vec![conv(32, 8, 4), conv(64, 4, 2), conv(64, 3, 1)],
            activation: Activation::Relu,
        }
    }

    /// The output shape `(C, H, W)` for an input `(C, H, W)` (for a network ending in global
    /// average pooling, `(C, 1, 1)`), or an error naming the first layer that does not fit.
    pub fn output_shape(
        &self,
        input: (usize, usize, usize),
    ) -> crate::Result<(usize, usize, usize)> {
        let (mut c, mut h, mut w) = input;
        for (i, layer) in self.layers.iter().enumerate() {
            let bad = |what: String| {
                crate::Error::config(format!("layers[{i}]"), what, "a layer that fits its input")
            };
            match *layer {
                CnnLayer::Conv {
                    channels,
                    kernel,
                    stride,
                    padding,
                } => {
                    if channels == 0 || kernel == 0 || stride == 0 {
                        return Err(crate::Error::config(
                            format!("layers[{i}]"),
                            format!("{layer:?}"),
                            "channels, kernel and stride of at least 1",
                        ));
                    }
                    let out = |x: usize| {
                        (x + 2 * padding)
                            .checked_sub(kernel)
                            .map(|r| r / stride + 1)
                    };
                    match (out(h), out(w)) {
                        (Some(oh), Some(ow)) => (c, h, w) = (channels, oh, ow),
                        _ => {
                            return Err(bad(format!(
                                "a {kernel}x{kernel} kernel on a {h}x{w} input"
                            )));
                        }
                    }
                }
                CnnLayer::MaxPool { kernel, stride } | CnnLayer::AvgPool { kernel, stride } => {
                    let stride = stride.unwrap_or(kernel);
                    if kernel == 0 || stride == 0 {
                        return Err(crate::Error::config(
                            format!("layers[{i}]"),
                            format!("{layer:?}"),
                            "kernel and stride of at least 1",
                        ));
                    }
                    let out = |x: usize| x.checked_sub(kernel).map(|r| r / stride + 1);
                    match (out(h), out(w)) {
                        (Some(oh), Some(ow)) => (h, w) = (oh, ow),
                        _ => {
                            return Err(bad(format!(
                                "a {kernel}x{kernel} window on a {h}x{w} input"
                            )));
                        }
                    }
                }
                CnnLayer::SqueezeExcitation { reduction: 0 } => {
                    return Err(crate::Error::config(
                        format!("layers[{i}].reduction"),
                        0,
                        "at least 1",
                    ));
                }
                CnnLayer::BatchNorm | CnnLayer::Residual | CnnLayer::SqueezeExcitation { .. } => {}
                CnnLayer::GlobalAvgPool => {
                    if i + 1 != self.layers.len() {
                        return Err(bad("global_avg_pool before other layers".into()));
                    }
                    (h, w) = (1, 1);
                }
            }
        }
        Ok((c, h, w))
    }

    /// Number of output features for an input `(C, H, W)`: `C·H·W` of the output shape.
    pub fn output_dim(&self, input: (usize, usize, usize)) -> crate::Result<usize> {
        let (c, h, w) = self.output_shape(input)?;
        Ok(c * h * w)
    }
}

#[derive(Debug)]
enum Layer {
    Conv(Conv2d),
    Pool(Pool2d),
    BatchNorm(BatchNorm),
    Residual(ResidualBlock),
    Se(SqueezeExcitation),
    GlobalAvgPool,
}

/// A convolutional network built from a [`CnnConfig`]; input `(N, C, H, W)`, output
/// `(N, features)`.
///
/// Parameter names: `layers.{i}.…` for layer `i` of the config (`layers.0.weight`,
/// `layers.3.conv1.bias`, …).
#[derive(Debug)]
pub struct Cnn {
    layers: Vec<Layer>,
    activation: Activation,
    output_dim: usize,
}

/// Builds a [`Cnn`] for inputs of shape `(C, H, W)` = `input`.
pub fn cnn(input: (usize, usize, usize), config: &CnnConfig, vb: VarBuilder) -> crate::Result<Cnn> {
    let output_dim = config.output_dim(input)?;
    let mut c = input.0;
    let mut layers = Vec::with_capacity(config.layers.len());
    for (i, layer) in config.layers.iter().enumerate() {
        let vb = vb.pp("layers").pp(i);
        layers.push(match *layer {
            CnnLayer::Conv {
                channels,
                kernel,
                stride,
                padding,
            } => {
                let cfg = Conv2dConfig {
                    stride,
                    padding,
                    bias: true,
                };
                let conv = conv2d(c, channels, kernel, cfg, vb)?;
                c = channels;
                Layer::Conv(conv)
            }
            CnnLayer::MaxPool { kernel, stride } => Layer::Pool(Pool2d::new(
                PoolKind::Max,
                kernel,
                stride.unwrap_or(kernel),
            )?),
            CnnLayer::AvgPool { kernel, stride } => Layer::Pool(Pool2d::new(
                PoolKind::Avg,
                kernel,
                stride.unwrap_or(kernel),
            )?),
            CnnLayer::BatchNorm => Layer::BatchNorm(batch_norm(c, BatchNormConfig::default(), vb)?),
            CnnLayer::Residual => Layer::Residual(residual_block(c, config.activation, vb)?),
            CnnLayer::SqueezeExcitation { reduction } => {
                Layer::Se(squeeze_excitation(c, reduction, vb)?)
            }
            CnnLayer::GlobalAvgPool => Layer::GlobalAvgPool,
        });
    }
    Ok(Cnn {
        layers,
        activation: config.activation,
        output_dim,
    })
}

impl Cnn {
    /// Number of output features per sample.
    pub fn output_dim(&self) -> usize {
        self.output_dim
    }
}

impl TrainMode for Cnn {
    fn set_training(&self, training: bool) {
        for layer in &self.layers {
            if let Layer::BatchNorm(bn) = layer {
                bn.set_training(training);
            }
        }
    }

    fn is_training(&self) -> bool {
        self.layers.iter().all(|l| match l {
            Layer::BatchNorm(bn) => bn.is_training(),
            _ => true,
        })
    }
}

impl Module for Cnn {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let mut h = xs.clone();
        for layer in &self.layers {
            h = match layer {
                Layer::Conv(conv) => self.activation.forward(&conv.forward(&h)?)?,
                Layer::Pool(pool) => pool.forward(&h)?,
                Layer::BatchNorm(bn) => bn.forward(&h)?,
                Layer::Residual(block) => block.forward(&h)?,
                Layer::Se(se) => se.forward(&h)?,
                Layer::GlobalAvgPool => GlobalAvgPool.forward(&h)?,
            };
        }
        h.flatten_from(1)
    }
}
