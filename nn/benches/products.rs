//! The matrix products of one DQN update (batch 64, a 256-wide hidden layer) on one CPU
//! thread, against the core's measured peak.
//!
//! ```text
//! cargo bench -p qlab-nn --bench products                          # gemm with AVX-512
//! cargo bench -p qlab-nn --bench products --no-default-features    # gemm on AVX2 + FMA
//! ```
//!
//! The peak is a loop of independent fused multiply-adds on registers (twelve chains, more
//! than latency × throughput on current cores), AVX2 (8 lanes) and, where the CPU has it,
//! AVX-512 (16 lanes). The products are the three shapes of the middle layer's work in a
//! DQN step, each 64·256·256 multiply-adds (8.4 MFLOP):
//! forward `y = x·Wᵀ`, input gradient `dx = gz·W`, weight gradient `dW = gzᵀ·x`, through
//! `gemm` (what the fused linear op calls) and through candle's `matmul` (the generic path).
//! The fused op's own forward (`forward_rows`, which copies `Wᵀ` first) and backward
//! (`backward_rows`) are timed beside them. Each call is timed on its own after a warm-up;
//! the median and the 10th percentile are printed in microseconds with the GFLOP/s they
//! give.

use std::hint::black_box;
use std::time::Instant;

use candle_core::{Device, Tensor};
use qlab_nn::FusedAct;

const ROWS: usize = 64;
const K: usize = 256;
const N: usize = 256;
const WARMUP: usize = 200;
const SAMPLES: usize = 2000;

fn time_calls(mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..WARMUP {
        f();
    }
    let mut xs: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[xs.len() / 10])
}

/// FMA chains in flight in the peak loops.
const CHAINS: usize = 12;
/// Iterations of a peak loop (each `CHAINS` FMAs).
const ITERS: usize = 20_000_000;

/// GFLOP/s of `ITERS · CHAINS` 8-lane FMAs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn peak_avx2() -> f64 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_ps(0.0); CHAINS];
    let a = _mm256_set1_ps(black_box(0.999_999));
    let b = _mm256_set1_ps(black_box(1e-7));
    let t0 = Instant::now();
    for _ in 0..ITERS {
        for c in acc.iter_mut() {
            *c = _mm256_fmadd_ps(*c, a, b);
        }
    }
    let s = t0.elapsed().as_secs_f64();
    black_box(acc);
    (ITERS * CHAINS * 8 * 2) as f64 / s / 1e9
}

/// GFLOP/s of `ITERS · CHAINS` 16-lane FMAs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn peak_avx512() -> f64 {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_set1_ps(0.0); CHAINS];
    let a = _mm512_set1_ps(black_box(0.999_999));
    let b = _mm512_set1_ps(black_box(1e-7));
    let t0 = Instant::now();
    for _ in 0..ITERS {
        for c in acc.iter_mut() {
            *c = _mm512_fmadd_ps(*c, a, b);
        }
    }
    let s = t0.elapsed().as_secs_f64();
    black_box(acc);
    (ITERS * CHAINS * 16 * 2) as f64 / s / 1e9
}

/// The best of three runs of a peak loop.
fn best_of_three(f: impl Fn() -> f64) -> f64 {
    (0..3).map(|_| f()).fold(0.0, f64::max)
}

