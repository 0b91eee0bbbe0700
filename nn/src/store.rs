//! [`ParamStore`]: the named, seeded parameters of a network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::init::{FanInOut, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use qlab_rng::EnvRng;
use rand::SeedableRng;

use crate::error::Result;

/// The parameters of one network, by name, created on first request with a seeded RNG.
///
/// A `ParamStore` plays the part of candle-nn's `VarMap`, with three differences:
/// - **Seeded.** candle's CPU random generator cannot be seeded, so the store draws every
///   initial value from its own [`EnvRng`]: the same seed and the same construction order give
///   bit-identical weights.
/// - **Ordered.** Parameters are listed in creation order, so optimizers, gradient checks and
///   checkpoints see them in a stable order.
/// - **Buffers.** A tensor whose last name component starts with `running_` (batch norm's
///   running statistics) is a buffer: it is saved and loaded with the parameters but
///   [`trainable_vars`](Self::trainable_vars) leaves it out.
///
/// Blocks get their tensors through [`var_builder`](Self::var_builder); names are the
/// builder's dotted prefixes, e.g. `torso.layers.0.weight`. A store is a cheap handle: clones
/// share the same parameters.
///
/// ```
/// # fn main() -> qlab_nn::Result<()> {
/// use candle_core::{DType, Device};
/// use qlab_nn::ParamStore;
/// let store = ParamStore::new(7, DType::F32, &Device::Cpu);
/// let vb = store.var_builder();
/// let layer = qlab_nn::linear(4, 2, true, vb.pp("fc"))?;
/// assert_eq!(store.names(), ["fc.weight", "fc.bias"]);
/// assert_eq!(store.num_params(), 4 * 2 + 2);
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ParamStore {
    inner: Arc<Mutex<Inner>>,
    dtype: DType,
    device: Device,
}

struct Inner {
    /// Creation order.
    order: Vec<String>,
    vars: HashMap<String, Var>,
    rng: EnvRng,
}

impl std::fmt::Debug for ParamStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        let mut map = f.debug_map();
        for name in &inner.order {
            map.entry(name, &inner.vars[name].dims());
        }
        map.finish()
    }
}

/// Whether `name` is a buffer (saved, not trained): its last component starts with `running_`.
pub fn is_buffer(name: &str) -> bool {
    name.rsplit('.')
        .next()
        .is_some_and(|last| last.starts_with("running_"))
}

impl ParamStore {
    /// An empty store whose parameters will be drawn from a generator seeded with `seed`,
    /// created with `dtype` on `device`.
    pub fn new(seed: u64, dtype: DType, device: &Device) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                order: Vec::new(),
                vars: HashMap::new(),
                rng: EnvRng::seed_from_u64(seed),
            })),
            dtype,
            device: device.clone(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the map itself consistent (inserts are atomic),
        // so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A [`VarBuilder`] that creates its tensors in this store.
    pub fn var_builder(&self) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), self.dtype, self.device.clone())
    }

    /// A [`VarBuilder`] over this store's existing parameters as constants: a network built
    /// from it computes what the store's network computes (the tensors share storage, so
    /// optimizer steps and target updates show through) but no gradient flows into its
    /// weights — what an attack differentiating with respect to the input wants, at a
    /// fraction of the backward pass's cost. Asking it for a parameter the store lacks is an
    /// error.
    pub fn frozen_var_builder(&self) -> VarBuilder<'static> {
        VarBuilder::from_backend(
            Box::new(Frozen(self.clone())),
            self.dtype,
            self.device.clone(),
        )
    }

    /// The dtype of the parameters.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Parameter names in creation order.
    pub fn names(&self) -> Vec<String> {
        self.lock().order.clone()
    }

    /// All variables (parameters and buffers) with their names, in creation order.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let inner = self.lock();
        inner
            .order
            .iter()
            .map(|n| (n.clone(), inner.vars[n].clone()))
            .collect()
    }

    /// The variables an optimizer should update: every parameter except buffers, in creation
    /// order.
    pub fn trainable_vars(&self) -> Vec<Var> {
        let inner = self.lock();
        inner
            .order
            .iter()
            .filter(|n| !is_buffer(n))
            .map(|n| inner.vars[n].clone())
            .collect()
    }

    /// The variable called `name`, if any.
    pub fn get(&self, name: &str) -> Option<Var> {
        self.lock().vars.get(name).cloned()
    }

    /// Total number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.trainable_vars().iter().map(|v| v.elem_count()).sum()
    }

    /// Every variable's current value (detached), by name.
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        let inner = self.lock();
        inner
            .vars
            .iter()
            .map(|(n, v)| (n.clone(), v.as_detached_tensor()))
            .collect()
    }

    /// Copies every value of `source` into this store (a DQN target network's hard update).
    /// Both stores must hold the same names and shapes.
    pub fn copy_from(&self, source: &ParamStore) -> Result<()> {
        self.soft_update_from(source, 1.0)
    }

    /// Polyak averaging: `θ ← τ·θ_source + (1 − τ)·θ` for every parameter and buffer, with `τ`
    /// in `[0, 1]` (`τ = 1` copies).
    pub fn soft_update_from(&self, source: &ParamStore, tau: f64) -> Result<()> {
        if !(0.0..=1.0).contains(&tau) {
            return Err(crate::Error::config("tau", tau, "a number in [0, 1]"));
        }
        let src = source.named_vars();
        let dst = self.named_vars();
        check_same_layout(&dst, &src)?;
        for ((_, d), (_, s)) in dst.iter().zip(&src) {
            let s = s.as_detached_tensor().to_dtype(self.dtype)?;
            let s = s.to_device(&self.device)?;
            let new = if tau == 1.0 {
                s
            } else {
                ((s * tau)? + (d.as_detached_tensor() * (1.0 - tau))?)?
            };
            d.set(&new)?;
        }
        Ok(())
    }

    /// Sets each named variable to the given value, after checking that the names are exactly
    /// the store's and every shape matches; nothing is changed when a check fails. Values of
    /// another dtype or device are converted. `origin` names the source in error messages.
    pub fn assign_all(&self, values: &HashMap<String, Tensor>, origin: &str) -> Result<()> {
        let vars = self.named_vars();
        let err = |message: String| crate::Error::Checkpoint {
            path: origin.to_string(),
            message,
        };
        for (name, var) in &vars {
            match values.get(name) {
                None => {
                    return Err(err(format!(
                        "missing tensor `{name}`: the network expects shape {:?}",
                        var.dims()
                    )));
                }
                Some(t) if t.dims() != var.dims() => {
                    return Err(err(format!(
                        "tensor `{name}` has shape {:?}, the network expects {:?}",
                        t.dims(),
                        var.dims()
                    )));
                }
                Some(_) => {}
            }
        }
        if values.len() != vars.len() {
            let mut extra: Vec<&String> = values
                .keys()
                .filter(|k| !vars.iter().any(|(n, _)| n == *k))
                .collect();
            extra.sort();
            return Err(err(format!(
                "unexpected tensor `{}`: the network has no parameter of that name",
                extra[0]
            )));
        }
        for (name, var) in &vars {
            let t = values[name].to_dtype(self.dtype)?.to_device(&self.device)?;
            var.set(&t)?;
        }
        Ok(())
    }

    fn init_tensor(&self, rng: &mut EnvRng, shape: &Shape, init: Init) -> Result<Tensor> {
        let n = shape.elem_count();
        let values: Vec<f64> = match init {
            Init::Const(c) => vec![c; n],
            Init::Uniform { lo, up } => (0..n).map(|_| lo + (up - lo) * rng.next_f64()).collect(),
            Init::Randn { mean, stdev } => (0..n).map(|_| mean + stdev * normal(rng)).collect(),
            Init::Kaiming {
                dist,
                fan,
                non_linearity,
            } => {
                let std = non_linearity.gain() / (fan_for(fan, shape) as f64).sqrt();
                match dist {
                    NormalOrUniform::Normal => (0..n).map(|_| std * normal(rng)).collect(),
                    NormalOrUniform::Uniform => {
                        let bound = 3f64.sqrt() * std;
                        (0..n)
                            .map(|_| bound * (2.0 * rng.next_f64() - 1.0))
                            .collect()
                    }
                }
            }
        };
        let t = Tensor::from_vec(values, shape.clone(), &Device::Cpu)?;
        Ok(t.to_dtype(self.dtype)?.to_device(&self.device)?)
    }
}

