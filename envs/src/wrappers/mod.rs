//! Wrappers: envs built around other envs, each doing one thing.
//!
//! Every wrapper implements [`Wrapper`] — what it changes, with everything else forwarded to the
//! env inside — and is therefore an [`Env`](crate::Env), so they stack:
//! `EpisodeStats::new(TimeLimit::new(env, 500))`. [`Wrapper`] gives each `inner()`,
//! `inner_mut()` and `into_inner()`. A wrapper keeps the action type: [`ClipAction`] and
//! [`RescaleAction`] change the Box action space but not the type, and
//! [`DiscretizeAction`], which turns Box actions into indices, is an [`Env`](crate::Env) of
//! its own with the same accessors.
//!
//! The table's last column says whether a wrapper forwards the inner env's exact model and
//! RNG state ([`Env::model`](crate::Env::model), [`Env::rng_state`](crate::Env::rng_state)).
//!
//! | wrapper | observation | what it does | Gymnasium | model, RNG state |
//! |---|---|---|---|---|
//! | [`ClipAction`] | unchanged | clips Box actions to the env's bounds | `ClipAction` | both |
//! | [`RescaleAction`] | unchanged | maps Box actions in `[min, max]` affinely onto the env's bounds | `RescaleAction` | both |
//! | [`DiscretizeAction`] | unchanged | a grid of Box actions as `Discrete(n)`, ends included | `DiscretizeAction` (bin centres) | RNG state |
//! | [`TransformReward`] | unchanged | every reward through a function (`scale · r + shift`, or a closure) | `TransformReward` | RNG state |
//! | [`NormalizeReward`] | unchanged | rewards over the running spread of the discounted return | `NormalizeReward` | neither (its statistics cross episodes) |
//! | [`TimeLimit`] | unchanged | truncates episodes after a number of steps | `TimeLimit` | both |
//! | [`EpisodeStats`] | unchanged | puts each finished episode's return and length in `info.episode` | `RecordEpisodeStatistics` | both |
//! | [`Discretize`] | `usize` | uniform bins per dimension, one state index | `DiscretizeObservation` | RNG state |
//! | [`TileCoding`] | [`Tiles`] | active features of offset tilings, hashed (Sutton & Barto §9.5) | — | RNG state |
//! | [`NormalizeObservation`] | unchanged | running mean/variance normalization | `NormalizeObservation` | neither (its statistics cross episodes) |
//! | [`FrameStackObservation`] | `Vec<f32>` | the last `k` observations, oldest first, padded "reset" or "zero" | `FrameStackObservation` | RNG state |
//! | [`OneHot`] | `Vec<f32>` | a state index as a one-hot vector | — | both |

mod checks;
mod clip_action;
mod discretize;
mod discretize_action;
mod episode_stats;
mod frame_stack;
mod normalize;
mod normalize_reward;
mod one_hot;
mod rescale_action;
mod tile_coding;
mod time_limit;
mod transform_reward;
mod wrapper;

pub use clip_action::ClipAction;
pub use discretize::Discretize;
pub use discretize_action::{DiscretizeAction, MAX_ACTIONS};
pub use episode_stats::EpisodeStats;
pub use frame_stack::{FrameStackObservation, ObservationHistory, Padding};
pub use normalize::NormalizeObservation;
pub use normalize_reward::NormalizeReward;
pub use one_hot::OneHot;
pub use rescale_action::RescaleAction;
pub use tile_coding::{MAX_TILINGS, TileCoding, Tiles};
pub use time_limit::TimeLimit;
pub use transform_reward::{Affine, RewardMap, TransformReward};
pub(crate) use wrapper::inner_env_in;
pub use wrapper::{InnerAction, InnerObs, Wrapper};

#[cfg(test)]
pub(crate) mod test_envs;
