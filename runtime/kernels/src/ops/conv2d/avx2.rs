//! int8 convolution with AVX2: `conv2d_s8_avx2`.
//!
//! Without VNNI there is no exact byte multiply-add (`vpmaddubsw` saturates its 16-bit pair
//! sums: `255·127·2 > 32767`), so both operands are sign-extended to 16 bits and multiplied with
//! `vpmaddwd`, which sums two products into 32 bits exactly.
//!
//! - **GEMM** (dense, 1×1, grouped): as in the AVX-512 file, but the packed weights are
//!   `[K/2][8·NV]` dwords, each the i16 pair `(w[k], w[k+1])` of one channel, and the input is
//!   broadcast as an i16 pair. Tiles are 6 pixels × up to 16 channels. Each tile first widens
//!   its rows' depth to i16 into a stack buffer (one `vpmovsxbw` per 16 bytes), so every pair
//!   is then broadcast straight from memory (`vpbroadcastd ymm, m32`, a load without an ALU
//!   operation) and the ALU does only the `vpmaddwd` and `vpaddd` of the products: widening
//!   and shuffling each pair in registers cost about as much again. The sums are `Σ w·x` (raw
//!   int8 input) and the bias absorbs `input_offset · Σ w`.
//! - **Small groups** (4 or 8 channels per group in and out, ResNeXt; channels a multiple of
//!   16): block-diagonal. One widened 16-byte load holds the input of 16 output channels'
//!   groups (two i16 halves of 4 pairs each); `vpshufd` hands each output lane its own group's
//!   pair within its half, so output vector `a` holds channels `4a..4a+4` of each half (swapped
//!   back into order before the output stage), and `vpmaddwd` multiplies. Per tap and pixel: one
//!   load, 4 (8 for 8-channel groups) shuffles, multiplies and adds for 16 channels, where the
//!   GEMM path would run one 4- or 8-channel group per tile, half or all of its lanes idle.
//! - **Depthwise**: channels in vectors of 16, tap pairs interleaved as i16, `vpmaddwd`.

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::{Conv2dS8Params, RowOffsets, S8Kind, S8Plan, Segments};
use crate::arch::x86::{
    float_pack_16_avx2, float_round_avx2, maskload_i32_avx2, pack_16_avx2, requant_float_avx2,
    simple_requant, Avx2, OutputStage, Requant8, Requant8Simple,
};
use crate::ops::util::requantize_output;
use crate::quant::Rounding;

/// Pixels per GEMM tile.
const MR: usize = 6;
/// Most vectors of 8 channels per GEMM tile: `MR · NV` accumulators and `NV` weight vectors
/// stay within the 16 ymm registers (6 × 2 + 2 and a broadcast; 4 × 3 spilled).
const NV_MAX: usize = 2;
/// Longest padded depth of the GEMM path (the packed weights of one vector fill the buffer).
const MAX_K: usize = PACK_DWORDS / 4;
/// The most packed weights of one block (64 KiB): the depth limit.
const PACK_DWORDS: usize = 16 * 1024;
/// The GEMM's packed weights buffer, several blocks (a super-block): 128 KiB on the stack, so
/// each tile widens its rows once for up to that much weight data (64 KiB measured ResNeXt-29
/// 1.09 times the time of 128 KiB, ResNeXt-50 1.05; 16 KiB 1.4 times).
const SUPER_DWORDS: usize = 32 * 1024;
/// Largest padded depth gathered into an im2col row.
const MAX_IM2COL_K: usize = 1024;
/// Longest row of input zero points.
const MAX_ZERO_ROW: usize = 4096;
/// Depthwise interleaved weights: 32 KiB.
const DW_DWORDS: usize = 8 * 1024;

#[repr(C, align(32))]
struct Aligned<T>(T);

pub(super) struct Ctx<'a> {
    plan: S8Plan,
    st: OutputStage,
    /// Double rounding with [`simple_requant`] parameters: [`Requant8Simple`] applies.
    simple: bool,
    /// [`Rounding::Float`] with [`OutputStage::float_exact`]: [`requant_float_avx2`] applies.
    float: bool,
    p: &'a Conv2dS8Params,
    input: &'a [i8],
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    mults: &'a [i32],
    shifts: &'a [i32],
}

/// `conv2d_s8_avx2`: see the module documentation. Returns `false` without writing when AVX2 is
/// unavailable or the call is outside the covered range.
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
    let Some(ctx) = prepare(p, input, weights, bias, mults, shifts, output.len()) else {
        return false;
    };
    let plan = &ctx.plan;
    // SAFETY: `tok` proves AVX2 and FMA; `prepare` checked every slice length against the
    // shapes, and the stack buffers' limits.
    unsafe {
        match plan.kind {
            S8Kind::Depthwise => depthwise(tok, &ctx, output),
            S8Kind::SmallGroups
                if plan.g.out_c.is_multiple_of(16)
                    && plan.g.out_c <= MAX_ZERO_ROW
                    && plan.g.out_c / 16 * plan.taps * plan.cpg * 8 <= PACK_DWORDS =>
            {
                small_groups(tok, &ctx, output)
            }
            S8Kind::SmallGroups | S8Kind::Gemm => gemm::<Pairs>(&ctx, output),
        }
    }
    true
}

impl Ctx<'_> {
    /// How the call runs.
    pub(super) fn kind(&self) -> S8Kind {
        self.plan.kind
    }
}

/// Validates a call; `None` when it is outside what this file covers.
pub(super) fn prepare<'a>(
    p: &'a Conv2dS8Params,
    input: &'a [i8],
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    mults: &'a [i32],
    shifts: &'a [i32],
    output_len: usize,
) -> Option<Ctx<'a>> {
    let plan = S8Plan::new(
        p,
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        mults.len(),
        shifts.len(),
        output_len,
    )?;
    let st = OutputStage::new(p.output_offset, p.act_min, p.act_max)?;
    if !crate::arch::x86::shifts_in_vector_range(shifts) {
        return None;
    }
    let k_pad = plan.k_len.next_multiple_of(4);
    let fits = match plan.kind {
        S8Kind::Depthwise => true,
        _ if plan.cpg % 4 == 0 => k_pad * 4 <= PACK_DWORDS && plan.cpg <= MAX_ZERO_ROW,
        _ => k_pad <= MAX_IM2COL_K,
    };
    if !fits {
        return None;
    }
    Some(Ctx {
        plan,
        st,
        simple: p.rounding == Rounding::Double && simple_requant(mults, shifts),
        float: p.rounding == Rounding::Float && st.float_exact(),
        p,
        input,
        weights,
        bias,
        mults,
        shifts,
    })
}

/// Requantizes 8 accumulators (channels `oc .. oc + n`, `n ≤ 8`) into `out[..n]` (as i32 lanes
/// in `[-128, 127]`), with the scalar output stage for single rounding and overflowing lanes.
///
/// # Safety
/// AVX2 available; `oc + n ≤ out_c`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn requant8(ctx: &Ctx, acc: __m256i, oc: usize, n: usize) -> __m256i {
    if ctx.float {
        // SAFETY: `n` scales from channel `oc` exist (caller); the masked load reads only those.
        let scale = unsafe { maskload_i32_avx2(ctx.mults.as_ptr().add(oc), n) };
        return requant_float_avx2(acc, _mm256_castsi256_ps(scale), &ctx.st);
    }
    // SAFETY: `n` multipliers and shifts from channel `oc` exist (caller).
    let rq = unsafe { Requant8::load(ctx.mults.as_ptr().add(oc), ctx.shifts.as_ptr().add(oc), n) };
    if ctx.p.rounding == Rounding::Double {
        let (v, ovf) = rq.apply(acc, &ctx.st);
        if ovf & ((1 << n) - 1) == 0 {
            return v;
        }
    }
    let mut a = [0i32; 8];
    // SAFETY: `a` holds 8 i32.
    unsafe { _mm256_storeu_si256(a.as_mut_ptr().cast(), acc) };
    for (i, v) in a.iter_mut().enumerate().take(n) {
        let c = oc + i;
        *v = i32::from(requantize_output(
            *v,
            ctx.mults.get(c).copied().unwrap_or(0),
            ctx.shifts.get(c).copied().unwrap_or(0),
            ctx.p.rounding,
            ctx.p.output_offset,
            ctx.p.act_min,
            ctx.p.act_max,
        ));
    }
    // SAFETY: `a` holds 8 i32.
    unsafe { _mm256_loadu_si256(a.as_ptr().cast()) }
}

/// Requantizes and stores 16 channels (`n ≤ 16` of them) from two accumulators.
///
/// # Safety
/// AVX2 available; `dst` writable for `n` bytes; `oc + n ≤ out_c`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store16(ctx: &Ctx, a: __m256i, b: __m256i, oc: usize, n: usize, dst: *mut i8) {
    // SAFETY: channel ranges inside `out_c` (caller).
    let (va, vb) = unsafe {
        let va = requant8(ctx, a, oc, n.min(8));
        let vb = if n > 8 {
            requant8(ctx, b, oc + 8, n - 8)
        } else {
            va
        };
        (va, vb)
    };
    let bytes = pack_16_avx2(va, vb);
    // SAFETY: `n` bytes writable at `dst` (caller).
    unsafe { store_low(bytes, n, dst) };
}

/// Stores the first `n ≤ 16` bytes of `bytes` at `dst` (the outputs of [`store16`],
/// [`store16_with`] and [`store16_float`]).
///
/// # Safety
/// AVX2 available; `dst` writable for `n` bytes.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store_low(bytes: __m128i, n: usize, dst: *mut i8) {
    if n >= 16 {
        // SAFETY: 16 bytes writable (caller).
        unsafe { _mm_storeu_si128(dst.cast(), bytes) };
    } else if n == 8 {
        // SAFETY: 8 bytes writable (caller). (8-channel layers: VWW's first; the copy below
        // is a `memcpy` call.)
        unsafe { _mm_storel_epi64(dst.cast(), bytes) };
    } else {
        let mut t = [0i8; 16];
        // SAFETY: `t` holds 16 bytes; `n < 16` bytes writable at `dst` (caller).
        unsafe {
            _mm_storeu_si128(t.as_mut_ptr().cast(), bytes);
            core::ptr::copy_nonoverlapping(t.as_ptr(), dst, n);
        }
    }
}

