//! Portable reference for strided slices (any sign of step).
//!
//! An odometer over the output keeps the input offset `Σ (start + i·step)·stride` up to date;
//! the innermost axis is a plain copy when its step is 1.
use super::SliceParams;
use crate::ops::util::{sub, sub_mut, to_index, Odometer};
use crate::MAX_RANK;

pub(super) fn slice_reference<T: Copy>(p: &SliceParams, input: &[T], output: &mut [T]) {
    let rank = p.out.rank.clamp(1, MAX_RANK);
    debug_assert_eq!(p.input.rank, p.out.rank);
    debug_assert!(p.steps[..p.out.rank.min(MAX_RANK)].iter().all(|&s| s != 0));
    debug_assert_eq!(input.len(), p.input.elements());
    debug_assert_eq!(output.len(), p.out.elements());

    let in_strides = p.input.strides();
    let mut strides = [[0isize; MAX_RANK]; 1];
    let mut base = 0isize;
    for axis in 0..rank {
        let s = in_strides[axis] as isize;
        strides[0][axis] = p.steps[axis] * s;
        base += p.starts[axis] * s;
    }
    let inner = p.out.dims[rank - 1];
    let step = strides[0][rank - 1];
    let mut od = Odometer::new(&p.out.dims[..rank - 1], strides, [base]);
    let mut out_off = 0usize;
    loop {
        let out_row = sub_mut(output, out_off, inner);
        if step == 1 {
            let src = sub(input, to_index(od.offsets[0]).unwrap_or(usize::MAX), inner);
            for (o, &x) in out_row.iter_mut().zip(src) {
                *o = x;
            }
        } else {
            let mut i = od.offsets[0];
            for o in out_row.iter_mut() {
                if let Some(&x) = to_index(i).and_then(|i| input.get(i)) {
                    *o = x;
                }
                i += step;
            }
        }
        out_off += inner;
        if od.advance().is_none() {
            break;
        }
    }
}
