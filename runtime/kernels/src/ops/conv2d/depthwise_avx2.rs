//! Depthwise convolution with AVX2: `conv2d_s8_depthwise_avx2` and `conv2d_f32_depthwise_avx2`.
//!
//! Covers one input and one output channel per group (`groups == in_c == out_c`), kernels 3×3
//! and 5×5 (and 3×5, 5×3), strides 1 and 2, any padding, dilation 1; everything else is declined
//! (see [`super::depthwise_fast_shape`]).
//!
//! Both kernels walk the output pixels in order; for each pixel the kernel taps are resolved to
//! pointers once (padding taps point at a row of input zero points, or of `0.0`), then the
//! channels are swept in vectors, so the per-pixel bookkeeping is shared by all channels and the
//! inner loop has no bounds tests. Weights are repacked per call into a small stack buffer
//! (chunks of [`CHUNK`] channels), in the order the inner loop reads them.
//!
//! int8: `Σ_taps (x + input_offset)·w + bias = Σ x·w + (bias + input_offset·Σw)`, and a padding
//! tap reads the input zero point (`x = −input_offset`, contributing 0 to the left form), so the
//! raw input is used and the offset is folded into a per-channel bias (exact: the reference
//! sums in wrapping i32 too). Tap pairs are interleaved as i16 and multiplied with `vpmaddwd`
//! (exact). The requantization is `multiply_by_quantized_multiplier` in vector form for both
//! roundings, for right shifts (`shift ≤ 0`) and multipliers other than `i32::MIN`; other
//! parameters take the scalar function lane by lane.
//!
//! f32: each output is its bias plus the taps in the reference's order, with fused
//! multiply-adds (differences: the rounding of the FMAs, and `0·w` added for padding taps).

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::{Conv2dParams, Conv2dS8Params, S8Kind, S8Plan};
use crate::arch::x86::{float_round_avx2, Avx2, OutputStage};
use crate::ops::util::requantize_output;
use crate::quant::Rounding;
use crate::Activation;

/// Channels per chunk (the repacked weights and per-channel constants of one chunk live on the
/// stack).
const CHUNK: usize = 256;
/// Most tap pairs (5×5 = 25 taps → 13 pairs).
const MAX_PAIRS: usize = 13;
/// Most taps.
const MAX_TAPS: usize = 25;

#[repr(C, align(32))]
struct A32<T>(T);

/// Position `i` of a 16-channel block's accumulator pair (`lo` = positions 0..8, `hi` = 8..16)
/// holds channel `PERM16[i]` of the block: the order `vpunpck{l,h}wd` leaves them in.
const PERM16: [usize; 16] = [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15];

/// How the int8 outputs are requantized in a call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RqMode {
    /// Double rounding, every shift in `[−31, 0]`, no multiplier `i32::MIN`.
    Double,
    /// Single rounding, same ranges.
    Single,
    /// [`Rounding::Float`] with [`OutputStage::float_exact`]: [`float_round_avx2`] with the
    /// scales gathered into `Consts::mult`.
    Float,
    /// Anything else: the scalar function per lane.
    Scalar,
}

/// `conv2d_s8_depthwise_avx2`. Returns `false` (nothing written) when AVX2 is unavailable or the
/// call is not a covered depthwise shape.
pub(crate) fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(tok) = Avx2::get() else {
        return false;
    };
    let Some(plan) = S8Plan::new(
        p,
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        mults.len(),
        shifts.len(),
        output.len(),
    ) else {
        return false;
    };
    if plan.kind != S8Kind::Depthwise || !super::depthwise_fast_shape(&plan.g) {
        return false;
    }
    let Some(st) = OutputStage::new(p.output_offset, p.act_min, p.act_max) else {
        return false;
    };
    let right_only = shifts.iter().all(|s| (-31..=0).contains(s)) && !mults.contains(&i32::MIN);
    let mode = match (right_only, p.rounding) {
        (true, Rounding::Double) => RqMode::Double,
        (true, Rounding::Single) => RqMode::Single,
        (_, Rounding::Float) if st.float_exact() => RqMode::Float,
        _ => RqMode::Scalar,
    };
    let ctx = S8Ctx {
        plan,
        st,
        mode,
        p,
        input,
        weights,
        bias,
        mults,
        shifts,
    };
    // SAFETY: `tok` proves AVX2 and FMA; `S8Plan::new` checked every slice length against the
    // shapes; `depthwise_fast_shape` bounds the kernel to the const instances below.
    unsafe {
        match (plan.g.kernel_h, plan.g.kernel_w) {
            (3, 3) => dw_s8::<3, 3, 9, 5>(tok, &ctx, output),
            (3, 5) => dw_s8::<3, 5, 15, 8>(tok, &ctx, output),
            (5, 3) => dw_s8::<5, 3, 15, 8>(tok, &ctx, output),
            _ => dw_s8::<5, 5, 25, 13>(tok, &ctx, output),
        }
    }
    true
}

struct S8Ctx<'a> {
    plan: S8Plan,
    st: OutputStage,
    mode: RqMode,
    p: &'a Conv2dS8Params,
    input: &'a [i8],
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    mults: &'a [i32],
    shifts: &'a [i32],
}

/// Per-chunk constants, in the [`PERM16`] order of each 16-channel block.
struct Consts {
    /// `bias + input_offset · Σw`.
    bias: A32<[MaybeUninit<i32>; CHUNK]>,
    mult: A32<[MaybeUninit<i32>; CHUNK]>,
    /// Double: the right shift; Single: the correction `2^(62−s)` (low 32 bits).
    right: A32<[MaybeUninit<i32>; CHUNK]>,
    /// Double: `2^right − 1`.
    mask: A32<[MaybeUninit<i32>; CHUNK]>,
    /// Double: `mask >> 1`.
    half: A32<[MaybeUninit<i32>; CHUNK]>,
    /// Single: per 8-lane vector, the 4 even lanes' then the 4 odd lanes' `2^(s−1) + 2^62`.
    nudge: A32<[MaybeUninit<i64>; CHUNK]>,
    /// Single: the shift `s = 31 − shift`, same layout as `nudge`.
    sh: A32<[MaybeUninit<i64>; CHUNK]>,
}

