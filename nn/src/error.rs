//! The crate's error type.

/// Everything that can go wrong in `qlab-nn`.
///
/// Each variant's `Display` form is a complete one-line message that names the bad value and
/// what would have been allowed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor operation failed inside candle (shape mismatch, unsupported op, device error).
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
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
    /// A device was asked for that this build or this machine cannot provide.
    #[error("device `{requested}` is not available: {reason}")]
    DeviceUnavailable {
        /// The device asked for (`cuda`, `cuda:1`).
        requested: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A parameter file does not match the network it is loaded into.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: String,
        /// Which tensor is wrong and what was expected.
        message: String,
    },
    /// A gradient-norm-clipping optimizer was given gradients whose global norm is not a
    /// finite number; it applied nothing (clipping would have scaled them to NaN).
    #[error("the global gradient norm is {norm}: no update applied")]
    NonFiniteGradient {
        /// The norm (NaN or infinite).
        norm: f64,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
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
