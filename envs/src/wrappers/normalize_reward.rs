//! [`NormalizeReward`]: rewards scaled by the running spread of the discounted return.

use super::normalize::{PRIOR_COUNT, add_sample};
use super::{Wrapper, inner_env_in};
use crate::{Env, Error, Model, Result, Step};

/// Scales every reward by a running estimate of the spread of the discounted return —
/// Gymnasium's `NormalizeReward`, number for number.
///
/// The wrapper keeps `G`, an exponentially discounted sum of the rewards, and the running
/// mean and variance of `G` (starting from Gymnasium's prior: mean 0, variance 1, weight
/// `1e-4`). Each step, with `r` the env's reward:
///
/// ```text
/// G ← G · gamma · (0 if terminated else 1) + r
/// (mean, var) ← updated with G                  (while training)
/// reward seen = r / sqrt(var + epsilon)
/// ```
///
/// `G` restarts only at termination, exactly as Gymnasium 1.4 does: neither a truncation nor
/// a [`reset`](Env::reset) clears it, so after a time limit the next episode's first `G`
/// carries the last one, discounted. The mean is tracked but not subtracted (a shifted reward
/// would change which policy is optimal). The variance of `G`, not of `r`, sets the scale, so
/// the rewards an agent sees have roughly a fixed spread of discounted return.
///
/// Everything is `f64`. While [`training`](Self::training) (the default) every step updates
/// the statistics; [`set_training(false)`](Self::set_training) freezes them, as Gymnasium's
/// `update_running_mean = False` does (`G` still moves). Observations and flags are the env's;
/// there is no model (its rewards would be the env's).
///
/// There is no RNG state either: [`rng_state`](Env::rng_state) is `None` and
/// [`set_rng_state`](Env::set_rng_state) is [`Error::Unsupported`], because `G` and the
/// statistics cross episodes and change every later reward. Save and restore them with
/// [`discounted_return`](Self::discounted_return), [`mean`](Self::mean), [`var`](Self::var),
/// [`count`](Self::count) and [`set_statistics`](Self::set_statistics).
///
/// ```
/// use qlab_envs::wrappers::NormalizeReward;
/// use qlab_envs::{make, AnyEnv, Env, Params};
/// # fn main() -> qlab_envs::Result<()> {
/// let AnyEnv::Discrete(cliff) = make("CliffWalking-v1", &Params::new())? else { unreachable!() };
/// let mut env = NormalizeReward::new(cliff, 0.99, 1e-8)?;
/// env.reset(Some(0));
/// let r = env.step(0)?.reward; // −1, over the spread of G after its first value, −1
/// assert_eq!(r, -1.0 / (env.var() + 1e-8).sqrt());
/// assert_eq!(env.discounted_return(), -1.0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct NormalizeReward<E> {
    env: E,
    gamma: f64,
    epsilon: f64,
    /// `G`, the discounted return so far.
    ret: f64,
    mean: f64,
    var: f64,
    count: f64,
    training: bool,
}

impl<E: Env> NormalizeReward<E> {
    /// Wraps `env`, discounting `G` by `gamma ∈ [0, 1]` and adding `epsilon > 0` to the
    /// variance under the square root (Gymnasium's defaults: 0.99 and `1e-8`).
    ///
    /// Errors ([`Error::InvalidParam`]) outside those ranges, as Gymnasium 1.4 refuses them.
    pub fn new(env: E, gamma: f64, epsilon: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&gamma) {
            return Err(Error::InvalidParam {
                key: "gamma".into(),
                value: gamma.to_string(),
                expected: "a number in [0, 1]".into(),
            });
        }
        if !(epsilon > 0.0 && epsilon.is_finite()) {
            return Err(Error::InvalidParam {
                key: "epsilon".into(),
                value: epsilon.to_string(),
                expected: "a finite number > 0".into(),
            });
        }
        Ok(Self {
            env,
            gamma,
            epsilon,
            ret: 0.0,
            mean: 0.0,
            var: 1.0,
            count: PRIOR_COUNT,
            training: true,
        })
    }

    /// The discount of `G`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Added to the variance under the square root.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Whether steps update the statistics.
    pub fn training(&self) -> bool {
        self.training
    }

    /// Freezes (`false`) or resumes (`true`) the updates of the statistics.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// `G`, the discounted return the statistics track.
    pub fn discounted_return(&self) -> f64 {
        self.ret
    }

    /// The running mean of `G`.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The running variance of `G`.
    pub fn var(&self) -> f64 {
        self.var
    }

    /// The weight of the statistics: the prior's `1e-4` plus one per update.
    pub fn count(&self) -> f64 {
        self.count
    }

    /// Restores `G` and the statistics (from [`discounted_return`](Self::discounted_return),
    /// [`mean`](Self::mean), [`var`](Self::var), [`count`](Self::count)). Errors
    /// ([`Error::InvalidParam`]) unless all are finite, `var ≥ 0` and `count > 0`; nothing
    /// changes then.
    pub fn set_statistics(&mut self, ret: f64, mean: f64, var: f64, count: f64) -> Result<()> {
        let bad = |key: &str, value: f64, expected: &str| Error::InvalidParam {
            key: key.into(),
            value: value.to_string(),
            expected: expected.into(),
        };
        if !ret.is_finite() {
            return Err(bad("discounted_return", ret, "a finite number"));
        }
        if !mean.is_finite() {
            return Err(bad("mean", mean, "a finite number"));
        }
        if !(var >= 0.0 && var.is_finite()) {
            return Err(bad("var", var, "a finite number ≥ 0"));
        }
        if !(count > 0.0 && count.is_finite()) {
            return Err(bad("count", count, "a finite number > 0"));
        }
        (self.ret, self.mean, self.var, self.count) = (ret, mean, var, count);
        Ok(())
    }
}

