//! Max and average pooling with aarch64 NEON: `max_pool2d_f32_neon`, `avg_pool2d_f32_neon`,
//! `max_pool2d_s8_neon`, `avg_pool2d_s8_neon`.
//!
//! The AVX2 file's scheme on 128-bit vectors: each output pixel's window walked once per chunk
//! of channels held in registers (16 floats, 64 or 16 int8 channels). `fmax` returns NaN for a
//! NaN operand and `fmaxnm` orders +0 above −0, neither the reference's `if x > o { o = x }`, so
//! the max is a compare and a select (`fcmgt`, `bsl`), as are the clamp activations. int8
//! averages sum in i32 and divide in f32 (`fdiv`, `fcvtzs` truncating), exact below
//! `MAX_AVG_S8_TAPS` taps. Channels left after the last vector take the reference's scalar
//! arithmetic.

use core::arch::aarch64::*;

use super::reference::divisor;
use super::reference_s8::rounded_average;
use super::{
    avg_s8_vector_range, for_each_pixel, for_each_tap_offset, vector_geometry, Pool2dParams,
    Pool2dS8Params,
};
use crate::arch::aarch64::Neon;
use crate::ops::util::clamp_s8;
use crate::Activation;

/// `max_pool2d_f32_neon`: `false` (nothing written) when NEON is unavailable or the slices do
/// not match the geometry.
pub(crate) fn max_pool2d_f32(p: &Pool2dParams, input: &[f32], output: &mut [f32]) -> bool {
    f32_entry::<false>(p, input, output)
}

/// `avg_pool2d_f32_neon` (see [`max_pool2d_f32`]).
pub(crate) fn avg_pool2d_f32(p: &Pool2dParams, input: &[f32], output: &mut [f32]) -> bool {
    f32_entry::<true>(p, input, output)
}

fn f32_entry<const AVG: bool>(p: &Pool2dParams, input: &[f32], output: &mut [f32]) -> bool {
    let Some(t) = Neon::get() else {
        return false;
    };
    if !vector_geometry(p, input.len(), output.len()) {
        return false;
    }
    // SAFETY: `t` proves NEON; `vector_geometry` checked the slice lengths against the shapes.
    unsafe { pool_f32::<AVG>(t, p, input, output) };
    true
}

/// `max_pool2d_s8_neon` (see [`max_pool2d_f32`]).
pub(crate) fn max_pool2d_s8(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Neon::get() else {
        return false;
    };
    if !vector_geometry(&p.geometry, input.len(), output.len()) {
        return false;
    }
    // SAFETY: as in `f32_entry`.
    unsafe { max_s8(t, p, input, output) };
    true
}

/// `avg_pool2d_s8_neon`: as [`max_pool2d_s8`], and declines windows of more than
/// `MAX_AVG_S8_TAPS` taps.
pub(crate) fn avg_pool2d_s8(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Neon::get() else {
        return false;
    };
    if !avg_s8_vector_range(p, input.len(), output.len()) {
        return false;
    }
    // SAFETY: as in `f32_entry`; at most `MAX_AVG_S8_TAPS` taps per window.
    unsafe { avg_s8(t, p, input, output) };
    true
}

/// `x > m ? x : m` per lane (NaN `x` keeps `m`, +0 does not replace −0): the reference's max.
#[target_feature(enable = "neon")]
#[inline]
fn max_like_reference(m: float32x4_t, x: float32x4_t) -> float32x4_t {
    vbslq_f32(vcgtq_f32(x, m), x, m)
}

