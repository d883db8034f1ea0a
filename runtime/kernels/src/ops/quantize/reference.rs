//! Portable scalar references for the int8 edge conversions.
//!
//! - Quantize (f32 → int8): ONNX `QuantizeLinear` as its reference implementation computes it
//!   (`np.rint(x / scale) + zero_point`, clipped): the division in f32, rounding half to even.
//!   NaN quantizes to the zero point; ±∞ saturate.
//! - Dequantize: `(q − zero_point) as f32 · scale` — identical to TFLite's `Dequantize`, whose
//!   double product of a 9-bit integer and an f32 scale is exact before its one rounding to f32.
//! - Requantize (int8 → int8): TFLite's `reference_ops::Requantize` (`kernels/internal/reference/
//!   requantize.h`): `clamp(mbqm(q − input_zero_point, multiplier, shift) + output_zero_point,
//!   −128, 127)`.
//! - Lookup: `table[q as u8]`, the indexing of TFLite's `LUTLookup` for int8.
use super::{DequantizeParams, QuantizeParams, RequantizeParams};
use crate::quant::multiply_by_quantized_multiplier;

/// One value of ONNX `QuantizeLinear` to int8.
#[inline(always)]
pub(super) fn quantize_one(x: f32, scale: f32, zero_point: i32) -> i8 {
    // rintf rounds half to even (the default floating-point rounding mode). `as i32` saturates
    // and maps NaN to 0.
    let q = libm::rintf(x / scale) as i32;
    q.saturating_add(zero_point).clamp(-128, 127) as i8
}

pub(super) fn quantize_f32_s8_reference(p: &QuantizeParams, input: &[f32], output: &mut [i8]) {
    debug_assert_eq!(input.len(), output.len());
    for (o, &x) in output.iter_mut().zip(input) {
        *o = quantize_one(x, p.scale, p.zero_point);
    }
}

pub(super) fn dequantize_s8_f32_reference(p: &DequantizeParams, input: &[i8], output: &mut [f32]) {
    debug_assert_eq!(input.len(), output.len());
    for (o, &q) in output.iter_mut().zip(input) {
        *o = (i32::from(q).wrapping_sub(p.zero_point)) as f32 * p.scale;
    }
}

pub(super) fn requantize_s8_reference(p: &RequantizeParams, input: &[i8], output: &mut [i8]) {
    debug_assert_eq!(input.len(), output.len());
    for (o, &q) in output.iter_mut().zip(input) {
        let v = i32::from(q).wrapping_sub(p.input_zero_point);
        let r = multiply_by_quantized_multiplier(v, p.multiplier, p.shift, p.rounding)
            .saturating_add(p.output_zero_point);
        *o = r.clamp(-128, 127) as i8;
    }
}

pub(super) fn lookup_s8_reference(table: &[i8; 256], input: &[i8], output: &mut [i8]) {
    debug_assert_eq!(input.len(), output.len());
    for (o, &q) in output.iter_mut().zip(input) {
        *o = table[q as u8 as usize];
    }
}
