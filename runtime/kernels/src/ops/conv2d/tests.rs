extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::{conv2d_f32, Conv2dParams};
use crate::ops::test_util::{assert_close, close, permute, Rng};
use crate::Activation;

/// Output extent for the given geometry (floor rule), or `None` if the kernel does not fit.
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

fn params(
    (batch, in_h, in_w, in_c): (usize, usize, usize, usize),
    out_c: usize,
    (kernel_h, kernel_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    (dilation_h, dilation_w): (usize, usize),
    (pad_top, pad_left, pad_bottom, pad_right): (usize, usize, usize, usize),
    groups: usize,
) -> Option<Conv2dParams> {
    Some(Conv2dParams {
        batch,
        in_h,
        in_w,
        in_c,
        out_h: out_len(in_h, pad_top, pad_bottom, kernel_h, stride_h, dilation_h)?,
        out_w: out_len(in_w, pad_left, pad_right, kernel_w, stride_w, dilation_w)?,
        out_c,
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
    })
}

/// Naive convolution written the textbook way, on NCHW data with OIHW weights, accumulating in
/// f64 with the input channel loop outermost: deliberately different from the kernel.
fn naive_nchw(p: &Conv2dParams, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let cpg = p.in_c / p.groups;
    let opg = p.out_c / p.groups;
    let mut y = vec![0f32; p.batch * p.out_c * p.out_h * p.out_w];
    for n in 0..p.batch {
        for oc in 0..p.out_c {
            let g = oc / opg;
            for oh in 0..p.out_h {
                for ow in 0..p.out_w {
                    let mut s = bias.map_or(0.0, |b| b[oc] as f64);
                    for icl in 0..cpg {
                        let ic = g * cpg + icl;
                        for kh in 0..p.kernel_h {
                            for kw in 0..p.kernel_w {
                                let ih =
                                    (oh * p.stride_h + kh * p.dilation_h) as i64 - p.pad_top as i64;
                                let iw = (ow * p.stride_w + kw * p.dilation_w) as i64
                                    - p.pad_left as i64;
                                if ih < 0 || iw < 0 || ih >= p.in_h as i64 || iw >= p.in_w as i64 {
                                    continue;
                                }
                                let xv = x[((n * p.in_c + ic) * p.in_h + ih as usize) * p.in_w
                                    + iw as usize];
                                let wv = w[((oc * cpg + icl) * p.kernel_h + kh) * p.kernel_w + kw];
                                s += xv as f64 * wv as f64;
                            }
                        }
                    }
                    y[((n * p.out_c + oc) * p.out_h + oh) * p.out_w + ow] =
                        p.activation.apply(s as f32);
                }
            }
        }
    }
    y
}

/// Runs the kernel on NCHW/OIHW data (converted to NHWC/OHWI) and returns NCHW.
fn run_nchw(p: &Conv2dParams, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let x_nhwc = permute(x, &[p.batch, p.in_c, p.in_h, p.in_w], &[0, 2, 3, 1]);
    let cpg = p.in_c / p.groups;
    let w_ohwi = permute(w, &[p.out_c, cpg, p.kernel_h, p.kernel_w], &[0, 2, 3, 1]);
    let mut y = vec![f32::NAN; p.batch * p.out_h * p.out_w * p.out_c];
    conv2d_f32(p, &x_nhwc, &w_ohwi, bias, &mut y);
    permute(&y, &[p.batch, p.out_h, p.out_w, p.out_c], &[0, 3, 1, 2])
}

/// Random integer data, kernel vs naive; integer data makes both sides exact.
fn check_vs_naive(p: &Conv2dParams, seed: u64, with_bias: bool) -> Result<(), std::string::String> {
    let mut rng = Rng::new(seed);
    let x = rng.ints(p.batch * p.in_c * p.in_h * p.in_w, -4, 4);
    let w = rng.ints(
        p.out_c * (p.in_c / p.groups) * p.kernel_h * p.kernel_w,
        -3,
        3,
    );
    let b = rng.ints(p.out_c, -5, 5);
    let bias = with_bias.then_some(b.as_slice());
    close(
        &run_nchw(p, &x, &w, bias),
        &naive_nchw(p, &x, &w, bias),
        0.0,
    )
}

#[test]
fn conv3x3_on_4x4_by_hand() {
    // Input 1..=16 (one channel), all-ones 3x3 kernel, bias 1: each output is 1 + the sum of a
    // 3x3 window: 1+(1+2+3+5+6+7+9+10+11) = 55, then +9 per column step, +36 per row step.
    let p = params((1, 4, 4, 1), 1, (3, 3), (1, 1), (1, 1), (0, 0, 0, 0), 1);
    assert!(p.is_some());
    let p = p.unwrap_or_default();
    let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
    let mut y = [0f32; 4];
    conv2d_f32(&p, &x, &[1.0; 9], Some(&[1.0]), &mut y);
    assert_eq!(y, [55.0, 64.0, 91.0, 100.0]);

    // A non-symmetric kernel (weights[kh][kw] = 3·kh + kw) catches flipped/transposed taps:
    // output (0, 0) = Σ x[kh][kw]·(3kh + kw) with x[r][c] = 4r + c + 1.
    let w: Vec<f32> = (0..9).map(|v| v as f32).collect();
    let expect = |oh: usize, ow: usize| -> f32 {
        let mut s = 0.0;
        for kh in 0..3 {
            for kw in 0..3 {
                s += x[(oh + kh) * 4 + ow + kw] * (3 * kh + kw) as f32;
            }
        }
        s
    };
    conv2d_f32(&p, &x, &w, None, &mut y);
    assert_eq!(y, [expect(0, 0), expect(0, 1), expect(1, 0), expect(1, 1)]);
    // Row 0: 1·0 + 2·1 + 3·2 = 8; row 1: 5·3 + 6·4 + 7·5 = 74; row 2: 9·6 + 10·7 + 11·8 = 212.
    assert_eq!(y[0], 8.0 + 74.0 + 212.0);
}

#[test]
fn strided_padded_and_dilated_by_hand() {
    let x: Vec<f32> = (1..=25).map(|v| v as f32).collect(); // 5x5, one channel
                                                            // Stride 2, pad 1, all-ones 3x3: a 3x3 output; the corner window only sees 1+2+6+7.
    let p = params((1, 5, 5, 1), 1, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 1).unwrap_or_default();
    assert_eq!((p.out_h, p.out_w), (3, 3));
    let mut y = [0f32; 9];
    conv2d_f32(&p, &x, &[1.0; 9], None, &mut y);
    assert_eq!(y, [16.0, 33.0, 28.0, 69.0, 117.0, 87.0, 76.0, 123.0, 88.0]);
    // Dilation 2, no pad: one output reading rows/cols 0, 2, 4.
    let p = params((1, 5, 5, 1), 1, (3, 3), (1, 1), (2, 2), (0, 0, 0, 0), 1).unwrap_or_default();
    assert_eq!((p.out_h, p.out_w), (1, 1));
    let mut y = [0f32; 1];
    conv2d_f32(&p, &x, &[1.0; 9], None, &mut y);
    assert_eq!(
        y,
        [1.0 + 3.0 + 5.0 + 11.0 + 13.0 + 15.0 + 21.0 + 23.0 + 25.0]
    );
}

#[test]
fn depthwise_multiplier_2_by_hand() {
    // NHWC 1x2x2x2: channel 0 = [1 2; 3 4], channel 1 = [10 20; 30 40]. groups = 2, out_c = 4
    // (outputs 0, 1 read channel 0; outputs 2, 3 read channel 1), 2x2 kernel, OHWI [4, 2, 2, 1].
    let x = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
    #[rustfmt::skip]
    let w = [
        1.0, 0.0, 0.0, 0.0, // oc 0: top-left of channel 0       -> 1
        0.0, 0.0, 0.0, 1.0, // oc 1: bottom-right of channel 0   -> 4
        1.0, 1.0, 1.0, 1.0, // oc 2: sum of channel 1            -> 100
        0.0, 2.0, 0.0, 0.0, // oc 3: 2 x top-right of channel 1  -> 40
    ];
    let p = params((1, 2, 2, 2), 4, (2, 2), (1, 1), (1, 1), (0, 0, 0, 0), 2).unwrap_or_default();
    let mut y = [0f32; 4];
    conv2d_f32(&p, &x, &w, Some(&[0.0, 0.5, 0.0, -1.0]), &mut y);
    assert_eq!(y, [1.0, 4.5, 100.0, 39.0]);
}

#[test]
fn grouped_four_channels_per_group_by_hand() {
    // One pixel with channels 1..=8, groups = 2 (4 channels each), 1x1 kernel, 2 outputs per
    // group.
    let x: Vec<f32> = (1..=8).map(|v| v as f32).collect();
    #[rustfmt::skip]
    let w = [
        1.0, 1.0, 1.0, 1.0,  // oc 0 (group 0): 1+2+3+4 = 10
        1.0, 0.0, 0.0, -1.0, // oc 1 (group 0): 1-4 = -3
        1.0, 1.0, 1.0, 1.0,  // oc 2 (group 1): 5+6+7+8 = 26
        0.0, 1.0, 0.0, 0.0,  // oc 3 (group 1): 6
    ];
    let p = params((1, 1, 1, 8), 4, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 2).unwrap_or_default();
    let mut y = [0f32; 4];
    conv2d_f32(&p, &x, &w, None, &mut y);
    assert_eq!(y, [10.0, -3.0, 26.0, 6.0]);
}

#[test]
fn against_naive_fixed_cases() {
    type Case = (
        (usize, usize, usize, usize),
        usize,
        (usize, usize),
        (usize, usize),
        (usize, usize),
        (usize, usize, usize, usize),
        usize,
    );
    let cases: [Case; 7] = [
        // Dense 3x3, pad 1 (ResNet-style).
        ((2, 6, 5, 3), 4, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1),
        // Depthwise, multiplier 2, stride 2, asymmetric padding (MobileNet-style).
        ((1, 7, 6, 3), 6, (3, 3), (2, 2), (1, 1), (1, 0, 1, 1), 3),
        // Grouped, 4 input channels per group, 2 outputs per group (ResNeXt-style).
        ((1, 5, 5, 8), 4, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 2),
        // Strided, dilated, padded, non-square kernel.
        ((1, 9, 8, 2), 3, (3, 2), (2, 3), (2, 1), (2, 1, 0, 2), 1),
        // 1x1 pointwise, stride 2.
        ((1, 4, 4, 5), 7, (1, 1), (2, 2), (1, 1), (0, 0, 0, 0), 1),
        // Kernel bigger than the input with padding.
        ((1, 2, 2, 2), 2, (5, 5), (1, 1), (1, 1), (2, 2, 2, 2), 1),
        // Depthwise multiplier 1 with dilation 2.
        ((1, 6, 6, 4), 4, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2), 4),
    ];
    for (i, c) in cases.into_iter().enumerate() {
        let p = params(c.0, c.1, c.2, c.3, c.4, c.5, c.6);
        assert!(p.is_some(), "case {i}");
        let p = p.unwrap_or_default();
        for bias in [false, true] {
            let r = check_vs_naive(&p, i as u64, bias);
            assert!(r.is_ok(), "case {i} bias {bias}: {:?}", r.err());
        }
    }
}

