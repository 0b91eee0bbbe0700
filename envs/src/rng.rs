//! Restoring an env's random stream from a checkpoint.

use crate::EnvRng;

/// The RNG of a saved state, for [`Env::set_rng_state`](crate::Env::set_rng_state): a state
/// no stream can be in is [`Error::InvalidState`](crate::Error::InvalidState) naming `env`.
pub(crate) fn restore(state: [u64; 4], env: &str) -> crate::Result<EnvRng> {
    if !EnvRng::is_valid_state(state) {
        return Err(crate::Error::InvalidState {
            message: format!(
                "{env} takes an RNG state that some stream is in, got {state:?} (four zeros)"
            ),
        });
    }
    Ok(EnvRng::from_state(state))
}
