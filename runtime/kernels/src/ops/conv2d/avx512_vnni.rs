//! int8 convolution with AVX-512 VNNI (`vpdpbusd`): `conv2d_s8_avx512_vnni`.
//!
//! Three paths, chosen by [`S8Plan`]:
//! - **GEMM** (dense and 1×1 convolutions, large groups): rows are output pixels, columns the
//!   group's output channels, depth `K = kernel_h · kernel_w · in_c/groups` in OHWI order. The
//!   weights of a block of up to 64 output channels are packed (on the stack per call, or once
//!   at load into the host's weight cache) as
//!   `[K/4][64]` dwords (4 consecutive depth bytes of one channel), so one `vpdpbusd` multiplies
//!   a broadcast dword of the input (4 depth values of one pixel) with 16 channels. A tile is 6
//!   pixels × up to 64 channels (24 accumulators). When `in_c/groups` is a multiple of 4 the
//!   windows are read in place: as fixed tap offsets from each pixel's window corner in one
//!   image (the input, or a padded copy of the group: [`tap_image`]), else (pointwise layers,
//!   images too large for the copy) through one pointer per tap (padding taps point at a row of
//!   input zero points). First layers (3 channels, short kernel rows) read their windows kernel
//!   row by kernel row from padded copies of the input rows ([`gemm_window`]; with 8 output
//!   channels and VBMI, 16 pixels per vector: [`window_lanes_row`]); other depths are
//!   gathered (im2col) into a stack buffer with the depth padded to a multiple of 4.
//! - **Depthwise**: channels in vectors of 32, pairs of taps interleaved as i16 and multiplied
//!   and accumulated with `vpdpwssd` (exact: `|x + offset| ≤ 255`, `|w| ≤ 128`).
//! - **Small groups** (4 or 8 channels per group in and out, ResNeXt): block-diagonal; one
//!   64-byte load holds the input of 64 output channels' groups, `vpermd` hands each output lane
//!   the dword of its own group, `vpdpbusd` multiplies.
//!
//! `vpdpbusd` multiplies unsigned by signed bytes, so one operand has its sign bit flipped
//! (`v ^ 0x80 = v + 128`) and a correction removes the 128s:
//! - the input (small groups, GEMM blocks of 1–2 vectors or of a short depth): each sum is
//!   `Σ w·(x + 128)`, and the per-channel constant `(input_offset − 128) · Σ w` added to the
//!   bias turns it into `Σ w·(x + input_offset)`;
//! - the weights, once when packed (GEMM blocks of 3–4 vectors and a long depth): the input
//!   stays signed and is broadcast straight from memory into `vpdpbusd` (no scalar xor and
//!   register broadcast per row and step); each sum is `Σ (w + 128)·x`, the per-channel
//!   constant is `input_offset · Σ w`, and each row takes `−128 · Σ x`, its input summed once
//!   per tile.
//!
//! All of it wraps in 32 bits exactly like the reference's accumulator, so results are bit-exact;
//! padding taps read the input zero point, whose `x + input_offset` is 0, so they add nothing.

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::avx2::MR_F32;
use super::{Conv2dS8Params, RowOffsets, S8Kind, S8Plan, Segments};
use crate::arch::x86::{
    byte_mask64, dpwssd_512, float_floor_512, float_offset_512, float_round_512, lane_mask16,
    offset_folds, simple_requant, Avx512Vbmi, Avx512Vnni, OutputStage, Requant16,
};
use crate::ops::util::requantize_output;
use crate::quant::Rounding;

/// Pixels per GEMM tile.
const MR: usize = 6;
/// Pixels per small-groups tile.
const MR_GROUPS: usize = 4;
/// Packed weights buffer: 64 KiB.
const PACK_DWORDS: usize = 16 * 1024;
/// Largest padded depth gathered into an im2col row.
const MAX_IM2COL_K: usize = 1024;
/// The im2col buffer: a strip of up to [`STRIP_TILES`] tiles' rows, 16 KiB.
const COL_BYTES: usize = 16 * 1024;
/// Most tiles whose im2col rows are gathered before the first of them runs. The rows are
/// written in pieces (kernel rows of 9 or 21 bytes) and read back as dwords that straddle those
/// pieces; read at once, every such dword missed store-to-load forwarding. Gathered a strip
/// ahead, the stores have reached the cache when the tiles read them: VWW's first layer
/// (96×96×3 → 8, stride 2) 34.6 → 29.4 µs, MobileNetV2's (224×224×3 → 32) 189 → 182 µs
/// (`cargo bench -p mote-kernels --features std --bench kernels -- first_3x3`, AVX-512 VNNI Zen 5).
const STRIP_TILES: usize = 8;
/// Longest row of input zero points (channels per group on the in-place path).
const MAX_ZERO_ROW: usize = 4096;
/// Depthwise packed weights buffer (i16 pairs): 32 KiB.
const DW_DWORDS: usize = 8 * 1024;
/// Most 32-channel blocks in a depthwise chunk (whose requantization constants are cached).
const DW_MAX_BLOCKS: usize = 32;

#[repr(C, align(64))]
struct Aligned<T>(T);

/// How [`pack`] stores weight bytes, which decides which operand of `vpdpbusd` is made unsigned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WeightBytes {
    /// As they are (signed); the input is flipped to unsigned as it is read (small groups, whose
    /// input vectors are permuted in registers anyway).
    Signed,
    /// Flipped to unsigned (`w + 128`); the input stays signed, so it is broadcast straight from
    /// memory (GEMM blocks of 3 or 4 vectors with a long depth: [`WeightBytes::for_gemm_block`]).
    Unsigned,
}

impl WeightBytes {
    /// The layout of a GEMM block of `nv` vectors of 16 channels of this plan. Flipping the
    /// input costs a scalar xor and a register broadcast per row and depth dword, once per `nv`
    /// products; flipping the weights costs per tile a sum of each row's input, one `vpdpbusd`
    /// per segment (tap) and a reduction (below). So: unsigned
    /// weights when each broadcast feeds 3 or 4 products and the depth is long next to the
    /// number of segments (counted on paper from the tile's code: about 12 operations per
    /// depth dword and tile against about 12 per segment plus 84 per tile). Measured
    /// (docs/benchmarks.md): ResNeXt's wide 1×1 and grouped layers faster; ResNet-8's 16- and
    /// 32-channel layers slower with it; MobileNetV2's K = 16–32 expansions faster without it.
    fn for_gemm_block(plan: &S8Plan, nv: usize) -> Self {
        let (segs, segq) = gemm_segments(plan);
        if nv >= 3 && segs * segq >= segs + 8 {
            WeightBytes::Unsigned
        } else {
            WeightBytes::Signed
        }
    }
}

/// Everything a path needs about the call, with lengths already checked by [`S8Plan::new`].
struct Ctx<'a> {
    plan: S8Plan,
    st: OutputStage,
    /// Double rounding with [`simple_requant`] parameters: the short vector form applies.
    simple: bool,
    /// Also [`offset_folds`]: [`Requant16::apply_folded`] applies, and the `Requant16`
    /// constants carry the output offset ([`Ctx::folded_offset`]).
    folded: bool,
    /// [`Rounding::Float`] with [`OutputStage::float_exact`]: the GEMM tiles' f32 output stage
    /// ([`store_row_float`]); the other paths' [`store16`] runs it with the scalar function.
    float: bool,
    p: &'a Conv2dS8Params,
    input: &'a [i8],
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    mults: &'a [i32],
    shifts: &'a [i32],
}

/// `conv2d_s8_avx512_vnni`: see the module documentation. Returns `false` without writing when
/// AVX-512 VNNI is unavailable or the call is outside the covered range (see [`S8Plan::new`]).
pub(crate) fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    run(p, input, weights, bias, mults, shifts, None, output)
}

/// [`conv2d_s8`] for a GEMM-kind call whose weights were packed once into `cache` by
/// [`fill_cache`] (same parameters and weights): no per-call packing. `false` (nothing
/// written) when the call is not covered or `cache` does not have the layout's length and
/// 64-byte alignment.
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
    run(p, input, weights, bias, mults, shifts, Some(cache), output)
}

/// Whether the stack buffers of the paths hold a call of this plan.
fn fits(plan: &S8Plan) -> bool {
    let k_pad = plan.k_len.next_multiple_of(4);
    match plan.kind {
        S8Kind::Depthwise => true,
        S8Kind::SmallGroups => k_pad * 64 <= PACK_DWORDS * 4,
        S8Kind::Gemm if plan.cpg.is_multiple_of(4) => {
            k_pad * 16 <= PACK_DWORDS * 4 && plan.cpg <= MAX_ZERO_ROW
        }
        S8Kind::Gemm => k_pad <= MAX_IM2COL_K,
    }
}

/// Dwords per kernel row when a first layer reads its windows in place, kernel row by kernel
/// row (`None` otherwise): one group spanning all input channels (3 for RGB), kernel rows of at
/// most 16 bytes (`kernel_w · in_c`), contiguous (`dilation_w` 1), a padded depth of at most
/// [`WINDOW_MAX_DEPTH`] bytes, and `kernel_h` padded input rows within [`WINDOW_ROWS_BYTES`].
/// Each row is read as whole dwords: the bytes past the kernel row belong to the next pixel and
/// meet zero weights (the packed rows are zero-padded), so no im2col copy is made
/// ([`gemm_window`]).
fn window_rows(plan: &S8Plan) -> Option<usize> {
    let g = &plan.g;
    let row = g.kernel_w * plan.cpg;
    let segq = row.div_ceil(4);
    (plan.kind == S8Kind::Gemm
        && !plan.cpg.is_multiple_of(4)
        && g.groups == 1
        && g.dilation_w == 1
        && row <= 16
        && g.kernel_h * segq * 4 <= WINDOW_MAX_DEPTH
        && g.kernel_h.saturating_mul(window_row_len(plan, segq)) <= WINDOW_ROWS_BYTES)
        .then_some(segq)
}

/// Bytes of one padded input row on the window path: output column `ow`'s window starts at
/// byte `ow · stride_w · in_c` (column `−pad_left` at byte 0) and reads `4·wq` bytes.
fn window_row_len(plan: &S8Plan, wq: usize) -> usize {
    let g = &plan.g;
    g.out_w
        .saturating_sub(1)
        .saturating_mul(g.stride_w)
        .saturating_mul(plan.cpg)
        .saturating_add(4 * wq)
}

/// The window path's buffer of `kernel_h` padded input rows: 8 KiB holds three rows of a
/// 224-pixel-wide RGB image at stride 2 (MobileNetV2) several times over.
const WINDOW_ROWS_BYTES: usize = 8 * 1024;

/// Most bytes of padded depth (`kernel_h` rows of whole dwords) on the window path.
const WINDOW_MAX_DEPTH: usize = 64;

/// How the GEMM path reads a row's depth: `(segments, dwords per segment)`. One segment per
/// tap, read in place, when the group's channels are whole dwords; one per kernel row, read in
/// place, for the first layers of [`window_rows`]; else one im2col row with the depth padded to
/// whole dwords.
fn gemm_segments(plan: &S8Plan) -> (usize, usize) {
    if plan.cpg.is_multiple_of(4) {
        (plan.taps, plan.cpg / 4)
    } else if let Some(segq) = window_rows(plan) {
        (plan.g.kernel_h, segq)
    } else {
        (1, plan.k_len.div_ceil(4))
    }
}

/// The GEMM path's blocking: dwords of packed depth (`segments · dwords per segment`) and most
/// vectors of 16 channels per block (the stack buffer holds `kq · 16 · nv_max` dwords).
fn gemm_blocking(plan: &S8Plan) -> (usize, usize) {
    let (segs, segq) = gemm_segments(plan);
    let kq = segs * segq;
    (kq, (PACK_DWORDS / (kq * 16)).min(4))
}

/// Visits the GEMM path's channel blocks in order: `(group, first channel of the group's block,
/// channels n, vectors nv, dword offset of the block in the cache)`; returns the cache's length
/// in dwords. A block's cache entry is its 64 initial accumulators (bias and input-offset
/// correction, 16 per vector), then its packed weights (`kq · 16 · nv` dwords); every entry is a
/// multiple of 16 dwords, so 64-byte alignment carries from one to the next.
fn for_each_block(plan: &S8Plan, mut f: impl FnMut(usize, usize, usize, usize, usize)) -> usize {
    let (kq, nv_max) = gemm_blocking(plan);
    let mut at = 0;
    for grp in 0..plan.g.groups {
        let mut nb = 0;
        while nb < plan.opg {
            let n = (plan.opg - nb).min(16 * nv_max);
            let nv = n.div_ceil(16);
            f(grp, nb, n, nv, at);
            at += 64 + kq * 16 * nv;
            nb += n;
        }
    }
    at
}

/// The plan of a call from its parameters alone (the slice lengths the shapes imply), for the
/// cache functions, which see no activations.
fn plan_of(p: &Conv2dS8Params, weights: usize, bias: Option<usize>) -> Option<S8Plan> {
    let plan = S8Plan::for_weights(p, weights, bias)?;
    // The window path packs zero-padded kernel rows per call (one first layer per model).
    (plan.kind == S8Kind::Gemm && fits(&plan) && window_rows(&plan).is_none()).then_some(plan)
}

/// Dwords of the weight cache for this call (see [`for_each_block`]), or `None` when the call
/// would not use one (AVX-512 VNNI unavailable, not the GEMM path).
pub(crate) fn cache_len(p: &Conv2dS8Params, weights: usize, bias: Option<usize>) -> Option<usize> {
    Avx512Vnni::get()?;
    let plan = plan_of(p, weights, bias)?;
    Some(for_each_block(&plan, |_, _, _, _, _| {}))
}

/// Packs the weights of a call into `cache` (64-byte aligned, [`cache_len`] dwords): what the
/// GEMM path otherwise does at the start of every call. `false` (nothing written) when the
/// call would not use a cache or `cache` does not fit.
pub(crate) fn fill_cache(
    p: &Conv2dS8Params,
    weights: &[i8],
    bias: Option<&[i32]>,
    cache: &mut [i32],
) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
        return false;
    };
    let Some(plan) = plan_of(p, weights.len(), bias.map(<[i32]>::len)) else {
        return false;
    };
    if cache.len() != for_each_block(&plan, |_, _, _, _, _| {})
        || !(cache.as_ptr() as usize).is_multiple_of(64)
    {
        return false;
    }
    // SAFETY: `tok` proves AVX-512 VNNI; the plan checked the weight and bias lengths; the
    // cache has the layout's length and alignment (checked above).
    unsafe { fill_cache_avx512(tok, &plan, p.input_offset, weights, bias, cache) };
    true
}

