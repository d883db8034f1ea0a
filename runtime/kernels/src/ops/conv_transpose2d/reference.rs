//! STUB: to be implemented.
use super::ConvTranspose2dParams;

pub(super) fn conv_transpose2d_f32_reference(_p: &ConvTranspose2dParams, _input: &[f32], _weights: &[f32], _bias: Option<&[f32]>, _output: &mut [f32]) {}
