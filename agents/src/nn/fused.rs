//! The fused CPU kernel of [`Linear`](super::Linear): `act(x·Wᵀ + b)` forward and its backward
//! pass, each a few matrix products into freshly allocated outputs.
//!
//! Built from candle's generic ops, one linear layer with ReLU costs in its backward pass a
//! strided copy of the weight gradient (the weight enters the product transposed), a slow
//! column sum for the bias gradient and four element-wise ops for the ReLU mask — several
//! times the arithmetic of the layer itself for a 64×256 batch. This op does the same
//! computation with one product for the output and three for the gradients, and is checked
//! against the generic path and against finite differences in the tests.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Storage, Tensor};

/// Activations the kernel applies in place; their derivatives are computed from the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FusedAct {
    Identity,
    Relu,
    Tanh,
    Sigmoid,
}

/// Element types of the kernel.
trait Elem: Copy + PartialOrd + 'static {
    const ZERO: Self;
    const ONE: Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// `self · a + b` rounded once (the same bits with or without an FMA unit).
    fn mul_add(self, a: Self, b: Self) -> Self;
    fn tanh(self) -> Self;
    fn sigmoid(self) -> Self;
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    fn storage(v: Vec<Self>) -> CpuStorage;
}

macro_rules! elem {
    ($t:ty, $variant:ident) => {
        impl Elem for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn add(self, o: Self) -> Self {
                self + o
            }
            #[inline(always)]
            fn sub(self, o: Self) -> Self {
                self - o
            }
            #[inline(always)]
            fn mul(self, o: Self) -> Self {
                self * o
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                1.0 / (1.0 + (-self).exp())
            }
            fn slice(s: &CpuStorage) -> Option<&[Self]> {
                match s {
                    CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn storage(v: Vec<Self>) -> CpuStorage {
                CpuStorage::$variant(v)
            }
        }
    };
}

elem!(f32, F32);
elem!(f64, F64);

fn parallelism() -> gemm::Parallelism {
    match candle_core::utils::get_num_threads() {
        0 | 1 => gemm::Parallelism::None,
        n => gemm::Parallelism::Rayon(n),
    }
}

fn contiguous<'a, T: Elem>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [T]> {
    let Some((start, end)) = l.contiguous_offsets() else {
        candle_core::bail!("fused linear: {what} must be contiguous")
    };
    match T::slice(s) {
        Some(v) => Ok(&v[start..end]),
        None => candle_core::bail!("fused linear: {what} has a different dtype"),
    }
}

/// Batches of at most this many rows take [`few_rows`]'s loops instead of gemm, whose packing
/// of the whole weight matrix costs more than the arithmetic of a row or two (acting,
/// evaluation, attacks on one observation).
const FEW_ROWS: usize = 4;

/// `y = act(x·Wᵀ + b)` for `x` `(rows, k)`, `W` `(n, k)`, `b` `(n)`.
fn forward<T: Elem>(
    act: FusedAct,
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    rows: usize,
    k: usize,
    n: usize,
) -> Vec<T> {
    let mut y = vec![T::ZERO; rows * n];
    if rows <= FEW_ROWS {
        few_rows::product(x, w, rows, k, n, &mut y);
    } else {
        // y (rows × n) = x (rows × k) · Wᵀ (k × n), Wᵀ read through W's strides.
        // SAFETY: the strides describe exactly the row-major buffers x (rows·k), w (n·k) and
        // y (rows·n), which gemm reads and writes in bounds.
        unsafe {
            gemm::gemm(
                rows,
                n,
                k,
                y.as_mut_ptr(),
                1,
                n as isize,
                false,
                x.as_ptr(),
                1,
                k as isize,
                w.as_ptr(),
                k as isize,
                1,
                T::ZERO,
                T::ONE,
                false,
                false,
                false,
                parallelism(),
            );
        }
    }
    // Bias and activation in one pass over the output.
    let zeros;
    let b = match b {
        Some(b) => b,
        None => {
            zeros = vec![T::ZERO; n];
            &zeros
        }
    };
    for row in y.chunks_exact_mut(n) {
        match act {
            FusedAct::Identity => row.iter_mut().zip(b).for_each(|(v, &b)| *v = v.add(b)),
            FusedAct::Relu => row.iter_mut().zip(b).for_each(|(v, &b)| {
                let z = v.add(b);
                *v = if z > T::ZERO { z } else { T::ZERO };
            }),
            FusedAct::Tanh => row
                .iter_mut()
                .zip(b)
                .for_each(|(v, &b)| *v = v.add(b).tanh()),
            FusedAct::Sigmoid => row
                .iter_mut()
                .zip(b)
                .for_each(|(v, &b)| *v = v.add(b).sigmoid()),
        }
    }
    y
}

