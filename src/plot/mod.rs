//! Pictures of runs and envs: learning curves, run comparisons, value heat maps and GIFs.
//!
//! Everything here reads the files a run directory holds ([`runs`]) and never the runner's
//! memory, so a plot can be redrawn from a finished run at any time.

mod canvas;
pub mod chart;
pub mod compare;
pub mod curve;
pub mod gif;
pub mod heatmap;
pub mod render;
pub mod runs;

pub use canvas::ImageFormat;
pub use chart::{ChartStyle, draw_curves, write_curve};
pub use curve::{Band, Curve, CurveSpec, XAxis, curve, default_labels, to_csv};
pub use runs::{Run, SeedRun, SeedSummary, Summary, Table};
