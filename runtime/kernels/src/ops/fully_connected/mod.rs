//! Fully connected layer: `output[m, n] = act(bias[n] + Σ_k input[m, k] · weights[n, k])`.
//!
//! Weights are `[units, depth]`, one row per output, so each output is a dot product of two
//! contiguous rows (the layout GEMM kernels pack from, and TFLite's). Gemm and MatMul with a
//! constant right-hand side compile to this op.

mod reference;
#[cfg(test)]
mod tests;

use crate::Activation;

/// Shapes of one fully connected layer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FullyConnectedParams {
    /// Rows of the input (M): the product of all input axes but the last.
    pub rows: usize,
    /// Length of each input row (K).
    pub depth: usize,
    /// Outputs per row (N).
    pub units: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// `input` `[rows, depth]`, `weights` `[units, depth]`, `bias` `[units]`, `output` `[rows, units]`.
pub fn fully_connected_f32(
    p: &FullyConnectedParams,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    output: &mut [f32],
) {
    for imp in FULLY_CONNECTED_F32_IMPLS {
        if imp.isa.available() && (imp.f)(p, input, weights, bias, output) {
            return;
        }
    }
}

/// The type of every [`fully_connected_f32`] variant: returns `false` (having written nothing)
/// when it does not cover the call or its instruction set is unavailable.
pub type FullyConnectedF32Fn =
    fn(&FullyConnectedParams, &[f32], &[f32], Option<&[f32]>, &mut [f32]) -> bool;

/// The variants of [`fully_connected_f32`], fastest first, the reference last. The fast ones
/// differ from the reference by rounding only (fused multiply-add, eight partial sums): within
/// `1e-5 · (1 + |expected|)` on the property tests' data.
pub const FULLY_CONNECTED_F32_IMPLS: &[Impl<FullyConnectedF32Fn>] = &[
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "fully_connected_f32_avx2",
        isa: Isa::Avx2,
        f: avx2::fully_connected_f32,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "fully_connected_f32_neon",
        isa: Isa::Neon,
        f: neon::fully_connected_f32,
    },
    Impl {
        name: "fully_connected_f32_reference",
        isa: Isa::Reference,
        f: |p, x, w, b, y| {
            reference::fully_connected_f32_reference(p, x, w, b, y);
            true
        },
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
mod avx512_vnni;
#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod neon;
#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod neon_dotprod;
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

/// Shapes and quantization of one int8 fully connected layer (TFLite `FullyConnected` int8,
/// per-tensor or per-channel; LiteRT's `BUILTIN_REF` rounds as [`fully_connected_s8_scaled`]): `acc = bias[n] + Σ_k (input[m,k] +
/// input_offset) · weights[n,k]`, `out = clamp(mbqm(acc, multiplier[n or 0], shift[n or 0]) +
/// output_offset, act_min, act_max)`. Weights symmetric (zero point 0).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FullyConnectedS8Params {
    /// Rows (M).
    pub rows: usize,
    /// Depth (K).
    pub depth: usize,
    /// Units (N).
    pub units: usize,
    /// `−input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Requantization rounding.
    pub rounding: Rounding,
}

/// Runs the layer; `multipliers`/`shifts` have 1 entry (per tensor) or `units` entries.
///
/// This is TFLite's `reference_integer_ops::FullyConnected(PerChannel)` with
/// `MultiplyByQuantizedMultiplier` (as TFLite Micro, CMSIS-NN and LiteRT's optimized kernels
/// compute). LiteRT's `BUILTIN_REF` resolver rounds differently for int8 fully connected; see
/// [`fully_connected_s8_scaled`].
pub fn fully_connected_s8(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) {
    for imp in FULLY_CONNECTED_S8_IMPLS {
        if imp.isa.available() && (imp.f)(p, input, weights, bias, multipliers, shifts, output) {
            return;
        }
    }
}

/// The type of every [`fully_connected_s8`] variant (see [`FullyConnectedF32Fn`]).
pub type FullyConnectedS8Fn =
    fn(&FullyConnectedS8Params, &[i8], &[i8], Option<&[i32]>, &[i32], &[i32], &mut [i8]) -> bool;

/// The type of every [`fully_connected_s8_scaled`] variant.
pub type FullyConnectedS8ScaledFn =
    fn(&FullyConnectedS8Params, &[i8], &[i8], Option<&[i32]>, &[f64], &mut [i8]) -> bool;

