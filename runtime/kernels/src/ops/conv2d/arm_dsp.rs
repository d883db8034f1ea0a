//! int8 convolution with the Arm DSP extension (Cortex-M4/M7/M33/M55): `conv2d_s8_arm_dsp`.
//!
//! The CMSIS-NN recipe, without its scratch buffers in the arena:
//!
//! - **Input offset folded into the bias.** `Σ (x + off)·w = Σ x·w + off·Σ w`, so the inner loops
//!   multiply raw int8 values and each output channel starts from `bias + off·Σ w` (computed once
//!   per call for a chunk of channels). Padding taps read the input zero point (`−off`), which
//!   contributes `(−off + off)·w = 0` exactly as in the reference. All sums wrap in 32 bits like
//!   the reference's, so the result is identical bit for bit.
//! - **GEMM** (`groups == 1`: 1×1, 3×3 and any other dense kernel): one output pixel at a time,
//!   its input row of `k = kernel_h·kernel_w·in_c` bytes either read in place (1×1 without
//!   padding) or gathered (im2col, zero point for padding) into a [`MAX_K`]-byte stack buffer;
//!   then four output channels at a time take the dot products of that row with their weight
//!   rows (`arch::arm_dsp::dot_1x4`): per 4 bytes of depth, 5 word loads, 10 `sxtb16` (bytes 0/2
//!   and 1/3 of each word as halfword pairs) and 8 `smlad` (two 16-bit multiply-adds each) for
//!   16 multiply-adds. (Two pixels × two channels would save a little more but needs 15
//!   registers in the loop; Thumb code has 13 to give `asm!`.)
//! - **Depthwise** (one input and one output channel per group): 4 channels at a time, the
//!   weights of those 4 channels re-packed once per call as halfword pairs per tap (channels 0/2
//!   and 1/3, matching `sxtb16`'s lanes), then per output pixel and tap one word load of the 4
//!   input channels, 2 `sxtb16` and 4 `smlabb`/`smlatt`. Windows that reach into the padding
//!   visit only their taps inside the input and add the input offset to the values (`sadd16`)
//!   instead of folding it into the bias. Channels past the last multiple of 4 run a scalar loop.
//!
//! - **Grouped** (several channels per group, or depthwise with a channel multiplier): the GEMM
//!   per group, over the group's im2col row.
//!
//! Depths beyond [`MAX_K`] when an im2col row is needed are declined (the reference runs them),
//! as are layers with a multiplier that is not a right shift (`shift > 0`, which no quantized
//! model has; the short output stages need right shifts).
//!
//! The output stage is [`requantize_output`], the quant module's, in both rounding modes.

use super::{Conv2dS8Params, S8Kind, S8Plan, MAX_TAPS};
use crate::arch::arm_dsp::{
    dot_1x1, dot_1x4, dot_1x4_words, dot_pairs_2x2, expand_pair, load_word, pair, sadd16, smlabb,
    smlad, smlatt, sxtb16, sxtb16_ror8,
};
use crate::dispatch::Isa;
use crate::ops::util::{clamp_s8, requantize_output, requantize_output_prepared, sub, sub_mut};
use crate::quant::{PreparedMultiplier, Rounding};

/// Longest im2col row (`kernel_h·kernel_w·in_c` bytes) gathered on the stack; two rows are kept.
pub(crate) const MAX_K: usize = 1152;
/// Deepest row taken two pixels at a time (`dot_pairs_2x2`): the pair buffer holds `4·MAX_PK`
/// bytes, the second im2col row `MAX_PK`.
const MAX_PK: usize = 320;
/// Output channels whose folded bias (`bias + off·Σ w`) is kept at once.
pub(super) const CHUNK: usize = 64;

/// Output stage for any multiplier ([`PreparedMultiplier::apply`]).
pub(super) const GENERAL: u8 = 0;
/// Every channel's multiplier is a right shift, double rounding.
pub(super) const RIGHT_DOUBLE: u8 = 1;
/// Every channel's multiplier is a right shift, single rounding.
pub(super) const RIGHT_SINGLE: u8 = 2;

/// The output stage for the whole call: the short right-shift paths when every channel allows
/// them (every real model), so the per-output code has no branch on the parameters.
pub(super) fn output_mode(ctx: &Ctx) -> u8 {
    let all_right = (0..ctx.plan.g.out_c).all(|oc| ctx.prepared(oc).is_right_shift());
    match (all_right, ctx.p.rounding) {
        (true, Rounding::Double) => RIGHT_DOUBLE,
        (true, Rounding::Single) => RIGHT_SINGLE,
        _ => GENERAL,
    }
}

/// The arguments of one call, validated.
pub(super) struct Ctx<'a> {
    pub(super) plan: S8Plan,
    pub(super) p: &'a Conv2dS8Params,
    pub(super) input: &'a [i8],
    pub(super) weights: &'a [i8],
    pub(super) bias: Option<&'a [i32]>,
    pub(super) mults: &'a [i32],
    pub(super) shifts: &'a [i32],
}