/// # Safety
/// AVX-512 VNNI available; `plan` from [`plan_of`] for these weights and bias; `cache` 64-byte
/// aligned with [`cache_len`] dwords.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn fill_cache_avx512(
    _t: Avx512Vnni,
    plan: &S8Plan,
    input_offset: i32,
    weights: &[i8],
    bias: Option<&[i32]>,
    cache: &mut [i32],
) {
    let k = plan.k_len;
    let dst = cache.as_mut_ptr();
    for_each_block(plan, |grp, nb, n, nv, at| {
        let oc = grp * plan.opg + nb;
        let layout = WeightBytes::for_gemm_block(plan, nv);
        let corr = _mm512_set1_epi32(input_correction(input_offset, layout));
        // SAFETY: rows `oc .. oc + n` of the weights (`n · k` bytes, inside by the plan); the
        // block's entry `at .. at + 64 + kq·16·nv` is inside the cache, 64-byte aligned
        // (`for_each_block`), and the packed part starts 64 dwords in.
        unsafe {
            let sums = pack(
                weights.as_ptr().add(oc * k),
                k,
                n,
                nv,
                layout,
                dst.add(at + 64),
            );
            for (j, sum) in sums.iter().enumerate() {
                let lanes = n.saturating_sub(16 * j).min(16);
                let b = match bias {
                    Some(b) => {
                        _mm512_maskz_loadu_epi32(lane_mask16(lanes), b.as_ptr().add(oc + 16 * j))
                    }
                    None => _mm512_setzero_si512(),
                };
                let init = _mm512_add_epi32(b, _mm512_mullo_epi32(corr, *sum));
                _mm512_store_si512(dst.add(at + 16 * j).cast(), init);
            }
        }
    });
}

#[allow(clippy::too_many_arguments)]
fn run(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    cache: Option<&[i32]>,
    output: &mut [i8],
) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
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
    let Some(st) = OutputStage::new(p.output_offset, p.act_min, p.act_max) else {
        return false;
    };
    if !crate::arch::x86::shifts_in_vector_range(shifts) || !fits(&plan) {
        return false;
    }
    if let Some(c) = cache {
        let ok = plan.kind == S8Kind::Gemm
            && c.len() == for_each_block(&plan, |_, _, _, _, _| {})
            && (c.as_ptr() as usize).is_multiple_of(64);
        if !ok {
            return false;
        }
    }
    let simple = p.rounding == Rounding::Double && simple_requant(mults, shifts);
    let ctx = Ctx {
        plan,
        st,
        simple,
        folded: simple && offset_folds(&st, shifts),
        float: p.rounding == Rounding::Float && st.float_exact(),
        p,
        input,
        weights,
        bias,
        mults,
        shifts,
    };
    // SAFETY: `tok` proves AVX-512 F/BW/VL/VNNI, AVX2 and FMA; `S8Plan::new` checked every slice
    // length against the shapes, `fits` the stack buffers' limits, and a cache has the layout's
    // length and alignment.
    unsafe {
        match plan.kind {
            S8Kind::Depthwise => depthwise(tok, &ctx, output),
            S8Kind::SmallGroups => small_groups(tok, &ctx, output),
            S8Kind::Gemm => gemm(tok, &ctx, cache, output),
        }
    }
    true
}

impl Ctx<'_> {
    /// The output offset the `Requant16` constants carry: [`Requant16::apply_folded`]'s.
    fn folded_offset(&self) -> i32 {
        if self.folded {
            self.p.output_offset
        } else {
            0
        }
    }
}

/// Requantizes 16 accumulators (channels `oc .. oc + n`) and stores `n` int8 outputs at `dst`.
/// Falls back to the scalar output stage for single rounding and for lanes whose left shift
/// overflows, so the result is always the reference's.
///
/// # Safety
/// AVX-512 VNNI available; `dst` valid for `n` bytes; `oc + n ≤ out_c`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn store16(ctx: &Ctx, acc: __m512i, rq: &Requant16, oc: usize, n: usize, dst: *mut i8) {
    let lanes = lane_mask16(n);
    if ctx.folded {
        // The clamp and a truncating `vpmovdb`: a saturating `vpmovsdb` store made the grouped
        // layer of `bench-peers` 14 % slower (`scripts/bench-ab.py`, Zen 5).
        let v = rq.apply_folded(acc);
        let v = _mm512_max_epi32(v, _mm512_set1_epi32(-128));
        let v = _mm512_min_epi32(v, _mm512_set1_epi32(127));
        // SAFETY: `n` bytes writable at `dst` (caller); the masked store writes only those.
        unsafe { _mm512_mask_cvtepi32_storeu_epi8(dst, lanes, v) };
        return;
    }
    if ctx.simple {
        let v = rq.apply_simple(acc, &ctx.st);
        // SAFETY: `n` bytes writable at `dst` (caller); the masked store writes only those.
        unsafe { _mm512_mask_cvtepi32_storeu_epi8(dst, lanes, v) };
        return;
    }
    if ctx.p.rounding == Rounding::Double {
        let (v, ovf) = rq.apply(acc, &ctx.st);
        if ovf & lanes == 0 {
            // SAFETY: `n` bytes writable at `dst` (caller); the masked store writes only those.
            unsafe { _mm512_mask_cvtepi32_storeu_epi8(dst, lanes, v) };
            return;
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { store16_scalar(ctx, acc, oc, n, dst) }
}

/// [`store16`] for a row of `row.len() ≤ 4` accumulator vectors (channels `oc .. oc + n`,
/// `n ≤ 16 · row.len()`) of a call where `ctx.folded`: requantized with
/// [`Requant16::apply_folded`], narrowed by `vpackssdw` and `vpacksswb` (both saturating: the
/// clamp to i8), put in channel order by one `vpermd` and stored at once — 4 shuffles for 64
/// outputs, where a `vpmovsdb` per vector made ResNeXt-29's deep 1×1 layers 1–3 % slower than
/// `vpmovdb` with the clamp (`scripts/bench-ab-layers.py`, Zen 5).
///
/// # Safety
/// AVX-512 VNNI available; `rq[j]` built for channels `oc + 16j ..` with the folded offset;
/// `dst` valid for `n` bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn store_row_folded(row: &[__m512i], rq: &[Requant16; 4], n: usize, dst: *mut i8) {
    let zero = _mm512_setzero_si512();
    let v = |j: usize| match (row.get(j), rq.get(j)) {
        (Some(a), Some(r)) => r.apply_folded(*a),
        _ => zero,
    };
    let p01 = _mm512_packs_epi32(v(0), v(1));
    let p23 = if row.len() > 2 {
        _mm512_packs_epi32(v(2), v(3))
    } else {
        zero
    };
    // SAFETY: forwarded from the caller.
    unsafe { narrow_store_row(p01, p23, n, dst) };
}

/// The last steps of [`store_row_folded`] and [`store_row_float`]: the two vectors of i16 pairs
/// (`vpackssdw` of vectors 0, 1 and of 2, 3, or zero) narrowed to bytes (saturating), put in
/// channel order and the first `n` stored at `dst`.
///
/// # Safety
/// AVX-512 VNNI available; `dst` valid for `n` bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn narrow_store_row(p01: __m512i, p23: __m512i, n: usize, dst: *mut i8) {
    // SAFETY: forwarded from the caller.
    unsafe { store_row_bytes(_mm512_packs_epi16(p01, p23), n, dst) };
}

/// Stores the first `n` channels of a row narrowed by `vpackssdw` and `vpacksswb` from up to
/// four vectors, putting them in channel order.
///
/// # Safety
/// AVX-512 VNNI available; `dst` valid for `n` bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn store_row_bytes(b: __m512i, n: usize, dst: *mut i8) {
    // 128-bit lane `k`, dword `j`: channels `16j + 4k ..` (vector `j`, its lane `k`).
    let idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    // SAFETY: `n` bytes writable at `dst` (caller); the masked store writes only those.
    unsafe { _mm512_mask_storeu_epi8(dst, byte_mask64(n), _mm512_permutexvar_epi32(idx, b)) };
}

/// [`store_row_folded`] for a call of [`Rounding::Float`]: [`float_round_512`] with the
/// channels' f32 scales (the multiplier words), then narrowed with the offset and the lower
/// bound applied on the way ([`float_offset_512`], [`float_floor_512`]) and stored in channel
/// order.
///
/// # Safety
/// AVX-512 VNNI available; `ctx.float`; `ctx.mults` holds channels `oc .. oc + n`,
/// `n ≤ 16 · row.len()`, `row.len() ≤ 4`; `dst` valid for `n` bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn store_row_float(ctx: &Ctx, row: &[__m512i], oc: usize, n: usize, dst: *mut i8) {
    let zero = _mm512_setzero_si512();
    let v = |j: usize| match row.get(j) {
        Some(a) => {
            let lanes = lane_mask16(n.saturating_sub(16 * j));
            // SAFETY: lanes `0 .. n − 16j` of the scales from channel `oc + 16j` exist (caller);
            // the masked load reads only those.
            let scale = unsafe {
                _mm512_maskz_loadu_ps(lanes, ctx.mults.as_ptr().wrapping_add(oc + 16 * j).cast())
            };
            float_round_512(*a, scale, &ctx.st)
        }
        None => zero,
    };
    // Lanes past `n` (vectors past the row included) are computed but not stored.
    let p01 = float_offset_512(v(0), v(1), &ctx.st);
    let p23 = if row.len() > 2 {
        float_offset_512(v(2), v(3), &ctx.st)
    } else {
        zero
    };
    let b = float_floor_512(_mm512_packs_epi16(p01, p23), &ctx.st);
    // SAFETY: forwarded from the caller.
    unsafe { store_row_bytes(b, n, dst) };
}

/// The scalar output stage for [`store16`]'s rare cases.
///
/// # Safety
/// As [`store16`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[cold]
#[inline(never)]
unsafe fn store16_scalar(ctx: &Ctx, acc: __m512i, oc: usize, n: usize, dst: *mut i8) {
    let mut a = [0i32; 16];
    // SAFETY: `a` holds 16 i32.
    unsafe { _mm512_storeu_si512(a.as_mut_ptr().cast(), acc) };
    for (i, &v) in a.iter().enumerate().take(n) {
        let c = oc + i;
        let q = requantize_output(
            v,
            ctx.mults.get(c).copied().unwrap_or(0),
            ctx.shifts.get(c).copied().unwrap_or(0),
            ctx.p.rounding,
            ctx.p.output_offset,
            ctx.p.act_min,
            ctx.p.act_max,
        );
        // SAFETY: `i < n`, `n` bytes writable at `dst` (caller).
        unsafe { dst.add(i).write(q) };
    }
}

/// Loads `n ≤ 16` biases at channel `oc` (zeros without a bias).
///
/// # Safety
/// AVX-512 available; `oc + n ≤ out_c`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn load_bias(ctx: &Ctx, oc: usize, n: usize) -> __m512i {
    match ctx.bias {
        // SAFETY: the bias has `out_c` entries (plan), the mask covers `oc .. oc + n`.
        Some(b) => unsafe { _mm512_maskz_loadu_epi32(lane_mask16(n), b.as_ptr().add(oc)) },
        None => _mm512_setzero_si512(),
    }
}

// ---------------------------------------------------------------------------------------------
// Weight packing (GEMM and small groups)
// ---------------------------------------------------------------------------------------------

/// Packs the weights of `n ≤ 16·nv` consecutive output channels (rows of `k` bytes starting at
/// `src`) as `[ceil(k/4)][16·nv]` dwords at `dst` (lanes past `n` and bytes past `k` are 0), and
/// returns `Σ_k w` per channel, 16 channels per vector.
///
/// # Safety
/// AVX-512 VNNI available; `src` readable for `n · k` bytes; `dst` writable and 64-byte aligned
/// for `ceil(k/4) · 16 · nv` dwords; `1 ≤ nv ≤ 4`; `64 · k < 2^31`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn pack(
    src: *const i8,
    k: usize,
    n: usize,
    nv: usize,
    layout: WeightBytes,
    dst: *mut i32,
) -> [__m512i; 4] {
    // Real weight bytes are stored `w ^ 0x80 = w + 128` in the unsigned layout; the bytes past
    // `k` and the lanes past `n` stay 0 in both layouts, so they add nothing.
    let flip = match layout {
        WeightBytes::Signed => _mm512_setzero_si512(),
        WeightBytes::Unsigned => _mm512_set1_epi8(i8::MIN),
    };
    let kq = k.div_ceil(4);
    let full = k / 4;
    let ones = _mm512_set1_epi8(1);
    let lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let mut sums = [_mm512_setzero_si512(); 4];
    for (j, sum) in sums.iter_mut().enumerate().take(nv) {
        let lanes = n.saturating_sub(16 * j).min(16);
        let mask = lane_mask16(lanes);
        // Byte offset of each lane's row.
        let rows = _mm512_mullo_epi32(
            _mm512_add_epi32(lane, _mm512_set1_epi32((16 * j) as i32)),
            _mm512_set1_epi32(k as i32),
        );
        for q in 0..kq {
            let v = if q < full {
                let off = _mm512_add_epi32(rows, _mm512_set1_epi32((4 * q) as i32));
                // SAFETY: active lanes read bytes `4q .. 4q + 4 ≤ k` of rows `< n`, inside the
                // `n · k` readable bytes; inactive lanes are not accessed.
                unsafe {
                    _mm512_mask_i32gather_epi32::<1>(_mm512_setzero_si512(), mask, off, src.cast())
                }
            } else {
                // The last, partial dword: assembled byte by byte.
                let mut d = [0i32; 16];
                for (l, dw) in d.iter_mut().enumerate().take(lanes) {
                    let mut bytes = [0u8; 4];
                    for (b, byte) in bytes.iter_mut().enumerate() {
                        let kk = 4 * q + b;
                        if kk < k {
                            // SAFETY: row `16j + l < n`, byte `kk < k`.
                            *byte = unsafe { *src.add((16 * j + l) * k + kk) } as u8;
                        }
                    }
                    *dw = i32::from_le_bytes(bytes);
                }
                // SAFETY: `d` holds 16 i32.
                unsafe { _mm512_loadu_si512(d.as_ptr().cast()) }
            };
            *sum = _mm512_dpbusd_epi32(*sum, ones, v);
            // Flip only the real bytes: a full dword has 4, the partial one `k − 4q`.
            let real = if q < full {
                byte_mask64(64)
            } else {
                let per_dword = (1u64 << (k - 4 * q)) - 1;
                (0..16).fold(0u64, |m, l| m | (per_dword << (4 * l)))
            };
            let stored = _mm512_xor_si512(
                v,
                _mm512_maskz_mov_epi8(real & byte_mask64(4 * lanes), flip),
            );
            // SAFETY: dword `(q·nv + j)·16` of the destination, aligned and in range (caller).
            unsafe { _mm512_store_si512(dst.add((q * nv + j) * 16).cast(), stored) };
        }
    }
    sums
}

/// The per-channel multiple of `Σ w` added to the bias: `input_offset` always, less 128 when
/// the input is the flipped operand (`Σ w·(x + 128)` is what `vpdpbusd` then sums).
fn input_correction(input_offset: i32, layout: WeightBytes) -> i32 {
    match layout {
        WeightBytes::Signed => input_offset.wrapping_sub(128),
        WeightBytes::Unsigned => input_offset,
    }
}

