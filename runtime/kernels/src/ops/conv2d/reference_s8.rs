//! STUB
use super::Conv2dS8Params;

pub(super) fn conv2d_s8_reference(
    _p: &Conv2dS8Params,
    _input: &[i8],
    _weights: &[i8],
    _bias: Option<&[i32]>,
    _multipliers: &[i32],
    _shifts: &[i32],
    _output: &mut [i8],
) {
}
