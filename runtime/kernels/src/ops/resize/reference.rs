//! Portable scalar reference for Resize (nearest and multi-linear).
//!
//! Semantics follow ONNX's reference implementation (`onnx/reference/ops/op_resize.py`) and
//! ONNX Runtime:
//! - an axis whose scale is exactly 1 and whose length is unchanged is copied as is (ONNX's
//!   reference skips such axes; this matters only for `tf_half_pixel_for_nn`, which would
//!   otherwise shift by half a pixel);
//! - nearest: `x = floor(c)` when `c` is an integer, else rounding per [`NearestMode`] on the
//!   fractional part (`round_prefer_floor`: up only when the fraction is > 0.5; `..._ceil`: when
//!   ≥ 0.5; `floor`; `ceil`), then the index is clamped to `[0, in_len − 1]`;
//! - linear: the coordinate is clamped to `[0, in_len − 1]`, then the two neighbours `floor(c)`
//!   and `floor(c) + 1` (clamped) are blended with weights `1 − frac` and `frac`. This equals
//!   ONNX's reference, which edge-pads the data instead of clamping. Over several resized axes
//!   the weights multiply (multi-linear); a neighbour of weight 0 is not read.
//!
//! Coordinates are computed in f32 from the f32 scales, as ONNX Runtime does (ONNX's Python
//! reference uses f64, which can differ on exact `.5` ties of nearest rounding).
//!
//! Loop nest: an odometer walks the output up to the last resized axis; the trailing
//! unchanged axes (the channels, in NHWC) form a contiguous block that is copied (nearest) or
//! blended (linear) as a whole. The sampling of each axis is recomputed only when its index
//! changes.
use super::{CoordinateMode, NearestMode, ResizeMode, ResizeParams};
use crate::ops::util::{sub, sub_mut, Odometer};
use crate::MAX_RANK;

/// How one output index of one axis samples the input: the lower neighbour, the upper
/// neighbour and the weight of the upper one (nearest: `lo` only, weight 0).
#[derive(Clone, Copy, Default)]
struct Sample {
    lo: usize,
    hi: usize,
    w_hi: f32,
}

/// True when the axis is left unchanged (and is copied without coordinate mapping).
#[inline]
fn is_identity(p: &ResizeParams, axis: usize) -> bool {
    p.input.dims[axis] == p.out.dims[axis] && p.scales[axis] == 1.0
}

/// Input coordinate of output index `x` (see the module contract).
#[inline]
fn source_coordinate(
    mode: CoordinateMode,
    x: usize,
    scale: f32,
    in_len: usize,
    out_len: usize,
) -> f32 {
    let x = x as f32;
    let in_f = in_len as f32;
    match mode {
        CoordinateMode::HalfPixel => (x + 0.5) / scale - 0.5,
        CoordinateMode::PytorchHalfPixel => {
            if out_len > 1 {
                (x + 0.5) / scale - 0.5
            } else {
                0.0
            }
        }
        CoordinateMode::Asymmetric => x / scale,
        CoordinateMode::AlignCorners => {
            if out_len > 1 {
                x * (in_f - 1.0) / (out_len as f32 - 1.0)
            } else {
                0.0
            }
        }
        CoordinateMode::TfHalfPixelForNn => (x + 0.5) / scale,
        CoordinateMode::HalfPixelSymmetric => {
            // ONNX opset 19: map the centre of the (fractional) resized extent `scale · in_len`
            // to the centre of the integer output.
            let output_width = scale * in_f;
            let adjustment = out_len as f32 / output_width;
            let center = in_f / 2.0;
            let offset = center * (1.0 - adjustment);
            offset + (x + 0.5) / scale - 0.5
        }
    }
}

/// Sampling of output index `x` on `axis`.
#[inline]
fn sample(p: &ResizeParams, axis: usize, x: usize) -> Sample {
    if is_identity(p, axis) {
        return Sample {
            lo: x,
            hi: x,
            w_hi: 0.0,
        };
    }
    let in_len = p.input.dims[axis];
    let max = in_len.saturating_sub(1) as f32;
    let c = source_coordinate(p.coordinate, x, p.scales[axis], in_len, p.out.dims[axis]);
    match p.mode {
        ResizeMode::Nearest => {
            let f = libm::floorf(c);
            let frac = c - f;
            let i = if frac == 0.0 {
                f
            } else {
                let up = match p.nearest {
                    NearestMode::RoundPreferFloor => frac > 0.5,
                    NearestMode::RoundPreferCeil => frac >= 0.5,
                    NearestMode::Floor => false,
                    NearestMode::Ceil => true,
                };
                if up {
                    f + 1.0
                } else {
                    f
                }
            };
            // `as` saturates (and maps NaN to 0); the clamp keeps the index inside the input.
            let i = i.max(0.0).min(max) as usize;
            Sample {
                lo: i,
                hi: i,
                w_hi: 0.0,
            }
        }
        ResizeMode::Linear => {
            let c = c.max(0.0).min(max);
            let f = libm::floorf(c);
            let lo = f as usize;
            Sample {
                lo,
                hi: (lo + 1).min(in_len.saturating_sub(1)),
                w_hi: c - f,
            }
        }
    }
}

