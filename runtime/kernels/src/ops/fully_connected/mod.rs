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