/// The per-block constants of [`Requant8Simple`] for channels `oc .. oc + n` (`n ≤ 16`), when
/// the call is simple (`None` otherwise: [`store16`] then loads [`Requant8`] per vector).
///
/// # Safety
/// AVX2 available; `oc + n ≤ out_c`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn simple_consts(ctx: &Ctx, oc: usize, n: usize) -> Option<[Requant8Simple; 2]> {
    if !ctx.simple {
        return None;
    }
    let (m, s) = (ctx.mults.as_ptr(), ctx.shifts.as_ptr());
    // SAFETY: channels `oc .. oc + n ≤ out_c` of the multipliers and shifts (caller).
    unsafe {
        Some([
            Requant8Simple::load(m.add(oc), s.add(oc), n.min(8)),
            Requant8Simple::load(
                m.add(oc + 8.min(n)),
                s.add(oc + 8.min(n)),
                n.saturating_sub(8),
            ),
        ])
    }
}

/// [`store16`] with the constants of [`simple_consts`] when there are some.
///
/// # Safety
/// As [`store16`]; `rq` from [`simple_consts`] for channels `oc ..`.
#[target_feature(enable = "avx2,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn store16_with(
    ctx: &Ctx,
    rq: Option<&[Requant8Simple; 2]>,
    a: __m256i,
    b: __m256i,
    oc: usize,
    n: usize,
    dst: *mut i8,
) {
    let Some(rq) = rq else {
        if ctx.float {
            // SAFETY: forwarded.
            return unsafe { store16_float(ctx, a, b, oc, n, dst) };
        }
        // SAFETY: forwarded.
        return unsafe { store16(ctx, a, b, oc, n, dst) };
    };
    let bytes = pack_16_avx2(rq[0].apply(a, &ctx.st), rq[1].apply(b, &ctx.st));
    // SAFETY: `n` bytes writable at `dst` (caller).
    unsafe { store_low(bytes, n, dst) };
}

/// [`store16`] for a call of [`Rounding::Float`] ([`Ctx::float`]), inline in the tiles (through
/// [`requant8`], out of line, MobileNetV2's 16-deep 1×1 layer took 1.4 × the double-rounding
/// time under `--isa avx2`).
///
/// # Safety
/// As [`store16`].
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store16_float(ctx: &Ctx, a: __m256i, b: __m256i, oc: usize, n: usize, dst: *mut i8) {
    let p = ctx.mults.as_ptr().wrapping_add(oc);
    // SAFETY: `n` scales from channel `oc` exist (caller); the masked loads read only those.
    let (sa, sb) = unsafe {
        (
            _mm256_castsi256_ps(maskload_i32_avx2(p, n.min(8))),
            _mm256_castsi256_ps(maskload_i32_avx2(p.wrapping_add(8), n.saturating_sub(8))),
        )
    };
    let st = &ctx.st;
    let bytes = float_pack_16_avx2(float_round_avx2(a, sa, st), float_round_avx2(b, sb, st), st);
    // SAFETY: `n` bytes writable at `dst` (caller).
    unsafe { store_low(bytes, n, dst) };
}

/// Loads `n ≤ 8` biases at channel `oc` (zeros without a bias).
///
/// # Safety
/// AVX2 available; `oc + n ≤ out_c`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load_bias(ctx: &Ctx, oc: usize, n: usize) -> __m256i {
    match ctx.bias {
        // SAFETY: the bias has `out_c` entries (plan).
        Some(b) => unsafe { maskload_i32_avx2(b.as_ptr().add(oc), n) },
        None => _mm256_setzero_si256(),
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM
// ---------------------------------------------------------------------------------------------

/// Transposes 8 vectors of 8 dwords.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) fn transpose8(r: [__m256i; 8]) -> [__m256i; 8] {
    let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
    let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
    let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
    let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    let u0 = _mm256_unpacklo_epi64(t0, t2);
    let u1 = _mm256_unpackhi_epi64(t0, t2);
    let u2 = _mm256_unpacklo_epi64(t1, t3);
    let u3 = _mm256_unpackhi_epi64(t1, t3);
    let u4 = _mm256_unpacklo_epi64(t4, t6);
    let u5 = _mm256_unpackhi_epi64(t4, t6);
    let u6 = _mm256_unpacklo_epi64(t5, t7);
    let u7 = _mm256_unpackhi_epi64(t5, t7);
    [
        _mm256_permute2x128_si256::<0x20>(u0, u4),
        _mm256_permute2x128_si256::<0x20>(u1, u5),
        _mm256_permute2x128_si256::<0x20>(u2, u6),
        _mm256_permute2x128_si256::<0x20>(u3, u7),
        _mm256_permute2x128_si256::<0x31>(u0, u4),
        _mm256_permute2x128_si256::<0x31>(u1, u5),
        _mm256_permute2x128_si256::<0x31>(u2, u6),
        _mm256_permute2x128_si256::<0x31>(u3, u7),
    ]
}

/// How the GEMM multiplies bytes: this file's sign-extended i16 pairs and `vpmaddwd`
/// ([`Pairs`]), or `avx2_vnni.rs`'s byte quads and `vpdpbusd`. The driver ([`gemm`]) is the
/// same: each tile first rewrites its rows into a buffer in the form the multiply takes, then
/// broadcasts one dword of a row at a time against packed weight dwords of 8 channels.
///
/// # Safety
/// Every function needs AVX2 and FMA, and the implementation's own instruction set; pointers
/// as documented on the function of this file each one stands for.
pub(super) trait Dot {
    /// Depth values per dword of the packed weights and of a row.
    const STEP: usize;
    /// What `gemm` adds to `input_offset · Σ w` in the accumulators' start, per `Σ w`: the row
    /// buffer holds `x + FLIP` for a raw int8 input `x`, so the sums hold `FLIP · Σ w` too.
    const FLIP: i32;
    /// As [`pack`], in the implementation's weight dwords (`STEP` depth values each).
    unsafe fn pack(src: *const i8, k: usize, n: usize, nv: usize, dst: *mut i32) -> [__m256i; 3];
    /// As [`widen_run`]: `len` input bytes as `len` row values at `dst` (bytes).
    unsafe fn row_run(src: *const i8, len: usize, dst: *mut u8);
    /// As [`widen_dense_window`], `dst` in bytes.
    unsafe fn dense_window(
        src: *const i8,
        step: usize,
        kernel_h: usize,
        row_w: usize,
        dst: *mut u8,
    );
    /// `acc` plus the products of one row dword `x` (broadcast) and weight dwords `w`, summed
    /// per i32 lane.
    unsafe fn mac(acc: __m256i, x: __m256i, w: __m256i) -> __m256i;
}

/// AVX2 without VNNI: i16 pairs, `vpmaddwd` + `vpaddd`.
pub(super) struct Pairs;

impl Dot for Pairs {
    const STEP: usize = 2;
    const FLIP: i32 = 0;

    #[inline(always)]
    unsafe fn pack(src: *const i8, k: usize, n: usize, nv: usize, dst: *mut i32) -> [__m256i; 3] {
        // SAFETY: forwarded (AVX2 available: every caller is compiled with it).
        unsafe { pack(src, k, n, nv, dst) }
    }

    #[inline(always)]
    unsafe fn row_run(src: *const i8, len: usize, dst: *mut u8) {
        // SAFETY: forwarded; `len` i16 at `dst` (the row buffer's stride is `2 · k_pad` bytes).
        unsafe { widen_run(src, len, dst.cast()) }
    }

    #[inline(always)]
    unsafe fn dense_window(
        src: *const i8,
        step: usize,
        kernel_h: usize,
        row_w: usize,
        dst: *mut u8,
    ) {
        // SAFETY: forwarded.
        unsafe { widen_dense_window(src, step, kernel_h, row_w, dst.cast()) }
    }

    #[inline(always)]
    unsafe fn mac(acc: __m256i, x: __m256i, w: __m256i) -> __m256i {
        // SAFETY: AVX2 available (caller).
        unsafe { _mm256_add_epi32(acc, _mm256_madd_epi16(x, w)) }
    }
}

/// Packs `n ≤ 8·nv` channels (rows of `k` bytes from `src`) as `[k_pad/2][8·nv]` i16-pair dwords
/// (`k_pad = k` rounded up to 4; lanes past `n` and depth past `k` are 0) and returns `Σ_k w`
/// per channel, 8 per vector.
///
/// # Safety
/// AVX2 available; `src` readable for `n · k` bytes; `dst` writable and 32-byte aligned for
/// `k_pad/2 · 8 · nv` dwords; `1 ≤ nv ≤ 3`.
#[target_feature(enable = "avx2,fma")]
unsafe fn pack(src: *const i8, k: usize, n: usize, nv: usize, dst: *mut i32) -> [__m256i; 3] {
    let k_pad = k.next_multiple_of(4);
    let pairs = k_pad / 2;
    let ones = _mm256_set1_epi16(1);
    let mut sums = [_mm256_setzero_si256(); 3];
    for (j, sum) in sums.iter_mut().enumerate().take(nv) {
        let lanes = n.saturating_sub(8 * j).min(8);
        let mut kk = 0;
        // 16 depth values (8 pairs) of 8 channels at a time.
        while kk + 16 <= k {
            let mut r = [_mm256_setzero_si256(); 8];
            for (l, v) in r.iter_mut().enumerate().take(lanes) {
                // SAFETY: bytes `kk .. kk + 16 ≤ k` of row `8j + l < n`.
                *v = unsafe {
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(src.add((8 * j + l) * k + kk).cast()))
                };
            }
            for (pp, v) in transpose8(r).into_iter().enumerate() {
                *sum = _mm256_add_epi32(*sum, _mm256_madd_epi16(v, ones));
                // SAFETY: pair `kk/2 + pp < pairs`, vector `j < nv` (caller's buffer).
                unsafe { _mm256_store_si256(dst.add(((kk / 2 + pp) * nv + j) * 8).cast(), v) };
            }
            kk += 16;
        }
        // The rest, pair by pair.
        while kk < k_pad {
            let mut d = [0i32; 8];
            for (l, e) in d.iter_mut().enumerate().take(lanes) {
                let row = (8 * j + l) * k;
                let w0 = if kk < k {
                    // SAFETY: bytes below `k` of row `8j + l < n`.
                    i32::from(unsafe { *src.add(row + kk) })
                } else {
                    0
                };
                let w1 = if kk + 1 < k {
                    // SAFETY: as above.
                    i32::from(unsafe { *src.add(row + kk + 1) })
                } else {
                    0
                };
                *e = (w0 & 0xffff) | (w1 << 16);
            }
            // SAFETY: `d` holds 8 i32; pair `kk/2 < pairs` in the caller's buffer.
            unsafe {
                let v = _mm256_loadu_si256(d.as_ptr().cast());
                *sum = _mm256_add_epi32(*sum, _mm256_madd_epi16(v, ones));
                _mm256_store_si256(dst.add((kk / 2 * nv + j) * 8).cast(), v);
            }
            kk += 2;
        }
        debug_assert_eq!(kk / 2, pairs);
    }
    sums
}

