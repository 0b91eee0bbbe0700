//! The TD regression step of a [`QNetwork`]: `Q(s, a)` regressed on given targets `y`, the
//! loss and the gradient of the network's parameters in one op.
//!
//! [`QNetwork::td_step`] is the one way a value-based agent trains its Q-network; the network
//! decides how to compute it. An MLP torso with a linear head on the CPU takes a fused path
//! without tensors or a graph ([`QNetwork::td_step_fused`]: the fused linear op's forward and
//! backward functions and the loss's gradient in closed form, which skips most of a small
//! network's per-op bookkeeping); every other network, and a step with an extra loss term,
//! takes candle's autodiff ([`QNetwork::td_step_autodiff`]). The two agree to rounding; the
//! tests hold them to a tolerance, not to each other's bits. Recurrent torsos train on
//! sequences ([`QNetwork::td_step_sequences`], autodiff).

use candle_core::backprop::GradStore;
use candle_core::{DType, Module, Tensor};
use serde::{Deserialize, Serialize};

use super::fused::{backward_rows, forward_rows};
use super::loss::huber_elementwise;
use super::{QNetwork, RecurrentState};
use crate::{Error, Result};

/// The regression loss of the TD error `δ = Q(s, a) − y`.
///
/// In TOML: `loss = "huber"` (the default) or `loss = "mse"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TdLoss {
    /// Huber with δ = 1 (PyTorch's `smooth_l1_loss`): `½δ²` where `|δ| ≤ 1`, `|δ| − ½`
    /// elsewhere. Stable-Baselines3's and the Nature paper's.
    #[default]
    Huber,
    /// Squared error `δ²`.
    Mse,
}

impl TdLoss {
    /// The loss of one TD error `d` and its derivative with respect to `d`.
    fn value_and_slope(self, d: f64) -> (f64, f64) {
        match self {
            TdLoss::Huber => {
                let a = d.abs();
                let loss = if a <= 1.0 { 0.5 * d * d } else { a - 0.5 };
                (loss, d.clamp(-1.0, 1.0))
            }
            TdLoss::Mse => (d * d, 2.0 * d),
        }
    }
}

/// `Σᵢ wᵢ·ℓ(qᵢ − yᵢ) / denom` from candle's differentiable ops (`wᵢ = 1` without
/// `weights`): with `denom` the number of elements it is the mean loss, with importance
/// weights prioritized replay's, with a 0/1 mask and the mask's sum the mean over the unmasked
/// elements. `y` should be detached.
///
/// ```
/// # fn main() -> qlab_nn::Result<()> {
/// use candle_core::{Device, Tensor};
/// use qlab_nn::{TdLoss, td_loss};
/// let q = Tensor::new(&[1.0f32, 0.0, 4.0], &Device::Cpu)?;
/// let y = Tensor::new(&[0.5f32, 0.0, 1.0], &Device::Cpu)?;
/// let loss = td_loss(TdLoss::Huber, &q, &y, None, 3.0)?.to_scalar::<f32>()?;
/// assert!((loss - (0.125 + 0.0 + 2.5) / 3.0).abs() < 1e-6);
/// # Ok(())
/// # }
/// ```
pub fn td_loss(
    kind: TdLoss,
    q: &Tensor,
    y: &Tensor,
    weights: Option<&Tensor>,
    denom: f64,
) -> candle_core::Result<Tensor> {
    if q.dims() != y.dims() {
        candle_core::bail!(
            "td loss: prediction shape {:?} differs from target shape {:?}",
            q.dims(),
            y.dims()
        )
    }
    let d = (q - y)?;
    let per = match kind {
        TdLoss::Huber => huber_elementwise(&d, 1.0)?,
        TdLoss::Mse => d.sqr()?,
    };
    let per = match weights {
        Some(w) => (per * w)?,
        None => per,
    };
    per.sum_all()? / denom
}

