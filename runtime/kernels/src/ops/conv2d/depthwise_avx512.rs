//! Depthwise convolution with AVX-512 (F/BW/VL, VNNI host class): `conv2d_s8_depthwise_avx512`
//! and `conv2d_f32_depthwise_avx512`.
//!
//! The structure of `depthwise_avx2.rs` (same coverage: one channel per group, kernels 3 and 5
//! per axis, strides 1 and 2, dilation 1, any padding; the int8 kernel from 17 channels, and 8
//! or 16 as blocks of several pixels ([`dw_s8_narrow`]); the f32 one from 16, and 8 at stride
//! 1 as pixel pairs ([`dw_f32_pairs`]): fewer fill part of one vector and the AVX2 kernels are
//! faster), with 32 channels
//! per vector (3×3 int8 at stride 1 four pixels at a time: [`s8_row4`]): each tap
//! pair is sign-extended to i16, interleaved, multiplied and accumulated with `vpdpwssd`
//! (VNNI's fused `vpmaddwd` + add; no product pair reaches its only overflow, `2 · 2^30`, since
//! `|x| ≤ 255` and `|w| ≤ 128`); tails use masked loads and stores. The input offset is folded
//! into a per-channel bias (padding taps read the input zero point); requantization is
//! `multiply_by_quantized_multiplier` in vector form for both roundings with right shifts
//! (double rounding: the shared folded form, `Requant16::apply_simple`, or `apply_folded` with
//! the output offset in the rounding addend where `offset_folds` allows), the scalar function
//! otherwise.

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::{Conv2dParams, Conv2dS8Params, S8Kind, S8Plan};
use crate::arch::x86::{
    dpwssd_512, float_offset_512, float_round_512, offset_folds, Avx512Vnni, OutputStage, Requant16,
};
use crate::ops::util::requantize_output;
use crate::quant::Rounding;
use crate::Activation;

/// Channels per chunk.
const CHUNK: usize = 256;
/// Fewest channels `conv2d_s8_depthwise_avx512` takes.
pub(crate) const MIN_S8_CHANNELS: usize = 17;
/// Most tap pairs (5×5).
const MAX_PAIRS: usize = 13;

#[repr(C, align(64))]
struct A64<T>(T);

/// Position `i` of a 32-channel block's accumulators (`lo` = 0..16, `hi` = 16..32) holds channel
/// `PERM32[i]`: `vpunpck{l,h}wd` works within 128-bit lanes of 8 channels.
const PERM32: [usize; 32] = {
    let mut p = [0usize; 32];
    let mut i = 0;
    while i < 16 {
        p[i] = 8 * (i / 4) + i % 4;
        p[16 + i] = 8 * (i / 4) + 4 + i % 4;
        i += 1;
    }
    p
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum RqMode {
    /// Double rounding, [`Requant16::apply_folded`] (the constants carry the output offset).
    DoubleFolded,
    Double,
    Single,
    /// [`Rounding::Float`]: [`float_round_512`] with the scales gathered into `Consts::mult`.
    Float,
    Scalar,
}

/// `conv2d_s8_depthwise_avx512`. Returns `false` (nothing written) when AVX-512 VNNI is
/// unavailable or the call is not a covered depthwise shape.
pub(crate) fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    call(p, (input, weights, bias, mults, shifts), None, output)
}

/// The slices of a call: input, weights, bias, multipliers, shifts.
type Operands<'a> = (&'a [i8], &'a [i8], Option<&'a [i32]>, &'a [i32], &'a [i32]);

/// [`conv2d_s8`], reading a `cache` when given (`false` when it does not fit the call).
fn call(
    p: &Conv2dS8Params,
    (input, weights, bias, mults, shifts): Operands<'_>,
    cache: Option<&[i32]>,
    output: &mut [i8],
) -> bool {
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
    let Some((tok, ctx)) = context(plan, p, input, weights, bias, mults, shifts) else {
        return false;
    };
    if cache.is_some_and(|c| !cache_fits(&ctx, c)) {
        return false;
    }
    let read = cache.map(|c| Cache {
        base: c.as_ptr().cast_mut(),
        fill: false,
    });
    // SAFETY: `context` checked the call; a cache matches its length and alignment (above) and
    // is only read (`fill: false`).
    unsafe { run(tok, &ctx, read, output) };
    true
}

/// The call's context when this kernel takes it (AVX-512 VNNI, a covered depthwise shape).
fn context<'a>(
    plan: S8Plan,
    p: &'a Conv2dS8Params,
    input: &'a [i8],
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    mults: &'a [i32],
    shifts: &'a [i32],
) -> Option<(Avx512Vnni, S8Ctx<'a>)> {
    let tok = Avx512Vnni::get()?;
    if plan.kind != S8Kind::Depthwise || !super::depthwise_fast_shape(&plan.g) {
        return None;
    }
    // 16 channels or fewer fill part of one 32-lane vector; the AVX2 kernel runs two pixels of
    // 8 channels, or one of 16, per 16-lane vector and was measured 1.2–2× faster on VWW's
    // 48×48×8 and 24×24×16 layers (`mote bench vww_int8.mote --per-op --isa avx2` beside the
    // default, 2026-11-28 on an AVX-512 VNNI Zen 5). Since 2026-11-29, 8 or 16 channels run
    // here as blocks of 4 or 2 pixels ([`dw_s8_narrow`]): VWW's 48×48×8 layer 0.0096 → 0.0042
    // ms, its 24×24×16 stride-2 layer 0.0050 → 0.0028 (`scripts/bench-ab-layers.py`).
    let narrow = covers_narrow(&plan.g);
    if p.geometry.in_c < MIN_S8_CHANNELS && !narrow {
        return None;
    }
    let st = OutputStage::new(p.output_offset, p.act_min, p.act_max)?;
    let right_only = crate::arch::x86::simple_requant(mults, shifts);
    let mode = match (right_only, p.rounding) {
        (true, Rounding::Double) if offset_folds(&st, shifts) => RqMode::DoubleFolded,
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
    Some((tok, ctx))
}

/// # Safety
/// `ctx` from [`context`] (which `tok` came with) and `output` of the plan's length (or empty
/// when only filling a cache); a `cache` is [`fill_cache`]'s for this call ([`cache_entries`]
/// entries, 64-byte aligned).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn run(tok: Avx512Vnni, ctx: &S8Ctx, cache: Option<Cache>, output: &mut [i8]) {
    // The float output stage in instances of its own: a runtime branch in the shared block
    // code made the double-rounding layers 2–7 % slower (`scripts/bench-ab-layers.py`, Zen 4).
    // SAFETY: forwarded from the caller.
    unsafe {
        if ctx.mode == RqMode::Float {
            run_as::<true>(tok, ctx, cache, output)
        } else {
            run_as::<false>(tok, ctx, cache, output)
        }
    }
}

