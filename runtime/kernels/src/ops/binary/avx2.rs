//! int8 Add/Sub and Mul, element by element (no broadcasting), with AVX2: `add_s8_avx2`,
//! `mul_s8_avx2`.
//!
//! The AVX-512 file's arithmetic on 8 lanes, 16 elements per step: widened to i32, the vector
//! `multiply_by_quantized_multiplier` of `arch::x86` (double rounding) for the input rescalings
//! and the output, the output stage, then packed to bytes. Lanes whose output left shift would
//! overflow, and the last `n % 16` elements, go through the reference's scalar element
//! function, so results are bit-exact. Without AVX-512 there is no 64-bit arithmetic shift, so
//! the folded short form of the AVX-512 file has no cheap twin here; the general form is what
//! runs, at about 40 vector instructions per 8 elements against the reference's scalar loop with
//! its broadcasting index arithmetic per element.

use core::arch::x86_64::*;

use super::reference_s8::{add_s8_element, mul_s8_element};
use super::{same_shape, AddS8Params, BinaryOp, MulS8Params};
use crate::arch::x86::{pack_16_avx2, rdbpot_avx2, srdhm_avx2, Avx2, OutputStage, Requant8};
use crate::quant::Rounding;

/// `add_s8_avx2`: `false` (nothing written) when AVX2 is unavailable or the call is out of range.
pub(crate) fn add_s8(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    let ok = same_shape(&p.shapes, a.len(), b.len(), output.len())
        && matches!(p.shapes.op, BinaryOp::Add | BinaryOp::Sub)
        && p.rounding == Rounding::Double
        // |x + offset| ≤ 256, so a left shift ≤ 22 cannot overflow.
        && (-128..=128).contains(&p.input1_offset)
        && (-128..=128).contains(&p.input2_offset)
        && (0..=22).contains(&p.left_shift)
        && (-31..=0).contains(&p.input1_shift)
        && (-31..=0).contains(&p.input2_shift)
        && (-31..=30).contains(&p.output_shift);
    let Some(st) = OutputStage::new(p.output_offset, p.act_min, p.act_max) else {
        return false;
    };
    if !ok {
        return false;
    }
    // SAFETY: `t` proves AVX2; `same_shape` checked that the three slices have equal lengths.
    unsafe { add_run(t, p, &st, a, b, output) };
    true
}

/// # Safety
/// AVX2 available; `a`, `b`, `output` of equal length; parameters checked by [`add_s8`].
#[target_feature(enable = "avx2,fma")]
unsafe fn add_run(
    _t: Avx2,
    p: &AddS8Params,
    st: &OutputStage,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
) {
    let n = output.len();
    let (m1, m2) = (
        _mm256_set1_epi32(p.input1_multiplier),
        _mm256_set1_epi32(p.input2_multiplier),
    );
    let (e1, e2) = (
        _mm256_set1_epi32(-p.input1_shift),
        _mm256_set1_epi32(-p.input2_shift),
    );
    let ro = Requant8::new(
        _mm256_set1_epi32(p.output_multiplier),
        _mm256_set1_epi32(p.output_shift),
    );
    let (off1, off2) = (
        _mm256_set1_epi32(p.input1_offset),
        _mm256_set1_epi32(p.input2_offset),
    );
    let ls = _mm_cvtsi32_si128(p.left_shift);
    let sub = p.shapes.op == BinaryOp::Sub;
    // 8 elements: the rescaled sum's outputs and the lanes whose output left shift overflowed.
    let eight = |x: *const i8, y: *const i8| {
        // SAFETY: 8 bytes readable at `x` and `y` (the loop below).
        let (x, y) = unsafe {
            (
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(x.cast())),
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(y.cast())),
            )
        };
        // Input shifts are ≤ 0: no left shift inside the rescaling, so no overflow lanes.
        let x = _mm256_sll_epi32(_mm256_add_epi32(x, off1), ls);
        let y = _mm256_sll_epi32(_mm256_add_epi32(y, off2), ls);
        let x = rdbpot_avx2(srdhm_avx2(x, m1), e1);
        let y = rdbpot_avx2(srdhm_avx2(y, m2), e2);
        let raw = if sub {
            _mm256_sub_epi32(x, y)
        } else {
            _mm256_add_epi32(x, y)
        };
        ro.apply(raw, st)
    };
    let body = n - n % 16;
    let mut i = 0;
    while i < body {
        // SAFETY: elements `i .. i + 16 ≤ n` of the three equal-length slices.
        unsafe {
            let (lo, ovf_lo) = eight(a.as_ptr().add(i), b.as_ptr().add(i));
            let (hi, ovf_hi) = eight(a.as_ptr().add(i + 8), b.as_ptr().add(i + 8));
            _mm_storeu_si128(output.as_mut_ptr().add(i).cast(), pack_16_avx2(lo, hi));
            let ovf = ovf_lo | (ovf_hi << 8);
            if ovf != 0 {
                fix_lanes(ovf, i, output, |j| add_s8_element(p, a[j], b[j]));
            }
        }
        i += 16;
    }
    for j in body..n {
        output[j] = add_s8_element(p, a[j], b[j]);
    }
}

