extern crate std;

use std::vec::Vec;

use super::{resize_f32, CoordinateMode, NearestMode, ResizeMode, ResizeParams};
use crate::ops::test_util::assert_close;
use crate::{Shape, MAX_RANK};

use CoordinateMode::*;
use NearestMode::*;
use ResizeMode::*;

/// NHWC `[1, h, w, c]` → `[1, oh, ow, c]` with the given H and W scales.
fn params(
    (h, w, c): (usize, usize, usize),
    (oh, ow): (usize, usize),
    (sh, sw): (f32, f32),
    mode: ResizeMode,
    coordinate: CoordinateMode,
    nearest: NearestMode,
) -> ResizeParams {
    let mut scales = [1.0; MAX_RANK];
    scales[1] = sh;
    scales[2] = sw;
    ResizeParams {
        input: Shape::new(&[1, h, w, c]),
        out: Shape::new(&[1, oh, ow, c]),
        scales,
        mode,
        coordinate,
        nearest,
    }
}

fn run(p: &ResizeParams, x: &[f32]) -> Vec<f32> {
    let mut y = std::vec![f32::NAN; p.out.elements()];
    resize_f32(p, x, &mut y);
    y
}

// Unless stated otherwise, expected values were produced by ONNX's reference evaluator
// (onnx 1.23.2, `onnx.reference.ReferenceEvaluator`) on a single Resize node, opset 19, over an
// NCHW input `[1, 1, H, W]` with `scales = [1, 1, sh, sw]` (or `sizes`), printed as float32.
// With one channel, NCHW and NHWC bytes coincide. onnxruntime 1.32 gives the same values to
// within 1 ulp, except where noted.

const X2: [f32; 4] = [1.0, 2.0, 3.0, 4.0];

#[test]
fn nearest_2x2_to_4x4() {
    let cases: [(CoordinateMode, NearestMode, [f32; 16]); 4] = [
        (
            HalfPixel,
            RoundPreferFloor,
            [
                1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.,
            ],
        ),
        (
            Asymmetric,
            Floor,
            [
                1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.,
            ],
        ),
        (
            AlignCorners,
            RoundPreferCeil,
            [
                1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.,
            ],
        ),
        (
            HalfPixel,
            Ceil,
            [
                1., 2., 2., 2., 3., 4., 4., 4., 3., 4., 4., 4., 3., 4., 4., 4.,
            ],
        ),
    ];
    for (coord, nearest, expected) in cases {
        let p = params((2, 2, 1), (4, 4), (2.0, 2.0), Nearest, coord, nearest);
        assert_eq!(run(&p, &X2), expected, "{coord:?} {nearest:?}");
    }
}

#[test]
fn bilinear_2x2_to_4x4() {
    let half = [
        1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0,
    ];
    #[rustfmt::skip]
    let cases: [(CoordinateMode, [f32; 16]); 5] = [
        (HalfPixel, half),
        (PytorchHalfPixel, half),
        (HalfPixelSymmetric, half),
        (AlignCorners, [1.0, 1.3333334, 1.6666666, 2.0,
                        1.6666666, 2.0, 2.3333333, 2.6666667,
                        2.3333333, 2.6666667, 3.0, 3.3333333,
                        3.0, 3.3333333, 3.6666667, 4.0]),
        // Coordinates past the last input clamp to it.
        (Asymmetric, [1.0, 1.5, 2.0, 2.0, 2.0, 2.5, 3.0, 3.0, 3.0, 3.5, 4.0, 4.0, 3.0, 3.5, 4.0, 4.0]),
    ];
    for (coord, expected) in cases {
        let p = params(
            (2, 2, 1),
            (4, 4),
            (2.0, 2.0),
            Linear,
            coord,
            RoundPreferFloor,
        );
        assert_close(&run(&p, &X2), &expected, 1e-6);
    }
}

