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
//! Where the output right shift is long (the bench-peers models' adds: 17–19) the output
//! rescaling is looked up too, split over the two inputs with a few fraction bits
//! ([`QuotientConsts`]); the rare sums close to an output boundary send their block of 64 to
//! the full computation. The adds ran 3.0 → 5.0 G elements/s (`cargo bench -p mote-kernels
//! --features std --bench kernels -- add_s8`, Zen 4).

use core::arch::x86_64::*;

use super::reference_s8::{add_s8_element, mul_s8_element};
use super::{add_s8_vector_range, mul_s8_vector_range, AddS8Params, BinaryOp, MulS8Params};
use crate::arch::x86::{byte_mask64, lane_mask16, Avx512Vbmi, Avx512Vnni, OutputStage, Requant16};

/// `add_s8_avx512_vnni`: `false` (nothing written) when unavailable or out of range.
pub(crate) fn add_s8(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    add_s8_frac_bits(p, a, b, output, FRAC_BITS)
}

/// [`add_s8`] with the table kernel's quotient form at `frac_bits` fraction bits (the tests
/// take fewer than [`FRAC_BITS`]: sums near an output boundary, and so the fallback, become
/// common).
fn add_s8_frac_bits(
    p: &AddS8Params,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
    frac_bits: u32,
) -> bool {
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
                add_run_table(v, p, &st, a, b, output, frac_bits);
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

/// Fraction bits of [`add_run_table`]'s quotient form: the chance that a block needs the full
/// output rescaling is about `(3 + 2^(20 − e)) / 2^20` per element (`e` the output right
/// shift, at least [`QUOTIENT_MIN_SHIFT`]; computed, 1.0 · 10⁻⁵ for `e = 17`).
const FRAC_BITS: u32 = 20;

/// Smallest output right shift for the quotient form (every residual add of the bench-peers
/// models has 17–19, from LiteRT's Prepare with similar input and output scales).
const QUOTIENT_MIN_SHIFT: i32 = 16;

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
    frac_bits: u32,
) {
    let n = output.len();
    let sub = p.shapes.op == BinaryOp::Sub;
    let (r1, r2) = input_rescalings(p);
    let mut t1 = Planes([[0; 256]; 4]);
    let mut t2 = Planes([[0; 256]; 4]);
    // The quotient form (see `quotient_consts`): the output rescaling looked up too, as
    // `Q1(a) + Q2(b)` in units of `2^-frac_bits` outputs.
    let quotient = quotient_consts(p, st, frac_bits);
    let mut q1 = Planes([[0; 256]; 4]);
    let mut q2 = Planes([[0; 256]; 4]);
    // Smallest and largest table entries (64-bit lanes), to check that `Q1 + Q2` fits i32.
    let (mut qmin, mut qmax) = (
        [_mm512_set1_epi64(i64::MAX); 2],
        [_mm512_set1_epi64(i64::MIN); 2],
    );
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
        // SAFETY: bytes `16·blk .. + 16` of each plane (256 bytes).
        unsafe {
            store_planes(&mut t1, blk, v1);
            store_planes(&mut t2, blk, v2);
        }
        if let Some(qc) = &quotient {
            for (t, q, v, add) in [(&mut q1, 0, v1, qc.qb), (&mut q2, 1, v2, 0)] {
                // `floor(v · Mo / 2^D)` per lane, then (Q1 only) plus `QB`.
                let shift = _mm_cvtsi32_si128(qc.d as i32);
                let mo = _mm512_set1_epi64(i64::from(p.output_multiplier));
                let even = _mm512_sra_epi64(_mm512_mul_epi32(v, mo), shift);
                let odd = _mm512_sra_epi64(_mm512_mul_epi32(_mm512_srli_epi64::<32>(v), mo), shift);
                let add = _mm512_set1_epi64(add);
                let (even, odd) = (_mm512_add_epi64(even, add), _mm512_add_epi64(odd, add));
                qmin[q] = _mm512_min_epi64(qmin[q], _mm512_min_epi64(even, odd));
                qmax[q] = _mm512_max_epi64(qmax[q], _mm512_max_epi64(even, odd));
                let qv = _mm512_mask_shuffle_epi32(even, 0xaaaa, odd, _MM_PERM_CDAB);
                // SAFETY: as above.
                unsafe { store_planes(t, blk, qv) };
            }
        }
    }
    // The quotient form when its sums stay inside i32 (`|Q1| + |Q2| < 2^31`).
    let quotient = quotient.filter(|_| {
        let bound = |q: usize| {
            let lo = _mm512_reduce_min_epi64(qmin[q]);
            let hi = _mm512_reduce_max_epi64(qmax[q]);
            lo.unsigned_abs().max(hi.unsigned_abs())
        };
        bound(0).saturating_add(bound(1)) < (1u64 << 31) - 1
    });
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
    // The four i32 vectors of 64 outputs to bytes in order (saturating), with the activation's
    // byte clamp.
    let narrow = |v: [__m512i; 4]| {
        let out = _mm512_packs_epi16(
            _mm512_packs_epi32(v[0], v[1]),
            _mm512_packs_epi32(v[2], v[3]),
        );
        if clamp_bytes {
            _mm512_min_epi8(_mm512_max_epi8(out, blo), bhi)
        } else {
            out
        }
    };
    let (p1, p2) = (load_planes(&t1), load_planes(&t2));
    let (pq1, pq2) = (load_planes(&q1), load_planes(&q2));
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
        if let Some(qc) = &quotient {
            // SAFETY: the masks keep the loads and the store within `i .. n`.
            unsafe {
                let xa = _mm512_maskz_loadu_epi8(m, a.as_ptr().add(i).cast());
                let xb = _mm512_maskz_loadu_epi8(m, b.as_ptr().add(i).cast());
                let (ya, yb) = (lookup(&pq1, xa), lookup(&pq2, xb));
                let frac = _mm512_set1_epi32(qc.frac_mask);
                let thr = _mm512_set1_epi32(qc.threshold);
                let mut t = [_mm512_setzero_si512(); 4];
                let mut near = 0u16;
                for ((tj, x), y) in t.iter_mut().zip(&ya).zip(&yb) {
                    *tj = _mm512_add_epi32(*x, *y);
                    near |= _mm512_cmpge_epu32_mask(_mm512_and_si512(*tj, frac), thr);
                }
                if near == 0 {
                    let shift = _mm_cvtsi32_si128(qc.frac_bits as i32);
                    let out = narrow(t.map(|tj| _mm512_sra_epi32(tj, shift)));
                    _mm512_mask_storeu_epi8(output.as_mut_ptr().add(i), m, out);
                    i += 64;
                    continue;
                }
            }
            // A sum within `3 + 2^(frac_bits − e)` units of the next output: the rescaling
            // below decides.
        }
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
            _mm512_mask_storeu_epi8(output.as_mut_ptr().add(i), m, narrow(v));
        }
        i += 64;
    }
}

