extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::{conv_transpose2d_f32, ConvTranspose2dParams};
use crate::ops::test_util::{close, permute, Rng};
use crate::Activation;

/// Geometry in ONNX terms: (in_h, in_w), (kernel), (stride), (dilation), pads
/// (top, left, bottom, right), output_padding (h, w).
#[allow(clippy::too_many_arguments)]
fn params(
    (batch, in_h, in_w, in_c): (usize, usize, usize, usize),
    out_c: usize,
    (kernel_h, kernel_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    (dilation_h, dilation_w): (usize, usize),
    (pad_top, pad_left, pad_bottom, pad_right): (usize, usize, usize, usize),
    (op_h, op_w): (usize, usize),
    groups: usize,
) -> Option<ConvTranspose2dParams> {
    // ONNX: out = stride·(in − 1) + output_padding + dilation·(kernel − 1) + 1 − pads.
    let full_h = stride_h * (in_h - 1) + op_h + dilation_h * (kernel_h - 1) + 1;
    let full_w = stride_w * (in_w - 1) + op_w + dilation_w * (kernel_w - 1) + 1;
    let out_h = full_h
        .checked_sub(pad_top + pad_bottom)
        .filter(|&v| v > 0)?;
    let out_w = full_w
        .checked_sub(pad_left + pad_right)
        .filter(|&v| v > 0)?;
    Some(ConvTranspose2dParams {
        batch,
        in_h,
        in_w,
        in_c,
        out_h,
        out_w,
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

/// ONNX weights `[in_c, out_c / groups, kH, kW]` to mote's OHWI `[out_c, kH, kW, in_c / groups]`.
fn onnx_weights_to_ohwi(p: &ConvTranspose2dParams, w: &[f32]) -> Vec<f32> {
    let (cpg, opg) = (p.in_c / p.groups, p.out_c / p.groups);
    let mut out = vec![0f32; w.len()];
    for ic in 0..p.in_c {
        let (g, icl) = (ic / cpg, ic % cpg);
        for ocl in 0..opg {
            for kh in 0..p.kernel_h {
                for kw in 0..p.kernel_w {
                    let oc = g * opg + ocl;
                    out[((oc * p.kernel_h + kh) * p.kernel_w + kw) * cpg + icl] =
                        w[((ic * opg + ocl) * p.kernel_h + kh) * p.kernel_w + kw];
                }
            }
        }
    }
    out
}

/// Naive scatter over NCHW data with ONNX weights, accumulating in f64.
fn naive_nchw(p: &ConvTranspose2dParams, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (cpg, opg) = (p.in_c / p.groups, p.out_c / p.groups);
    let mut acc = vec![0f64; p.batch * p.out_c * p.out_h * p.out_w];
    for n in 0..p.batch {
        for ic in 0..p.in_c {
            let g = ic / cpg;
            for ih in 0..p.in_h {
                for iw in 0..p.in_w {
                    let xv = x[((n * p.in_c + ic) * p.in_h + ih) * p.in_w + iw] as f64;
                    for ocl in 0..opg {
                        let oc = g * opg + ocl;
                        for kh in 0..p.kernel_h {
                            for kw in 0..p.kernel_w {
                                let oy =
                                    (ih * p.stride_h + kh * p.dilation_h) as i64 - p.pad_top as i64;
                                let ox = (iw * p.stride_w + kw * p.dilation_w) as i64
                                    - p.pad_left as i64;
                                if oy < 0 || ox < 0 || oy >= p.out_h as i64 || ox >= p.out_w as i64
                                {
                                    continue;
                                }
                                let wv = w[((ic * opg + ocl) * p.kernel_h + kh) * p.kernel_w + kw]
                                    as f64;
                                acc[((n * p.out_c + oc) * p.out_h + oy as usize) * p.out_w
                                    + ox as usize] += xv * wv;
                            }
                        }
                    }
                }
            }
        }
    }
    let plane = p.out_h * p.out_w;
    acc.iter()
        .enumerate()
        .map(|(i, &s)| {
            let oc = (i / plane) % p.out_c;
            p.activation
                .apply((s + bias.map_or(0.0, |b| b[oc] as f64)) as f32)
        })
        .collect()
}

/// Runs the kernel on NCHW data with ONNX weights and returns NCHW.
fn run_nchw(
    p: &ConvTranspose2dParams,
    x: &[f32],
    w_onnx: &[f32],
    bias: Option<&[f32]>,
) -> Vec<f32> {
    let x_nhwc = permute(x, &[p.batch, p.in_c, p.in_h, p.in_w], &[0, 2, 3, 1]);
    let w = onnx_weights_to_ohwi(p, w_onnx);
    let mut y = vec![f32::NAN; p.batch * p.out_h * p.out_w * p.out_c];
    conv_transpose2d_f32(p, &x_nhwc, &w, bias, &mut y);
    permute(&y, &[p.batch, p.out_h, p.out_w, p.out_c], &[0, 3, 1, 2])
}

#[test]
fn stride2_kernel2_by_hand_with_cropping() {
    // Input [1 2; 3 4], all-ones 2x2 kernel, stride 2: each input becomes a 2x2 block of a 4x4
    // output. Cropping one row/column on each side (pads 1) leaves the centre [1 2; 3 4].
    let x = [1.0, 2.0, 3.0, 4.0];
    let p = params(
        (1, 2, 2, 1),
        1,
        (2, 2),
        (2, 2),
        (1, 1),
        (0, 0, 0, 0),
        (0, 0),
        1,
    )
    .unwrap_or_default();
    let mut y = [0f32; 16];
    conv_transpose2d_f32(&p, &x, &[1.0; 4], None, &mut y);
    #[rustfmt::skip]
    assert_eq!(y, [1.0, 1.0, 2.0, 2.0,
                   1.0, 1.0, 2.0, 2.0,
                   3.0, 3.0, 4.0, 4.0,
                   3.0, 3.0, 4.0, 4.0]);
    let p = params(
        (1, 2, 2, 1),
        1,
        (2, 2),
        (2, 2),
        (1, 1),
        (1, 1, 1, 1),
        (0, 0),
        1,
    )
    .unwrap_or_default();
    assert_eq!((p.out_h, p.out_w), (2, 2));
    let mut y = [0f32; 4];
    conv_transpose2d_f32(&p, &x, &[1.0; 4], Some(&[0.5]), &mut y);
    assert_eq!(y, [1.5, 2.5, 3.5, 4.5]);
    // Output padding 1 (out 5x5, no crop): the extra row/column receives only the bias.
    let p = params(
        (1, 2, 2, 1),
        1,
        (2, 2),
        (2, 2),
        (1, 1),
        (0, 0, 0, 0),
        (1, 1),
        1,
    )
    .unwrap_or_default();
    let mut y = [0f32; 25];
    conv_transpose2d_f32(&p, &x, &[1.0; 4], Some(&[-1.0]), &mut y);
    assert_eq!(&y[..5], &[0.0, 0.0, 1.0, 1.0, -1.0]);
    assert_eq!(&y[20..], &[-1.0; 5]);
}

/// Expected values produced by ONNX's reference evaluator (onnx 1.23.2,
/// `onnx.reference.ReferenceEvaluator`) on a single ConvTranspose node, opset 17, attributes
/// strides=[2,2], pads=[1,1,1,1], output_padding=[1,1], with
/// `rng = np.random.default_rng(0); x = rng.integers(-4, 5, size=(1,2,3,3)); w = rng.integers(-3, 4, size=(2,3,3,3))`
/// (as float32) and B = [0.5, -1, 2]. onnxruntime 1.32 gives identical values.
#[test]
fn matches_onnx_reference_stride2_pads_output_padding() {
    let x = [
        3.0, 1.0, 0.0, -2.0, -2.0, -4.0, -4.0, -4.0, -3.0, 3.0, 1.0, 4.0, 0.0, 1.0, 4.0, 2.0, 1.0,
        0.0,
    ];
    #[rustfmt::skip]
    let w = [0.0, 3.0, -2.0, 2.0, 1.0, -3.0, -1.0, 3.0, 0.0, -3.0, 2.0, 2.0, 2.0, -2.0, -3.0, 3.0, -3.0, 0.0,
        -3.0, -1.0, 0.0, -1.0, -1.0, -3.0, -3.0, -3.0, -3.0, 1.0, 0.0, 1.0, -2.0, 1.0, 2.0, -1.0, 0.0, 3.0,
        2.0, 3.0, -1.0, 1.0, 3.0, 1.0, 2.0, 1.0, 1.0, -1.0, 3.0, -3.0, 1.0, 2.0, 2.0, 0.0, -1.0, -1.0];
    #[rustfmt::skip]
    let expected = [6.5, -2.5, 2.5, -8.5, 4.5, 8.5, 3.5, 12.5, -2.5, 8.5, -11.5, 24.5, -1.5, 0.5, -0.5, -7.5,
        0.5, 20.5, -17.5, 12.5, -17.5, 12.5, -20.5, 18.5, -1.5, 6.5, -2.5, 8.5, -2.5, 9.5, -11.5, 9.5, -11.5,
        6.5, -8.5, 0.5, 2.0, -4.0, 0.0, 1.0, 11.0, 3.0, -11.0, 11.0, -4.0, 23.0, 7.0, -9.0, 3.0, 2.0, 6.0,
        2.0, 19.0, 15.0, 3.0, -1.0, 1.0, -4.0, 9.0, -3.0, 13.0, 6.0, 10.0, 6.0, 5.0, 8.0, 13.0, -9.0, 12.0,
        -9.0, 8.0, -1.0, 5.0, -1.0, 3.0, 5.0, 10.0, 10.0, -8.0, -8.0, 3.0, 3.0, 14.0, -14.0, 4.0, 11.0, 6.0,
        18.0, 14.0, 22.0, 18.0, 19.0, 14.0, 25.0, 13.0, 10.0, 10.0, 23.0, 8.0, 19.0, 5.0, 11.0, 12.0, 24.0,
        13.0, 22.0, 11.0, 11.0];
    let p = params(
        (1, 3, 3, 2),
        3,
        (3, 3),
        (2, 2),
        (1, 1),
        (1, 1, 1, 1),
        (1, 1),
        1,
    )
    .unwrap_or_default();
    assert_eq!((p.out_h, p.out_w), (6, 6));
    let got = run_nchw(&p, &x, &w, Some(&[0.5, -1.0, 2.0]));
    assert_eq!(got.as_slice(), expected.as_slice());
    // The naive scatter agrees too.
    assert_eq!(
        naive_nchw(&p, &x, &w, Some(&[0.5, -1.0, 2.0])).as_slice(),
        expected.as_slice()
    );
}

#[test]
fn grouped_dilated_with_activation() {
    let mut p = params(
        (2, 3, 4, 4),
        6,
        (3, 2),
        (2, 3),
        (2, 1),
        (2, 1, 1, 0),
        (1, 2),
        2,
    )
    .unwrap_or_default();
    p.activation = Activation::Relu;
    let mut rng = Rng::new(3);
    let x = rng.ints(2 * 4 * 3 * 4, -3, 3);
    let w = rng.ints(4 * 3 * 3 * 2, -2, 2);
    let b = rng.ints(6, -2, 2);
    let r = close(
        &run_nchw(&p, &x, &w, Some(&b)),
        &naive_nchw(&p, &x, &w, Some(&b)),
        0.0,
    );
    assert!(r.is_ok(), "{:?}", r.err());
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(200))]
    #[test]
    fn matches_naive(
        batch in 1usize..=2,
        groups in 1usize..=2,
        cpg in 1usize..=3,
        opg in 1usize..=6,
        in_hw in (1usize..=4, 1usize..=4),
        kernel in (1usize..=3, 1usize..=3),
        stride in (1usize..=3, 1usize..=3),
        dilation in (1usize..=2, 1usize..=2),
        pads in (0usize..=2, 0usize..=2, 0usize..=2, 0usize..=2),
        out_pad in (0usize..=2, 0usize..=2),
        with_bias in any::<bool>(),
        seed in any::<u64>(),
    ) {
        prop_assume!(out_pad.0 < stride.0.max(dilation.0) && out_pad.1 < stride.1.max(dilation.1));
        let p = params((batch, in_hw.0, in_hw.1, groups * cpg), groups * opg, kernel, stride, dilation, pads, out_pad, groups);
        prop_assume!(p.is_some());
        let p = p.unwrap_or_default();
        let mut rng = Rng::new(seed);
        let x = rng.ints(p.batch * p.in_c * p.in_h * p.in_w, -4, 4);
        let w = rng.ints(p.in_c * opg * p.kernel_h * p.kernel_w, -3, 3);
        let b = rng.ints(p.out_c, -5, 5);
        let bias = with_bias.then_some(b.as_slice());
        let r = close(&run_nchw(&p, &x, &w, bias), &naive_nchw(&p, &x, &w, bias), 0.0);
        prop_assert!(r.is_ok(), "{:?}: {:?}", p, r.err());
    }
}