/// Recomputes the outputs of the set bits of `ovf` (lanes from element `i`) with `f`.
#[cold]
#[inline(never)]
fn fix_lanes(ovf: i32, i: usize, output: &mut [i8], f: impl Fn(usize) -> i8) {
    for l in 0..16 {
        if ovf & (1 << l) != 0 {
            if let Some(o) = output.get_mut(i + l) {
                *o = f(i + l);
            }
        }
    }
}

/// `mul_s8_avx2`: `false` (nothing written) when AVX2 is unavailable or the call is out of range.
pub(crate) fn mul_s8(p: &MulS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    let ok = same_shape(&p.shapes, a.len(), b.len(), output.len())
        && p.shapes.op == BinaryOp::Mul
        && p.rounding == Rounding::Double
        // |(x + o1)(y + o2)| ≤ 2^16: the product cannot overflow.
        && (-128..=128).contains(&p.input1_offset)
        && (-128..=128).contains(&p.input2_offset)
        && (-31..=30).contains(&p.output_shift);
    let Some(st) = OutputStage::new(p.output_offset, p.act_min, p.act_max) else {
        return false;
    };
    if !ok {
        return false;
    }
    // SAFETY: as in `add_s8`.
    unsafe { mul_run(t, p, &st, a, b, output) };
    true
}

/// # Safety
/// As [`add_run`], parameters checked by [`mul_s8`].
#[target_feature(enable = "avx2,fma")]
unsafe fn mul_run(
    _t: Avx2,
    p: &MulS8Params,
    st: &OutputStage,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
) {
    let n = output.len();
    let ro = Requant8::new(
        _mm256_set1_epi32(p.output_multiplier),
        _mm256_set1_epi32(p.output_shift),
    );
    let (off1, off2) = (
        _mm256_set1_epi32(p.input1_offset),
        _mm256_set1_epi32(p.input2_offset),
    );
    let eight = |x: *const i8, y: *const i8| {
        // SAFETY: 8 bytes readable at `x` and `y` (the loop below).
        let (x, y) = unsafe {
            (
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(x.cast())),
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(y.cast())),
            )
        };
        let prod = _mm256_mullo_epi32(_mm256_add_epi32(x, off1), _mm256_add_epi32(y, off2));
        ro.apply(prod, st)
    };
    let body = n - n % 16;
    let mut i = 0;
    while i < body {
        // SAFETY: elements `i .. i + 16 ≤ n` of the three equal-length slices.
        unsafe {
            let (lo, ovf_lo) = eight(a.as_ptr().add(i), b.as_ptr().add(i));
            let (hi, ovf_hi) = eight(a.as_ptr().add(i + 8), b.as_ptr().add(i + 8));
            _mm_storeu_si128(output.as_mut_ptr().add(i).cast(), pack_16_avx2(lo, hi));
            let ovf = ovf_lo | (ovf_hi << 8);
            if ovf != 0 {
                fix_lanes(ovf, i, output, |j| mul_s8_element(p, a[j], b[j]));
            }
        }
        i += 16;
    }
    for j in body..n {
        output[j] = mul_s8_element(p, a[j], b[j]);
    }
}
