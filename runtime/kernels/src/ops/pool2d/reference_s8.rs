//! STUB
use super::Pool2dS8Params;

pub(super) fn max_pool2d_s8_reference(_p: &Pool2dS8Params, _input: &[i8], _output: &mut [i8]) {}

pub(super) fn avg_pool2d_s8_reference(_p: &Pool2dS8Params, _input: &[i8], _output: &mut [i8]) {}
