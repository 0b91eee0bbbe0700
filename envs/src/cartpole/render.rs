//! Drawing the cart-pole: a line of text, and a 600×400 picture.

use std::fmt::Write as _;

use super::dynamics::*;
use crate::Frame;

/// The state as text, then the cart on a track of `[-2.4, 2.4]` m: `[|]` upright, `[/]`
/// leaning right, `[\]` leaning left (by more than 1°).
pub(super) fn ansi(s: &[f64; 4]) -> String {
    const TRACK: usize = 49;
    let mut out = String::with_capacity(160);
    let _ = writeln!(
        out,
        "x={:+.4} x_dot={:+.4} theta={:+.4} theta_dot={:+.4}",
        s[0], s[1], s[2], s[3]
    );
    let frac = (s[0] + X_THRESHOLD) / (2.0 * X_THRESHOLD);
    let centre = (frac * (TRACK - 1) as f64)
        .round()
        .clamp(1.0, (TRACK - 2) as f64) as usize;
    let pole = if s[2] > 1f64.to_radians() {
        '/'
    } else if s[2] < -(1f64.to_radians()) {
        '\\'
    } else {
        '|'
    };
    out.push('|');
    for i in 0..TRACK {
        out.push(match i as isize - centre as isize {
            -1 => '[',
            0 => pole,
            1 => ']',
            _ => '-',
        });
    }
    out.push('|');
    out
}

/// A 600×400 picture like Gymnasium's: white background, black track line, black cart, the
/// pole as a brown bar at its angle, and a blue-grey axle. Geometry from Gymnasium
/// `cartpole.py` `render` (125 px per metre, cart 50×30 px centred 100 px above the bottom,
/// pole 10 px wide); positions are measured upward from the bottom row, as there after its
/// vertical flip.
pub(super) fn draw(s: &[f64; 4]) -> Frame {
    const W: usize = 600;
    const H: usize = 400;
    const BLACK: [u8; 3] = [0, 0, 0];
    const POLE: [u8; 3] = [202, 152, 101];
    const AXLE: [u8; 3] = [129, 132, 203];
    let scale = W as f64 / (2.0 * X_THRESHOLD);
    let pole_width = 10.0;
    let pole_len = scale * (2.0 * HALF_LENGTH);
    let (cart_w, cart_h) = (50.0, 30.0);
    let cart_x = s[0] * scale + W as f64 / 2.0;
    let cart_y = 100.0;
    let axle_y = cart_y + cart_h / 4.0;
    let row = |y: f64| (H - 1) as i64 - y as i64;

    let mut frame = Frame::filled(H, W, [255, 255, 255]);

    // Cart: the pixels whose coordinates lie in the rectangle.
    let (x0, x1) = (
        (cart_x - cart_w / 2.0).ceil(),
        (cart_x + cart_w / 2.0).floor(),
    );
    let (y0, y1) = (cart_y - cart_h / 2.0, cart_y + cart_h / 2.0);
    if x0 <= x1 && x1 >= 0.0 && x0 < W as f64 {
        frame.fill_rect(row(y1), x0 as i64, row(y0) + 1, x1 as i64 + 1, BLACK);
    }

    // Pole: a rectangle pivoting at the axle, rotated clockwise by theta. A pixel is inside
    // when its coordinates in the pole's own frame (u across, v along) are within bounds.
    let (sin, cos) = s[2].sin_cos();
    let (u_lo, u_hi) = (-pole_width / 2.0, pole_width / 2.0);
    let (v_lo, v_hi) = (-pole_width / 2.0, pole_len - pole_width / 2.0);
    let corners = [(u_lo, v_lo), (u_lo, v_hi), (u_hi, v_hi), (u_hi, v_lo)]
        .map(|(u, v)| (cart_x + u * cos + v * sin, axle_y - u * sin + v * cos));
    let min_x = corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let max_x = corners
        .iter()
        .map(|c| c.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let min_y = corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
    let max_y = corners
        .iter()
        .map(|c| c.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let px_lo = min_x.ceil().max(0.0) as i64;
    let px_hi = max_x.floor().min((W - 1) as f64) as i64;
    let py_lo = min_y.ceil().max(0.0) as i64;
    let py_hi = max_y.floor().min((H - 1) as f64) as i64;
    for py in py_lo..=py_hi {
        for px in px_lo..=px_hi {
            let (dx, dy) = (px as f64 - cart_x, py as f64 - axle_y);
            let u = dx * cos - dy * sin;
            let v = dx * sin + dy * cos;
            if (u_lo..=u_hi).contains(&u) && (v_lo..=v_hi).contains(&v) {
                frame.set_pixel((H - 1) as i64 - py, px, POLE);
            }
        }
    }

    // Axle: a disc of radius 5 px at the integer part of its centre, as pygame draws it.
    let (ax, ay) = (cart_x as i64, axle_y as i64);
    let r = (pole_width / 2.0) as i64;
    for dy in -r..=r {
        for dx in -r..=r {
            if dx * dx + dy * dy <= r * r {
                frame.set_pixel((H - 1) as i64 - (ay + dy), ax + dx, AXLE);
            }
        }
    }

    // Track, drawn last, across the whole width.
    frame.fill_rect(row(cart_y), 0, row(cart_y) + 1, W as i64, BLACK);
    frame
}
