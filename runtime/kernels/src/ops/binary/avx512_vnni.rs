//! int8 Add/Sub and Mul, element by element (no broadcasting), with AVX-512:
//! `add_s8_avx512_vnni`, `mul_s8_avx512_vnni`.
//!
//! 16 elements per step, widened to i32, through the same arithmetic as the reference: the
//! vector `multiply_by_quantized_multiplier` (double rounding) for the input rescalings and the
//! output, then the output stage. Lanes whose output left shift would overflow are recomputed by
//! the reference's scalar element function, so results are bit-exact. Single rounding and
//! broadcasting are left to the reference.
//!
//! Add/Sub with LiteRT's parameters (left shift ≤ 20, a right-shift output multiplier: every
//! residual add of the models) take a shorter form of the same arithmetic, [`add_run_bounded`]:
//! there every intermediate is bounded far from `i32::MIN`/`MAX` (`|x + offset| ≤ 256`, so
//! `|(x + offset)·2^20| ≤ 2^28`, each rescaled input `≤ 2^28`, their sum `≤ 2^29`), which makes
//! the saturation and overflow checks of the general vector `multiply_by_quantized_multiplier`
//! dead, so each of the three rescalings is one folded 64-bit step (`Requant16::rescale`, the
//! convolutions' output stage: the doubling multiply's rounding, the rounding right shift and
//! the inputs' left shift in its constants).

use core::arch::x86_64::*;

use super::reference_s8::{add_s8_element, mul_s8_element};
use super::{add_s8_vector_range, mul_s8_vector_range, AddS8Params, BinaryOp, MulS8Params};
use crate::arch::x86::{lane_mask16, Avx512Vnni, OutputStage, Requant16};

/// `add_s8_avx512_vnni`: `false` (nothing written) when unavailable or out of range.
pub(crate) fn add_s8(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Avx512Vnni::get() else {
        return false;
    };
    let ok = add_s8_vector_range(p, a.len(), b.len(), output.len());
    let Some(st) = OutputStage::new(p.output_offset, p.act_min, p.act_max) else {
        return false;
    };
    if !ok {
        return false;
    }
    let bounded = p.left_shift <= 20 && p.output_shift <= 0;
    // SAFETY: `t` proves AVX-512; `add_s8_vector_range` checked the three slices have equal lengths;
    // `bounded` is the condition `add_run_bounded` states.
    unsafe {
        if bounded {
            add_run_bounded(t, p, &st, a, b, output);
        } else {
            add_run(t, p, &st, a, b, output);
        }
    }
    true
}

/// Add/Sub for `left_shift ≤ 20` and `output_shift ≤ 0` (besides [`add_s8`]'s checks): the
/// bounds of the module documentation hold, so the short form is the reference's arithmetic.
///
/// # Safety
/// As [`add_run`], and `p.left_shift ≤ 20`, `p.output_shift ≤ 0`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn add_run_bounded(
    _t: Avx512Vnni,
    p: &AddS8Params,
    st: &OutputStage,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
) {
    let n = output.len();
    // `(x + offset) · 2^left` with the power of two in the folded constants.
    let (r1, r2, ro) = (
        Requant16::splat_shifts(p.input1_multiplier, p.left_shift, -p.input1_shift),
        Requant16::splat_shifts(p.input2_multiplier, p.left_shift, -p.input2_shift),
        Requant16::splat(p.output_multiplier, p.output_shift),
    );
    let (off1, off2) = (
        _mm512_set1_epi32(p.input1_offset),
        _mm512_set1_epi32(p.input2_offset),
    );
    let (lo, hi, off) = (
        _mm512_set1_epi32(st.lo),
        _mm512_set1_epi32(st.hi),
        _mm512_set1_epi32(st.off),
    );
    let sub = p.shapes.op == BinaryOp::Sub;
    let mut i = 0;
    while i < n {
        let lanes = lane_mask16(n - i);
        // SAFETY: the masks keep the loads and the store within `i .. n`.
        unsafe {
            let x = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, a.as_ptr().add(i)));
            let y = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, b.as_ptr().add(i)));
            let x = r1.rescale_splat(_mm512_add_epi32(x, off1));
            let y = r2.rescale_splat(_mm512_add_epi32(y, off2));
            let raw = if sub {
                _mm512_sub_epi32(x, y)
            } else {
                _mm512_add_epi32(x, y)
            };
            let v = ro.rescale_splat(raw);
            let v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), off);
            _mm512_mask_cvtepi32_storeu_epi8(output.as_mut_ptr().add(i), lanes, v);
        }
        i += 16;
    }
}

