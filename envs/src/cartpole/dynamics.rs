//! The cart-pole's equations of motion, its constants and its trigonometry.

use std::f64::consts::{FRAC_PI_4, PI};

use crate::{EnvRng, Error, Result};

// Physical constants of the Barto, Sutton & Anderson (1983) cart-pole, as in Gymnasium
// `classic_control/cartpole.py`. Derived constants are computed in the same order as there, so
// that every intermediate value rounds the same way.

/// Gravitational acceleration, m/s².
pub(crate) const GRAVITY: f64 = 9.8;
/// Mass of the cart, kg.
pub(crate) const MASS_CART: f64 = 1.0;
/// Mass of the pole, kg.
pub(crate) const MASS_POLE: f64 = 0.1;
/// Cart plus pole, kg.
pub(crate) const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
/// Half the pole's length, m (the distance from the pivot to the pole's centre of mass).
pub(crate) const HALF_LENGTH: f64 = 0.5;
/// Pole mass times half-length, kg·m.
pub(crate) const POLE_MASS_LENGTH: f64 = MASS_POLE * HALF_LENGTH;
/// Magnitude of the force an action applies to the cart, N.
pub(crate) const FORCE_MAG: f64 = 10.0;
/// Time between state updates, s.
pub(crate) const TAU: f64 = 0.02;

/// The episode terminates when the cart's position leaves `[-X_THRESHOLD, X_THRESHOLD]`, m.
pub const X_THRESHOLD: f64 = 2.4;
/// The episode terminates when the pole's angle leaves `[-THETA_THRESHOLD, THETA_THRESHOLD]`:
/// 12° in radians, computed as Gymnasium computes it (`12 * 2 * pi / 360`).
pub const THETA_THRESHOLD: f64 = 12.0 * 2.0 * PI / 360.0;

/// The largest `|theta|` for which [`sin_cos`] uses its own polynomials (π/4, their domain).
pub(crate) const KERNEL_LIMIT: f64 = FRAC_PI_4;

// Minimax coefficients of the sine and cosine on [-π/4, π/4], from fdlibm's `k_sin.c` and
// `k_cos.c` (Sun Microsystems, 1993; the same numbers musl and openlibm carry), given by their
// bit patterns as published there (S1 = -1.66666666666666324348e-01, …).
pub(crate) const S1: f64 = f64::from_bits(0xBFC5_5555_5555_5549);
pub(crate) const S2: f64 = f64::from_bits(0x3F81_1111_1110_F8A6);
pub(crate) const S3: f64 = f64::from_bits(0xBF2A_01A0_19C1_61D5);
pub(crate) const S4: f64 = f64::from_bits(0x3EC7_1DE3_57B1_FE7D);
pub(crate) const S5: f64 = f64::from_bits(0xBE5A_E5E6_8A2B_9CEB);
pub(crate) const S6: f64 = f64::from_bits(0x3DE5_D93A_5ACF_D57C);
pub(crate) const C1: f64 = f64::from_bits(0x3FA5_5555_5555_554C);
pub(crate) const C2: f64 = f64::from_bits(0xBF56_C16C_16C1_5177);
pub(crate) const C3: f64 = f64::from_bits(0x3EFA_01A0_19CB_1590);
pub(crate) const C4: f64 = f64::from_bits(0xBE92_7E4F_809C_52AD);
pub(crate) const C5: f64 = f64::from_bits(0x3E21_EE9E_BDB4_B1C4);
pub(crate) const C6: f64 = f64::from_bits(0xBDA8_FAE9_BE88_38D4);

/// Sine and cosine for `|theta| ≤ π/4` by polynomials alone: no branches and no library
/// call, so a loop over many angles vectorizes. Within 1 ulp of the correctly rounded values.
#[inline(always)]
pub(crate) fn kernel_sin_cos(theta: f64) -> (f64, f64) {
    let z = theta * theta;
    let w = z * z;
    let r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let sin = theta + z * theta * (S1 + z * r);
    let r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let half_z = 0.5 * z;
    let head = 1.0 - half_z;
    // `(1 - head) - half_z` is the rounding error of `head`, added back.
    let cos = head + (((1.0 - head) - half_z) + z * r);
    (sin, cos)
}

