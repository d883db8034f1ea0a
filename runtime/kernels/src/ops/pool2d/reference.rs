//! Portable scalar references for max and average pooling (NHWC).
//!
//! For each output pixel the window's taps inside the input are found once (a contiguous range
//! per axis), then the channel loop, contiguous in NHWC, is innermost.
//!
//! Edge cases the contract leaves open: a max-pooling window with no tap inside the input
//! yields `-inf` (then the activation); an average-pooling window whose divisor would be 0
//! yields 0. Neither happens for shapes ONNX accepts (pads smaller than the kernel). NaN inputs
//! are skipped by max pooling (`x > max` is false), as in ONNX's reference and ONNX Runtime.
use super::Pool2dParams;
use crate::ops::util::{sub, sub_mut, tap_range};

/// Window geometry of one output pixel: the first input row/column it covers (may be negative)
/// and the ranges of its taps that fall inside the input.
pub(super) struct Window {
    pub(super) kh: (usize, usize),
    pub(super) kw: (usize, usize),
    pub(super) ih0: isize,
    pub(super) iw0: isize,
}

#[inline(always)]
pub(super) fn window(p: &Pool2dParams, oh: usize, ow: usize) -> Window {
    let ih0 = (oh * p.stride_h) as isize - p.pad_top as isize;
    let iw0 = (ow * p.stride_w) as isize - p.pad_left as isize;
    Window {
        kh: tap_range(ih0, p.dilation_h, p.kernel_h, 0, p.in_h as isize),
        kw: tap_range(iw0, p.dilation_w, p.kernel_w, 0, p.in_w as isize),
        ih0,
        iw0,
    }
}

fn debug_check(p: &Pool2dParams, input: &[f32], output: &[f32]) {
    debug_assert!(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1);
    debug_assert_eq!(input.len(), p.batch * p.in_h * p.in_w * p.channels);
    debug_assert_eq!(output.len(), p.batch * p.out_h * p.out_w * p.channels);
}

/// Calls `f(input pixel)` for every tap of the window inside the input, in (kh, kw) order.
#[inline(always)]
pub(super) fn for_each_tap<'a, T>(
    p: &Pool2dParams,
    input: &'a [T],
    n: usize,
    w: &Window,
    mut f: impl FnMut(&'a [T]),
) {
    for kh in w.kh.0..w.kh.1 {
        let ih = (w.ih0 + (kh * p.dilation_h) as isize) as usize;
        let row = (n * p.in_h + ih) * p.in_w;
        for kw in w.kw.0..w.kw.1 {
            let iw = (w.iw0 + (kw * p.dilation_w) as isize) as usize;
            f(sub(input, (row + iw) * p.channels, p.channels));
        }
    }
}

/// The average-pooling divisor of a window: its taps inside the input, or with
/// `count_include_pad` inside the padded input `[-pad_top, in_h + pad_bottom)` (likewise for
/// width), so that ceil-mode windows that run past it are clipped.
#[inline(always)]
pub(super) fn divisor(p: &Pool2dParams, w: &Window) -> usize {
    if p.count_include_pad {
        let top = -(p.pad_top as isize);
        let bottom = (p.in_h + p.pad_bottom) as isize;
        let left = -(p.pad_left as isize);
        let right = (p.in_w + p.pad_right) as isize;
        let (h0, h1) = tap_range(w.ih0, p.dilation_h, p.kernel_h, top, bottom);
        let (w0, w1) = tap_range(w.iw0, p.dilation_w, p.kernel_w, left, right);
        (h1 - h0) * (w1 - w0)
    } else {
        (w.kh.1 - w.kh.0) * (w.kw.1 - w.kw.0)
    }
}

pub(super) fn max_pool2d_f32_reference(p: &Pool2dParams, input: &[f32], output: &mut [f32]) {
    debug_check(p, input, output);
    for n in 0..p.batch {
        for oh in 0..p.out_h {
            for ow in 0..p.out_w {
                let w = window(p, oh, ow);
                let out_px = sub_mut(
                    output,
                    ((n * p.out_h + oh) * p.out_w + ow) * p.channels,
                    p.channels,
                );
                out_px.fill(f32::NEG_INFINITY);
                for_each_tap(p, input, n, &w, |px| {
                    for (o, &x) in out_px.iter_mut().zip(px) {
                        if x > *o {
                            *o = x;
                        }
                    }
                });
                p.activation.apply_slice(out_px);
            }
        }
    }
}

pub(super) fn avg_pool2d_f32_reference(p: &Pool2dParams, input: &[f32], output: &mut [f32]) {
    debug_check(p, input, output);
    for n in 0..p.batch {
        for oh in 0..p.out_h {
            for ow in 0..p.out_w {
                let w = window(p, oh, ow);
                let count = divisor(p, &w);
                let out_px = sub_mut(
                    output,
                    ((n * p.out_h + oh) * p.out_w + ow) * p.channels,
                    p.channels,
                );
                out_px.fill(0.0);
                for_each_tap(p, input, n, &w, |px| {
                    for (o, &x) in out_px.iter_mut().zip(px) {
                        *o += x;
                    }
                });
                if count == 0 {
                    out_px.fill(0.0);
                } else {
                    let c = count as f32;
                    for o in out_px.iter_mut() {
                        *o /= c;
                    }
                }
                p.activation.apply_slice(out_px);
            }
        }
    }
}
