//! Animated GIFs of env frames.
//!
//! Env frames are drawn in a few flat colours, so the encoder builds one global palette of
//! the colours the frames actually use — exact when there are at most 256 of them, which is
//! the usual case — and falls back to a median cut over the colour histogram otherwise. After
//! the first frame, each frame stores only the rectangle of pixels that changed, and a frame
//! equal to the one before lengthens that one's delay instead of being stored.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use qlab_envs::Frame;

/// A global palette and the index of every colour the frames use.
#[derive(Clone, Debug, PartialEq)]
pub struct Palette {
    /// The palette's colours (at most 256).
    pub colours: Vec<[u8; 3]>,
    /// The palette index each colour of the frames is drawn with.
    pub index: HashMap<[u8; 3], u8>,
}

/// The colour histogram of frames seen one at a time, from which a [`Palette`] is made: what
/// lets a GIF of any number of frames be written without holding them (a first pass counts
/// the colours, a second encodes).
#[derive(Clone, Debug, Default)]
pub struct ColourCount {
    counts: HashMap<[u8; 3], u64>,
}

impl ColourCount {
    /// Counts the colours of `f`'s pixels.
    pub fn add(&mut self, f: &Frame) {
        // Counted run by run: flat-colour frames are mostly long runs of one colour.
        let mut run: Option<([u8; 3], u64)> = None;
        for p in f.data.chunks_exact(3) {
            let c = [p[0], p[1], p[2]];
            match &mut run {
                Some((colour, n)) if *colour == c => *n += 1,
                _ => {
                    if let Some((colour, n)) = run {
                        *self.counts.entry(colour).or_default() += n;
                    }
                    run = Some((c, 1));
                }
            }
        }
        if let Some((colour, n)) = run {
            *self.counts.entry(colour).or_default() += n;
        }
    }

    /// The palette of the frames counted (see [`Palette::of`]).
    pub fn palette(self) -> Palette {
        Palette::from_counts(self.counts)
    }
}

impl Palette {
    /// The palette of `frames`: their colours, most frequent first (ties by colour value),
    /// when there are at most 256; otherwise 256 colours from a median cut, each frame colour
    /// mapped to its nearest.
    pub fn of(frames: &[Frame]) -> Palette {
        let mut count = ColourCount::default();
        for f in frames {
            count.add(f);
        }
        count.palette()
    }

    fn from_counts(counts: HashMap<[u8; 3], u64>) -> Palette {
        let mut histogram: Vec<([u8; 3], u64)> = counts.into_iter().collect();
        histogram.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if histogram.len() <= 256 {
            let colours: Vec<[u8; 3]> = histogram.iter().map(|&(c, _)| c).collect();
            let index = colours
                .iter()
                .enumerate()
                .map(|(i, &c)| (c, i as u8))
                .collect();
            return Palette { colours, index };
        }
        let colours = median_cut(histogram.clone(), 256);
        let index = histogram
            .iter()
            .map(|&(c, _)| (c, nearest(&colours, c)))
            .collect();
        Palette { colours, index }
    }
}

/// Splits the weighted colours into `n` boxes, each time the box with the widest channel
/// range at its weighted median along that channel, and returns each box's weighted mean.
fn median_cut(histogram: Vec<([u8; 3], u64)>, n: usize) -> Vec<[u8; 3]> {
    let spread = |b: &[([u8; 3], u64)]| {
        (0..3)
            .map(|ch| {
                let lo = b.iter().map(|(c, _)| c[ch]).min().unwrap_or(0);
                let hi = b.iter().map(|(c, _)| c[ch]).max().unwrap_or(0);
                (hi - lo, ch)
            })
            .max()
            .unwrap_or((0, 0))
    };
    let mut boxes = vec![histogram];
    while boxes.len() < n {
        let Some((i, (width, ch))) = boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.len() > 1)
            .map(|(i, b)| (i, spread(b)))
            .max_by_key(|&(i, (w, _))| (w, std::cmp::Reverse(i)))
        else {
            break;
        };
        if width == 0 {
            break;
        }
        let mut b = boxes.swap_remove(i);
        b.sort_by_key(|(c, _)| (c[ch], *c));
        let total: u64 = b.iter().map(|(_, w)| w).sum();
        let mut acc = 0;
        let mut cut = 1;
        for (k, (_, w)) in b.iter().enumerate() {
            acc += w;
            if acc * 2 >= total {
                cut = (k + 1).clamp(1, b.len() - 1);
                break;
            }
        }
        let rest = b.split_off(cut);
        boxes.push(b);
        boxes.push(rest);
    }
    boxes
        .iter()
        .map(|b| {
            let total: u64 = b.iter().map(|(_, w)| w).sum::<u64>().max(1);
            let mut mean = [0u8; 3];
            for (ch, m) in mean.iter_mut().enumerate() {
                let s: u64 = b.iter().map(|(c, w)| c[ch] as u64 * w).sum();
                *m = ((s + total / 2) / total) as u8;
            }
            mean
        })
        .collect()
}

