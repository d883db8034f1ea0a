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
//!
//! With VBMI (Ice Lake, Zen 4 and later) and at least [`TABLE_MIN_LEN`] elements, the two input
//! rescalings are looked up instead ([`add_run_table`]): each depends on one input byte, so the
//! call computes its 256 values once with the same vector code and looks them up with
//! `vpermi2b`. ResNeXt-29's residual adds ran 2.1× faster (`scripts/bench-ab-layers.py`, Zen 5).

use core::arch::x86_64::*;

use super::reference_s8::{add_s8_element, mul_s8_element};
use super::{add_s8_vector_range, mul_s8_vector_range, AddS8Params, BinaryOp, MulS8Params};
use crate::arch::x86::{byte_mask64, lane_mask16, Avx512Vbmi, Avx512Vnni, OutputStage, Requant16};

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
        if bounded && output.len() >= TABLE_MIN_LEN {
            if let Some(v) = Avx512Vbmi::get(t) {
                add_run_table(v, p, &st, a, b, output);
                return true;
            }
        }
        if bounded {
            add_run_bounded(t, p, &st, a, b, output);
        } else {
            add_run(t, p, &st, a, b, output);
        }
    }
    true
}

/// The bounded form's input rescalings: `(x + offset) · 2^left` with the power of two in the
/// folded constants.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
fn input_rescalings(p: &AddS8Params) -> (Requant16, Requant16) {
    (
        Requant16::splat_shifts(p.input1_multiplier, p.left_shift, -p.input1_shift),
        Requant16::splat_shifts(p.input2_multiplier, p.left_shift, -p.input2_shift),
    )
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
    let (r1, r2) = input_rescalings(p);
    let ro = Requant16::splat(p.output_multiplier, p.output_shift);
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

/// Fewest elements for [`add_run_table`]: building its tables costs about as much as a few
/// hundred elements of [`add_run_bounded`].
const TABLE_MIN_LEN: usize = 1024;

/// A rescaled input as four byte planes: `planes[k][u]` is byte `k` of the rescaling of the
/// input byte `u as i8`.
#[repr(C, align(64))]
struct Planes([[u8; 256]; 4]);

/// [`add_run_bounded`] with the two input rescalings looked up. Each input's rescaling
/// (`(x + offset) · 2^left`, the doubling multiply and the rounding shift) depends on the input
/// byte alone, so its 256 results are computed once per call by the same vector code and kept
/// as four byte planes; per 64 elements each plane is two `vpermi2b` lookups (bytes 0–127 and
/// 128–255) and a blend on the sign, and four byte interleaves per plane pair rebuild the i32
/// lanes. That replaces two 64-bit rescaling steps per 16 elements (about 12 operations each)
/// with about 5. Only the output rescaling is computed per element; with the output offset in
/// its rounding addend where [`Requant16::with_output_offset`] allows, the saturating packs
/// clamp to i8 and an activation clamp is applied to the bytes. Subtraction negates the second
/// table. The interleave leaves 128-bit lane `q` of the `r`-th vector holding elements
/// `16q + 4r ..`, which `vpackssdw`/`vpacksswb` put back in order.
///
/// # Safety
/// As [`add_run_bounded`]; `_v` proves AVX-512 VBMI.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,avx2,fma")]
unsafe fn add_run_table(
    _v: Avx512Vbmi,
    p: &AddS8Params,
    st: &OutputStage,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
) {
    let n = output.len();
    let sub = p.shapes.op == BinaryOp::Sub;
    let (r1, r2) = input_rescalings(p);
    let mut t1 = Planes([[0; 256]; 4]);
    let mut t2 = Planes([[0; 256]; 4]);
    let bytes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for blk in 0..16 {
        // Input bytes `u = 16·blk ..` as i8.
        let u = _mm512_add_epi32(bytes, _mm512_set1_epi32(16 * blk as i32));
        let x = _mm512_srai_epi32::<24>(_mm512_slli_epi32::<24>(u));
        let v1 = r1.rescale_splat(_mm512_add_epi32(x, _mm512_set1_epi32(p.input1_offset)));
        let v2 = r2.rescale_splat(_mm512_add_epi32(x, _mm512_set1_epi32(p.input2_offset)));
        let v2 = if sub {
            _mm512_sub_epi32(_mm512_setzero_si512(), v2)
        } else {
            v2
        };
        for k in 0..4 {
            let sh = _mm512_set1_epi64(8 * k as i64);
            // SAFETY: bytes `16·blk .. + 16` of plane `k` (256 bytes).
            unsafe {
                _mm512_mask_cvtepi32_storeu_epi8(
                    t1.0[k].as_mut_ptr().add(16 * blk).cast(),
                    u16::MAX,
                    _mm512_srl_epi32(v1, _mm512_castsi512_si128(sh)),
                );
                _mm512_mask_cvtepi32_storeu_epi8(
                    t2.0[k].as_mut_ptr().add(16 * blk).cast(),
                    u16::MAX,
                    _mm512_srl_epi32(v2, _mm512_castsi512_si128(sh)),
                );
            }
        }
    }
    let ro = Requant16::splat(p.output_multiplier, p.output_shift);
    // The offset rides in the rounding addend when that stays inside 64 bits: `|S·m| ≤ 2^60`
    // for the sum `|S| ≤ 2^29`, `|off|·2^(31 + 21) < 2^60` (as `arch::x86::offset_folds`).
    let folded = (-255..=255).contains(&st.off) && (-21..=-1).contains(&p.output_shift);
    let ro = if folded {
        ro.with_output_offset(st.off)
    } else {
        ro
    };
    let (act_lo, act_hi) = (st.lo + st.off, st.hi + st.off);
    let clamp_bytes = folded && (act_lo > -128 || act_hi < 127);
    let (lo, hi, off) = (
        _mm512_set1_epi32(st.lo),
        _mm512_set1_epi32(st.hi),
        _mm512_set1_epi32(st.off),
    );
    let (blo, bhi) = (
        _mm512_set1_epi8(act_lo as i8),
        _mm512_set1_epi8(act_hi as i8),
    );
    let load_planes = |t: &Planes| -> [[__m512i; 4]; 4] {
        let mut v = [[_mm512_setzero_si512(); 4]; 4];
        for (pk, tk) in v.iter_mut().zip(&t.0) {
            for (q, vq) in pk.iter_mut().enumerate() {
                // SAFETY: bytes `64q .. 64q + 64` of a 256-byte plane, 64-byte aligned.
                *vq = unsafe { _mm512_load_si512(tk.as_ptr().add(64 * q).cast()) };
            }
        }
        v
    };
    let (p1, p2) = (load_planes(&t1), load_planes(&t2));
    // The four i32 vectors of 64 input bytes `x` through the planes `t`.
    let lookup = |t: &[[__m512i; 4]; 4], x: __m512i| -> [__m512i; 4] {
        let neg = _mm512_movepi8_mask(x);
        let mut pl = [_mm512_setzero_si512(); 4];
        for (v, tk) in pl.iter_mut().zip(t) {
            let low = _mm512_permutex2var_epi8(tk[0], x, tk[1]);
            let high = _mm512_permutex2var_epi8(tk[2], x, tk[3]);
            *v = _mm512_mask_blend_epi8(neg, low, high);
        }
        let l01 = _mm512_unpacklo_epi8(pl[0], pl[1]);
        let h01 = _mm512_unpackhi_epi8(pl[0], pl[1]);
        let l23 = _mm512_unpacklo_epi8(pl[2], pl[3]);
        let h23 = _mm512_unpackhi_epi8(pl[2], pl[3]);
        [
            _mm512_unpacklo_epi16(l01, l23),
            _mm512_unpackhi_epi16(l01, l23),
            _mm512_unpacklo_epi16(h01, h23),
            _mm512_unpackhi_epi16(h01, h23),
        ]
    };
    let mut i = 0;
    while i < n {
        let m = byte_mask64(n - i);
        // SAFETY: the masks keep the loads and the store within `i .. n`.
        unsafe {
            let xa = lookup(&p1, _mm512_maskz_loadu_epi8(m, a.as_ptr().add(i).cast()));
            let xb = lookup(&p2, _mm512_maskz_loadu_epi8(m, b.as_ptr().add(i).cast()));
            let mut v = [_mm512_setzero_si512(); 4];
            for ((o, x), y) in v.iter_mut().zip(&xa).zip(&xb) {
                let r = ro.rescale_splat(_mm512_add_epi32(*x, *y));
                *o = if folded {
                    r
                } else {
                    _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(r, lo), hi), off)
                };
            }
            let out = _mm512_packs_epi16(
                _mm512_packs_epi32(v[0], v[1]),
                _mm512_packs_epi32(v[2], v[3]),
            );
            let out = if clamp_bytes {
                _mm512_min_epi8(_mm512_max_epi8(out, blo), bhi)
            } else {
                out
            };
            _mm512_mask_storeu_epi8(output.as_mut_ptr().add(i), m, out);
        }
        i += 64;
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
