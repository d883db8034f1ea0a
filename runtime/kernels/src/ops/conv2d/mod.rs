//! 2-D convolution, f32, NHWC, any `groups` (dense, grouped as in ResNeXt, depthwise with any
//! channel multiplier).
//!
//! `output[n, oh, ow, oc] = act(bias[oc] + Σ_{kh, kw, ic} input[n, ih, iw, g·cpg + ic] ·
//! weights[oc, kh, kw, ic])` with `g = oc / (out_c / groups)`, `cpg = in_c / groups`,
//! `ih = oh·stride_h − pad_top + kh·dilation_h` (likewise `iw`); taps outside the input read 0.
//! Weights are OHWI: `[out_c, kernel_h, kernel_w, in_c / groups]`.
//! The output size is given (the compiler derived it, with ceil/`auto_pad` rules applied), so
//! `pad_bottom`/`pad_right` are implied and not needed here.

mod reference;
mod row_bands;
#[cfg(test)]
mod tests;

pub use row_bands::output_row_band;

use crate::Activation;

/// Shapes and hyper-parameters of one convolution, all validated at model load.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Conv2dParams {
    /// Batch size N.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels (all groups).
    pub in_c: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Output channels (all groups).
    pub out_c: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Vertical stride (≥ 1).
    pub stride_h: usize,
    /// Horizontal stride (≥ 1).
    pub stride_w: usize,
    /// Vertical dilation (≥ 1).
    pub dilation_h: usize,
    /// Horizontal dilation (≥ 1).
    pub dilation_w: usize,
    /// Zero rows added above the input.
    pub pad_top: usize,
    /// Zero columns added left of the input.
    pub pad_left: usize,
    /// Number of groups; divides `in_c` and `out_c`.
    pub groups: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// Runs the convolution. `input` is `[batch, in_h, in_w, in_c]`, `weights` OHWI, `bias`
/// `[out_c]` when present, `output` `[batch, out_h, out_w, out_c]`.
pub fn conv2d_f32(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    for imp in CONV2D_F32_IMPLS {
        if imp.isa.available() && (imp.f)(p, input, weights, bias, output) {
            return;
        }
    }
}

/// The type of every [`conv2d_f32`] variant (see [`Conv2dS8Fn`]).
pub type Conv2dF32Fn = fn(&Conv2dParams, &[f32], &[f32], Option<&[f32]>, &mut [f32]) -> bool;

/// The variants of [`conv2d_f32`], fastest first, the reference last. The fast ones may differ
/// from the reference by rounding (fused multiply-add, another summation order): within
/// `1e-5 · (1 + |expected|)` on the property tests' data.
pub const CONV2D_F32_IMPLS: &[Impl<Conv2dF32Fn>] = &[
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_f32_small_groups_avx512",
        isa: Isa::Avx512Vnni,
        f: small_groups_f32_avx512::conv2d_f32,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_f32_small_groups_avx2",
        isa: Isa::Avx2,
        f: small_groups_f32_avx2::conv2d_f32,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_f32_narrow_avx512",
        isa: Isa::Avx512Vnni,
        f: narrow_f32_avx512::conv2d_f32,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_f32_depthwise_avx512",
        isa: Isa::Avx512Vnni,
        f: depthwise_avx512::conv2d_f32,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_f32_depthwise_avx2",
        isa: Isa::Avx2,
        f: depthwise_avx2::conv2d_f32,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_f32_avx512",
        isa: Isa::Avx512Vnni,
        f: avx2::conv2d_f32_avx512,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_f32_avx2",
        isa: Isa::Avx2,
        f: avx2::conv2d_f32,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "conv2d_f32_neon",
        isa: Isa::Neon,
        f: neon::conv2d_f32,
    },
    Impl {
        name: "conv2d_f32_reference",
        isa: Isa::Reference,
        f: reference::conv2d_f32_reference_impl,
    },
];

mod reference_s8;
#[cfg(test)]
mod tests_s8;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2_vnni;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512_vnni;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod depthwise_avx2;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod depthwise_avx512;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod narrow_f32_avx512;
#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod neon;
#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod neon_dotprod;
#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod neon_i8mm;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod small_groups_f32_avx2;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod small_groups_f32_avx512;
#[cfg(test)]
mod tests_depthwise;
#[cfg(test)]
mod tests_impls;
// On the host the DSP instructions are emulated, so the kernel is compiled for its tests.
#[cfg(any(test, target_arch = "arm"))]
#[allow(unsafe_code)]
pub(crate) mod arm_dsp;
// As `arm_dsp`: emulated on the host for its tests.
#[cfg(any(test, target_arch = "arm"))]
#[allow(unsafe_code)]
pub(crate) mod helium;

use crate::dispatch::{Impl, Isa};
use crate::quant::Rounding;

/// Shapes and quantization of one int8 convolution (TFLite `ConvPerChannel` /
/// `DepthwiseConvPerChannel`): `acc = bias[oc] + Σ (input + input_offset) · weights`, then
/// `out = clamp(multiply_by_quantized_multiplier(acc, multiplier[oc], shift[oc]) + output_offset,
/// act_min, act_max)`. Padding taps contribute nothing (they are the input zero point, so
/// `input + input_offset` = 0). Weights are symmetric (zero point 0), per output channel.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Conv2dS8Params {
    /// Geometry (the `activation` field is ignored: the clamp below replaces it).
    pub geometry: Conv2dParams,
    /// `−input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp (fused Relu/Relu6 folded in).
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Requantization rounding.
    pub rounding: Rounding,
}

