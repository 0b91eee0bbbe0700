//! `tanh` in `f32` from basic arithmetic only, so that a loop over a layer's outputs
//! vectorizes: libm's `tanhf` is a call per element (with `expm1f` inside), and took two thirds
//! of a PPO run on CartPole, whose 64-unit tanh networks do little else.
//!
//! `tanh(x) = sign(x) · m / (m + 2)` with `m = expm1(2|x|)`, and `expm1(y) = 2ⁿ·p + (2ⁿ − 1)`
//! after the reduction `y = n·ln 2 + r`, `|r| ≤ ln 2 / 2`, with `p = expm1(r)` from its Taylor
//! polynomial to `r⁷` (the first term left out is below 2·10⁻⁸ of `r`). Where `n = 0` (`|x| <
//! 0.17`) the result is `p / (p + 2)`, accurate however small `x` is. The error is at most 2
//! units in the last place (test `tanh_is_within_two_ulps_of_the_exact_value`), against 1 for
//! libm.
//!
//! Only additions, multiplications, one division and integer operations on the bits, with no
//! fused multiply-add: every vector width gives the same bits as the scalar code.

/// `log₂ e`.
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// `ln 2` in two parts (Cody and Waite): `LN2_HI` has few enough bits that `n·LN2_HI` is
/// exact for the `n` here.
/// (`0x3f31_7200` = 0.693145751953125 exactly.)
const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
const LN2_LO: f32 = 1.428_606_8e-6;
/// `1.5·2²³`: adding it rounds an `f32` of magnitude below 2²² to an integer.
const ROUND: f32 = 12_582_912.0;
/// Past `2|x| = 18`, `tanh` rounds to ±1 in `f32`.
const CLAMP: f32 = 18.0;

/// `tanh(x)` to within 2 ulps; NaN for NaN, `±0` for `±0`.
#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    let y = (2.0 * x.abs()).min(CLAMP);
    // n = round(y / ln 2), as an integer-valued f32; the sum's low mantissa bits hold n as an
    // integer (its unit in the last place is 1), which spares the saturating `as i32`
    // conversion, element by element in scalar code.
    let shifted = y * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let r = (y - n * LN2_HI) - n * LN2_LO;
    // expm1(r) = r + r²/2 + … + r⁷/5040, Horner.
    let q = 1.0 / 5040.0;
    let q = q * r + 1.0 / 720.0;
    let q = q * r + 1.0 / 120.0;
    let q = q * r + 1.0 / 24.0;
    let q = q * r + 1.0 / 6.0;
    let q = q * r + 0.5;
    let p = (q * r) * r + r;
    // 2ⁿ from its bits (0 ≤ n ≤ 26).
    let two_n = f32::from_bits((n_bits + 127) << 23);
    let m = two_n * p + (two_n - 1.0);
    let t = m / (m + 2.0);
    let t = f32::from_bits(t.to_bits() | (x.to_bits() & 0x8000_0000));
    if x.is_nan() { x } else { t }
}

/// `row[j] = tanh(row[j] + b[j])`: the fused op's bias and activation pass, on the widest
/// vectors the CPU has (AVX-512, AVX2, else the target's baseline), each giving the same bits.
pub(crate) fn bias_tanh(row: &mut [f32], b: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { bias_tanh_avx512(row, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { bias_tanh_avx2(row, b) };
        }
    }
    bias_tanh_portable(row, b);
}

/// [`bias_tanh_portable`] compiled for AVX-512 (sixteen lanes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn bias_tanh_avx512(row: &mut [f32], b: &[f32]) {
    bias_tanh_portable(row, b);
}

/// [`bias_tanh_portable`] compiled for AVX2 (eight lanes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bias_tanh_avx2(row: &mut [f32], b: &[f32]) {
    bias_tanh_portable(row, b);
}

/// The loop itself, inlined into each width's function.
#[inline(always)]
fn bias_tanh_portable(row: &mut [f32], b: &[f32]) {
    row.iter_mut()
        .zip(b)
        .for_each(|(v, &b)| *v = tanh_f32(*v + b));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        let key = |v: f32| {
            let bits = v.to_bits() as i32;
            if bits < 0 { i32::MIN - bits } else { bits }
        };
        key(a).abs_diff(key(b))
    }

    #[test]
    fn tanh_is_within_two_ulps_of_the_exact_value() {
        let mut worst = (0u32, 0.0f32);
        // Every 97th f32 from 2⁻³⁰ to 20, both signs, and the region where n changes.
        let (lo, hi) = ((2f32).powi(-30).to_bits(), 20f32.to_bits());
        for bits in (lo..hi).step_by(97) {
            for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
                let exact = (x as f64).tanh() as f32;
                let e = ulps(tanh_f32(x), exact);
                if e > worst.0 {
                    worst = (e, x);
                }
            }
        }
        assert!(worst.0 <= 2, "{} ulps at {}", worst.0, worst.1);
    }

    #[test]
    fn every_vector_width_gives_the_scalar_bits() {
        let xs: Vec<f32> = (0..4099)
            .map(|i| (i as f32 - 2049.0) * 0.0123 + if i % 7 == 0 { 1e-20 } else { 0.0 })
            .chain([f32::NAN, f32::INFINITY, -0.0, 0.3466])
            .collect();
        let b: Vec<f32> = (0..xs.len()).map(|i| (i % 5) as f32 * 0.01).collect();
        let scalar: Vec<u32> = xs
            .iter()
            .zip(&b)
            .map(|(&x, &b)| tanh_f32(x + b).to_bits())
            .collect();
        let run = |f: fn(&mut [f32], &[f32])| {
            let mut row = xs.clone();
            f(&mut row, &b);
            row.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
        };
        assert_eq!(run(bias_tanh_portable), scalar);
        assert_eq!(run(bias_tanh), scalar);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                assert_eq!(run(|r, b| unsafe { bias_tanh_avx2(r, b) }), scalar);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F.
                assert_eq!(run(|r, b| unsafe { bias_tanh_avx512(r, b) }), scalar);
            }
        }
    }

    #[test]
    fn special_values() {
        assert_eq!(tanh_f32(0.0).to_bits(), 0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0f32).to_bits());
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(100.0), 1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
        let tiny = 1e-30f32;
        assert_eq!(tanh_f32(tiny), tiny);
    }
}
