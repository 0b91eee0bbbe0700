//! Saving and loading a [`ParamStore`] as safetensors.

use std::path::Path;

use super::ParamStore;
use crate::error::{Error, Result};

impl ParamStore {
    /// Writes every parameter and buffer to `path` in the safetensors format, under its store
    /// name (e.g. `torso.layers.0.weight`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let tensors = self.tensors();
        candle_core::safetensors::save(&tensors, path).map_err(|e| Error::Checkpoint {
            path: path.display().to_string(),
            message: format!("cannot write: {e}"),
        })
    }

    /// Reads `path` (safetensors) into the store's parameters.
    ///
    /// The file must hold exactly the store's names, each with the store's shape; values of
    /// another dtype are converted. Otherwise [`Error::Checkpoint`] names the first tensor that
    /// is missing, unexpected or of the wrong shape, with the expected shape — and no parameter
    /// is changed.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.load_bytes(&bytes, &path.display().to_string())
    }

    /// The store's parameters as the bytes of a safetensors file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let tensors = self.tensors();
        let mut names: Vec<&String> = tensors.keys().collect();
        names.sort();
        let views = names.into_iter().map(|n| (n.as_str(), &tensors[n]));
        Ok(safetensors::tensor::serialize(views, None).map_err(candle_core::Error::from)?)
    }

    /// Reads parameters from the bytes of a safetensors file, as [`load`](Self::load) does;
    /// `origin` names the source in error messages.
    pub fn load_bytes(&self, bytes: &[u8], origin: &str) -> Result<()> {
        let tensors = candle_core::safetensors::load_buffer(bytes, &candle_core::Device::Cpu)
            .map_err(|e| Error::Checkpoint {
                path: origin.to_string(),
                message: format!("not a readable safetensors file: {e}"),
            })?;
        self.assign_all(&tensors, origin)
    }
}