fn data(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

/// `dst (m × n) = lhs · rhs` through gemm on this thread; operands as (pointer, column
/// stride, row stride).
///
/// # Safety
/// The strides must address only elements of the buffers the pointers point into, and `dst`
/// must hold `m·n` elements.
unsafe fn product(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    lhs: (*const f32, isize, isize),
    rhs: (*const f32, isize, isize),
) {
    assert!(dst.len() >= m * n);
    let (dst_cs, dst_rs) = (1, n as isize);
    // SAFETY: the caller's contract; dst is row-major m × n.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs,
            dst_rs,
            false,
            lhs.0,
            lhs.1,
            lhs.2,
            rhs.0,
            rhs.1,
            rhs.2,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

fn report(name: &str, (median, p10): (f64, f64), flops: f64, peak: f64) {
    let g = |us: f64| flops / us / 1e3;
    println!(
        "{name}: median {median:7.1} us {:6.1} GFLOP/s ({:4.1}% of peak)  p10 {p10:7.1} us {:6.1} GFLOP/s",
        g(median),
        100.0 * g(median) / peak,
        g(p10),
    );
}

fn main() -> candle_core::Result<()> {
    // SAFETY: first statement of main, no other thread exists yet.
    unsafe { qlab_nn::set_cpu_threads(1) };

    #[cfg(target_arch = "x86_64")]
    let (avx2, avx512) = (
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
        is_x86_feature_detected!("avx512f"),
    );
    #[cfg(not(target_arch = "x86_64"))]
    let (avx2, avx512) = (false, false);
    let kernels = if cfg!(feature = "avx512") && avx512 {
        "AVX-512"
    } else if avx2 {
        "AVX2 + FMA"
    } else {
        "portable"
    };
    println!(
        "one thread; gemm kernels: {kernels} (qlab-nn feature `avx512` {}, CPU avx512f {avx512})",
        if cfg!(feature = "avx512") {
            "on"
        } else {
            "off"
        }
    );

    let mut peak = 0.0f64;
    #[cfg(target_arch = "x86_64")]
    {
        if avx2 {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            let p = best_of_three(|| unsafe { peak_avx2() });
            println!("peak, AVX2 FMA ({CHAINS} chains, 8 lanes):     {p:6.1} GFLOP/s");
            peak = peak.max(p);
        }
        if avx512 {
            // SAFETY: the CPU has AVX-512F (checked above).
            let p = best_of_three(|| unsafe { peak_avx512() });
            println!("peak, AVX-512 FMA ({CHAINS} chains, 16 lanes): {p:6.1} GFLOP/s");
            peak = peak.max(p);
        }
    }
    if peak == 0.0 {
        peak = f64::NAN;
    }

    let flops = (2 * ROWS * K * N) as f64;
    let x = data(ROWS * K, 1);
    let w = data(N * K, 2);
    let gz = data(ROWS * N, 3);
    let mut out = vec![0.0f32; N * K];
    let (xp, wp, gp) = (x.as_ptr(), w.as_ptr(), gz.as_ptr());
    let (k, n) = (K as isize, N as isize);

    // SAFETY (all three): the strides describe the row-major buffers x (ROWS·K), w (N·K)
    // and gz (ROWS·N); out holds N·K ≥ every product's elements.
    report(
        "gemm   forward y = x·Wᵀ  (64×256·256×256)",
        time_calls(|| unsafe { product((ROWS, N, K), &mut out, (xp, 1, k), (wp, k, 1)) }),
        flops,
        peak,
    );
    report(
        "gemm   input  dx = gz·W  (64×256·256×256)",
        time_calls(|| unsafe { product((ROWS, K, N), &mut out, (gp, 1, n), (wp, 1, k)) }),
        flops,
        peak,
    );
    report(
        "gemm   weight dW = gzᵀ·x (256×64·64×256)",
        time_calls(|| unsafe { product((N, K, ROWS), &mut out, (gp, n, 1), (xp, 1, k)) }),
        flops,
        peak,
    );
    black_box(&out);

    // The fused linear op's products (qlab-nn's forward and backward functions; identity
    // activation, every unit live, so the gradients are plain gemm products).
    let dev = Device::Cpu;
    let w_tensor = Tensor::from_vec(w.clone(), (N, K), &dev)?;
    report(
        "qlab-nn forward_rows  y = x·Wᵀ",
        time_calls(|| {
            black_box(qlab_nn::forward_rows(
                FusedAct::Identity,
                &x,
                ROWS,
                &w_tensor,
                None,
            ));
        }),
        flops,
        peak,
    );
    let y = qlab_nn::forward_rows(FusedAct::Identity, &x, ROWS, &w_tensor, None)
        .expect("contiguous f32 weight");
    report(
        "qlab-nn backward_rows dx and dW (two products)",
        time_calls(|| {
            black_box(qlab_nn::backward_rows(
                FusedAct::Identity,
                &x,
                &y,
                &gz,
                ROWS,
                &w_tensor,
                false,
                true,
            ));
        }),
        2.0 * flops,
        peak,
    );

    let xt = Tensor::from_vec(x, (ROWS, K), &dev)?;
    let wt = Tensor::from_vec(w, (N, K), &dev)?;
    let gt = Tensor::from_vec(gz, (ROWS, N), &dev)?;
    let wtt = wt.t()?;
    let gtt = gt.t()?;
    report(
        "candle forward  x.matmul(W.t())",
        time_calls(|| {
            black_box(xt.matmul(&wtt).expect("matmul"));
        }),
        flops,
        peak,
    );
    report(
        "candle input    gz.matmul(W)",
        time_calls(|| {
            black_box(gt.matmul(&wt).expect("matmul"));
        }),
        flops,
        peak,
    );
    report(
        "candle weight   gz.t().matmul(x)",
        time_calls(|| {
            black_box(gtt.matmul(&xt).expect("matmul"));
        }),
        flops,
        peak,
    );
    Ok(())
}
