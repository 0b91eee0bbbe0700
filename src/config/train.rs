//! `[train]`: the budget, the seeds, the evaluations.

use serde::{Deserialize, Serialize, Serializer};

use super::field;
use super::section::{self, Invalid, Read};
use super::source::Document;

/// How long each seed trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// This many episodes.
    Episodes(u64),
    /// This many env steps; an episode the budget cuts short is not recorded.
    Steps(u64),
}

/// `[train]`.
///
/// | key | default | valid |
/// |---|---|---|
/// | `episodes` or `steps` | one is required | ≥ 1 |
/// | `seeds` | `[0]` | a list of integers, or text as for `--seeds`: `"0..10"` (0 to 9), `"0,3,7"` |
/// | `eval_every` | 0 | ≥ 0, in the budget's unit (episodes or steps); 0 evaluates only at the end |
/// | `eval_episodes` | 100 | ≥ 1: episodes in each greedy evaluation |
/// | `max_steps_per_episode` | none | ≥ 1: a time limit under the env's own |
/// | `eval_max_steps` | 10000 | ≥ 1: the longest evaluation episode (greedy policies can loop forever) |
/// | `checkpoint_every` | 0 | ≥ 0 env steps: every run writes a checkpoint at the first episode end after every this many steps, for `qlab train --resume`; 0 never |
/// | `keep_best` | false | also save, in `seed_<k>/best/`, the agent of the evaluation with the highest mean return so far (ties keep the earlier), for `--agent best` |
/// | `stop_at` | none | a finite return: a seed ends at the first evaluation whose mean return is ≥ it (needs `eval_every` ≥ 1) |
/// | `start_state` | none | a state as `qlab rollout --state` takes it (a list of finite numbers): every training episode starts there (reset, then the state set), as Sutton & Barto's Example 5.4 does; evaluations start as the env does |
///
/// Every evaluation of a seed plays the same episode seeds, so evaluations compare policies on
/// the same luck and `qlab eval` reproduces the final one exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// The budget per seed.
    pub budget: Budget,
    /// The seeds, each an independent run.
    pub seeds: Vec<u64>,
    /// Evaluate every this many episodes or steps (the budget's unit); 0: only at the end.
    pub eval_every: u64,
    /// Episodes per evaluation.
    pub eval_episodes: u64,
    /// A time limit on training and evaluation episodes, under the env's own.
    pub max_steps_per_episode: Option<u64>,
    /// The longest evaluation episode.
    pub eval_max_steps: u64,
    /// Env steps between checkpoints; 0: none.
    pub checkpoint_every: u64,
    /// Whether to save the agent of the best evaluation so far, in `seed_<k>/best/`.
    pub keep_best: bool,
    /// End a seed at the first evaluation whose mean return reaches this.
    pub stop_at: Option<f64>,
    /// The state every training episode starts in, as [`Env::set_state`] takes it.
    ///
    /// [`Env::set_state`]: qlab_envs::Env::set_state
    pub start_state: Option<Vec<f64>>,
}

/// `[train]` as written: the budget is one of two keys. Its `Default` holds the section's
/// defaults; [`TrainSection::validate`] makes the [`TrainConfig`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TrainSection {
    #[serde(
        deserialize_with = "field::at_least::<1, _, _>",
        skip_serializing_if = "Option::is_none"
    )]
    episodes: Option<u64>,
    #[serde(
        deserialize_with = "field::at_least::<1, _, _>",
        skip_serializing_if = "Option::is_none"
    )]
    steps: Option<u64>,
    #[serde(
        deserialize_with = "field::seeds",
        serialize_with = "field::write_seeds"
    )]
    seeds: Vec<u64>,
    #[serde(deserialize_with = "field::at_least::<0, _, _>")]
    eval_every: u64,
    #[serde(deserialize_with = "field::at_least::<1, _, _>")]
    eval_episodes: u64,
    #[serde(
        deserialize_with = "field::at_least::<1, _, _>",
        skip_serializing_if = "Option::is_none"
    )]
    max_steps_per_episode: Option<u64>,
    #[serde(deserialize_with = "field::at_least::<1, _, _>")]
    eval_max_steps: u64,
    #[serde(
        deserialize_with = "field::at_least::<0, _, _>",
        skip_serializing_if = "is_zero"
    )]
    checkpoint_every: u64,
    #[serde(skip_serializing_if = "is_false")]
    keep_best: bool,
    #[serde(
        deserialize_with = "field::finite",
        skip_serializing_if = "Option::is_none"
    )]
    stop_at: Option<f64>,
    #[serde(
        deserialize_with = "field::state",
        skip_serializing_if = "Option::is_none"
    )]
    start_state: Option<Vec<f64>>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for TrainSection {
    fn default() -> Self {
        TrainSection {
            episodes: None,
            steps: None,
            seeds: vec![0],
            eval_every: 0,
            eval_episodes: 100,
            max_steps_per_episode: None,
            eval_max_steps: 10_000,
            checkpoint_every: 0,
            keep_best: false,
            stop_at: None,
            start_state: None,
        }
    }
}

impl TrainSection {
    /// The config, with its budget: exactly one of `episodes` and `steps`.
    fn validate(self) -> Result<TrainConfig, Invalid> {
        let budget = match (self.episodes, self.steps) {
            (Some(n), None) => Budget::Episodes(n),
            (None, Some(n)) => Budget::Steps(n),
            (None, None) => {
                return Err(Invalid::section(
                    "missing key: give the budget as `episodes` or `steps`",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Invalid::key(
                    "steps",
                    "give `episodes` or `steps`, not both",
                ));
            }
        };
        if self.stop_at.is_some() && self.eval_every == 0 {
            return Err(Invalid::key(
                "stop_at",
                "`stop_at` is checked at evaluations during training: set `eval_every` ≥ 1",
            ));
        }
        Ok(TrainConfig {
            budget,
            seeds: self.seeds,
            eval_every: self.eval_every,
            eval_episodes: self.eval_episodes,
            max_steps_per_episode: self.max_steps_per_episode,
            eval_max_steps: self.eval_max_steps,
            checkpoint_every: self.checkpoint_every,
            keep_best: self.keep_best,
            stop_at: self.stop_at,
            start_state: self.start_state,
        })
    }
}

impl From<&TrainConfig> for TrainSection {
    fn from(t: &TrainConfig) -> Self {
        let (episodes, steps) = match t.budget {
            Budget::Episodes(n) => (Some(n), None),
            Budget::Steps(n) => (None, Some(n)),
        };
        TrainSection {
            episodes,
            steps,
            seeds: t.seeds.clone(),
            eval_every: t.eval_every,
            eval_episodes: t.eval_episodes,
            max_steps_per_episode: t.max_steps_per_episode,
            eval_max_steps: t.eval_max_steps,
            checkpoint_every: t.checkpoint_every,
            keep_best: t.keep_best,
            stop_at: t.stop_at,
            start_state: t.start_state.clone(),
        }
    }
}

impl Serialize for TrainConfig {
    /// As the section is written: the budget as `episodes` or `steps`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TrainSection::from(self).serialize(s)
    }
}

/// Reads `[train]`, which is required.
pub(crate) fn read(doc: &Document) -> Read<TrainConfig> {
    let section: TrainSection = section::deserialize_required(
        doc,
        "train",
        "missing section: add [train] with `episodes` or `steps`",
    )?;
    section.validate().map_err(|e| e.at(doc, "train"))
}
