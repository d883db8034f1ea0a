//! int8 fully connected with AVX-512 VNNI: `fully_connected_s8_avx512_vnni` and
//! `fully_connected_s8_scaled_avx512_vnni`.
//!
//! Each output is one dot product of two contiguous rows (input row · weight row), so the
//! weights are used as stored (no packing: with one input row, packing would cost as much as the
//! product). Four units at a time share each 64-byte load of the input; `vpdpbusd` multiplies
//! the sign-flipped input (`x ^ 0x80 = x + 128`, unsigned) with the weights, a second `vpdpbusd`
//! against ones sums the weights, and `Σ w·(x + 128) + (input_offset − 128) · Σ w` is the
//! reference's `Σ w·(x + input_offset)`, wrapping in 32 bits alike. The output stage is the
//! reference's scalar function, so results are bit-exact whatever the rounding form.

use core::arch::x86_64::*;

use super::reference_s8::scaled_output;
use super::{s8_call_ok, FullyConnectedS8Params};
use crate::arch::x86::{byte_mask64, Avx512Vnni};
use crate::ops::util::requantize_output;

/// `fully_connected_s8_avx512_vnni`; `false` (nothing written) when unavailable or the call is
/// outside the covered range.
pub(crate) fn fully_connected_s8(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(t) = Avx512Vnni::get() else {
        return false;
    };
    let lens = (
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        output.len(),
    );
    if !s8_call_ok(p, lens.0, lens.1, lens.2, mults.len(), lens.3) || mults.len() != shifts.len() {
        return false;
    }
    let per_channel = mults.len() > 1;
    // SAFETY: `t` proves the instruction set; `s8_call_ok` checked the slice lengths.
    unsafe {
        run(t, p, input, weights, bias, output, |n, acc| {
            let i = if per_channel { n } else { 0 };
            requantize_output(
                acc,
                mults.get(i).copied().unwrap_or(0),
                shifts.get(i).copied().unwrap_or(0),
                p.rounding,
                p.output_offset,
                p.act_min,
                p.act_max,
            )
        })
    };
    true
}

/// `fully_connected_s8_scaled_avx512_vnni` (LiteRT's reference rounding in f64).
pub(crate) fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    scales: &[f64],
    output: &mut [i8],
) -> bool {
    let Some(t) = Avx512Vnni::get() else {
        return false;
    };
    let lens = (
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        output.len(),
    );
    if !s8_call_ok(p, lens.0, lens.1, lens.2, scales.len(), lens.3) {
        return false;
    }
    let per_channel = scales.len() > 1;
    // SAFETY: as in `fully_connected_s8`.
    unsafe {
        run(t, p, input, weights, bias, output, |n, acc| {
            let scale = scales
                .get(if per_channel { n } else { 0 })
                .copied()
                .unwrap_or(0.0);
            scaled_output(acc, scale, p)
        })
    };
    true
}

/// Computes every accumulator `bias[n] + Σ_k w[n,k]·(x[m,k] + input_offset)` and writes
/// `stage(n, acc)` to `output[m, n]`.
///
/// # Safety
/// AVX-512 VNNI available; slice lengths checked by [`s8_call_ok`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn run(
    _t: Avx512Vnni,
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
    stage: impl Fn(usize, i32) -> i8,
) {
    let (k, units) = (p.depth, p.units);
    let flip = _mm512_set1_epi8(i8::MIN);
    let ones = _mm512_set1_epi8(1);
    let corr = p.input_offset.wrapping_sub(128);
    let w = weights.as_ptr();
    for m in 0..p.rows {
        // SAFETY: row `m < rows` of `depth` bytes.
        let x = unsafe { input.as_ptr().add(m * k) };
        let mut n = 0;
        while n < units {
            let nb = (units - n).min(4);
            // The weights a few groups ahead, as in the AVX2 kernel: the 1280 × 1000 classifier
            // of MobileNetV2 took 0.070 ms without, 0.022 ms with (`mote bench mobilenet_v2_int8.mote
            // --per-op`, AVX-512 VNNI Zen 5).
            super::avx2::prefetch_rows(weights, n + super::avx2::PREFETCH_ROWS, nb, k);
            let mut acc = [_mm512_setzero_si512(); 4];
            let mut sw = [_mm512_setzero_si512(); 4];
            let mut kk = 0;
            while kk < k {
                let mask = byte_mask64(k - kk);
                // SAFETY: the mask keeps the loads within bytes `kk .. k` of row `m` / `n + j`
                // (rows past `nb` are not read: their lanes of `acc` stay unused).
                unsafe {
                    let xv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, x.add(kk)), flip);
                    for j in 0..nb {
                        let wv = _mm512_maskz_loadu_epi8(mask, w.add((n + j) * k + kk));
                        acc[j] = _mm512_dpbusd_epi32(acc[j], xv, wv);
                        sw[j] = _mm512_dpbusd_epi32(sw[j], ones, wv);
                    }
                }
                kk += 64;
            }
            for j in 0..nb {
                let dot = _mm512_reduce_add_epi32(acc[j]);
                let sum_w = _mm512_reduce_add_epi32(sw[j]);
                let b = bias.and_then(|b| b.get(n + j)).copied().unwrap_or(0);
                let a = dot.wrapping_add(corr.wrapping_mul(sum_w)).wrapping_add(b);
                if let Some(o) = output.get_mut(m * units + n + j) {
                    *o = stage(n + j, a);
                }
            }
            n += nb;
        }
    }
}
