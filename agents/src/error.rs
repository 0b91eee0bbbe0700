//! The crate's error type.

/// Everything that can go wrong in `qlab-agents`.
///
/// Each variant's `Display` form is a complete one-line message that names the bad value and
/// what would have been allowed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor operation failed inside candle (shape mismatch, unsupported op, device error).
    #[cfg(feature = "deep")]
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    /// The network library refused: a network config out of range, a device this build or
    /// machine lacks, a checkpoint that does not fit (its message as `qlab-nn` gives it).
    #[cfg(feature = "deep")]
    #[error(transparent)]
    Nn(#[from] qlab_nn::Error),
    /// A configuration value outside its valid range.
    #[error("invalid value {value} for `{key}`: expected {expected}")]
    InvalidConfig {
        /// The configuration key, e.g. `dropout` or `optimizer.lr`.
        key: String,
        /// The value given, as text.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// A checkpoint or parameter file does not match the agent it is loaded into.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: String,
        /// Which tensor is wrong and what was expected.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The environment refused a call: an invalid action or state, a step after the end.
    #[error("env: {0}")]
    Env(#[from] qlab_envs::Error),
    /// Training produced a loss or a value that is not a finite number.
    #[error("training diverged at env step {step}: the {what} is {value}")]
    Diverged {
        /// The env step whose update diverged.
        step: u64,
        /// What was not finite (`loss`, `Q-value`, `gradient norm`).
        what: String,
        /// Its value.
        value: f64,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::InvalidConfig`] from its three parts.
    pub fn config(
        key: impl Into<String>,
        value: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidConfig {
            key: key.into(),
            value: short_number(value.to_string()),
            expected: expected.into(),
        }
    }
}

/// A value's text as an error shows it: a float that `{}` wrote out in full (301 digits for
/// `1e300`, 302 for `1e-300`) in the exponent form, which reads back as the same number.
/// Integers keep every digit (`u64::MAX` is 20 characters).
fn short_number(text: String) -> String {
    match text.parse::<f64>() {
        Ok(x) if text.len() > 24 && x.is_finite() => format!("{x:e}"),
        _ => text,
    }
}
