use super::Elem;

/// Width of the running sums: one AVX register of `f32`.
const LANES: usize = 8;

/// The lanes of a running sum added up as a balanced tree.
#[inline(always)]
fn reduce<T: Elem>(a: [T; LANES]) -> T {
    let q = [
        a[0].add(a[4]),
        a[1].add(a[5]),
        a[2].add(a[6]),
        a[3].add(a[7]),
    ];
    q[0].add(q[2]).add(q[1].add(q[3]))
}

/// `Σ xᵢ·wᵢ` for each of the `R` rows `w` (each at least as long as `x`).
fn dots<T: Elem, const R: usize>(x: &[T], w: [&[T]; R]) -> [T; R] {
    let full = x.len() / LANES * LANES;
    let mut out = [T::ZERO; R];
    for (o, wr) in out.iter_mut().zip(w) {
        let mut acc = [T::ZERO; LANES];
        for (xs, ws) in x[..full].chunks_exact(LANES).zip(wr.chunks_exact(LANES)) {
            for ((s, &xv), &wv) in acc.iter_mut().zip(xs).zip(ws) {
                *s = xv.mul_add(wv, *s);
            }
        }
        let mut tail = T::ZERO;
        for (&xv, &wv) in x[full..].iter().zip(&wr[full..]) {
            tail = xv.mul_add(wv, tail);
        }
        *o = reduce(acc).add(tail);
    }
    out
}

/// `out += Σᵣ cᵣ·wᵣ`, the rows added one after the other, element by element.
fn axpys<T: Elem, const R: usize>(c: [T; R], w: [&[T]; R], out: &mut [T]) {
    for (i, o) in out.iter_mut().enumerate() {
        let mut v = *o;
        for (&cr, wr) in c.iter().zip(&w) {
            v = cr.mul_add(wr[i], v);
        }
        *o = v;
    }
}

/// The `R` consecutive rows of length `k` in `w`.
fn split<T, const R: usize>(w: &[T], k: usize) -> [&[T]; R] {
    std::array::from_fn(|r| &w[r * k..(r + 1) * k])
}

/// Weight rows a dot-product kernel takes at once: eight running sums in flight hide
/// the FMA's latency.
const DOT_ROWS: usize = 8;

/// The kernels a product runs on: [`DOT_ROWS`] or four rows at a time, and one.
pub(super) struct Kernels<T> {
    pub dots8: fn(&[T], [&[T]; DOT_ROWS]) -> [T; DOT_ROWS],
    pub dot: fn(&[T], &[T]) -> T,
    pub axpy4: fn([T; 4], [&[T]; 4], &mut [T]),
    pub axpy: fn(T, &[T], &mut [T]),
}

/// The portable kernels, or the AVX2 ones for `f32` on a CPU that has AVX2 and FMA.
fn kernels<T: Elem>() -> Kernels<T> {
    #[cfg(target_arch = "x86_64")]
    if let Some(k) = T::avx_kernels() {
        return k;
    }
    portable()
}

/// The portable kernels.
pub(super) fn portable<T: Elem>() -> Kernels<T> {
    Kernels {
        dots8: dots::<T, DOT_ROWS>,
        dot: |x, w| dots(x, [w])[0],
        axpy4: axpys::<T, 4>,
        axpy: |c, w, out| axpys([c], [w], out),
    }
}

/// `y (rows × n) = x · Wᵀ`: output `j` of a row is its dot product with `W`'s row `j`;
/// [`DOT_ROWS`] weight rows at a time share each load of the input.
pub(super) fn product<T: Elem>(x: &[T], w: &[T], rows: usize, k: usize, n: usize, y: &mut [T]) {
    if k == 0 || n == 0 {
        return;
    }
    let kern = kernels::<T>();
    for (xr, yr) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)).take(rows) {
        let mut wq = w.chunks_exact(DOT_ROWS * k);
        let mut yq = yr.chunks_exact_mut(DOT_ROWS);
        for (ws, ys) in (&mut wq).zip(&mut yq) {
            ys.copy_from_slice(&(kern.dots8)(xr, split(ws, k)));
        }
        for (yj, wj) in yq
            .into_remainder()
            .iter_mut()
            .zip(wq.remainder().chunks_exact(k))
        {
            *yj = (kern.dot)(xr, wj);
        }
    }
}

/// `dx (rows × k) = gz · W`: `W`'s rows, each scaled by its output's gradient, added in
/// order.
pub(super) fn input_gradient<T: Elem>(
    gz: &[T],
    w: &[T],
    rows: usize,
    k: usize,
    n: usize,
    dx: &mut [T],
) {
    if k == 0 || n == 0 {
        return;
    }
    let kern = kernels::<T>();
    for (gr, dxr) in gz.chunks_exact(n).zip(dx.chunks_exact_mut(k)).take(rows) {
        let mut w4 = w.chunks_exact(4 * k);
        let mut g4 = gr.chunks_exact(4);
        for (wq, gq) in (&mut w4).zip(&mut g4) {
            (kern.axpy4)([gq[0], gq[1], gq[2], gq[3]], split(wq, k), dxr);
        }
        for (&c, wj) in g4.remainder().iter().zip(w4.remainder().chunks_exact(k)) {
            (kern.axpy)(c, wj, dxr);
        }
    }
}

