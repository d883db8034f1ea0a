//! int8 convolution with NEON (aarch64, Cortex-A72 class: no dot product): `conv2d_s8_neon`.
//! The driver (planning, im2col, output stage, depthwise) is shared with
//! `conv2d_s8_neon_dotprod`, which only swaps the micro-kernel.
//!
//! - **GEMM** (dense, 1×1, grouped): rows = output pixels, columns = output channels, depth =
//!   `kernel_h · kernel_w · in_c / groups`. The micro-kernel keeps a tile of 4 pixels × 4
//!   channels in 16 registers of 4 partial sums and multiplies 16 depth bytes of a pixel with
//!   16 bytes of a weight row, so both operands are contiguous as they lie in memory (NHWC
//!   input, OHWI weights): when the group's channel count is a multiple of 16 every kernel tap
//!   is read in place and the weights are not repacked at all; otherwise each tile's pixels are
//!   gathered into a zero-padded im2col row and the weights copied into rows padded alike. The
//!   sums are `Σ w·x` over the raw int8 input and the bias absorbs `input_offset · Σ w` (padding
//!   taps read the input zero point, so they cancel), which keeps both operands 8-bit.
//!   Without a dot product the exact byte multiply is `SMULL` (8 products in i16) then `SADALP`
//!   (pairwise into i32). When a block's weights have no −128 the two halves of 16 bytes are
//!   combined with `SMLAL2` before the `SADALP` (`|x·w| ≤ 128·127`, so two products fit in
//!   i16), one instruction in four saved; ruy's kernels for pre-dot-product cores rely on the
//!   same bound. Four-lane sums are folded to one lane per channel with two `ADDP` at the end.
//! - **Depthwise** (one input and one output channel per group, any kernel size, stride,
//!   dilation): channels in vectors of 16, `x + input_offset` widened to i16 with `SSUBL`
//!   against the zero point, weights pre-widened to i16 per tap, `SMLAL`/`SMLAL2` into i32.
//!   Padding taps are skipped. The dot product does not help here (one tap per channel), so
//!   the dot-product entry runs this code too.
//! - **Output stage**: the requantization in vector form, [`Requant4`] for double rounding
//!   (lanes whose left shift overflows go to the scalar function) and [`RequantSingle4`] for
//!   single rounding (exact for every input, no fallback); both are bit-exact with
//!   `multiply_by_quantized_multiplier`. Shifts outside `[-31, 30]` decline the call.
//!
//! Calls this file declines (the reference runs them): padded depth above 1024 when the
//! group's channel count is not a multiple of 16 (im2col row on the stack), more than 4096
//! channels per group otherwise (row of zero points), more than 64 taps, shifts outside
//! `[-31, 30]`, output stage parameters outside the int8 range, input zero points outside int8,
//! slices that do not match the shapes ([`S8Plan::new`]).

use core::arch::aarch64::*;

use super::{Conv2dS8Params, S8Kind, S8Plan};
use crate::arch::aarch64::{narrow16, requant_float4, Neon, Requant4, RequantSingle4};
use crate::arch::OutputStage;
use crate::ops::util::requantize_output;
use crate::quant::Rounding;

/// Pixels per GEMM tile.
pub(super) const MR: usize = 4;
/// Output channels per block (their biases and requantization constants are prepared once).
const NB: usize = 64;
/// Packed (padded) weight rows on the im2col path: 16 KiB.
const PACK_BYTES: usize = 16 * 1024;
/// Largest padded depth gathered into an im2col row.
const MAX_IM2COL_K: usize = 1024;
/// Longest row of input zero points (channels per group on the in-place path).
const MAX_ZERO_ROW: usize = 4096;
/// Depthwise channels per chunk.
const DW_CHUNK: usize = 256;
/// Depthwise i16 weights buffer (`[tap][chunk]`): 16 KiB.
const DW_HALVES: usize = 8 * 1024;

/// A validated call: every offset computed from `plan` is inside the slices.
pub(super) struct Ctx<'a> {
    plan: S8Plan,
    st: OutputStage,
    p: &'a Conv2dS8Params,
    input: &'a [i8],
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    mults: &'a [i32],
    shifts: &'a [i32],
}

impl Ctx<'_> {
    /// How the call runs (depthwise or a GEMM).
    pub(super) fn kind(&self) -> S8Kind {
        self.plan.kind
    }
}

/// A GEMM micro-kernel. Its `tile` is inlined into the driver ([`gemm`]), which each kernel
/// file instantiates in a function compiled for its instruction set (`gemm_neon`, `gemm_dot`,
/// `gemm_mmla`): the four channel quads of a tile then keep their sums in registers, where a
/// call through a function pointer per quad returned them through memory.
pub(super) trait Tile {
    /// How the driver lays out the weight rows for it.
    const ROWS: WeightRows;

    /// For `MR` pixels and 4 weight rows `w[j]` (in the [`Tile::ROWS`] layout), the 4 sums
    /// `Σ_s Σ_{b < seg} x[s][r][b] · w[j][s·seg + b]` (lane `j` of result `r`).
    ///
    /// # Safety
    /// The instruction set of the kernel is available; every `x[s][r]` is readable for `seg`
    /// bytes and every `w[j]` for `x.len() · seg` bytes (twice that for [`WeightRows::Pairs`]);
    /// `seg` is a multiple of 16.
    unsafe fn tile(x: &[[*const i8; MR]], seg: usize, w: &[*const i8; 4]) -> [int32x4_t; MR];
}

/// A GEMM driver compiled for one instruction set (see [`Tile`]).
///
/// # Safety
/// As [`gemm`].
pub(super) type GemmFn = unsafe fn(&Ctx, &mut [i8]);

