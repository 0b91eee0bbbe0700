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
///
/// The [`Activation`](crate::Activation)s that the fused op computes (all but gelu), as
/// [`forward_rows`] and [`backward_rows`] take them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FusedAct {
    /// `x`.
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + e⁻ˣ)`.
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
    /// `row[j] = tanh(row[j] + b[j])`.
    fn bias_tanh(row: &mut [Self], b: &[Self]) {
        row.iter_mut()
            .zip(b)
            .for_each(|(v, &b)| *v = v.add(b).tanh());
    }
    fn sigmoid(self) -> Self;
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    fn storage(v: Vec<Self>) -> CpuStorage;
    /// The few-rows kernels compiled for AVX2, where this type has them and the CPU can run
    /// them.
    #[cfg(target_arch = "x86_64")]
    fn avx_kernels() -> Option<few_rows::Kernels<Self>> {
        None
    }
}

macro_rules! elem {
    ($t:ty, $variant:ident, $tanh:path $(, { $($extra:tt)* })?) => {
        impl Elem for $t {
            $($($extra)*)?
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
                $tanh(self)
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

// f32's tanh vectorizes (tanh.rs); f64 keeps libm's, for the gradient checks' precision.
elem!(f32, F32, tanh::tanh_f32, {
    fn bias_tanh(row: &mut [f32], b: &[f32]) {
        tanh::bias_tanh(row, b)
    }
    #[cfg(target_arch = "x86_64")]
    fn avx_kernels() -> Option<few_rows::Kernels<f32>> {
        few_rows::avx::kernels()
    }
});
elem!(f64, F64, f64::tanh);

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

/// An operand of [`gemm_product`]: its first element, and its column and row strides.
type Operand<T> = (*const T, usize, usize);

/// The `m × n` product `lhs · rhs` (inner dimension `k`) as a new row-major buffer. gemm
/// overwrites its destination without reading it, so the buffer is not zeroed first.
///
/// # Safety
/// Each operand's strides must address only elements of the buffer it points into.
unsafe fn gemm_product<T: Elem>(
    m: usize,
    n: usize,
    k: usize,
    lhs: Operand<T>,
    rhs: Operand<T>,
) -> Vec<T> {
    if k == 0 {
        // An empty sum: gemm would have nothing to write.
        return vec![T::ZERO; m * n];
    }
    let mut dst = Vec::with_capacity(m * n);
    // SAFETY: dst holds m·n elements, addressed row-major; the operands are the caller's.
    // With `read_dst = false` and k > 0 gemm writes every element of dst without reading
    // it, so all m·n are initialised when the length is set.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.0,
            lhs.1 as isize,
            lhs.2 as isize,
            rhs.0,
            rhs.1 as isize,
            rhs.2 as isize,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            parallelism(),
        );
        dst.set_len(m * n);
    }
    dst
}

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
    let mut y = if rows <= FEW_ROWS {
        let mut y = vec![T::ZERO; rows * n];
        few_rows::product(x, w, rows, k, n, &mut y);
        y
    } else if chain_path(rows, n, k) {
        // y (rows × n) = x (rows × k) · Wᵀ (k × n), Wᵀ copied out first: gemm sums each
        // output as one chain either way, and packs this layout faster (transpose.rs).
        let wt = transpose::transposed(w, n, k);
        // SAFETY: the strides describe the row-major buffers x (rows·k) and wt (k·n).
        unsafe { gemm_product(rows, n, k, (x.as_ptr(), 1, k), (wt.as_ptr(), 1, n)) }
    } else {
        // y (rows × n) = x (rows × k) · Wᵀ (k × n), Wᵀ read through W's strides.
        // SAFETY: the strides describe the row-major buffers x (rows·k) and w (n·k).
        unsafe { gemm_product(rows, n, k, (x.as_ptr(), 1, k), (w.as_ptr(), k, 1)) }
    };
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
            FusedAct::Tanh => T::bias_tanh(row, b),
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
    // Scanned only for batches past the few-rows kernels, and only when a product uses it.
    let live = (rows > FEW_ROWS && (needed.dw || needed.dx))
        .then(|| LiveUnits::of(&gz, rows, n))
        .flatten();
    let dw = needed.dw.then(|| {
        if rows <= FEW_ROWS {
            let mut dw = vec![T::ZERO; n * k];
            few_rows::weight_gradient(&gz, x, rows, k, n, &mut dw);
            return dw;
        }
        // dW (n × k) = gzᵀ (n × rows) · x (rows × k).
        if let Some(dw) = live.as_ref().and_then(|l| l.weight_gradient(x, n, k)) {
            return dw;
        }
        // SAFETY: the strides describe the row-major buffers gz (rows·n) and x (rows·k).
        unsafe { gemm_product(n, k, rows, (gz.as_ptr(), n, 1), (x.as_ptr(), 1, k)) }
    });
    let dx = needed.dx.then(|| {
        if rows <= FEW_ROWS {
            let mut dx = vec![T::ZERO; rows * k];
            few_rows::input_gradient(&gz, w, rows, k, n, &mut dx);
            return dx;
        }
        // dx (rows × k) = gz (rows × n) · W (n × k).
        if let Some(dx) = live.as_ref().and_then(|l| l.input_gradient(w, n, k)) {
            return dx;
        }
        // SAFETY: the strides describe the row-major buffers gz (rows·n) and w (n·k).
        unsafe { gemm_product(rows, k, n, (gz.as_ptr(), 1, n), (w.as_ptr(), 1, k)) }
    });
    (dx, dw, db)
}

/// The output units of a layer whose gradient `gz` is nonzero in some row of the batch, and
/// `gz`'s columns for them (`rows × live.len()`). Behind a ReLU most units are zero for a
/// whole batch (70% of the second hidden layer in trained CartPole Q-networks): their columns
/// add only zero terms to `dx = gz·W` and give rows of zeros in `dW = gzᵀ·x`. gemm's sums
/// are FMA chains from `+0` over the inner index in order (for an inner dimension up to 512,
/// on its FMA kernels), and a zero term changes no such sum while the other factor is
/// finite — the sum is never `−0` and `s + ±0 = s` — so the products over the live units
/// alone have gemm's bits, in a fraction of its time.
struct LiveUnits<T> {
    live: Vec<usize>,
    gz: Vec<T>,
    rows: usize,
}

impl<T: Elem> LiveUnits<T> {
    /// The live units of `gz` (`rows × n`), or `None` when every unit is live.
    fn of(gz: &[T], rows: usize, n: usize) -> Option<Self> {
        let mut any = vec![false; n];
        for row in gz.chunks_exact(n) {
            for (a, &v) in any.iter_mut().zip(row) {
                *a |= v != T::ZERO;
            }
        }
        let live: Vec<usize> = (0..n).filter(|&j| any[j]).collect();
        if live.len() == n {
            return None;
        }
        let mut g = vec![T::ZERO; rows * live.len()];
        for (dst, row) in g
            .chunks_exact_mut(live.len().max(1))
            .zip(gz.chunks_exact(n))
        {
            for (d, &j) in dst.iter_mut().zip(&live) {
                *d = row[j];
            }
        }
        Some(LiveUnits { live, gz: g, rows })
    }

    /// `dx = gz · W` (`rows × k`), `W` `n × k`: the sums over the live units alone. `None`
    /// where gemm would not sum over all units, or over the live ones, as plain chains.
    fn input_gradient(&self, w: &[T], n: usize, k: usize) -> Option<Vec<T>> {
        let (rows, l) = (self.rows, self.live.len());
        if !chain_path(rows, k, n) {
            return None;
        }
        if l == 0 {
            return Some(vec![T::ZERO; rows * k]);
        }
        if !chain_path(rows, k, l) {
            return None;
        }
        let mut wl = Vec::with_capacity(l * k);
        for &j in &self.live {
            wl.extend_from_slice(&w[j * k..(j + 1) * k]);
        }
        // SAFETY: the strides describe the row-major buffers gz (rows·l) and wl (l·k).
        Some(unsafe { gemm_product(rows, k, l, (self.gz.as_ptr(), 1, l), (wl.as_ptr(), 1, k)) })
    }

    /// `dW = gzᵀ · x` (`n × k`), `x` `rows × k`: the live units' rows, zeros for the others.
    /// `None` where gemm would not sum all rows, or the live ones, as plain chains.
    fn weight_gradient(&self, x: &[T], n: usize, k: usize) -> Option<Vec<T>> {
        let (rows, l) = (self.rows, self.live.len());
        if !chain_path(n, k, rows) || (l > 0 && !chain_path(l, k, rows)) {
            return None;
        }
        let mut dw = vec![T::ZERO; n * k];
        if l == 0 {
            return Some(dw);
        }
        // SAFETY: the strides describe the row-major buffers gz (rows·l) and x (rows·k).
        let d = unsafe { gemm_product(l, k, rows, (self.gz.as_ptr(), l, 1), (x.as_ptr(), 1, k)) };
        for (&j, row) in self.live.iter().zip(d.chunks_exact(k)) {
            dw[j * k..(j + 1) * k].copy_from_slice(row);
        }
        Some(dw)
    }
}

/// Whether gemm computes an `m × n` product over an inner dimension `k` as one FMA chain per
/// output from `+0` over the inner index in order: its FMA microkernels (AVX2 and FMA
/// present; its AVX-512 microkernels, chosen where the CPU has AVX-512F and the `avx512`
/// feature is on, sum the same chains on wider registers), one block of the inner dimension
/// (`k ≤ 512`), and none of its special paths — outer products (`k ≤ 2`), matrix-vector
/// products (`m` or `n` of 1) and the small-output kernels (`m·n ≤ 256`), which sum in
/// other orders (lane by lane, then across the lanes: 8 with AVX2, 16 with AVX-512).
fn chain_path(m: usize, n: usize, k: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    let fma = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    let fma = false;
    (3..=512).contains(&k) && m > 1 && n > 1 && m * n > 256 && fma
}

/// `Wᵀ` copied out for the forward product.
mod tanh;
mod transpose;

/// The products of a batch of [`FEW_ROWS`] rows or fewer, as dot products and scaled sums of
/// weight rows. Every multiply-add is fused (`mul_add`, rounded once) and every sum runs in a
/// fixed order — eight lanes, reduced as a balanced tree, the tail last — which the AVX2
/// kernels for `f32` follow exactly, so that results do not depend on the CPU.
mod few_rows;

/// `act(x·Wᵀ + b)` for one input row on the CPU, from the weights themselves without
/// building a tensor or a graph: what the op computes for a one-row input, bit for bit (the
/// same function). `None` unless `W` (and `b`) are contiguous `f32` on the CPU.
pub(crate) fn forward_row(
    act: FusedAct,
    x: &[f32],
    w: &Tensor,
    b: Option<&Tensor>,
) -> Option<Vec<f32>> {
    forward_rows(act, x, 1, w, b)
}

/// Runs `f` on the values of `t` when it is a contiguous `f32` tensor on the CPU.
fn with_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    let (s, l) = t.storage_and_layout();
    let Storage::Cpu(s) = &*s else { return None };
    Some(f(contiguous::<f32>(s, l, "tensor").ok()?))
}

/// Runs `f` on the values of `t` (see [`with_f32`]), or on `None` when there is no `t`.
fn with_opt_f32<R>(t: Option<&Tensor>, f: impl FnOnce(Option<&[f32]>) -> R) -> Option<R> {
    match t {
        Some(t) => with_f32(t, |v| f(Some(v))),
        None => Some(f(None)),
    }
}

/// `act(x·Wᵀ + b)` for `rows` input rows on the CPU without tensors: what the op computes
/// for that input, bit for bit (the same function). `None` unless `W` (and `b`) are
/// contiguous `f32` on the CPU and `x` holds `rows` rows of `W`'s width.
pub fn forward_rows(
    act: FusedAct,
    x: &[f32],
    rows: usize,
    w: &Tensor,
    b: Option<&Tensor>,
) -> Option<Vec<f32>> {
    let (n, k) = w.dims2().ok()?;
    if x.len() != rows * k {
        return None;
    }
    with_f32(w, |ws| {
        with_opt_f32(b, |bs| forward(act, x, ws, bs, rows, k, n))
    })?
}

/// The gradients `(dx, dW, db)` of `y = act(x·Wᵀ + b)` on the CPU without tensors, from the
/// input `x`, output `y` and output gradient `g` of `rows` rows: what the op's backward pass
/// computes, bit for bit (the same function). `dx` only when `need_dx`, `db` only when
/// there is a bias. `None` unless `W` is contiguous `f32` on the CPU and the lengths fit.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub fn backward_rows(
    act: FusedAct,
    x: &[f32],
    y: &[f32],
    g: &[f32],
    rows: usize,
    w: &Tensor,
    has_bias: bool,
    need_dx: bool,
) -> Option<(Option<Vec<f32>>, Vec<f32>, Option<Vec<f32>>)> {
    let (n, k) = w.dims2().ok()?;
    if x.len() != rows * k || y.len() != rows * n || g.len() != rows * n {
        return None;
    }
    let needed = Needed {
        dx: need_dx,
        dw: true,
        db: has_bias,
    };
    let (dx, dw, db) = with_f32(w, |ws| backward(act, x, ws, y, g, rows, k, n, needed))?;
    Some((dx, dw?, db))
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

#[cfg(all(test, target_arch = "x86_64"))]
mod tests;