/// Widens the tile's rows to i16: row `r`'s depth (`segs` segments of `seg_len` bytes, a multiple
/// of 4, from `ptrs[s][r]`) to `xbuf[r · k_pad ..]`.
///
/// # Safety
/// AVX2 available; every `ptrs[s][r]` readable for `seg_len` bytes; `xbuf` holds `MR · k_pad`
/// i16 with `k_pad ≥ ptrs.len() · seg_len`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn widen_rows<T: Dot>(
    ptrs: &[[*const i8; MR]],
    seg_len: usize,
    k_pad: usize,
    xbuf: *mut u8,
) {
    let value = 4 / T::STEP;
    for r in 0..MR {
        // SAFETY: row `r` of the buffer (caller).
        let mut dst = unsafe { xbuf.add(r * k_pad * value) };
        for seg in ptrs {
            // SAFETY: `seg_len` bytes at `seg[r]` and as many values at `dst` inside the row
            // (caller).
            unsafe {
                T::row_run(seg[r], seg_len, dst);
                dst = dst.add(seg_len * value);
            }
        }
    }
}

/// Sign-extends `len` bytes (a multiple of 4) from `src` to i16 at `dst`.
///
/// # Safety
/// AVX2 available; `src` readable for `len` bytes, `dst` writable for `len` i16.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn widen_run(src: *const i8, len: usize, dst: *mut i16) {
    let mut i = 0;
    // SAFETY: bytes `i .. i + 16 ≤ len` (or 8, 4) of the run, written as as many i16 at `dst`
    // (caller).
    unsafe {
        while i + 16 <= len {
            let v = _mm256_cvtepi8_epi16(_mm_loadu_si128(src.add(i).cast()));
            _mm256_storeu_si256(dst.add(i).cast(), v);
            i += 16;
        }
        if i + 8 <= len {
            let v = _mm_cvtepi8_epi16(_mm_loadl_epi64(src.add(i).cast()));
            _mm_storeu_si128(dst.add(i).cast(), v);
            i += 8;
        }
        if i + 4 <= len {
            let d = src.add(i).cast::<i32>().read_unaligned();
            let v = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(d));
            _mm_storel_epi64(dst.add(i).cast(), v);
        }
    }
}

/// The im2col row of a window inside the input whose kernel rows are runs of `row_w ≤ 16`
/// bytes (the first layers: 3×3 over 3 channels is 9), widened straight from the input: each
/// kernel row is one 16-byte load and one 16-lane store at `dst + kh · row_w`, the next row's
/// store overwriting the first's excess; then the depth's padding `k_len .. k_pad` is zeroed.
/// Replaces the copy into the im2col buffer and its widening (most of such a layer's time
/// besides the multiplies).
///
/// # Safety
/// AVX2 available; 16 bytes readable at `src + kh · step` for `kh < kernel_h`; `dst` writable
/// for `(kernel_h − 1) · row_w + 16` and `k_len + 4` i16, `k_len = kernel_h · row_w`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn widen_dense_window(
    src: *const i8,
    step: usize,
    kernel_h: usize,
    row_w: usize,
    dst: *mut i16,
) {
    // SAFETY: as documented above (caller).
    unsafe {
        for kh in 0..kernel_h {
            let v = _mm256_cvtepi8_epi16(_mm_loadu_si128(src.add(kh * step).cast()));
            _mm256_storeu_si256(dst.add(kh * row_w).cast(), v);
        }
        _mm_storel_epi64(dst.add(kernel_h * row_w).cast(), _mm_setzero_si128());
    }
}

/// One tile: `MR` rows × `NV` vectors of 8 channels over `pairs` i16 pairs of depth, the rows
/// widened by [`widen_rows`] (`k_pad` i16 apart).
///
/// # Safety
/// AVX2 available; `xbuf` readable for `MR · k_pad` i16 with `2 · pairs ≤ k_pad`; `w` readable
/// and aligned for `pairs · 8 · NV` dwords.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn gemm_tile<T: Dot, const NV: usize>(
    xbuf: *const u8,
    k_pad: usize,
    pairs: usize,
    mut w: *const i32,
    init: &[__m256i; NV_MAX],
) -> [[__m256i; NV]; MR] {
    let mut acc = [[_mm256_setzero_si256(); NV]; MR];
    for row in acc.iter_mut() {
        for (a, i) in row.iter_mut().zip(init) {
            *a = *i;
        }
    }
    let mut x = xbuf.cast::<i32>();
    let stride = k_pad / T::STEP;
    for _ in 0..pairs {
        let mut wv = [_mm256_setzero_si256(); NV];
        for (j, v) in wv.iter_mut().enumerate() {
            // SAFETY: inside the packed block (caller), 32-byte aligned.
            *v = unsafe { _mm256_load_si256(w.add(8 * j).cast()) };
        }
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: pair `p < pairs` of row `r` (caller); a broadcast load.
            let xp = _mm256_set1_epi32(unsafe { x.add(r * stride).read_unaligned() });
            for (a, v) in row.iter_mut().zip(&wv) {
                // SAFETY: the implementation's instruction set (caller).
                *a = unsafe { T::mac(*a, xp, *v) };
            }
        }
        // SAFETY: stays within (or one past) the packed block and the rows.
        unsafe {
            w = w.add(8 * NV);
            x = x.add(1);
        }
    }
    acc
}

/// # Safety
/// As [`gemm_tile`] with `pairs = k_pad / 2` and the block's packed weights (`blk.w`);
/// `out_rows[r]` writable for `blk.n` bytes for `r < rows`; `blk.oc + blk.n ≤ out_c`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn gemm_tile_store<T: Dot, const NV: usize>(
    ctx: &Ctx,
    xbuf: *const u8,
    k_pad: usize,
    blk: &Block,
    out_rows: &[*mut i8; MR],
    rows: usize,
) {
    let (rq, oc, n) = (blk.rq.as_ref(), blk.oc, blk.n);
    // SAFETY: forwarded from the caller.
    let acc = unsafe { gemm_tile::<T, NV>(xbuf, k_pad, k_pad / T::STEP, blk.w, &blk.init) };
    for (r, row) in acc.iter().enumerate().take(rows) {
        let mut j = 0;
        while j < NV {
            let lanes = n.saturating_sub(8 * j).min(16);
            let b = if j + 1 < NV { row[j + 1] } else { row[j] };
            // SAFETY: `lanes` bytes from channel `oc + 8j` of this row's output (caller).
            unsafe {
                store16_with(
                    ctx,
                    rq,
                    row[j],
                    b,
                    oc + 8 * j,
                    lanes,
                    out_rows[r].add(8 * j),
                )
            };
            j += 2;
        }
    }
}

