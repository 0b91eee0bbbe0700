//! Pictures of runs and envs: learning curves, run comparisons, value heat maps and GIFs.
//!
//! - [`runs`]: reading a run directory — `metrics.csv` columns by header name, the config's
//!   env and algorithm, `summary.json`.
//! - [`curve`](mod@curve): the data behind a learning-curve chart (smoothing, seed alignment, bands), as
//!   pure functions; [`chart`] draws it as PNG or SVG and writes a run's `curve.png`.
//! - [`compare`]: the table of final returns, time to a threshold and speed.
//! - [`profile`]: performance profiles — the fraction of seeds whose final value is above
//!   each score — with bootstrap bands.
//! - [`heatmap`]: a grid world's values and greedy policy.
//! - [`blackjack`]: Blackjack's optimal policy and values, Sutton & Barto's Figure 5.2.
//! - [`render`] plays episodes into frames or text; [`gif`] encodes frames as a GIF.
//!
//! The learning-curve and comparison code reads only a run's files, never the runner's
//! memory, so a plot can be redrawn from a finished run at any time.

pub mod blackjack;
mod canvas;
pub mod chart;
pub mod compare;
pub mod curve;
pub mod gif;
pub mod heatmap;
pub mod profile;
pub mod render;
pub mod runs;

pub use canvas::{ImageFormat, MAX_SIDE, check_size};
pub use chart::{ChartStyle, draw_curves, write_curve};
pub use curve::{Band, Curve, CurveSpec, XAxis, curve, default_labels, to_csv};
pub use profile::{ProfileSpec, profiles};
pub use runs::{Run, SeedRun, SeedSummary, Summary, Table};
