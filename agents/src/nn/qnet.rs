//! [`QNetwork`]: a torso and a Q head, described by one config.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::cnn::{Cnn, CnnConfig, CnnLayer, cnn};
use super::heads::{DuelingConfig, DuelingHead, QHead, dueling_head, q_head};
use super::mlp::{Mlp, MlpConfig, mlp};
use super::{Activation, DeviceConfig, ParamStore, TrainMode};

/// The feature extractor of a [`QNetwork`], a TOML table with a `type` key.
///
/// ```toml
/// torso = { type = "mlp", hidden = [256, 256] }
/// # or, for image observations (C, H, W), the Nature-DQN torso and its 512-unit layer:
/// torso = { type = "cnn", fc = [512] }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum TorsoConfig {
    /// Fully connected layers over flat observations `(N, obs_dim)`; every layer is followed
    /// by the activation. Empty `hidden` passes the observation through.
    Mlp {
        /// Layer widths (default `[64, 64]`, Stable-Baselines3's DQN).
        #[serde(default = "default_hidden")]
        hidden: Vec<usize>,
        /// Activation (default `"relu"`).
        #[serde(default)]
        activation: Activation,
        /// Layer norm before each activation (default `false`).
        #[serde(default)]
        layer_norm: bool,
        /// Dropout after each activation (default `0.0`).
        #[serde(default)]
        dropout: f64,
    },
    /// Convolutions over image observations `(N, C, H, W)`, flattened, then fully connected
    /// layers.
    Cnn {
        /// Convolutional layers (default: Nature DQN's three).
        #[serde(default = "default_cnn_layers")]
        layers: Vec<CnnLayer>,
        /// Activation (default `"relu"`).
        #[serde(default)]
        activation: Activation,
        /// Widths of the fully connected layers after flattening (default `[512]`).
        #[serde(default = "default_fc")]
        fc: Vec<usize>,
    },
}

fn default_hidden() -> Vec<usize> {
    vec![64, 64]
}

fn default_cnn_layers() -> Vec<CnnLayer> {
    CnnConfig::nature_dqn().layers
}

fn default_fc() -> Vec<usize> {
    vec![512]
}

impl Default for TorsoConfig {
    fn default() -> Self {
        TorsoConfig::Mlp {
            hidden: default_hidden(),
            activation: Activation::Relu,
            layer_norm: false,
            dropout: 0.0,
        }
    }
}

/// The Q head of a [`QNetwork`]: `{ type = "linear" }` or
/// `{ type = "dueling", hidden = [256] }`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum HeadConfig {
    /// One linear layer to the action values.
    #[default]
    Linear,
    /// Value and advantage streams ([`DuelingHead`]).
    Dueling {
        /// Hidden widths of each stream (default `[]`).
        #[serde(default)]
        hidden: Vec<usize>,
        /// Activation inside the streams (default `"relu"`).
        #[serde(default)]
        activation: Activation,
    },
}

/// A Q-network's description: torso, head and device.
///
/// | field    | default                  | meaning                  |
/// |----------|--------------------------|--------------------------|
/// | `torso`  | `{ type = "mlp", hidden = [64, 64] }` | [`TorsoConfig`] |
/// | `head`   | `{ type = "linear" }`    | [`HeadConfig`]           |
/// | `device` | `"cpu"`                  | [`DeviceConfig`]         |
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use qlab_agents::nn::QNetworkConfig;
/// let cfg: QNetworkConfig = toml::from_str(r#"
///     device = "cpu"
///     torso = { type = "mlp", hidden = [256, 256] }
///     head = { type = "dueling", hidden = [64] }
/// "#)?;
/// let (net, store) = qlab_agents::nn::QNetwork::new(&[4], 2, &cfg, 0)?;
/// assert_eq!(net.actions(), 2);
/// # let _ = store;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QNetworkConfig {
    /// The feature extractor.
    pub torso: TorsoConfig,
    /// The Q head.
    pub head: HeadConfig,
    /// Where the network runs.
    pub device: DeviceConfig,
}

#[derive(Debug)]
enum Torso {
    Mlp(Option<Mlp>),
    Cnn(Cnn, Option<Mlp>),
}

#[derive(Debug)]
enum Head {
    Linear(QHead),
    Dueling(DuelingHead),
}

/// A Q-network: observations `(N, …obs_shape)` → action values `(N, A)`.
///
/// Parameter names: `torso.…` (an [`Mlp`] for MLP torsos; `torso.cnn.…` and `torso.fc.…` for
/// CNN torsos) and `head.…` (a [`QHead`] or a [`DuelingHead`]).
#[derive(Debug)]
pub struct QNetwork {
    torso: Torso,
    head: Head,
    actions: usize,
}