/// Sign-extends 16 bytes at `p` to i16.
///
/// # Safety
/// AVX2 available; 16 bytes readable at `p`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn ld16(p: *const i8) -> __m256i {
    // SAFETY: caller.
    _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(p.cast()) })
}

/// [`ld16`] for a tail of `n < 16` channels: reads only `n` bytes.
///
/// # Safety
/// AVX2 available; `n` bytes readable at `p`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn ld16_tail(p: *const i8, n: usize) -> __m256i {
    if n == 8 {
        // SAFETY: 8 bytes readable (caller).
        return _mm256_cvtepi8_epi16(unsafe { _mm_loadl_epi64(p.cast()) });
    }
    let mut t = [0i8; 16];
    // SAFETY: `n < 16` bytes readable at `p` (caller) into a 16-byte array.
    unsafe {
        core::ptr::copy_nonoverlapping(p, t.as_mut_ptr(), n.min(16));
        _mm256_cvtepi8_epi16(_mm_loadu_si128(t.as_ptr().cast()))
    }
}

/// Double-rounding `multiply_by_quantized_multiplier` for right shifts, 8 lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn rq_double(acc: __m256i, m: __m256i, right: __m256i, mask: __m256i, half: __m256i) -> __m256i {
    let nudge = _mm256_set1_epi64x(1 << 30);
    let even = _mm256_srli_epi64::<31>(_mm256_add_epi64(_mm256_mul_epi32(acc, m), nudge));
    let odd = _mm256_slli_epi64::<1>(_mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64::<32>(acc), _mm256_srli_epi64::<32>(m)),
        nudge,
    ));
    // ⌊(acc·m + 2^30) / 2^31⌋ fits in i32 (m ≠ i32::MIN): its low 32 bits are the value.
    let h = _mm256_blend_epi32::<0b1010_1010>(even, odd);
    let rem = _mm256_and_si256(h, mask);
    let thr = _mm256_add_epi32(half, _mm256_srli_epi32::<31>(h));
    _mm256_sub_epi32(_mm256_srav_epi32(h, right), _mm256_cmpgt_epi32(rem, thr))
}

/// Single-rounding `multiply_by_quantized_multiplier` for right shifts, 8 lanes:
/// `⌊(acc·m + 2^(s−1)) / 2^s⌋` with `s ∈ [31, 62]`. `u = acc·m + 2^(s−1) + 2^62` is in
/// `(0, 2^64)` (`|acc·m| < 2^62`), so a logical shift gives `⌊…/2^s⌋ + 2^(62−s)`, and the wrapping
/// subtraction of `corr = 2^(62−s)` leaves the result (which fits in i32).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn rq_single(
    acc: __m256i,
    m: __m256i,
    corr: __m256i,
    n_e: __m256i,
    n_o: __m256i,
    s_e: __m256i,
    s_o: __m256i,
) -> __m256i {
    let even = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epi32(acc, m), n_e), s_e);
    let po = _mm256_mul_epi32(_mm256_srli_epi64::<32>(acc), _mm256_srli_epi64::<32>(m));
    let odd = _mm256_slli_epi64::<32>(_mm256_srlv_epi64(_mm256_add_epi64(po, n_o), s_o));
    _mm256_sub_epi32(_mm256_blend_epi32::<0b1010_1010>(even, odd), corr)
}

/// Requantizes the 8 accumulators at constant position `q` of the chunk and applies the output
/// stage (the fixed-point vector modes; [`finish_block`] runs the float one).
///
/// # Safety
/// AVX2 available; positions `q .. q + 8` of `k` written; `q` a multiple of 8.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn requant(mode: RqMode, k: &Consts, q: usize, acc: __m256i, st: &OutputStage) -> __m256i {
    // SAFETY: positions `q .. q + 8` initialised and 32-byte aligned (q multiple of 8).
    let v = unsafe {
        let m = _mm256_load_si256(k.mult.0.as_ptr().add(q).cast());
        let r = _mm256_load_si256(k.right.0.as_ptr().add(q).cast());
        if mode == RqMode::Single {
            let n_e = _mm256_load_si256(k.nudge.0.as_ptr().add(q).cast());
            let n_o = _mm256_load_si256(k.nudge.0.as_ptr().add(q + 4).cast());
            let s_e = _mm256_load_si256(k.sh.0.as_ptr().add(q).cast());
            let s_o = _mm256_load_si256(k.sh.0.as_ptr().add(q + 4).cast());
            rq_single(acc, m, r, n_e, n_o, s_e, s_o)
        } else {
            let mask = _mm256_load_si256(k.mask.0.as_ptr().add(q).cast());
            let half = _mm256_load_si256(k.half.0.as_ptr().add(q).cast());
            rq_double(acc, m, r, mask, half)
        }
    };
    let v = _mm256_max_epi32(v, _mm256_set1_epi32(st.lo));
    let v = _mm256_min_epi32(v, _mm256_set1_epi32(st.hi));
    _mm256_add_epi32(v, _mm256_set1_epi32(st.off))
}

