//! Drawing a GridWorld as text and as an RGB image.

use std::fmt::Write;

use super::{Cell, GridWorld};
use crate::Frame;

/// Pixels per cell side, grid line included.
pub(crate) const CELL_PX: usize = 32;
/// The agent disc's radius in pixels.
const AGENT_RADIUS: i64 = 10;

pub(crate) const GRID_LINE: [u8; 3] = [140, 140, 150];
pub(crate) const AGENT: [u8; 3] = [220, 40, 40];
pub(crate) const WIND: [u8; 3] = [40, 110, 200];

/// The fill colour of each kind of cell.
pub(crate) fn colour(cell: Cell) -> [u8; 3] {
    match cell {
        Cell::Free => [235, 238, 242],
        Cell::Start => [170, 205, 250],
        Cell::Goal => [120, 200, 110],
        Cell::Hole => [35, 45, 95],
        Cell::Cliff => [150, 95, 60],
        Cell::Wall => [70, 70, 78],
    }
}

/// The map as written, the agent's cell on a red background, under a line naming the last
/// action — the layout of Gymnasium's FrozenLake text render.
pub(crate) fn ansi(env: &GridWorld) -> String {
    let mut out = String::new();
    if let Some(a) = env.last_action {
        let _ = writeln!(out, "  ({})", env.config.actions[a].name());
    } else {
        out.push('\n');
    }
    for (i, &c) in env.grid.chars.iter().enumerate() {
        if i == env.state {
            let _ = write!(out, "\x1b[41m{c}\x1b[0m");
        } else {
            out.push(c);
        }
        if (i + 1) % env.grid.cols == 0 {
            out.push('\n');
        }
    }
    out
}

/// `CELL_PX` pixels a cell, one-pixel grid lines between cells and around the map, small
/// arrows in windy columns (one head per cell of push, at most three) and the agent as a disc.
pub(crate) fn rgb(env: &GridWorld) -> Frame {
    let (rows, cols) = (env.grid.rows, env.grid.cols);
    let mut frame = Frame::filled(rows * CELL_PX + 1, cols * CELL_PX + 1, GRID_LINE);
    let px = CELL_PX as i64;
    for s in 0..rows * cols {
        let cell = env.grid.cells[s];
        let (y0, x0) = ((s / cols) as i64 * px, (s % cols) as i64 * px);
        frame.fill_rect(y0 + 1, x0 + 1, y0 + px, x0 + px, colour(cell));
        let wind = env.config.wind.get(s % cols).copied().unwrap_or(0);
        if wind != 0 && cell != Cell::Wall {
            wind_arrow(&mut frame, y0, x0 + px - 8, wind);
        }
        if s == env.state {
            let (cy, cx) = (y0 + px / 2, x0 + px / 2);
            for dy in -AGENT_RADIUS..=AGENT_RADIUS {
                for dx in -AGENT_RADIUS..=AGENT_RADIUS {
                    if dy * dy + dx * dx <= AGENT_RADIUS * AGENT_RADIUS {
                        frame.set_pixel(cy + dy, cx + dx, AGENT);
                    }
                }
            }
        }
    }
    frame
}

/// A two-pixel stem near the top right of a cell with arrow heads pointing the way the wind
/// blows (up for positive wind).
fn wind_arrow(frame: &mut Frame, y0: i64, x: i64, wind: i64) {
    let (top, bottom) = (y0 + 4, y0 + 18);
    frame.fill_rect(top, x, bottom, x + 2, WIND);
    for k in 0..wind.unsigned_abs().min(3) as i64 {
        for row in 0..3 {
            // Each head widens away from its tip.
            let y = if wind > 0 {
                top + 4 * k + row
            } else {
                bottom - 1 - 4 * k - row
            };
            frame.fill_rect(y, x - row, y + 1, x + 2 + row, WIND);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Env;
    use crate::gridworld::GridWorldConfig;

    fn centre(row: usize, col: usize) -> (usize, usize) {
        (row * CELL_PX + CELL_PX / 2, col * CELL_PX + CELL_PX / 2)
    }

    #[test]
    fn ansi_marks_the_agent_and_names_the_last_action() {
        let mut e = GridWorld::new(GridWorldConfig::preset("FrozenLake-v1").unwrap()).unwrap();
        e.reset(Some(0));
        assert_eq!(e.render_ansi(), "\n\x1b[41mS\x1b[0mFFF\nFHFH\nFFFH\nHFFG\n");
        e.set_state(&[6.0]).unwrap();
        let _ = e.step(1).unwrap();
        let text = e.render_ansi();
        assert!(text.starts_with("  (Down)\n"), "{text:?}");
        let marked = e.agent();
        let (row, col) = e.coordinates(marked);
        let line = text.lines().nth(1 + row).unwrap();
        let c = e.grid.chars[marked];
        assert_eq!(
            line.find(&format!("\x1b[41m{c}\x1b[0m")),
            Some(col),
            "{text:?}"
        );
    }

    #[test]
    fn rgb_draws_cells_grid_lines_wind_and_agent() {
        let mut e = GridWorld::new(GridWorldConfig {
            map: "S#\nHG\nC.".into(),
            wind: vec![0, 1],
            ..Default::default()
        })
        .unwrap();
        e.reset(Some(0));
        let f = e.render_rgb();
        assert_eq!((f.height, f.width), (3 * CELL_PX + 1, 2 * CELL_PX + 1));
        assert_eq!(f.data.len(), f.height * f.width * 3);
        let at = |r, c| {
            let (y, x) = centre(r, c);
            f.pixel(y, x)
        };
        assert_eq!(at(0, 0), AGENT);
        assert_eq!(at(0, 1), colour(Cell::Wall));
        assert_eq!(at(1, 0), colour(Cell::Hole));
        assert_eq!(at(1, 1), colour(Cell::Goal));
        assert_eq!(at(2, 0), colour(Cell::Cliff));
        assert_eq!(at(2, 1), colour(Cell::Free));
        // The start's colour shows outside the agent's disc.
        assert_eq!(f.pixel(2, 2), colour(Cell::Start));
        assert_eq!(f.pixel(CELL_PX, 5), GRID_LINE);
        assert_eq!(f.pixel(5, CELL_PX), GRID_LINE);
        let wind_pixels = |col: usize| {
            (0..f.height)
                .flat_map(|y| (col * CELL_PX..(col + 1) * CELL_PX).map(move |x| (y, x)))
                .filter(|&(y, x)| f.pixel(y, x) == WIND)
                .count()
        };
        assert_eq!(wind_pixels(0), 0);
        assert!(wind_pixels(1) > 0);
        let distinct: std::collections::HashSet<[u8; 3]> = [
            Cell::Free,
            Cell::Start,
            Cell::Goal,
            Cell::Hole,
            Cell::Cliff,
            Cell::Wall,
        ]
        .map(colour)
        .into_iter()
        .chain([AGENT, GRID_LINE, WIND])
        .collect();
        assert_eq!(distinct.len(), 9);
    }
}
