//! Fully connected with AVX2: `fully_connected_s8_avx2`, `fully_connected_s8_scaled_avx2` and
//! `fully_connected_f32_avx2`.
//!
//! int8: each output is a dot product of two contiguous rows; both are sign-extended to i16 (the
//! input with its offset added: `|x + input_offset| ≤ 255`) and multiplied with `vpmaddwd`,
//! which sums product pairs exactly in 32 bits (no `vpmaddubsw` and its 16-bit saturation). The
//! output stage is the reference's scalar function: bit-exact.
//!
//! f32: the same dot products with FMA over eight partial sums, then the bias and the
//! activation. The sum order differs from the reference's (sequential), so results differ by
//! rounding only.

use core::arch::x86_64::*;

use super::reference_s8::scaled_output;
use super::{s8_call_ok, FullyConnectedParams, FullyConnectedS8Params};
use crate::arch::x86::Avx2;
use crate::ops::util::requantize_output;

/// How far ahead of the rows being multiplied their weights are prefetched.
pub(super) const PREFETCH_ROWS: usize = 8;

/// Requests weight rows `first .. first + rows` (of `k` elements; those that exist) into the
/// cache, one prefetch per 64-byte line. The weights are read once per call, usually from
/// memory (a classifier's 1.3 MB at int8, 5 MB at f32), and the rows a few groups ahead then
/// arrive while the current ones are multiplied: the 1280 × 1000 int8 layer with cold weights
/// took 365–409 µs (median) without, 255–320 µs with (a scratch harness over 48 copies of the
/// weights).
#[inline]
pub(super) fn prefetch_rows<T>(weights: &[T], first: usize, rows: usize, k: usize) {
    let bytes = core::mem::size_of_val(weights);
    let row = k * core::mem::size_of::<T>();
    let base = weights.as_ptr().cast::<i8>();
    let mut at = first.saturating_mul(row);
    let end = first.saturating_add(rows).saturating_mul(row).min(bytes);
    while at < end {
        // SAFETY: byte `at < bytes` is inside the weights; a prefetch reads nothing
        // architecturally.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(base.add(at)) };
        at += 64;
    }
}

/// `fully_connected_s8_avx2`; `false` (nothing written) when unavailable or out of range.
pub(crate) fn fully_connected_s8(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(t) = Avx2::get() else {
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
    // SAFETY: `t` proves AVX2; `s8_call_ok` checked the slice lengths.
    unsafe {
        run_s8(t, p, input, weights, bias, output, |n, acc| {
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

/// `fully_connected_s8_scaled_avx2` (LiteRT's reference rounding in f64).
pub(crate) fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    scales: &[f64],
    output: &mut [i8],
) -> bool {
    let Some(t) = Avx2::get() else {
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
        run_s8(t, p, input, weights, bias, output, |n, acc| {
            let scale = scales
                .get(if per_channel { n } else { 0 })
                .copied()
                .unwrap_or(0.0);
            scaled_output(acc, scale, p)
        })
    };
    true
}

/// Horizontal sum of 8 i32.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn hsum_epi32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// Horizontal sum of 8 f32.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn hsum_ps(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// # Safety
/// AVX2 available; slice lengths checked by [`s8_call_ok`].
#[target_feature(enable = "avx2,fma")]
unsafe fn run_s8(
    _t: Avx2,
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
    stage: impl Fn(usize, i32) -> i8,
) {
    let (k, units) = (p.depth, p.units);
    let off = _mm256_set1_epi16(p.input_offset as i16);
    let k16 = k / 16 * 16;
    let w = weights.as_ptr();
    for m in 0..p.rows {
        let xrow = &input[m * k..(m + 1) * k];
        let x = xrow.as_ptr();
        let mut n = 0;
        while n < units {
            let nb = (units - n).min(4);
            prefetch_rows(weights, n + PREFETCH_ROWS, nb, k);
            let mut acc = [_mm256_setzero_si256(); 4];
            let mut kk = 0;
            while kk < k16 {
                // SAFETY: bytes `kk .. kk + 16 ≤ k` of row `m` and of rows `n + j < units`.
                unsafe {
                    let xv = _mm256_add_epi16(
                        _mm256_cvtepi8_epi16(_mm_loadu_si128(x.add(kk).cast())),
                        off,
                    );
                    for (j, a) in acc.iter_mut().enumerate().take(nb) {
                        let wv =
                            _mm256_cvtepi8_epi16(_mm_loadu_si128(w.add((n + j) * k + kk).cast()));
                        *a = _mm256_add_epi32(*a, _mm256_madd_epi16(xv, wv));
                    }
                }
                kk += 16;
            }
            for j in 0..nb {
                let mut a = hsum_epi32(acc[j]);
                let wrow = &weights[(n + j) * k..(n + j + 1) * k];
                for (&xv, &wv) in xrow[k16..].iter().zip(&wrow[k16..]) {
                    a = a.wrapping_add(i32::from(wv) * (i32::from(xv) + p.input_offset));
                }
                let b = bias.and_then(|b| b.get(n + j)).copied().unwrap_or(0);
                if let Some(o) = output.get_mut(m * units + n + j) {
                    *o = stage(n + j, a.wrapping_add(b));
                }
            }
            n += nb;
        }
    }
}

/// `fully_connected_f32_avx2`; `false` (nothing written) when unavailable or the slice lengths do
/// not match the shapes.
pub(crate) fn fully_connected_f32(
    p: &FullyConnectedParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    let ok = p.rows.checked_mul(p.depth) == Some(input.len())
        && p.units.checked_mul(p.depth) == Some(weights.len())
        && p.rows.checked_mul(p.units) == Some(output.len())
        && bias.is_none_or(|b| b.len() == p.units);
    if !ok {
        return false;
    }
    // SAFETY: `t` proves AVX2 and FMA; lengths checked above.
    unsafe { run_f32(t, p, input, weights, bias, output) };
    true
}

/// # Safety
/// AVX2 and FMA available; slice lengths match the shapes.
#[target_feature(enable = "avx2,fma")]
unsafe fn run_f32(
    _t: Avx2,
    p: &FullyConnectedParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let (k, units) = (p.depth, p.units);
    let k8 = k / 8 * 8;
    let w = weights.as_ptr();
    for m in 0..p.rows {
        let xrow = &input[m * k..(m + 1) * k];
        let x = xrow.as_ptr();
        let mut n = 0;
        while n < units {
            let nb = (units - n).min(4);
            prefetch_rows(weights, n + PREFETCH_ROWS, nb, k);
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut kk = 0;
            while kk < k8 {
                // SAFETY: floats `kk .. kk + 8 ≤ k` of row `m` and of rows `n + j < units`.
                unsafe {
                    let xv = _mm256_loadu_ps(x.add(kk));
                    for (j, a) in acc.iter_mut().enumerate().take(nb) {
                        *a = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w.add((n + j) * k + kk)), *a);
                    }
                }
                kk += 8;
            }
            for j in 0..nb {
                let mut a =
                    bias.and_then(|b| b.get(n + j)).copied().unwrap_or(0.0) + hsum_ps(acc[j]);
                let wrow = &weights[(n + j) * k..(n + j + 1) * k];
                for (&xv, &wv) in xrow[k8..].iter().zip(&wrow[k8..]) {
                    a += xv * wv;
                }
                if let Some(o) = output.get_mut(m * units + n + j) {
                    *o = p.activation.apply(a);
                }
            }
            n += nb;
        }
    }
}
