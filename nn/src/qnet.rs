//! [`QNetwork`]: a torso and a Q head, described by one config.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::cnn::{Cnn, CnnConfig, CnnLayer, cnn};
use super::fused::FusedAct;
use super::heads::{DuelingConfig, DuelingHead, QHead, dueling_head, q_head};
use super::linear::fused_act;
use super::mlp::{Mlp, MlpConfig, mlp};
use super::norm::{LayerNorm, LayerNormConfig, layer_norm};
use super::recurrent::{CellKind, Recurrent, RecurrentConfig, RecurrentState, recurrent};
use super::transformer::{
    PositionalConfig, PositionalEncoding, TransformerBlock, TransformerConfig, positional_encoding,
    transformer_block,
};
use super::{Activation, Linear, ParamStore, TrainMode, linear};

/// The feature extractor of a [`QNetwork`], a TOML table with a `type` key.
///
/// ```toml
/// torso = { type = "mlp", hidden = [256, 256] }
/// # or, for image observations (C, H, W), the Nature-DQN torso and its 512-unit layer:
/// torso = { type = "cnn", fc = [512] }
/// # or a recurrent torso that carries its state through the episode (DRQN):
/// torso = { type = "lstm", hidden = 64, fc = [64] }
/// # or a causal transformer over the last 8 observations:
/// torso = { type = "attention", k = 8, dim = 64, heads = 4, layers = 1 }
/// ```
///
/// The recurrent torsos (`lstm`, `gru`) read one flat observation per step and keep a state
/// between steps: a [`QNetwork`] with one is stepped through episodes with
/// [`QNetwork::forward_seq`]; its plain `forward` is the first step of an episode.
///
/// The attention torso reads the last `k` observations, oldest first, as `(N, k, …)` — the
/// observation of an env wrapped in `ObservationHistory` (the runner wraps the env so when the
/// torso is `attention`): each observation is embedded linearly to `dim`, a learned position
/// vector is added, `layers` pre-norm causal [`TransformerBlock`]s and a final layer norm
/// follow, and the head reads the last position (Vaswani et al., 2017; on transformers as
/// reinforcement-learning torsos, Parisotto et al., 2020).
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
    /// An LSTM over flat observations, one step per env step (Hausknecht & Stone, 2015),
    /// after optional fully connected layers applied to each observation.
    Lstm {
        /// Hidden units (default 64).
        #[serde(default = "default_recurrent_hidden")]
        hidden: usize,
        /// Stacked layers (default 1).
        #[serde(default = "default_one")]
        layers: usize,
        /// Widths of ReLU layers applied to each observation before the LSTM (default `[]`).
        #[serde(default)]
        fc: Vec<usize>,
    },
    /// A GRU over flat observations, one step per env step, after optional fully connected
    /// layers.
    Gru {
        /// Hidden units (default 64).
        #[serde(default = "default_recurrent_hidden")]
        hidden: usize,
        /// Stacked layers (default 1).
        #[serde(default = "default_one")]
        layers: usize,
        /// Widths of ReLU layers applied to each observation before the GRU (default `[]`).
        #[serde(default)]
        fc: Vec<usize>,
    },
    /// A small causal transformer over the last `k` observations, read at the last one.
    Attention {
        /// Observations attended over; the observation's shape is `[k, …]` (required).
        k: usize,
        /// Embedding width (default 64).
        #[serde(default = "default_recurrent_hidden")]
        dim: usize,
        /// Attention heads; divides `dim` (default 4).
        #[serde(default = "default_heads")]
        heads: usize,
        /// Transformer blocks (default 1).
        #[serde(default = "default_one")]
        layers: usize,
        /// Feed-forward width; 0 means 4 × `dim` (default 0).
        #[serde(default)]
        ff_dim: usize,
    },
}

fn default_recurrent_hidden() -> usize {
    64
}

fn default_one() -> usize {
    1
}

fn default_heads() -> usize {
    4
}

impl TorsoConfig {
    /// The recurrent cell of an `lstm` or `gru` torso; `None` for the others.
    pub fn cell(&self) -> Option<CellKind> {
        match self {
            TorsoConfig::Lstm { .. } => Some(CellKind::Lstm),
            TorsoConfig::Gru { .. } => Some(CellKind::Gru),
            _ => None,
        }
    }

