//! Wrappers: envs built around other envs, each doing one thing.
//!
//! Every wrapper implements [`Wrapper`] — what it changes, with everything else forwarded to the
//! env inside — and is therefore an [`Env`](crate::Env), so they stack:
//! `EpisodeStats::new(TimeLimit::new(env, 500))`. [`Wrapper`] gives each `inner()`,
//! `inner_mut()` and `into_inner()`. Actions pass through unchanged, discrete or Box.
//!
//! The table's last column says whether a wrapper forwards the inner env's exact model and
//! RNG state ([`Env::model`](crate::Env::model), [`Env::rng_state`](crate::Env::rng_state)).
//!
//! | wrapper | observation | what it does | Gymnasium | model, RNG state |
//! |---|---|---|---|---|
//! | [`TimeLimit`] | unchanged | truncates episodes after a number of steps | `TimeLimit` | both |
//! | [`EpisodeStats`] | unchanged | puts each finished episode's return and length in `info.episode` | `RecordEpisodeStatistics` | both |
//! | [`Discretize`] | `usize` | uniform bins per dimension, one state index | `DiscretizeObservation` | RNG state |
//! | [`TileCoding`] | [`Tiles`] | active features of offset tilings, hashed (Sutton & Barto §9.5) | — | RNG state |
//! | [`NormalizeObservation`] | unchanged | running mean/variance normalization | `NormalizeObservation` | neither (its statistics cross episodes) |
//! | [`ObservationHistory`] | `Vec<f32>` | the last `k` observations, oldest first | `FrameStackObservation` | RNG state |
//! | [`OneHot`] | `Vec<f32>` | a state index as a one-hot vector | — | both |

mod checks;
mod discretize;
mod episode_stats;
mod history;
mod normalize;
mod one_hot;
mod tile_coding;
mod time_limit;
mod wrapper;

pub use discretize::Discretize;
pub use episode_stats::EpisodeStats;
pub use history::ObservationHistory;
pub use normalize::NormalizeObservation;
pub use one_hot::OneHot;
pub use tile_coding::{MAX_TILINGS, TileCoding, Tiles};
pub use time_limit::TimeLimit;
pub(crate) use wrapper::inner_env_in;
pub use wrapper::{InnerAction, InnerObs, Wrapper};

#[cfg(test)]
pub(crate) mod test_envs;