#[test]
fn non_integer_scale_3x3_to_5x5() {
    // scales [1, 1, 1.7, 1.7] on arange(1, 10) 3x3: the output is floor(3 · 1.7) = 5 wide, so
    // half_pixel_symmetric differs from half_pixel.
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let near = [
        1., 1., 2., 3., 3., 1., 1., 2., 3., 3., 4., 4., 5., 6., 6., 7., 7., 8., 9., 9., 7., 7., 8.,
        9., 9.,
    ];
    for coord in [HalfPixelSymmetric, HalfPixel] {
        let p = params(
            (3, 3, 1),
            (5, 5),
            (1.7, 1.7),
            Nearest,
            coord,
            RoundPreferFloor,
        );
        assert_eq!(run(&p, &x), near, "{coord:?}");
    }
    #[rustfmt::skip]
    let symmetric = [1.0, 1.4117647, 2.0, 2.5882354, 3.0,
        2.235294, 2.647059, 3.235294, 3.8235295, 4.2352943,
        4.0, 4.4117646, 5.0, 5.5882354, 6.0,
        5.7647057, 6.1764708, 6.7647057, 7.352941, 7.7647057,
        7.0, 7.4117646, 8.0, 8.588235, 9.0];
    let p = params(
        (3, 3, 1),
        (5, 5),
        (1.7, 1.7),
        Linear,
        HalfPixelSymmetric,
        RoundPreferFloor,
    );
    assert_close(&run(&p, &x), &symmetric, 1e-6);
    #[rustfmt::skip]
    let half = [1.0, 1.382353, 1.9705882, 2.5588236, 3.0,
        2.1470587, 2.5294116, 3.117647, 3.7058823, 4.147059,
        3.9117646, 4.2941175, 4.882353, 5.470588, 5.9117646,
        5.6764703, 6.058823, 6.6470585, 7.235294, 7.6764703,
        7.0, 7.382353, 7.970588, 8.558824, 9.0];
    let p = params(
        (3, 3, 1),
        (5, 5),
        (1.7, 1.7),
        Linear,
        HalfPixel,
        RoundPreferFloor,
    );
    assert_close(&run(&p, &x), &half, 1e-6);
    // align_corners: the contract divides by (out_len − 1) = 4, as onnxruntime 1.32 does (these
    // are onnxruntime's values). ONNX's Python reference divides by (scale · in_len − 1) = 4.1
    // instead and gives 1.0, 1.4878…, … — the two agree whenever scale · in_len is an integer.
    let ort = [
        1.0, 1.5, 2.0, 2.5, 3.0, 2.5, 3.0, 3.5, 4.0, 4.5, 4.0, 4.5, 5.0, 5.5, 6.0, 5.5, 6.0, 6.5,
        7.0, 7.5, 7.0, 7.5, 8.0, 8.5, 9.0,
    ];
    let p = params(
        (3, 3, 1),
        (5, 5),
        (1.7, 1.7),
        Linear,
        AlignCorners,
        RoundPreferFloor,
    );
    assert_close(&run(&p, &x), &ort, 1e-6);
    let p = params(
        (3, 3, 1),
        (5, 5),
        (1.7, 1.7),
        Nearest,
        AlignCorners,
        RoundPreferFloor,
    );
    assert_eq!(
        run(&p, &x),
        [
            1., 1., 2., 2., 3., 1., 1., 2., 2., 3., 4., 4., 5., 5., 6., 4., 4., 5., 5., 6., 7., 7.,
            8., 8., 9.
        ]
    );
}

#[test]
fn downscale_with_sizes_6x6_to_5x1() {
    // Resize with sizes = [1, 1, 5, 1] on arange(36) 6x6; mote's compiler passes the scales
    // 5/6 and 1/6 (as f32). The W axis (1/6) lands exactly on a .5 tie (2.5) for half_pixel.
    let x: Vec<f32> = (0..36).map(|v| v as f32).collect();
    let nearest: [(CoordinateMode, [f32; 5]); 4] = [
        (HalfPixel, [2.0, 8.0, 14.0, 26.0, 32.0]),
        (PytorchHalfPixel, [0.0, 6.0, 12.0, 24.0, 30.0]),
        (Asymmetric, [0.0, 6.0, 12.0, 24.0, 30.0]),
        (AlignCorners, [0.0, 6.0, 12.0, 24.0, 30.0]),
    ];
    for (coord, expected) in nearest {
        let p = params(
            (6, 6, 1),
            (5, 1),
            (5.0 / 6.0, 1.0 / 6.0),
            Nearest,
            coord,
            RoundPreferFloor,
        );
        assert_eq!(run(&p, &x), expected, "{coord:?}");
    }
    let linear: [(CoordinateMode, [f32; 5]); 4] = [
        (HalfPixel, [3.1, 10.3, 17.5, 24.7, 31.9]),
        (PytorchHalfPixel, [0.6, 7.8, 15.0, 22.2, 29.4]),
        (Asymmetric, [0.0, 7.2, 14.4, 21.6, 28.8]),
        (AlignCorners, [0.0, 7.5, 15.0, 22.5, 30.0]),
    ];
    for (coord, expected) in linear {
        let p = params(
            (6, 6, 1),
            (5, 1),
            (5.0 / 6.0, 1.0 / 6.0),
            Linear,
            coord,
            RoundPreferFloor,
        );
        assert_close(&run(&p, &x), &expected, 1e-6);
    }
}

