//! 2-D max and average pooling, NHWC.
//!
//! A window starts at `oh·stride_h − pad_top` and covers `kernel_h` taps `dilation_h` apart
//! (likewise for width). Taps outside the input are ignored by max pooling. Average pooling
//! divides by the number of taps inside the input, or, with `count_include_pad`, by the number
//! of taps inside the padded input `[-pad_top, in_h + pad_bottom)`: windows that extend past
//! that (ONNX `ceil_mode`) are clipped, as ONNX's reference does.
//!
//! Pooling has no arithmetic to speak of: its cost is walking windows and moving bytes, so the
//! vector kernels (AVX2, NEON) keep the reference's order of operations lane by lane (max of
//! the taps in `(kh, kw)` order from `-inf`/−128; sums in that order, then one division) and
//! are therefore exact twins of it, not approximations: f32 results equal the reference's
//! (`==`, NaN where it has NaN), int8 results bit for bit. Channels are the vector lanes (NHWC
//! keeps them contiguous), several vectors per pass over a window.

mod reference;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_impls;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2;
#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod neon;

use crate::dispatch::{Impl, Isa};
use crate::Activation;

/// Shapes and hyper-parameters of one pooling layer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pool2dParams {
    /// Batch size.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Channels.
    pub channels: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Window height.
    pub kernel_h: usize,
    /// Window width.
    pub kernel_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation.
    pub dilation_h: usize,
    /// Horizontal dilation.
    pub dilation_w: usize,
    /// Padding above.
    pub pad_top: usize,
    /// Padding left.
    pub pad_left: usize,
    /// Padding below (explicit, counted by `count_include_pad`).
    pub pad_bottom: usize,
    /// Padding right (explicit, counted by `count_include_pad`).
    pub pad_right: usize,
    /// Average pooling only: count padded taps in the divisor.
    pub count_include_pad: bool,
    /// Fused activation.
    pub activation: Activation,
}

/// Max pooling.
pub fn max_pool2d_f32(p: &Pool2dParams, input: &[f32], output: &mut [f32]) {
    run(MAX_POOL_F32_IMPLS, p, input, output)
}

/// Average pooling.
pub fn avg_pool2d_f32(p: &Pool2dParams, input: &[f32], output: &mut [f32]) {
    run(AVG_POOL_F32_IMPLS, p, input, output)
}

/// The first available variant that accepts the call (the reference accepts every call).
fn run<P, T>(impls: &[Impl<PoolFn<P, T>>], p: &P, input: &[T], output: &mut [T]) {
    for imp in impls {
        if imp.isa.available() && (imp.f)(p, input, output) {
            return;
        }
    }
}

/// A pooling variant with parameters `P` on elements `T`.
type PoolFn<P, T> = fn(&P, &[T], &mut [T]) -> bool;

/// The type of every f32 pooling variant: `false` (nothing written) when it does not cover the
/// call or its instruction set is unavailable.
pub type PoolF32Fn = PoolFn<Pool2dParams, f32>;

/// The type of every int8 pooling variant (see [`PoolF32Fn`]).
pub type PoolS8Fn = PoolFn<Pool2dS8Params, i8>;

/// The variants of [`max_pool2d_f32`], fastest first, the reference last; all exact.
pub const MAX_POOL_F32_IMPLS: &[Impl<PoolF32Fn>] = &[
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "max_pool2d_f32_neon",
        isa: Isa::Neon,
        f: neon::max_pool2d_f32,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "max_pool2d_f32_avx2",
        isa: Isa::Avx2,
        f: avx2::max_pool2d_f32,
    },
    Impl {
        name: "max_pool2d_f32_reference",
        isa: Isa::Reference,
        f: |p, x, y| {
            reference::max_pool2d_f32_reference(p, x, y);
            true
        },
    },
];

/// The variants of [`avg_pool2d_f32`], fastest first, the reference last; all exact.
pub const AVG_POOL_F32_IMPLS: &[Impl<PoolF32Fn>] = &[
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "avg_pool2d_f32_neon",
        isa: Isa::Neon,
        f: neon::avg_pool2d_f32,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "avg_pool2d_f32_avx2",
        isa: Isa::Avx2,
        f: avx2::avg_pool2d_f32,
    },
    Impl {
        name: "avg_pool2d_f32_reference",
        isa: Isa::Reference,
        f: |p, x, y| {
            reference::avg_pool2d_f32_reference(p, x, y);
            true
        },
    },
];

/// The variants of [`max_pool2d_s8`], fastest first, the reference last; all bit-exact.
pub const MAX_POOL_S8_IMPLS: &[Impl<PoolS8Fn>] = &[
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "max_pool2d_s8_neon",
        isa: Isa::Neon,
        f: neon::max_pool2d_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "max_pool2d_s8_avx2",
        isa: Isa::Avx2,
        f: avx2::max_pool2d_s8,
    },
    Impl {
        name: "max_pool2d_s8_reference",
        isa: Isa::Reference,
        f: |p, x, y| {
            reference_s8::max_pool2d_s8_reference(p, x, y);
            true
        },
    },
];

