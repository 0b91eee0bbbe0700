//! Experiment configs: one TOML file describes one experiment.
//!
//! ```toml
//! [env]                      # the env: its id and its parameters (see `qlab envs`)
//! id = "CliffWalking-v1"
//!
//! [agent]                    # the algorithm and its hyperparameters
//! algorithm = "sarsa"
//! alpha = 0.5
//! epsilon = 0.1
//! gamma = 1.0
//!
//! [train]                    # the budget, the seeds, the evaluations
//! episodes = 500
//! seeds = "0..50"
//! eval_every = 100
//! eval_episodes = 10
//!
//! [output]                   # where the run directory goes
//! dir = "runs"
//! ```
//!
//! Sections, and the keys each takes:
//!
//! - `[env]`: `id` (required), then the env's own parameters, passed to [`qlab_envs::make`];
//!   an unknown parameter is reported with the list the env takes.
//! - `[wrappers]` (optional): Gymnasium's action, reward and observation wrappers around the
//!   env (`rescale_action`, `clip_action`, `discretize_action`, `reward_scale`,
//!   `normalize_reward`, `frame_stack`, …); see [`WrappersConfig`].
//! - `[features]` (optional): how a box observation becomes the active features the agents
//!   see; see [`Features`]. Discrete-state envs need none: their state index is the feature.
//! - `[agent]`: `algorithm` and its hyperparameters.
//! - `[train]`: see [`TrainConfig`].
//! - `[output]`: see [`OutputConfig`].
//!
//! Each section is read by serde into its type (unknown keys refused, the defaults in the
//! type's `Default`), then checked by that type's `validate`; the resolved config a run
//! writes ([`Config::to_toml`]) is the same types serialized, and reads back the same.
//!
//! Unknown sections and keys, wrong types and out-of-range values are errors of one line that
//! name the file, the line and the key, and say what is allowed. `--set SECTION.KEY=VALUE`
//! overrides are checked the same way and named by the flag. Nothing runs until the whole
//! config is valid.

mod agent;
mod env;
mod features;
mod field;
mod output;
mod section;
pub mod source;
mod train;
mod wrappers;

use anyhow::{Context, Result};
use serde::Serialize;

pub(crate) use agent::agent_error;
pub use env::EnvConfig;
pub use features::{Bounds, DiscretizeConfig, Features, TileCodingConfig};
pub use output::OutputConfig;
pub use qlab_agents::AgentConfig;
use section::Read;
pub use source::{ConfigError, Document, Origin};
pub use train::{Budget, TrainConfig};
pub use wrappers::WrappersConfig;

/// The sections a config may have, in the order they are written.
pub const SECTIONS: [&str; 6] = ["env", "wrappers", "features", "agent", "train", "output"];

/// A whole experiment, validated.
#[derive(Clone, Debug)]
pub struct Config {
    /// The document it was read from (for errors found later, e.g. when the env is built).
    pub doc: Document,
    /// `[env]`.
    pub env: EnvConfig,
    /// `[wrappers]`.
    pub wrappers: WrappersConfig,
    /// `[features]`.
    pub features: Features,
    /// `[agent]`.
    pub agent: AgentConfig,
    /// `[train]`.
    pub train: TrainConfig,
    /// `[output]`.
    pub output: OutputConfig,
}

/// The sections of a [`Config`] as the resolved `config.toml` holds them.
#[derive(Serialize)]
struct Resolved<'a> {
    env: &'a EnvConfig,
    #[serde(skip_serializing_if = "WrappersConfig::is_none")]
    wrappers: &'a WrappersConfig,
    #[serde(skip_serializing_if = "Features::is_state")]
    features: &'a Features,
    agent: &'a AgentConfig,
    train: &'a TrainConfig,
    output: &'a OutputConfig,
}