/// The index of the palette colour nearest to `c` (squared RGB distance; the first on ties).
fn nearest(palette: &[[u8; 3]], c: [u8; 3]) -> u8 {
    let d = |p: &[u8; 3]| {
        (0..3)
            .map(|i| (p[i] as i32 - c[i] as i32).pow(2))
            .sum::<i32>()
    };
    let mut best = 0;
    for (i, p) in palette.iter().enumerate() {
        if d(p) < d(&palette[best]) {
            best = i;
        }
    }
    best as u8
}

/// The delay after frame `k` at `fps` frames per second, in the GIF's hundredths of a
/// second, rounded so that the total stays on time (at 30 fps: 3, 4, 3, 3, 4, 3, ...).
fn delay(k: usize, fps: f64) -> u16 {
    let at = |k: usize| (100.0 * k as f64 / fps).round() as u64;
    (at(k + 1) - at(k)).clamp(1, u16::MAX as u64) as u16
}

/// Checks a GIF frame rate: in (0, 100] frames per second.
pub fn check_fps(fps: f64) -> Result<()> {
    if !(fps > 0.0 && fps <= 100.0) {
        bail!(
            "--fps must be in (0, 100], got {}",
            crate::float::short(fps)
        );
    }
    Ok(())
}

/// An endlessly looping GIF written one frame at a time, holding only the frame before and
/// the one waiting to be written: the palette is given up front ([`ColourCount`] makes it
/// from a first pass over the frames), so that any number of frames takes bounded memory.
pub struct GifWriter<W: Write> {
    encoder: gif::Encoder<W>,
    palette: Palette,
    fps: f64,
    width: usize,
    height: usize,
    /// Frames pushed so far.
    k: usize,
    /// The frame waiting to be written, held back so that repeats can extend its delay.
    pending: Option<gif::Frame<'static>>,
    /// The palette indices of the frame before.
    previous: Vec<u8>,
}

impl<W: Write> GifWriter<W> {
    /// A GIF of `width × height` frames drawn in `palette`'s colours at `fps` frames per
    /// second, written to `out`.
    ///
    /// # Errors
    /// `fps` outside (0, 100]; a size outside 1 to 65535 pixels a side; a write error.
    pub fn new(out: W, width: usize, height: usize, palette: Palette, fps: f64) -> Result<Self> {
        check_fps(fps)?;
        if width == 0 || height == 0 || width > u16::MAX as usize || height > u16::MAX as usize {
            bail!("a GIF frame must be 1 to 65535 pixels a side, got {width}×{height}");
        }
        let flat: Vec<u8> = palette.colours.iter().flatten().copied().collect();
        let mut encoder = gif::Encoder::new(out, width as u16, height as u16, &flat)?;
        encoder.set_repeat(gif::Repeat::Infinite)?;
        Ok(GifWriter {
            encoder,
            palette,
            fps,
            width,
            height,
            k: 0,
            pending: None,
            previous: Vec::new(),
        })
    }

    /// Adds the next frame.
    ///
    /// # Errors
    /// A frame of another size, or with a colour the palette was not made with; a write
    /// error.
    pub fn push(&mut self, f: &Frame) -> Result<()> {
        let (w, h) = (self.width, self.height);
        if (f.width, f.height) != (w, h) {
            bail!(
                "frames differ in size: {}×{} and {}×{}",
                w,
                h,
                f.width,
                f.height
            );
        }
        let index = &self.palette.index;
        let lookup = |c: &[u8; 3]| {
            index
                .get(c)
                .copied()
                .ok_or_else(|| anyhow::anyhow!("colour {c:?} is not in the GIF's palette"))
        };
        let mut last = ([f.data[0], f.data[1], f.data[2]], 0u8);
        last.1 = lookup(&last.0)?;
        let mut pixels = Vec::with_capacity(w * h);
        for p in f.data.chunks_exact(3) {
            let c = [p[0], p[1], p[2]];
            if c != last.0 {
                last = (c, lookup(&c)?);
            }
            pixels.push(last.1);
        }
        let delay = delay(self.k, self.fps);
        let rect = if self.k == 0 {
            Some((0, 0, w, h))
        } else {
            changed(&self.previous, &pixels, w)
        };
        match rect {
            None => {
                if let Some(p) = self.pending.as_mut() {
                    p.delay = p.delay.saturating_add(delay);
                }
            }
            Some((x0, y0, x1, y1)) => {
                if let Some(p) = self.pending.take() {
                    self.encoder.write_frame(&p)?;
                }
                let mut buffer = Vec::with_capacity((x1 - x0) * (y1 - y0));
                for y in y0..y1 {
                    buffer.extend_from_slice(&pixels[y * w + x0..y * w + x1]);
                }
                self.pending = Some(gif::Frame {
                    delay,
                    dispose: gif::DisposalMethod::Keep,
                    left: x0 as u16,
                    top: y0 as u16,
                    width: (x1 - x0) as u16,
                    height: (y1 - y0) as u16,
                    buffer: buffer.into(),
                    ..gif::Frame::default()
                });
            }
        }
        self.previous = pixels;
        self.k += 1;
        Ok(())
    }

