//! Concatenation along one axis, one input at a time (no heap for a list of inputs).
//!
//! View every tensor as `[outer, axis · inner]`: input `i` is `[outer, in_block]` and lands at
//! column `offset` of the `[outer, out_block]` output. The interpreter calls [`concat_part`] for
//! each input with the running offset. Generic over the element type: the same code moves f32
//! and int8 data.

mod reference;
#[cfg(test)]
mod tests;

/// Placement of one input inside the output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConcatPart {
    /// Product of the extents before the axis.
    pub outer: usize,
    /// Elements per outer index in this input (`axis extent · inner`).
    pub in_block: usize,
    /// Elements per outer index in the output.
    pub out_block: usize,
    /// Where this input starts within each output block.
    pub offset: usize,
}

/// Copies one input into its place in the output.
pub fn concat_part<T: Copy>(p: &ConcatPart, input: &[T], output: &mut [T]) {
    reference::concat_part_reference(p, input, output)
}