/// Validates the call; `None` when it is outside what this file covers.
pub(super) fn prepare<'a>(
    p: &'a Conv2dS8Params,
    input: &'a [i8],
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    mults: &'a [i32],
    shifts: &'a [i32],
    output: usize,
) -> Option<Ctx<'a>> {
    let plan = S8Plan::new(
        p,
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        mults.len(),
        shifts.len(),
        output,
    )?;
    let st = OutputStage::new(p.output_offset, p.act_min, p.act_max)?;
    // The float output stage's vector form needs exact clamp bounds; the fixed-point ones,
    // TFLite's shift range.
    let fits = match p.rounding {
        Rounding::Float => st.float_exact(),
        _ => shifts.iter().all(|s| (-31..=30).contains(s)),
    };
    if !fits {
        return None;
    }
    let fits = match plan.kind {
        S8Kind::Depthwise => true,
        _ if plan.cpg % 16 == 0 => plan.cpg <= MAX_ZERO_ROW,
        _ => plan.k_len.next_multiple_of(16) <= MAX_IM2COL_K,
    };
    fits.then_some(Ctx {
        plan,
        st,
        p,
        input,
        weights,
        bias,
        mults,
        shifts,
    })
}

/// `conv2d_s8_neon`: see the module documentation. Returns `false` without writing when NEON is
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
    let Some(tok) = Neon::get() else {
        return false;
    };
    let Some(ctx) = prepare(p, input, weights, bias, mults, shifts, output.len()) else {
        return false;
    };
    // SAFETY: `tok` proves NEON; `prepare` checked every slice length against the shapes and
    // the buffer limits; both micro-kernels need NEON only.
    unsafe { run(tok, &ctx, output, gemm_neon) };
    true
}

/// [`gemm`] with the NEON micro-kernels.
///
/// # Safety
/// As [`gemm`], with NEON.
#[target_feature(enable = "neon")]
unsafe fn gemm_neon(ctx: &Ctx, output: &mut [i8]) {
    // SAFETY: forwarded; both micro-kernels need NEON only.
    unsafe { gemm::<TileNeon<false>, TileNeon<true>>(ctx, output) }
}

/// Runs a prepared call: depthwise, or the GEMM with `gemm` (a [`gemm`] instantiation).
///
/// # Safety
/// NEON available; `ctx` from [`prepare`] for a slice of `output.len()` bytes; `gemm`'s
/// instruction set available.
#[target_feature(enable = "neon")]
pub(super) unsafe fn run(t: Neon, ctx: &Ctx, output: &mut [i8], gemm: GemmFn) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match ctx.plan.kind {
            S8Kind::Depthwise => depthwise(t, ctx, output),
            S8Kind::SmallGroups | S8Kind::Gemm => gemm(ctx, output),
        }
    }
}

/// How a block's weight rows reach the micro-kernel.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum WeightRows {
    /// `w[j]` is output channel `j`'s row of `k` bytes: read in place when the group's channels
    /// are whole vectors, else copied into rows padded to `k_pad`.
    Plain,
    /// Always packed, two channels per row of `2 · k_pad` bytes, interleaved by 8 bytes (8 depth
    /// bytes of channel `2p`, the same 8 of channel `2p + 1`, the next 8 of each…): the operand
    /// `SMMLA` multiplies. `w[0]` and `w[1]` are the quad's two pairs (`w[2]`, `w[3]` repeat
    /// them). Packing needs `4 · k_pad ≤ PACK_BYTES` ([`pairs_fit`]).
    Pairs,
}

/// Whether [`WeightRows::Pairs`] can pack the blocks of `ctx` (at least one quad of channels in
/// the packing buffer).
pub(super) fn pairs_fit(ctx: &Ctx) -> bool {
    ctx.plan.k_len.next_multiple_of(16) * 4 <= PACK_BYTES
}

// ---------------------------------------------------------------------------------------------
// Output stage
// ---------------------------------------------------------------------------------------------

/// Requantization constants of 4 channels, in the call's rounding.
#[derive(Clone, Copy)]
enum Rq {
    Double(Requant4),
    Single(RequantSingle4),
    /// The 4 channels' f32 scales ([`requant_float4`]).
    Float(float32x4_t),
}

impl Rq {
    /// For channels `oc .. oc + n` (`n ≤ 4`; missing lanes get multiplier and shift 0).
    #[target_feature(enable = "neon")]
    #[inline]
    fn new(ctx: &Ctx, oc: usize, n: usize) -> Self {
        let (mut m, mut s) = ([0i32; 4], [0i32; 4]);
        for i in 0..n.min(4) {
            m[i] = ctx.mults.get(oc + i).copied().unwrap_or(0);
            s[i] = ctx.shifts.get(oc + i).copied().unwrap_or(0);
        }
        // SAFETY: the arrays hold 4 lanes.
        let (mv, sv) = unsafe { (vld1q_s32(m.as_ptr()), vld1q_s32(s.as_ptr())) };
        match ctx.p.rounding {
            Rounding::Double => Rq::Double(Requant4::new(mv, sv)),
            Rounding::Single => Rq::Single(RequantSingle4::new(mv, sv)),
            Rounding::Float => Rq::Float(vreinterpretq_f32_s32(mv)),
        }
    }
}

/// The lanes of `ovf` (a left shift overflowed: rare) recomputed with the scalar function, the
/// others taken from `v`. Out of line so the hot path keeps its registers.
#[cold]
#[inline(never)]
#[target_feature(enable = "neon")]
fn scalar_lanes(
    ctx: &Ctx,
    acc: int32x4_t,
    v: int32x4_t,
    ovf: uint32x4_t,
    oc: usize,
    n: usize,
) -> int32x4_t {
    let (mut a, mut o, mut f) = ([0i32; 4], [0i32; 4], [0u32; 4]);
    // SAFETY: the arrays hold 4 lanes.
    unsafe {
        vst1q_s32(a.as_mut_ptr(), acc);
        vst1q_s32(o.as_mut_ptr(), v);
        vst1q_u32(f.as_mut_ptr(), ovf);
    }
    for i in 0..n.min(4) {
        if f[i] != 0 {
            let c = oc + i;
            o[i] = i32::from(requantize_output(
                a[i],
                ctx.mults.get(c).copied().unwrap_or(0),
                ctx.shifts.get(c).copied().unwrap_or(0),
                ctx.p.rounding,
                ctx.p.output_offset,
                ctx.p.act_min,
                ctx.p.act_max,
            ));
        }
    }
    // SAFETY: `o` holds 4 lanes.
    unsafe { vld1q_s32(o.as_ptr()) }
}