/// Builds a [`QNetwork`] for observations of shape `obs_shape` (`[d]` for an MLP torso,
/// `[C, H, W]` for a CNN torso) and `actions` discrete actions.
pub fn q_network(
    obs_shape: &[usize],
    actions: usize,
    config: &QNetworkConfig,
    vb: VarBuilder,
) -> crate::Result<QNetwork> {
    if actions == 0 {
        return Err(crate::Error::config("actions", 0, "at least 1"));
    }
    let tvb = vb.pp("torso");
    let (torso, features) = match &config.torso {
        TorsoConfig::Mlp {
            hidden,
            activation,
            layer_norm,
            dropout,
        } => {
            let [d] = obs_shape else {
                return Err(crate::Error::config(
                    "obs_shape",
                    format!("{obs_shape:?}"),
                    "a flat observation [d] for an MLP torso",
                ));
            };
            match hidden.split_last() {
                None => (Torso::Mlp(None), *d),
                Some((&last, inner)) => {
                    let cfg = MlpConfig {
                        hidden: inner.to_vec(),
                        activation: *activation,
                        output_activation: *activation,
                        layer_norm: *layer_norm,
                        dropout: *dropout,
                    };
                    (Torso::Mlp(Some(mlp(*d, last, &cfg, tvb)?)), last)
                }
            }
        }
        TorsoConfig::Cnn {
            layers,
            activation,
            fc,
        } => {
            let &[c, h, w] = obs_shape else {
                return Err(crate::Error::config(
                    "obs_shape",
                    format!("{obs_shape:?}"),
                    "an image observation [C, H, W] for a CNN torso",
                ));
            };
            let cnn_cfg = CnnConfig {
                layers: layers.clone(),
                activation: *activation,
            };
            let conv = cnn((c, h, w), &cnn_cfg, tvb.pp("cnn"))?;
            let flat = conv.output_dim();
            match fc.split_last() {
                None => (Torso::Cnn(conv, None), flat),
                Some((&last, inner)) => {
                    let cfg = MlpConfig {
                        hidden: inner.to_vec(),
                        activation: *activation,
                        output_activation: *activation,
                        ..MlpConfig::default()
                    };
                    let fc = mlp(flat, last, &cfg, tvb.pp("fc"))?;
                    (Torso::Cnn(conv, Some(fc)), last)
                }
            }
        }
    };
    let hvb = vb.pp("head");
    let head = match &config.head {
        HeadConfig::Linear => Head::Linear(q_head(features, actions, hvb)?),
        HeadConfig::Dueling { hidden, activation } => {
            let cfg = DuelingConfig {
                hidden: hidden.clone(),
                activation: *activation,
            };
            Head::Dueling(dueling_head(features, actions, &cfg, hvb)?)
        }
    };
    Ok(QNetwork {
        torso,
        head,
        actions,
    })
}

impl QNetwork {
    /// A network and its [`ParamStore`] (`f32`, on the config's device), weights drawn from
    /// `seed`.
    pub fn new(
        obs_shape: &[usize],
        actions: usize,
        config: &QNetworkConfig,
        seed: u64,
    ) -> crate::Result<(QNetwork, ParamStore)> {
        let device = config.device.resolve()?;
        let store = ParamStore::new(seed, DType::F32, &device);
        let net = q_network(obs_shape, actions, config, store.var_builder())?;
        Ok((net, store))
    }

    /// Number of actions `A`.
    pub fn actions(&self) -> usize {
        self.actions
    }

    /// The greedy action for each observation: `argmax_a Q(s, a)`, shape `(N)`, `u32`.
    pub fn greedy(&self, obs: &Tensor) -> Result<Tensor> {
        self.forward(obs)?.argmax(1)
    }
}

impl TrainMode for QNetwork {
    fn set_training(&self, training: bool) {
        match &self.torso {
            Torso::Mlp(Some(m)) => m.set_training(training),
            Torso::Mlp(None) => {}
            Torso::Cnn(c, fc) => {
                c.set_training(training);
                if let Some(m) = fc {
                    m.set_training(training);
                }
            }
        }
    }

    fn is_training(&self) -> bool {
        match &self.torso {
            Torso::Mlp(Some(m)) => m.is_training(),
            Torso::Mlp(None) => true,
            Torso::Cnn(c, _) => c.is_training(),
        }
    }
}

impl Module for QNetwork {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let features = match &self.torso {
            Torso::Mlp(Some(m)) => m.forward(xs)?,
            Torso::Mlp(None) => xs.clone(),
            Torso::Cnn(c, fc) => {
                let h = c.forward(xs)?;
                match fc {
                    Some(m) => m.forward(&h)?,
                    None => h,
                }
            }
        };
        match &self.head {
            Head::Linear(h) => h.forward(&features),
            Head::Dueling(h) => h.forward(&features),
        }
    }
}
