//! int8 fully connected with Helium (MVE) on the Cortex-M55/M85: `fully_connected_s8_helium`
//! and `fully_connected_s8_scaled_helium`.
//!
//! `Σ (x + offset)·w = Σ x·w + offset·Σ w`: the raw int8 row meets four weight rows at a time in
//! one tail-predicated loop (`arch::helium::dot_1x4`: per 16 bytes of depth 5 `vldrb` and 4
//! `vmladava.s8`), and each unit's `Σ w` comes from a second loop (`vldrb`, `vaddva.s8`), once
//! per call for all rows. All sums wrap in 32 bits like the reference's, so the result is
//! identical bit for bit. The output stages are the DSP kernel's (`arm_dsp.rs`: the quant
//! module's multiplier, short right-shift paths, or LiteRT `BUILTIN_REF`'s double scale in
//! integers), per output.
//!
//! Declined (the DSP kernel or the reference runs them): left-shift multipliers, output zero
//! points beyond ±2^15 with the double scale.

use super::arm_dsp::{Mbqm, Scaled, Stage, RIGHT_DOUBLE, RIGHT_SINGLE};
use super::{s8_call_ok, FullyConnectedS8Params};
use crate::arch::helium::{dot_1x1, dot_1x4, sum_s8};
use crate::dispatch::Isa;
use crate::ops::util::{sub, sub_mut};
use crate::quant::{PreparedMultiplier, PreparedScale, Rounding};

/// Units whose `bias + offset·Σ w` is kept at once.
const CHUNK: usize = 64;

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
    if k == 0 {
        // No products: every output is its bias.
        for m in 0..p.rows {
            for (u, o) in sub_mut(output, m * p.units, p.units).iter_mut().enumerate() {
                *o = stage.out(u, bias.and_then(|b| b.get(u)).copied().unwrap_or(0));
            }
        }
        return;
    }
    let mut folded = [0i32; CHUNK];
    let mut u0 = 0;
    while u0 < p.units {
        let n = (p.units - u0).min(CHUNK);
        for (j, f) in folded.iter_mut().enumerate().take(n) {
            let u = u0 + j;
            let w = sub(weights, u * k, k);
            if w.len() != k {
                return;
            }
            // SAFETY: w has k > 0 bytes.
            let s = unsafe { sum_s8(w.as_ptr(), k) };
            let b = bias.and_then(|b| b.get(u)).copied().unwrap_or(0);
            *f = b.wrapping_add(p.input_offset.wrapping_mul(s));
        }
        let Some(w_chunk) = weights.get(u0 * k..(u0 + n) * k) else {
            return;
        };
        for m in 0..p.rows {
            let x = sub(input, m * k, k);
            if x.len() != k {
                return;
            }
            let out = sub_mut(output, m * p.units + u0, n);
            let mut j = 0;
            while j + 4 <= n {
                // SAFETY: x has k > 0 bytes; rows j .. j + 4 of the chunk are inside w_chunk.
                let d = unsafe { dot_1x4(x.as_ptr(), w_chunk.as_ptr().add(j * k), k, k) };
                if let (Some([o0, o1, o2, o3]), Some(&[f0, f1, f2, f3])) =
                    (out.get_mut(j..j + 4), folded.get(j..j + 4))
                {
                    *o0 = stage.out(u0 + j, d[0].wrapping_add(f0));
                    *o1 = stage.out(u0 + j + 1, d[1].wrapping_add(f1));
                    *o2 = stage.out(u0 + j + 2, d[2].wrapping_add(f2));
                    *o3 = stage.out(u0 + j + 3, d[3].wrapping_add(f3));
                }
                j += 4;
            }
            while j < n {
                let Some(w) = w_chunk.get(j * k..(j + 1) * k) else {
                    return;
                };
                // SAFETY: x and w have k > 0 bytes.
                let d = unsafe { dot_1x1(x.as_ptr(), w.as_ptr(), k) };
                if let (Some(o), Some(&f)) = (out.get_mut(j), folded.get(j)) {
                    *o = stage.out(u0 + j, d.wrapping_add(f));
                }
                j += 1;
            }
        }
        u0 += n;
    }
}

/// `fully_connected_s8_helium`: see the module docs; declines without Helium.
#[cfg_attr(not(mote_helium), allow(dead_code))]
pub(crate) fn fully_connected_s8(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    Isa::Helium.available()
        && fully_connected_s8_any_host(p, input, weights, bias, mults, shifts, output)
}

/// [`fully_connected_s8`] without the availability check (its vector code is emulated on other
/// hosts, for the tests).
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
    ) && mults.len() == shifts.len();
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
        _ => return false,
    }
    true
}

/// `fully_connected_s8_scaled_helium`: LiteRT `BUILTIN_REF`'s output stage.
#[cfg_attr(not(mote_helium), allow(dead_code))]
pub(crate) fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    scales: &[f64],
    output: &mut [i8],
) -> bool {
    Isa::Helium.available()
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
    // As the DSP kernel: the scaled value is exact up to ±2^16 before the zero point.
    let ok = s8_call_ok(
        p,
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        scales.len(),
        output.len(),
    ) && (-(1 << 15)..=(1 << 15)).contains(&p.output_offset);
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
