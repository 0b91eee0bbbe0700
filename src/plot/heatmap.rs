//! Value heat maps of grid worlds: each cell coloured by its state value, the greedy policy's
//! move drawn as an arrow, and the path the policy takes from the start.

use std::path::Path;

use anyhow::{Result, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use qlab_envs::gridworld::{Cell, GridWorld};
use qlab_envs::{Env, Model};

use super::canvas::{self, FAMILY, Picture, plot_error};

/// What a heat map shows: one entry per cell, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatMap {
    /// Rows of the grid.
    pub rows: usize,
    /// Columns of the grid.
    pub cols: usize,
    /// The value of each cell's state.
    pub values: Vec<f64>,
    /// Each cell's greedy move as `(rows down, columns right)`; `None` for no arrow, `(0, 0)`
    /// for staying put (drawn as a dot).
    pub arrows: Vec<Option<(i64, i64)>>,
    /// What each cell is: walls, goals, holes and cliffs are drawn in their own colours
    /// instead of a value.
    pub cells: Vec<Cell>,
    /// The wind of each column (cells pushed up), written under the grid when any is non-zero.
    pub wind: Vec<i64>,
    /// The start cell, outlined.
    pub start: Option<usize>,
    /// The cells the greedy policy visits from the start, in order (empty: none drawn).
    pub path: Vec<usize>,
    /// The title above the grid.
    pub title: String,
}

impl HeatMap {
    /// The heat map of a grid world's state values and greedy actions (one action index per
    /// state, as `dp::greedy_policy` gives). The path follows the greedy actions from the
    /// first start state until a terminal cell, a repeated cell or `rows · cols` steps — only
    /// where every move along it is certain: in a slippery or stochastically windy world no
    /// path is drawn.
    ///
    /// # Errors
    /// `values` or `policy` of a length other than the number of states; an action outside
    /// the env's actions.
    pub fn for_gridworld(env: &GridWorld, values: &[f64], policy: &[usize]) -> Result<HeatMap> {
        let n = env.rows() * env.cols();
        if values.len() != n || policy.len() != n {
            bail!(
                "the heat map needs one value and one action per state ({n}), got {} and {}",
                values.len(),
                policy.len()
            );
        }
        let moves = &env.config().actions;
        if let Some(&a) = policy.iter().find(|&&a| a >= moves.len()) {
            bail!("action {a} is not one of the env's {} actions", moves.len());
        }
        let cells: Vec<Cell> = (0..n).map(|s| env.cell(s)).collect();
        let arrows = (0..n)
            .map(|s| match cells[s] {
                Cell::Wall | Cell::Goal | Cell::Hole | Cell::Cliff => None,
                _ => moves[policy[s]].delta(),
            })
            .collect();
        let model = env.model().expect("every GridWorld has a model");
        let start = model.initial_states().first().map(|&(s, _)| s);
        let mut path = Vec::new();
        if let Some(mut s) = start {
            path.push(s);
            while !model.is_terminal(s) && path.len() <= n {
                let Some(next) = certain_outcome(model, s, policy[s]) else {
                    path.clear();
                    break;
                };
                if path.contains(&next) {
                    break;
                }
                path.push(next);
                s = next;
            }
        }
        Ok(HeatMap {
            rows: env.rows(),
            cols: env.cols(),
            values: values.to_vec(),
            arrows,
            cells,
            wind: env.config().wind.clone(),
            start,
            path,
            title: format!("{}: state values and greedy policy", env.name()),
        })
    }
}

/// The next state of `action` in `state` when it is certain (all outcomes lead there).
fn certain_outcome(model: &dyn Model, state: usize, action: usize) -> Option<usize> {
    let outcomes = model.transitions(state, action);
    let next = outcomes.first()?.next_state;
    outcomes
        .iter()
        .all(|t| t.next_state == next || t.prob == 0.0)
        .then_some(next)
}

/// Draws a heat map as a PNG or SVG file (by `out`'s extension), cells `cell_px` pixels wide
/// (24 to 256), with a colour bar on the right. Returns the image's width and height.
///
/// # Errors
/// Inconsistent lengths, a cell size out of range, a bad extension, a write error.
pub fn value_heatmap(map: &HeatMap, out: &Path, cell_px: u32) -> Result<(u32, u32)> {
    let n = map.rows * map.cols;
    if n == 0
        || map.values.len() != n
        || map.arrows.len() != n
        || map.cells.len() != n
        || map.path.iter().chain(&map.start).any(|&s| s >= n)
    {
        bail!(
            "a heat map of {}×{} cells needs {n} values, arrows and cells and a path inside the grid",
            map.rows,
            map.cols
        );
    }
    if !(24..=256).contains(&cell_px) {
        bail!("the cell size must be 24 to 256 pixels, got {cell_px}");
    }
    let layout = Layout::new(map, cell_px);
    canvas::save(&Drawing { map, layout }, out, layout.width, layout.height)?;
    Ok((layout.width, layout.height))
}