/// [`run`] for one output stage (`FLOAT` exactly when the mode is [`RqMode::Float`]).
///
/// # Safety
/// As [`run`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn run_as<const FLOAT: bool>(
    tok: Avx512Vnni,
    ctx: &S8Ctx,
    cache: Option<Cache>,
    output: &mut [i8],
) {
    // SAFETY: `tok` proves AVX-512 F/BW/VL/VNNI, AVX2 and FMA; `S8Plan::new` checked every slice
    // length against the shapes; `depthwise_fast_shape` bounds the kernel to these instances.
    unsafe {
        match (
            ctx.plan.g.kernel_h,
            ctx.plan.g.kernel_w,
            covers_narrow(&ctx.plan.g),
        ) {
            (3, 3, false) => dw_s8::<3, 3, 9, 5, FLOAT>(tok, ctx, cache, output),
            (3, 5, false) => dw_s8::<3, 5, 15, 8, FLOAT>(tok, ctx, cache, output),
            (5, 3, false) => dw_s8::<5, 3, 15, 8, FLOAT>(tok, ctx, cache, output),
            (_, _, false) => dw_s8::<5, 5, 25, 13, FLOAT>(tok, ctx, cache, output),
            (3, 3, true) => dw_s8_narrow::<3, 3, 9, 5, FLOAT>(ctx, cache, output),
            (3, 5, true) => dw_s8_narrow::<3, 5, 15, 8, FLOAT>(ctx, cache, output),
            (5, 3, true) => dw_s8_narrow::<5, 3, 15, 8, FLOAT>(ctx, cache, output),
            (_, _, true) => dw_s8_narrow::<5, 5, 25, 13, FLOAT>(ctx, cache, output),
        }
    }
}

/// What a cache holds per chunk of channels: the chunk's [`Consts`], the one-pixel weights and
/// the row-of-four weights (`prepare_chunk`'s outputs).
const CONSTS_WORDS: usize = core::mem::size_of::<Consts>() / 4;
/// Dwords of one chunk's cache entry (64-byte multiples: `Consts` is 64-byte aligned and
/// `MAX_PAIRS · CHUNK · 4` bytes are 208 lines).
const ENTRY_WORDS: usize = CONSTS_WORDS + 2 * MAX_PAIRS * CHUNK;

/// A weight cache being filled (lent mutably by `fill_cache`) or read (lent shared by
/// `conv2d_s8_cached`: nothing is written through `base` then): entry `i` at
/// `base + i · ENTRY_WORDS`.
#[derive(Clone, Copy)]
struct Cache {
    base: *mut i32,
    /// Fill it (`prepare_chunk`) rather than read it.
    fill: bool,
}

/// Chunk entries of a call's cache.
fn cache_entries(g: &Conv2dParams) -> usize {
    if covers_narrow(g) {
        1
    } else {
        g.in_c.div_ceil(CHUNK)
    }
}

/// Dwords of the weight cache of a depthwise call this kernel takes (`None` otherwise): each
/// call gathers and repacks the weights and the per-channel constants of every chunk before its
/// first pixel (`prepare_chunk`), 7.5 % of VWW's int8 inference (`perf record` of `mote bench
/// vww_int8.mote`, Zen 5), which a host can do once at load.
pub(crate) fn cache_len(p: &Conv2dS8Params, weights: usize, bias: Option<usize>) -> Option<usize> {
    Avx512Vnni::get()?;
    let plan = S8Plan::for_weights(p, weights, bias)?;
    if plan.kind != S8Kind::Depthwise
        || !super::depthwise_fast_shape(&plan.g)
        || (p.geometry.in_c < MIN_S8_CHANNELS && !covers_narrow(&plan.g))
    {
        return None;
    }
    cache_entries(&plan.g).checked_mul(ENTRY_WORDS)
}

/// Whether `cache` has the [`cache_len`] of the call `ctx` was made for (the same conditions:
/// `context` took the call) and is 64-byte aligned. Checked on the call's own plan: building a
/// second plan per inference just for the length was work twice.
fn cache_fits(ctx: &S8Ctx, cache: &[i32]) -> bool {
    cache_entries(&ctx.plan.g).checked_mul(ENTRY_WORDS) == Some(cache.len())
        && (cache.as_ptr() as usize).is_multiple_of(64)
}

/// Fills `cache` ([`cache_len`] dwords, 64-byte aligned) for calls with these weights, bias and
/// requantization constants; `false` (nothing written) when the call would not use it.
pub(crate) fn fill_cache(
    p: &Conv2dS8Params,
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    cache: &mut [i32],
) -> bool {
    let Some(plan) = S8Plan::for_weights(p, weights.len(), bias.map(<[i32]>::len)) else {
        return false;
    };
    if mults.len() != p.geometry.out_c || shifts.len() != p.geometry.out_c {
        return false;
    }
    let Some((tok, ctx)) = context(plan, p, &[], weights, bias, mults, shifts) else {
        return false;
    };
    if !cache_fits(&ctx, cache) {
        return false;
    }
    let fill = Cache {
        base: cache.as_mut_ptr(),
        fill: true,
    };
    // SAFETY: `context` checked the call; the cache has `cache_entries` entries and is 64-byte
    // aligned (checked above); filling reads no input and writes no output.
    unsafe { run(tok, &ctx, Some(fill), &mut []) };
    true
}

/// [`conv2d_s8`] reading the chunks' constants and weights from a cache [`fill_cache`] filled
/// for this call; `false` (nothing written) when the call or the cache does not match.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv2d_s8_cached(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    cache: &[i32],
    output: &mut [i8],
) -> bool {
    call(
        p,
        (input, weights, bias, mults, shifts),
        Some(cache),
        output,
    )
}

/// Bytes of one padded input row of [`dw_s8_narrow`].
const NARROW_ROW: usize = 2048;

/// Whether [`dw_s8_narrow`] takes a depthwise call (of [`super::depthwise_fast_shape`]): 8 or 16
/// channels and padded rows ([`narrow_row_len`]) within [`NARROW_ROW`] bytes.
pub(crate) fn covers_narrow(g: &Conv2dParams) -> bool {
    matches!(g.in_c, 8 | 16) && narrow_row_len(g) <= NARROW_ROW
}

/// Bytes of a padded input row of [`dw_s8_narrow`]: the windows of `out_w` pixels rounded up to
/// whole blocks (`32 / in_c` pixels; the last block's pixels past the row read the padding).
fn narrow_row_len(g: &Conv2dParams) -> usize {
    (g.out_w + 4)
        .saturating_mul(g.stride_w)
        .saturating_add(g.kernel_w)
        .saturating_mul(g.in_c)
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

/// Per-chunk constants, in the [`PERM32`] order of each 32-channel block.
struct Consts {
    /// `bias + input_offset · Σw`.
    bias: A64<[MaybeUninit<i32>; CHUNK]>,
    mult: A64<[MaybeUninit<i32>; CHUNK]>,
    /// Double: the right shift; Single: `2^(62−s)` (low 32 bits).
    right: A64<[MaybeUninit<i32>; CHUNK]>,
    /// Single: `s = 31 + right`.
    mask: A64<[MaybeUninit<i32>; CHUNK]>,
    /// Double: the folded output stage ([`Requant16::apply_simple`]) of positions `16i ..`.
    rq: [Requant16; CHUNK / 16],
}

impl Consts {
    /// Unwritten constants (`prepare_chunk` fills what a chunk reads).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    fn new() -> Self {
        Consts {
            bias: A64([MaybeUninit::uninit(); CHUNK]),
            mult: A64([MaybeUninit::uninit(); CHUNK]),
            right: A64([MaybeUninit::uninit(); CHUNK]),
            mask: A64([MaybeUninit::uninit(); CHUNK]),
            rq: [Requant16::splat(0, 0); CHUNK / 16],
        }
    }
}

/// Consecutive taps paired, `(0, 1), (2, 3), …`, the last with nothing when `TAPS` is odd: the
/// layout of the one-pixel loop.
const fn tap_pairs<const TAPS: usize, const PAIRS: usize>() -> [(usize, usize); PAIRS] {
    let mut p = [(usize::MAX, usize::MAX); PAIRS];
    let mut i = 0;
    while i < PAIRS {
        p[i] = (2 * i, 2 * i + 1);
        i += 1;
    }
    p
}

