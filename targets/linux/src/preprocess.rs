//! Image pre-processing for `mote run --image`, as recorded in the model's metadata.
//!
//! Decode (PNG or JPEG, format from the file's contents), convert to RGB (or luma for 1-channel
//! inputs; alpha is dropped), resize to the recorded `HxW` with the triangle (bilinear,
//! antialiased when shrinking — the same filter as PIL's `Image.BILINEAR`), then per pixel and
//! channel `value = (pixel * scale - mean[c]) / std[c]` in the recorded layout and channel order.

use crate::args::{ChannelOrder, ImageLayout};
use crate::error::{Classify, ExitKind, Result};
use crate::metadata::ImageSpec;
use image::imageops::FilterType;
use std::path::Path;

/// Most bytes a decoder may allocate for one image (`image`'s own default is 512 MiB): a
/// 16384 x 16384 RGBA picture. A file claiming more is refused before anything is allocated.
pub const MAX_DECODE_BYTES: u64 = 1 << 30;

/// Decodes an image file.
///
/// # Errors
/// Exit 5 if it cannot be read, exit 4 if it cannot be decoded.
pub fn load(path: &Path) -> Result<image::DynamicImage> {
    let bytes = std::fs::read(path)
        .or_fail_with(ExitKind::Io, || format!("cannot read {}", path.display()))?;
    decode(&bytes, &path.display().to_string(), MAX_DECODE_BYTES)
}

/// Decodes the bytes of an image file (named `source` in messages), PNG or JPEG recognised
/// from the contents, allocating at most `max_alloc` bytes.
///
/// # Errors
/// Exit 4 if it cannot be decoded or would need more than `max_alloc` bytes.
pub fn decode(bytes: &[u8], source: &str, max_alloc: u64) -> Result<image::DynamicImage> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .or_fail_with(ExitKind::Input, || format!("cannot read {source}"))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    reader.decode().or_fail_with(ExitKind::Input, || {
        format!("{source}: cannot decode the image (PNG and JPEG are supported)")
    })
}

/// The model input for `img`: floats in the input's shape.
pub fn tensor(img: &image::DynamicImage, spec: &ImageSpec) -> Vec<f32> {
    let (h, w) = spec.size;
    let c = spec.channels;
    // Pixels as HWC u8 with `c` channels in RGB (or luma) order.
    let hwc: Vec<u8> = if c == 1 {
        image::imageops::resize(&img.to_luma8(), w as u32, h as u32, FilterType::Triangle)
            .into_raw()
    } else {
        image::imageops::resize(&img.to_rgb8(), w as u32, h as u32, FilterType::Triangle).into_raw()
    };
    let mut out = vec![0f32; h * w * c];
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                // Channel `ch` of the input takes source channel `src`.
                let src = if c == 3 && spec.channel_order == ChannelOrder::Bgr {
                    2 - ch
                } else {
                    ch
                };
                let p = hwc.get((y * w + x) * c + src).copied().unwrap_or(0) as f32;
                let mean = spec.mean.get(ch).copied().unwrap_or(0.0);
                let std = spec.std.get(ch).copied().unwrap_or(1.0);
                let v = (p * spec.scale - mean) / std;
                let at = match spec.layout {
                    ImageLayout::Nhwc => (y * w + x) * c + ch,
                    ImageLayout::Nchw => (ch * h + y) * w + x,
                };
                if let Some(o) = out.get_mut(at) {
                    *o = v;
                }
            }
        }
    }
    out
}
