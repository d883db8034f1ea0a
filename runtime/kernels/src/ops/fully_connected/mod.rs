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
#[cfg(test)]
mod tests_s8;

use crate::quant::Rounding;

/// Shapes and quantization of one int8 fully connected layer (TFLite `FullyConnected` int8,
/// per-tensor or per-channel; LiteRT's `BUILTIN_REF` rounds as [`fully_connected_s8_scaled`]): `acc = bias[n] + Σ_k (input[m,k] +
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
///
/// This is TFLite's `reference_integer_ops::FullyConnected(PerChannel)` with
/// `MultiplyByQuantizedMultiplier` (as TFLite Micro, CMSIS-NN and LiteRT's optimized kernels
/// compute). LiteRT's `BUILTIN_REF` resolver rounds differently for int8 fully connected; see
/// [`fully_connected_s8_scaled`].
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

/// int8 fully connected as LiteRT's `BUILTIN_REF` resolver computes it (LiteRT ≥ 2.x,
/// `tflite/kernels/fully_connected.cc`, `FullyConnectedInt8<kReference>` and
/// `FullyConnectedPerChannelInt8<kReference>`, which call the float-scale overloads of
/// `reference_integer_ops::FullyConnected(PerChannel)`): the accumulator is scaled in double
/// precision, `out = clamp(round(acc as f64 · effective_scales[n or 0]) + output_offset, act_min,
/// act_max)` with C's `round` (ties away from zero). It differs from every
/// `multiply_by_quantized_multiplier` rounding on a fraction of a percent of outputs (measured
/// against ai-edge-litert 2.3.0), so matching `BUILTIN_REF` bit for bit needs this form.
///
/// `effective_scales` has 1 entry (per tensor) or `units` entries, each computed as LiteRT does:
/// `(input_scale as f64) · (weight_scale[n] as f64) / (output_scale as f64)` from the f32 scales
/// of the model, multiplied first, then divided. `p.rounding` is ignored.
pub fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    effective_scales: &[f64],
    output: &mut [i8],
) {
    reference_s8::fully_connected_s8_scaled_reference(
        p,
        input,
        weights,
        bias,
        effective_scales,
        output,
    )
}