/// The initial accumulators and requantization constants of a block of signed weights
/// (channels `oc .. oc + n`, `nv` vectors, `sums` its `Σ w` from [`pack`]).
///
/// # Safety
/// AVX-512 VNNI available; `oc + n ≤ out_c`; `nv = ⌈n/16⌉ ≤ 4`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn signed_block_consts(
    ctx: &Ctx,
    oc: usize,
    n: usize,
    nv: usize,
    sums: &[__m512i; 4],
) -> ([__m512i; 4], [Requant16; 4]) {
    let mut init = [_mm512_setzero_si512(); 4];
    let mut rq = [Requant16::splat(0, 0); 4];
    for j in 0..nv {
        let lanes = n.saturating_sub(16 * j).min(16);
        // SAFETY: channels `oc + 16j .. + lanes ≤ out_c` (caller).
        unsafe {
            init[j] = init_acc(ctx, oc + 16 * j, lanes, sums[j], WeightBytes::Signed);
            rq[j] = Requant16::load(
                ctx.mults.as_ptr().add(oc + 16 * j),
                ctx.shifts.as_ptr().add(oc + 16 * j),
                lanes,
            )
            .with_output_offset(ctx.folded_offset());
        }
    }
    (init, rq)
}

/// Bias plus the input correction ([`input_correction`]) `· Σ w`, for channels `oc .. oc + n`.
///
/// # Safety
/// AVX-512 available; `oc + n ≤ out_c`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn init_acc(ctx: &Ctx, oc: usize, n: usize, sum_w: __m512i, layout: WeightBytes) -> __m512i {
    let corr = _mm512_set1_epi32(input_correction(ctx.p.input_offset, layout));
    // SAFETY: forwarded from the caller.
    let b = unsafe { load_bias(ctx, oc, n) };
    _mm512_add_epi32(b, _mm512_mullo_epi32(corr, sum_w))
}

// ---------------------------------------------------------------------------------------------
// GEMM path
// ---------------------------------------------------------------------------------------------

/// One tile: `MR` rows × `NV` vectors of 16 channels, reading `segs` ([`Segments`]); each
/// segment is `segq` dwords; the packed weights hold `segs.count() · segq` dwords × `16·NV`
/// lanes. `FLIPPED`: the input bytes were flipped to unsigned when they were copied
/// ([`gemm_window`]), so the signed weights take them as they are.
///
/// `FLOAT` is not used here: it makes the two output stages' tiles call two instances, each
/// with one caller, which LLVM inlines (one instance with two callers was not inlined, and
/// returning the accumulators through memory made MobileNetV2's first layer 1.28 × slower).
///
/// # Safety
/// AVX-512 VNNI available; every segment pointer readable for `4·segq` bytes; `w` readable and
/// aligned for `segs.count() · segq · 16 · NV` dwords.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn gemm_tile<
    const NV: usize,
    const UNSIGNED: bool,
    const FLIPPED: bool,
    const R: usize,
    const FLOAT: bool,
>(
    segs: impl Segments<i8, MR>,
    segq: usize,
    mut w: *const i32,
    init: &[__m512i; 4],
) -> [[__m512i; NV]; MR] {
    // With unsigned weights (`w + 128`) each row's accumulators take `− 128 · Σ x` over the
    // row's depth (the row sums: one `vpdpbusd` by ones per 64 input bytes and segment).
    let mut row_sums = [_mm512_setzero_si512(); MR];
    if UNSIGNED {
        let ones = _mm512_set1_epi8(1);
        let (chunks, tail) = (segq / 16, byte_mask64(4 * (segq % 16)));
        for si in 0..segs.count() {
            for (s, &p) in row_sums.iter_mut().zip(&segs.get(si)).take(R) {
                for c in 0..chunks {
                    // SAFETY: bytes `64c .. 64c + 64 ≤ 4·segq` of the segment (caller).
                    let v = unsafe { _mm512_loadu_si512(p.add(64 * c).cast()) };
                    *s = _mm512_dpbusd_epi32(*s, ones, v);
                }
                if tail != 0 {
                    // SAFETY: the mask keeps the load inside the segment's last `4·(segq % 16)`
                    // bytes (caller).
                    let v = unsafe { _mm512_maskz_loadu_epi8(tail, p.add(64 * chunks)) };
                    *s = _mm512_dpbusd_epi32(*s, ones, v);
                }
            }
        }
    }
    // Opaque to the optimiser: otherwise `xor(splat(d), splat(0x80))` becomes a scalar `xor`
    // and a register broadcast (load, xor, shuffle per tap) instead of a broadcast load and a
    // vector `xor`.
    let flip = core::hint::black_box(_mm512_set1_epi8(i8::MIN));
    let mut acc = [[_mm512_setzero_si512(); NV]; MR];
    for row in acc.iter_mut() {
        for (a, i) in row.iter_mut().zip(init) {
            *a = *i;
        }
    }
    // With one or two vectors per row, `MR · NV` accumulators are too few chains to hide the
    // `vpdpbusd` latency: odd dwords go to a second set, added at the end.
    let split = NV <= 2;
    let mut acc_odd = [[_mm512_setzero_si512(); NV]; MR];
    for si in 0..segs.count() {
        let (seg, off) = segs.split(si);
        let seg = &seg;
        let mut q = 0;
        if split {
            while q + 1 < segq {
                // SAFETY: dwords `q`, `q + 1 < segq` of the segment and of the packed block
                // (caller).
                unsafe {
                    gemm_step::<NV, UNSIGNED, FLIPPED, R>(&mut acc, seg, off + 4 * q, w, flip);
                    gemm_step::<NV, UNSIGNED, FLIPPED, R>(
                        &mut acc_odd,
                        seg,
                        off + 4 * q + 4,
                        w.add(16 * NV),
                        flip,
                    );
                }
                // SAFETY: stays within (or one past) the packed block.
                w = unsafe { w.add(32 * NV) };
                q += 2;
            }
        }
        while q < segq {
            // SAFETY: dword `q < segq` of the segment and of the packed block (caller).
            unsafe { gemm_step::<NV, UNSIGNED, FLIPPED, R>(&mut acc, seg, off + 4 * q, w, flip) };
            // SAFETY: stays within (or one past) the packed block.
            w = unsafe { w.add(16 * NV) };
            q += 1;
        }
    }
    if split {
        for (row, odd) in acc.iter_mut().zip(&acc_odd) {
            for (a, o) in row.iter_mut().zip(odd) {
                *a = _mm512_add_epi32(*a, *o);
            }
        }
    }
    // Added last, so the products do not wait for the sums' chain of latencies.
    if UNSIGNED {
        for (row, s) in acc.iter_mut().zip(&row_sums) {
            let corr = _mm512_set1_epi32(_mm512_reduce_add_epi32(*s).wrapping_mul(-128));
            for a in row.iter_mut() {
                *a = _mm512_add_epi32(*a, corr);
            }
        }
    }
    acc
}

/// One dword of depth (bytes `at ..`) of every row of a [`gemm_tile`] into `acc`, the weights
/// at `w`.
///
/// # Safety
/// AVX-512 VNNI; `seg[r]` readable for 4 bytes at `at`; `w` readable and aligned for `16 · NV`
/// dwords.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
unsafe fn gemm_step<const NV: usize, const UNSIGNED: bool, const FLIPPED: bool, const R: usize>(
    acc: &mut [[__m512i; NV]; MR],
    seg: &[*const i8; MR],
    at: usize,
    w: *const i32,
    flip: __m512i,
) {
    let mut wv = [_mm512_setzero_si512(); NV];
    for (j, v) in wv.iter_mut().enumerate() {
        // SAFETY: within the packed block (caller), 64-byte aligned.
        *v = unsafe { _mm512_load_si512(w.add(16 * j).cast()) };
    }
    for (row, p) in acc.iter_mut().zip(seg).take(R) {
        // SAFETY: 4 bytes at byte `at` of the segment (caller).
        let d = unsafe { p.add(at).cast::<i32>().read_unaligned() };
        if UNSIGNED {
            let x = _mm512_set1_epi32(d);
            for (a, v) in row.iter_mut().zip(&wv) {
                *a = _mm512_dpbusd_epi32(*a, *v, x);
            }
        } else if FLIPPED {
            let x = _mm512_set1_epi32(d);
            for (a, v) in row.iter_mut().zip(&wv) {
                *a = _mm512_dpbusd_epi32(*a, x, *v);
            }
        } else {
            // The flip to unsigned in the vector domain: the scalar `xor` before the broadcast
            // made every tap a GPR-to-vector move (one per cycle at most).
            let x = _mm512_xor_si512(_mm512_set1_epi32(d), flip);
            for (a, v) in row.iter_mut().zip(&wv) {
                *a = _mm512_dpbusd_epi32(*a, x, *v);
            }
        }
    }
}

/// Runs one tile and stores its outputs.
///
/// # Safety
/// As [`gemm_tile`]; `out_rows[r]` writable for `n` bytes for `r < rows`; `oc + n ≤ out_c`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_tile_store<
    const NV: usize,
    const UNSIGNED: bool,
    const FLIPPED: bool,
    const R: usize,
    const FLOAT: bool,
>(
    ctx: &Ctx,
    segs: impl Segments<i8, MR>,
    segq: usize,
    w: *const i32,
    init: &[__m512i; 4],
    rq: &[Requant16; 4],
    out_rows: &[*mut i8; MR],
    rows: usize,
    oc: usize,
    n: usize,
) {
    // SAFETY: forwarded from the caller.
    let acc = unsafe { gemm_tile::<NV, UNSIGNED, FLIPPED, R, FLOAT>(segs, segq, w, init) };
    if FLOAT {
        for (row, dst) in acc.iter().zip(out_rows).take(rows) {
            // SAFETY: the row's output has `n ≤ 16·NV` bytes from `dst`, channels
            // `oc .. oc + n`; `FLOAT` only for `ctx.float` ([`tile_block`]).
            unsafe { store_row_float(ctx, row, oc, n, *dst) };
        }
        return;
    }
    for (r, row) in acc.iter().enumerate().take(rows) {
        if ctx.folded {
            // SAFETY: the row's output has `n ≤ 16·NV` bytes from `out_rows[r]`; `rq` built for
            // this block by the caller.
            unsafe { store_row_folded(row, rq, n, out_rows[r]) };
            continue;
        }
        for (j, a) in row.iter().enumerate() {
            let lanes = n.saturating_sub(16 * j).min(16);
            // SAFETY: the row's output has `n` bytes from `out_rows[r]`; lanes `16j ..` of it.
            unsafe { store16(ctx, *a, &rq[j], oc + 16 * j, lanes, out_rows[r].add(16 * j)) };
        }
    }
}

/// The tile of a block: [`gemm_tile_store`] for `nv` vectors, the weights' `layout` and
/// whether the input was flipped when copied.
///
/// # Safety
/// As [`gemm_tile_store`]; `1 ≤ nv ≤ 4`; `flipped` only with [`WeightBytes::Signed`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_block(
    ctx: &Ctx,
    segs: impl Segments<i8, MR>,
    segq: usize,
    w: *const i32,
    init: &[__m512i; 4],
    rq: &[Requant16; 4],
    out_rows: &[*mut i8; MR],
    dims: (usize, usize, usize, usize),
    layout: WeightBytes,
    flipped: bool,
) {
    // Separate functions for the two output stages: a runtime branch between them inside one
    // tile made the double-rounding tiles spill (MobileNetV2's 16-deep 1×1 layer 1.2–1.5 × its
    // time, `scripts/bench-ab-layers.py`, Zen 4).
    // SAFETY: forwarded from the caller.
    unsafe {
        if ctx.float {
            tile_block_as::<true>(
                ctx, segs, segq, w, init, rq, out_rows, dims, layout, flipped,
            )
        } else {
            tile_block_as::<false>(
                ctx, segs, segq, w, init, rq, out_rows, dims, layout, flipped,
            )
        }
    }
}

/// [`tile_block`] for one output stage (`FLOAT` only for `ctx.float`).
///
/// # Safety
/// As [`tile_block`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_block_as<const FLOAT: bool>(
    ctx: &Ctx,
    segs: impl Segments<i8, MR>,
    segq: usize,
    w: *const i32,
    init: &[__m512i; 4],
    rq: &[Requant16; 4],
    out_rows: &[*mut i8; MR],
    (rows, oc, n, nv): (usize, usize, usize, usize),
    layout: WeightBytes,
    flipped: bool,
) {
    let unsigned = layout == WeightBytes::Unsigned;
    let a = (ctx, segs, segq, w, init, rq, out_rows, rows, oc, n);
    // SAFETY: forwarded from the caller.
    unsafe {
        match (nv, unsigned, flipped) {
            (1, _, false) => call_tile::<1, false, false, MR, FLOAT>(a),
            (1, _, true) => call_tile::<1, false, true, MR, FLOAT>(a),
            (2, _, false) => call_tile::<2, false, false, MR, FLOAT>(a),
            (2, _, true) => call_tile::<2, false, true, MR, FLOAT>(a),
            (3, false, false) => call_tile::<3, false, false, MR, FLOAT>(a),
            (3, false, true) => call_tile::<3, false, true, MR, FLOAT>(a),
            (3, true, _) => call_tile::<3, true, false, MR, FLOAT>(a),
            (_, false, false) => call_tile::<4, false, false, MR, FLOAT>(a),
            (_, false, true) => call_tile::<4, false, true, MR, FLOAT>(a),
            (_, true, _) => call_tile::<4, true, false, MR, FLOAT>(a),
        }
    }
}

/// `tiles` full tiles of a pointwise layer ([`S8Plan::pointwise`], the in-place path) in one
/// call: tile `t` reads input pixels `MR·t ..` from `x` (their `cpg` channels of the group) and
/// writes their outputs `oc .. oc + n` from `out`. One call per tile cost MobileNetV2's shallow
/// 1×1 layers (16–24 deep) a setup per 6 pixels as long as the products: the dispatch, the
/// output stage's constants, the tile's pointers with a division.
///
/// A strided 1×1 layer ([`strided_pointwise`]) takes the same tiles over its output pixels,
/// the flipped strips gathering the pixels the stride picks ([`pointwise_tiles_flipped`]).
///
/// # Safety
/// As [`tile_block`] for each tile: `x + (MR·t + r)·in_c` readable for `4·segq` bytes and
/// `out + (MR·t + r)·out_c` writable for `n` bytes, `t < tiles`, `r < MR`; `1 ≤ nv ≤ 4`. For a
/// layer that is not [`S8Plan::pointwise`], [`strided_pointwise`] holds, `layout` is
/// [`WeightBytes::Signed`] and `x` is the image's first pixel.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn pointwise_tiles_as<const FLOAT: bool>(
    ctx: &Ctx,
    (x, out, tiles): (*const i8, *mut i8, usize),
    segq: usize,
    w: *const i32,
    init: &[__m512i; 4],
    rq: &[Requant16; 4],
    (oc, n, nv): (usize, usize, usize),
    layout: WeightBytes,
) {
    let (in_c, out_c) = (ctx.plan.g.in_c, ctx.plan.g.out_c);
    if layout == WeightBytes::Signed && ctx.plan.g.groups == 1 && in_c <= FLIP_MAX_DEPTH {
        // SAFETY: forwarded from the caller (one group: the rows are whole input pixels).
        unsafe {
            pointwise_tiles_flipped::<FLOAT>(ctx, (x, out, tiles), segq, w, init, rq, oc, n, nv)
        };
        return;
    }
    macro_rules! tiles {
        ($nv:literal, $unsigned:literal) => {
            for t in 0..tiles {
                let rows: [[*const i8; MR]; 1] = [core::array::from_fn(|r| {
                    x.wrapping_add((MR * t + r) * in_c)
                })];
                let outs: [*mut i8; MR] =
                    core::array::from_fn(|r| out.wrapping_add((MR * t + r) * out_c));
                let a = (ctx, &rows[..], segq, w, init, rq, &outs, MR, oc, n);
                // SAFETY: tile `t`'s rows and outputs (caller).
                unsafe { call_tile::<$nv, $unsigned, false, MR, FLOAT>(a) };
            }
        };
    }
    match (nv, layout == WeightBytes::Unsigned) {
        (1, _) => tiles!(1, false),
        (2, _) => tiles!(2, false),
        (3, false) => tiles!(3, false),
        (3, true) => tiles!(3, true),
        (_, false) => tiles!(4, false),
        (_, true) => tiles!(4, true),
    }
}

