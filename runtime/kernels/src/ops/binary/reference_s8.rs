//! Portable scalar references for int8 Add/Sub and Mul, bit-exact with TFLite's
//! `reference_integer_ops::AddFunc` (`kernels/internal/reference/integer_ops/add.h`),
//! `reference_ops::SubElementwise` / `BroadcastQuantSubSlow` (`reference/sub.h`) and
//! `reference_integer_ops::MulElementwise` / `BroadcastMul6DSlow` (`integer_ops/mul.h`).
//! Broadcasting reuses the f32 kernel's shape simplification and walk; the element function
//! carries the whole int8 arithmetic, clamp included.
//!
//! `MultiplyByQuantizedMultiplierSmallerThanOneExp` (Add/Sub) is
//! `multiply_by_quantized_multiplier` with a shift ≤ 0 in both TFLite builds, so all three
//! rescalings go through it. Intermediate sums wrap like TFLite's `int32_t` ones would; with
//! int8 inputs and `left_shift` 20 they stay far from overflow.
use super::reference::broadcast_walk;
use super::{AddS8Params, BinaryOp, MulS8Params};
use crate::ops::util::clamp_s8;
use crate::quant::multiply_by_quantized_multiplier;

/// `v · 2^shift` as TFLite's `v * (1 << left_shift)`, saturated instead of undefined when a
/// caller passes a shift that overflows (the contract's 20 never does with int8 inputs).
#[inline(always)]
pub(super) fn shift_left(v: i32, shift: i32) -> i32 {
    let s = shift.clamp(0, 32) as u32;
    let w = (v as i64) << s;
    w.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

pub(super) fn add_s8_reference(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) {
    let s = &p.shapes;
    debug_assert!(s.a.rank == s.out.rank && s.b.rank == s.out.rank);
    debug_assert_eq!(a.len(), s.a.elements());
    debug_assert_eq!(b.len(), s.b.elements());
    debug_assert_eq!(output.len(), s.out.elements());
    debug_assert!(matches!(s.op, BinaryOp::Add | BinaryOp::Sub));
    let q = *p;
    let f = move |x: i8, y: i8| -> i8 { add_s8_element(&q, x, y) };
    broadcast_walk(s, a, b, output, f, |_| {});
}

pub(super) fn mul_s8_reference(p: &MulS8Params, a: &[i8], b: &[i8], output: &mut [i8]) {
    let s = &p.shapes;
    debug_assert!(s.a.rank == s.out.rank && s.b.rank == s.out.rank);
    debug_assert_eq!(a.len(), s.a.elements());
    debug_assert_eq!(b.len(), s.b.elements());
    debug_assert_eq!(output.len(), s.out.elements());
    let q = *p;
    let f = move |x: i8, y: i8| -> i8 { mul_s8_element(&q, x, y) };
    broadcast_walk(s, a, b, output, f, |_| {});
}

/// One output of int8 Add/Sub (shared with the fast variants' rare scalar lanes).
#[inline(always)]
pub(super) fn add_s8_element(q: &AddS8Params, x: i8, y: i8) -> i8 {
    let x = shift_left(q.input1_offset.wrapping_add(i32::from(x)), q.left_shift);
    let y = shift_left(q.input2_offset.wrapping_add(i32::from(y)), q.left_shift);
    let x = multiply_by_quantized_multiplier(x, q.input1_multiplier, q.input1_shift, q.rounding);
    let y = multiply_by_quantized_multiplier(y, q.input2_multiplier, q.input2_shift, q.rounding);
    let raw = if q.shapes.op == BinaryOp::Sub {
        x.wrapping_sub(y)
    } else {
        x.wrapping_add(y)
    };
    let out =
        multiply_by_quantized_multiplier(raw, q.output_multiplier, q.output_shift, q.rounding)
            .saturating_add(q.output_offset);
    clamp_s8(out, q.act_min, q.act_max)
}

/// One output of int8 Mul (shared with the fast variants' rare scalar lanes).
#[inline(always)]
pub(super) fn mul_s8_element(q: &MulS8Params, x: i8, y: i8) -> i8 {
    let x = q.input1_offset.wrapping_add(i32::from(x));
    let y = q.input2_offset.wrapping_add(i32::from(y));
    let out = multiply_by_quantized_multiplier(
        x.wrapping_mul(y),
        q.output_multiplier,
        q.output_shift,
        q.rounding,
    )
    .saturating_add(q.output_offset);
    clamp_s8(out, q.act_min, q.act_max)
}