#[test]
fn fractional_values_and_fused_activation() {
    let mut p =
        params((1, 5, 4, 6), 6, (3, 3), (1, 2), (1, 1), (1, 1, 1, 1), 2).unwrap_or_default();
    let mut rng = Rng::new(7);
    let x = rng.units(5 * 4 * 6);
    let w = rng.units(6 * 3 * 3 * 3);
    let b = rng.units(6);
    for act in [
        Activation::None,
        Activation::Relu,
        Activation::Clip {
            min: -0.2,
            max: 0.3,
        },
        Activation::HardSwish,
    ] {
        p.activation = act;
        let got = run_nchw(&p, &x, &w, Some(&b));
        assert_close(&got, &naive_nchw(&p, &x, &w, Some(&b)), 1e-5);
    }
}

#[test]
fn output_fully_overwritten() {
    let p = params((1, 3, 3, 2), 2, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1).unwrap_or_default();
    let x = [1.0; 18];
    let w = [0.0; 36];
    let mut y = [f32::NAN; 18];
    conv2d_f32(&p, &x, &w, None, &mut y);
    assert!(y.iter().all(|&v| v == 0.0));
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(300))]
    #[test]
    fn matches_naive(
        batch in 1usize..=2,
        groups in 1usize..=3,
        cpg in 1usize..=3,
        opg in 1usize..=6,
        in_h in 1usize..=7,
        in_w in 1usize..=7,
        kernel in (1usize..=3, 1usize..=3),
        stride in (1usize..=3, 1usize..=3),
        dilation in (1usize..=2, 1usize..=2),
        pads in (0usize..=2, 0usize..=2, 0usize..=2, 0usize..=2),
        with_bias in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let p = params((batch, in_h, in_w, groups * cpg), groups * opg, kernel, stride, dilation, pads, groups);
        prop_assume!(p.is_some());
        let p = p.unwrap_or_default();
        let r = check_vs_naive(&p, seed, with_bias);
        prop_assert!(r.is_ok(), "{:?}: {:?}", p, r.err());
    }
}
