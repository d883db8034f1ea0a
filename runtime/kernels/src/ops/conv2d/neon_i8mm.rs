//! int8 convolution with the int8 matrix multiply (aarch64 Armv8.6 `i8mm`: Cortex-A510/A710/X2,
//! Neoverse N2/V1/V2): `conv2d_s8_neon_i8mm`.
//!
//! Why a third micro-kernel: `SDOT` does 16 multiply-adds per instruction and leaves 4 partial
//! sums per output (folded with `ADDP` at the end); `SMMLA` multiplies a 2×8 block of pixels by
//! the transpose of a 2×8 block of weights, 32 multiply-adds into a 2×2 block of finished sums.
//! The cores that have it issue `SMMLA` at the rate of `SDOT`, so the vector pipes do the same
//! tile in half the multiply instructions. Its operands must hold two rows each: the weights
//! are packed once per block of channels in pairs interleaved by 8 bytes
//! ([`WeightRows::Pairs`]), the pixels are paired in registers (`ZIP1`/`ZIP2` of 64-bit lanes,
//! two per pair of pixels and 16 depth bytes). Per 16 depth bytes of a 4×4 tile: 4 pixel loads,
//! 4 weight loads, 4 zips and 8 `SMMLA` (the dot-product kernel: 8 loads and 16 `SDOT`).
//!
//! Everything else (planning, im2col, the output stage, the range of calls covered) is
//! `conv2d_s8_neon`'s. Declined, so the dot-product entry runs them: depthwise layers (nothing
//! to pair) and depths above 4096 bytes (a quad of packed channels must fit the 16 KiB buffer).
//! `SMMLA` is written with `asm!` ([`smmla`]) because `vmmlaq_s32` is nightly-only.

use core::arch::aarch64::*;

use super::neon::{gemm, pairs_fit, prepare, run, Ctx, Tile, WeightRows, MR};
use super::{Conv2dS8Params, S8Kind};
use crate::arch::aarch64::{smmla, Neon, NeonI8mm};

/// `conv2d_s8_neon_i8mm`: returns `false` without writing when the int8 matrix multiply is
/// unavailable or the call is outside the covered range (see the module documentation).
pub(crate) fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(_mm) = NeonI8mm::get() else {
        return false;
    };
    // i8mm implies NEON, and `set_limit` allowed i8mm, so NEON too.
    let Some(neon) = Neon::get() else {
        return false;
    };
    let Some(ctx) = prepare(p, input, weights, bias, mults, shifts, output.len()) else {
        return false;
    };
    if ctx.kind() == S8Kind::Depthwise || !pairs_fit(&ctx) {
        return false;
    }
    // SAFETY: `_mm` proves NEON and i8mm (what `gemm_mmla` needs), `neon` NEON; `prepare`
    // checked every slice length against the shapes and the buffer limits, `pairs_fit` that
    // the packed pairs fit.
    unsafe { run(neon, &ctx, output, gemm_mmla) };
    true
}

/// The driver with [`TileMmla`], compiled with i8mm.
///
/// # Safety
/// As `neon::gemm`, with NEON and i8mm.
#[target_feature(enable = "neon,i8mm")]
unsafe fn gemm_mmla(ctx: &Ctx, output: &mut [i8]) {
    // SAFETY: forwarded; this function enables what `TileMmla` needs.
    unsafe { gemm::<TileMmla, TileMmla>(ctx, output) }
}

/// The `SMMLA` micro-kernel (weights in [`WeightRows::Pairs`]: `w[0]` holds channels 0 and 1
/// of the quad, `w[1]` channels 2 and 3).
struct TileMmla;

impl Tile for TileMmla {
    const ROWS: WeightRows = WeightRows::Pairs;

    #[inline(always)]
    unsafe fn tile(x: &[[*const i8; MR]], seg: usize, w: &[*const i8; 4]) -> [int32x4_t; MR] {
        // SAFETY: forwarded (i8mm available: the caller is `gemm_mmla`'s driver).
        unsafe { tile_mmla(x, seg, w) }
    }
}

/// [`TileMmla`]'s body.
///
/// # Safety
/// NEON and i8mm available; every `x[s][r]` readable for `seg` bytes and `w[0]`, `w[1]` for
/// `2 · x.len() · seg` bytes; `seg` a multiple of 16.
#[target_feature(enable = "neon,i8mm")]
#[inline]
unsafe fn tile_mmla(x: &[[*const i8; MR]], seg: usize, w: &[*const i8; 4]) -> [int32x4_t; MR] {
    // acc[h][pp][cp]: pixels 2pp, 2pp+1 by channels 2cp, 2cp+1, from depth bytes 0..8 (h = 0)
    // and 8..16 (h = 1) of each 16: eight independent chains for the pipeline.
    let mut acc = [[[vdupq_n_s32(0); 2]; 2]; 2];
    for (s, xs) in x.iter().enumerate() {
        let wo = 2 * s * seg;
        let mut b = 0;
        while b < seg {
            // SAFETY: bytes `b .. b + 16 ≤ seg` of each pixel's segment; bytes `wo + 2b .. + 32
            // ≤ 2 · x.len() · seg` of each pair (caller).
            let (xv, wv) = unsafe {
                (
                    [
                        vreinterpretq_s64_s8(vld1q_s8(xs[0].add(b))),
                        vreinterpretq_s64_s8(vld1q_s8(xs[1].add(b))),
                        vreinterpretq_s64_s8(vld1q_s8(xs[2].add(b))),
                        vreinterpretq_s64_s8(vld1q_s8(xs[3].add(b))),
                    ],
                    [
                        [
                            vld1q_s8(w[0].add(wo + 2 * b)),
                            vld1q_s8(w[1].add(wo + 2 * b)),
                        ],
                        [
                            vld1q_s8(w[0].add(wo + 2 * b + 16)),
                            vld1q_s8(w[1].add(wo + 2 * b + 16)),
                        ],
                    ],
                )
            };
            // Pixel pairs: [pixel 2pp bytes h·8.., pixel 2pp+1 bytes h·8..].
            let px = [
                [
                    vreinterpretq_s8_s64(vzip1q_s64(xv[0], xv[1])),
                    vreinterpretq_s8_s64(vzip1q_s64(xv[2], xv[3])),
                ],
                [
                    vreinterpretq_s8_s64(vzip2q_s64(xv[0], xv[1])),
                    vreinterpretq_s8_s64(vzip2q_s64(xv[2], xv[3])),
                ],
            ];
            for h in 0..2 {
                for pp in 0..2 {
                    for cp in 0..2 {
                        acc[h][pp][cp] = smmla(acc[h][pp][cp], px[h][pp], wv[h][cp]);
                    }
                }
            }
            b += 16;
        }
    }
    // Lanes of acc[pp][cp]: [p·c, p·c+1, p+1·c, p+1·c+1]; a pixel's 4 channels are the low (or
    // high) halves of its pair's two blocks.
    let sum =
        |pp: usize, cp: usize| vreinterpretq_s64_s32(vaddq_s32(acc[0][pp][cp], acc[1][pp][cp]));
    let (a0, a1, b0, b1) = (sum(0, 0), sum(0, 1), sum(1, 0), sum(1, 1));
    [
        vreinterpretq_s32_s64(vzip1q_s64(a0, a1)),
        vreinterpretq_s32_s64(vzip2q_s64(a0, a1)),
        vreinterpretq_s32_s64(vzip1q_s64(b0, b1)),
        vreinterpretq_s32_s64(vzip2q_s64(b0, b1)),
    ]
}
