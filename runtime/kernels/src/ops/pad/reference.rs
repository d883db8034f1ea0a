//! Portable reference for padding (constant, reflect, edge; negative `begin` crops).
//!
//! Each output row (all axes but the last) is mapped to its source input row, or to "outside"
//! (constant mode). Within a row, the part that maps straight into the input is a block copy;
//! only the border elements go through the per-element index mapping.
use super::{PadMode, PadParams};
use crate::ops::util::{sub, sub_mut, Odometer};
use crate::MAX_RANK;

/// The input index that output index `o` reads on an axis of input length `len`, or `None`
/// for the constant.
#[inline]
fn source(mode: PadMode, o: usize, begin: isize, len: usize) -> Option<usize> {
    let j = o as isize - begin;
    let n = len as isize;
    if (0..n).contains(&j) {
        return Some(j as usize);
    }
    if n == 0 {
        return None;
    }
    match mode {
        PadMode::Constant => None,
        PadMode::Edge => Some(j.clamp(0, n - 1) as usize),
        PadMode::Reflect => {
            if n == 1 {
                return Some(0);
            }
            // Reflection is periodic with period 2·(n−1): [0 1 … n−1 n−2 … 1] repeats (numpy's
            // "reflect" for pads wider than the input).
            let period = 2 * (n - 1);
            let k = j.rem_euclid(period);
            Some(if k >= n { period - k } else { k } as usize)
        }
    }
}

pub(super) fn pad_reference<T: Copy>(p: &PadParams, value: T, input: &[T], output: &mut [T]) {
    let rank = p.out.rank.clamp(1, MAX_RANK);
    debug_assert_eq!(p.input.rank, p.out.rank);
    debug_assert_eq!(input.len(), p.input.elements());
    debug_assert_eq!(output.len(), p.out.elements());

    let in_strides = p.input.strides();
    let last = rank - 1;
    let (inner, in_inner, begin) = (p.out.dims[last], p.input.dims[last], p.begin[last]);
    // Output columns [lo, hi) read input columns [lo − begin, hi − begin) directly.
    let lo = begin.clamp(0, inner as isize) as usize;
    let hi = (begin + in_inner as isize).clamp(lo as isize, inner as isize) as usize;

    let mut od = Odometer::<0>::new(&p.out.dims[..last], [], []);
    let mut out_off = 0usize;
    loop {
        let out_row = sub_mut(output, out_off, inner);
        // Source row, unless some outer axis lands in constant padding.
        let mut row = Some(0usize);
        for (axis, &stride) in in_strides.iter().enumerate().take(last) {
            row = row.and_then(|r| {
                source(p.mode, od.idx[axis], p.begin[axis], p.input.dims[axis])
                    .map(|i| r + i * stride)
            });
        }
        match row {
            None => out_row.fill(value),
            Some(row) => {
                let in_row = sub(input, row, in_inner);
                let (left, rest) = out_row.split_at_mut(lo.min(out_row.len()));
                let (mid, right) = rest.split_at_mut((hi - lo).min(rest.len()));
                let border = |o: usize| {
                    source(p.mode, o, begin, in_inner)
                        .and_then(|i| in_row.get(i))
                        .copied()
                };
                for (o, v) in left.iter_mut().enumerate() {
                    *v = border(o).unwrap_or(value);
                }
                let start = (lo as isize - begin) as usize;
                for (v, &x) in mid.iter_mut().zip(in_row.get(start..).unwrap_or(&[])) {
                    *v = x;
                }
                for (o, v) in right.iter_mut().enumerate() {
                    *v = border(hi + o).unwrap_or(value);
                }
            }
        }
        out_off += inner;
        if od.advance().is_none() {
            break;
        }
    }
}
