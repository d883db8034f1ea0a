//! STUB: to be implemented.
use super::SoftmaxParams;

pub(super) fn softmax_f32_reference(_p: &SoftmaxParams, _input: &[f32], _output: &mut [f32]) {}
