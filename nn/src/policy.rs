//! Policy and value heads of actor-critic agents: a categorical policy over discrete actions,
//! a diagonal Gaussian over Box actions (with a state-independent log-std, or with generalized
//! state-dependent exploration, gSDE), and the [`ActorCritic`] network that carries them with a
//! state-value head, as Stable-Baselines3's `ActorCriticPolicy` builds them.
//!
//! The distributions are functions of tensors (log-probabilities and entropies with their
//! gradients, built from differentiable candle ops and gradient-checked), plus host-side
//! sampling for acting, so that an agent's rollout needs no tensor per sampled action.

use candle_core::{D, DType, Device, Module, Tensor, Var};
use qlab_rng::EnvRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::loss::log_softmax;
use super::mlp::{Mlp, MlpConfig, mlp};
use super::store::ParamStore;
use super::{Activation, argmax};

/// `½·ln(2π)`.
const HALF_LN_TAU: f64 = 0.918_938_533_204_672_7;

/// The log-probabilities `(N)` of `actions` `(N)` (`u32`) under the categorical policies with
/// `logits` `(N, A)`.
pub fn categorical_log_prob(logits: &Tensor, actions: &Tensor) -> candle_core::Result<Tensor> {
    let logp = log_softmax(logits, D::Minus1)?;
    logp.gather(&actions.unsqueeze(1)?, 1)?.squeeze(1)
}

/// The entropies `(N)` of the categorical policies with `logits` `(N, A)`: `−Σ_a p_a ln p_a`.
pub fn categorical_entropy(logits: &Tensor) -> candle_core::Result<Tensor> {
    let logp = log_softmax(logits, D::Minus1)?;
    (logp.exp()? * &logp)?.sum(D::Minus1)?.neg()
}

/// The log-densities `(N)` of `actions` `(N, D)` under diagonal Gaussians with means `mean`
/// `(N, D)` and the state-independent log standard deviations `log_std` `(D)`, summed over the
/// action's elements.
pub fn gaussian_log_prob(
    mean: &Tensor,
    log_std: &Tensor,
    actions: &Tensor,
) -> candle_core::Result<Tensor> {
    let z = actions.sub(mean)?.broadcast_div(&log_std.exp()?)?;
    let per_element = (z.sqr()? * -0.5)?.broadcast_sub(log_std)?;
    per_element.sum(D::Minus1)? - HALF_LN_TAU * mean.dim(D::Minus1)? as f64
}

/// The entropies `(N)` of `n` diagonal Gaussians with log standard deviations `log_std`
/// `(D)`: `Σ_d (½ + ½·ln 2π + log σ_d)`, the same for every row.
pub fn gaussian_entropy(log_std: &Tensor, n: usize) -> candle_core::Result<Tensor> {
    let dim = log_std.dim(0)? as f64;
    let total = (log_std.sum_all()? + dim * (0.5 + HALF_LN_TAU))?;
    total.broadcast_as(n)?.contiguous()
}

/// gSDE's `ε`: added to the variance before the square root (Stable-Baselines3's
/// `StateDependentNoiseDistribution`).
pub const SDE_EPSILON: f64 = 1e-6;

/// Generalized state-dependent exploration (Raffin et al., 2022), as Stable-Baselines3's
/// `StateDependentNoiseDistribution` with its defaults (`full_std`, no `expln`, features not
/// learned through the noise): the log-densities `(N)` of `actions` `(N, D)` and the entropies
/// `(N)` of Gaussians with means `mean` `(N, D)` and variances `latent² · exp(log_std)²`
/// (`latent` `(N, L)`, the policy network's last hidden layer, taken as a constant;
/// `log_std` `(L, D)`), plus [`SDE_EPSILON`].
pub fn sde_log_prob_entropy(
    mean: &Tensor,
    log_std: &Tensor,
    latent: &Tensor,
    actions: &Tensor,
) -> candle_core::Result<(Tensor, Tensor)> {
    let variance = latent.detach().sqr()?.matmul(&(log_std * 2.0)?.exp()?)?;
    let log_sigma = ((variance + SDE_EPSILON)?.log()? * 0.5)?;
    let z = (actions.sub(mean)? / log_sigma.exp()?)?;
    let per_element = ((z.sqr()? * -0.5)? - &log_sigma)?;
    let dim = mean.dim(D::Minus1)? as f64;
    let log_prob = (per_element.sum(D::Minus1)? - HALF_LN_TAU * dim)?;
    let entropy = (log_sigma.sum(D::Minus1)? + dim * (0.5 + HALF_LN_TAU))?;
    Ok((log_prob, entropy))
}