/// Bytes of input [`pointwise_tiles_flipped`] flips at a time: strips of tiles that stay in L1
/// with their block's weights.
const FLIP_BYTES: usize = 8 * 1024;
/// Deepest pointwise layer whose input [`pointwise_tiles_flipped`] flips: MobileNetV2's 16-,
/// 24- and 32-deep layers gained (0.84–0.94 of their time), its 96- and 144-deep projections
/// to 24 channels lost (1.02–1.03; `scripts/bench-ab-layers.py`, 5 runs, Zen 4).
const FLIP_MAX_DEPTH: usize = 64;

/// [`pointwise_tiles_as`] for signed weights of one group: the input is flipped to unsigned
/// (`x ^ 0x80`) a strip of tiles at a time into a buffer, one `vpxord` per 64 bytes, and the
/// tiles read it as `FLIPPED`; the per-broadcast flip cost one `vpxord` per depth dword, row
/// and block (one per `vpdpbusd` with 16 output channels, where a register-only loop of
/// `vpdpbusd` and `vpxord` pairs runs at 0.86 of the `vpdpbusd` rate on Zen 4).
///
/// A strided 1×1 layer ([`strided_pointwise`]) gathers its rows into the strips pixel by
/// pixel: output pixel `(oh, ow)` reads input pixel `(oh · stride_h, ow · stride_w)`, one
/// masked load and store of its `in_c ≤ 64` bytes. Copying the whole image instead (the
/// per-tap path's padded image, every skipped row and column included) cost ResNet-8's two
/// stride-2 1×1 layers more than their products.
///
/// # Safety
/// As [`pointwise_tiles_as`], with `groups = 1` (row `m` is input pixel `m`, or the pixel the
/// stride picks; `in_c = 4·segq` bytes) and `in_c ≤ FLIP_MAX_DEPTH` (so `MR · in_c ≤
/// FLIP_BYTES`).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn pointwise_tiles_flipped<const FLOAT: bool>(
    ctx: &Ctx,
    (x, out, tiles): (*const i8, *mut i8, usize),
    segq: usize,
    w: *const i32,
    init: &[__m512i; 4],
    rq: &[Requant16; 4],
    oc: usize,
    n: usize,
    nv: usize,
) {
    let g = &ctx.plan.g;
    let (in_c, out_c) = (g.in_c, g.out_c);
    let strip = (FLIP_BYTES / (MR * in_c).max(1)).max(1);
    let mut store = Aligned([MaybeUninit::<i8>::uninit(); FLIP_BYTES]);
    let buf = store.0.as_mut_ptr().cast::<i8>();
    let flip = _mm512_set1_epi8(i8::MIN);
    let strided = !ctx.plan.pointwise;
    // The strided gather's next output pixel, `(oh, ow)`.
    let (mut oh, mut ow) = (0, 0);
    let mut t0 = 0;
    while t0 < tiles {
        let st = strip.min(tiles - t0);
        let (src, len) = (x.wrapping_add(MR * t0 * in_c), st * MR * in_c);
        if strided {
            let k = byte_mask64(in_c);
            for i in 0..st * MR {
                let at = (oh * g.stride_h * g.in_w + ow * g.stride_w) * in_c;
                // SAFETY: input pixel `(oh · stride_h, ow · stride_w)` of the image, inside it
                // for every output pixel (`strided_pointwise`), its `in_c ≤ 64` bytes; row `i`
                // of the strip in the buffer (`len ≤ FLIP_BYTES`); the mask keeps both inside.
                unsafe {
                    let v = _mm512_maskz_loadu_epi8(k, x.add(at));
                    _mm512_mask_storeu_epi8(buf.add(i * in_c), k, _mm512_xor_si512(v, flip));
                }
                ow += 1;
                if ow == g.out_w {
                    (oh, ow) = (oh + 1, 0);
                }
            }
        }
        let mut i = 0;
        while i < len && !strided {
            let k = byte_mask64(len - i);
            // SAFETY: bytes `i .. min(i + 64, len)` of the strip's rows (caller: its pixels'
            // `in_c` bytes, contiguous) and of the buffer (`len ≤ FLIP_BYTES`); the masks keep
            // both inside.
            unsafe {
                let v = _mm512_maskz_loadu_epi8(k, src.add(i));
                _mm512_mask_storeu_epi8(buf.add(i), k, _mm512_xor_si512(v, flip));
            }
            i += 64;
        }
        macro_rules! tiles {
            ($nv:literal) => {
                for t in 0..st {
                    let rows: [[*const i8; MR]; 1] = [core::array::from_fn(|r| {
                        buf.cast_const().wrapping_add((MR * t + r) * in_c)
                    })];
                    let outs: [*mut i8; MR] =
                        core::array::from_fn(|r| out.wrapping_add((MR * (t0 + t) + r) * out_c));
                    let a = (ctx, &rows[..], segq, w, init, rq, &outs, MR, oc, n);
                    // SAFETY: tile `t`'s flipped rows in the buffer, written above; its outputs
                    // (caller).
                    unsafe { call_tile::<$nv, false, true, MR, FLOAT>(a) };
                }
            };
        }
        match nv {
            1 => tiles!(1),
            2 => tiles!(2),
            3 => tiles!(3),
            _ => tiles!(4),
        }
        t0 += st;
    }
}

/// The GEMM path's tile: [`tile_block_partial`] for a partial tile of a block of 4 vectors
/// of unsigned weights, else [`tile_block`].
///
/// # Safety
/// As [`tile_block`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_or_partial(
    ctx: &Ctx,
    segs: impl Segments<i8, MR>,
    segq: usize,
    w: *const i32,
    init: &[__m512i; 4],
    rq: &[Requant16; 4],
    out_rows: &[*mut i8; MR],
    (rows, oc, n, nv): (usize, usize, usize, usize),
    layout: WeightBytes,
    flipped: bool,
) {
    // SAFETY: forwarded from the caller (a partial tile has `rows ≤ 4 < MR`; unsigned weights
    // are never `flipped`).
    unsafe {
        if rows <= 4 && nv == 4 && layout == WeightBytes::Unsigned {
            tile_block_partial(ctx, segs, segq, w, init, rq, out_rows, (rows, oc, n))
        } else {
            tile_block(
                ctx,
                segs,
                segq,
                w,
                init,
                rq,
                out_rows,
                (rows, oc, n, nv),
                layout,
                flipped,
            )
        }
    }
}

/// [`tile_block`] for a partial tile (`rows < MR`) of a block of 4 vectors of unsigned
/// weights (the deep, wide layers), computing only its pixels: 7 × 7 = 49 pixels make 8 full
/// tiles and one of 1 row (MobileNetV2's two 7 × 7 layers with the most MACs 0.95 of their
/// time), 8 × 8 = 64 one of 4 (ResNet-8's 8 × 8 layers 0.98; `scripts/bench-ab-layers.py`,
/// Zen 4). A function of its own: the variants inside `tile_block` moved the code of its other
/// arms (ResNet-8's 16-channel layers 3 % slower).
///
/// # Safety
/// As [`tile_block`] with `nv = 4`, unsigned weights, `rows < MR`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_block_partial(
    ctx: &Ctx,
    segs: impl Segments<i8, MR>,
    segq: usize,
    w: *const i32,
    init: &[__m512i; 4],
    rq: &[Requant16; 4],
    out_rows: &[*mut i8; MR],
    dims: (usize, usize, usize),
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if ctx.float {
            tile_block_partial_as::<true>(ctx, segs, segq, w, init, rq, out_rows, dims)
        } else {
            tile_block_partial_as::<false>(ctx, segs, segq, w, init, rq, out_rows, dims)
        }
    }
}

/// [`tile_block_partial`] for one output stage (`FLOAT` only for `ctx.float`).
///
/// # Safety
/// As [`tile_block_partial`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_block_partial_as<const FLOAT: bool>(
    ctx: &Ctx,
    segs: impl Segments<i8, MR>,
    segq: usize,
    w: *const i32,
    init: &[__m512i; 4],
    rq: &[Requant16; 4],
    out_rows: &[*mut i8; MR],
    (rows, oc, n): (usize, usize, usize),
) {
    let a = (ctx, segs, segq, w, init, rq, out_rows, rows, oc, n);
    // SAFETY: forwarded from the caller.
    unsafe {
        if rows == 1 {
            call_tile::<4, true, false, 1, FLOAT>(a)
        } else {
            call_tile::<4, true, false, 4, FLOAT>(a)
        }
    }
}

/// [`gemm_tile_store`] with its arguments in one tuple.
///
/// # Safety
/// As [`gemm_tile_store`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
#[allow(clippy::type_complexity)]
unsafe fn call_tile<
    const NV: usize,
    const UNSIGNED: bool,
    const FLIPPED: bool,
    const R: usize,
    const FLOAT: bool,
>(
    (ctx, segs, segq, w, init, rq, out_rows, rows, oc, n): (
        &Ctx,
        impl Segments<i8, MR>,
        usize,
        *const i32,
        &[__m512i; 4],
        &[Requant16; 4],
        &[*mut i8; MR],
        usize,
        usize,
        usize,
    ),
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm_tile_store::<NV, UNSIGNED, FLIPPED, R, FLOAT>(
            ctx, segs, segq, w, init, rq, out_rows, rows, oc, n,
        )
    }
}

