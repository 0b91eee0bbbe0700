//! Projected gradient descent on the observation (Madry et al. 2018): gradient ascent on the
//! attacked loss in scaled coordinates, each step projected back onto the ball and clipped to
//! the observation box.
//!
//! From `u₀` (zero, uniform in the ball, or FGSM's perturbation: `start`), each of the `k` iterations
//! takes `u ← Π_ball(u + α · step(s ⊙ ∇ₓL))` with the steepest-ascent step of the norm (the
//! sign under L∞, the normalised gradient under L2), then clips `x₀ + s ⊙ u` to the box. The
//! result is the point with the largest attacked loss among the `k + 1` iterates visited and
//! FGSM's point at the same ε, so PGD never ends below its own start nor below FGSM, whatever
//! its start, step size or number of iterations. (From a random start with steps of
//! `2.5ε/k`, the iterates need not reach the ball's corner that FGSM jumps to; on a ReLU
//! network the iterates can also climb a lower slope than FGSM's first step finds.)

use candle_core::Device;
use qlab_envs::EnvRng;

use super::fgsm::{Forward, fgsm_step, loss_at};
use super::{Ball, PgdStart, QFunction, noise};
use crate::Result;

/// PGD's settings, resolved from the config.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pgd {
    pub iterations: usize,
    pub alpha: f32,
    pub start: PgdStart,
}

/// Work buffers, one observation long each, kept by the attack so that a call allocates
/// only inside candle.
#[derive(Clone, Debug)]
pub(crate) struct Buffers {
    pub u: Vec<f32>,
    pub g: Vec<f32>,
    pub x: Vec<f32>,
    /// FGSM's perturbation (scaled), a candidate whatever the start.
    pub fgsm: Vec<f32>,
}

impl Buffers {
    pub fn new(d: usize) -> Buffers {
        Buffers {
            u: vec![0.0; d],
            g: vec![0.0; d],
            x: vec![0.0; d],
            fgsm: vec![0.0; d],
        }
    }
}

impl Pgd {
    /// Runs PGD from `x0` against the loss about `label`; writes the best point (an iterate or
    /// FGSM's) into `out` and its perturbation (scaled) into `best_u`. `clean` is the forward
    /// pass at `x0`, reused for FGSM's step and as the first iterate when PGD starts at zero.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        ball: &Ball,
        q: &dyn QFunction,
        x0: &[f32],
        (label, targeted): (usize, bool),
        clean: Forward,
        rng: &mut EnvRng,
        device: &Device,
        buf: &mut Buffers,
        out: &mut [f32],
        best_u: &mut [f32],
    ) -> Result<()> {
        let Buffers { u, g, x, fgsm } = buf;
        clean.gradient(label, targeted, fgsm)?;
        fgsm_step(ball, fgsm);
        let mut first = None;
        match self.start {
            PgdStart::Zero => {
                u.fill(0.0);
                first = Some(clean);
            }
            PgdStart::Random => noise::uniform(ball, rng, u),
            PgdStart::Fgsm => u.copy_from_slice(fgsm),
        }
        ball.apply(x0, u, x);
        let mut best = f32::NEG_INFINITY;
        for _ in 0..self.iterations {
            let fwd = match first.take() {
                Some(f) => f,
                None => Forward::new(q, x, device)?,
            };
            let loss = fwd.gradient(label, targeted, g)?;
            if loss > best {
                best = loss;
                out.copy_from_slice(x);
                best_u.copy_from_slice(u);
            }
            ball.to_scaled(g);
            ball.ascent_step(g, self.alpha);
            u.iter_mut().zip(g.iter()).for_each(|(ui, gi)| *ui += gi);
            ball.project(u);
            ball.apply(x0, u, x);
        }
        let last = loss_at(q, x, label, targeted, device)?;
        if last > best {
            best = last;
            out.copy_from_slice(x);
            best_u.copy_from_slice(u);
        }
        // FGSM's point, unless PGD started there (then it was the first iterate). Compared
        // last and strictly, so it replaces PGD's choice only where it is stronger.
        if self.start != PgdStart::Fgsm {
            ball.apply(x0, fgsm, x);
            if loss_at(q, x, label, targeted, device)? > best {
                out.copy_from_slice(x);
                best_u.copy_from_slice(fgsm);
            }
        }
        Ok(())
    }
}
