//! Portable reference for axis permutation.
//!
//! The output is written in order; the matching input offset is kept by an odometer (strides of
//! the input axes in output order), so there is no per-element division. Output axes of extent 1
//! are dropped and axes that stay contiguous in the input are merged first, which turns e.g.
//! ShuffleNet's `[N, g, C/g, H, W] → [N, C/g, g, H, W]` into a 3-axis walk with contiguous
//! `H·W` rows.
use super::TransposeParams;
use crate::ops::util::{sub, sub_mut, to_index, Odometer};
use crate::MAX_RANK;

pub(super) fn transpose_reference<T: Copy>(p: &TransposeParams, input: &[T], output: &mut [T]) {
    let rank = p.input.rank.min(MAX_RANK);
    debug_assert!({
        let mut seen = [false; MAX_RANK];
        p.perm[..rank]
            .iter()
            .all(|&a| a < rank && !core::mem::replace(&mut seen[a], true))
    });
    debug_assert_eq!(input.len(), p.input.elements());
    debug_assert_eq!(output.len(), p.input.elements());

    let (n, dims, strides) = merged_axes(p);
    let strides = [strides];
    if n == 0 {
        // At most one element.
        if let (Some(o), Some(&x)) = (output.first_mut(), input.first()) {
            *o = x;
        }
        return;
    }
    let inner = dims[n - 1];
    let step = strides[0][n - 1];
    let mut od = Odometer::new(&dims[..n - 1], strides, [0]);
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

/// The permutation as a walk over the output: extents and input strides of the output axes in
/// order, with axes of extent 1 dropped and neighbours that stay contiguous in the input merged.
/// Returns the number of axes left.
pub(super) fn merged_axes(p: &TransposeParams) -> (usize, [usize; MAX_RANK], [isize; MAX_RANK]) {
    let rank = p.input.rank.min(MAX_RANK);
    let in_strides = p.input.strides();
    let mut dims = [1usize; MAX_RANK];
    let mut strides = [0isize; MAX_RANK];
    let mut n = 0usize;
    for &axis in &p.perm[..rank] {
        let (d, s) = match (p.input.dims.get(axis), in_strides.get(axis)) {
            (Some(&d), Some(&s)) => (d, s as isize),
            _ => continue,
        };
        if d == 1 {
            continue;
        }
        if n > 0 && strides[n - 1] == s * d as isize {
            dims[n - 1] *= d;
            strides[n - 1] = s;
        } else {
            dims[n] = d;
            strides[n] = s;
            n += 1;
        }
    }
    (n, dims, strides)
}
