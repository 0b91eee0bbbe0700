//! NumPy's scalar arithmetic where it is not Rust's: squares taken with `x**2`.
//!
//! Gymnasium squares NumPy scalars with `x**2`, which NumPy computes with the C library's
//! `pow` (`powf` for `float32`), not as `x * x`. glibc's `pow(x, 2)` is not always the
//! correctly rounded `x * x`: it differs in the last bit for about 0.1% of arguments, and a
//! reward computed from it then differs too. These functions call the same `pow`. The
//! exponent goes through [`black_box`] because the optimizer otherwise rewrites `pow(x, 2)`
//! as `x * x`, assuming `pow` rounds correctly.

use std::hint::black_box;

/// `x**2` of a NumPy `float64`: the C library's `pow(x, 2)`.
#[inline]
pub(crate) fn square(x: f64) -> f64 {
    x.powf(black_box(2.0))
}

/// `x**2` of a NumPy `float32`: the C library's `powf(x, 2)`.
#[inline]
pub(crate) fn square_f32(x: f32) -> f32 {
    x.powf(black_box(2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's `pow` and `powf` against NumPy on the same machine:
    /// `repr(np.float64(x)**2)`, `repr(np.float32(u)**2)` with numpy 2.4 on x86-64 Linux.
    /// Each pair is one where the library's square is not `x * x`.
    #[test]
    fn squares_as_numpy_does_on_glibc() {
        if !cfg!(all(target_os = "linux", target_env = "gnu")) {
            return;
        }
        let u = -0.457_439_54_f32;
        assert_eq!(square_f32(u), 0.209_250_94);
        assert_ne!(square_f32(u), u * u);
        for (x, numpy) in [
            (-4.21389664506147, 17.75692493526031),
            (-0.007493944607917413, 5.6159205786534476e-05),
            (-2.459418451369963, 6.048739118939028),
        ] {
            assert_eq!(square(x), numpy, "{x}");
            assert_ne!(square(x), x * x, "{x}");
        }
    }
}
