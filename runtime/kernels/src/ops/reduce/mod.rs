//! Mean over a set of axes (ReduceMean, GlobalAveragePool).
//!
//! The output holds the input's shape with the reduced axes set to 1 (whether ONNX keeps them or
//! not changes only the recorded shape, not the bytes).
//!
//! int8 ([`mean_s8`]): the exact integer sum `acc = Σ (q − input_zero_point)` over the reduced
//! axes, then one requantization through the quantization module,
//! `clamp(mbqm(acc, multiplier, shift) + output_zero_point, −128, 127)`, where
//! `multiplier · 2^(shift − 31) ≈ input_scale / (count · output_scale)`. Dividing by the count
//! inside the multiplier rounds once; an average rounded at the input scale and requantized
//! after would round twice (up to `input_scale / (2 · output_scale)` LSB off).

mod reference;
mod reference_s8;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_s8;

use crate::quant::Rounding;
use crate::Shape;

/// int8 mean parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MeanS8Params {
    /// Input shape and reduced axes.
    pub reduce: ReduceParams,
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// Multiplier of `input_scale / (count · output_scale)`.
    pub multiplier: i32,
    /// Its shift.
    pub shift: i32,
    /// Rounding.
    pub rounding: Rounding,
}

/// Number of input values behind each output value (the product of the reduced extents).
pub fn reduced_count(p: &ReduceParams) -> usize {
    (0..p.input.rank)
        .filter(|&a| p.axes_mask & (1u32 << a) != 0)
        .map(|a| p.input.dims[a])
        .product()
}

/// int8 mean over the masked axes (see the module doc). The sums are exact in i32 for
/// `count ≤ 2^31 / 256` (the runtime checks at load).
pub fn mean_s8(p: &MeanS8Params, input: &[i8], output: &mut [i8]) {
    reference_s8::mean_s8_reference(p, input, output)
}

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
