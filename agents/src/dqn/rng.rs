//! [`DqnRng`]: the agent's random stream, which can be saved as two numbers and restored.

use qlab_envs::EnvRng;
use rand::RngCore;

/// The uniform draws replay sampling and exploration need.
pub trait Uniform {
    /// A uniform `f64` in `[0, 1)`.
    fn next_f64(&mut self) -> f64;
    /// A uniform index in `0..n`, `n > 0`.
    fn below(&mut self, n: usize) -> usize;
}

impl Uniform for EnvRng {
    fn next_f64(&mut self) -> f64 {
        EnvRng::next_f64(self)
    }
    fn below(&mut self, n: usize) -> usize {
        EnvRng::below(self, n)
    }
}

/// An [`EnvRng`] that counts its 64-bit draws, so that its state is `(seed, draws)`: a
/// checkpoint stores those two numbers and [`DqnRng::restore`] replays the stream to the same
/// point (a few milliseconds for millions of draws). Its values are [`EnvRng`]'s.
#[derive(Clone, Debug)]
pub struct DqnRng {
    inner: EnvRng,
    seed: u64,
    draws: u64,
}

impl DqnRng {
    /// A stream seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        DqnRng {
            inner: EnvRng::new(seed),
            seed,
            draws: 0,
        }
    }

    /// The stream of `seed` after `draws` draws.
    pub fn restore(seed: u64, draws: u64) -> Self {
        let mut r = DqnRng::new(seed);
        for _ in 0..draws {
            r.inner.next_u64();
        }
        r.draws = draws;
        r
    }

    /// `(seed, draws)`.
    pub fn state(&self) -> (u64, u64) {
        (self.seed, self.draws)
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.draws += 1;
        self.inner.next_u64()
    }
}

impl Uniform for DqnRng {
    /// As [`EnvRng::next_f64`]: 53 random bits.
    #[inline]
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// As [`EnvRng::below`]: Lemire's multiply-shift with rejection.
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= n.wrapping_neg() % n {
                return (m >> 64) as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_values_as_env_rng_and_restores_mid_stream() {
        let (mut a, mut b) = (DqnRng::new(9), EnvRng::new(9));
        for n in 1..200 {
            assert_eq!(a.below(n), b.below(n));
            assert_eq!(a.next_f64().to_bits(), Uniform::next_f64(&mut b).to_bits());
        }
        let (seed, draws) = a.state();
        let mut c = DqnRng::restore(seed, draws);
        for n in 1..50 {
            assert_eq!(a.below(n), c.below(n));
        }
    }
}
