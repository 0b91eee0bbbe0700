//! [`NormalizeObservation`]: observations scaled by running mean and variance.

use super::checks::observed_box;
use super::{Wrapper, inner_env_in};
use crate::{BoxSpace, Env, Error, Model, Result, Space};

/// Added to the variance under the square root, as Gymnasium's `NormalizeObservation` does.
const EPSILON: f64 = 1e-8;

/// The weight of the prior (mean 0, variance 1) the statistics start from — Gymnasium's
/// `RunningMeanStd(epsilon=1e-4)`.
pub(super) const PRIOR_COUNT: f64 = 1e-4;

/// Normalizes every observation by a running mean and variance — Gymnasium's
/// `NormalizeObservation`.
///
/// Each element becomes `(x − mean) / sqrt(var + 1e-8)`, optionally clipped to `[-clip, clip]`.
/// While [`training`](NormalizeObservation::training) (the default), every observation from
/// `reset` and `step` first updates the statistics, per element, by the parallel-variance
/// formula (Chan, Golub & LeVeque) starting from Gymnasium's prior: mean 0, variance 1, weight
/// `1e-4`. Freeze them with [`set_training(false)`](NormalizeObservation::set_training) to
/// evaluate a policy on the statistics it was trained with.
///
/// The statistics are `f64` (Gymnasium keeps them in the observation's `float32`); the output
/// is written back into the inner observation, so stepping allocates nothing. The observation
/// space is `Box(-inf, inf)` of the inner shape, or `Box(-clip, clip)` with clipping. There is
/// no model.
///
/// There is no RNG state either: [`rng_state`](Env::rng_state) is `None` and
/// [`set_rng_state`](Env::set_rng_state) is [`Error::Unsupported`], because the statistics
/// cross episodes and change every later observation, so the inner env's stream alone cannot
/// resume this env. Save and restore the statistics with [`mean`](Self::mean),
/// [`var`](Self::var), [`count`](Self::count) and [`set_statistics`](Self::set_statistics).
///
/// ```
/// # use qlab_envs::{BoxSpace, Env, Frame, Info, Reset, Result, Space, Step};
/// # struct Line { x: f32, obs: Space, act: Space }
/// # impl Env for Line {
/// #     type Obs = [f32; 1];
/// #     type Action = usize;
/// #     fn observation_space(&self) -> &Space { &self.obs }
/// #     fn action_space(&self) -> &Space { &self.act }
/// #     fn reset(&mut self, _: Option<u64>) -> Reset<[f32; 1]> {
/// #         self.x = 10.0;
/// #         Reset { obs: [self.x], info: Info::default() }
/// #     }
/// #     fn step(&mut self, a: usize) -> Result<Step<[f32; 1]>> {
/// #         qlab_envs::check_discrete_action(a, &self.act)?;
/// #         self.x += if a == 1 { 1.0 } else { -1.0 };
/// #         Ok(Step { obs: [self.x], reward: 0.0, terminated: false, truncated: false,
/// #                   info: Info::default() })
/// #     }
/// #     fn render_ansi(&self) -> String { String::new() }
/// #     fn render_rgb(&self) -> Frame { Frame::filled(1, 1, [0; 3]) }
/// #     fn name(&self) -> String { "Line".into() }
/// # }
/// # fn main() -> qlab_envs::Result<()> {
/// # let env = Line { x: 0.0, obs: BoxSpace::from_bounds(vec![-100.0], vec![100.0]).into(),
/// #                  act: Space::discrete(2) };
/// use qlab_envs::wrappers::NormalizeObservation;
///
/// // `env` observes a position near 10 that moves by ±1.
/// let mut env = NormalizeObservation::new(env, Some(5.0))?;
/// env.reset(None);
/// for a in [1, 0, 0, 1, 1, 0] {
///     let x = env.step(a)?.obs[0];
///     assert!(x.abs() <= 5.0);
/// }
/// assert!((env.mean()[0] - 10.14).abs() < 0.01);
/// env.set_training(false); // evaluation: the statistics stay as they are
/// env.step(1)?;
/// assert!((env.mean()[0] - 10.14).abs() < 0.01);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct NormalizeObservation<E> {
    env: E,
    mean: Vec<f64>,
    var: Vec<f64>,
    count: f64,
    training: bool,
    clip: Option<f32>,
    space: Space,
}

