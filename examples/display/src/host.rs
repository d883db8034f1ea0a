//! The host side: pre-process a photo as the model's metadata says (the code behind
//! `mote run --image`), run the model, draw the scene into a [`Framebuffer`] and save it as a
//! PNG; write the pre-processed picture as the `.npy` the firmware build embeds in flash.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use embedded_graphics::pixelcolor::{Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use mote_cli::metadata::ImageSpec;
use mote_runtime::{DType, Model};
use npyz::WriterBuilder;

use crate::{write_report, Framebuffer, Scene, HEIGHT, WIDTH};

/// The model's int8 input for the photo at `photo`: decoded, resized and normalised as the
/// model's `image.*` metadata says (`mote_cli::preprocess`, as `mote run --image`), then
/// quantized with the input's scale and zero point exactly as `mote run --image` does.
///
/// # Errors
/// If the model records no image pre-processing, its input is not int8, or the photo cannot
/// be read.
pub fn image_input(model: &Model<'_>, photo: &Path) -> Result<Vec<u8>> {
    let spec = ImageSpec::from_model(model.file())
        .map_err(|f| anyhow!("{f}"))?
        .ok_or_else(|| {
            anyhow!("the model records no image pre-processing (compile it with --image-input)")
        })?;
    let input = model.input(0).map_err(|e| anyhow!("{e}"))?;
    if model.input_count() != 1 || input.name != spec.input {
        bail!("expected one image input named '{}'", spec.input);
    }
    let q = match (input.dtype, input.quant) {
        (DType::I8, Some(q)) => q,
        _ => bail!("the display example takes an int8 image input"),
    };
    let img = mote_cli::preprocess::load(photo).map_err(|f| anyhow!("{f}"))?;
    let x = mote_cli::preprocess::tensor(&img, &spec);
    Ok(x.iter()
        .map(|v| {
            ((v / q.scale).round_ties_even() as i32 + q.zero_point).clamp(-128, 127) as i8 as u8
        })
        .collect())
}

/// Runs the model on `input` and returns the bytes of its first output.
///
/// # Errors
/// If the runtime refuses the input or fails.
pub fn infer(model: &Model<'_>, input: &[u8]) -> Result<Vec<u8>> {
    let mut arena = mote_cli::model::arena(model);
    let mut interp =
        mote_cli::model::bind(model, &mut arena, &[input.to_vec()]).map_err(|e| anyhow!("{e}"))?;
    interp.invoke().map_err(|e| anyhow!("{e}"))?;
    Ok(interp.output(0).map_err(|e| anyhow!("{e}"))?.to_vec())
}

/// What rendering one photo gave.
pub struct Rendered {
    /// The model's input (int8 as bytes), as embedded in the firmware.
    pub input: Vec<u8>,
    /// The top class's label as recorded in the model.
    pub label: String,
    /// Its probability.
    pub probability: f32,
    /// The drawn display.
    pub framebuffer: Box<Framebuffer>,
    /// The lines the firmware prints too ([`write_report`]).
    pub report: String,
}

/// Pre-processes `photo`, runs the model, and draws the scene.
///
/// # Errors
/// See [`image_input`], [`infer`] and [`Scene::new`].
pub fn render(model: &Model<'_>, photo: &Path) -> Result<Rendered> {
    let input = image_input(model, photo).with_context(|| photo.display().to_string())?;
    let output = infer(model, &input)?;
    let scene = Scene::new(model, &input, &output).map_err(|e| anyhow!("{e}"))?;
    let mut framebuffer = Box::new(Framebuffer::new());
    let Ok(()) = scene.draw(framebuffer.as_mut());
    let mut report = String::new();
    write_report(&mut report, &scene, framebuffer.crc32())?;
    Ok(Rendered {
        label: scene.label.to_string(),
        probability: scene.probability,
        report,
        framebuffer,
        input,
    })
}

/// The framebuffer as an 8-bit RGB image (each RGB565 channel scaled to 0..=255 by
/// embedded-graphics' conversion).
pub fn to_image(fb: &Framebuffer) -> image::RgbImage {
    image::RgbImage::from_fn(WIDTH as u32, HEIGHT as u32, |x, y| {
        let c: Rgb565 = fb.pixel(x as usize, y as usize);
        let c = Rgb888::from(c);
        image::Rgb([c.r(), c.g(), c.b()])
    })
}

/// Writes `data` (int8 values as bytes) as an int8 `.npy` of shape `shape`.
///
/// # Errors
/// If the file cannot be written or `data` does not fit `shape`.
pub fn write_npy_i8(path: &Path, shape: &[usize], data: &[u8]) -> Result<()> {
    if shape.iter().product::<usize>() != data.len() {
        bail!("{} values do not fit shape {shape:?}", data.len());
    }
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let shape64: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut w = npyz::WriteOptions::<i8>::new()
        .default_dtype()
        .shape(&shape64)
        .writer(std::io::BufWriter::new(f))
        .begin_nd()?;
    w.extend(data.iter().map(|&b| b as i8))?;
    w.finish()?;
    Ok(())
}
