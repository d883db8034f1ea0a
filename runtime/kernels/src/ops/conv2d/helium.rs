//! int8 convolution with Helium (MVE) on the Cortex-M55/M85: `conv2d_s8_helium`.
//!
//! The layout and the arithmetic are the DSP kernel's (`arm_dsp.rs`, whose call context,
//! im2col, folded biases and output modes this file reuses); the inner loops and the output
//! stage are vector code (`arch::helium`):
//!
//! - **GEMM** (`groups == 1`: 1×1, 3×3 and any other dense kernel, `k = kernel_h·kernel_w·in_c`;
//!   grouped kernels per group, over the group's im2col row, `k = kernel_h·kernel_w·in_c/groups`):
//!   one output pixel at a time, its input row read in place (1×1 without padding) or gathered
//!   by im2col into a [`MAX_K`]-byte stack buffer, then four output channels at a time take the
//!   dot products of the row with their weight rows in one tail-predicated loop (per 16 bytes of
//!   depth: 5 `vldrb`, 4 `vmladava.s8`; `arch::helium::dot_1x4`), so no depth is too short or
//!   ragged. The input offset is folded into the bias (`bias + off·Σ w`), as in the DSP kernel.
//! - **Depthwise 3×3** (dilation 1, channels a multiple of 4, padded rows up to
//!   [`MAX_DW_W`] pixels): 4 channels at a time, the three input rows of an output row gathered
//!   into a stack buffer (4 bytes per pixel, the input zero point in the padding, so every window
//!   is the same 9 taps: 2 `vldrb.s32`, `vmul`, `vadd` each; `arch::helium::dw3x3_4`).
//! - **Output stage**: with double rounding (LiteRT's and TFLite's default) 4 channels at once,
//!   `vqrdmulh` and a rounding shift (`arch::helium::requant4_double`: the quant module's
//!   `apply_right_double` bit for bit, see its docs and the tests); with single rounding, the
//!   quant module's scalar `apply_right_single` per output.
//!
//! Declined (the DSP kernel or the reference runs them): grouped convolutions other than these
//! depthwise ones, im2col rows longer than [`MAX_K`], left-shift multipliers.

use super::arm_dsp::{
    fold_chunk, im2col, in_place_offset, output_mode, padded_width, reads_in_place, Ctx, CHUNK,
    GENERAL, MAX_DW_W, MAX_K, RIGHT_DOUBLE, RIGHT_SINGLE,
};
use super::{Conv2dS8Params, S8Kind};
use crate::arch::arm_dsp::load_word;
use crate::arch::helium::{dot_1x1, dot_1x4, dw3x3_4, requant4_double, RequantGroup};
use crate::dispatch::Isa;
use crate::quant::PreparedMultiplier;

/// `conv2d_s8_helium`: declines (returns `false`, writing nothing) unless Helium is compiled in
/// (see [`Isa::Helium`]) and the call is covered (module docs).
#[cfg_attr(not(mote_helium), allow(dead_code))]
pub(crate) fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    Isa::Helium.available() && conv2d_s8_any_host(p, input, weights, bias, mults, shifts, output)
}

/// The kernel without the availability check: on other hosts its vector code is emulated
/// (`arch::helium`), which is how the property tests run it.
pub(crate) fn conv2d_s8_any_host(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    let Some(ctx) = Ctx::new(p, input, weights, bias, mults, shifts, output) else {
        return false;
    };
    let plan = ctx.plan;
    let mode = output_mode(&ctx);
    if mode == GENERAL {
        return false;
    }
    // The vector output stage clamps with `vmax`/`vmin` and stores the low bytes: exact when the
    // clamp bounds are int8 values (they always are; otherwise the scalar stage runs).
    let vector = mode == RIGHT_DOUBLE
        && (-128..=127).contains(&p.act_min)
        && (-128..=127).contains(&p.act_max);
    // One channel in and out with groups == 1 is a (tiny) dense convolution: the GEMM runs it.
    if plan.kind == S8Kind::Depthwise && plan.g.groups > 1 {
        let g = &plan.g;
        let covered = g.kernel_h == 3
            && g.kernel_w == 3
            && g.dilation_h == 1
            && g.dilation_w == 1
            && g.in_c.is_multiple_of(4)
            && padded_width(g) <= MAX_DW_W;
        if !covered {
            return false;
        }
        depthwise_3x3(&ctx, vector, output);
        return true;
    }
    // Grouped kernels (ResNeXt-style, depthwise with a multiplier) run the GEMM per group over
    // the group's im2col row.
    let in_place = plan.g.groups == 1 && reads_in_place(&plan);
    if !in_place && plan.k_len > MAX_K {
        return false;
    }
    gemm(&ctx, vector, in_place, output);
    true
}

/// The per-call constants of the output stage.
#[derive(Clone, Copy)]
struct Stage {
    off: i32,
    lo: i32,
    hi: i32,
}

impl Stage {
    fn new(p: &Conv2dS8Params) -> Self {
        Stage {
            off: p.output_offset,
            lo: p.act_min,
            hi: p.act_max,
        }
    }
}

