//! Optimizers — SGD (momentum, Nesterov), RMSProp (centred), Adam, AdamW — and gradient-norm
//! clipping.
//!
//! The update rules are PyTorch's, term for term (`torch.optim.SGD`, `RMSprop`, `Adam`,
//! `AdamW`, `torch.nn.utils.clip_grad_norm_`), so hyperparameters carry over from
//! Stable-Baselines3 and CleanRL; the tests pin a few steps of each against PyTorch.
//!
//! # Speed
//!
//! On the CPU, for `f32` and `f64` parameters, each parameter is updated in one fused pass
//! over its storage, in place, with the optimizer state in plain vectors: no tensor is
//! allocated. candle-nn's `AdamW` builds each update from about ten tensor ops, each of which
//! allocates its result; for the small networks of reinforcement learning that overhead costs
//! more than the arithmetic. Other devices and dtypes take the same rules expressed as tensor
//! ops.

use std::cell::RefCell;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, Layout, Storage, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// SGD's hyperparameters (`torch.optim.SGD`).
///
/// | field           | default | valid    | meaning                                      |
/// |-----------------|---------|----------|----------------------------------------------|
/// | `lr`            | `0.01`  | `> 0`    | learning rate                                |
/// | `momentum`      | `0.0`   | `[0, 1)` | momentum factor μ                            |
/// | `dampening`     | `0.0`   | `[0, 1]` | the gradient enters the momentum buffer scaled by `1 − dampening` |
/// | `nesterov`      | `false` |          | Nesterov momentum (needs `momentum > 0`, `dampening = 0`) |
/// | `weight_decay`  | `0.0`   | `≥ 0`    | L2 penalty added to the gradient             |
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Momentum dampening.
    pub dampening: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// L2 penalty.
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

/// RMSProp's hyperparameters (`torch.optim.RMSprop`; `eps` is added after the square root).
///
/// | field          | default | valid    | meaning                                          |
/// |----------------|---------|----------|--------------------------------------------------|
/// | `lr`           | `0.01`  | `> 0`    | learning rate                                    |
/// | `alpha`        | `0.99`  | `[0, 1)` | decay of the squared-gradient average            |
/// | `eps`          | `1e-8`  | `> 0`    | added to the denominator                         |
/// | `momentum`     | `0.0`   | `[0, 1)` | momentum on the scaled step                      |
/// | `centered`     | `false` |          | divide by the estimated variance (subtract the squared mean gradient) |
/// | `weight_decay` | `0.0`   | `≥ 0`    | L2 penalty added to the gradient                 |
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RmsPropConfig {
    /// Learning rate.
    pub lr: f64,
    /// Squared-gradient decay.
    pub alpha: f64,
    /// Denominator term.
    pub eps: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Centred variant.
    pub centered: bool,
    /// L2 penalty.
    pub weight_decay: f64,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            centered: false,
            weight_decay: 0.0,
        }
    }
}

/// Adam's and AdamW's hyperparameters (`torch.optim.Adam`, `torch.optim.AdamW`).
///
/// | field          | default | valid    | meaning                                          |
/// |----------------|---------|----------|--------------------------------------------------|
/// | `lr`           | `1e-3`  | `> 0`    | learning rate                                    |
/// | `beta1`        | `0.9`   | `[0, 1)` | decay of the gradient average                    |
/// | `beta2`        | `0.999` | `[0, 1)` | decay of the squared-gradient average            |
/// | `eps`          | `1e-8`  | `> 0`    | added to the denominator after the square root   |
/// | `weight_decay` | `0.0` (Adam), `0.01` (AdamW) | `≥ 0` | Adam: L2 penalty added to the gradient; AdamW: decoupled decay `θ ← θ(1 − lr·wd)` |
///
/// Both correct the bias of the averages: the step is `lr / (1 − β₁ᵗ)` and the denominator
/// `√v / √(1 − β₂ᵗ) + eps`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate.
    #[serde(default = "adam_lr")]
    pub lr: f64,
    /// First-moment decay.
    #[serde(default = "adam_beta1")]
    pub beta1: f64,
    /// Second-moment decay.
    #[serde(default = "adam_beta2")]
    pub beta2: f64,
    /// Denominator term.
    #[serde(default = "adam_eps")]
    pub eps: f64,
    /// Weight decay (L2 for Adam, decoupled for AdamW).
    #[serde(default)]
    pub weight_decay: f64,
}