fn check_same_layout(dst: &[(String, Var)], src: &[(String, Var)]) -> Result<()> {
    let mismatch = |message: String| crate::Error::Checkpoint {
        path: "<source network>".into(),
        message,
    };
    if dst.len() != src.len() {
        return Err(mismatch(format!(
            "source has {} tensors, this network has {}",
            src.len(),
            dst.len()
        )));
    }
    for ((dn, dv), (sn, sv)) in dst.iter().zip(src) {
        if dn != sn || dv.dims() != sv.dims() {
            return Err(mismatch(format!(
                "source tensor `{sn}` {:?} does not match `{dn}` {:?}",
                sv.dims(),
                dv.dims()
            )));
        }
    }
    Ok(())
}

fn fan_for(fan: FanInOut, shape: &Shape) -> usize {
    fan.for_shape(shape).max(1)
}

/// A standard normal sample by the Box–Muller transform.
fn normal(rng: &mut EnvRng) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl SimpleBackend for ParamStore {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut inner = self.lock();
        if let Some(var) = inner.vars.get(name) {
            if var.shape() != &s {
                candle_core::bail!(
                    "parameter `{name}` already exists with shape {:?}, requested {:?}",
                    var.dims(),
                    s.dims()
                );
            }
            return Ok(var.as_tensor().clone());
        }
        let t = self
            .init_tensor(&mut inner.rng, &s, h)
            .map_err(candle_core::Error::wrap)?;
        let var = Var::from_tensor(&t)?;
        let out = var.as_tensor().clone();
        inner.order.push(name.to_string());
        inner.vars.insert(name.to_string(), var);
        Ok(out)
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        match self.lock().vars.get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => candle_core::bail!("no parameter named `{name}` in the store"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.lock().vars.contains_key(name)
    }
}

/// [`ParamStore::frozen_var_builder`]'s backend: the store's variables, detached.
struct Frozen(ParamStore);

impl Frozen {
    fn detached(&self, name: &str, shape: Option<&Shape>) -> candle_core::Result<Tensor> {
        let inner = self.0.lock();
        let Some(var) = inner.vars.get(name) else {
            candle_core::bail!("no parameter named `{name}` in the store")
        };
        if let Some(s) = shape
            && var.shape() != s
        {
            candle_core::bail!(
                "parameter `{name}` has shape {:?}, requested {:?}",
                var.dims(),
                s.dims()
            );
        }
        Ok(var.as_detached_tensor())
    }
}

impl SimpleBackend for Frozen {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _h: Init,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        self.detached(name, Some(&s))
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        self.detached(name, None)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.contains_tensor(name)
    }
}
