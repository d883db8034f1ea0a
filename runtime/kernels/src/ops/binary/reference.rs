//! STUB: to be implemented.
use super::BinaryParams;

pub(super) fn binary_f32_reference(_p: &BinaryParams, _a: &[f32], _b: &[f32], _output: &mut [f32]) {}
