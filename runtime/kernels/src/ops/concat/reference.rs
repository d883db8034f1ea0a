//! STUB: to be implemented.
use super::ConcatPart;

pub(super) fn concat_part_reference<T: Copy>(_p: &ConcatPart, _input: &[T], _output: &mut [T]) {}