/// Which gradients the backward pass computes: those of the operands that track a graph
/// (an attack differentiates with respect to the input alone, through frozen weights).
#[derive(Clone, Copy, Debug)]
struct Needed {
    dx: bool,
    dw: bool,
    db: bool,
}

/// The gradients of the fused op, each present when [`Needed`] asked for it.
type Grads<T> = (Option<Vec<T>>, Option<Vec<T>>, Option<Vec<T>>);

/// Gradients of the fused op: `(dx, dW, db)` from the output `y` and its gradient `g`.
#[allow(clippy::too_many_arguments)]
fn backward<T: Elem>(
    act: FusedAct,
    x: &[T],
    w: &[T],
    y: &[T],
    g: &[T],
    rows: usize,
    k: usize,
    n: usize,
    needed: Needed,
) -> Grads<T> {
    // Gradient at the pre-activation, from the output.
    let gz: Vec<T> = match act {
        FusedAct::Identity => g.to_vec(),
        FusedAct::Relu => g
            .iter()
            .zip(y)
            .map(|(&g, &y)| if y > T::ZERO { g } else { T::ZERO })
            .collect(),
        FusedAct::Tanh => g
            .iter()
            .zip(y)
            .map(|(&g, &y)| g.mul(T::ONE.sub(y.mul(y))))
            .collect(),
        FusedAct::Sigmoid => g
            .iter()
            .zip(y)
            .map(|(&g, &y)| g.mul(y.mul(T::ONE.sub(y))))
            .collect(),
    };
    let db = needed.db.then(|| {
        let mut db = vec![T::ZERO; n];
        for row in gz.chunks_exact(n) {
            for (d, &v) in db.iter_mut().zip(row) {
                *d = d.add(v);
            }
        }
        db
    });
    let dw = needed.dw.then(|| {
        let mut dw = vec![T::ZERO; n * k];
        if rows <= FEW_ROWS {
            few_rows::weight_gradient(&gz, x, rows, k, n, &mut dw);
            return dw;
        }
        // dW (n × k) = gzᵀ (n × rows) · x (rows × k).
        // SAFETY: strides describe the row-major buffers gz (rows·n), x (rows·k), dw (n·k).
        unsafe {
            gemm::gemm(
                n,
                k,
                rows,
                dw.as_mut_ptr(),
                1,
                k as isize,
                false,
                gz.as_ptr(),
                n as isize,
                1,
                x.as_ptr(),
                1,
                k as isize,
                T::ZERO,
                T::ONE,
                false,
                false,
                false,
                parallelism(),
            );
        }
        dw
    });
    let dx = needed.dx.then(|| {
        let mut dx = vec![T::ZERO; rows * k];
        if rows <= FEW_ROWS {
            few_rows::input_gradient(&gz, w, rows, k, n, &mut dx);
            return dx;
        }
        // dx (rows × k) = gz (rows × n) · W (n × k).
        // SAFETY: strides describe the row-major buffers gz (rows·n), w (n·k), dx (rows·k).
        unsafe {
            gemm::gemm(
                rows,
                k,
                n,
                dx.as_mut_ptr(),
                1,
                k as isize,
                false,
                gz.as_ptr(),
                1,
                n as isize,
                w.as_ptr(),
                1,
                k as isize,
                T::ZERO,
                T::ONE,
                false,
                false,
                false,
                parallelism(),
            );
        }
        dx
    });
    (dx, dw, db)
}

