//! Portable scalar reference for int8 bilinear resize: TFLite's `ResizeBilinearInteger`
//! (`kernels/internal/reference/resize_bilinear.h`, the kernel LiteRT and TFLite Micro run for
//! int8), on NHWC `[N, H, W, C]` with H and W resized.
//!
//! No floating point: the ratio input/output of each axis is a Q10 number rounded half up,
//! `scale_10 = (1024·in + out/2) / out` (`align_corners`: `(1024·(in−1) + (out−1)/2) / (out−1)`
//! when `out > 1`); output index `y` maps to the Q10 coordinate `y·scale_10`, plus
//! `scale_10/2 − 512` with half-pixel centres; the neighbours are `y0 = max(coord / 1024, 0)`
//! (division truncating toward zero) and `y1 = min(⌈coord / 1024⌉, in − 1)`, with Q10 weights
//! `1024 − (coord − 1024·y0)` and `coord − 1024·y0`. The four products of the raw int8 values
//! (zero points cancel: the weights sum to 2^20) with the Q20 weights are summed in 64 bits and
//! rounded to nearest, ties away from zero (`(sum ± 2^19) / 2^20`: TFLite's default build; the
//! `TFLITE_SINGLE_ROUNDING` build rounds ties up instead).
use super::{CoordinateMode, ResizeParams};
use crate::ops::util::{sub, sub_mut};

/// `scale_10` of one axis.
fn scale_10(in_len: usize, out_len: usize, align_corners: bool) -> i64 {
    let (i, o) = (in_len as i64, out_len.max(1) as i64);
    if align_corners && o > 1 {
        ((1 << 10) * (i - 1) + (o - 1) / 2) / (o - 1)
    } else {
        ((1 << 10) * i + o / 2) / o
    }
}

/// TFLite's `ComputeInterpolationValuesInteger`: (Q10 coordinate, lower, upper neighbour).
fn interpolation(
    value: usize,
    scale_10: i64,
    half_pixel: bool,
    in_len: usize,
) -> (i64, usize, usize) {
    let scaled = if half_pixel {
        value as i64 * scale_10 + scale_10 / 2 - (1 << 9)
    } else {
        value as i64 * scale_10
    };
    // Rust's `/` truncates toward zero, as C++'s. TFLite does not bound `lower` above; it can
    // pass the last row only for extreme downscales (out ≥ 1024·in/out + 1024), where TFLite
    // reads outside the input: mote clamps it (both neighbours are then the last row).
    let last = in_len as i64 - 1;
    let lower = (scaled / (1 << 10)).max(0).min(last);
    let upper = ((scaled + (1 << 10) - 1) / (1 << 10)).min(last);
    (scaled, lower.max(0) as usize, upper.max(0) as usize)
}

pub(super) fn resize_bilinear_s8_reference(p: &ResizeParams, input: &[i8], output: &mut [i8]) {
    let [n, in_h, in_w, c] = [
        p.input.dims[0],
        p.input.dims[1],
        p.input.dims[2],
        p.input.dims[3],
    ];
    let [out_h, out_w] = [p.out.dims[1], p.out.dims[2]];
    debug_assert_eq!(input.len(), p.input.elements());
    debug_assert_eq!(output.len(), p.out.elements());
    if in_h == 0 || in_w == 0 {
        return;
    }
    let align = p.coordinate == CoordinateMode::AlignCorners;
    let half = matches!(
        p.coordinate,
        CoordinateMode::HalfPixel | CoordinateMode::PytorchHalfPixel
    );
    let (sh, sw) = (scale_10(in_h, out_h, align), scale_10(in_w, out_w, align));
    let mut out_off = 0usize;
    for b in 0..n {
        let image = b * in_h * in_w * c;
        for y in 0..out_h {
            let (iy, y0, y1) = interpolation(y, sh, half, in_h);
            let wy1 = iy - (1 << 10) * y0 as i64;
            let wy0 = (1 << 10) - wy1;
            for x in 0..out_w {
                let (ix, x0, x1) = interpolation(x, sw, half, in_w);
                let wx1 = ix - (1 << 10) * x0 as i64;
                let wx0 = (1 << 10) - wx1;
                let at = |yy: usize, xx: usize| sub(input, image + (yy * in_w + xx) * c, c);
                let (ll, lu, rl, ru) = (at(y0, x0), at(y1, x0), at(y0, x1), at(y1, x1));
                let out = sub_mut(output, out_off, c);
                for (k, o) in out.iter_mut().enumerate() {
                    let v = |row: &[i8]| row.get(k).copied().unwrap_or(0) as i64;
                    let sum = v(ll) * wy0 * wx0
                        + v(lu) * wy1 * wx0
                        + v(rl) * wy0 * wx1
                        + v(ru) * wy1 * wx1;
                    let round = if sum > 0 { 1 << 19 } else { -(1 << 19) };
                    *o = ((sum + round) / (1 << 20)).clamp(-128, 127) as i8;
                }
                out_off += c;
            }
        }
    }
}
