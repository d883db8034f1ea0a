//! Portable scalar references for int8 max and average pooling, bit-exact with TFLite's
//! `reference_integer_ops::MaxPool` / `AveragePool` (`kernels/internal/reference/integer_ops/
//! pooling.h`) for the geometry TFLite has (no dilation, padding never counted), and extending
//! them to mote's pooling geometry (dilation, `count_include_pad`, ceil-mode clipping) exactly as
//! the f32 reference does: same windows ([`window`], [`for_each_tap`]), same divisor
//! ([`divisor`]).
//!
//! Average: the window sum (64 bits, as TFLite) is divided with TFLite's rounding,
//! `sum > 0 ? (sum + count/2) / count : (sum − count/2) / count` in truncating integer division
//! (round to nearest, ties away from zero). Max: the largest tap, starting from −128. Both are
//! then clamped to `[act_min, act_max]`. Degenerate windows (never produced by valid shapes): a
//! max window with no tap gives `clamp(−128)`; an average window whose divisor is 0 gives
//! `clamp(0)` (TFLite returns an error).
use super::reference::{divisor, for_each_tap, window};
use super::Pool2dS8Params;
use crate::ops::util::{clamp_s8, sub_mut};

fn debug_check(p: &Pool2dS8Params, input: &[i8], output: &[i8]) {
    let g = &p.geometry;
    debug_assert!(g.stride_h >= 1 && g.stride_w >= 1 && g.dilation_h >= 1 && g.dilation_w >= 1);
    debug_assert_eq!(input.len(), g.batch * g.in_h * g.in_w * g.channels);
    debug_assert_eq!(output.len(), g.batch * g.out_h * g.out_w * g.channels);
}

pub(super) fn max_pool2d_s8_reference(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    debug_check(p, input, output);
    let g = &p.geometry;
    for n in 0..g.batch {
        for oh in 0..g.out_h {
            for ow in 0..g.out_w {
                let w = window(g, oh, ow);
                let out_px = sub_mut(
                    output,
                    ((n * g.out_h + oh) * g.out_w + ow) * g.channels,
                    g.channels,
                );
                out_px.fill(i8::MIN);
                for_each_tap(g, input, n, &w, |px| {
                    for (o, &x) in out_px.iter_mut().zip(px) {
                        *o = (*o).max(x);
                    }
                });
                for o in out_px.iter_mut() {
                    *o = clamp_s8(i32::from(*o), p.act_min, p.act_max);
                }
            }
        }
    }
}

/// TFLite's rounded division of a window sum by its tap count.
#[inline(always)]
pub(super) fn rounded_average(sum: i64, count: i64) -> i64 {
    if sum > 0 {
        (sum + count / 2) / count
    } else {
        (sum - count / 2) / count
    }
}

/// Channels summed per pass of the window: the sums live on the stack (no heap), so wide
/// tensors are processed in chunks of this many channels.
const CHUNK: usize = 64;

pub(super) fn avg_pool2d_s8_reference(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    debug_check(p, input, output);
    let g = &p.geometry;
    for n in 0..g.batch {
        for oh in 0..g.out_h {
            for ow in 0..g.out_w {
                let w = window(g, oh, ow);
                let count = divisor(g, &w) as i64;
                let out_px = sub_mut(
                    output,
                    ((n * g.out_h + oh) * g.out_w + ow) * g.channels,
                    g.channels,
                );
                for (chunk, out) in out_px.chunks_mut(CHUNK).enumerate() {
                    let c0 = chunk * CHUNK;
                    let mut sums = [0i64; CHUNK];
                    for_each_tap(g, input, n, &w, |px| {
                        let px = px.get(c0..).unwrap_or(&[]);
                        for (s, &x) in sums.iter_mut().zip(px).take(out.len()) {
                            *s += i64::from(x);
                        }
                    });
                    for (o, &s) in out.iter_mut().zip(sums.iter()) {
                        let avg = if count == 0 {
                            0
                        } else {
                            rounded_average(s, count)
                        };
                        *o = clamp_s8(
                            avg.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                            p.act_min,
                            p.act_max,
                        );
                    }
                }
            }
        }
    }
}