/// Runs the int8 convolution. `multipliers` and `shifts` have `out_c` entries; `bias` (if any)
/// `out_c` entries.
pub fn conv2d_s8(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) {
    for imp in CONV2D_S8_IMPLS {
        if imp.isa.available() && (imp.f)(p, input, weights, bias, multipliers, shifts, output) {
            return;
        }
    }
}

/// Length in `i32`s of the weight cache of an int8 convolution on this machine, or 0 when its
/// kernel would not use one.
///
/// The fast GEMM kernels (1×1, dense and grouped convolutions) start every call by repacking
/// the weights into the order their inner loop reads (4 depth bytes of 16 channels per vector),
/// which costs about as much as the layer's arithmetic on small late layers (7×7 or 8×8 pixels,
/// 10–14 % of ResNeXt's int8 time). A host that can spare the memory packs once, at load, into a
/// cache it lends the interpreter; the file's weights stay as they are (OHWI int8, read in place
/// from flash on microcontrollers, which keep packing per call and use no extra RAM). The
/// AVX-512 VNNI GEMM path and the AVX-512 depthwise kernel (its gathered weights and
/// per-channel output constants, 7.5 % of VWW's int8 inference when made per call) have one.
pub fn conv2d_s8_cache_len(p: &Conv2dS8Params, weights: usize, has_bias: bool) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let bias = has_bias.then_some(p.geometry.out_c);
        if let Some(n) = avx512_vnni::cache_len(p, weights, bias) {
            return n;
        }
        if let Some(n) = depthwise_avx512::cache_len(p, weights, bias) {
            return n;
        }
    }
    let _ = (p, weights, has_bias);
    0
}

/// Length in `f32`s of the weight cache of an f32 convolution on this machine (see
/// [`conv2d_s8_cache_len`]), or 0. So far the AVX-512 f32 GEMM (1×1 and dense layers whose
/// groups have whole 32-channel blocks) uses one: its blocks are `[k][32]` floats.
pub fn conv2d_f32_cache_len(p: &Conv2dParams, weights: usize, has_bias: bool) -> usize {
    #[cfg(target_arch = "x86_64")]
    if let Some(n) = avx2::f32_cache_len(p, weights, has_bias.then_some(p.out_c)) {
        return n;
    }
    let _ = (p, weights, has_bias);
    0
}

/// Fills an f32 weight cache of [`conv2d_f32_cache_len`] floats for calls with these parameters
/// and weights (and a bias or not). `false` (nothing written) when it would not be used.
pub fn conv2d_f32_fill_cache(
    p: &Conv2dParams,
    weights: &[f32],
    has_bias: bool,
    cache: &mut [f32],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if avx2::fill_f32_cache(p, weights, has_bias.then_some(p.out_c), cache) {
        return true;
    }
    let _ = (p, weights, has_bias, cache);
    false
}

/// [`conv2d_f32`] with a cache filled by [`conv2d_f32_fill_cache`] for the same parameters and
/// weights; a cache that does not match the call (or is empty) is ignored.
pub fn conv2d_f32_cached(
    p: &Conv2dParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    cache: &[f32],
    output: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if !cache.is_empty()
        && (avx2::conv2d_f32_avx512_cached(p, input, weights, bias, cache, output)
            || avx2::conv2d_f32_avx2_cached(p, input, weights, bias, cache, output))
    {
        return;
    }
    let _ = cache;
    conv2d_f32(p, input, weights, bias, output)
}

/// Fills a weight cache of [`conv2d_s8_cache_len`] `i32`s, 64-byte aligned, for calls with these
/// parameters, weights, bias and requantization constants (the depthwise kernels cache their
/// per-channel output constants too). `false` (nothing written) when the cache would not be
/// used or does not fit.
pub fn conv2d_s8_fill_cache(
    p: &Conv2dS8Params,
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    cache: &mut [i32],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if avx512_vnni::fill_cache(p, weights, bias, cache)
        || depthwise_avx512::fill_cache(p, weights, bias, multipliers, shifts, cache)
    {
        return true;
    }
    let _ = (p, weights, bias, multipliers, shifts, cache);
    false
}

/// [`conv2d_s8`] with a weight cache filled by [`conv2d_s8_fill_cache`] for the same parameters,
/// weights, bias and requantization constants; a cache that does not match the call (or is
/// empty) is ignored.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_s8_cached(
    p: &Conv2dS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    cache: &[i32],
    output: &mut [i8],
) {
    #[cfg(target_arch = "x86_64")]
    if !cache.is_empty() {
        for cached in [
            avx512_vnni::conv2d_s8_cached,
            depthwise_avx512::conv2d_s8_cached,
        ] {
            if cached(p, input, weights, bias, multipliers, shifts, cache, output) {
                return;
            }
        }
    }
    let _ = cache;
    conv2d_s8(p, input, weights, bias, multipliers, shifts, output)
}

/// The type of every [`conv2d_s8`] variant: same arguments, returns `false` (having written
/// nothing) when it does not cover the call or its instruction set is unavailable.
pub type Conv2dS8Fn =
    fn(&Conv2dS8Params, &[i8], &[i8], Option<&[i32]>, &[i32], &[i32], &mut [i8]) -> bool;