pub(super) fn resize_f32_reference(p: &ResizeParams, input: &[f32], output: &mut [f32]) {
    let rank = p.input.rank.clamp(1, MAX_RANK);
    debug_assert_eq!(p.input.rank, p.out.rank);
    debug_assert!(p.scales[..rank].iter().all(|&s| s > 0.0));
    debug_assert_eq!(input.len(), p.input.elements());
    debug_assert_eq!(output.len(), p.out.elements());

    let Some(last) = (0..rank).rev().find(|&a| !is_identity(p, a)) else {
        for (o, &x) in output.iter_mut().zip(input) {
            *o = x;
        }
        return;
    };
    // Trailing unchanged axes: a contiguous block, identical in input and output.
    let inner: usize = p.out.dims[last + 1..rank].iter().product();
    let in_strides = p.input.strides();

    let mut samples = [Sample::default(); MAX_RANK];
    for (axis, s) in samples.iter_mut().enumerate().take(last + 1) {
        *s = sample(p, axis, 0);
    }
    let mut od = Odometer::<0>::new(&p.out.dims[..=last], [], []);
    let mut out_off = 0usize;
    loop {
        let out_block = sub_mut(output, out_off, inner);
        let mut base = 0usize;
        for (s, st) in samples.iter().zip(in_strides.iter()).take(last + 1) {
            base += s.lo * st;
        }
        match p.mode {
            ResizeMode::Nearest => {
                for (o, &x) in out_block.iter_mut().zip(sub(input, base, inner)) {
                    *o = x;
                }
            }
            ResizeMode::Linear => {
                // Axes that blend two neighbours here.
                let mut two = [0usize; MAX_RANK];
                let mut k = 0usize;
                for (axis, s) in samples.iter().enumerate().take(last + 1) {
                    if s.w_hi != 0.0 {
                        two[k] = axis;
                        k += 1;
                    }
                }
                for corner in 0..(1usize << k) {
                    let mut w = 1.0f32;
                    let mut off = base;
                    for (bit, &axis) in two[..k].iter().enumerate() {
                        let s = samples[axis];
                        if corner & (1 << bit) != 0 {
                            w *= s.w_hi;
                            off += (s.hi - s.lo) * in_strides[axis];
                        } else {
                            w *= 1.0 - s.w_hi;
                        }
                    }
                    let src = sub(input, off, inner);
                    if corner == 0 {
                        for (o, &x) in out_block.iter_mut().zip(src) {
                            *o = w * x;
                        }
                    } else {
                        for (o, &x) in out_block.iter_mut().zip(src) {
                            *o += w * x;
                        }
                    }
                }
            }
        }
        out_off += inner;
        match od.advance() {
            None => break,
            Some(changed) => {
                for (axis, s) in samples.iter_mut().enumerate().take(last + 1).skip(changed) {
                    *s = sample(p, axis, od.idx[axis]);
                }
            }
        }
    }
}

/// Nearest resize of any element type (int8 tensors keep their quantization: picking elements
/// is exact). The same sampling as [`resize_f32_reference`] in nearest mode.
pub(super) fn resize_nearest_reference<T: Copy>(p: &ResizeParams, input: &[T], output: &mut [T]) {
    let rank = p.input.rank.clamp(1, MAX_RANK);
    debug_assert_eq!(input.len(), p.input.elements());
    debug_assert_eq!(output.len(), p.out.elements());
    let Some(last) = (0..rank).rev().find(|&a| !is_identity(p, a)) else {
        for (o, &x) in output.iter_mut().zip(input) {
            *o = x;
        }
        return;
    };
    let inner: usize = p.out.dims[last + 1..rank].iter().product();
    let in_strides = p.input.strides();
    let nearest = ResizeParams {
        mode: ResizeMode::Nearest,
        ..*p
    };
    let mut samples = [Sample::default(); MAX_RANK];
    for (axis, s) in samples.iter_mut().enumerate().take(last + 1) {
        *s = sample(&nearest, axis, 0);
    }
    let mut od = Odometer::<0>::new(&p.out.dims[..=last], [], []);
    let mut out_off = 0usize;
    loop {
        let mut base = 0usize;
        for (s, st) in samples.iter().zip(in_strides.iter()).take(last + 1) {
            base += s.lo * st;
        }
        for (o, &x) in sub_mut(output, out_off, inner)
            .iter_mut()
            .zip(sub(input, base, inner))
        {
            *o = x;
        }
        out_off += inner;
        match od.advance() {
            None => break,
            Some(changed) => {
                for (axis, s) in samples.iter_mut().enumerate().take(last + 1).skip(changed) {
                    *s = sample(&nearest, axis, od.idx[axis]);
                }
            }
        }
    }
}