/// The products of a batch of [`FEW_ROWS`] rows or fewer, as dot products and scaled sums of
/// rows, compiled for AVX2 and FMA when the CPU has them. Every product is a fused
/// multiply-add (`mul_add`, rounded once whether or not the CPU has an FMA unit) in a fixed
/// order, so results do not depend on the CPU.
mod few_rows {
    use super::Elem;

    /// Running sums of a dot product: enough independent chains to keep two FMA units busy.
    const LANES: usize = 32;

    /// Compiles `$body` (a call of an `#[inline(always)]` function) for AVX2 + FMA when the
    /// CPU has them, and as it is otherwise.
    macro_rules! dispatch {
        ($name:ident($($arg:ident: $ty:ty),*) $body:block) => {
            pub(super) fn $name<T: Elem>($($arg: $ty),*) {
                #[cfg(target_arch = "x86_64")]
                {
                    /// # Safety
                    /// The CPU must support AVX2 and FMA.
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn fast<T: Elem>($($arg: $ty),*) $body
                    if std::arch::is_x86_feature_detected!("avx2")
                        && std::arch::is_x86_feature_detected!("fma")
                    {
                        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
                        unsafe { fast($($arg),*) };
                        return;
                    }
                }
                $body
            }
        };
    }

    /// `Σ aᵢ·bᵢ` over [`LANES`] running sums, added up in a fixed order.
    #[inline(always)]
    fn dot<T: Elem>(a: &[T], b: &[T]) -> T {
        let mut acc = [T::ZERO; LANES];
        let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (a, b) in ca.zip(cb) {
            for ((s, &x), &y) in acc.iter_mut().zip(a).zip(b) {
                *s = x.mul_add(y, *s);
            }
        }
        let mut sum = T::ZERO;
        for (&x, &y) in ra.iter().zip(rb) {
            sum = x.mul_add(y, sum);
        }
        acc.iter().fold(sum, |s, &v| s.add(v))
    }

    /// `out += c · row`, element by element.
    #[inline(always)]
    fn axpy<T: Elem>(c: T, row: &[T], out: &mut [T]) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = c.mul_add(v, *o);
        }
    }

    dispatch!(product(x: &[T], w: &[T], rows: usize, k: usize, n: usize, y: &mut [T]) {
        // y (rows × n) = x · Wᵀ: output j of a row is the dot product with W's row j.
        for (xr, yr) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)).take(rows) {
            for (yj, wj) in yr.iter_mut().zip(w.chunks_exact(k)) {
                *yj = dot(xr, wj);
            }
        }
    });

    dispatch!(input_gradient(gz: &[T], w: &[T], rows: usize, k: usize, n: usize, dx: &mut [T]) {
        // dx (rows × k) = gz · W: the weight rows, each scaled by its output's gradient.
        for (gr, dxr) in gz.chunks_exact(n).zip(dx.chunks_exact_mut(k)).take(rows) {
            for (&c, wj) in gr.iter().zip(w.chunks_exact(k)) {
                axpy(c, wj, dxr);
            }
        }
    });

    dispatch!(weight_gradient(gz: &[T], x: &[T], rows: usize, k: usize, n: usize, dw: &mut [T]) {
        // dW (n × k) = gzᵀ · x: row j sums the inputs, each scaled by output j's gradient.
        for (gr, xr) in gz.chunks_exact(n).zip(x.chunks_exact(k)).take(rows) {
            for (&c, dwj) in gr.iter().zip(dw.chunks_exact_mut(k)) {
                axpy(c, xr, dwj);
            }
        }
    });
}