fn adam_lr() -> f64 {
    1e-3
}
fn adam_beta1() -> f64 {
    0.9
}
fn adam_beta2() -> f64 {
    0.999
}
fn adam_eps() -> f64 {
    1e-8
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: adam_lr(),
            beta1: adam_beta1(),
            beta2: adam_beta2(),
            eps: adam_eps(),
            weight_decay: 0.0,
        }
    }
}

impl AdamConfig {
    /// AdamW's defaults: Adam's with `weight_decay = 0.01`.
    pub fn adamw() -> Self {
        Self {
            weight_decay: 0.01,
            ..Self::default()
        }
    }
}

/// An optimizer and its hyperparameters, a TOML table with a `type` key:
///
/// ```toml
/// [optimizer]
/// type = "adam"
/// lr = 1e-4
/// max_grad_norm = 10.0
/// ```
///
/// `max_grad_norm` (default none) clips the global gradient norm before every update, as
/// [`clip_grad_norm`] does.
// No `deny_unknown_fields` here: serde does not support it together with `flatten`; the
// algorithm structs deny unknown keys themselves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// The algorithm and its hyperparameters.
    #[serde(flatten)]
    pub algorithm: Algorithm,
    /// Clip the global gradient norm to this value before each update.
    #[serde(default)]
    pub max_grad_norm: Option<f64>,
}

/// The update rule of an [`OptimizerConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Algorithm {
    /// Stochastic gradient descent with optional (Nesterov) momentum.
    Sgd(SgdConfig),
    /// RMSProp, optionally centred.
    RmsProp(RmsPropConfig),
    /// Adam with L2 weight decay.
    Adam(AdamConfig),
    /// AdamW: Adam with decoupled weight decay.
    #[serde(rename = "adamw")]
    AdamW(#[serde(default = "AdamConfig::adamw")] AdamConfig),
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Adam(AdamConfig::default()),
            max_grad_norm: None,
        }
    }
}

impl From<Algorithm> for OptimizerConfig {
    fn from(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            max_grad_norm: None,
        }
    }
}

fn check(key: &str, value: f64, ok: bool, expected: &str) -> Result<()> {
    if ok && !value.is_nan() {
        Ok(())
    } else {
        Err(Error::config(key, value, expected))
    }
}

impl OptimizerConfig {
    /// Checks every hyperparameter; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let unit = |x: f64| (0.0..1.0).contains(&x);
        match self.algorithm {
            Algorithm::Sgd(c) => {
                check("lr", c.lr, c.lr > 0.0, "> 0")?;
                check("momentum", c.momentum, unit(c.momentum), "in [0, 1)")?;
                check(
                    "dampening",
                    c.dampening,
                    (0.0..=1.0).contains(&c.dampening),
                    "in [0, 1]",
                )?;
                check(
                    "weight_decay",
                    c.weight_decay,
                    c.weight_decay >= 0.0,
                    ">= 0",
                )?;
                if c.nesterov && (c.momentum == 0.0 || c.dampening != 0.0) {
                    return Err(Error::config(
                        "nesterov",
                        true,
                        "momentum > 0 and dampening = 0 (Nesterov momentum)",
                    ));
                }
            }
            Algorithm::RmsProp(c) => {
                check("lr", c.lr, c.lr > 0.0, "> 0")?;
                check("alpha", c.alpha, unit(c.alpha), "in [0, 1)")?;
                check("eps", c.eps, c.eps > 0.0, "> 0")?;
                check("momentum", c.momentum, unit(c.momentum), "in [0, 1)")?;
                check(
                    "weight_decay",
                    c.weight_decay,
                    c.weight_decay >= 0.0,
                    ">= 0",
                )?;
            }
            Algorithm::Adam(c) | Algorithm::AdamW(c) => {
                check("lr", c.lr, c.lr > 0.0, "> 0")?;
                check("beta1", c.beta1, unit(c.beta1), "in [0, 1)")?;
                check("beta2", c.beta2, unit(c.beta2), "in [0, 1)")?;
                check("eps", c.eps, c.eps > 0.0, "> 0")?;
                check(
                    "weight_decay",
                    c.weight_decay,
                    c.weight_decay >= 0.0,
                    ">= 0",
                )?;
            }
        }
        if let Some(m) = self.max_grad_norm {
            check("max_grad_norm", m, m > 0.0, "> 0")?;
        }
        Ok(())
    }

    /// The configured learning rate.
    pub fn lr(&self) -> f64 {
        match self.algorithm {
            Algorithm::Sgd(c) => c.lr,
            Algorithm::RmsProp(c) => c.lr,
            Algorithm::Adam(c) | Algorithm::AdamW(c) => c.lr,
        }
    }

    /// Number of state buffers per parameter.
    fn buffers(&self) -> usize {
        match self.algorithm {
            Algorithm::Sgd(c) => usize::from(c.momentum != 0.0),
            // square average, momentum buffer, gradient average
            Algorithm::RmsProp(_) => 3,
            Algorithm::Adam(_) | Algorithm::AdamW(_) => 2,
        }
    }
}

