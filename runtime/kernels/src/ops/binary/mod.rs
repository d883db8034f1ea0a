//! Element-wise binary ops with numpy broadcasting: Add, Sub, Mul, Div, Max, Min.
//!
//! All three shapes have the same rank (the compiler prepends 1s); an axis of extent 1 in an
//! input broadcasts. Squeeze-excitation (`[N,H,W,C] · [N,1,1,C]`) and residual adds are the
//! cases that matter for speed.

mod reference;
#[cfg(test)]
mod tests;

use crate::{Activation, Shape};

/// Which binary operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`
    #[default]
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `max(a, b)`
    Max,
    /// `min(a, b)`
    Min,
}

/// Shapes and operation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinaryParams {
    /// The operation.
    pub op: BinaryOp,
    /// Shape of `a`.
    pub a: Shape,
    /// Shape of `b`.
    pub b: Shape,
    /// Shape of `output` (the broadcast of `a` and `b`).
    pub out: Shape,
    /// Fused activation.
    pub activation: Activation,
}

/// Runs `output = act(a op b)`.
pub fn binary_f32(p: &BinaryParams, a: &[f32], b: &[f32], output: &mut [f32]) {
    reference::binary_f32_reference(p, a, b, output)
}

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
#[cfg(test)]
mod tests_impls;
// On the host the kernel is compiled for its tests.
#[cfg(any(test, target_arch = "arm"))]
pub(crate) mod arm_dsp;
// As `arm_dsp`: its vector code emulated on the host for its tests.
#[cfg(any(test, target_arch = "arm"))]
#[allow(unsafe_code)]
pub(crate) mod helium;

use crate::dispatch::{Impl, Isa};
use crate::quant::Rounding;

/// int8 Add/Sub as TFLite's reference (`reference_integer_ops::Add`, `left_shift` 20):
/// `a' = mbqm((a + input1_offset) << left_shift, input1_multiplier, input1_shift)`, likewise `b'`
/// (negated for Sub), `out = clamp(mbqm(a' ± b', output_multiplier, output_shift) +
/// output_offset, act_min, act_max)`, with broadcasting as [`BinaryParams`] (only `a`, `b`, `out`
/// shapes are used).
///
/// LiteRT's Prepare (`add.cc`/`sub.cc`, int8) derives the multipliers with
/// `quantize_multiplier` from `twice_max = 2 · max(s_a, s_b)` (f32, exact) as f64:
/// `s_a / twice_max`, `s_b / twice_max` and `twice_max / (2^20 · s_out)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AddS8Params {
    /// Shapes (op must be Add or Sub).
    pub shapes: BinaryParams,
    /// `−zero_point(a)`.
    pub input1_offset: i32,
    /// `−zero_point(b)`.
    pub input2_offset: i32,
    /// `zero_point(out)`.
    pub output_offset: i32,
    /// 20 for int8.
    pub left_shift: i32,
    /// Multiplier of `a`.
    pub input1_multiplier: i32,
    /// Shift of `a` (≤ 0).
    pub input1_shift: i32,
    /// Multiplier of `b`.
    pub input2_multiplier: i32,
    /// Shift of `b` (≤ 0).
    pub input2_shift: i32,
    /// Output multiplier.
    pub output_multiplier: i32,
    /// Output shift.
    pub output_shift: i32,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Requantization rounding.
    pub rounding: Rounding,
}

/// int8 Mul as TFLite's reference: `out = clamp(mbqm((a + input1_offset) · (b + input2_offset),
/// output_multiplier, output_shift) + output_offset, act_min, act_max)`.
///
/// To match LiteRT, `(output_multiplier, output_shift)` must be `quantize_multiplier` of the
/// real multiplier as LiteRT's `mul.cc` Prepare evaluates it: `s_a * s_b / s_out` **in f32**
/// (the three scales are floats there), then widened to f64 — evaluating it in f64 changes the
/// multiplier for almost every scale triple, and some outputs with it (tests: the targeted Mul
/// vectors).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MulS8Params {
    /// Shapes.
    pub shapes: BinaryParams,
    /// `−zero_point(a)`.
    pub input1_offset: i32,
    /// `−zero_point(b)`.
    pub input2_offset: i32,
    /// `zero_point(out)`.
    pub output_offset: i32,
    /// Output multiplier.
    pub output_multiplier: i32,
    /// Output shift.
    pub output_shift: i32,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Requantization rounding.
    pub rounding: Rounding,
}

/// Runs int8 Add/Sub.
pub fn add_s8(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) {
    for imp in ADD_S8_IMPLS {
        if imp.isa.available() && (imp.f)(p, a, b, output) {
            return;
        }
    }
}

/// Runs int8 Mul.
pub fn mul_s8(p: &MulS8Params, a: &[i8], b: &[i8], output: &mut [i8]) {
    for imp in MUL_S8_IMPLS {
        if imp.isa.available() && (imp.f)(p, a, b, output) {
            return;
        }
    }
}