/// [`td_loss`] and its gradient with respect to each `qᵢ` without tensors: returns the loss
/// and writes `∂loss/∂qᵢ = wᵢ·ℓ′(qᵢ − yᵢ) / denom` into `dq`. Sums run in `f64`.
///
/// ```
/// use qlab_nn::{TdLoss, td_loss_gradient};
/// let mut dq = [0.0f32; 2];
/// let loss = td_loss_gradient(TdLoss::Huber, &[0.5, 3.0], &[0.0, 0.0], None, 2.0, &mut dq)?;
/// assert_eq!((loss, dq), ((0.125 + 2.5) / 2.0, [0.25, 0.5]));
/// # Ok::<(), qlab_nn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] when `y`, `dq` (or `weights`) are not as long as `q`.
pub fn td_loss_gradient(
    kind: TdLoss,
    q: &[f32],
    y: &[f32],
    weights: Option<&[f32]>,
    denom: f64,
    dq: &mut [f32],
) -> Result<f64> {
    let n = q.len();
    if y.len() != n || dq.len() != n || weights.is_some_and(|w| w.len() != n) {
        return Err(Error::config(
            "td loss lengths",
            format!(
                "{n} predictions, {} targets, {} gradients, {:?} weights",
                y.len(),
                dq.len(),
                weights.map(<[f32]>::len)
            ),
            "one target, gradient and weight per prediction",
        ));
    }
    let mut sum = 0.0f64;
    for i in 0..q.len() {
        let d = f64::from(q[i] - y[i]);
        let w = weights.map_or(1.0, |w| f64::from(w[i]));
        let (loss, slope) = kind.value_and_slope(d);
        sum += w * loss;
        dq[i] = (w * slope / denom) as f32;
    }
    Ok(sum / denom)
}

/// A minibatch for [`QNetwork::td_step`]: `rows` transitions' observations, actions taken and
/// regression targets.
#[derive(Clone, Copy, Debug)]
pub struct TdBatch<'a> {
    /// The observations, `rows × Π obs_shape` numbers, row-major.
    pub obs: &'a [f32],
    /// The shape the network reads one observation as (`[d]`, or `[C, H, W]` for a CNN).
    pub obs_shape: &'a [usize],
    /// The action of each row, each below the network's number of actions.
    pub actions: &'a [u32],
    /// The target `y` of each row (the bootstrapped return).
    pub targets: &'a [f32],
    /// Importance weights of the rows (prioritized replay); all 1 when `None`.
    pub weights: Option<&'a [f32]>,
    /// The loss.
    pub loss: TdLoss,
}

impl TdBatch<'_> {
    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.actions.len()
    }

    /// Checks the lengths fit each other and `actions` actions.
    fn check(&self, actions: usize) -> Result<()> {
        let n = self.rows();
        if n == 0 {
            return Err(Error::config("td batch rows", 0, "at least 1"));
        }
        let width: usize = self.obs_shape.iter().product();
        if self.obs_shape.is_empty() || self.obs.len() != n * width {
            return Err(Error::config(
                "td batch obs",
                format!("{} numbers of shape {:?}", self.obs.len(), self.obs_shape),
                format!("{n} rows × {width} numbers"),
            ));
        }
        check_rows(n, self.actions, self.targets, self.weights, actions)
    }
}

/// Checks `targets` and `weights` have `n` values and every action is below `actions`.
fn check_rows(
    n: usize,
    acts: &[u32],
    targets: &[f32],
    weights: Option<&[f32]>,
    actions: usize,
) -> Result<()> {
    if targets.len() != n {
        return Err(Error::config(
            "td batch targets",
            targets.len(),
            format!("{n} targets, one per row"),
        ));
    }
    if let Some(w) = weights.filter(|w| w.len() != n) {
        return Err(Error::config(
            "td batch weights",
            w.len(),
            format!("{n} weights, one per row"),
        ));
    }
    if let Some(i) = acts.iter().position(|&a| a as usize >= actions) {
        return Err(Error::config(
            format!("td batch actions[{i}]"),
            acts[i],
            format!("an action below {actions}"),
        ));
    }
    Ok(())
}