/// `dW (n × k) = gzᵀ · x`: row `j` sums the input rows, each scaled by output `j`'s
/// gradient, in order.
pub(super) fn weight_gradient<T: Elem>(
    gz: &[T],
    x: &[T],
    rows: usize,
    k: usize,
    n: usize,
    dw: &mut [T],
) {
    if k == 0 || n == 0 {
        return;
    }
    let kern = kernels::<T>();
    for (gr, xr) in gz.chunks_exact(n).zip(x.chunks_exact(k)).take(rows) {
        for (&c, dwj) in gr.iter().zip(dw.chunks_exact_mut(k)) {
            (kern.axpy)(c, xr, dwj);
        }
    }
}

/// The AVX2 + FMA kernels for `f32`: the portable ones' arithmetic, step for step.
#[cfg(target_arch = "x86_64")]
pub(super) mod avx {
    use std::arch::x86_64::*;

    use super::{DOT_ROWS, Kernels, LANES};

    /// The kernels, when the CPU has AVX2 and FMA.
    pub fn kernels() -> Option<Kernels<f32>> {
        let ok = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        ok.then_some(Kernels {
            // SAFETY (all four): the CPU has AVX2 and FMA, checked just above.
            dots8: |x, w| unsafe { dots::<DOT_ROWS>(x, w) },
            dot: |x, w| unsafe { dots::<1>(x, [w]) }[0],
            axpy4: |c, w, out| unsafe { axpys::<4>(c, w, out) },
            axpy: |c, w, out| unsafe { axpys::<1>([c], [w], out) },
        })
    }

    /// [`super::reduce`] on a register.
    #[target_feature(enable = "avx2,fma")]
    fn reduce(a: __m256) -> f32 {
        // q = (a0+a4, a1+a5, a2+a6, a3+a7); then (q0+q2) + (q1+q3).
        let q = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a));
        let t = _mm_add_ps(q, _mm_movehl_ps(q, q));
        _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps::<1>(t, t)))
    }

    /// [`super::dots`].
    #[target_feature(enable = "avx2,fma")]
    fn dots<const R: usize>(x: &[f32], w: [&[f32]; R]) -> [f32; R] {
        let k = x.len();
        assert!(
            w.iter().all(|r| r.len() >= k),
            "weight rows shorter than the input"
        );
        let full = k / LANES * LANES;
        let mut acc = [_mm256_setzero_ps(); R];
        for i in (0..full).step_by(LANES) {
            // SAFETY: i + LANES ≤ full ≤ k, within x and every row (asserted above).
            let xv = unsafe { _mm256_loadu_ps(x.as_ptr().add(i)) };
            for (a, wr) in acc.iter_mut().zip(&w) {
                // SAFETY: as above.
                let wv = unsafe { _mm256_loadu_ps(wr.as_ptr().add(i)) };
                *a = _mm256_fmadd_ps(xv, wv, *a);
            }
        }
        let mut out = [0.0; R];
        for ((o, a), wr) in out.iter_mut().zip(acc).zip(w) {
            let mut tail = 0.0f32;
            for (&xv, &wv) in x[full..].iter().zip(&wr[full..k]) {
                tail = xv.mul_add(wv, tail);
            }
            *o = reduce(a) + tail;
        }
        out
    }

    /// [`super::axpys`].
    #[target_feature(enable = "avx2,fma")]
    fn axpys<const R: usize>(c: [f32; R], w: [&[f32]; R], out: &mut [f32]) {
        let k = out.len();
        assert!(
            w.iter().all(|r| r.len() >= k),
            "weight rows shorter than the output"
        );
        let full = k / LANES * LANES;
        let mut cv = [_mm256_setzero_ps(); R];
        for (v, &cr) in cv.iter_mut().zip(&c) {
            *v = _mm256_set1_ps(cr);
        }
        for i in (0..full).step_by(LANES) {
            // SAFETY: i + LANES ≤ full ≤ k, within out and every row (asserted above).
            let mut o = unsafe { _mm256_loadu_ps(out.as_ptr().add(i)) };
            for (v, wr) in cv.iter().zip(&w) {
                // SAFETY: as above.
                let wv = unsafe { _mm256_loadu_ps(wr.as_ptr().add(i)) };
                o = _mm256_fmadd_ps(*v, wv, o);
            }
            // SAFETY: as above.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(i), o) };
        }
        for (i, o) in out.iter_mut().enumerate().skip(full) {
            let mut v = *o;
            for (&cr, wr) in c.iter().zip(&w) {
                v = cr.mul_add(wr[i], v);
            }
            *o = v;
        }
    }
}
