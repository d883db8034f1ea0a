//! Portable scalar reference for softmax over the middle axis of `[outer, axis_len, inner]`:
//! `exp(x − max) / Σ exp(x − max)`, the sum accumulated in f32 in axis order.
use super::SoftmaxParams;
use crate::ops::util::{sub, sub_mut};

pub(super) fn softmax_f32_reference(p: &SoftmaxParams, input: &[f32], output: &mut [f32]) {
    debug_assert_eq!(input.len(), p.outer * p.axis_len * p.inner);
    debug_assert_eq!(output.len(), input.len());
    if p.inner == 0 {
        return;
    }
    let block = p.axis_len * p.inner;
    for o in 0..p.outer {
        let in_block = sub(input, o * block, block);
        let out_block = sub_mut(output, o * block, block);
        for j in 0..p.inner {
            // The `axis_len` values of this softmax, `inner` apart.
            let xs = || in_block.iter().skip(j).step_by(p.inner);
            let max = xs().fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
            let mut sum = 0.0f32;
            for (y, &x) in out_block.iter_mut().skip(j).step_by(p.inner).zip(xs()) {
                let e = libm::expf(x - max);
                *y = e;
                sum += e;
            }
            for y in out_block.iter_mut().skip(j).step_by(p.inner) {
                *y /= sum;
            }
        }
    }
}
