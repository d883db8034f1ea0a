extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::{conv2d_s8, Conv2dParams, Conv2dS8Params};
use crate::ops::test_util::{assert_s8_eq, conv_multipliers, i8s, mbqm_oracle, permute, Rng};
use crate::ops::tflite_vectors::{ConvCase, CONV, DEPTHWISE};
use crate::quant::Rounding;
use crate::Activation;

fn run(
    p: &Conv2dS8Params,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    m: &[i32],
    s: &[i32],
) -> Vec<i8> {
    let g = &p.geometry;
    let mut y = vec![0x55i8; g.batch * g.out_h * g.out_w * g.out_c];
    conv2d_s8(p, x, w, bias, m, s, &mut y);
    y
}

#[test]
fn by_hand_two_channels_with_zero_points() {
    // Input 1×3×3×1 with zero point 1 (input_offset -1), two 2×2 filters, stride 1, no padding.
    // x - 1 = [0 1 2; 3 4 5; 6 7 8]. Filter 0 = [1 0; 0 1] (sums x[i,j] + x[i+1,j+1]),
    // filter 1 = [-1 -1; 1 1] (bottom row minus top row).
    let x: Vec<i8> = (1..=9).collect();
    let w: Vec<i8> = vec![1, 0, 0, 1, -1, -1, 1, 1];
    let p = Conv2dS8Params {
        geometry: Conv2dParams {
            batch: 1,
            in_h: 3,
            in_w: 3,
            in_c: 1,
            out_h: 2,
            out_w: 2,
            out_c: 2,
            kernel_h: 2,
            kernel_w: 2,
            stride_h: 1,
            stride_w: 1,
            dilation_h: 1,
            dilation_w: 1,
            pad_top: 0,
            pad_left: 0,
            groups: 1,
            activation: Activation::None,
        },
        input_offset: -1,
        output_offset: -3,
        act_min: -128,
        act_max: 127,
        rounding: Rounding::Double,
    };
    // Filter 0 sums: [0+4, 1+5; 3+7, 4+8] = [4, 6; 10, 12], bias 1 -> [5, 7; 11, 13], scale 0.5
    // (2^30, 0): SRDHM rounds half up -> [3, 4; 6, 7], output offset -3 -> [0, 1; 3, 4].
    // Filter 1: (3+4)-(0+1) = 6 for every pixel, bias -2 -> 4, scale 2 (2^30, 2) -> 8, -3 -> 5.
    let y = run(&p, &x, &w, Some(&[1, -2]), &[1 << 30, 1 << 30], &[0, 2]);
    assert_eq!(y, vec![0, 5, 1, 5, 3, 5, 4, 5]);
    // A Relu-like clamp at the output zero point and a cap at 4.
    let q = Conv2dS8Params {
        act_min: 1,
        act_max: 4,
        ..p
    };
    let y = run(&q, &x, &w, Some(&[1, -2]), &[1 << 30, 1 << 30], &[0, 2]);
    assert_eq!(y, vec![1, 4, 1, 4, 3, 4, 4, 4]);
}

#[test]
fn padding_taps_contribute_nothing() {
    // 1×1 input, 3×3 kernel, pad 1: only the centre tap is inside. With input zero point -128
    // the padding would contribute (0 + 128)·w if it were read as 0.
    let p = Conv2dS8Params {
        geometry: Conv2dParams {
            batch: 1,
            in_h: 1,
            in_w: 1,
            in_c: 1,
            out_h: 1,
            out_w: 1,
            out_c: 1,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 1,
            stride_w: 1,
            dilation_h: 1,
            dilation_w: 1,
            pad_top: 1,
            pad_left: 1,
            groups: 1,
            activation: Activation::None,
        },
        input_offset: 128,
        output_offset: 0,
        act_min: -128,
        act_max: 127,
        rounding: Rounding::Double,
    };
    let w: Vec<i8> = (1..=9).collect(); // centre weight 5
    let y = run(&p, &[-126], &w, None, &[1 << 30], &[0]);
    assert_eq!(y, vec![5]); // (−126 + 128) · 5 · 0.5
}

