//! Where pictures are drawn: a PNG or an SVG file chosen by its extension, text in the font
//! shipped under `assets/fonts` (so no system font library is needed).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use plotters::coord::Shift;
use plotters::prelude::*;

/// DejaVu Sans 2.37 (Bitstream Vera licence, `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The font family every picture's text uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the bundled font as [`FAMILY`] once per process.
pub(crate) fn register_font() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if !ok {
        bail!("the bundled font could not be read");
    }
    Ok(())
}

/// The image formats pictures are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG, 8-bit RGB.
    Png,
    /// SVG; text is left to the viewer's sans-serif font.
    Svg,
}

impl ImageFormat {
    /// The format a file name asks for by its extension (`.png` or `.svg`, any case).
    pub fn of(path: &Path) -> Result<ImageFormat> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(ImageFormat::Png),
            Some("svg") => Ok(ImageFormat::Svg),
            _ => bail!("{}: the file name must end in .png or .svg", path.display()),
        }
    }
}

/// Something that draws itself on any plotters backend.
pub(crate) trait Picture {
    /// Draws on `root`, which covers the whole image.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// A plotters error as an [`anyhow::Error`] (plotters' errors are generic over the backend).
pub(crate) fn plot_error<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing failed: {e}")
}

/// The most pixels an image has a side: 8192 × 8192 RGB pixels take 192 MiB.
pub const MAX_SIDE: u32 = 8192;

/// Checks an image size: 16 to [`MAX_SIDE`] pixels a side.
pub fn check_size(width: u32, height: u32) -> Result<()> {
    if !(16..=MAX_SIDE).contains(&width) || !(16..=MAX_SIDE).contains(&height) {
        bail!("the image must be 16 to {MAX_SIDE} pixels a side, got {width}×{height}");
    }
    Ok(())
}

/// Draws `picture` into a `width × height` image at `out`, as PNG or SVG by its extension.
pub(crate) fn save(picture: &impl Picture, out: &Path, width: u32, height: u32) -> Result<()> {
    check_size(width, height)?;
    let format = ImageFormat::of(out)?;
    register_font()?;
    match format {
        ImageFormat::Png => {
            let mut rgb = vec![0u8; width as usize * height as usize * 3];
            {
                let root =
                    BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
                picture.draw(&root)?;
                root.present().map_err(plot_error)?;
            }
            write_png(out, width, height, &rgb)
        }
        ImageFormat::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, (width, height)).into_drawing_area();
                picture.draw(&root)?;
                root.present().map_err(plot_error)?;
            }
            crate::files::write_file(out, text.as_bytes())
        }
    }
}

/// Writes 8-bit RGB pixels, row by row, as a PNG file (atomically: a failure leaves the file
/// as it was).
pub(crate) fn write_png(out: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    crate::files::write_atomic(out, |tmp| {
        let cannot = || format!("cannot write {}", tmp.display());
        let file = File::create(tmp).with_context(cannot)?;
        let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().with_context(cannot)?;
        writer.write_image_data(rgb).with_context(cannot)?;
        writer.finish().with_context(cannot)
    })
}

/// A length scaled with the image: `size` pixels on a 1024×640 image, scaled by the smaller
/// of the two ratios.
pub(crate) fn scaled(width: u32, height: u32, size: f64) -> f64 {
    size * (width as f64 / 1024.0).min(height as f64 / 640.0)
}

/// A font size scaled with the image as [`scaled`], 10 pixels at least (smaller is hard to read).
pub(crate) fn font_px(width: u32, height: u32, size: f64) -> f64 {
    scaled(width, height, size).max(10.0)
}
