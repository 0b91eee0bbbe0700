//! The random number generator of qlab: [`EnvRng`], xoshiro256++ seeded through SplitMix64.
//!
//! Every env in `qlab-envs` owns one, and the network library `qlab-nn` draws initial weights
//! and dropout masks from one, so both sit on this crate rather than on each other. It depends
//! on `rand` only, for the [`RngCore`](rand::RngCore) and [`SeedableRng`](rand::SeedableRng)
//! traits.
#![deny(missing_docs)]

mod rng;

pub use rng::EnvRng;