/// Requantizes one block's accumulators (`lo`, `hi` in [`PERM16`] order) of channels
/// `oc .. oc + n` and stores the `n ≤ 16` bytes at `dst`.
///
/// # Safety
/// AVX2 available; block constants at position `q` written; `dst` writable for `n` bytes;
/// `oc + n ≤ out_c`.
#[target_feature(enable = "avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn finish_block(
    ctx: &S8Ctx,
    k: &Consts,
    q: usize,
    lo: __m256i,
    hi: __m256i,
    oc: usize,
    n: usize,
    dst: *mut i8,
) {
    if ctx.mode == RqMode::Scalar {
        // SAFETY: forwarded.
        unsafe { finish_scalar(ctx, lo, hi, oc, n, dst) };
        return;
    }
    // i16: [ch 0..3, 4..7 | 8..11, 12..15]; bytes: [0..7, 0..7 | 8..15, 8..15].
    let bytes = if ctx.mode == RqMode::Float {
        let st = &ctx.st;
        // SAFETY: positions `q .. q + 16` initialised (the scales' bits), 32-byte aligned.
        let (sa, sb) = unsafe {
            let kp = k.mult.0.as_ptr().add(q).cast::<f32>();
            (_mm256_load_ps(kp), _mm256_load_ps(kp.add(8)))
        };
        // The offset in saturating i16 and the lower bound in i8, as `float_pack_16_avx2`.
        let w = _mm256_adds_epi16(
            _mm256_packs_epi32(float_round_avx2(lo, sa, st), float_round_avx2(hi, sb, st)),
            _mm256_set1_epi16(st.off as i16),
        );
        _mm256_max_epi8(
            _mm256_packs_epi16(w, w),
            _mm256_set1_epi8((st.lo + st.off) as i8),
        )
    } else {
        // SAFETY: forwarded.
        let (a, b) = unsafe {
            (
                requant(ctx.mode, k, q, lo, &ctx.st),
                requant(ctx.mode, k, q + 8, hi, &ctx.st),
            )
        };
        let w = _mm256_packs_epi32(a, b);
        _mm256_packs_epi16(w, w)
    };
    let v = _mm256_castsi256_si128(_mm256_permute4x64_epi64::<0b0000_1000>(bytes));
    // SAFETY: `n` bytes writable at `dst` (caller).
    unsafe {
        if n >= 16 {
            _mm_storeu_si128(dst.cast(), v);
        } else if n == 8 {
            _mm_storel_epi64(dst.cast(), v);
        } else {
            let mut t = [0i8; 16];
            _mm_storeu_si128(t.as_mut_ptr().cast(), v);
            core::ptr::copy_nonoverlapping(t.as_ptr(), dst, n.min(16));
        }
    }
}

/// The scalar output stage for parameters outside the vector forms' range.
///
/// # Safety
/// As [`finish_block`].
#[target_feature(enable = "avx2,fma")]
#[cold]
#[inline(never)]
unsafe fn finish_scalar(ctx: &S8Ctx, lo: __m256i, hi: __m256i, oc: usize, n: usize, dst: *mut i8) {
    let mut a = [0i32; 16];
    // SAFETY: `a` holds 16 i32.
    unsafe {
        _mm256_storeu_si256(a.as_mut_ptr().cast(), lo);
        _mm256_storeu_si256(a.as_mut_ptr().add(8).cast(), hi);
    }
    for (pos, &acc) in a.iter().enumerate() {
        let j = PERM16[pos];
        if j >= n {
            continue;
        }
        let c = oc + j;
        let q = requantize_output(
            acc,
            ctx.mults.get(c).copied().unwrap_or(0),
            ctx.shifts.get(c).copied().unwrap_or(0),
            ctx.p.rounding,
            ctx.p.output_offset,
            ctx.p.act_min,
            ctx.p.act_max,
        );
        // SAFETY: `j < n` bytes writable at `dst` (caller).
        unsafe { dst.add(j).write(q) };
    }
}