/// The variants of [`conv2d_s8`], fastest first; the last, the portable reference, accepts every
/// call. [`conv2d_s8`] runs the first available one that accepts the call; the property tests
/// and benchmarks run each against the reference.
pub const CONV2D_S8_IMPLS: &[Impl<Conv2dS8Fn>] = &[
    #[cfg(target_arch = "arm")]
    Impl {
        name: "conv2d_s8_helium",
        isa: Isa::Helium,
        f: helium::conv2d_s8,
    },
    #[cfg(target_arch = "arm")]
    Impl {
        name: "conv2d_s8_arm_dsp",
        isa: Isa::ArmDsp,
        f: arm_dsp::conv2d_s8,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "conv2d_s8_neon_i8mm",
        isa: Isa::NeonI8mm,
        f: neon_i8mm::conv2d_s8,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "conv2d_s8_neon_dotprod",
        isa: Isa::NeonDotprod,
        f: neon_dotprod::conv2d_s8,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "conv2d_s8_neon",
        isa: Isa::Neon,
        f: neon::conv2d_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_s8_depthwise_avx512",
        isa: Isa::Avx512Vnni,
        f: depthwise_avx512::conv2d_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_s8_depthwise_avx2",
        isa: Isa::Avx2,
        f: depthwise_avx2::conv2d_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_s8_avx512_vnni",
        isa: Isa::Avx512Vnni,
        f: avx512_vnni::conv2d_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_s8_avx2_vnni",
        isa: Isa::Avx2Vnni,
        f: avx2_vnni::conv2d_s8,
    },
    // `conv2d_s8_avx2_vnni`'s code with the EVEX encoding of its one VNNI instruction, so the
    // tests (and with feature `twins` the benchmarks) run it on AVX-512 hosts (`avx2_vnni.rs`).
    #[cfg(all(any(test, feature = "twins"), target_arch = "x86_64"))]
    Impl {
        name: "conv2d_s8_avx2_vnni512",
        isa: Isa::Avx512Vnni,
        f: avx2_vnni::conv2d_s8_evex,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "conv2d_s8_avx2",
        isa: Isa::Avx2,
        f: avx2::conv2d_s8,
    },
    Impl {
        name: "conv2d_s8_reference",
        isa: Isa::Reference,
        f: reference_s8::conv2d_s8_reference_impl,
    },
];

/// How the fast int8 kernels run a call, decided once per call by [`S8Plan::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) enum S8Kind {
    /// One input and one output channel per group (`groups == in_c == out_c`): channels are
    /// independent, vectorised across channels.
    Depthwise,
    /// Groups of 4 or 8 channels in and out (ResNeXt): block-diagonal, vectorised across groups.
    SmallGroups,
    /// Anything else: a GEMM per group, rows = output pixels, columns = the group's output
    /// channels, depth = `kernel_h · kernel_w · in_c / groups` (an implicit im2col).
    Gemm,
}

/// The shapes of one int8 convolution call, validated against the slices it came with: every
/// offset computed from these numbers is inside the slices. `None` from [`S8Plan::new`] means
/// "let the reference handle it" (a contract breach, an empty tensor, or parameters outside the
/// range the fast kernels are exact for).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) struct S8Plan {
    pub(crate) g: Conv2dParams,
    pub(crate) cpg: usize,
    pub(crate) opg: usize,
    pub(crate) taps: usize,
    pub(crate) k_len: usize,
    pub(crate) kind: S8Kind,
    /// 1×1, stride 1, no padding: output pixel `m` reads input pixel `m` and nothing else, so
    /// [`S8Plan::for_each_tap`] skips the window arithmetic.
    pub(crate) pointwise: bool,
}

/// Most taps a kernel window may have on the fast paths (7×7 = 49 fits).
pub(crate) const MAX_TAPS: usize = 64;

#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
impl S8Plan {
    pub(crate) fn new(
        p: &Conv2dS8Params,
        input: usize,
        weights: usize,
        bias: Option<usize>,
        multipliers: usize,
        shifts: usize,
        output: usize,
    ) -> Option<Self> {
        let g = p.geometry;
        let positive = [
            g.batch,
            g.in_h,
            g.in_w,
            g.in_c,
            g.out_h,
            g.out_w,
            g.out_c,
            g.kernel_h,
            g.kernel_w,
            g.stride_h,
            g.stride_w,
            g.dilation_h,
            g.dilation_w,
            g.groups,
        ];
        if positive.contains(&0)
            || !g.in_c.is_multiple_of(g.groups)
            || !g.out_c.is_multiple_of(g.groups)
        {
            return None;
        }
        let cpg = g.in_c / g.groups;
        let opg = g.out_c / g.groups;
        let taps = g.kernel_h.checked_mul(g.kernel_w)?;
        let k_len = taps.checked_mul(cpg)?;
        let (in_len, out_len) = Self::activation_lens(&g)?;
        let w_len = g.out_c.checked_mul(k_len)?;
        // Offsets stay far from overflow (and fit the i32 gather offsets of the packers).
        let limit = 1usize << 30;
        let ok = in_len == input
            && w_len == weights
            && out_len == output
            && bias.is_none_or(|b| b == g.out_c)
            && multipliers == g.out_c
            && shifts == g.out_c
            && in_len < limit
            && out_len < limit
            && w_len < limit
            && taps <= MAX_TAPS
            // Padding taps are replaced by the input zero point, which must be an int8.
            && (-127..=128).contains(&p.input_offset)
            // The output position of the last tap is computed in isize without overflow.
            && g.out_h.checked_mul(g.stride_h)?.checked_add(g.kernel_h * g.dilation_h)? < limit
            && g.out_w.checked_mul(g.stride_w)?.checked_add(g.kernel_w * g.dilation_w)? < limit
            && g.pad_top < limit
            && g.pad_left < limit;
        if !ok {
            return None;
        }
        let kind = if cpg == 1 && opg == 1 {
            S8Kind::Depthwise
        } else if g.groups > 1 && cpg == opg && (cpg == 4 || cpg == 8) {
            S8Kind::SmallGroups
        } else {
            S8Kind::Gemm
        };
        let pointwise = taps == 1
            && (g.stride_h, g.stride_w, g.pad_top, g.pad_left) == (1, 1, 0, 0)
            && (g.in_h, g.in_w) == (g.out_h, g.out_w);
        Some(S8Plan {
            g,
            cpg,
            opg,
            taps,
            k_len,
            kind,
            pointwise,
        })
    }

