//! The update rules as code: fused in-place CPU kernels for `f32` and `f64`, and the same
//! rules as tensor ops for other devices and dtypes.

use std::cell::RefCell;

use candle_core::{CpuStorage, Layout, Tensor, Var};

use super::config::{Algorithm, OptimizerConfig};
use super::{Hyper, contiguous_range};
use crate::error::Result;

/// Float element types the fused CPU kernels run on.
trait Real:
    Copy
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    fn of(x: f64) -> Self;
    fn sqrt(self) -> Self;
    /// Zero for subnormal values, the value otherwise.
    fn flush(self) -> Self;
}

impl Real for f32 {
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn flush(self) -> Self {
        if self.abs() < f32::MIN_POSITIVE {
            0.0
        } else {
            self
        }
    }
}

impl Real for f64 {
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn flush(self) -> Self {
        if self.abs() < f64::MIN_POSITIVE {
            0.0
        } else {
            self
        }
    }
}

/// [`fused_update`], compiled for AVX2 when the CPU has it.
///
/// The crate is built for baseline x86-64 (SSE2); the update is bound by the throughput of
/// division and square root, which AVX2 doubles. The arithmetic is the same IEEE operations
/// either way (Rust does not contract `a * b + c` into FMA), so results are bit-identical.
#[allow(clippy::too_many_arguments)]
fn fused_update_dispatch<T: Real>(
    config: &OptimizerConfig,
    lr: f64,
    scale: f64,
    t: u64,
    first: bool,
    p: &mut [T],
    g: &[T],
    bufs: &mut [Vec<T>],
) {
    #[cfg(target_arch = "x86_64")]
    {
        /// # Safety
        /// The CPU must support AVX2.
        #[target_feature(enable = "avx2")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn avx2<T: Real>(
            config: &OptimizerConfig,
            lr: f64,
            scale: f64,
            t: u64,
            first: bool,
            p: &mut [T],
            g: &[T],
            bufs: &mut [Vec<T>],
        ) {
            fused_update(config, lr, scale, t, first, p, g, bufs)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { avx2(config, lr, scale, t, first, p, g, bufs) };
            return;
        }
    }
    fused_update(config, lr, scale, t, first, p, g, bufs)
}

/// The fused update of one parameter slice. `first` is true on the parameter's first step
/// (PyTorch starts SGD's momentum buffer at the first gradient); `t` counts steps from 1.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fused_update<T: Real>(
    config: &OptimizerConfig,
    lr: f64,
    scale: f64,
    t: u64,
    first: bool,
    p: &mut [T],
    g: &[T],
    bufs: &mut [Vec<T>],
) {
    let s = T::of(scale);
    match config.algorithm {
        Algorithm::Sgd(c) => {
            let (lr, wd) = (T::of(lr), T::of(c.weight_decay));
            if c.momentum == 0.0 {
                for (p, &g) in p.iter_mut().zip(g) {
                    let d = g * s + wd * *p;
                    *p = *p - lr * d;
                }
            } else {
                let (mu, damp) = (T::of(c.momentum), T::of(1.0 - c.dampening));
                let buf = &mut bufs[0];
                for ((p, &g), b) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
                    let d = g * s + wd * *p;
                    *b = if first { d } else { mu * *b + damp * d };
                    let step = if c.nesterov { d + mu * *b } else { *b };
                    *p = *p - lr * step;
                }
            }
        }
        Algorithm::RmsProp(c) => {
            let (lr, wd, alpha, eps, mu) = (
                T::of(lr),
                T::of(c.weight_decay),
                T::of(c.alpha),
                T::of(c.eps),
                T::of(c.momentum),
            );
            let one_m_alpha = T::of(1.0 - c.alpha);
            let [sq, mom, avg] = bufs else {
                unreachable!("rmsprop keeps three buffers")
            };
            // One loop per variant, so that each compiles to straight-line vector code.
            let scaled = |p: T, g: T, sq: &mut T| {
                let d = g * s + wd * p;
                *sq = alpha * *sq + one_m_alpha * d * d;
                d
            };
            match (c.centered, c.momentum > 0.0) {
                (false, false) => {
                    for ((p, &g), sq) in p.iter_mut().zip(g).zip(sq.iter_mut()) {
                        let d = scaled(*p, g, sq);
                        *p = *p - lr * d / (sq.sqrt() + eps);
                    }
                }
                (false, true) => {
                    for (((p, &g), sq), b) in
                        p.iter_mut().zip(g).zip(sq.iter_mut()).zip(mom.iter_mut())
                    {
                        let d = scaled(*p, g, sq);
                        *b = mu * *b + d / (sq.sqrt() + eps);
                        *p = *p - lr * *b;
                    }
                }
                (true, momentum) => {
                    for ((((p, &g), sq), b), a) in p
                        .iter_mut()
                        .zip(g)
                        .zip(sq.iter_mut())
                        .zip(mom.iter_mut())
                        .zip(avg.iter_mut())
                    {
                        let d = scaled(*p, g, sq);
                        *a = alpha * *a + one_m_alpha * d;
                        let step = d / ((*sq - *a * *a).sqrt() + eps);
                        if momentum {
                            *b = mu * *b + step;
                            *p = *p - lr * *b;
                        } else {
                            *p = *p - lr * step;
                        }
                    }
                }
            }
        }
        Algorithm::Adam(c) | Algorithm::AdamW(c) => {
            let decoupled = matches!(config.algorithm, Algorithm::AdamW(_));
            let bc1 = 1.0 - c.beta1.powf(t as f64);
            let bc2 = 1.0 - c.beta2.powf(t as f64);
            let step_size = T::of(lr / bc1);
            let inv_sqrt_bc2 = T::of(1.0 / bc2.sqrt());
            let (b1, b2, eps) = (T::of(c.beta1), T::of(c.beta2), T::of(c.eps));
            let (omb1, omb2) = (T::of(1.0 - c.beta1), T::of(1.0 - c.beta2));
            // AdamW shrinks the parameter first; Adam adds the L2 term to the gradient.
            let decay = T::of(if decoupled {
                1.0 - lr * c.weight_decay
            } else {
                1.0
            });
            let l2 = T::of(if decoupled { 0.0 } else { c.weight_decay });
            let [m, v] = bufs else {
                unreachable!("adam keeps two buffers")
            };
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                let pi = *p * decay;
                let d = g * s + l2 * pi;
                // A moment whose gradient has stopped decays into the subnormal range and
                // sticks there (0.9 × a few ulps rounds back to itself); arithmetic on
                // subnormals is many times slower, and such a moment moves no parameter by
                // as much as an ulp, so it is stored as zero.
                *m = (b1 * *m + omb1 * d).flush();
                *v = (b2 * *v + omb2 * d * d).flush();
                *p = pi - step_size * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
            }
        }
    }
}