impl<E: Env> Wrapper for NormalizeReward<E> {
    type Inner = E;
    type Obs = E::Obs;

    inner_env_in!(env);

    #[inline]
    fn observation(_: &mut Self, obs: E::Obs) -> E::Obs {
        obs
    }

    #[inline]
    fn step(this: &mut Self, action: E::Action) -> Result<Step<E::Obs>> {
        let mut step = this.env.step(action)?;
        // Gymnasium: `G * gamma * (1 - terminated) + reward`, in that order.
        let alive = if step.terminated { 0.0 } else { 1.0 };
        this.ret = this.ret * this.gamma * alive + step.reward;
        if this.training {
            add_sample(&mut this.mean, &mut this.var, this.count, this.ret);
            this.count += 1.0;
        }
        step.reward /= (this.var + this.epsilon).sqrt();
        Ok(step)
    }

    // The model's rewards are the env's, not these.
    fn model(_: &Self) -> Option<&dyn Model> {
        None
    }

    // `G` and the statistics cross episodes and scale every later reward: the inner env's
    // stream alone cannot resume this env.
    fn rng_state(_: &Self) -> Option<[u64; 4]> {
        None
    }

    fn set_rng_state(this: &mut Self, _: [u64; 4]) -> Result<()> {
        Err(Error::Unsupported {
            operation: "set_rng_state under NormalizeReward, whose discounted return and \
                        statistics cross episodes (save them with discounted_return, mean, var \
                        and count)"
                .into(),
            env: this.env.name(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_env;
    use crate::wrappers::TimeLimit;
    use crate::wrappers::test_envs::Walk;

    /// One step of [`play`]: (env reward, normalized, terminated, truncated).
    type Row = (f64, f64, bool, bool);

    const EPISODES: [&[usize]; 4] = [&[1, 1, 1], &[0, 1, 0, 1], &[0, 0, 0], &[1, 0, 1]];

    /// Plays [`EPISODES`] through `NormalizeReward(TimeLimit(Walk(3), 4))`: one
    /// (env reward, normalized, terminated, truncated) row per step.
    fn play(env: &mut NormalizeReward<TimeLimit<Walk>>) -> Vec<Row> {
        let mut rows = Vec::new();
        for episode in EPISODES {
            env.reset(Some(0));
            for &a in episode {
                let s = env.step(a).unwrap();
                rows.push((
                    env.inner().inner().x as f64,
                    s.reward,
                    s.terminated,
                    s.truncated,
                ));
                if s.done() {
                    break;
                }
            }
        }
        rows
    }

    /// Gymnasium 1.4's `NormalizeReward(TimeLimit(Walk(3), 4), gamma, epsilon=1e-8)`:
    /// `tools/wrapper_references.py`, section "normalize_reward". The discounted return runs
    /// on through the truncation at the fourth step of the second episode and restarts at
    /// each termination. Rows are (reward, normalized, terminated, truncated); then `G`, the
    /// mean, the variance and the count.
    #[test]
    fn matches_gymnasium_step_by_step() {
        let f = false;
        let cases: [(f64, [Row; 13], [f64; 4]); 2] = [
            (
                0.9,
                [
                    (1.0, 70.71421321062337, f, f),
                    (2.0, 2.1050357671332236, f, f),
                    (3.0, 3.260006707437597, true, f),
                    (-1.0, -1.192995533509758, f, f),
                    (0.0, 0.0, f, f),
                    (-1.0, -1.0556735511555764, f, f),
                    (0.0, 0.0, f, true),
                    (-1.0, -0.8341036701821587, f, f),
                    (-2.0, -1.2005329415400643, f, f),
                    (-3.0, -1.534472022411062, true, f),
                    (1.0, 0.5091328875151266, f, f),
                    (0.0, 0.0, f, f),
                    (1.0, 0.534053733121777, f, f),
                ],
                [
                    -0.3770000000000002,
                    0.07073045591957006,
                    3.506146740285044,
                    13.0001,
                ],
            ),
            (
                1.0,
                [
                    (1.0, 70.71421321062337, f, f),
                    (2.0, 1.9998000399905023, f, f),
                    (3.0, 3.181649114791983, true, f),
                    (-1.0, -1.2059275290116598, f, f),
                    (0.0, 0.0, f, f),
                    (-1.0, -1.2246785293758564, f, f),
                    (0.0, 0.0, f, true),
                    (-1.0, -1.0078882586901419, f, f),
                    (-2.0, -1.356799934012866, f, f),
                    (-3.0, -1.5900011053970133, true, f),
                    (1.0, 0.5073936996736852, f, f),
                    (0.0, 0.0, f, f),
                    (1.0, 0.5083416489099903, f, f),
                ],
                [-1.0, 0.23076745563495676, 3.8698008194625535, 13.0001],
            ),
        ];
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        for (gamma, want, [ret, mean, var, count]) in cases {
            let mut env =
                NormalizeReward::new(TimeLimit::new(Walk::new(3.0), 4), gamma, 1e-8).unwrap();
            let got = play(&mut env);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    g.0 == w.0 && close(g.1, w.1) && (g.2, g.3) == (w.2, w.3),
                    "{g:?} vs {w:?}"
                );
            }
            assert!(
                close(env.discounted_return(), ret),
                "{}",
                env.discounted_return()
            );
            assert!(close(env.mean(), mean) && close(env.var(), var) && close(env.count(), count));
        }
    }

    #[test]
    fn frozen_statistics_stay_and_restored_ones_replay() {
        let make = || NormalizeReward::new(TimeLimit::new(Walk::new(3.0), 4), 0.9, 1e-8).unwrap();
        let mut env = make();
        play(&mut env);
        let saved = (env.discounted_return(), env.mean(), env.var(), env.count());
        let ahead = play(&mut env);
        let mut again = make();
        again
            .set_statistics(saved.0, saved.1, saved.2, saved.3)
            .unwrap();
        assert_eq!(play(&mut again), ahead);
        again.set_training(false);
        let (mean, var, count) = (again.mean(), again.var(), again.count());
        let rows = play(&mut again);
        assert_eq!(
            (again.mean(), again.var(), again.count()),
            (mean, var, count)
        );
        assert!(rows.iter().all(|r| r.1 == r.0 / (var + 1e-8).sqrt()));
        assert!(!again.training());
    }

    #[test]
    fn bad_settings_are_one_line_errors() {
        let e = |g: f64, eps: f64| {
            NormalizeReward::new(Walk::new(1.0), g, eps)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(1.5, 1e-8),
            "invalid value 1.5 for `gamma`: expected a number in [0, 1]"
        );
        assert_eq!(
            e(f64::NAN, 1e-8),
            "invalid value NaN for `gamma`: expected a number in [0, 1]"
        );
        assert_eq!(
            e(0.9, 0.0),
            "invalid value 0 for `epsilon`: expected a finite number > 0"
        );
        let mut env = NormalizeReward::new(Walk::new(1.0), 0.9, 1e-8).unwrap();
        assert!(
            env.set_statistics(0.0, 0.0, -1.0, 1.0)
                .unwrap_err()
                .to_string()
                .contains("`var`")
        );
        assert!(
            env.set_statistics(0.0, 0.0, 1.0, 0.0)
                .unwrap_err()
                .to_string()
                .contains("`count`")
        );
        assert!(env.set_statistics(f64::NAN, 0.0, 1.0, 1.0).is_err());
        assert_eq!(
            (env.mean(), env.var(), env.count()),
            (0.0, 1.0, PRIOR_COUNT)
        );
        assert_eq!((env.gamma(), env.epsilon()), (0.9, 1e-8));
    }

    #[test]
    fn refuses_to_forward_the_rng_state_and_passes_the_checker() {
        let mut env = NormalizeReward::new(Walk::new(3.0), 0.99, 1e-8).unwrap();
        assert_eq!(env.rng_state(), None);
        let e = env.set_rng_state([1, 2, 3, 4]).unwrap_err().to_string();
        assert!(
            e.starts_with("Walk does not support set_rng_state under NormalizeReward"),
            "{e}"
        );
        check_env(
            || NormalizeReward::new(Walk::new(4.0), 0.99, 1e-8).unwrap(),
            3,
            200,
        )
        .unwrap();
    }
}