    /// The `k` of an `attention` torso: how many observations it reads; `None` for the others.
    pub fn history(&self) -> Option<usize> {
        match self {
            TorsoConfig::Attention { k, .. } => Some(*k),
            _ => None,
        }
    }
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

/// A Q-network's description: torso and head.
///
/// | field    | default                  | meaning                  |
/// |----------|--------------------------|--------------------------|
/// | `torso`  | `{ type = "mlp", hidden = [64, 64] }` | [`TorsoConfig`] |
/// | `head`   | `{ type = "linear" }`    | [`HeadConfig`]           |
///
/// Where the network runs is not part of its description: it is given when the network is
/// built ([`QNetwork::new`]'s `device`, or the [`VarBuilder`]'s), as candle does, so that one
/// key chooses it for everything an agent computes (a DQN agent's `device`).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use candle_core::Device;
/// use qlab_nn::QNetworkConfig;
/// let cfg: QNetworkConfig = toml::from_str(r#"
///     torso = { type = "mlp", hidden = [256, 256] }
///     head = { type = "dueling", hidden = [64] }
/// "#)?;
/// let (net, store) = qlab_nn::QNetwork::new(&[4], 2, &cfg, 0, &Device::Cpu)?;
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
}

/// The widest layer a [`QNetworkConfig`] may ask for (units, channels, embedding width).
pub const MAX_WIDTH: usize = 16_384;

/// The most layers a [`QNetworkConfig`] may list in one place (`hidden`, `fc`, `layers`).
pub const MAX_LAYERS: usize = 64;

/// The largest kernel, stride or padding of a CNN layer, pixels.
pub const MAX_KERNEL: usize = 1024;

/// The longest history an attention torso reads, observations.
pub const MAX_HISTORY: usize = 4096;

/// `value` of `key` in `1..=max`.
fn in_range(key: &str, value: usize, max: usize) -> crate::Result<()> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(crate::Error::config(key, value, format!("1 to {max}")))
    }
}

/// Each width of the list `key` in `1..=MAX_WIDTH`, and at most [`MAX_LAYERS`] of them.
fn widths(key: &str, list: &[usize]) -> crate::Result<()> {
    if list.len() > MAX_LAYERS {
        return Err(crate::Error::config(
            key,
            format!("a list of {} widths", list.len()),
            format!("at most {MAX_LAYERS} layers"),
        ));
    }
    for (i, &w) in list.iter().enumerate() {
        in_range(&format!("{key}[{i}]"), w, MAX_WIDTH)?;
    }
    Ok(())
}

impl QNetworkConfig {
    /// Checks every width and count before anything is built: a layer of width 0 (or one
    /// too wide to allocate) is an error naming its key (`network.torso.hidden[0]`) and the
    /// allowed range, not a failure inside the tensor library. What depends on the
    /// observation's shape is checked when the network is built.
    pub fn validate(&self) -> crate::Result<()> {
        let t = "network.torso";
        match &self.torso {
            TorsoConfig::Mlp {
                hidden, dropout, ..
            } => {
                widths(&format!("{t}.hidden"), hidden)?;
                if !(0.0..1.0).contains(dropout) {
                    return Err(crate::Error::config(
                        format!("{t}.dropout"),
                        dropout,
                        "a probability in [0, 1)",
                    ));
                }
            }
            TorsoConfig::Cnn { layers, fc, .. } => {
                if layers.len() > MAX_LAYERS {
                    return Err(crate::Error::config(
                        format!("{t}.layers"),
                        format!("a list of {} layers", layers.len()),
                        format!("at most {MAX_LAYERS} layers"),
                    ));
                }
                for (i, layer) in layers.iter().enumerate() {
                    let key = |k: &str| format!("{t}.layers[{i}].{k}");
                    match *layer {
                        CnnLayer::Conv {
                            channels,
                            kernel,
                            stride,
                            padding,
                        } => {
                            in_range(&key("channels"), channels, MAX_WIDTH)?;
                            in_range(&key("kernel"), kernel, MAX_KERNEL)?;
                            in_range(&key("stride"), stride, MAX_KERNEL)?;
                            if padding > MAX_KERNEL {
                                return Err(crate::Error::config(
                                    key("padding"),
                                    padding,
                                    format!("0 to {MAX_KERNEL}"),
                                ));
                            }
                        }
                        CnnLayer::MaxPool { kernel, stride }
                        | CnnLayer::AvgPool { kernel, stride } => {
                            in_range(&key("kernel"), kernel, MAX_KERNEL)?;
                            if let Some(s) = stride {
                                in_range(&key("stride"), s, MAX_KERNEL)?;
                            }
                        }
                        CnnLayer::SqueezeExcitation { reduction } => {
                            in_range(&key("reduction"), reduction, MAX_WIDTH)?;
                        }
                        CnnLayer::BatchNorm | CnnLayer::Residual | CnnLayer::GlobalAvgPool => {}
                    }
                }
                widths(&format!("{t}.fc"), fc)?;
            }
            TorsoConfig::Lstm { hidden, layers, fc } | TorsoConfig::Gru { hidden, layers, fc } => {
                in_range(&format!("{t}.hidden"), *hidden, MAX_WIDTH)?;
                in_range(&format!("{t}.layers"), *layers, MAX_LAYERS)?;
                widths(&format!("{t}.fc"), fc)?;
            }
            TorsoConfig::Attention {
                k,
                dim,
                heads,
                layers,
                ff_dim,
            } => {
                in_range(&format!("{t}.k"), *k, MAX_HISTORY)?;
                in_range(&format!("{t}.dim"), *dim, MAX_WIDTH)?;
                in_range(&format!("{t}.layers"), *layers, MAX_LAYERS)?;
                if *heads == 0 || dim % heads != 0 {
                    return Err(crate::Error::config(
                        format!("{t}.heads"),
                        heads,
                        format!("a divisor of dim = {dim}"),
                    ));
                }
                if *ff_dim > MAX_WIDTH {
                    return Err(crate::Error::config(
                        format!("{t}.ff_dim"),
                        ff_dim,
                        format!("0 (4 × dim) to {MAX_WIDTH}"),
                    ));
                }
            }
        }
        if let HeadConfig::Dueling { hidden, .. } = &self.head {
            widths("network.head.hidden", hidden)?;
        }
        Ok(())
    }
}

