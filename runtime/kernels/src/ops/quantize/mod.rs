//! Conversions at the edges of int8 regions: quantize (f32 → int8), dequantize (int8 → f32),
//! requantize (int8 → int8 with another scale / zero point), and 256-entry lookup tables for
//! int8 activations (Sigmoid, Tanh, HardSwish, …: the compiler evaluates the float function on
//! every int8 input once).

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512_vnni;
mod reference;
#[cfg(test)]
mod tests_impls;

use crate::dispatch::{Impl, Isa};
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
    for imp in QUANTIZE_F32_S8_IMPLS {
        if imp.isa.available() && (imp.f)(p, input, output) {
            return;
        }
    }
}

/// int8 → f32.
pub fn dequantize_s8_f32(p: &DequantizeParams, input: &[i8], output: &mut [f32]) {
    for imp in DEQUANTIZE_S8_F32_IMPLS {
        if imp.isa.available() && (imp.f)(p, input, output) {
            return;
        }
    }
}

/// Symmetric int8 weights → f32 with one scale per channel: `output[i] = input[i] as f32 ·
/// scales[(i / inner) % scales.len()]`, where `inner` is the number of elements after the
/// channel axis. The product is the same f32 operation the compiler uses when it folds a
/// `DequantizeLinear` of constant weights, so a model that keeps its int8 weights in the file
/// computes bit for bit what one with pre-dequantized float weights does. Runs once per
/// inference per layer on weights only (a few thousand elements), so it has no SIMD twin.
/// `scales` must not be empty and `inner` not zero (the interpreter checks both at load);
/// otherwise nothing is written.
pub fn dequantize_weights_s8_f32(input: &[i8], scales: &[f32], inner: usize, output: &mut [f32]) {
    if scales.is_empty() || inner == 0 {
        return;
    }
    for ((q, o), s) in input
        .chunks(inner)
        .zip(output.chunks_mut(inner))
        .zip(scales.iter().cycle())
    {
        for (&q, o) in q.iter().zip(o.iter_mut()) {
            *o = q as f32 * *s;
        }
    }
}

/// The type of every [`quantize_f32_s8`] variant: `false` (nothing written) when it does not
/// cover the call or its instruction set is unavailable.
pub type QuantizeF32S8Fn = fn(&QuantizeParams, &[f32], &mut [i8]) -> bool;

/// The type of every [`dequantize_s8_f32`] variant.
pub type DequantizeS8F32Fn = fn(&DequantizeParams, &[i8], &mut [f32]) -> bool;

/// The variants of [`quantize_f32_s8`], fastest first, the reference last; all bit-exact (the
/// same f32 division and round-half-to-even).
pub const QUANTIZE_F32_S8_IMPLS: &[Impl<QuantizeF32S8Fn>] = &[
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "quantize_f32_s8_avx512_vnni",
        isa: Isa::Avx512Vnni,
        f: avx512_vnni::quantize_f32_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "quantize_f32_s8_avx2",
        isa: Isa::Avx2,
        f: avx2::quantize_f32_s8,
    },
    Impl {
        name: "quantize_f32_s8_reference",
        isa: Isa::Reference,
        f: |p, x, y| {
            reference::quantize_f32_s8_reference(p, x, y);
            true
        },
    },
];

/// The variants of [`dequantize_s8_f32`], fastest first, the reference last; all bit-exact.
pub const DEQUANTIZE_S8_F32_IMPLS: &[Impl<DequantizeS8F32Fn>] = &[
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "dequantize_s8_f32_avx512_vnni",
        isa: Isa::Avx512Vnni,
        f: avx512_vnni::dequantize_s8_f32,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "dequantize_s8_f32_avx2",
        isa: Isa::Avx2,
        f: avx2::dequantize_s8_f32,
    },
    Impl {
        name: "dequantize_s8_f32_reference",
        isa: Isa::Reference,
        f: |p, x, y| {
            reference::dequantize_s8_f32_reference(p, x, y);
            true
        },
    },
];

/// int8 → int8.
pub fn requantize_s8(p: &RequantizeParams, input: &[i8], output: &mut [i8]) {
    reference::requantize_s8_reference(p, input, output)
}

/// `output[i] = table[input[i] as u8]` (the table is indexed by the input's two's-complement
/// byte).
pub fn lookup_s8(table: &[i8; 256], input: &[i8], output: &mut [i8]) {
    reference::lookup_s8_reference(table, input, output)
}
