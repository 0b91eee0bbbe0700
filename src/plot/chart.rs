//! Learning-curve charts: one line per run with its band, a legend, axis labels and a title.

use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{self, FAMILY, Picture, plot_error};
use super::curve::{self, Band, Curve, CurveSpec, XAxis};
use super::runs::Run;
use crate::float::short;

/// Line colours, in the order runs get them: the Okabe–Ito palette, which stays
/// distinguishable for the common kinds of colour blindness (its yellow, too pale on white,
/// left out).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermilion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];

/// The texts and size of a chart.
///
/// | field | default |
/// |---|---|
/// | `width`, `height` | 1024 × 640 pixels (≥ 16 each) |
/// | `title`, `x_label`, `y_label` | empty: none drawn |
/// | `x_range`, `y_range` | `None`: the data's (y widened by 4% each side) |
#[derive(Clone, Debug, PartialEq)]
pub struct ChartStyle {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// The title above the chart.
    pub title: String,
    /// The x axis's label.
    pub x_label: String,
    /// The y axis's label.
    pub y_label: String,
    /// The x axis's range; what lies outside is cut off.
    pub x_range: Option<(f64, f64)>,
    /// The y axis's range; what lies outside is cut off.
    pub y_range: Option<(f64, f64)>,
}

impl Default for ChartStyle {
    fn default() -> Self {
        ChartStyle {
            width: 1024,
            height: 640,
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            x_range: None,
            y_range: None,
        }
    }
}

impl ChartStyle {
    /// Axis labels and a title describing `spec` over `runs`: the x axis's unit, the metric
    /// with its smoothing, and the env (when the runs share one) with the band.
    pub fn describe(runs: &[Run], spec: &CurveSpec) -> ChartStyle {
        let x_label = match spec.x {
            XAxis::Episode => "episode",
            XAxis::Step => "env steps",
        };
        let y_label = if spec.smooth > 1 {
            format!(
                "{} (moving mean over {} episodes)",
                spec.metric, spec.smooth
            )
        } else {
            spec.metric.clone()
        };
        let band = match spec.band {
            Band::Std => "mean over seeds ± std",
            Band::Ci95 => "mean over seeds, 95% confidence interval",
            Band::MinMax => "mean over seeds, min to max",
            Band::Bootstrap => "IQM over seeds, stratified-bootstrap 95% interval",
            Band::None => "mean over seeds",
        };
        let env = runs
            .first()
            .and_then(|r| r.env_id.clone())
            .filter(|e| runs.iter().all(|r| r.env_id.as_deref() == Some(e)));
        let title = match env {
            Some(env) => format!("{env}: {band}"),
            None => band[..1].to_uppercase() + &band[1..],
        };
        ChartStyle {
            title,
            x_label: x_label.into(),
            y_label,
            ..ChartStyle::default()
        }
    }
}

/// Draws curves as a PNG or SVG file (by `out`'s extension).
///
/// # Errors
/// An extension other than `.png` or `.svg`, no curve, an image under 16×16 pixels, a file
/// that cannot be written.
pub fn draw_curves(curves: &[Curve], style: &ChartStyle, out: &Path) -> Result<()> {
    if curves.is_empty() {
        anyhow::bail!("nothing to plot: no curve");
    }
    for (name, r) in [("x", style.x_range), ("y", style.y_range)] {
        if let Some((lo, hi)) = r
            && !drawable(lo, hi)
        {
            anyhow::bail!(
                "the {name} range must be two finite numbers LO < HI less than {:e} apart, \
                 got {},{}",
                f64::MAX,
                short(lo),
                short(hi)
            );
        }
    }
    canvas::save(
        &CurveChart { curves, style },
        out,
        style.width,
        style.height,
    )
}

/// Writes `RUN_DIR/curve.png`: the run's return per episode, mean over seeds ± std, smoothed
/// over 1% of the episodes (at least 1) — what `qlab plot RUN_DIR --smooth K` draws with that
/// `K`. Returns the file's path.
///
/// # Errors
/// As [`Run::load`], [`curve::curve`] and [`draw_curves`].
pub fn write_curve(run_dir: &Path) -> Result<PathBuf> {
    let run = Run::load(run_dir)?;
    let episodes = run
        .seeds
        .iter()
        .map(|s| s.metrics.rows.len())
        .max()
        .unwrap_or(0);
    let spec = CurveSpec {
        smooth: (episodes / 100).max(1),
        ..CurveSpec::default()
    };
    let runs = [run];
    let label = curve::default_labels(&runs).remove(0);
    let curves = [curve::curve(&runs[0], &label, &spec)?];
    let out = run_dir.join("curve.png");
    draw_curves(&curves, &ChartStyle::describe(&runs, &spec), &out)?;
    Ok(out)
}

struct CurveChart<'a> {
    curves: &'a [Curve],
    style: &'a ChartStyle,
}

