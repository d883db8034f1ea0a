//! int8 fully connected with the Arm DSP extension (Cortex-M4/M7/M33/M55):
//! `fully_connected_s8_arm_dsp` and `fully_connected_s8_scaled_arm_dsp`.
//!
//! Per input row, the row plus the input offset is expanded once into halfword pairs on the
//! stack (`sxtb16`, `sadd16`: `x + offset` lies in `[−255, 255]`), in the lane order of
//! `sxtb16` (bytes 0/2, then 1/3 of each word); then four units at a time take the dot product
//! with their weight rows (`arch::arm_dsp::dot_pairs_1x4`: per 4 bytes of depth one `ldrd` of
//! the row, 4 weight words, 8 `sxtb16`, 8 `smlad`). Depths past a multiple of 4 and the last
//! 1-3 units are finished in scalar code. Unlike the convolution, the offset is not folded into
//! the bias: with one row per call, `offset · Σ w` would cost as much as the dot product.
//!
//! Depths beyond [`MAX_DEPTH`] are declined (the reference runs them). The output stages are
//! the reference's: [`requantize_output`] (quant module) or the double-precision scale of
//! LiteRT's `BUILTIN_REF` ([`scaled_output`]).

use super::reference_s8::scaled_output;
use super::{s8_call_ok, FullyConnectedS8Params};
use crate::arch::arm_dsp::{dot_pairs_1x4, load_word, pair, sadd16, sxtb16, sxtb16_ror8};
use crate::dispatch::Isa;
use crate::ops::util::{requantize_output, sub};

/// Deepest input row expanded on the stack (2 bytes per value: 1280 bytes).
pub(crate) const MAX_DEPTH: usize = 640;

/// Calls `out(row, unit, acc)` for every output with `acc = bias + Σ (x + offset)·w` (wrapping);
/// `false` when the call is not covered.
#[inline(always)]
fn accumulate(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mut out: impl FnMut(usize, usize, i32),
) {
    let k = p.depth;
    let words = k / 4;
    let off = p.input_offset;
    let off_pair = pair(off as i16, off as i16);
    let mut buf = [0u32; MAX_DEPTH / 2];
    let b = |u: usize| bias.and_then(|b| b.get(u)).copied().unwrap_or(0);
    for m in 0..p.rows {
        let x = sub(input, m * k, k);
        if x.len() != k {
            return;
        }
        for (i, pr) in buf.chunks_exact_mut(2).take(words).enumerate() {
            // SAFETY: 4·i + 4 ≤ 4·words ≤ k = x.len().
            let v = unsafe { load_word(x.as_ptr().add(4 * i)) };
            pr[0] = sadd16(sxtb16(v), off_pair);
            pr[1] = sadd16(sxtb16_ror8(v), off_pair);
        }
        let tail = x.get(4 * words..).unwrap_or(&[]);
        let tail_dot = |u: usize| -> i32 {
            let w = sub(weights, u * k + 4 * words, tail.len());
            tail.iter().zip(w).fold(0i32, |a, (&xv, &wv)| {
                a.wrapping_add((i32::from(xv) + off) * i32::from(wv))
            })
        };
        let mut u = 0;
        while u + 4 <= p.units {
            let a = if words > 0 && (u + 4) * k <= weights.len() {
                // SAFETY: `buf` holds 2·words pairs (words ≤ MAX_DEPTH / 4); unit rows u .. u+4
                // are inside `weights` (checked), each read for 4·words ≤ k bytes.
                unsafe { dot_pairs_1x4(buf.as_ptr(), weights.as_ptr().add(u * k), k, words) }
            } else {
                [0; 4]
            };
            for (j, a) in a.iter().enumerate() {
                out(m, u + j, a.wrapping_add(tail_dot(u + j)).wrapping_add(b(u + j)));
            }
            u += 4;
        }
        while u < p.units {
            let w = sub(weights, u * k, k);
            let mut a = 0i32;
            for (i, pr) in buf.chunks_exact(2).take(words).enumerate() {
                // SAFETY: 4·i + 4 ≤ k = w.len() (the row is whole: s8_call_ok).
                let t = if w.len() == k { unsafe { load_word(w.as_ptr().add(4 * i)) } } else { 0 };
                a = crate::arch::arm_dsp::smlad(pr[0], sxtb16(t), a);
                a = crate::arch::arm_dsp::smlad(pr[1], sxtb16_ror8(t), a);
            }
            out(m, u, a.wrapping_add(tail_dot(u)).wrapping_add(b(u)));
            u += 1;
        }
    }
}

/// `fully_connected_s8_arm_dsp`: see the module docs; declines without the DSP extension.
#[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
pub(crate) fn fully_connected_s8(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    Isa::ArmDsp.available()
        && fully_connected_s8_any_host(p, input, weights, bias, mults, shifts, output)
}

/// [`fully_connected_s8`] without the availability check (its instructions are emulated on
/// other hosts, for the tests).
pub(crate) fn fully_connected_s8_any_host(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let ok = s8_call_ok(p, input.len(), weights.len(), bias.map(<[i32]>::len), mults.len(), output.len())
        && mults.len() == shifts.len()
        && p.depth <= MAX_DEPTH;
    if !ok {
        return false;
    }
    let per_channel = mults.len() > 1;
    accumulate(p, input, weights, bias, |m, u, acc| {
        let i = if per_channel { u } else { 0 };
        if let Some(o) = output.get_mut(m * p.units + u) {
            *o = requantize_output(
                acc,
                mults.get(i).copied().unwrap_or(0),
                shifts.get(i).copied().unwrap_or(0),
                p.rounding,
                p.output_offset,
                p.act_min,
                p.act_max,
            );
        }
    });
    true
}

/// `fully_connected_s8_scaled_arm_dsp`: LiteRT `BUILTIN_REF`'s output stage.
#[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
pub(crate) fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    scales: &[f64],
    output: &mut [i8],
) -> bool {
    Isa::ArmDsp.available() && fully_connected_s8_scaled_any_host(p, input, weights, bias, scales, output)
}

/// [`fully_connected_s8_scaled`] without the availability check.
pub(crate) fn fully_connected_s8_scaled_any_host(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    scales: &[f64],
    output: &mut [i8],
) -> bool {
    let ok = s8_call_ok(p, input.len(), weights.len(), bias.map(<[i32]>::len), scales.len(), output.len())
        && p.depth <= MAX_DEPTH;
    if !ok {
        return false;
    }
    let per_channel = scales.len() > 1;
    accumulate(p, input, weights, bias, |m, u, acc| {
        let scale = scales.get(if per_channel { u } else { 0 }).copied().unwrap_or(0.0);
        if let Some(o) = output.get_mut(m * p.units + u) {
            *o = scaled_output(acc, scale, p);
        }
    });
    true
}
