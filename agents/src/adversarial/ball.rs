//! [`Ball`]: the set of allowed perturbations — an L∞ or L2 ball of radius ε in scaled
//! coordinates — and clipping to the observation box.

use qlab_envs::BoxSpace;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The norm that measures a perturbation: `"linf"` (every dimension moves at most ε) or
/// `"l2"` (the Euclidean length is at most ε).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// `‖u‖∞ = max_i |u_i|` (the default).
    #[default]
    Linf,
    /// `‖u‖₂ = √(Σ_i u_i²)`.
    L2,
}

impl Norm {
    /// The norm of `u`.
    pub fn of(self, u: &[f32]) -> f32 {
        match self {
            Norm::Linf => u.iter().fold(0.0f32, |m, x| m.max(x.abs())),
            Norm::L2 => u.iter().map(|x| x * x).sum::<f32>().sqrt(),
        }
    }
}

/// Perturbations `δ` with `‖δ / s‖ ≤ ε`, where `s` is a per-dimension scale (the observation's
/// standard deviation, or 1), applied to observations of a [`BoxSpace`].
///
/// Attacks work in scaled coordinates `u = δ / s`, so that ε means "ε standard deviations" in
/// every dimension whatever its units. The attacked observation `x₀ + δ` is then clipped to the
/// box; infinite bounds leave a dimension unclipped. Clipping only moves a value toward `x₀`
/// (which lies in the box), so the clipped perturbation stays inside the ball.
#[derive(Clone, Debug, PartialEq)]
pub struct Ball {
    eps: f32,
    norm: Norm,
    scale: Vec<f32>,
    low: Vec<f32>,
    high: Vec<f32>,
}

impl Ball {
    /// The ball of radius `eps` in `norm`, scaled per dimension by `scale` (empty: 1 in every
    /// dimension), inside `space`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `eps` is negative or not finite, `scale` has the wrong
    /// length, or some scale is not finite and positive.
    pub fn new(eps: f64, norm: Norm, scale: &[f32], space: &BoxSpace) -> Result<Ball> {
        if !(eps.is_finite() && eps >= 0.0) {
            return Err(Error::config("eps", eps, "a finite radius ≥ 0"));
        }
        let d = space.len();
        let scale = match scale.len() {
            0 => vec![1.0; d],
            n if n == d => scale.to_vec(),
            n => {
                return Err(Error::config(
                    "scale",
                    format!("{n} values"),
                    format!("one per observation dimension ({d}), or none"),
                ));
            }
        };
        if let Some(s) = scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::config(
                "scale",
                s,
                "finite and > 0 in every dimension",
            ));
        }
        Ok(Ball {
            eps: eps as f32,
            norm,
            scale,
            low: space.low().to_vec(),
            high: space.high().to_vec(),
        })
    }

    /// The radius ε.
    pub fn eps(&self) -> f32 {
        self.eps
    }

    /// The norm.
    pub fn norm(&self) -> Norm {
        self.norm
    }

    /// The per-dimension scale `s`.
    pub fn scale(&self) -> &[f32] {
        &self.scale
    }

    /// The number of dimensions.
    pub fn dim(&self) -> usize {
        self.scale.len()
    }

    /// The norm of a perturbation `δ` in scaled coordinates, `‖δ / s‖`.
    pub fn scaled_norm(&self, delta: &[f32]) -> f32 {
        match self.norm {
            Norm::Linf => delta
                .iter()
                .zip(&self.scale)
                .fold(0.0f32, |m, (d, s)| m.max((d / s).abs())),
            Norm::L2 => delta
                .iter()
                .zip(&self.scale)
                .map(|(d, s)| (d / s) * (d / s))
                .sum::<f32>()
                .sqrt(),
        }
    }

    /// Projects scaled coordinates `u` onto the ball `‖u‖ ≤ ε` (the nearest point).
    pub fn project(&self, u: &mut [f32]) {
        let eps = self.eps;
        match self.norm {
            Norm::Linf => u.iter_mut().for_each(|x| *x = x.clamp(-eps, eps)),
            Norm::L2 => {
                let n = Norm::L2.of(u);
                if n > eps {
                    let k = eps / n;
                    u.iter_mut().for_each(|x| *x *= k);
                }
            }
        }
    }

    /// Turns a gradient `g` in scaled coordinates into the steepest-ascent step of length
    /// `alpha`, in place: `alpha · sign(g)` under L∞, `alpha · g / ‖g‖₂` under L2 (zero where
    /// the gradient is).
    pub fn ascent_step(&self, g: &mut [f32], alpha: f32) {
        match self.norm {
            Norm::Linf => g.iter_mut().for_each(|x| *x = alpha * sign(*x)),
            Norm::L2 => {
                let n = Norm::L2.of(g);
                let k = if n > 0.0 { alpha / n } else { 0.0 };
                g.iter_mut().for_each(|x| *x *= k);
            }
        }
    }

    /// Multiplies a gradient with respect to the observation by the scale, in place: the
    /// gradient with respect to the scaled coordinates, `∂L/∂u = s ⊙ ∂L/∂x`.
    pub fn to_scaled(&self, g: &mut [f32]) {
        g.iter_mut().zip(&self.scale).for_each(|(x, s)| *x *= s);
    }

    /// Writes `clip(x₀ + s ⊙ u)` into `out` and returns it into `u` as the perturbation that
    /// was actually applied, `(out − x₀) / s`.
    pub fn apply(&self, x0: &[f32], u: &mut [f32], out: &mut [f32]) {
        for i in 0..x0.len() {
            let x = (x0[i] + self.scale[i] * u[i]).clamp(self.low[i], self.high[i]);
            out[i] = x;
            u[i] = (x - x0[i]) / self.scale[i];
        }
    }

    /// Clips `x` to the observation box in place.
    pub fn clip(&self, x: &mut [f32]) {
        for ((v, &l), &h) in x.iter_mut().zip(&self.low).zip(&self.high) {
            *v = v.clamp(l, h);
        }
    }
}