/// A conv case from LiteRT as mote's parameters.
fn tflite_params(c: &ConvCase) -> Conv2dS8Params {
    Conv2dS8Params {
        geometry: Conv2dParams {
            batch: c.batch,
            in_h: c.in_h,
            in_w: c.in_w,
            in_c: c.in_c,
            out_h: c.out_h,
            out_w: c.out_w,
            out_c: c.out_c,
            kernel_h: c.kernel_h,
            kernel_w: c.kernel_w,
            stride_h: c.stride_h,
            stride_w: c.stride_w,
            dilation_h: c.dilation_h,
            dilation_w: c.dilation_w,
            pad_top: c.pad_top,
            pad_left: c.pad_left,
            groups: c.groups,
            activation: Activation::None,
        },
        input_offset: -c.input_zero_point,
        output_offset: c.output_zero_point,
        act_min: c.act_min,
        act_max: c.act_max,
        rounding: Rounding::Double,
    }
}

#[test]
fn matches_litert_reference_conv_and_depthwise() {
    for (i, c) in CONV.iter().chain(DEPTHWISE).enumerate() {
        let p = tflite_params(c);
        let (m, s) = conv_multipliers(c.input_scale, c.weight_scales, c.output_scale);
        let y = run(&p, c.input, c.weights, Some(c.bias), &m, &s);
        assert_s8_eq(
            &y,
            c.expected,
            &std::format!("case {i} (depthwise: {})", c.depthwise),
        );
        // The naive twin agrees too (so it is a valid oracle for the property tests).
        let twin = naive_nchw_run(&p, c.input, c.weights, Some(c.bias), &m, &s);
        assert_s8_eq(&twin, c.expected, &std::format!("twin, case {i}"));
    }
}

/// The naive twin: NCHW input, OIHW weights, one output at a time with every tap tested
/// against the input bounds, 64-bit sums, and the i128 requantization oracle. Deliberately
/// unlike the kernel (layout, loop order, tap skipping, requantization code).
fn naive_nchw(
    p: &Conv2dS8Params,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    m: &[i32],
    s: &[i32],
) -> Vec<i8> {
    let g = &p.geometry;
    let cpg = g.in_c / g.groups;
    let opg = g.out_c / g.groups;
    let mut y = vec![0i8; g.batch * g.out_c * g.out_h * g.out_w];
    for n in 0..g.batch {
        for oc in 0..g.out_c {
            let grp = oc / opg;
            for oh in 0..g.out_h {
                for ow in 0..g.out_w {
                    let mut acc: i64 = bias.map_or(0, |b| b[oc] as i64);
                    for icl in 0..cpg {
                        let ic = grp * cpg + icl;
                        for kh in 0..g.kernel_h {
                            for kw in 0..g.kernel_w {
                                let ih =
                                    (oh * g.stride_h + kh * g.dilation_h) as i64 - g.pad_top as i64;
                                let iw = (ow * g.stride_w + kw * g.dilation_w) as i64
                                    - g.pad_left as i64;
                                if ih < 0 || iw < 0 || ih >= g.in_h as i64 || iw >= g.in_w as i64 {
                                    continue;
                                }
                                let xv = x[((n * g.in_c + ic) * g.in_h + ih as usize) * g.in_w
                                    + iw as usize];
                                let wv = w[((oc * cpg + icl) * g.kernel_h + kh) * g.kernel_w + kw];
                                acc += wv as i64 * (xv as i64 + p.input_offset as i64);
                            }
                        }
                    }
                    let acc = i32::try_from(acc).unwrap_or(i32::MAX);
                    let v =
                        mbqm_oracle(acc, m[oc], s[oc], p.rounding) as i64 + p.output_offset as i64;
                    let v = v
                        .max(p.act_min as i64)
                        .min(p.act_max as i64)
                        .clamp(-128, 127);
                    y[((n * g.out_c + oc) * g.out_h + oh) * g.out_w + ow] = v as i8;
                }
            }
        }
    }
    y
}