/// Fills the chunk's constants and packed weights for channels `c0 .. c0 + cn`
/// (`cn ≤ CHUNK`, `c0 + cn ≤ out_c`): every position of `cn.next_multiple_of(16)` the kernel
/// reads is written (lanes past `cn` hold zeros). Gathers 8 channels at a time, in [`PERM16`]
/// order. With `pair8` (`cn = 8`), the block's upper 8 channels repeat the lower ones.
///
/// # Safety
/// AVX2 available; `ctx` built by [`conv2d_s8`] (weights `out_c · TAPS` bytes, `TAPS ≥ 4`,
/// per-channel arrays `out_c` long, offsets below 2^30).
#[target_feature(enable = "avx2,fma")]
unsafe fn prepare_chunk<const TAPS: usize, const PAIRS: usize>(
    ctx: &S8Ctx,
    c0: usize,
    cn: usize,
    k: &mut Consts,
    wpk: &mut A32<[MaybeUninit<i32>; MAX_PAIRS * CHUNK]>,
    pair8: bool,
) {
    let blocks = cn.div_ceil(16);
    let wbase = ctx.weights.as_ptr();
    let zero = _mm256_setzero_si256();
    let one = _mm256_set1_epi32(1);
    let off = _mm256_set1_epi32(ctx.p.input_offset);
    let kb = k.bias.0.as_mut_ptr().cast::<i32>();
    let km = k.mult.0.as_mut_ptr().cast::<i32>();
    let kr = k.right.0.as_mut_ptr().cast::<i32>();
    let kmask = k.mask.0.as_mut_ptr().cast::<i32>();
    let khalf = k.half.0.as_mut_ptr().cast::<i32>();
    let kn = k.nudge.0.as_mut_ptr().cast::<i64>();
    let ks = k.sh.0.as_mut_ptr().cast::<i64>();
    let wp = wpk.0.as_mut_ptr().cast::<i32>();
    for v in 0..blocks {
        for h in 0..2 {
            let q = 16 * v + 8 * h;
            let mut lanes = [0i32; 8];
            let mut live = [0i32; 8];
            for (i, (l, m)) in lanes.iter_mut().zip(live.iter_mut()).enumerate() {
                let cc = 16 * v + PERM16[8 * h + i];
                // Channel offsets below 2^30 (plan); dead lanes are masked off. With `pair8`
                // (8 channels), positions of channels 8..16 repeat channels 0..8: a block holds
                // two pixels.
                let (cc, on) = if pair8 { (cc % 8, true) } else { (cc, cc < cn) };
                *l = (c0 + cc.min(cn.saturating_sub(1))) as i32;
                *m = if on { -1 } else { 0 };
            }
            // SAFETY: 8 i32 each.
            let (ch, mask) = unsafe {
                (
                    _mm256_loadu_si256(lanes.as_ptr().cast()),
                    _mm256_loadu_si256(live.as_ptr().cast()),
                )
            };
            let wrow = _mm256_mullo_epi32(ch, _mm256_set1_epi32(TAPS as i32));
            let mut w = [zero; TAPS];
            let mut sum = zero;
            for (t, wt) in w.iter_mut().enumerate() {
                // Tap `t` is the low byte of the dword at `t` (t < 3) or the high byte of the
                // dword at `t − 3`: 4 bytes inside the channel's `TAPS ≥ 4` weights either way.
                let at = if t >= 3 { t - 3 } else { t };
                let idx = _mm256_add_epi32(wrow, _mm256_set1_epi32(at as i32));
                // SAFETY: live lanes read bytes `ch·TAPS + at .. + 4 ≤ (ch + 1)·TAPS` of the
                // weights; masked lanes read nothing.
                let d = unsafe { _mm256_mask_i32gather_epi32::<1>(zero, wbase.cast(), idx, mask) };
                *wt = if t >= 3 {
                    _mm256_srai_epi32::<24>(d)
                } else {
                    _mm256_srai_epi32::<24>(_mm256_slli_epi32::<24>(d))
                };
                sum = _mm256_add_epi32(sum, *wt);
            }
            for pr in 0..PAIRS {
                let w1 = if 2 * pr + 1 < TAPS {
                    w[2 * pr + 1]
                } else {
                    zero
                };
                let d = _mm256_or_si256(
                    _mm256_and_si256(w[2 * pr], _mm256_set1_epi32(0xffff)),
                    _mm256_slli_epi32::<16>(w1),
                );
                // SAFETY: block `v < blocks ≤ CHUNK/16`, pair `pr < PAIRS`: inside the buffer.
                unsafe { _mm256_storeu_si256(wp.add((v * PAIRS + pr) * 16 + 8 * h).cast(), d) };
            }
            // SAFETY: live lanes index channels `< out_c` of the per-channel arrays.
            let (b, m, s) = unsafe {
                let b = match ctx.bias {
                    Some(bs) => _mm256_mask_i32gather_epi32::<4>(zero, bs.as_ptr(), ch, mask),
                    None => zero,
                };
                (
                    b,
                    _mm256_mask_i32gather_epi32::<4>(zero, ctx.mults.as_ptr(), ch, mask),
                    _mm256_mask_i32gather_epi32::<4>(zero, ctx.shifts.as_ptr(), ch, mask),
                )
            };
            let right = _mm256_min_epi32(
                _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero),
                _mm256_set1_epi32(31),
            );
            // SAFETY: positions `q .. q + 8 ≤ CHUNK` of each array.
            unsafe {
                _mm256_storeu_si256(
                    kb.add(q).cast(),
                    _mm256_add_epi32(b, _mm256_mullo_epi32(off, sum)),
                );
                _mm256_storeu_si256(km.add(q).cast(), m);
                match ctx.mode {
                    RqMode::Single => {
                        let sh = _mm256_add_epi32(right, _mm256_set1_epi32(31));
                        let corr =
                            _mm256_sllv_epi32(one, _mm256_sub_epi32(_mm256_set1_epi32(31), right));
                        _mm256_storeu_si256(kr.add(q).cast(), corr);
                        let lo32 = _mm256_set1_epi64x(0xffff_ffff);
                        let one64 = _mm256_set1_epi64x(1);
                        let top = _mm256_set1_epi64x(1 << 62);
                        for (j, shv) in [_mm256_and_si256(sh, lo32), _mm256_srli_epi64::<32>(sh)]
                            .into_iter()
                            .enumerate()
                        {
                            let nud = _mm256_add_epi64(
                                _mm256_sllv_epi64(one64, _mm256_sub_epi64(shv, one64)),
                                top,
                            );
                            _mm256_storeu_si256(kn.add(q + 4 * j).cast(), nud);
                            _mm256_storeu_si256(ks.add(q + 4 * j).cast(), shv);
                        }
                    }
                    _ => {
                        let mk = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
                        _mm256_storeu_si256(kr.add(q).cast(), right);
                        _mm256_storeu_si256(kmask.add(q).cast(), mk);
                        _mm256_storeu_si256(khalf.add(q).cast(), _mm256_srli_epi32::<1>(mk));
                    }
                }
            }
        }
    }
}