/// A matrix of `rows × cols` with orthonormal rows (or columns, whichever are fewer), times
/// `gain`, row-major: the orthogonal initialization of Saxe et al. (2014) that
/// Stable-Baselines3's actor-critic uses (PyTorch's `orthogonal_`: the Q factor, with the
/// signs that make R's diagonal positive, of a matrix of standard normal draws).
pub fn orthogonal(rows: usize, cols: usize, gain: f64, rng: &mut EnvRng) -> Vec<f64> {
    // Gram–Schmidt over the vectors of the longer side gives Q with R's diagonal positive.
    let (k, len) = (rows.min(cols), rows.max(cols));
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(k);
    while q.len() < k {
        let mut v: Vec<f64> = (0..len).map(|_| normal(rng)).collect();
        for u in &q {
            let dot: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(x, a)| *x -= dot * a);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        // A draw in the span of the others (probability 0) is drawn again.
        if norm > 1e-10 {
            q.push(v.into_iter().map(|x| x / norm).collect());
        }
    }
    let mut out = vec![0.0; rows * cols];
    for (i, u) in q.iter().enumerate() {
        for (j, &x) in u.iter().enumerate() {
            // Fewer rows than columns: the vectors are the rows; otherwise the columns.
            let at = if rows <= cols {
                i * cols + j
            } else {
                j * cols + i
            };
            out[at] = gain * x;
        }
    }
    out
}

/// A standard normal draw (Box–Muller, the cosine half).
pub fn normal(rng: &mut EnvRng) -> f64 {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The actions a policy chooses among.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// `n` discrete actions: a categorical policy over logits.
    Discrete(usize),
    /// A Box of `dim` numbers: a diagonal Gaussian with a state-independent log-std.
    Continuous(usize),
}

impl ActionKind {
    /// Numbers the policy's network outputs per observation (logits or means).
    pub fn outputs(self) -> usize {
        match self {
            ActionKind::Discrete(n) | ActionKind::Continuous(n) => n,
        }
    }

    /// Numbers per action as a rollout stores it (1 for a discrete index).
    pub fn action_dim(self) -> usize {
        match self {
            ActionKind::Discrete(_) => 1,
            ActionKind::Continuous(d) => d,
        }
    }
}

/// Hyperparameters of an [`ActorCritic`], Stable-Baselines3's `policy_kwargs` for its
/// `MlpPolicy` with separate networks (`net_arch = dict(pi = …, vf = …)`).
///
/// | field          | default    | valid        | meaning |
/// |----------------|------------|--------------|---------|
/// | `pi`           | `[64, 64]` | each `> 0`   | hidden widths of the policy network |
/// | `vf`           | `[64, 64]` | each `> 0`   | hidden widths of the value network |
/// | `activation`   | `"tanh"`   | [`Activation`] | after each hidden layer (`activation_fn`) |
/// | `ortho_init`   | `true`     |              | orthogonal weights (gains √2 hidden, 0.01 policy output, 1 value output), zero biases; else PyTorch's default uniform |
/// | `log_std_init` | `0.0`      | finite       | the Gaussian's initial log standard deviation (Box actions; with gSDE, of every element of the noise's weights) |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActorCriticConfig {
    /// Hidden widths of the policy network.
    pub pi: Vec<usize>,
    /// Hidden widths of the value network.
    pub vf: Vec<usize>,
    /// Activation after each hidden layer.
    pub activation: Activation,
    /// Orthogonal initialization.
    pub ortho_init: bool,
    /// Initial log standard deviation of a Gaussian policy.
    pub log_std_init: f64,
}

impl Default for ActorCriticConfig {
    fn default() -> Self {
        Self {
            pi: vec![64, 64],
            vf: vec![64, 64],
            activation: Activation::Tanh,
            ortho_init: true,
            log_std_init: 0.0,
        }
    }
}

impl ActorCriticConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        for (name, widths) in [("pi", &self.pi), ("vf", &self.vf)] {
            if let Some(i) = widths.iter().position(|&w| w == 0) {
                return Err(crate::Error::config(
                    format!("{name}[{i}]"),
                    0,
                    "a width of at least 1",
                ));
            }
        }
        if !self.log_std_init.is_finite() {
            return Err(crate::Error::config(
                "log_std_init",
                self.log_std_init,
                "a finite number",
            ));
        }
        Ok(())
    }
}

/// A policy network and a value network over the same observation, with the policy's
/// distribution: Stable-Baselines3's `ActorCriticPolicy` with separate networks.
///
/// Parameter names: `pi.layers.{i}.{weight,bias}` (the last layer gives the logits or the
/// means), `vf.layers.{i}.{weight,bias}` (the last gives the value), and `log_std` for Box
/// actions: `(D)`, or `(L, D)` with gSDE (`L` the width of the policy's last hidden layer).
#[derive(Debug)]
pub struct ActorCritic {
    pi: Mlp,
    vf: Mlp,
    log_std: Option<Var>,
    kind: ActionKind,
    /// gSDE: the noise is the policy's last hidden layer times a sampled matrix.
    sde: bool,
    activation: Activation,
}

