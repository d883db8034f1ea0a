//! Portable reference for one concatenation part (plain block copies).
use super::ConcatPart;
use crate::ops::util::{sub, sub_mut};

pub(super) fn concat_part_reference<T: Copy>(p: &ConcatPart, input: &[T], output: &mut [T]) {
    debug_assert!(input.len() >= p.outer * p.in_block);
    debug_assert!(output.len() >= p.outer * p.out_block);
    debug_assert!(p.offset + p.in_block <= p.out_block);
    for o in 0..p.outer {
        let src = sub(input, o * p.in_block, p.in_block);
        let dst = sub_mut(output, o * p.out_block + p.offset, p.in_block);
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}
