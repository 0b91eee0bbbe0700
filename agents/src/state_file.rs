//! The checkpoint files of the network agents: their tensors (networks, optimizer state,
//! buffers) in one safetensors file, their other numbers as JSON in the file's metadata under
//! one key, so that a checkpoint is one file that is written, checksummed and replaced whole.

use std::collections::HashMap;
use std::path::Path;

use candle_core::Tensor;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// An error about the checkpoint file `path`.
pub(crate) fn error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Checkpoint {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Writes `tensors` (in the order of their names) and `state`, as JSON under `key` in the
/// metadata, to the safetensors file `path`.
pub(crate) fn write<S: Serialize>(
    path: &Path,
    tensors: &HashMap<String, Tensor>,
    key: &str,
    state: &S,
) -> Result<()> {
    let json = serde_json::to_string(state).map_err(|e| error(path, e))?;
    let metadata = HashMap::from([(key.to_string(), json)]);
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let views = names.into_iter().map(|n| (n.as_str(), &tensors[n]));
    safetensors::tensor::serialize_to_file(views, Some(metadata), path)
        .map_err(|e| error(path, format!("cannot write: {e}")))
}

/// Reads a file [`write`] wrote: its tensors (on the CPU) and the state under `key`.
pub(crate) fn read<S: DeserializeOwned>(
    path: &Path,
    key: &str,
) -> Result<(HashMap<String, Tensor>, S)> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| error(path, format!("not a safetensors file: {e}")))?;
    let json = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(key))
        .ok_or_else(|| error(path, format!("no `{key}` in its metadata")))?;
    let state: S = serde_json::from_str(json).map_err(|e| error(path, e))?;
    let tensors = candle_core::safetensors::load_buffer(&bytes, &candle_core::Device::Cpu)
        .map_err(|e| error(path, e))?;
    Ok((tensors, state))
}