/// The accumulators (`lo`, `hi` in [`PERM16`] order) of the full 16-channel block at channel
/// `cb` of the chunk: bias, then the tap pairs interleaved as i16 and multiplied with
/// `vpmaddwd`.
///
/// # Safety
/// AVX2 available; every `tp[t]` readable for 16 bytes at `cb`; constants (`kp`) and packed
/// weights (`wp`) of block `cb / 16` written.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block16<const TAPS: usize, const PAIRS: usize>(
    tp: &[*const i8; TAPS],
    cb: usize,
    kp: *const i32,
    wp: *const i32,
) -> (__m256i, __m256i) {
    // SAFETY: as documented (caller).
    unsafe {
        let mut lo = _mm256_load_si256(kp.add(cb).cast());
        let mut hi = _mm256_load_si256(kp.add(cb + 8).cast());
        let w = wp.add(cb / 16 * PAIRS * 16);
        for pr in 0..PAIRS {
            let a = ld16(tp[2 * pr].add(cb));
            let bb = if 2 * pr + 1 < TAPS {
                ld16(tp[2 * pr + 1].add(cb))
            } else {
                _mm256_setzero_si256()
            };
            let wl = _mm256_load_si256(w.add(pr * 16).cast());
            let wh = _mm256_load_si256(w.add(pr * 16 + 8).cast());
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, bb), wl));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, bb), wh));
        }
        (lo, hi)
    }
}

/// # Safety
/// AVX2 available; `ctx` built by [`conv2d_s8`] (lengths checked by the plan, depthwise kind);
/// `KH × KW` is the kernel, `TAPS = KH·KW ≤ MAX_TAPS`, `PAIRS = ⌈TAPS/2⌉ ≤ MAX_PAIRS`.
#[target_feature(enable = "avx2,fma")]
unsafe fn dw_s8<const KH: usize, const KW: usize, const TAPS: usize, const PAIRS: usize>(
    _t: Avx2,
    ctx: &S8Ctx,
    output: &mut [i8],
) {
    let g = &ctx.plan.g;
    let c = g.in_c;
    let zp = (-ctx.p.input_offset) as i8;
    // Input zero points for padding taps; 16 spare bytes so full-block loads stay inside.
    let zrow = [zp; CHUNK + 16];
    let mut k = Consts {
        bias: A32([MaybeUninit::uninit(); CHUNK]),
        mult: A32([MaybeUninit::uninit(); CHUNK]),
        right: A32([MaybeUninit::uninit(); CHUNK]),
        mask: A32([MaybeUninit::uninit(); CHUNK]),
        half: A32([MaybeUninit::uninit(); CHUNK]),
        nudge: A32([MaybeUninit::uninit(); CHUNK]),
        sh: A32([MaybeUninit::uninit(); CHUNK]),
    };
    let mut wpk = A32([MaybeUninit::<i32>::uninit(); MAX_PAIRS * CHUNK]);
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();
    let zero = _mm256_setzero_si256();
    // Exactly 8 channels, stride 1 (VWW's first depthwise layer): two horizontally adjacent
    // pixels' channels are 16 contiguous bytes in every tap and in the output, so a pair of
    // interior pixels runs as one full 16-channel block (the constants repeated), where one
    // pixel would fill half a block and pay the per-pixel set-up alone. (Not with the scalar
    // output stage, which reads the constants by channel.)
    let pair8 = c == 8 && g.stride_w == 1 && ctx.mode != RqMode::Scalar;
    let mut c0 = 0;
    while c0 < c {
        let cn = (c - c0).min(CHUNK);
        let full = cn / 16;
        let tail = cn % 16;
        // SAFETY: `ctx` from `conv2d_s8`; `c0 + cn ≤ c`; TAPS ≥ 9.
        unsafe { prepare_chunk::<TAPS, PAIRS>(ctx, c0, cn, &mut k, &mut wpk, pair8) };
        let kp = k.bias.0.as_ptr().cast::<i32>();
        let wp = wpk.0.as_ptr().cast::<i32>();
        for b in 0..g.batch {
            for oh in 0..g.out_h {
                let ih0 = (oh * g.stride_h) as isize - g.pad_top as isize;
                let mut rows = [zrow.as_ptr(); KH];
                let mut row_ok = [false; KH];
                for kh in 0..KH {
                    let ih = ih0 + kh as isize;
                    if ih >= 0 && (ih as usize) < g.in_h {
                        row_ok[kh] = true;
                        // SAFETY: row `ih` of image `b` exists; channel `c0 < c`.
                        rows[kh] = unsafe { x.add((b * g.in_h + ih as usize) * g.in_w * c + c0) };
                    }
                }
                // SAFETY: output row `(b, oh)` exists.
                let out_row = unsafe { out.add(((b * g.out_h + oh) * g.out_w) * c + c0) };
                let mut ow = 0;
                while ow < g.out_w {
                    let iw0 = (ow * g.stride_w) as isize - g.pad_left as isize;
                    // Both windows of the pair `ow, ow + 1` inside the row (`pair8`).
                    if pair8 && ow + 1 < g.out_w && iw0 >= 0 && iw0 as usize + KW < g.in_w {
                        let mut tp = [zrow.as_ptr(); TAPS];
                        for kh in 0..KH {
                            if row_ok[kh] {
                                for kw in 0..KW {
                                    // SAFETY: pixels `(b, ih, iw0 + kw)` and the next exist
                                    // (`iw0 + KW < in_w`): 16 bytes of this and the next pixel.
                                    tp[kh * KW + kw] =
                                        unsafe { rows[kh].add((iw0 as usize + kw) * c) };
                                }
                            }
                        }
                        // SAFETY: pixels `(b, oh, ow)` and `ow + 1` exist, 16 bytes of output;
                        // every tap pointer has 16 bytes (two pixels, or the zero row);
                        // constants and weights of block 0 written (repeated, `pair8`).
                        unsafe {
                            let (lo, hi) = block16::<TAPS, PAIRS>(&tp, 0, kp, wp);
                            finish_block(ctx, &k, 0, lo, hi, c0, 16, out_row.add(ow * c));
                        }
                        ow += 2;
                        continue;
                    }
                    let mut tp = [zrow.as_ptr(); TAPS];
                    for kh in 0..KH {
                        if !row_ok[kh] {
                            continue;
                        }
                        for kw in 0..KW {
                            let iw = iw0 + kw as isize;
                            if iw >= 0 && (iw as usize) < g.in_w {
                                // SAFETY: pixel `(b, ih, iw)` exists.
                                tp[kh * KW + kw] = unsafe { rows[kh].add(iw as usize * c) };
                            }
                        }
                    }
                    // SAFETY: pixel `(b, oh, ow)` exists; channels `c0 .. c0 + cn`.
                    let dst = unsafe { out_row.add(ow * c) };
                    for v in 0..full {
                        let cb = 16 * v;
                        // SAFETY: `cb + 16 ≤ cn`: every tap pointer (a pixel's chunk or the zero
                        // row) has 16 bytes at `cb`; constants and weights of block `v` written.
                        unsafe {
                            let (lo, hi) = block16::<TAPS, PAIRS>(&tp, cb, kp, wp);
                            finish_block(ctx, &k, cb, lo, hi, c0 + cb, 16, dst.add(cb));
                        }
                    }
                    if tail > 0 {
                        let cb = 16 * full;
                        // SAFETY: `cb + tail = cn`: `tail` bytes at `cb` of every tap pointer;
                        // the block's constants and weights were written (rounded up to 16).
                        unsafe {
                            let mut lo = _mm256_load_si256(kp.add(cb).cast());
                            let mut hi = _mm256_load_si256(kp.add(cb + 8).cast());
                            let w = wp.add(full * PAIRS * 16);
                            for pr in 0..PAIRS {
                                let a = ld16_tail(tp[2 * pr].add(cb), tail);
                                let bb = if 2 * pr + 1 < TAPS {
                                    ld16_tail(tp[2 * pr + 1].add(cb), tail)
                                } else {
                                    zero
                                };
                                let wl = _mm256_load_si256(w.add(pr * 16).cast());
                                let wh = _mm256_load_si256(w.add(pr * 16 + 8).cast());
                                lo = _mm256_add_epi32(
                                    lo,
                                    _mm256_madd_epi16(_mm256_unpacklo_epi16(a, bb), wl),
                                );
                                hi = _mm256_add_epi32(
                                    hi,
                                    _mm256_madd_epi16(_mm256_unpackhi_epi16(a, bb), wh),
                                );
                            }
                            finish_block(ctx, &k, cb, lo, hi, c0 + cb, tail, dst.add(cb));
                        }
                    }
                    ow += 1;
                }
            }
        }
        c0 += cn;
    }
}