/// The GEMM with the multiply `T` (inlined into callers compiled for `T`'s instruction set).
///
/// # Safety
/// AVX2 and `T`'s instruction set available; `ctx` from [`prepare`] (checked lengths and buffer
/// limits); `output` has the plan's length.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(super) unsafe fn gemm<T: Dot>(ctx: &Ctx, output: &mut [i8]) {
    let pl = &ctx.plan;
    let g = &pl.g;
    let (cpg, opg, k) = (pl.cpg, pl.opg, pl.k_len);
    let im2col = cpg % 4 != 0;
    let k_pad = k.next_multiple_of(4);
    // The length of a kernel row's run of bytes (for [`widen_dense_window`]).
    let row_w = g.kernel_w * cpg;
    // Dwords per vector of 8 channels: k_pad/2 · 8; per block of 16 channels, twice that.
    let vec_dwords = k_pad / T::STEP * 8;
    let nv_max = (PACK_DWORDS / vec_dwords).min(NV_MAX);
    let block_dwords = vec_dwords * NV_MAX;
    // Blocks packed together: each tile widens its rows once for all of them (widening per
    // block took about a tenth of the GEMM's samples, `perf annotate`).
    let blocks_max = (SUPER_DWORDS / block_dwords).clamp(1, SUPER_BLOCKS);
    // Uninitialised: `widen_rows` writes each row's `k_pad` values before the tile reads them
    // (zeroing 48 KiB per call measured 2 % of ResNet-8's time in `memset`, `perf report`).
    let mut xbuf = Aligned([MaybeUninit::<i16>::uninit(); MR * MAX_K]);
    let xbuf = xbuf.0.as_mut_ptr().cast::<u8>();
    let value = 4 / T::STEP;
    let zp = (-ctx.p.input_offset) as i8;
    let mut packed = Aligned([MaybeUninit::<i32>::uninit(); SUPER_DWORDS]);
    let packed = packed.0.as_mut_ptr().cast::<i32>();
    let mut zero_store = [MaybeUninit::<i8>::uninit(); MAX_ZERO_ROW];
    let zero_row = init_prefix(&mut zero_store, cpg, zp);
    let mut col = Aligned([0i8; MR * MAX_IM2COL_K]);
    let mut ptrs = [[core::ptr::null::<i8>(); MR]; super::MAX_TAPS];
    let pixels = g.out_h * g.out_w;
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();
    let off = _mm256_set1_epi32(ctx.p.input_offset.wrapping_sub(T::FLIP));
    let mut blocks = [Block::EMPTY; SUPER_BLOCKS];

    for grp in 0..g.groups {
        let mut nb = 0;
        while nb < opg {
            // One super-block: up to `blocks_max` blocks of `8 · nv_max` channels.
            let sb_oc = grp * opg + nb;
            let mut used = 0;
            while used < blocks_max && nb < opg {
                let n = (opg - nb).min(8 * nv_max);
                let nv = n.div_ceil(8);
                let oc = grp * opg + nb;
                let w = if nv_max == 1 {
                    vec_dwords
                } else {
                    block_dwords
                };
                // SAFETY: block `used` starts at `used · w ≤ SUPER_DWORDS − w` dwords (by the
                // choice of `blocks_max`, or `nv_max = 1` and one block); rows `oc .. oc + n`
                // (`n · k` bytes).
                let (dst, sums) = unsafe {
                    let dst = packed.add(used * w);
                    (
                        dst,
                        T::pack(ctx.weights.as_ptr().add(oc * k), k, n, nv, dst),
                    )
                };
                let mut init = [_mm256_setzero_si256(); NV_MAX];
                for j in 0..nv {
                    let lanes = (n - 8 * j).min(8);
                    // SAFETY: channels `oc + 8j .. + lanes ≤ out_c`.
                    let b = unsafe { load_bias(ctx, oc + 8 * j, lanes) };
                    init[j] = _mm256_add_epi32(b, _mm256_mullo_epi32(off, sums[j]));
                }
                blocks[used] = Block {
                    w: dst,
                    init,
                    // SAFETY: channels `oc .. oc + n ≤ out_c`.
                    rq: unsafe { simple_consts(ctx, oc, n) },
                    oc,
                    n,
                    nv,
                };
                used += 1;
                nb += n;
            }
            let blocks = &blocks[..used];
            // The next super-block's weights (as many bytes as this one's, contiguous after it in
            // `[out_c][k]`) are prefetched a few lines per tile, so its packing does not wait for
            // memory (ResNeXt-29's 34 MB of weights are read once per inference).
            let sb_end = grp * opg + nb;
            let (mut pf, pf_end) = (sb_end * k, (2 * sb_end - sb_oc) * k);
            let pf_end = pf_end.min(ctx.weights.len());
            let tiles = g.batch * pixels.div_ceil(MR);
            let pf_step = (pf_end.saturating_sub(pf)).div_ceil(tiles.max(1)).max(64);
            for b in 0..g.batch {
                let mut m0 = 0;
                while m0 < pixels {
                    let to = (pf + pf_step).min(pf_end);
                    while pf < to {
                        // SAFETY: byte `pf < weights.len()`; a prefetch reads nothing
                        // architecturally.
                        unsafe { _mm_prefetch::<_MM_HINT_T0>(ctx.weights.as_ptr().add(pf)) };
                        pf += 64;
                    }
                    let rows = (pixels - m0).min(MR);
                    let mut out_rows = [core::ptr::null_mut::<i8>(); MR];
                    // The column rows are split off one borrow of the buffer, so the pointer
                    // kept for row r stays valid while rows r+1.. are written (indexing the
                    // whole buffer again per row would re-borrow it and invalidate the
                    // earlier rows' pointers: undefined behaviour Miri reports).
                    let mut col_rest: &mut [i8] = &mut col.0;
                    pl.for_each_tile_row(m0, rows, MR, |r, m, oh, ow| {
                        // SAFETY: pixel `(b, oh, ow)` exists; `sb_oc < out_c`.
                        out_rows[r] = unsafe { out.add(((b * pixels) + m) * g.out_c + sb_oc) };
                        if !im2col {
                            return;
                        }
                        let (dst, rest) = core::mem::take(&mut col_rest).split_at_mut(k_pad);
                        col_rest = rest;
                        // SAFETY: row `r` of the buffer (`k_pad ≤ MAX_IM2COL_K ≤ MAX_K` i16),
                        // rows written in order so a row's excess is overwritten by the next,
                        // the last one's stays inside the `MR · MAX_K` buffer (`row_w ≤ 16`);
                        // `dense_window` checked 16 readable bytes per kernel row.
                        unsafe {
                            let xrow = xbuf.add(r * k_pad * value);
                            match pl.dense_window(ctx.input.len(), (b, oh, ow), 16) {
                                Some((at, step)) if row_w <= 16 => {
                                    T::dense_window(x.add(at), step, g.kernel_h, row_w, xrow)
                                }
                                _ => {
                                    pl.im2col_row(ctx.input, (b, grp, oh, ow), zp, dst);
                                    T::row_run(dst.as_ptr(), k_pad, xrow);
                                }
                            }
                        }
                    });
                    if !im2col {
                        pl.for_each_tile_tap((b, grp), m0, rows, MR, |t, r, at| {
                            ptrs[t][r] = match at {
                                // SAFETY: `at` is a pixel inside the input (the plan's window),
                                // the group's `cpg` channels follow it.
                                Some(at) => unsafe { x.add(at) },
                                None => zero_row.as_ptr(),
                            };
                        });
                        // SAFETY: every pointer reads `cpg` bytes (a multiple of 4: a tap's
                        // channels or the zero row), `taps · cpg = k_pad` i16 per row fit the buffer
                        // (`k_pad ≤ MAX_K`, checked with the plan).
                        unsafe { widen_rows::<T>(&ptrs[..pl.taps], cpg, k_pad, xbuf) };
                    }
                    for blk in blocks {
                        let mut rows_at = out_rows;
                        for r in rows_at.iter_mut().take(rows) {
                            // SAFETY: channel `blk.oc ≥ sb_oc` of the same pixel.
                            *r = unsafe { r.add(blk.oc - sb_oc) };
                        }
                        // SAFETY: the packed block holds `k_pad/2 · 8 · nv` dwords; outputs
                        // `blk.oc .. + blk.n ≤ out_c` of each row.
                        unsafe {
                            match blk.nv {
                                1 => gemm_tile_store::<T, 1>(ctx, xbuf, k_pad, blk, &rows_at, rows),
                                _ => gemm_tile_store::<T, 2>(ctx, xbuf, k_pad, blk, &rows_at, rows),
                            }
                        }
                    }
                    m0 += MR;
                }
            }
        }
    }
}

/// Most blocks of channels sharing one widening of each tile's rows.
const SUPER_BLOCKS: usize = 16;

/// One packed block of a GEMM super-block: its weights, accumulator start (bias and input
/// offset), output-stage constants and channels.
#[derive(Clone, Copy)]
struct Block {
    w: *const i32,
    init: [__m256i; NV_MAX],
    rq: Option<[Requant8Simple; 2]>,
    oc: usize,
    n: usize,
    nv: usize,
}

impl Block {
    const EMPTY: Self = Self {
        w: core::ptr::null(),
        // SAFETY: an all-zero bit pattern is a valid `__m256i`.
        init: unsafe { core::mem::zeroed() },
        rq: None,
        oc: 0,
        n: 0,
        nv: 0,
    };
}

// ---------------------------------------------------------------------------------------------
// Small groups
// ---------------------------------------------------------------------------------------------

/// The input dword (i16 pair, within each 128-bit half of the widened 16 bytes) that output
/// vector `a` (channels `4a .. 4a + 4` of each half) multiplies as its pair `q`: 4-channel
/// groups sit two to a half (`a` picks the group), 8-channel groups one.
fn small_groups_dword(cpg: usize, a: usize, q: usize) -> usize {
    if cpg == 4 {
        2 * a + q
    } else {
        q
    }
}

/// # Safety
/// AVX2 available; `ctx` built by [`conv2d_s8`] for the `SmallGroups` kind (`cpg == opg` is 4
/// or 8) with `out_c` (= `in_c`) a multiple of 16, at most `MAX_ZERO_ROW`, and `out_c / 16 ·
/// taps · cpg · 8 ≤ PACK_DWORDS` (the packed weights of every block); `output` has the plan's
/// length.
#[target_feature(enable = "avx2,fma")]
unsafe fn small_groups(_t: Avx2, ctx: &Ctx, output: &mut [i8]) {
    match ctx.plan.cpg {
        // SAFETY: forwarded.
        4 => unsafe { small_groups_n::<2>(ctx, output) },
        // SAFETY: forwarded.
        _ => unsafe { small_groups_n::<4>(ctx, output) },
    }
}