impl Rq {
    /// The output stage of `MR` vectors of the same 4 channels `oc .. oc + n` (one per pixel; i32
    /// lanes in `[-128, 127]`): the constants stay in registers and one test covers the overflow
    /// lanes of all of them.
    #[target_feature(enable = "neon")]
    #[inline]
    fn apply_rows(&self, ctx: &Ctx, acc: [int32x4_t; MR], oc: usize, n: usize) -> [int32x4_t; MR] {
        match self {
            Rq::Single(r) => acc.map(|a| r.apply(a, &ctx.st)),
            Rq::Float(s) => acc.map(|a| requant_float4(a, *s, &ctx.st)),
            Rq::Double(r) => {
                let out = acc.map(|a| r.apply(a, &ctx.st));
                let any = out.iter().fold(vdupq_n_u32(0), |m, o| vorrq_u32(m, o.1));
                if vmaxvq_u32(any) == 0 {
                    return out.map(|o| o.0);
                }
                core::array::from_fn(|i| scalar_lanes(ctx, acc[i], out[i].0, out[i].1, oc, n))
            }
        }
    }
}

/// Double-rounding output stage of 16 consecutive channels from `oc` (`n ≤ 16` of them real),
/// `rd[i]` holding the constants of channels `oc + 4i ..`: one overflow test for all four.
#[target_feature(enable = "neon")]
#[inline]
fn requant_quads(
    ctx: &Ctx,
    rd: &[Requant4],
    acc: [int32x4_t; 4],
    oc: usize,
    n: usize,
) -> [int32x4_t; 4] {
    let out: [(int32x4_t, uint32x4_t); 4] = core::array::from_fn(|i| match rd.get(i) {
        Some(r) => r.apply(acc[i], &ctx.st),
        None => (acc[i], vdupq_n_u32(0)),
    });
    let any = out.iter().fold(vdupq_n_u32(0), |m, o| vorrq_u32(m, o.1));
    if vmaxvq_u32(any) == 0 {
        return out.map(|o| o.0);
    }
    core::array::from_fn(|i| {
        scalar_lanes(
            ctx,
            acc[i],
            out[i].0,
            out[i].1,
            oc + 4 * i,
            n.saturating_sub(4 * i).min(4),
        )
    })
}

