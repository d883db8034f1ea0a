//! STUB
use super::{DequantizeParams, QuantizeParams, RequantizeParams};

pub(super) fn quantize_f32_s8_reference(_p: &QuantizeParams, _input: &[f32], _output: &mut [i8]) {}

pub(super) fn dequantize_s8_f32_reference(
    _p: &DequantizeParams,
    _input: &[i8],
    _output: &mut [f32],
) {
}

pub(super) fn requantize_s8_reference(_p: &RequantizeParams, _input: &[i8], _output: &mut [i8]) {}

pub(super) fn lookup_s8_reference(_table: &[i8; 256], _input: &[i8], _output: &mut [i8]) {}