/// Narrowest output row [`s8_row4`] runs on.
const ROW4_MIN_WIDTH: usize = 14;

/// Pairs of a 3×3 kernel for [`s8_row4`]: kernel rows 0 and 1 paired column by column
/// (`(kw, 3 + kw)`, pair `kw`), then row 2 with nothing (pair `3 + kw`). A pair of two rows
/// at one input column serves every pixel whose window holds that column, so each interleave
/// is computed once per column instead of once per pixel.
const ROW4_PAIRS: [(usize, usize); 6] = [
    (0, 3),
    (1, 4),
    (2, 5),
    (6, usize::MAX),
    (7, usize::MAX),
    (8, usize::MAX),
];

/// Requantizes 16 accumulators at constant position `q` and applies the output stage.
///
/// # Safety
/// AVX-512 available; positions `q .. q + 16` of `k` written for the mode; `q` a multiple of 16.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn requant(ctx: &S8Ctx, k: &Consts, q: usize, acc: __m512i) -> __m512i {
    let (mode, st) = (ctx.mode, &ctx.st);
    match mode {
        RqMode::DoubleFolded => return k.rq[q / 16].apply_folded(acc),
        RqMode::Double => return k.rq[q / 16].apply_simple(acc, st),
        _ => {}
    }
    // SAFETY: positions `q .. q + 16` initialised, 64-byte aligned.
    let (m, r, mk) = unsafe {
        (
            _mm512_load_si512(k.mult.0.as_ptr().add(q).cast()),
            _mm512_load_si512(k.right.0.as_ptr().add(q).cast()),
            _mm512_load_si512(k.mask.0.as_ptr().add(q).cast()),
        )
    };
    let acc_o = _mm512_srli_epi64::<32>(acc);
    let m_o = _mm512_srli_epi64::<32>(m);
    // Single rounding. See `rq_single` in depthwise_avx2.rs: u = acc·m + 2^(s−1) + 2^62 ∈
    // (0, 2^64).
    let v = {
        let one = _mm512_set1_epi64(1);
        let top = _mm512_set1_epi64(1 << 62);
        let s_e = _mm512_and_si512(mk, _mm512_set1_epi64(0xffff_ffff));
        let s_o = _mm512_srli_epi64::<32>(mk);
        let n_e = _mm512_add_epi64(_mm512_sllv_epi64(one, _mm512_sub_epi64(s_e, one)), top);
        let n_o = _mm512_add_epi64(_mm512_sllv_epi64(one, _mm512_sub_epi64(s_o, one)), top);
        let even = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epi32(acc, m), n_e), s_e);
        let odd = _mm512_slli_epi64::<32>(_mm512_srlv_epi64(
            _mm512_add_epi64(_mm512_mul_epi32(acc_o, m_o), n_o),
            s_o,
        ));
        _mm512_sub_epi32(_mm512_mask_blend_epi32(0xaaaa, even, odd), r)
    };
    let v = _mm512_max_epi32(v, _mm512_set1_epi32(st.lo));
    let v = _mm512_min_epi32(v, _mm512_set1_epi32(st.hi));
    _mm512_add_epi32(v, _mm512_set1_epi32(st.off))
}

/// Requantizes one block (`lo`, `hi` in [`PERM32`] order) of channels `oc .. oc + n` and stores
/// the `n ≤ 32` bytes at `dst`.
///
/// # Safety
/// AVX-512 available; block constants at `q` written; `dst` writable for `n` bytes;
/// `oc + n ≤ out_c`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn finish_block<const FLOAT: bool>(
    ctx: &S8Ctx,
    k: &Consts,
    q: usize,
    lo: __m512i,
    hi: __m512i,
    oc: usize,
    n: usize,
    dst: *mut i8,
) {
    if ctx.mode == RqMode::Scalar {
        // SAFETY: forwarded.
        unsafe { finish_scalar(ctx, lo, hi, oc, n, dst) };
        return;
    }
    // i16 lane ℓ: channels 8ℓ..8ℓ+3 from `lo`, 8ℓ+4..8ℓ+7 from `hi`: channel order. Both
    // narrowings saturate (`Requant16::apply_folded` leaves the clamp to them, the float stage
    // its lower bound and offset: `float_offset_512`, then the i8 `max`).
    let v = if FLOAT {
        let st = &ctx.st;
        // SAFETY: positions `q .. q + 32` hold the scales' bits, 64-byte aligned.
        let (a, b) = unsafe {
            let kp = k.mult.0.as_ptr().add(q).cast::<f32>();
            (
                float_round_512(lo, _mm512_load_ps(kp), st),
                float_round_512(hi, _mm512_load_ps(kp.add(16)), st),
            )
        };
        _mm256_max_epi8(
            _mm512_cvtsepi16_epi8(float_offset_512(a, b, st)),
            _mm256_set1_epi8((st.lo + st.off) as i8),
        )
    } else {
        // SAFETY: forwarded.
        let (a, b) = unsafe { (requant(ctx, k, q, lo), requant(ctx, k, q + 16, hi)) };
        _mm512_cvtsepi16_epi8(_mm512_packs_epi32(a, b))
    };
    // SAFETY: `n` bytes writable at `dst` (caller); the masked store writes only those.
    unsafe {
        if n >= 32 {
            _mm256_storeu_si256(dst.cast(), v);
        } else {
            _mm256_mask_storeu_epi8(dst, mask32(n), v);
        }
    }
}

/// The byte mask of `n ≤ 32` lanes.
#[inline]
fn mask32(n: usize) -> u32 {
    if n >= 32 {
        u32::MAX
    } else {
        (1u32 << n) - 1
    }
}

