//! STUB: to be implemented.
use super::Conv2dParams;

pub(super) fn conv2d_f32_reference(_p: &Conv2dParams, _input: &[f32], _weights: &[f32], _bias: Option<&[f32]>, _output: &mut [f32]) {}
