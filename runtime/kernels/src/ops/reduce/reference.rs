//! STUB: to be implemented.
use super::ReduceParams;

pub(super) fn reduce_mean_f32_reference(_p: &ReduceParams, _input: &[f32], _output: &mut [f32]) {}