/// Runs the naive twin on NHWC/OHWI data (converted to NCHW/OIHW) and returns NHWC.
fn naive_nchw_run(
    p: &Conv2dS8Params,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    m: &[i32],
    s: &[i32],
) -> Vec<i8> {
    let g = &p.geometry;
    let cpg = g.in_c / g.groups;
    let x_nchw = permute(x, &[g.batch, g.in_h, g.in_w, g.in_c], &[0, 3, 1, 2]);
    let w_oihw = permute(w, &[g.out_c, g.kernel_h, g.kernel_w, cpg], &[0, 3, 1, 2]);
    let y = naive_nchw(p, &x_nchw, &w_oihw, bias, m, s);
    permute(&y, &[g.batch, g.out_c, g.out_h, g.out_w], &[0, 2, 3, 1])
}

/// Output extent (floor rule), or `None` if the kernel does not fit.
fn out_len(
    input: usize,
    pad_a: usize,
    pad_b: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> Option<usize> {
    let span = dilation * (kernel - 1) + 1;
    let padded = input + pad_a + pad_b;
    (padded >= span).then(|| (padded - span) / stride + 1)
}

/// Multiplier/shift pairs at the extremes: the ends of [2^30, 2^31), shifts from −31 up to a
/// left shift of 8 (accumulators here stay below 2^22, so x·2^shift fits in i32).
fn pick_requant(rng: &mut Rng, n: usize) -> (Vec<i32>, Vec<i32>) {
    (0..n)
        .map(|_| {
            let m = match rng.next_u64() % 4 {
                0 => 1 << 30,
                1 => i32::MAX,
                _ => (1 << 30) + (rng.next_u64() % (1 << 30)) as i32,
            };
            let s = match rng.next_u64() % 5 {
                0 => -31,
                1 => 8,
                _ => rng.int(-14, 2) as i32,
            };
            (m, s)
        })
        .unzip()
}

#[allow(clippy::too_many_arguments)]
fn check_vs_twin(
    (batch, in_h, in_w): (usize, usize, usize),
    (groups, cpg, opg): (usize, usize, usize),
    (kernel_h, kernel_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    (dilation_h, dilation_w): (usize, usize),
    (pad_top, pad_left, pad_bottom, pad_right): (usize, usize, usize, usize),
    (in_zp, out_zp): (i32, i32),
    rounding: Rounding,
    seed: u64,
) -> Option<(Vec<i8>, Vec<i8>)> {
    let (Some(out_h), Some(out_w)) = (
        out_len(in_h, pad_top, pad_bottom, kernel_h, stride_h, dilation_h),
        out_len(in_w, pad_left, pad_right, kernel_w, stride_w, dilation_w),
    ) else {
        return None;
    };
    let mut rng = Rng::new(seed);
    let act = if rng.below(3) == 0 {
        (rng.int(-128, 0) as i32, rng.int(0, 127) as i32)
    } else {
        (-128, 127)
    };
    let p = Conv2dS8Params {
        geometry: Conv2dParams {
            batch,
            in_h,
            in_w,
            in_c: groups * cpg,
            out_h,
            out_w,
            out_c: groups * opg,
            kernel_h,
            kernel_w,
            stride_h,
            stride_w,
            dilation_h,
            dilation_w,
            pad_top,
            pad_left,
            groups,
            activation: Activation::None,
        },
        input_offset: -in_zp,
        output_offset: out_zp,
        act_min: act.0,
        act_max: act.1,
        rounding,
    };
    let g = &p.geometry;
    let x = i8s(&mut rng, batch * in_h * in_w * g.in_c, -128, 127);
    let w = i8s(&mut rng, g.out_c * kernel_h * kernel_w * cpg, -127, 127);
    let bias: Vec<i32> = (0..g.out_c)
        .map(|_| rng.int(-40_000, 40_000) as i32)
        .collect();
    let (m, s) = pick_requant(&mut rng, g.out_c);
    let with_bias = rng.below(4) != 0;
    let bias = with_bias.then_some(bias.as_slice());
    Some((
        run(&p, &x, &w, bias, &m, &s),
        naive_nchw_run(&p, &x, &w, bias, &m, &s),
    ))
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(512))]

    /// Dense, grouped and depthwise (cpg == 1, any multiplier) convolutions against the twin,
    /// with channel counts that are not multiples of 4/8/16, zero points over all of int8, and
    /// multipliers/shifts at the extremes.
    #[test]
    fn conv2d_s8_matches_naive_twin(
        hw in (1usize..=2, 1usize..=7, 1usize..=7),
        grouping in prop_oneof![
            (Just(1usize), 1usize..=19, 1usize..=19),   // dense
            (2usize..=4, 1usize..=5, 1usize..=5),       // grouped
            (1usize..=9, Just(1usize), 1usize..=4),     // depthwise, multiplier 1..4
        ],
        kernel in (1usize..=3, 1usize..=3),
        stride in (1usize..=3, 1usize..=3),
        dilation in (1usize..=3, 1usize..=3),
        pads in (0usize..=2, 0usize..=2, 0usize..=2, 0usize..=2),
        zps in (-128i32..=127, -128i32..=127),
        single in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let rounding = if single { Rounding::Single } else { Rounding::Double };
        if let Some((got, want)) =
            check_vs_twin(hw, grouping, kernel, stride, dilation, pads, zps, rounding, seed)
        {
            prop_assert_eq!(got, want);
        }
    }
}