/// [`small_groups`] with `P = cpg / 2` pairs per group.
///
/// # Safety
/// As [`small_groups`], `P = cpg / 2`.
#[target_feature(enable = "avx2,fma")]
unsafe fn small_groups_n<const P: usize>(ctx: &Ctx, output: &mut [i8]) {
    let pl = &ctx.plan;
    let g = &pl.g;
    let (cpg, taps) = (pl.cpg, pl.taps);
    let k = pl.k_len;
    let zp = (-ctx.p.input_offset) as i8;
    let zero_row = [zp; MAX_ZERO_ROW];
    let blocks = g.out_c / 16;
    // Per block and tap: `2 · P` vectors (output vector a, pair q) of 8 i16 pairs.
    let block_dwords = taps * 2 * P * 8;
    let mut packed = Aligned([0i32; PACK_DWORDS]);
    let mut init = [[_mm256_setzero_si256(); 2]; PACK_DWORDS / (2 * 2 * 8)];
    let off = _mm256_set1_epi32(ctx.p.input_offset);
    for (blk, block_init) in init.iter_mut().enumerate().take(blocks) {
        let c0 = 16 * blk;
        // Lane `(h, l)` of output vector `a` is channel `c0 + 8h + 4a + l`; its pair `q` of tap
        // `t` is depth `t·cpg + 2q, + 1` of that channel's weights.
        let mut sum_w = [0i32; 16];
        for t in 0..taps {
            for a in 0..2 {
                for q in 0..P {
                    for lane in 0..8 {
                        let c = c0 + 8 * (lane / 4) + 4 * a + lane % 4;
                        let d = t * cpg + 2 * q;
                        let (w0, w1) = match ctx.weights.get(c * k + d..c * k + d + 2) {
                            Some(&[w0, w1]) => (i32::from(w0), i32::from(w1)),
                            _ => (0, 0),
                        };
                        sum_w[c - c0] += w0 + w1;
                        let at = blk * block_dwords + ((t * 2 + a) * P + q) * 8 + lane;
                        if let Some(v) = packed.0.get_mut(at) {
                            *v = (w0 & 0xffff) | (w1 << 16);
                        }
                    }
                }
            }
        }
        // Bias plus `input_offset · Σ w`, in channel order.
        for (h, i) in block_init.iter_mut().enumerate() {
            // SAFETY: channels `c0 + 8h .. + 8 ≤ out_c`; `sum_w` holds 16.
            unsafe {
                let b = load_bias(ctx, c0 + 8 * h, 8);
                let sw = _mm256_loadu_si256(sum_w.as_ptr().add(8 * h).cast());
                *i = _mm256_add_epi32(b, _mm256_mullo_epi32(off, sw));
            }
        }
    }
    let mut ptrs = [[core::ptr::null::<i8>(); MR]; super::MAX_TAPS];
    let pixels = g.out_h * g.out_w;
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();
    for b in 0..g.batch {
        let mut m0 = 0;
        while m0 < pixels {
            let rows = (pixels - m0).min(MR);
            // Pointers at each tap's pixel, channel 0, or at a row of `in_c` zero points.
            pl.for_each_tile_tap((b, 0), m0, rows, MR, |t, r, at| {
                ptrs[t][r] = match at {
                    // SAFETY: `at` is a pixel inside the input (the plan's window).
                    Some(at) => unsafe { x.add(at) },
                    None => zero_row.as_ptr(),
                };
            });
            for (blk, block_init) in init.iter().enumerate().take(blocks) {
                let c0 = 16 * blk;
                // SAFETY: channels `c0 .. c0 + 16 ≤ out_c`.
                let rq = unsafe { simple_consts(ctx, c0, 16) };
                let mut acc = [[_mm256_setzero_si256(); 2]; MR];
                // SAFETY: block `blk`'s packed weights lie inside the buffer (caller's bound).
                let mut w = unsafe { packed.0.as_ptr().add(blk * block_dwords) };
                for tap in ptrs.iter().take(taps) {
                    for (row, &p) in acc.iter_mut().zip(tap) {
                        // SAFETY: channels `c0 .. c0 + 16 ≤ in_c` of the pixel or of the zero
                        // row (`in_c = out_c ≤ MAX_ZERO_ROW`).
                        let xv = _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(p.add(c0).cast()) });
                        for (a, ra) in row.iter_mut().enumerate() {
                            for q in 0..P {
                                let xp = match small_groups_dword(cpg, a, q) {
                                    0 => _mm256_shuffle_epi32::<0x00>(xv),
                                    1 => _mm256_shuffle_epi32::<0x55>(xv),
                                    2 => _mm256_shuffle_epi32::<0xaa>(xv),
                                    _ => _mm256_shuffle_epi32::<0xff>(xv),
                                };
                                // SAFETY: vector `(a, q)` of this tap in the block's weights.
                                let wv =
                                    unsafe { _mm256_load_si256(w.add((a * P + q) * 8).cast()) };
                                *ra = _mm256_add_epi32(*ra, _mm256_madd_epi16(xp, wv));
                            }
                        }
                    }
                    // SAFETY: the next tap's `2 · P · 8` dwords (or one past the block).
                    w = unsafe { w.add(2 * P * 8) };
                }
                for (r, row) in acc.iter().enumerate().take(rows) {
                    // Halves back into channel order: vector 0 holds channels 0–3 and 8–11,
                    // vector 1 channels 4–7 and 12–15.
                    let lo = _mm256_permute2x128_si256::<0x20>(row[0], row[1]);
                    let hi = _mm256_permute2x128_si256::<0x31>(row[0], row[1]);
                    let [i0, i1] = *block_init;
                    let (lo, hi) = (_mm256_add_epi32(lo, i0), _mm256_add_epi32(hi, i1));
                    // SAFETY: pixel `m0 + r` of image `b`, channels `c0 .. c0 + 16 ≤ out_c`.
                    unsafe {
                        let dst = out.add((b * pixels + m0 + r) * g.out_c + c0);
                        store16_with(ctx, rq.as_ref(), lo, hi, c0, 16, dst);
                    }
                }
            }
            m0 += MR;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Depthwise
// ---------------------------------------------------------------------------------------------

/// 16 input channels of one tap as i16 with the input offset added (zeros for a padding tap;
/// channels past `n` are the offset alone, multiplied by zero weights).
///
/// # Safety
/// AVX2 available; `p` readable for `n ≤ 16` bytes when `valid`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load_x16(p: *const i8, n: usize, valid: bool, off: __m256i) -> __m256i {
    if !valid {
        return _mm256_setzero_si256();
    }
    let raw = if n >= 16 {
        // SAFETY: 16 bytes readable (caller).
        unsafe { _mm_loadu_si128(p.cast()) }
    } else {
        let mut t = [0i8; 16];
        // SAFETY: `n` bytes readable (caller) into a 16-byte array.
        unsafe {
            core::ptr::copy_nonoverlapping(p, t.as_mut_ptr(), n);
            _mm_loadu_si128(t.as_ptr().cast())
        }
    };
    _mm256_add_epi16(_mm256_cvtepi8_epi16(raw), off)
}

/// # Safety
/// AVX2 available; `ctx` built by [`conv2d_s8`] for the `Depthwise` kind; `output` has the
/// plan's length.
#[target_feature(enable = "avx2,fma")]
unsafe fn depthwise(_t: Avx2, ctx: &Ctx, output: &mut [i8]) {
    let pl = &ctx.plan;
    let g = &pl.g;
    let c = g.in_c;
    let taps = pl.taps;
    let pairs = taps.div_ceil(2);
    let chunk = (DW_DWORDS / pairs / 16 * 16).max(16);
    let mut wbuf = Aligned([0i32; DW_DWORDS]);
    let off16 = _mm256_set1_epi16(ctx.p.input_offset as i16);
    let pixels = g.out_h * g.out_w;
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();

    let mut c0 = 0;
    while c0 < c {
        let cn = (c - c0).min(chunk);
        let blocks = cn.div_ceil(16);
        // Block v, pair p: [lo 8 dwords][hi 8 dwords]; `lo` holds channels 8ℓ+0..3 of 128-bit
        // lane ℓ, `hi` channels 8ℓ+4..7 (the order `vpunpck{l,h}wd` produces).
        for cc in 0..blocks * 16 {
            let (v, c16) = (cc / 16, cc % 16);
            let (l, wi) = (c16 / 8, c16 % 8);
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
                wbuf.0[((v * pairs + p) * 2 + half) * 8 + lane] = d;
            }
        }
        let mut tap_ptr = [x; super::MAX_TAPS];
        let mut tap_ok = [false; super::MAX_TAPS];
        for b in 0..g.batch {
            for m in 0..pixels {
                let (oh, ow) = (m / g.out_w, m % g.out_w);
                let (ih0, kh0, kh1) =
                    S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
                let (iw0, kw0, kw1) =
                    S8Plan::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
                for kh in 0..g.kernel_h {
                    for kw in 0..g.kernel_w {
                        let t = kh * g.kernel_w + kw;
                        tap_ok[t] = (kh0..kh1).contains(&kh) && (kw0..kw1).contains(&kw);
                        if tap_ok[t] {
                            let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                            let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                            // SAFETY: (b, ih, iw) is inside the input.
                            tap_ptr[t] =
                                unsafe { x.add(((b * g.in_h + ih) * g.in_w + iw) * c + c0) };
                        }
                    }
                }
                // SAFETY: pixel `(b, m)` exists; channels `c0 .. c0 + cn`.
                let dst = unsafe { out.add((b * pixels + m) * c + c0) };
                for v in 0..blocks {
                    let cb = 16 * v;
                    let n = (cn - cb).min(16);
                    let mut lo = _mm256_setzero_si256();
                    let mut hi = _mm256_setzero_si256();
                    let wv = &wbuf.0[v * pairs * 16..];
                    for p in 0..pairs {
                        let (t0, t1) = (2 * p, (2 * p + 1).min(taps - 1));
                        // SAFETY: a valid tap's pointer has channels `c0 .. c0 + cn` of a real
                        // pixel; `cb + n ≤ cn`.
                        let (a, bb) = unsafe {
                            (
                                load_x16(tap_ptr[t0].add(cb), n, tap_ok[t0], off16),
                                load_x16(tap_ptr[t1].add(cb), n, tap_ok[t1], off16),
                            )
                        };
                        // SAFETY: `wbuf` holds `blocks · pairs · 16` dwords for this chunk.
                        let (wl, wh) = unsafe {
                            (
                                _mm256_load_si256(wv.as_ptr().add(p * 16).cast()),
                                _mm256_load_si256(wv.as_ptr().add(p * 16 + 8).cast()),
                            )
                        };
                        lo = _mm256_add_epi32(
                            lo,
                            _mm256_madd_epi16(_mm256_unpacklo_epi16(a, bb), wl),
                        );
                        hi = _mm256_add_epi32(
                            hi,
                            _mm256_madd_epi16(_mm256_unpackhi_epi16(a, bb), wh),
                        );
                    }
                    let acc_a = _mm256_permute2x128_si256::<0x20>(lo, hi);
                    let acc_b = _mm256_permute2x128_si256::<0x31>(lo, hi);
                    let oc = c0 + cb;
                    // SAFETY: channels `oc .. oc + n ≤ out_c`; `dst + cb` has `n` bytes.
                    unsafe {
                        let acc_a = _mm256_add_epi32(acc_a, load_bias(ctx, oc, n.min(8)));
                        let acc_b = if n > 8 {
                            _mm256_add_epi32(acc_b, load_bias(ctx, oc + 8, n - 8))
                        } else {
                            acc_b
                        };
                        store16(ctx, acc_a, acc_b, oc, n, dst.add(cb));
                    }
                }
            }
        }
        c0 += cn;
    }
}

// ---------------------------------------------------------------------------------------------
// f32: `conv2d_f32_avx2`
// ---------------------------------------------------------------------------------------------
//
// Every output starts from its bias and accumulates its taps in the reference's order (kh, kw,
// then input channel), with fused multiply-adds: results differ from the reference by the
// rounding of the FMAs only.

use super::Conv2dParams;
use crate::Activation;

/// Pixels per f32 GEMM tile.
pub(super) const MR_F32: usize = 6;
/// Packed f32 weights: 128 KiB (a 32-channel block of depth up to 1024).
const PACK_F32: usize = 32 * 1024;
/// Longest row of zeros (channels per group) for padding taps.
const MAX_ZERO_F32: usize = 2048;
/// Depthwise f32 transposed weights: 32 KiB.
const DW_F32: usize = 8 * 1024;

/// `conv2d_f32_avx2`; `false` (nothing written) when AVX2/FMA is unavailable, the slice lengths
/// do not match the shapes, or the depth exceeds the stack buffers.
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
    let Some(plan) = plan_f32(p, input, weights, bias, output) else {
        return false;
    };
    // SAFETY: `tok` proves AVX2 and FMA; `plan_f32` checked the slice lengths against the
    // shapes and the buffer limits.
    unsafe {
        match plan.kind {
            S8Kind::Depthwise => depthwise_f32(tok, &plan, input, weights, bias, output),
            _ => gemm_f32(
                tok,
                &plan,
                F32Tile::Avx2,
                input,
                weights,
                bias,
                None,
                output,
            ),
        }
    }
    true
}

/// `conv2d_f32_avx512`: the GEMM path of [`conv2d_f32`] with 16-lane tiles (6 pixels × 32
/// channels, `vfmadd231ps` on zmm registers): twice the arithmetic per instruction of the AVX2
/// tile on the 1×1 and dense layers f32 models spend their time in. The driver (im2col
/// pointers, packing, activation) is the AVX2 one; only the tile differs. Declines depthwise
/// calls (the dedicated depthwise kernels take them) and depths whose 32-channel packed block
/// does not fit the stack buffer.
pub(crate) fn conv2d_f32_avx512(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    avx512_f32(p, input, weights, bias, None, output)
}