/// Sequences for [`QNetwork::td_step_sequences`]: `n` windows of `burn_in + length + 1`
/// consecutive observations; the first `burn_in` warm the recurrent state without gradient,
/// the next `length` are trained, and the last is only the next state of the last trained one.
#[derive(Clone, Copy, Debug)]
pub struct TdSequences<'a> {
    /// The observations `(n, burn_in + length + 1, obs_dim)`.
    pub obs: &'a Tensor,
    /// 1 where an episode starts `(n, burn_in + length + 1)` (the state is zeroed there).
    pub starts: &'a Tensor,
    /// Steps that only warm the state.
    pub burn_in: usize,
    /// Trained steps per sequence.
    pub length: usize,
    /// The action at each trained step, `n × length`, row-major.
    pub actions: &'a [u32],
    /// 1 for the trained steps that count, 0 for those masked out (past an episode's end),
    /// `n × length`; the loss is the mean over the ones that count.
    pub mask: &'a [f32],
    /// The loss.
    pub loss: TdLoss,
}

/// What a TD step computed: the loss, the mean of the regressed Q-values, each TD error and
/// the parameters' gradients, for an optimizer's [`step`](crate::Optimizer::step).
#[derive(Debug)]
pub struct TdStep {
    /// The loss (with an extra term, when one was given).
    pub loss: f64,
    /// The mean of `Q(s, a)` over the rows (over the unmasked steps for sequences).
    pub mean_q: f64,
    /// `Q(s, a) − y` of each row (each step for sequences), for prioritized replay.
    pub td_errors: Vec<f32>,
    /// The gradient of the loss with respect to each trainable parameter.
    pub grads: GradStore,
}

/// A scalar tensor as a number.
fn scalar(t: &Tensor) -> Result<f64> {
    Ok(f64::from(t.to_dtype(DType::F32)?.to_scalar::<f32>()?))
}

impl QNetwork {
    /// The TD step on `batch`: the loss of `Q(s, a)` against the targets, plus `extra` (a
    /// scalar loss term built on this network's weights, such as a regularizer) when given,
    /// and the gradient of the parameters.
    ///
    /// The network decides how: an MLP torso with a linear head on the CPU and no `extra`
    /// takes [`td_step_fused`](Self::td_step_fused); everything else
    /// [`td_step_autodiff`](Self::td_step_autodiff). Both give the same loss and gradients up
    /// to rounding.
    ///
    /// ```
    /// # fn main() -> qlab_nn::Result<()> {
    /// use candle_core::Device;
    /// use qlab_nn::{QNetwork, QNetworkConfig, TdBatch, TdLoss};
    /// let (net, _params) = QNetwork::new(&[3], 2, &QNetworkConfig::default(), 0, &Device::Cpu)?;
    /// let batch = TdBatch {
    ///     obs: &[0.1, 0.2, 0.3, -0.1, 0.0, 0.5],
    ///     obs_shape: &[3],
    ///     actions: &[0, 1],
    ///     targets: &[1.0, 0.5],
    ///     weights: None,
    ///     loss: TdLoss::Huber,
    /// };
    /// let step = net.td_step(&batch, None)?;
    /// assert!(step.loss > 0.0 && step.td_errors.len() == 2);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the batch's lengths do not fit each other or an action is
    /// out of range; candle's errors.
    pub fn td_step(&self, batch: &TdBatch, extra: Option<&Tensor>) -> Result<TdStep> {
        if extra.is_none()
            && let Some(step) = self.td_step_fused(batch)?
        {
            return Ok(step);
        }
        self.td_step_autodiff(batch, extra)
    }

