//! Portable scalar reference for broadcasting binary ops.
//!
//! The three shapes are first simplified: output axes of extent 1 are dropped and neighbouring
//! axes that are laid out contiguously in both inputs (or broadcast in the same way) are merged.
//! What remains is walked by an odometer over all axes but the last, with the innermost loop
//! running over the last axis, where each input advances by 1 (present) or 0 (broadcast).
use super::{BinaryOp, BinaryParams};
use crate::ops::util::{sub, sub_mut, to_index, Odometer};
use crate::MAX_RANK;

pub(super) fn binary_f32_reference(p: &BinaryParams, a: &[f32], b: &[f32], output: &mut [f32]) {
    debug_assert!(p.a.rank == p.out.rank && p.b.rank == p.out.rank);
    debug_assert_eq!(a.len(), p.a.elements());
    debug_assert_eq!(b.len(), p.b.elements());
    debug_assert_eq!(output.len(), p.out.elements());
    match p.op {
        BinaryOp::Add => run(p, a, b, output, |x, y| x + y),
        BinaryOp::Sub => run(p, a, b, output, |x, y| x - y),
        BinaryOp::Mul => run(p, a, b, output, |x, y| x * y),
        BinaryOp::Div => run(p, a, b, output, |x, y| x / y),
        // NaN propagates, as numpy's maximum/minimum (ONNX's reference) do.
        BinaryOp::Max => run(
            p,
            a,
            b,
            output,
            |x, y| if x > y || x.is_nan() { x } else { y },
        ),
        BinaryOp::Min => run(
            p,
            a,
            b,
            output,
            |x, y| if x < y || x.is_nan() { x } else { y },
        ),
    }
}

fn run(
    p: &BinaryParams,
    a: &[f32],
    b: &[f32],
    output: &mut [f32],
    f: impl Fn(f32, f32) -> f32 + Copy,
) {
    broadcast_walk(p, a, b, output, f, |row| p.activation.apply_slice(row));
}

/// Walks `output = f(a, b)` with broadcasting over the shapes of `p` (its `op` and `activation`
/// are not used), calling `finish` on each stretch of output written (int8 kernels fold their
/// clamp into `f` and pass a no-op).
pub(super) fn broadcast_walk<T: Copy + Default>(
    p: &BinaryParams,
    a: &[T],
    b: &[T],
    output: &mut [T],
    f: impl Fn(T, T) -> T + Copy,
    finish: impl Fn(&mut [T]),
) {
    // Simplified shape: extents and per-input strides (0 where broadcast).
    let mut dims = [1usize; MAX_RANK];
    let mut strides = [[0isize; MAX_RANK]; 2];
    let mut rank = 0usize;
    let (sa, sb) = (p.a.strides(), p.b.strides());
    for axis in 0..p.out.rank.min(MAX_RANK) {
        let d = p.out.dims[axis];
        if d == 1 {
            continue;
        }
        let a_s = if p.a.dims[axis] == 1 {
            0
        } else {
            sa[axis] as isize
        };
        let b_s = if p.b.dims[axis] == 1 {
            0
        } else {
            sb[axis] as isize
        };
        let di = d as isize;
        if rank > 0 && strides[0][rank - 1] == a_s * di && strides[1][rank - 1] == b_s * di {
            // The previous axis steps over exactly one run of this one, in both inputs: merge.
            dims[rank - 1] *= d;
            strides[0][rank - 1] = a_s;
            strides[1][rank - 1] = b_s;
        } else {
            dims[rank] = d;
            strides[0][rank] = a_s;
            strides[1][rank] = b_s;
            rank += 1;
        }
    }
    if rank == 0 {
        // A single element.
        if let (Some(o), Some(&x), Some(&y)) = (output.first_mut(), a.first(), b.first()) {
            *o = f(x, y);
        }
        finish(sub_mut(output, 0, 1));
        return;
    }
    let inner = dims[rank - 1];
    let (step_a, step_b) = (strides[0][rank - 1], strides[1][rank - 1]);
    let mut od = Odometer::new(&dims[..rank - 1], strides, [0, 0]);
    let mut out_off = 0usize;
    loop {
        let out_row = sub_mut(output, out_off, inner);
        let (oa, ob) = (
            to_index(od.offsets[0]).unwrap_or(0),
            to_index(od.offsets[1]).unwrap_or(0),
        );
        match (step_a, step_b) {
            (1, 1) => {
                for ((o, &x), &y) in out_row
                    .iter_mut()
                    .zip(sub(a, oa, inner))
                    .zip(sub(b, ob, inner))
                {
                    *o = f(x, y);
                }
            }
            (1, 0) => {
                let y = b.get(ob).copied().unwrap_or_default();
                for (o, &x) in out_row.iter_mut().zip(sub(a, oa, inner)) {
                    *o = f(x, y);
                }
            }
            (0, 1) => {
                let x = a.get(oa).copied().unwrap_or_default();
                for (o, &y) in out_row.iter_mut().zip(sub(b, ob, inner)) {
                    *o = f(x, y);
                }
            }
            _ => {
                // Not reachable for row-major inputs (the innermost stride is 0 or 1); kept
                // general for safety.
                let (mut ia, mut ib) = (od.offsets[0], od.offsets[1]);
                for o in out_row.iter_mut() {
                    let x = to_index(ia)
                        .and_then(|i| a.get(i))
                        .copied()
                        .unwrap_or_default();
                    let y = to_index(ib)
                        .and_then(|i| b.get(i))
                        .copied()
                        .unwrap_or_default();
                    *o = f(x, y);
                    ia += step_a;
                    ib += step_b;
                }
            }
        }
        finish(out_row);
        out_off += inner;
        if od.advance().is_none() {
            break;
        }
    }
}