    /// Elements of the input and output a geometry implies (`None` on overflow).
    fn activation_lens(g: &Conv2dParams) -> Option<(usize, usize)> {
        let input = g
            .batch
            .checked_mul(g.in_h)?
            .checked_mul(g.in_w)?
            .checked_mul(g.in_c)?;
        let output = g
            .batch
            .checked_mul(g.out_h)?
            .checked_mul(g.out_w)?
            .checked_mul(g.out_c)?;
        Some((input, output))
    }

    /// The plan of a call from its parameters and weights alone, with the activation lengths
    /// the shapes imply: for the weight caches, which are filled before any activation exists.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn for_weights(
        p: &Conv2dS8Params,
        weights: usize,
        bias: Option<usize>,
    ) -> Option<Self> {
        let (input, output) = Self::activation_lens(&p.geometry)?;
        let out_c = p.geometry.out_c;
        Self::new(p, input, weights, bias, out_c, out_c, output)
    }

    /// The plan of an f32 call: the int8 plan checks the same shapes, with neutral quantization
    /// fields (`None`: decline, as for [`S8Plan::new`]).
    pub(crate) fn for_f32(
        p: &Conv2dParams,
        input: &[f32],
        weights: &[f32],
        bias: Option<&[f32]>,
        output: &[f32],
    ) -> Option<Self> {
        let q = Conv2dS8Params {
            geometry: *p,
            ..Default::default()
        };
        Self::new(
            &q,
            input.len(),
            weights.len(),
            bias.map(<[f32]>::len),
            p.out_c,
            p.out_c,
            output.len(),
        )
    }

    /// Calls `f(r, m, oh, ow)` for the `mr` rows of the GEMM tile whose first output pixel is
    /// `m0` (of one image): rows `r < rows` are pixels `m0 + r`, the rows past them repeat the
    /// last (computed, not stored). One division per tile; the rows step along the output row.
    #[inline(always)]
    pub(crate) fn for_each_tile_row(
        &self,
        m0: usize,
        rows: usize,
        mr: usize,
        mut f: impl FnMut(usize, usize, usize, usize),
    ) {
        let out_w = self.g.out_w.max(1);
        let (mut oh, mut ow) = (m0 / out_w, m0 % out_w);
        for r in 0..mr {
            if r > 0 && r < rows {
                ow += 1;
                if ow == out_w {
                    (oh, ow) = (oh + 1, 0);
                }
            }
            f(r, m0 + r.min(rows.max(1) - 1), oh, ow);
        }
    }

    /// Calls `f(tap, r, offset)` for every tap of every row of the GEMM tile at output pixel
    /// `m0` of image `b` ([`S8Plan::for_each_tile_row`]'s rows), offsets as in
    /// [`S8Plan::for_each_tap`]. When the tile's pixels lie in one output row and every window
    /// is inside the input (most tiles), the taps of row `r` are row 0's moved by `r` input
    /// pixels: one window walk per tile instead of one per row.
    #[inline(always)]
    pub(crate) fn for_each_tile_tap(
        &self,
        (b, grp): (usize, usize),
        m0: usize,
        rows: usize,
        mr: usize,
        mut f: impl FnMut(usize, usize, Option<usize>),
    ) {
        let g = &self.g;
        if self.pointwise {
            // Output pixel `m` reads input pixel `m`: no window, and no division (per tile, the
            // divisions below measured about 5 % of an f32 1×1 layer's samples).
            let base = b * g.in_h * g.in_w;
            for r in 0..mr {
                let m = m0 + r.min(rows.max(1) - 1);
                f(0, r, Some((base + m) * g.in_c + grp * self.cpg));
            }
            return;
        }
        let out_w = g.out_w.max(1);
        let last = m0 + rows.max(1) - 1;
        let (oh0, ow0) = (m0 / out_w, m0 % out_w);
        let inside = |o: usize, stride: usize, pad: usize, dil: usize, k: usize, len: usize| {
            let (_, t0, t1) = Self::window(o, stride, pad, dil, k, len);
            t0 == 0 && t1 == k
        };
        let interior = last / out_w == oh0
            && inside(oh0, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h)
            && inside(
                ow0,
                g.stride_w,
                g.pad_left,
                g.dilation_w,
                g.kernel_w,
                g.in_w,
            )
            && inside(
                last % out_w,
                g.stride_w,
                g.pad_left,
                g.dilation_w,
                g.kernel_w,
                g.in_w,
            );
        if interior {
            let step = g.stride_w * g.in_c;
            self.for_each_tap((b, grp, oh0, ow0), |t, at| {
                for r in 0..mr {
                    f(t, r, at.map(|a| a + r.min(rows.max(1) - 1) * step));
                }
            });
        } else {
            self.for_each_tile_row(m0, rows, mr, |r, _, oh, ow| {
                self.for_each_tap((b, grp, oh, ow), |t, at| f(t, r, at));
            });
        }
    }

    /// The offsets of the taps (OHWI order) from a window's corner, in an image whose rows are
    /// `row_stride` and pixels `px_stride` elements apart, written to `offs`; returns the written
    /// part (the first `min(taps, offs.len())`). The x86 drivers that read windows as fixed
    /// offsets from their corners (GEMM, f32 GEMM, small groups) share it.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn tap_offsets<'o>(
        &self,
        (row_stride, px_stride): (usize, usize),
        offs: &'o mut [usize],
    ) -> &'o [usize] {
        let g = &self.g;
        let n = self.taps.min(offs.len());
        for (t, off) in offs.iter_mut().enumerate().take(n) {
            let (kh, kw) = (t / g.kernel_w.max(1), t % g.kernel_w.max(1));
            *off = kh * g.dilation_h * row_stride + kw * g.dilation_w * px_stride;
        }
        offs.get(..n).unwrap_or(&[])
    }

    /// Calls `f(tap, offset)` for every tap of output pixel `(b, oh, ow)` in group `grp`, taps
    /// in OHWI order: `offset` is the index of the tap's first channel of the group in the input,
    /// `None` for a tap in the padding. The GEMM drivers turn these into one input pointer per
    /// tap (in place when the group's channels are whole vectors).
    #[inline(always)]
    pub(crate) fn for_each_tap(
        &self,
        (b, grp, oh, ow): (usize, usize, usize, usize),
        mut f: impl FnMut(usize, Option<usize>),
    ) {
        let g = &self.g;
        if self.pointwise {
            f(
                0,
                Some(((b * g.in_h + oh) * g.in_w + ow) * g.in_c + grp * self.cpg),
            );
            return;
        }
        let (ih0, kh0, kh1) =
            Self::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
        let (iw0, kw0, kw1) =
            Self::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
        let in_px = g.in_w * g.in_c;
        for kh in 0..g.kernel_h {
            for kw in 0..g.kernel_w {
                let t = kh * g.kernel_w + kw;
                let at = ((kh0..kh1).contains(&kh) && (kw0..kw1).contains(&kw)).then(|| {
                    let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
                    let iw = (iw0 + (kw * g.dilation_w) as isize) as usize;
                    (b * g.in_h + ih) * in_px + iw * g.in_c + grp * self.cpg
                });
                f(t, at);
            }
        }
    }

    /// Gathers the receptive field of output pixel `(b, oh, ow)` in group `grp` into `dst` (its
    /// first `k_len` bytes, tap after tap, `cpg` channels each; taps outside the input read the
    /// input zero point `zp`): one im2col row of the GEMM path, used when the group's channels
    /// are not a whole number of vector lanes (the first layer, 3 channels).
    ///
    /// Shared by the x86 and NEON drivers. The copies of 1, 2 and 3 channels are fixed-size, so
    /// they compile to a few moves: a variable-length `copy_from_slice` is a `memcpy` call per
    /// tap, which made this gather twenty times the cost of the arithmetic on a 3-channel layer.
    /// Bounds are checked (the plan validated the shapes, so they never fail): safe code, at a
    /// cost that stays small next to the copies.
    #[inline]
    pub(crate) fn im2col_row(
        &self,
        input: &[i8],
        (b, grp, oh, ow): (usize, usize, usize, usize),
        zp: i8,
        dst: &mut [i8],
    ) {
        let g = &self.g;
        let cpg = self.cpg;
        let (ih0, kh0, kh1) =
            Self::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
        let (iw0, kw0, kw1) =
            Self::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
        let in_px = g.in_w * g.in_c;
        let row_w = g.kernel_w * cpg;
        let Some(dst) = dst.get_mut(..self.k_len) else {
            return;
        };
        if row_w == 0 {
            return;
        }
        let interior = kh0 == 0 && kh1 == g.kernel_h && kw0 == 0 && kw1 == g.kernel_w;
        if interior && g.dilation_w == 1 && cpg == g.in_c {
            // Most windows lie inside the input: with all channels in the group each kernel
            // row is one contiguous run, a fixed-size copy for the common first layers.
            let at = (b * g.in_h + ih0 as usize) * in_px + iw0 as usize * g.in_c;
            let step = g.dilation_h * in_px;
            match row_w {
                9 => copy_rows::<9>(input, at, step, dst),
                12 => copy_rows::<12>(input, at, step, dst),
                15 => copy_rows::<15>(input, at, step, dst),
                21 => copy_rows::<21>(input, at, step, dst),
                _ => {
                    for (kh, d) in dst.chunks_exact_mut(row_w).enumerate() {
                        if let Some(s) = input.get(at + kh * step..at + kh * step + row_w) {
                            copy_run(s, d);
                        }
                    }
                }
            }
            return;
        }
        for (kh, dst_row) in dst.chunks_exact_mut(row_w).enumerate() {
            if !(kh0..kh1).contains(&kh) {
                dst_row.fill(zp);
                continue;
            }
            let ih = (ih0 + (kh * g.dilation_h) as isize) as usize;
            let base = (b * g.in_h + ih) * in_px + grp * cpg;
            // Padding taps only at the borders (`fill` is a `memset` call, even when empty).
            if kw0 > 0 {
                dst_row[..kw0 * cpg].fill(zp);
            }
            if kw1 < g.kernel_w {
                dst_row[kw1 * cpg..].fill(zp);
            }
            let inside = &mut dst_row[kw0 * cpg..kw1 * cpg];
            let iw_first = (iw0 + (kw0 * g.dilation_w) as isize) as usize;
            let step = g.dilation_w * g.in_c;
            let mut at = base + iw_first * g.in_c;
            if g.dilation_w == 1 && cpg == g.in_c {
                // Adjacent taps of one group spanning all channels are adjacent in the input:
                // the row's inside taps are one contiguous run (9 bytes for a 3×3 kernel over 3
                // channels), copied 8 bytes at a time.
                if let Some(s) = input.get(at..at + inside.len()) {
                    copy_run(s, inside);
                }
                continue;
            }
            match cpg {
                1 => {
                    for d in inside.iter_mut() {
                        *d = input.get(at).copied().unwrap_or(zp);
                        at += step;
                    }
                }
                2 => copy_taps::<2>(input, at, step, inside),
                3 => copy_taps::<3>(input, at, step, inside),
                4 => copy_taps::<4>(input, at, step, inside),
                _ => {
                    for d in inside.chunks_exact_mut(cpg) {
                        if let Some(s) = input.get(at..at + cpg) {
                            d.copy_from_slice(s);
                        }
                        at += step;
                    }
                }
            }
        }
    }

    /// For a layer whose group spans every input channel with dilation 1 along the width (the
    /// first layers), the window of output pixel `(b, oh, ow)` when it lies inside the input
    /// with `over` bytes readable from each kernel row's start: `(at, step)`, kernel row `kh`
    /// being the `kernel_w · in_c` bytes at `at + kh · step`. `None` otherwise (a border pixel,
    /// or the last rows of the input, where such a read would leave it).
    #[inline(always)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn dense_window(
        &self,
        input_len: usize,
        (b, oh, ow): (usize, usize, usize),
        over: usize,
    ) -> Option<(usize, usize)> {
        let g = &self.g;
        if g.dilation_w != 1 || self.cpg != g.in_c {
            return None;
        }
        let (ih0, kh0, kh1) =
            Self::window(oh, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h);
        let (iw0, kw0, kw1) =
            Self::window(ow, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w);
        if kh0 != 0 || kh1 != g.kernel_h || kw0 != 0 || kw1 != g.kernel_w {
            return None;
        }
        let in_px = g.in_w * g.in_c;
        let at = (b * g.in_h + ih0 as usize) * in_px + iw0 as usize * g.in_c;
        let step = g.dilation_h * in_px;
        let last = at + (g.kernel_h - 1) * step;
        (last + over.max(g.kernel_w * g.in_c) <= input_len).then_some((at, step))
    }

    /// For output position `o` along an axis: the first input position of the window and the
    /// range of taps inside the input.
    #[inline(always)]
    pub(crate) fn window(
        o: usize,
        stride: usize,
        pad: usize,
        dilation: usize,
        k: usize,
        len: usize,
    ) -> (isize, usize, usize) {
        let i0 = (o * stride) as isize - pad as isize;
        let (t0, t1) = crate::ops::util::tap_range(i0, dilation, k, 0, len as isize);
        (i0, t0, t1)
    }
}