/// # Safety
/// AVX-512 VNNI available; `a`, `b`, `output` of equal length; parameters checked by [`add_s8`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn add_run(
    _t: Avx512Vnni,
    p: &AddS8Params,
    st: &OutputStage,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
) {
    let n = output.len();
    let r1 = Requant16::splat(p.input1_multiplier, p.input1_shift);
    let r2 = Requant16::splat(p.input2_multiplier, p.input2_shift);
    let ro = Requant16::splat(p.output_multiplier, p.output_shift);
    let off1 = _mm512_set1_epi32(p.input1_offset);
    let off2 = _mm512_set1_epi32(p.input2_offset);
    let ls = _mm512_set1_epi32(p.left_shift);
    let sub = p.shapes.op == BinaryOp::Sub;
    let mut i = 0;
    while i < n {
        let lanes = lane_mask16(n - i);
        // SAFETY: the masks keep the loads and the store within `i .. n`.
        unsafe {
            let x = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, a.as_ptr().add(i)));
            let y = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, b.as_ptr().add(i)));
            let x = _mm512_sllv_epi32(_mm512_add_epi32(x, off1), ls);
            let y = _mm512_sllv_epi32(_mm512_add_epi32(y, off2), ls);
            // Right shifts only: no overflow lanes.
            let (x, _) = r1.mbqm(x);
            let (y, _) = r2.mbqm(y);
            let raw = if sub {
                _mm512_sub_epi32(x, y)
            } else {
                _mm512_add_epi32(x, y)
            };
            let (v, ovf) = ro.apply(raw, st);
            _mm512_mask_cvtepi32_storeu_epi8(output.as_mut_ptr().add(i), lanes, v);
            if ovf & lanes != 0 {
                for l in 0..16 {
                    if ovf & lanes & (1 << l) != 0 {
                        let j = i + l;
                        output[j] = add_s8_element(p, a[j], b[j]);
                    }
                }
            }
        }
        i += 16;
    }
}

/// `mul_s8_avx512_vnni`: `false` (nothing written) when unavailable or out of range.
pub(crate) fn mul_s8(p: &MulS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Avx512Vnni::get() else {
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
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn mul_run(
    _t: Avx512Vnni,
    p: &MulS8Params,
    st: &OutputStage,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
) {
    let n = output.len();
    let ro = Requant16::splat(p.output_multiplier, p.output_shift);
    let off1 = _mm512_set1_epi32(p.input1_offset);
    let off2 = _mm512_set1_epi32(p.input2_offset);
    let mut i = 0;
    while i < n {
        let lanes = lane_mask16(n - i);
        // SAFETY: the masks keep the loads and the store within `i .. n`.
        unsafe {
            let x = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, a.as_ptr().add(i)));
            let y = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, b.as_ptr().add(i)));
            let prod = _mm512_mullo_epi32(_mm512_add_epi32(x, off1), _mm512_add_epi32(y, off2));
            let (v, ovf) = ro.apply(prod, st);
            _mm512_mask_cvtepi32_storeu_epi8(output.as_mut_ptr().add(i), lanes, v);
            if ovf & lanes != 0 {
                for l in 0..16 {
                    if ovf & lanes & (1 << l) != 0 {
                        let j = i + l;
                        output[j] = mul_s8_element(p, a[j], b[j]);
                    }
                }
            }
        }
        i += 16;
    }
}
