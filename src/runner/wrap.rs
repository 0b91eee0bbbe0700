//! `[wrappers]` applied to a registered env: Gymnasium's action, reward and observation
//! wrappers around the type-erased env `make` builds.

use qlab_envs::AnyEnv;
use qlab_envs::wrappers::{
    ClipAction, DiscretizeAction, FrameStackObservation, NormalizeReward, RescaleAction,
    TransformReward,
};

use crate::config::WrappersConfig;

/// A wrapper that cannot wrap the env: the `[wrappers]` key that asked for it, and why.
#[derive(Debug)]
pub struct WrapError {
    /// The `[wrappers]` key.
    pub key: &'static str,
    /// What is wrong, in one line.
    pub message: String,
}

impl std::fmt::Display for WrapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WrapError {}

/// The error of wrapper `key` failing with the env's `error`.
fn failed(key: &'static str) -> impl FnOnce(qlab_envs::Error) -> WrapError {
    move |e| WrapError {
        key,
        message: format!("`{key}`: {e}"),
    }
}

/// `key` asks for Box actions and `env` has discrete ones.
fn needs_box_actions(key: &'static str, env: &AnyEnv) -> WrapError {
    WrapError {
        key,
        message: format!(
            "`{key}` needs Box (continuous) actions; {} has {}",
            env.name(),
            env.action_space()
        ),
    }
}

/// Wraps one type-erased env of any kind in the same wrapper, keeping its kind.
macro_rules! each {
    ($env:expr, |$e:ident| $wrap:expr) => {
        match $env {
            AnyEnv::Discrete($e) => AnyEnv::Discrete(Box::new($wrap)),
            AnyEnv::Vector($e) => AnyEnv::Vector(Box::new($wrap)),
            AnyEnv::Continuous($e) => AnyEnv::Continuous(Box::new($wrap)),
        }
    };
}