/// Stores the four bytes of 16 i32 lanes (input bytes `16·blk ..`) into the planes.
///
/// # Safety
/// AVX-512 available; `blk < 16`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn store_planes(t: &mut Planes, blk: usize, v: __m512i) {
    for (k, plane) in t.0.iter_mut().enumerate() {
        let sh = _mm_cvtsi32_si128(8 * k as i32);
        // SAFETY: bytes `16·blk .. + 16` of a 256-byte plane (caller: `blk < 16`).
        unsafe {
            _mm512_mask_cvtepi32_storeu_epi8(
                plane.as_mut_ptr().add(16 * blk).cast(),
                u16::MAX,
                _mm512_srl_epi32(v, sh),
            )
        };
    }
}

/// The constants of [`add_run_table`]'s quotient form.
///
/// The folded output step (`Requant16::fold` with the output offset, the bounded parameters'
/// reference arithmetic) is `y = ⌊(P + B + c·2^31) / 2^S⌋` with `S = 31 + e`, `P = S_in · Mo`
/// for the sum `S_in = R1(a) ± R2(b)` of the rescaled inputs, `B` the rounding addends and the
/// output offset, `c ∈ {0, 1}` the sign condition. `P = P1(a) + P2(b)` splits over the inputs
/// (`Pi = Ri · Mo`, exact in 64 bits), so with `D = S − F` (`F = frac_bits`) the tables hold
/// `Q1(a) = ⌊P1/2^D⌋ + ⌊B/2^D⌋` and `Q2(b) = ⌊P2/2^D⌋`, and `T = Q1 + Q2` is within
/// `[0, 3)` below `(P + B)/2^D`, while `c·2^31/2^D = c·2^(F − e) ≤ G = ⌈2^(F − e)⌉`. So when
/// `T mod 2^F ≤ 2^F − 3 − G` no multiple of `2^F` lies in `[T, T + 3 + G)` and `y = T >> F`
/// exactly: one add and one shift per 16 outputs where the rescaling takes about 12
/// operations. The other sums (`T mod 2^F ≥ threshold`, about `(3 + G) / 2^F` of them) send
/// their block of 64 to the full computation. Only for right shifts `e ≥`
/// [`QUOTIENT_MIN_SHIFT`] (so `G` is small) and where the offset folds (`|off| ≤ 255`,
/// `e ≤ 21`: the sums stay inside 64 bits); the caller checks that `|Q1| + |Q2| < 2^31`.
struct QuotientConsts {
    frac_bits: u32,
    d: u32,
    qb: i64,
    frac_mask: i32,
    threshold: i32,
}