/// The variants of [`fully_connected_s8`], fastest first, the reference last; all bit-exact (the
/// dot products are exact integer sums; the output stage is the scalar one).
pub const FULLY_CONNECTED_S8_IMPLS: &[Impl<FullyConnectedS8Fn>] = &[
    #[cfg(target_arch = "arm")]
    Impl {
        name: "fully_connected_s8_helium",
        isa: Isa::Helium,
        f: helium::fully_connected_s8,
    },
    // Helium builds leave it out: the Helium kernel covers every call it covers (flash).
    #[cfg(all(target_arch = "arm", not(mote_helium)))]
    Impl {
        name: "fully_connected_s8_arm_dsp",
        isa: Isa::ArmDsp,
        f: arm_dsp::fully_connected_s8,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "fully_connected_s8_neon_dotprod",
        isa: Isa::NeonDotprod,
        f: neon_dotprod::fully_connected_s8,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "fully_connected_s8_neon",
        isa: Isa::Neon,
        f: neon::fully_connected_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "fully_connected_s8_avx512_vnni",
        isa: Isa::Avx512Vnni,
        f: avx512_vnni::fully_connected_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "fully_connected_s8_avx2",
        isa: Isa::Avx2,
        f: avx2::fully_connected_s8,
    },
    Impl {
        name: "fully_connected_s8_reference",
        isa: Isa::Reference,
        f: |p, x, w, b, m, s, y| {
            reference_s8::fully_connected_s8_reference(p, x, w, b, m, s, y);
            true
        },
    },
];

/// The variants of [`fully_connected_s8_scaled`], fastest first, the reference last.
pub const FULLY_CONNECTED_S8_SCALED_IMPLS: &[Impl<FullyConnectedS8ScaledFn>] = &[
    #[cfg(target_arch = "arm")]
    Impl {
        name: "fully_connected_s8_scaled_helium",
        isa: Isa::Helium,
        f: helium::fully_connected_s8_scaled,
    },
    // Helium builds leave it out: the Helium kernel covers every call it covers (flash).
    #[cfg(all(target_arch = "arm", not(mote_helium)))]
    Impl {
        name: "fully_connected_s8_scaled_arm_dsp",
        isa: Isa::ArmDsp,
        f: arm_dsp::fully_connected_s8_scaled,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "fully_connected_s8_scaled_neon_dotprod",
        isa: Isa::NeonDotprod,
        f: neon_dotprod::fully_connected_s8_scaled,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "fully_connected_s8_scaled_neon",
        isa: Isa::Neon,
        f: neon::fully_connected_s8_scaled,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "fully_connected_s8_scaled_avx512_vnni",
        isa: Isa::Avx512Vnni,
        f: avx512_vnni::fully_connected_s8_scaled,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "fully_connected_s8_scaled_avx2",
        isa: Isa::Avx2,
        f: avx2::fully_connected_s8_scaled,
    },
    Impl {
        name: "fully_connected_s8_scaled_reference",
        isa: Isa::Reference,
        f: |p, x, w, b, s, y| {
            reference_s8::fully_connected_s8_scaled_reference(p, x, w, b, s, y);
            true
        },
    },
];

/// The slice lengths of an int8 fully connected call match its shapes, offsets stay far from
/// overflow, and the input offset is an int8 zero point (so `x + input_offset` fits 9 bits).
/// `scales` is the number of multipliers (or effective scales): 1 or `units`.
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "arm",
        test
    )),
    allow(dead_code)
)]
pub(crate) fn s8_call_ok(
    p: &FullyConnectedS8Params,
    input: usize,
    weights: usize,
    bias: Option<usize>,
    scales: usize,
    output: usize,
) -> bool {
    let lens = (|| {
        Some((
            p.rows.checked_mul(p.depth)?,
            p.units.checked_mul(p.depth)?,
            p.rows.checked_mul(p.units)?,
        ))
    })();
    let Some((i, w, o)) = lens else {
        return false;
    };
    let limit = 1usize << 31;
    i == input
        && w == weights
        && o == output
        && i < limit
        && w < limit
        && bias.is_none_or(|b| b == p.units)
        && (scales == 1 || scales == p.units)
        && (-127..=128).contains(&p.input_offset)
}

/// int8 fully connected as LiteRT's `BUILTIN_REF` resolver computes it (LiteRT ≥ 2.x,
/// `tflite/kernels/fully_connected.cc`, `FullyConnectedInt8<kReference>` and
/// `FullyConnectedPerChannelInt8<kReference>`, which call the float-scale overloads of
/// `reference_integer_ops::FullyConnected(PerChannel)`): the accumulator is scaled in double
/// precision, `out = clamp(round(acc as f64 · effective_scales[n or 0]) + output_offset, act_min,
/// act_max)` with C's `round` (ties away from zero). It differs from every
/// `multiply_by_quantized_multiplier` rounding on a fraction of a percent of outputs (measured
/// against ai-edge-litert 2.3.0), so matching `BUILTIN_REF` bit for bit needs this form.
///
/// `effective_scales` has 1 entry (per tensor) or `units` entries, each computed as LiteRT does:
/// `(input_scale as f64) · (weight_scale[n] as f64) / (output_scale as f64)` from the f32 scales
/// of the model, multiplied first, then divided. `p.rounding` is ignored.
pub fn fully_connected_s8_scaled(
    p: &FullyConnectedS8Params,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    effective_scales: &[f64],
    output: &mut [i8],
) {
    for imp in FULLY_CONNECTED_S8_SCALED_IMPLS {
        if imp.isa.available() && (imp.f)(p, input, weights, bias, effective_scales, output) {
            return;
        }
    }
}
