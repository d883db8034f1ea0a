//! Mean over a set of axes (ReduceMean, GlobalAveragePool).
//!
//! The output holds the input's shape with the reduced axes set to 1 (whether ONNX keeps them or
//! not changes only the recorded shape, not the bytes).

mod reference;
#[cfg(test)]
mod tests;

use crate::Shape;

/// Which axes to reduce.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReduceParams {
    /// Shape of the input.
    pub input: Shape,
    /// Bit `i` set: axis `i` is reduced.
    pub axes_mask: u32,
}

/// Mean over the masked axes.
pub fn reduce_mean_f32(p: &ReduceParams, input: &[f32], output: &mut [f32]) {
    reference::reduce_mean_f32_reference(p, input, output)
}
