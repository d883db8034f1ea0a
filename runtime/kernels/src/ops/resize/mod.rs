//! Resize (ONNX Resize / Upsample), nearest or (multi-)linear, over any axes.
//!
//! For each output coordinate `x_out` on an axis with scale `s` (output/input, as given in the
//! model, or `out_len / in_len` when the model gave sizes), the input coordinate is
//! `half_pixel: (x_out + 0.5)/s − 0.5`, `pytorch_half_pixel: same, but 0 when out_len == 1`,
//! `asymmetric: x_out / s`, `align_corners: x_out·(in_len−1)/(out_len−1)` (0 when out_len == 1),
//! `tf_half_pixel_for_nn: (x_out + 0.5)/s`, `half_pixel_symmetric` as ONNX opset 19 defines it.
//! Nearest picks an index with `nearest_mode` and clamps it; linear blends the two neighbours
//! (clamped at the borders) on every resized axis.
//! An axis whose scale is exactly 1 and whose length is unchanged is copied as is (no coordinate
//! mapping), as ONNX's reference and ONNX Runtime do; this matters for `tf_half_pixel_for_nn`.

mod reference;
#[cfg(test)]
mod tests;

use crate::{Shape, MAX_RANK};

/// Interpolation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResizeMode {
    /// Nearest neighbour.
    #[default]
    Nearest,
    /// Linear on each resized axis (bilinear for two).
    Linear,
}

/// How output coordinates map to input coordinates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CoordinateMode {
    /// `(x + 0.5) / s - 0.5`
    #[default]
    HalfPixel,
    /// `x / s`
    Asymmetric,
    /// `x * (in - 1) / (out - 1)`
    AlignCorners,
    /// half pixel, but 0 for a length-1 output
    PytorchHalfPixel,
    /// `(x + 0.5) / s`
    TfHalfPixelForNn,
    /// ONNX opset 19 `half_pixel_symmetric`
    HalfPixelSymmetric,
}

/// Rounding of nearest mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NearestMode {
    /// Round half down.
    #[default]
    RoundPreferFloor,
    /// Round half up.
    RoundPreferCeil,
    /// Floor.
    Floor,
    /// Ceil.
    Ceil,
}

/// Resize parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ResizeParams {
    /// Shape of the input.
    pub input: Shape,
    /// Shape of the output.
    pub out: Shape,
    /// Scale per axis (output / input); 1 for axes that are not resized.
    pub scales: [f32; MAX_RANK],
    /// Interpolation.
    pub mode: ResizeMode,
    /// Coordinate transformation.
    pub coordinate: CoordinateMode,
    /// Rounding for nearest mode.
    pub nearest: NearestMode,
}

/// Resizes `input` into `output`.
pub fn resize_f32(p: &ResizeParams, input: &[f32], output: &mut [f32]) {
    reference::resize_f32_reference(p, input, output)
}