/// `env` in the wrappers `config` asks for, the first of [`WrappersConfig`]'s table innermost.
/// With none asked for, `env` itself.
pub fn apply(env: AnyEnv, config: &WrappersConfig) -> Result<AnyEnv, WrapError> {
    let mut env = env;
    if let Some((min, max)) = config.rescale_action {
        const KEY: &str = "rescale_action";
        env = match env {
            AnyEnv::Continuous(e) => AnyEnv::Continuous(Box::new(
                RescaleAction::new(e, min as f32, max as f32).map_err(failed(KEY))?,
            )),
            other => return Err(needs_box_actions(KEY, &other)),
        };
    }
    if config.clip_action {
        const KEY: &str = "clip_action";
        env = match env {
            AnyEnv::Continuous(e) => {
                AnyEnv::Continuous(Box::new(ClipAction::new(e).map_err(failed(KEY))?))
            }
            other => return Err(needs_box_actions(KEY, &other)),
        };
    }
    if let Some(n) = config.discretize_action {
        const KEY: &str = "discretize_action";
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        env = match env {
            AnyEnv::Continuous(e) => {
                AnyEnv::Vector(Box::new(DiscretizeAction::new(e, n).map_err(failed(KEY))?))
            }
            other => return Err(needs_box_actions(KEY, &other)),
        };
    }
    if config.transforms_reward() {
        let (scale, shift) = (config.reward_scale, config.reward_shift);
        // Finite, as the config checked: the wrapper cannot refuse them.
        env = each!(env, |e| TransformReward::affine(e, scale, shift)
            .map_err(failed("reward_scale"))?);
    }
    if config.normalize_reward {
        let (gamma, epsilon) = (
            config.normalize_reward_gamma,
            config.normalize_reward_epsilon,
        );
        env = each!(env, |e| NormalizeReward::new(e, gamma, epsilon)
            .map_err(failed("normalize_reward"))?);
    }
    if let Some(k) = config.frame_stack {
        const KEY: &str = "frame_stack";
        let k = usize::try_from(k).unwrap_or(usize::MAX);
        let padding = config.frame_stack_padding;
        env = match env {
            AnyEnv::Vector(e) => AnyEnv::Vector(Box::new(
                FrameStackObservation::with_padding(e, k, padding).map_err(failed(KEY))?,
            )),
            AnyEnv::Continuous(e) => AnyEnv::Continuous(Box::new(
                FrameStackObservation::with_padding(e, k, padding).map_err(failed(KEY))?,
            )),
            AnyEnv::Discrete(e) => {
                return Err(WrapError {
                    key: KEY,
                    message: format!(
                        "`{KEY}` stacks Box observations; {} observes {}, a state index",
                        e.name(),
                        e.observation_space()
                    ),
                });
            }
        };
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qlab_envs::{Env, Params, Space};

    fn make(id: &str) -> AnyEnv {
        qlab_envs::make(id, &Params::new()).unwrap()
    }

    #[test]
    fn no_wrappers_is_the_env_itself() {
        let env = apply(make("CartPole-v1"), &WrappersConfig::default()).unwrap();
        assert!(matches!(env, AnyEnv::Vector(_)));
        assert_eq!(env.name(), "CartPole-v1");
    }

    #[test]
    fn discretized_point_mass_has_discrete_actions_at_bin_centres_rescaled() {
        let config = WrappersConfig {
            rescale_action: Some((-2.0, 2.0)),
            discretize_action: Some(5),
            reward_scale: 10.0,
            reward_shift: 1.0,
            frame_stack: Some(2),
            ..WrappersConfig::default()
        };
        let AnyEnv::Vector(mut env) = apply(make("PointMass-v0"), &config).unwrap() else {
            panic!("discrete actions over a box observation");
        };
        assert_eq!(*env.action_space(), Space::discrete(5));
        assert_eq!(env.observation_space().as_box().unwrap().shape(), [2, 2]);
        env.reset(Some(0));
        env.set_state(&[0.0, 0.0]).unwrap();
        // Action 4: the last bin's centre, 1.6 of [-2, 2] ↦ a force of 0.8 N; reward
        // 10 · −x² + 1.
        let s = env.step(4).unwrap();
        assert_eq!(&s.obs[2..], [0.008, 0.08]);
        // The position is 0.008 up to the f32 rounding of the rescaled force.
        assert!(
            (s.reward - (10.0 * -(0.008f64.powi(2)) + 1.0)).abs() < 1e-9,
            "{}",
            s.reward
        );
        qlab_envs::check_env(
            || match apply(make("PointMass-v0"), &config).unwrap() {
                AnyEnv::Vector(e) => e,
                _ => unreachable!(),
            },
            3,
            300,
        )
        .unwrap();
    }

    #[test]
    fn a_wrapper_that_does_not_fit_names_its_key_and_the_env() {
        for (config, key, message) in [
            (
                WrappersConfig {
                    clip_action: true,
                    ..WrappersConfig::default()
                },
                "clip_action",
                "`clip_action` needs Box (continuous) actions; CartPole-v1 has Discrete(2)",
            ),
            (
                WrappersConfig {
                    discretize_action: Some(3),
                    ..WrappersConfig::default()
                },
                "discretize_action",
                "`discretize_action` needs Box (continuous) actions; CartPole-v1 has Discrete(2)",
            ),
        ] {
            let e = apply(make("CartPole-v1"), &config).err().unwrap();
            assert_eq!((e.key, e.to_string().as_str()), (key, message));
        }
        let stack = WrappersConfig {
            frame_stack: Some(3),
            ..WrappersConfig::default()
        };
        let e = apply(make("FrozenLake-v1"), &stack).err().unwrap();
        assert_eq!(
            e.to_string(),
            "`frame_stack` stacks Box observations; FrozenLake-v1 observes Discrete(16), a \
             state index"
        );
        let wide = WrappersConfig {
            discretize_action: Some(u64::MAX),
            ..WrappersConfig::default()
        };
        let e = apply(make("PointMass-v0"), &wide).err().unwrap();
        assert_eq!(e.key, "discretize_action");
        assert!(
            e.to_string()
                .starts_with("`discretize_action`: invalid value"),
            "{e}"
        );
    }
}
