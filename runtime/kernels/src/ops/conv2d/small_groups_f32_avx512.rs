//! f32 grouped convolution with 4 or 8 channels per group on AVX-512:
//! `conv2d_f32_small_groups_avx512` (ResNeXt-50 32x4d's grouped 3×3 layers, 4 channels per
//! group, and the like).
//!
//! Run as a GEMM per group, such a layer has 4 or 8 output channels and a depth of 36 or 72:
//! far too narrow for a vector tile (the AVX2 GEMM runs it at a few GMAC/s, slower than
//! XNNPACK's f32). Here one zmm register holds 16 output channels, i.e. 4 or 2 whole groups, and
//! the input of the same 16 channels at a tap is one load. For each input channel `c` of a group,
//! one `vpermps` hands every lane the value of channel `c` of its own group and one FMA
//! multiplies it by the lane's weight: per tap and pixel, `cpg` permutes and `cpg` FMAs for
//! `16 · cpg` MACs. The weights are repacked once per call as `[block][tap][c][16 lanes]`
//! (`out_c · k_len` floats on the stack); eight pixels of a row share each weight load.
//! Padding taps are skipped (they add `0 · w`). Tiles whose eight windows lie inside the input
//! ([`interior_tile`]: most of a 56×56 layer) read each tap at a fixed offset from the pixel,
//! with no per-tap padding test and no offset table: the grouped layer of `bench-peers` 59.9 →
//! 82.6 G MAC/s (`scripts/bench-ab-layers.py`, 7 runs, Zen 5).

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use super::{Conv2dParams, S8Kind, S8Plan, MAX_TAPS};
use crate::arch::x86::Avx512Vnni;
use crate::Activation;

/// Output pixels per tile (along a row): 8 measured 2.4 % faster than 4 on the grouped layer
/// of `bench-peers` (66.2 against 63.5 G MAC/s, `mote bench grouped_conv_f32.mote --per-op`).
const PX: usize = 8;
/// Packed weights: 128 KiB (ResNeXt-50 32x4d's second-stage layer, 256 channels × 9 taps × 8
/// channels per group, needs 18,432 floats).
const PACK: usize = 32 * 1024;

#[repr(C, align(64))]
struct Aligned<T>(T);