/// Channel `oc`'s multiplier and negated right shift, for [`RequantGroup`]s (the call's
/// multipliers are all right shifts, `shift ∈ [−31, 0]`: checked by `output_mode`).
fn group(ctx: &Ctx, oc: usize) -> RequantGroup {
    let mut g = RequantGroup::default();
    for j in 0..4 {
        g.mult[j] = ctx.mults.get(oc + j).copied().unwrap_or(0);
        g.neg_right[j] = ctx.shifts.get(oc + j).copied().unwrap_or(0);
    }
    g
}

/// Writes 4 outputs `dst` from accumulators `a` (folded bias included): the vector stage when
/// `vector`, else the scalar single-rounding one (`output_mode` returned `RIGHT_SINGLE`, or
/// double rounding with clamp bounds outside int8).
#[inline(always)]
fn store4(
    ctx: &Ctx,
    vector: bool,
    st: Stage,
    a: [i32; 4],
    grp: &RequantGroup,
    rq: &[PreparedMultiplier],
    dst: &mut [i8],
) {
    let Some(dst) = dst.get_mut(..4) else {
        return;
    };
    if vector {
        // SAFETY: dst has 4 bytes.
        unsafe { requant4_double(a, grp, st.off, st.lo, st.hi, dst.as_mut_ptr()) };
    } else if let ([d0, d1, d2, d3], Some(&[m0, m1, m2, m3])) = (dst, rq.get(..4)) {
        // This kernel runs only right-shift multipliers (`output_mode` is not GENERAL), which
        // excludes the float rounding: single or double.
        let f = |acc, m: PreparedMultiplier| {
            if m.rounding() == crate::quant::Rounding::Single {
                ctx.out_p::<RIGHT_SINGLE>(acc, m)
            } else {
                ctx.out_p::<RIGHT_DOUBLE>(acc, m)
            }
        };
        *d0 = f(a[0], m0);
        *d1 = f(a[1], m1);
        *d2 = f(a[2], m2);
        *d3 = f(a[3], m3);
    }
}

