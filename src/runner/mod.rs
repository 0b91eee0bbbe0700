//! The experiment runner: trains a config's agent once per seed and records every run.

pub mod envs;