/// The scalar output stage for parameters outside the vector forms' range.
///
/// # Safety
/// As [`finish_block`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[cold]
#[inline(never)]
unsafe fn finish_scalar(ctx: &S8Ctx, lo: __m512i, hi: __m512i, oc: usize, n: usize, dst: *mut i8) {
    let mut a = [0i32; 32];
    // SAFETY: `a` holds 32 i32.
    unsafe {
        _mm512_storeu_si512(a.as_mut_ptr().cast(), lo);
        _mm512_storeu_si512(a.as_mut_ptr().add(16).cast(), hi);
    }
    for (pos, &acc) in a.iter().enumerate() {
        let j = PERM32[pos];
        if j >= n {
            continue;
        }
        // Packed blocks (several pixels of `out_c` ≤ 16 channels) start at `oc = 0`.
        let c = (oc + j) % ctx.plan.g.out_c.max(1);
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

/// Fills the chunk's constants and packed weights for channels `c0 .. c0 + cn`, the weights as
/// the i16 pairs of taps `pairs` lists (a tap index of `TAPS` or more: a zero weight)
/// (`cn ≤ CHUNK`, `c0 + cn ≤ out_c`): every position of `cn.next_multiple_of(32)` the kernel
/// reads is written (lanes past `cn` hold zeros). Gathers 8 channels at a time (AVX2 gathers), in [`PERM32`]
/// order.
///
/// # Safety
/// AVX2 available; `ctx` built by [`conv2d_s8`] (weights `out_c · TAPS` bytes, `TAPS ≥ 4`,
/// per-channel arrays `out_c` long, offsets below 2^30).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn prepare_chunk<const TAPS: usize, const PAIRS: usize>(
    ctx: &S8Ctx,
    (c0, period): (usize, usize),
    cn: usize,
    pairs: &[(usize, usize); PAIRS],
    k: &mut Consts,
    wpk: &mut A64<[MaybeUninit<i32>; MAX_PAIRS * CHUNK]>,
) {
    let blocks = cn.div_ceil(32);
    let wbase = ctx.weights.as_ptr();
    let zero = _mm256_setzero_si256();
    let one = _mm256_set1_epi32(1);
    let off = _mm256_set1_epi32(ctx.p.input_offset);
    let kb = k.bias.0.as_mut_ptr().cast::<i32>();
    let km = k.mult.0.as_mut_ptr().cast::<i32>();
    let kr = k.right.0.as_mut_ptr().cast::<i32>();
    let kmask = k.mask.0.as_mut_ptr().cast::<i32>();
    let wp = wpk.0.as_mut_ptr().cast::<i32>();
    for v in 0..blocks {
        for h in 0..4 {
            let q = 32 * v + 8 * h;
            let mut lanes = [0i32; 8];
            let mut live = [0i32; 8];
            for (i, (l, m)) in lanes.iter_mut().zip(live.iter_mut()).enumerate() {
                let cc = 32 * v + PERM32[8 * h + i];
                // Channel offsets below 2^30 (plan); dead lanes are masked off. With a period,
                // position `cc` holds channel `cc % period` (blocks of several pixels).
                *l = if period > 0 {
                    (cc % period) as i32
                } else {
                    (c0 + cc.min(cn.saturating_sub(1))) as i32
                };
                *m = if cc < cn { -1 } else { 0 };
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
            for (pr, &(t0, t1)) in pairs.iter().enumerate() {
                let w0 = w.get(t0).copied().unwrap_or(zero);
                let w1 = w.get(t1).copied().unwrap_or(zero);
                let d = _mm256_or_si256(
                    _mm256_and_si256(w0, _mm256_set1_epi32(0xffff)),
                    _mm256_slli_epi32::<16>(w1),
                );
                // SAFETY: block `v < blocks ≤ CHUNK/32`, pair `pr < PAIRS`: inside the buffer.
                unsafe { _mm256_storeu_si256(wp.add((v * PAIRS + pr) * 32 + 8 * h).cast(), d) };
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
                        _mm256_storeu_si256(kmask.add(q).cast(), sh);
                    }
                    _ => _mm256_storeu_si256(kr.add(q).cast(), right),
                }
            }
        }
        if matches!(ctx.mode, RqMode::Double | RqMode::DoubleFolded) {
            for h in 0..2 {
                let q = 32 * v + 16 * h;
                // SAFETY: positions `q .. q + 16` of both arrays were written above, 64-byte
                // aligned.
                k.rq[q / 16] = unsafe {
                    Requant16::from_right_shifts(
                        _mm512_load_si512(km.add(q).cast()),
                        _mm512_load_si512(kr.add(q).cast()),
                    )
                    .with_output_offset(if ctx.mode == RqMode::DoubleFolded {
                        ctx.p.output_offset
                    } else {
                        0
                    })
                };
            }
        }
    }
}

/// One block of `n ≤ 32` channels (from `cb`) of four adjacent output pixels of a 3×3 kernel
/// at stride 1, whose windows lie inside the input row: the pairs of [`ROW4_PAIRS`]. Each of
/// the 6 input columns is loaded and widened once per kernel row, and each column's
/// interleave (rows 0 and 1, or row 2 and zeros) feeds up to three pixels; the one-pixel loop
/// loads every tap of every pixel. The sums are the same integers (two's-complement addition
/// in any order), so the outputs are bit-identical.
///
/// # Safety
/// AVX-512 VNNI; `base[r] + q·step[r] + cb` readable for `n` bytes, `q < 6` (a row of the
/// input, or the zero-point row with step 0); `w` the block's `6 · 32` packed dwords of
/// [`ROW4_PAIRS`]; the block's constants at `cb` written; `dst + p·c` writable for `n` bytes,
/// `p < 4`; `oc + n ≤ out_c`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn s8_row4<const FLOAT: bool>(
    ctx: &S8Ctx,
    k: &Consts,
    base: &[*const i8; 3],
    step: &[usize; 3],
    cb: usize,
    n: usize,
    w: *const i32,
    c: usize,
    oc: usize,
    dst: *mut i8,
) {
    let mk = mask32(n);
    let kp = k.bias.0.as_ptr().cast::<i32>();
    let zero = _mm512_setzero_si512();
    // SAFETY: caller's ranges; the masked loads read `n` bytes.
    unsafe {
        let ld = |r: usize, q: usize| {
            _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mk, base[r].add(q * step[r] + cb)))
        };
        let b_lo = _mm512_load_si512(kp.add(cb).cast());
        let b_hi = _mm512_load_si512(kp.add(cb + 16).cast());
        let mut lo = [b_lo; 4];
        let mut hi = [b_hi; 4];
        for half in 0..2 {
            for q in 0..6 {
                let a = ld(2 * half, q);
                let bb = if half == 0 { ld(1, q) } else { zero };
                let il = _mm512_unpacklo_epi16(a, bb);
                let ih = _mm512_unpackhi_epi16(a, bb);
                for kw in 0..3 {
                    // Pixel `q − kw` reads column `q` at kernel column `kw`.
                    if q >= kw && q - kw < 4 {
                        let p = q - kw;
                        let pr = 3 * half + kw;
                        let wl = _mm512_load_si512(w.add(pr * 32).cast());
                        let wh = _mm512_load_si512(w.add(pr * 32 + 16).cast());
                        lo[p] = dpwssd_512(lo[p], il, wl);
                        hi[p] = dpwssd_512(hi[p], ih, wh);
                    }
                }
            }
        }
        for p in 0..4 {
            finish_block::<FLOAT>(ctx, k, cb, lo[p], hi[p], oc, n, dst.add(p * c + cb));
        }
    }
}

/// # Safety
/// AVX-512 VNNI available; `ctx` built by [`conv2d_s8`] (lengths checked by the plan, depthwise kind);
/// `KH × KW` is the kernel, `TAPS = KH·KW ≤ MAX_TAPS`, `PAIRS = ⌈TAPS/2⌉ ≤ MAX_PAIRS`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn dw_s8<
    const KH: usize,
    const KW: usize,
    const TAPS: usize,
    const PAIRS: usize,
    const FLOAT: bool,
