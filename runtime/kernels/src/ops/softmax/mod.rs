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