/// The op: `act(x·Wᵀ [+ b])`, registered with candle as a custom op with a backward pass.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FusedLinear {
    pub act: FusedAct,
}

impl FusedLinear {
    fn fwd(
        &self,
        x: (&CpuStorage, &Layout),
        w: (&CpuStorage, &Layout),
        b: Option<(&CpuStorage, &Layout)>,
    ) -> Result<(CpuStorage, Shape)> {
        let (rows, k) = x.1.shape().dims2()?;
        let (n, k2) = w.1.shape().dims2()?;
        if k != k2 {
            candle_core::bail!("fused linear: input width {k} but weight {:?}", w.1.dims())
        }
        macro_rules! run {
            ($t:ty) => {{
                let xs = contiguous::<$t>(x.0, x.1, "input")?;
                let ws = contiguous::<$t>(w.0, w.1, "weight")?;
                let bs = match b {
                    Some((s, l)) => Some(contiguous::<$t>(s, l, "bias")?),
                    None => None,
                };
                <$t>::storage(forward(self.act, xs, ws, bs, rows, k, n))
            }};
        }
        let out = match x.0 {
            CpuStorage::F32(_) => run!(f32),
            CpuStorage::F64(_) => run!(f64),
            other => candle_core::bail!("fused linear: unsupported dtype {:?}", other.dtype()),
        };
        Ok((out, Shape::from((rows, n))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (rows, k) = x.dims2()?;
        let n = w.dim(0)?;
        let grad = grad.contiguous()?;
        let needed = Needed {
            dx: x.track_op(),
            dw: w.track_op(),
            db: b.is_some_and(Tensor::track_op),
        };
        let (xs, xl) = x.storage_and_layout();
        let (ws, wl) = w.storage_and_layout();
        let (ys, yl) = res.storage_and_layout();
        let (gs, gl) = grad.storage_and_layout();
        let (Storage::Cpu(xs), Storage::Cpu(ws), Storage::Cpu(ys), Storage::Cpu(gs)) =
            (&*xs, &*ws, &*ys, &*gs)
        else {
            candle_core::bail!("fused linear: backward on a non-CPU tensor")
        };
        let dev = x.device();
        macro_rules! run {
            ($t:ty) => {{
                let (dx, dw, db) = backward::<$t>(
                    self.act,
                    contiguous(xs, xl, "input")?,
                    contiguous(ws, wl, "weight")?,
                    contiguous(ys, yl, "output")?,
                    contiguous(gs, gl, "gradient")?,
                    rows,
                    k,
                    n,
                    needed,
                );
                (
                    dx.map(|v| Tensor::from_vec(v, (rows, k), dev))
                        .transpose()?,
                    dw.map(|v| Tensor::from_vec(v, (n, k), dev)).transpose()?,
                    db.map(|v| Tensor::from_vec(v, n, dev)).transpose()?,
                )
            }};
        }
        Ok(match xs {
            CpuStorage::F32(_) => run!(f32),
            CpuStorage::F64(_) => run!(f64),
            other => candle_core::bail!("fused linear: unsupported dtype {:?}", other.dtype()),
        })
    }
}

/// [`FusedLinear`] with a bias: `(x, W, b)`.
pub(crate) struct WithBias(pub FusedLinear);

/// [`FusedLinear`] without a bias: `(x, W)`.
pub(crate) struct NoBias(pub FusedLinear);

impl CustomOp3 for WithBias {
    fn name(&self) -> &'static str {
        "qlab-fused-linear"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.0.fwd((s1, l1), (s2, l2), Some((s3, l3)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        self.0.bwd(x, w, Some(b), res, grad)
    }
}

impl CustomOp2 for NoBias {
    fn name(&self) -> &'static str {
        "qlab-fused-linear-no-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.0.fwd((s1, l1), (s2, l2), None)
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, _) = self.0.bwd(x, w, None, res, grad)?;
        Ok((dx, dw))
    }
}