// ---------------------------------------------------------------------------------------------
// f32
// ---------------------------------------------------------------------------------------------

/// `conv2d_f32_depthwise_avx2`; `false` (nothing written) when AVX2/FMA is unavailable, the
/// slice lengths do not match the shapes, or the shape is not a covered depthwise one.
pub(crate) fn conv2d_f32(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    let Some(tok) = Avx2::get() else {
        return false;
    };
    let Some(plan) = S8Plan::for_f32(p, input, weights, bias, output) else {
        return false;
    };
    if plan.kind != S8Kind::Depthwise || !super::depthwise_fast_shape(&plan.g) {
        return false;
    }
    // SAFETY: `tok` proves AVX2 and FMA; the plan checked the slice lengths against the shapes.
    unsafe {
        match (p.kernel_h, p.kernel_w) {
            (3, 3) => dw_f32::<3, 3, 9, 6, 9>(tok, &plan, input, weights, bias, output),
            (3, 5) => dw_f32::<3, 5, 15, 8, 11>(tok, &plan, input, weights, bias, output),
            (5, 3) => dw_f32::<5, 3, 15, 6, 9>(tok, &plan, input, weights, bias, output),
            _ => dw_f32::<5, 5, 25, 8, 11>(tok, &plan, input, weights, bias, output),
        }
    }
    true
}

/// The lane mask for `n ≤ 8` f32 lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn mask8(n: usize) -> __m256i {
    let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(8) as i32), idx)
}

/// `NB` vectors of 8 channels (from `cb`) of four adjacent output pixels at stride `S` (1 or
/// 2): bias plus the taps in order (padding rows skipped), clamped, stored at `dst + p·c` for
/// pixel `p`. Per kernel row, the `COLS = 3·S + KW` input columns are loaded once and serve all
/// four pixels (one pixel at a time loads every tap: 2 loads per FMA, and the loads, not the
/// FMAs, bounded the kernel at about 10 GMAC/s). At stride 2 the columns take 9 or 11 of the
/// 16 registers: callers pass `NB = 1` there.
///
/// # Safety
/// AVX2/FMA; for every `kh` with `row_ok[kh]`, `rows[kh] + col0 + cb` readable for
/// `(COLS − 1)·c + 8·NB` floats; `w` holds `[KH·KW][cn8]` floats and `bias` `cn8`,
/// `cb + 8·NB ≤ cn8`; `dst + p·c + cb` writable for `8·NB` floats, `p < 4`.
#[target_feature(enable = "avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn f32_row4<
    const KH: usize,
    const KW: usize,
    const S: usize,
    const COLS: usize,
    const NB: usize,
