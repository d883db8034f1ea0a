//! STUB
use super::{AddS8Params, MulS8Params};

pub(super) fn add_s8_reference(_p: &AddS8Params, _a: &[i8], _b: &[i8], _output: &mut [i8]) {}

pub(super) fn mul_s8_reference(_p: &MulS8Params, _a: &[i8], _b: &[i8], _output: &mut [i8]) {}
