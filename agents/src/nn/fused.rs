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
    need_dx: bool,
) -> (Option<Vec<T>>, Vec<T>, Vec<T>) {
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
    let mut db = vec![T::ZERO; n];
    for row in gz.chunks_exact(n) {
        for (d, &v) in db.iter_mut().zip(row) {
            *d = d.add(v);
        }
    }
    let mut dw = vec![T::ZERO; n * k];
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
    let dx = need_dx.then(|| {
        let mut dx = vec![T::ZERO; rows * k];
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
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Tensor, Tensor)> {
        let (rows, k) = x.dims2()?;
        let n = w.dim(0)?;
        let grad = grad.contiguous()?;
        let need_dx = x.track_op();
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
                    need_dx,
                );
                (
                    dx.map(|v| Tensor::from_vec(v, (rows, k), dev))
                        .transpose()?,
                    Tensor::from_vec(dw, (n, k), dev)?,
                    Tensor::from_vec(db, n, dev)?,
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
        _b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, db) = self.0.bwd(x, w, res, grad)?;
        Ok((dx, Some(dw), Some(db)))
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
        let (dx, dw, _) = self.0.bwd(x, w, res, grad)?;
        Ok((dx, Some(dw)))
    }
}