>(
    rows: &[*const f32; KH],
    row_ok: &[bool; KH],
    col0: usize,
    c: usize,
    cb: usize,
    w: *const f32,
    cn8: usize,
    bias: *const f32,
    clamp: Option<(__m256, __m256)>,
    dst: *mut f32,
) {
    // SAFETY: caller's ranges.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); NB]; 4];
        for row in acc.iter_mut() {
            for (j, a) in row.iter_mut().enumerate() {
                *a = _mm256_load_ps(bias.add(cb + 8 * j));
            }
        }
        for kh in 0..KH {
            if !row_ok[kh] {
                continue;
            }
            let src = rows[kh].add(col0 + cb);
            for j in 0..NB {
                let mut cols = [_mm256_setzero_ps(); COLS];
                for (q, v) in cols.iter_mut().enumerate() {
                    *v = _mm256_loadu_ps(src.add(q * c + 8 * j));
                }
                for kw in 0..KW {
                    let wv = _mm256_load_ps(w.add((kh * KW + kw) * cn8 + cb + 8 * j));
                    for (p, row) in acc.iter_mut().enumerate() {
                        row[j] = _mm256_fmadd_ps(cols[S * p + kw], wv, row[j]);
                    }
                }
            }
        }
        for (p, row) in acc.iter().enumerate() {
            for (j, a) in row.iter().enumerate() {
                let v = match clamp {
                    Some((lo, hi)) => _mm256_min_ps(_mm256_max_ps(*a, lo), hi),
                    None => *a,
                };
                _mm256_storeu_ps(dst.add(p * c + cb + 8 * j), v);
            }
        }
    }
}

/// `NB` vectors of 8 channels of one pixel: bias plus the taps in order, clamped, stored.
///
/// # Safety
/// AVX2/FMA; every `tp[t]` readable for `8·NB` floats at `cb`; `w` holds `[TAPS][cn8]` floats
/// and `bias` `cn8` from channel 0 of the chunk, `cb + 8·NB ≤ cn8`; `dst` writable for `8·NB`
/// floats.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn f32_blocks<const TAPS: usize, const NB: usize>(
    tp: &[*const f32; TAPS],
    cb: usize,
    w: *const f32,
    cn8: usize,
    bias: *const f32,
    clamp: Option<(__m256, __m256)>,
    dst: *mut f32,
) {
    let mut acc = [_mm256_setzero_ps(); NB];
    // SAFETY: caller's ranges.
    unsafe {
        for (j, a) in acc.iter_mut().enumerate() {
            *a = _mm256_load_ps(bias.add(cb + 8 * j));
        }
        for (t, &p) in tp.iter().enumerate() {
            let wt = w.add(t * cn8 + cb);
            for (j, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(
                    _mm256_loadu_ps(p.add(cb + 8 * j)),
                    _mm256_load_ps(wt.add(8 * j)),
                    *a,
                );
            }
        }
        for (j, a) in acc.iter().enumerate() {
            let v = match clamp {
                Some((lo, hi)) => _mm256_min_ps(_mm256_max_ps(*a, lo), hi),
                None => *a,
            };
            _mm256_storeu_ps(dst.add(cb + 8 * j), v);
        }
    }
}

/// # Safety
/// AVX2/FMA available; `plan` validated for these slices (depthwise kind, kernel `KH × KW`,
/// `TAPS = KH·KW ≤ MAX_TAPS`, `COLS1 = 3 + KW` and `COLS2 = 6 + KW`: the input columns of four
/// pixels at strides 1 and 2).
#[target_feature(enable = "avx2,fma")]
unsafe fn dw_f32<
    const KH: usize,
    const KW: usize,
    const TAPS: usize,
    const COLS1: usize,
    const COLS2: usize,
