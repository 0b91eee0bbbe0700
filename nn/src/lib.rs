//! Neural-network building blocks on candle, shaped like candle-nn: the network library of
//! qlab's deep agents (`qlab-agents` re-exports it as `qlab_agents::nn`).
//!
//! It depends on candle and `qlab-rng` (the seeded generator of initial weights and dropout
//! masks), not on qlab's environments or agents.
//!
//! Each block is a struct implementing candle's [`Module`](candle_core::Module), made by a
//! builder function that takes its sizes, a `…Config` (serde + `Default`, so networks are
//! described in TOML) and a [`VarBuilder`](candle_nn::VarBuilder) — usually one from a
//! [`ParamStore`], which seeds the initial weights and saves and loads them as safetensors.
//!
//! Every block is built from differentiable candle ops and passes a finite-difference
//! [gradient check](gradcheck) in `f64`: candle's fused kernels without a backward pass
//! (`softmax_last_dim`, the fused layer norm) are not used.
//!
//! | file            | blocks |
//! |-----------------|--------|
//! | `linear.rs`, `fused.rs` | [`Linear`], and its fused CPU op (product, bias, activation) |
//! | `activation.rs` | [`Activation`]: relu, tanh, sigmoid, gelu, identity |
//! | `mlp.rs`        | [`Mlp`] with optional layer norm and dropout |
//! | `conv.rs`       | [`Conv2d`], max / average / global average pooling |
//! | `cnn.rs`        | [`ResidualBlock`], [`SqueezeExcitation`], the configurable [`Cnn`] with the Nature-DQN preset |
//! | `recurrent.rs`  | Elman RNN, LSTM and GRU cells and the multi-layer, optionally bidirectional [`Recurrent`] runner |
//! | `attention.rs`  | scaled dot-product attention, [`MultiHeadSelfAttention`] |
//! | `transformer.rs`| the pre-norm [`TransformerBlock`], sinusoidal and learned positional encodings |
//! | `heads.rs`      | the linear Q head and the [`DuelingHead`] |
//! | `policy.rs`     | categorical and diagonal Gaussian policies, orthogonal initialization, the [`ActorCritic`] network |
//! | `qnet.rs`       | [`QNetwork`]: a torso and a head from one config |
//! | `norm.rs`       | [`LayerNorm`], [`BatchNorm`] |
//! | `dropout.rs`    | seeded [`Dropout`] |
//! | `loss.rs`       | Huber, squared-error and cross-entropy losses |
//! | `td.rs`         | the TD step of a [`QNetwork`] ([`QNetwork::td_step`]: loss and gradients, fused for a CPU MLP, autodiff otherwise), [`td_loss`] |
//! | `optim/`        | SGD (momentum, Nesterov), RMSProp (centred), Adam, AdamW; gradient-norm clipping; fused CPU kernels |
//! | `schedule.rs`   | learning-rate schedules: constant, linear, cosine |
//! | `gradcheck.rs`  | the finite-difference gradient check |
//! | `device.rs`     | `device = "cpu" \| "cuda" \| "auto"`, CPU thread count |
//! | `store.rs`, `io.rs` | [`ParamStore`]; safetensors save and load |
//! | `argmax.rs`     | [`argmax`], [`argmin`], [`argmax_except`] over action values on the host, candle's ties |
//! | `mode.rs`       | [`TrainMode`]: training and evaluation behaviour |
//! | `error.rs`      | [`Error`], [`Result`] |
//!
//! # Features
//!
//! - `avx512` (opt-in; `cargo build --release --features avx512` for the `qlab` binary): the
//!   matrix products on gemm's AVX-512 kernels where the CPU has
//!   AVX-512F, chosen at run time (AVX2 + FMA otherwise, portable code elsewhere). Reruns
//!   on one machine stay bit-identical either way; an AVX-512 CPU sums small products (a
//!   Q-value head's) in another order than an AVX2 one, so with the feature off an AVX-512
//!   machine reproduces the runs of AVX2-only machines bit for bit.
//! - `cuda`: CUDA tensors through candle (needs the CUDA toolkit).
//!
//! # Example: one DQN update
//!
//! ```
//! # fn main() -> qlab_nn::Result<()> {
//! use candle_core::{Device, Module, Tensor};
//! use qlab_nn::{AdamConfig, Algorithm, Optimizer, QNetwork, QNetworkConfig, huber_loss};
//!
//! let config: QNetworkConfig = toml::from_str(r#"torso = { type = "mlp", hidden = [64, 64] }"#)
//!     .expect("valid TOML");
//! let (online, params) = QNetwork::new(&[4], 2, &config, 0, &Device::Cpu)?;
//! let (target, target_params) = QNetwork::new(&[4], 2, &config, 0, &Device::Cpu)?;
//! target_params.copy_from(&params)?;
//! let adam = Algorithm::Adam(AdamConfig { lr: 1e-4, ..Default::default() });
//! let mut opt = Optimizer::new(params.trainable_vars(), adam.into())?;
//!
//! let dev = Device::Cpu;
//! let obs = Tensor::zeros((32, 4), candle_core::DType::F32, &dev)?;
//! let next_obs = obs.clone();
//! let actions = Tensor::zeros((32, 1), candle_core::DType::U32, &dev)?;
//! let rewards = Tensor::ones(32, candle_core::DType::F32, &dev)?;
//! let discount = (Tensor::ones(32, candle_core::DType::F32, &dev)? * 0.99)?; // γ·(1 − done)
//!
//! let next_q = target.forward(&next_obs)?.max(1)?;
//! let y = ((next_q * &discount)? + &rewards)?.detach();
//! let q = online.forward(&obs)?.gather(&actions, 1)?.squeeze(1)?;
//! opt.backward_step(&huber_loss(&q, &y, 1.0)?)?;
//! let checkpoint: Vec<u8> = params.to_bytes()?; // or params.save("q.safetensors")?
//! # assert!(!checkpoint.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # Threads
//!
//! candle's CPU kernels use `RAYON_NUM_THREADS` threads (default: the physical cores). For the
//! small networks of reinforcement learning one thread is fastest; see [`cpu_threads`].
#![deny(missing_docs)]