/// [`conv2d_f32_avx512`] with the weights packed once into `cache` by [`fill_f32_cache`] (same
/// parameters and weights): no per-call packing. `false` (nothing written) when the call is not
/// one the cache serves or `cache` is not [`f32_cache_len`] long.
pub(crate) fn conv2d_f32_avx512_cached(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    cache: &[f32],
    output: &mut [f32],
) -> bool {
    avx512_f32(p, input, weights, bias, Some(cache), output)
}

/// [`conv2d_f32`] (the AVX2 tile) with the weights packed once into `cache` by
/// [`fill_f32_cache`]: the `[k][32]` blocks read as two 16-channel halves, no per-call packing.
/// `false` (nothing written) when the call is not one the cache serves or `cache` is not
/// [`f32_cache_len`] long.
pub(crate) fn conv2d_f32_avx2_cached(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    cache: &[f32],
    output: &mut [f32],
) -> bool {
    let Some(tok) = Avx2::get() else {
        return false;
    };
    let Some(plan) = plan_f32(p, input, weights, bias, output) else {
        return false;
    };
    if !cacheable_f32(&plan) || cache.len() != plan.g.out_c * plan.k_len {
        return false;
    }
    // SAFETY: `tok` proves AVX2 and FMA; `plan_f32` checked the slice lengths; the cache holds
    // the `[k][32]` blocks of every group in order (`fill_f32_cache`; its length is checked
    // above: `out_c/32` blocks of `k · 32` floats, `opg` a multiple of 32).
    unsafe {
        gemm_f32(
            tok,
            &plan,
            F32Tile::Avx2,
            input,
            weights,
            bias,
            Some(cache),
            output,
        )
    };
    true
}

fn avx512_f32(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    cache: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    let (Some(tok), Some(_)) = (Avx2::get(), crate::arch::x86::Avx512Vnni::get()) else {
        return false;
    };
    let Some(plan) = plan_f32(p, input, weights, bias, output) else {
        return false;
    };
    if plan.kind == S8Kind::Depthwise || plan.k_len * 32 > PACK_F32 {
        return false;
    }
    if let Some(c) = cache {
        if !cacheable_f32(&plan) || c.len() != plan.g.out_c * plan.k_len {
            return false;
        }
    }
    // SAFETY: `tok` proves AVX2 and FMA, `Avx512Vnni::get` AVX-512 F/BW/VL; `plan_f32` checked
    // the slice lengths and `k_len · 32 ≤ PACK_F32` the packed block of the wide tile; a cache
    // holds the `[k][32]` blocks of every group in order (`fill_f32_cache`; its length is
    // checked above: `out_c/32` blocks of `k · 32` floats).
    unsafe {
        gemm_f32(
            tok,
            &plan,
            F32Tile::Avx512,
            input,
            weights,
            bias,
            cache,
            output,
        )
    };
    true
}

/// Whether the f32 GEMM (the AVX-512 tile, or the AVX2 one by 16-channel halves) serves a call
/// of this plan from a weight cache: the GEMM kind
/// (small groups of 4/8 channels have their own kernel), a depth whose block fits the tile's
/// limits, and whole 32-channel blocks per group (so the cache is exactly the packed weights).
fn cacheable_f32(plan: &S8Plan) -> bool {
    plan.kind == S8Kind::Gemm && plan.k_len * 32 <= PACK_F32 && plan.opg.is_multiple_of(32)
}

/// Floats of the f32 weight cache of a call (`out_c · k`: the `[k][32]` packed blocks), or
/// `None` when the call would not use one.
pub(crate) fn f32_cache_len(
    p: &Conv2dParams,
    weights: usize,
    bias: Option<usize>,
) -> Option<usize> {
    Avx2::get()?;
    let q = super::Conv2dS8Params {
        geometry: *p,
        ..Default::default()
    };
    let plan = S8Plan::for_weights(&q, weights, bias)?;
    let fits = plan.k_len * 8 <= PACK_F32 && plan.cpg <= MAX_ZERO_F32;
    (fits && cacheable_f32(&plan)).then(|| plan.g.out_c * plan.k_len)
}

/// Packs the weights of an f32 call into `cache` ([`f32_cache_len`] floats): group by group,
/// 32-channel blocks of `[k][32]`, what the AVX-512 GEMM otherwise packs on every call.
pub(crate) fn fill_f32_cache(
    p: &Conv2dParams,
    weights: &[f32],
    bias: Option<usize>,
    cache: &mut [f32],
) -> bool {
    let Some(tok) = Avx2::get() else {
        return false;
    };
    if f32_cache_len(p, weights.len(), bias) != Some(cache.len()) {
        return false;
    }
    let k = weights.len() / p.out_c.max(1);
    // SAFETY: `tok` proves AVX2; `f32_cache_len` checked the plan for these weights (`out_c`
    // rows of `k` floats) and the cache's length, `out_c/32` blocks of `k · 32` floats.
    unsafe { fill_f32_cache_avx2(tok, weights, k, cache) };
    true
}

/// # Safety
/// AVX2 available; `weights` is `cache.len() / k` rows of `k` floats, a multiple of 32 rows.
#[target_feature(enable = "avx2,fma")]
unsafe fn fill_f32_cache_avx2(_t: Avx2, weights: &[f32], k: usize, cache: &mut [f32]) {
    for (b, block) in cache.chunks_exact_mut(k * 32).enumerate() {
        // SAFETY: rows `32b .. 32b + 32` of the weights, `k · 32` floats of the block (caller).
        unsafe {
            pack_f32(
                weights.as_ptr().add(b * 32 * k),
                k,
                32,
                32,
                block.as_mut_ptr(),
            )
        };
    }
}

/// The shapes of an f32 call checked against its slices and the stack buffers (`None`: decline).
fn plan_f32(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &[f32],
) -> Option<S8Plan> {
    let plan = S8Plan::for_f32(p, input, weights, bias, output)?;
    let fits = match plan.kind {
        S8Kind::Depthwise => true,
        _ => plan.k_len * 8 <= PACK_F32 && plan.cpg <= MAX_ZERO_F32,
    };
    fits.then_some(plan)
}

/// Which tile the f32 GEMM driver runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum F32Tile {
    /// 6 × 16 channels (or 6 × 8), ymm registers.
    Avx2,
    /// 6 × 32 channels, zmm registers (AVX-512 F).
    Avx512,
}

/// Applies the activation to `v` (lanes of one output vector) where it is a clamp; other
/// activations are applied by the caller after the store.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn activate(v: __m256, clamp: Option<(__m256, __m256)>) -> __m256 {
    match clamp {
        // `max(v, lo)` returns `lo` for a NaN `v`, like the scalar `max`.
        Some((lo, hi)) => _mm256_min_ps(_mm256_max_ps(v, lo), hi),
        None => v,
    }
}

/// The lane mask for `n ≤ 8` f32 lanes.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn mask8(n: usize) -> __m256i {
    let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(8) as i32), idx)
}

