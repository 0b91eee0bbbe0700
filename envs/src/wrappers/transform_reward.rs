//! [`TransformReward`]: every reward passed through a function.

use super::{Wrapper, inner_env_in};
use crate::{Env, Error, Model, Result, Step};

/// A map of rewards, as [`TransformReward`] applies it: [`Affine`] (what a config can say), or
/// any closure `FnMut(f64) -> f64`.
pub trait RewardMap {
    /// The reward the agent sees for the env's `reward`.
    fn map(&mut self, reward: f64) -> f64;
}

impl<F: FnMut(f64) -> f64> RewardMap for F {
    #[inline]
    fn map(&mut self, reward: f64) -> f64 {
        self(reward)
    }
}

/// The fixed affine map `r ↦ scale · r + shift`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    /// Multiplies each reward.
    pub scale: f64,
    /// Added after the scaling.
    pub shift: f64,
}

impl RewardMap for Affine {
    #[inline]
    fn map(&mut self, reward: f64) -> f64 {
        self.scale * reward + self.shift
    }
}

/// Passes every reward of the env inside through a function — Gymnasium's `TransformReward`.
///
/// [`affine`](TransformReward::affine) builds the fixed map `scale · r + shift` (in `f64`,
/// the multiplication first); [`new`](TransformReward::new) takes any closure. Observations
/// and flags are the env's. There is no model (its rewards would be the env's). The RNG state
/// is the inner env's: a map that keeps state of its own across episodes (a closure counting
/// something) would break [`Env::rng_state`]'s promise, and is the caller's to avoid.
///
/// The [`Env`] contract wants finite rewards: the affine map's coefficients are checked to be
/// finite, and the map cannot overflow for the rewards of qlab's envs; a closure's results are
/// the caller's to keep finite.
///
/// ```
/// use qlab_envs::wrappers::{TransformReward, Wrapper};
/// use qlab_envs::{make, AnyEnv, Env, Params};
/// # fn main() -> qlab_envs::Result<()> {
/// let AnyEnv::Discrete(cliff) = make("CliffWalking-v1", &Params::new())? else { unreachable!() };
/// let mut env = TransformReward::affine(cliff, 0.5, 1.0)?;
/// env.reset(Some(0));
/// assert_eq!(env.step(0)?.reward, 0.5); // 0.5 · (−1) + 1
///
/// let mut env = TransformReward::new(env.into_inner(), |r: f64| r.max(-0.25));
/// env.reset(Some(0));
/// assert_eq!(env.step(0)?.reward, -0.25);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TransformReward<E, F = Affine> {
    env: E,
    map: F,
}

impl<E: Env, F: RewardMap> TransformReward<E, F> {
    /// Wraps `env`, passing each reward through `map`.
    pub fn new(env: E, map: F) -> Self {
        Self { env, map }
    }

    /// The map.
    pub fn map(&self) -> &F {
        &self.map
    }
}

impl<E: Env> TransformReward<E, Affine> {
    /// Wraps `env`, each reward `r` becoming `scale · r + shift`.
    ///
    /// Errors ([`Error::InvalidParam`]) if `scale` or `shift` is not finite.
    pub fn affine(env: E, scale: f64, shift: f64) -> Result<Self> {
        for (key, value) in [("scale", scale), ("shift", shift)] {
            if !value.is_finite() {
                return Err(Error::InvalidParam {
                    key: key.into(),
                    value: value.to_string(),
                    expected: "a finite number".into(),
                });
            }
        }
        Ok(Self::new(env, Affine { scale, shift }))
    }
}

impl<E: Env, F: RewardMap> Wrapper for TransformReward<E, F> {
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
        step.reward = this.map.map(step.reward);
        Ok(step)
    }

    // The model's rewards are the env's, not these.
    fn model(_: &Self) -> Option<&dyn Model> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_env;
    use crate::wrappers::test_envs::{Chain, Walk};

    #[test]
    fn maps_each_reward_and_nothing_else() {
        let mut plain = Walk::new(4.0);
        let mut env = TransformReward::affine(Walk::new(4.0), -2.0, 0.5).unwrap();
        plain.reset(Some(1));
        env.reset(Some(1));
        for a in [1, 1, 0, 1, 1, 1] {
            let (p, s) = (plain.step(a).unwrap(), env.step(a).unwrap());
            assert_eq!(s.reward, -2.0 * p.reward + 0.5);
            assert_eq!(
                (s.obs, s.terminated, s.truncated),
                (p.obs, p.terminated, p.truncated)
            );
            if p.done() {
                break;
            }
        }
        assert_eq!(
            *env.map(),
            Affine {
                scale: -2.0,
                shift: 0.5
            }
        );
    }

    #[test]
    fn a_closure_keeps_its_state() {
        let mut seen = 0;
        let mut env = TransformReward::new(Chain::new(3), |r: f64| {
            seen += 1;
            r * seen as f64
        });
        env.reset(Some(0));
        let rewards: Vec<f64> = (0..3).map(|_| env.step(1).unwrap().reward).collect();
        assert_eq!(rewards, [2.0, 4.0, 6.0]);
    }

    #[test]
    fn coefficients_must_be_finite() {
        let e = TransformReward::affine(Chain::new(2), f64::NAN, 0.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value NaN for `scale`: expected a finite number"
        );
        let e = TransformReward::affine(Chain::new(2), 1.0, f64::INFINITY).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value inf for `shift`: expected a finite number"
        );
    }

    #[test]
    fn passes_the_checker() {
        check_env(
            || TransformReward::affine(Walk::new(5.0), 0.1, -1.0).unwrap(),
            3,
            200,
        )
        .unwrap();
    }
}