fn quotient_consts(p: &AddS8Params, st: &OutputStage, frac_bits: u32) -> Option<QuotientConsts> {
    let e = -p.output_shift;
    if !(QUOTIENT_MIN_SHIFT..=21).contains(&e)
        || !(-255..=255).contains(&st.off)
        || p.output_multiplier <= 0
        || !(2..=24).contains(&frac_bits)
    {
        return None;
    }
    let e = e as u32;
    let s = 31 + e;
    let d = s - frac_bits;
    // `Requant16::fold`'s addend for left shift 0 (`u = 2^31`): `u/2 + half·u`, `half =
    // (2^e − 1) >> 1`, plus the offset `off · 2^S`.
    let half = ((1i128 << e) - 1) >> 1;
    let b = (1i128 << 30) + half * (1i128 << 31) + i128::from(st.off) * (1i128 << s);
    let qb = i64::try_from(b.div_euclid(1i128 << d)).ok()?;
    // `⌈2^(F − e)⌉`.
    let g = if frac_bits >= e {
        1i64 << (frac_bits - e)
    } else {
        1
    };
    let threshold = i32::try_from((1i64 << frac_bits) - 3 - g + 1).ok()?;
    Some(QuotientConsts {
        frac_bits,
        d,
        qb,
        frac_mask: ((1i64 << frac_bits) - 1) as i32,
        threshold,
    })
}

/// [`add_s8_frac_bits`] for the tests, with whether the call takes the table kernel (VBMI, a
/// long enough call of bounded parameters); `None` when it does not.
#[cfg(test)]
pub(super) fn add_s8_table_frac_bits(
    p: &AddS8Params,
    a: &[i8],
    b: &[i8],
    output: &mut [i8],
    frac_bits: u32,
) -> Option<bool> {
    let table = Avx512Vnni::get().and_then(Avx512Vbmi::get).is_some()
        && output.len() >= TABLE_MIN_LEN
        && p.left_shift <= 20
        && p.output_shift <= 0;
    table.then(|| add_s8_frac_bits(p, a, b, output, frac_bits))
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