/// Builds an [`ActorCritic`] for observations of `obs_dim` numbers and actions of `kind` in
/// `store`; with `ortho_init`, the weights are drawn orthogonal from a generator seeded with
/// `seed`.
///
/// ```
/// # fn main() -> qlab_nn::Result<()> {
/// use candle_core::{DType, Device, Tensor};
/// use qlab_nn::{ActionKind, ActorCritic, ActorCriticConfig, ParamStore, actor_critic};
/// let store = ParamStore::new(0, DType::F32, &Device::Cpu);
/// let net = actor_critic(4, ActionKind::Discrete(2), &ActorCriticConfig::default(), &store, 0)?;
/// let obs = Tensor::zeros((8, 4), DType::F32, &Device::Cpu)?;
/// let (logits, values) = net.forward(&obs)?;
/// assert_eq!((logits.dims(), values.dims()), (&[8, 2][..], &[8][..]));
/// # Ok(())
/// # }
/// ```
pub fn actor_critic(
    obs_dim: usize,
    kind: ActionKind,
    config: &ActorCriticConfig,
    store: &ParamStore,
    seed: u64,
) -> crate::Result<ActorCritic> {
    actor_critic_with(obs_dim, kind, config, store, seed, false)
}

/// [`actor_critic`], with generalized state-dependent exploration when `sde` (Box actions
/// only: Stable-Baselines3's `use_sde`).
///
/// # Errors
/// An invalid config, or `sde` with discrete actions.
pub fn actor_critic_with(
    obs_dim: usize,
    kind: ActionKind,
    config: &ActorCriticConfig,
    store: &ParamStore,
    seed: u64,
    sde: bool,
) -> crate::Result<ActorCritic> {
    config.validate()?;
    if sde && matches!(kind, ActionKind::Discrete(_)) {
        return Err(crate::Error::config(
            "use_sde",
            true,
            "false for discrete actions (gSDE explores Box actions)",
        ));
    }
    let latent_dim = config.pi.last().copied().unwrap_or(obs_dim);
    let vb = store.var_builder();
    let pi = policy_network(obs_dim, kind, config, vb.clone())?;
    let vf = mlp(obs_dim, 1, &hidden(config, &config.vf), vb.pp("vf"))?;
    let log_std = match kind {
        ActionKind::Discrete(_) => None,
        ActionKind::Continuous(d) => {
            let init = candle_nn::Init::Const(config.log_std_init);
            if sde {
                vb.get_with_hints((latent_dim, d), "log_std", init)?;
            } else {
                vb.get_with_hints(d, "log_std", init)?;
            }
            Some(store.get("log_std").expect("created just above"))
        }
    };
    if config.ortho_init {
        let mut rng = EnvRng::seed_from_u64(seed);
        // Stable-Baselines3's gains: √2 for the hidden layers, 0.01 for the policy's output
        // (near-uniform first policy), 1 for the value's.
        for (net, out_gain, n) in [("pi", 0.01, config.pi.len()), ("vf", 1.0, config.vf.len())] {
            for i in 0..=n {
                let gain = if i == n { out_gain } else { 2f64.sqrt() };
                let w = store
                    .get(&format!("{net}.layers.{i}.weight"))
                    .expect("every layer has a weight");
                let (rows, cols) = w.dims2()?;
                let values = orthogonal(rows, cols, gain, &mut rng);
                let t = Tensor::from_vec(values, (rows, cols), &Device::Cpu)?;
                w.set(&t.to_dtype(store.dtype())?.to_device(store.device())?)?;
                let b = store
                    .get(&format!("{net}.layers.{i}.bias"))
                    .expect("every layer has a bias");
                b.set(&b.zeros_like()?)?;
            }
        }
    }
    Ok(ActorCritic {
        pi,
        vf,
        log_std,
        kind,
        sde,
        activation: config.activation,
    })
}

/// The hidden layers of `widths` with `config`'s activation.
fn hidden(config: &ActorCriticConfig, widths: &[usize]) -> MlpConfig {
    MlpConfig {
        hidden: widths.to_vec(),
        activation: config.activation,
        ..MlpConfig::default()
    }
}

/// The policy network of an [`ActorCritic`] built with `config`, alone, read from `vb` under
/// the names the actor-critic gives it (`pi.layers.…`): observations `(N, obs_dim)` → logits
/// or means `(N, A)`. Read through a store's
/// [`frozen_var_builder`](ParamStore::frozen_var_builder), it computes what the store's
/// actor-critic's policy computes while no gradient flows into its weights: what an attack
/// differentiating with respect to the observation wants.
///
/// # Errors
/// An invalid config, or a `vb` without the parameters.
pub fn policy_network(
    obs_dim: usize,
    kind: ActionKind,
    config: &ActorCriticConfig,
    vb: candle_nn::VarBuilder<'_>,
) -> crate::Result<Mlp> {
    config.validate()?;
    mlp(
        obs_dim,
        kind.outputs(),
        &hidden(config, &config.pi),
        vb.pp("pi"),
    )
}

