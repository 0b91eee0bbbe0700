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

mod config;
mod kernels;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, Layout, Storage, Tensor, Var};

use crate::error::{Error, Result};

pub use config::{AdamConfig, Algorithm, OptimizerConfig, RmsPropConfig, SgdConfig};
use kernels::{FusedStep, tensor_update};

/// Tensors with their names, as [`Optimizer::state_tensors`] gives them.
pub type NamedTensors = Vec<(String, Tensor)>;

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
/// The learning rate lives in one place, the config's algorithm (`lr`):
/// [`set_learning_rate`](Self::set_learning_rate) changes it there, and
/// [`config`](Self::config) shows the rate the next step uses.
///
/// ```
/// # fn main() -> qlab_nn::Result<()> {
/// use candle_core::{DType, Device, Module, Tensor};
/// use qlab_nn::{Algorithm, MlpConfig, Optimizer, ParamStore, SgdConfig, mlp, mse_loss};
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
    steps: u64,
    last_grad_norm: Option<f64>,
    fused: bool,
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer")
            .field("config", &self.config)
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
            config,
            steps: 0,
            last_grad_norm: None,
            fused: true,
        })
    }

    /// The optimizer's state for a checkpoint: each variable's buffers as tensors named
    /// `"{variable}.{buffer}"` (variables in the order given to [`Optimizer::new`], buffers in
    /// the algorithm's order; none before its first step), and each variable's step count.
    pub fn state_tensors(&self) -> Result<(NamedTensors, Vec<u64>)> {
        let mut tensors = Vec::new();
        for (i, st) in self.state.iter().enumerate() {
            let bufs: Vec<Tensor> = match &st.bufs {
                Bufs::Empty => Vec::new(),
                Bufs::F32(b) => b
                    .iter()
                    .map(|v| Tensor::from_slice(v, v.len(), &candle_core::Device::Cpu))
                    .collect::<candle_core::Result<_>>()?,
                Bufs::F64(b) => b
                    .iter()
                    .map(|v| Tensor::from_slice(v, v.len(), &candle_core::Device::Cpu))
                    .collect::<candle_core::Result<_>>()?,
                Bufs::Tensors(b) => b.clone(),
            };
            for (k, t) in bufs.into_iter().enumerate() {
                tensors.push((format!("{i}.{k}"), t));
            }
        }
        Ok((tensors, self.state.iter().map(|s| s.t).collect()))
    }

    /// Restores a state saved by [`Optimizer::state_tensors`] into an optimizer over the same
    /// variables; a missing tensor, a wrong count or a wrong size is an error.
    pub fn load_state_tensors(
        &mut self,
        tensors: &std::collections::HashMap<String, Tensor>,
        steps: &[u64],
    ) -> Result<()> {
        let bad = |message: String| Error::Checkpoint {
            path: "optimizer state".into(),
            message,
        };
        if steps.len() != self.vars.len() {
            return Err(bad(format!(
                "{} step counts for {} variables",
                steps.len(),
                self.vars.len()
            )));
        }
        let k = self.config.buffers();
        for (i, (var, st)) in self.vars.iter().zip(self.state.iter_mut()).enumerate() {
            st.t = steps[i];
            if steps[i] == 0 {
                st.bufs = Bufs::Empty;
                continue;
            }
            let n = var.elem_count();
            let mut bufs = Vec::with_capacity(k);
            for b in 0..k {
                let name = format!("{i}.{b}");
                let t = tensors
                    .get(&name)
                    .ok_or_else(|| bad(format!("missing `{name}`")))?;
                if t.elem_count() != n {
                    return Err(bad(format!(
                        "`{name}` has {} values, not {n}",
                        t.elem_count()
                    )));
                }
                bufs.push(t);
            }
            let on_cpu = self.fused && var.device().is_cpu();
            st.bufs = match var.dtype() {
                candle_core::DType::F32 if on_cpu => Bufs::F32(
                    bufs.iter()
                        .map(|t| {
                            t.flatten_all()?
                                .to_dtype(candle_core::DType::F32)?
                                .to_vec1()
                        })
                        .collect::<candle_core::Result<_>>()?,
                ),
                candle_core::DType::F64 if on_cpu => Bufs::F64(
                    bufs.iter()
                        .map(|t| {
                            t.flatten_all()?
                                .to_dtype(candle_core::DType::F64)?
                                .to_vec1()
                        })
                        .collect::<candle_core::Result<_>>()?,
                ),
                _ => Bufs::Tensors(
                    bufs.iter()
                        .map(|t| {
                            t.to_device(var.device())?
                                .to_dtype(var.dtype())?
                                .reshape(var.shape())
                        })
                        .collect::<candle_core::Result<_>>()?,
                ),
            };
        }
        self.steps = steps.iter().copied().max().unwrap_or(0);
        Ok(())
    }

    /// Makes this optimizer update through tensor ops even on the CPU — the path other devices
    /// and dtypes take — instead of the fused in-place kernels. Slower; it exists so that the
    /// two paths can be checked against each other without a GPU.
    pub fn with_tensor_ops(mut self) -> Self {
        self.fused = false;
        self
    }

    /// The configuration, with the current learning rate (the one given to
    /// [`new`](Self::new) until [`set_learning_rate`](Self::set_learning_rate) changes it).
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// The current learning rate: the config's `lr`.
    pub fn learning_rate(&self) -> f64 {
        self.config.lr()
    }

    /// Sets the learning rate for the next steps (see [`LrSchedule`](super::LrSchedule)): the
    /// config's `lr`.
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.config.set_lr(lr);
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
    ///
    /// # Errors
    /// With `max_grad_norm` set, [`Error::NonFiniteGradient`] when the global gradient norm
    /// is NaN or infinite: nothing is updated, neither the variables nor the optimizer's
    /// state (PyTorch's `clip_grad_norm_` would scale such gradients to NaN and apply them).
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        let scale = match self.config.max_grad_norm {
            Some(max_norm) => {
                let norm = global_grad_norm(&self.vars, grads)?;
                self.last_grad_norm = Some(norm);
                if !norm.is_finite() {
                    return Err(Error::NonFiniteGradient { norm });
                }
                clip_coefficient(norm, max_norm)
            }
            None => 1.0,
        };
        self.steps += 1;
        let hyper = Hyper {
            lr: self.config.lr(),
            scale,
        };
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
        Optimizer::learning_rate(self)
    }

    fn set_learning_rate(&mut self, lr: f64) {
        Optimizer::set_learning_rate(self, lr)
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
        CpuStorage::F32(v) => Some(sum_squares(&v[range], |x| x as f64)),
        CpuStorage::F64(v) => Some(sum_squares(&v[range], |x| x)),
        _ => None,
    }
}

