//! Softmax over the middle axis of `[outer, axis_len, inner]`, numerically stable (subtract the
//! maximum before `exp`).

mod reference;
#[cfg(test)]
mod tests;

/// The tensor viewed as `[outer, axis_len, inner]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxParams {
    /// Product of extents before the axis.
    pub outer: usize,
    /// Extent of the axis (or of all flattened trailing axes, for opset < 13).
    pub axis_len: usize,
    /// Product of extents after the axis.
    pub inner: usize,
}

/// Runs softmax.
pub fn softmax_f32(p: &SoftmaxParams, input: &[f32], output: &mut [f32]) {
    reference::softmax_f32_reference(p, input, output)
}

mod reference_s8;
#[cfg(test)]
mod tests_s8;

/// int8 softmax as TFLite's reference (`reference_ops::Softmax` for int8 with gemmlowp
/// fixed-point `exp_on_negative_values`, `kScaledDiffIntegerBits` = 5, output scale 1/256 and
/// zero point −128). `input_multiplier`/`input_left_shift` come from TFLite's
/// `PreprocessSoftmaxScaling(beta, input_scale, 5)` and `diff_min` from
/// `-CalculateInputRadius(5, input_left_shift)`; [`softmax_s8_params`] computes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxS8Params {
    /// The `[outer, axis_len, inner]` view.
    pub shape: SoftmaxParams,
    /// Fixed-point beta·input_scale multiplier.
    pub input_multiplier: i32,
    /// Its left shift.
    pub input_left_shift: i32,
    /// Differences below this are taken as −∞ (exp = 0).
    pub diff_min: i32,
}

/// TFLite's Prepare for int8 softmax: `(input_multiplier, input_left_shift, diff_min)` from
/// `beta` and the input scale. TFLite stores both as f32 (`params->beta`, `params.scale`): pass them widened
/// from f32 to match it bit for bit.
pub fn softmax_s8_params(beta: f64, input_scale: f64) -> (i32, i32, i32) {
    reference_s8::softmax_s8_params_reference(beta, input_scale)
}

/// Runs int8 softmax.
pub fn softmax_s8(p: &SoftmaxS8Params, input: &[i8], output: &mut [i8]) {
    reference_s8::softmax_s8_reference(p, input, output)
}