/// Sine and cosine of `theta`: the polynomials of [`kernel_sin_cos`] where `|theta| ≤ π/4`
/// (every angle an episode reaches before it terminates at 12°), the platform's library
/// beyond. Using our own polynomials makes trajectories bit-identical on every platform and
/// lets [`CartPoleBatch`](crate::batched_cartpole::CartPoleBatch) vectorize; they differ from
/// the correctly rounded values (and so from NumPy's) by at most 1 ulp, on about 1% of angles.
#[inline(always)]
pub(crate) fn sin_cos(theta: f64) -> (f64, f64) {
    if theta.abs() <= KERNEL_LIMIT {
        kernel_sin_cos(theta)
    } else {
        theta.sin_cos()
    }
}

/// One step of the cart-pole equations of motion (Florian 2007, "Correct equations for the
/// dynamics of the cart-pole system", with Gymnasium's frictionless simplification), in the
/// same order of floating-point operations as Gymnasium, so that results are bit-identical
/// given the same sine and cosine.
///
/// The state is `[x, x_dot, theta, theta_dot]`; `sin` and `cos` are those of `theta`;
/// `push_right` picks the sign of the force.
#[inline(always)]
pub(crate) fn advance_with(
    [x, x_dot, theta, theta_dot]: [f64; 4],
    (sin, cos): (f64, f64),
    push_right: bool,
    semi_implicit: bool,
) -> [f64; 4] {
    let force = if push_right { FORCE_MAG } else { -FORCE_MAG };
    let temp = (force + POLE_MASS_LENGTH * (theta_dot * theta_dot) * sin) / TOTAL_MASS;
    let theta_acc = (GRAVITY * sin - cos * temp)
        / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * (cos * cos) / TOTAL_MASS));
    let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
    if semi_implicit {
        let x_dot = x_dot + TAU * x_acc;
        let theta_dot = theta_dot + TAU * theta_acc;
        [x + TAU * x_dot, x_dot, theta + TAU * theta_dot, theta_dot]
    } else {
        [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ]
    }
}

/// [`advance_with`] with the sine and cosine of [`sin_cos`].
#[inline(always)]
pub(crate) fn advance(state: [f64; 4], push_right: bool, semi_implicit: bool) -> [f64; 4] {
    advance_with(state, sin_cos(state[2]), push_right, semi_implicit)
}

/// Whether the cart or the pole is past its threshold (strictly, as in Gymnasium). A NaN
/// state, reachable only through an absurd `set_state`, counts as terminal.
#[inline(always)]
pub(crate) fn is_terminal(x: f64, theta: f64) -> bool {
    !((-X_THRESHOLD..=X_THRESHOLD).contains(&x)
        && (-THETA_THRESHOLD..=THETA_THRESHOLD).contains(&theta))
}

/// The reward of a step that did or did not terminate.
#[inline(always)]
pub(crate) fn reward(terminated: bool, sutton_barto: bool) -> f64 {
    match (sutton_barto, terminated) {
        (false, _) => 1.0,
        (true, false) => 0.0,
        (true, true) => -1.0,
    }
}

/// The observation: the state rounded to `f32`, as Gymnasium casts its `float64` state.
#[inline(always)]
pub(crate) fn observe(s: &[f64; 4]) -> [f32; 4] {
    [s[0] as f32, s[1] as f32, s[2] as f32, s[3] as f32]
}

/// A start-state value: uniform in `[low, high)`, as NumPy's `uniform` (`low + (high − low)·u`).
#[inline]
pub(crate) fn draw_start(rng: &mut EnvRng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.next_f64()
}

/// Checks a state for `set_state`: four finite values.
pub(crate) fn check_state(state: &[f64]) -> Result<[f64; 4]> {
    let s: [f64; 4] = state.try_into().map_err(|_| Error::InvalidState {
        message: format!(
            "CartPole takes 4 values [x, x_dot, theta, theta_dot], got {}",
            state.len()
        ),
    })?;
    const NAMES: [&str; 4] = ["x", "x_dot", "theta", "theta_dot"];
    if let Some(i) = s.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidState {
            message: format!("{} must be finite, got {}", NAMES[i], s[i]),
        });
    }
    Ok(s)
}
