//! STUB
use super::FullyConnectedS8Params;

pub(super) fn fully_connected_s8_reference(
    _p: &FullyConnectedS8Params,
    _input: &[i8],
    _weights: &[i8],
    _bias: Option<&[i32]>,
    _multipliers: &[i32],
    _shifts: &[i32],
    _output: &mut [i8],
) {
}
