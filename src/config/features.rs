//! `[features]`: how a box observation becomes the active features the agents see.

use serde::{Deserialize, Serialize};

use super::field::{self, show};
use super::section::{self, Invalid, Read, Tag};
use super::source::Document;

/// Per-dimension ranges of a box observation: `None` keeps the observation space's own.
pub type Bounds = Vec<Option<(f32, f32)>>;

/// `[features]`: how a box observation becomes the active features the agents see.
///
/// | `kind` | keys | features |
/// |---|---|---|
/// | (section absent) | | the env's state index (discrete-state envs only) |
/// | `"tile_coding"` | `tilings`, `tiles`, `bounds`, `memory_size` | one hashed tile per tiling ([`qlab_envs::wrappers::TileCoding`]) |
/// | `"discretize"` | `bins`, `bounds` | one bin index ([`qlab_envs::wrappers::Discretize`]) |
///
/// `bounds` lists one `[low, high]` per observation dimension (or `[]` to keep the space's
/// own); dimensions whose space is unbounded (CartPole's velocities) need one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Features {
    /// The env's own state index: the section is absent (and not written).
    #[serde(skip)]
    State,
    /// Tile coding.
    TileCoding(TileCodingConfig),
    /// Uniform bins.
    Discretize(DiscretizeConfig),
}

/// `[features] kind = "tile_coding"`.
///
/// | key | default | valid |
/// |---|---|---|
/// | `tilings` | 8 | 1 to 64 |
/// | `tiles` | required | one integer ≥ 1 per dimension: tile widths across `bounds` |
/// | `bounds` | the space's | one `[low, high]` or `[]` per dimension |
/// | `memory_size` | 4096 | ≥ 1: the number of features (hash table size) |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TileCodingConfig {
    /// The number of tilings.
    #[serde(deserialize_with = "field::at_least::<1, _, _>")]
    pub tilings: usize,
    /// Tiles across each dimension's range.
    #[serde(deserialize_with = "field::counts")]
    pub tiles: Vec<usize>,
    /// Per-dimension range; `None` keeps the observation space's.
    #[serde(
        deserialize_with = "field::bounds",
        serialize_with = "field::write_bounds"
    )]
    pub bounds: Bounds,
    /// The number of features.
    #[serde(deserialize_with = "field::at_least::<1, _, _>")]
    pub memory_size: usize,
}

impl Default for TileCodingConfig {
    /// The defaults of the table above; `tiles` and `bounds` empty: not given (`tiles` is
    /// required, and `bounds` not given is the space's own for every dimension).
    fn default() -> Self {
        TileCodingConfig {
            tilings: 8,
            tiles: Vec::new(),
            bounds: Vec::new(),
            memory_size: 4096,
        }
    }
}

/// `[features] kind = "discretize"`.
///
/// | key | default | valid |
/// |---|---|---|
/// | `bins` | required | one integer ≥ 1 per dimension |
/// | `bounds` | the space's | one `[low, high]` or `[]` per dimension |
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscretizeConfig {
    /// Bins per dimension (required: empty is not given).
    #[serde(deserialize_with = "field::counts")]
    pub bins: Vec<usize>,
    /// Per-dimension range; `None` keeps the observation space's (empty: not given, the
    /// space's own for every dimension).
    #[serde(
        deserialize_with = "field::bounds",
        serialize_with = "field::write_bounds"
    )]
    pub bounds: Bounds,
}

/// How errors about `kind` are worded.
const KIND: Tag = Tag {
    key: "kind",
    also: &[],
    missing: |names| {
        let names: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        format!("missing key `kind`: {}", names.join(" or "))
    },
    unknown: |got, names| {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!(
            "`kind` must be one of {}, got {}",
            names.join(", "),
            show(got)
        )
    },
};

/// Reads `[features]`: [`Features::State`] when the section is absent.
pub(crate) fn read(doc: &Document) -> Read<Features> {
    if doc.section("features").is_none() {
        return Ok(Features::State);
    }
    let features: Features = section::deserialize(doc, "features", Some(&KIND))?;
    features.validate().map_err(|e| e.at(doc, "features"))
}

impl Features {
    /// Whether the env's own state index is the feature (no `[features]` section).
    pub fn is_state(&self) -> bool {
        *self == Features::State
    }

    /// Checks what one key cannot say alone (the required keys, the number of tilings, one
    /// range per dimension) and fills in the bounds not given.
    fn validate(self) -> Result<Features, Invalid> {
        Ok(match self {
            Features::State => Features::State,
            Features::TileCoding(mut t) => {
                let max = qlab_envs::wrappers::MAX_TILINGS;
                if t.tilings > max {
                    return Err(Invalid::key(
                        "tilings",
                        format!(
                            "`tilings` must be an integer from 1 to {max}, got {}",
                            t.tilings
                        ),
                    ));
                }
                if t.tiles.is_empty() {
                    return Err(Invalid::section(
                        "missing key `tiles`: tile widths across each observation dimension",
                    ));
                }
                t.bounds = per_dimension(t.bounds, t.tiles.len(), "tiles")?;
                Features::TileCoding(t)
            }
            Features::Discretize(mut d) => {
                if d.bins.is_empty() {
                    return Err(Invalid::section(
                        "missing key `bins`: bins per observation dimension",
                    ));
                }
                d.bounds = per_dimension(d.bounds, d.bins.len(), "bins")?;
                Features::Discretize(d)
            }
        })
    }
}

/// `bounds` with one range per dimension: as given, or the space's own for each when not
/// given. `from` is the key that says how many dimensions there are.
fn per_dimension(bounds: Bounds, dims: usize, from: &str) -> Result<Bounds, Invalid> {
    match bounds.len() {
        0 => Ok(vec![None; dims]),
        n if n == dims => Ok(bounds),
        n => Err(Invalid::key(
            "bounds",
            format!("`bounds` has {n} ranges but there are {dims} dimensions (from `{from}`)"),
        )),
    }
}
