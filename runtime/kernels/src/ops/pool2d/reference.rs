//! STUB: to be implemented.
use super::Pool2dParams;

pub(super) fn max_pool2d_f32_reference(_p: &Pool2dParams, _input: &[f32], _output: &mut [f32]) {}

pub(super) fn avg_pool2d_f32_reference(_p: &Pool2dParams, _input: &[f32], _output: &mut [f32]) {}
