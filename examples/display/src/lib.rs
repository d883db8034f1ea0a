//! Person detection drawn on a small display: the picture the model saw, the label and the
//! probability, in a 240×240 RGB565 framebuffer (the size and pixel format of an ST7789 panel).
//!
//! The same code runs on a Cortex-M (the `display` binary of `targets/cortex-m`, built with its
//! `display` feature) and on the host (the `display` binary here, which writes the framebuffer
//! as a PNG). Both print a CRC-32 of the framebuffer: equal checksums mean the firmware drew
//! exactly the pixels of the PNG. Without the `host` feature the library is `no_std` and
//! heap-free; the drawing goes through [`embedded_graphics`], so the [`Framebuffer`] can be
//! swapped for a panel driver's `DrawTarget` (e.g. `mipidsi` for an ST7789).
//!
//! What is drawn comes from the model file, not from constants here:
//! - the picture is the model's int8 input tensor (pre-processed on the host as the model's
//!   `image.*` metadata says, see [`host`]), turned back into pixels with the input's
//!   quantization and the recorded `image.scale`, `image.mean`, `image.std`, layout and channel
//!   order, and drawn at twice its size;
//! - the label is the top class's entry in the model's `labels` metadata (`_` shown as a space);
//! - the probability is the top class's dequantized score, as `mote run --image` prints it (the
//!   output must already be a probability distribution, as the VWW model's softmax output is).
#![cfg_attr(not(feature = "host"), no_std)]

use core::convert::Infallible;
use core::fmt::{self, Write as _};

use embedded_graphics::mono_font::{ascii::FONT_10X20, MonoTextStyle};
use embedded_graphics::pixelcolor::raw::RawU16;
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};
use mote_runtime::{DType, Model};

#[cfg(feature = "host")]
pub mod host;

/// Display width in pixels.
pub const WIDTH: usize = 240;
/// Display height in pixels.
pub const HEIGHT: usize = 240;
/// Framebuffer size in bytes (RGB565: two bytes a pixel).
pub const FRAMEBUFFER_BYTES: usize = WIDTH * HEIGHT * 2;

/// The picture is drawn this many times its size (96×96 becomes 192×192).
const ZOOM: usize = 2;
/// Top-left corner of the picture.
const PICTURE_AT: (i32, i32) = (24, 8);
/// Baseline-top of the text line under the picture.
const TEXT_Y: i32 = 208;

// Metadata keys written by `mote compile` (see targets/linux/src/metadata.rs).
const LABELS: &str = "labels";
const IMAGE_INPUT: &str = "image.input";
const IMAGE_LAYOUT: &str = "image.layout";
const IMAGE_CHANNEL_ORDER: &str = "image.channel_order";
const IMAGE_SCALE: &str = "image.scale";
const IMAGE_MEAN: &str = "image.mean";
const IMAGE_STD: &str = "image.std";

/// Why a model, its input or its output cannot be drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DisplayError {
    /// The runtime refused something (a missing input or output).
    Model(mote_runtime::Error),
    /// A metadata entry is missing or malformed: its key.
    Metadata(&'static str),
    /// The image input is not an int8 `[1,H,W,C]`/`[1,C,H,W]` tensor with 1 or 3 channels
    /// that fits the display at twice its size.
    Input,
    /// The first output is not a probability distribution (int8 with quantization, or f32).
    Output,
    /// The input or output bytes do not have the tensor's length.
    Length,
}

impl fmt::Display for DisplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisplayError::Model(e) => write!(f, "{e}"),
            DisplayError::Metadata(k) => write!(
                f,
                "metadata '{k}' is missing or malformed (compile the model with --image-input and --label)"
            ),
            DisplayError::Input => f.write_str(
                "the image input must be int8, [1,H,W,C] or [1,C,H,W] with 1 or 3 channels, at most 96x96",
            ),
            DisplayError::Output => f.write_str(
                "the first output must be a probability distribution (int8 with quantization, or float32)",
            ),
            DisplayError::Length => f.write_str("tensor bytes of the wrong length"),
        }
    }
}

impl From<mote_runtime::Error> for DisplayError {
    fn from(e: mote_runtime::Error) -> Self {
        DisplayError::Model(e)
    }
}

// ---------------------------------------------------------------------------------------------
// The framebuffer.

/// 240×240 RGB565 pixels in RAM (115,200 bytes), row by row. A `const fn` constructor so a
/// firmware can keep it in a zero-initialised `static` (`.bss`) rather than on the stack.
pub struct Framebuffer {
    pixels: [u16; WIDTH * HEIGHT],
}