/// tf_half_pixel_for_nn is gone from ONNX's reference (opset ≥ 13); these values come from
/// onnxruntime 1.32 on an opset-11 Resize (scales [1, 1, 1.7, 1.7], arange(1, 10) 3x3).
#[test]
fn tf_half_pixel_for_nn_matches_onnxruntime() {
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let p = params(
        (3, 3, 1),
        (5, 5),
        (1.7, 1.7),
        Nearest,
        TfHalfPixelForNn,
        RoundPreferFloor,
    );
    assert_eq!(
        run(&p, &x),
        [
            1., 2., 2., 3., 3., 4., 5., 5., 6., 6., 4., 5., 5., 6., 6., 7., 8., 8., 9., 9., 7., 8.,
            8., 9., 9.
        ]
    );
    let p = params(
        (3, 3, 1),
        (5, 5),
        (1.7, 1.7),
        Nearest,
        TfHalfPixelForNn,
        Ceil,
    );
    assert_eq!(
        run(&p, &x),
        [
            5., 5., 6., 6., 6., 5., 5., 6., 6., 6., 8., 8., 9., 9., 9., 8., 8., 9., 9., 9., 8., 8.,
            9., 9., 9.
        ]
    );
    // Unchanged axes are not remapped: with 3 channels (onnxruntime, NCHW [1, 3, 2, 2] → 4x4,
    // ceil), every channel keeps its own values.
    let x: Vec<f32> = (0..12).map(|v| v as f32).collect(); // NCHW
    let mut nhwc = std::vec![0.0; 12];
    for c in 0..3 {
        for i in 0..4 {
            nhwc[i * 3 + c] = x[c * 4 + i];
        }
    }
    let p = params(
        (2, 2, 3),
        (4, 4),
        (2.0, 2.0),
        Nearest,
        TfHalfPixelForNn,
        Ceil,
    );
    let y = run(&p, &nhwc);
    assert!(y.chunks_exact(3).all(|px| px == [3.0, 7.0, 11.0]));
}

#[test]
fn channels_and_batch_are_blended_independently() {
    // NHWC with 3 channels and batch 2: every (batch, channel) plane must equal the 1-channel
    // result on that plane.
    let (h, w, c) = (3usize, 4usize, 3usize);
    let planes: Vec<Vec<f32>> = (0..2 * c)
        .map(|k| {
            (0..h * w)
                .map(|i| (i * (k + 1)) as f32 * 0.5 - k as f32)
                .collect()
        })
        .collect();
    for (mode, coord) in [
        (Linear, HalfPixel),
        (Linear, AlignCorners),
        (Nearest, HalfPixel),
        (Nearest, Asymmetric),
    ] {
        let single = params(
            (h, w, 1),
            (5, 7),
            (5.0 / 3.0, 7.0 / 4.0),
            mode,
            coord,
            RoundPreferCeil,
        );
        let mut p = params(
            (h, w, c),
            (5, 7),
            (5.0 / 3.0, 7.0 / 4.0),
            mode,
            coord,
            RoundPreferCeil,
        );
        p.input.dims[0] = 2;
        p.out.dims[0] = 2;
        let mut x = std::vec![0.0; 2 * h * w * c];
        for (k, plane) in planes.iter().enumerate() {
            let (n, ch) = (k / c, k % c);
            for (i, &v) in plane.iter().enumerate() {
                x[(n * h * w + i) * c + ch] = v;
            }
        }
        let y = run(&p, &x);
        for (k, plane) in planes.iter().enumerate() {
            let (n, ch) = (k / c, k % c);
            let expected = run(&single, plane);
            let got: Vec<f32> = (0..35).map(|i| y[(n * 35 + i) * c + ch]).collect();
            assert_eq!(got, expected, "{mode:?} {coord:?} plane {k}");
        }
    }
}