/// # Safety
/// NEON available; slice lengths checked by `vector_geometry`.
#[target_feature(enable = "neon")]
unsafe fn pool_f32<const AVG: bool>(_t: Neon, p: &Pool2dParams, input: &[f32], output: &mut [f32]) {
    let c = p.channels;
    let x = input.as_ptr();
    let y = output.as_mut_ptr();
    let clamp = p
        .activation
        .clamp_bounds()
        .map(|(lo, hi)| (vdupq_n_f32(lo), vdupq_n_f32(hi)));
    let scalar_act = clamp.is_none() && p.activation != Activation::None;
    let init = vdupq_n_f32(if AVG { 0.0 } else { f32::NEG_INFINITY });
    for_each_pixel(p, |n, o, w| {
        let count = if AVG { divisor(p, w) } else { 0 };
        let div = vdupq_n_f32(count as f32);
        let finish = |acc: float32x4_t| -> float32x4_t {
            let v = match (AVG, count) {
                (false, _) => acc,
                (true, 0) => vdupq_n_f32(0.0),
                (true, _) => vdivq_f32(acc, div),
            };
            match clamp {
                // `max(v, lo)` then `min(·, hi)` as the scalar `Clip`/`Relu` (NaN gives `lo`).
                Some((lo, hi)) => {
                    let m = vbslq_f32(vcgtq_f32(v, lo), v, lo);
                    vbslq_f32(vcltq_f32(m, hi), m, hi)
                }
                None => v,
            }
        };
        let step = |acc: float32x4_t, v: float32x4_t| {
            if AVG {
                vaddq_f32(acc, v)
            } else {
                max_like_reference(acc, v)
            }
        };
        let mut ch = 0;
        while ch + 16 <= c {
            let mut acc = [init; 4];
            for_each_tap_offset(p, n, w, |at| {
                for (j, a) in acc.iter_mut().enumerate() {
                    // SAFETY: channels `ch + 4j .. + 4 ≤ c` of a tap inside the input.
                    *a = step(*a, unsafe { vld1q_f32(x.add(at + ch + 4 * j)) });
                }
            });
            for (j, a) in acc.iter().enumerate() {
                // SAFETY: channels `ch + 4j .. + 4 ≤ c` of output pixel `o`.
                unsafe { vst1q_f32(y.add(o + ch + 4 * j), finish(*a)) };
            }
            ch += 16;
        }
        while ch + 4 <= c {
            let mut acc = init;
            for_each_tap_offset(p, n, w, |at| {
                // SAFETY: channels `ch .. ch + 4 ≤ c` of a tap inside the input.
                acc = step(acc, unsafe { vld1q_f32(x.add(at + ch)) });
            });
            // SAFETY: channels `ch .. ch + 4 ≤ c` of output pixel `o`.
            unsafe { vst1q_f32(y.add(o + ch), finish(acc)) };
            ch += 4;
        }
        // Fewer than 4: the reference's arithmetic (its activation too, unless the whole pixel
        // gets it below).
        for k in ch..c {
            let mut v = if AVG { 0.0 } else { f32::NEG_INFINITY };
            for_each_tap_offset(p, n, w, |at| {
                // SAFETY: channel `k < c` of a tap inside the input.
                let t = unsafe { *x.add(at + k) };
                if AVG {
                    v += t;
                } else if t > v {
                    v = t;
                }
            });
            if AVG {
                v = if count == 0 { 0.0 } else { v / count as f32 };
            }
            if !scalar_act {
                v = p.activation.apply(v);
            }
            // SAFETY: channel `k < c` of output pixel `o`.
            unsafe { *y.add(o + k) = v };
        }
        if scalar_act {
            // SAFETY: the `c` floats of output pixel `o`.
            let px = unsafe { core::slice::from_raw_parts_mut(y.add(o), c) };
            p.activation.apply_slice(px);
        }
    });
}

/// # Safety
/// NEON available; slice lengths checked by `vector_geometry`.
#[target_feature(enable = "neon")]
unsafe fn max_s8(_t: Neon, q: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    let p = &q.geometry;
    let c = p.channels;
    let x = input.as_ptr();
    let y = output.as_mut_ptr();
    // `clamp_s8` of a value already in i8: saturating both bounds to i8 first gives the same.
    let (lo8, hi8) = (
        q.act_min.clamp(-128, 127) as i8,
        q.act_max.clamp(-128, 127) as i8,
    );
    let (lo, hi) = (vdupq_n_s8(lo8), vdupq_n_s8(hi8));
    let init = vdupq_n_s8(i8::MIN);
    for_each_pixel(p, |n, o, w| {
        let mut ch = 0;
        while ch + 64 <= c {
            let mut acc = [init; 4];
            for_each_tap_offset(p, n, w, |at| {
                for (j, a) in acc.iter_mut().enumerate() {
                    // SAFETY: channels `ch + 16j .. + 16 ≤ c` of a tap inside the input.
                    *a = vmaxq_s8(*a, unsafe { vld1q_s8(x.add(at + ch + 16 * j)) });
                }
            });
            for (j, a) in acc.iter().enumerate() {
                // SAFETY: channels `ch + 16j .. + 16 ≤ c` of output pixel `o`.
                unsafe { vst1q_s8(y.add(o + ch + 16 * j), vminq_s8(vmaxq_s8(*a, lo), hi)) };
            }
            ch += 64;
        }
        while ch + 16 <= c {
            let mut acc = init;
            for_each_tap_offset(p, n, w, |at| {
                // SAFETY: channels `ch .. ch + 16 ≤ c` of a tap inside the input.
                acc = vmaxq_s8(acc, unsafe { vld1q_s8(x.add(at + ch)) });
            });
            // SAFETY: channels `ch .. ch + 16 ≤ c` of output pixel `o`.
            unsafe { vst1q_s8(y.add(o + ch), vminq_s8(vmaxq_s8(acc, lo), hi)) };
            ch += 16;
        }
        if ch + 8 <= c {
            let mut acc = vget_low_s8(init);
            for_each_tap_offset(p, n, w, |at| {
                // SAFETY: channels `ch .. ch + 8 ≤ c` of a tap inside the input.
                acc = vmax_s8(acc, unsafe { vld1_s8(x.add(at + ch)) });
            });
            let v = vmin_s8(vmax_s8(acc, vget_low_s8(lo)), vget_low_s8(hi));
            // SAFETY: channels `ch .. ch + 8 ≤ c` of output pixel `o`.
            unsafe { vst1_s8(y.add(o + ch), v) };
            ch += 8;
        }
        // Fewer than 8: the reference's arithmetic.
        for k in ch..c {
            let mut m = i8::MIN;
            // SAFETY: channel `k < c` of a tap inside the input.
            for_each_tap_offset(p, n, w, |at| m = m.max(unsafe { *x.add(at + k) }));
            // SAFETY: channel `k < c` of output pixel `o`.
            unsafe { *y.add(o + k) = clamp_s8(i32::from(m), q.act_min, q.act_max) };
        }
    });
}

