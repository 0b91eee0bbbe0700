//! The crate's error type.

use std::fmt;

/// Everything that can go wrong in `qlab-envs`.
///
/// Each variant carries the bad value and what would have been allowed, so that its
/// `Display` form is a complete one-line message.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An action outside the env's action space. The env is left unchanged.
    InvalidAction {
        /// The rejected action, as debug text.
        action: String,
        /// The action space, as text (e.g. `Discrete(2)`).
        space: String,
    },
    /// `step` was called after the episode ended, before `reset`.
    EpisodeEnded,
    /// `step` was called before the first `reset`.
    NotReset,
    /// No env is registered under this id.
    UnknownEnv {
        /// The id asked for.
        id: String,
        /// Every registered id.
        known: Vec<String>,
    },
    /// A parameter key that the env does not take.
    UnknownParam {
        /// The env id or type the parameter was given to.
        env: String,
        /// The unknown key.
        key: String,
        /// The keys the env takes.
        allowed: Vec<String>,
    },
    /// A parameter with a wrong type or an out-of-range value.
    InvalidParam {
        /// The parameter key.
        key: String,
        /// The value given, as text.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// A malformed GridWorld map.
    Map {
        /// 1-based line of the problem in the map text.
        line: usize,
        /// 1-based column of the problem in the map text.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// A state given to `set_state` that the env cannot take.
    InvalidState {
        /// What is wrong with it.
        message: String,
    },
    /// A policy name the env does not define ([`policy`](crate::registry::policy)).
    UnknownPolicy {
        /// The env id.
        env: String,
        /// The name asked for.
        name: String,
        /// The names the env defines, or what to give instead when it defines none.
        known: String,
    },
    /// The env does not support this operation.
    Unsupported {
        /// The operation.
        operation: String,
        /// The env.
        env: String,
    },
    /// Reading a file (e.g. a map) failed.
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidAction { action, space } => {
                write!(
                    f,
                    "invalid action {action}: not in the action space {space}"
                )
            }
            Error::EpisodeEnded => {
                write!(f, "step called after the episode ended; call reset first")
            }
            Error::NotReset => write!(f, "step called before reset; call reset first"),
            Error::UnknownEnv { id, known } => {
                write!(f, "unknown env id `{id}`; registered: {}", known.join(", "))
            }
            Error::UnknownParam { env, key, allowed } => write!(
                f,
                "unknown parameter `{key}` for {env}; allowed: {}",
                allowed.join(", ")
            ),
            Error::InvalidParam {
                key,
                value,
                expected,
            } => write!(f, "invalid value {value} for `{key}`: expected {expected}"),
            Error::Map {
                line,
                column,
                message,
            } => write!(f, "map line {line}, column {column}: {message}"),
            Error::InvalidState { message } => write!(f, "invalid state: {message}"),
            Error::UnknownPolicy { env, name, known } => {
                write!(f, "unknown policy `{name}` for {env}; {known}")
            }
            Error::Unsupported { operation, env } => {
                write!(f, "{env} does not support {operation}")
            }
            Error::Io { path, source } => write!(f, "{path}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