/// Where everything goes, in pixels.
#[derive(Clone, Copy, Debug)]
struct Layout {
    cell: i32,
    left: i32,
    top: i32,
    bar_x: i32,
    font: f64,
    width: u32,
    height: u32,
}

impl Layout {
    fn new(map: &HeatMap, cell_px: u32) -> Layout {
        let cell = cell_px as i32;
        let grid_w = cell * map.cols as i32;
        let grid_h = cell * map.rows as i32;
        let font = 16.0;
        // The title must fit: about 0.6 em per character.
        let title_w = (0.6 * font * map.title.chars().count() as f64) as i32;
        let (left, top) = (16, 44);
        let bar_x = left + grid_w + 24;
        let width = (bar_x + 110).max(title_w + 32);
        // Room for the colour bar's labels when the grid is short.
        let wind_row = if map.wind.iter().any(|&w| w != 0) {
            28
        } else {
            0
        };
        let height = top + (grid_h + wind_row).max(160) + 16;
        Layout {
            cell,
            left,
            top,
            bar_x,
            font,
            width: width as u32,
            height: height as u32,
        }
    }
}

struct Drawing<'a> {
    map: &'a HeatMap,
    layout: Layout,
}

/// The fill of cells that show no value, as the env's own render draws them.
fn kind_colour(cell: Cell) -> Option<(RGBColor, &'static str)> {
    match cell {
        Cell::Wall => Some((RGBColor(70, 70, 78), "")),
        Cell::Goal => Some((RGBColor(120, 200, 110), "G")),
        Cell::Hole => Some((RGBColor(35, 45, 95), "H")),
        Cell::Cliff => Some((RGBColor(150, 95, 60), "C")),
        Cell::Free | Cell::Start => None,
    }
}

/// Viridis at `t` in [0, 1], interpolated between nine of its colours.
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads better on `c`.
fn ink_on(c: RGBColor) -> RGBColor {
    let luma = 0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64;
    if luma > 140.0 { BLACK } else { WHITE }
}

