//! STUB: to be implemented.
use super::MatMulParams;

pub(super) fn matmul_f32_reference(_p: &MatMulParams, _a: &[f32], _b: &[f32], _output: &mut [f32]) {}