>(
    _t: Avx512Vnni,
    ctx: &S8Ctx,
    cache: Option<Cache>,
    output: &mut [i8],
) {
    let g = &ctx.plan.g;
    let c = g.in_c;
    let zp = (-ctx.p.input_offset) as i8;
    // Input zero points for padding taps; 32 spare bytes so full-block loads stay inside.
    let zrow = [zp; CHUNK + 32];
    let mut k_here = Consts::new();
    let mut wpk = A64([MaybeUninit::<i32>::uninit(); MAX_PAIRS * CHUNK]);
    // 3×3 at stride 1: four pixels at a time where their windows are inside the row
    // ([`s8_row4`], its own weight layout); the rest one pixel at a time. Rows of fewer than
    // ROW4_MIN_WIDTH pixels keep the one-pixel loop: packing the second layout cost more than it
    // saved on VWW's 6×6×128 layers (0.0016 → 0.0019 ms) and 12×12×64 (no change).
    let row4 = KH == 3 && KW == 3 && g.stride_w == 1 && g.out_w >= ROW4_MIN_WIDTH;
    let mut wpk4 = A64([MaybeUninit::<i32>::uninit(); MAX_PAIRS * CHUNK]);
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();
    let pairs = tap_pairs::<TAPS, PAIRS>();
    let mut c0 = 0;
    let mut entry = 0;
    while c0 < c {
        let cn = (c - c0).min(CHUNK);
        let full = cn / 32;
        let tail = cn % 32;
        // The chunk's constants and weights: prepared here, or written to / read from the
        // chunk's cache entry.
        let (k, wp, wp4): (&Consts, *const i32, *const i32) = match cache {
            Some(cc) => {
                // SAFETY: entry `entry < cache_entries` of the 64-byte aligned cache (caller).
                let e = unsafe { cc.base.add(entry * ENTRY_WORDS) };
                if cc.fill {
                    // SAFETY: filling, the cache was lent mutably (`fill_cache`); the entry is
                    // a `Consts` (all integer vectors, any bits valid) and two weight buffers,
                    // each 64-byte aligned; `ctx` from `conv2d_s8`, `c0 + cn ≤ c`.
                    unsafe {
                        prepare_both::<TAPS, PAIRS>(
                            ctx,
                            c0,
                            cn,
                            row4,
                            &pairs,
                            &mut *e.cast::<Consts>(),
                            &mut *e.add(CONSTS_WORDS).cast::<Packed>(),
                            &mut *e.add(CONSTS_WORDS + MAX_PAIRS * CHUNK).cast::<Packed>(),
                        )
                    };
                    c0 += cn;
                    entry += 1;
                    continue;
                }
                // SAFETY: reading the entry `fill_cache` wrote for this call (shared only).
                unsafe {
                    (
                        &*e.cast_const().cast::<Consts>(),
                        e.add(CONSTS_WORDS).cast_const(),
                        e.add(CONSTS_WORDS + MAX_PAIRS * CHUNK).cast_const(),
                    )
                }
            }
            None => {
                // SAFETY: `ctx` from `conv2d_s8`; `c0 + cn ≤ c`; TAPS ≥ 9; AVX2 implied.
                unsafe {
                    prepare_both::<TAPS, PAIRS>(
                        ctx,
                        c0,
                        cn,
                        row4,
                        &pairs,
                        &mut k_here,
                        &mut wpk,
                        &mut wpk4,
                    )
                };
                (&k_here, wpk.0.as_ptr().cast(), wpk4.0.as_ptr().cast())
            }
        };
        entry += 1;
        let kp = k.bias.0.as_ptr().cast::<i32>();
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
                    // Four pixels whose windows lie inside the row (3×3, stride 1).
                    if row4 && ow + 4 <= g.out_w && iw0 >= 0 && iw0 as usize + 6 <= g.in_w {
                        let mut base = [zrow.as_ptr(); 3];
                        let mut step = [0usize; 3];
                        for r in 0..3 {
                            if row_ok[r] {
                                // SAFETY: columns `iw0 .. iw0 + 6 ≤ in_w` of row `r`.
                                base[r] = unsafe { rows[r].add(iw0 as usize * c) };
                                step[r] = c;
                            }
                        }
                        // SAFETY: pixel `(b, oh, ow)` exists, and the three after it.
                        let dst = unsafe { out_row.add(ow * c) };
                        let mut v = 0;
                        while 32 * v < cn {
                            let cb = 32 * v;
                            // SAFETY: `cb + n ≤ cn` channels of each of the six columns (or of
                            // the zero row, `CHUNK + 32` bytes) and of the four outputs; the
                            // block's constants and row4 weights were written.
                            unsafe {
                                s8_row4::<FLOAT>(
                                    ctx,
                                    k,
                                    &base,
                                    &step,
                                    cb,
                                    (cn - cb).min(32),
                                    wp4.add(v * 6 * 32),
                                    c,
                                    c0 + cb,
                                    dst,
                                )
                            };
                            v += 1;
                        }
                        ow += 4;
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
                        let cb = 32 * v;
                        // SAFETY: `cb + 32 ≤ cn`: every tap pointer (a pixel's chunk or the zero
                        // row) has 32 bytes at `cb`; constants and weights of block `v` written.
                        unsafe {
                            let (lo, hi) = block_taps::<TAPS, PAIRS>(
                                kp.add(cb),
                                wp.add(v * PAIRS * 32),
                                |t| _mm256_loadu_si256(tp[t].add(cb).cast()),
                            );
                            finish_block::<FLOAT>(ctx, k, cb, lo, hi, c0 + cb, 32, dst.add(cb));
                        }
                    }
                    if tail > 0 {
                        let cb = 32 * full;
                        let mk = mask32(tail);
                        // SAFETY: `cb + tail = cn`: the masked loads read `tail` bytes at `cb` of
                        // every tap pointer; the block's constants and weights were written.
                        unsafe {
                            let (lo, hi) = block_taps::<TAPS, PAIRS>(
                                kp.add(cb),
                                wp.add(full * PAIRS * 32),
                                |t| _mm256_maskz_loadu_epi8(mk, tp[t].add(cb)),
                            );
                            finish_block::<FLOAT>(ctx, k, cb, lo, hi, c0 + cb, tail, dst.add(cb));
                        }
                    }
                    ow += 1;
                }
            }
        }
        c0 += cn;
    }
}

/// A chunk's packed weights (`prepare_chunk`).
type Packed = A64<[MaybeUninit<i32>; MAX_PAIRS * CHUNK]>;

/// The constants and one-pixel weights of chunk `c0 .. c0 + cn`, and with `row4` the weights
/// in the layout of `s8_row4` (the same constants again; 6 ≤ MAX_PAIRS pairs per block).
///
/// # Safety
/// As `prepare_chunk`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn prepare_both<const TAPS: usize, const PAIRS: usize>(
    ctx: &S8Ctx,
    c0: usize,
    cn: usize,
    row4: bool,
    pairs: &[(usize, usize); PAIRS],
    k: &mut Consts,
    wpk: &mut Packed,
    wpk4: &mut Packed,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        prepare_chunk::<TAPS, PAIRS>(ctx, (c0, 0), cn, pairs, k, wpk);
        if row4 {
            prepare_chunk::<TAPS, 6>(ctx, (c0, 0), cn, &ROW4_PAIRS, k, wpk4);
        }
    }
}

/// One 32-lane block of the one-pixel layout: the constants' initial accumulators at `kp`
/// (positions `0 .. 32` in [`PERM32`] order) plus every tap pair's products, `load(t)` the 32
/// input bytes of tap `t`, `w` the block's `PAIRS · 32` packed dwords; returns `(lo, hi)`.
///
/// # Safety
/// AVX-512 VNNI; `kp` readable for 32 aligned i32 and `w` for `PAIRS · 32`; `load` valid for
/// every tap `t < TAPS`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn block_taps<const TAPS: usize, const PAIRS: usize>(
    kp: *const i32,
    w: *const i32,
    load: impl Fn(usize) -> __m256i,
) -> (__m512i, __m512i) {
    // SAFETY: the caller's ranges.
    unsafe {
        let mut lo = _mm512_load_si512(kp.cast());
        let mut hi = _mm512_load_si512(kp.add(16).cast());
        for pr in 0..PAIRS {
            let a = _mm512_cvtepi8_epi16(load(2 * pr));
            let bb = if 2 * pr + 1 < TAPS {
                _mm512_cvtepi8_epi16(load(2 * pr + 1))
            } else {
                _mm512_setzero_si512()
            };
            let wl = _mm512_load_si512(w.add(pr * 32).cast());
            let wh = _mm512_load_si512(w.add(pr * 32 + 16).cast());
            lo = dpwssd_512(lo, _mm512_unpacklo_epi16(a, bb), wl);
            hi = dpwssd_512(hi, _mm512_unpackhi_epi16(a, bb), wh);
        }
        (lo, hi)
    }
}

