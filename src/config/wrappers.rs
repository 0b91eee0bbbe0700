//! `[wrappers]`: Gymnasium's action, reward and observation wrappers around the env.

use qlab_envs::wrappers::Padding;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::field::{self, show};
use super::section::{self, Invalid, Read};
use super::source::Document;

/// `[wrappers]` (optional): wrappers put around the env, as Gymnasium's of the same names.
///
/// | key | default | valid | wrapper |
/// |---|---|---|---|
/// | `rescale_action` | none | `[min, max]`, finite, `min < max` | [`RescaleAction`](qlab_envs::wrappers::RescaleAction): the agent acts in `[min, max]` |
/// | `clip_action` | false | a boolean | [`ClipAction`](qlab_envs::wrappers::ClipAction) |
/// | `discretize_action` | none | an integer ≥ 1 | [`DiscretizeAction`](qlab_envs::wrappers::DiscretizeAction): that many bins per action element, each action the centre of one (as Gymnasium's `bins`) |
/// | `reward_scale` | 1 | a finite number | [`TransformReward`](qlab_envs::wrappers::TransformReward): `reward_scale · r + reward_shift` |
/// | `reward_shift` | 0 | a finite number | (the same) |
/// | `normalize_reward` | false | a boolean | [`NormalizeReward`](qlab_envs::wrappers::NormalizeReward) |
/// | `normalize_reward_gamma` | 0.99 | a number in `[0, 1]` | its `gamma` |
/// | `normalize_reward_epsilon` | 1e-8 | a finite number > 0 | its `epsilon` |
/// | `frame_stack` | none | an integer ≥ 1 | [`FrameStackObservation`](qlab_envs::wrappers::FrameStackObservation): the last that many observations |
/// | `frame_stack_padding` | `"reset"` | `"reset"` or `"zero"` | its `padding_type` |
///
/// They wrap the registered env (inside its own time limit) in the order of the table, the
/// first innermost: the actions the agent chooses go through `discretize_action`, then
/// `clip_action`, then `rescale_action` to the env; the env's reward through `reward_scale`
/// and `reward_shift`, then `normalize_reward`. `[train] max_steps_per_episode` is outside
/// them all, as always. `clip_action` and `discretize_action` exclude each other (a grid
/// point is always inside the bounds).
///
/// The returns a run records are of the rewards the agent sees, after `reward_scale`,
/// `reward_shift` and `normalize_reward`. With the section absent (or at its defaults) the env
/// is exactly what it was without it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WrappersConfig {
    /// `[min, max]`: the agent's action range, mapped onto the env's bounds.
    #[serde(deserialize_with = "range", skip_serializing_if = "Option::is_none")]
    pub rescale_action: Option<(f64, f64)>,
    /// Clip actions to the bounds.
    pub clip_action: bool,
    /// Values per action element of a grid of discrete actions.
    #[serde(
        deserialize_with = "field::at_least::<1, _, _>",
        skip_serializing_if = "Option::is_none"
    )]
    pub discretize_action: Option<u64>,
    /// Multiplies each reward.
    #[serde(deserialize_with = "finite")]
    pub reward_scale: f64,
    /// Added to each reward after the scaling.
    #[serde(deserialize_with = "finite")]
    pub reward_shift: f64,
    /// Normalize rewards by the running spread of the discounted return.
    pub normalize_reward: bool,
    /// The discount of that return.
    #[serde(deserialize_with = "finite")]
    pub normalize_reward_gamma: f64,
    /// Added to the variance under the square root.
    #[serde(deserialize_with = "finite")]
    pub normalize_reward_epsilon: f64,
    /// Observations stacked.
    #[serde(
        deserialize_with = "field::at_least::<1, _, _>",
        skip_serializing_if = "Option::is_none"
    )]
    pub frame_stack: Option<u64>,
    /// What pads a stack after a reset.
    #[serde(deserialize_with = "padding", serialize_with = "write_padding")]
    pub frame_stack_padding: Padding,
}