/// # Safety
/// AVX2/FMA available; `plan` validated for these slices; `k_len · 8 ≤ PACK_F32`,
/// `cpg ≤ MAX_ZERO_F32`; with [`F32Tile::Avx512`], AVX-512 F/BW/VL available and
/// `k_len · 32 ≤ PACK_F32`; a `cache` is [`fill_f32_cache`]'s for these weights (whole
/// 32-channel blocks: [`cacheable_f32`]).
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_f32(
    _t: Avx2,
    plan: &S8Plan,
    tile: F32Tile,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    cache: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let (cpg, opg, k) = (plan.cpg, plan.opg, plan.k_len);
    // 32 channels per block with the AVX-512 tile, and with the AVX2 tile reading a cache's
    // 32-channel blocks as two 16-channel halves; else 16 when the packed block fits, else 8.
    let halves = tile == F32Tile::Avx2 && cache.is_some();
    let nb_max = if tile == F32Tile::Avx512 || halves {
        32
    } else if k * 16 <= PACK_F32 {
        16
    } else {
        8
    };
    let mut packed = Aligned([MaybeUninit::<f32>::uninit(); PACK_F32]);
    let packed = packed.0.as_mut_ptr().cast::<f32>();
    let mut zero_store = [MaybeUninit::<f32>::uninit(); MAX_ZERO_F32];
    let zero_row = init_prefix(&mut zero_store, cpg, 0.0);
    let mut ptrs = [[core::ptr::null::<f32>(); MR_F32]; super::MAX_TAPS];
    let pixels = g.out_h * g.out_w;
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let clamp_f32 = g.activation.clamp_bounds();
    let clamp = clamp_f32.map(|(lo, hi)| (_mm256_set1_ps(lo), _mm256_set1_ps(hi)));
    let scalar_act = clamp.is_none() && g.activation != Activation::None;

    // Blocks sharing each tile's set-up (the tile loop outside the blocks) when the depth is
    // short: MobileNetV2's K = 16–24 expansions spent more per tile on the set-up than on the
    // FMAs (kernels bench mnv2_1x1_56x56x24_144: 19.4 → 29.9 GMAC/s). Their weights together
    // stay within `SUPER_F32` floats, so the tiles of long depths keep one block in L1 (a
    // 128 KiB limit measured ResNeXt-29 1.108, 32 KiB 0.989, of the time before). The same with
    // the AVX-512 tile: MobileNetV2's 112×112 16 → 96 expansion 0.50 → 0.31 ms, the model
    // 0.974 (`bench-ab-layers.py` / `bench-ab.py`, AVX-512 VNNI Zen 5).
    let blocks_max = (SUPER_F32 / (k.max(1) * nb_max)).clamp(1, SUPER_BLOCKS);
    let mut blocks = [BlockF32::EMPTY; SUPER_BLOCKS];

    // Layers with windows read them as tap offsets from each tile's corners ([`RowOffsets`]),
    // in the input itself when no window reaches the padding and the group is the whole pixel,
    // else in bands of padded rows copied per group ([`band_f32`]).
    let band = band_f32(plan);
    let win_h = (g.kernel_h.max(1) - 1) * g.dilation_h + 1;
    let in_place = band.is_some_and(|(pw, _)| {
        g.groups == 1
            && g.pad_top == 0
            && g.pad_left == 0
            && pw <= g.in_w
            && (g.out_h.max(1) - 1) * g.stride_h + win_h <= g.in_h
    });
    let band = match band {
        Some((pw, _)) if in_place => Some((pw, g.out_h.max(1))),
        b => b,
    };
    // Written by each band's copy (`padded_copy`) before its tiles read it.
    let mut band_store = [MaybeUninit::<f32>::uninit(); BAND_F32];
    let strides = match band {
        Some((pw, _)) if !in_place => (pw * cpg, cpg),
        _ => (g.in_w * g.in_c, g.in_c),
    };
    let (row_stride, px_stride) = strides;
    let mut tap_store = [0usize; super::MAX_TAPS];
    let tap_offs = plan.tap_offsets(strides, &mut tap_store);

    for grp in 0..g.groups {
        let mut nb = 0;
        while nb < opg {
            let sb_oc = grp * opg + nb;
            let mut used = 0;
            while used < blocks_max && nb < opg {
                let n = (opg - nb).min(nb_max);
                let oc = grp * opg + nb;
                // The block's width: the AVX-512 tile takes blocks of up to 16 channels as one
                // vector per row instead of two, half of them zero weights.
                let width = if nb_max == 32 && n <= 16 { 16 } else { nb_max };
                // Pack `[k][width]`: row kk holds w[oc + j][kk] for j < n, zeros after; or take
                // the block from the cache (whole 32-channel blocks, in this order).
                let w = match cache {
                    // SAFETY: block `oc/32` of `k · 32` floats is inside the cache (caller: the
                    // cache holds `out_c · k` floats, `oc + 32 ≤ out_c`).
                    Some(c) => unsafe { c.as_ptr().add(oc * k) },
                    None => {
                        // SAFETY: rows `oc .. oc + n` of `k` floats; block `used` of
                        // `k · nb_max ≥ k · width` floats ends within `PACK_F32` (the choice of
                        // `blocks_max`; one block fits by `plan_f32`).
                        unsafe {
                            let dst = packed.add(used * k * nb_max);
                            pack_f32(weights.as_ptr().add(oc * k), k, n, width, dst);
                            dst.cast_const()
                        }
                    }
                };
                let mut init = [_mm256_setzero_ps(); 4];
                if let Some(b) = bias {
                    for (j, v) in init.iter_mut().enumerate() {
                        let lanes = n.saturating_sub(8 * j);
                        if lanes > 0 {
                            // SAFETY: channels `oc + 8j .. + lanes ≤ out_c`; masked lanes
                            // untouched.
                            *v = unsafe {
                                _mm256_maskload_ps(b.as_ptr().add(oc + 8 * j), mask8(lanes))
                            };
                        }
                    }
                }
                blocks[used] = BlockF32 {
                    w,
                    init,
                    oc,
                    n,
                    width,
                };
                used += 1;
                nb += n;
            }
            let blocks = &blocks[..used];
            let a = BlocksF32 {
                blocks,
                sb_oc,
                cpg,
                nb_max,
                halves,
                clamp,
                clamp_f32,
                scalar_act,
                activation: g.activation,
            };
            for b in 0..g.batch {
                let Some((pw, bh)) = band else {
                    let mut m0 = 0;
                    while m0 < pixels {
                        let rows = (pixels - m0).min(MR_F32);
                        let mut out_rows = [core::ptr::null_mut::<f32>(); MR_F32];
                        plan.for_each_tile_row(m0, rows, MR_F32, |r, m, _, _| {
                            // SAFETY: pixel `(b, m)` exists; `sb_oc < out_c`.
                            out_rows[r] = unsafe { out.add((b * pixels + m) * g.out_c + sb_oc) };
                        });
                        plan.for_each_tile_tap((b, grp), m0, rows, MR_F32, |t, r, at| {
                            ptrs[t][r] = match at {
                                // SAFETY: `at` is a pixel inside the input (the plan's window),
                                // the group's `cpg` channels follow it.
                                Some(at) => unsafe { x.add(at) },
                                None => zero_row.as_ptr(),
                            };
                        });
                        // SAFETY: every pointer reads `cpg` floats (a tap or the zero row);
                        // blocks and outputs as `run_blocks_f32` asks (this function's
                        // contract).
                        unsafe { run_blocks_f32(&a, &ptrs[..plan.taps], &out_rows, rows) };
                        m0 += MR_F32;
                    }
                    continue;
                };
                // Bands of `bh` output rows: their padded input rows copied (unless the input
                // is read in place), every tile's windows at the tap offsets from its corners.
                let mut oh0 = 0;
                while oh0 < g.out_h {
                    let oh1 = (oh0 + bh).min(g.out_h);
                    let base = if in_place {
                        // SAFETY: image `b` of the input, group 0 (in place: one group).
                        unsafe { x.add(b * g.in_h * g.in_w * g.in_c) }
                    } else {
                        // The band's rows (the tallest band fits: `band_f32`).
                        let band_rows = (oh1 - oh0 - 1) * g.stride_h + win_h;
                        padded_copy(
                            &mut band_store,
                            band_rows * pw * cpg,
                            input,
                            g,
                            (cpg, grp, b),
                            (oh0 * g.stride_h, pw),
                            (0.0, 0.0),
                        )
                        .as_ptr()
                    };
                    let first = if in_place { 0 } else { oh0 };
                    let mut m0 = oh0 * g.out_w;
                    let end = oh1 * g.out_w;
                    while m0 < end {
                        let rows = (end - m0).min(MR_F32);
                        let mut out_rows = [core::ptr::null_mut::<f32>(); MR_F32];
                        let mut corners = [core::ptr::null::<f32>(); MR_F32];
                        plan.for_each_tile_row(m0, rows, MR_F32, |r, m, oh, ow| {
                            // SAFETY: pixel `(b, m)` exists; `sb_oc < out_c`.
                            out_rows[r] = unsafe { out.add((b * pixels + m) * g.out_c + sb_oc) };
                            let at = (oh - first) * g.stride_h * row_stride
                                + ow * g.stride_w * px_stride;
                            corners[r] = base.wrapping_add(at);
                        });
                        let segs = RowOffsets {
                            rows: corners,
                            offs: tap_offs,
                        };
                        // SAFETY: the windows of the tile's pixels (rows `oh0 .. oh1`) lie in
                        // the band (`band_f32`) or, in place, in the input: `cpg` floats at every
                        // tap offset; blocks and outputs as `run_blocks_f32` asks.
                        unsafe { run_blocks_f32(&a, segs, &out_rows, rows) };
                        m0 += MR_F32;
                    }
                    oh0 = oh1;
                }
            }
        }
    }
}

/// A super-block's blocks and what their tiles share.
struct BlocksF32<'a> {
    blocks: &'a [BlockF32],
    sb_oc: usize,
    cpg: usize,
    nb_max: usize,
    halves: bool,
    clamp: Option<(__m256, __m256)>,
    clamp_f32: Option<(f32, f32)>,
    scalar_act: bool,
    activation: Activation,
}

/// Runs every block of a super-block on one tile of rows (`segs`) and stores them.
///
/// # Safety
/// As [`gemm_f32`]'s tiles: every segment pointer readable for `cpg` floats; each block's
/// weights as packed for its width; `out_rows[r]` (channel `sb_oc` of row `r`'s pixel) writable
/// for the super-block's channels, `r < rows`; the AVX-512 tile only where available.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn run_blocks_f32(
    a: &BlocksF32,
    segs: impl Segments<f32, MR_F32>,
    out_rows: &[*mut f32; MR_F32],
    rows: usize,
) {
    let (cpg, clamp, clamp_f32) = (a.cpg, a.clamp, a.clamp_f32);
    for blk in a.blocks {
        let (n, width, w_block, init) = (blk.n, blk.width, blk.w, blk.init);
        // Channel `blk.oc ≥ sb_oc` of each row's pixel.
        let out_rows = out_rows.map(|o| o.wrapping_add(blk.oc - a.sb_oc));
        // SAFETY: every pointer reads `cpg` floats; the block holds `k · width` floats; outputs
        // hold `n` floats per row (caller).
        unsafe {
            match (a.nb_max, width) {
                _ if a.halves => {
                    // The cached block's two 16-channel halves (`n = 32`: the cache holds whole
                    // 32-channel blocks).
                    let (w, c) = (w_block, clamp);
                    let [i0, i1, i2, i3] = init;
                    let hi_rows = out_rows.map(|o| o.wrapping_add(16));
                    tile_f32::<2>(segs, cpg, w, 32, &init, c, &out_rows, rows, 16);
                    let (w, i) = (w.add(16), [i2, i3, i0, i1]);
                    tile_f32::<2>(segs, cpg, w, 32, &i, c, &hi_rows, rows, 16);
                }
                (32, 32) => super::avx512_vnni::tile_f32_avx512_rows::<2>(
                    segs, cpg, w_block, &init, clamp_f32, &out_rows, rows, n,
                ),
                (32, _) => super::avx512_vnni::tile_f32_avx512_rows::<1>(
                    segs, cpg, w_block, &init, clamp_f32, &out_rows, rows, n,
                ),
                (16, _) => tile_f32::<2>(segs, cpg, w_block, 16, &init, clamp, &out_rows, rows, n),
                _ => tile_f32::<1>(segs, cpg, w_block, 8, &init, clamp, &out_rows, rows, n),
            }
        }
        if a.scalar_act {
            for &o in out_rows.iter().take(rows) {
                // SAFETY: `n` floats of this row's output (as above).
                let s = unsafe { core::slice::from_raw_parts_mut(o, n) };
                a.activation.apply_slice(s);
            }
        }
    }
}

/// Floats of the f32 GEMM's band buffer (48 KiB): bands of padded input rows for layers with
/// windows. ResNet-8's 16-channel 3×3 layers take bands of 20 output rows (22 padded rows of
/// 34 pixels).
const BAND_F32: usize = 12 * 1024;

/// Most channels per group on the band path: the per-tap pointers cost less next to deeper
/// taps than the copies and the band's partial tiles (kernels bench, AVX-512 Zen 5: 16
/// channels per group `resnet8_3x3_32x32x16_16` 71.2 → 78.6 G MAC/s and
/// `resnext29_g8_3x3_32x32x128` 67.6 → 74.3 with bands; 64, `dense_3x3_56x56x64_64` 123.8 →
/// 108.5 and `resnext29_g8_3x3_16x16x512` 114.3 → 108.5).
const BAND_MAX_CPG: usize = 32;

/// `(padded width, output rows per band)` of the f32 GEMM's band path: a layer with windows
/// (not pointwise, at most [`super::MAX_TAPS`] taps) whose padded rows for at least one output
/// row fit [`BAND_F32`]. Output row `oh`'s windows read padded rows `oh · stride_h ..` of width
/// `(out_w − 1) · stride_w + (kernel_w − 1) · dilation_w + 1`.
fn band_f32(plan: &S8Plan) -> Option<(usize, usize)> {
    let g = &plan.g;
    if plan.pointwise || plan.taps > super::MAX_TAPS || plan.cpg > BAND_MAX_CPG {
        return None;
    }
    let win_h = g.kernel_h.checked_sub(1)?.checked_mul(g.dilation_h)? + 1;
    let pw = g
        .out_w
        .checked_sub(1)?
        .checked_mul(g.stride_w)?
        .checked_add(g.kernel_w.checked_sub(1)?.checked_mul(g.dilation_w)?)?
        .checked_add(1)?;
    let rows = BAND_F32 / pw.checked_mul(plan.cpg)?.max(1);
    let bh = rows.checked_sub(win_h)? / g.stride_h.max(1) + 1;
    Some((pw, bh.min(g.out_h.max(1))))
}

