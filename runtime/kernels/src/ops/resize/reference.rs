//! STUB: to be implemented.
use super::ResizeParams;

pub(super) fn resize_f32_reference(_p: &ResizeParams, _input: &[f32], _output: &mut [f32]) {}
