//! Classify a photo with a compiled image model.
//!
//! The model carries its own pre-processing: `mote compile --image-input ... --scale ...
//! --mean ... --std ...` records the input size, layout, channel order and normalisation in the
//! `.mote` file's metadata (keys `image.*`), and the class names under `labels`. This example
//! reads them back, so the same code serves any image classifier:
//!
//! 1. decode the photo (PNG or JPEG) with the `image` crate, convert it to RGB (or luma),
//!    resize it bilinearly to the recorded `HxW`, normalise `(pixel * scale - mean) / std`
//!    in the recorded layout — `mote_cli::preprocess`, the code behind `mote run --image`;
//! 2. quantize it with the input's scale and zero point if the model takes int8;
//! 3. run the interpreter in an arena of the size the model states;
//! 4. dequantize int8 scores, turn them into probabilities (softmax unless they already are
//!    one) and take the top k.

use anyhow::{anyhow, bail, Context, Result};
use mote_cli::commands::run::{probabilities, top_k};
use mote_cli::metadata::{self, ImageSpec};
use mote_format::{AlignedBytes, DType};
use std::path::Path;

/// One class and its probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The label recorded in the model (or `class N`).
    pub label: String,
    /// Probability in [0, 1].
    pub probability: f32,
}

/// A `.mote` file read into 16-byte aligned memory, as `Model::from_bytes` requires.
pub fn read_model(path: &Path) -> Result<AlignedBytes> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(AlignedBytes::from_slice(&bytes))
}

/// The `k` most probable classes of the photo at `photo`, most probable first.
pub fn classify(model_bytes: &[u8], photo: &Path, k: usize) -> Result<Vec<Prediction>> {
    let model = mote_runtime::Model::from_bytes(model_bytes).map_err(|e| anyhow!("{e}"))?;
    let spec = ImageSpec::from_model(model.file())
        .map_err(|f| anyhow!("{f}"))?
        .ok_or_else(|| {
            anyhow!("the model records no image pre-processing (compile it with --image-input)")
        })?;
    let input = model.input(0).map_err(|e| anyhow!("{e}"))?;
    if model.input_count() != 1 || input.name != spec.input {
        bail!("expected one image input named '{}'", spec.input);
    }

    // 1. Decode, resize and normalise as recorded.
    let img = mote_cli::preprocess::load(photo).map_err(|f| anyhow!("{f}"))?;
    let x: Vec<f32> = mote_cli::preprocess::tensor(&img, &spec);

    // 2. The input's bytes: floats, or int8 quantized with the input's own parameters.
    let bytes: Vec<u8> = match (input.dtype, input.quant) {
        (DType::F32, _) => x.iter().flat_map(|v| v.to_le_bytes()).collect(),
        (DType::I8, Some(q)) => x
            .iter()
            .map(|v| {
                ((v / q.scale).round_ties_even() as i32 + q.zero_point).clamp(-128, 127) as i8 as u8
            })
            .collect(),
        (dtype, _) => bail!("unsupported image input type {}", dtype.name()),
    };

    // 3. Run in an arena of the size the model states.
    let mut arena = AlignedBytes::zeroed(model.arena_len());
    let mut interp =
        mote_runtime::Interpreter::new(&model, arena.as_bytes_mut()).map_err(|e| anyhow!("{e}"))?;
    interp.set_input(0, &bytes).map_err(|e| anyhow!("{e}"))?;
    interp.invoke().map_err(|e| anyhow!("{e}"))?;

    // 4. Scores as floats (dequantized), probabilities, top k with labels.
    let out = model.output(0).map_err(|e| anyhow!("{e}"))?;
    let raw = interp.output(0).map_err(|e| anyhow!("{e}"))?;
    let scores: Vec<f32> = match (out.dtype, out.quant) {
        (DType::F32, _) => raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        (DType::I8, Some(q)) => raw
            .iter()
            .map(|&b| (b as i8 as i32 - q.zero_point) as f32 * q.scale)
            .collect(),
        (dtype, _) => bail!("unsupported score output type {}", dtype.name()),
    };
    let (p, _) = probabilities(&scores);
    let labels = metadata::labels(model.file()).unwrap_or_default();
    Ok(top_k(&p, k.max(1))
        .into_iter()
        .map(|i| Prediction {
            label: labels
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("class {i}")),
            probability: p[i],
        })
        .collect())
}
