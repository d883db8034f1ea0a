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
//! the reference's: `multiply_by_quantized_multiplier` through [`PreparedMultiplier`] (quant
//! module; its short right-shift paths: layers with a left-shift multiplier, which no quantized
//! model has, are declined) or the double-precision scale of
//! LiteRT's `BUILTIN_REF`, computed in integers bit for bit by [`PreparedScale`] (quant module;
//! software double arithmetic costs about 500 instructions per output on a Cortex-M4).

// Helium builds leave these kernels out of the dispatch lists (the Helium ones cover them).
#![cfg_attr(mote_helium, allow(dead_code))]

use super::{s8_call_ok, FullyConnectedS8Params};
use crate::arch::arm_dsp::smlad;
use crate::arch::arm_dsp::{dot_pairs_1x4, load_word, pair, sadd16, sxtb16, sxtb16_ror8};
use crate::dispatch::Isa;
use crate::ops::util::{clamp_s8, sub, sub_mut};
use crate::quant::{PreparedMultiplier, PreparedScale, Rounding};

/// Deepest input row expanded on the stack (2 bytes per value: 1280 bytes).
pub(crate) const MAX_DEPTH: usize = 640;

/// The output stage of one call: `acc` (bias included) of `unit` to int8.
pub(super) trait Stage {
    fn out(&self, unit: usize, acc: i32) -> i8;
}

/// `multiply_by_quantized_multiplier` (quant module), prepared per unit, by its short
/// right-shift paths (`MODE`); calls with another multiplier are declined.
pub(super) struct Mbqm<'a, const MODE: u8> {
    pub(super) p: &'a FullyConnectedS8Params,
    pub(super) mults: &'a [i32],
    pub(super) shifts: &'a [i32],
    /// The per-tensor multiplier (or unit 0's), prepared once.
    pub(super) first: PreparedMultiplier,
}

/// Every multiplier a right shift, double rounding.
pub(super) const RIGHT_DOUBLE: u8 = 1;
/// Every multiplier a right shift, single rounding.
pub(super) const RIGHT_SINGLE: u8 = 2;

impl<const MODE: u8> Stage for Mbqm<'_, MODE> {
    #[inline(always)]
    fn out(&self, unit: usize, acc: i32) -> i8 {
        let m = if self.mults.len() > 1 {
            PreparedMultiplier::new(
                self.mults.get(unit).copied().unwrap_or(0),
                self.shifts.get(unit).copied().unwrap_or(0),
                self.p.rounding,
            )
        } else {
            self.first
        };
        let v = match MODE {
            RIGHT_DOUBLE => m.apply_right_double(acc),
            _ => m.apply_right_single(acc),
        };
        clamp_s8(
            v.saturating_add(self.p.output_offset),
            self.p.act_min,
            self.p.act_max,
        )
    }
}

/// LiteRT `BUILTIN_REF`'s double-precision scale, in integers ([`PreparedScale`]).
pub(super) struct Scaled<'a> {
    pub(super) p: &'a FullyConnectedS8Params,
    pub(super) scales: &'a [f64],
    pub(super) first: PreparedScale,
}

impl Stage for Scaled<'_> {
    #[inline(always)]
    fn out(&self, unit: usize, acc: i32) -> i8 {
        let scale = if self.scales.len() > 1 {
            PreparedScale::new(self.scales.get(unit).copied().unwrap_or(0.0))
        } else {
            self.first
        };
        // The double expression, exact up to ±2^16 and beyond it of the right sign, then the
        // zero point (|offset| ≤ 2^15, checked by the caller) and the int8 clamp: the
        // reference's result.
        clamp_s8(
            scale.apply_bounded(acc) + self.p.output_offset,
            self.p.act_min,
            self.p.act_max,
        )
    }
}

