//! Conversions at the edges of int8 regions: quantize (f32 → int8), dequantize (int8 → f32),
//! requantize (int8 → int8 with another scale / zero point), and 256-entry lookup tables for
//! int8 activations (Sigmoid, Tanh, HardSwish, …: the compiler evaluates the float function on
//! every int8 input once).

mod reference;
#[cfg(test)]
mod tests;

use crate::quant::Rounding;

/// Quantize as ONNX `QuantizeLinear`: `clamp(round_half_to_even(x / scale) + zero_point,
/// -128, 127)` (the division in f32).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QuantizeParams {
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

/// Dequantize: `(q − zero_point) as f32 · scale`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DequantizeParams {
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

/// Requantize as TFLite's int8 → int8 Quantize: `clamp(mbqm(q − input_zero_point, multiplier,
/// shift) + output_zero_point, -128, 127)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RequantizeParams {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// Multiplier.
    pub multiplier: i32,
    /// Shift.
    pub shift: i32,
    /// Rounding.
    pub rounding: Rounding,
}

/// f32 → int8.
pub fn quantize_f32_s8(p: &QuantizeParams, input: &[f32], output: &mut [i8]) {
    reference::quantize_f32_s8_reference(p, input, output)
}

/// int8 → f32.
pub fn dequantize_s8_f32(p: &DequantizeParams, input: &[i8], output: &mut [f32]) {
    reference::dequantize_s8_f32_reference(p, input, output)
}

/// int8 → int8.
pub fn requantize_s8(p: &RequantizeParams, input: &[i8], output: &mut [i8]) {
    reference::requantize_s8_reference(p, input, output)
}

/// `output[i] = table[input[i] as u8]` (the table is indexed by the input's two's-complement
/// byte).
pub fn lookup_s8(table: &[i8; 256], input: &[i8], output: &mut [i8]) {
    reference::lookup_s8_reference(table, input, output)
}
