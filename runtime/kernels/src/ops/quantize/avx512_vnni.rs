//! f32 ↔ int8 conversions with AVX-512: `quantize_f32_s8_avx512_vnni`,
//! `dequantize_s8_f32_avx512_vnni`.
//!
//! Quantize performs the reference's operations in the same order on 16 lanes: the f32
//! division (`vdivps`, correctly rounded like the scalar `/`), round half to even
//! (`vrndscaleps`, like `rintf`), NaN to 0 (like `as i32`), then the zero point and the int8
//! clamp; values beyond ±2^30 are clamped first, which changes nothing after the final clamp
//! (the zero point is an int8). Dequantize's `(q − zp) as f32 · scale` is exact integer
//! conversion and one correctly rounded multiply, as in the reference.

use core::arch::x86_64::*;

use super::{DequantizeParams, QuantizeParams};
use crate::arch::x86::{lane_mask16, Avx512Vnni};

/// `false` (nothing written) when unavailable or the call is out of range.
pub(crate) fn quantize_f32_s8(p: &QuantizeParams, input: &[f32], output: &mut [i8]) -> bool {
    let Some(t) = Avx512Vnni::get() else {
        return false;
    };
    if input.len() != output.len() || !(-128..=127).contains(&p.zero_point) {
        return false;
    }
    // SAFETY: `t` proves AVX-512; equal lengths checked.
    unsafe { quantize_run(t, p, input, output) };
    true
}

/// # Safety
/// AVX-512 available; `input.len() == output.len()`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn quantize_run(_t: Avx512Vnni, p: &QuantizeParams, input: &[f32], output: &mut [i8]) {
    let n = output.len();
    let scale = _mm512_set1_ps(p.scale);
    let big = _mm512_set1_ps(1_073_741_824.0);
    let nbig = _mm512_set1_ps(-1_073_741_824.0);
    let zp = _mm512_set1_epi32(p.zero_point);
    let lo = _mm512_set1_epi32(-128);
    let hi = _mm512_set1_epi32(127);
    let mut i = 0;
    while i < n {
        let lanes = lane_mask16(n - i);
        // SAFETY: the masks keep the load and the store within `i .. n`.
        unsafe {
            let x = _mm512_maskz_loadu_ps(lanes, input.as_ptr().add(i));
            let r = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
                _mm512_div_ps(x, scale),
            );
            let ordered = _mm512_cmp_ps_mask::<_CMP_ORD_Q>(r, r);
            let r = _mm512_maskz_mov_ps(ordered, r);
            let r = _mm512_min_ps(_mm512_max_ps(r, nbig), big);
            let q = _mm512_add_epi32(_mm512_cvtps_epi32(r), zp);
            let q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
            _mm512_mask_cvtepi32_storeu_epi8(output.as_mut_ptr().add(i), lanes, q);
        }
        i += 16;
    }
}

/// `false` (nothing written) when unavailable or the call is out of range.
pub(crate) fn dequantize_s8_f32(p: &DequantizeParams, input: &[i8], output: &mut [f32]) -> bool {
    let Some(t) = Avx512Vnni::get() else {
        return false;
    };
    if input.len() != output.len() || !(-(1 << 20)..=(1 << 20)).contains(&p.zero_point) {
        return false;
    }
    // SAFETY: `t` proves AVX-512; equal lengths checked.
    unsafe { dequantize_run(t, p, input, output) };
    true
}

/// # Safety
/// AVX-512 available; `input.len() == output.len()`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn dequantize_run(_t: Avx512Vnni, p: &DequantizeParams, input: &[i8], output: &mut [f32]) {
    let n = output.len();
    let scale = _mm512_set1_ps(p.scale);
    let zp = _mm512_set1_epi32(p.zero_point);
    let mut i = 0;
    while i < n {
        let lanes = lane_mask16(n - i);
        // SAFETY: the masks keep the load and the store within `i .. n`.
        unsafe {
            let q = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, input.as_ptr().add(i)));
            // |q − zp| < 2^21: exact in f32.
            let v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, zp)), scale);
            _mm512_mask_storeu_ps(output.as_mut_ptr().add(i), lanes, v);
        }
        i += 16;
    }
}