/// The first `len` elements of `buf` (at most its length) written by [`super::fill_padded_rows`]
/// with these arguments, as an initialized slice: the copy initializes the buffer, with no
/// zeroing before it ([`super::PadSlot`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn padded_copy<'a, T: super::PadElem>(
    buf: &'a mut [core::mem::MaybeUninit<T>],
    len: usize,
    input: &[T],
    g: &Conv2dParams,
    at: (usize, usize, usize),
    rows: (usize, usize),
    fill: (T, T),
) -> &'a mut [T] {
    let dst = buf.split_at_mut(len.min(buf.len())).0;
    super::fill_padded_rows(dst, input, g, at, rows, fill);
    // SAFETY: `fill_padded_rows` writes every element of its destination (its contract);
    // `MaybeUninit<T>` has `T`'s layout.
    unsafe { &mut *(core::ptr::from_mut(dst) as *mut [T]) }
}

/// The first `len` elements of `buf` (at most its length) set to `value`, as an initialized
/// slice. The kernels' stack buffers are sized for their largest call, and a call uses a
/// prefix: zeroing the whole of them per call was 3 % of ResNet-8's int8 time in `memset`
/// (a 4 KiB zero-point row per GEMM call for the `cpg` bytes it reads; a 48 KiB f32 band).
pub(super) fn init_prefix<T: Copy>(
    buf: &mut [core::mem::MaybeUninit<T>],
    len: usize,
    value: T,
) -> &mut [T] {
    let head = buf.split_at_mut(len.min(buf.len())).0;
    for x in head.iter_mut() {
        x.write(value);
    }
    // SAFETY: every element of `head` was written just above; `MaybeUninit<T>` has `T`'s layout.
    unsafe { &mut *(core::ptr::from_mut(head) as *mut [T]) }
}

/// Most weights of an f32 GEMM super-block: 16 KiB.
const SUPER_F32: usize = 4096;

/// One block of an f32 GEMM super-block: its packed (or cached) weights, bias, channels and
/// packed width.
#[derive(Clone, Copy)]
struct BlockF32 {
    w: *const f32,
    init: [__m256; 4],
    oc: usize,
    n: usize,
    width: usize,
}

impl BlockF32 {
    const EMPTY: Self = Self {
        w: core::ptr::null(),
        // SAFETY: an all-zero bit pattern is a valid `__m256` (0.0 in every lane).
        init: unsafe { core::mem::zeroed() },
        oc: 0,
        n: 0,
        width: 0,
    };
}

/// Transposes the `n ≤ nb` rows of `k` floats at `src` into `[k][nb]` at `dst` (zeros for rows
/// `n .. nb`), 8×8 blocks at a time.
///
/// # Safety
/// AVX2 available; `src` readable for `n · k` floats; `dst` writable for `k · nb` floats;
/// `nb` is 8, 16 or 32.
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_f32(src: *const f32, k: usize, n: usize, nb: usize, dst: *mut f32) {
    let k8 = k / 8 * 8;
    let mut j0 = 0;
    while j0 < nb {
        let rows = n.saturating_sub(j0).min(8);
        let mut kk = 0;
        while kk < k8 {
            let mut r = [_mm256_setzero_si256(); 8];
            for (l, v) in r.iter_mut().enumerate().take(rows) {
                // SAFETY: floats `kk .. kk + 8 ≤ k` of row `j0 + l < n`.
                *v = _mm256_castps_si256(unsafe { _mm256_loadu_ps(src.add((j0 + l) * k + kk)) });
            }
            for (i, v) in transpose8(r).into_iter().enumerate() {
                // SAFETY: row `kk + i < k`, columns `j0 .. j0 + 8 ≤ nb`.
                unsafe { _mm256_storeu_ps(dst.add((kk + i) * nb + j0), _mm256_castsi256_ps(v)) };
            }
            kk += 8;
        }
        for kk in k8..k {
            for l in 0..8 {
                let v = if l < rows {
                    // SAFETY: float `kk < k` of row `j0 + l < n`.
                    unsafe { *src.add((j0 + l) * k + kk) }
                } else {
                    0.0
                };
                // SAFETY: inside `k · nb`.
                unsafe { dst.add(kk * nb + j0 + l).write(v) };
            }
        }
        j0 += 8;
    }
}

/// One f32 tile: `MR_F32` rows × `NV` vectors of 8 channels, stored (with a clamp activation).
/// The packed weights have `stride ≥ 8·NV` floats per depth step (a 16-channel half of a cached
/// 32-channel block has 32).
///
/// # Safety
/// AVX2/FMA; every segment pointer readable for `cpg` floats; `w` readable for
/// `segs.count() · cpg · stride` floats; `out_rows[r]` writable for `n ≤ 8·NV` floats, `r < rows`.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_f32<const NV: usize>(
    segs: impl Segments<f32, MR_F32>,
    cpg: usize,
    mut w: *const f32,
    stride: usize,
    init: &[__m256; 4],
    clamp: Option<(__m256, __m256)>,
    out_rows: &[*mut f32; MR_F32],
    rows: usize,
    n: usize,
) {
    let mut acc = [[_mm256_setzero_ps(); NV]; MR_F32];
    for row in acc.iter_mut() {
        for (a, i) in row.iter_mut().zip(init) {
            *a = *i;
        }
    }
    for si in 0..segs.count() {
        let seg = segs.get(si);
        for c in 0..cpg {
            let mut wv = [_mm256_setzero_ps(); NV];
            for (j, v) in wv.iter_mut().enumerate() {
                // SAFETY: inside the packed block (caller).
                *v = unsafe { _mm256_loadu_ps(w.add(8 * j)) };
            }
            for (r, row) in acc.iter_mut().enumerate() {
                // SAFETY: float `c < cpg` of the segment (caller).
                let xv = _mm256_set1_ps(unsafe { *seg[r].add(c) });
                for (a, v) in row.iter_mut().zip(&wv) {
                    *a = _mm256_fmadd_ps(xv, *v, *a);
                }
            }
            // SAFETY: stays within (or one past) the packed block.
            w = unsafe { w.add(stride) };
        }
    }
    for (r, row) in acc.iter().enumerate().take(rows) {
        for (j, a) in row.iter().enumerate() {
            let lanes = n.saturating_sub(8 * j).min(8);
            if lanes == 0 {
                continue;
            }
            let v = activate(*a, clamp);
            // SAFETY: `lanes` floats from channel `8j` of this row's block (caller).
            unsafe {
                let dst = out_rows[r].add(8 * j);
                if lanes == 8 {
                    _mm256_storeu_ps(dst, v);
                } else {
                    _mm256_maskstore_ps(dst, mask8(lanes), v);
                }
            }
        }
    }
}

/// # Safety
/// AVX2/FMA available; `plan` validated for these slices (depthwise kind).
#[target_feature(enable = "avx2,fma")]
unsafe fn depthwise_f32(
    _t: Avx2,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let c = g.in_c;
    let taps = plan.taps;
    let chunk = (DW_F32 / taps / 8 * 8).max(8);
    let mut wt = Aligned([0f32; DW_F32]);
    let pixels = g.out_h * g.out_w;
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let clamp = g
        .activation
        .clamp_bounds()
        .map(|(lo, hi)| (_mm256_set1_ps(lo), _mm256_set1_ps(hi)));
    let scalar_act = clamp.is_none() && g.activation != Activation::None;
    let mut tap_ptr = [x; super::MAX_TAPS];
    let mut c0 = 0;
    while c0 < c {
        let cn = (c - c0).min(chunk);
        let cn8 = cn.next_multiple_of(8);
        // Transposed weights: [tap][cn8].
        for t in 0..taps {
            for j in 0..cn8 {
                wt.0[t * cn8 + j] = if j < cn {
                    weights[(c0 + j) * taps + t]
                } else {
                    0.0
                };
            }
        }
        for b in 0..g.batch {
            for m in 0..pixels {
                let (oh, ow) = (m / g.out_w, m % g.out_w);
                let (ih0, kh0, kh1) =
                    S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
                let (iw0, kw0, kw1) =
                    S8Plan::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
                // The valid taps, in order, with their weight rows.
                let mut valid = [0usize; super::MAX_TAPS];
                let mut nvalid = 0;
                for kh in kh0..kh1 {
                    for kw in kw0..kw1 {
                        let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                        let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                        // SAFETY: (b, ih, iw) is inside the input.
                        tap_ptr[nvalid] =
                            unsafe { x.add(((b * g.in_h + ih) * g.in_w + iw) * c + c0) };
                        valid[nvalid] = kh * g.kernel_w + kw;
                        nvalid += 1;
                    }
                }
                // SAFETY: pixel `(b, m)` exists; channels `c0 .. c0 + cn`.
                let dst = unsafe { out.add((b * pixels + m) * c + c0) };
                let mut j = 0;
                while j < cn {
                    let lanes = (cn - j).min(8);
                    let mask = mask8(lanes);
                    // SAFETY: channels `c0 + j .. + lanes` of the bias, of each valid tap's
                    // pixel and of the output pixel; masked lanes are not accessed.
                    unsafe {
                        let mut acc = match bias {
                            Some(bv) => _mm256_maskload_ps(bv.as_ptr().add(c0 + j), mask),
                            None => _mm256_setzero_ps(),
                        };
                        for i in 0..nvalid {
                            let xv = _mm256_maskload_ps(tap_ptr[i].add(j), mask);
                            let wv = _mm256_load_ps(wt.0.as_ptr().add(valid[i] * cn8 + j));
                            acc = _mm256_fmadd_ps(xv, wv, acc);
                        }
                        let v = activate(acc, clamp);
                        _mm256_maskstore_ps(dst.add(j), mask, v);
                    }
                    j += 8;
                }
                if scalar_act {
                    // SAFETY: `cn` floats of this pixel's output.
                    let s = unsafe { core::slice::from_raw_parts_mut(dst, cn) };
                    g.activation.apply_slice(s);
                }
            }
        }
        c0 += cn;
    }
}
