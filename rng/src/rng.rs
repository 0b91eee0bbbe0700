//! [`EnvRng`]: the random number generator every env and network owns.
//!
//! Envs use xoshiro256++ (Blackman & Vigna) seeded through SplitMix64, implemented here so that
//! a seed gives the same stream whatever version of `rand` is in the build: metrics stay
//! bit-identical across dependency updates. It implements [`rand::RngCore`], so all of `rand`'s
//! sampling works on it.

use rand::{RngCore, SeedableRng};

/// A small, fast, seedable RNG (xoshiro256++), the one every qlab env and network owns.
///
/// ```
/// use qlab_rng::EnvRng;
/// use rand::{Rng, SeedableRng};
/// let mut a = EnvRng::seed_from_u64(7);
/// let mut b = EnvRng::seed_from_u64(7);
/// assert_eq!(a.random::<u64>(), b.random::<u64>());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvRng {
    s: [u64; 4],
}

impl EnvRng {
    /// An RNG seeded with `seed`: the same as `SeedableRng::seed_from_u64(seed)`, without
    /// needing the trait in scope.
    pub fn new(seed: u64) -> Self {
        Self::seed_from_u64(seed)
    }

    /// An RNG seeded from the operating system's entropy, for envs that are never given a seed.
    pub fn from_os_entropy() -> Self {
        Self::seed_from_u64(rand::random())
    }

    /// Where the stream stands: the four words of xoshiro256++'s state. Saved with a
    /// checkpoint and given back to [`EnvRng::from_state`], it continues the stream exactly.
    ///
    /// ```
    /// use qlab_rng::EnvRng;
    /// use rand::RngCore;
    /// let mut rng = EnvRng::new(3);
    /// rng.next_u64();
    /// let mut resumed = EnvRng::from_state(rng.state());
    /// assert_eq!(resumed.next_u64(), rng.next_u64());
    /// ```
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// The RNG whose [`state`](EnvRng::state) is `state`.
    ///
    /// [`state`](EnvRng::state) never returns four zeros (a fixed point of xoshiro, which it
    /// never reaches); given them, this moves off the fixed point as
    /// [`SeedableRng::from_seed`] does, to the stream of seed 0. [`is_valid_state`](EnvRng::is_valid_state)
    /// tells such a state apart beforehand.
    pub fn from_state(state: [u64; 4]) -> Self {
        if !Self::is_valid_state(state) {
            return Self::seed_from_u64(0);
        }
        Self { s: state }
    }

    /// Whether `state` is one that [`state`](EnvRng::state) can return: anything but four
    /// zeros.
    pub fn is_valid_state(state: [u64; 4]) -> bool {
        state != [0; 4]
    }

    /// A uniform `f64` in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform index in `0..n` (`n > 0`), by Lemire's multiply-shift with rejection.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        let n = n as u64;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            let low = m as u64;
            // The threshold `2^64 mod n` is below `n`: only a `low` below `n` needs it, which
            // spares the division nearly every time (the same draws either way).
            if low >= n || low >= n.wrapping_neg() % n {
                return (m >> 64) as usize;
            }
        }
    }
}

#[inline]
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl RngCore for EnvRng {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

impl SeedableRng for EnvRng {
    type Seed = [u8; 32];

    fn from_seed(seed: [u8; 32]) -> Self {
        let mut s = [0u64; 4];
        for (word, bytes) in s.iter_mut().zip(seed.chunks_exact(8)) {
            *word = u64::from_le_bytes(bytes.try_into().expect("8-byte chunk"));
        }
        if s == [0; 4] {
            // The all-zero state is a fixed point of xoshiro; move off it.
            return Self::seed_from_u64(0);
        }
        Self { s }
    }

    fn seed_from_u64(seed: u64) -> Self {
        let mut state = seed;
        Self {
            s: std::array::from_fn(|_| splitmix64(&mut state)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xoshiro256++ from the state [1, 2, 3, 4], computed by an independent transcription of the
    /// published algorithm (Python big integers masked to 64 bits).
    #[test]
    fn matches_reference_stream() {
        let mut rng = EnvRng { s: [1, 2, 3, 4] };
        let expected = [41943041u64, 58720359, 3588806011781223, 3591011842654386];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn state_round_trips_and_resumes_the_stream() {
        let mut rng = EnvRng::seed_from_u64(9);
        for _ in 0..5 {
            rng.next_u64();
        }
        let saved = rng.state();
        let ahead: Vec<u64> = (0..10).map(|_| rng.next_u64()).collect();
        let mut resumed = EnvRng::from_state(saved);
        assert_eq!(resumed.state(), saved);
        let again: Vec<u64> = (0..10).map(|_| resumed.next_u64()).collect();
        assert_eq!(again, ahead);
        // The reference stream's state, word for word.
        assert_eq!(EnvRng::from_state([1, 2, 3, 4]), EnvRng { s: [1, 2, 3, 4] });
    }

    #[test]
    fn the_all_zero_state_is_refused_as_from_seed_refuses_it() {
        assert!(!EnvRng::is_valid_state([0; 4]));
        assert!(EnvRng::is_valid_state([0, 0, 0, 1]));
        assert_eq!(EnvRng::from_state([0; 4]), EnvRng::from_seed([0; 32]));
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut rng = EnvRng::seed_from_u64(1);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let i = rng.below(5);
            seen[i] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    /// `below` skips computing the rejection threshold when the low word cannot fall under it;
    /// its draws are those of Lemire's method as written, for small and huge ranges (where
    /// rejections happen).
    #[test]
    fn below_draws_what_lemires_method_draws() {
        fn lemire(rng: &mut EnvRng, n: u64) -> u64 {
            loop {
                let m = (rng.next_u64() as u128) * (n as u128);
                if m as u64 >= n.wrapping_neg() % n {
                    return (m >> 64) as u64;
                }
            }
        }
        for n in [1u64, 2, 3, 4, 7, 1000, (1 << 63) + 1, u64::MAX - 2] {
            let (mut a, mut b) = (EnvRng::new(n), EnvRng::new(n));
            for _ in 0..2000 {
                assert_eq!(a.below(n as usize) as u64, lemire(&mut b, n), "n = {n}");
            }
            assert_eq!(a.state(), b.state(), "n = {n}");
        }
    }

    #[test]
    fn unit_float_is_in_range() {
        let mut rng = EnvRng::seed_from_u64(2);
        for _ in 0..1000 {
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