/// An element of the x86 paths' padded copies of the input: int8 bytes may be flipped to
/// unsigned on the way (`x ^ flip`, `flip` 0 or `i8::MIN`); floats are copied as they are.
/// A trait rather than closures: closures made inside the kernels' `target_feature` functions
/// cannot be inlined into a plain one, and a call per byte made ResNet-8's int8 3×3 layers
/// 2.5 × slower.
#[cfg(target_arch = "x86_64")]
pub(crate) trait PadElem: Copy {
    /// The element as copied.
    fn flipped(self, flip: Self) -> Self;
    /// One pixel's channels (`dst.len() == src.len()`), each element as copied.
    fn copy_pixel<D: PadSlot<Self>>(dst: &mut [D], src: &[Self], flip: Self);
}

/// Where a padded copy writes an element: an initialized buffer, or an uninitialized one that
/// the copy initializes ([`fill_padded_rows`] writes every element of its destination, so the
/// kernels need not zero their stack buffers first: that `memset` was 2 % of ResNet-8's int8
/// time, `perf record -g -e cpu-clock mote bench resnet8_int8.mote --iters 20000` on a Zen 5).
#[cfg(target_arch = "x86_64")]
pub(crate) trait PadSlot<T>: Sized {
    /// Stores `v`.
    fn put(&mut self, v: T);
}

