//! 2-D transposed convolution (ONNX ConvTranspose), f32, NHWC, any `groups`.
//!
//! Every input pixel scatters `input[n, ih, iw, ic] · weights[oc, kh, kw, ic - g·cpg]` into
//! `output[n, ih·stride_h − pad_top + kh·dilation_h, iw·stride_w − pad_left + kw·dilation_w, oc]`
//! for the output channels `oc` of the input channel's group; positions outside the output are
//! dropped. Then `bias` and the activation are applied. Weights are `[out_c, kernel_h, kernel_w,
//! in_c / groups]` (the compiler permutes ONNX's `[in_c, out_c / groups, kH, kW]`).

mod reference;
#[cfg(test)]
mod tests;

use crate::Activation;

/// Shapes and hyper-parameters of one transposed convolution.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConvTranspose2dParams {
    /// Batch size N.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels (all groups).
    pub in_c: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Output channels (all groups).
    pub out_c: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation.
    pub dilation_h: usize,
    /// Horizontal dilation.
    pub dilation_w: usize,
    /// Rows cropped from the top of the full output.
    pub pad_top: usize,
    /// Columns cropped from the left of the full output.
    pub pad_left: usize,
    /// Number of groups.
    pub groups: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// Runs the transposed convolution (`output` is fully overwritten).
pub fn conv_transpose2d_f32(
    p: &ConvTranspose2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    reference::conv_transpose2d_f32_reference(p, input, weights, bias, output)
}
