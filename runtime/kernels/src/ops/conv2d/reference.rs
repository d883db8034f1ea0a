//! Portable scalar reference for 2-D convolution (NHWC activations, OHWI weights).
//!
//! Loop nest: for each output pixel, the output channels are initialised with the bias, then
//! every kernel tap inside the input adds, for every output channel, the dot product of the
//! tap's input channels (contiguous in NHWC) with the matching weight row (contiguous in OHWI).
//! Each output therefore accumulates in f32 in the natural order: bias, then kh, kw, ic
//! ascending. Taps in the padding are skipped (they would add 0), and their range is computed
//! once per output row/column instead of being tested per multiply.
use super::Conv2dParams;
use crate::ops::util::{accumulate_tap, sub, sub_mut, tap_range};

/// [`conv2d_f32_reference`] as an entry of the dispatch list: accepts every call.
pub(super) fn conv2d_f32_reference_impl(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    conv2d_f32_reference(p, input, weights, bias, output);
    true
}

pub(super) fn conv2d_f32_reference(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let groups = p.groups.max(1);
    let cpg = p.in_c / groups; // input channels per group
    let opg = p.out_c / groups; // output channels per group
    let k_len = p.kernel_h * p.kernel_w * cpg; // weights per output channel
    debug_assert!(p.groups >= 1 && cpg * groups == p.in_c && opg * groups == p.out_c);
    debug_assert!(p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1);
    debug_assert_eq!(input.len(), p.batch * p.in_h * p.in_w * p.in_c);
    debug_assert_eq!(weights.len(), p.out_c * k_len);
    debug_assert!(bias.is_none_or(|b| b.len() == p.out_c));
    debug_assert_eq!(output.len(), p.batch * p.out_h * p.out_w * p.out_c);

    for n in 0..p.batch {
        for oh in 0..p.out_h {
            let ih0 = (oh * p.stride_h) as isize - p.pad_top as isize;
            let (kh0, kh1) = tap_range(ih0, p.dilation_h, p.kernel_h, 0, p.in_h as isize);
            for ow in 0..p.out_w {
                let iw0 = (ow * p.stride_w) as isize - p.pad_left as isize;
                let (kw0, kw1) = tap_range(iw0, p.dilation_w, p.kernel_w, 0, p.in_w as isize);
                let out_px = sub_mut(
                    output,
                    ((n * p.out_h + oh) * p.out_w + ow) * p.out_c,
                    p.out_c,
                );
                match bias {
                    Some(b) => {
                        for (o, &bv) in out_px.iter_mut().zip(b) {
                            *o = bv;
                        }
                    }
                    None => out_px.fill(0.0),
                }
                if cpg == 0 || opg == 0 {
                    p.activation.apply_slice(out_px);
                    continue;
                }
                for kh in kh0..kh1 {
                    // In range by construction of kh0..kh1.
                    let ih = (ih0 + (kh * p.dilation_h) as isize) as usize;
                    let row = (n * p.in_h + ih) * p.in_w;
                    for kw in kw0..kw1 {
                        let iw = (iw0 + (kw * p.dilation_w) as isize) as usize;
                        let in_px = sub(input, (row + iw) * p.in_c, p.in_c);
                        let tap = (kh * p.kernel_w + kw) * cpg;
                        accumulate_tap(out_px, in_px, weights, k_len, tap, cpg, opg);
                    }
                }
                p.activation.apply_slice(out_px);
            }
        }
    }
}
