//! STUB: to be implemented.
use super::FullyConnectedParams;

pub(super) fn fully_connected_f32_reference(_p: &FullyConnectedParams, _input: &[f32], _weights: &[f32], _bias: Option<&[f32]>, _output: &mut [f32]) {}
