//! STUB: to be implemented.
use super::TransposeParams;

pub(super) fn transpose_reference<T: Copy>(_p: &TransposeParams, _input: &[T], _output: &mut [T]) {}