#[cfg(target_arch = "x86_64")]
impl<T: Copy> PadSlot<T> for T {
    #[inline(always)]
    fn put(&mut self, v: T) {
        *self = v;
    }
}

#[cfg(target_arch = "x86_64")]
impl<T: Copy> PadSlot<T> for core::mem::MaybeUninit<T> {
    #[inline(always)]
    fn put(&mut self, v: T) {
        self.write(v);
    }
}

/// `dst` all `v`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn put_all<T: Copy, D: PadSlot<T>>(dst: &mut [D], v: T) {
    for d in dst {
        d.put(v);
    }
}

#[cfg(target_arch = "x86_64")]
impl PadElem for i8 {
    #[inline(always)]
    fn flipped(self, flip: i8) -> i8 {
        self ^ flip
    }
    /// The common channel counts as fixed-size loops (a variable-length copy is a `memcpy`
    /// call per pixel).
    #[inline(always)]
    fn copy_pixel<D: PadSlot<i8>>(dst: &mut [D], src: &[i8], flip: i8) {
        #[inline(always)]
        fn fixed<D: PadSlot<i8>, const N: usize>(dst: &mut [D], src: &[i8], flip: i8) -> bool {
            match (<&mut [D; N]>::try_from(dst), <&[i8; N]>::try_from(src)) {
                (Ok(d), Ok(s)) => {
                    for (d, s) in d.iter_mut().zip(s) {
                        d.put(s ^ flip);
                    }
                    true
                }
                _ => false,
            }
        }
        let done = match dst.len() {
            16 => fixed::<D, 16>(dst, src, flip),
            32 => fixed::<D, 32>(dst, src, flip),
            64 => fixed::<D, 64>(dst, src, flip),
            128 => fixed::<D, 128>(dst, src, flip),
            _ => false,
        };
        if !done {
            for (d, s) in dst.iter_mut().zip(src) {
                d.put(s ^ flip);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl PadElem for f32 {
    #[inline(always)]
    fn flipped(self, _: f32) -> f32 {
        self
    }
    #[inline(always)]
    fn copy_pixel<D: PadSlot<f32>>(dst: &mut [D], src: &[f32], _: f32) {
        for (d, &s) in dst.iter_mut().zip(src) {
            d.put(s);
        }
    }
}

/// One padded input row of the x86 window, tap-image, band and narrow-depthwise paths: `lead`
/// elements of `fill` (the left padding), then the input row `src` (empty for a padding row)
/// as copied ([`PadElem`]), then `fill` to the end of `dst`: every element written.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn fill_padded_row<T: PadElem, D: PadSlot<T>>(
    dst: &mut [D],
    src: &[T],
    lead: usize,
    fill: T,
    flip: T,
) {
    let (head, rest) = dst.split_at_mut(lead.min(dst.len()));
    put_all(head, fill);
    let copied = src.len().min(rest.len());
    let (body, tail) = rest.split_at_mut(copied);
    for (d, s) in body.iter_mut().zip(src) {
        d.put(s.flipped(flip));
    }
    put_all(tail, fill);
}

/// Copies padded input rows `y0 ..` of group `grp` of image `b` into `dst` (rows of `pw · cpg`
/// elements): row `y`, column `x` hold input pixel `(y0 + y − pad_top, x − pad_left)` as
/// copied ([`PadElem`]), or `fill` outside the input. Every element of `dst` is written (a
/// part row past the last whole one: `fill`).
#[cfg(target_arch = "x86_64")]
pub(crate) fn fill_padded_rows<T: PadElem, D: PadSlot<T>>(
    dst: &mut [D],
    input: &[T],
    g: &Conv2dParams,
    (cpg, grp, b): (usize, usize, usize),
    (y0, pw): (usize, usize),
    (fill, flip): (T, T),
) {
    let in_row = g.in_w * g.in_c;
    let mut rows = dst.chunks_exact_mut((pw * cpg).max(1));
    for (y, row) in rows.by_ref().enumerate() {
        let src = (y0 + y)
            .checked_sub(g.pad_top)
            .filter(|&iy| iy < g.in_h)
            .and_then(|iy| input.get((b * g.in_h + iy) * in_row..(b * g.in_h + iy + 1) * in_row));
        let Some(src) = src else {
            put_all(row, fill);
            continue;
        };
        if g.groups == 1 {
            fill_padded_row(row, src, g.pad_left * cpg, fill, flip);
            continue;
        }
        let mut px_iter = row.chunks_exact_mut(cpg.max(1));
        for (x, px) in px_iter.by_ref().enumerate() {
            let at = x
                .checked_sub(g.pad_left)
                .filter(|&ix| ix < g.in_w)
                .map(|ix| ix * g.in_c + grp * cpg);
            match at.and_then(|at| src.get(at..at + cpg)) {
                Some(s) => T::copy_pixel(px, s, flip),
                None => put_all(px, fill),
            }
        }
        put_all(px_iter.into_remainder(), fill);
    }
    put_all(rows.into_remainder(), fill);
}

/// Where a GEMM tile of `R` rows reads their depth: segment `s` (a tap, a kernel row or a whole
/// im2col row) of every row.
#[cfg(target_arch = "x86_64")]
pub(crate) trait Segments<T, const R: usize>: Copy {
    fn count(self) -> usize;
    /// The pointers of segment `s < count()`, one per row.
    fn get(self, s: usize) -> [*const T; R];
    /// Segment `s` as per-row bases and one offset (elements) added to each: the int8 AVX-512
    /// tile reads `bases[r] + offset + i`, so with [`RowOffsets`] its row pointers stay in
    /// registers across segments and only the offset changes (a pointer per row and segment was
    /// recomputed, spilled and reloaded per segment).
    #[inline(always)]
    fn split(self, s: usize) -> ([*const T; R], usize) {
        (self.get(s), 0)
    }
}

/// One pointer per segment and row, set up per tile.
#[cfg(target_arch = "x86_64")]
impl<T, const R: usize> Segments<T, R> for &[[*const T; R]] {
    #[inline(always)]
    fn count(self) -> usize {
        self.len()
    }
    #[inline(always)]
    fn get(self, s: usize) -> [*const T; R] {
        self.get(s).copied().unwrap_or([core::ptr::null(); R])
    }
}

/// Rows that are windows of one image at fixed offsets from their corners: segment `s` of row
/// `r` at `rows[r] + offs[s]` (elements). Per tile only the `R` corners change; the per-tap
/// pointer set-up (54 pointers per tile of a 3×3 layer, written and read back) measured a third
/// of ResNet-8's 16-channel 3×3 layers (`cargo bench … resnet8_3x3_32x32x16_16`, int8: 167 →
/// 250 G MAC/s without it; f32: 70 → 91).
#[cfg(target_arch = "x86_64")]
pub(crate) struct RowOffsets<'a, T, const R: usize> {
    pub(crate) rows: [*const T; R],
    pub(crate) offs: &'a [usize],
}

// By hand: a derive would ask `T: Copy`, and the fields are pointers and a borrow.
#[cfg(target_arch = "x86_64")]
impl<T, const R: usize> Clone for RowOffsets<'_, T, R> {
    fn clone(&self) -> Self {
        *self
    }
}

#[cfg(target_arch = "x86_64")]
impl<T, const R: usize> Copy for RowOffsets<'_, T, R> {}

#[cfg(target_arch = "x86_64")]
impl<T, const R: usize> Segments<T, R> for RowOffsets<'_, T, R> {
    #[inline(always)]
    fn count(self) -> usize {
        self.offs.len()
    }
    #[inline(always)]
    fn get(self, s: usize) -> [*const T; R] {
        let off = self.offs.get(s).copied().unwrap_or(0);
        core::array::from_fn(|r| self.rows[r].wrapping_add(off))
    }
    #[inline(always)]
    fn split(self, s: usize) -> ([*const T; R], usize) {
        (self.rows, self.offs.get(s).copied().unwrap_or(0))
    }
}