pub mod activation;
mod argmax;
pub mod attention;
pub mod cnn;
pub mod conv;
pub mod device;
pub mod dropout;
mod error;
mod fused;
pub mod gradcheck;
pub mod heads;
pub mod io;
pub mod linear;
pub mod loss;
pub mod mlp;
mod mode;
pub mod norm;
pub mod optim;
pub mod policy;
pub mod qnet;
pub mod recurrent;
pub mod schedule;
pub mod store;
pub mod td;
pub mod transformer;

pub use activation::Activation;
pub use argmax::{argmax, argmax_except, argmin};
pub use attention::{
    AttentionConfig, MultiHeadSelfAttention, causal_mask, multi_head_self_attention,
    scaled_dot_product_attention, softmax,
};
pub use cnn::{
    Cnn, CnnConfig, CnnLayer, ResidualBlock, SqueezeExcitation, cnn, residual_block,
    squeeze_excitation,
};
pub use conv::{Conv2d, Conv2dConfig, GlobalAvgPool, Pool2d, PoolKind, conv2d};
pub use device::{DeviceConfig, cpu_threads, set_cpu_threads};
pub use dropout::Dropout;
pub use error::{Error, Result};
pub use fused::{FusedAct, backward_rows, forward_rows};
pub use gradcheck::{GradCheckConfig, GradCheckReport, grad_check, probe_loss};
pub use heads::{DuelingConfig, DuelingHead, QHead, dueling_head, q_head};
pub use linear::{Linear, linear};
pub use loss::{cross_entropy, huber_elementwise, huber_loss, log_softmax, mse_loss};
pub use mlp::{Mlp, MlpConfig, mlp};
pub use mode::TrainMode;
pub use norm::{BatchNorm, BatchNormConfig, LayerNorm, LayerNormConfig, batch_norm, layer_norm};
pub use optim::{
    AdamConfig, Algorithm, Optimizer, OptimizerConfig, RmsPropConfig, SgdConfig, clip_grad_norm,
    global_grad_norm,
};
pub use policy::{
    ActionKind, ActorCritic, ActorCriticConfig, SDE_EPSILON, Sampled, actor_critic,
    actor_critic_with, categorical_entropy, categorical_log_prob, gaussian_entropy,
    gaussian_log_prob, orthogonal, policy_network, sde_log_prob_entropy,
};
pub use qnet::{
    HeadConfig, MAX_HISTORY, MAX_KERNEL, MAX_LAYERS, MAX_WIDTH, QNetwork, QNetworkConfig,
    TorsoConfig, network_table, q_network,
};
pub use recurrent::{
    CellKind, CellState, Recurrent, RecurrentCell, RecurrentConfig, RecurrentState, recurrent,
    recurrent_cell,
};
pub use schedule::LrSchedule;
pub use store::ParamStore;
pub use td::{TdBatch, TdLoss, TdSequences, TdStep, td_loss, td_loss_gradient};
pub use transformer::{
    LearnedPositionalEncoding, PositionalConfig, PositionalEncoding, SinusoidalPositionalEncoding,
    TransformerBlock, TransformerConfig, learned_positional_encoding, positional_encoding,
    transformer_block,
};
