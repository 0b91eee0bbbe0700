//! Scaled dot-product attention and multi-head self-attention.

use candle_core::{D, Device, Module, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::{Linear, linear};

/// Softmax along `dim`, from differentiable ops: `exp(x − max) / Σ exp(x − max)`.
///
/// candle-nn's `softmax_last_dim` is a fused kernel with no backward pass; this one has one.
/// The max is detached: softmax does not depend on the shift, so no gradient flows through it.
pub fn softmax(xs: &Tensor, dim: D) -> Result<Tensor> {
    let max = xs.max_keepdim(dim)?.detach();
    let e = xs.broadcast_sub(&max)?.exp()?;
    let sum = e.sum_keepdim(dim)?;
    e.broadcast_div(&sum)
}

/// The causal mask for `t_q` queries over `t_k` keys: `true` where key `j` lies in the future
/// of query `i` (`j > i + t_k − t_q`), as `u8` of shape `(t_q, t_k)`.
pub fn causal_mask(t_q: usize, t_k: usize, device: &Device) -> Result<Tensor> {
    let offset = t_k.saturating_sub(t_q);
    let mask: Vec<u8> = (0..t_q)
        .flat_map(|i| (0..t_k).map(move |j| u8::from(j > i + offset)))
        .collect();
    Tensor::from_vec(mask, (t_q, t_k), device)
}

/// Scaled dot-product attention (Vaswani et al., 2017):
/// `softmax(q·kᵀ / √d) · v`, with queries `q` `(…, T_q, d)`, keys `k` `(…, T_k, d)` and values
/// `v` `(…, T_k, d_v)`; returns `(…, T_q, d_v)`.
///
/// With `causal`, query `i` attends only to keys `j ≤ i` (aligned at the end when
/// `T_k > T_q`), so the output at position `t` does not depend on inputs after `t`. Masked
/// scores are replaced (not offset) by `−∞`, so they get exactly zero weight and zero gradient.
pub fn scaled_dot_product_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    causal: bool,
) -> Result<Tensor> {
    let d = q.dim(D::Minus1)?;
    let scores = (q.matmul(&k.t()?)? / (d as f64).sqrt())?;
    let scores = if causal {
        let (t_q, t_k) = (scores.dim(D::Minus2)?, scores.dim(D::Minus1)?);
        let mask = causal_mask(t_q, t_k, q.device())?.broadcast_as(scores.shape())?;
        let neg_inf = Tensor::new(f32::NEG_INFINITY, q.device())?
            .to_dtype(scores.dtype())?
            .broadcast_as(scores.shape())?;
        mask.where_cond(&neg_inf, &scores)?
    } else {
        scores
    };
    softmax(&scores, D::Minus1)?.matmul(&v.contiguous()?)
}

/// Hyperparameters of [`MultiHeadSelfAttention`].
///
/// | field    | default | valid                   | meaning                                   |
/// |----------|---------|-------------------------|-------------------------------------------|
/// | `heads`  | `4`     | `≥ 1`, divides the width | attention heads                          |
/// | `causal` | `false` |                         | each position attends only to itself and earlier ones |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttentionConfig {
    /// Number of heads.
    pub heads: usize,
    /// Mask future positions.
    pub causal: bool,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        Self {
            heads: 4,
            causal: false,
        }
    }
}

/// Multi-head self-attention over a sequence `(N, T, E)` → `(N, T, E)`.
///
/// Queries, keys and values come from one projection `E → 3E`, split into `heads` heads of
/// width `E / heads` that attend independently; their outputs are concatenated and projected
/// `E → E`.
///
/// Parameters: `qkv.{weight,bias}` `(3E, E)`, `(3E)` — rows in the order queries, keys,
/// values — and `out.{weight,bias}` `(E, E)`, `(E)`.
#[derive(Clone, Debug)]
pub struct MultiHeadSelfAttention {
    qkv: Linear,
    out: Linear,
    heads: usize,
    causal: bool,
}

/// Builds a [`MultiHeadSelfAttention`] over embeddings of width `dim`.
pub fn multi_head_self_attention(
    dim: usize,
    config: AttentionConfig,
    vb: VarBuilder,
) -> crate::Result<MultiHeadSelfAttention> {
    if config.heads == 0 || !dim.is_multiple_of(config.heads) {
        return Err(crate::Error::config(
            "heads",
            config.heads,
            format!("a divisor of the embedding width {dim}"),
        ));
    }
    Ok(MultiHeadSelfAttention {
        qkv: linear(dim, 3 * dim, true, vb.pp("qkv"))?,
        out: linear(dim, dim, true, vb.pp("out"))?,
        heads: config.heads,
        causal: config.causal,
    })
}

impl Module for MultiHeadSelfAttention {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (n, t, e) = xs.dims3()?;
        let hd = e / self.heads;
        // (N, T, 3E) → (3, N, heads, T, hd)
        let qkv = self
            .qkv
            .forward(xs)?
            .reshape((n, t, 3, self.heads, hd))?
            .permute((2, 0, 3, 1, 4))?;
        let (q, k, v) = (
            qkv.get(0)?.contiguous()?,
            qkv.get(1)?.contiguous()?,
            qkv.get(2)?.contiguous()?,
        );
        let y = scaled_dot_product_attention(&q, &k, &v, self.causal)?; // (N, heads, T, hd)
        let y = y.transpose(1, 2)?.reshape((n, t, e))?;
        self.out.forward(&y)
    }
}