#[test]
fn extreme_zero_points_and_wide_channels() {
    // Deterministic corner cases the property test may not draw: zero points at both ends,
    // many channels (not a multiple of 4/8/16), 1×1 kernels.
    // Under Miri one pair of zero points and one rounding (the same memory paths; the
    // arithmetic corners are the ordinary build's job).
    let zero_points = [(-128, -128), (127, 127), (-128, 127), (127, -128)];
    let zero_points = if cfg!(miri) {
        &zero_points[..1]
    } else {
        &zero_points[..]
    };
    let roundings = [Rounding::Double, Rounding::Single];
    let roundings = if cfg!(miri) {
        &roundings[..1]
    } else {
        &roundings[..]
    };
    for (i, &(in_zp, out_zp)) in zero_points.iter().enumerate() {
        for &rounding in roundings {
            let zps = (in_zp, out_zp);
            let cases = [
                check_vs_twin(
                    (1, 3, 5),
                    (1, 37, 23),
                    (1, 1),
                    (1, 1),
                    (1, 1),
                    (0, 0, 0, 0),
                    zps,
                    rounding,
                    i as u64,
                ),
                check_vs_twin(
                    (2, 4, 4),
                    (3, 7, 5),
                    (3, 2),
                    (2, 1),
                    (1, 2),
                    (2, 1, 0, 2),
                    zps,
                    rounding,
                    100 + i as u64,
                ),
                check_vs_twin(
                    (1, 5, 5),
                    (17, 1, 3),
                    (3, 3),
                    (1, 1),
                    (2, 2),
                    (2, 2, 2, 2),
                    zps,
                    rounding,
                    200 + i as u64,
                ),
            ];
            for (j, case) in cases.into_iter().enumerate() {
                assert!(case.is_some(), "case {i}/{j}: geometry does not fit");
                if let Some((got, want)) = case {
                    assert_s8_eq(&got, &want, &std::format!("case {i}/{j} {rounding:?}"));
                }
            }
        }
    }
}