/// What the policy does at one observation: its action, the action's log-probability under
/// the policy, and the value estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampled {
    /// The action: `[index]` for a discrete one, the Box's numbers (not clipped) otherwise.
    pub action: Vec<f32>,
    /// `log π(action | obs)`.
    pub log_prob: f32,
    /// `V(obs)`.
    pub value: f32,
}

impl ActorCritic {
    /// The actions this policy chooses among.
    pub fn kind(&self) -> ActionKind {
        self.kind
    }

    /// The policy's outputs `(N, A)` (logits or means) and the values `(N)` at `obs` `(N, d)`.
    pub fn forward(&self, obs: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        Ok((self.pi.forward(obs)?, self.values(obs)?))
    }

    /// The values `(N)` at `obs` `(N, d)`.
    pub fn values(&self, obs: &Tensor) -> candle_core::Result<Tensor> {
        self.vf.forward(obs)?.squeeze(1)
    }

    /// The log standard deviations `(D)` of a Gaussian policy (`(L, D)` with gSDE).
    pub fn log_std(&self) -> Option<&Var> {
        self.log_std.as_ref()
    }

    /// Whether the policy explores by gSDE.
    pub fn is_sde(&self) -> bool {
        self.sde
    }

    /// The policy network's last hidden layer `(N, L)` and its outputs `(N, A)` at `obs`,
    /// the outputs bit for bit what [`forward`](ActorCritic::forward) gives.
    pub fn policy_latent(&self, obs: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let layers = self.pi.layers();
        let last = layers.len() - 1;
        let mut h = obs.clone();
        for layer in &layers[..last] {
            h = layer.forward_act(&h, self.activation)?;
        }
        let out = layers[last].forward_act(&h, Activation::Identity)?;
        Ok((h, out))
    }

