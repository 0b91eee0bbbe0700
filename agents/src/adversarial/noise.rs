//! The baselines: uniform and Gaussian noise in the ball, in scaled coordinates.

use qlab_envs::EnvRng;

use super::{Ball, Norm};

/// Uniform noise in the ball, written into `u` (scaled coordinates): each dimension uniform in
/// `[−ε, ε]` under L∞; uniform over the volume of the ball under L2 (a Gaussian direction and a
/// radius `ε · U^{1/d}`).
pub(crate) fn uniform(ball: &Ball, rng: &mut EnvRng, u: &mut [f32]) {
    let eps = ball.eps() as f64;
    match ball.norm() {
        Norm::Linf => u
            .iter_mut()
            .for_each(|x| *x = (eps * (2.0 * rng.next_f64() - 1.0)) as f32),
        Norm::L2 => {
            u.iter_mut().for_each(|x| *x = standard_normal(rng) as f32);
            let n = Norm::L2.of(u) as f64;
            let r = eps * rng.next_f64().powf(1.0 / u.len().max(1) as f64);
            let k = if n > 0.0 { (r / n) as f32 } else { 0.0 };
            u.iter_mut().for_each(|x| *x *= k);
        }
    }
}

/// Gaussian noise of standard deviation ε in every scaled dimension, projected onto the ball
/// (so that it stays inside it, like every attack), written into `u`.
pub(crate) fn gaussian(ball: &Ball, rng: &mut EnvRng, u: &mut [f32]) {
    let eps = ball.eps() as f64;
    u.iter_mut()
        .for_each(|x| *x = (eps * standard_normal(rng)) as f32);
    ball.project(u);
}

/// A standard normal draw (Box–Muller; `1 − U` keeps the logarithm finite).
fn standard_normal(rng: &mut EnvRng) -> f64 {
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