/// Depthwise layers of 8 or 16 channels ([`covers_narrow`]; VWW's 48×48×8 and 24×24×16): a
/// 32-lane block is `32 / c` adjacent pixels of the row, whose taps are one contiguous run of
/// 32 input bytes each at stride 1 (at stride 2, pieces of `c` bytes put together), so the
/// one-pixel loop's arithmetic serves 4 (or 2) pixels and stores their outputs at once. Each output row's input rows are first copied with their padding
/// (input zero points) into row buffers, so every block reads whole runs. The block's
/// constants and weights repeat with period `c` (`prepare_chunk`).
///
/// # Safety
/// AVX-512 VNNI available; `ctx` built by [`conv2d_s8`] for a call [`covers_narrow`] takes;
/// `KH × KW` is the kernel, `TAPS = KH·KW`, `PAIRS = ⌈TAPS/2⌉`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn dw_s8_narrow<
    const KH: usize,
    const KW: usize,
    const TAPS: usize,
    const PAIRS: usize,
    const FLOAT: bool,
>(
    ctx: &S8Ctx,
    cache: Option<Cache>,
    output: &mut [i8],
) {
    let g = &ctx.plan.g;
    let c = g.in_c;
    let per = 32 / c.max(1);
    let zp = (-ctx.p.input_offset) as i8;
    let mut k_here = Consts::new();
    let mut wpk = A64([MaybeUninit::<i32>::uninit(); MAX_PAIRS * CHUNK]);
    let pairs = tap_pairs::<TAPS, PAIRS>();
    let (k, w): (&Consts, *const i32) = match cache {
        Some(cc) => {
            if cc.fill {
                // SAFETY: filling, the cache was lent mutably (`fill_cache`): its one entry is a
                // `Consts` and a weight buffer, 64-byte aligned; `ctx` from `conv2d_s8`, 32
                // positions of period `c ≤ out_c`.
                unsafe {
                    prepare_chunk::<TAPS, PAIRS>(
                        ctx,
                        (0, c),
                        32,
                        &pairs,
                        &mut *cc.base.cast::<Consts>(),
                        &mut *cc.base.add(CONSTS_WORDS).cast::<Packed>(),
                    )
                };
                return;
            }
            // SAFETY: reading the entry `fill_cache` wrote for this call (shared only).
            unsafe {
                (
                    &*cc.base.cast_const().cast::<Consts>(),
                    cc.base.add(CONSTS_WORDS).cast_const(),
                )
            }
        }
        None => {
            // SAFETY: `ctx` from `conv2d_s8`; 32 positions of period `c ≤ out_c`.
            unsafe { prepare_chunk::<TAPS, PAIRS>(ctx, (0, c), 32, &pairs, &mut k_here, &mut wpk) };
            (&k_here, wpk.0.as_ptr().cast())
        }
    };
    let kp = k.bias.0.as_ptr().cast::<i32>();
    // Padded row `kh`: column `j` holds input column `j − pad_left` ([`narrow_row_len`]).
    let row_len = narrow_row_len(g);
    let step = g.stride_w * c;
    let mut rows = [[zp; NARROW_ROW]; KH];
    let in_row = g.in_w * c;
    let lead = (g.pad_left * c).min(row_len);
    let out = output.as_mut_ptr();
    for b in 0..g.batch {
        for oh in 0..g.out_h {
            for (kh, row) in rows.iter_mut().enumerate() {
                let row = &mut row[..row_len.min(NARROW_ROW)];
                let src = (oh * g.stride_h + kh)
                    .checked_sub(g.pad_top)
                    .filter(|&ih| ih < g.in_h)
                    .and_then(|ih| ctx.input.get((b * g.in_h + ih) * in_row..)?.get(..in_row));
                super::fill_padded_row(row, src.unwrap_or(&[]), lead, zp, 0);
            }
            // SAFETY: output row `(b, oh)` exists.
            let out_row = unsafe { out.add(((b * g.out_h + oh) * g.out_w) * c) };
            let mut ow = 0;
            while ow < g.out_w {
                let n = ((g.out_w - ow) * c).min(32);
                let mut tp = [rows[0].as_ptr(); TAPS];
                for (t, p) in tp.iter_mut().enumerate() {
                    // SAFETY: column `ow·stride_w + kw` of row `kh`; the block's pieces end
                    // within `row_len ≤ NARROW_ROW` (`(ow + per)·stride_w + kw ≤ (out_w + 4)·
                    // stride_w + KW` columns).
                    *p = unsafe { rows[t / KW].as_ptr().add(ow * step + (t % KW) * c) };
                }
                // The block's 32 input bytes of a tap: one run at stride 1, else `per` pieces of
                // `c` bytes, `step` apart.
                let load = |p: *const i8| -> __m256i {
                    // SAFETY: the pieces are inside the row buffer (above).
                    unsafe {
                        if step == c {
                            _mm256_loadu_si256(p.cast())
                        } else if c == 16 {
                            _mm256_inserti128_si256::<1>(
                                _mm256_castsi128_si256(_mm_loadu_si128(p.cast())),
                                _mm_loadu_si128(p.add(step).cast()),
                            )
                        } else {
                            let q = |j: usize| p.add(j * step).cast::<i64>().read_unaligned();
                            _mm256_setr_epi64x(q(0), q(1), q(2), q(3))
                        }
                    }
                };
                // SAFETY: 32 bytes at every tap pointer (above); the block's constants and
                // weights at position 0 were written; `n` output bytes of pixels `ow ..`.
                unsafe {
                    let (lo, hi) = block_taps::<TAPS, PAIRS>(kp, w, |t| load(tp[t]));
                    finish_block::<FLOAT>(ctx, k, 0, lo, hi, 0, n, out_row.add(ow * c));
                }
                ow += per;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// f32: `conv2d_f32_depthwise_avx512` (the structure of `depthwise_avx2.rs`'s f32 kernel with 16
// lanes; the weights are still transposed with AVX2 gathers)
// ---------------------------------------------------------------------------------------------

/// Most taps.
const MAX_TAPS: usize = 25;
/// Fewest channels `conv2d_f32_depthwise_avx512` takes.
pub(crate) const MIN_F32_CHANNELS: usize = 16;

/// `conv2d_f32_depthwise_avx512`; `false` (nothing written) when AVX-512 is unavailable, the
/// slice lengths do not match the shapes, or the shape is not a covered depthwise one.
pub(crate) fn conv2d_f32(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
        return false;
    };
    let Some(plan) = S8Plan::for_f32(p, input, weights, bias, output) else {
        return false;
    };
    if plan.kind != S8Kind::Depthwise || !super::depthwise_fast_shape(&plan.g) {
        return false;
    }
    if covers_f32_pairs(p) {
        // SAFETY: `tok` proves AVX-512 F/BW/VL; the plan checked the slice lengths; 8 channels,
        // stride 1 along rows.
        unsafe {
            match (p.kernel_h, p.kernel_w) {
                (3, 3) => dw_f32_pairs::<3, 3>(tok, &plan, input, weights, bias, output),
                (3, 5) => dw_f32_pairs::<3, 5>(tok, &plan, input, weights, bias, output),
                (5, 3) => dw_f32_pairs::<5, 3>(tok, &plan, input, weights, bias, output),
                _ => dw_f32_pairs::<5, 5>(tok, &plan, input, weights, bias, output),
            }
        }
        return true;
    }
    // Fewer than 16 channels would fill part of one vector: the AVX2 kernel (8 lanes) is faster.
    if p.in_c < MIN_F32_CHANNELS {
        return false;
    }
    // SAFETY: `tok` proves AVX-512 F/BW/VL, AVX2 and FMA; the plan checked the slice lengths against the shapes.
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

/// Floats of [`dw_f32_pairs`]'s padded rows.
const PAIRS_ROWS: usize = 8 * 1024;

/// Floats of one padded row of [`dw_f32_pairs`]: every output pixel's window in whole groups
/// of 16 pixels.
fn pairs_row_len(g: &Conv2dParams) -> usize {
    (g.out_w.next_multiple_of(16) + g.kernel_w) * 8
}

/// Whether [`dw_f32_pairs`] takes a covered depthwise call: 8 channels, stride 1 along rows,
/// the padded rows within its buffer.
pub(crate) fn covers_f32_pairs(g: &Conv2dParams) -> bool {
    g.in_c == 8
        && g.stride_w == 1
        && g.kernel_h.saturating_mul(pairs_row_len(g)) <= PAIRS_ROWS
        && (g.pad_left + g.in_w) * 8 <= pairs_row_len(g)
}

/// 8 channels (VWW's 48×48×8 layer): two adjacent output pixels per vector, whose inputs at
/// one tap are 16 consecutive floats of a zero-padded copy of the input row (one load), 8
/// pixel pairs (8 independent FMA chains) per step along the row. The AVX2 kernel's one
/// 8-lane vector per pixel ran that layer at 29 G MAC/s (`scripts/bench-ab-layers.py`);
/// masked loads from the input instead of the copies (a mask per load) ran it at 13–18. The
/// sums are the reference's taps in order (bias, then row by row).
///
/// # Safety
/// AVX-512 F/BW/VL available; `plan` validated for these slices (depthwise kind, kernel
/// `KH × KW`); [`covers_f32_pairs`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn dw_f32_pairs<const KH: usize, const KW: usize>(
    _t: Avx512Vnni,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    const C: usize = 8;
    let g = &plan.g;
    // Weights of tap `t` for channels 0–7, twice (both pixels of a vector).
    let mut wv = [_mm512_setzero_ps(); MAX_TAPS];
    for (t, v) in wv.iter_mut().enumerate().take(KH * KW) {
        let mut w = [0f32; 16];
        for (l, x) in w.iter_mut().enumerate() {
            *x = weights.get((l % C) * KH * KW + t).copied().unwrap_or(0.0);
        }
        // SAFETY: 16 floats.
        *v = unsafe { _mm512_loadu_ps(w.as_ptr()) };
    }
    let mut b16 = [0f32; 16];
    if let Some(b) = bias {
        for (l, x) in b16.iter_mut().enumerate() {
            *x = b.get(l % C).copied().unwrap_or(0.0);
        }
    }
    // SAFETY: 16 floats.
    let b16 = unsafe { _mm512_loadu_ps(b16.as_ptr()) };
    let clamp = g
        .activation
        .clamp_bounds()
        .map(|(lo, hi)| (_mm512_set1_ps(lo), _mm512_set1_ps(hi)));
    let row_len = pairs_row_len(g);
    let mut store = A64([MaybeUninit::<f32>::uninit(); PAIRS_ROWS]);
    let padded = super::avx2::init_prefix(&mut store.0, KH * row_len, 0.0);
    let in_row = g.in_w * C;
    let out = output.as_mut_ptr();
    for b in 0..g.batch {
        for oh in 0..g.out_h {
            let mut row_ok = [false; KH];
            for (kh, (ok, dst)) in row_ok
                .iter_mut()
                .zip(padded.chunks_exact_mut(row_len))
                .enumerate()
            {
                let ih = (oh * g.stride_h + kh).checked_sub(g.pad_top);
                if let Some(ih) = ih.filter(|&ih| ih < g.in_h) {
                    *ok = true;
                    let at = (b * g.in_h + ih) * in_row;
                    let src = input.get(at..at + in_row).unwrap_or(&[]);
                    super::fill_padded_row(dst, src, g.pad_left * C, 0.0, 0.0);
                }
            }
            // SAFETY: output row `(b, oh)` exists.
            let out_row = unsafe { out.add((b * g.out_h + oh) * g.out_w * C) };
            let mut ow0 = 0;
            while ow0 < g.out_w {
                let left = g.out_w - ow0;
                let mut acc = [b16; 8];
                for kh in 0..KH {
                    if !row_ok[kh] {
                        continue;
                    }
                    // SAFETY: padded row `kh`; columns `ow0 .. ow0 + 15 + KW` are inside it
                    // (`pairs_row_len`).
                    let src = unsafe { padded.as_ptr().add(kh * row_len + ow0 * C) };
                    for kw in 0..KW {
                        let w = wv[kh * KW + kw];
                        for (q, a) in acc.iter_mut().enumerate() {
                            // SAFETY: columns `ow0 + 2q + kw` and the next (above).
                            let v = unsafe { _mm512_loadu_ps(src.add((2 * q + kw) * C)) };
                            *a = _mm512_fmadd_ps(v, w, *a);
                        }
                    }
                }
                for (q, a) in acc.iter().enumerate() {
                    let live: u16 = match left.saturating_sub(2 * q) {
                        0 => break,
                        1 => 0x00ff,
                        _ => 0xffff,
                    };
                    let v = match clamp {
                        // `max(v, lo)` returns `lo` for a NaN `v`, like the scalar `max`.
                        Some((lo, hi)) => _mm512_min_ps(_mm512_max_ps(*a, lo), hi),
                        None => *a,
                    };
                    // SAFETY: pixels `ow0 + 2q` (and the next when live) of the row, 8 floats
                    // each; the mask stores only those.
                    unsafe {
                        _mm512_mask_storeu_ps(out_row.add((ow0 + 2 * q) * C), live, v);
                    }
                }
                ow0 += 16;
            }
        }
    }
    if clamp.is_none() && g.activation != Activation::None {
        g.activation.apply_slice(output);
    }
}

/// The lane mask for `n ≤ 8` f32 lanes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
fn mask8(n: usize) -> __m256i {
    let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(8) as i32), idx)
}

/// `NB` vectors of 16 channels (from `cb`) of four adjacent output pixels at stride `S` (1 or
/// 2): the AVX2 kernel's `f32_row4` with 16 lanes. Per kernel row the `3·S + KW` input columns
/// are loaded once and serve all four pixels, and the four pixels' `4·NB` accumulators are
/// independent chains. One pixel at a time makes two loads per FMA and one chain of `KH·KW`
/// dependent FMAs per vector: at stride 2 that loop ran MobileNetV2's 112×112×96 layer at
/// 21 G MAC/s, and at 24 on a 40×40×96 input inside L2 (latency, not memory bound; `cargo
/// bench -p mote-kernels --features std --bench kernels`). The sums are the one-pixel kernel's,
/// in the same order (bias, then the taps row by row; padding rows add nothing and are skipped).
///
/// # Safety
/// AVX-512 F; for every `kh` with `row_ok[kh]`, `rows[kh] + col0 + cb` readable for
/// `(3·S + KW − 1)·c + 16·NB` floats; `w` holds `[KH·KW][cn8]` floats and `bias` `cn8`,
/// `cb + 16·NB ≤ cn8`; `dst + p·c + cb` writable for `16·NB` floats, `p < 4`; `COLS = 3·S + KW`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
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
    clamp: Option<(__m512, __m512)>,
    dst: *mut f32,
) {
    // SAFETY: caller's ranges.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); NB]; 4];
        for row in acc.iter_mut() {
            for (j, a) in row.iter_mut().enumerate() {
                *a = _mm512_loadu_ps(bias.add(cb + 16 * j));
            }
        }
        for kh in 0..KH {
            if !row_ok[kh] {
                continue;
            }
            let src = rows[kh].add(col0 + cb);
            for j in 0..NB {
                let mut cols = [_mm512_setzero_ps(); COLS];
                for (q, v) in cols.iter_mut().enumerate() {
                    *v = _mm512_loadu_ps(src.add(q * c + 16 * j));
                }
                for kw in 0..KW {
                    let wv = _mm512_loadu_ps(w.add((kh * KW + kw) * cn8 + cb + 16 * j));
                    for (p, row) in acc.iter_mut().enumerate() {
                        row[j] = _mm512_fmadd_ps(cols[S * p + kw], wv, row[j]);
                    }
                }
            }
        }
        for (p, row) in acc.iter().enumerate() {
            for (j, a) in row.iter().enumerate() {
                let v = match clamp {
                    Some((lo, hi)) => _mm512_min_ps(_mm512_max_ps(*a, lo), hi),
                    None => *a,
                };
                _mm512_storeu_ps(dst.add(p * c + cb + 16 * j), v);
            }
        }
    }
}