/// Stores the low `n ≤ 16` bytes of `v`.
///
/// # Safety
/// NEON available; `dst` writable for `n` bytes.
#[target_feature(enable = "neon")]
#[inline]
unsafe fn store_bytes(v: int8x16_t, n: usize, dst: *mut i8) {
    if n >= 16 {
        // SAFETY: 16 bytes writable (caller).
        unsafe { vst1q_s8(dst, v) };
    } else if n == 4 {
        let w = vgetq_lane_u32::<0>(vreinterpretq_u32_s8(v));
        // SAFETY: 4 bytes writable (caller); unaligned write.
        unsafe { dst.cast::<u32>().write_unaligned(w) };
    } else {
        let mut t = [0i8; 16];
        // SAFETY: `t` holds 16 bytes; `n < 16` bytes writable at `dst` (caller).
        unsafe {
            vst1q_s8(t.as_mut_ptr(), v);
            core::ptr::copy_nonoverlapping(t.as_ptr(), dst, n);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM
// ---------------------------------------------------------------------------------------------

/// The NEON micro-kernel. `NO_M128`: the weights hold no −128, so two products are summed in
/// i16 before widening.
struct TileNeon<const NO_M128: bool>;

impl<const NO_M128: bool> Tile for TileNeon<NO_M128> {
    const ROWS: WeightRows = WeightRows::Plain;

    #[inline(always)]
    unsafe fn tile(x: &[[*const i8; MR]], seg: usize, w: &[*const i8; 4]) -> [int32x4_t; MR] {
        // SAFETY: forwarded (NEON is available: every caller is compiled with it).
        unsafe { tile_neon::<NO_M128>(x, seg, w) }
    }
}

/// [`TileNeon`]'s body.
///
/// # Safety
/// As [`Tile::tile`].
#[target_feature(enable = "neon")]
#[inline]
unsafe fn tile_neon<const NO_M128: bool>(
    x: &[[*const i8; MR]],
    seg: usize,
    w: &[*const i8; 4],
) -> [int32x4_t; MR] {
    let mut acc = [[vdupq_n_s32(0); 4]; MR];
    for (s, xs) in x.iter().enumerate() {
        let wo = s * seg;
        let mut b = 0;
        while b < seg {
            // SAFETY: bytes `wo + b .. + 16 ≤ x.len() · seg` of each weight row, `b .. b + 16 ≤
            // seg` of each pixel's segment (caller).
            unsafe {
                let wv = [
                    vld1q_s8(w[0].add(wo + b)),
                    vld1q_s8(w[1].add(wo + b)),
                    vld1q_s8(w[2].add(wo + b)),
                    vld1q_s8(w[3].add(wo + b)),
                ];
                for (r, row) in acc.iter_mut().enumerate() {
                    let xv = vld1q_s8(xs[r].add(b));
                    let xl = vget_low_s8(xv);
                    for (a, wj) in row.iter_mut().zip(&wv) {
                        if NO_M128 {
                            let p = vmlal_high_s8(vmull_s8(xl, vget_low_s8(*wj)), xv, *wj);
                            *a = vpadalq_s16(*a, p);
                        } else {
                            *a = vpadalq_s16(*a, vmull_s8(xl, vget_low_s8(*wj)));
                            *a = vpadalq_s16(*a, vmull_high_s8(xv, *wj));
                        }
                    }
                }
            }
            b += 16;
        }
    }
    acc.map(|r| reduce4(r))
}

/// Writes weight rows `a` and `b` (each at most `k_pad` bytes, zeros after them; `b` absent:
/// zeros) into `packed` as pair `p` of the [`WeightRows::Pairs`] layout: with `ZIP1`/`ZIP2` of
/// 64-bit lanes when both fill `k_pad` (every in-place layer), byte rows otherwise.
#[target_feature(enable = "neon")]
#[inline]
fn pack_pair(packed: &mut [i8], p: usize, k_pad: usize, a: &[i8], b: Option<&[i8]>) {
    let base = p * 2 * k_pad;
    let Some(dst) = packed.get_mut(base..base + 2 * k_pad) else {
        return;
    };
    if a.len() == k_pad && b.is_none_or(|b| b.len() == k_pad) {
        for (i, (d, ca)) in dst.chunks_exact_mut(32).zip(a.chunks_exact(16)).enumerate() {
            let cb = b.and_then(|b| b.get(16 * i..16 * i + 16));
            // SAFETY: `ca` and `cb` hold 16 bytes, `d` 32.
            unsafe {
                let va = vreinterpretq_s64_s8(vld1q_s8(ca.as_ptr()));
                let vb = match cb {
                    Some(cb) => vreinterpretq_s64_s8(vld1q_s8(cb.as_ptr())),
                    None => vdupq_n_s64(0),
                };
                vst1q_s8(d.as_mut_ptr(), vreinterpretq_s8_s64(vzip1q_s64(va, vb)));
                vst1q_s8(
                    d.as_mut_ptr().add(16),
                    vreinterpretq_s8_s64(vzip2q_s64(va, vb)),
                );
            }
        }
    } else {
        pack_pair_row(packed, 2 * p, k_pad, a);
        pack_pair_row(packed, 2 * p + 1, k_pad, b.unwrap_or(&[]));
    }
}

/// Writes weight row `j` (`row`, at most `k_pad` bytes, zeros after it) into `packed` in the
/// [`WeightRows::Pairs`] layout.
fn pack_pair_row(packed: &mut [i8], j: usize, k_pad: usize, row: &[i8]) {
    let base = (j / 2) * 2 * k_pad + 8 * (j % 2);
    for c in 0..k_pad / 8 {
        let at = base + 16 * c;
        let Some(dst) = packed.get_mut(at..at + 8) else {
            return;
        };
        let src = row.get(8 * c..).unwrap_or(&[]);
        let n = src.len().min(8);
        dst[..n].copy_from_slice(&src[..n]);
        dst[n..].fill(0);
    }
}

/// `[Σ a[0], Σ a[1], Σ a[2], Σ a[3]]`.
#[target_feature(enable = "neon")]
#[inline]
pub(super) fn reduce4(a: [int32x4_t; 4]) -> int32x4_t {
    vpaddq_s32(vpaddq_s32(a[0], a[1]), vpaddq_s32(a[2], a[3]))
}

/// The GEMM driver with micro-kernel `T` (`T2` for blocks whose weights have no −128), inlined
/// into the caller, which is compiled for their instruction set.
///
/// # Safety
/// NEON and the micro-kernels' instruction sets available; `ctx` from [`prepare`] (GEMM kinds);
/// `output` has the plan's length; `T::ROWS == T2::ROWS`.
#[target_feature(enable = "neon")]
#[inline]
pub(super) unsafe fn gemm<T: Tile, T2: Tile>(ctx: &Ctx, output: &mut [i8]) {
    let rows = T::ROWS;
    let pl = &ctx.plan;
    let g = &pl.g;
    let (cpg, opg, k) = (pl.cpg, pl.opg, pl.k_len);
    // In place when every tap's channels are whole vectors; else an im2col row per pixel.
    let direct = cpg % 16 == 0;
    let k_pad = k.next_multiple_of(16);
    let (segs, seg) = if direct { (pl.taps, cpg) } else { (1, k_pad) };
    let pairs = rows == WeightRows::Pairs;
    let pack = pairs || !direct;
    let nb_max = if pack {
        (PACK_BYTES / k_pad / 4 * 4).min(NB)
    } else {
        NB
    };
    if nb_max == 0 {
        // Callers check `pairs_fit` (and the im2col path's depth limit) first.
        return;
    }
    let zp = (-ctx.p.input_offset) as i8;
    let mut packed = [0i8; PACK_BYTES];
    let mut zero_row = [0i8; MAX_ZERO_ROW];
    if direct {
        zero_row[..cpg.min(MAX_ZERO_ROW)].fill(zp);
    }
    let mut col = [0i8; MR * MAX_IM2COL_K];
    let mut ptrs = [[core::ptr::null::<i8>(); MR]; super::MAX_TAPS];
    let mut init = [0i32; NB];
    let mut rqs = [Rq::new(ctx, 0, 0); NB / 4];
    let mut wps = [[core::ptr::null::<i8>(); 4]; NB / 4];
    let pixels = g.out_h * g.out_w;
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();

    for grp in 0..g.groups {
        let mut nb = 0;
        while nb < opg {
            let n = (opg - nb).min(nb_max);
            let nq = n.div_ceil(4);
            let oc = grp * opg + nb;
            let mut no_m128 = true;
            for j in 0..n {
                let row = &ctx.weights[(oc + j) * k..(oc + j + 1) * k];
                let (mut sum, mut min) = (0i32, 0i8);
                for &w in row {
                    sum = sum.wrapping_add(i32::from(w));
                    min = min.min(w);
                }
                no_m128 &= min != i8::MIN;
                let b = ctx.bias.and_then(|b| b.get(oc + j)).copied().unwrap_or(0);
                init[j] = b.wrapping_add(sum.wrapping_mul(ctx.p.input_offset));
                if pairs {
                    if j % 2 == 1 {
                        let prev = &ctx.weights[(oc + j - 1) * k..(oc + j) * k];
                        pack_pair(&mut packed, j / 2, k_pad, prev, Some(row));
                    } else if j + 1 == n {
                        // The quad's missing channels multiply zeros (their lanes are not
                        // stored).
                        pack_pair(&mut packed, j / 2, k_pad, row, None);
                    }
                } else if !direct {
                    let dst = &mut packed[j * k_pad..(j + 1) * k_pad];
                    dst[..k].copy_from_slice(row);
                    dst[k..].fill(0);
                }
            }
            init[n..nq * 4].fill(0);
            if pairs && n.div_ceil(2) < 2 * nq {
                // A whole pair of zeros completes the last quad.
                pack_pair(&mut packed, 2 * nq - 1, k_pad, &[], None);
            }
            for q in 0..nq {
                rqs[q] = Rq::new(ctx, oc + 4 * q, (n - 4 * q).min(4));
                // Row `j` of the block (the last one repeated past `n`).
                wps[q] = core::array::from_fn(|i| {
                    let j = (4 * q + i).min(n - 1);
                    if pairs {
                        // SAFETY: pair `2q + i % 2` of the quad: `(2q + 2) · 2 · k_pad ≤ nb_max ·
                        // k_pad ≤ PACK_BYTES`.
                        unsafe { packed.as_ptr().add((2 * q + i % 2) * 2 * k_pad) }
                    } else if direct {
                        // SAFETY: channel `oc + j < out_c`: `k` bytes inside the weights.
                        unsafe { ctx.weights.as_ptr().add((oc + j) * k) }
                    } else {
                        // SAFETY: `j < nb_max`, and `nb_max · k_pad ≤ PACK_BYTES`.
                        unsafe { packed.as_ptr().add(j * k_pad) }
                    }
                });
            }
            for b in 0..g.batch {
                let mut m0 = 0;
                while m0 < pixels {
                    let rows = (pixels - m0).min(MR);
                    let mut out_rows = [core::ptr::null_mut::<i8>(); MR];
                    // The column rows are split off one borrow of the buffer, so the pointer
                    // kept for row r stays valid while rows r+1.. are written (indexing the
                    // whole buffer again per row would re-borrow it and invalidate the
                    // earlier rows' pointers: undefined behaviour Miri reports).
                    let mut col_rest: &mut [i8] = &mut col;
                    pl.for_each_tile_row(m0, rows, MR, |r, m, oh, ow| {
                        // SAFETY: pixel `(b, oh, ow)` exists; `oc + n ≤ out_c`.
                        out_rows[r] = unsafe { out.add((b * pixels + m) * g.out_c + oc) };
                        if !direct {
                            let (dst, rest) = core::mem::take(&mut col_rest).split_at_mut(k_pad);
                            col_rest = rest;
                            pl.im2col_row(ctx.input, (b, grp, oh, ow), zp, dst);
                            // The padded depth multiplies zero weights.
                            dst[k..].fill(0);
                            ptrs[0][r] = dst.as_ptr();
                        }
                    });
                    if direct {
                        pl.for_each_tile_tap((b, grp), m0, rows, MR, |t, r, at| {
                            ptrs[t][r] = match at {
                                // SAFETY: `at` is a pixel inside the input (the plan's window),
                                // the group's `cpg` channels follow it.
                                Some(at) => unsafe { x.add(at) },
                                None => zero_row.as_ptr(),
                            };
                        });
                    }
                    for (q, (rq, wp)) in rqs.iter().zip(&wps).enumerate().take(nq) {
                        let lanes = (n - 4 * q).min(4);
                        // SAFETY: every pointer reads `seg` bytes (a tap, the zero row or an
                        // im2col row of `k_pad`); each weight row holds `segs · seg` bytes (`k`
                        // in place, `k_pad` packed; pairs twice that); `init` holds `nq · 4`
                        // entries; the micro-kernels' instruction sets (caller).
                        let (acc, iv) = unsafe {
                            (
                                if no_m128 {
                                    T2::tile(&ptrs[..segs], seg, wp)
                                } else {
                                    T::tile(&ptrs[..segs], seg, wp)
                                },
                                vld1q_s32(init.as_ptr().add(4 * q)),
                            )
                        };
                        let v =
                            rq.apply_rows(ctx, acc.map(|a| vaddq_s32(a, iv)), oc + 4 * q, lanes);
                        let mut bytes = [0u32; MR];
                        // SAFETY: `bytes` holds 16 bytes; row `r` is word `r`.
                        unsafe { vst1q_u32(bytes.as_mut_ptr(), vreinterpretq_u32_s8(narrow16(v))) };
                        for (r, &word) in bytes.iter().enumerate().take(rows) {
                            // SAFETY: `lanes ≤ 4` channels from `oc + 4q` of this row's output.
                            unsafe {
                                let dst = out_rows[r].add(4 * q);
                                if lanes == 4 {
                                    dst.cast::<u32>().write_unaligned(word);
                                } else {
                                    core::ptr::copy_nonoverlapping(
                                        word.to_le_bytes().as_ptr().cast::<i8>(),
                                        dst,
                                        lanes,
                                    );
                                }
                            }
                        }
                    }
                    m0 += MR;
                }
            }
            nb += n;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Depthwise
// ---------------------------------------------------------------------------------------------

/// # Safety
/// NEON available; `ctx` from [`prepare`] for the `Depthwise` kind; `output` has the plan's
/// length.
#[target_feature(enable = "neon")]
pub(super) unsafe fn depthwise(_t: Neon, ctx: &Ctx, output: &mut [i8]) {
    let pl = &ctx.plan;
    let g = &pl.g;
    let c = g.in_c;
    let taps = pl.taps;
    let chunk = (DW_HALVES / taps / 16 * 16).clamp(16, DW_CHUNK);
    let mut wbuf = [0i16; DW_HALVES];
    let mut bias = [0i32; DW_CHUNK];
    let single = ctx.p.rounding == Rounding::Single;
    let float = ctx.p.rounding == Rounding::Float;
    let mut rf = [vdupq_n_f32(0.0); DW_CHUNK / 4];
    let mut rd = [Requant4::splat(0, 0); DW_CHUNK / 4];
    let mut rs = [RequantSingle4::new(vdupq_n_s32(0), vdupq_n_s32(0)); DW_CHUNK / 4];
    let zp = (-ctx.p.input_offset) as i8;
    let zp16 = vdupq_n_s8(zp);
    let pixels = g.out_h * g.out_w;
    let x = ctx.input.as_ptr();
    let out = output.as_mut_ptr();
    let mut tap_ptr = [x; super::MAX_TAPS];
    let mut tap_w = [core::ptr::null::<i16>(); super::MAX_TAPS];

    let mut c0 = 0;
    while c0 < c {
        let cn = (c - c0).min(chunk);
        let cn16 = cn.next_multiple_of(16);
        // `[tap][cn16]` i16 weights, zeros past `cn`.
        for t in 0..taps {
            for j in 0..cn16 {
                wbuf[t * cn16 + j] = if j < cn {
                    i16::from(ctx.weights[(c0 + j) * taps + t])
                } else {
                    0
                };
            }
        }
        for (j, v) in bias.iter_mut().enumerate().take(cn16) {
            *v = if j < cn {
                ctx.bias.and_then(|b| b.get(c0 + j)).copied().unwrap_or(0)
            } else {
                0
            };
        }
        for q in 0..cn16 / 4 {
            match Rq::new(ctx, c0 + 4 * q, cn.saturating_sub(4 * q).min(4)) {
                Rq::Double(r) => rd[q] = r,
                Rq::Single(r) => rs[q] = r,
                Rq::Float(f) => rf[q] = f,
            }
        }
        for b in 0..g.batch {
            for m in 0..pixels {
                let (oh, ow) = (m / g.out_w, m % g.out_w);
                let (ih0, kh0, kh1) =
                    S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
                let (iw0, kw0, kw1) =
                    S8Plan::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
                // The taps inside the input (padding taps add 0: `x + input_offset` = 0 there).
                let mut nvalid = 0;
                for kh in kh0..kh1 {
                    for kw in kw0..kw1 {
                        let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                        let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                        // SAFETY: (b, ih, iw) is inside the input; channel `c0 < c`.
                        tap_ptr[nvalid] =
                            unsafe { x.add(((b * g.in_h + ih) * g.in_w + iw) * c + c0) };
                        // SAFETY: tap `kh · kernel_w + kw < taps`: its row of `cn16` weights.
                        tap_w[nvalid] = unsafe { wbuf.as_ptr().add((kh * g.kernel_w + kw) * cn16) };
                        nvalid += 1;
                    }
                }
                // SAFETY: pixel `(b, m)` exists; channels `c0 .. c0 + cn`.
                let dst = unsafe { out.add((b * pixels + m) * c + c0) };
                let mut cb = 0;
                while cb < cn {
                    let n = (cn - cb).min(16);
                    // SAFETY: `bias` holds `cn16 ≥ cb + 16` entries.
                    let mut acc = unsafe {
                        core::array::from_fn::<_, 4, _>(|i| {
                            vld1q_s32(bias.as_ptr().add(cb + 4 * i))
                        })
                    };
                    // SAFETY: a valid tap's pointer has channels `c0 .. c0 + cn` of a real pixel,
                    // `cb + n ≤ cn` (16 bytes on the full path); its weight row holds `cn16 ≥
                    // cb + 16` entries.
                    unsafe {
                        let (tp, tw) = (tap_ptr.as_ptr(), tap_w.as_ptr());
                        macro_rules! taps {
                            ($load:expr) => {
                                for i in 0..nvalid {
                                    let xv = $load((*tp.add(i)).add(cb));
                                    let w = (*tw.add(i)).add(cb);
                                    let (wl, wh) = (vld1q_s16(w), vld1q_s16(w.add(8)));
                                    let xl = vsubl_s8(vget_low_s8(xv), vget_low_s8(zp16));
                                    let xh = vsubl_high_s8(xv, zp16);
                                    acc[0] = vmlal_s16(acc[0], vget_low_s16(xl), vget_low_s16(wl));
                                    acc[1] = vmlal_high_s16(acc[1], xl, wl);
                                    acc[2] = vmlal_s16(acc[2], vget_low_s16(xh), vget_low_s16(wh));
                                    acc[3] = vmlal_high_s16(acc[3], xh, wh);
                                }
                            };
                        }
                        if n == 16 {
                            taps!(|p: *const i8| vld1q_s8(p));
                        } else if n == 8 {
                            taps!(|p: *const i8| vcombine_s8(vld1_s8(p), vdup_n_s8(0)));
                        } else {
                            taps!(|p: *const i8| {
                                let mut t = [0i8; 16];
                                core::ptr::copy_nonoverlapping(p, t.as_mut_ptr(), n);
                                vld1q_s8(t.as_ptr())
                            });
                        }
                    }
                    let q0 = cb / 4;
                    let v = match (rd.get(q0..q0 + 4), rs.get(q0..q0 + 4)) {
                        _ if float => match rf.get(q0..q0 + 4) {
                            Some(rf) => {
                                core::array::from_fn(|i| requant_float4(acc[i], rf[i], &ctx.st))
                            }
                            None => acc,
                        },
                        (Some(rd), _) if !single => requant_quads(ctx, rd, acc, c0 + cb, n),
                        (_, Some(rs)) => core::array::from_fn(|i| rs[i].apply(acc[i], &ctx.st)),
                        _ => acc,
                    };
                    // SAFETY: `n` channels from `c0 + cb` of this pixel's output.
                    unsafe { store_bytes(narrow16(v), n, dst.add(cb)) };
                    cb += 16;
                }
            }
        }
        c0 += cn;
    }
}

// ---------------------------------------------------------------------------------------------
// f32: `conv2d_f32_neon`
// ---------------------------------------------------------------------------------------------
//
// Same structure as the int8 GEMM (taps read in place, one segment per tap), but the weights are
// transposed into `[k][8]` blocks so a tile of 8 pixels × 8 channels multiplies 4 input values of
// each pixel (one vector, `FMLA` by lane) with 4 pairs of weight vectors: 16 accumulators, 16
// loads per 64 fused multiply-adds (256 multiplies). Each output accumulates bias first, then its taps in the reference's
// order (kh, kw, input channel): results differ from the reference by the rounding of the FMAs.
// Depthwise layers vectorise across channels (4 per vector), one FMA per valid tap.

use super::Conv2dParams;
use crate::Activation;

/// Pixels per f32 tile.
const MR_F32: usize = 8;
/// Packed f32 weights `[k][8]`: 64 KiB.
const PACK_F32: usize = 16 * 1024;
/// Longest row of zeros (channels per group) for padding taps.
const MAX_ZERO_F32: usize = 2048;
/// Depthwise f32 channels per chunk.
const DW_F32_CHUNK: usize = 512;
/// Depthwise f32 transposed weights `[tap][chunk]`: 32 KiB.
const DW_F32: usize = 8 * 1024;

/// `conv2d_f32_neon`; `false` (nothing written) when NEON is unavailable, the slice lengths do
/// not match the shapes, or the depth exceeds the stack buffers.
pub(crate) fn conv2d_f32(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) -> bool {
    let Some(tok) = Neon::get() else {
        return false;
    };
    let Some(plan) = S8Plan::for_f32(p, input, weights, bias, output) else {
        return false;
    };
    let fits = match plan.kind {
        S8Kind::Depthwise => true,
        _ => plan.k_len * 8 <= PACK_F32 && plan.cpg <= MAX_ZERO_F32,
    };
    if !fits {
        return false;
    }
    // SAFETY: `tok` proves NEON; `S8Plan::new` checked the slice lengths against the shapes and
    // `fits` the buffer limits.
    unsafe {
        match plan.kind {
            S8Kind::Depthwise => depthwise_f32(tok, &plan, input, weights, bias, output),
            _ => gemm_f32(tok, &plan, input, weights, bias, output),
        }
    }
    true
}

/// The clamp bounds when the activation is a clamp, applied in vector form (`FMAXNM`/`FMINNM`
/// are Rust's `max`/`min`, NaN included); other activations run scalar after the store.
pub(crate) fn clamp_f32(a: Activation) -> Option<(f32, f32)> {
    match a {
        // `x > 0 ? x : 0` is `maxnm(x, 0)` (NaN and −0 give +0 in both).
        Activation::Relu => Some((0.0, f32::INFINITY)),
        Activation::Clip { min, max } => Some((min, max)),
        _ => None,
    }
}

/// Applies a clamp activation to one vector.
#[target_feature(enable = "neon")]
#[inline]
pub(crate) fn activate_f32(
    v: float32x4_t,
    clamp: Option<(float32x4_t, float32x4_t)>,
) -> float32x4_t {
    match clamp {
        Some((lo, hi)) => vminnmq_f32(vmaxnmq_f32(v, lo), hi),
        None => v,
    }
}

/// Stores the first `n ≤ 4` lanes of `v`.
///
/// # Safety
/// NEON available; `dst` writable for `n` floats.
#[target_feature(enable = "neon")]
#[inline]
pub(crate) unsafe fn store_f32(v: float32x4_t, n: usize, dst: *mut f32) {
    if n >= 4 {
        // SAFETY: 4 floats writable (caller).
        unsafe { vst1q_f32(dst, v) };
    } else {
        let mut t = [0f32; 4];
        // SAFETY: `t` holds 4 floats; `n` writable at `dst` (caller).
        unsafe {
            vst1q_f32(t.as_mut_ptr(), v);
            core::ptr::copy_nonoverlapping(t.as_ptr(), dst, n);
        }
    }
}

/// # Safety
/// NEON available; `plan` validated for these slices; `k_len · 8 ≤ PACK_F32`,
/// `cpg ≤ MAX_ZERO_F32`.
#[target_feature(enable = "neon")]
unsafe fn gemm_f32(
    _t: Neon,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let (cpg, opg, k) = (plan.cpg, plan.opg, plan.k_len);
    let mut packed = [0f32; PACK_F32];
    let zero_row = [0f32; MAX_ZERO_F32];
    let mut ptrs = [[core::ptr::null::<f32>(); MR_F32]; super::MAX_TAPS];
    let pixels = g.out_h * g.out_w;
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let clamp = clamp_f32(g.activation).map(|(lo, hi)| (vdupq_n_f32(lo), vdupq_n_f32(hi)));
    let scalar_act = clamp.is_none() && g.activation != Activation::None;

    for grp in 0..g.groups {
        let mut nb = 0;
        while nb < opg {
            let n = (opg - nb).min(8);
            let oc = grp * opg + nb;
            // `[k][8]`: row kk holds w[oc + j][kk] for j < n, zeros after.
            for kk in 0..k {
                for j in 0..8 {
                    packed[kk * 8 + j] = if j < n {
                        weights[(oc + j) * k + kk]
                    } else {
                        0.0
                    };
                }
            }
            let mut bv = [0f32; 8];
            if let Some(b) = bias {
                bv[..n].copy_from_slice(&b[oc..oc + n]);
            }
            // SAFETY: `bv` holds 8 floats.
            let init = unsafe { [vld1q_f32(bv.as_ptr()), vld1q_f32(bv.as_ptr().add(4))] };
            for b in 0..g.batch {
                let mut m0 = 0;
                while m0 < pixels {
                    let rows = (pixels - m0).min(MR_F32);
                    let mut out_rows = [core::ptr::null_mut::<f32>(); MR_F32];
                    plan.for_each_tile_row(m0, rows, MR_F32, |r, m, _, _| {
                        // SAFETY: pixel `(b, m)` exists; `oc + n ≤ out_c`.
                        out_rows[r] = unsafe { out.add((b * pixels + m) * g.out_c + oc) };
                    });
                    plan.for_each_tile_tap((b, grp), m0, rows, MR_F32, |t, r, at| {
                        ptrs[t][r] = match at {
                            // SAFETY: `at` is a pixel inside the input (the plan's window), the
                            // group's `cpg` channels follow it.
                            Some(at) => unsafe { x.add(at) },
                            None => zero_row.as_ptr(),
                        };
                    });
                    // SAFETY: every pointer reads `cpg` floats (a tap or the zero row); the
                    // packed block holds `k · 8` floats; outputs hold `n` floats per row.
                    let acc = unsafe { tile_f32(&ptrs[..plan.taps], cpg, packed.as_ptr(), init) };
                    for (r, a) in acc.iter().enumerate().take(rows) {
                        // SAFETY: `n ≤ 8` floats from channel `oc` of this row's output.
                        unsafe {
                            store_f32(activate_f32(a[0], clamp), n, out_rows[r]);
                            if n > 4 {
                                store_f32(activate_f32(a[1], clamp), n - 4, out_rows[r].add(4));
                            }
                            if scalar_act {
                                g.activation
                                    .apply_slice(core::slice::from_raw_parts_mut(out_rows[r], n));
                            }
                        }
                    }
                    m0 += MR_F32;
                }
            }
            nb += n;
        }
    }
}

/// One f32 tile: `MR_F32` pixels × 8 channels starting from `init`.
///
/// # Safety
/// NEON; every `segs[s][r]` readable for `cpg` floats; `w` readable for `segs.len() · cpg · 8`
/// floats.
#[target_feature(enable = "neon")]
unsafe fn tile_f32(
    segs: &[[*const f32; MR_F32]],
    cpg: usize,
    mut w: *const f32,
    init: [float32x4_t; 2],
) -> [[float32x4_t; 2]; MR_F32] {
    let mut acc = [init; MR_F32];
    for seg in segs {
        let mut c = 0;
        while c + 4 <= cpg {
            // SAFETY: floats `c .. c + 4 ≤ cpg` of each segment; 32 floats of the packed block.
            unsafe {
                let xv: [float32x4_t; MR_F32] = core::array::from_fn(|r| vld1q_f32(seg[r].add(c)));
                let w0 = [vld1q_f32(w), vld1q_f32(w.add(4))];
                for (a, xr) in acc.iter_mut().zip(&xv) {
                    a[0] = vfmaq_laneq_f32::<0>(a[0], w0[0], *xr);
                    a[1] = vfmaq_laneq_f32::<0>(a[1], w0[1], *xr);
                }
                let w1 = [vld1q_f32(w.add(8)), vld1q_f32(w.add(12))];
                for (a, xr) in acc.iter_mut().zip(&xv) {
                    a[0] = vfmaq_laneq_f32::<1>(a[0], w1[0], *xr);
                    a[1] = vfmaq_laneq_f32::<1>(a[1], w1[1], *xr);
                }
                let w2 = [vld1q_f32(w.add(16)), vld1q_f32(w.add(20))];
                for (a, xr) in acc.iter_mut().zip(&xv) {
                    a[0] = vfmaq_laneq_f32::<2>(a[0], w2[0], *xr);
                    a[1] = vfmaq_laneq_f32::<2>(a[1], w2[1], *xr);
                }
                let w3 = [vld1q_f32(w.add(24)), vld1q_f32(w.add(28))];
                for (a, xr) in acc.iter_mut().zip(&xv) {
                    a[0] = vfmaq_laneq_f32::<3>(a[0], w3[0], *xr);
                    a[1] = vfmaq_laneq_f32::<3>(a[1], w3[1], *xr);
                }
                w = w.add(32);
            }
            c += 4;
        }
        while c < cpg {
            // SAFETY: float `c < cpg` of each segment; 8 floats of the packed block.
            unsafe {
                let w0 = [vld1q_f32(w), vld1q_f32(w.add(4))];
                for (r, a) in acc.iter_mut().enumerate() {
                    let xv = vld1q_dup_f32(seg[r].add(c));
                    a[0] = vfmaq_f32(a[0], xv, w0[0]);
                    a[1] = vfmaq_f32(a[1], xv, w0[1]);
                }
                w = w.add(8);
            }
            c += 1;
        }
    }
    acc
}

/// # Safety
/// NEON available; `plan` validated for these slices (depthwise kind).
#[target_feature(enable = "neon")]
unsafe fn depthwise_f32(
    _t: Neon,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let c = g.in_c;
    let taps = plan.taps;
    let chunk = (DW_F32 / taps / 4 * 4).clamp(4, DW_F32_CHUNK);
    let mut wt = [0f32; DW_F32];
    let mut bv = [0f32; DW_F32_CHUNK];
    let pixels = g.out_h * g.out_w;
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let clamp = clamp_f32(g.activation).map(|(lo, hi)| (vdupq_n_f32(lo), vdupq_n_f32(hi)));
    let scalar_act = clamp.is_none() && g.activation != Activation::None;
    let mut tap_ptr = [x; super::MAX_TAPS];
    let mut tap_w = [0usize; super::MAX_TAPS];
    let mut c0 = 0;
    while c0 < c {
        let cn = (c - c0).min(chunk);
        let cn4 = cn.next_multiple_of(4);
        for t in 0..taps {
            for j in 0..cn4 {
                wt[t * cn4 + j] = if j < cn {
                    weights[(c0 + j) * taps + t]
                } else {
                    0.0
                };
            }
        }
        for (j, v) in bv.iter_mut().enumerate().take(cn4) {
            *v = if j < cn {
                bias.and_then(|b| b.get(c0 + j)).copied().unwrap_or(0.0)
            } else {
                0.0
            };
        }
        for b in 0..g.batch {
            for m in 0..pixels {
                let (oh, ow) = (m / g.out_w, m % g.out_w);
                let (ih0, kh0, kh1) =
                    S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
                let (iw0, kw0, kw1) =
                    S8Plan::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
                let mut nvalid = 0;
                for kh in kh0..kh1 {
                    for kw in kw0..kw1 {
                        let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                        let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                        // SAFETY: (b, ih, iw) is inside the input; channel `c0 < c`.
                        tap_ptr[nvalid] =
                            unsafe { x.add(((b * g.in_h + ih) * g.in_w + iw) * c + c0) };
                        tap_w[nvalid] = (kh * g.kernel_w + kw) * cn4;
                        nvalid += 1;
                    }
                }
                // SAFETY: pixel `(b, m)` exists; channels `c0 .. c0 + cn`.
                let dst = unsafe { out.add((b * pixels + m) * c + c0) };
                let mut j = 0;
                while j < cn {
                    let n = (cn - j).min(4);
                    // SAFETY: `bv` and `wt` hold `cn4 ≥ j + 4` entries per tap; a valid tap's
                    // pointer has channels `c0 .. c0 + cn`, `j + n ≤ cn`; `dst + j` has `n`.
                    unsafe {
                        let mut acc = vld1q_f32(bv.as_ptr().add(j));
                        for (&xp, &wo) in tap_ptr.iter().zip(&tap_w).take(nvalid) {
                            let xv = if n == 4 {
                                vld1q_f32(xp.add(j))
                            } else {
                                let mut t = [0f32; 4];
                                core::ptr::copy_nonoverlapping(xp.add(j), t.as_mut_ptr(), n);
                                vld1q_f32(t.as_ptr())
                            };
                            acc = vfmaq_f32(acc, xv, vld1q_f32(wt.as_ptr().add(wo + j)));
                        }
                        store_f32(activate_f32(acc, clamp), n, dst.add(j));
                    }
                    j += 4;
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