/// Reads a [`QNetworkConfig`] from a table only: serde would also read a list positionally
/// (`network = []` as the default network), which no one means.
pub fn network_table<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<QNetworkConfig, D::Error> {
    struct Table;
    impl<'de> serde::de::Visitor<'de> for Table {
        type Value = QNetworkConfig;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a table such as { torso = { type = \"mlp\", hidden = [64, 64] } }")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            map: A,
        ) -> std::result::Result<QNetworkConfig, A::Error> {
            QNetworkConfig::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(Table)
}

#[derive(Debug)]
enum Torso {
    Mlp(Option<Mlp>),
    Cnn(Cnn, Option<Mlp>),
    Recurrent(Option<Mlp>, Recurrent),
    Attention(AttentionTorso),
}

/// The attention torso: embedding, positions, causal blocks, final norm.
#[derive(Debug)]
struct AttentionTorso {
    embed: Linear,
    positions: PositionalEncoding,
    blocks: Vec<TransformerBlock>,
    norm: LayerNorm,
}

impl AttentionTorso {
    /// `(N, k, …)` → the last position's features `(N, dim)`.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let xs = if xs.rank() > 3 {
            xs.flatten_from(2)?
        } else {
            xs.clone()
        };
        let (_, k, _) = xs.dims3()?;
        let mut h = self.positions.forward(&self.embed.forward(&xs)?)?;
        for b in &self.blocks {
            h = b.forward(&h)?;
        }
        self.norm.forward(&h.narrow(1, k - 1, 1)?.squeeze(1)?)
    }
}

#[derive(Debug)]
enum Head {
    Linear(QHead),
    Dueling(DuelingHead),
}

