extern crate std;

use std::vec;
use std::vec::Vec;

use super::{avg_pool2d_f32, max_pool2d_f32, Pool2dParams};
use crate::ops::test_util::{assert_close, Rng};
use crate::Activation;

#[allow(clippy::too_many_arguments)]
fn params(
    (in_h, in_w, channels): (usize, usize, usize),
    (out_h, out_w): (usize, usize),
    (kernel_h, kernel_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    (dilation_h, dilation_w): (usize, usize),
    (pad_top, pad_left, pad_bottom, pad_right): (usize, usize, usize, usize),
    count_include_pad: bool,
) -> Pool2dParams {
    Pool2dParams {
        batch: 1,
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

fn seq(n: usize) -> Vec<f32> {
    (1..=n).map(|v| v as f32).collect()
}

#[test]
fn max_2x2_stride2_by_hand() {
    #[rustfmt::skip]
    let x = [1.0, 5.0, 2.0, 0.0,
             3.0, 4.0, 8.0, 1.0,
             -1.0, -2.0, 0.0, 7.0,
             -3.0, -4.0, 6.0, 2.0];
    let p = params(
        (4, 4, 1),
        (2, 2),
        (2, 2),
        (2, 2),
        (1, 1),
        (0, 0, 0, 0),
        false,
    );
    let mut y = [0f32; 4];
    max_pool2d_f32(&p, &x, &mut y);
    assert_eq!(y, [5.0, 8.0, -1.0, 7.0]);
    // Padded taps are ignored (not read as 0): a window of negatives stays negative.
    let p = params(
        (4, 4, 1),
        (3, 3),
        (2, 2),
        (2, 2),
        (1, 1),
        (1, 1, 1, 1),
        false,
    );
    let mut y = [0f32; 9];
    max_pool2d_f32(&p, &x, &mut y);
    assert_eq!(y, [1.0, 5.0, 0.0, 3.0, 8.0, 7.0, -3.0, 6.0, 2.0]);
}

// Expected values in the tests below were produced by ONNX's reference evaluator (onnx 1.23.2,
// `onnx.reference.ReferenceEvaluator`) on one AveragePool/MaxPool node over an NCHW
// [1, 1, H, W] input (so NCHW and NHWC bytes coincide); onnxruntime 1.32 gives the same values.

/// AveragePool(kernel 3x3, strides 2, pads [1,1,1,1], ceil_mode=1) on `arange(1, 17)` 4x4:
/// output 3x3, whose last window starts at row/column 3 and runs past the padded input.
#[test]
fn avg_ceil_mode_count_include_pad_both_ways() {
    let x = seq(16);
    let mut y = [0f32; 9];
    let p = params(
        (4, 4, 1),
        (3, 3),
        (3, 3),
        (2, 2),
        (1, 1),
        (1, 1, 1, 1),
        false,
    );
    avg_pool2d_f32(&p, &x, &mut y);
    assert_close(
        &y,
        &[3.5, 5.0, 6.0, 9.5, 11.0, 12.0, 13.5, 15.0, 16.0],
        1e-6,
    );
    let p = params(
        (4, 4, 1),
        (3, 3),
        (3, 3),
        (2, 2),
        (1, 1),
        (1, 1, 1, 1),
        true,
    );
    avg_pool2d_f32(&p, &x, &mut y);
    #[rustfmt::skip]
    assert_close(&y, &[1.5555556, 3.3333333, 2.0,
                       6.3333335, 11.0, 6.0,
                       4.5, 7.5, 4.0], 1e-6);
}

/// AveragePool(kernel 2x2, strides 2, no pads, ceil_mode=1) on `arange(1, 26)` 5x5: the last
/// windows overhang the input with no padding, so both count modes divide by the taps inside.
#[test]
fn avg_ceil_mode_without_pads() {
    let x = seq(25);
    let expected = [4.0, 6.0, 7.5, 14.0, 16.0, 17.5, 21.5, 23.5, 25.0];
    for include in [false, true] {
        let p = params(
            (5, 5, 1),
            (3, 3),
            (2, 2),
            (2, 2),
            (1, 1),
            (0, 0, 0, 0),
            include,
        );
        let mut y = [0f32; 9];
        avg_pool2d_f32(&p, &x, &mut y);
        assert_close(&y, &expected, 1e-6);
    }
}

/// AveragePool(kernel 2x2, strides 1, dilations 2, pads [top 1, left 0, bottom 1, right 0]) on
/// `arange(1, 26)` 5x5: output 5x3.
#[test]
fn avg_dilated_asymmetric_pads() {
    let x = seq(25);
    let mut y = [0f32; 15];
    let p = params(
        (5, 5, 1),
        (5, 3),
        (2, 2),
        (1, 1),
        (2, 2),
        (1, 0, 1, 0),
        false,
    );
    avg_pool2d_f32(&p, &x, &mut y);
    assert_close(
        &y,
        &[
            7.0, 8.0, 9.0, 7.0, 8.0, 9.0, 12.0, 13.0, 14.0, 17.0, 18.0, 19.0, 17.0, 18.0, 19.0,
        ],
        1e-6,
    );
    let p = params(
        (5, 5, 1),
        (5, 3),
        (2, 2),
        (1, 1),
        (2, 2),
        (1, 0, 1, 0),
        true,
    );
    avg_pool2d_f32(&p, &x, &mut y);
    assert_close(
        &y,
        &[
            3.5, 4.0, 4.5, 7.0, 8.0, 9.0, 12.0, 13.0, 14.0, 17.0, 18.0, 19.0, 8.5, 9.0, 9.5,
        ],
        1e-6,
    );
}

/// MaxPool(kernel 3x3, strides 2, pads [1,1,1,1], ceil_mode=1) on the 4x4 input below.
#[test]
fn max_ceil_mode() {
    let x = [
        -5.0, 2.0, -2.0, 5.0, 1.0, -3.0, 4.0, 0.0, -4.0, 3.0, -1.0, -5.0, 2.0, -2.0, 5.0, 1.0,
    ];
    let p = params(
        (4, 4, 1),
        (3, 3),
        (3, 3),
        (2, 2),
        (1, 1),
        (1, 1, 1, 1),
        false,
    );
    let mut y = [0f32; 9];
    max_pool2d_f32(&p, &x, &mut y);
    assert_eq!(y, [2.0, 5.0, 5.0, 3.0, 5.0, 1.0, 2.0, 5.0, 1.0]);
}

/// Naive NCHW pooling (different loop order, explicit bounds checks) against the NHWC kernel
/// on several channels, batch 2, with a fused activation.
#[test]
fn multichannel_against_naive() {
    let (n, h, w, c) = (2usize, 7usize, 6usize, 5usize);
    let mut rng = Rng::new(11);
    let x = rng.units(n * h * w * c);
    for include in [false, true] {
        let mut p = params(
            (h, w, c),
            (4, 3),
            (3, 2),
            (2, 2),
            (1, 2),
            (1, 1, 2, 1),
            include,
        );
        p.batch = n;
        p.activation = Activation::LeakyRelu { alpha: 0.1 };
        let mut max_expected = vec![0f32; n * 4 * 3 * c];
        let mut avg_expected = vec![0f32; n * 4 * 3 * c];
        for b in 0..n {
            for ch in 0..c {
                for oh in 0..p.out_h {
                    for ow in 0..p.out_w {
                        let (mut m, mut s, mut inside, mut padded) =
                            (f32::NEG_INFINITY, 0f64, 0usize, 0usize);
                        for kh in 0..p.kernel_h {
                            for kw in 0..p.kernel_w {
                                let ih =
                                    (oh * p.stride_h + kh * p.dilation_h) as i64 - p.pad_top as i64;
                                let iw = (ow * p.stride_w + kw * p.dilation_w) as i64
                                    - p.pad_left as i64;
                                let in_pad_h =
                                    ih >= -(p.pad_top as i64) && ih < (h + p.pad_bottom) as i64;
                                let in_pad_w =
                                    iw >= -(p.pad_left as i64) && iw < (w + p.pad_right) as i64;
                                if in_pad_h && in_pad_w {
                                    padded += 1;
                                }
                                if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < w {
                                    let v = x[((b * h + ih as usize) * w + iw as usize) * c + ch];
                                    m = m.max(v);
                                    s += v as f64;
                                    inside += 1;
                                }
                            }
                        }
                        let o = ((b * p.out_h + oh) * p.out_w + ow) * c + ch;
                        max_expected[o] = p.activation.apply(m);
                        let count = if include { padded } else { inside };
                        avg_expected[o] = p.activation.apply((s / count as f64) as f32);
                    }
                }
            }
        }
        let mut y = vec![0f32; n * 4 * 3 * c];
        max_pool2d_f32(&p, &x, &mut y);
        assert_close(&y, &max_expected, 0.0);
        avg_pool2d_f32(&p, &x, &mut y);
        assert_close(&y, &avg_expected, 1e-6);
    }
}

#[test]
fn global_average_pool_as_pooling() {
    // A 3x3 window over a 3x3 input, two channels.
    let x: Vec<f32> = (0..18).map(|v| v as f32).collect();
    let p = params(
        (3, 3, 2),
        (1, 1),
        (3, 3),
        (1, 1),
        (1, 1),
        (0, 0, 0, 0),
        false,
    );
    let mut y = [0f32; 2];
    avg_pool2d_f32(&p, &x, &mut y);
    assert_eq!(y, [8.0, 9.0]);
}

/// AveragePool(kernel 1x3, strides 1x3, ceil_mode=1, no pads) on `arange(1, 8)` as 1x7: output
/// 1x3, the last window holding only 7. Expected values from onnxruntime 1.32 (and MaxPool in
/// both). ONNX's Python reference gives [1.5, 4, 6] here: it splits the extra ceil-mode padding
/// (2) between the start and the end, shifting every window left by one, which contradicts the
/// ONNX spec and the contract.
#[test]
fn avg_ceil_mode_stride3_matches_onnxruntime() {
    let x = seq(7);
    let mut y = [0f32; 3];
    for include in [false, true] {
        let p = params(
            (1, 7, 1),
            (1, 3),
            (1, 3),
            (1, 3),
            (1, 1),
            (0, 0, 0, 0),
            include,
        );
        avg_pool2d_f32(&p, &x, &mut y);
        assert_eq!(y, [2.0, 5.0, 7.0]);
    }
    let p = params(
        (1, 7, 1),
        (1, 3),
        (1, 3),
        (1, 3),
        (1, 1),
        (0, 0, 0, 0),
        false,
    );
    max_pool2d_f32(&p, &x, &mut y);
    assert_eq!(y, [3.0, 6.0, 7.0]);
}