    /// Writes the last frame and the trailer.
    ///
    /// # Errors
    /// No frame pushed; a write error.
    pub fn finish(mut self) -> Result<()> {
        if self.k == 0 {
            bail!("no frames to encode");
        }
        if let Some(p) = self.pending.take() {
            self.encoder.write_frame(&p)?;
        }
        self.encoder.into_inner()?.flush()?;
        Ok(())
    }
}

/// Encodes `frames` as an endlessly looping GIF at `fps` frames per second.
///
/// # Errors
/// No frames; frames of different sizes or over 65535 pixels a side; `fps` outside
/// (0, 100]; a write error.
pub fn encode_gif<W: Write>(frames: &[Frame], fps: f64, out: W) -> Result<()> {
    let Some(first) = frames.first() else {
        bail!("no frames to encode");
    };
    check_fps(fps)?;
    if let Some(f) = frames
        .iter()
        .find(|f| (f.width, f.height) != (first.width, first.height))
    {
        bail!(
            "frames differ in size: {}×{} and {}×{}",
            first.width,
            first.height,
            f.width,
            f.height
        );
    }
    let mut writer = GifWriter::new(out, first.width, first.height, Palette::of(frames), fps)?;
    for f in frames {
        writer.push(f)?;
    }
    writer.finish()
}

/// The rectangle `[x0, x1) × [y0, y1)` bounding the pixels that differ, `None` if none do.
fn changed(a: &[u8], b: &[u8], width: usize) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (y, (ra, rb)) in a.chunks_exact(width).zip(b.chunks_exact(width)).enumerate() {
        // Whole rows compared first: most rows of an env frame do not change.
        if ra == rb {
            continue;
        }
        let first = ra.iter().zip(rb).position(|(p, q)| p != q).unwrap_or(0);
        let last = width
            - ra.iter()
                .rev()
                .zip(rb.iter().rev())
                .position(|(p, q)| p != q)
                .unwrap_or(0);
        x0 = x0.min(first);
        x1 = x1.max(last);
        y0 = y0.min(y);
        y1 = y + 1;
    }
    (x1 > 0).then_some((x0, y0, x1, y1))
}

/// Writes `frames` as a GIF file (see [`encode_gif`]).
pub fn write_gif(path: &Path, frames: &[Frame], fps: f64) -> Result<()> {
    crate::files::write_atomic(path, |tmp| {
        let file = File::create(tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        encode_gif(frames, fps, BufWriter::new(file))
            .with_context(|| format!("cannot write {}", tmp.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_keep_the_total_on_time() {
        let delays = |n: usize, fps: f64| (0..n).map(|k| delay(k, fps)).collect::<Vec<u16>>();
        let d = delays(6, 30.0);
        assert_eq!(d, vec![3, 4, 3, 3, 4, 3]);
        assert_eq!(d.iter().map(|&x| x as u32).sum::<u32>(), 20);
        assert_eq!(delays(3, 4.0), vec![25, 25, 25]);
    }

    #[test]
    fn the_changed_rectangle_bounds_every_difference() {
        let a = vec![0u8; 12]; // 4 wide, 3 high
        let mut b = a.clone();
        assert_eq!(changed(&a, &b, 4), None);
        b[5] = 1; // (1, 1)
        b[11] = 1; // (3, 2)
        assert_eq!(changed(&a, &b, 4), Some((1, 1, 4, 3)));
    }

    #[test]
    fn median_cut_keeps_256_colours_near_the_originals() {
        // 512 greys: each maps to a palette grey at most a few levels away.
        let mut f = Frame::filled(1, 512, [0; 3]);
        for x in 0..512 {
            let v = (x / 2) as u8;
            f.set_pixel(0, x as i64, [v, v, v.wrapping_add((x % 2) as u8)]);
        }
        let p = Palette::of(std::slice::from_ref(&f));
        assert_eq!(p.colours.len(), 256);
        for px in f.data.chunks_exact(3) {
            let q = p.colours[p.index[&[px[0], px[1], px[2]]] as usize];
            let err = (0..3).map(|i| (q[i] as i32 - px[i] as i32).abs()).max();
            assert!(err.unwrap() <= 2, "{px:?} → {q:?}");
        }
    }
}