    /// The values `(N)`, the log-probabilities `(N)` of `actions` and the policies'
    /// entropies `(N)` at `obs` `(N, d)`, whatever the distribution.
    pub fn evaluate(
        &self,
        obs: &Tensor,
        actions: &Tensor,
    ) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
        let values = self.values(obs)?;
        let (log_prob, entropy) = match (&self.log_std, self.sde) {
            (Some(log_std), true) => {
                let (latent, mean) = self.policy_latent(obs)?;
                sde_log_prob_entropy(&mean, log_std.as_tensor(), &latent, actions)?
            }
            _ => self.log_prob_entropy(&self.pi.forward(obs)?, actions)?,
        };
        Ok((values, log_prob, entropy))
    }

    /// gSDE's noise weights for `n` envs, row-major `n × L × D`: each element a normal draw
    /// with standard deviation `exp(log_std)` of its place (`weights_dist.rsample`).
    ///
    /// # Errors
    /// A policy without gSDE.
    pub fn sample_exploration(&self, n: usize, rng: &mut EnvRng) -> crate::Result<Vec<f64>> {
        if !self.sde {
            return Err(crate::Error::config("use_sde", false, "a gSDE policy"));
        }
        let log_std = self.host_log_std()?;
        let mut out = Vec::with_capacity(n * log_std.len());
        for _ in 0..n {
            out.extend(log_std.iter().map(|&ls| ls.exp() * normal(rng)));
        }
        Ok(out)
    }

    /// gSDE's acting, on the host: at each of the `n` observations `obs`, the action
    /// `mean + latent · E` with env `e`'s weights `E` (`exploration`, from
    /// [`sample_exploration`](ActorCritic::sample_exploration)), its log-probability under
    /// the state-dependent Gaussian and the value.
    ///
    /// # Errors
    /// A policy without gSDE, weights of another shape, a failing network.
    pub fn sample_sde(
        &self,
        obs: &[f32],
        n: usize,
        exploration: &[f64],
    ) -> crate::Result<Vec<Sampled>> {
        let log_std = self.host_log_std()?;
        let d = self.kind.outputs();
        let l = log_std.len() / d.max(1);
        if !self.sde || exploration.len() != n * l * d {
            return Err(crate::Error::config(
                "exploration",
                exploration.len(),
                format!("{n} envs × {l} × {d} gSDE weights"),
            ));
        }
        let t = self.input(obs, n)?;
        let (latent, mean) = self.policy_latent(&t)?;
        let latent: Vec<f32> = latent.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let mean: Vec<f32> = mean.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
        let values = self.values(&t)?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        let mut out = Vec::with_capacity(n);
        for e in 0..n {
            let h = &latent[e * l..(e + 1) * l];
            let w = &exploration[e * l * d..(e + 1) * l * d];
            let mut action = Vec::with_capacity(d);
            let mut log_prob = -HALF_LN_TAU * d as f64;
            for k in 0..d {
                let (mut noise, mut variance) = (0.0f64, 0.0f64);
                for j in 0..l {
                    let x = h[j] as f64;
                    noise += x * w[j * d + k];
                    variance += x * x * (2.0 * log_std[j * d + k]).exp();
                }
                let sigma = (variance + SDE_EPSILON).sqrt();
                let a = (mean[e * d + k] as f64 + noise) as f32;
                let z = (a as f64 - mean[e * d + k] as f64) / sigma;
                log_prob -= 0.5 * z * z + sigma.ln();
                action.push(a);
            }
            out.push(Sampled {
                action,
                log_prob: log_prob as f32,
                value: values[e],
            });
        }
        Ok(out)
    }

    /// The log-probabilities `(N)` of `actions` and the entropies `(N)` of the policies whose
    /// outputs are `outputs` (from [`forward`](ActorCritic::forward)). `actions` is `(N)`
    /// `u32` for discrete actions, `(N, D)` for Box actions.
    pub fn log_prob_entropy(
        &self,
        outputs: &Tensor,
        actions: &Tensor,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        match &self.log_std {
            None => Ok((
                categorical_log_prob(outputs, actions)?,
                categorical_entropy(outputs)?,
            )),
            Some(log_std) => Ok((
                gaussian_log_prob(outputs, log_std.as_tensor(), actions)?,
                gaussian_entropy(log_std.as_tensor(), outputs.dim(0)?)?,
            )),
        }
    }

    /// Samples an action at each of the `n` observations `obs` (`n × d`, row-major) with
    /// `rng`, on the host: an index drawn from the softmax of the logits, or the mean plus σ
    /// times a standard normal draw per element.
    pub fn sample(&self, obs: &[f32], n: usize, rng: &mut EnvRng) -> crate::Result<Vec<Sampled>> {
        let (outputs, values) = self.host_forward(obs, n)?;
        let width = self.kind.outputs();
        let log_std = self.host_log_std()?;
        let mut out = Vec::with_capacity(n);
        for (row, &value) in outputs.chunks(width).zip(&values) {
            let (action, log_prob) = match self.kind {
                ActionKind::Discrete(_) => {
                    let logp = host_log_softmax(row);
                    let u = rng.next_f64();
                    let mut acc = 0.0;
                    // The last action takes what rounding leaves above the sum.
                    let mut pick = logp.len() - 1;
                    for (a, lp) in logp.iter().enumerate() {
                        acc += lp.exp();
                        if u < acc {
                            pick = a;
                            break;
                        }
                    }
                    (vec![pick as f32], logp[pick])
                }
                ActionKind::Continuous(_) => {
                    let mut action = Vec::with_capacity(width);
                    let mut log_prob = -HALF_LN_TAU * width as f64;
                    for (&mu, &ls) in row.iter().zip(&log_std) {
                        let z = normal(rng);
                        action.push((mu as f64 + ls.exp() * z) as f32);
                        log_prob -= 0.5 * z * z + ls;
                    }
                    (action, log_prob)
                }
            };
            out.push(Sampled {
                action,
                log_prob: log_prob as f32,
                value,
            });
        }
        Ok(out)
    }

    /// The deterministic action at one observation: the most likely index (ties to the
    /// first, as candle's argmax), or the mean.
    pub fn deterministic(&self, obs: &[f32]) -> crate::Result<Vec<f32>> {
        let outputs = self.host_policy(obs)?;
        Ok(match self.kind {
            ActionKind::Discrete(_) => vec![argmax(&outputs) as f32],
            ActionKind::Continuous(_) => outputs,
        })
    }

    /// The value estimates at the `n` observations `obs` (`n × d`, row-major).
    pub fn host_values(&self, obs: &[f32], n: usize) -> crate::Result<Vec<f32>> {
        let t = self.input(obs, n)?;
        Ok(self.values(&t)?.to_dtype(DType::F32)?.to_vec1()?)
    }

    fn input(&self, obs: &[f32], n: usize) -> crate::Result<Tensor> {
        let dim = obs.len() / n.max(1);
        let w = self.pi.layers()[0].weight();
        Ok(Tensor::from_slice(obs, (n, dim), w.device())?.to_dtype(w.dtype())?)
    }

    fn host_policy(&self, obs: &[f32]) -> crate::Result<Vec<f32>> {
        if let Some(row) = self.pi.forward_row(obs) {
            return Ok(row);
        }
        let t = self.input(obs, 1)?;
        Ok(self
            .pi
            .forward(&t)?
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?)
    }

    fn host_forward(&self, obs: &[f32], n: usize) -> crate::Result<(Vec<f32>, Vec<f32>)> {
        let t = self.input(obs, n)?;
        let (outputs, values) = self.forward(&t)?;
        Ok((
            outputs.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?,
            values.to_dtype(DType::F32)?.to_vec1()?,
        ))
    }

    /// The log standard deviations, row-major (`L × D` with gSDE).
    fn host_log_std(&self) -> crate::Result<Vec<f64>> {
        Ok(match &self.log_std {
            Some(v) => v
                .as_tensor()
                .to_dtype(DType::F64)?
                .flatten_all()?
                .to_vec1()?,
            None => Vec::new(),
        })
    }
}