impl Framebuffer {
    /// An all-black framebuffer.
    pub const fn new() -> Framebuffer {
        Framebuffer {
            pixels: [0; WIDTH * HEIGHT],
        }
    }

    /// The pixel at `(x, y)`, black outside the display.
    pub fn pixel(&self, x: usize, y: usize) -> Rgb565 {
        let raw = if x < WIDTH {
            self.pixels.get(y * WIDTH + x).copied().unwrap_or(0)
        } else {
            0
        };
        Rgb565::from(RawU16::new(raw))
    }

    /// Row `y` as the bytes an ST7789 takes over SPI (RGB565, high byte first).
    pub fn row_bytes(&self, y: usize) -> [u8; WIDTH * 2] {
        let mut out = [0u8; WIDTH * 2];
        let row = self.pixels.get(y * WIDTH..(y + 1) * WIDTH).unwrap_or(&[]);
        for (o, p) in out.chunks_exact_mut(2).zip(row) {
            o.copy_from_slice(&p.to_be_bytes());
        }
        out
    }

    /// CRC-32 (IEEE) of the whole framebuffer as sent to the panel: rows top to bottom, each
    /// pixel high byte first.
    pub fn crc32(&self) -> u32 {
        let mut h = crc32fast::Hasher::new();
        for y in 0..HEIGHT {
            h.update(&self.row_bytes(y));
        }
        h.finalize()
    }
}

impl Default for Framebuffer {
    fn default() -> Self {
        Framebuffer::new()
    }
}

impl OriginDimensions for Framebuffer {
    fn size(&self) -> Size {
        Size::new(WIDTH as u32, HEIGHT as u32)
    }
}

impl DrawTarget for Framebuffer {
    type Color = Rgb565;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, c) in pixels {
            // Pixels outside the display are dropped, as a panel driver would.
            if let (Ok(x), Ok(y)) = (usize::try_from(p.x), usize::try_from(p.y)) {
                if x < WIDTH {
                    if let Some(px) = self.pixels.get_mut(y * WIDTH + x) {
                        *px = RawU16::from(c).into_inner();
                    }
                }
            }
        }
        Ok(())
    }
}

/// A horizontal band of `ROWS` full-width rows of the display, for boards without RAM for the
/// whole framebuffer: draw the scene once per band (each time only the band's pixels are
/// kept), send the band to the panel, move on. With 24 rows it takes 11,520 bytes instead of
/// 115,200, for ten drawing passes. [`banded_crc32`] checks it gives the framebuffer's pixels.
pub struct Band<const ROWS: usize> {
    top: usize,
    pixels: [[u16; WIDTH]; ROWS],
}

impl<const ROWS: usize> Band<ROWS> {
    /// A black band at the top of the display.
    pub const fn new() -> Self {
        Band {
            top: 0,
            pixels: [[0; WIDTH]; ROWS],
        }
    }

    /// Moves the band to display rows `top..top + ROWS` (black).
    pub fn start(&mut self, top: usize) {
        self.top = top;
        self.pixels = [[0; WIDTH]; ROWS];
    }

    /// Row `r` of the band (display row `top + r`) as the bytes an ST7789 takes.
    pub fn row_bytes(&self, r: usize) -> [u8; WIDTH * 2] {
        let mut out = [0u8; WIDTH * 2];
        if let Some(row) = self.pixels.get(r) {
            for (o, p) in out.chunks_exact_mut(2).zip(row) {
                o.copy_from_slice(&p.to_be_bytes());
            }
        }
        out
    }
}

impl<const ROWS: usize> Default for Band<ROWS> {
    fn default() -> Self {
        Band::new()
    }
}

impl<const ROWS: usize> OriginDimensions for Band<ROWS> {
    /// The whole display: drawing code sees the panel, the band keeps its own rows.
    fn size(&self) -> Size {
        Size::new(WIDTH as u32, HEIGHT as u32)
    }
}

impl<const ROWS: usize> DrawTarget for Band<ROWS> {
    type Color = Rgb565;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, c) in pixels {
            if let (Ok(x), Ok(y)) = (usize::try_from(p.x), usize::try_from(p.y)) {
                if let Some(px) = y
                    .checked_sub(self.top)
                    .and_then(|r| self.pixels.get_mut(r))
                    .and_then(|row| row.get_mut(x))
                {
                    *px = RawU16::from(c).into_inner();
                }
            }
        }
        Ok(())
    }
}

