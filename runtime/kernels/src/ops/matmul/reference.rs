//! Portable scalar reference for the batched matrix product with broadcast batch axes.
//!
//! An odometer walks the output's batch axes with the offsets of the matching `a` and `b`
//! matrices (stride 0 on broadcast axes). Each output row is built as `Σ_k a[m, k] · b[k, :]`,
//! so the innermost loop runs over contiguous rows of `b` and of the output; every output still
//! accumulates in f32 from 0 over k ascending.
use super::MatMulParams;
use crate::ops::util::{sub, sub_mut, to_index, Odometer};
use crate::MAX_RANK;

pub(super) fn matmul_f32_reference(p: &MatMulParams, a: &[f32], b: &[f32], output: &mut [f32]) {
    let rank = p.out.rank.min(MAX_RANK);
    debug_assert!(rank >= 2 && p.a.rank == p.out.rank && p.b.rank == p.out.rank);
    debug_assert_eq!(a.len(), p.a.elements());
    debug_assert_eq!(b.len(), p.b.elements());
    debug_assert_eq!(output.len(), p.out.elements());
    if rank < 2 {
        return;
    }
    let (m_len, n_len, k_len) = (
        p.out.dims[rank - 2],
        p.out.dims[rank - 1],
        p.a.dims[rank - 1],
    );
    debug_assert_eq!(p.a.dims[rank - 2], m_len);
    debug_assert_eq!(p.b.dims[rank - 2], k_len);
    debug_assert_eq!(p.b.dims[rank - 1], n_len);

    let batch_axes = rank - 2;
    let (sa, sb) = (p.a.strides(), p.b.strides());
    let mut strides = [[0isize; MAX_RANK]; 2];
    for axis in 0..batch_axes {
        strides[0][axis] = if p.a.dims[axis] == 1 {
            0
        } else {
            sa[axis] as isize
        };
        strides[1][axis] = if p.b.dims[axis] == 1 {
            0
        } else {
            sb[axis] as isize
        };
    }
    let mut od = Odometer::new(&p.out.dims[..batch_axes], strides, [0, 0]);
    let mut out_off = 0usize;
    loop {
        let a_mat = sub(
            a,
            to_index(od.offsets[0]).unwrap_or(usize::MAX),
            m_len * k_len,
        );
        let b_mat = sub(
            b,
            to_index(od.offsets[1]).unwrap_or(usize::MAX),
            k_len * n_len,
        );
        for m in 0..m_len {
            let out_row = sub_mut(output, out_off + m * n_len, n_len);
            out_row.fill(0.0);
            for (k, &av) in sub(a_mat, m * k_len, k_len).iter().enumerate() {
                for (o, &bv) in out_row.iter_mut().zip(sub(b_mat, k * n_len, n_len)) {
                    *o += av * bv;
                }
            }
        }
        out_off += m_len * n_len;
        if od.advance().is_none() {
            break;
        }
    }
}
