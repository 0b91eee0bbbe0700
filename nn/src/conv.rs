//! 2-D convolution and pooling, on inputs of shape `(N, C, H, W)`.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};

/// Hyperparameters of a [`Conv2d`] beyond its channel counts and kernel size.
///
/// | field     | default | valid  | meaning                                          |
/// |-----------|---------|--------|--------------------------------------------------|
/// | `stride`  | `1`     | `≥ 1`  | step between kernel positions, in pixels         |
/// | `padding` | `0`     | `≥ 0`  | zeros added on each side of both spatial axes    |
/// | `bias`    | `true`  |        | learn a per-output-channel bias                  |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Conv2dConfig {
    /// Step between kernel positions.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
    /// Whether to learn a bias.
    pub bias: bool,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Self {
            stride: 1,
            padding: 0,
            bias: true,
        }
    }
}

/// A 2-D convolution (cross-correlation, as in PyTorch) with a square kernel.
///
/// Input `(N, C_in, H, W)`, output `(N, C_out, H', W')` with
/// `H' = (H + 2·padding − kernel) / stride + 1` (rounded down), likewise `W'`.
///
/// Parameters: `weight` `(C_out, C_in, kernel, kernel)` and `bias` `(C_out)`, both uniform in
/// `±1/√(C_in·kernel²)` as PyTorch's `nn.Conv2d` starts.
#[derive(Clone, Debug)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    config: Conv2dConfig,
}

/// Builds a [`Conv2d`] from `in_channels` to `out_channels` with a `kernel`×`kernel` kernel.
pub fn conv2d(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    config: Conv2dConfig,
    vb: VarBuilder,
) -> Result<Conv2d> {
    if config.stride == 0 || kernel == 0 {
        candle_core::bail!(
            "conv2d kernel and stride must be at least 1, got kernel {kernel}, stride {}",
            config.stride
        )
    }
    let bound = 1.0 / ((in_channels * kernel * kernel).max(1) as f64).sqrt();
    let init = Init::Uniform {
        lo: -bound,
        up: bound,
    };
    let weight = vb.get_with_hints((out_channels, in_channels, kernel, kernel), "weight", init)?;
    let bias = if config.bias {
        Some(vb.get_with_hints(out_channels, "bias", init)?)
    } else {
        None
    };
    Ok(Conv2d {
        weight,
        bias,
        config,
    })
}

impl Conv2d {
    /// The kernel, shape `(C_out, C_in, k, k)`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The configuration.
    pub fn config(&self) -> &Conv2dConfig {
        &self.config
    }

    /// The output spatial size for an input of `h`×`w`, or `None` when the kernel does not fit.
    pub fn output_size(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let k = self.weight.dims()[2];
        let out = |x: usize| {
            (x + 2 * self.config.padding)
                .checked_sub(k)
                .map(|r| r / self.config.stride + 1)
        };
        Some((out(h)?, out(w)?))
    }
}

impl Module for Conv2d {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = xs.conv2d(&self.weight, self.config.padding, self.config.stride, 1, 1)?;
        match &self.bias {
            Some(b) => ys.broadcast_add(&b.reshape((1, (), 1, 1))?),
            None => Ok(ys),
        }
    }
}

/// How a [`Pool2d`] combines a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolKind {
    /// The largest value of the window; its gradient goes to that element.
    Max,
    /// The mean of the window.
    Avg,
}

/// Max or average pooling over `kernel`×`kernel` windows, `stride` apart, without padding.
///
/// Built from differentiable reductions, not candle's pooling kernels: those have a backward
/// pass only when the stride equals the kernel size, and in candle 0.11 the max-pool one
/// scales the gradient by 1/kernel². Disjoint windows (stride = kernel) are a reshape and two
/// reductions; overlapping or gapped windows gather each window offset with index selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    kind: PoolKind,
    kernel: usize,
    stride: usize,
}

impl Pool2d {
    /// Pooling of the given kind; `kernel` and `stride` at least 1.
    pub fn new(kind: PoolKind, kernel: usize, stride: usize) -> Result<Self> {
        if kernel == 0 || stride == 0 {
            candle_core::bail!(
                "pooling kernel and stride must be at least 1, got kernel {kernel}, stride {stride}"
            )
        }
        Ok(Self {
            kind,
            kernel,
            stride,
        })
    }

    /// Max pooling.
    pub fn max(kernel: usize, stride: usize) -> Result<Self> {
        Self::new(PoolKind::Max, kernel, stride)
    }

    /// Average pooling.
    pub fn avg(kernel: usize, stride: usize) -> Result<Self> {
        Self::new(PoolKind::Avg, kernel, stride)
    }

    /// The output spatial size for an input of `h`×`w`, or `None` when the window does not fit.
    pub fn output_size(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let out = |x: usize| x.checked_sub(self.kernel).map(|r| r / self.stride + 1);
        Some((out(h)?, out(w)?))
    }
}

impl Module for Pool2d {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = xs.dims4()?;
        let Some((oh, ow)) = self.output_size(h, w) else {
            candle_core::bail!(
                "pooling window {k}x{k} does not fit an input of {h}x{w}",
                k = self.kernel
            )
        };
        let (k, s) = (self.kernel, self.stride);
        if k == s {
            // Disjoint windows: view the (cropped) input as (N, C, oh, k, ow, k) and reduce the
            // two window axes. candle's own `max_pool2d` is not used: its backward pass (0.11)
            // scales the gradient by 1/k², which the gradient check caught.
            let (n, c) = (xs.dim(0)?, xs.dim(1)?);
            let win = xs
                .narrow(2, 0, oh * k)?
                .narrow(3, 0, ow * k)?
                .reshape((n, c, oh, k, ow, k))?;
            return match self.kind {
                PoolKind::Max => win.max(5)?.max(3),
                PoolKind::Avg => win.mean(5)?.mean(3),
            };
        }
        // Window offset (i, j) picks rows i, i+s, … and columns j, j+s, … .
        let pick = |start: usize, n: usize| -> Result<Tensor> {
            let idx: Vec<u32> = (0..n).map(|t| (start + t * s) as u32).collect();
            Tensor::from_vec(idx, n, xs.device())
        };
        let mut windows = Vec::with_capacity(k * k);
        for i in 0..k {
            let rows = xs.index_select(&pick(i, oh)?, 2)?;
            for j in 0..k {
                windows.push(rows.index_select(&pick(j, ow)?, 3)?);
            }
        }
        let stacked = Tensor::stack(&windows, 0)?;
        match self.kind {
            PoolKind::Max => stacked.max(0),
            PoolKind::Avg => stacked.mean(0),
        }
    }
}

/// Global average pooling: `(N, C, H, W)` → `(N, C)`, the mean over each feature map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GlobalAvgPool;

impl Module for GlobalAvgPool {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.mean((2, 3))
    }
}