/// `sign(x)`, with `sign(0) = 0` (as `torch.sign`): FGSM leaves a dimension whose gradient is
/// exactly zero where it is.
#[inline]
pub(crate) fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The per-dimension standard deviation of a set of observations, floored at `floor`: a
/// [`Ball`] scale that makes ε mean "ε standard deviations" (collect the observations from
/// rollouts of the attacked agent).
///
/// # Errors
/// [`Error::InvalidConfig`] if there are fewer than two observations, they differ in length,
/// or `floor` is not finite and positive.
pub fn observation_std<O: AsRef<[f32]>>(observations: &[O], floor: f32) -> Result<Vec<f32>> {
    if !(floor.is_finite() && floor > 0.0) {
        return Err(Error::config("floor", floor, "finite and > 0"));
    }
    if observations.len() < 2 {
        return Err(Error::config(
            "observations",
            observations.len(),
            "at least 2 observations",
        ));
    }
    let d = observations[0].as_ref().len();
    let mut mean = vec![0.0f64; d];
    let mut m2 = vec![0.0f64; d];
    for (k, o) in observations.iter().enumerate() {
        let o = o.as_ref();
        if o.len() != d {
            return Err(Error::config(
                "observations",
                format!("an observation of length {}", o.len()),
                format!("every observation of length {d}"),
            ));
        }
        // Welford's running mean and sum of squared deviations.
        for i in 0..d {
            let x = o[i] as f64;
            let delta = x - mean[i];
            mean[i] += delta / (k + 1) as f64;
            m2[i] += delta * (x - mean[i]);
        }
    }
    let n = observations.len() as f64;
    Ok(m2
        .iter()
        .map(|v| ((v / n).sqrt() as f32).max(floor))
        .collect())
}