    /// The TD step computed without tensors or a graph: the fused linear op's forward
    /// functions layer by layer, the loss's gradient at the chosen Q-values in closed form
    /// ([`td_loss_gradient`]), and the op's backward functions layer by layer into the
    /// gradients. `None` (nothing computed) where the network has no such form: it must be an
    /// MLP torso with a linear head whose rows are computed alone
    /// ([`fused_layers`](Self::fused_layers)), in `f32` on the CPU.
    ///
    /// # Errors
    /// As [`td_step`](Self::td_step).
    pub fn td_step_fused(&self, batch: &TdBatch) -> Result<Option<TdStep>> {
        batch.check(self.actions())?;
        let Some(layers) = self.fused_layers() else {
            return Ok(None);
        };
        if !self.device().is_cpu() {
            return Ok(None);
        }
        let (n, actions) = (batch.rows(), self.actions());
        // Forward: each layer's output.
        let mut outs: Vec<Vec<f32>> = Vec::with_capacity(layers.len());
        for (layer, act) in &layers {
            let input = outs.last().map_or(batch.obs, Vec::as_slice);
            let Some(y) = forward_rows(*act, input, n, layer.weight(), layer.bias()) else {
                return Ok(None);
            };
            outs.push(y);
        }
        let q_all = outs.last().expect("at least the head");
        let at = |i: usize| i * actions + batch.actions[i] as usize;
        let q: Vec<f32> = (0..n).map(|i| q_all[at(i)]).collect();
        let mut dq = vec![0.0f32; n];
        let loss = td_loss_gradient(
            batch.loss,
            &q,
            batch.targets,
            batch.weights,
            n as f64,
            &mut dq,
        )?;
        let mean_q = q.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
        let td_errors = q.iter().zip(batch.targets).map(|(q, y)| q - y).collect();
        // Backward through the head and the torso, last layer first.
        let mut g = vec![0.0f32; n * actions];
        for (i, d) in dq.into_iter().enumerate() {
            g[at(i)] = d;
        }
        let mut grads = GradStore::default();
        for (i, (layer, act)) in layers.iter().enumerate().rev() {
            let x = if i == 0 { batch.obs } else { &outs[i - 1] };
            let w = layer.weight();
            let Some((dx, dw, db)) =
                backward_rows(*act, x, &outs[i], &g, n, w, layer.bias().is_some(), i > 0)
            else {
                return Ok(None);
            };
            grads.insert(w, Tensor::from_vec(dw, w.shape(), w.device())?);
            if let (Some(bias), Some(db)) = (layer.bias(), db) {
                grads.insert(bias, Tensor::from_vec(db, bias.shape(), bias.device())?);
            }
            if let Some(dx) = dx {
                g = dx;
            }
        }
        Ok(Some(TdStep {
            loss,
            mean_q,
            td_errors,
            grads,
        }))
    }

    /// The TD step through candle's autodiff: the forward pass on the batch, the chosen
    /// Q-values, [`td_loss`] (plus `extra`), and its backward pass. Works for every network.
    ///
    /// # Errors
    /// As [`td_step`](Self::td_step).
    pub fn td_step_autodiff(&self, batch: &TdBatch, extra: Option<&Tensor>) -> Result<TdStep> {
        batch.check(self.actions())?;
        let (n, dev) = (batch.rows(), self.device());
        let shape: Vec<usize> = std::iter::once(n)
            .chain(batch.obs_shape.iter().copied())
            .collect();
        let obs = Tensor::from_slice(batch.obs, shape, dev)?;
        let actions = Tensor::from_slice(batch.actions, (n, 1), dev)?;
        let y = Tensor::from_slice(batch.targets, n, dev)?;
        let weights = match batch.weights {
            Some(w) => Some(Tensor::from_slice(w, n, dev)?),
            None => None,
        };
        let q = self.forward(&obs)?.gather(&actions, 1)?.squeeze(1)?;
        let loss = td_loss(batch.loss, &q, &y, weights.as_ref(), n as f64)?;
        let loss = match extra {
            Some(r) => (loss + r)?,
            None => loss,
        };
        let mean_q = q.mean_all()?;
        let td_errors = (&q - &y)?.detach().to_vec1::<f32>()?;
        Ok(TdStep {
            loss: scalar(&loss)?,
            mean_q: scalar(&mean_q)?,
            td_errors,
            grads: loss.backward()?,
        })
    }