impl Config {
    /// Reads `path`, applies `--set` overrides and validates every section. (Whether the env
    /// can be built with its parameters and features is checked by
    /// [`Experiment::new`](crate::runner::Experiment::new).)
    pub fn load(path: &str, sets: &[String]) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| path.to_string())?;
        Self::parse(path, &text, sets)
    }

    /// Like [`Config::load`] from text; `file` names it in errors.
    pub fn parse(file: &str, text: &str, sets: &[String]) -> Result<Config> {
        let mut doc = Document::parse(file, text)?;
        for flag in sets {
            doc.set(flag)?;
        }
        Ok(Self::from_document(doc)?)
    }

    fn from_document(doc: Document) -> Read<Config> {
        for s in &doc.sections {
            if !SECTIONS.contains(&s.name.as_str()) {
                return Err(doc.error_at(
                    &s.origin,
                    &s.name,
                    format!(
                        "unknown section; allowed: {}",
                        SECTIONS
                            .iter()
                            .map(|s| format!("[{s}]"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(Config {
            env: env::read(&doc)?,
            wrappers: wrappers::read(&doc)?,
            features: features::read(&doc)?,
            agent: agent::read(&doc)?,
            train: train::read(&doc)?,
            output: output::read(&doc)?,
            doc,
        })
    }

    /// An error about `key` of `section`, pointing at where it was written.
    pub fn error(
        &self,
        section: &str,
        key: Option<&str>,
        message: impl std::fmt::Display,
    ) -> ConfigError {
        self.doc.error(section, key, message)
    }

    /// Replaces the budget (as `qlab bench --config … --steps N` does).
    pub fn set_budget(&mut self, budget: Budget) {
        self.train.budget = budget;
    }

    /// Applies `--seeds` (replacing `[train] seeds`).
    pub fn set_seeds(&mut self, seeds: Vec<u64>) {
        self.train.seeds = seeds;
    }

    /// The resolved config as TOML: the sections serialized, every default filled in (the
    /// env's parameters as given), the seeds as a list. Reading it back gives the same
    /// experiment.
    pub fn to_toml(&self) -> String {
        let resolved = Resolved {
            env: &self.env,
            wrappers: &self.wrappers,
            features: &self.features,
            agent: &self.agent,
            train: &self.train,
            output: &self.output,
        };
        // Every value of a config was read from TOML, and the seeds past TOML's integers are
        // written as text, so it serializes.
        toml::to_string(&resolved).expect("a config serializes to TOML")
    }
}

/// The most seeds one run takes. Each seed is a directory of the run with its records; past
/// this many, a run is a mistake (`0..100000000` for `0..100`) rather than an experiment.
pub const MAX_SEEDS: usize = 100_000;

/// Parses seeds as `--seeds` takes them: `A..B` (A to B − 1), `A,B,C`, or one `A`; at most
/// [`MAX_SEEDS`] of them, each listed once.
///
/// ```
/// use qlab::config::parse_seeds;
/// assert_eq!(parse_seeds("0..3").unwrap(), [0, 1, 2]);
/// assert_eq!(parse_seeds("0,3,7").unwrap(), [0, 3, 7]);
/// assert_eq!(parse_seeds("5").unwrap(), [5]);
/// assert!(parse_seeds("3..3").is_err());
/// assert!(parse_seeds("0..100000000").is_err());
/// ```
pub fn parse_seeds(text: &str) -> std::result::Result<Vec<u64>, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{}` is not a seed (an integer ≥ 0)", s.trim()))
    };
    if let Some((a, b)) = text.split_once("..") {
        let (a, b) = (number(a)?, number(b)?);
        if a >= b {
            return Err(format!(
                "the range {a}..{b} is empty; `A..B` means seeds A to B − 1"
            ));
        }
        // Counted before anything is allocated; a range's seeds are distinct.
        if b - a > MAX_SEEDS as u64 {
            return Err(format!(
                "the range {a}..{b} holds {} seeds; a run takes at most {MAX_SEEDS}",
                b - a
            ));
        }
        return Ok((a..b).collect());
    }
    let seeds = text
        .split(',')
        .map(number)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    check_unique(&seeds)?;
    Ok(seeds)
}

/// At most [`MAX_SEEDS`] seeds, none listed twice (in one pass over them).
fn check_unique(seeds: &[u64]) -> std::result::Result<(), String> {
    if seeds.len() > MAX_SEEDS {
        return Err(format!(
            "{} seeds listed; a run takes at most {MAX_SEEDS}",
            seeds.len()
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(seeds.len());
    for s in seeds {
        if !seen.insert(s) {
            return Err(format!("seed {s} is listed twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const CLIFF: &str = "\
[env]
id = \"CliffWalking-v1\"

[agent]
algorithm = \"q_learning\"
alpha = 0.5

[train]
episodes = 500
seeds = \"0..3\"
eval_every = 100
";

    fn parse(text: &str, sets: &[&str]) -> Result<Config> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Config::parse("c.toml", text, &sets)
    }

    fn err(text: &str, sets: &[&str]) -> String {
        parse(text, sets).unwrap_err().to_string()
    }

    #[test]
    fn reads_sections_with_defaults() {
        let c = parse(CLIFF, &[]).unwrap();
        assert_eq!(c.env.id, "CliffWalking-v1");
        assert!(c.env.params.is_empty());
        assert_eq!(c.features, Features::State);
        assert_eq!(
            c.train,
            TrainConfig {
                budget: Budget::Episodes(500),
                seeds: vec![0, 1, 2],
                eval_every: 100,
                eval_episodes: 100,
                max_steps_per_episode: None,
                eval_max_steps: 10_000,
                checkpoint_every: 0,
                keep_best: false,
                stop_at: None,
                start_state: None,
            }
        );
        assert_eq!(c.output.dir, PathBuf::from("runs"));
        assert_eq!(c.output.window, 100);
    }

    #[test]
    fn overrides_apply_before_validation() {
        let c = parse(CLIFF, &["train.episodes=3", "env.is_slippery=true"]).unwrap();
        assert_eq!(c.train.budget, Budget::Episodes(3));
        assert_eq!(c.env.params.bool("is_slippery").unwrap(), Some(true));
        let c = parse(CLIFF, &["train.seeds=[4, 2]"]).unwrap();
        assert_eq!(c.train.seeds, [4, 2]);
    }

    #[test]
    fn errors_name_file_line_key_and_what_is_allowed() {
        assert_eq!(
            err(CLIFF, &["train.episode=3"]),
            "--set train.episode=3: [train] unknown key `episode`; allowed: episodes, steps, \
             seeds, eval_every, eval_episodes, max_steps_per_episode, eval_max_steps, checkpoint_every, keep_best, stop_at, start_state"
        );
        for (from, to, want) in [
            (
                "episodes = 500",
                "episodes = -5",
                "c.toml:9: [train] `episodes` must be an integer ≥ 1, got -5",
            ),
            (
                "episodes = 500",
                "episodes = \"many\"",
                "c.toml:9: [train] `episodes` must be an integer ≥ 1, got \"many\"",
            ),
        ] {
            assert_eq!(err(&CLIFF.replace(from, to), &[]), want);
        }
        assert_eq!(
            err(CLIFF, &["train.steps=10"]),
            "--set train.steps=10: [train] give `episodes` or `steps`, not both"
        );
        assert_eq!(
            err(&CLIFF.replace("\"0..3\"", "\"3..0\""), &[]),
            "c.toml:10: [train] `seeds`: the range 3..0 is empty; `A..B` means seeds A to B − 1"
        );
        assert_eq!(
            err(&format!("{CLIFF}[outptu]\ndir = 'x'\n"), &[]),
            "c.toml:12: [outptu] unknown section; allowed: [env], [wrappers], [features], \
             [agent], [train], [output]"
        );
        assert_eq!(
            err("[agent]\nalgorithm = 'sarsa'\n[train]\nsteps = 1\n", &[]),
            "c.toml: [env] missing section: add [env] with `id`, e.g. id = \"CliffWalking-v1\""
        );
        assert_eq!(
            err(&CLIFF.replace("id = ", "map = { a = 1 }\nid = "), &[]),
            "c.toml:2: [env] parameter `map`: a table is not allowed; use a boolean, number, \
             string or list"
        );
    }

    #[test]
    fn a_stop_at_that_no_evaluation_can_reach_is_refused() {
        assert_eq!(
            err(CLIFF, &["train.stop_at=inf"]),
            "--set train.stop_at=inf: [train] `stop_at` must be a finite number, got inf"
        );
        assert_eq!(
            err(CLIFF, &["train.stop_at=-13", "train.eval_every=0"]),
            "--set train.stop_at=-13: [train] `stop_at` is checked at evaluations during \
             training: set `eval_every` ≥ 1"
        );
        let c = parse(CLIFF, &["train.stop_at=-13", "train.keep_best=true"]).unwrap();
        assert_eq!((c.train.stop_at, c.train.keep_best), (Some(-13.0), true));
        // Written back only when set, so that configs without them resolve as before.
        assert!(c.to_toml().contains("keep_best = true\nstop_at = -13.0\n"));
        assert!(!parse(CLIFF, &[]).unwrap().to_toml().contains("stop_at"));
    }

    #[test]
    fn features_are_checked() {
        let base = "[env]\nid = 'CartPole-v1'\n[agent]\nalgorithm = 'q_learning'\n[train]\nsteps = 1\n[features]\n";
        let c = parse(
            &format!("{base}kind = 'tile_coding'\ntiles = [4, 4, 4, 4]\nbounds = [[-2.4, 2.4], [-3, 3], [], [-3.5, 3.5]]\n"),
            &[],
        )
        .unwrap();
        assert_eq!(
            c.features,
            Features::TileCoding(TileCodingConfig {
                tilings: 8,
                tiles: vec![4; 4],
                bounds: vec![
                    Some((-2.4, 2.4)),
                    Some((-3.0, 3.0)),
                    None,
                    Some((-3.5, 3.5))
                ],
                memory_size: 4096,
            })
        );
        for (suffix, want) in [
            (
                "kind = 'tiles'\n",
                "c.toml:8: [features] `kind` must be one of `tile_coding`, `discretize`, got \"tiles\"",
            ),
            (
                "kind = 'discretize'\nbins = [3, 0]\n",
                "c.toml:9: [features] `bins` must be a non-empty list of integers ≥ 1, got [3, 0]",
            ),
            (
                "kind = 'discretize'\nbins = [3, 3]\nbounds = [[1, 0], []]\n",
                "c.toml:10: [features] `bounds[0]` must be two finite numbers `[low, high]` with \
                 low < high, got [1, 0]",
            ),
            (
                "kind = 'discretize'\nbins = [3, 3]\nbounds = [[]]\n",
                "c.toml:10: [features] `bounds` has 1 ranges but there are 2 dimensions (from `bins`)",
            ),
            (
                "kind = 'tile_coding'\ntiles = [2]\ntilings = 65\n",
                "c.toml:10: [features] `tilings` must be an integer from 1 to 64, got 65",
            ),
            (
                "kind = 'discretize'\nbins = [3]\ntilings = 8\n",
                "c.toml:10: [features] unknown key `tilings`; allowed: kind, bins, bounds",
            ),
        ] {
            assert_eq!(err(&format!("{base}{suffix}"), &[]), want);
        }
    }

    #[test]
    fn resolved_config_reads_back_the_same() {
        let text = "[env]\nid = 'CartPole-v1'\nmax_episode_steps = 200\n[agent]\nalgorithm = 'q_learning'\nalpha = 0.25\n\
                    [train]\nsteps = 10\nseeds = '1..3'\n[features]\nkind = 'tile_coding'\n\
                    tiles = [4, 4, 4, 4]\nbounds = [[-2.4, 2.4], [-3, 3], [], [-3.5, 3.5]]\n";
        let c = parse(text, &[]).unwrap();
        let resolved = c.to_toml();
        assert!(
            resolved.contains("bounds = [[-2.4, 2.4], [-3.0, 3.0], [], [-3.5, 3.5]]"),
            "{resolved}"
        );
        let again = parse(&resolved, &[]).unwrap();
        assert_eq!(again.env, c.env);
        assert_eq!(again.features, c.features);
        assert_eq!(again.agent, c.agent);
        assert_eq!(again.train, c.train);
        assert_eq!(again.output, c.output);
        assert_eq!(again.to_toml(), resolved);
    }

    /// `--seeds 0..100000000` hung in a pairwise duplicate check of 10⁸ seeds; a range too
    /// long to run is refused before anything is allocated, `0..2⁶⁴−1` included.
    #[test]
    fn a_hundred_million_seed_range_is_refused_at_once_instead_of_hanging() {
        assert_eq!(
            parse_seeds("0..100000000").unwrap_err(),
            "the range 0..100000000 holds 100000000 seeds; a run takes at most 100000"
        );
        assert!(parse_seeds(&format!("0..{}", u64::MAX)).is_err());
        assert_eq!(parse_seeds("5..100005").unwrap().len(), MAX_SEEDS);
    }

    /// The duplicate check over a list of seeds is one pass, so that the longest list allowed
    /// is checked at once; a longer one is refused with the count.
    #[test]
    fn the_longest_seed_list_is_checked_for_duplicates_in_one_pass() {
        let list = |n: u64| (0..n).map(|s| s.to_string()).collect::<Vec<_>>().join(",");
        let start = std::time::Instant::now();
        assert_eq!(
            parse_seeds(&list(MAX_SEEDS as u64)).unwrap().len(),
            MAX_SEEDS
        );
        let mut twice = list(MAX_SEEDS as u64);
        twice.push_str(",99999");
        assert_eq!(
            parse_seeds(&twice).unwrap_err(),
            "100001 seeds listed; a run takes at most 100000"
        );
        let last_twice = format!("{},{}", list(MAX_SEEDS as u64 - 1), MAX_SEEDS - 2);
        assert_eq!(
            parse_seeds(&last_twice).unwrap_err(),
            "seed 99998 is listed twice"
        );
        // Pairwise, this was 5·10⁹ comparisons.
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    }

    #[test]
    fn seeds_parse_as_ranges_and_lists() {
        assert_eq!(parse_seeds("0..10").unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(parse_seeds(" 2 , 9").unwrap(), [2, 9]);
        assert_eq!(parse_seeds("1,1").unwrap_err(), "seed 1 is listed twice");
        assert_eq!(
            parse_seeds("a..3").unwrap_err(),
            "`a` is not a seed (an integer ≥ 0)"
        );
    }
    #[test]
    fn seeds_past_toml_integers_are_written_as_text_and_read_back() {
        let mut c = parse(CLIFF, &[]).unwrap();
        c.set_seeds(vec![7, u64::MAX]);
        let resolved = c.to_toml();
        assert!(
            resolved.contains("seeds = \"7,18446744073709551615\""),
            "{resolved}"
        );
        assert_eq!(parse(&resolved, &[]).unwrap().train.seeds, [7, u64::MAX]);
        // Seeds TOML can hold stay a list.
        c.set_seeds(vec![3, i64::MAX as u64]);
        assert!(c.to_toml().contains("seeds = [3, 9223372036854775807]"));
    }

    #[test]
    fn env_parameters_keep_their_order() {
        let c = parse(
            &CLIFF.replace("id = ", "wind = [0, 1]\nis_slippery = false\nid = "),
            &[],
        )
        .unwrap();
        let keys: Vec<&str> = c.env.params.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["wind", "is_slippery"]);
        assert!(
            c.to_toml().starts_with(
                "[env]\nid = \"CliffWalking-v1\"\nwind = [0, 1]\nis_slippery = false\n"
            ),
            "{}",
            c.to_toml()
        );
    }

    #[test]
    fn output_and_train_values_are_checked() {
        for (set, want) in [
            (
                "output.dir=3",
                "--set output.dir=3: [output] `dir` must be a string, got 3",
            ),
            (
                "output.dir=''",
                "--set output.dir='': [output] `dir` must not be empty",
            ),
            (
                "output.window=0",
                "--set output.window=0: [output] `window` must be an integer ≥ 1, got 0",
            ),
            (
                "output.windows=0",
                "--set output.windows=0: [output] unknown key `windows`; allowed: dir, window, \
                 tensorboard",
            ),
            (
                "output.tensorboard=1",
                "--set output.tensorboard=1: [output] `tensorboard` must be a boolean, got \
                 integer `1`",
            ),
            (
                "train.keep_best='yes'",
                "--set train.keep_best='yes': [train] `keep_best` must be a boolean, got string \
                 \"yes\"",
            ),
            (
                "train.stop_at='high'",
                "--set train.stop_at='high': [train] `stop_at` must be a finite number, got \
                 \"high\"",
            ),
            (
                "train.eval_every=-1",
                "--set train.eval_every=-1: [train] `eval_every` must be an integer ≥ 0, got -1",
            ),
            (
                "train.max_steps_per_episode=0.5",
                "--set train.max_steps_per_episode=0.5: [train] `max_steps_per_episode` must be \
                an integer ≥ 1, got 0.5",
            ),
            (
                "train.seeds=[]",
                "--set train.seeds=[]: [train] `seeds` must be a non-empty list of integers ≥ 0 \
                or text like \"0..10\", got []",
            ),
            (
                "train.seeds=1.5",
                "--set train.seeds=1.5: [train] `seeds` must be a list of integers ≥ 0 or text \
                like \"0..10\", got 1.5",
            ),
        ] {
            assert_eq!(err(CLIFF, &[set]), want);
        }
        for (from, to, want) in [
            (
                "episodes = 500\n",
                "",
                "c.toml:8: [train] missing key: give the budget as `episodes` or `steps`",
            ),
            (
                "id = \"CliffWalking-v1\"",
                "id = 3",
                "c.toml:2: [env] `id` must be a string, got 3",
            ),
            (
                "id = \"CliffWalking-v1\"",
                "map = 'x'",
                "c.toml:1: [env] missing key `id`: the env id (`qlab envs` lists them)",
            ),
        ] {
            assert_eq!(err(&CLIFF.replace(from, to), &[]), want);
        }
    }

    #[test]
    fn missing_sections_say_what_to_add() {
        assert_eq!(
            err("[env]\nid = 'x'\n[train]\nsteps = 1\n", &[]),
            "c.toml: [agent] missing section: add [agent] with `algorithm` and its \
             hyperparameters"
        );
        assert_eq!(
            err("[env]\nid = 'x'\n[agent]\nalgorithm = 'sarsa'\n", &[]),
            "c.toml: [train] missing section: add [train] with `episodes` or `steps`"
        );
    }

    /// Regression: an unknown name for an enum-valued key of `[agent]` (`trace = "x"`) was
    /// reported as an unknown algorithm, at the `algorithm` line, listing the traces.
    #[test]
    fn an_unknown_enum_value_is_put_on_its_key_not_on_the_algorithm() {
        let text = CLIFF.replace("q_learning", "sarsa_lambda");
        let e = err(&text, &["agent.trace=\"dutchy\""]);
        assert!(
            e.starts_with(
                "--set agent.trace=\"dutchy\": [agent] `trace`: unknown variant `dutchy`"
            ),
            "{e}"
        );
        assert!(!e.contains("algorithm"), "{e}");
    }

    #[test]
    fn features_keys_are_checked_one_by_one() {
        let base = "[env]\nid = 'CartPole-v1'\n[agent]\nalgorithm = 'q_learning'\n[train]\nsteps = 1\n[features]\n";
        for (suffix, want) in [
            (
                "tiles = [2]\n",
                "c.toml:7: [features] missing key `kind`: \"tile_coding\" or \"discretize\"",
            ),
            (
                "kind = 3\n",
                "c.toml:8: [features] `kind` must be one of `tile_coding`, `discretize`, got 3",
            ),
            (
                "kind = 'tile_coding'\n",
                "c.toml:7: [features] missing key `tiles`: tile widths across each observation \
                 dimension",
            ),
            (
                "kind = 'discretize'\nbins = [2]\nbounds = 3\n",
                "c.toml:10: [features] `bounds` must be a list with one `[low, high]` (or `[]` for \
                 the space's own) per dimension, got 3",
            ),
            (
                "kind = 'tile_coding'\ntiles = [2]\ntilings = 0\n",
                "c.toml:10: [features] `tilings` must be an integer ≥ 1, got 0",
            ),
        ] {
            assert_eq!(err(&format!("{base}{suffix}"), &[]), want);
        }
    }
}

#[cfg(test)]
mod deep_tests {
    use super::*;

    #[test]
    fn reads_a_dqn_agent() {
        let text = std::fs::read_to_string("configs/cartpole_dqn.toml").unwrap();
        let c = Config::parse("c.toml", &text, &[]).unwrap();
        let AgentConfig::Dqn(d) = &c.agent else {
            panic!("{:?}", c.agent)
        };
        assert_eq!(
            (d.batch_size, d.train_freq, d.gradient_steps),
            (64, 256, 128)
        );
        let again = Config::parse("again.toml", &c.to_toml(), &[]).unwrap();
        assert_eq!(again.agent, c.agent);
        let err = Config::parse("c.toml", &text.replace("\"dqn\"", "\"dqm\""), &[])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:11: [agent] unknown algorithm `dqm`; allowed: mc_control"));
        assert!(
            err.ends_with("off_policy_mc_prediction, reinforce, dqn, ppo, a2c"),
            "{err}"
        );
    }
}