/// Optimizer state of one parameter: its step count (PyTorch counts steps per parameter; a
/// parameter without a gradient does not advance) and its buffers.
struct State {
    t: u64,
    bufs: Bufs,
}

enum Bufs {
    /// Not yet stepped.
    Empty,
    F32(Vec<Vec<f32>>),
    F64(Vec<Vec<f64>>),
    Tensors(Vec<Tensor>),
}

/// An optimizer over a fixed list of variables, configured by an [`OptimizerConfig`].
///
/// ```
/// # fn main() -> qlab_agents::Result<()> {
/// use candle_core::{DType, Device, Module, Tensor};
/// use qlab_agents::nn::{Algorithm, MlpConfig, Optimizer, ParamStore, SgdConfig, mlp, mse_loss};
/// let store = ParamStore::new(0, DType::F32, &Device::Cpu);
/// let net = mlp(2, 1, &MlpConfig::default(), store.var_builder())?;
/// let mut opt = Optimizer::new(store.trainable_vars(), Algorithm::Sgd(SgdConfig::default()).into())?;
/// let x = Tensor::ones((4, 2), DType::F32, &Device::Cpu)?;
/// let before = mse_loss(&net.forward(&x)?, &x.narrow(1, 0, 1)?)?.to_scalar::<f32>()?;
/// for _ in 0..20 {
///     let loss = mse_loss(&net.forward(&x)?, &x.narrow(1, 0, 1)?)?;
///     opt.backward_step(&loss)?;
/// }
/// let after = mse_loss(&net.forward(&x)?, &x.narrow(1, 0, 1)?)?.to_scalar::<f32>()?;
/// assert!(after < before);
/// # Ok(())
/// # }
/// ```
pub struct Optimizer {
    vars: Vec<Var>,
    state: Vec<State>,
    config: OptimizerConfig,
    lr: f64,
    steps: u64,
    last_grad_norm: Option<f64>,
    fused: bool,
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer")
            .field("config", &self.config)
            .field("lr", &self.lr)
            .field("steps", &self.steps)
            .field("vars", &self.vars.len())
            .finish()
    }
}

impl Optimizer {
    /// An optimizer for `vars` (non-float variables are skipped), after validating `config`.
    pub fn new(vars: Vec<Var>, config: OptimizerConfig) -> Result<Self> {
        config.validate()?;
        let vars: Vec<Var> = vars.into_iter().filter(|v| v.dtype().is_float()).collect();
        let state = vars
            .iter()
            .map(|_| State {
                t: 0,
                bufs: Bufs::Empty,
            })
            .collect();
        Ok(Self {
            vars,
            state,
            lr: config.lr(),
            config,
            steps: 0,
            last_grad_norm: None,
            fused: true,
        })
    }

