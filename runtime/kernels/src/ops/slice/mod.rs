//! Strided slice: `output[i₀, …] = input[start₀ + i₀·step₀, …]`, steps may be negative.
//!
//! ONNX Slice and Split (one Slice per output) compile to this. The compiler clamps starts and
//! computes the output shape, so every index read is inside the input.

mod reference;
#[cfg(test)]
mod tests;

use crate::{Shape, MAX_RANK};

/// Per-axis start and step, in physical axis order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SliceParams {
    /// Shape of the input.
    pub input: Shape,
    /// Shape of the output.
    pub out: Shape,
    /// First input index per axis.
    pub starts: [isize; MAX_RANK],
    /// Step per axis (non-zero).
    pub steps: [isize; MAX_RANK],
}

/// Copies the slice.
pub fn slice<T: Copy>(p: &SliceParams, input: &[T], output: &mut [T]) {
    reference::slice_reference(p, input, output)
}
