//! int8 Add/Sub element by element (no broadcasting) with Helium (MVE): `add_s8_helium`.
//!
//! The DSP kernel's tables (`arm_dsp.rs`: each input's rescaling depends only on its int8
//! value, tabulated once per call for the 256 values, with the quant module's function), read
//! with gather loads, four elements per step of a tail-predicated loop
//! (`arch::helium::add_tables_4`): two `vldrb.u32` of the inputs as table indices, two gathers
//! (`vldrw.u32 [table, q, uxtw #2]`), the sum, and the vector output stage (`vqrdmulh`, rounding
//! shift, zero point, clamp: bit for bit the quant module's `apply_right_double`, see
//! `arch::helium::requant4_double`).
//!
//! Declined (the DSP kernel runs them): broadcasting, single rounding, an output multiplier that
//! is not a right shift, clamp bounds outside int8.

use super::reference_s8::shift_left;
use super::{same_shape, AddS8Params, BinaryOp};
use crate::arch::helium::add_tables;
use crate::dispatch::Isa;
use crate::quant::{PreparedMultiplier, Rounding};

/// `add_s8_helium`: `false` (nothing written) without Helium or when not covered.
#[cfg_attr(not(mote_helium), allow(dead_code))]
pub(crate) fn add_s8(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    Isa::Helium.available() && add_s8_any_host(p, a, b, output)
}

/// [`add_s8`] without the availability check (its vector code is emulated on other hosts).
pub(crate) fn add_s8_any_host(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let mo = PreparedMultiplier::new(p.output_multiplier, p.output_shift, p.rounding);
    let n = output.len();
    if !same_shape(&p.shapes, a.len(), b.len(), n)
        || !matches!(p.shapes.op, BinaryOp::Add | BinaryOp::Sub)
        || p.rounding != Rounding::Double
        || !mo.is_right_shift()
        || !(-128..=127).contains(&p.act_min)
        || !(-128..=127).contains(&p.act_max)
        || a.len() != n
        || b.len() != n
    {
        return false;
    }
    let m1 = PreparedMultiplier::new(p.input1_multiplier, p.input1_shift, p.rounding);
    let m2 = PreparedMultiplier::new(p.input2_multiplier, p.input2_shift, p.rounding);
    let mut ta = [0i32; 256];
    let mut tb = [0i32; 256];
    // Sub: the second table negated (wrapping, as the reference's difference).
    let sub = p.shapes.op == BinaryOp::Sub;
    for v in -128i32..=127 {
        let i = v as u8 as usize;
        if let (Some(x), Some(y)) = (ta.get_mut(i), tb.get_mut(i)) {
            *x = m1.apply(shift_left(p.input1_offset.wrapping_add(v), p.left_shift));
            let t = m2.apply(shift_left(p.input2_offset.wrapping_add(v), p.left_shift));
            *y = if sub { t.wrapping_neg() } else { t };
        }
    }
    if n == 0 {
        return true;
    }
    // SAFETY: a, b and output have n > 0 elements; the tables have 256 entries and are indexed
    // by bytes.
    unsafe {
        add_tables(
            a.as_ptr(),
            b.as_ptr(),
            output.as_mut_ptr(),
            n,
            &ta,
            &tb,
            [
                p.output_multiplier,
                p.output_shift,
                p.output_offset,
                p.act_min,
                p.act_max,
            ],
        );
    }
    true
}
