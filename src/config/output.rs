//! `[output]`: where run directories go, and what their summaries average.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::field;
use super::section::{self, Invalid, Read};
use super::source::Document;

/// `[output]`.
///
/// | key | default | valid |
/// |---|---|---|
/// | `dir` | `"runs"` | where default-named run directories go (`--out` names one outright) |
/// | `window` | 100 | ≥ 1: episodes in the moving windows of `summary.json` and the progress display |
/// | `tensorboard` | false | also write each seed's records as TensorBoard events, in `seed_<k>/tb/` |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// The parent of default-named run directories.
    #[serde(deserialize_with = "field::text")]
    pub dir: PathBuf,
    /// Episodes in the summary's and the progress display's moving windows.
    #[serde(deserialize_with = "field::at_least::<1, _, _>")]
    pub window: u64,
    /// Whether each seed also writes TensorBoard event files, in `seed_<k>/tb/`.
    #[serde(skip_serializing_if = "is_false")]
    pub tensorboard: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            dir: PathBuf::from("runs"),
            window: 100,
            tensorboard: false,
        }
    }
}

impl OutputConfig {
    fn validate(self) -> Result<OutputConfig, Invalid> {
        if self.dir.as_os_str().is_empty() {
            return Err(Invalid::key("dir", "`dir` must not be empty"));
        }
        Ok(self)
    }
}

/// Reads `[output]`: the defaults when the section is absent.
pub(crate) fn read(doc: &Document) -> Read<OutputConfig> {
    let output: OutputConfig = section::deserialize(doc, "output", None)?;
    output.validate().map_err(|e| e.at(doc, "output"))
}