/// `NB` vectors of 16 channels of one pixel: bias plus the taps in order, clamped, stored.
///
/// # Safety
/// AVX-512; every `tp[t]` readable for `16·NB` floats at `cb`; `w` holds `[TAPS][cn8]` floats
/// and `bias` `cn8` from channel 0 of the chunk (`cn8` a multiple of 16), `cb + 16·NB ≤ cn8`;
/// `dst` writable for `16·NB` floats.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn f32_blocks<const TAPS: usize, const NB: usize>(
    tp: &[*const f32; TAPS],
    cb: usize,
    w: *const f32,
    cn8: usize,
    bias: *const f32,
    clamp: Option<(__m512, __m512)>,
    dst: *mut f32,
) {
    let mut acc = [_mm512_setzero_ps(); NB];
    // SAFETY: caller's ranges.
    unsafe {
        for (j, a) in acc.iter_mut().enumerate() {
            *a = _mm512_loadu_ps(bias.add(cb + 16 * j));
        }
        for (t, &p) in tp.iter().enumerate() {
            let wt = w.add(t * cn8 + cb);
            for (j, a) in acc.iter_mut().enumerate() {
                *a = _mm512_fmadd_ps(
                    _mm512_loadu_ps(p.add(cb + 16 * j)),
                    _mm512_loadu_ps(wt.add(16 * j)),
                    *a,
                );
            }
        }
        for (j, a) in acc.iter().enumerate() {
            let v = match clamp {
                Some((lo, hi)) => _mm512_min_ps(_mm512_max_ps(*a, lo), hi),
                None => *a,
            };
            _mm512_storeu_ps(dst.add(cb + 16 * j), v);
        }
    }
}