/// Draws `scene` band by band into `band` and returns the CRC-32 of the rows in display order:
/// equal to [`Framebuffer::crc32`] of the scene drawn whole.
pub fn banded_crc32<const ROWS: usize>(scene: &Scene<'_>, band: &mut Band<ROWS>) -> u32 {
    let mut h = crc32fast::Hasher::new();
    let mut top = 0;
    while top < HEIGHT && ROWS > 0 {
        band.start(top);
        let Ok(()) = scene.draw_rows(band, top..top + ROWS);
        for r in 0..ROWS.min(HEIGHT - top) {
            h.update(&band.row_bytes(r));
        }
        top += ROWS;
    }
    h.finalize()
}

// ---------------------------------------------------------------------------------------------
// What the model saw and said.

/// The model's int8 image input, with what it takes to turn it back into pixels.
pub struct Picture<'a> {
    data: &'a [u8],
    height: usize,
    width: usize,
    channels: usize,
    nchw: bool,
    bgr: bool,
    /// Per input channel: int8 value (as `u8`, two's complement) → pixel value 0..=255.
    to_pixel: [[u8; 256]; 3],
}

impl Picture<'_> {
    /// Height and width in tensor elements.
    pub fn size(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// The RGB pixel at `(x, y)` of the picture.
    pub fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let (h, w, c) = (self.height, self.width, self.channels);
        let value = |ch: usize| -> u8 {
            let at = if self.nchw {
                (ch * h + y) * w + x
            } else {
                (y * w + x) * c + ch
            };
            let q = self.data.get(at).copied().unwrap_or(0);
            self.to_pixel
                .get(ch)
                .and_then(|t| t.get(q as usize))
                .copied()
                .unwrap_or(0)
        };
        if c == 1 {
            let l = value(0);
            [l, l, l]
        } else if self.bgr {
            [value(2), value(1), value(0)]
        } else {
            [value(0), value(1), value(2)]
        }
    }
}

/// Up to three comma-separated floats, one per channel (one value applies to all).
fn per_channel(s: &str, channels: usize) -> Option<[f32; 3]> {
    let mut v = [0f32; 3];
    let mut n = 0;
    for part in s.split(',') {
        *v.get_mut(n)? = part.trim().parse().ok()?;
        n += 1;
    }
    match n {
        1 => Some([v[0]; 3]),
        _ if n == channels => Some(v),
        _ => None,
    }
}

/// Everything drawn: the picture, the top class's label and its probability.
pub struct Scene<'a> {
    /// The model's input.
    pub picture: Picture<'a>,
    /// Index of the most probable class (ties: the lower index).
    pub class: usize,
    /// Its label as recorded in the model (e.g. `no_person`).
    pub label: &'a str,
    /// Its probability, the dequantized score.
    pub probability: f32,
}

impl<'a> Scene<'a> {
    /// Reads the scene from a model, the bytes of its image input and of its first output.
    ///
    /// # Errors
    /// [`DisplayError`] when the model records no image pre-processing or labels, when the
    /// input is not an int8 image that fits the display, or the output no distribution.
    pub fn new(
        model: &Model<'a>,
        input: &'a [u8],
        output: &[u8],
    ) -> Result<Scene<'a>, DisplayError> {
        let file = model.file();
        let meta = |k: &'static str| file.meta(k).ok_or(DisplayError::Metadata(k));

        // The picture.
        let tin = model.input(0)?;
        if meta(IMAGE_INPUT)? != tin.name {
            return Err(DisplayError::Metadata(IMAGE_INPUT));
        }
        let nchw = match meta(IMAGE_LAYOUT)? {
            "nchw" => true,
            "nhwc" => false,
            _ => return Err(DisplayError::Metadata(IMAGE_LAYOUT)),
        };
        let bgr = match meta(IMAGE_CHANNEL_ORDER)? {
            "rgb" => false,
            "bgr" => true,
            _ => return Err(DisplayError::Metadata(IMAGE_CHANNEL_ORDER)),
        };
        let (channels, height, width) = match (tin.shape(), nchw) {
            (&[1, c, h, w], true) | (&[1, h, w, c], false) => (c as usize, h as usize, w as usize),
            _ => return Err(DisplayError::Input),
        };
        let fits = (WIDTH - 2 * PICTURE_AT.0 as usize) / ZOOM;
        if !matches!(channels, 1 | 3) || height > fits || width > fits || height == 0 || width == 0
        {
            return Err(DisplayError::Input);
        }
        let q_in = match (tin.dtype, tin.quant) {
            (DType::I8, Some(q)) => q,
            _ => return Err(DisplayError::Input),
        };
        if input.len() != tin.byte_len as usize {
            return Err(DisplayError::Length);
        }
        let scale: f32 = meta(IMAGE_SCALE)?
            .trim()
            .parse()
            .map_err(|_| DisplayError::Metadata(IMAGE_SCALE))?;
        if !(scale.is_finite() && scale != 0.0) {
            return Err(DisplayError::Metadata(IMAGE_SCALE));
        }
        let mean =
            per_channel(meta(IMAGE_MEAN)?, channels).ok_or(DisplayError::Metadata(IMAGE_MEAN))?;
        let std =
            per_channel(meta(IMAGE_STD)?, channels).ok_or(DisplayError::Metadata(IMAGE_STD))?;
        // value = (pixel * scale - mean) / std and value = (q - zero_point) * s, so
        // pixel = ((q - zero_point) * s * std + mean) / scale, rounded and clamped.
        let mut to_pixel = [[0u8; 256]; 3];
        for (ch, table) in to_pixel.iter_mut().enumerate() {
            for (b, px) in table.iter_mut().enumerate() {
                let q = b as u8 as i8 as i32;
                let v = (q - q_in.zero_point) as f32 * q_in.scale;
                let p = ((v * std[ch] + mean[ch]) / scale).clamp(0.0, 255.0);
                // p >= 0: the cast truncates, so + 0.5 rounds half up; 255.5 saturates to 255.
                *px = (p + 0.5) as u8;
            }
        }