#[test]
fn one_axis_and_trailing_axis() {
    // Only the last axis resized (inner block of 1), rank 2: linear half_pixel 2 → 4 per row.
    let mut scales = [1.0; MAX_RANK];
    scales[1] = 2.0;
    let p = ResizeParams {
        input: Shape::new(&[2, 2]),
        out: Shape::new(&[2, 4]),
        scales,
        mode: Linear,
        coordinate: HalfPixel,
        nearest: RoundPreferFloor,
    };
    assert_eq!(
        run(&p, &[0.0, 4.0, 10.0, 20.0]),
        [0.0, 1.0, 3.0, 4.0, 10.0, 12.5, 17.5, 20.0]
    );
    // No axis resized: a copy.
    let p = ResizeParams {
        out: Shape::new(&[2, 2]),
        scales: [1.0; MAX_RANK],
        ..p
    };
    assert_eq!(run(&p, &[0.0, 4.0, 10.0, 20.0]), [0.0, 4.0, 10.0, 20.0]);
    // Single output pixel with align_corners / pytorch_half_pixel: coordinate 0.
    for coord in [AlignCorners, PytorchHalfPixel] {
        let p = params(
            (4, 4, 1),
            (1, 1),
            (0.25, 0.25),
            Linear,
            coord,
            RoundPreferFloor,
        );
        let x: Vec<f32> = (0..16).map(|v| v as f32 + 1.0).collect();
        assert_eq!(run(&p, &x), [1.0], "{coord:?}");
    }
}

/// Naive separable resize (as ONNX's reference does it): resize one axis at a time, in f64, with
/// the coordinate formulas written out again here.
fn naive_separable(
    dims: &[usize],
    out: &[usize],
    scales: &[f32],
    x: &[f32],
    mode: ResizeMode,
    coord: CoordinateMode,
) -> Vec<f32> {
    let mut data: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let mut cur: Vec<usize> = dims.to_vec();
    for axis in 0..dims.len() {
        if dims[axis] == out[axis] && scales[axis] == 1.0 {
            continue;
        }
        let (n_in, n_out) = (cur[axis], out[axis]);
        let outer: usize = cur[..axis].iter().product();
        let inner: usize = cur[axis + 1..].iter().product();
        let mut next = std::vec![0f64; outer * n_out * inner];
        let s = scales[axis];
        for o in 0..n_out {
            let xo = o as f32;
            let c = match coord {
                HalfPixel => (xo + 0.5) / s - 0.5,
                Asymmetric => xo / s,
                AlignCorners => xo * (n_in as f32 - 1.0) / (n_out as f32 - 1.0),
                _ => f32::NAN,
            };
            // (index, weight) pairs.
            let taps: Vec<(usize, f64)> = match mode {
                Nearest => {
                    let r = c.round(); // half away from zero, i.e. round_prefer_ceil for c >= 0
                    std::vec![(r.clamp(0.0, n_in as f32 - 1.0) as usize, 1.0)]
                }
                Linear => {
                    let c = c.clamp(0.0, n_in as f32 - 1.0) as f64;
                    let lo = c.floor();
                    let hi = (lo as usize + 1).min(n_in - 1);
                    std::vec![(lo as usize, 1.0 - (c - lo)), (hi, c - lo)]
                }
            };
            for a in 0..outer {
                for b in 0..inner {
                    next[(a * n_out + o) * inner + b] = taps
                        .iter()
                        .map(|&(i, w)| w * data[(a * n_in + i) * inner + b])
                        .sum();
                }
            }
        }
        data = next;
        cur[axis] = n_out;
    }
    data.iter().map(|&v| v as f32).collect()
}

#[test]
fn trilinear_and_rank4_against_naive_separable() {
    // Rank 4, three resized axes (one of them the leading one), one unchanged inner axis.
    let dims = [2usize, 3, 4, 2];
    let out = [3usize, 5, 6, 2];
    let scales = [1.5f32, 5.0 / 3.0, 1.5, 1.0];
    let x: Vec<f32> = (0..48)
        .map(|v| ((v * 37) % 23) as f32 * 0.25 - 2.0)
        .collect();
    for (mode, coord) in [
        (Linear, HalfPixel),
        (Linear, AlignCorners),
        (Linear, Asymmetric),
        (Nearest, Asymmetric),
    ] {
        let mut s = [1.0; MAX_RANK];
        s[..4].copy_from_slice(&scales);
        let p = ResizeParams {
            input: Shape::new(&dims),
            out: Shape::new(&out),
            scales: s,
            mode,
            coordinate: coord,
            nearest: RoundPreferCeil,
        };
        assert_close(
            &run(&p, &x),
            &naive_separable(&dims, &out, &scales, &x, mode, coord),
            1e-5,
        );
    }
}