/// # Safety
/// AVX-512 VNNI available; `ctx` built by [`run`] for the `Gemm` kind (checked lengths, buffer
/// limits); `output` has the plan's length; a `cache` is [`fill_cache`]'s for this call (length
/// and alignment checked).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn gemm(_t: Avx512Vnni, ctx: &Ctx, cache: Option<&[i32]>, output: &mut [i8]) {
    let pl = &ctx.plan;
    if let Some(wq) = window_rows(pl) {
        // SAFETY: forwarded from the caller; the plan is on the window path.
        unsafe { gemm_window(ctx, wq, output) };
        return;
    }
    let g = &pl.g;
    let (cpg, opg, k) = (pl.cpg, pl.opg, pl.k_len);
    let im2col = cpg % 4 != 0;
    let k_pad = k.next_multiple_of(4);
    let (segs, segq) = gemm_segments(pl);
    let (kq, nv_max) = gemm_blocking(pl);
    let mut cache_at = 0;
    let zp = (-ctx.p.input_offset) as i8;
    let mut packed = Aligned([MaybeUninit::<i32>::uninit(); PACK_DWORDS]);
    let packed = packed.0.as_mut_ptr().cast::<i32>();
    let mut zero_store = [MaybeUninit::<i8>::uninit(); MAX_ZERO_ROW];
    let zero_row = super::avx2::init_prefix(&mut zero_store, cpg, zp);
    // The im2col, padded-weight and border buffers are zeroed only on the paths that use them
    // (a 16 KiB memset per call would cost every 1×1 layer).
    let mut col_store = MaybeUninit::<Aligned<[i8; COL_BYTES]>>::uninit();
    let col: &mut [i8] = if im2col {
        &mut col_store.write(Aligned([0; COL_BYTES])).0
    } else {
        &mut []
    };
    // Tiles per im2col strip (at least 1: `k_pad ≤ MAX_IM2COL_K`, `MR · MAX_IM2COL_K ≤
    // COL_BYTES`).
    let strip_tiles = (COL_BYTES / (MR * k_pad.max(1))).clamp(1, STRIP_TILES);
    let mut ptrs = [[core::ptr::null::<i8>(); MR]; super::MAX_TAPS];
    let pixels = g.out_h * g.out_w;
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();
    // A copy also flips the input for blocks of signed weights (no `xor` per broadcast), so the
    // input is read in place only when every block has unsigned weights.
    let (mut all_unsigned, mut all_signed) = (true, true);
    for_each_block(pl, |_, _, _, nv, _| {
        let unsigned = WeightBytes::for_gemm_block(pl, nv) == WeightBytes::Unsigned;
        all_unsigned &= unsigned;
        all_signed &= !unsigned;
    });
    let strided_pointwise = strided_pointwise(pl) && all_signed;
    // The windows as offsets from their corners in one image ([`tap_image`]): the input itself
    // when no window reaches the padding and the group is the whole pixel, else a padded copy
    // of the group's channels. A strided 1×1 layer gathers its pixels instead.
    let image = if strided_pointwise {
        None
    } else {
        tap_image(pl)
    };
    let in_place = image.is_some_and(|(ph, pw)| {
        all_unsigned
            && g.groups == 1
            && g.pad_top == 0
            && g.pad_left == 0
            && ph <= g.in_h
            && pw <= g.in_w
    });
    // Written by each copy of the image (`padded_copy`) before the tiles read it.
    let mut image_store = Aligned([MaybeUninit::<i8>::uninit(); TAP_IMAGE_BYTES]);
    let strides = match image {
        Some((_, pw)) if !in_place => (pw * cpg, cpg),
        _ => (g.in_w * g.in_c, g.in_c),
    };
    let (row_stride, px_stride) = strides;
    let mut tap_store = [0usize; super::MAX_TAPS];
    let tap_offs = pl.tap_offsets(strides, &mut tap_store);
    for grp in 0..g.groups {
        let mut nb = 0;
        while nb < opg {
            let n = (opg - nb).min(16 * nv_max);
            let nv = n.div_ceil(16);
            let oc = grp * opg + nb;
            let layout = WeightBytes::for_gemm_block(pl, nv);
            let mut init = [_mm512_setzero_si512(); 4];
            // The packed weights and initial accumulators: from the cache (in the order of
            // `for_each_block`, which walks the blocks as these loops do), or packed now.
            let (w_block, cached) = match cache {
                // SAFETY: the block's entry `cache_at .. + 64 + kq·16·nv` is inside the cache,
                // 64-byte aligned (`for_each_block`; length and alignment checked by `run`).
                Some(c) => unsafe {
                    let e = c.as_ptr().add(cache_at);
                    cache_at += 64 + kq * 16 * nv;
                    for (j, i) in init.iter_mut().enumerate().take(nv) {
                        *i = _mm512_load_si512(e.add(16 * j).cast());
                    }
                    (e.add(64), true)
                },
                None => (packed.cast_const(), false),
            };
            let sums = if cached {
                [_mm512_setzero_si512(); 4]
            } else {
                // SAFETY: rows `oc .. oc + n` of the weights (`n · k` bytes); the buffer holds
                // `k_pad/4 · 16 · nv_max` dwords by the choice of `nv_max`; 64·k < 2^31 (plan).
                unsafe { pack(ctx.weights.as_ptr().add(oc * k), k, n, nv, layout, packed) }
            };
            let mut rq = [Requant16::splat(0, 0); 4];
            for j in 0..nv {
                let lanes = (n - 16 * j).min(16);
                // SAFETY: channels `oc + 16j .. + lanes ≤ out_c`.
                unsafe {
                    if !cached {
                        init[j] = init_acc(ctx, oc + 16 * j, lanes, sums[j], layout);
                    }
                    rq[j] = Requant16::load(
                        ctx.mults.as_ptr().add(oc + 16 * j),
                        ctx.shifts.as_ptr().add(oc + 16 * j),
                        lanes,
                    )
                    .with_output_offset(ctx.folded_offset());
                }
            }
            for b in 0..g.batch {
                // Flipped to unsigned when copied for signed weights.
                let flipped = image.is_some() && !in_place && layout == WeightBytes::Signed;
                let image_base = match image {
                    Some((ph, pw)) if !in_place => {
                        let flip = if flipped { i8::MIN } else { 0 };
                        // Copied with the padding (input zero points), every byte xor `flip`;
                        // `ph · pw · cpg ≤ TAP_IMAGE_BYTES` (`tap_image`).
                        super::avx2::padded_copy(
                            &mut image_store.0,
                            ph * pw * cpg,
                            ctx.input,
                            g,
                            (cpg, grp, b),
                            (0, pw),
                            (zp ^ flip, flip),
                        )
                        .as_ptr()
                    }
                    // SAFETY: image `b` of the input (`b < batch`), channels of group 0.
                    _ => unsafe { x.add(b * g.in_h * g.in_w * g.in_c) },
                };
                // The current im2col strip: tiles from pixel `strip_start` to `strip_end`.
                let (mut strip_start, mut strip_end) = (0, 0);
                let mut m0 = 0;
                if (pl.pointwise || strided_pointwise) && !im2col && image.is_none() && segs == 1 {
                    // The full tiles in one call; the last, partial one below.
                    let tiles = pixels / MR;
                    let base = b * g.in_h * g.in_w * g.in_c + grp * cpg;
                    let run = (
                        x.wrapping_add(base),
                        out.wrapping_add(b * pixels * g.out_c + oc),
                        tiles,
                    );
                    // SAFETY: pixels `0 .. MR·tiles ≤ pixels` of image `b` (input pixel `m` for
                    // output pixel `m`, or for a strided layer the pixel its stride picks, in
                    // the image by `strided_pointwise`), `cpg = 4·segq` channels of the group
                    // from `base`; outputs `oc .. oc + n ≤ out_c` of the same pixels; the block
                    // as below; a strided layer's blocks all have signed weights, one group and
                    // `in_c ≤ FLIP_MAX_DEPTH`, so `pointwise_tiles_as` gathers them.
                    unsafe {
                        if ctx.float {
                            pointwise_tiles_as::<true>(
                                ctx,
                                run,
                                segq,
                                w_block,
                                &init,
                                &rq,
                                (oc, n, nv),
                                layout,
                            )
                        } else {
                            pointwise_tiles_as::<false>(
                                ctx,
                                run,
                                segq,
                                w_block,
                                &init,
                                &rq,
                                (oc, n, nv),
                                layout,
                            )
                        }
                    };
                    m0 = tiles * MR;
                }
                while m0 < pixels {
                    let rows = (pixels - m0).min(MR);
                    let mut out_rows = [core::ptr::null_mut::<i8>(); MR];
                    if im2col && m0 >= strip_end {
                        // Gather the rows of the next `strip_tiles` tiles (row `r` of tile `t`
                        // at `(t·MR + r)·k_pad`), then read them through one shared borrow.
                        let mut col_rest: &mut [i8] = &mut *col;
                        let mut t0 = m0;
                        while t0 < pixels && t0 < m0 + strip_tiles * MR {
                            let t_rows = (pixels - t0).min(MR);
                            pl.for_each_tile_row(t0, t_rows, MR, |_, _, oh, ow| {
                                let (dst, rest) =
                                    core::mem::take(&mut col_rest).split_at_mut(k_pad);
                                col_rest = rest;
                                pl.im2col_row(ctx.input, (b, grp, oh, ow), zp, dst);
                            });
                            t0 += MR;
                        }
                        (strip_start, strip_end) = (m0, t0);
                    }
                    // This tile's first row in the strip.
                    let strip_at = m0 - strip_start;
                    pl.for_each_tile_row(m0, rows, MR, |r, m, _, _| {
                        // SAFETY: pixel `(b, m)` exists; `oc + n ≤ out_c`.
                        out_rows[r] = unsafe { out.add(((b * pixels) + m) * g.out_c + oc) };
                        if im2col {
                            // SAFETY: row `r` of this tile's place in the strip, inside the
                            // buffer (`strip_tiles · MR · k_pad ≤ COL_BYTES`).
                            ptrs[0][r] = unsafe { col.as_ptr().add((strip_at + r) * k_pad) };
                        }
                    });
                    if image.is_some() {
                        let mut corners = [core::ptr::null::<i8>(); MR];
                        pl.for_each_tile_row(m0, rows, MR, |r, _, oh, ow| {
                            let at = oh * g.stride_h * row_stride + ow * g.stride_w * px_stride;
                            corners[r] = image_base.wrapping_add(at);
                        });
                        let segs = RowOffsets {
                            rows: corners,
                            offs: tap_offs,
                        };
                        // SAFETY: every window of the tile lies in the image (`tap_image`: the
                        // image spans every output pixel's window; in place, the input does),
                        // `cpg` bytes at each tap offset; blocks and outputs as below.
                        unsafe {
                            tile_or_partial(
                                ctx,
                                segs,
                                segq,
                                w_block,
                                &init,
                                &rq,
                                &out_rows,
                                (rows, oc, n, nv),
                                layout,
                                flipped,
                            )
                        };
                        m0 += MR;
                        continue;
                    }
                    if !im2col {
                        pl.for_each_tile_tap((b, grp), m0, rows, MR, |t, r, at| {
                            ptrs[t][r] = match at {
                                // SAFETY: `at` is a pixel inside the input (the plan's window),
                                // the group's `cpg` channels follow it.
                                Some(at) => unsafe { x.add(at) },
                                None => zero_row.as_ptr(),
                            };
                        });
                    }
                    let ptrs = &ptrs[..segs];
                    // SAFETY: every pointer reads `4·segq` bytes (a tap's `cpg` channels, the
                    // zero row of `cpg ≤ MAX_ZERO_ROW` bytes, or an im2col row of `k_pad`); the
                    // packed block holds `segs · segq` dwords × `16·nv`; outputs as above.
                    unsafe {
                        tile_or_partial(
                            ctx,
                            ptrs,
                            segq,
                            w_block,
                            &init,
                            &rq,
                            &out_rows,
                            (rows, oc, n, nv),
                            layout,
                            false,
                        )
                    };
                    m0 += MR;
                }
            }
            nb += n;
        }
    }
}

/// Whether a 1×1 layer with strides (or another geometry [`S8Plan::pointwise`] leaves out)
/// can run as a pointwise layer over gathered pixels ([`pointwise_tiles_flipped`]): one group
/// of whole dwords at most [`FLIP_MAX_DEPTH`] deep, no leading padding, and every output
/// pixel's input pixel `(oh · stride_h, ow · stride_w)` inside the input. The blocks must also
/// all have signed weights (the caller's check).
fn strided_pointwise(plan: &S8Plan) -> bool {
    let g = &plan.g;
    let inside = |out: usize, stride: usize, input: usize| {
        out.checked_sub(1)
            .and_then(|o| o.checked_mul(stride))
            .is_some_and(|last| last < input)
    };
    plan.kind == S8Kind::Gemm
        && !plan.pointwise
        && plan.taps == 1
        && g.groups == 1
        && plan.cpg.is_multiple_of(4)
        && g.in_c <= FLIP_MAX_DEPTH
        && (g.pad_top, g.pad_left) == (0, 0)
        && inside(g.out_h, g.stride_h, g.in_h)
        && inside(g.out_w, g.stride_w, g.in_w)
}

/// Bytes of the per-tap path's padded image (one group of one input image): ResNet-8's and
/// ResNeXt-29's padded 3×3 layers fit (at most 34 × 34 × 16 and 18 × 18 × 64 bytes).
const TAP_IMAGE_BYTES: usize = 32 * 1024;

/// `(rows, columns)` of the image the GEMM path's windows read as fixed offsets from their
/// corners ([`RowOffsets`]): the group's channels are whole dwords, the layer has windows (not
/// pointwise) and one group of the padded input, `rows · columns · cpg` bytes, fits
/// [`TAP_IMAGE_BYTES`]. Pixel `(oh, ow)`'s window starts at `(oh · stride_h, ow · stride_w)`.
fn tap_image(plan: &S8Plan) -> Option<(usize, usize)> {
    let g = &plan.g;
    if plan.kind != S8Kind::Gemm
        || !plan.cpg.is_multiple_of(4)
        || plan.pointwise
        || plan.taps > super::MAX_TAPS
    {
        return None;
    }
    let span = |out: usize, stride: usize, k: usize, dil: usize| {
        out.checked_sub(1)?
            .checked_mul(stride)?
            .checked_add(k.checked_sub(1)?.checked_mul(dil)?)?
            .checked_add(1)
    };
    let ph = span(g.out_h, g.stride_h, g.kernel_h, g.dilation_h)?;
    let pw = span(g.out_w, g.stride_w, g.kernel_w, g.dilation_w)?;
    (ph.checked_mul(pw)?.checked_mul(plan.cpg)? <= TAP_IMAGE_BYTES).then_some((ph, pw))
}

/// The window path ([`window_rows`]): for each output row, its `kernel_h` input rows are copied
/// into a stack buffer with the padding filled in (input zero points) and every byte flipped to
/// unsigned, so every window of the row is read in place at `ow · stride_w · in_c`: no border
/// test or gathered window per pixel, no `xor` per broadcast. The copies cost about
/// `kernel_h / stride_h` input rows per output row, a fraction of the row's products.
///
/// # Safety
/// As [`gemm`], and the plan is on the window path with `wq` dwords per kernel row.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline(never)]
unsafe fn gemm_window(ctx: &Ctx, wq: usize, output: &mut [i8]) {
    let pl = &ctx.plan;
    let g = &pl.g;
    // One group: the window's channels are the input's.
    let (cin, k) = (g.in_c, pl.k_len);
    let (_, nv_max) = gemm_blocking(pl);
    let row_len = window_row_len(pl, wq);
    let row_bytes = g.kernel_w * cin;
    // Kernel row `kh` of each channel zero-padded to `4·wq` bytes.
    let kp = g.kernel_h * 4 * wq;
    let mut padded_store = [MaybeUninit::<i8>::uninit(); 64 * WINDOW_MAX_DEPTH];
    let padded = super::avx2::init_prefix(&mut padded_store, g.out_c.min(64) * kp, 0);
    // Written by `pack` before the tiles read it.
    let mut packed = Aligned([MaybeUninit::<i32>::uninit(); WINDOW_MAX_DEPTH / 4 * 64]);
    let packed = packed.0.as_mut_ptr().cast::<i32>();
    let mut rows_store = Aligned([MaybeUninit::<i8>::uninit(); WINDOW_ROWS_BYTES]);
    let rows = super::avx2::init_prefix(&mut rows_store.0, g.kernel_h * row_len, 0);
    let fill = ((-ctx.p.input_offset) as i8) ^ i8::MIN;
    let lead = g.pad_left * cin;
    let in_row = g.in_w * cin;
    // Segment `kh` of a window: kernel row `kh`, in row buffer `kh`.
    let mut row_offs = [0usize; WINDOW_MAX_DEPTH / 4];
    for (kh, off) in row_offs.iter_mut().enumerate().take(g.kernel_h) {
        *off = kh * row_len;
    }
    let row_offs = &row_offs[..g.kernel_h.min(WINDOW_MAX_DEPTH / 4)];
    let out = output.as_mut_ptr();
    let mut nb = 0;
    while nb < g.out_c {
        let n = (g.out_c - nb).min(16 * nv_max);
        let nv = n.div_ceil(16);
        padded.fill(0);
        for j in 0..n {
            for kh in 0..g.kernel_h {
                let from = (nb + j) * k + kh * row_bytes;
                let to = j * kp + kh * 4 * wq;
                if let (Some(src), Some(dst)) = (
                    ctx.weights.get(from..from + row_bytes),
                    padded.get_mut(to..to + row_bytes),
                ) {
                    dst.copy_from_slice(src);
                }
            }
        }
        // SAFETY: `n ≤ 64` rows of `kp ≤ WINDOW_MAX_DEPTH` bytes in `padded`; `packed` holds
        // `kp/4 · 64` dwords, 64-byte aligned.
        let sums = unsafe { pack(padded.as_ptr(), kp, n, nv, WeightBytes::Signed, packed) };
        // SAFETY: channels `nb .. nb + n ≤ out_c`, `nv = ⌈n/16⌉`.
        let (mut init, mut rq) = unsafe { signed_block_consts(ctx, nb, n, nv, &sums) };
        // Eight channels in all (VWW's first layer; a last block of 8 channels of a wider layer
        // is neither): with VBMI, 16 pixels per vector ([`window_lanes_row`]); else two pixels
        // per vector, the packed weights, initial accumulators and requantization constants
        // repeated in lanes 8–15 ([`window_pairs_row`]). Sixteen channels in all (ResNet-8's
        // first layer): the 16-pixel rows with the float output stage (below), else the tiles.
        let lanes = Avx512Vnni::get().and_then(Avx512Vbmi::get).filter(|_| {
            (ctx.simple || ctx.float)
                && (g.out_c == 8 || g.out_c == 16)
                && lanes_fit(pl, wq)
                && lanes_enabled()
        });
        let lane_consts = lanes.filter(|_| g.out_c == 8).map(|_| {
            // SAFETY: 8 channels, `kp/4` dwords each in `padded`.
            unsafe { LaneConsts::<8>::new(ctx, padded, kp, wq, &init[0]) }
        });
        // Sixteen channels only with the float output stage: ResNet-8's first layer 0.78 of its
        // time with it, 1.08 with double rounding (`scripts/bench-ab-layers.py`, Zen 4), whose
        // sixteen per-channel rescalings per 16 pixels are slower here than in the tiles.
        let lane_consts16 = lanes.filter(|_| g.out_c == 16 && ctx.float).map(|_| {
            // SAFETY: 16 channels, `kp/4` dwords each in `padded`.
            unsafe { LaneConsts::<16>::new(ctx, padded, kp, wq, &init[0]) }
        });
        let pairs = ctx.simple && g.out_c == 8 && lanes.is_none();
        if pairs {
            for q in 0..kp / 4 {
                // SAFETY: dword row `q < kp/4` of the packed block (16 dwords each).
                unsafe {
                    let row = packed.add(16 * q);
                    core::ptr::copy_nonoverlapping(row, row.add(8), 8);
                }
            }
            let twice = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
            init[0] = _mm512_permutexvar_epi32(twice, init[0]);
            let (mut m2, mut s2) = ([0i32; 16], [0i32; 16]);
            for l in 0..16 {
                m2[l] = ctx.mults.get(l % 8).copied().unwrap_or(0);
                s2[l] = ctx.shifts.get(l % 8).copied().unwrap_or(0);
            }
            // SAFETY: both arrays hold 16 lanes.
            rq[0] = unsafe { Requant16::load(m2.as_ptr(), s2.as_ptr(), 16) }
                .with_output_offset(ctx.folded_offset());
        }
        for b in 0..g.batch {
            for oh in 0..g.out_h {
                for (kh, row) in rows.chunks_exact_mut(row_len).enumerate() {
                    let ih = (oh * g.stride_h + kh * g.dilation_h).checked_sub(g.pad_top);
                    let src = ih
                        .filter(|&ih| ih < g.in_h)
                        .and_then(|ih| {
                            let at = (b * g.in_h + ih) * in_row;
                            ctx.input.get(at..at + in_row)
                        })
                        .unwrap_or(&[]);
                    // Flipped to unsigned, the padding the flipped zero point.
                    super::fill_padded_row(row, src, lead, fill, i8::MIN);
                }
                let out_row = ((b * g.out_h + oh) * g.out_w) * g.out_c + nb;
                if let (Some(v), Some(lc)) = (lanes, &lane_consts) {
                    // SAFETY: the row buffers as below; the row's outputs are 8 bytes per pixel.
                    unsafe { lanes_row(v, ctx, rows, row_offs, lc, out.add(out_row)) };
                    continue;
                }
                if let (Some(v), Some(lc)) = (lanes, &lane_consts16) {
                    // SAFETY: as above, 16 bytes per pixel.
                    unsafe { lanes_row(v, ctx, rows, row_offs, lc, out.add(out_row)) };
                    continue;
                }
                if pairs {
                    // SAFETY: as below; the row's outputs are 8 bytes per pixel.
                    unsafe {
                        window_pairs_row(
                            ctx,
                            rows,
                            wq,
                            row_offs,
                            packed,
                            &init,
                            &rq[0],
                            out.add(out_row),
                        )
                    };
                    continue;
                }
                let mut ow0 = 0;
                while ow0 < g.out_w {
                    let count = (g.out_w - ow0).min(MR);
                    let mut out_rows = [core::ptr::null_mut::<i8>(); MR];
                    let mut corners = [core::ptr::null::<i8>(); MR];
                    for r in 0..MR {
                        let ow = ow0 + r.min(count - 1);
                        // SAFETY: pixel `(b, oh, ow)` exists; `nb + n ≤ out_c`.
                        out_rows[r] = unsafe { out.add(out_row + ow * g.out_c) };
                        corners[r] = rows
                            .as_ptr()
                            .cast::<i8>()
                            .wrapping_add(ow * g.stride_w * cin);
                    }
                    let segs = RowOffsets {
                        rows: corners,
                        offs: row_offs,
                    };
                    // SAFETY: the window of column `ow` reads `4·wq` bytes from
                    // `kh · row_len + ow · stride_w · in_c`: inside row `kh` (`window_row_len`);
                    // the packed block holds `kernel_h · wq` dwords × `16·nv`; outputs as above.
                    unsafe {
                        tile_block(
                            ctx,
                            segs,
                            wq,
                            packed,
                            &init,
                            &rq,
                            &out_rows,
                            (count, nb, n, nv),
                            WeightBytes::Signed,
                            true,
                        )
                    };
                    ow0 += MR;
                }
            }
        }
        nb += n;
    }
}