impl<'a> Ctx<'a> {
    /// The call's slices with their plan, `None` when [`S8Plan::new`] declines them (shared by
    /// the DSP and Helium entries).
    pub(super) fn new(
        p: &'a Conv2dS8Params,
        input: &'a [i8],
        weights: &'a [i8],
        bias: Option<&'a [i32]>,
        mults: &'a [i32],
        shifts: &'a [i32],
        output: &[i8],
    ) -> Option<Self> {
        let plan = S8Plan::new(
            p,
            input.len(),
            weights.len(),
            bias.map(<[i32]>::len),
            mults.len(),
            shifts.len(),
            output.len(),
        )?;
        Some(Ctx {
            plan,
            p,
            input,
            weights,
            bias,
            mults,
            shifts,
        })
    }
}

impl Ctx<'_> {
    /// Requantizes channel `oc`'s accumulator (folded bias included).
    #[inline(always)]
    fn out(&self, acc: i32, oc: usize) -> i8 {
        requantize_output(
            acc,
            self.mults.get(oc).copied().unwrap_or(0),
            self.shifts.get(oc).copied().unwrap_or(0),
            self.p.rounding,
            self.p.output_offset,
            self.p.act_min,
            self.p.act_max,
        )
    }

    /// Channel `oc`'s multiplier, prepared.
    #[inline]
    pub(super) fn prepared(&self, oc: usize) -> PreparedMultiplier {
        PreparedMultiplier::new(
            self.mults.get(oc).copied().unwrap_or(0),
            self.shifts.get(oc).copied().unwrap_or(0),
            self.p.rounding,
        )
    }

    /// Requantizes an accumulator (folded bias included) with a prepared multiplier, by the
    /// output stage `MODE` chosen once per call ([`output_mode`]).
    #[inline(always)]
    pub(super) fn out_p<const MODE: u8>(&self, acc: i32, m: PreparedMultiplier) -> i8 {
        let v = match MODE {
            RIGHT_DOUBLE => m.apply_right_double(acc),
            RIGHT_SINGLE => m.apply_right_single(acc),
            _ => {
                return requantize_output_prepared(
                    acc,
                    m,
                    self.p.output_offset,
                    self.p.act_min,
                    self.p.act_max,
                )
            }
        };
        clamp_s8(
            v.saturating_add(self.p.output_offset),
            self.p.act_min,
            self.p.act_max,
        )
    }

    /// `bias[oc] + input_offset · Σ weights[oc]`, wrapping, over the `k` weights of channel `oc`.
    pub(super) fn folded_bias(&self, oc: usize, k: usize) -> i32 {
        let w = sub(self.weights, oc * k, k);
        let k4 = w.len() / 4;
        let mut s = 0i32;
        for i in 0..k4 {
            // SAFETY: 4·i + 4 ≤ w.len().
            let v = unsafe { load_word(w.as_ptr().add(4 * i)) };
            s = smlad(sxtb16(v), 0x0001_0001, s);
            s = smlad(sxtb16_ror8(v), 0x0001_0001, s);
        }
        for &v in w.get(4 * k4..).unwrap_or(&[]) {
            s = s.wrapping_add(i32::from(v));
        }
        let b = self.bias.and_then(|b| b.get(oc)).copied().unwrap_or(0);
        b.wrapping_add(self.p.input_offset.wrapping_mul(s))
    }
}

/// `conv2d_s8_arm_dsp`: declines (returns `false`, writing nothing) unless the DSP extension is
/// compiled in (see [`Isa::ArmDsp`]) and the call is covered (module docs).
#[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
pub(crate) fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    mults: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) -> bool {
    Isa::ArmDsp.available() && conv2d_s8_any_host(p, input, weights, bias, mults, shifts, output)
}

/// The kernel without the availability check: on hosts without the DSP extension its
/// instructions are emulated (`arch::arm_dsp`), which is how the property tests run it.
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
    let dense = plan.g.groups == 1;
    let in_place = dense && reads_in_place(&plan);
    // Dense and grouped kernels other than depthwise gather an im2col row unless read in place.
    if plan.kind != S8Kind::Depthwise && !(in_place || plan.k_len <= MAX_K) {
        return false;
    }
    // Helium builds run grouped layers with the Helium GEMM; leaving this path out keeps the
    // firmware inside the M55's 512 KiB of code memory on QEMU's mps3-an547.
    if cfg!(mote_helium) && !dense && plan.kind != S8Kind::Depthwise {
        return false;
    }
    match output_mode(&ctx) {
        RIGHT_DOUBLE => run::<RIGHT_DOUBLE>(&ctx, in_place, output),
        RIGHT_SINGLE => run::<RIGHT_SINGLE>(&ctx, in_place, output),
        // Multipliers with a left shift (no quantized model has them): the reference runs
        // them, which keeps a third instantiation of every loop out of the firmware.
        _ => return false,
    }
    true
}

