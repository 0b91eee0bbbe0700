//! Sutton & Barto's Figure 5.2: Blackjack's optimal policy and optimal state values, for a
//! player holding a usable ace and for one who does not, player sum 12–21 against the
//! dealer's card A–10.

use std::path::Path;

use anyhow::{Result, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use qlab_envs::blackjack::BlackjackObs;

use super::canvas::{self, FAMILY, Picture, plot_error};
use super::heatmap::viridis;

/// The player sums the figure shows, bottom row first.
pub const SUMS: std::ops::RangeInclusive<u8> = 12..=21;

/// What the figure shows: for each panel row (`0`: usable ace, `1`: no usable ace), a grid of
/// `[player sum − 12][dealer's card − 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct BlackjackFigure {
    /// The action in each state: 0 sticks, 1 hits.
    pub policy: [[[usize; 10]; 10]; 2],
    /// The value of each state.
    pub values: [[[f64; 10]; 10]; 2],
    /// The title above the panels.
    pub title: String,
}

impl BlackjackFigure {
    /// The figure of a value and an action per state of `Blackjack-v1` (one per
    /// [`BlackjackObs`] index, as dynamic programming gives them). The cells are the states
    /// of Gymnasium's tuple; a soft 21 is the one reached by hitting (the book's figure has
    /// no naturals: its player never decides on one).
    ///
    /// # Errors
    /// `values` or `policy` not of one entry per state, or an action other than 0 and 1.
    pub fn new(values: &[f64], policy: &[usize]) -> Result<BlackjackFigure> {
        let n = BlackjackObs::COUNT;
        if values.len() != n || policy.len() != n {
            bail!(
                "the Blackjack figure needs one value and one action per state ({n}), got {} and {}",
                values.len(),
                policy.len()
            );
        }
        if let Some(&a) = policy.iter().find(|&&a| a > 1) {
            bail!("action {a} is not one of Blackjack's two (0 stick, 1 hit)");
        }
        let mut figure = BlackjackFigure {
            policy: [[[0; 10]; 10]; 2],
            values: [[[0.0; 10]; 10]; 2],
            title: "Blackjack-v1: optimal policy and state values (Sutton & Barto, Figure 5.2)"
                .into(),
        };
        for (panel, usable_ace) in [(0, true), (1, false)] {
            for sum in SUMS {
                for card in 1..=10u8 {
                    let s = BlackjackObs {
                        player_sum: sum,
                        dealer_card: card,
                        usable_ace,
                        natural: false,
                    }
                    .index();
                    let (row, col) = ((sum - 12) as usize, (card - 1) as usize);
                    figure.policy[panel][row][col] = policy[s];
                    figure.values[panel][row][col] = values[s];
                }
            }
        }
        Ok(figure)
    }
}

/// Draws the figure as a PNG or SVG file (by `out`'s extension): four panels, the policy on
/// the left (stick light, hit dark, with `S` and `H`), the values on the right (coloured on
/// −1 to 1, printed), usable ace above, no usable ace below. Returns the image's width and
/// height, always [`FIGURE_SIZE`].
///
/// # Errors
/// A bad extension or a write error.
pub fn write_figure_5_2(figure: &BlackjackFigure, out: &Path) -> Result<(u32, u32)> {
    let (w, h) = FIGURE_SIZE;
    canvas::save(&Drawing(figure), out, w, h)?;
    Ok(FIGURE_SIZE)
}

/// The figure's width and height in pixels.
pub const FIGURE_SIZE: (u32, u32) = (2 * PANEL_W as u32 + 20, TITLE_H as u32 + 2 * PANEL_H as u32);

const CELL: i32 = 40;
const LEFT: i32 = 80;
const TOP: i32 = 40;
const PANEL_W: i32 = LEFT + 10 * CELL + 20;
const PANEL_H: i32 = TOP + 10 * CELL + 56;
const TITLE_H: i32 = 44;

const STICK: RGBColor = RGBColor(240, 228, 190);
const HIT: RGBColor = RGBColor(60, 80, 130);

struct Drawing<'a>(&'a BlackjackFigure);