/// One output with the scalar stage.
#[inline(always)]
fn store1(ctx: &Ctx, acc: i32, m: PreparedMultiplier) -> i8 {
    // As in `store4`: single or double rounding here.
    if m.rounding() == crate::quant::Rounding::Single {
        ctx.out_p::<RIGHT_SINGLE>(acc, m)
    } else {
        ctx.out_p::<RIGHT_DOUBLE>(acc, m)
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM
// ---------------------------------------------------------------------------------------------

/// Dense convolution: see the module docs.
#[inline(never)]
fn gemm(ctx: &Ctx, vector: bool, in_place: bool, output: &mut [i8]) {
    let g = &ctx.plan.g;
    let pixels = g.batch * g.out_h * g.out_w;
    let k = ctx.plan.k_len;
    let out_c = g.out_c;
    let st = Stage::new(ctx.p);
    let mut col = [0i8; MAX_K];
    let mut cw = [0i32; CHUNK];
    let mut rq = [PreparedMultiplier::default(); CHUNK];
    let mut groups = [RequantGroup::default(); CHUNK / 4];
    let opg = ctx.plan.opg;
    let zp = (-ctx.p.input_offset) as i8;
    let mut c0 = 0;
    while c0 < out_c {
        // A chunk stays inside one group (its channels share the group's im2col row).
        let grp_of_chunk = c0 / opg.max(1);
        let n = fold_chunk(ctx, c0, &mut cw, &mut rq).min((grp_of_chunk + 1) * opg - c0);
        for (i, grp) in groups.iter_mut().enumerate().take(n / 4) {
            *grp = group(ctx, c0 + 4 * i);
        }
        // The chunk's weight rows, n·k bytes.
        let Some(w_chunk) = ctx.weights.get(c0 * k..(c0 + n) * k) else {
            return;
        };
        for q in 0..pixels {
            let x: &[i8] = if in_place {
                let off = in_place_offset(g, q);
                let Some(r) = ctx.input.get(off..off + k) else {
                    return;
                };
                r
            } else {
                let Some(r) = col.get_mut(..k) else {
                    return;
                };
                if g.groups == 1 {
                    im2col(ctx, q, r);
                } else {
                    let (ow, oh, b) = (
                        q % g.out_w,
                        (q / g.out_w) % g.out_h,
                        q / (g.out_w * g.out_h),
                    );
                    ctx.plan
                        .im2col_row(ctx.input, (b, grp_of_chunk, oh, ow), zp, r);
                }
                r
            };
            if x.len() != k || k == 0 {
                return;
            }
            let Some(out_px) = output.get_mut(q * out_c + c0..q * out_c + c0 + n) else {
                return;
            };
            let mut j = 0;
            while j + 4 <= n {
                // SAFETY: x has k bytes; rows j .. j + 4 of the chunk are w_chunk[(j + r)·k ..]
                // [.. k], inside w_chunk (j + 4 ≤ n); k > 0.
                let d = unsafe { dot_1x4(x.as_ptr(), w_chunk.as_ptr().add(j * k), k, k) };
                let b = cw.get(j..j + 4).unwrap_or(&[0; 4]);
                let a = [
                    d[0].wrapping_add(b[0]),
                    d[1].wrapping_add(b[1]),
                    d[2].wrapping_add(b[2]),
                    d[3].wrapping_add(b[3]),
                ];
                let grp = groups.get(j / 4).copied().unwrap_or_default();
                store4(
                    ctx,
                    vector,
                    st,
                    a,
                    &grp,
                    rq.get(j..).unwrap_or(&[]),
                    out_px.get_mut(j..).unwrap_or(&mut []),
                );
                j += 4;
            }
            while j < n {
                let Some(w) = w_chunk.get(j * k..(j + 1) * k) else {
                    return;
                };
                // SAFETY: x and w have k > 0 bytes.
                let d = unsafe { dot_1x1(x.as_ptr(), w.as_ptr(), k) };
                if let (Some(o), Some(&b), Some(&m)) = (out_px.get_mut(j), cw.get(j), rq.get(j)) {
                    *o = store1(ctx, d.wrapping_add(b), m);
                }
                j += 1;
            }
        }
        c0 += n;
    }
}

// ---------------------------------------------------------------------------------------------
// Depthwise
// ---------------------------------------------------------------------------------------------

/// Depthwise 3×3, dilation 1, channels a multiple of 4, padded rows ≤ [`MAX_DW_W`] pixels
/// (checked by the caller): see the module docs.
#[inline(never)]
fn depthwise_3x3(ctx: &Ctx, vector: bool, output: &mut [i8]) {
    let g = &ctx.plan.g;
    let c = g.in_c;
    let st = Stage::new(ctx.p);
    let wp = padded_width(g);
    if wp > MAX_DW_W || !c.is_multiple_of(4) || ctx.plan.taps != 9 {
        return;
    }
    let zp_word = u32::from_ne_bytes([(-ctx.p.input_offset) as i8 as u8; 4]);
    let mut rows = [zp_word; 3 * MAX_DW_W];
    // Buffer column `col` holds input column `col − pad_left`; the input's columns fill
    // `first .. first + count`.
    let first = g.pad_left.min(wp);
    let count = g.in_w.min(wp - first);
    let mut c0 = 0;
    while c0 < c {
        // The 9 taps' weights of channels c0 .. c0 + 4, tap-major.
        let mut wpk = [0i8; 36];
        for (i, v) in wpk.iter_mut().enumerate() {
            let (t, j) = (i / 4, i % 4);
            *v = ctx.weights.get((c0 + j) * 9 + t).copied().unwrap_or(0);
        }
        let cw = [0, 1, 2, 3].map(|j| ctx.folded_bias(c0 + j, 9));
        let rq = [0, 1, 2, 3].map(|j| ctx.prepared(c0 + j));
        let grp = group(ctx, c0);
        for n in 0..g.batch {
            for oh in 0..g.out_h {
                let ih0 = (oh * g.stride_h) as isize - g.pad_top as isize;
                for (kh, row) in rows.chunks_exact_mut(wp.max(1)).take(3).enumerate() {
                    let ih = ih0 + kh as isize;
                    if ih < 0 || ih >= g.in_h as isize || count == 0 {
                        row.fill(zp_word);
                        continue;
                    }
                    let base = ((n * g.in_h + ih as usize) * g.in_w) * c + c0;
                    let Some(src) = ctx.input.get(base..base + (count - 1) * c + 4) else {
                        row.fill(zp_word);
                        continue;
                    };
                    let Some((left, rest)) = row.split_at_mut_checked(first) else {
                        continue;
                    };
                    left.fill(zp_word);
                    let Some((mid, right)) = rest.split_at_mut_checked(count) else {
                        continue;
                    };
                    right.fill(zp_word);
                    for (i, d) in mid.iter_mut().enumerate() {
                        // SAFETY: i < count, so i·c + 4 ≤ (count − 1)·c + 4 = src.len().
                        *d = unsafe { load_word(src.as_ptr().add(i * c)) };
                    }
                }
                let out_row = ((n * g.out_h + oh) * g.out_w) * c + c0;
                let buf = rows.as_ptr().cast::<i8>();
                for ow in 0..g.out_w {
                    let col0 = ow * g.stride_w;
                    // The window's last word: row 2, column col0 + 2 < wp.
                    if col0 + 2 >= wp {
                        break;
                    }
                    // SAFETY: the 3 runs of 3 words at rows kh < 3, columns col0 .. col0 + 3
                    // (< wp) are inside `rows` (3·wp words); wpk has 36 bytes.
                    let a = unsafe { dw3x3_4(buf.add(4 * col0), 4 * wp, wpk.as_ptr(), &cw) };
                    let o = out_row + ow * c;
                    store4(
                        ctx,
                        vector,
                        st,
                        a,
                        &grp,
                        &rq,
                        output.get_mut(o..o + 4).unwrap_or(&mut []),
                    );
                }
            }
        }
        c0 += 4;
    }
}
