//! The pre-norm transformer encoder block and positional encodings.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};

use super::attention::{AttentionConfig, MultiHeadSelfAttention, multi_head_self_attention};
use super::dropout::{Dropout, seed_from_name};
use super::norm::{LayerNorm, LayerNormConfig, layer_norm};
use super::{Activation, Linear, TrainMode, linear};

/// Hyperparameters of a [`TransformerBlock`].
///
/// | field        | default  | valid                    | meaning                               |
/// |--------------|----------|--------------------------|---------------------------------------|
/// | `heads`      | `4`      | `≥ 1`, divides the width | attention heads                       |
/// | `ff_dim`     | `0`      | `≥ 0`                    | feed-forward width; `0` means 4 × the embedding width |
/// | `activation` | `"gelu"` | [`Activation`]           | inside the feed-forward network       |
/// | `causal`     | `false`  |                          | mask future positions                 |
/// | `dropout`    | `0.0`    | `[0, 1)`                 | on the attention and feed-forward outputs, training mode only |
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransformerConfig {
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward width (0: four times the embedding width).
    pub ff_dim: usize,
    /// Feed-forward activation.
    pub activation: Activation,
    /// Mask future positions.
    pub causal: bool,
    /// Dropout probability on each residual branch.
    pub dropout: f64,
}

impl Default for TransformerConfig {
    fn default() -> Self {
        Self {
            heads: 4,
            ff_dim: 0,
            activation: Activation::Gelu,
            causal: false,
            dropout: 0.0,
        }
    }
}

/// A pre-norm transformer encoder block (Xiong et al., 2020) over `(N, T, E)`:
/// `x ← x + attn(ln₁(x))`, then `x ← x + W₂ act(W₁ ln₂(x))`.
///
/// Parameters: `ln1.*`, `attn.qkv.*`, `attn.out.*`, `ln2.*`, `ff1.*` `(F, E)`, `ff2.*` `(E, F)`.
#[derive(Debug)]
pub struct TransformerBlock {
    ln1: LayerNorm,
    attn: MultiHeadSelfAttention,
    ln2: LayerNorm,
    ff1: Linear,
    ff2: Linear,
    activation: Activation,
    dropout: Option<(Dropout, Dropout)>,
}

/// Builds a [`TransformerBlock`] over embeddings of width `dim`.
pub fn transformer_block(
    dim: usize,
    config: &TransformerConfig,
    vb: VarBuilder,
) -> crate::Result<TransformerBlock> {
    if !(0.0..1.0).contains(&config.dropout) {
        return Err(crate::Error::config(
            "dropout",
            config.dropout,
            "a probability in [0, 1)",
        ));
    }
    let ff = if config.ff_dim == 0 {
        4 * dim
    } else {
        config.ff_dim
    };
    let attn_cfg = AttentionConfig {
        heads: config.heads,
        causal: config.causal,
    };
    let dropout = if config.dropout > 0.0 {
        let seed = seed_from_name(&format!("{}.dropout", vb.prefix()));
        Some((
            Dropout::new(config.dropout, seed)?,
            Dropout::new(config.dropout, seed.wrapping_add(1))?,
        ))
    } else {
        None
    };
    Ok(TransformerBlock {
        ln1: layer_norm(dim, LayerNormConfig::default(), vb.pp("ln1"))?,
        attn: multi_head_self_attention(dim, attn_cfg, vb.pp("attn"))?,
        ln2: layer_norm(dim, LayerNormConfig::default(), vb.pp("ln2"))?,
        ff1: linear(dim, ff, true, vb.pp("ff1"))?,
        ff2: linear(ff, dim, true, vb.pp("ff2"))?,
        activation: config.activation,
        dropout,
    })
}

impl TrainMode for TransformerBlock {
    fn set_training(&self, training: bool) {
        if let Some((a, b)) = &self.dropout {
            a.set_training(training);
            b.set_training(training);
        }
    }

    fn is_training(&self) -> bool {
        self.dropout.as_ref().is_none_or(|(a, _)| a.is_training())
    }
}

impl Module for TransformerBlock {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let a = self.attn.forward(&self.ln1.forward(xs)?)?;
        let a = match &self.dropout {
            Some((d, _)) => d.forward(&a)?,
            None => a,
        };
        let xs = (xs + a)?;
        let f = self.ff2.forward(
            &self
                .activation
                .forward(&self.ff1.forward(&self.ln2.forward(&xs)?)?)?,
        )?;
        let f = match &self.dropout {
            Some((_, d)) => d.forward(&f)?,
            None => f,
        };
        xs + f
    }
}