impl Picture for Drawing<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let f = self.0;
        root.fill(&WHITE).map_err(plot_error)?;
        let text = |size: f64| TextStyle::from((FAMILY, size).into_font()).color(&BLACK);
        root.draw_text(&f.title, &text(19.0), (16, 12))
            .map_err(plot_error)?;
        let centred = Pos::new(HPos::Center, VPos::Center);
        for (panel, ace) in ["Usable ace", "No usable ace"].into_iter().enumerate() {
            for (column, what) in ["optimal policy π*", "optimal values v*"]
                .into_iter()
                .enumerate()
            {
                let x0 = 10 + column as i32 * PANEL_W;
                let y0 = TITLE_H + panel as i32 * PANEL_H;
                let (gx, gy) = (x0 + LEFT, y0 + TOP);
                root.draw_text(&format!("{ace}: {what}"), &text(17.0), (gx, y0 + 10))
                    .map_err(plot_error)?;
                for row in 0..10 {
                    // Player sum 21 on top, as in the book.
                    let y = gy + (9 - row as i32) * CELL;
                    for col in 0..10 {
                        let x = gx + col as i32 * CELL;
                        let (fill, label) = if column == 0 {
                            match f.policy[panel][row][col] {
                                0 => (STICK, "S".to_string()),
                                _ => (HIT, "H".to_string()),
                            }
                        } else {
                            let v = f.values[panel][row][col];
                            // Rounded first and `+ 0.0`, so that a value rounding to zero prints
                            // as 0.00, never as -0.00.
                            let shown = (v * 100.0).round() / 100.0 + 0.0;
                            (viridis((v + 1.0) / 2.0), format!("{shown:.2}"))
                        };
                        root.draw(&Rectangle::new(
                            [(x, y), (x + CELL, y + CELL)],
                            fill.filled(),
                        ))
                        .map_err(plot_error)?;
                        let luma =
                            0.299 * fill.0 as f64 + 0.587 * fill.1 as f64 + 0.114 * fill.2 as f64;
                        let ink = if luma > 140.0 { BLACK } else { WHITE };
                        let size = if column == 0 { 16.0 } else { 12.0 };
                        let style = TextStyle::from((FAMILY, size).into_font())
                            .color(&ink)
                            .pos(centred);
                        root.draw_text(&label, &style, (x + CELL / 2, y + CELL / 2))
                            .map_err(plot_error)?;
                    }
                    let style = text(14.0).pos(Pos::new(HPos::Right, VPos::Center));
                    root.draw_text(&(12 + row).to_string(), &style, (gx - 8, y + CELL / 2))
                        .map_err(plot_error)?;
                }
                for col in 0..10 {
                    let label = if col == 0 {
                        "A".into()
                    } else {
                        (col + 1).to_string()
                    };
                    let style = text(14.0).pos(centred);
                    let x = gx + col * CELL + CELL / 2;
                    root.draw_text(&label, &style, (x, gy + 10 * CELL + 14))
                        .map_err(plot_error)?;
                }
                root.draw_text(
                    "Dealer showing",
                    &text(14.0).pos(centred),
                    (gx + 5 * CELL, gy + 10 * CELL + 38),
                )
                .map_err(plot_error)?;
                root.draw_text(
                    "Player sum",
                    &text(14.0).pos(centred).transform(FontTransform::Rotate270),
                    (x0 + 16, gy + 5 * CELL),
                )
                .map_err(plot_error)?;
                root.draw(&Rectangle::new(
                    [(gx, gy), (gx + 10 * CELL, gy + 10 * CELL)],
                    BLACK.stroke_width(1),
                ))
                .map_err(plot_error)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use qlab_agents::dp::{DpConfig, value_iteration};
    use qlab_envs::Env;
    use qlab_envs::blackjack::{Blackjack, BlackjackConfig};

    use super::*;

    /// Sutton & Barto, Figure 5.2: the smallest player sum that sticks, against the dealer's
    /// A, 2, …, 10. Usable ace: stick on 19 or more against 9, 10 and an ace, on 18 or more
    /// otherwise. No usable ace: stick on 17 or more against an ace and 7–10, on 13 or more
    /// against 2 and 3, on 12 or more against 4–6.
    const BOOK_STICKS_FROM: [[u8; 10]; 2] = [
        [19, 18, 18, 18, 18, 18, 18, 18, 19, 19],
        [17, 13, 13, 12, 12, 12, 17, 17, 17, 17],
    ];

    fn figure() -> BlackjackFigure {
        let env = Blackjack::new(BlackjackConfig::default());
        let model = env.model().unwrap();
        let solution = value_iteration(model, &DpConfig::default()).unwrap();
        BlackjackFigure::new(&solution.values, &solution.policy).unwrap()
    }

    #[test]
    fn the_optimal_policy_is_the_books_figure_5_2() {
        let f = figure();
        for (panel, sticks_from) in BOOK_STICKS_FROM.iter().enumerate() {
            for (card, &from) in sticks_from.iter().enumerate() {
                for row in 0..10 {
                    let sum = 12 + row as u8;
                    assert_eq!(
                        f.policy[panel][row][card],
                        usize::from(sum < from),
                        "panel {panel}, sum {sum}, dealer {}",
                        card + 1
                    );
                }
            }
        }
        // A hard 21 against a 6 wins unless the dealer reaches 21 too.
        assert!(f.values[1][9][5] > 0.88);
        assert!(
            f.values
                .iter()
                .flatten()
                .flatten()
                .all(|v| (-1.0..=1.0).contains(v))
        );
    }

    #[test]
    fn the_figure_is_written_at_its_size() {
        let dir = std::env::temp_dir().join(format!("qlab-blackjack-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("figure.png");
        assert_eq!(write_figure_5_2(&figure(), &out).unwrap(), FIGURE_SIZE);
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
        let info = decoder.read_info().unwrap().info().clone();
        assert_eq!((info.width, info.height), FIGURE_SIZE);
        assert!(write_figure_5_2(&figure(), &dir.join("figure.jpg")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn wrong_lengths_and_actions_are_refused() {
        let e = BlackjackFigure::new(&[0.0; 3], &[0; 714])
            .unwrap_err()
            .to_string();
        assert!(e.contains("714") && e.contains("got 3 and 714"), "{e}");
        let e = BlackjackFigure::new(&[0.0; 714], &[2; 714])
            .unwrap_err()
            .to_string();
        assert!(e.contains("action 2"), "{e}");
    }
}