/// `Σ x²` in `f64`, over eight running sums (one chain of dependent additions would take
/// four cycles an element), added up in a fixed order.
fn sum_squares<T: Copy>(xs: &[T], wide: impl Fn(T) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            let x = wide(x);
            *a += x * x;
        }
    }
    let tail: f64 = rest.iter().map(|&x| wide(x) * wide(x)).sum();
    acc.iter().sum::<f64>() + tail
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

pub(super) fn contiguous_range(layout: &Layout) -> Option<std::ops::Range<usize>> {
    layout.contiguous_offsets().map(|(start, end)| start..end)
}

/// Per-step constants shared by all parameters.
pub(super) struct Hyper {
    pub(super) lr: f64,
    /// Gradient scale from clipping.
    pub(super) scale: f64,
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
    match &mut state.bufs {
        Bufs::F32(bufs) => var
            .as_tensor()
            .inplace_op2(&grad, &FusedStep::<f32>::new(config, hyper, t, first, bufs))?,
        Bufs::F64(bufs) => var
            .as_tensor()
            .inplace_op2(&grad, &FusedStep::<f64>::new(config, hyper, t, first, bufs))?,
        Bufs::Tensors(bufs) => tensor_update(var, &grad, bufs, config, hyper, t, first)?,
        Bufs::Empty => unreachable!("state initialised above"),
    }
    Ok(())
}