        // The answer.
        let tout = model.output(0)?;
        if output.len() != tout.byte_len as usize {
            return Err(DisplayError::Length);
        }
        let score = |i: usize| -> Option<f32> {
            match (tout.dtype, tout.quant) {
                (DType::I8, Some(q)) => output
                    .get(i)
                    .map(|&b| (b as i8 as i32 - q.zero_point) as f32 * q.scale),
                (DType::F32, _) => output
                    .get(4 * i..4 * i + 4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                _ => None,
            }
        };
        let classes = tout.shape().iter().map(|&d| d as usize).product::<usize>();
        let mut best: Option<(usize, f32)> = None;
        let mut sum = 0f64;
        for i in 0..classes {
            let p = score(i).ok_or(DisplayError::Output)?;
            if !(0.0..=1.0).contains(&p) {
                return Err(DisplayError::Output);
            }
            sum += p as f64;
            if best.is_none_or(|(_, b)| p > b) {
                best = Some((i, p));
            }
        }
        // The same test as `mote run`'s: scores that sum to 1 are taken as probabilities.
        let (class, probability) = best.ok_or(DisplayError::Output)?;
        if (sum - 1.0).abs() >= 1e-3 {
            return Err(DisplayError::Output);
        }
        let label = meta(LABELS)?
            .lines()
            .nth(class)
            .ok_or(DisplayError::Metadata(LABELS))?;

        Ok(Scene {
            picture: Picture {
                data: input,
                height,
                width,
                channels,
                nchw,
                bgr,
                to_pixel,
            },
            class,
            label,
            probability,
        })
    }

    /// The label as shown: `_` becomes a space (`no_person` → `no person`), at most 32 bytes.
    pub fn shown_label(&self) -> heapless::String<32> {
        let mut s = heapless::String::new();
        for ch in self.label.chars() {
            if s.push(if ch == '_' { ' ' } else { ch }).is_err() {
                break;
            }
        }
        s
    }

    /// The probability as shown: a percentage with one decimal, e.g. `92.6%`.
    pub fn shown_probability(&self) -> heapless::String<8> {
        let tenths = (self.probability.clamp(0.0, 1.0) * 1000.0 + 0.5) as u32;
        let mut s = heapless::String::new();
        let _ = write!(s, "{}.{}%", tenths / 10, tenths % 10);
        s
    }

    /// Whether the top class is a person (its label is `person`): drawn in green, else orange.
    pub fn is_person(&self) -> bool {
        self.label == "person"
    }

