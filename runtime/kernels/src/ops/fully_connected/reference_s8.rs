//! Portable scalar references for the int8 fully connected layer: one dot product per output
//! (input row · weight row, both contiguous), plus the bias, then the output stage.
//!
//! - [`fully_connected_s8_reference`]: TFLite's `reference_integer_ops::FullyConnected` /
//!   `FullyConnectedPerChannel` taking `(multiplier, shift)` pairs (`kernels/internal/reference/
//!   integer_ops/fully_connected.h`; the form TFLite Micro, CMSIS-NN and LiteRT's optimized
//!   kernels use).
//! - [`fully_connected_s8_scaled_reference`]: the overloads taking float scales, which LiteRT's
//!   `BUILTIN_REF` resolver calls for int8 (`tflite/kernels/fully_connected.cc`,
//!   `FullyConnectedInt8<kReference>` / `FullyConnectedPerChannelInt8<kReference>`):
//!   `acc_scaled = (int32_t)round((double)acc * effective_scale)`.
use super::FullyConnectedS8Params;
use crate::ops::util::{clamp_s8, dot_s8, requantize_output, sub, sub_mut};

fn debug_check(p: &FullyConnectedS8Params, input: &[i8], weights: &[i8], bias: Option<&[i32]>) {
    debug_assert_eq!(input.len(), p.rows * p.depth);
    debug_assert_eq!(weights.len(), p.units * p.depth);
    debug_assert!(bias.is_none_or(|b| b.len() == p.units));
}

/// Calls `f(unit, acc, out)` for every output, `acc = bias[unit] + Σ_k w · (x + input_offset)`.
#[inline(always)]
fn for_each_acc(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
    mut f: impl FnMut(usize, i32, &mut i8),
) {
    for m in 0..p.rows {
        let x = sub(input, m * p.depth, p.depth);
        let out_row = sub_mut(output, m * p.units, p.units);
        for (n, o) in out_row.iter_mut().enumerate() {
            let w = sub(weights, n * p.depth, p.depth);
            let mut acc = dot_s8(x, w, p.input_offset);
            if let Some(b) = bias.and_then(|b| b.get(n)) {
                acc = acc.wrapping_add(*b);
            }
            f(n, acc, o);
        }
    }
}

pub(super) fn fully_connected_s8_reference(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) {
    debug_check(p, input, weights, bias);
    debug_assert!(multipliers.len() == shifts.len());
    debug_assert!(multipliers.len() == 1 || multipliers.len() == p.units);
    debug_assert_eq!(output.len(), p.rows * p.units);
    // One entry: per tensor; otherwise one per unit.
    let per_channel = multipliers.len() > 1;
    for_each_acc(p, input, weights, bias, output, |n, acc, o| {
        let i = if per_channel { n } else { 0 };
        *o = requantize_output(
            acc,
            multipliers.get(i).copied().unwrap_or(0),
            shifts.get(i).copied().unwrap_or(0),
            p.rounding,
            p.output_offset,
            p.act_min,
            p.act_max,
        );
    });
}

pub(super) fn fully_connected_s8_scaled_reference(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    effective_scales: &[f64],
    output: &mut [i8],
) {
    debug_check(p, input, weights, bias);
    debug_assert!(effective_scales.len() == 1 || effective_scales.len() == p.units);
    debug_assert_eq!(output.len(), p.rows * p.units);
    let per_channel = effective_scales.len() > 1;
    for_each_acc(p, input, weights, bias, output, |n, acc, o| {
        let scale = effective_scales
            .get(if per_channel { n } else { 0 })
            .copied()
            .unwrap_or(0.0);
        *o = scaled_output(acc, scale, p);
    });
}

/// The output stage of [`fully_connected_s8_scaled_reference`] (shared with the fast variants).
#[inline(always)]
pub(super) fn scaled_output(acc: i32, scale: f64, p: &FullyConnectedS8Params) -> i8 {
    // C's round(): half away from zero. `as i32` saturates (TFLite's static_cast is only
    // defined in range) and maps NaN to 0.
    let scaled = libm::round(f64::from(acc) * scale) as i32;
    clamp_s8(scaled.saturating_add(p.output_offset), p.act_min, p.act_max)
}