/// `conv2d_f32_small_groups_avx512`: see the module documentation. `false` (nothing written)
/// without AVX-512, for other groupings, channel counts that are not whole 16-lane blocks, or
/// weights beyond the packing buffer.
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
    if plan.kind != S8Kind::SmallGroups
        || !p.out_c.is_multiple_of(16)
        || p.out_c.checked_mul(plan.k_len).is_none_or(|n| n > PACK)
    {
        return false;
    }
    // SAFETY: `tok` proves AVX-512 F/BW/VL; `S8Plan::new` checked every slice length against
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
/// AVX-512 F/BW/VL available; `plan` validated for these slices, SmallGroups kind with
/// `cpg == C`, `out_c` a multiple of 16, `out_c · k_len ≤ PACK`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn run<const C: usize>(
    _t: Avx512Vnni,
    plan: &S8Plan,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    let g = &plan.g;
    let taps = plan.taps;
    let blocks = g.out_c / 16;
    let mut packed = Aligned([MaybeUninit::<f32>::uninit(); PACK]);
    super::pack_small_groups_f32(weights, (g.out_c, taps, C), 16, &mut packed.0);
    // Written up to `out_c · taps · C = out_c · k_len ≤ PACK` floats, all the loop reads.
    let packed = packed.0.as_ptr().cast::<f32>();
    // Lane l takes channel c of its own group: index (l / C) · C + c.
    let lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let group_base = _mm512_and_si512(lane, _mm512_set1_epi32(!(C as i32 - 1)));
    let mut idx = [_mm512_setzero_si512(); C];
    for (c, v) in idx.iter_mut().enumerate() {
        *v = _mm512_add_epi32(group_base, _mm512_set1_epi32(c as i32));
    }
    let clamp = g.activation.clamp_bounds();
    let bounds = clamp.map(|(lo, hi)| (_mm512_set1_ps(lo), _mm512_set1_ps(hi)));
    let scalar_act = clamp.is_none() && g.activation != Activation::None;
    let x = input.as_ptr();
    let out = output.as_mut_ptr();
    let mut offs = [[None::<usize>; MAX_TAPS]; PX];
    // Interior tiles (every window of the tile's PX pixels inside the input) read tap `t` of
    // pixel `p` at `corner + tap_offs[t] + p · step`: no per-tap padding test, no offset table.
    let mut tap_store = [0usize; MAX_TAPS];
    let tap_offs = plan.tap_offsets((g.in_w * g.in_c, g.in_c), &mut tap_store);
    let step = g.stride_w * g.in_c;
    let span_h = (g.kernel_h - 1) * g.dilation_h;
    let span_w = (g.kernel_w - 1) * g.dilation_w;

    for b in 0..g.batch {
        for oh in 0..g.out_h {
            let ih0 = (oh * g.stride_h).checked_sub(g.pad_top);
            let rows_inside = ih0.is_some_and(|ih| ih + span_h < g.in_h);
            let mut ow0 = 0;
            while ow0 < g.out_w {
                let np = (g.out_w - ow0).min(PX);
                let iw0 = (ow0 * g.stride_w).checked_sub(g.pad_left);
                let corner = match (ih0, iw0) {
                    (Some(ih), Some(iw))
                        if rows_inside
                            && np == PX
                            && iw + (PX - 1) * g.stride_w + span_w < g.in_w =>
                    {
                        Some(((b * g.in_h + ih) * g.in_w + iw) * g.in_c)
                    }
                    _ => None,
                };
                if let Some(corner) = corner {
                    for blk in 0..blocks {
                        let init = match bias {
                            // SAFETY: channels `16·blk .. + 16 ≤ out_c`.
                            Some(bv) => unsafe { _mm512_loadu_ps(bv.as_ptr().add(16 * blk)) },
                            None => _mm512_setzero_ps(),
                        };
                        // SAFETY: the tile is interior (above): every tap of its pixels, and
                        // the block's 16 channels there, lie inside the input; the packed
                        // weights hold `blocks · taps · C` vectors.
                        let acc = unsafe {
                            interior_tile::<C>(
                                x.add(corner + 16 * blk),
                                tap_offs,
                                step,
                                packed.add(blk * taps * C * 16),
                                &idx,
                                init,
                            )
                        };
                        for (p, a) in acc.iter().enumerate() {
                            let v = match bounds {
                                // `max(v, lo)` returns `lo` for a NaN `v`, like the scalar `max`.
                                Some((lo, hi)) => _mm512_min_ps(_mm512_max_ps(*a, lo), hi),
                                None => *a,
                            };
                            let m = (b * g.out_h + oh) * g.out_w + ow0 + p;
                            // SAFETY: pixel `(b, oh, ow0 + p)` exists; channels `16·blk ..`.
                            unsafe { _mm512_storeu_ps(out.add(m * g.out_c + 16 * blk), v) };
                        }
                    }
                    if scalar_act {
                        let row = (b * g.out_h + oh) * g.out_w + ow0;
                        if let Some(s) = output.get_mut(row * g.out_c..(row + np) * g.out_c) {
                            g.activation.apply_slice(s);
                        }
                    }
                    ow0 += np;
                    continue;
                }
                for (p, o) in offs.iter_mut().enumerate().take(np) {
                    // Offsets of channel 0 at each tap (group 0); block `blk` adds 16·blk.
                    plan.for_each_tap((b, 0, oh, ow0 + p), |t, at| {
                        if let Some(slot) = o.get_mut(t) {
                            *slot = at;
                        }
                    });
                }
                for blk in 0..blocks {
                    let init = match bias {
                        // SAFETY: channels `16·blk .. + 16 ≤ out_c`.
                        Some(bv) => unsafe { _mm512_loadu_ps(bv.as_ptr().add(16 * blk)) },
                        None => _mm512_setzero_ps(),
                    };
                    // Two chains per pixel (even and odd input channels): one chain of `C`
                    // dependent FMAs per tap left the FMA units waiting on their latency.
                    let mut acc = [init; PX];
                    let mut acc_odd = [_mm512_setzero_ps(); PX];
                    for t in 0..taps {
                        let mut wv = [_mm512_setzero_ps(); C];
                        for (c, v) in wv.iter_mut().enumerate() {
                            // SAFETY: inside the packed weights (`pack_small_groups_f32`, above).
                            *v = unsafe {
                                _mm512_load_ps(packed.add(((blk * taps + t) * C + c) * 16))
                            };
                        }
                        for ((a, a_odd), o) in acc.iter_mut().zip(&mut acc_odd).zip(&offs).take(np)
                        {
                            if let Some(at) = o[t] {
                                // SAFETY: `at` is a pixel inside the input (the plan's window);
                                // its channels `16·blk .. + 16 ≤ in_c` follow.
                                let xv = unsafe { _mm512_loadu_ps(x.add(at + 16 * blk)) };
                                for (c, (i, w)) in idx.iter().zip(&wv).enumerate() {
                                    let xs = _mm512_permutexvar_ps(*i, xv);
                                    if c % 2 == 0 {
                                        *a = _mm512_fmadd_ps(xs, *w, *a);
                                    } else {
                                        *a_odd = _mm512_fmadd_ps(xs, *w, *a_odd);
                                    }
                                }
                            }
                        }
                    }
                    for (p, (a, a_odd)) in acc.iter().zip(&acc_odd).enumerate().take(np) {
                        let a = _mm512_add_ps(*a, *a_odd);
                        let v = match bounds {
                            // `max(v, lo)` returns `lo` for a NaN `v`, like the scalar `max`.
                            Some((lo, hi)) => _mm512_min_ps(_mm512_max_ps(a, lo), hi),
                            None => a,
                        };
                        let m = (b * g.out_h + oh) * g.out_w + ow0 + p;
                        // SAFETY: pixel `(b, oh, ow0 + p)` exists; channels `16·blk .. + 16`.
                        unsafe { _mm512_storeu_ps(out.add(m * g.out_c + 16 * blk), v) };
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

/// The [`PX`] pixels of an interior tile for one block of 16 channels: tap `t` of pixel `p` at
/// `base + tap_offs[t] + p · step`, the block's weights at `w` (`[tap][c][16]`); returns the
/// accumulators (bias included, no activation).
///
/// # Safety
/// AVX-512 F available; every `base + tap_offs[t] + p · step` readable for 16 floats (`p <
/// PX`); `w` aligned and readable for `tap_offs.len() · C · 16` floats.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
#[inline]
unsafe fn interior_tile<const C: usize>(
    base: *const f32,
    tap_offs: &[usize],
    step: usize,
    mut w: *const f32,
    idx: &[__m512i; C],
    init: __m512,
) -> [__m512; PX] {
    // Two chains per pixel (even and odd input channels), as the border path.
    let mut acc = [init; PX];
    let mut acc_odd = [_mm512_setzero_ps(); PX];
    for &off in tap_offs {
        let mut wv = [_mm512_setzero_ps(); C];
        for (c, v) in wv.iter_mut().enumerate() {
            // SAFETY: vector `c` of this tap's weights (caller).
            *v = unsafe { _mm512_load_ps(w.add(16 * c)) };
        }
        // SAFETY: stays within (or one past) the block's weights.
        w = unsafe { w.add(16 * C) };
        // SAFETY: tap `off` of the tile's first pixel (caller).
        let tb = unsafe { base.add(off) };
        for p in 0..PX {
            // SAFETY: tap `off` of pixel `p` (caller).
            let xv = unsafe { _mm512_loadu_ps(tb.add(p * step)) };
            for c in 0..C {
                let xs = _mm512_permutexvar_ps(idx[c], xv);
                if c % 2 == 0 {
                    acc[p] = _mm512_fmadd_ps(xs, wv[c], acc[p]);
                } else {
                    acc_odd[p] = _mm512_fmadd_ps(xs, wv[c], acc_odd[p]);
                }
            }
        }
    }
    for p in 0..PX {
        acc[p] = _mm512_add_ps(acc[p], acc_odd[p]);
    }
    acc
}
