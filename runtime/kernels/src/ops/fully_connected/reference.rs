//! Portable scalar reference for the fully connected layer: one sequential dot product per
//! output, starting from the bias.
use super::FullyConnectedParams;
use crate::ops::util::{sub, sub_mut};

pub(super) fn fully_connected_f32_reference(
    p: &FullyConnectedParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    debug_assert_eq!(input.len(), p.rows * p.depth);
    debug_assert_eq!(weights.len(), p.units * p.depth);
    debug_assert!(bias.is_none_or(|b| b.len() == p.units));
    debug_assert_eq!(output.len(), p.rows * p.units);
    for m in 0..p.rows {
        let x = sub(input, m * p.depth, p.depth);
        let out_row = sub_mut(output, m * p.units, p.units);
        for (n, o) in out_row.iter_mut().enumerate() {
            let w = sub(weights, n * p.depth, p.depth);
            let mut acc = bias.and_then(|b| b.get(n)).copied().unwrap_or(0.0);
            for (xv, wv) in x.iter().zip(w) {
                acc += xv * wv;
            }
            *o = p.activation.apply(acc);
        }
    }
}
