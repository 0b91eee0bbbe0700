//! The acrobot's equations of motion, their Runge–Kutta step and its constants.

use std::f64::consts::PI;

use crate::numpy::square;

// Constants of Gymnasium `classic_control/acrobot.py` (from RLPy's Acrobot). Every expression
// below keeps Gymnasium's order of floating-point operations, so that each intermediate value
// rounds the same way; squares of state values are NumPy's `x**2` (see `crate::numpy`), squares
// of the constants are exact either way.

/// Time one step integrates over, s.
pub const DT: f64 = 0.2;
/// The first joint's angular velocity is clipped to `[-MAX_VEL_1, MAX_VEL_1]`: 4π rad/s.
pub const MAX_VEL_1: f64 = 4.0 * PI;
/// The second joint's angular velocity is clipped to `[-MAX_VEL_2, MAX_VEL_2]`: 9π rad/s.
pub const MAX_VEL_2: f64 = 9.0 * PI;

/// Length of the first link, m.
const LINK_LENGTH_1: f64 = 1.0;
/// Mass of the first link, kg.
const LINK_MASS_1: f64 = 1.0;
/// Mass of the second link, kg.
const LINK_MASS_2: f64 = 1.0;
/// Distance from the pivot to the first link's centre of mass, m.
const LINK_COM_POS_1: f64 = 0.5;
/// Distance from the middle joint to the second link's centre of mass, m.
const LINK_COM_POS_2: f64 = 0.5;
/// Moment of inertia of each link, kg·m².
const LINK_MOI: f64 = 1.0;
/// Gravitational acceleration, m/s².
const GRAVITY: f64 = 9.8;

/// The torque of each action, N·m.
pub(crate) const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];

/// The time derivative of `[θ1, θ2, θ̇1, θ̇2]` under a constant `torque` on the middle joint:
/// Gymnasium's `_dsdt`, with `nips` choosing the paper's equation for `θ̈2` over the book's.
#[inline]
pub(super) fn derivatives(
    [theta1, theta2, dtheta1, dtheta2]: [f64; 4],
    torque: f64,
    nips: bool,
) -> [f64; 4] {
    let (m1, m2) = (LINK_MASS_1, LINK_MASS_2);
    let l1 = LINK_LENGTH_1;
    let (lc1, lc2) = (LINK_COM_POS_1, LINK_COM_POS_2);
    let (i1, i2) = (LINK_MOI, LINK_MOI);
    let g = GRAVITY;
    let a = torque;
    let (sin2, cos2) = (theta2.sin(), theta2.cos());
    let d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * cos2) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * square(dtheta2) * sin2
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let denominator = m2 * (lc2 * lc2) + i2 - square(d2) / d1;
    let ddtheta2 = if nips {
        (a + d2 / d1 * phi1 - phi2) / denominator
    } else {
        (a + d2 / d1 * phi1 - m2 * l1 * lc2 * square(dtheta1) * sin2 - phi2) / denominator
    };
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// `s + h·k`, element by element.
#[inline(always)]
fn offset(s: [f64; 4], h: f64, k: [f64; 4]) -> [f64; 4] {
    std::array::from_fn(|i| s[i] + h * k[i])
}

/// One classical Runge–Kutta step over `[0, DT]`, as Gymnasium's `rk4` takes it with the
/// torque appended to the state (its derivative 0, so it stays constant through the step).
#[inline]
fn rk4(s: [f64; 4], torque: f64, nips: bool) -> [f64; 4] {
    // Gymnasium integrates over the times `[0, dt]`: its step is `dt - 0`.
    let dt = DT - 0.0;
    let dt2 = dt / 2.0;
    let k1 = derivatives(s, torque, nips);
    let k2 = derivatives(offset(s, dt2, k1), torque, nips);
    let k3 = derivatives(offset(s, dt2, k2), torque, nips);
    let k4 = derivatives(offset(s, dt, k3), torque, nips);
    std::array::from_fn(|i| s[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// `x` moved into `[m, big_m]` by whole turns, one subtraction (or addition) at a time, as
/// Gymnasium's `wrap` does; the repeated rounding matters for bit-identical angles.
#[inline]
fn wrap(mut x: f64, m: f64, big_m: f64) -> f64 {
    let diff = big_m - m;
    while x > big_m {
        x -= diff;
    }
    while x < m {
        x += diff;
    }
    x
}

/// One step: Runge–Kutta, then both angles wrapped into `[-π, π]` and the velocities
/// clipped to `±MAX_VEL_1`, `±MAX_VEL_2`.
#[inline]
pub(crate) fn advance(s: [f64; 4], torque: f64, nips: bool) -> [f64; 4] {
    let ns = rk4(s, torque, nips);
    [
        wrap(ns[0], -PI, PI),
        wrap(ns[1], -PI, PI),
        ns[2].clamp(-MAX_VEL_1, MAX_VEL_1),
        ns[3].clamp(-MAX_VEL_2, MAX_VEL_2),
    ]
}

/// Whether the free end is above the target height: `−cos θ1 − cos(θ2 + θ1) > 1`.
#[inline]
pub(crate) fn is_terminal(s: &[f64; 4]) -> bool {
    -s[0].cos() - (s[1] + s[0]).cos() > 1.0
}

/// The observation `[cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2]`, rounded to `f32`.
#[inline]
pub(crate) fn observe(s: &[f64; 4]) -> [f32; 6] {
    [
        s[0].cos() as f32,
        s[0].sin() as f32,
        s[1].cos() as f32,
        s[1].sin() as f32,
        s[2] as f32,
        s[3] as f32,
    ]
}
