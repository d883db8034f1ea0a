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
use super::{add_s8_vector_range, mul_s8_vector_range, AddS8Params, BinaryOp, MulS8Params};
use crate::arch::x86::{
    pack_16_avx2, rdbpot_avx2, srdhm_avx2, Avx2, OutputStage, Requant8, Requant8Simple,
};

/// `add_s8_avx2`: `false` (nothing written) when AVX2 is unavailable or the call is out of range.
pub(crate) fn add_s8(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    let ok = add_s8_vector_range(p, a.len(), b.len(), output.len());
    let Some(st) = OutputStage::new(p.output_offset, p.act_min, p.act_max) else {
        return false;
    };
    if !ok {
        return false;
    }
    let simple = p.output_shift <= 0
        && ![
            p.input1_multiplier,
            p.input2_multiplier,
            p.output_multiplier,
        ]
        .contains(&i32::MIN);
    // SAFETY: `t` proves AVX2; `add_s8_vector_range` checked that the three slices have equal
    // lengths.
    unsafe { add_forms(t, p, &st, simple, (a, b, output)) };
    true
}

/// Picks the rescalings: with `simple` (right shifts only, no `i32::MIN` multiplier, so
/// `|x + offset| · 2^left ≤ 2^30` fits and the doubling multiply, which saturates only for
/// `i32::MIN · i32::MIN`, never does) [`Requant8Simple`] without overflow or saturation
/// handling; else the general vector requantization. In a `target_feature` function, so the
/// closures are compiled for AVX2 and inline.
///
/// # Safety
/// AVX2 available; the three slices of equal length; `simple` as above.
#[target_feature(enable = "avx2,fma")]
unsafe fn add_forms(
    t: Avx2,
    p: &AddS8Params,
    st: &OutputStage,
    simple: bool,
    (a, b, output): (&[i8], &[i8], &mut [i8]),
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if simple {
            let r1 = Requant8Simple::splat(p.input1_multiplier, p.input1_shift);
            let r2 = Requant8Simple::splat(p.input2_multiplier, p.input2_shift);
            let ro = Requant8Simple::splat(p.output_multiplier, p.output_shift);
            add_run(
                t,
                p,
                (a, b, output),
                |x| r1.rescale(x),
                |y| r2.rescale(y),
                |raw| (ro.apply(raw, st), 0),
            );
        } else {
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
            // Input shifts are ≤ 0: no left shift inside the rescaling, so no overflow lanes;
            // the output's may overflow (its lanes are redone by the element function).
            add_run(
                t,
                p,
                (a, b, output),
                |x| rdbpot_avx2(srdhm_avx2(x, m1), e1),
                |y| rdbpot_avx2(srdhm_avx2(y, m2), e2),
                |raw| ro.apply(raw, st),
            );
        }
    }
}

/// Add/Sub over 8-element steps: both inputs widened, offset and shifted left, rescaled by
/// `rescale1`/`rescale2`, summed (or subtracted), and `output` (the outputs and the lanes the
/// element function must redo) gives the bytes.
///
/// # Safety
/// AVX2 available; `a`, `b`, `output` of equal length; parameters checked by [`add_s8`].
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn add_run(
    _t: Avx2,
    p: &AddS8Params,
    (a, b, out): (&[i8], &[i8], &mut [i8]),
    rescale1: impl Fn(__m256i) -> __m256i,
    rescale2: impl Fn(__m256i) -> __m256i,
    output: impl Fn(__m256i) -> (__m256i, i32),
) {
    let (off1, off2) = (
        _mm256_set1_epi32(p.input1_offset),
        _mm256_set1_epi32(p.input2_offset),
    );
    let ls = _mm_cvtsi32_si128(p.left_shift);
    let sub = p.shapes.op == BinaryOp::Sub;
    let eight = |i: usize| {
        // SAFETY: `i + 8 ≤ n` (`chunks16`), inside both inputs.
        let (x, y) = unsafe {
            (
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(a.as_ptr().add(i).cast())),
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(b.as_ptr().add(i).cast())),
            )
        };
        let x = rescale1(_mm256_sll_epi32(_mm256_add_epi32(x, off1), ls));
        let y = rescale2(_mm256_sll_epi32(_mm256_add_epi32(y, off2), ls));
        let raw = if sub {
            _mm256_sub_epi32(x, y)
        } else {
            _mm256_add_epi32(x, y)
        };
        output(raw)
    };
    // SAFETY: the three slices have `n` elements (caller).
    unsafe { chunks16(out, eight, |j| add_s8_element(p, a[j], b[j])) };
}

/// Runs `eight(i)` (the outputs of elements `i .. i + 8` as i32 lanes in `[-128, 127]`, and a
/// mask of the lanes `scalar` must redo) over 16-element steps of `output`, packed and stored;
/// the masked lanes and the last `n % 16` elements by `scalar(j)`.
///
/// # Safety
/// AVX2 available; `eight` may read elements `i .. i + 8` of slices of `output.len()` elements.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn chunks16(
    output: &mut [i8],
    eight: impl Fn(usize) -> (__m256i, i32),
    scalar: impl Fn(usize) -> i8,
) {
    let n = output.len();
    let body = n - n % 16;
    let mut i = 0;
    while i < body {
        let (lo, ovf_lo) = eight(i);
        let (hi, ovf_hi) = eight(i + 8);
        // SAFETY: elements `i .. i + 16 ≤ n` of `output`.
        unsafe { _mm_storeu_si128(output.as_mut_ptr().add(i).cast(), pack_16_avx2(lo, hi)) };
        let ovf = ovf_lo | (ovf_hi << 8);
        if ovf != 0 {
            fix_lanes(ovf, i, output, &scalar);
        }
        i += 16;
    }
    for (j, o) in output.iter_mut().enumerate().skip(body) {
        *o = scalar(j);
    }
}

/// Recomputes the outputs of the set bits of `ovf` (lanes from element `i`) with `f`.
#[cold]
#[inline(never)]
fn fix_lanes(ovf: i32, i: usize, output: &mut [i8], f: &impl Fn(usize) -> i8) {
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
    let ok = mul_s8_vector_range(p, a.len(), b.len(), output.len());
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
    let ro = Requant8::new(
        _mm256_set1_epi32(p.output_multiplier),
        _mm256_set1_epi32(p.output_shift),
    );
    let (off1, off2) = (
        _mm256_set1_epi32(p.input1_offset),
        _mm256_set1_epi32(p.input2_offset),
    );
    let eight = |i: usize| {
        // SAFETY: `i + 8 ≤ n` (`chunks16`), inside both inputs.
        let (x, y) = unsafe {
            (
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(a.as_ptr().add(i).cast())),
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(b.as_ptr().add(i).cast())),
            )
        };
        let prod = _mm256_mullo_epi32(_mm256_add_epi32(x, off1), _mm256_add_epi32(y, off2));
        ro.apply(prod, st)
    };
    // SAFETY: the three slices have `n` elements (caller).
    unsafe { chunks16(output, eight, |j| mul_s8_element(p, a[j], b[j])) };
}
