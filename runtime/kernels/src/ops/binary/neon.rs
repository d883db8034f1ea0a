//! int8 Add/Sub and Mul, element by element (no broadcasting), with NEON (aarch64):
//! `add_s8_neon`, `mul_s8_neon`.
//!
//! 16 elements per step, widened to 4 vectors of i32, through the reference's arithmetic: the
//! vector `multiply_by_quantized_multiplier` (double rounding, `SQRDMULH` + rounding shift, see
//! `arch::aarch64`) for the input rescalings and the output, then the output stage. A step with a
//! lane whose output left shift overflows is recomputed by the reference's scalar element
//! function, so results are bit-exact. The tail (< 16) goes through a stack copy. Single rounding
//! and broadcasting are left to the reference.

use core::arch::aarch64::*;

use super::reference_s8::{add_s8_element, mul_s8_element};
use super::{add_s8_vector_range, mul_s8_vector_range, AddS8Params, BinaryOp, MulS8Params};
use crate::arch::aarch64::{narrow16, widen16, Neon, Requant4};
use crate::arch::OutputStage;

/// `add_s8_neon`: `false` (nothing written) when unavailable or out of range.
pub(crate) fn add_s8(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Neon::get() else {
        return false;
    };
    let ok = add_s8_vector_range(p, a.len(), b.len(), output.len());
    let Some(st) = OutputStage::new(p.output_offset, p.act_min, p.act_max) else {
        return false;
    };
    if !ok {
        return false;
    }
    // SAFETY: `t` proves NEON; `add_s8_vector_range` checked the three slices have equal lengths.
    unsafe { add_run(t, p, &st, a, b, output) };
    true
}

/// Runs `step` on 16-element chunks of `a`, `b`, writing `output`; the tail through copies.
/// `step` returns the 16 outputs and whether any lane needs the scalar function, in which case
/// `scalar` recomputes the chunk.
///
/// # Safety
/// NEON available; `a`, `b`, `output` of equal length.
#[target_feature(enable = "neon")]
#[inline]
unsafe fn chunks16(
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
    step: impl Fn(int8x16_t, int8x16_t) -> (int8x16_t, bool),
    scalar: impl Fn(i8, i8) -> i8,
) {
    let n = output.len();
    let mut i = 0;
    while i < n {
        let len = (n - i).min(16);
        let (mut ta, mut tb, mut to) = ([0i8; 16], [0i8; 16], [0i8; 16]);
        ta[..len].copy_from_slice(&a[i..i + len]);
        tb[..len].copy_from_slice(&b[i..i + len]);
        // SAFETY: the stack copies hold 16 bytes each.
        let (v, slow) = unsafe { step(vld1q_s8(ta.as_ptr()), vld1q_s8(tb.as_ptr())) };
        if slow {
            for j in 0..len {
                to[j] = scalar(ta[j], tb[j]);
            }
        } else {
            // SAFETY: `to` holds 16 bytes.
            unsafe { vst1q_s8(to.as_mut_ptr(), v) };
        }
        output[i..i + len].copy_from_slice(&to[..len]);
        i += 16;
    }
}

/// Whether any lane of the four masks is set.
#[target_feature(enable = "neon")]
#[inline]
fn any4(m: [uint32x4_t; 4]) -> bool {
    vmaxvq_u32(vorrq_u32(vorrq_u32(m[0], m[1]), vorrq_u32(m[2], m[3]))) != 0
}

/// # Safety
/// NEON available; `a`, `b`, `output` of equal length; parameters checked by [`add_s8`].
#[target_feature(enable = "neon")]
unsafe fn add_run(
    _t: Neon,
    p: &AddS8Params,
    st: &OutputStage,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
) {
    let r1 = Requant4::splat(p.input1_multiplier, p.input1_shift);
    let r2 = Requant4::splat(p.input2_multiplier, p.input2_shift);
    let ro = Requant4::splat(p.output_multiplier, p.output_shift);
    let off1 = vdupq_n_s32(p.input1_offset);
    let off2 = vdupq_n_s32(p.input2_offset);
    let ls = vdupq_n_s32(p.left_shift);
    let sub = p.shapes.op == BinaryOp::Sub;
    let step = |xa: int8x16_t, xb: int8x16_t| {
        let (x, y) = (widen16(xa), widen16(xb));
        let mut out = [vdupq_n_s32(0); 4];
        let mut ovf = [vdupq_n_u32(0); 4];
        for l in 0..4 {
            let xs = vshlq_s32(vaddq_s32(x[l], off1), ls);
            let ys = vshlq_s32(vaddq_s32(y[l], off2), ls);
            // Right shifts only: no overflow lanes.
            let (xs, _) = r1.mbqm(xs);
            let (ys, _) = r2.mbqm(ys);
            let raw = if sub {
                vsubq_s32(xs, ys)
            } else {
                vaddq_s32(xs, ys)
            };
            (out[l], ovf[l]) = ro.apply(raw, st);
        }
        (narrow16(out), any4(ovf))
    };
    // SAFETY: forwarded from the caller.
    unsafe { chunks16(a, b, output, step, |x, y| add_s8_element(p, x, y)) }
}

/// `mul_s8_neon`: `false` (nothing written) when unavailable or out of range.
pub(crate) fn mul_s8(p: &MulS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Neon::get() else {
        return false;
    };
    let ok = mul_s8_vector_range(p, a.len(), b.len(), output.len());
    let Some(st) = OutputStage::new(p.output_offset, p.act_min, p.act_max) else {
        return false;
    };
    if !ok {
        return false;
    }
    // SAFETY: as in `add_s8`.
    unsafe { mul_run(t, p, &st, a, b, output) };
    true
}

/// # Safety
/// As [`add_run`], parameters checked by [`mul_s8`].
#[target_feature(enable = "neon")]
unsafe fn mul_run(
    _t: Neon,
    p: &MulS8Params,
    st: &OutputStage,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
) {
    let ro = Requant4::splat(p.output_multiplier, p.output_shift);
    let off1 = vdupq_n_s32(p.input1_offset);
    let off2 = vdupq_n_s32(p.input2_offset);
    let step = |xa: int8x16_t, xb: int8x16_t| {
        let (x, y) = (widen16(xa), widen16(xb));
        let mut out = [vdupq_n_s32(0); 4];
        let mut ovf = [vdupq_n_u32(0); 4];
        for l in 0..4 {
            let prod = vmulq_s32(vaddq_s32(x[l], off1), vaddq_s32(y[l], off2));
            (out[l], ovf[l]) = ro.apply(prod, st);
        }
        (narrow16(out), any4(ovf))
    };
    // SAFETY: forwarded from the caller.
    unsafe { chunks16(a, b, output, step, |x, y| mul_s8_element(p, x, y)) }
}
