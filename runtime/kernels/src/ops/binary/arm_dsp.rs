//! int8 Add/Sub element by element (no broadcasting) for the Cortex-M: `add_s8_arm_dsp`.
//!
//! Each input's rescaling `mbqm((v + offset) << left_shift, multiplier, shift)` depends only on
//! the int8 value `v`, so it is tabulated once per call for the 256 values of each input (two
//! 1 KB tables on the stack, 512 evaluations of the quant module's function), and every element
//! then costs two table loads, an add and the output stage (the quant module's prepared
//! multiplier, both rounding modes): about 25 instructions on a Cortex-M4 instead of the
//! reference's broadcasting walk with three general requantizations (about 180). No DSP
//! instruction is needed; it is selected with the DSP kernels (`Isa::ArmDsp`) because it is
//! written for those cores, where a 2 KB stack table is cheaper than the arithmetic.

use super::reference_s8::shift_left;
use super::{same_shape, AddS8Params, BinaryOp};
use crate::dispatch::Isa;
use crate::ops::util::clamp_s8;
use crate::quant::PreparedMultiplier;

/// `add_s8_arm_dsp`: `false` (nothing written) without the DSP targets or when broadcasting.
#[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
pub(crate) fn add_s8(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    Isa::ArmDsp.available() && add_s8_any_host(p, a, b, output)
}

/// [`add_s8`] without the availability check (runs on any host, for the tests).
pub(crate) fn add_s8_any_host(p: &AddS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    if !same_shape(&p.shapes, a.len(), b.len(), output.len())
        || !matches!(p.shapes.op, BinaryOp::Add | BinaryOp::Sub)
    {
        return false;
    }
    let m1 = PreparedMultiplier::new(p.input1_multiplier, p.input1_shift, p.rounding);
    let m2 = PreparedMultiplier::new(p.input2_multiplier, p.input2_shift, p.rounding);
    let mut ta = [0i32; 256];
    let mut tb = [0i32; 256];
    for v in -128i32..=127 {
        let i = v as u8 as usize;
        if let (Some(x), Some(y)) = (ta.get_mut(i), tb.get_mut(i)) {
            *x = m1.apply(shift_left(p.input1_offset.wrapping_add(v), p.left_shift));
            *y = m2.apply(shift_left(p.input2_offset.wrapping_add(v), p.left_shift));
        }
    }
    let mo = PreparedMultiplier::new(p.output_multiplier, p.output_shift, p.rounding);
    let (oo, lo, hi) = (p.output_offset, p.act_min, p.act_max);
    let sub = p.shapes.op == BinaryOp::Sub;
    for ((o, &x), &y) in output.iter_mut().zip(a).zip(b) {
        let (x, y) = (ta[x as u8 as usize], tb[y as u8 as usize]);
        let raw = if sub {
            x.wrapping_sub(y)
        } else {
            x.wrapping_add(y)
        };
        *o = clamp_s8(mo.apply(raw).saturating_add(oo), lo, hi);
    }
    true
}