    /// Makes this optimizer update through tensor ops even on the CPU — the path other devices
    /// and dtypes take — instead of the fused in-place kernels. Slower; it exists so that the
    /// two paths can be checked against each other without a GPU.
    pub fn with_tensor_ops(mut self) -> Self {
        self.fused = false;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// The current learning rate (the config's until [`set_learning_rate`](Self::set_learning_rate)).
    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate for the next steps (see [`LrSchedule`](super::LrSchedule)).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Number of updates applied so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The global gradient norm seen by the last step (before clipping), when
    /// `max_grad_norm` is set.
    pub fn last_grad_norm(&self) -> Option<f64> {
        self.last_grad_norm
    }

    /// The variables being optimized.
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// Backpropagates `loss` and applies one update.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    /// Applies one update from `grads`; variables without a gradient are left alone (their
    /// state does not advance either).
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.steps += 1;
        let scale = match self.config.max_grad_norm {
            Some(max_norm) => {
                let norm = global_grad_norm(&self.vars, grads)?;
                self.last_grad_norm = Some(norm);
                clip_coefficient(norm, max_norm)
            }
            None => 1.0,
        };
        let hyper = Hyper { lr: self.lr, scale };
        for (var, state) in self.vars.iter().zip(self.state.iter_mut()) {
            let Some(grad) = grads.get(var.as_tensor()) else {
                continue;
            };
            update_one(var, grad, state, &self.config, &hyper, self.fused)?;
        }
        Ok(())
    }
}

impl candle_nn::Optimizer for Optimizer {
    type Config = OptimizerConfig;

    fn new(vars: Vec<Var>, config: OptimizerConfig) -> candle_core::Result<Self> {
        Optimizer::new(vars, config).map_err(candle_core::Error::wrap)
    }

    fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        Optimizer::step(self, grads).map_err(candle_core::Error::wrap)
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
}

/// PyTorch's clip coefficient: `min(1, max_norm / (norm + 1e-6))`.
fn clip_coefficient(norm: f64, max_norm: f64) -> f64 {
    (max_norm / (norm + 1e-6)).min(1.0)
}

/// The global L2 norm of the gradients of `vars`, `√Σ‖g‖²` (variables without a gradient
/// count as zero).
pub fn global_grad_norm(vars: &[Var], grads: &GradStore) -> Result<f64> {
    let mut sum = 0.0f64;
    for var in vars {
        let Some(g) = grads.get(var.as_tensor()) else {
            continue;
        };
        sum += match cpu_sum_squares(g) {
            Some(s) => s,
            None => g
                .to_dtype(candle_core::DType::F64)?
                .sqr()?
                .sum_all()?
                .to_scalar::<f64>()?,
        };
    }
    Ok(sum.sqrt())
}

fn cpu_sum_squares(g: &Tensor) -> Option<f64> {
    let (storage, layout) = g.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else {
        return None;
    };
    let range = contiguous_range(layout)?;
    match cpu {
        CpuStorage::F32(v) => Some(v[range].iter().map(|&x| (x as f64) * (x as f64)).sum()),
        CpuStorage::F64(v) => Some(v[range].iter().map(|&x| x * x).sum()),
        _ => None,
    }
}

/// Scales the gradients of `vars` in `grads` so that their global norm is at most `max_norm`
/// (`torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
///
/// [`Optimizer`] does this itself, without rewriting the gradients, when `max_grad_norm` is
/// set; this function is for code that inspects or reuses the gradients.
pub fn clip_grad_norm(vars: &[Var], grads: &mut GradStore, max_norm: f64) -> Result<f64> {
    if max_norm.is_nan() || max_norm <= 0.0 {
        return Err(Error::config("max_norm", max_norm, "> 0"));
    }
    let norm = global_grad_norm(vars, grads)?;
    let coef = clip_coefficient(norm, max_norm);
    if coef < 1.0 {
        for var in vars {
            if let Some(g) = grads.get(var.as_tensor()) {
                let scaled = (g * coef)?;
                grads.insert(var.as_tensor(), scaled);
            }
        }
    }
    Ok(norm)
}