impl Picture for CurveChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let (w, h) = (self.style.width, self.style.height);
        let px = |size: f64| canvas::font_px(w, h, size);
        let len = |size: f64| canvas::scaled(w, h, size);
        root.fill(&WHITE).map_err(plot_error)?;

        let (x_lo, x_hi) = self
            .style
            .x_range
            .unwrap_or_else(|| range(self.curves.iter().flat_map(|c| c.x.iter().copied())));
        let (y_lo, y_hi) = self.style.y_range.unwrap_or_else(|| {
            let (lo, hi) = range(
                self.curves
                    .iter()
                    .flat_map(|c| c.lower.iter().chain(&c.upper).copied()),
            );
            let pad = 0.04 * (hi - lo);
            (lo - pad, hi + pad)
        });
        for (name, lo, hi) in [("x", x_lo, x_hi), ("y", y_lo, y_hi)] {
            if !drawable(lo, hi) {
                anyhow::bail!(
                    "the data's {name} values span {} to {}, too wide to draw; give \
                     --{name}lim LO,HI",
                    short(lo),
                    short(hi)
                );
            }
        }

        let mut builder = ChartBuilder::on(root);
        builder
            .margin(len(18.0))
            .x_label_area_size(len(56.0).max(px(16.0) * 3.0))
            .y_label_area_size(len(84.0).max(px(16.0) * 5.0));
        if !self.style.title.is_empty() {
            builder.caption(&self.style.title, (FAMILY, px(24.0)));
        }
        let mut chart = builder
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(&self.style.x_label)
            .y_desc(&self.style.y_label)
            .label_style((FAMILY, px(16.0)))
            .axis_desc_style((FAMILY, px(18.0)))
            .max_light_lines(1)
            .light_line_style(RGBColor(242, 242, 242))
            .bold_line_style(RGBColor(218, 218, 218))
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|x| tick(*x, x_lo.abs().max(x_hi.abs())))
            .y_label_formatter(&|y| tick(*y, y_lo.abs().max(y_hi.abs())))
            .draw()
            .map_err(plot_error)?;

        // Bands first, so that no band hides a line.
        for (i, c) in self.curves.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            if c.lower != c.mean || c.upper != c.mean {
                for (a, b) in band_pieces(c, (x_lo, x_hi), (y_lo, y_hi)) {
                    // Clamped into the axes, so that a band running past them fills to the edge.
                    let clamp = |x: f64, y: f64| (x.clamp(x_lo, x_hi), y.clamp(y_lo, y_hi));
                    let outline: Vec<(f64, f64)> = (a..b)
                        .map(|k| clamp(c.x[k], c.upper[k]))
                        .chain((a..b).rev().map(|k| clamp(c.x[k], c.lower[k])))
                        .collect();
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            outline,
                            colour.mix(0.18).filled(),
                        )))
                        .map_err(plot_error)?;
                }
            }
        }
        let stroke = len(2.0).round().max(1.0) as u32;
        for (i, c) in self.curves.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let seeds = c.count.iter().copied().max().unwrap_or(0);
            let label = format!(
                "{} ({} seed{})",
                c.label,
                seeds,
                if seeds == 1 { "" } else { "s" }
            );
            let points: Vec<(f64, f64)> = c.x.iter().copied().zip(c.mean.iter().copied()).collect();
            let pieces = clip_polyline(&points, (x_lo, x_hi), (y_lo, y_hi));
            let swatch = len(24.0).max(12.0) as i32;
            chart
                .draw_series(
                    pieces
                        .into_iter()
                        .map(|piece| PathElement::new(piece, colour.stroke_width(stroke))),
                )
                .map_err(plot_error)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(
                        vec![(x, y), (x + swatch, y)],
                        colour.stroke_width(stroke + 1),
                    )
                });
        }
        chart
            .configure_series_labels()
            .position(legend_corner(self.curves, y_lo, y_hi))
            .margin(len(12.0))
            .label_font((FAMILY, px(16.0)))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(plot_error)?;
        Ok(())
    }
}

