//! f32 grouped convolution with 4 or 8 channels per group on AVX2:
//! `conv2d_f32_small_groups_avx2`, the twin of `conv2d_f32_small_groups_avx512` (whose module
//! documentation says why: a GEMM per 4-channel group leaves the vector tile nearly empty).
//!
//! One ymm register holds 8 output channels: two 4-channel groups, one per 128-bit half, or one
//! 8-channel group. For each input channel `c` of a group, every lane needs channel `c` of its
//! own group: with 4-channel groups one in-lane `vpermilps` of the 8 loaded inputs (each half
//! broadcasts its element `c`), with 8-channel groups a broadcast load of that one float. Then
//! one FMA: per tap and pixel, `cpg` shuffles or broadcasts and `cpg` FMAs for `8 · cpg` MACs.
//! Weights repacked once per call as `[block][tap][c][8 lanes]`; four pixels of a row share
//! each weight load; padding taps are skipped (they add `0 · w`).

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::{Conv2dParams, S8Kind, S8Plan, MAX_TAPS};
use crate::arch::x86::Avx2;
use crate::Activation;

/// Output pixels per tile (along a row).
const PX: usize = 4;
/// Packed weights: 128 KiB (ResNeXt-50 32x4d's second-stage layer, 256 channels × 9 taps × 8
/// channels per group, needs 18,432 floats).
const PACK: usize = 32 * 1024;

#[repr(C, align(32))]
struct Aligned<T>(T);

/// `conv2d_f32_small_groups_avx2`: see the module documentation. `false` (nothing written)
/// without AVX2, for other groupings, channel counts that are not whole 8-lane blocks, or
/// weights beyond the packing buffer.
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
    if plan.kind != S8Kind::SmallGroups
        || !p.out_c.is_multiple_of(8)
        || p.out_c.checked_mul(plan.k_len).is_none_or(|n| n > PACK)
    {
        return false;
    }
    // SAFETY: `tok` proves AVX2 and FMA; `S8Plan::new` checked every slice length against
    // the shapes (in_c = out_c = groups · cpg, cpg = opg ∈ {4, 8}), and the packed weights fit.
    unsafe {
        if plan.cpg == 4 {
            run::<4>(tok, &plan, input, weights, bias, output);
        } else {
            run::<8>(tok, &plan, input, weights, bias, output);
        }
    }
    true
}

/// # Safety
/// AVX2 and FMA available; `plan` validated for these slices, SmallGroups kind with
/// `cpg == C`, `out_c` a multiple of 8, `out_c · k_len ≤ PACK`.
#[target_feature(enable = "avx2,fma")]
unsafe fn run<const C: usize>(
    _t: Avx2,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let taps = plan.taps;
    let blocks = g.out_c / 8;
    let mut packed = Aligned([MaybeUninit::<f32>::uninit(); PACK]);
    super::pack_small_groups_f32(weights, (g.out_c, taps, C), 8, &mut packed.0);
    // Written up to `out_c · taps · C = out_c · k_len ≤ PACK` floats, all the loop reads.
    let packed = packed.0.as_ptr().cast::<f32>();
    let clamp = g.activation.clamp_bounds();
    let bounds = clamp.map(|(lo, hi)| (_mm256_set1_ps(lo), _mm256_set1_ps(hi)));
    let scalar_act = clamp.is_none() && g.activation != Activation::None;
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let mut offs = [[None::<usize>; MAX_TAPS]; PX];

    for b in 0..g.batch {
        for oh in 0..g.out_h {
            let mut ow0 = 0;
            while ow0 < g.out_w {
                let np = (g.out_w - ow0).min(PX);
                for (p, o) in offs.iter_mut().enumerate().take(np) {
                    // Offsets of channel 0 at each tap (group 0); block `blk` adds 8·blk.
                    plan.for_each_tap((b, 0, oh, ow0 + p), |t, at| {
                        if let Some(slot) = o.get_mut(t) {
                            *slot = at;
                        }
                    });
                }
                for blk in 0..blocks {
                    let init = match bias {
                        // SAFETY: channels `8·blk .. + 8 ≤ out_c`.
                        Some(bv) => unsafe { _mm256_loadu_ps(bv.as_ptr().add(8 * blk)) },
                        None => _mm256_setzero_ps(),
                    };
                    let mut acc = [init; PX];
                    for t in 0..taps {
                        let mut wv = [_mm256_setzero_ps(); C];
                        for (c, v) in wv.iter_mut().enumerate() {
                            // SAFETY: inside the packed weights (`pack_small_groups_f32`, above).
                            *v = unsafe {
                                _mm256_load_ps(packed.add(((blk * taps + t) * C + c) * 8))
                            };
                        }
                        for (a, o) in acc.iter_mut().zip(&offs).take(np) {
                            if let Some(at) = o[t] {
                                // SAFETY: `at` is a pixel inside the input (the plan's window);
                                // its channels `8·blk .. + 8 ≤ in_c` follow.
                                let xp = unsafe { x.add(at + 8 * blk) };
                                if C == 4 {
                                    // SAFETY: 8 floats at `xp` (above).
                                    let xv = unsafe { _mm256_loadu_ps(xp) };
                                    let xs = [
                                        _mm256_permute_ps::<0x00>(xv),
                                        _mm256_permute_ps::<0x55>(xv),
                                        _mm256_permute_ps::<0xaa>(xv),
                                        _mm256_permute_ps::<0xff>(xv),
                                    ];
                                    for (xc, w) in xs.iter().zip(&wv) {
                                        *a = _mm256_fmadd_ps(*xc, *w, *a);
                                    }
                                } else {
                                    for (c, w) in wv.iter().enumerate() {
                                        // SAFETY: float `c < 8` at `xp` (above).
                                        let xc = unsafe { _mm256_broadcast_ss(&*xp.add(c)) };
                                        *a = _mm256_fmadd_ps(xc, *w, *a);
                                    }
                                }
                            }
                        }
                    }
                    for (p, a) in acc.iter().enumerate().take(np) {
                        let v = match bounds {
                            // `max(v, lo)` returns `lo` for a NaN `v`, like the scalar `max`.
                            Some((lo, hi)) => _mm256_min_ps(_mm256_max_ps(*a, lo), hi),
                            None => *a,
                        };
                        let m = (b * g.out_h + oh) * g.out_w + ow0 + p;
                        // SAFETY: pixel `(b, oh, ow0 + p)` exists; channels `8·blk .. + 8`.
                        unsafe { _mm256_storeu_ps(out.add(m * g.out_c + 8 * blk), v) };
                    }
                }
                if scalar_act {
                    let row = (b * g.out_h + oh) * g.out_w + ow0;
                    if let Some(s) = output.get_mut(row * g.out_c..(row + np) * g.out_c) {
                        g.activation.apply_slice(s);
                    }
                }
                ow0 += np;
            }
        }
    }
}
