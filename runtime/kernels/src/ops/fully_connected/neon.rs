//! Fully connected with NEON (aarch64): `fully_connected_s8_neon`, `fully_connected_s8_scaled_neon`,
//! `fully_connected_f32_neon` (documented at its function).
//!
//! Each output is a dot product of two contiguous rows. 16 bytes of the input row are widened to
//! i16 with the input offset added (`|x + input_offset| ≤ 255`), the weights of 4 units are
//! widened to i16, and `SMLAL`/`SMLAL2` accumulate the products in i32 (exact, wrapping like the
//! reference's accumulator). The output stage is the reference's scalar function: bit-exact.

use core::arch::aarch64::*;

use super::reference_s8::scaled_output;
use super::{s8_call_ok, FullyConnectedParams, FullyConnectedS8Params};
use crate::arch::aarch64::Neon;
use crate::ops::util::requantize_output;

/// `fully_connected_s8_neon`; `false` (nothing written) when unavailable or out of range.
pub(crate) fn fully_connected_s8(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(t) = Neon::get() else {
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
    // SAFETY: `t` proves NEON; `s8_call_ok` checked the slice lengths.
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

/// `fully_connected_s8_scaled_neon` (LiteRT's reference rounding in f64).
pub(crate) fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    scales: &[f64],
    output: &mut [i8],
) -> bool {
    let Some(t) = Neon::get() else {
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
/// NEON available; slice lengths checked by [`s8_call_ok`].
#[target_feature(enable = "neon")]
unsafe fn run_s8(
    _t: Neon,
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
    stage: impl Fn(usize, i32) -> i8,
) {
    let (k, units) = (p.depth, p.units);
    let off = vdupq_n_s16(p.input_offset as i16);
    let k16 = k / 16 * 16;
    let w = weights.as_ptr();
    for m in 0..p.rows {
        let xrow = &input[m * k..(m + 1) * k];
        let x = xrow.as_ptr();
        let mut n = 0;
        while n < units {
            let nb = (units - n).min(4);
            let mut acc = [vdupq_n_s32(0); 4];
            let mut kk = 0;
            while kk < k16 {
                // SAFETY: bytes `kk .. kk + 16 ≤ k` of row `m` and of rows `n + j < units`.
                unsafe {
                    let xv = vld1q_s8(x.add(kk));
                    let xl = vaddq_s16(vmovl_s8(vget_low_s8(xv)), off);
                    let xh = vaddq_s16(vmovl_high_s8(xv), off);
                    for (j, a) in acc.iter_mut().enumerate().take(nb) {
                        let wv = vld1q_s8(w.add((n + j) * k + kk));
                        let wl = vmovl_s8(vget_low_s8(wv));
                        let wh = vmovl_high_s8(wv);
                        let mut s = vmlal_s16(*a, vget_low_s16(xl), vget_low_s16(wl));
                        s = vmlal_high_s16(s, xl, wl);
                        s = vmlal_s16(s, vget_low_s16(xh), vget_low_s16(wh));
                        *a = vmlal_high_s16(s, xh, wh);
                    }
                }
                kk += 16;
            }
            for j in 0..nb {
                let mut a = vaddvq_s32(acc[j]);
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

/// `fully_connected_f32_neon`: `false` (nothing written) when NEON is unavailable or the slice
/// lengths do not match the shapes.
///
/// Each output is the dot product of two contiguous rows, so 4 units share each input vector and
/// every unit keeps two vector accumulators (8 independent FMA chains); the lanes are summed
/// once at the end, the bias added and the activation applied with the scalar function. The
/// summation order differs from the reference's sequential sum: results differ by rounding.
pub(crate) fn fully_connected_f32(
    p: &FullyConnectedParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    let Some(t) = Neon::get() else {
        return false;
    };
    let lens = (|| {
        Some((
            p.rows.checked_mul(p.depth)?,
            p.units.checked_mul(p.depth)?,
            p.rows.checked_mul(p.units)?,
        ))
    })();
    let ok = lens == Some((input.len(), weights.len(), output.len()))
        && bias.is_none_or(|b| b.len() == p.units);
    if !ok || p.units == 0 {
        return ok;
    }
    // SAFETY: `t` proves NEON; the slice lengths match the shapes (checked above).
    unsafe { run_f32(t, p, input, weights, bias, output) };
    true
}

/// # Safety
/// NEON available; `input` holds `rows · depth`, `weights` `units · depth`, `output`
/// `rows · units` floats, `units ≥ 1`.
#[target_feature(enable = "neon")]
unsafe fn run_f32(
    _t: Neon,
    p: &FullyConnectedParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let (k, units) = (p.depth, p.units);
    let k8 = k / 8 * 8;
    let k4 = k / 4 * 4;
    let w = weights.as_ptr();
    for m in 0..p.rows {
        let xrow = &input[m * k..(m + 1) * k];
        let x = xrow.as_ptr();
        let mut n = 0;
        while n < units {
            let nb = (units - n).min(4);
            // Rows past `units` repeat the last one; their sums are not stored.
            // SAFETY: unit `min(n + j, units − 1)` has `k` floats.
            let wr: [*const f32; 4] =
                core::array::from_fn(|j| unsafe { w.add((n + j).min(units - 1) * k) });
            let mut acc = [[vdupq_n_f32(0.0); 2]; 4];
            let mut kk = 0;
            while kk < k8 {
                // SAFETY: floats `kk .. kk + 8 ≤ k` of the input row and of each weight row.
                unsafe {
                    let x0 = vld1q_f32(x.add(kk));
                    let x1 = vld1q_f32(x.add(kk + 4));
                    for (a, &r) in acc.iter_mut().zip(&wr) {
                        a[0] = vfmaq_f32(a[0], x0, vld1q_f32(r.add(kk)));
                        a[1] = vfmaq_f32(a[1], x1, vld1q_f32(r.add(kk + 4)));
                    }
                }
                kk += 8;
            }
            if kk < k4 {
                // SAFETY: floats `kk .. kk + 4 ≤ k`.
                unsafe {
                    let x0 = vld1q_f32(x.add(kk));
                    for (a, &r) in acc.iter_mut().zip(&wr) {
                        a[0] = vfmaq_f32(a[0], x0, vld1q_f32(r.add(kk)));
                    }
                }
            }
            for j in 0..nb {
                let mut s = vaddvq_f32(vaddq_f32(acc[j][0], acc[j][1]));
                let wrow = &weights[(n + j) * k..(n + j + 1) * k];
                for (&xv, &wv) in xrow[k4..].iter().zip(&wrow[k4..]) {
                    s += xv * wv;
                }
                let b = bias.and_then(|b| b.get(n + j)).copied().unwrap_or(0.0);
                if let Some(o) = output.get_mut(m * units + n + j) {
                    *o = p.activation.apply(b + s);
                }
            }
            n += nb;
        }
    }
}