impl Default for WrappersConfig {
    /// No wrapper; the defaults of the table above.
    fn default() -> Self {
        WrappersConfig {
            rescale_action: None,
            clip_action: false,
            discretize_action: None,
            reward_scale: 1.0,
            reward_shift: 0.0,
            normalize_reward: false,
            normalize_reward_gamma: 0.99,
            normalize_reward_epsilon: 1e-8,
            frame_stack: None,
            frame_stack_padding: Padding::Reset,
        }
    }
}

impl WrappersConfig {
    /// Whether no wrapper is asked for (the section absent, or at its defaults): the resolved
    /// config then leaves the section out.
    pub fn is_none(&self) -> bool {
        *self == WrappersConfig::default()
    }

    /// Whether `reward_scale` or `reward_shift` asks for a [`TransformReward`](qlab_envs::wrappers::TransformReward).
    pub fn transforms_reward(&self) -> bool {
        self.reward_scale != 1.0 || self.reward_shift != 0.0
    }

    /// Checks what one key cannot say alone.
    fn validate(self) -> Result<WrappersConfig, Invalid> {
        if self.clip_action && self.discretize_action.is_some() {
            return Err(Invalid::key(
                "clip_action",
                "`clip_action` and `discretize_action` exclude each other: every action of \
                 the grid is inside the bounds; remove `clip_action`",
            ));
        }
        let gamma = self.normalize_reward_gamma;
        if !(0.0..=1.0).contains(&gamma) {
            return Err(Invalid::key(
                "normalize_reward_gamma",
                format!("`normalize_reward_gamma` must be a number in [0, 1], got {gamma}"),
            ));
        }
        let epsilon = self.normalize_reward_epsilon;
        if epsilon <= 0.0 {
            return Err(Invalid::key(
                "normalize_reward_epsilon",
                format!("`normalize_reward_epsilon` must be a finite number > 0, got {epsilon}"),
            ));
        }
        Ok(self)
    }
}

/// Reads `[wrappers]`: the defaults (no wrapper) when the section is absent.
pub(crate) fn read(doc: &Document) -> Read<WrappersConfig> {
    let wrappers: WrappersConfig = section::deserialize(doc, "wrappers", None)?;
    wrappers.validate().map_err(|e| e.at(doc, "wrappers"))
}

/// A finite number, integer or float.
fn finite<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    field::finite(d)?.ok_or_else(|| D::Error::custom("must be a finite number"))
}

/// `[min, max]`: two finite numbers, `min < max`.
fn range<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(f64, f64)>, D::Error> {
    let v = toml::Value::deserialize(d)?;
    let number = |x: &toml::Value| match x {
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    };
    match &v {
        toml::Value::Array(items) if items.len() == 2 => {
            match (number(&items[0]), number(&items[1])) {
                (Some(min), Some(max)) if min < max => Ok(Some((min, max))),
                _ => Err(wrong_range(&v)),
            }
        }
        _ => Err(wrong_range(&v)),
    }
}

fn wrong_range<E: serde::de::Error>(v: &toml::Value) -> E {
    E::custom(format!(
        "must be two finite numbers `[min, max]` with min < max, got {}",
        show(v)
    ))
}

/// `"reset"` or `"zero"`.
fn padding<'de, D: Deserializer<'de>>(d: D) -> Result<Padding, D::Error> {
    let v = toml::Value::deserialize(d)?;
    v.as_str().and_then(Padding::from_name).ok_or_else(|| {
        let names: Vec<String> = Padding::NAMES.iter().map(|n| format!("\"{n}\"")).collect();
        D::Error::custom(format!("must be {}, got {}", names.join(" or "), show(&v)))
    })
}

