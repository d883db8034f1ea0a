//! f32 ↔ int8 conversions with AVX2: `quantize_f32_s8_avx2`, `dequantize_s8_f32_avx2`.
//!
//! The AVX-512 file's operations on 8 lanes (the same order, so the same bits): Quantize
//! divides (`vdivps`, correctly rounded like the scalar `/`), rounds half to even
//! (`vroundps`, like `rintf`), sends NaN to 0 (like `as i32`), clamps to ±2^30, adds the zero
//! point and clamps to int8; Dequantize converts `q − zp` exactly and multiplies once. 16
//! elements per step; the last `n % 16` go through the reference.

use core::arch::x86_64::*;

use super::reference::{dequantize_s8_f32_reference, quantize_f32_s8_reference};
use super::{DequantizeParams, QuantizeParams};
use crate::arch::x86::{pack_16_avx2, Avx2};

/// `false` (nothing written) when unavailable or the call is out of range.
pub(crate) fn quantize_f32_s8(p: &QuantizeParams, input: &[f32], output: &mut [i8]) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    if input.len() != output.len() || !(-128..=127).contains(&p.zero_point) {
        return false;
    }
    // SAFETY: `t` proves AVX2; equal lengths checked.
    unsafe { quantize_run(t, p, input, output) };
    true
}

/// # Safety
/// AVX2 available; `input.len() == output.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_run(_t: Avx2, p: &QuantizeParams, input: &[f32], output: &mut [i8]) {
    let n = output.len();
    let scale = _mm256_set1_ps(p.scale);
    let big = _mm256_set1_ps(1_073_741_824.0);
    let nbig = _mm256_set1_ps(-1_073_741_824.0);
    let zp = _mm256_set1_epi32(p.zero_point);
    let lo = _mm256_set1_epi32(-128);
    let hi = _mm256_set1_epi32(127);
    let eight = |x: *const f32| {
        // SAFETY: 8 floats readable at `x` (the loop below).
        let x = unsafe { _mm256_loadu_ps(x) };
        let r = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm256_div_ps(x, scale),
        );
        // NaN lanes to 0 (the ordered compare is all ones elsewhere).
        let r = _mm256_and_ps(r, _mm256_cmp_ps::<_CMP_ORD_Q>(r, r));
        let r = _mm256_min_ps(_mm256_max_ps(r, nbig), big);
        let q = _mm256_add_epi32(_mm256_cvtps_epi32(r), zp);
        _mm256_min_epi32(_mm256_max_epi32(q, lo), hi)
    };
    let body = n - n % 16;
    let mut i = 0;
    while i < body {
        // SAFETY: elements `i .. i + 16 ≤ n` of both equal-length slices.
        unsafe {
            let v = pack_16_avx2(
                eight(input.as_ptr().add(i)),
                eight(input.as_ptr().add(i + 8)),
            );
            _mm_storeu_si128(output.as_mut_ptr().add(i).cast(), v);
        }
        i += 16;
    }
    if let (Some(x), Some(y)) = (input.get(body..), output.get_mut(body..)) {
        quantize_f32_s8_reference(p, x, y);
    }
}

/// `false` (nothing written) when unavailable or the call is out of range.
pub(crate) fn dequantize_s8_f32(p: &DequantizeParams, input: &[i8], output: &mut [f32]) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    if input.len() != output.len() || !(-(1 << 20)..=(1 << 20)).contains(&p.zero_point) {
        return false;
    }
    // SAFETY: `t` proves AVX2; equal lengths checked.
    unsafe { dequantize_run(t, p, input, output) };
    true
}

/// # Safety
/// AVX2 available; `input.len() == output.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn dequantize_run(_t: Avx2, p: &DequantizeParams, input: &[i8], output: &mut [f32]) {
    let n = output.len();
    let scale = _mm256_set1_ps(p.scale);
    let zp = _mm256_set1_epi32(p.zero_point);
    let body = n - n % 8;
    let mut i = 0;
    while i < body {
        // SAFETY: elements `i .. i + 8 ≤ n` of both equal-length slices.
        unsafe {
            let q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(input.as_ptr().add(i).cast()));
            // |q − zp| < 2^21: exact in f32.
            let v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, zp)), scale);
            _mm256_storeu_ps(output.as_mut_ptr().add(i), v);
        }
        i += 8;
    }
    if let (Some(x), Some(y)) = (input.get(body..), output.get_mut(body..)) {
        dequantize_s8_f32_reference(p, x, y);
    }
}