/// The fixed sinusoidal position encoding of Vaswani et al. (2017), added to `(N, T, E)`:
/// `PE[t, 2i] = sin(t / 10000^(2i/E))`, `PE[t, 2i+1] = cos(t / 10000^(2i/E))`.
///
/// No parameters; sequences up to `max_len` long.
#[derive(Clone, Debug)]
pub struct SinusoidalPositionalEncoding {
    table: Tensor,
}

impl SinusoidalPositionalEncoding {
    /// The encoding for width `dim` and sequences up to `max_len`, in `dtype` on `device`.
    pub fn new(dim: usize, max_len: usize, dtype: DType, device: &Device) -> Result<Self> {
        let mut table = vec![0f64; max_len * dim];
        for t in 0..max_len {
            for i in 0..dim {
                let freq = 10000f64.powf(-((i / 2 * 2) as f64) / dim as f64);
                let angle = t as f64 * freq;
                table[t * dim + i] = if i % 2 == 0 { angle.sin() } else { angle.cos() };
            }
        }
        let table = Tensor::from_vec(table, (max_len, dim), device)?.to_dtype(dtype)?;
        Ok(Self { table })
    }

    /// The table, shape `(max_len, dim)`.
    pub fn table(&self) -> &Tensor {
        &self.table
    }
}

impl Module for SinusoidalPositionalEncoding {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        add_positions(xs, &self.table)
    }
}

/// A learned position embedding added to `(N, T, E)`.
///
/// Parameter: `weight` `(max_len, E)`, normal with standard deviation 0.02 (GPT-2's choice).
#[derive(Clone, Debug)]
pub struct LearnedPositionalEncoding {
    weight: Tensor,
}

/// Builds a [`LearnedPositionalEncoding`] for width `dim` and sequences up to `max_len`.
pub fn learned_positional_encoding(
    dim: usize,
    max_len: usize,
    vb: VarBuilder,
) -> Result<LearnedPositionalEncoding> {
    let init = Init::Randn {
        mean: 0.0,
        stdev: 0.02,
    };
    Ok(LearnedPositionalEncoding {
        weight: vb.get_with_hints((max_len, dim), "weight", init)?,
    })
}

impl Module for LearnedPositionalEncoding {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        add_positions(xs, &self.weight)
    }
}

fn add_positions(xs: &Tensor, table: &Tensor) -> Result<Tensor> {
    let (_, t, e) = xs.dims3()?;
    let (max_len, dim) = table.dims2()?;
    if t > max_len || e != dim {
        candle_core::bail!(
            "positional encoding for up to {max_len} steps of width {dim} cannot take a sequence of {t} steps of width {e}"
        )
    }
    xs.broadcast_add(&table.narrow(0, 0, t)?)
}

/// Which position encoding to add, a TOML table with a `type` key:
/// `{ type = "sinusoidal", max_len = 512 }` (the default) or `{ type = "learned", max_len = 64 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum PositionalConfig {
    /// [`SinusoidalPositionalEncoding`]: fixed, no parameters.
    Sinusoidal {
        /// Longest sequence (default 512).
        #[serde(default = "default_max_len")]
        max_len: usize,
    },
    /// [`LearnedPositionalEncoding`]: one learned vector per position.
    Learned {
        /// Longest sequence (default 512).
        #[serde(default = "default_max_len")]
        max_len: usize,
    },
}

fn default_max_len() -> usize {
    512
}

impl Default for PositionalConfig {
    fn default() -> Self {
        PositionalConfig::Sinusoidal {
            max_len: default_max_len(),
        }
    }
}

/// Either position encoding, built from a [`PositionalConfig`].
#[derive(Clone, Debug)]
pub enum PositionalEncoding {
    /// Fixed sinusoids.
    Sinusoidal(SinusoidalPositionalEncoding),
    /// Learned vectors (parameter `weight`).
    Learned(LearnedPositionalEncoding),
}

/// Builds the [`PositionalEncoding`] described by `config` for embeddings of width `dim`, in
/// the dtype and on the device of `vb`.
pub fn positional_encoding(
    dim: usize,
    config: &PositionalConfig,
    vb: VarBuilder,
) -> Result<PositionalEncoding> {
    Ok(match *config {
        PositionalConfig::Sinusoidal { max_len } => PositionalEncoding::Sinusoidal(
            SinusoidalPositionalEncoding::new(dim, max_len, vb.dtype(), vb.device())?,
        ),
        PositionalConfig::Learned { max_len } => {
            PositionalEncoding::Learned(learned_positional_encoding(dim, max_len, vb)?)
        }
    })
}

impl Module for PositionalEncoding {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            PositionalEncoding::Sinusoidal(p) => p.forward(xs),
            PositionalEncoding::Learned(p) => p.forward(xs),
        }
    }
}
