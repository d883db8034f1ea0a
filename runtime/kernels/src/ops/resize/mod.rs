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
//!
//! int8 ([`resize_s8`]; input and output share their quantization): nearest picks elements with
//! the sampling above, for every mode and rank (exact). Bilinear is TFLite's integer kernel
//! (`reference_s8.rs`: Q10 coordinates, Q20 weights, one rounding), on NHWC 4-D tensors resized
//! on H and W only, with `half_pixel` (TFLite's `half_pixel_centers`; `pytorch_half_pixel` when
//! no resized output axis has length 1), `asymmetric` or `align_corners` coordinates, and for
//! the first two a scale equal to `out / in` (TFLite derives the ratio from the sizes);
//! [`resize_s8_supported`] says whether parameters qualify.

mod reference;
mod reference_s8;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_s8;

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

/// Whether [`resize_s8`] implements these parameters (see the module doc).
pub fn resize_s8_supported(p: &ResizeParams) -> bool {
    if p.mode == ResizeMode::Nearest {
        return true;
    }
    let (i, o) = (&p.input, &p.out);
    if i.rank != 4 || o.rank != 4 || i.dims[0] != o.dims[0] || i.dims[3] != o.dims[3] {
        return false;
    }
    if p.scales[0] != 1.0 || p.scales[3] != 1.0 {
        return false;
    }
    let ratio_is_scale =
        |a: usize| i.dims[a] >= 1 && p.scales[a] == o.dims[a] as f32 / i.dims[a] as f32;
    match p.coordinate {
        CoordinateMode::HalfPixel | CoordinateMode::Asymmetric => {
            ratio_is_scale(1) && ratio_is_scale(2)
        }
        CoordinateMode::PytorchHalfPixel => {
            ratio_is_scale(1) && ratio_is_scale(2) && o.dims[1] > 1 && o.dims[2] > 1
        }
        CoordinateMode::AlignCorners => i.dims[1] >= 1 && i.dims[2] >= 1,
        _ => false,
    }
}

/// Resizes int8 `input` into `output` (same quantization). Parameters must satisfy
/// [`resize_s8_supported`] (the runtime checks at load); otherwise the output is left as is.
pub fn resize_s8(p: &ResizeParams, input: &[i8], output: &mut [i8]) {
    match p.mode {
        ResizeMode::Nearest => reference::resize_nearest_reference(p, input, output),
        ResizeMode::Linear => {
            if resize_s8_supported(p) {
                reference_s8::resize_bilinear_s8_reference(p, input, output)
            }
        }
    }
}
