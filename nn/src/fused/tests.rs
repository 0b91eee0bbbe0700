use super::few_rows::{self, avx};
use super::{FusedAct, LiveUnits, chain_path};
use qlab_rng::EnvRng;

fn data(n: usize, rng: &mut EnvRng) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
        .collect()
}

/// `rows × n` gradients: `dead` of the units zero in every row, and `zeros` of the
/// other values zero.
fn gradients(rows: usize, n: usize, dead: f64, zeros: f64, rng: &mut EnvRng) -> Vec<f32> {
    let is_dead: Vec<bool> = (0..n).map(|_| rng.next_f64() < dead).collect();
    (0..rows * n)
        .map(|q| {
            let v = (rng.next_f64() * 2.0 - 1.0) as f32;
            if is_dead[q % n] || rng.next_f64() < zeros {
                0.0
            } else {
                v
            }
        })
        .collect()
}

#[test]
fn products_over_live_units_give_gemms_bits() {
    if !chain_path(64, 256, 256) {
        return; // gemm sums in other orders without FMA
    }
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let mut rng = EnvRng::new(5);
    // A 256-wide layer on a batch of 64 and the 4-wide input layer's weight gradient,
    // from all units live to none; with one or two live units gemm's path changes, and
    // the products fall back to it.
    for (rows, n, k) in [(64, 256, 256), (64, 256, 4), (40, 300, 37)] {
        for dead in [0.0, 0.7, 0.99, 1.0] {
            let gz = gradients(rows, n, dead, 0.1, &mut rng);
            let w = data(n * k, &mut rng);
            let x = data(rows * k, &mut rng);
            // SAFETY: the strides describe the row-major buffers.
            let (dx, dw) = unsafe {
                (
                    super::gemm_product(rows, k, n, (gz.as_ptr(), 1, n), (w.as_ptr(), 1, k)),
                    super::gemm_product(n, k, rows, (gz.as_ptr(), n, 1), (x.as_ptr(), 1, k)),
                )
            };
            let Some(live) = LiveUnits::of(&gz, rows, n) else {
                assert_eq!(dead, 0.0, "units dead but none found");
                continue;
            };
            let got = [
                live.input_gradient(&w, n, k),
                live.weight_gradient(&x, n, k),
            ];
            // Where gemm sums the whole product as chains, the live units' product is
            // taken (unless one or two units leave gemm another path).
            let chains = [chain_path(rows, k, n), chain_path(n, k, rows)];
            if dead == 0.7 || dead == 1.0 {
                for (got, chains) in got.iter().zip(chains) {
                    assert_eq!(got.is_some(), chains, "{rows}×{n}×{k}, {dead} dead");
                }
            }
            for (name, got, want) in [("dx", &got[0], &dx), ("dW", &got[1], &dw)] {
                if let Some(got) = got {
                    let same = bits(got) == bits(want);
                    assert!(same, "{name} {rows}×{n}×{k}, {dead} dead: other bits");
                }
            }
        }
    }
}

#[test]
fn avx_kernels_give_the_portable_bits() {
    let Some(fast) = avx::kernels() else {
        return; // nothing to compare on a CPU without AVX2 and FMA
    };
    let slow = few_rows::portable::<f32>();
    let mut rng = EnvRng::new(3);
    // Lengths with and without a tail after the eight-lane chunks.
    for k in [1, 8, 37, 256] {
        let x = data(k, &mut rng);
        let w = data(8 * k, &mut rng);
        let rows8: [&[f32]; 8] = std::array::from_fn(|r| &w[r * k..(r + 1) * k]);
        let rows = [rows8[0], rows8[1], rows8[2], rows8[3]];
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&(fast.dots8)(&x, rows8)),
            bits(&(slow.dots8)(&x, rows8))
        );
        assert_eq!(
            (fast.dot)(&x, rows[1]).to_bits(),
            (slow.dot)(&x, rows[1]).to_bits()
        );
        let c = [0.5, -1.25, 3.0, 1e-3];
        let (mut a, mut b) = (x.clone(), x.clone());
        (fast.axpy4)(c, rows, &mut a);
        (slow.axpy4)(c, rows, &mut b);
        (fast.axpy)(-2.0, rows[2], &mut a);
        (slow.axpy)(-2.0, rows[2], &mut b);
        assert_eq!(bits(&a), bits(&b));
    }
}

#[test]
fn the_forward_through_a_copy_of_w_keeps_gemms_bits() {
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let mut rng = EnvRng::new(7);
    // The middle and first layers of a DQN batch, odd sizes with tile edges, and a head
    // (64 × 2: gemm's small-output path, which keeps W's own layout).
    for (rows, n, k) in [
        (64, 256, 256),
        (64, 256, 4),
        (40, 300, 37),
        (5, 9, 3),
        (64, 2, 256),
    ] {
        let w = data(n * k, &mut rng);
        let x = data(rows * k, &mut rng);
        // SAFETY: the strides describe the row-major buffers x (rows·k) and w (n·k).
        let want =
            unsafe { super::gemm_product(rows, n, k, (x.as_ptr(), 1, k), (w.as_ptr(), k, 1)) };
        let got = super::forward(FusedAct::Identity, &x, &w, None, rows, k, n);
        assert_eq!(bits(&got), bits(&want), "{rows}×{n}×{k}");
    }
}
