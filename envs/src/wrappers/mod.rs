//! Wrappers: envs built around other envs, each doing one thing.
//!
//! | wrapper | what it does |
//! |---|---|
//! | [`TimeLimit`] | truncates episodes after a number of steps |

mod time_limit;

pub use time_limit::TimeLimit;
