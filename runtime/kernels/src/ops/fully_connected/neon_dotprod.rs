//! Fully connected with NEON and the dot product (aarch64): `fully_connected_s8_neon_dotprod`,
//! `fully_connected_s8_scaled_neon_dotprod`.
//!
//! Each output is a dot product of two contiguous rows: `SDOT` multiplies 16 signed input bytes
//! with 16 weight bytes of each of 4 units, and a second `SDOT` with a vector of ones sums the
//! weights, so `Σ w·(x + input_offset) = Σ w·x + input_offset · Σ w` (all in wrapping i32, like the
//! reference's accumulator). The output stage is the reference's scalar function: bit-exact.

use core::arch::aarch64::*;

use super::reference_s8::scaled_output;
use super::{s8_call_ok, FullyConnectedS8Params};
use crate::arch::aarch64::{sdot, NeonDotprod};
use crate::ops::util::requantize_output;

/// `fully_connected_s8_neon_dotprod`; `false` (nothing written) when unavailable or out of range.
pub(crate) fn fully_connected_s8(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(t) = NeonDotprod::get() else {
        return false;
    };
    let lens = (
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        output.len(),
    );
    if !s8_call_ok(p, lens.0, lens.1, lens.2, mults.len(), lens.3) || mults.len() != shifts.len() {
        return false;
    }
    let per_channel = mults.len() > 1;
    // SAFETY: `t` proves NEON and dotprod; `s8_call_ok` checked the slice lengths.
    unsafe {
        run_s8(t, p, input, weights, bias, output, |n, acc| {
            let i = if per_channel { n } else { 0 };
            requantize_output(
                acc,
                mults.get(i).copied().unwrap_or(0),
                shifts.get(i).copied().unwrap_or(0),
                p.rounding,
                p.output_offset,
                p.act_min,
                p.act_max,
            )
        })
    };
    true
}

/// `fully_connected_s8_scaled_neon_dotprod` (LiteRT's reference rounding in f64).
pub(crate) fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    scales: &[f64],
    output: &mut [i8],
) -> bool {
    let Some(t) = NeonDotprod::get() else {
        return false;
    };
    let lens = (
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        output.len(),
    );
    if !s8_call_ok(p, lens.0, lens.1, lens.2, scales.len(), lens.3) {
        return false;
    }
    let per_channel = scales.len() > 1;
    // SAFETY: as in `fully_connected_s8`.
    unsafe {
        run_s8(t, p, input, weights, bias, output, |n, acc| {
            let scale = scales
                .get(if per_channel { n } else { 0 })
                .copied()
                .unwrap_or(0.0);
            scaled_output(acc, scale, p)
        })
    };
    true
}

/// # Safety
/// NEON and dotprod available; slice lengths checked by [`s8_call_ok`].
#[target_feature(enable = "neon,dotprod")]
unsafe fn run_s8(
    _t: NeonDotprod,
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
    stage: impl Fn(usize, i32) -> i8,
) {
    let (k, units) = (p.depth, p.units);
    let ones = vdupq_n_s8(1);
    let k16 = k / 16 * 16;
    let w = weights.as_ptr();
    for m in 0..p.rows {
        let xrow = &input[m * k..(m + 1) * k];
        let x = xrow.as_ptr();
        let mut n = 0;
        while n < units {
            let nb = (units - n).min(4);
            let mut acc = [vdupq_n_s32(0); 4];
            let mut sum_w = [vdupq_n_s32(0); 4];
            let mut kk = 0;
            while kk < k16 {
                // SAFETY: bytes `kk .. kk + 16 ≤ k` of row `m` and of rows `n + j < units`.
                unsafe {
                    let xv = vld1q_s8(x.add(kk));
                    for ((a, sw), j) in acc.iter_mut().zip(sum_w.iter_mut()).zip(0..nb) {
                        let wv = vld1q_s8(w.add((n + j) * k + kk));
                        *a = sdot(*a, xv, wv);
                        *sw = sdot(*sw, ones, wv);
                    }
                }
                kk += 16;
            }
            for j in 0..nb {
                let mut a = vaddvq_s32(acc[j])
                    .wrapping_add(vaddvq_s32(sum_w[j]).wrapping_mul(p.input_offset));
                let wrow = &weights[(n + j) * k..(n + j + 1) * k];
                for (&xv, &wv) in xrow[k16..].iter().zip(&wrow[k16..]) {
                    a = a.wrapping_add(i32::from(wv) * (i32::from(xv) + p.input_offset));
                }
                let b = bias.and_then(|b| b.get(n + j)).copied().unwrap_or(0);
                if let Some(o) = output.get_mut(m * units + n + j) {
                    *o = stage(n + j, a.wrapping_add(b));
                }
            }
            n += nb;
        }
    }
}