/// The weights of the f32 small-groups kernels (AVX2 and AVX-512), repacked so a tap's weights
/// for one input channel `c` of every lane's group are one vector:
/// `packed[((blk · taps + t) · cpg + c) · lanes + l] = w[oc = lanes · blk + l][t][c]` (OHWI), for
/// the `out_c / lanes` blocks; entries past `packed`'s end are not written (callers size it to
/// `out_c · taps · cpg`).
#[cfg(target_arch = "x86_64")]
pub(crate) fn pack_small_groups_f32(
    weights: &[f32],
    (out_c, taps, cpg): (usize, usize, usize),
    lanes: usize,
    packed: &mut [core::mem::MaybeUninit<f32>],
) {
    for blk in 0..out_c / lanes.max(1) {
        for t in 0..taps {
            for c in 0..cpg {
                for l in 0..lanes {
                    let oc = lanes * blk + l;
                    let v = weights
                        .get((oc * taps + t) * cpg + c)
                        .copied()
                        .unwrap_or(0.0);
                    if let Some(slot) = packed.get_mut(((blk * taps + t) * cpg + c) * lanes + l) {
                        slot.write(v);
                    }
                }
            }
        }
    }
}

/// Whether the dedicated depthwise kernels (`conv2d_*_depthwise_*`) cover a geometry already
/// known to be depthwise with multiplier 1 (`groups == in_c == out_c`): kernel 3 or 5 on each
/// axis, strides 1 or 2, dilation 1, any padding.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn depthwise_fast_shape(g: &Conv2dParams) -> bool {
    g.groups == g.in_c
        && g.groups == g.out_c
        && matches!(g.kernel_h, 3 | 5)
        && matches!(g.kernel_w, 3 | 5)
        && matches!(g.stride_h, 1 | 2)
        && matches!(g.stride_w, 1 | 2)
        && g.dilation_h == 1
        && g.dilation_w == 1
}