/// Runs an accepted call with output stage `MODE`.
fn run<const MODE: u8>(ctx: &Ctx, in_place: bool, output: &mut [i8]) {
    if ctx.plan.kind == S8Kind::Depthwise {
        depthwise::<MODE>(ctx, output);
    } else if ctx.plan.g.groups > 1 {
        #[cfg(not(mote_helium))]
        gemm_grouped::<MODE>(ctx, output);
    } else if in_place {
        gemm_in_place::<MODE>(ctx, output);
    } else {
        gemm_im2col::<MODE>(ctx, output);
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM
// ---------------------------------------------------------------------------------------------

/// A 1×1 kernel without padding whose every window is inside the input: the im2col row of a
/// pixel is the pixel's channels, read in place.
pub(super) fn reads_in_place(plan: &S8Plan) -> bool {
    let g = &plan.g;
    g.kernel_h == 1
        && g.kernel_w == 1
        && g.pad_top == 0
        && g.pad_left == 0
        && (g.out_h - 1) * g.stride_h < g.in_h
        && (g.out_w - 1) * g.stride_w < g.in_w
}

/// All output channels `c0 .. c0 + cw.len()` of output pixel `q`, whose im2col row is `x`:
/// four channels per `dot_1x4`, the last 1-3 with `dot_1x1`. `cw` holds their folded biases,
/// `rq` their multipliers. When `x` is longer than `k_len` (the im2col buffer, zero past
/// `k_len`), whole words are read past the end of each weight row: the extra weights meet zeros.
///
/// Out of line: inlined into the layer loops, LLVM ran out of registers around it.
#[inline(never)]
fn pixel<const MODE: u8>(
    ctx: &Ctx,
    x: &[i8],
    q: usize,
    c0: usize,
    cw: &[i32],
    rq: &[PreparedMultiplier],
    output: &mut [i8],
) {
    let k = ctx.plan.k_len;
    let k_pad = k.next_multiple_of(4);
    // Whole words per row: k itself, or k rounded up when x is zero-padded that far.
    let kk = if k_pad > k && x.len() >= k_pad {
        k_pad
    } else {
        k
    };
    let n = cw.len().min(rq.len());
    let out_px = sub_mut(output, q * ctx.plan.g.out_c + c0, n);
    let w_all = ctx.weights.get(c0 * k..).unwrap_or(&[]);
    let mut j = 0;
    while j + 4 <= n {
        let a = if kk > 0 && kk % 4 == 0 && x.len() >= kk && (j + 3) * k + kk <= w_all.len() {
            // SAFETY: x has ≥ kk bytes; rows j .. j + 4 are read at w_all[(j + i)·k ..][.. kk],
            // all inside w_all (just checked).
            unsafe { dot_1x4_words(x.as_ptr(), w_all.as_ptr().add(j * k), k, kk / 4) }
        } else {
            dot_1x4(x, w_all.get(j * k..).unwrap_or(&[]), k)
        };
        let (Some(o), Some(b), Some(m)) =
            (out_px.get_mut(j..j + 4), cw.get(j..j + 4), rq.get(j..j + 4))
        else {
            return;
        };
        if let ([o0, o1, o2, o3], [b0, b1, b2, b3], [m0, m1, m2, m3]) = (o, b, m) {
            *o0 = ctx.out_p::<MODE>(a[0].wrapping_add(*b0), *m0);
            *o1 = ctx.out_p::<MODE>(a[1].wrapping_add(*b1), *m1);
            *o2 = ctx.out_p::<MODE>(a[2].wrapping_add(*b2), *m2);
            *o3 = ctx.out_p::<MODE>(a[3].wrapping_add(*b3), *m3);
        }
        j += 4;
    }
    while j < n {
        let a = dot_1x1(x, sub(w_all, j * k, k), k);
        if let (Some(o), Some(b), Some(m)) = (out_px.get_mut(j), cw.get(j), rq.get(j)) {
            *o = ctx.out_p::<MODE>(a.wrapping_add(*b), *m);
        }
        j += 1;
    }
}

/// All output channels `c0 .. c0 + cw.len()` of output pixels `q` and `q + 1` (rows `r0`, `r1`,
/// expanded into `xp`, `words` words per row): two channels at a time with `dot_pairs_2x2`,
/// starting from the folded biases, the four outputs requantized in line.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn pixel_pair<const MODE: u8>(
    ctx: &Ctx,
    xp: &[u32],
    words: usize,
    rows: [&[i8]; 2],
    q: usize,
    c0: usize,
    cw: &[i32],
    rq: &[PreparedMultiplier],
    output: &mut [i8],
) {
    let k = ctx.plan.k_len;
    let out_c = ctx.plan.g.out_c;
    let n = cw.len().min(rq.len());
    let w_all = ctx.weights.get(c0 * k..).unwrap_or(&[]);
    let [r0, r1] = rows;
    // The two pixels' output runs, disjoint.
    let Some((lo, hi)) = output.split_at_mut_checked((q + 1) * out_c) else {
        return;
    };
    let (Some(o0), Some(o1)) = (
        lo.get_mut(q * out_c + c0..).and_then(|o| o.get_mut(..n)),
        hi.get_mut(c0..c0 + n),
    ) else {
        return;
    };
    // Rows are read for 4·words bytes (past k for a zero-padded im2col row: checked per pair).
    let fast = words > 0 && xp.len() >= 4 * words;
    let mut j = 0;
    while j + 2 <= n {
        let (Some(&[b0, b1]), Some(&[m0, m1]), Some([d00, d01]), Some([d10, d11])) = (
            cw.get(j..j + 2),
            rq.get(j..j + 2),
            o0.get_mut(j..j + 2),
            o1.get_mut(j..j + 2),
        ) else {
            return;
        };
        let a = if fast && (j + 1) * k + 4 * words <= w_all.len() {
            // SAFETY: xp holds 4·words pairs; rows j and j + 1 are read at
            // w_all[(j + i)·k ..][.. 4·words], inside w_all (just checked).
            unsafe {
                dot_pairs_2x2(
                    xp.as_ptr(),
                    w_all.as_ptr().add(j * k),
                    k,
                    words,
                    [b0, b1, b0, b1],
                )
            }
        } else {
            let (w0, w1) = (sub(w_all, j * k, k), sub(w_all, (j + 1) * k, k));
            [
                dot_1x1(r0, w0, k).wrapping_add(b0),
                dot_1x1(r0, w1, k).wrapping_add(b1),
                dot_1x1(r1, w0, k).wrapping_add(b0),
                dot_1x1(r1, w1, k).wrapping_add(b1),
            ]
        };
        *d00 = ctx.out_p::<MODE>(a[0], m0);
        *d01 = ctx.out_p::<MODE>(a[1], m1);
        *d10 = ctx.out_p::<MODE>(a[2], m0);
        *d11 = ctx.out_p::<MODE>(a[3], m1);
        j += 2;
    }
    if j < n {
        let w0 = sub(w_all, j * k, k);
        let (a0, a1) = (dot_1x1(r0, w0, k), dot_1x1(r1, w0, k));
        if let (Some(&b), Some(&m), Some(d0), Some(d1)) =
            (cw.get(j), rq.get(j), o0.get_mut(j), o1.get_mut(j))
        {
            *d0 = ctx.out_p::<MODE>(a0.wrapping_add(b), m);
            *d1 = ctx.out_p::<MODE>(a1.wrapping_add(b), m);
        }
    }
}

/// Fills `cw` with the folded biases of channels `c0 ..`; returns how many.
/// Fills `cw` with the folded biases and `rq` with the prepared multipliers of channels
/// `c0 ..`; returns how many.
pub(super) fn fold_chunk(
    ctx: &Ctx,
    c0: usize,
    cw: &mut [i32; CHUNK],
    rq: &mut [PreparedMultiplier; CHUNK],
) -> usize {
    let n = (ctx.plan.g.out_c - c0).min(CHUNK);
    for (j, (v, m)) in cw.iter_mut().zip(rq.iter_mut()).enumerate().take(n) {
        *v = ctx.folded_bias(c0 + j, ctx.plan.k_len);
        *m = ctx.prepared(c0 + j);
    }
    n
}

/// Input offset of output pixel `q`'s window origin for [`reads_in_place`] calls.
#[inline(always)]
pub(super) fn in_place_offset(g: &super::Conv2dParams, q: usize) -> usize {
    let ow = q % g.out_w;
    let rest = q / g.out_w;
    let oh = rest % g.out_h;
    let n = rest / g.out_h;
    ((n * g.in_h + oh * g.stride_h) * g.in_w + ow * g.stride_w) * g.in_c
}

/// GEMM whose input rows are read in place (1×1, no padding).
fn gemm_in_place<const MODE: u8>(ctx: &Ctx, output: &mut [i8]) {
    let mut xbuf = [0u32; MAX_PK];
    let g = &ctx.plan.g;
    let pixels = g.batch * g.out_h * g.out_w;
    let k = ctx.plan.k_len;
    let dense = g.stride_h == 1 && g.stride_w == 1;
    let mut cw = [0i32; CHUNK];
    let mut rq = [PreparedMultiplier::default(); CHUNK];
    let mut c0 = 0;
    while c0 < g.out_c {
        let n = fold_chunk(ctx, c0, &mut cw, &mut rq);
        let cw = cw.get(..n).unwrap_or(&[]);
        let rq = rq.get(..n).unwrap_or(&[]);
        let row = |q: usize| {
            let off = if dense {
                q * g.in_c
            } else {
                in_place_offset(g, q)
            };
            sub(ctx.input, off, k)
        };
        let mut q = 0;
        while q < pixels {
            if q + 1 < pixels && k <= MAX_PK {
                let (r0, r1) = (row(q), row(q + 1));
                let words = expand_pair(r0, r1, k, &mut xbuf);
                pixel_pair::<MODE>(ctx, &xbuf, words, [r0, r1], q, c0, cw, rq, output);
                q += 2;
            } else {
                pixel::<MODE>(ctx, row(q), q, c0, cw, rq, output);
                q += 1;
            }
        }
        c0 += n;
    }
}

/// Gathers output pixel `q`'s window into `dst` (`k_len` bytes, OHWI order as the weights),
/// with the input zero point for taps outside the input.
pub(super) fn im2col(ctx: &Ctx, q: usize, dst: &mut [i8]) {
    let g = &ctx.plan.g;
    let cpg = ctx.plan.cpg;
    let zp = (-ctx.p.input_offset) as i8;
    let ow = q % g.out_w;
    let rest = q / g.out_w;
    let oh = rest % g.out_h;
    let n = rest / g.out_h;
    let (ih0, kh0, kh1) =
        S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
    let (iw0, kw0, kw1) =
        S8Plan::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
    let zp_row = |seg: &mut [i8]| seg.fill(zp);
    let row_len = g.kernel_w * cpg;
    let mut rows = dst.chunks_exact_mut(row_len.max(1));
    for kh in 0..g.kernel_h {
        let Some(row) = rows.next() else { return };
        if !(kh0..kh1).contains(&kh) {
            zp_row(row);
            continue;
        }
        // Inside the input by construction of the tap ranges.
        let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
        let at = |iw: usize| ((n * g.in_h + ih) * g.in_w + iw) * g.in_c;
        if kw0 == 0 && kw1 == g.kernel_w && g.dilation_w == 1 && cpg == g.in_c {
            // The whole kernel row is one run of the input row (dense, no padding here).
            copy_bytes(row, sub(ctx.input, at(iw0 as usize), row_len));
            continue;
        }
        for (kw, seg) in row.chunks_exact_mut(cpg.max(1)).enumerate() {
            if (kw0..kw1).contains(&kw) {
                let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                copy_bytes(seg, sub(ctx.input, at(iw), cpg));
            } else {
                zp_row(seg);
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for equal lengths; short runs (the first layers' 1-3 channels)
/// byte by byte rather than through a `memcpy` call.
#[inline(always)]
fn copy_bytes(dst: &mut [i8], src: &[i8]) {
    if dst.len() < 16 {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    } else if dst.len() == src.len() {
        dst.copy_from_slice(src);
    }
}

/// GEMM over im2col rows gathered on the stack (any dense kernel, `k_len ≤ MAX_K`).
fn gemm_im2col<const MODE: u8>(ctx: &Ctx, output: &mut [i8]) {
    let g = &ctx.plan.g;
    let pixels = g.batch * g.out_h * g.out_w;
    let k = ctx.plan.k_len;
    // Three bytes more than the longest row: a row padded with zeros to whole words.
    let mut col = [0i8; MAX_K + 3];
    let mut col2 = [0i8; MAX_PK];
    let mut xbuf = [0u32; MAX_PK];
    let Some(buf) = col.get_mut(..k.next_multiple_of(4)) else {
        return;
    };
    let mut cw = [0i32; CHUNK];
    let mut rq = [PreparedMultiplier::default(); CHUNK];
    let mut c0 = 0;
    while c0 < g.out_c {
        let n = fold_chunk(ctx, c0, &mut cw, &mut rq);
        let cw = cw.get(..n).unwrap_or(&[]);
        let rq = rq.get(..n).unwrap_or(&[]);
        let mut q = 0;
        while q < pixels {
            if q + 1 < pixels && k <= MAX_PK {
                if let (Some(r0), Some(r1)) = (buf.get_mut(..k), col2.get_mut(..k)) {
                    im2col(ctx, q, r0);
                    im2col(ctx, q + 1, r1);
                    let words = expand_pair(r0, r1, k, &mut xbuf);
                    pixel_pair::<MODE>(ctx, &xbuf, words, [r0, r1], q, c0, cw, rq, output);
                }
                q += 2;
            } else {
                if let Some(row) = buf.get_mut(..k) {
                    im2col(ctx, q, row);
                }
                pixel::<MODE>(ctx, buf, q, c0, cw, rq, output);
                q += 1;
            }
        }
        c0 += n;
    }
}

/// Grouped convolution other than depthwise (ResNeXt-style groups, depthwise with a channel
/// multiplier): per output pixel and group, the group's im2col row ([`S8Plan::im2col_row`]),
/// then the group's output channels through [`pixel`], four at a time. A group's weight rows
/// are consecutive `k_len`-byte rows (OHWI), so `pixel` reads them as a dense GEMM's.
#[cfg(not(mote_helium))]
fn gemm_grouped<const MODE: u8>(ctx: &Ctx, output: &mut [i8]) {
    let g = &ctx.plan.g;
    let pixels = g.batch * g.out_h * g.out_w;
    let (opg, k) = (ctx.plan.opg, ctx.plan.k_len);
    let zp = (-ctx.p.input_offset) as i8;
    // Zero past `k` up to the next word: `pixel` may read whole words there (zero weights).
    let mut col = [0i8; MAX_K + 3];
    let Some(buf) = col.get_mut(..k.next_multiple_of(4)) else {
        return;
    };
    let mut cw = [0i32; CHUNK];
    let mut rq = [PreparedMultiplier::default(); CHUNK];
    for grp in 0..g.groups {
        let end = (grp + 1) * opg;
        let mut c0 = grp * opg;
        while c0 < end {
            let n = fold_chunk(ctx, c0, &mut cw, &mut rq).min(end - c0);
            let cw = cw.get(..n).unwrap_or(&[]);
            let rq = rq.get(..n).unwrap_or(&[]);
            for q in 0..pixels {
                let ow = q % g.out_w;
                let oh = (q / g.out_w) % g.out_h;
                let b = q / (g.out_w * g.out_h);
                ctx.plan.im2col_row(ctx.input, (b, grp, oh, ow), zp, buf);
                pixel::<MODE>(ctx, buf, q, c0, cw, rq, output);
            }
            c0 += n;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Depthwise
// ---------------------------------------------------------------------------------------------

/// Depthwise (`groups == in_c == out_c`): see the module docs.
#[inline(never)]
fn depthwise<const MODE: u8>(ctx: &Ctx, output: &mut [i8]) {
    let g = &ctx.plan.g;
    let c = g.in_c;
    let taps = ctx.plan.taps;
    // The input zero point in each of the 4 bytes.
    let zp_word = u32::from_ne_bytes([(-ctx.p.input_offset) as i8 as u8; 4]);
    // x + input_offset lies in [−255, 255]: an exact i16 lane.
    let off_pair = pair(ctx.p.input_offset as i16, ctx.p.input_offset as i16);
    // Byte offset of each tap from the window's origin (all taps inside the input).
    let mut toff = [0usize; MAX_TAPS];
    for kh in 0..g.kernel_h {
        for kw in 0..g.kernel_w {
            if let Some(t) = toff.get_mut(kh * g.kernel_w + kw) {
                *t = (kh * g.dilation_h * g.in_w + kw * g.dilation_w) * c;
            }
        }
    }
    let toff = toff.get(..taps).unwrap_or(&[]);
    // 3×3 windows (nearly every depthwise layer) take an unrolled `asm!` path.
    let three_by_three = g.kernel_h == 3 && g.kernel_w == 3;
    let col = g.dilation_w * c;
    let row = g.dilation_h * g.in_w * c;
    let w = |ch: usize, t: usize| i16::from(ctx.weights.get(ch * taps + t).copied().unwrap_or(0));
    // Per tap: (channels 0 and 2, channels 1 and 3) of the block, as halfword pairs.
    let mut packed = [[0u32; 2]; MAX_TAPS];
    let c4 = c / 4 * 4;
    let inp = ctx.input.as_ptr();
    let mut c0 = 0;
    while c0 < c4 {
        for (t, pk) in packed.iter_mut().enumerate().take(taps) {
            *pk = [
                pair(w(c0, t), w(c0 + 2, t)),
                pair(w(c0 + 1, t), w(c0 + 3, t)),
            ];
        }
        let packed = packed.get(..taps).unwrap_or(&[]);
        let cw = [0, 1, 2, 3].map(|j| ctx.folded_bias(c0 + j, taps));
        let rq = [0, 1, 2, 3].map(|j| ctx.prepared(c0 + j));
        if three_by_three && padded_width(g) <= MAX_DW_W {
            depthwise_3x3_rows::<MODE>(ctx, c0, packed, cw, rq, zp_word, output);
            c0 += 4;
            continue;
        }
        let b4 = [0, 1, 2, 3].map(|j| ctx.bias.and_then(|b| b.get(c0 + j)).copied().unwrap_or(0));
        for n in 0..g.batch {
            for oh in 0..g.out_h {
                let (ih0, kh0, kh1) =
                    S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
                for ow in 0..g.out_w {
                    let (iw0, kw0, kw1) = S8Plan::window(
                        ow,
                        g.stride_w,
                        g.pad_left,
                        g.dilation_w,
                        g.kernel_w,
                        g.in_w,
                    );
                    let (mut a0, mut a1, mut a2, mut a3) = (cw[0], cw[1], cw[2], cw[3]);
                    if kh0 == 0 && kh1 == g.kernel_h && kw0 == 0 && kw1 == g.kernel_w {
                        // The whole window is inside: ih0, iw0 ≥ 0.
                        let base = ((n * g.in_h + ih0 as usize) * g.in_w + iw0 as usize) * c + c0;
                        if three_by_three {
                            // SAFETY: the 9 taps are `base + kh·row + kw·col`, pixels inside
                            // the input, each with 4 bytes from channel c0 (c0 + 4 ≤ c);
                            // `packed` has 9 entries (taps == 9).
                            [a0, a1, a2, a3] = unsafe {
                                dw3x3(inp.add(base), col, row, packed.as_ptr(), [a0, a1, a2, a3])
                            };
                        } else {
                            for (&o, &[wl, wh]) in toff.iter().zip(packed) {
                                // SAFETY: `base + o` is channel `c0` of a pixel inside the input,
                                // and `c0 + 4 ≤ c`: the 4 bytes are inside that pixel.
                                let x = unsafe { load_word(inp.add(base + o)) };
                                let (xl, xh) = (sxtb16(x), sxtb16_ror8(x));
                                a0 = smlabb(xl, wl, a0);
                                a2 = smlatt(xl, wl, a2);
                                a1 = smlabb(xh, wh, a1);
                                a3 = smlatt(xh, wh, a3);
                            }
                        }
                    } else if three_by_three {
                        // A 3×3 window reaching into the padding: its 9 words gathered, the
                        // input zero point (a word of it) for the taps outside, which then
                        // contribute nothing (the offset is folded into the accumulators).
                        let mut win = [zp_word; 9];
                        for kh in kh0..kh1 {
                            let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                            for kw in kw0..kw1 {
                                let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                                let at = ((n * g.in_h + ih) * g.in_w + iw) * c + c0;
                                if let Some(w) = win.get_mut(kh * 3 + kw) {
                                    // SAFETY: pixel (ih, iw) is inside the input (tap ranges)
                                    // and `c0 + 4 ≤ c`.
                                    *w = unsafe { load_word(inp.add(at)) };
                                }
                            }
                        }
                        // SAFETY: `win` holds the 9 words at offsets kh·12 + kw·4; `packed`
                        // has 9 entries.
                        [a0, a1, a2, a3] = unsafe {
                            dw3x3(
                                win.as_ptr().cast(),
                                4,
                                12,
                                packed.as_ptr(),
                                [a0, a1, a2, a3],
                            )
                        };
                    } else {
                        // A window reaching into the padding: only its taps inside the input,
                        // with the input offset added to each value (`sadd16`) instead of
                        // folded into the bias.
                        (a0, a1, a2, a3) = (b4[0], b4[1], b4[2], b4[3]);
                        for kh in kh0..kh1 {
                            let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                            for kw in kw0..kw1 {
                                let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                                let Some(&[wl, wh]) = packed.get(kh * g.kernel_w + kw) else {
                                    continue;
                                };
                                let at = ((n * g.in_h + ih) * g.in_w + iw) * c + c0;
                                // SAFETY: pixel (ih, iw) is inside the input (tap ranges) and
                                // `c0 + 4 ≤ c`.
                                let x = unsafe { load_word(inp.add(at)) };
                                let xl = sadd16(sxtb16(x), off_pair);
                                let xh = sadd16(sxtb16_ror8(x), off_pair);
                                a0 = smlabb(xl, wl, a0);
                                a2 = smlatt(xl, wl, a2);
                                a1 = smlabb(xh, wh, a1);
                                a3 = smlatt(xh, wh, a3);
                            }
                        }
                    }
                    let o = ((n * g.out_h + oh) * g.out_w + ow) * c + c0;
                    if let Some([d0, d1, d2, d3]) = output.get_mut(o..o + 4) {
                        *d0 = ctx.out_p::<MODE>(a0, rq[0]);
                        *d1 = ctx.out_p::<MODE>(a1, rq[1]);
                        *d2 = ctx.out_p::<MODE>(a2, rq[2]);
                        *d3 = ctx.out_p::<MODE>(a3, rq[3]);
                    }
                }
            }
        }
        c0 += 4;
    }
    if c4 < c {
        depthwise_tail(ctx, c4, output);
    }
}

/// Widest padded input row (in pixels) of [`depthwise_3x3_rows`]; 3 such rows of 4 channels
/// are kept on the stack (768 bytes). Wider layers take the window-by-window path.
pub(super) const MAX_DW_W: usize = 64;

/// Input columns a 3×3 depthwise layer's output row reads, from `−pad_left` on.
pub(super) fn padded_width(g: &super::Conv2dParams) -> usize {
    (g.out_w.max(1) - 1) * g.stride_w + 2 * g.dilation_w + 1
}

/// Channels `c0 .. c0 + 4` of a 3×3 depthwise layer, output row by output row: the three input
/// rows of the row's windows are gathered (4 channels, one word per pixel) into a stack buffer,
/// padded with the input zero point on every side the window leaves the input, so that every
/// window, at the border or not, is one [`dw3x3`] call on the buffer (the padding taps then
/// contribute `(zp + offset)·w = 0`, the offset being folded into the accumulators).
#[inline(never)]
fn depthwise_3x3_rows<const MODE: u8>(
    ctx: &Ctx,
    c0: usize,
    packed: &[[u32; 2]],
    cw: [i32; 4],
    rq: [PreparedMultiplier; 4],
    zp_word: u32,
    output: &mut [i8],
) {
    let g = &ctx.plan.g;
    let c = g.in_c;
    let wp = padded_width(g);
    if wp > MAX_DW_W || packed.len() < 9 || c0 + 4 > c {
        return;
    }
    let mut rows = [zp_word; 3 * MAX_DW_W];
    let inp = ctx.input.as_ptr();
    // Buffer column `col` holds input column `col − pad_left`; the input's columns fill
    // `first .. first + count`.
    let first = g.pad_left.min(wp);
    let count = g.in_w.min(wp - first);
    let in_len = ctx.input.len();
    for n in 0..g.batch {
        for oh in 0..g.out_h {
            let ih0 = (oh * g.stride_h) as isize - g.pad_top as isize;
            for (kh, row) in rows.chunks_exact_mut(wp.max(1)).take(3).enumerate() {
                let ih = ih0 + (kh * g.dilation_h) as isize;
                if ih < 0 || ih >= g.in_h as isize {
                    row.fill(zp_word);
                    continue;
                }
                let base = ((n * g.in_h + ih as usize) * g.in_w) * c + c0;
                // The row's last word read: base + (count − 1)·c + 4 ≤ input length.
                if count == 0 || base + (count - 1) * c + 4 > in_len {
                    row.fill(zp_word);
                    continue;
                }
                // first + count ≤ wp = row.len().
                let Some((left, rest)) = row.split_at_mut_checked(first) else {
                    continue;
                };
                left.fill(zp_word);
                let Some((mid, right)) = rest.split_at_mut_checked(count) else {
                    continue;
                };
                right.fill(zp_word);
                for (i, d) in mid.iter_mut().enumerate() {
                    // SAFETY: base + i·c + 4 ≤ base + (count − 1)·c + 4 ≤ input length.
                    *d = unsafe { load_word(inp.add(base + i * c)) };
                }
            }
            let out_row = ((n * g.out_h + oh) * g.out_w) * c + c0;
            let buf = rows.as_ptr().cast::<i8>();
            for ow in 0..g.out_w {
                let col0 = ow * g.stride_w;
                // The window's last word: row 2, column col0 + 2·dilation_w < wp.
                if col0 + 2 * g.dilation_w >= wp {
                    break;
                }
                // SAFETY: the 9 words at rows kh (0..3) × columns col0 + kw·dilation_w (< wp)
                // are inside `rows` (3·wp words); `packed` has ≥ 9 entries (checked).
                let [a0, a1, a2, a3] = unsafe {
                    dw3x3(
                        buf.add(4 * col0),
                        4 * g.dilation_w,
                        4 * wp,
                        packed.as_ptr(),
                        cw,
                    )
                };
                let o = out_row + ow * c;
                if let Some([d0, d1, d2, d3]) = output.get_mut(o..o + 4) {
                    *d0 = ctx.out_p::<MODE>(a0, rq[0]);
                    *d1 = ctx.out_p::<MODE>(a1, rq[1]);
                    *d2 = ctx.out_p::<MODE>(a2, rq[2]);
                    *d3 = ctx.out_p::<MODE>(a3, rq[3]);
                }
            }
        }
    }
}

/// Depthwise channels `c4 .. c`, one at a time, scalar.
fn depthwise_tail(ctx: &Ctx, c4: usize, output: &mut [i8]) {
    let g = &ctx.plan.g;
    let c = g.in_c;
    let taps = ctx.plan.taps;
    for n in 0..g.batch {
        for oh in 0..g.out_h {
            let (ih0, kh0, kh1) =
                S8Plan::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
            for ow in 0..g.out_w {
                let (iw0, kw0, kw1) =
                    S8Plan::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
                for ch in c4..c {
                    let mut acc = ctx.bias.and_then(|b| b.get(ch)).copied().unwrap_or(0);
                    for kh in kh0..kh1 {
                        let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                        for kw in kw0..kw1 {
                            let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                            let x = ctx.input.get(((n * g.in_h + ih) * g.in_w + iw) * c + ch);
                            let wv = ctx.weights.get(ch * taps + kh * g.kernel_w + kw);
                            if let (Some(&x), Some(&wv)) = (x, wv) {
                                acc = acc.wrapping_add(
                                    (i32::from(x) + ctx.p.input_offset) * i32::from(wv),
                                );
                            }
                        }
                    }
                    let o = ((n * g.out_h + oh) * g.out_w + ow) * c + ch;
                    if let Some(d) = output.get_mut(o) {
                        *d = ctx.out(acc, ch);
                    }
                }
            }
        }
    }
}

/// One output pixel's 3×3 window of 4 depthwise channels, all taps inside the input: returns
/// `acc[j] + Σ_taps x·w` for channels `c0 + j` (`x` raw, the input offset being folded into
/// `acc`). `x` points at channel `c0` of the window's top-left pixel; tap `(kh, kw)` is at
/// `x + kh·row + kw·col`. `packed[t]` holds tap `t`'s weights as halfword pairs (channels 0/2,
/// channels 1/3). Per tap: one `ldr`, one `ldrd`, 2 `sxtb16`, 4 `smlabb`/`smlatt`.
///
/// # Safety
/// The 9 words at `x + kh·row + kw·col` are readable, and `packed` points at 9 entries.
#[cfg(mote_arm_dsp)]
#[inline(always)]
unsafe fn dw3x3(
    x: *const i8,
    col: usize,
    row: usize,
    packed: *const [u32; 2],
    acc: [i32; 4],
) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    let col2 = 2 * col;
    // SAFETY: reads only the 9 words and 9 weight pairs the caller guarantees.
    unsafe {
        core::arch::asm!(
            // Three rows of three taps.
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}, {col}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}, {col2}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            "add {rp}, {rp}, {row}",
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}, {col}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}, {col2}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            "add {rp}, {rp}, {row}",
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}, {col}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            "ldrd {wl}, {wh}, [{wp}], #8",
            "ldr {xh}, [{rp}, {col2}]",
            "sxtb16 {xl}, {xh}",
            "sxtb16 {xh}, {xh}, ror #8",
            "smlabb {a0}, {xl}, {wl}, {a0}",
            "smlatt {a2}, {xl}, {wl}, {a2}",
            "smlabb {a1}, {xh}, {wh}, {a1}",
            "smlatt {a3}, {xh}, {wh}, {a3}",
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            rp = inout(reg) x => _,
            wp = inout(reg) packed => _,
            col = in(reg) col,
            col2 = in(reg) col2,
            row = in(reg) row,
            xl = out(reg) _,
            xh = out(reg) _,
            wl = out(reg) _,
            wh = out(reg) _,
            options(readonly, nostack),
        );
    }
    [a0, a1, a2, a3]
}

/// [`dw3x3`] emulated: the same instructions in the same order.
///
/// # Safety
/// As the DSP version.
#[cfg(not(mote_arm_dsp))]
#[inline(always)]
unsafe fn dw3x3(
    x: *const i8,
    col: usize,
    row: usize,
    packed: *const [u32; 2],
    acc: [i32; 4],
) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    for kh in 0..3 {
        for kw in 0..3 {
            // SAFETY: inside the caller's ranges.
            let (v, [wl, wh]) = unsafe {
                (
                    load_word(x.add(kh * row + kw * col)),
                    *packed.add(kh * 3 + kw),
                )
            };
            let (xl, xh) = (sxtb16(v), sxtb16_ror8(v));
            a0 = smlabb(xl, wl, a0);
            a2 = smlatt(xl, wl, a2);
            a1 = smlabb(xh, wh, a1);
            a3 = smlatt(xh, wh, a3);
        }
    }
    [a0, a1, a2, a3]
}