/// # Safety
/// NEON available; slice lengths checked by `vector_geometry`; windows of at most
/// `MAX_AVG_S8_TAPS` taps.
#[target_feature(enable = "neon")]
unsafe fn avg_s8(_t: Neon, q: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    let p = &q.geometry;
    let c = p.channels;
    let x = input.as_ptr();
    let y = output.as_mut_ptr();
    let (lo, hi) = (vdupq_n_s32(q.act_min), vdupq_n_s32(q.act_max));
    let zero = vdupq_n_s32(0);
    for_each_pixel(p, |n, o, w| {
        let count = divisor(p, w);
        let half = vdupq_n_s32((count / 2) as i32);
        let div = vdupq_n_f32(count as f32);
        // TFLite's `(sum ± count/2) / count` (truncating), exact in f32 below 2^24
        // (`MAX_AVG_S8_TAPS`), then the clamp; a window without taps gives 0.
        let finish = |sum: int32x4_t| -> int32x4_t {
            let q = if count == 0 {
                zero
            } else {
                let signed = vbslq_s32(vcltq_s32(sum, zero), vnegq_s32(half), half);
                let rounded = vaddq_s32(sum, signed);
                vcvtq_s32_f32(vdivq_f32(vcvtq_f32_s32(rounded), div))
            };
            vminq_s32(vmaxq_s32(q, lo), hi)
        };
        // Eight clamped i32 lanes to bytes (saturating: the reference's final clamp to i8).
        let narrow =
            |a: int32x4_t, b: int32x4_t| vqmovn_s16(vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)));
        let mut ch = 0;
        while ch + 16 <= c {
            let mut acc = [zero; 4];
            for_each_tap_offset(p, n, w, |at| {
                // SAFETY: channels `ch .. ch + 16 ≤ c` of a tap inside the input.
                let v = unsafe { vld1q_s8(x.add(at + ch)) };
                let (l, h) = (vmovl_s8(vget_low_s8(v)), vmovl_s8(vget_high_s8(v)));
                acc[0] = vaddw_s16(acc[0], vget_low_s16(l));
                acc[1] = vaddw_s16(acc[1], vget_high_s16(l));
                acc[2] = vaddw_s16(acc[2], vget_low_s16(h));
                acc[3] = vaddw_s16(acc[3], vget_high_s16(h));
            });
            let lo8 = narrow(finish(acc[0]), finish(acc[1]));
            let hi8 = narrow(finish(acc[2]), finish(acc[3]));
            // SAFETY: channels `ch .. ch + 16 ≤ c` of output pixel `o`.
            unsafe { vst1q_s8(y.add(o + ch), vcombine_s8(lo8, hi8)) };
            ch += 16;
        }
        if ch + 8 <= c {
            let mut acc = [zero; 2];
            for_each_tap_offset(p, n, w, |at| {
                // SAFETY: channels `ch .. ch + 8 ≤ c` of a tap inside the input.
                let l = vmovl_s8(unsafe { vld1_s8(x.add(at + ch)) });
                acc[0] = vaddw_s16(acc[0], vget_low_s16(l));
                acc[1] = vaddw_s16(acc[1], vget_high_s16(l));
            });
            // SAFETY: channels `ch .. ch + 8 ≤ c` of output pixel `o`.
            unsafe { vst1_s8(y.add(o + ch), narrow(finish(acc[0]), finish(acc[1]))) };
            ch += 8;
        }
        // Fewer than 8: the reference's arithmetic.
        for k in ch..c {
            let mut sum = 0i64;
            // SAFETY: channel `k < c` of a tap inside the input.
            for_each_tap_offset(p, n, w, |at| sum += i64::from(unsafe { *x.add(at + k) }));
            let avg = if count == 0 {
                0
            } else {
                rounded_average(sum, count as i64)
            };
            // SAFETY: channel `k < c` of output pixel `o`; |avg| ≤ 128.
            unsafe { *y.add(o + k) = clamp_s8(avg as i32, q.act_min, q.act_max) };
        }
    });
}