/// A Q-network: observations `(N, …obs_shape)` → action values `(N, A)`.
///
/// Parameter names: `torso.…` (an [`Mlp`] for MLP torsos; `torso.cnn.…` and `torso.fc.…` for
/// CNN torsos; `torso.fc.…` and PyTorch's `nn.LSTM` / `nn.GRU` names for recurrent torsos; `torso.embed.…`,
/// `torso.positions.…`, `torso.block{i}.…` and `torso.norm.…` for the attention torso) and
/// `head.…` (a [`QHead`] or a [`DuelingHead`]).
#[derive(Debug)]
pub struct QNetwork {
    torso: Torso,
    head: Head,
    actions: usize,
    /// Where the weights live (the device of the builder's variables).
    device: Device,
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
    config.validate()?;
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
        TorsoConfig::Lstm { hidden, layers, fc } | TorsoConfig::Gru { hidden, layers, fc } => {
            let [d] = obs_shape else {
                return Err(crate::Error::config(
                    "obs_shape",
                    format!("{obs_shape:?}"),
                    "a flat observation [d] for a recurrent torso",
                ));
            };
            let cfg = RecurrentConfig {
                cell: config.torso.cell().expect("a recurrent torso"),
                hidden: *hidden,
                layers: *layers,
                ..RecurrentConfig::default()
            };
            let (pre, input) = match fc.split_last() {
                None => (None, *d),
                Some((&last, inner)) => {
                    let cfg = MlpConfig {
                        hidden: inner.to_vec(),
                        output_activation: Activation::Relu,
                        ..MlpConfig::default()
                    };
                    (Some(mlp(*d, last, &cfg, tvb.pp("fc"))?), last)
                }
            };
            let rnn = recurrent(input, &cfg, tvb)?;
            let features = rnn.output_dim();
            (Torso::Recurrent(pre, rnn), features)
        }
        TorsoConfig::Attention {
            k,
            dim,
            heads,
            layers,
            ff_dim,
        } => {
            if obs_shape.len() < 2 || obs_shape[0] != *k || *k == 0 {
                return Err(crate::Error::config(
                    "obs_shape",
                    format!("{obs_shape:?}"),
                    format!(
                        "the last k = {k} observations [{k}, …] for an attention torso (k ≥ 1; wrap the env in ObservationHistory)"
                    ),
                ));
            }
            if *layers == 0 || *dim == 0 {
                return Err(crate::Error::config(
                    "network.torso",
                    format!("layers = {layers}, dim = {dim}"),
                    "at least 1 layer of width at least 1",
                ));
            }
            let d: usize = obs_shape[1..].iter().product();
            let block = TransformerConfig {
                heads: *heads,
                ff_dim: *ff_dim,
                causal: true,
                ..TransformerConfig::default()
            };
            let blocks = (0..*layers)
                .map(|i| transformer_block(*dim, &block, tvb.pp(format!("block{i}"))))
                .collect::<crate::Result<Vec<_>>>()?;
            let torso = AttentionTorso {
                embed: linear(d, *dim, true, tvb.pp("embed"))?,
                positions: positional_encoding(
                    *dim,
                    &PositionalConfig::Learned { max_len: *k },
                    tvb.pp("positions"),
                )?,
                blocks,
                norm: layer_norm(*dim, LayerNormConfig::default(), tvb.pp("norm"))?,
            };
            (Torso::Attention(torso), *dim)
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
        device: vb.device().clone(),
    })
}

impl QNetwork {
    /// A network and its [`ParamStore`] (`f32`, on `device`), weights drawn from `seed`.
    /// A [`DeviceConfig`](crate::DeviceConfig) from a config gives the device through
    /// [`resolve`](crate::DeviceConfig::resolve).
    pub fn new(
        obs_shape: &[usize],
        actions: usize,
        config: &QNetworkConfig,
        seed: u64,
        device: &Device,
    ) -> crate::Result<(QNetwork, ParamStore)> {
        let store = ParamStore::new(seed, DType::F32, device);
        let net = q_network(obs_shape, actions, config, store.var_builder())?;
        Ok((net, store))
    }

