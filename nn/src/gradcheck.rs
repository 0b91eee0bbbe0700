//! Finite-difference gradient checking.
//!
//! A block built on an op without a backward pass still runs forward, and its parameters
//! simply stop learning. [`grad_check`] catches that, and wrong backward formulas: it compares
//! candle's autodiff gradient of a scalar loss with central finite differences, entry by
//! entry, for inputs and parameters alike.
//!
//! Run it in `f64` (build the block from a [`ParamStore`](super::ParamStore) of dtype `F64`).
//! The central difference `(L(θ+ε) − L(θ−ε)) / 2ε` then errs by about `ulp(L)/ε ≈ 2·10⁻¹¹·|L|`
//! from rounding and `ε²|L‴|/6 ≈ 2·10⁻¹¹·|L‴|` from truncation with the default `ε = 10⁻⁵`.
//! The relative error divides by `max(|autodiff|, |numeric|, floor)` with `floor = 10⁻⁵`, so an
//! entry whose true gradient is zero (a key bias under softmax) compares its absolute error,
//! about `10⁻¹⁰`, with `10⁻⁵` rather than with itself.

use candle_core::{DType, Tensor, Var};
use qlab_rng::EnvRng;
use rand::SeedableRng;

use crate::error::{Error, Result};

/// Settings of [`grad_check`].
///
/// | field         | default | meaning                                                    |
/// |---------------|---------|------------------------------------------------------------|
/// | `eps`         | `1e-5`  | finite-difference step                                      |
/// | `floor`       | `1e-5`  | smallest magnitude the relative error divides by            |
/// | `max_entries` | `48`    | entries checked per tensor, drawn at random when it has more; `0` checks all |
/// | `seed`        | `0`     | seeds the choice of entries                                  |
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheckConfig {
    /// Finite-difference step.
    pub eps: f64,
    /// Denominator floor of the relative error.
    pub floor: f64,
    /// Entries checked per tensor (0: all).
    pub max_entries: usize,
    /// Seed for choosing entries.
    pub seed: u64,
}

impl Default for GradCheckConfig {
    fn default() -> Self {
        Self {
            eps: 1e-5,
            floor: 1e-5,
            max_entries: 48,
            seed: 0,
        }
    }
}

/// One compared entry.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckEntry {
    /// The tensor's name.
    pub name: String,
    /// Flat index of the entry.
    pub index: usize,
    /// candle's gradient.
    pub analytic: f64,
    /// The central finite difference.
    pub numeric: f64,
    /// `|analytic − numeric| / max(|analytic|, |numeric|, floor)`.
    pub rel_error: f64,
}

/// The outcome of [`grad_check`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckReport {
    /// The entry with the largest relative error.
    pub worst: Option<GradCheckEntry>,
    /// Tensors that received no gradient at all from autodiff.
    pub missing: Vec<String>,
    /// Number of entries compared.
    pub checked: usize,
}

impl GradCheckReport {
    /// The largest relative error found (0 when nothing was checked).
    pub fn max_rel_error(&self) -> f64 {
        self.worst.as_ref().map_or(0.0, |w| w.rel_error)
    }

    /// Whether every tensor got a gradient and every entry agrees within `tolerance`.
    pub fn passed(&self, tolerance: f64) -> bool {
        self.missing.is_empty() && self.max_rel_error() <= tolerance
    }
}

impl std::fmt::Display for GradCheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} entries checked", self.checked)?;
        if !self.missing.is_empty() {
            write!(f, "; no gradient for {}", self.missing.join(", "))?;
        }
        if let Some(w) = &self.worst {
            write!(
                f,
                "; worst relative error {:.3e} at {}[{}] (autodiff {:.9e}, finite difference {:.9e})",
                w.rel_error, w.name, w.index, w.analytic, w.numeric
            )?;
        }
        Ok(())
    }
}

/// Compares autodiff and finite-difference gradients of the scalar `loss` with respect to
/// every variable in `vars` (inputs and parameters, with names for the report).
///
/// `loss` recomputes the loss from the variables' current values; it is called twice per
/// checked entry. Every variable must be `f64`. Variables are restored afterwards.
pub fn grad_check<F>(
    loss: F,
    vars: &[(String, Var)],
    config: &GradCheckConfig,
) -> Result<GradCheckReport>
where
    F: Fn() -> candle_core::Result<Tensor>,
{
    if let Some((name, v)) = vars.iter().find(|(_, v)| v.dtype() != DType::F64) {
        return Err(Error::config(
            format!("grad_check variable `{name}`"),
            format!("{:?}", v.dtype()),
            "F64 (finite differences need double precision)",
        ));
    }
    let grads = loss()?.backward()?;
    let mut rng = EnvRng::seed_from_u64(config.seed);
    let mut report = GradCheckReport {
        worst: None,
        missing: Vec::new(),
        checked: 0,
    };
    for (name, var) in vars {
        let n = var.elem_count();
        let shape = var.shape().clone();
        let original: Vec<f64> = var.as_tensor().flatten_all()?.to_vec1()?;
        let analytic: Vec<f64> = match grads.get(var.as_tensor()) {
            Some(g) => g.flatten_all()?.to_vec1()?,
            None => {
                report.missing.push(name.clone());
                vec![0.0; n]
            }
        };
        let indices: Vec<usize> = if config.max_entries == 0 || n <= config.max_entries {
            (0..n).collect()
        } else {
            // A partial Fisher–Yates shuffle: `max_entries` distinct indices.
            let mut all: Vec<usize> = (0..n).collect();
            for i in 0..config.max_entries {
                let j = i + rng.below(n - i);
                all.swap(i, j);
            }
            all.truncate(config.max_entries);
            all
        };
        let mut values = original.clone();
        let mut eval_at = |i: usize, x: f64| -> Result<f64> {
            values[i] = x;
            var.set(&Tensor::from_slice(&values, shape.clone(), var.device())?)?;
            values[i] = original[i];
            Ok(loss()?.to_dtype(DType::F64)?.to_scalar::<f64>()?)
        };
        for &i in &indices {
            let plus = eval_at(i, original[i] + config.eps)?;
            let minus = eval_at(i, original[i] - config.eps)?;
            let numeric = (plus - minus) / (2.0 * config.eps);
            let a = analytic[i];
            let denom = a.abs().max(numeric.abs()).max(config.floor);
            let rel_error = (a - numeric).abs() / denom;
            report.checked += 1;
            if report
                .worst
                .as_ref()
                .is_none_or(|w| rel_error > w.rel_error)
            {
                report.worst = Some(GradCheckEntry {
                    name: name.clone(),
                    index: i,
                    analytic: a,
                    numeric,
                    rel_error,
                });
            }
        }
        var.set(&Tensor::from_slice(&original, shape, var.device())?)?;
    }
    Ok(report)
}

/// A scalar probe of a block's output: `Σ out ⊙ R`, with `R` a fixed tensor of the output's
/// shape drawn uniformly from `[−1, 1]` with `seed`.
///
/// Summing the output alone would hide errors: the gradient of a plain sum through a softmax
/// or a mean-centred dueling head is zero. Random weights make every output count.
pub fn probe_loss(out: &Tensor, seed: u64) -> candle_core::Result<Tensor> {
    let mut rng = EnvRng::seed_from_u64(seed);
    let r: Vec<f64> = (0..out.elem_count())
        .map(|_| 2.0 * rng.next_f64() - 1.0)
        .collect();
    let r = Tensor::from_vec(r, out.shape(), out.device())?.to_dtype(out.dtype())?;
    (out * r)?.sum_all()
}