fn contiguous_range(layout: &Layout) -> Option<std::ops::Range<usize>> {
    layout.contiguous_offsets().map(|(start, end)| start..end)
}

/// Per-step constants shared by all parameters.
struct Hyper {
    lr: f64,
    /// Gradient scale from clipping.
    scale: f64,
}

/// Float element types the fused CPU kernels run on.
trait Real:
    Copy
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    fn of(x: f64) -> Self;
    fn sqrt(self) -> Self;
}

impl Real for f32 {
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
}

impl Real for f64 {
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
}

/// [`fused_update`], compiled for AVX2 when the CPU has it.
///
/// The crate is built for baseline x86-64 (SSE2); the update is bound by the throughput of
/// division and square root, which AVX2 doubles. The arithmetic is the same IEEE operations
/// either way (Rust does not contract `a * b + c` into FMA), so results are bit-identical.
#[allow(clippy::too_many_arguments)]
fn fused_update_dispatch<T: Real>(
    config: &OptimizerConfig,
    lr: f64,
    scale: f64,
    t: u64,
    first: bool,
    p: &mut [T],
    g: &[T],
    bufs: &mut [Vec<T>],
) {
    #[cfg(target_arch = "x86_64")]
    {
        /// # Safety
        /// The CPU must support AVX2.
        #[target_feature(enable = "avx2")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn avx2<T: Real>(
            config: &OptimizerConfig,
            lr: f64,
            scale: f64,
            t: u64,
            first: bool,
            p: &mut [T],
            g: &[T],
            bufs: &mut [Vec<T>],
        ) {
            fused_update(config, lr, scale, t, first, p, g, bufs)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { avx2(config, lr, scale, t, first, p, g, bufs) };
            return;
        }
    }
    fused_update(config, lr, scale, t, first, p, g, bufs)
}

/// The fused update of one parameter slice. `first` is true on the parameter's first step
/// (PyTorch starts SGD's momentum buffer at the first gradient); `t` counts steps from 1.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fused_update<T: Real>(
    config: &OptimizerConfig,
    lr: f64,
    scale: f64,
    t: u64,
    first: bool,
    p: &mut [T],
    g: &[T],
    bufs: &mut [Vec<T>],
) {
    let s = T::of(scale);
    match config.algorithm {
        Algorithm::Sgd(c) => {
            let (lr, wd) = (T::of(lr), T::of(c.weight_decay));
            if c.momentum == 0.0 {
                for (p, &g) in p.iter_mut().zip(g) {
                    let d = g * s + wd * *p;
                    *p = *p - lr * d;
                }
            } else {
                let (mu, damp) = (T::of(c.momentum), T::of(1.0 - c.dampening));
                let buf = &mut bufs[0];
                for ((p, &g), b) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
                    let d = g * s + wd * *p;
                    *b = if first { d } else { mu * *b + damp * d };
                    let step = if c.nesterov { d + mu * *b } else { *b };
                    *p = *p - lr * step;
                }
            }
        }
        Algorithm::RmsProp(c) => {
            let (lr, wd, alpha, eps, mu) = (
                T::of(lr),
                T::of(c.weight_decay),
                T::of(c.alpha),
                T::of(c.eps),
                T::of(c.momentum),
            );
            let one_m_alpha = T::of(1.0 - c.alpha);
            let [sq, mom, avg] = bufs else {
                unreachable!("rmsprop keeps three buffers")
            };
            // One loop per variant, so that each compiles to straight-line vector code.
            let scaled = |p: T, g: T, sq: &mut T| {
                let d = g * s + wd * p;
                *sq = alpha * *sq + one_m_alpha * d * d;
                d
            };
            match (c.centered, c.momentum > 0.0) {
                (false, false) => {
                    for ((p, &g), sq) in p.iter_mut().zip(g).zip(sq.iter_mut()) {
                        let d = scaled(*p, g, sq);
                        *p = *p - lr * d / (sq.sqrt() + eps);
                    }
                }
                (false, true) => {
                    for (((p, &g), sq), b) in
                        p.iter_mut().zip(g).zip(sq.iter_mut()).zip(mom.iter_mut())
                    {
                        let d = scaled(*p, g, sq);
                        *b = mu * *b + d / (sq.sqrt() + eps);
                        *p = *p - lr * *b;
                    }
                }
                (true, momentum) => {
                    for ((((p, &g), sq), b), a) in p
                        .iter_mut()
                        .zip(g)
                        .zip(sq.iter_mut())
                        .zip(mom.iter_mut())
                        .zip(avg.iter_mut())
                    {
                        let d = scaled(*p, g, sq);
                        *a = alpha * *a + one_m_alpha * d;
                        let step = d / ((*sq - *a * *a).sqrt() + eps);
                        if momentum {
                            *b = mu * *b + step;
                            *p = *p - lr * *b;
                        } else {
                            *p = *p - lr * step;
                        }
                    }
                }
            }
        }
        Algorithm::Adam(c) | Algorithm::AdamW(c) => {
            let decoupled = matches!(config.algorithm, Algorithm::AdamW(_));
            let bc1 = 1.0 - c.beta1.powf(t as f64);
            let bc2 = 1.0 - c.beta2.powf(t as f64);
            let step_size = T::of(lr / bc1);
            let inv_sqrt_bc2 = T::of(1.0 / bc2.sqrt());
            let (b1, b2, eps) = (T::of(c.beta1), T::of(c.beta2), T::of(c.eps));
            let (omb1, omb2) = (T::of(1.0 - c.beta1), T::of(1.0 - c.beta2));
            // AdamW shrinks the parameter first; Adam adds the L2 term to the gradient.
            let decay = T::of(if decoupled {
                1.0 - lr * c.weight_decay
            } else {
                1.0
            });
            let l2 = T::of(if decoupled { 0.0 } else { c.weight_decay });
            let [m, v] = bufs else {
                unreachable!("adam keeps two buffers")
            };
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                let pi = *p * decay;
                let d = g * s + l2 * pi;
                *m = b1 * *m + omb1 * d;
                *v = b2 * *v + omb2 * d * d;
                *p = pi - step_size * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
            }
        }
    }
}