/// The index ranges `[a, b)` of the runs of consecutive points whose band meets the axes'
/// rectangle: a band wholly outside is left out rather than squashed onto the edge.
fn band_pieces(
    c: &Curve,
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
) -> Vec<(usize, usize)> {
    let visible =
        |k: usize| c.x[k] >= x_lo && c.x[k] <= x_hi && c.upper[k] >= y_lo && c.lower[k] <= y_hi;
    let mut pieces = Vec::new();
    let mut start = None;
    for k in 0..c.x.len() {
        match (visible(k), start) {
            (true, None) => start = Some(k),
            (false, Some(a)) => {
                pieces.push((a, k));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        pieces.push((a, c.x.len()));
    }
    pieces
}

/// The parts of a polyline inside the rectangle `x_range × y_range`, each a polyline of its
/// own (Liang–Barsky clipping of each segment), so that a line leaving the axes is cut at
/// their edge rather than drawn along it.
pub fn clip_polyline(
    points: &[(f64, f64)],
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
    let inside = |(x, y): (f64, f64)| x >= x_lo && x <= x_hi && y >= y_lo && y <= y_hi;
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    if points.len() == 1 && inside(points[0]) {
        return vec![points.to_vec()];
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        let (dx, dy) = (x1 - x0, y1 - y0);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let mut visible = true;
        for (p, q) in [
            (-dx, x0 - x_lo),
            (dx, x_hi - x0),
            (-dy, y0 - y_lo),
            (dy, y_hi - y0),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    visible = false;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        if !visible || t0 > t1 {
            if !current.is_empty() {
                pieces.push(std::mem::take(&mut current));
            }
            continue;
        }
        let a = (x0 + t0 * dx, y0 + t0 * dy);
        let b = (x0 + t1 * dx, y0 + t1 * dy);
        if current.last() != Some(&a) {
            if !current.is_empty() {
                pieces.push(std::mem::take(&mut current));
            }
            current.push(a);
        }
        current.push(b);
        if t1 < 1.0 {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Whether `lo..hi` can be an axis: finite ends, `lo < hi`, and a finite width (the axis's
/// tick search steps through `hi - lo`, and an infinite width never ends it).
pub fn drawable(lo: f64, hi: f64) -> bool {
    lo < hi && lo.is_finite() && hi.is_finite() && (hi - lo).is_finite()
}

/// The smallest and largest of finite values, widened to a range of at least 1 when equal.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

/// The legend goes in the lower right corner when the curves end high (rising returns), in the
/// upper right when they end low (falling losses).
fn legend_corner(curves: &[Curve], y_lo: f64, y_hi: f64) -> SeriesLabelPosition {
    let tail: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.mean[c.mean.len() * 3 / 4..].iter().copied())
        .collect();
    let mid = (y_lo + y_hi) / 2.0;
    if tail.is_empty() || tail.iter().sum::<f64>() / tail.len() as f64 >= mid {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    }
}

/// A tick label on an axis reaching `axis_max` in absolute value: in thousands (`25k`) when
/// it reaches 10 000, otherwise with no more digits than the axis needs.
fn tick(v: f64, axis_max: f64) -> String {
    let short = |v: f64, digits: usize| {
        let s = format!("{v:.digits$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        if s == "-0" { "0".to_string() } else { s }
    };
    if axis_max >= 10_000.0 {
        format!("{}k", short(v / 1000.0, 1))
    } else if axis_max >= 100.0 {
        short(v, 0)
    } else if axis_max >= 1.0 {
        short(v, 2)
    } else {
        short(v, 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(-100.0, 160.0), "-100");
        assert_eq!(tick(20000.0, 25000.0), "20k");
        assert_eq!(tick(5000.0, 25000.0), "5k");
        assert_eq!(tick(2500.0, 25000.0), "2.5k");
        assert_eq!(tick(2.5, 10.0), "2.5");
        assert_eq!(tick(0.125, 0.5), "0.125");
        assert_eq!(tick(0.1, 0.5), "0.1");
        assert_eq!(tick(-0.0001, 0.5), "-0.0001");
        assert_eq!(tick(0.0, 0.5), "0");
    }

    #[test]
    fn lines_are_cut_at_the_axes() {
        let line = [(0.0, 0.0), (1.0, 2.0), (2.0, 0.0), (3.0, 0.5)];
        // The peak above y = 1 is cut out: two pieces, meeting the edge at x = 0.5 and 1.5.
        assert_eq!(
            clip_polyline(&line, (0.0, 3.0), (0.0, 1.0)),
            vec![
                vec![(0.0, 0.0), (0.5, 1.0)],
                vec![(1.5, 1.0), (2.0, 0.0), (3.0, 0.5)]
            ]
        );
        assert_eq!(
            clip_polyline(&line, (0.0, 3.0), (-1.0, 3.0)),
            vec![line.to_vec()]
        );
        assert!(clip_polyline(&line, (0.0, 3.0), (5.0, 6.0)).is_empty());
    }

    #[test]
    fn bands_wholly_outside_the_axes_are_left_out() {
        let c = Curve {
            label: "a".into(),
            x: vec![0.0, 1.0, 2.0, 3.0, 4.0],
            mean: vec![0.0; 5],
            lower: vec![-9.0, -1.0, -9.0, -9.0, 0.5],
            upper: vec![-8.0, 1.0, -8.0, -8.0, 2.0],
            count: vec![2; 5],
        };
        assert_eq!(band_pieces(&c, (0.0, 4.0), (-2.0, 2.0)), [(1, 2), (4, 5)]);
        assert_eq!(band_pieces(&c, (0.0, 0.5), (-10.0, 2.0)), [(0, 1)]);
    }

    #[test]
    fn flat_ranges_are_widened() {
        assert_eq!(range([3.0, 3.0].into_iter()), (2.5, 3.5));
        assert_eq!(range([f64::NAN, 1.0, -2.0].into_iter()), (-2.0, 1.0));
        assert_eq!(range(std::iter::empty()), (0.0, 1.0));
    }
}