/// Runs the fused kernel on a CPU parameter through candle's in-place op interface.
pub(super) struct FusedStep<'a, T> {
    config: &'a OptimizerConfig,
    lr: f64,
    scale: f64,
    t: u64,
    first: bool,
    bufs: RefCell<&'a mut Vec<Vec<T>>>,
}

impl<'a, T> FusedStep<'a, T> {
    pub(super) fn new(
        config: &'a OptimizerConfig,
        hyper: &Hyper,
        t: u64,
        first: bool,
        bufs: &'a mut Vec<Vec<T>>,
    ) -> Self {
        Self {
            config,
            lr: hyper.lr,
            scale: hyper.scale,
            t,
            first,
            bufs: RefCell::new(bufs),
        }
    }
}

trait Slices: Sized {
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
}

impl Slices for f32 {
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
    fn slice(s: &CpuStorage) -> Option<&[f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
}

impl Slices for f64 {
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
    fn slice(s: &CpuStorage) -> Option<&[f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
}

impl<T: Real + Slices> candle_core::InplaceOp2 for FusedStep<'_, T> {
    fn name(&self) -> &'static str {
        "qlab-fused-optimizer-step"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (Some(r1), Some(r2)) = (contiguous_range(l1), contiguous_range(l2)) else {
            candle_core::bail!("fused optimizer step needs contiguous parameter and gradient")
        };
        let (Some(p), Some(g)) = (T::slice_mut(s1), T::slice(s2)) else {
            candle_core::bail!("fused optimizer step: parameter and gradient dtypes differ")
        };
        let mut bufs = self.bufs.borrow_mut();
        fused_update_dispatch(
            self.config,
            self.lr,
            self.scale,
            self.t,
            self.first,
            &mut p[r1],
            &g[r2],
            bufs.as_mut_slice(),
        );
        Ok(())
    }
}

/// The update rules as tensor ops, for devices and dtypes without a fused kernel.
pub(super) fn tensor_update(
    var: &Var,
    grad: &Tensor,
    bufs: &mut [Tensor],
    config: &OptimizerConfig,
    hyper: &Hyper,
    t: u64,
    first: bool,
) -> Result<()> {
    let p = var.as_detached_tensor();
    let g = (grad * hyper.scale)?;
    let lr = hyper.lr;
    let new_p = match config.algorithm {
        Algorithm::Sgd(c) => {
            let d = (g + (&p * c.weight_decay)?)?;
            if c.momentum == 0.0 {
                (&p - (d * lr)?)?
            } else {
                let b = if first {
                    d.clone()
                } else {
                    ((&bufs[0] * c.momentum)? + (&d * (1.0 - c.dampening))?)?
                };
                let step = if c.nesterov {
                    (&d + (&b * c.momentum)?)?
                } else {
                    b.clone()
                };
                bufs[0] = b;
                (&p - (step * lr)?)?
            }
        }
        Algorithm::RmsProp(c) => {
            let d = (g + (&p * c.weight_decay)?)?;
            bufs[0] = ((&bufs[0] * c.alpha)? + (d.sqr()? * (1.0 - c.alpha))?)?;
            let denom = if c.centered {
                bufs[2] = ((&bufs[2] * c.alpha)? + (&d * (1.0 - c.alpha))?)?;
                ((&bufs[0] - bufs[2].sqr()?)?.sqrt()? + c.eps)?
            } else {
                (bufs[0].sqrt()? + c.eps)?
            };
            if c.momentum > 0.0 {
                bufs[1] = ((&bufs[1] * c.momentum)? + d.div(&denom)?)?;
                (&p - (&bufs[1] * lr)?)?
            } else {
                (&p - (d.div(&denom)? * lr)?)?
            }
        }
        Algorithm::Adam(c) | Algorithm::AdamW(c) => {
            let decoupled = matches!(config.algorithm, Algorithm::AdamW(_));
            let p = if decoupled {
                (&p * (1.0 - lr * c.weight_decay))?
            } else {
                p
            };
            let d = if decoupled {
                g
            } else {
                (g + (&p * c.weight_decay)?)?
            };
            bufs[0] = ((&bufs[0] * c.beta1)? + (&d * (1.0 - c.beta1))?)?;
            bufs[1] = ((&bufs[1] * c.beta2)? + (d.sqr()? * (1.0 - c.beta2))?)?;
            let bc1 = 1.0 - c.beta1.powf(t as f64);
            let bc2 = 1.0 - c.beta2.powf(t as f64);
            let denom = ((bufs[1].sqrt()? / bc2.sqrt())? + c.eps)?;
            (&p - (bufs[0].div(&denom)? * (lr / bc1))?)?
        }
    };
    var.set(&new_p)?;
    Ok(())
}