    /// Draws the scene on `target`: black background, the picture at twice its size in a frame
    /// (green for a person, orange otherwise), the label and the probability under it.
    ///
    /// # Errors
    /// Whatever the target's drawing returns (never, for a [`Framebuffer`]).
    pub fn draw<D>(&self, target: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = Rgb565>,
    {
        self.draw_rows(target, 0..HEIGHT)
    }

    /// Draws the display rows `rows` of the scene (and possibly more: the frame and the text are
    /// drawn whole, for the target to clip). A band-by-band drawing calls it once per band, so
    /// the picture, the costly part, is converted once in all.
    ///
    /// # Errors
    /// Whatever the target's drawing returns.
    pub fn draw_rows<D>(
        &self,
        target: &mut D,
        rows: core::ops::Range<usize>,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = Rgb565>,
    {
        let accent = if self.is_person() {
            Rgb565::new(4, 50, 8)
        } else {
            Rgb565::new(31, 32, 0)
        };
        let area = Rectangle::new(
            Point::new(0, rows.start as i32),
            Size::new(
                WIDTH as u32,
                rows.end.min(HEIGHT).saturating_sub(rows.start) as u32,
            ),
        );
        target.fill_solid(&area, Rgb565::BLACK)?;

        let (h, w) = self.picture.size();
        let (x0, y0) = PICTURE_AT;
        let pic = Rectangle::new(
            Point::new(x0, y0),
            Size::new((w * ZOOM) as u32, (h * ZOOM) as u32),
        );
        Rectangle::new(pic.top_left - Point::new(2, 2), pic.size + Size::new(4, 4))
            .into_styled(PrimitiveStyle::with_stroke(accent, 2))
            .draw(target)?;
        // Each picture pixel becomes a ZOOM×ZOOM block; colours are rounded to RGB565 by
        // embedded-graphics' conversion (truncating the low bits, as a panel driver does).
        let picture = &self.picture;
        let visible = pic.intersection(&area);
        let (vx, vy) = (visible.top_left - pic.top_left).into();
        let (vw, vh) = (visible.size.width as usize, visible.size.height as usize);
        let (vx, vy) = (vx.max(0) as usize, vy.max(0) as usize);
        let colors = (vy..vy + vh).flat_map(move |py| {
            (vx..vx + vw).map(move |px| {
                let [r, g, b] = picture.rgb(px / ZOOM, py / ZOOM);
                Rgb565::from(embedded_graphics::pixelcolor::Rgb888::new(r, g, b))
            })
        });
        if vw > 0 && vh > 0 {
            target.fill_contiguous(&visible, colors)?;
        }

        let left = TextStyleBuilder::new()
            .baseline(Baseline::Top)
            .alignment(Alignment::Left)
            .build();
        let right = TextStyleBuilder::new()
            .baseline(Baseline::Top)
            .alignment(Alignment::Right)
            .build();
        let text_end = x0 + (w * ZOOM) as i32;
        Text::with_text_style(
            &self.shown_label(),
            Point::new(x0, TEXT_Y),
            MonoTextStyle::new(&FONT_10X20, accent),
            left,
        )
        .draw(target)?;
        Text::with_text_style(
            &self.shown_probability(),
            Point::new(text_end, TEXT_Y),
            MonoTextStyle::new(&FONT_10X20, Rgb565::WHITE),
            right,
        )
        .draw(target)?;
        Ok(())
    }
}

/// The lines both the host and the firmware print, in this order (compared by the CI script):
/// `label: <label as recorded>`, `probability: <4 decimals>` (as `mote run --image` prints it),
/// `framebuffer crc32: 0x<8 hex digits>`.
pub fn write_report<W: fmt::Write>(out: &mut W, scene: &Scene<'_>, crc: u32) -> fmt::Result {
    writeln!(out, "label: {}", scene.label)?;
    writeln!(out, "probability: {:.4}", scene.probability)?;
    writeln!(out, "framebuffer crc32: 0x{crc:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_values() {
        assert_eq!(per_channel("0.5", 3), Some([0.5; 3]));
        assert_eq!(per_channel("1,2,3", 3), Some([1.0, 2.0, 3.0]));
        assert_eq!(per_channel("1,2", 3), None);
        assert_eq!(per_channel("1,2,3,4", 3), None);
        assert_eq!(per_channel("x", 1), None);
    }

    #[test]
    fn framebuffer_clips_and_checksums() {
        let mut fb = Framebuffer::new();
        let black = fb.crc32();
        // Off-screen pixels are dropped, on-screen ones land where they should.
        Pixel(Point::new(-1, 0), Rgb565::WHITE).draw(&mut fb).ok();
        Pixel(Point::new(240, 0), Rgb565::WHITE).draw(&mut fb).ok();
        Pixel(Point::new(0, 240), Rgb565::WHITE).draw(&mut fb).ok();
        assert_eq!(fb.crc32(), black);
        Pixel(Point::new(239, 239), Rgb565::RED).draw(&mut fb).ok();
        assert_eq!(fb.pixel(239, 239), Rgb565::RED);
        assert_eq!(fb.row_bytes(239)[478..], [0xf8, 0x00]);
        assert_ne!(fb.crc32(), black);
        // The checksum is CRC-32 (IEEE) of the panel's bytes.
        let mut bytes = Vec::new();
        for y in 0..HEIGHT {
            bytes.extend_from_slice(&fb.row_bytes(y));
        }
        assert_eq!(fb.crc32(), crc32fast::hash(&bytes));
    }
}
