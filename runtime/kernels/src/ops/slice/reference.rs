//! STUB: to be implemented.
use super::SliceParams;

pub(super) fn slice_reference<T: Copy>(_p: &SliceParams, _input: &[T], _output: &mut [T]) {}
