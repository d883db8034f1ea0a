//! int8 convolution with NEON and the dot product (aarch64 Armv8.2 `dotprod`: Cortex-A55/A76,
//! Raspberry Pi 5): `conv2d_s8_neon_dotprod`.
//!
//! Only the GEMM micro-kernel differs from `conv2d_s8_neon` (whose driver, im2col, output
//! stage and depthwise code this file reuses): `SDOT` multiplies 16 signed bytes of a pixel with
//! 16 bytes of a weight row and adds groups of 4 products into the 4 lanes, exactly and in one
//! instruction, where NEON without it needs `SMULL` + `SADALP` per 8 bytes. Operands stay raw
//! int8 (the bias absorbs `input_offset · Σ w`), so no widening is needed and −128 is allowed
//! in both. `SDOT` is written with `asm!` ([`sdot`]) because `vdotq_s32` is nightly-only.
//! Depthwise layers run the NEON code: one tap per channel leaves nothing for a dot product.

use core::arch::aarch64::*;

use super::neon::{gemm, prepare, reduce4, run, Ctx, Tile, WeightRows, MR};
use super::Conv2dS8Params;
use crate::arch::aarch64::{sdot, Neon, NeonDotprod};

/// `conv2d_s8_neon_dotprod`: returns `false` without writing when the dot product is unavailable
/// or the call is outside the covered range (the same range as `conv2d_s8_neon`).
pub(crate) fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(_dot) = NeonDotprod::get() else {
        return false;
    };
    // The dot product implies NEON, and `set_limit` allowed the dot product, so NEON too.
    let Some(neon) = Neon::get() else {
        return false;
    };
    let Some(ctx) = prepare(p, input, weights, bias, mults, shifts, output.len()) else {
        return false;
    };
    // SAFETY: `_dot` proves NEON and the dot product (what `gemm_dot` needs), `neon` NEON;
    // `prepare` checked every slice length against the shapes and the buffer limits.
    unsafe { run(neon, &ctx, output, gemm_dot) };
    true
}

/// The driver with [`TileDot`], compiled with the dot product.
///
/// # Safety
/// As `neon::gemm`, with NEON and the dot product.
#[target_feature(enable = "neon,dotprod")]
unsafe fn gemm_dot(ctx: &Ctx, output: &mut [i8]) {
    // SAFETY: forwarded; this function enables what `TileDot` needs.
    unsafe { gemm::<TileDot, TileDot>(ctx, output) }
}

/// The dot-product micro-kernel.
struct TileDot;

impl Tile for TileDot {
    const ROWS: WeightRows = WeightRows::Plain;

    #[inline(always)]
    unsafe fn tile(x: &[[*const i8; MR]], seg: usize, w: &[*const i8; 4]) -> [int32x4_t; MR] {
        // SAFETY: forwarded (the dot product available: the caller is `gemm_dot`'s driver).
        unsafe { tile_dot(x, seg, w) }
    }
}

/// [`TileDot`]'s body.
///
/// # Safety
/// NEON and the dot product available; as [`Tile::tile`].
#[target_feature(enable = "neon,dotprod")]
#[inline]
unsafe fn tile_dot(x: &[[*const i8; MR]], seg: usize, w: &[*const i8; 4]) -> [int32x4_t; MR] {
    let mut acc = [[vdupq_n_s32(0); 4]; MR];
    for (s, xs) in x.iter().enumerate() {
        let wo = s * seg;
        let mut b = 0;
        while b < seg {
            // SAFETY: bytes `wo + b .. + 16` of each weight row and `b .. b + 16 ≤ seg` of
            // each pixel's segment (caller).
            let (wv, xv) = unsafe {
                (
                    [
                        vld1q_s8(w[0].add(wo + b)),
                        vld1q_s8(w[1].add(wo + b)),
                        vld1q_s8(w[2].add(wo + b)),
                        vld1q_s8(w[3].add(wo + b)),
                    ],
                    [
                        vld1q_s8(xs[0].add(b)),
                        vld1q_s8(xs[1].add(b)),
                        vld1q_s8(xs[2].add(b)),
                        vld1q_s8(xs[3].add(b)),
                    ],
                )
            };
            for (row, xr) in acc.iter_mut().zip(&xv) {
                for (a, wj) in row.iter_mut().zip(&wv) {
                    *a = sdot(*a, *xr, *wj);
                }
            }
            b += 16;
        }
    }
    acc.map(|r| reduce4(r))
}