/// # Safety
/// AVX-512 available; `plan` validated for these slices (depthwise kind, kernel `KH × KW`,
/// `TAPS = KH·KW ≤ MAX_TAPS`, `COLS1 = 3 + KW` and `COLS2 = 6 + KW`: the input columns of four
/// pixels at strides 1 and 2).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn dw_f32<
    const KH: usize,
    const KW: usize,
    const TAPS: usize,
    const COLS1: usize,
    const COLS2: usize,
>(
    _t: Avx512Vnni,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let c = g.in_c;
    let zrow = A64([0f32; CHUNK + 32]);
    let mut wt = A64([MaybeUninit::<f32>::uninit(); MAX_TAPS * CHUNK]);
    let mut bv = A64([MaybeUninit::<f32>::uninit(); CHUNK]);
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let clamp = g
        .activation
        .clamp_bounds()
        .map(|(lo, hi)| (_mm512_set1_ps(lo), _mm512_set1_ps(hi)));
    let scalar_act = clamp.is_none() && g.activation != Activation::None;
    let mut c0 = 0;
    while c0 < c {
        let cn = (c - c0).min(CHUNK);
        let cn8 = cn.next_multiple_of(16);
        // Transposed weights `[tap][cn8]` and the bias, zeros past `cn`, 8 channels at a time.
        let wtp = wt.0.as_mut_ptr().cast::<f32>();
        let bvp = bv.0.as_mut_ptr().cast::<f32>();
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        for j in (0..cn8).step_by(8) {
            let mask = mask8(cn.saturating_sub(j));
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
        let n64 = cn / 64 * 64;
        let n16 = cn / 16 * 16;
        // Strides 1 and 2, chunks of whole vectors: rows of four pixels share their input loads
        // ([`f32_row4`]). Chunks of more than 256 channels took the one-pixel loop until
        // 2026-11-29: MobileNetV2's 14×14×576 layer ran at 12 G MAC/s (`mote bench --per-op`).
        let row4 = g.stride_w <= 2 && cn.is_multiple_of(16);
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
                                while cb + 32 <= cn {
                                    f32_row4::<KH, KW, 1, COLS1, 2>(
                                        &rows, &row_ok, col0, c, cb, w, cn8, bp, clamp, dst,
                                    );
                                    cb += 32;
                                }
                                if cb < cn {
                                    f32_row4::<KH, KW, 1, COLS1, 1>(
                                        &rows, &row_ok, col0, c, cb, w, cn8, bp, clamp, dst,
                                    );
                                }
                            } else {
                                while cb + 32 <= cn {
                                    f32_row4::<KH, KW, 2, COLS2, 2>(
                                        &rows, &row_ok, col0, c, cb, w, cn8, bp, clamp, dst,
                                    );
                                    cb += 32;
                                }
                                if cb < cn {
                                    f32_row4::<KH, KW, 2, COLS2, 1>(
                                        &rows, &row_ok, col0, c, cb, w, cn8, bp, clamp, dst,
                                    );
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
                    // SAFETY: full vectors below `n16 ≤ cn` of every tap pointer (the zero row
                    // holds CHUNK + 32 floats) and of `dst`; weights/bias hold `cn8` per tap.
                    unsafe {
                        while cb < n64 {
                            f32_blocks::<TAPS, 4>(&tp, cb, w, cn8, bp, clamp, dst);
                            cb += 64;
                        }
                        while cb < n16 {
                            f32_blocks::<TAPS, 1>(&tp, cb, w, cn8, bp, clamp, dst);
                            cb += 16;
                        }
                    }
                    if cb < cn {
                        let mask = ((1u32 << (cn - cb).min(15)) - 1) as u16;
                        // SAFETY: lanes `cb .. cn` (fewer than 16) of every tap pointer and of
                        // `dst`; masked lanes are not accessed; weights/bias hold `cn8` per tap.
                        unsafe {
                            let mut acc = _mm512_loadu_ps(bp.add(cb));
                            for (t, &p) in tp.iter().enumerate() {
                                let xv = _mm512_maskz_loadu_ps(mask, p.add(cb));
                                acc =
                                    _mm512_fmadd_ps(xv, _mm512_loadu_ps(w.add(t * cn8 + cb)), acc);
                            }
                            let v = match clamp {
                                Some((lo, hi)) => _mm512_min_ps(_mm512_max_ps(acc, lo), hi),
                                None => acc,
                            };
                            _mm512_mask_storeu_ps(dst.add(cb), mask, v);
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