fn write_padding<S: Serializer>(p: &Padding, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name())
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    const BASE: &str =
        "[env]\nid = 'PointMass-v0'\n[agent]\nalgorithm = 'dqn'\n[train]\nsteps = 1\n[wrappers]\n";

    fn parse(keys: &str) -> anyhow::Result<Config> {
        Config::parse("c.toml", &format!("{BASE}{keys}"), &[])
    }

    #[test]
    fn reads_every_key_and_writes_it_back() {
        let c = parse(
            "rescale_action = [-2, 2.5]\ndiscretize_action = 7\nreward_scale = 0.5\n\
             reward_shift = -1\nnormalize_reward = true\nnormalize_reward_gamma = 0.9\n\
             frame_stack = 4\nframe_stack_padding = 'zero'\n",
        )
        .unwrap();
        assert_eq!(
            c.wrappers,
            WrappersConfig {
                rescale_action: Some((-2.0, 2.5)),
                clip_action: false,
                discretize_action: Some(7),
                reward_scale: 0.5,
                reward_shift: -1.0,
                normalize_reward: true,
                normalize_reward_gamma: 0.9,
                normalize_reward_epsilon: 1e-8,
                frame_stack: Some(4),
                frame_stack_padding: Padding::Zero,
            }
        );
        assert!(c.wrappers.transforms_reward());
        let resolved = c.to_toml();
        assert!(
            resolved.contains("frame_stack_padding = \"zero\""),
            "{resolved}"
        );
        let again = Config::parse("again.toml", &resolved, &[]).unwrap();
        assert_eq!(again.wrappers, c.wrappers);
        assert_eq!(again.to_toml(), resolved);
    }

    #[test]
    fn an_absent_or_default_section_is_not_written() {
        let c = parse("").unwrap();
        assert!(c.wrappers.is_none() && !c.wrappers.transforms_reward());
        assert!(!c.to_toml().contains("[wrappers]"));
        let c = parse("clip_action = false\nreward_scale = 1\n").unwrap();
        assert!(!c.to_toml().contains("[wrappers]"));
    }

    #[test]
    fn bad_values_are_one_line_errors_at_their_key() {
        for (keys, want) in [
            (
                "rescale_action = [1, -1]",
                "c.toml:8: [wrappers] `rescale_action` must be two finite numbers `[min, max]` \
                 with min < max, got [1, -1]",
            ),
            (
                "rescale_action = 3",
                "c.toml:8: [wrappers] `rescale_action` must be two finite numbers `[min, max]` \
                 with min < max, got 3",
            ),
            (
                "discretize_action = 0",
                "c.toml:8: [wrappers] `discretize_action` must be an integer ≥ 1, got 0",
            ),
            (
                "frame_stack = 0",
                "c.toml:8: [wrappers] `frame_stack` must be an integer ≥ 1, got 0",
            ),
            (
                "frame_stack_padding = 'zeros'",
                "c.toml:8: [wrappers] `frame_stack_padding` must be \"reset\" or \"zero\", got \
                 \"zeros\"",
            ),
            (
                "reward_scale = nan",
                "c.toml:8: [wrappers] `reward_scale` must be a finite number, got nan",
            ),
            (
                "normalize_reward_gamma = 1.5",
                "c.toml:8: [wrappers] `normalize_reward_gamma` must be a number in [0, 1], got 1.5",
            ),
            (
                "normalize_reward_epsilon = 0",
                "c.toml:8: [wrappers] `normalize_reward_epsilon` must be a finite number > 0, \
                 got 0",
            ),
            (
                "clip_action = true\ndiscretize_action = 3",
                "c.toml:8: [wrappers] `clip_action` and `discretize_action` exclude each other: \
                 every action of the grid is inside the bounds; remove `clip_action`",
            ),
            (
                "clip = true",
                "c.toml:8: [wrappers] unknown key `clip`; allowed: rescale_action, clip_action, \
                 discretize_action, reward_scale, reward_shift, normalize_reward, \
                 normalize_reward_gamma, normalize_reward_epsilon, frame_stack, \
                 frame_stack_padding",
            ),
        ] {
            assert_eq!(parse(keys).unwrap_err().to_string(), want, "{keys}");
        }
    }
}