/// `log softmax` of one row of logits, in `f64`.
fn host_log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
    let lse = logits
        .iter()
        .map(|&x| (x as f64 - max).exp())
        .sum::<f64>()
        .ln();
    logits.iter().map(|&x| x as f64 - max - lse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GradCheckConfig, grad_check, probe_loss};

    fn f64_var(values: Vec<f64>, shape: &[usize]) -> Var {
        Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu).unwrap()).unwrap()
    }

    #[test]
    fn categorical_log_prob_and_entropy_match_the_closed_form() {
        let logits = Tensor::new(&[[1.0f64, 2.0, 0.5], [0.0, 0.0, 0.0]], &Device::Cpu).unwrap();
        let actions = Tensor::new(&[1u32, 2], &Device::Cpu).unwrap();
        let lp: Vec<f64> = categorical_log_prob(&logits, &actions)
            .unwrap()
            .to_vec1()
            .unwrap();
        let z: f64 = [1.0f64, 2.0, 0.5].iter().map(|x| x.exp()).sum();
        assert!((lp[0] - (2.0 - z.ln())).abs() < 1e-12);
        assert!((lp[1] + 3f64.ln()).abs() < 1e-12);
        let h: Vec<f64> = categorical_entropy(&logits).unwrap().to_vec1().unwrap();
        let p: Vec<f64> = [1.0f64, 2.0, 0.5].iter().map(|x| x.exp() / z).collect();
        let expected: f64 = -p.iter().map(|q| q * q.ln()).sum::<f64>();
        assert!((h[0] - expected).abs() < 1e-12);
        assert!((h[1] - 3f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn gaussian_log_prob_and_entropy_match_the_closed_form() {
        let mean = Tensor::new(&[[0.5f64, -1.0]], &Device::Cpu).unwrap();
        let log_std = Tensor::new(&[0.2f64, -0.3], &Device::Cpu).unwrap();
        let a = Tensor::new(&[[1.0f64, 0.0]], &Device::Cpu).unwrap();
        let lp: Vec<f64> = gaussian_log_prob(&mean, &log_std, &a)
            .unwrap()
            .to_vec1()
            .unwrap();
        let density = |x: f64, m: f64, ls: f64| {
            let s = f64::exp(ls);
            (-(x - m) * (x - m) / (2.0 * s * s)).exp() / (s * std::f64::consts::TAU.sqrt())
        };
        let expected = (density(1.0, 0.5, 0.2) * density(0.0, -1.0, -0.3)).ln();
        assert!((lp[0] - expected).abs() < 1e-12, "{} vs {expected}", lp[0]);
        let h: Vec<f64> = gaussian_entropy(&log_std, 3).unwrap().to_vec1().unwrap();
        let one = |ls: f64| 0.5 * (std::f64::consts::TAU * std::f64::consts::E).ln() + ls;
        assert_eq!(h.len(), 3);
        assert!((h[2] - (one(0.2) + one(-0.3))).abs() < 1e-12);
    }

    /// Autodiff against finite differences for `loss` over `vars`: within 10⁻⁶, and every
    /// variable reached (`what` names the case in a failure).
    fn check_gradients<F>(loss: F, vars: &[(String, Var)], what: &str)
    where
        F: Fn() -> candle_core::Result<Tensor>,
    {
        let report = grad_check(loss, vars, &GradCheckConfig::default()).unwrap();
        assert!(report.passed(1e-6), "{what}: {report}");
        assert!(report.missing.is_empty(), "{what}: {report}");
    }

    #[test]
    fn the_distributions_pass_the_gradient_check() {
        let logits = f64_var(vec![0.3, -1.2, 0.8, 0.1, 0.4, -0.5], &[2, 3]);
        let actions = Tensor::new(&[2u32, 0], &Device::Cpu).unwrap();
        check_gradients(
            || {
                let lp = categorical_log_prob(logits.as_tensor(), &actions)?;
                let h = categorical_entropy(logits.as_tensor())?;
                probe_loss(&lp, 1)? + probe_loss(&h, 2)?
            },
            &[("logits".into(), logits.clone())],
            "categorical",
        );

        let mean = f64_var(vec![0.5, -1.0, 0.2, 0.3], &[2, 2]);
        let log_std = f64_var(vec![0.2, -0.3], &[2]);
        let a = Tensor::new(&[[1.0f64, 0.0], [-0.5, 0.7]], &Device::Cpu).unwrap();
        check_gradients(
            || {
                let lp = gaussian_log_prob(mean.as_tensor(), log_std.as_tensor(), &a)?;
                let h = gaussian_entropy(log_std.as_tensor(), 2)?;
                probe_loss(&lp, 3)? + probe_loss(&h, 4)?
            },
            &[
                ("mean".into(), mean.clone()),
                ("log_std".into(), log_std.clone()),
            ],
            "gaussian",
        );
    }

    #[test]
    fn the_actor_critic_passes_the_gradient_check() {
        for kind in [ActionKind::Discrete(3), ActionKind::Continuous(2)] {
            let store = ParamStore::new(0, DType::F64, &Device::Cpu);
            let config = ActorCriticConfig {
                pi: vec![5],
                vf: vec![4],
                ..Default::default()
            };
            let net = actor_critic(3, kind, &config, &store, 7).unwrap();
            let obs = f64_var(vec![0.1, -0.4, 0.9, 0.3, 0.2, -0.7], &[2, 3]);
            let actions = match kind {
                ActionKind::Discrete(_) => Tensor::new(&[1u32, 2], &Device::Cpu).unwrap(),
                ActionKind::Continuous(_) => {
                    Tensor::new(&[[0.3f64, -0.2], [1.1, 0.4]], &Device::Cpu).unwrap()
                }
            };
            let mut vars = store.named_vars();
            vars.push(("obs".into(), obs.clone()));
            check_gradients(
                || {
                    let (out, v) = net.forward(obs.as_tensor())?;
                    let (lp, h) = net.log_prob_entropy(&out, &actions)?;
                    probe_loss(&lp, 5)? + probe_loss(&h, 6)? + probe_loss(&v, 7)?
                },
                &vars,
                &format!("{kind:?}"),
            );
        }
    }

    #[test]
    fn gsde_matches_the_closed_form_and_passes_the_gradient_check() {
        let mean = f64_var(vec![0.5, -1.0, 0.2, 0.3], &[2, 2]);
        let log_std = f64_var(vec![0.2, -0.3, -1.0, 0.4, 0.1, -0.2], &[3, 2]);
        let latent = f64_var(vec![0.3, -0.8, 0.5, 0.9, 0.1, -0.4], &[2, 3]);
        let a = Tensor::new(&[[1.0f64, 0.0], [-0.5, 0.7]], &Device::Cpu).unwrap();
        let (lp, h) = sde_log_prob_entropy(
            mean.as_tensor(),
            log_std.as_tensor(),
            latent.as_tensor(),
            &a,
        )
        .unwrap();
        let (lp, h): (Vec<f64>, Vec<f64>) = (lp.to_vec1().unwrap(), h.to_vec1().unwrap());
        let (m, ls, x): ([f64; 4], [f64; 6], [f64; 6]) = (
            [0.5, -1.0, 0.2, 0.3],
            [0.2, -0.3, -1.0, 0.4, 0.1, -0.2],
            [0.3, -0.8, 0.5, 0.9, 0.1, -0.4],
        );
        let act = [1.0, 0.0, -0.5, 0.7];
        for n in 0..2 {
            let (mut logp, mut ent) = (0.0, 0.0);
            for k in 0..2 {
                let var: f64 = (0..3)
                    .map(|j| x[n * 3 + j] * x[n * 3 + j] * (2.0 * ls[j * 2 + k]).exp())
                    .sum();
                let s = (var + SDE_EPSILON).sqrt();
                let d = act[n * 2 + k] - m[n * 2 + k];
                logp += -d * d / (2.0 * s * s) - s.ln() - HALF_LN_TAU;
                ent += 0.5 + HALF_LN_TAU + s.ln();
            }
            assert!((lp[n] - logp).abs() < 1e-12, "{n}: {} vs {logp}", lp[n]);
            assert!((h[n] - ent).abs() < 1e-12);
        }
        check_gradients(
            || {
                let (lp, h) = sde_log_prob_entropy(
                    mean.as_tensor(),
                    log_std.as_tensor(),
                    latent.as_tensor(),
                    &a,
                )?;
                probe_loss(&lp, 3)? + probe_loss(&h, 4)?
            },
            &[
                ("mean".into(), mean.clone()),
                ("log_std".into(), log_std.clone()),
            ],
            "gSDE",
        );
    }

    #[test]
    fn a_gsde_actor_critic_passes_the_gradient_check_and_acts_as_it_evaluates() {
        let store = ParamStore::new(0, DType::F64, &Device::Cpu);
        let config = ActorCriticConfig {
            pi: vec![5],
            vf: vec![4],
            log_std_init: -0.5,
            ..Default::default()
        };
        let kind = ActionKind::Continuous(2);
        let net = actor_critic_with(3, kind, &config, &store, 7, true).unwrap();
        assert_eq!(net.log_std().unwrap().dims(), [5, 2]);
        let obs = f64_var(vec![0.1, -0.4, 0.9, 0.3, 0.2, -0.7], &[2, 3]);
        let actions = Tensor::new(&[[0.3f64, -0.2], [1.1, 0.4]], &Device::Cpu).unwrap();
        // The variance reads the hidden layer as a constant (Stable-Baselines3's
        // `learn_features = False`), so the hidden layers' gradient leaves that path out by
        // design and finite differences would see it: they are checked through the mean in
        // `the_actor_critic_passes_the_gradient_check`; here every other parameter.
        let vars: Vec<_> = store
            .named_vars()
            .into_iter()
            .filter(|(name, _)| !name.starts_with("pi.layers.0."))
            .collect();
        check_gradients(
            || {
                let (v, lp, h) = net.evaluate(obs.as_tensor(), &actions)?;
                probe_loss(&lp, 5)? + probe_loss(&h, 6)? + probe_loss(&v, 7)?
            },
            &vars,
            "gSDE actor-critic",
        );
        // The host's action and log-probability are what the tensors give for that action.
        let mut rng = EnvRng::seed_from_u64(5);
        let w = net.sample_exploration(2, &mut rng).unwrap();
        assert_eq!(w.len(), 2 * 5 * 2);
        let host = [0.1f32, -0.4, 0.9, 0.3, 0.2, -0.7];
        let sampled = net.sample_sde(&host, 2, &w).unwrap();
        let a: Vec<f64> = sampled
            .iter()
            .flat_map(|s| s.action.iter().map(|&x| x as f64))
            .collect();
        let a = Tensor::from_vec(a, (2, 2), &Device::Cpu).unwrap();
        let (v, lp, _) = net.evaluate(obs.as_tensor(), &a).unwrap();
        let (v, lp): (Vec<f64>, Vec<f64>) = (v.to_vec1().unwrap(), lp.to_vec1().unwrap());
        for e in 0..2 {
            assert!((sampled[e].log_prob as f64 - lp[e]).abs() < 1e-5);
            assert!((sampled[e].value as f64 - v[e]).abs() < 1e-6);
        }
        // Discrete actions have no gSDE.
        assert!(actor_critic_with(3, ActionKind::Discrete(2), &config, &store, 7, true).is_err());
    }

    #[test]
    fn orthogonal_weights_have_orthonormal_rows_or_columns_times_the_gain() {
        let mut rng = EnvRng::seed_from_u64(3);
        for (rows, cols) in [(4, 6), (6, 4), (5, 5)] {
            let w = orthogonal(rows, cols, 2.0, &mut rng);
            let (k, by_rows) = (rows.min(cols), rows <= cols);
            for i in 0..k {
                for j in 0..k {
                    let dot: f64 = if by_rows {
                        (0..cols).map(|c| w[i * cols + c] * w[j * cols + c]).sum()
                    } else {
                        (0..rows).map(|r| w[r * cols + i] * w[r * cols + j]).sum()
                    };
                    let expected = if i == j { 4.0 } else { 0.0 };
                    assert!(
                        (dot - expected).abs() < 1e-9,
                        "{rows}x{cols} [{i},{j}] {dot}"
                    );
                }
            }
        }
    }

    #[test]
    fn sampled_actions_follow_the_policy_and_their_log_probs_match_the_tensor_ones() {
        let store = ParamStore::new(0, DType::F32, &Device::Cpu);
        let config = ActorCriticConfig {
            ortho_init: false,
            ..Default::default()
        };
        let net = actor_critic(2, ActionKind::Discrete(3), &config, &store, 0).unwrap();
        let obs = [0.5f32, -0.25];
        let mut rng = EnvRng::seed_from_u64(11);
        let mut counts = [0usize; 3];
        let n = 20_000;
        let mut last = None;
        for _ in 0..n {
            let s = net.sample(&obs, 1, &mut rng).unwrap().remove(0);
            counts[s.action[0] as usize] += 1;
            last = Some(s);
        }
        let t = Tensor::from_slice(&obs, (1, 2), &Device::Cpu).unwrap();
        let (logits, _) = net.forward(&t).unwrap();
        let p: Vec<f32> = log_softmax(&logits, D::Minus1)
            .unwrap()
            .exp()
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        for a in 0..3 {
            let freq = counts[a] as f64 / n as f64;
            // Four standard errors of a frequency near p.
            let se = (p[a] as f64 * (1.0 - p[a] as f64) / n as f64).sqrt();
            assert!(
                (freq - p[a] as f64).abs() < 4.0 * se,
                "{a}: {freq} vs {}",
                p[a]
            );
        }
        let s = last.unwrap();
        let actions = Tensor::new(&[s.action[0] as u32], &Device::Cpu).unwrap();
        let lp: Vec<f32> = categorical_log_prob(&logits, &actions)
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!((lp[0] - s.log_prob).abs() < 1e-6);
    }
}
