//! Padding: constant, reflect or edge. `output[i] = input[i − begin]` where that index is
//! inside the input; otherwise the constant, the mirrored index (reflect, edge not repeated) or
//! the clamped index (edge). Negative `begin` crops.

mod reference;
#[cfg(test)]
mod tests;

use crate::{Shape, MAX_RANK};

/// How values outside the input are made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PadMode {
    /// A constant value.
    #[default]
    Constant,
    /// Mirror without repeating the edge (`[a b c]` → `c b | a b c | b a`).
    Reflect,
    /// Repeat the edge value.
    Edge,
}

/// Padding parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PadParams {
    /// Shape of the input.
    pub input: Shape,
    /// Shape of the output.
    pub out: Shape,
    /// Elements added before each axis (negative: cropped).
    pub begin: [isize; MAX_RANK],
    /// Mode.
    pub mode: PadMode,
}

/// Pads `input` into `output`; `value` is used by [`PadMode::Constant`].
pub fn pad<T: Copy>(p: &PadParams, value: T, input: &[T], output: &mut [T]) {
    reference::pad_reference(p, value, input, output)
}
