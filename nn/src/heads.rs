//! Q-value heads: linear and dueling.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::mlp::{Mlp, MlpConfig, mlp};
use super::{Activation, Linear, linear};

/// A linear Q head: features `(N, F)` → action values `(N, A)`.
///
/// Parameters: `weight` `(A, F)`, `bias` `(A)`.
#[derive(Clone, Debug)]
pub struct QHead {
    linear: Linear,
}

/// Builds a [`QHead`] from `features` to `actions` values.
pub fn q_head(features: usize, actions: usize, vb: VarBuilder) -> Result<QHead> {
    Ok(QHead {
        linear: linear(features, actions, true, vb)?,
    })
}

impl QHead {
    /// The action values for one feature row on the CPU, without tensors (see
    /// [`Linear::forward_act_row`]).
    pub fn forward_row(&self, features: &[f32]) -> Option<Vec<f32>> {
        self.linear.forward_act_row(features, Activation::Identity)
    }

    /// The linear layer to the action values.
    pub(crate) fn linear(&self) -> &Linear {
        &self.linear
    }
}

impl Module for QHead {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.linear.forward(xs)
    }
}

/// Hyperparameters of a [`DuelingHead`].
///
/// | field        | default  | valid      | meaning                                        |
/// |--------------|----------|------------|------------------------------------------------|
/// | `hidden`     | `[]`     | each `> 0` | hidden widths of each stream (empty: linear streams) |
/// | `activation` | `"relu"` | [`Activation`] | between the hidden layers of each stream   |
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DuelingConfig {
    /// Hidden widths of the value and of the advantage stream.
    pub hidden: Vec<usize>,
    /// Activation inside the streams.
    pub activation: Activation,
}

/// The dueling head (Wang et al., 2016): a value stream `V(s)` and an advantage stream
/// `A(s, a)` combined with the mean-centred advantage,
/// `Q(s, a) = V(s) + A(s, a) − mean_a' A(s, a')`.
///
/// Parameters: `value.layers.{i}.*` (ending in width 1) and `advantage.layers.{i}.*` (ending in
/// width `A`).
#[derive(Debug)]
pub struct DuelingHead {
    value: Mlp,
    advantage: Mlp,
}

/// Builds a [`DuelingHead`] from `features` to `actions` values.
pub fn dueling_head(
    features: usize,
    actions: usize,
    config: &DuelingConfig,
    vb: VarBuilder,
) -> crate::Result<DuelingHead> {
    let stream = MlpConfig {
        hidden: config.hidden.clone(),
        activation: config.activation,
        ..MlpConfig::default()
    };
    Ok(DuelingHead {
        value: mlp(features, 1, &stream, vb.pp("value"))?,
        advantage: mlp(features, actions, &stream, vb.pp("advantage"))?,
    })
}

impl Module for DuelingHead {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let v = self.value.forward(xs)?;
        let a = self.advantage.forward(xs)?;
        let a = a.broadcast_sub(&a.mean_keepdim(1)?)?;
        a.broadcast_add(&v)
    }
}