/// Runs the fused kernel on a CPU parameter through candle's in-place op interface.
struct FusedStep<'a, T> {
    config: &'a OptimizerConfig,
    lr: f64,
    scale: f64,
    t: u64,
    first: bool,
    bufs: RefCell<&'a mut Vec<Vec<T>>>,
}

trait Slices: Sized {
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
}

impl Slices for f32 {
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
    fn slice(s: &CpuStorage) -> Option<&[f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
}

impl Slices for f64 {
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
    fn slice(s: &CpuStorage) -> Option<&[f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
}

impl<T: Real + Slices> candle_core::InplaceOp2 for FusedStep<'_, T> {
    fn name(&self) -> &'static str {
        "qlab-fused-optimizer-step"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (Some(r1), Some(r2)) = (contiguous_range(l1), contiguous_range(l2)) else {
            candle_core::bail!("fused optimizer step needs contiguous parameter and gradient")
        };
        let (Some(p), Some(g)) = (T::slice_mut(s1), T::slice(s2)) else {
            candle_core::bail!("fused optimizer step: parameter and gradient dtypes differ")
        };
        let mut bufs = self.bufs.borrow_mut();
        fused_update_dispatch(
            self.config,
            self.lr,
            self.scale,
            self.t,
            self.first,
            &mut p[r1],
            &g[r2],
            bufs.as_mut_slice(),
        );
        Ok(())
    }
}