/// Whether 16 adjacent windows of a row fit the two vectors [`window_lanes_row`] permutes:
/// `15 · stride_w · in_c + 4·wq ≤ 128` bytes (VWW's first layer: 102).
fn lanes_fit(plan: &S8Plan, wq: usize) -> bool {
    let step = plan.g.stride_w.saturating_mul(plan.g.in_c);
    step.saturating_mul(15).saturating_add(4 * wq) <= 128
}

/// Tests switch [`window_lanes_row`] off to exercise the pixel-pair path on this host too.
#[cfg(test)]
pub(super) static LANES_OFF: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

fn lanes_enabled() -> bool {
    #[cfg(test)]
    if LANES_OFF.load(core::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    true
}

/// The constants of [`window_lanes_row`]: per depth dword (kernel row `kh`, dword `q`) the
/// `vpermb` index gathering that dword of 16 windows, and per output channel its weight dword,
/// initial accumulator and requantization constants (the same on every lane).
struct LaneConsts<const C: usize> {
    /// `[kh · wq + q]`: byte `4p + j` of pixel `p` reads window byte `p·step + 4q + j`.
    idx: [__m512i; WINDOW_MAX_DEPTH / 4],
    /// `[kh · wq + q][oc]`: kernel row `kh`'s bytes `4q .. 4q + 4` of channel `oc`, zero past
    /// the row.
    w: [[i32; C]; WINDOW_MAX_DEPTH / 4],
    dwords: usize,
    wq: usize,
    init: [__m512i; C],
    rq: [Requant16; C],
    /// [`Ctx::float`]: channel `oc`'s scale on every lane.
    scale: [__m512; C],
}

impl<const C: usize> LaneConsts<C> {
    /// # Safety
    /// AVX-512 VNNI available; `ctx.simple` or `ctx.float`; `C ≤ 16`; `padded` holds `C`
    /// channels' `kp = kernel_h · 4·wq` zero-padded bytes; `init` the block's initial
    /// accumulators (channel `oc` in lane `oc`).
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
    unsafe fn new(ctx: &Ctx, padded: &[i8], kp: usize, wq: usize, init: &__m512i) -> Self {
        let g = &ctx.plan.g;
        let step = g.stride_w * g.in_c;
        let dwords = (kp / 4).min(WINDOW_MAX_DEPTH / 4);
        let mut idx = [_mm512_setzero_si512(); WINDOW_MAX_DEPTH / 4];
        let mut w = [[0i32; C]; WINDOW_MAX_DEPTH / 4];
        for (d, (iv, wd)) in idx.iter_mut().zip(w.iter_mut()).enumerate().take(dwords) {
            let q = d % wq.max(1);
            let mut bytes = [0u8; 64];
            for (i, b) in bytes.iter_mut().enumerate() {
                // At most 15·step + 4·wq − 1 < 128 ([`lanes_fit`]): a `vpermt2b` index.
                *b = ((i / 4) * step + 4 * q + i % 4) as u8;
            }
            // SAFETY: 64 bytes.
            *iv = unsafe { _mm512_loadu_si512(bytes.as_ptr().cast()) };
            for (oc, v) in wd.iter_mut().enumerate() {
                let at = oc * kp + 4 * d;
                let mut le = [0u8; 4];
                for (j, e) in le.iter_mut().enumerate() {
                    *e = padded.get(at + j).copied().unwrap_or(0) as u8;
                }
                *v = i32::from_le_bytes(le);
            }
        }
        let mut lanes = [0i32; 16];
        // SAFETY: 16 i32.
        unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), *init) };
        let rq = core::array::from_fn(|oc| {
            let m = ctx.mults.get(oc).copied().unwrap_or(0);
            // `ctx.simple`: no positive shift.
            let right = ctx.shifts.get(oc).map_or(0, |&s| -s.min(0));
            Requant16::from_right_shifts(_mm512_set1_epi32(m), _mm512_set1_epi32(right))
                .with_output_offset(ctx.folded_offset())
        });
        LaneConsts {
            idx,
            w,
            dwords,
            wq,
            init: core::array::from_fn(|oc| _mm512_set1_epi32(lanes[oc])),
            rq,
            scale: core::array::from_fn(|oc| {
                _mm512_set1_ps(f32::from_bits(
                    ctx.mults.get(oc).copied().unwrap_or(0) as u32
                ))
            }),
        }
    }
}

/// [`window_lanes_row`] with the output stage chosen per call: each stage is an instance of its
/// own (as a run-time branch inside the row it made the double-rounding row 4 % slower).
///
/// # Safety
/// As [`window_lanes_row`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,avx2,fma")]
#[inline]
unsafe fn lanes_row<const C: usize>(
    v: Avx512Vbmi,
    ctx: &Ctx,
    rows: &[i8],
    offs: &[usize],
    c: &LaneConsts<C>,
    out: *mut i8,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if ctx.float {
            window_lanes_row::<true, C>(v, ctx, rows, offs, c, out)
        } else {
            window_lanes_row::<false, C>(v, ctx, rows, offs, c, out)
        }
    }
}

/// The `vpermt2b` indices of [`window_lanes_row`]'s output: byte `8p + oc` of half `h`
/// (pixels `8h ..`) from the packed vectors, channel `oc < 4` in the first (`0..64`), the rest
/// in the second (`64..128`); in each, 128-bit lane `p / 4` holds the channels' runs of 4
/// pixels.
const LANES_ORDER: [[u8; 64]; 2] = {
    let mut t = [[0u8; 64]; 2];
    let mut h = 0;
    while h < 2 {
        let mut o = 0;
        while o < 64 {
            let (p, oc) = (8 * h + o / 8, o % 8);
            t[h][o] = (64 * (oc / 4) + 16 * (p / 4) + 4 * (oc % 4) + p % 4) as u8;
            o += 1;
        }
        h += 1;
    }
    t
};

/// The `vpermt2b` indices of [`window_lanes_row`]'s output with 16 channels: byte `16p + oc`
/// of output vector `j` (pixels `4j ..`), `oc mod 8` from the pair of packed vectors holding
/// channels `oc − oc mod 8 ..` (laid out as the two of [`LANES_ORDER`]); a blend with
/// [`LANES16_HIGH`] takes channels 8–15 from the second pair.
const LANES16_ORDER: [[u8; 64]; 4] = {
    let mut t = [[0u8; 64]; 4];
    let mut j = 0;
    while j < 4 {
        let mut o = 0;
        while o < 64 {
            let (p, oc) = (o / 16, o % 8);
            t[j][o] = (64 * (oc / 4) + 16 * j + 4 * (oc % 4) + p) as u8;
            o += 1;
        }
        j += 1;
    }
    t
};

/// The bytes of channels 8–15 in an output vector of 4 pixels × 16 channels.
const LANES16_HIGH: u64 = 0xff00_ff00_ff00_ff00;

/// One output row of [`gemm_window`] with `C` = 8 or 16 channels, 16 pixels per vector and one
/// vector per channel: each depth dword of 16 windows is gathered by one `vpermt2b` from two loads of the
/// row buffer and multiplied with the channel's weight dword broadcast, 8 `vpdpbusd` per
/// gather. The pixel pairs of [`window_pairs_row`] broadcast two windows' dwords per
/// `vpdpbusd` from scalar loads (VWW's first layer 46.6 G MAC/s, 14 % of its int8 time). The
/// 8 requantized vectors are narrowed by two rounds of saturating packs (the folded form's
/// clamp) and put in pixel order by two `vpermt2b`: 128 output bytes, two stores. With 16
/// channels (ResNet-8's first layer), four packed vectors, put in order by two `vpermt2b` and a
/// blend per 64 output bytes: four stores.
///
/// # Safety
/// As [`window_pairs_row`], with `c` built for this call; row buffers of `row_len` bytes at
/// `offs` in `rows`, pixel `ow`'s window at `ow · stride_w · in_c`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,avx2,fma")]
unsafe fn window_lanes_row<const FLOAT: bool, const C: usize>(
    _v: Avx512Vbmi,
    ctx: &Ctx,
    rows: &[i8],
    offs: &[usize],
    c: &LaneConsts<C>,
    out: *mut i8,
) {
    let g = &ctx.plan.g;
    let step = g.stride_w * g.in_c;
    let base = rows.as_ptr();
    // SAFETY: 64 bytes each.
    let (order0, order1) = unsafe {
        (
            _mm512_loadu_si512(LANES_ORDER[0].as_ptr().cast()),
            _mm512_loadu_si512(LANES_ORDER[1].as_ptr().cast()),
        )
    };
    let mut ow0 = 0;
    while ow0 < g.out_w {
        let mut acc = c.init;
        for (kh, &off) in offs.iter().enumerate() {
            let at = off + ow0 * step;
            let left = rows.len().saturating_sub(at);
            // SAFETY: masked loads read only bytes of `rows` (`left` from `at`).
            let (lo, hi) = unsafe {
                (
                    _mm512_maskz_loadu_epi8(byte_mask64(left), base.add(at.min(rows.len()))),
                    _mm512_maskz_loadu_epi8(
                        byte_mask64(left.saturating_sub(64)),
                        base.add((at + 64).min(rows.len())),
                    ),
                )
            };
            for q in 0..c.wq {
                let d = kh * c.wq + q;
                if d >= c.dwords {
                    break;
                }
                let x = _mm512_permutex2var_epi8(lo, c.idx[d], hi);
                for (oc, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_dpbusd_epi32(*a, x, _mm512_set1_epi32(c.w[d][oc]));
                }
            }
        }
        // A loop, not `array::from_fn`: closures do not inherit the target features, and an
        // outlined one kept the accumulators in memory.
        // Indexed, not three zipped iterators: with those this function spilled its constants
        // to the stack once the crate became one code-generation unit (VWW's first layer
        // 0.0062 → 0.0059 ms with the index loop, `scripts/bench-ab-layers.py`).
        let mut v = [_mm512_setzero_si512(); C];
        for j in 0..C {
            if FLOAT {
                v[j] = float_round_512(acc[j], c.scale[j], &ctx.st);
                continue;
            }
            let mut r = c.rq[j].rescale_splat(acc[j]);
            if !ctx.folded {
                r = _mm512_max_epi32(r, _mm512_set1_epi32(ctx.st.lo));
                r = _mm512_min_epi32(r, _mm512_set1_epi32(ctx.st.hi));
                r = _mm512_add_epi32(r, _mm512_set1_epi32(ctx.st.off));
            }
            v[j] = r;
        }
        let n = (g.out_w - ow0).min(16);
        if C == 16 {
            // Channels 4k .. 4k + 4 of the 16 pixels in `q[k]`, as `LANES_ORDER` lays out 8.
            let mut q = [_mm512_setzero_si512(); 4];
            for (qk, four) in q.iter_mut().zip(v.chunks_exact(4)) {
                let &[a, b, d, e] = four else { continue };
                *qk = if FLOAT {
                    let st = &ctx.st;
                    float_floor_512(
                        _mm512_packs_epi16(float_offset_512(a, b, st), float_offset_512(d, e, st)),
                        st,
                    )
                } else {
                    _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(d, e))
                };
            }
            for (j, order) in LANES16_ORDER.iter().enumerate() {
                if n <= 4 * j {
                    break;
                }
                // SAFETY: 64 bytes.
                let order = unsafe { _mm512_loadu_si512(order.as_ptr().cast()) };
                let lo = _mm512_permutex2var_epi8(q[0], order, q[1]);
                let hi = _mm512_permutex2var_epi8(q[2], order, q[3]);
                // SAFETY: pixels `ow0 + 4j .. ow0 + min(n, 4j + 4)` of the row: their 16 bytes
                // each inside the row's `out_w · 16` (caller); the mask writes only those.
                unsafe {
                    _mm512_mask_storeu_epi8(
                        out.add(16 * (ow0 + 4 * j)),
                        byte_mask64(16 * (n - 4 * j).min(4)),
                        _mm512_mask_blend_epi8(LANES16_HIGH, lo, hi),
                    );
                }
            }
            ow0 += 16;
            continue;
        }
        let (p0, p1) = if FLOAT {
            let st = &ctx.st;
            (
                float_floor_512(
                    _mm512_packs_epi16(
                        float_offset_512(v[0], v[1], st),
                        float_offset_512(v[2], v[3], st),
                    ),
                    st,
                ),
                float_floor_512(
                    _mm512_packs_epi16(
                        float_offset_512(v[4], v[5], st),
                        float_offset_512(v[6], v[7], st),
                    ),
                    st,
                ),
            )
        } else {
            (
                _mm512_packs_epi16(
                    _mm512_packs_epi32(v[0], v[1]),
                    _mm512_packs_epi32(v[2], v[3]),
                ),
                _mm512_packs_epi16(
                    _mm512_packs_epi32(v[4], v[5]),
                    _mm512_packs_epi32(v[6], v[7]),
                ),
            )
        };
        // SAFETY: pixels `ow0 .. ow0 + n` of the row: `8n` bytes at `8·ow0` inside the row's
        // `out_w · 8` (caller); the masked stores write only those.
        unsafe {
            let dst = out.add(8 * ow0);
            _mm512_mask_storeu_epi8(
                dst,
                byte_mask64(8 * n.min(8)),
                _mm512_permutex2var_epi8(p0, order0, p1),
            );
            if n > 8 {
                _mm512_mask_storeu_epi8(
                    dst.add(64),
                    byte_mask64(8 * (n - 8)),
                    _mm512_permutex2var_epi8(p0, order1, p1),
                );
            }
        }
        ow0 += 16;
    }
}

