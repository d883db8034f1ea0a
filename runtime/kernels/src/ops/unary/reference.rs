//! STUB: to be implemented.
use crate::Activation;

pub(super) fn activation_f32_reference(_act: Activation, _input: &[f32], _output: &mut [f32]) {}