fn update_one(
    var: &Var,
    grad: &Tensor,
    state: &mut State,
    config: &OptimizerConfig,
    hyper: &Hyper,
    fused: bool,
) -> Result<()> {
    let first = matches!(state.bufs, Bufs::Empty);
    if first {
        let (n, k) = (var.elem_count(), config.buffers());
        let on_cpu = fused && var.device().is_cpu();
        state.bufs = match var.dtype() {
            candle_core::DType::F32 if on_cpu => Bufs::F32(vec![vec![0.0; n]; k]),
            candle_core::DType::F64 if on_cpu => Bufs::F64(vec![vec![0.0; n]; k]),
            _ => Bufs::Tensors(
                (0..k)
                    .map(|_| var.zeros_like())
                    .collect::<candle_core::Result<_>>()?,
            ),
        };
    }
    state.t += 1;
    let t = state.t;
    let grad = grad.contiguous()?;
    let (lr, scale) = (hyper.lr, hyper.scale);
    match &mut state.bufs {
        Bufs::F32(bufs) => var.as_tensor().inplace_op2(
            &grad,
            &FusedStep::<f32> {
                config,
                lr,
                scale,
                t,
                first,
                bufs: RefCell::new(bufs),
            },
        )?,
        Bufs::F64(bufs) => var.as_tensor().inplace_op2(
            &grad,
            &FusedStep::<f64> {
                config,
                lr,
                scale,
                t,
                first,
                bufs: RefCell::new(bufs),
            },
        )?,
        Bufs::Tensors(bufs) => tensor_update(var, &grad, bufs, config, hyper, t, first)?,
        Bufs::Empty => unreachable!("state initialised above"),
    }
    Ok(())
}

/// The update rules as tensor ops, for devices and dtypes without a fused kernel.
fn tensor_update(
    var: &Var,
    grad: &Tensor,
    bufs: &mut [Tensor],
    config: &OptimizerConfig,
    hyper: &Hyper,
    t: u64,
    first: bool,
) -> Result<()> {
    let p = var.as_detached_tensor();
    let g = (grad * hyper.scale)?;
    let lr = hyper.lr;
    let new_p = match config.algorithm {
        Algorithm::Sgd(c) => {
            let d = (g + (&p * c.weight_decay)?)?;
            if c.momentum == 0.0 {
                (&p - (d * lr)?)?
            } else {
                let b = if first {
                    d.clone()
                } else {
                    ((&bufs[0] * c.momentum)? + (&d * (1.0 - c.dampening))?)?
                };
                let step = if c.nesterov {
                    (&d + (&b * c.momentum)?)?
                } else {
                    b.clone()
                };
                bufs[0] = b;
                (&p - (step * lr)?)?
            }
        }
        Algorithm::RmsProp(c) => {
            let d = (g + (&p * c.weight_decay)?)?;
            bufs[0] = ((&bufs[0] * c.alpha)? + (d.sqr()? * (1.0 - c.alpha))?)?;
            let denom = if c.centered {
                bufs[2] = ((&bufs[2] * c.alpha)? + (&d * (1.0 - c.alpha))?)?;
                ((&bufs[0] - bufs[2].sqr()?)?.sqrt()? + c.eps)?
            } else {
                (bufs[0].sqrt()? + c.eps)?
            };
            if c.momentum > 0.0 {
                bufs[1] = ((&bufs[1] * c.momentum)? + d.div(&denom)?)?;
                (&p - (&bufs[1] * lr)?)?
            } else {
                (&p - (d.div(&denom)? * lr)?)?
            }
        }
        Algorithm::Adam(c) | Algorithm::AdamW(c) => {
            let decoupled = matches!(config.algorithm, Algorithm::AdamW(_));
            let p = if decoupled {
                (&p * (1.0 - lr * c.weight_decay))?
            } else {
                p
            };
            let d = if decoupled {
                g
            } else {
                (g + (&p * c.weight_decay)?)?
            };
            bufs[0] = ((&bufs[0] * c.beta1)? + (&d * (1.0 - c.beta1))?)?;
            bufs[1] = ((&bufs[1] * c.beta2)? + (d.sqr()? * (1.0 - c.beta2))?)?;
            let bc1 = 1.0 - c.beta1.powf(t as f64);
            let bc2 = 1.0 - c.beta2.powf(t as f64);
            let denom = ((bufs[1].sqrt()? / bc2.sqrt())? + c.eps)?;
            (&p - (bufs[0].div(&denom)? * (lr / bc1))?)?
        }
    };
    var.set(&new_p)?;
    Ok(())
}
