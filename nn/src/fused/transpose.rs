//! `Wᵀ` as a row-major copy, for the forward product.
//!
//! gemm computes `x·Wᵀ` with `W` read transposed by packing `W` on every call, and its
//! AVX-512 kernels pack that operand slowly: a 64×256·256×256 forward takes 125 µs on a Zen 4
//! core against 78 µs for `gz·W`, whose operands need no such packing. Copying `Wᵀ` first
//! (a few µs in 8 × 8 tiles) gives the forward the input gradient's layout. A copy changes
//! no value, and gemm sums each output of both layouts as the same chain (see
//! [`chain_path`](super::chain_path)), so the product keeps its bits.

use std::mem::MaybeUninit;

/// Side of the square tiles the copy moves at once.
const TILE: usize = 8;

/// `srcᵀ` (`k × n`, row-major) of `src` (`n × k`, row-major), in a new buffer.
pub(super) fn transposed<T: Copy>(src: &[T], n: usize, k: usize) -> Vec<T> {
    assert!(
        src.len() >= n * k,
        "transpose: source shorter than {n} × {k}"
    );
    let mut dst = Vec::with_capacity(n * k);
    let out = dst.spare_capacity_mut();
    #[cfg(target_arch = "x86_64")]
    if size_of::<T>() == 4 && is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX; T is four bytes wide and plain data (Copy), so its values
        // move through f32 registers unchanged (loads, shuffles and stores only); src holds
        // n·k elements (asserted) and out has room for n·k.
        unsafe { avx::transpose(src.as_ptr().cast(), n, k, out.as_mut_ptr().cast()) };
    } else {
        portable(src, n, k, out);
    }
    #[cfg(not(target_arch = "x86_64"))]
    portable(src, n, k, out);
    // SAFETY: either path wrote all n·k elements.
    unsafe { dst.set_len(n * k) };
    dst
}

/// [`transposed`] element by element, tile by tile, into `dst` (`n·k` long at least).
fn portable<T: Copy>(src: &[T], n: usize, k: usize, dst: &mut [MaybeUninit<T>]) {
    for jb in (0..n).step_by(TILE) {
        for pb in (0..k).step_by(TILE) {
            for j in jb..(jb + TILE).min(n) {
                for p in pb..(pb + TILE).min(k) {
                    dst[p * n + j].write(src[j * k + p]);
                }
            }
        }
    }
}

/// [`transposed`] for four-byte elements with AVX: 8 × 8 tiles through registers, the edges
/// element by element.
#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::TILE;

    /// # Safety
    /// `src` and `dst` must hold `n·k` elements each, and the CPU must have AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn transpose(src: *const f32, n: usize, k: usize, dst: *mut f32) {
        let (nf, kf) = (n / TILE * TILE, k / TILE * TILE);
        // Two by two tiles at a time, so that every cache line read or written is used
        // whole while it is in L1 (rows 1 KiB apart share few of its sets), the destination
        // filled row block by row block (the fastest order for 256 × 256 on Zen 4: 8 µs).
        for pb in (0..kf).step_by(2 * TILE) {
            for jb in (0..nf).step_by(2 * TILE) {
                for j in (jb..nf.min(jb + 2 * TILE)).step_by(TILE) {
                    for p in (pb..kf.min(pb + 2 * TILE)).step_by(TILE) {
                        // SAFETY: the tile's rows j..j+8 and columns p..p+8 lie within
                        // n × k (source) and k × n (destination).
                        unsafe { tile(src.add(j * k + p), k, dst.add(p * n + j), n) };
                    }
                }
            }
        }
        // The edges: the last rows of src (all columns), and the last columns of the others.
        let edge = |j: usize, p: usize| {
            // SAFETY: j < n and p < k.
            unsafe { *dst.add(p * n + j) = *src.add(j * k + p) };
        };
        for j in nf..n {
            (0..k).for_each(|p| edge(j, p));
        }
        for j in 0..nf {
            (kf..k).for_each(|p| edge(j, p));
        }
    }

    /// The 8 × 8 tile at `src` (row stride `ss`) transposed into `dst` (row stride `ds`).
    ///
    /// # Safety
    /// Eight rows of eight elements must be readable at `src` and writable at `dst`.
    #[target_feature(enable = "avx")]
    unsafe fn tile(src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
        // SAFETY: row r < 8 of the tile, within the caller's bounds.
        let r: [__m256; 8] = std::array::from_fn(|i| unsafe { _mm256_loadu_ps(src.add(i * ss)) });
        // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves swapped.
        let t = [
            _mm256_unpacklo_ps(r[0], r[1]),
            _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]),
            _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]),
            _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]),
            _mm256_unpackhi_ps(r[6], r[7]),
        ];
        let s = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        let o = [
            _mm256_permute2f128_ps::<0x20>(s[0], s[4]),
            _mm256_permute2f128_ps::<0x20>(s[1], s[5]),
            _mm256_permute2f128_ps::<0x20>(s[2], s[6]),
            _mm256_permute2f128_ps::<0x20>(s[3], s[7]),
            _mm256_permute2f128_ps::<0x31>(s[0], s[4]),
            _mm256_permute2f128_ps::<0x31>(s[1], s[5]),
            _mm256_permute2f128_ps::<0x31>(s[2], s[6]),
            _mm256_permute2f128_ps::<0x31>(s[3], s[7]),
        ];
        for (i, v) in o.into_iter().enumerate() {
            // SAFETY: row i < 8 of the tile, within the caller's bounds.
            unsafe { _mm256_storeu_ps(dst.add(i * ds), v) };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;

    use super::{portable, transposed};

    fn naive<T: Copy + Default>(src: &[T], n: usize, k: usize) -> Vec<T> {
        let mut d = vec![T::default(); n * k];
        for j in 0..n {
            for p in 0..k {
                d[p * n + j] = src[j * k + p];
            }
        }
        d
    }

    #[test]
    fn transposes_put_every_element_in_its_mirrored_place() {
        // Whole tiles, edges in either dimension or both, a single row or column, empty.
        for (n, k) in [
            (8, 8),
            (256, 256),
            (256, 4),
            (2, 256),
            (13, 21),
            (17, 8),
            (1, 9),
            (0, 5),
        ] {
            let src: Vec<f32> = (0..n * k).map(|i| i as f32 + 0.5).collect();
            let want = naive(&src, n, k);
            assert_eq!(transposed(&src, n, k), want, "{n} × {k}");
            let mut out = vec![MaybeUninit::uninit(); n * k];
            portable(&src, n, k, &mut out);
            // SAFETY: portable wrote all n·k elements.
            let got: Vec<f32> = out
                .into_iter()
                .map(|v| unsafe { v.assume_init() })
                .collect();
            assert_eq!(got, want, "{n} × {k}, portable");
        }
        let src: Vec<f64> = (0..99).map(f64::from).collect();
        assert_eq!(transposed(&src, 9, 11), naive(&src, 9, 11));
    }

    #[test]
    fn the_copy_keeps_the_bits_of_nan_negative_zero_and_subnormals() {
        let src = [
            f32::from_bits(0x7fc0_1234),
            -0.0,
            1.0,
            f32::MIN_POSITIVE / 2.0,
        ];
        let src: Vec<f32> = src.iter().cycle().take(16 * 9).copied().collect();
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&transposed(&src, 16, 9)), bits(&naive(&src, 16, 9)));
    }
}