/// One output row of [`gemm_window`] with 8 channels, two pixels per vector: lanes 0–7 the
/// even pixel, 8–15 the odd one (one merged broadcast of the two windows' dwords per
/// `vpdpbusd`), so the products and the output stage do no work on empty lanes and each pair's
/// 16 output bytes are one store. Needs [`Ctx::simple`] (the vector output stage for every
/// lane: the scalar fallback would read lane `l`'s constants at channel `l`).
///
/// # Safety
/// As [`gemm_window`]'s tiles: `rows` the row buffers of this output row (`row_len` bytes
/// each, windows of `4·wq` bytes per segment at `offs`); `w` the packed block with lanes 8–15
/// repeating 0–7; `out` writable for `out_w · 8` bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn window_pairs_row(
    ctx: &Ctx,
    rows: &[i8],
    wq: usize,
    offs: &[usize],
    w: *const i32,
    init: &[__m512i; 4],
    rq: &Requant16,
    out: *mut i8,
) {
    let g = &ctx.plan.g;
    let step = g.stride_w * g.in_c;
    let base = rows.as_ptr().cast::<i8>();
    let mut ow0 = 0;
    while ow0 < g.out_w {
        // Row `r` of the tile: pixels `ow0 + 2r` and the next (the last pixel repeated past the
        // row's end, and its outputs not stored).
        let last = g.out_w - 1;
        let a: [*const i8; MR] =
            core::array::from_fn(|r| base.wrapping_add((ow0 + 2 * r).min(last) * step));
        let b: [*const i8; MR] =
            core::array::from_fn(|r| base.wrapping_add((ow0 + 2 * r + 1).min(last) * step));
        let mut acc = [init[0]; MR];
        let mut acc_odd = [_mm512_setzero_si512(); MR];
        // Dword `q` of segment `off` of every row into `set`, the weights at `wp`.
        let accumulate = |set: &mut [__m512i; MR], off: usize, q: usize, wp: *const i32| {
            // SAFETY: dword `q` of the packed block's segment (caller), aligned.
            let wv = unsafe { _mm512_load_si512(wp.cast()) };
            for (r, s) in set.iter_mut().enumerate() {
                // SAFETY: dword `q` of segment `off` of both windows: inside the row buffers
                // (caller).
                let (da, db) = unsafe {
                    (
                        a[r].add(off + 4 * q).cast::<i32>().read_unaligned(),
                        b[r].add(off + 4 * q).cast::<i32>().read_unaligned(),
                    )
                };
                let x = _mm512_mask_set1_epi32(_mm512_set1_epi32(da), 0xff00, db);
                *s = _mm512_dpbusd_epi32(*s, x, wv);
            }
        };
        let mut wp = w;
        for &off in offs {
            // Odd dwords into a second set: six chains alone wait on the `vpdpbusd` latency.
            let mut q = 0;
            while q + 1 < wq {
                accumulate(&mut acc, off, q, wp);
                // SAFETY: the next dword row of the packed block.
                accumulate(&mut acc_odd, off, q + 1, unsafe { wp.add(16) });
                // SAFETY: stays within (or one past) the packed block.
                wp = unsafe { wp.add(32) };
                q += 2;
            }
            if q < wq {
                accumulate(&mut acc, off, q, wp);
                // SAFETY: as above.
                wp = unsafe { wp.add(16) };
            }
        }
        for r in 0..MR {
            let px = ow0 + 2 * r;
            if px > last {
                break;
            }
            let lanes = if px < last { 16 } else { 8 };
            let v = _mm512_add_epi32(acc[r], acc_odd[r]);
            // SAFETY: pixels `px` (and `px + 1` when 16 lanes) of the row: `lanes` bytes at
            // `px · 8` inside the row's `out_w · 8` (caller).
            unsafe { store16(ctx, v, rq, 0, lanes, out.add(px * 8)) };
        }
        ow0 += 2 * MR;
    }
}

// ---------------------------------------------------------------------------------------------
// Small groups (4 or 8 channels per group, in and out)
// ---------------------------------------------------------------------------------------------

/// # Safety
/// AVX-512 VNNI available; `ctx` built by [`conv2d_s8`] for the `SmallGroups` kind (`cpg == opg`
/// is 4 or 8); `output` has the plan's length.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn small_groups(_t: Avx512Vnni, ctx: &Ctx, output: &mut [i8]) {
    // SAFETY: forwarded.
    unsafe {
        match ctx.plan.cpg {
            4 => small_groups_n::<1>(ctx, output),
            _ => small_groups_n::<2>(ctx, output),
        }
    }
}

/// The general tile of [`small_groups_n`]: `rows ≤ MR_GROUPS` pixels from `m0` (the last
/// repeated to fill the tile), every window computed and every tap tested; taps outside the
/// input read the input zero point.
///
/// # Safety
/// As [`small_groups_n`]; `m0 + rows ≤` the image's pixels, `rows ≥ 1`; `packed` the block's
/// packed weights (for channels `oc .. oc + in_mask`'s bytes).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn small_groups_tile<const Q: usize>(
    ctx: &Ctx,
    b: usize,
    m0: usize,
    rows: usize,
    packed: *const i32,
    idx: &[[__m512i; 4]; Q],
    init: &[__m512i; 4],
    in_mask: u64,
    pad_x: __m512i,
    flip: __m512i,
    oc: usize,
) -> [[__m512i; 4]; MR_GROUPS] {
    let g = &ctx.plan.g;
    let c = g.out_c;
    let in_px = g.in_w * c;
    let x = ctx.input.as_ptr();
    let mut acc = [*init; MR_GROUPS];
    let mut win = [(0isize, 0usize, 0usize, 0isize, 0usize, 0usize); MR_GROUPS];
    for (r, wr) in win.iter_mut().enumerate() {
        let m = m0 + r.min(rows - 1);
        let (oh, ow) = (m / g.out_w, m % g.out_w);
        let (ih0, kh0, kh1) =
            S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
        let (iw0, kw0, kw1) =
            S8Plan::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
        *wr = (ih0, kh0, kh1, iw0, kw0, kw1);
    }
    let mut w = packed;
    for kh in 0..g.kernel_h {
        for kw in 0..g.kernel_w {
            let mut xv = [pad_x; MR_GROUPS];
            for (r, v) in xv.iter_mut().enumerate() {
                let (ih0, kh0, kh1, iw0, kw0, kw1) = win[r];
                if (kh0..kh1).contains(&kh) && (kw0..kw1).contains(&kw) {
                    let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                    let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                    // SAFETY: (b, ih, iw) is inside the input; the mask keeps the
                    // load within channels `oc .. oc + n` of that pixel.
                    let raw = unsafe {
                        _mm512_maskz_loadu_epi8(
                            in_mask,
                            x.add((b * g.in_h + ih) * in_px + iw * c + oc),
                        )
                    };
                    *v = _mm512_xor_si512(raw, flip);
                }
            }
            for idx_q in idx {
                let mut wv = [_mm512_setzero_si512(); 4];
                for (j, v) in wv.iter_mut().enumerate() {
                    // SAFETY: inside the packed block of `k_pad/4 · 64` dwords.
                    *v = unsafe { _mm512_load_si512(w.add(16 * j).cast()) };
                }
                for (a_r, x_r) in acc.iter_mut().zip(&xv) {
                    for ((a, v), ix) in a_r.iter_mut().zip(&wv).zip(idx_q) {
                        let xs = _mm512_permutexvar_epi32(*ix, *x_r);
                        *a = _mm512_dpbusd_epi32(*a, xs, *v);
                    }
                }
                // SAFETY: stays within (or one past) the packed block.
                w = unsafe { w.add(64) };
            }
        }
    }
    acc
}

/// Most taps of [`small_groups_interior`]'s offset table (5×5).
const INTERIOR_MAX_TAPS: usize = 25;

/// One tile of [`MR_GROUPS`] adjacent output pixels of one output row whose windows lie inside
/// the input: every tap is a load at a fixed offset from the pixel's window corner, so the loop
/// has no window arithmetic and no per-tap bounds tests, and the 16 accumulators stay in
/// registers. The general tile loop computes each pixel's window (a division) and tests every
/// tap of every pixel, and spilled its accumulators: it ran ResNeXt's 4-channels-per-group
/// layer at 84 G MAC/s (`mote bench grouped_conv_int8.mote --per-op`, Zen 5). The sums are
/// the general loop's (the same products, the taps in the same order).
///
/// # Safety
/// AVX-512 VNNI; for every tap offset `o` in `offs` and `r < MR_GROUPS`, `base + o + r·step`
/// readable for the bytes of `in_mask`; `w` the block's packed weights (`offs.len() · Q · 64`
/// dwords, 64-byte aligned).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn small_groups_interior<const Q: usize>(
    base: *const i8,
    step: usize,
    offs: &[usize],
    w: *const i32,
    idx: &[[__m512i; 4]; Q],
    init: &[__m512i; 4],
    in_mask: u64,
    flip: __m512i,
) -> [[__m512i; 4]; MR_GROUPS] {
    let mut acc = [*init; MR_GROUPS];
    let mut w = w;
    for &o in offs {
        for idx_q in idx {
            let mut wv = [_mm512_setzero_si512(); 4];
            for (j, v) in wv.iter_mut().enumerate() {
                // SAFETY: inside the packed block (caller), 64-byte aligned.
                *v = unsafe { _mm512_load_si512(w.add(16 * j).cast()) };
            }
            for (r, a_r) in acc.iter_mut().enumerate() {
                // SAFETY: the tap of pixel `r` (caller); the mask keeps the load in its channels.
                let x = unsafe { _mm512_maskz_loadu_epi8(in_mask, base.add(o + r * step)) };
                let x = _mm512_xor_si512(x, flip);
                for ((a, v), ix) in a_r.iter_mut().zip(&wv).zip(idx_q) {
                    *a = _mm512_dpbusd_epi32(*a, _mm512_permutexvar_epi32(*ix, x), *v);
                }
            }
            // SAFETY: stays within (or one past) the packed block.
            w = unsafe { w.add(64) };
        }
    }
    acc
}

/// `Q = cpg / 4` dwords of input per group and tap.
///
/// # Safety
/// As [`small_groups`], with `Q = cpg / 4`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn small_groups_n<const Q: usize>(ctx: &Ctx, output: &mut [i8]) {
    let pl = &ctx.plan;
    let g = &pl.g;
    let (cpg, k) = (pl.cpg, pl.k_len);
    let c = g.out_c; // == in_c
    let zp = (-ctx.p.input_offset) as i8;
    let pad_x = _mm512_set1_epi8(zp ^ i8::MIN);
    let flip = _mm512_set1_epi8(i8::MIN);
    // idx[q][j], lane l: the input dword of output channel 16j + l's group, dword q.
    let mut idx = [[_mm512_setzero_si512(); 4]; Q];
    for (q, row) in idx.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let mut d = [0i32; 16];
            for (l, e) in d.iter_mut().enumerate() {
                *e = (((16 * j + l) / cpg) * Q + q) as i32;
            }
            // SAFETY: `d` holds 16 i32.
            *v = unsafe { _mm512_loadu_si512(d.as_ptr().cast()) };
        }
    }
    let mut packed = Aligned([MaybeUninit::<i32>::uninit(); PACK_DWORDS]);
    let packed = packed.0.as_mut_ptr().cast::<i32>();
    let pixels = g.out_h * g.out_w;
    let in_px = g.in_w * c;
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();
    // The interior: output rows `oh_lo .. oh_hi` and columns `ow_lo .. ow_hi` whose windows lie
    // inside the input, and the taps' offsets from a window's corner.
    let inside = |len: usize, stride: usize, pad: usize, dil: usize, kk: usize, outs: usize| {
        let lo = pad.div_ceil(stride.max(1));
        let span = (kk - 1) * dil;
        let hi = if len + pad > span {
            ((len + pad - span - 1) / stride.max(1) + 1).min(outs)
        } else {
            0
        };
        (lo, hi.max(lo))
    };
    let (oh_lo, oh_hi) = inside(
        g.in_h,
        g.stride_h,
        g.pad_top,
        g.dilation_h,
        g.kernel_h,
        g.out_h,
    );
    let (ow_lo, ow_hi) = inside(
        g.in_w,
        g.stride_w,
        g.pad_left,
        g.dilation_w,
        g.kernel_w,
        g.out_w,
    );
    let taps = g.kernel_h * g.kernel_w;
    let mut tap_store = [0usize; INTERIOR_MAX_TAPS];
    let tap_offs = pl.tap_offsets((g.in_w * c, c), &mut tap_store);
    let interior_ok = taps <= INTERIOR_MAX_TAPS;
    let mut oc = 0;
    while oc < c {
        let n = (c - oc).min(64);
        let nv = n.div_ceil(16);
        let in_mask = byte_mask64(n);
        // SAFETY: rows `oc .. oc + n` of `k` bytes; `k_pad · 64 ≤ 4 · PACK_DWORDS` (checked).
        let sums = unsafe {
            pack(
                ctx.weights.as_ptr().add(oc * k),
                k,
                n,
                4,
                WeightBytes::Signed,
                packed,
            )
        };
        // SAFETY: channels `oc .. oc + n ≤ out_c`, `nv = ⌈n/16⌉`.
        let (init, rq) = unsafe { signed_block_consts(ctx, oc, n, nv, &sums) };
        for b in 0..g.batch {
            let mut m0 = 0;
            // The output row and column of pixel `m0`.
            let (mut oh, mut ow) = (0, 0);
            while m0 < pixels {
                let rows = (pixels - m0).min(MR_GROUPS);
                let interior = interior_ok
                    && rows == MR_GROUPS
                    && (oh_lo..oh_hi).contains(&oh)
                    && ow >= ow_lo
                    && ow + MR_GROUPS <= ow_hi;
                let acc = if interior {
                    let ih0 = oh * g.stride_h - g.pad_top;
                    let iw0 = ow * g.stride_w - g.pad_left;
                    // SAFETY: the window corner of pixel `(b, oh, ow)` and every tap of the four
                    // pixels lie inside image `b` (interior ranges); channels `oc .. oc + n`;
                    // `packed` holds `taps · Q · 64` dwords of this block.
                    unsafe {
                        small_groups_interior::<Q>(
                            x.add((b * g.in_h + ih0) * in_px + iw0 * c + oc),
                            g.stride_w * c,
                            tap_offs,
                            packed.cast_const(),
                            &idx,
                            &init,
                            in_mask,
                            flip,
                        )
                    }
                } else {
                    // SAFETY: as the interior's, with every window checked.
                    unsafe {
                        small_groups_tile::<Q>(
                            ctx,
                            b,
                            m0,
                            rows,
                            packed.cast_const(),
                            &idx,
                            &init,
                            in_mask,
                            pad_x,
                            flip,
                            oc,
                        )
                    }
                };
                ow += MR_GROUPS;
                while ow >= g.out_w && g.out_w > 0 {
                    ow -= g.out_w;
                    oh += 1;
                }
                for (r, a_r) in acc.iter().enumerate().take(rows) {
                    let m = m0 + r;
                    // SAFETY: pixel `(b, m)` exists; channels `oc .. oc + n`.
                    let dst = unsafe { out.add((b * pixels + m) * c + oc) };
                    if ctx.folded {
                        // SAFETY: `n ≤ 16·nv` bytes of this pixel's output channels; `rq` built
                        // for this block.
                        unsafe { store_row_folded(&a_r[..nv.min(4)], &rq, n, dst) };
                        continue;
                    }
                    if ctx.float {
                        // SAFETY: `n ≤ 16·nv` bytes of this pixel's output channels
                        // `oc .. oc + n`.
                        unsafe { store_row_float(ctx, &a_r[..nv.min(4)], oc, n, dst) };
                        continue;
                    }
                    for (j, a) in a_r.iter().enumerate().take(nv) {
                        let lanes = (n - 16 * j).min(16);
                        // SAFETY: `lanes` bytes of this pixel's output channels.
                        unsafe { store16(ctx, *a, &rq[j], oc + 16 * j, lanes, dst.add(16 * j)) };
                    }
                }
                m0 += MR_GROUPS;
            }
        }
        oc += n;
    }
}

