//! The multi-layer perceptron.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::dropout::{Dropout, seed_from_name};
use super::norm::{LayerNorm, LayerNormConfig, layer_norm};
use super::{Activation, Linear, TrainMode, linear};

/// Hyperparameters of an [`Mlp`].
///
/// | field               | default    | valid      | meaning                                         |
/// |---------------------|------------|------------|-------------------------------------------------|
/// | `hidden`            | `[64, 64]` | each `> 0` | widths of the hidden layers, input side first; empty for a single linear layer |
/// | `activation`        | `"relu"`   | [`Activation`] | after each hidden layer                     |
/// | `output_activation` | `"identity"` | [`Activation`] | after the output layer                    |
/// | `layer_norm`        | `false`    |            | layer norm after each hidden linear layer, before the activation |
/// | `dropout`           | `0.0`      | `[0, 1)`   | dropout after each hidden activation (training mode only) |
///
/// In TOML:
/// ```toml
/// hidden = [256, 256]
/// activation = "tanh"
/// layer_norm = true
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Widths of the hidden layers.
    pub hidden: Vec<usize>,
    /// Activation after each hidden layer.
    pub activation: Activation,
    /// Activation after the output layer.
    pub output_activation: Activation,
    /// Layer norm after each hidden linear layer.
    pub layer_norm: bool,
    /// Dropout probability after each hidden activation.
    pub dropout: f64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: vec![64, 64],
            activation: Activation::Relu,
            output_activation: Activation::Identity,
            layer_norm: false,
            dropout: 0.0,
        }
    }
}

impl MlpConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return Err(crate::Error::config(
                format!("hidden[{i}]"),
                0,
                "a width of at least 1",
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(crate::Error::config(
                "dropout",
                self.dropout,
                "a probability in [0, 1)",
            ));
        }
        Ok(())
    }
}

/// A multi-layer perceptron: linear layers with an activation (and optionally layer norm and
/// dropout) between them.
///
/// Parameter names: `layers.{i}.weight`, `layers.{i}.bias` for each linear layer `i` (the last
/// is the output layer) and `norms.{i}.weight`, `norms.{i}.bias` for the layer norms.
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
    norms: Vec<LayerNorm>,
    dropouts: Vec<Dropout>,
    activation: Activation,
    output_activation: Activation,
}

/// Builds an [`Mlp`] from `in_dim` inputs to `out_dim` outputs.
///
/// ```
/// # fn main() -> qlab_nn::Result<()> {
/// use candle_core::{DType, Device, Module, Tensor};
/// use qlab_nn::{MlpConfig, ParamStore, mlp};
/// let store = ParamStore::new(0, DType::F32, &Device::Cpu);
/// let net = mlp(4, 2, &MlpConfig::default(), store.var_builder())?;
/// let q = net.forward(&Tensor::zeros((8, 4), DType::F32, &Device::Cpu)?)?;
/// assert_eq!(q.dims(), [8, 2]);
/// # Ok(())
/// # }
/// ```
pub fn mlp(
    in_dim: usize,
    out_dim: usize,
    config: &MlpConfig,
    vb: VarBuilder,
) -> crate::Result<Mlp> {
    config.validate()?;
    let mut widths = vec![in_dim];
    widths.extend(&config.hidden);
    widths.push(out_dim);
    let mut layers = Vec::new();
    let mut norms = Vec::new();
    let mut dropouts = Vec::new();
    for (i, w) in widths.windows(2).enumerate() {
        layers.push(linear(w[0], w[1], true, vb.pp("layers").pp(i))?);
        let hidden = i + 2 < widths.len();
        if hidden && config.layer_norm {
            norms.push(layer_norm(
                w[1],
                LayerNormConfig::default(),
                vb.pp("norms").pp(i),
            )?);
        }
        if hidden && config.dropout > 0.0 {
            let name = format!("{}.dropout.{i}", vb.prefix());
            dropouts.push(Dropout::new(config.dropout, seed_from_name(&name))?);
        }
    }
    Ok(Mlp {
        layers,
        norms,
        dropouts,
        activation: config.activation,
        output_activation: config.output_activation,
    })
}

impl Mlp {
    /// The linear layers, input side first.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// Restarts every dropout generator from `seed` (the `i`-th from `seed + i`).
    pub fn reseed_dropout(&self, seed: u64) {
        for (i, d) in self.dropouts.iter().enumerate() {
            d.reseed(seed.wrapping_add(i as u64));
        }
    }
}

impl TrainMode for Mlp {
    fn set_training(&self, training: bool) {
        self.dropouts.iter().for_each(|d| d.set_training(training));
    }

    fn is_training(&self) -> bool {
        self.dropouts.first().is_none_or(|d| d.is_training())
    }
}

impl Mlp {
    /// The layers in order, each with the activation that follows it.
    pub(crate) fn layers_and_activations(&self) -> impl Iterator<Item = (&Linear, Activation)> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().map(move |(i, l)| {
            let act = if i == last {
                self.output_activation
            } else {
                self.activation
            };
            (l, act)
        })
    }

    /// Whether each output row is computed from its input row alone, by the same arithmetic
    /// whatever else is in the batch: no layer norms and no dropout drawing masks.
    pub fn is_rowwise(&self) -> bool {
        self.norms.is_empty() && !self.dropouts.iter().any(|d| d.is_active())
    }

    /// The output for one input row on the CPU without tensors, bit for bit what
    /// [`forward`](Module::forward) gives for it. `None` for an MLP with layer norms, with
    /// dropout while training, or where [`Linear::forward_act_row`] has no row form.
    pub fn forward_row(&self, x: &[f32]) -> Option<Vec<f32>> {
        if !self.is_rowwise() {
            return None;
        }
        let last = self.layers.len() - 1;
        let mut h = x.to_vec();
        for (i, layer) in self.layers.iter().enumerate() {
            let act = if i == last {
                self.output_activation
            } else {
                self.activation
            };
            h = layer.forward_act_row(&h, act)?;
        }
        Some(h)
    }
}

impl Module for Mlp {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let last = self.layers.len() - 1;
        let mut h = xs.clone();
        for (i, layer) in self.layers.iter().enumerate() {
            if i == last {
                return layer.forward_act(&h, self.output_activation);
            }
            h = match self.norms.get(i) {
                // The norm sits between the product and the activation.
                Some(norm) => self
                    .activation
                    .forward(&norm.forward(&layer.forward(&h)?)?)?,
                None => layer.forward_act(&h, self.activation)?,
            };
            if let Some(d) = self.dropouts.get(i) {
                h = d.forward(&h)?;
            }
        }
        Ok(h)
    }
}