>(
    _t: Avx2,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let c = g.in_c;
    let zrow = A32([0f32; CHUNK + 32]);
    let mut wt = A32([MaybeUninit::<f32>::uninit(); MAX_TAPS * CHUNK]);
    let mut bv = A32([MaybeUninit::<f32>::uninit(); CHUNK]);
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let clamp = g
        .activation
        .clamp_bounds()
        .map(|(lo, hi)| (_mm256_set1_ps(lo), _mm256_set1_ps(hi)));
    let scalar_act = clamp.is_none() && g.activation != Activation::None;
    let mut c0 = 0;
    while c0 < c {
        let cn = (c - c0).min(CHUNK);
        let cn8 = cn.next_multiple_of(8);
        // Transposed weights `[tap][cn8]` and the bias, zeros past `cn`, 8 channels at a time.
        let wtp = wt.0.as_mut_ptr().cast::<f32>();
        let bvp = bv.0.as_mut_ptr().cast::<f32>();
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        for j in (0..cn8).step_by(8) {
            let mask = mask8(cn - j);
            // Channel offsets below 2^30 (plan); lanes past `cn` are masked off.
            let ch = _mm256_add_epi32(_mm256_set1_epi32((c0 + j) as i32), lane);
            let ch = _mm256_and_si256(ch, mask);
            let wrow = _mm256_mullo_epi32(ch, _mm256_set1_epi32(TAPS as i32));
            // SAFETY: live lanes read weight `ch·TAPS + t` and bias `ch` of channels `< c`;
            // masked lanes read nothing; stores at `t·cn8 + j + 8 ≤ TAPS·CHUNK` and `j + 8 ≤ CHUNK`.
            unsafe {
                for t in 0..TAPS {
                    let idx = _mm256_add_epi32(wrow, _mm256_set1_epi32(t as i32));
                    let v = _mm256_mask_i32gather_ps::<4>(
                        _mm256_setzero_ps(),
                        weights.as_ptr(),
                        idx,
                        _mm256_castsi256_ps(mask),
                    );
                    _mm256_store_ps(wtp.add(t * cn8 + j), v);
                }
                let b = match bias {
                    Some(bs) => _mm256_mask_i32gather_ps::<4>(
                        _mm256_setzero_ps(),
                        bs.as_ptr(),
                        ch,
                        _mm256_castsi256_ps(mask),
                    ),
                    None => _mm256_setzero_ps(),
                };
                _mm256_store_ps(bvp.add(j), b);
            }
        }
        let w = wt.0.as_ptr().cast::<f32>();
        let bp = bv.0.as_ptr().cast::<f32>();
        let n32 = cn / 32 * 32;
        let n8 = cn / 8 * 8;
        // Strides 1 and 2, chunks of whole vectors: rows of four pixels share their input loads
        // ([`f32_row4`]); also past the first chunk (more than 256 channels), as the AVX-512 twin.
        let row4 = g.stride_w <= 2 && cn.is_multiple_of(8);
        let span = 3 * g.stride_w + KW;
        for b in 0..g.batch {
            for oh in 0..g.out_h {
                let ih0 = (oh * g.stride_h) as isize - g.pad_top as isize;
                let mut rows = [zrow.0.as_ptr(); KH];
                let mut row_ok = [false; KH];
                for kh in 0..KH {
                    let ih = ih0 + kh as isize;
                    if ih >= 0 && (ih as usize) < g.in_h {
                        row_ok[kh] = true;
                        // SAFETY: row `ih` of image `b` exists; channel `c0 < c`.
                        rows[kh] = unsafe { x.add((b * g.in_h + ih as usize) * g.in_w * c + c0) };
                    }
                }
                // SAFETY: output row `(b, oh)` exists.
                let out_row = unsafe { out.add(((b * g.out_h + oh) * g.out_w) * c + c0) };
                let mut ow = 0;
                while ow < g.out_w {
                    let iw0 = (ow * g.stride_w) as isize - g.pad_left as isize;
                    // Four pixels whose windows lie inside the row (whole vectors).
                    if row4 && ow + 4 <= g.out_w && iw0 >= 0 && iw0 as usize + span <= g.in_w {
                        let col0 = iw0 as usize * c;
                        // SAFETY: pixel `(b, oh, ow)` exists; channels `c0 .. c0 + cn` of the
                        // four pixels (`ow + 4 ≤ out_w`).
                        let dst = unsafe { out_row.add(ow * c) };
                        let mut cb = 0;
                        // SAFETY: columns `iw0 .. iw0 + span ≤ in_w` of each valid row have
                        // `cn = cn8` floats at `cb`; weights/bias hold `cn8` per tap; the four
                        // pixels' outputs `cn` floats each.
                        unsafe {
                            if g.stride_w == 1 {
                                while cb + 16 <= cn {
                                    f32_row4::<KH, KW, 1, COLS1, 2>(
                                        &rows, &row_ok, col0, c, cb, w, cn8, bp, clamp, dst,
                                    );
                                    cb += 16;
                                }
                                if cb < cn {
                                    f32_row4::<KH, KW, 1, COLS1, 1>(
                                        &rows, &row_ok, col0, c, cb, w, cn8, bp, clamp, dst,
                                    );
                                }
                            } else {
                                while cb < cn {
                                    f32_row4::<KH, KW, 2, COLS2, 1>(
                                        &rows, &row_ok, col0, c, cb, w, cn8, bp, clamp, dst,
                                    );
                                    cb += 8;
                                }
                            }
                        }
                        if scalar_act {
                            for p in 0..4 {
                                // SAFETY: the chunk's `cn` floats of pixel `ow + p < out_w`.
                                let s =
                                    unsafe { core::slice::from_raw_parts_mut(dst.add(p * c), cn) };
                                g.activation.apply_slice(s);
                            }
                        }
                        ow += 4;
                        continue;
                    }
                    let mut tp = [zrow.0.as_ptr(); TAPS];
                    for kh in 0..KH {
                        if !row_ok[kh] {
                            continue;
                        }
                        for kw in 0..KW {
                            let iw = iw0 + kw as isize;
                            if iw >= 0 && (iw as usize) < g.in_w {
                                // SAFETY: pixel `(b, ih, iw)` exists.
                                tp[kh * KW + kw] = unsafe { rows[kh].add(iw as usize * c) };
                            }
                        }
                    }
                    // SAFETY: pixel `(b, oh, ow)` exists; channels `c0 .. c0 + cn`.
                    let dst = unsafe { out_row.add(ow * c) };
                    let mut cb = 0;
                    // SAFETY: full vectors below `n8 ≤ cn` of every tap pointer (the zero row
                    // holds CHUNK + 32 floats) and of `dst`; weights/bias hold `cn8` per tap.
                    unsafe {
                        while cb < n32 {
                            f32_blocks::<TAPS, 4>(&tp, cb, w, cn8, bp, clamp, dst);
                            cb += 32;
                        }
                        while cb < n8 {
                            f32_blocks::<TAPS, 1>(&tp, cb, w, cn8, bp, clamp, dst);
                            cb += 8;
                        }
                    }
                    if cb < cn {
                        let mask = mask8(cn - cb);
                        // SAFETY: lanes `cb .. cn` of every tap pointer and of `dst`; masked
                        // lanes are not accessed; weights/bias hold `cn8` per tap.
                        unsafe {
                            let mut acc = _mm256_load_ps(bp.add(cb));
                            for (t, &p) in tp.iter().enumerate() {
                                let xv = _mm256_maskload_ps(p.add(cb), mask);
                                acc = _mm256_fmadd_ps(xv, _mm256_load_ps(w.add(t * cn8 + cb)), acc);
                            }
                            let v = match clamp {
                                Some((lo, hi)) => _mm256_min_ps(_mm256_max_ps(acc, lo), hi),
                                None => acc,
                            };
                            _mm256_maskstore_ps(dst.add(cb), mask, v);
                        }
                    }
                    if scalar_act {
                        // SAFETY: `cn` floats of this pixel's output.
                        let s = unsafe { core::slice::from_raw_parts_mut(dst, cn) };
                        g.activation.apply_slice(s);
                    }
                    ow += 1;
                }
            }
        }
        c0 += cn;
    }
}