/// Copies `C` channels per tap from `input` (taps `step` bytes apart, starting at `at`) into
/// consecutive `C`-byte chunks of `dst`: fixed-size copies for [`S8Plan::im2col_row`].
#[inline(always)]
fn copy_taps<const C: usize>(input: &[i8], mut at: usize, step: usize, dst: &mut [i8]) {
    for d in dst.chunks_exact_mut(C) {
        if let Some(s) = input.get(at..at + C) {
            d.copy_from_slice(s);
        }
        at += step;
    }
}

/// Copies the `W`-byte kernel rows of an interior window (`step` bytes apart in the input from
/// `at`) into consecutive `W`-byte chunks of `dst`: fixed-size copies for [`S8Plan::im2col_row`].
#[inline(always)]
fn copy_rows<const W: usize>(input: &[i8], at: usize, step: usize, dst: &mut [i8]) {
    for (kh, d) in dst.chunks_exact_mut(W).enumerate() {
        let from = at + kh * step;
        if let Some(s) = input.get(from..from + W) {
            d.copy_from_slice(s);
        }
    }
}

/// Copies `src` into `dst` (same length) 8 bytes at a time, then the tail byte by byte: a few
/// moves for the short runs of [`S8Plan::im2col_row`], where a `copy_from_slice` of a length
/// known only at run time would be a `memcpy` call.
#[inline(always)]
fn copy_run(src: &[i8], dst: &mut [i8]) {
    let mut d8 = dst.chunks_exact_mut(8);
    let mut s8 = src.chunks_exact(8);
    for (d, s) in (&mut d8).zip(&mut s8) {
        d.copy_from_slice(s);
    }
    for (d, s) in d8.into_remainder().iter_mut().zip(s8.remainder()) {
        *d = *s;
    }
}
