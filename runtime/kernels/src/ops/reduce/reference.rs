//! Portable scalar reference for ReduceMean.
//!
//! The input is read once, in order; each value is added into its output slot (an odometer keeps
//! the output offset, whose stride is 0 on reduced axes). The innermost axis is either summed
//! into one slot (reduced) or added element-wise into a contiguous output row (kept, e.g. the
//! channels of a global average pool over NHWC). Finally every sum is divided by the number of
//! values it gathered. Sums accumulate in f32 in input order.
use super::ReduceParams;
use crate::ops::util::{sub, sub_mut, to_index, Odometer};
use crate::MAX_RANK;

pub(super) fn reduce_mean_f32_reference(p: &ReduceParams, input: &[f32], output: &mut [f32]) {
    let rank = p.input.rank.clamp(1, MAX_RANK);
    let reduced = |axis: usize| axis < p.input.rank && p.axes_mask & (1u32 << axis) != 0;
    let mut out_shape = p.input;
    let mut count = 1usize;
    for axis in 0..rank {
        if reduced(axis) {
            count *= out_shape.dims[axis];
            out_shape.dims[axis] = 1;
        }
    }
    debug_assert_eq!(input.len(), p.input.elements());
    debug_assert_eq!(output.len(), out_shape.elements());

    output.fill(0.0);
    let out_strides = out_shape.strides();
    let mut strides = [[0isize; MAX_RANK]; 1];
    for axis in 0..rank {
        strides[0][axis] = if reduced(axis) {
            0
        } else {
            out_strides[axis] as isize
        };
    }
    let last = rank - 1;
    let inner = p.input.dims[last];
    let inner_reduced = reduced(last);
    let mut od = Odometer::new(&p.input.dims[..last], strides, [0]);
    let mut in_off = 0usize;
    loop {
        let in_row = sub(input, in_off, inner);
        let out_off = to_index(od.offsets[0]).unwrap_or(usize::MAX);
        if inner_reduced {
            if let Some(o) = output.get_mut(out_off) {
                let mut acc = *o;
                for &x in in_row {
                    acc += x;
                }
                *o = acc;
            }
        } else {
            for (o, &x) in sub_mut(output, out_off, inner).iter_mut().zip(in_row) {
                *o += x;
            }
        }
        in_off += inner;
        if od.advance().is_none() {
            break;
        }
    }
    if count > 0 {
        let c = count as f32;
        for o in output.iter_mut() {
            *o /= c;
        }
    }
}
