//! Portable scalar reference for 2-D transposed convolution (NHWC, OHWI weights).
//!
//! Written as a gather rather than the scatter of the contract (same sum, each output written
//! once): output `(oh, ow)` receives input `(ih, iw)` through tap `(kh, kw)` exactly when
//! `oh + pad_top − kh·dilation_h = ih·stride_h` (likewise for width). Each output accumulates
//! in f32 from 0 over kh, kw, ic ascending; the bias is added last, then the activation.
use super::ConvTranspose2dParams;
use crate::ops::util::{accumulate_tap, sub, sub_mut};

/// The input index that reaches output `o` through tap `k`, if any.
#[inline(always)]
fn source(
    o: usize,
    pad: usize,
    k: usize,
    dilation: usize,
    stride: usize,
    in_len: usize,
) -> Option<usize> {
    let t = (o + pad).checked_sub(k * dilation)?;
    let stride = stride.max(1);
    if t % stride != 0 {
        return None;
    }
    let i = t / stride;
    (i < in_len).then_some(i)
}

pub(super) fn conv_transpose2d_f32_reference(
    p: &ConvTranspose2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let groups = p.groups.max(1);
    let cpg = p.in_c / groups;
    let opg = p.out_c / groups;
    let k_len = p.kernel_h * p.kernel_w * cpg;
    debug_assert!(p.groups >= 1 && cpg * groups == p.in_c && opg * groups == p.out_c);
    debug_assert!(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1);
    debug_assert_eq!(input.len(), p.batch * p.in_h * p.in_w * p.in_c);
    debug_assert_eq!(weights.len(), p.out_c * k_len);
    debug_assert!(bias.is_none_or(|b| b.len() == p.out_c));
    debug_assert_eq!(output.len(), p.batch * p.out_h * p.out_w * p.out_c);

    for n in 0..p.batch {
        for oh in 0..p.out_h {
            for ow in 0..p.out_w {
                let out_px = sub_mut(
                    output,
                    ((n * p.out_h + oh) * p.out_w + ow) * p.out_c,
                    p.out_c,
                );
                out_px.fill(0.0);
                if cpg != 0 && opg != 0 {
                    for kh in 0..p.kernel_h {
                        let Some(ih) = source(oh, p.pad_top, kh, p.dilation_h, p.stride_h, p.in_h)
                        else {
                            continue;
                        };
                        for kw in 0..p.kernel_w {
                            let Some(iw) =
                                source(ow, p.pad_left, kw, p.dilation_w, p.stride_w, p.in_w)
                            else {
                                continue;
                            };
                            let in_px =
                                sub(input, ((n * p.in_h + ih) * p.in_w + iw) * p.in_c, p.in_c);
                            let tap = (kh * p.kernel_w + kw) * cpg;
                            accumulate_tap(out_px, in_px, weights, k_len, tap, cpg, opg);
                        }
                    }
                }
                if let Some(b) = bias {
                    for (o, &bv) in out_px.iter_mut().zip(b) {
                        *o += bv;
                    }
                }
                p.activation.apply_slice(out_px);
            }
        }
    }
}