impl<E: Env> NormalizeObservation<E>
where
    E::Obs: AsRef<[f32]> + AsMut<[f32]>,
{
    /// Wraps `env`, clipping normalized values to `[-clip, clip]` when `clip` is given
    /// (`clip > 0`; Stable-Baselines3's `VecNormalize` uses 10).
    ///
    /// Errors if the observation space is not a box or `clip` is not a positive number.
    pub fn new(env: E, clip: Option<f32>) -> Result<Self> {
        let boxed = observed_box(env.observation_space())?;
        if let Some(c) = clip.filter(|c| c.is_nan() || *c <= 0.0) {
            return Err(Error::InvalidParam {
                key: "clip".into(),
                value: c.to_string(),
                expected: "a number > 0".into(),
            });
        }
        let bound = clip.unwrap_or(f32::INFINITY);
        let space = BoxSpace::uniform(-bound, bound, boxed.shape().to_vec()).into();
        let n = boxed.len();
        Ok(Self {
            env,
            mean: vec![0.0; n],
            var: vec![1.0; n],
            count: PRIOR_COUNT,
            training: true,
            clip,
            space,
        })
    }

    /// Whether observations update the statistics.
    pub fn training(&self) -> bool {
        self.training
    }

    /// Sets whether observations update the statistics (Gymnasium's `update_running_mean`).
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// The running mean of each element.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The running (population) variance of each element.
    pub fn var(&self) -> &[f64] {
        &self.var
    }

    /// The weight of the statistics: the number of observations seen plus the prior's `1e-4`.
    pub fn count(&self) -> f64 {
        self.count
    }

    /// Replaces the statistics, e.g. with those saved from training.
    ///
    /// Errors unless `mean` and `var` have one entry per element, every mean is finite, every
    /// variance finite and `≥ 0`, and `count > 0`.
    pub fn set_statistics(&mut self, mean: &[f64], var: &[f64], count: f64) -> Result<()> {
        let n = self.mean.len();
        for (key, v) in [("mean", mean), ("var", var)] {
            if v.len() != n {
                return Err(Error::InvalidParam {
                    key: key.into(),
                    value: format!("{} values", v.len()),
                    expected: format!("one per observation element ({n})"),
                });
            }
        }
        if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
            return Err(Error::InvalidParam {
                key: format!("mean[{i}]"),
                value: mean[i].to_string(),
                expected: "a finite number".into(),
            });
        }
        if let Some(i) = var.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::InvalidParam {
                key: format!("var[{i}]"),
                value: var[i].to_string(),
                expected: "a finite number ≥ 0".into(),
            });
        }
        if !(count > 0.0 && count.is_finite()) {
            return Err(Error::InvalidParam {
                key: "count".into(),
                value: count.to_string(),
                expected: "a finite number > 0".into(),
            });
        }
        self.mean.copy_from_slice(mean);
        self.var.copy_from_slice(var);
        self.count = count;
        Ok(())
    }

    /// Updates the statistics with `obs` (while training) and normalizes it in place.
    fn normalize(&mut self, obs: &mut [f32]) {
        debug_assert_eq!(obs.len(), self.mean.len(), "observation length");
        if self.training {
            for ((m, v), &x) in self.mean.iter_mut().zip(&mut self.var).zip(obs.iter()) {
                add_sample(m, v, self.count, x as f64);
            }
            self.count += 1.0;
        }
        for ((x, m), v) in obs.iter_mut().zip(&self.mean).zip(&self.var) {
            let z = ((*x as f64 - m) / (v + EPSILON).sqrt()) as f32;
            *x = match self.clip {
                Some(c) => z.clamp(-c, c),
                None => z,
            };
        }
    }
}