/// The variants of [`avg_pool2d_s8`], fastest first, the reference last; all bit-exact.
pub const AVG_POOL_S8_IMPLS: &[Impl<PoolS8Fn>] = &[
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "avg_pool2d_s8_neon",
        isa: Isa::Neon,
        f: neon::avg_pool2d_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "avg_pool2d_s8_avx2",
        isa: Isa::Avx2,
        f: avx2::avg_pool2d_s8,
    },
    Impl {
        name: "avg_pool2d_s8_reference",
        isa: Isa::Reference,
        f: |p, x, y| {
            reference_s8::avg_pool2d_s8_reference(p, x, y);
            true
        },
    },
];

/// Whether a call's geometry is one the vector kernels take: slice lengths equal to the shapes
/// (no product overflows), strides and dilations ≥ 1, and every window position and tap offset
/// representable (so the pointer arithmetic of the kernels stays inside the input: the taps
/// they visit are those of [`reference::window`], inside the input by construction).
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
fn vector_geometry(p: &Pool2dParams, input: usize, output: usize) -> bool {
    let len = |a: usize, b: usize, c: usize| {
        p.batch
            .checked_mul(a)
            .and_then(|v| v.checked_mul(b))
            .and_then(|v| v.checked_mul(p.channels))
            .and_then(|v| v.checked_mul(c))
    };
    let span = |out: usize, stride: usize, k: usize, dil: usize, pad: usize| {
        let last = out.checked_mul(stride)?.checked_add(k.checked_mul(dil)?)?;
        let far = last.checked_add(pad)?;
        (far <= isize::MAX as usize / 2).then_some(())
    };
    p.stride_h >= 1
        && p.stride_w >= 1
        && p.dilation_h >= 1
        && p.dilation_w >= 1
        && len(p.in_h, p.in_w, 1) == Some(input)
        && len(p.out_h, p.out_w, 1) == Some(output)
        && span(p.out_h, p.stride_h, p.kernel_h, p.dilation_h, p.pad_top).is_some()
        && span(p.out_w, p.stride_w, p.kernel_w, p.dilation_w, p.pad_left).is_some()
}

/// Most window taps of an int8 average the vector kernels take: with at most `2^16` taps a
/// rounded sum stays below `2^24` in magnitude, where its quotient by the tap count computed in
/// f32 (one correctly rounded division) truncates to the integer quotient exactly: for
/// `n = q·c + r`, `0 < r < c`, the quotient is at least `1/c` from an integer, more than half a
/// unit in the last place of a float below `2^24 / c`.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
const MAX_AVG_S8_TAPS: usize = 1 << 16;

/// [`vector_geometry`] for an int8 average, and windows of at most [`MAX_AVG_S8_TAPS`] taps.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
fn avg_s8_vector_range(p: &Pool2dS8Params, input: usize, output: usize) -> bool {
    let g = &p.geometry;
    let taps = g.kernel_h.checked_mul(g.kernel_w);
    vector_geometry(g, input, output) && taps.is_some_and(|t| t <= MAX_AVG_S8_TAPS)
}

/// Calls `f(batch, pixel offset, window)` for every output pixel, in output order.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
#[inline(always)]
fn for_each_pixel(p: &Pool2dParams, mut f: impl FnMut(usize, usize, &reference::Window)) {
    let mut o = 0;
    for n in 0..p.batch {
        for oh in 0..p.out_h {
            for ow in 0..p.out_w {
                f(n, o, &reference::window(p, oh, ow));
                o += p.channels;
            }
        }
    }
}

/// Calls `f(offset)` with the element offset of every tap of window `w` (batch `n`) inside the
/// input, in the reference's `(kh, kw)` order.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
#[inline(always)]
fn for_each_tap_offset(
    p: &Pool2dParams,
    n: usize,
    w: &reference::Window,
    mut f: impl FnMut(usize),
) {
    for kh in w.kh.0..w.kh.1 {
        let ih = (w.ih0 + (kh * p.dilation_h) as isize) as usize;
        let row = (n * p.in_h + ih) * p.in_w;
        for kw in w.kw.0..w.kw.1 {
            let iw = (w.iw0 + (kw * p.dilation_w) as isize) as usize;
            f((row + iw) * p.channels);
        }
    }
}

mod reference_s8;
#[cfg(test)]
mod tests_s8;

/// int8 pooling: geometry as [`Pool2dParams`] (its activation ignored), input and output share
/// scale and zero point (TFLite requires it), `act_min`/`act_max` clamp the result. Average
/// pooling rounds as TFLite's reference: `(sum ± count/2) / count` (half away from zero, C
/// integer division), `count` = taps inside the input (or, with `count_include_pad`, inside the
/// padded input).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pool2dS8Params {
    /// Geometry.
    pub geometry: Pool2dParams,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
}

/// int8 max pooling.
pub fn max_pool2d_s8(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    run(MAX_POOL_S8_IMPLS, p, input, output)
}

/// int8 average pooling.
pub fn avg_pool2d_s8(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    run(AVG_POOL_S8_IMPLS, p, input, output)
}