/// The type of every [`add_s8`] variant: returns `false` (having written nothing) when it does
/// not cover the call (the fast ones take inputs of the output's shape, no broadcasting) or its
/// instruction set is unavailable.
pub type AddS8Fn = fn(&AddS8Params, &[i8], &[i8], &mut [i8]) -> bool;

/// The type of every [`mul_s8`] variant (see [`AddS8Fn`]).
pub type MulS8Fn = fn(&MulS8Params, &[i8], &[i8], &mut [i8]) -> bool;

/// The variants of [`add_s8`] (Add and Sub), fastest first, the reference last; all bit-exact.
pub const ADD_S8_IMPLS: &[Impl<AddS8Fn>] = &[
    #[cfg(target_arch = "arm")]
    Impl {
        name: "add_s8_helium",
        isa: Isa::Helium,
        f: helium::add_s8,
    },
    #[cfg(target_arch = "arm")]
    Impl {
        name: "add_s8_arm_dsp",
        isa: Isa::ArmDsp,
        f: arm_dsp::add_s8,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "add_s8_neon",
        isa: Isa::Neon,
        f: neon::add_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "add_s8_avx512_vnni",
        isa: Isa::Avx512Vnni,
        f: avx512_vnni::add_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "add_s8_avx2",
        isa: Isa::Avx2,
        f: avx2::add_s8,
    },
    Impl {
        name: "add_s8_reference",
        isa: Isa::Reference,
        f: |p, a, b, y| {
            reference_s8::add_s8_reference(p, a, b, y);
            true
        },
    },
];

/// The variants of [`mul_s8`], fastest first, the reference last; all bit-exact.
pub const MUL_S8_IMPLS: &[Impl<MulS8Fn>] = &[
    // Not in Helium builds: their code memory is spent on the Helium kernels (QEMU's mps3-an547
    // gives the M55 512 KiB), and no MLPerf Tiny model has a Mul.
    #[cfg(all(target_arch = "arm", not(mote_helium)))]
    Impl {
        name: "mul_s8_arm_dsp",
        isa: Isa::ArmDsp,
        f: arm_dsp::mul_s8,
    },
    #[cfg(target_arch = "aarch64")]
    Impl {
        name: "mul_s8_neon",
        isa: Isa::Neon,
        f: neon::mul_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "mul_s8_avx512_vnni",
        isa: Isa::Avx512Vnni,
        f: avx512_vnni::mul_s8,
    },
    #[cfg(target_arch = "x86_64")]
    Impl {
        name: "mul_s8_avx2",
        isa: Isa::Avx2,
        f: avx2::mul_s8,
    },
    Impl {
        name: "mul_s8_reference",
        isa: Isa::Reference,
        f: |p, a, b, y| {
            reference_s8::mul_s8_reference(p, a, b, y);
            true
        },
    },
];

/// Whether an Add/Sub call is in the range of the vector kernels (NEON, AVX2, AVX-512): element
/// by element, double rounding, zero points in int8 (so `|x + offset| ≤ 256` and a left shift
/// ≤ 22 cannot overflow), input shifts right only, the output shift in the vector
/// requantization's range. The output stage's range is checked by `OutputStage::new`.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) fn add_s8_vector_range(p: &AddS8Params, a: usize, b: usize, out: usize) -> bool {
    same_shape(&p.shapes, a, b, out)
        && matches!(p.shapes.op, BinaryOp::Add | BinaryOp::Sub)
        && p.rounding == Rounding::Double
        && (-128..=128).contains(&p.input1_offset)
        && (-128..=128).contains(&p.input2_offset)
        && (0..=22).contains(&p.left_shift)
        && (-31..=0).contains(&p.input1_shift)
        && (-31..=0).contains(&p.input2_shift)
        && (-31..=30).contains(&p.output_shift)
}

/// [`add_s8_vector_range`] for Mul: `|(x + o1)(y + o2)| ≤ 2^16`, so the product cannot
/// overflow.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) fn mul_s8_vector_range(p: &MulS8Params, a: usize, b: usize, out: usize) -> bool {
    same_shape(&p.shapes, a, b, out)
        && p.shapes.op == BinaryOp::Mul
        && p.rounding == Rounding::Double
        && (-128..=128).contains(&p.input1_offset)
        && (-128..=128).contains(&p.input2_offset)
        && (-31..=30).contains(&p.output_shift)
}

/// Whether a call is element by element: both inputs have the output's element count (with
/// numpy broadcasting of equal ranks, that means the output's shape) and the slices match.
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "arm",
        test
    )),
    allow(dead_code)
)]
pub(crate) fn same_shape(p: &BinaryParams, a: usize, b: usize, out: usize) -> bool {
    let n = p.out.elements();
    p.a.rank == p.out.rank
        && p.b.rank == p.out.rank
        && p.a.as_slice() == p.out.as_slice()
        && p.b.as_slice() == p.out.as_slice()
        && a == n
        && b == n
        && out == n
}
