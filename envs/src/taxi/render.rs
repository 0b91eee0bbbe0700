//! Drawing Taxi as text and as an RGB image.

use std::fmt::Write;

use super::{IN_TAXI, LOCATIONS, MAP, Taxi, model::ACTION_NAMES};
use crate::Frame;

/// Pixels per cell side.
const CELL_PX: usize = 40;
/// Wall thickness in pixels.
const WALL_PX: i64 = 4;

const ROAD: [u8; 3] = [235, 238, 242];
const GRID_LINE: [u8; 3] = [200, 200, 208];
const WALL: [u8; 3] = [60, 60, 68];
const TAXI: [u8; 3] = [250, 200, 20];
const PASSENGER: [u8; 3] = [30, 30, 30];
const DESTINATION: [u8; 3] = [200, 40, 200];
/// The pads of R, G, Y and B.
const PADS: [[u8; 3]; 4] = [
    [230, 90, 90],
    [110, 200, 110],
    [235, 225, 110],
    [100, 140, 230],
];

/// The map as Gymnasium's text render lays it out: the taxi's cell highlighted (yellow while
/// empty, green with the passenger, a blank drawn as `_`), the passenger's waiting location
/// in bold blue, the destination in magenta, then a line naming the last action.
pub(super) fn ansi(env: &Taxi) -> String {
    let s = env.decoded();
    let mut lines: Vec<Vec<String>> = MAP
        .iter()
        .map(|l| l.chars().map(String::from).collect())
        .collect();
    let (tr, tc) = (1 + s.row, 2 * s.col + 1);
    if s.passenger < IN_TAXI {
        lines[tr][tc] = format!("\x1b[30;43m{}\x1b[0m", lines[tr][tc]);
        let (pr, pc) = LOCATIONS[s.passenger];
        lines[1 + pr][2 * pc + 1] = format!("\x1b[1;34m{}\x1b[0m", lines[1 + pr][2 * pc + 1]);
    } else {
        let c = match lines[tr][tc].as_str() {
            " " => "_".to_string(),
            c => c.to_string(),
        };
        lines[tr][tc] = format!("\x1b[30;42m{c}\x1b[0m");
    }
    let (dr, dc) = LOCATIONS[s.destination];
    lines[1 + dr][2 * dc + 1] = format!("\x1b[35m{}\x1b[0m", lines[1 + dr][2 * dc + 1]);
    let mut out = String::new();
    for line in lines {
        let _ = writeln!(out, "{}", line.concat());
    }
    match env.last_action {
        Some(a) => {
            let _ = writeln!(out, "  ({})", ACTION_NAMES[a]);
        }
        None => out.push('\n'),
    }
    out
}

/// `CELL_PX` pixels a cell, the four locations as coloured pads, walls as thick dark lines,
/// the destination framed in magenta, the waiting passenger as a dark square on their pad,
/// the taxi as a yellow square (with a dark centre while the passenger is on board).
pub(super) fn rgb(env: &Taxi) -> Frame {
    let s = env.decoded();
    let px = CELL_PX as i64;
    let side = 5 * CELL_PX + 1;
    let mut frame = Frame::filled(side, side, GRID_LINE);
    for row in 0..5i64 {
        for col in 0..5i64 {
            let (y0, x0) = (row * px, col * px);
            let pad = LOCATIONS
                .iter()
                .position(|&l| l == (row as usize, col as usize));
            let fill = pad.map_or(ROAD, |i| PADS[i]);
            frame.fill_rect(y0 + 1, x0 + 1, y0 + px, x0 + px, fill);
        }
    }
    let (dr, dc) = LOCATIONS[s.destination];
    let (y0, x0) = (dr as i64 * px, dc as i64 * px);
    for k in 1..4 {
        frame.fill_rect(y0 + k, x0 + k, y0 + k + 1, x0 + px - k + 1, DESTINATION);
        frame.fill_rect(
            y0 + px - k,
            x0 + k,
            y0 + px - k + 1,
            x0 + px - k + 1,
            DESTINATION,
        );
        frame.fill_rect(y0 + k, x0 + k, y0 + px - k + 1, x0 + k + 1, DESTINATION);
        frame.fill_rect(
            y0 + k,
            x0 + px - k,
            y0 + px - k + 1,
            x0 + px - k + 1,
            DESTINATION,
        );
    }
    // Walls: every `|` between two cells of a row, and the border.
    for (row, line) in MAP[1..6].iter().enumerate() {
        for (i, b) in line.bytes().enumerate().filter(|&(i, _)| i % 2 == 0) {
            if b == b'|' {
                let x = (i / 2) as i64 * px;
                let y = row as i64 * px;
                frame.fill_rect(y, x - WALL_PX / 2, y + px + 1, x + WALL_PX / 2 + 1, WALL);
            }
        }
    }
    let edge = side as i64;
    frame.fill_rect(0, 0, WALL_PX / 2 + 1, edge, WALL);
    frame.fill_rect(edge - WALL_PX / 2 - 1, 0, edge, edge, WALL);
    let (ty, tx) = (s.row as i64 * px, s.col as i64 * px);
    frame.fill_rect(ty + 9, tx + 9, ty + px - 8, tx + px - 8, TAXI);
    if s.passenger == IN_TAXI {
        frame.fill_rect(ty + 16, tx + 16, ty + px - 15, tx + px - 15, PASSENGER);
    } else {
        let (pr, pc) = LOCATIONS[s.passenger];
        let (py, pxl) = (pr as i64 * px, pc as i64 * px);
        frame.fill_rect(py + 5, pxl + 5, py + 13, pxl + 13, PASSENGER);
    }
    frame
}