/// Adds one sample `x` to a running mean and variance of weight `count` (the caller adds 1 to
/// the count): Gymnasium's `update_mean_var_count_from_moments` for a batch of one, whose
/// variance is 0 — the parallel-variance formula of Chan, Golub & LeVeque. Shared by the
/// wrappers that normalize ([`NormalizeObservation`], [`NormalizeReward`](super::NormalizeReward)).
#[inline]
pub(super) fn add_sample(mean: &mut f64, var: &mut f64, count: f64, x: f64) {
    let total = count + 1.0;
    let delta = x - *mean;
    *mean += delta / total;
    *var = (*var * count + delta * delta * count / total) / total;
}

impl<E: Env> Wrapper for NormalizeObservation<E>
where
    E::Obs: AsRef<[f32]> + AsMut<[f32]>,
{
    type Inner = E;
    type Obs = E::Obs;

    inner_env_in!(env);

    fn observation_space(this: &Self) -> &Space {
        &this.space
    }

    #[inline]
    fn observation(this: &mut Self, mut obs: E::Obs) -> E::Obs {
        this.normalize(obs.as_mut());
        obs
    }

    // The inner model's states are raw observations, not normalized ones.
    fn model(_: &Self) -> Option<&dyn Model> {
        None
    }

    // The running statistics cross episodes and shape every later observation: the inner
    // env's stream alone cannot resume this env.
    fn rng_state(_: &Self) -> Option<[u64; 4]> {
        None
    }

    fn set_rng_state(this: &mut Self, _: [u64; 4]) -> Result<()> {
        Err(Error::Unsupported {
            operation: "set_rng_state under NormalizeObservation, whose running statistics \
                        cross episodes (save them with mean, var and count)"
                .into(),
            env: this.env.name(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Walk;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    /// Feeds `obs` through the wrapper's update as if they were observations.
    fn feed(w: &mut NormalizeObservation<Walk>, obs: &[[f32; 2]]) -> Vec<[f32; 2]> {
        obs.iter()
            .map(|o| {
                let mut o = *o;
                w.normalize(&mut o);
                o
            })
            .collect()
    }

    /// Gymnasium's `RunningMeanStd` (float64) fed one observation at a time, then
    /// `(x - mean) / sqrt(var + 1e-8)`: `tools/wrapper_references.py`, section "normalize".
    #[test]
    fn matches_gymnasium_running_mean_std() {
        let mut w = NormalizeObservation::new(Walk::new(100.0), None).unwrap();
        let obs = [
            [1.0, -2.0],
            [3.0, 0.5],
            [-1.5, 4.0],
            [2.0, 2.0],
            [0.25, -7.0],
        ];
        let out = feed(&mut w, &obs);
        let expected_out: [[f64; 2]; 5] = [
            [0.007070714249638547, -0.008944093012040463],
            [1.0000000049980002, 0.9999699987499624],
            [-1.2674959162393138, 1.2868691094860463],
            [0.523222623192903, 0.3995265778550403],
            [-0.455649703090351, -1.7129186758844974],
        ];
        for (o, e) in out.iter().zip(expected_out) {
            for (x, y) in o.iter().zip(e) {
                // The output is f32: compare to its precision.
                assert!(close(*x as f64, y, 1e-6), "{x} vs {y}");
            }
        }
        let mean = [0.9499810003799924, -0.49999000019999573];
        let var = [2.359990849822011, 14.399737005159897];
        for i in 0..2 {
            assert!(close(w.mean()[i], mean[i], 1e-12), "{:?}", w.mean());
            assert!(close(w.var()[i], var[i], 1e-12), "{:?}", w.var());
        }
        assert!(close(w.count(), 5.0001, 1e-12));
    }

    #[test]
    fn statistics_equal_the_directly_computed_mean_and_variance() {
        // Walk's y is a fresh uniform draw at each reset and step; x walks by ±1.
        let mut w = NormalizeObservation::new(Walk::new(1000.0), None).unwrap();
        let mut raw: Vec<[f64; 2]> = Vec::new();
        w.reset(Some(5));
        raw.push([w.inner().x as f64, w.inner().y as f64]);
        let mut last_out = [0.0; 2];
        for k in 0..300 {
            last_out = w.step(usize::from(k % 3 != 0)).unwrap().obs;
            raw.push([w.inner().x as f64, w.inner().y as f64]);
        }
        // The running statistics are those of the data pooled with the prior (weight 1e-4,
        // mean 0, variance 1).
        let n = raw.len() as f64;
        let total = n + PRIOR_COUNT;
        for i in 0..2 {
            let sample_mean = raw.iter().map(|r| r[i]).sum::<f64>() / n;
            let ss: f64 = raw.iter().map(|r| (r[i] - sample_mean).powi(2)).sum();
            let mean = n * sample_mean / total;
            let var = (PRIOR_COUNT + ss + sample_mean.powi(2) * PRIOR_COUNT * n / total) / total;
            assert!(close(w.mean()[i], mean, 1e-10), "{} vs {mean}", w.mean()[i]);
            assert!(close(w.var()[i], var, 1e-10), "{} vs {var}", w.var()[i]);
        }
        assert!(close(w.count(), total, 1e-12));
        // The last observation came out normalized by the statistics that include it.
        let last = raw.last().unwrap();
        for i in 0..2 {
            let z = (last[i] - w.mean()[i]) / (w.var()[i] + EPSILON).sqrt();
            assert_eq!(last_out[i], z as f32);
        }
    }

    #[test]
    fn frozen_statistics_do_not_move_and_clip_bounds_the_output() {
        let mut w = NormalizeObservation::new(Walk::new(1000.0), Some(1.5)).unwrap();
        assert_eq!(
            w.observation_space(),
            &Space::Box(BoxSpace::uniform(-1.5, 1.5, vec![2]))
        );
        w.reset(Some(0));
        for _ in 0..20 {
            let s = w.step(1).unwrap();
            assert!(s.obs.iter().all(|v| v.abs() <= 1.5), "{:?}", s.obs);
        }
        w.set_training(false);
        assert!(!w.training());
        let (mean, var, count) = (w.mean().to_vec(), w.var().to_vec(), w.count());
        let s = w.step(1).unwrap();
        assert_eq!((w.mean(), w.var(), w.count()), (&mean[..], &var[..], count));
        // x = 21 against a mean near 10 and a variance near 37: z ≈ 1.8, clipped.
        assert_eq!(s.obs[0], 1.5);
        let expected_y = ((w.inner().y as f64 - mean[1]) / (var[1] + EPSILON).sqrt()) as f32;
        assert_eq!(s.obs[1], expected_y.clamp(-1.5, 1.5));
    }

    #[test]
    fn unclipped_space_is_unbounded_with_the_inner_shape() {
        let w = NormalizeObservation::new(Walk::new(3.0), None).unwrap();
        let inf = f32::INFINITY;
        assert_eq!(
            w.observation_space(),
            &Space::Box(BoxSpace::uniform(-inf, inf, vec![2]))
        );
        assert_eq!(w.name(), "Walk");
    }

    #[test]
    fn set_statistics_validates_and_applies() {
        let mut w = NormalizeObservation::new(Walk::new(3.0), None).unwrap();
        let e = |r: Result<()>| r.unwrap_err().to_string();
        assert!(e(w.set_statistics(&[0.0], &[1.0, 1.0], 1.0)).contains("`mean`"));
        assert!(e(w.set_statistics(&[0.0, f64::NAN], &[1.0, 1.0], 1.0)).contains("`mean[1]`"));
        assert!(e(w.set_statistics(&[0.0, 0.0], &[-1.0, 1.0], 1.0)).contains("`var[0]`"));
        assert!(e(w.set_statistics(&[0.0, 0.0], &[1.0, 1.0], 0.0)).contains("`count`"));
        w.set_statistics(&[2.0, 0.0], &[4.0, 1.0], 10.0).unwrap();
        w.set_training(false);
        let out = feed(&mut w, &[[4.0, 0.0]]);
        assert!(close(out[0][0] as f64, 2.0 / (4.0 + EPSILON).sqrt(), 1e-7));
    }

    #[test]
    fn rejects_a_non_positive_clip() {
        for c in [0.0, -1.0, f32::NAN] {
            let e = NormalizeObservation::new(Walk::new(3.0), Some(c)).unwrap_err();
            assert!(e.to_string().contains("`clip`"), "{e}");
        }
    }
}
