extern crate std;

use std::vec;
use std::vec::Vec;

use super::{
    avg_pool2d_f32, avg_pool2d_s8, max_pool2d_f32, max_pool2d_s8, Pool2dParams, Pool2dS8Params,
};
use crate::ops::test_util::{assert_s8_eq, i8s, Rng};
use crate::ops::tflite_vectors::POOL;
use crate::Activation;

#[allow(clippy::too_many_arguments)]
fn geometry(
    (batch, in_h, in_w, channels): (usize, usize, usize, usize),
    (out_h, out_w): (usize, usize),
    (kernel_h, kernel_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    (dilation_h, dilation_w): (usize, usize),
    (pad_top, pad_left, pad_bottom, pad_right): (usize, usize, usize, usize),
    count_include_pad: bool,
) -> Pool2dParams {
    Pool2dParams {
        batch,
        in_h,
        in_w,
        channels,
        out_h,
        out_w,
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        dilation_h,
        dilation_w,
        pad_top,
        pad_left,
        pad_bottom,
        pad_right,
        count_include_pad,
        activation: Activation::None,
    }
}

fn s8(geometry: Pool2dParams) -> Pool2dS8Params {
    Pool2dS8Params {
        geometry,
        act_min: -128,
        act_max: 127,
    }
}

#[test]
fn matches_litert_reference_pooling() {
    for (i, c) in POOL.iter().enumerate() {
        // TFLite pooling: no dilation, padding never counted (SAME's bottom/right padding only
        // matters to count_include_pad).
        let g = geometry(
            (c.batch, c.in_h, c.in_w, c.channels),
            (c.out_h, c.out_w),
            (c.kernel_h, c.kernel_w),
            (c.stride_h, c.stride_w),
            (1, 1),
            (c.pad_top, c.pad_left, 0, 0),
            false,
        );
        let p = Pool2dS8Params {
            act_min: c.act_min,
            act_max: c.act_max,
            ..s8(g)
        };
        let mut y = vec![0x55i8; c.expected.len()];
        if c.avg {
            avg_pool2d_s8(&p, c.input, &mut y);
        } else {
            max_pool2d_s8(&p, c.input, &mut y);
        }
        assert_s8_eq(&y, c.expected, &std::format!("case {i} (avg: {})", c.avg));
    }
}

#[test]
fn average_rounds_half_away_from_zero() {
    // One 1×2 window: the average of two values, ties at every odd sum.
    let g = geometry(
        (1, 1, 2, 1),
        (1, 1),
        (1, 2),
        (1, 1),
        (1, 1),
        (0, 0, 0, 0),
        false,
    );
    let cases: [([i8; 2], i8); 8] = [
        ([0, 1], 1),    // 0.5 -> 1
        ([0, -1], -1),  // -0.5 -> -1
        ([1, 2], 2),    // 1.5 -> 2
        ([-1, -2], -2), // -1.5 -> -2
        ([2, 3], 3),    // 2.5 -> 3
        ([-2, -3], -3), // -2.5 -> -3
        ([127, 127], 127),
        ([-128, -127], -128), // -127.5 -> -128
    ];
    for (x, want) in cases {
        let mut y = [0i8];
        avg_pool2d_s8(&s8(g), &x, &mut y);
        assert_eq!(y[0], want, "{x:?}");
    }
    // Three taps: 1/3 -> 0, 2/3 -> 1, -2/3 -> -1, -4/3 -> -1.
    let g = geometry(
        (1, 1, 3, 1),
        (1, 1),
        (1, 3),
        (1, 1),
        (1, 1),
        (0, 0, 0, 0),
        false,
    );
    for (x, want) in [
        ([0i8, 0, 1], 0i8),
        ([0, 1, 1], 1),
        ([0, -1, -1], -1),
        ([-1, -1, -2], -1),
    ] {
        let mut y = [0i8];
        avg_pool2d_s8(&s8(g), &x, &mut y);
        assert_eq!(y[0], want, "{x:?}");
    }
}

#[test]
fn count_include_pad_and_clamp_by_hand() {
    // 2×2 input, 3×3 window, pad 1 all round, stride 2 (out 1×1 + ceil-mode extra column).
    let x: [i8; 4] = [10, 20, 30, 41];
    // Exclude pad: 101 / 4 = 25.25 -> 25. Include pad: 101 / 9 = 11.2 -> 11.
    let g = geometry(
        (1, 2, 2, 1),
        (1, 1),
        (3, 3),
        (2, 2),
        (1, 1),
        (1, 1, 1, 1),
        false,
    );
    let mut y = [0i8];
    avg_pool2d_s8(&s8(g), &x, &mut y);
    assert_eq!(y, [25]);
    avg_pool2d_s8(
        &s8(Pool2dParams {
            count_include_pad: true,
            ..g
        }),
        &x,
        &mut y,
    );
    assert_eq!(y, [11]);
    // Ceil mode: a second output column whose window starts at column 1 and runs past the padded
    // input [-1, 3): it covers columns 1, 2 (pad) and 3 (clipped): divisor 3 rows × 2 columns.
    let g = geometry(
        (1, 2, 2, 1),
        (1, 2),
        (3, 3),
        (2, 2),
        (1, 1),
        (1, 1, 1, 1),
        true,
    );
    let mut y = [0i8; 2];
    avg_pool2d_s8(&s8(g), &x, &mut y);
    assert_eq!(y, [11, 10]); // (20 + 41) / 6 = 10.17 -> 10
                             // Max with an activation clamp.
    let p = Pool2dS8Params {
        act_min: 15,
        act_max: 35,
        ..s8(g)
    };
    max_pool2d_s8(&p, &x, &mut y);
    assert_eq!(y, [35, 35]);
    max_pool2d_s8(&s8(g), &[-128, -128, -128, -128], &mut y);
    assert_eq!(y, [-128, -128]);
}

/// Naive average-pooling twin: every tap of every window tested against the input (for the sum)
/// and against the padded input (for the `count_include_pad` divisor), TFLite's rounding.
fn naive_avg(g: &Pool2dParams, x: &[i8]) -> Vec<i8> {
    let mut y = Vec::new();
    for n in 0..g.batch {
        for oh in 0..g.out_h {
            for ow in 0..g.out_w {
                for ch in 0..g.channels {
                    let (mut sum, mut inside, mut padded) = (0i64, 0i64, 0i64);
                    for kh in 0..g.kernel_h {
                        for kw in 0..g.kernel_w {
                            let ih =
                                (oh * g.stride_h + kh * g.dilation_h) as i64 - g.pad_top as i64;
                            let iw =
                                (ow * g.stride_w + kw * g.dilation_w) as i64 - g.pad_left as i64;
                            let in_padded = ih >= -(g.pad_top as i64)
                                && ih < (g.in_h + g.pad_bottom) as i64
                                && iw >= -(g.pad_left as i64)
                                && iw < (g.in_w + g.pad_right) as i64;
                            padded += i64::from(in_padded);
                            if ih >= 0 && iw >= 0 && ih < g.in_h as i64 && iw < g.in_w as i64 {
                                inside += 1;
                                sum += x[((n * g.in_h + ih as usize) * g.in_w + iw as usize)
                                    * g.channels
                                    + ch] as i64;
                            }
                        }
                    }
                    let count = if g.count_include_pad { padded } else { inside };
                    let avg = if count == 0 {
                        0
                    } else if sum > 0 {
                        (sum + count / 2) / count
                    } else {
                        (sum - count / 2) / count
                    };
                    y.push(avg.clamp(-128, 127) as i8);
                }
            }
        }
    }
    y
}

#[test]
fn random_geometries_match_twins() {
    // Every geometry the f32 contract allows (dilation, asymmetric and ceil-mode padding,
    // count_include_pad). Max pooling must agree exactly with the f32 kernel on the same values
    // (so the windows are the same); average pooling with the naive twin.
    let mut rng = Rng::new(17);
    for case in 0..crate::ops::test_util::iterations(400) {
        let r = |rng: &mut Rng, lo: i32, hi: i32| rng.int(lo, hi) as usize;
        let (kh, kw) = (r(&mut rng, 1, 3), r(&mut rng, 1, 3));
        let (dh, dw) = (r(&mut rng, 1, 2), r(&mut rng, 1, 2));
        let (sh, sw) = (r(&mut rng, 1, 3), r(&mut rng, 1, 3));
        let pads = (
            r(&mut rng, 0, kh as i32 - 1),
            r(&mut rng, 0, kw as i32 - 1),
            r(&mut rng, 0, kh as i32 - 1),
            r(&mut rng, 0, kw as i32 - 1),
        );
        let (batch, in_h, in_w, c) = (
            r(&mut rng, 1, 2),
            r(&mut rng, 1, 6),
            r(&mut rng, 1, 6),
            r(&mut rng, 1, 70),
        );
        let span_h = dh * (kh - 1) + 1;
        let span_w = dw * (kw - 1) + 1;
        let (ph, pw) = (in_h + pads.0 + pads.2, in_w + pads.1 + pads.3);
        if ph < span_h || pw < span_w {
            continue;
        }
        // Ceil mode half of the time.
        let ceil = rng.below(2) == 0;
        let out = |p: usize, span: usize, s: usize| {
            if ceil {
                (p - span).div_ceil(s) + 1
            } else {
                (p - span) / s + 1
            }
        };
        let (oh, ow) = (out(ph, span_h, sh), out(pw, span_w, sw));
        let include = rng.below(2) == 0;
        let g = geometry(
            (batch, in_h, in_w, c),
            (oh, ow),
            (kh, kw),
            (sh, sw),
            (dh, dw),
            pads,
            include,
        );
        let x = i8s(&mut rng, batch * in_h * in_w * c, -128, 127);
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let n = batch * oh * ow * c;

        let (mut y, mut yf) = (vec![0i8; n], vec![0f32; n]);
        max_pool2d_s8(&s8(g), &x, &mut y);
        max_pool2d_f32(&g, &xf, &mut yf);
        let want: Vec<i8> = yf
            .iter()
            .map(|&v| if v.is_finite() { v as i8 } else { -128 })
            .collect();
        assert_s8_eq(&y, &want, &std::format!("max case {case}"));

        avg_pool2d_s8(&s8(g), &x, &mut y);
        assert_s8_eq(&y, &naive_avg(&g, &x), &std::format!("avg case {case}"));
        // And within half a step of the f32 kernel's mean.
        avg_pool2d_f32(&g, &xf, &mut yf);
        for (&q, &f) in y.iter().zip(&yf) {
            assert!(
                (q as f32 - f).abs() <= 0.5 + 1e-4,
                "avg case {case}: {q} vs {f}"
            );
        }
    }
}