/// A value in at most five characters where possible: `-12.3`, `0.59`, `-100`.
fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Picture for Drawing<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let (m, l) = (self.map, self.layout);
        root.fill(&WHITE).map_err(plot_error)?;
        let title = TextStyle::from((FAMILY, l.font * 1.2).into_font()).color(&BLACK);
        root.draw_text(&m.title, &title, (l.left, 12))
            .map_err(plot_error)?;

        let shown: Vec<usize> = (0..m.values.len())
            .filter(|&s| kind_colour(m.cells[s]).is_none() && m.values[s].is_finite())
            .collect();
        let lo = shown
            .iter()
            .map(|&s| m.values[s])
            .fold(f64::INFINITY, f64::min);
        let hi = shown
            .iter()
            .map(|&s| m.values[s])
            .fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let scale = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };

        let c = l.cell;
        let corner = |s: usize| {
            (
                l.left + (s % m.cols) as i32 * c,
                l.top + (s / m.cols) as i32 * c,
            )
        };
        let centre = |s: usize| {
            let (x, y) = corner(s);
            (x + c / 2, y + c / 2)
        };
        let value_font = (FAMILY, (c as f64 * 0.24).clamp(9.0, 22.0)).into_font();
        let letter_font = (FAMILY, (c as f64 * 0.4).clamp(10.0, 40.0)).into_font();
        let centred = plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        );

        // Cells.
        for s in 0..m.values.len() {
            let (x, y) = corner(s);
            let (fill, letter) = match kind_colour(m.cells[s]) {
                Some((colour, letter)) => (colour, letter),
                None => (viridis(scale(m.values[s])), ""),
            };
            root.draw(&Rectangle::new([(x, y), (x + c, y + c)], fill.filled()))
                .map_err(plot_error)?;
            if !letter.is_empty() {
                let ink = ink_on(fill);
                let style = TextStyle::from(letter_font.clone())
                    .color(&ink)
                    .pos(centred);
                root.draw_text(letter, &style, (x + c / 2, y + c / 2))
                    .map_err(plot_error)?;
            }
        }
        // Grid lines.
        let line = RGBColor(255, 255, 255).stroke_width(1);
        for r in 0..=m.rows as i32 {
            let y = l.top + r * c;
            root.draw(&PathElement::new(
                vec![(l.left, y), (l.left + m.cols as i32 * c, y)],
                line,
            ))
            .map_err(plot_error)?;
        }
        for k in 0..=m.cols as i32 {
            let x = l.left + k * c;
            root.draw(&PathElement::new(
                vec![(x, l.top), (x, l.top + m.rows as i32 * c)],
                line,
            ))
            .map_err(plot_error)?;
        }
        // The greedy path, under the arrows.
        if m.path.len() > 1 {
            let points: Vec<(i32, i32)> = m.path.iter().map(|&s| centre(s)).collect();
            root.draw(&PathElement::new(
                points,
                RGBColor(230, 30, 40)
                    .mix(0.75)
                    .stroke_width((c / 10).max(3) as u32),
            ))
            .map_err(plot_error)?;
        }
        // Arrows and values.
        for s in 0..m.values.len() {
            if kind_colour(m.cells[s]).is_some() {
                continue;
            }
            let fill = viridis(scale(m.values[s]));
            let ink = ink_on(fill);
            let (cx, cy) = centre(s);
            let cy_arrow = cy - c / 8;
            match m.arrows[s] {
                Some((0, 0)) => {
                    root.draw(&Circle::new((cx, cy_arrow), (c / 12).max(2), ink.filled()))
                        .map_err(plot_error)?;
                }
                Some((dr, dc)) => arrow(root, (cx, cy_arrow), (dc, dr), c, ink)?,
                None => {}
            }
            let style = TextStyle::from(value_font.clone()).color(&ink).pos(centred);
            root.draw_text(&short(m.values[s]), &style, (cx, cy + c * 3 / 10))
                .map_err(plot_error)?;
        }
        // Wind strengths under their columns, as Sutton & Barto's Example 6.5 writes them.
        if m.wind.iter().any(|&w| w != 0) {
            let style = TextStyle::from((FAMILY, l.font).into_font())
                .color(&RGBColor(40, 110, 200))
                .pos(centred);
            let y = l.top + m.rows as i32 * c + 14;
            for (k, w) in m.wind.iter().enumerate().take(m.cols) {
                root.draw_text(&w.to_string(), &style, (l.left + k as i32 * c + c / 2, y))
                    .map_err(plot_error)?;
            }
        }
        // Start marker: an outline.
        if let Some(s) = m.start {
            let (x, y) = corner(s);
            root.draw(&Rectangle::new(
                [(x + 2, y + 2), (x + c - 2, y + c - 2)],
                RGBColor(230, 30, 40).stroke_width(3),
            ))
            .map_err(plot_error)?;
        }
        // Colour bar.
        let bar_h = (m.rows as i32 * c).max(160) - 8;
        let (bx, by) = (l.bar_x, l.top + 4);
        for k in 0..bar_h {
            let t = 1.0 - k as f64 / (bar_h - 1).max(1) as f64;
            root.draw(&Rectangle::new(
                [(bx, by + k), (bx + 18, by + k + 1)],
                viridis(t).filled(),
            ))
            .map_err(plot_error)?;
        }
        let label = TextStyle::from((FAMILY, l.font * 0.9).into_font()).color(&BLACK);
        let mid = plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        );
        for (t, v) in [(1.0, hi), (0.5, (lo + hi) / 2.0), (0.0, lo)] {
            let y = by + ((1.0 - t) * (bar_h - 1) as f64) as i32;
            root.draw_text(&short(v), &label.pos(mid), (bx + 24, y))
                .map_err(plot_error)?;
        }
        Ok(())
    }
}

/// An arrow from `from` pointing `(dx, dy)` (pixels right and down), sized for a cell of `c`
/// pixels.
fn arrow<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    (dx, dy): (i64, i64),
    c: i32,
    ink: RGBColor,
) -> Result<()> {
    let norm = ((dx * dx + dy * dy) as f64).sqrt();
    let (ux, uy) = (dx as f64 / norm, dy as f64 / norm);
    let half = c as f64 * 0.28;
    let (x, y) = (from.0 as f64, from.1 as f64);
    let tail = (x - ux * half, y - uy * half);
    let tip = (x + ux * half, y + uy * half);
    let head = c as f64 * 0.14;
    let base = (tip.0 - ux * head, tip.1 - uy * head);
    let (px, py) = (-uy * head * 0.6, ux * head * 0.6);
    let p = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    root.draw(&PathElement::new(
        vec![p(tail), p(base)],
        ink.stroke_width((c / 24).max(2) as u32),
    ))
    .map_err(plot_error)?;
    root.draw(&Polygon::new(
        vec![
            p(tip),
            p((base.0 + px, base.1 + py)),
            p((base.0 - px, base.1 - py)),
        ],
        ink.filled(),
    ))
    .map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_clamps() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        // Halfway between the 5th and 6th stops.
        assert_eq!(viridis(4.5 / 8.0), RGBColor(36, 159, 135));
    }

    #[test]
    fn values_are_short() {
        assert_eq!(short(-12.345), "-12.3");
        assert_eq!(short(0.5873), "0.59");
        assert_eq!(short(-100.0), "-100");
    }
}
