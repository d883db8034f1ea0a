//! Fully connected layer: `output[m, n] = act(bias[n] + Σ_k input[m, k] · weights[n, k])`.
//!
//! Weights are `[units, depth]`, one row per output, so each output is a dot product of two
//! contiguous rows (the layout GEMM kernels pack from, and TFLite's). Gemm and MatMul with a
//! constant right-hand side compile to this op.

mod reference;
#[cfg(test)]
mod tests;

use crate::Activation;

/// Shapes of one fully connected layer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FullyConnectedParams {
    /// Rows of the input (M): the product of all input axes but the last.
    pub rows: usize,
    /// Length of each input row (K).
    pub depth: usize,
    /// Outputs per row (N).
    pub units: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// `input` `[rows, depth]`, `weights` `[units, depth]`, `bias` `[units]`, `output` `[rows, units]`.
pub fn fully_connected_f32(
    p: &FullyConnectedParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    reference::fully_connected_f32_reference(p, input, weights, bias, output)
}

mod reference_s8;

use crate::quant::Rounding;

/// Shapes and quantization of one int8 fully connected layer (TFLite reference
/// `FullyConnected` int8, per-tensor or per-channel): `acc = bias[n] + Σ_k (input[m,k] +
/// input_offset) · weights[n,k]`, `out = clamp(mbqm(acc, multiplier[n or 0], shift[n or 0]) +
/// output_offset, act_min, act_max)`. Weights symmetric (zero point 0).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FullyConnectedS8Params {
    /// Rows (M).
    pub rows: usize,
    /// Depth (K).
    pub depth: usize,
    /// Units (N).
    pub units: usize,
    /// `−input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Requantization rounding.
    pub rounding: Rounding,
}

/// Runs the layer; `multipliers`/`shifts` have 1 entry (per tensor) or `units` entries.
pub fn fully_connected_s8(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) {
    reference_s8::fully_connected_s8_reference(p, input, weights, bias, multipliers, shifts, output)
}