// ---------------------------------------------------------------------------------------------
// Depthwise
// ---------------------------------------------------------------------------------------------

/// # Safety
/// AVX-512 VNNI available; `ctx` built by [`conv2d_s8`] for the `Depthwise` kind; `output` has
/// the plan's length.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")]
unsafe fn depthwise(_t: Avx512Vnni, ctx: &Ctx, output: &mut [i8]) {
    let pl = &ctx.plan;
    let g = &pl.g;
    let c = g.in_c;
    let taps = pl.taps;
    let pairs = taps.div_ceil(2);
    // Channels per chunk: the chunk's interleaved weights fill at most DW_DWORDS.
    let chunk = (DW_DWORDS / pairs / 32 * 32).clamp(32, 32 * DW_MAX_BLOCKS);
    let mut wbuf = Aligned([0i32; DW_DWORDS]);
    let off16 = _mm512_set1_epi16(ctx.p.input_offset as i16);
    let pixels = g.out_h * g.out_w;
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();
    // Lanes of the unpacked accumulators back to channel order: `lo` holds channels 8ℓ+0..3 of
    // each 128-bit lane ℓ, `hi` channels 8ℓ+4..7.
    let mut un = [[0i32; 16]; 2];
    for (h, u) in un.iter_mut().enumerate() {
        for (i, e) in u.iter_mut().enumerate() {
            let (l, w) = (2 * h + i / 8, i % 8);
            *e = if w < 4 {
                (4 * l + w) as i32
            } else {
                (16 + 4 * l + w - 4) as i32
            };
        }
    }
    // SAFETY: 16 i32 each.
    let (un_a, un_b) = unsafe {
        (
            _mm512_loadu_si512(un[0].as_ptr().cast()),
            _mm512_loadu_si512(un[1].as_ptr().cast()),
        )
    };

    let zero = _mm512_setzero_si512();
    let mut rqs = [Requant16::splat(0, 0); 2 * DW_MAX_BLOCKS];
    let mut biases = [zero; 2 * DW_MAX_BLOCKS];
    let mut c0 = 0;
    while c0 < c {
        let cn = (c - c0).min(chunk);
        let blocks = cn.div_ceil(32);
        // Requantization constants and biases of the chunk's channels, 16 per vector.
        for (h, (rq, bv)) in rqs
            .iter_mut()
            .zip(biases.iter_mut())
            .enumerate()
            .take(2 * blocks)
        {
            let n = cn.saturating_sub(16 * h).min(16);
            let oc = c0 + 16 * h;
            if n > 0 {
                // SAFETY: channels `oc .. oc + n ≤ out_c`.
                unsafe {
                    *rq =
                        Requant16::load(ctx.mults.as_ptr().add(oc), ctx.shifts.as_ptr().add(oc), n)
                            .with_output_offset(ctx.folded_offset());
                    *bv = load_bias(ctx, oc, n);
                }
            }
        }
        // Interleave: block v, pair p: [lo 16 dwords][hi 16 dwords], each dword the i16 pair
        // (w[t = 2p], w[2p + 1]) of one channel.
        for cc in 0..blocks * 32 {
            let (v, c32) = (cc / 32, cc % 32);
            let (l, wi) = (c32 / 8, c32 % 8);
            let (half, lane) = (wi / 4, 4 * l + wi % 4);
            for p in 0..pairs {
                let d = if cc < cn {
                    let row = (c0 + cc) * taps;
                    let w0 = ctx.weights[row + 2 * p];
                    let w1 = if 2 * p + 1 < taps {
                        ctx.weights[row + 2 * p + 1]
                    } else {
                        0
                    };
                    (i32::from(w0) & 0xffff) | (i32::from(w1) << 16)
                } else {
                    0
                };
                wbuf.0[((v * pairs + p) * 2 + half) * 16 + lane] = d;
            }
        }
        let mut tap_ptr = [x; super::MAX_TAPS];
        let mut tap_ok = [0u32; super::MAX_TAPS + 1];
        let mut row_win = (0isize, 0usize, 0usize);
        for b in 0..g.batch {
            for m in 0..pixels {
                let (oh, ow) = (m / g.out_w, m % g.out_w);
                if ow == 0 {
                    row_win =
                        S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
                }
                let (ih0, kh0, kh1) = row_win;
                let (iw0, kw0, kw1) =
                    S8Plan::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
                for kh in 0..g.kernel_h {
                    for kw in 0..g.kernel_w {
                        let t = kh * g.kernel_w + kw;
                        if (kh0..kh1).contains(&kh) && (kw0..kw1).contains(&kw) {
                            let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                            let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                            // SAFETY: (b, ih, iw) is inside the input.
                            tap_ptr[t] =
                                unsafe { x.add(((b * g.in_h + ih) * g.in_w + iw) * c + c0) };
                            tap_ok[t] = u32::MAX;
                        } else {
                            tap_ptr[t] = x;
                            tap_ok[t] = 0;
                        }
                    }
                }
                // SAFETY: pixel `(b, m)` exists; its channels `c0 .. c0 + cn`.
                let dst = unsafe { out.add((b * pixels + m) * c + c0) };
                for v in 0..blocks {
                    let cb = 32 * v;
                    let n = (cn - cb).min(32);
                    let chm = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
                    let mut lo = _mm512_setzero_si512();
                    let mut hi = _mm512_setzero_si512();
                    let wv = &wbuf.0[v * pairs * 32..];
                    for p in 0..pairs {
                        let (t0, t1) = (2 * p, (2 * p + 1).min(taps - 1));
                        // Invalid taps load nothing (mask 0) and add nothing (maskz add); the
                        // odd last tap pairs with itself and a zero weight.
                        // SAFETY: a valid tap's pointer has channels `c0 .. c0 + cn` of a real
                        // pixel and the mask keeps the load within `cb .. cb + n`.
                        let (a, bb) = unsafe {
                            let k0 = chm & tap_ok[t0];
                            let k1 = chm & tap_ok[t1];
                            let a = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(
                                k0,
                                tap_ptr[t0].add(cb),
                            ));
                            let bb = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(
                                k1,
                                tap_ptr[t1].add(cb),
                            ));
                            (
                                _mm512_maskz_add_epi16(k0, a, off16),
                                _mm512_maskz_add_epi16(k1, bb, off16),
                            )
                        };
                        // SAFETY: `wbuf` holds `blocks · pairs · 32` dwords for this chunk.
                        let (wl, wh) = unsafe {
                            (
                                _mm512_load_si512(wv.as_ptr().add(p * 32).cast()),
                                _mm512_load_si512(wv.as_ptr().add(p * 32 + 16).cast()),
                            )
                        };
                        lo = dpwssd_512(lo, _mm512_unpacklo_epi16(a, bb), wl);
                        hi = dpwssd_512(hi, _mm512_unpackhi_epi16(a, bb), wh);
                    }
                    let acc_a = _mm512_permutex2var_epi32(lo, un_a, hi);
                    let acc_b = _mm512_permutex2var_epi32(lo, un_b, hi);
                    let oc = c0 + cb;
                    let na = n.min(16);
                    // SAFETY: channels `oc .. oc + n ≤ out_c`; `dst + cb` has `n` bytes.
                    unsafe {
                        let acc = _mm512_add_epi32(acc_a, biases[2 * v]);
                        store16(ctx, acc, &rqs[2 * v], oc, na, dst.add(cb));
                        if n > 16 {
                            let acc = _mm512_add_epi32(acc_b, biases[2 * v + 1]);
                            store16(ctx, acc, &rqs[2 * v + 1], oc + 16, n - 16, dst.add(cb + 16));
                        }
                    }
                }
            }
        }
        c0 += cn;
    }
}

// ---------------------------------------------------------------------------------------------
// f32 GEMM tile (`conv2d_f32_avx512`; the driver is `avx2.rs`'s `gemm_f32`)
// ---------------------------------------------------------------------------------------------

/// [`tile_f32_avx512`] computing only the tile's `rows` pixels: a layer whose pixels are not a
/// multiple of [`MR_F32`] ends with a partial tile, whose empty rows cost as much as full ones
/// (7 × 7 = 49 pixels, the last stage of MobileNetV2 and ResNeXt-50: 54 rows computed).
///
/// # Safety
/// As [`tile_f32_avx512`]; `1 ≤ rows ≤ MR_F32` (only the first `rows` segment pointers are read).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn tile_f32_avx512_rows<const NV: usize>(
    segs: impl Segments<f32, MR_F32>,
    cpg: usize,
    w: *const f32,
    init: &[__m256; 4],
    clamp: Option<(f32, f32)>,
    out_rows: &[*mut f32; MR_F32],
    rows: usize,
    n: usize,
) {
    let a = (segs, cpg, w, init, clamp, out_rows, rows, n);
    // SAFETY: forwarded from the caller.
    unsafe {
        match rows {
            1 => tile_f32_avx512::<NV, 1>(a),
            2 => tile_f32_avx512::<NV, 2>(a),
            3 => tile_f32_avx512::<NV, 3>(a),
            4 => tile_f32_avx512::<NV, 4>(a),
            5 => tile_f32_avx512::<NV, 5>(a),
            _ => tile_f32_avx512::<NV, MR_F32>(a),
        }
    }
}

/// One f32 tile of `conv2d_f32_avx512`: `R ≤` [`MR_F32`] pixels × `16·NV` channels (`NV` = 1
/// or 2) in `R·NV` zmm accumulators; per depth step `NV` weight loads, one broadcast per pixel and
/// `R·NV` FMAs. The packed weights are `[k][16·NV]` (channels past `n` zero); `init` holds the
/// biases as four 8-lane halves; a clamp activation is applied before the store (others by the
/// driver after).
///
/// # Safety
/// AVX-512 F/BW/VL and FMA available; every segment pointer readable for `cpg` floats; `w`
/// readable for `segs.count() · cpg · 16 · NV` floats; `out_rows[r]` writable for `n ≤ 16·NV`
/// floats for `r < rows`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
#[allow(clippy::type_complexity)]
unsafe fn tile_f32_avx512<const NV: usize, const R: usize>(
    (segs, cpg, mut w, init, clamp, out_rows, rows, n): (
        impl Segments<f32, MR_F32>,
        usize,
        *const f32,
        &[__m256; 4],
        Option<(f32, f32)>,
        &[*mut f32; MR_F32],
        usize,
        usize,
    ),
) {
    // Two 8-lane halves into one 16-lane vector (`vinsertf64x4`: AVX-512 F, no DQ needed).
    let join = |a: __m256, b: __m256| {
        _mm512_castpd_ps(_mm512_insertf64x4::<1>(
            _mm512_castps_pd(_mm512_castps256_ps512(a)),
            _mm256_castps_pd(b),
        ))
    };
    let halves = [join(init[0], init[1]), join(init[2], init[3])];
    let mut acc = [[halves[0]; NV]; MR_F32];
    for row in acc.iter_mut() {
        for (a, h) in row.iter_mut().zip(&halves) {
            *a = *h;
        }
    }
    for si in 0..segs.count() {
        let seg = segs.get(si);
        for c in 0..cpg {
            let mut wv = [_mm512_setzero_ps(); NV];
            for (j, v) in wv.iter_mut().enumerate() {
                // SAFETY: `16·NV` floats inside the packed block (caller).
                *v = unsafe { _mm512_loadu_ps(w.add(16 * j)) };
            }
            for (r, row) in acc.iter_mut().enumerate().take(R) {
                // SAFETY: float `c < cpg` of the segment (caller), row `r < R ≤ rows`.
                let xv = _mm512_set1_ps(unsafe { *seg[r].add(c) });
                for (a, v) in row.iter_mut().zip(&wv) {
                    *a = _mm512_fmadd_ps(xv, *v, *a);
                }
            }
            // SAFETY: stays within (or one past) the packed block.
            w = unsafe { w.add(16 * NV) };
        }
    }
    let bounds = clamp.map(|(l, h)| (_mm512_set1_ps(l), _mm512_set1_ps(h)));
    for (r, row) in acc.iter().enumerate().take(rows.min(R)) {
        for (j, a) in row.iter().enumerate() {
            let lanes = n.saturating_sub(16 * j).min(16);
            if lanes == 0 {
                continue;
            }
            // `max(v, lo)` returns `lo` for a NaN `v`, like the scalar `max` (as the AVX2 tile).
            let v = match bounds {
                Some((l, h)) => _mm512_min_ps(_mm512_max_ps(*a, l), h),
                None => *a,
            };
            // SAFETY: `lanes` floats from channel `16j` of this row's block (caller); the mask
            // stores only those.
            unsafe { _mm512_mask_storeu_ps(out_rows[r].add(16 * j), lane_mask16(lanes), v) };
        }
    }
}