/// Writes every output, `stage.out(unit, bias + Σ (x + offset)·w)` (sums wrapping).
fn run<S: Stage>(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    stage: &S,
    output: &mut [i8],
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
        let out_row = sub_mut(output, m * p.units, p.units);
        let mut u = 0;
        while u + 4 <= p.units {
            // The biases start the sums.
            let init = match bias.and_then(|b| b.get(u..u + 4)) {
                Some(&[b0, b1, b2, b3]) => [b0, b1, b2, b3],
                _ => [0; 4],
            };
            let mut a = if words > 0 && (u + 4) * k <= weights.len() {
                // SAFETY: `buf` holds 2·words pairs (words ≤ MAX_DEPTH / 4); unit rows u .. u+4
                // are inside `weights` (checked), each read for 4·words ≤ k bytes.
                unsafe { dot_pairs_1x4(buf.as_ptr(), weights.as_ptr().add(u * k), k, words, init) }
            } else {
                init
            };
            if !tail.is_empty() {
                for (j, v) in a.iter_mut().enumerate() {
                    *v = v.wrapping_add(tail_dot(u + j));
                }
            }
            if let Some([o0, o1, o2, o3]) = out_row.get_mut(u..u + 4) {
                *o0 = stage.out(u, a[0]);
                *o1 = stage.out(u + 1, a[1]);
                *o2 = stage.out(u + 2, a[2]);
                *o3 = stage.out(u + 3, a[3]);
            }
            u += 4;
        }
        while u < p.units {
            let w = sub(weights, u * k, k);
            let mut a = 0i32;
            for (i, pr) in buf.chunks_exact(2).take(words).enumerate() {
                let t = if w.len() == k {
                    // SAFETY: 4·i + 4 ≤ k = w.len() (the row is whole: s8_call_ok).
                    unsafe { load_word(w.as_ptr().add(4 * i)) }
                } else {
                    0
                };
                a = smlad(pr[0], sxtb16(t), a);
                a = smlad(pr[1], sxtb16_ror8(t), a);
            }
            if let Some(o) = out_row.get_mut(u) {
                *o = stage.out(u, a.wrapping_add(tail_dot(u)).wrapping_add(b(u)));
            }
            u += 1;
        }
    }
}

/// `fully_connected_s8_arm_dsp`: see the module docs; declines without the DSP extension.
#[cfg_attr(any(not(target_arch = "arm"), mote_helium), allow(dead_code))]
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
    let ok = s8_call_ok(
        p,
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        mults.len(),
        output.len(),
    ) && mults.len() == shifts.len()
        && p.depth <= MAX_DEPTH;
    if !ok {
        return false;
    }
    let all_right = mults
        .iter()
        .zip(shifts)
        .all(|(&m, &s)| PreparedMultiplier::new(m, s, p.rounding).is_right_shift());
    let first = PreparedMultiplier::new(
        mults.first().copied().unwrap_or(0),
        shifts.first().copied().unwrap_or(0),
        p.rounding,
    );
    match (all_right, p.rounding) {
        (true, Rounding::Double) => run(
            p,
            input,
            weights,
            bias,
            &Mbqm::<RIGHT_DOUBLE> {
                p,
                mults,
                shifts,
                first,
            },
            output,
        ),
        (true, Rounding::Single) => run(
            p,
            input,
            weights,
            bias,
            &Mbqm::<RIGHT_SINGLE> {
                p,
                mults,
                shifts,
                first,
            },
            output,
        ),
        // A left-shift multiplier (no quantized model has one): the reference runs the layer.
        _ => return false,
    }
    true
}

/// `fully_connected_s8_scaled_arm_dsp`: LiteRT `BUILTIN_REF`'s output stage.
#[cfg_attr(any(not(target_arch = "arm"), mote_helium), allow(dead_code))]
pub(crate) fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    scales: &[f64],
    output: &mut [i8],
) -> bool {
    Isa::ArmDsp.available()
        && fully_connected_s8_scaled_any_host(p, input, weights, bias, scales, output)
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
    // The output stage's scaled value is exact only up to ±2^16 before the zero point: exact for
    // zero points far inside that (every int8 one); others run the reference.
    let ok = s8_call_ok(
        p,
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        scales.len(),
        output.len(),
    ) && p.depth <= MAX_DEPTH
        && (-(1 << 15)..=(1 << 15)).contains(&p.output_offset);
    if !ok {
        return false;
    }
    let first = PreparedScale::new(scales.first().copied().unwrap_or(0.0));
    run(
        p,
        input,
        weights,
        bias,
        &Scaled { p, scales, first },
        output,
    );
    true
}
