//! Portable scalar reference for int8 2-D convolution (NHWC activations, OHWI weights), bit-exact
//! with TFLite's `reference_integer_ops::ConvPerChannel` (`kernels/internal/reference/
//! integer_ops/conv.h`, which handles groups through `filter_input_depth`) and
//! `DepthwiseConvPerChannel` (`depthwise_conv.h`; depthwise with multiplier `k` is the grouped
//! formula with `groups = in_c`, `out_c = k · in_c`, and TFLite's depthwise output channel
//! `ic · k + m` is exactly grouped output channel `g · opg + j`).
//!
//! Loop nest: for each output pixel, the range of kernel taps inside the input is computed once
//! per row/column ([`tap_range`], as the f32 reference does); then each output channel sums, over
//! those taps, the dot product of its group's input channels (contiguous in NHWC) with its weight
//! row (contiguous in OHWI). Integer sums are exact, so the order does not matter; the sum wraps
//! in 32 bits like TFLite's `int32_t` accumulator (which never overflows for real models).
use super::Conv2dS8Params;
use crate::ops::util::{dot_s8, requantize_output, sub, sub_mut, tap_range};

/// [`conv2d_s8_reference`] as an entry of the dispatch list: accepts every call.
pub(super) fn conv2d_s8_reference_impl(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    conv2d_s8_reference(p, input, weights, bias, multipliers, shifts, output);
    true
}

pub(super) fn conv2d_s8_reference(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) {
    let g = &p.geometry;
    let groups = g.groups.max(1);
    let cpg = g.in_c / groups; // input channels per group
    let opg = g.out_c / groups; // output channels per group
    let k_len = g.kernel_h * g.kernel_w * cpg; // weights per output channel
    debug_assert!(g.groups >= 1 && cpg * groups == g.in_c && opg * groups == g.out_c);
    debug_assert!(g.stride_h >= 1 && g.stride_w >= 1 && g.dilation_h >= 1 && g.dilation_w >= 1);
    debug_assert_eq!(input.len(), g.batch * g.in_h * g.in_w * g.in_c);
    debug_assert_eq!(weights.len(), g.out_c * k_len);
    debug_assert!(bias.is_none_or(|b| b.len() == g.out_c));
    debug_assert!(multipliers.len() == g.out_c && shifts.len() == g.out_c);
    debug_assert_eq!(output.len(), g.batch * g.out_h * g.out_w * g.out_c);
    if opg == 0 {
        return;
    }

    for n in 0..g.batch {
        for oh in 0..g.out_h {
            let ih0 = (oh * g.stride_h) as isize - g.pad_top as isize;
            let (kh0, kh1) = tap_range(ih0, g.dilation_h, g.kernel_h, 0, g.in_h as isize);
            for ow in 0..g.out_w {
                let iw0 = (ow * g.stride_w) as isize - g.pad_left as isize;
                let (kw0, kw1) = tap_range(iw0, g.dilation_w, g.kernel_w, 0, g.in_w as isize);
                let out_px = sub_mut(
                    output,
                    ((n * g.out_h + oh) * g.out_w + ow) * g.out_c,
                    g.out_c,
                );
                for (oc, o) in out_px.iter_mut().enumerate() {
                    let ic0 = (oc / opg) * cpg; // first input channel of this output's group
                    let w_oc = oc * k_len;
                    let mut acc = 0i32;
                    for kh in kh0..kh1 {
                        // In range by construction of kh0..kh1.
                        let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                        let row = (n * g.in_h + ih) * g.in_w;
                        for kw in kw0..kw1 {
                            let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                            let x = sub(input, (row + iw) * g.in_c + ic0, cpg);
                            let w = sub(weights, w_oc + (kh * g.kernel_w + kw) * cpg, cpg);
                            acc = acc.wrapping_add(dot_s8(x, w, p.input_offset));
                        }
                    }
                    if let Some(b) = bias.and_then(|b| b.get(oc)) {
                        acc = acc.wrapping_add(*b);
                    }
                    *o = requantize_output(
                        acc,
                        multipliers.get(oc).copied().unwrap_or(0),
                        shifts.get(oc).copied().unwrap_or(0),
                        p.rounding,
                        p.output_offset,
                        p.act_min,
                        p.act_max,
                    );
                }
            }
        }
    }
}
