//! 2-D max and average pooling, NHWC.
//!
//! A window starts at `oh·stride_h − pad_top` and covers `kernel_h` taps `dilation_h` apart
//! (likewise for width). Taps outside the input are ignored by max pooling. Average pooling
//! divides by the number of taps inside the input, or, with `count_include_pad`, by the number
//! of taps inside the padded input `[-pad_top, in_h + pad_bottom)`: windows that extend past
//! that (ONNX `ceil_mode`) are clipped, as ONNX's reference does.

mod reference;
#[cfg(test)]
mod tests;

use crate::Activation;

/// Shapes and hyper-parameters of one pooling layer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pool2dParams {
    /// Batch size.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Channels.
    pub channels: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Window height.
    pub kernel_h: usize,
    /// Window width.
    pub kernel_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation.
    pub dilation_h: usize,
    /// Horizontal dilation.
    pub dilation_w: usize,
    /// Padding above.
    pub pad_top: usize,
    /// Padding left.
    pub pad_left: usize,
    /// Padding below (explicit, counted by `count_include_pad`).
    pub pad_bottom: usize,
    /// Padding right (explicit, counted by `count_include_pad`).
    pub pad_right: usize,
    /// Average pooling only: count padded taps in the divisor.
    pub count_include_pad: bool,
    /// Fused activation.
    pub activation: Activation,
}

/// Max pooling.
pub fn max_pool2d_f32(p: &Pool2dParams, input: &[f32], output: &mut [f32]) {
    reference::max_pool2d_f32_reference(p, input, output)
}

/// Average pooling.
pub fn avg_pool2d_f32(p: &Pool2dParams, input: &[f32], output: &mut [f32]) {
    reference::avg_pool2d_f32_reference(p, input, output)
}

mod reference_s8;
#[cfg(test)]
mod tests_s8;

/// int8 pooling: geometry as [`Pool2dParams`] (its activation ignored), input and output share
/// scale and zero point (TFLite requires it), `act_min`/`act_max` clamp the result. Average
/// pooling rounds as TFLite's reference: `(sum ± count/2) / count` (half away from zero, C
/// integer division), `count` = taps inside the input (or, with `count_include_pad`, inside the
/// padded input).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pool2dS8Params {
    /// Geometry.
    pub geometry: Pool2dParams,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
}

/// int8 max pooling.
pub fn max_pool2d_s8(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    reference_s8::max_pool2d_s8_reference(p, input, output)
}

/// int8 average pooling.
pub fn avg_pool2d_s8(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    reference_s8::avg_pool2d_s8_reference(p, input, output)
}