    /// The TD step on sequences, through candle's autodiff. The burn-in runs from the zero
    /// state without gradient; the online values at the trained steps and the step after each
    /// come from one pass from the warmed state. `targets` receives the detached online values
    /// at the step after each trained one, `(n, length, A)` (Double DQN chooses its actions
    /// from them), and returns the `n × length` targets, row-major.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the lengths do not fit each other, an action is out of
    /// range or the mask is all zero; the errors of `targets`; candle's errors.
    pub fn td_step_sequences(
        &self,
        seq: &TdSequences,
        targets: impl FnOnce(&Tensor) -> Result<Vec<f32>>,
    ) -> Result<TdStep> {
        let (b, l) = (seq.burn_in, seq.length);
        let (n, w) = seq.starts.dims2()?;
        if w != b + l + 1 || seq.obs.dims().get(..2) != Some(&[n, w][..]) {
            return Err(Error::config(
                "td sequences",
                format!("obs {:?}, starts {:?}", seq.obs.dims(), seq.starts.dims()),
                format!("windows of burn_in + length + 1 = {} steps", b + l + 1),
            ));
        }
        if seq.actions.len() != n * l {
            return Err(Error::config(
                "td sequences actions",
                seq.actions.len(),
                format!("{n} sequences × {l} steps"),
            ));
        }
        let count = f64::from(seq.mask.iter().sum::<f32>());
        if count <= 0.0 {
            return Err(Error::config(
                "td sequences mask",
                count,
                "at least one step that counts",
            ));
        }
        // The burn-in only warms the state: no gradient flows back into it.
        let warm: Option<RecurrentState> = if b > 0 {
            let (_, s) = self.forward_seq(
                &seq.obs.narrow(1, 0, b)?,
                None,
                Some(&seq.starts.narrow(1, 0, b)?),
            )?;
            s.map(|s| s.detach())
        } else {
            None
        };
        let (q_all, _) = self.forward_seq(
            &seq.obs.narrow(1, b, l + 1)?,
            warm.as_ref(),
            Some(&seq.starts.narrow(1, b, l + 1)?),
        )?;
        let y = targets(&q_all.narrow(1, 1, l)?.detach())?;
        check_rows(n * l, seq.actions, &y, Some(seq.mask), self.actions())?;
        let dev = self.device();
        let y = Tensor::from_vec(y, (n, l), dev)?;
        let actions = Tensor::from_slice(seq.actions, (n, l, 1), dev)?;
        let mask = Tensor::from_slice(seq.mask, (n, l), dev)?;
        let q = q_all
            .narrow(1, 0, l)?
            .contiguous()?
            .gather(&actions, 2)?
            .squeeze(2)?;
        let loss = td_loss(seq.loss, &q, &y, Some(&mask), count)?;
        let mean_q = ((&q * &mask)?.sum_all()? / count)?;
        let td_errors = (&q - &y)?.detach().flatten_all()?.to_vec1::<f32>()?;
        Ok(TdStep {
            loss: scalar(&loss)?,
            mean_q: scalar(&mean_q)?,
            td_errors,
            grads: loss.backward()?,
        })
    }

    /// `Q(s, ·)` of each of the rows of `obs` (observations of shape `obs_shape`, row-major),
    /// `rows × A` row-major, without gradient. An MLP torso with a linear head on the CPU
    /// computes it without tensors, with the bits [`forward`](Module::forward) gives (the
    /// fused op's own forward function); other networks through `forward`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `obs` is not a whole number of observations; candle's
    /// errors.
    pub fn q_values_rows(&self, obs: &[f32], obs_shape: &[usize]) -> Result<Vec<f32>> {
        let width: usize = obs_shape.iter().product();
        if obs_shape.is_empty() || width == 0 || !obs.len().is_multiple_of(width) {
            return Err(Error::config(
                "observations",
                format!("{} numbers of shape {obs_shape:?}", obs.len()),
                "a whole number of observations",
            ));
        }
        let rows = obs.len() / width;
        if self.device().is_cpu()
            && let Some(layers) = self.fused_layers()
        {
            let mut x: Option<Vec<f32>> = None;
            for (layer, act) in &layers {
                let input = x.as_deref().unwrap_or(obs);
                match forward_rows(*act, input, rows, layer.weight(), layer.bias()) {
                    Some(y) => x = Some(y),
                    None => {
                        x = None;
                        break;
                    }
                }
            }
            if let Some(q) = x {
                return Ok(q);
            }
        }
        let shape: Vec<usize> = std::iter::once(rows)
            .chain(obs_shape.iter().copied())
            .collect();
        let x = Tensor::from_slice(obs, shape, self.device())?;
        Ok(self.forward(&x)?.detach().flatten_all()?.to_vec1::<f32>()?)
    }
}

#[cfg(test)]
mod tests;