    /// Number of actions `A`.
    pub fn actions(&self) -> usize {
        self.actions
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The greedy action for each observation: `argmax_a Q(s, a)`, shape `(N)`, `u32`.
    pub fn greedy(&self, obs: &Tensor) -> Result<Tensor> {
        self.forward(obs)?.argmax(1)
    }

    /// `Q(obs, ·)` for one flat observation on the CPU, computed straight from the weights:
    /// bit for bit what [`forward`](Module::forward) gives for it, without building tensors
    /// or a graph (a few microseconds less a call, which adds up over the evaluation
    /// episodes). Only MLP torsos with a linear head have this form; `None` otherwise (and
    /// for layer norms, active dropout, gelu, other devices), where `forward` is the way.
    pub fn q_values_row(&self, obs: &[f32]) -> Option<Vec<f32>> {
        let features = match &self.torso {
            Torso::Mlp(Some(m)) => m.forward_row(obs)?,
            Torso::Mlp(None) => obs.to_vec(),
            _ => return None,
        };
        match &self.head {
            Head::Linear(h) => h.forward_row(&features),
            Head::Dueling(_) => None,
        }
    }

    /// Whether [`forward`](Module::forward) on the CPU gives each observation the same bits in
    /// any batch of the same number of rows, whatever the other rows are: an MLP torso without
    /// layer norms or active dropout, and a linear head. (The products' sums for a row never
    /// read the other rows, but gemm may split them differently for another number of rows.)
    /// Values of such a network can be computed once for observations that many batches of
    /// one size share.
    pub fn rows_are_independent(&self) -> bool {
        let torso = match &self.torso {
            Torso::Mlp(Some(m)) => m.is_rowwise(),
            Torso::Mlp(None) => true,
            _ => false,
        };
        torso && matches!(self.head, Head::Linear(_))
    }

    /// The layers of an MLP torso and a linear head, in order, each with the fused op's form
    /// of its activation: the network as the fused op's functions compute it without tensors
    /// ([`forward_rows`](crate::forward_rows), [`backward_rows`](crate::backward_rows)).
    /// `None` for other networks, and where a row is not computed alone
    /// ([`rows_are_independent`](Self::rows_are_independent)) or an activation is not fused
    /// (gelu).
    pub fn fused_layers(&self) -> Option<Vec<(&Linear, FusedAct)>> {
        if !self.rows_are_independent() {
            return None;
        }
        let (Torso::Mlp(torso), Head::Linear(head)) = (&self.torso, &self.head) else {
            return None;
        };
        let mut layers = Vec::new();
        if let Some(m) = torso {
            for (l, act) in m.layers_and_activations() {
                layers.push((l, fused_act(act)?));
            }
        }
        layers.push((head.linear(), FusedAct::Identity));
        Some(layers)
    }

    /// Whether the torso is recurrent: its Q-values depend on the episode so far, carried in
    /// a [`RecurrentState`] through [`forward_seq`](Self::forward_seq).
    pub fn is_recurrent(&self) -> bool {
        matches!(self.torso, Torso::Recurrent(..))
    }

    /// Q-values along sequences of observations `(N, T, …obs_shape)` → `(N, T, A)`.
    ///
    /// A recurrent torso starts from `state` (zeros when `None`), zeroes its state before the
    /// steps where `starts` `(N, T)` is 1 (an episode starts there), and returns its final
    /// state; the other torsos read each observation alone and return no state.
    pub fn forward_seq(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
        starts: Option<&Tensor>,
    ) -> Result<(Tensor, Option<RecurrentState>)> {
        let dims = xs.dims();
        if dims.len() < 3 {
            candle_core::bail!("forward_seq takes (N, T, …obs), got shape {dims:?}")
        }
        let (n, t) = (dims[0], dims[1]);
        let (features, state) = match &self.torso {
            Torso::Recurrent(pre, r) => {
                let xs = match pre {
                    Some(m) => m.forward(&xs.flatten(0, 1)?)?.reshape((n, t, ()))?,
                    None => xs.clone(),
                };
                let (out, s) = r.forward_episodes(&xs, state, starts)?;
                (out.reshape((n * t, r.output_dim()))?, Some(s))
            }
            _ => {
                let flat = xs.flatten(0, 1)?;
                return Ok((self.forward(&flat)?.reshape((n, t, self.actions))?, None));
            }
        };
        let q = self.head_forward(&features)?;
        Ok((q.reshape((n, t, self.actions))?, state))
    }

    fn head_forward(&self, features: &Tensor) -> Result<Tensor> {
        match &self.head {
            Head::Linear(h) => h.forward(features),
            Head::Dueling(h) => h.forward(features),
        }
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
            Torso::Recurrent(pre, _) => {
                if let Some(m) = pre {
                    m.set_training(training);
                }
            }
            Torso::Attention(a) => a.blocks.iter().for_each(|b| b.set_training(training)),
        }
    }

    fn is_training(&self) -> bool {
        match &self.torso {
            Torso::Mlp(Some(m)) => m.is_training(),
            Torso::Mlp(None) => true,
            Torso::Cnn(c, _) => c.is_training(),
            Torso::Recurrent(pre, _) => pre.as_ref().is_none_or(TrainMode::is_training),
            Torso::Attention(a) => a.blocks.iter().all(TrainMode::is_training),
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
            // One step from the zero state: the first step of an episode.
            Torso::Recurrent(pre, r) => {
                let xs = match pre {
                    Some(m) => m.forward(xs)?,
                    None => xs.clone(),
                };
                r.forward(&xs.unsqueeze(1)?)?.squeeze(1)?
            }
            Torso::Attention(a) => a.forward(xs)?,
        };
        self.head_forward(&features)
    }
}
