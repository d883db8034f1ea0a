//! 2-D convolution, f32, NHWC, any `groups` (dense, grouped as in ResNeXt, depthwise with any
//! channel multiplier).
//!
//! `output[n, oh, ow, oc] = act(bias[oc] + Σ_{kh, kw, ic} input[n, ih, iw, g·cpg + ic] ·
//! weights[oc, kh, kw, ic])` with `g = oc / (out_c / groups)`, `cpg = in_c / groups`,
//! `ih = oh·stride_h − pad_top + kh·dilation_h` (likewise `iw`); taps outside the input read 0.
//! Weights are OHWI: `[out_c, kernel_h, kernel_w, in_c / groups]`.
//! The output size is given (the compiler derived it, with ceil/`auto_pad` rules applied), so
//! `pad_bottom`/`pad_right` are implied and not needed here.

mod reference;
#[cfg(test)]
mod tests;

use crate::Activation;

/// Shapes and hyper-parameters of one convolution, all validated at model load.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Conv2dParams {
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
    /// Vertical stride (≥ 1).
    pub stride_h: usize,
    /// Horizontal stride (≥ 1).
    pub stride_w: usize,
    /// Vertical dilation (≥ 1).
    pub dilation_h: usize,
    /// Horizontal dilation (≥ 1).
    pub dilation_w: usize,
    /// Zero rows added above the input.
    pub pad_top: usize,
    /// Zero columns added left of the input.
    pub pad_left: usize,
    /// Number of groups; divides `in_c` and `out_c`.
    pub groups: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// Runs the convolution. `input` is `[batch, in_h, in_w, in_c]`, `weights` OHWI, `bias`
/// `[out_c]` when present, `output` `[batch, out_h, out_w, out_c]`.
pub fn conv2d_f32(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    reference::conv2d_f32_reference(p, input, weights, bias, output)
}

mod reference_s8;
#[cfg(test)]
mod tests_s8;

use crate::quant::Rounding;

/// Shapes and quantization of one int8 convolution (TFLite `ConvPerChannel` /
/// `DepthwiseConvPerChannel`): `acc = bias[oc] + Σ (input + input_offset) · weights`, then
/// `out = clamp(multiply_by_quantized_multiplier(acc, multiplier[oc], shift[oc]) + output_offset,
/// act_min, act_max)`. Padding taps contribute nothing (they are the input zero point, so
/// `input + input_offset` = 0). Weights are symmetric (zero point 0), per output channel.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Conv2dS8Params {
    /// Geometry (the `activation` field is ignored: the clamp below replaces it).
    pub geometry: Conv2dParams,
    /// `−input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp (fused Relu/Relu6 folded in).
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Requantization rounding.
    pub rounding: Rounding,
}

/// Runs the int8 convolution. `multipliers` and `shifts` have `out_c` entries; `bias` (if any)
/// `out_c` entries.
pub fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) {
    reference_s8::conv2d_s8_reference(p, input, weights, bias, multipliers, shifts, output)
}
