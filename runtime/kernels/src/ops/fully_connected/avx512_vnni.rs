//! int8 fully connected with AVX-512 VNNI: `fully_connected_s8_avx512_vnni` and
//! `fully_connected_s8_scaled_avx512_vnni`.
//!
//! Each output is one dot product of two contiguous rows (input row · weight row), so the
//! weights are used as stored (no packing: with one input row, packing would cost as much as the
//! product). Four units at a time share each 64-byte load of the input; `vpdpbusd` multiplies
//! the sign-flipped input (`x ^ 0x80 = x + 128`, unsigned) with the weights, a second `vpdpbusd`
//! against ones sums the weights (unless `input_offset = 128`, when their term is 0), and
//! `Σ w·(x + 128) + (input_offset − 128) · Σ w` is the reference's `Σ w·(x + input_offset)`,
//! wrapping in 32 bits alike. The four units' sums are reduced together ([`sum4`]). The output stage is the
//! reference's scalar function, so results are bit-exact whatever the rounding form.

use core::arch::x86_64::*;

use super::reference_s8::scaled_output;
use super::{s8_call_ok, FullyConnectedS8Params};
use crate::arch::x86::{byte_mask64, lane_mask16, Avx512Vnni};
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
    // With the input offset 128 (zero point −128: the output of a ReLU, of the average pool
    // before a classifier) the correction `(input_offset − 128) · Σ w` is 0 and the weights'
    // sums, half of the `vpdpbusd`s, are not needed.
    // SAFETY: forwarded from the caller.
    unsafe {
        if p.input_offset == 128 {
            run_units::<false>(p, input, weights, bias, output, stage)
        } else {
            run_units::<true>(p, input, weights, bias, output, stage)
        }
    }
}

/// [`run`]; `SUMS`: sum each weight row (for an input offset other than 128).
///
/// # Safety
/// As [`run`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn run_units<const SUMS: bool>(
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
    let corr = _mm_set1_epi32(p.input_offset.wrapping_sub(128));
    let (full, tail) = (k / 64, byte_mask64(k % 64));
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
            // Rows past `nb` read row `n` again (always there) and are not stored: no branch
            // in the loop.
            let rows: [*const i8; 4] = core::array::from_fn(|j| {
                // SAFETY: row `n + j` (or `n`) of the weights, `< units`.
                unsafe { w.add((n + if j < nb { j } else { 0 }) * k) }
            });
            let mut acc = [_mm512_setzero_si512(); 4];
            let mut sw = [_mm512_setzero_si512(); 4];
            let mut step = |at: usize, mask: u64| {
                // SAFETY: the mask keeps the loads within bytes `at .. k` of row `m` and of the
                // four weight rows.
                unsafe {
                    let xv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, x.add(at)), flip);
                    for j in 0..4 {
                        let wv = _mm512_maskz_loadu_epi8(mask, rows[j].add(at));
                        acc[j] = _mm512_dpbusd_epi32(acc[j], xv, wv);
                        if SUMS {
                            sw[j] = _mm512_dpbusd_epi32(sw[j], ones, wv);
                        }
                    }
                }
            };
            for c in 0..full {
                step(64 * c, u64::MAX);
            }
            if tail != 0 {
                step(64 * full, tail);
            }
            // Lane `j` the sum of `acc[j]`, then `+ (input_offset − 128) · Σ w`, `+ bias`.
            let mut a = sum4(&acc);
            if SUMS {
                a = _mm_add_epi32(a, _mm_mullo_epi32(corr, sum4(&sw)));
            }
            if let Some(b) = bias {
                // SAFETY: the bias has `units` entries (`s8_call_ok`); the mask keeps `nb`.
                let bv = unsafe { _mm_maskz_loadu_epi32(lane_mask16(nb) as u8, b.as_ptr().add(n)) };
                a = _mm_add_epi32(a, bv);
            }
            let mut lanes = [0i32; 4];
            // SAFETY: 16 bytes.
            unsafe { _mm_storeu_si128(lanes.as_mut_ptr().cast(), a) };
            for (j, &v) in lanes.iter().enumerate().take(nb) {
                if let Some(o) = output.get_mut(m * units + n + j) {
                    *o = stage(n + j, v);
                }
            }
            n += nb;
        }
    }
}

/// The sums of four vectors' lanes, as lanes 0–3 (pairwise adds of interleaved halves: 13
/// operations, counted from the code below, where four `_mm512_reduce_add_epi32` take about 9
/// each).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
fn sum4(v: &[__m512i; 4]) -> __m128i {
    // Per 128-bit lane: [v0 0+2, v1 0+2, v0 1+3, v1 1+3] and the same for v2, v3.
    let s01 = _mm512_add_epi32(
        _mm512_unpacklo_epi32(v[0], v[1]),
        _mm512_unpackhi_epi32(v[0], v[1]),
    );
    let s23 = _mm512_add_epi32(
        _mm512_unpacklo_epi32(v[2], v[3]),
        _mm512_unpackhi_epi32(v[2], v[3]),
    );
    // Per 128-bit lane: [v0, v1, v2, v3] partial sums.
    let t = _mm512_add_epi32(
        _mm512_unpacklo_epi64(s01, s23),
        _mm512_unpackhi_epi64(s01, s23),
    );
    // Across the four 128-bit lanes.
    let t = _mm512_add_epi32(t, _mm512_shuffle_i32x4::<0b0100_1110>(t, t));
    let t = _mm512_add_epi32(t, _mm512_shuffle_i32x4::<0b1011_0001>(t, t));
    _mm512_castsi512_si128(t)
}
