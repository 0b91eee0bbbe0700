//! Drawing the valley: a line of text, and a 600×400 picture.

use super::{MAX_POSITION, MIN_POSITION};
use crate::Frame;

/// The valley's height at `position`, as Gymnasium draws it: `0.45·sin(3·position) + 0.55`.
fn height(position: f64) -> f64 {
    (3.0 * position).sin() * 0.45 + 0.55
}

/// The column of `position` among `cells` columns spanning `[-1.2, 0.6]`.
fn column(position: f64, cells: usize) -> usize {
    let frac = (position - MIN_POSITION) / (MAX_POSITION - MIN_POSITION);
    (frac * (cells - 1) as f64)
        .round()
        .clamp(0.0, (cells - 1) as f64) as usize
}

/// The state as text, then the valley floor from -1.2 to 0.6 with the car `o` and the goal
/// flag `F` (the car hides the flag when on it).
pub(super) fn ansi([position, velocity]: [f64; 2], goal: f64) -> String {
    const CELLS: usize = 37;
    let (car, flag) = (column(position, CELLS), column(goal, CELLS));
    let track: String = (0..CELLS)
        .map(|i| match i {
            _ if i == car => 'o',
            _ if i == flag => 'F',
            _ => '_',
        })
        .collect();
    format!("position={position:+.4} velocity={velocity:+.4}\n|{track}|")
}

/// A 600×400 picture after Gymnasium's: the valley's curve in black, a yellow flag at the goal
/// on a black pole, and the car as a dark rectangle resting on the curve (not tilted). The
/// scale is Gymnasium's: 600 px across `[-1.2, 0.6]`, heights at the same scale, measured up
/// from the bottom row.
pub(super) fn draw(position: f64, goal: f64) -> Frame {
    const W: usize = 600;
    const H: usize = 400;
    const BLACK: [u8; 3] = [0, 0, 0];
    const CAR: [u8; 3] = [60, 60, 60];
    const FLAG: [u8; 3] = [204, 204, 0];
    let scale = W as f64 / (MAX_POSITION - MIN_POSITION);
    let to_px = |p: f64| ((p - MIN_POSITION) * scale).round() as i64;
    let row = |y: f64| (H - 1) as i64 - y.round() as i64;

    let mut frame = Frame::filled(H, W, [255, 255, 255]);
    // The curve, two pixels thick, one point per column.
    for x in 0..W as i64 {
        let y = row(height(MIN_POSITION + x as f64 / scale) * scale);
        frame.fill_rect(y - 1, x, y + 1, x + 1, BLACK);
    }
    // The flag: a pole 50 px high and a 25×10 px banner at its top.
    let (fx, fy) = (to_px(goal), row(height(goal) * scale));
    frame.fill_rect(fy - 50, fx, fy, fx + 1, BLACK);
    frame.fill_rect(fy - 50, fx + 1, fy - 40, fx + 26, FLAG);
    // The car: 40×20 px, its bottom 10 px above the curve (Gymnasium's clearance).
    let (cx, cy) = (to_px(position), row(height(position) * scale + 10.0));
    frame.fill_rect(cy - 20, cx - 20, cy, cx + 20, CAR);
    frame
}
