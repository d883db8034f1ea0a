//! int8 Add/Sub and Mul element by element (no broadcasting) for the Cortex-M: `add_s8_arm_dsp`,
//! `mul_s8_arm_dsp`.
//!
//! **Mul**: four elements per step: one word of each input, `sxtb16` (bytes 0/2 and 1/3 as
//! halfword pairs), `sadd16` with the input offsets, and `smlabb`/`smlatt` for the four products
//! `(x + offset_a)·(y + offset_b)`; then the quant module's output stage per element. Offsets
//! within ±255 keep every halfword exact (`|x + offset| ≤ 383`), so the products equal the
//! reference's; other offsets are declined.
//!
//! **Add/Sub**:
//! Each input's rescaling `mbqm((v + offset) << left_shift, multiplier, shift)` depends only on
//! the int8 value `v`, so it is tabulated once per call for the 256 values of each input (two
//! 1 KB tables on the stack, 512 evaluations of the quant module's function), and every element
//! then costs two table loads, an add and the output stage (the quant module's prepared
//! multiplier, both rounding modes): about 25 instructions on a Cortex-M4 instead of the
//! reference's broadcasting walk with three general requantizations (about 180). No DSP
//! instruction is needed; it is selected with the DSP kernels (`Isa::ArmDsp`) because it is
//! written for those cores, where a 2 KB stack table is cheaper than the arithmetic.

use super::reference_s8::shift_left;
use super::{same_shape, AddS8Params, BinaryOp, MulS8Params};
use crate::arch::arm_dsp::{pair, sadd16, smlabb, smlatt, sxtb16, sxtb16_ror8};
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

/// `mul_s8_arm_dsp`: `false` (nothing written) without the DSP targets, when broadcasting, or
/// with input offsets beyond ±255 (module docs).
#[cfg_attr(any(not(target_arch = "arm"), mote_helium), allow(dead_code))]
pub(crate) fn mul_s8(p: &MulS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    Isa::ArmDsp.available() && mul_s8_any_host(p, a, b, output)
}

/// [`mul_s8`] without the availability check (runs on any host, for the tests).
#[cfg_attr(mote_helium, allow(dead_code))]
pub(crate) fn mul_s8_any_host(p: &MulS8Params, a: &[i8], b: &[i8], output: &mut [i8]) -> bool {
    let exact = |o: i32| (-255..=255).contains(&o);
    if !same_shape(&p.shapes, a.len(), b.len(), output.len())
        || p.shapes.op != BinaryOp::Mul
        || !exact(p.input1_offset)
        || !exact(p.input2_offset)
    {
        return false;
    }
    let mo = PreparedMultiplier::new(p.output_multiplier, p.output_shift, p.rounding);
    let (oo, lo, hi) = (p.output_offset, p.act_min, p.act_max);
    let out = |raw: i32| clamp_s8(mo.apply(raw).saturating_add(oo), lo, hi);
    let (o1, o2) = (p.input1_offset as i16, p.input2_offset as i16);
    let (off1, off2) = (pair(o1, o1), pair(o2, o2));
    let word = |v: &[i8]| match *v {
        [b0, b1, b2, b3] => u32::from_le_bytes([b0 as u8, b1 as u8, b2 as u8, b3 as u8]),
        _ => 0,
    };
    let mut oc = output.chunks_exact_mut(4);
    let mut ac = a.chunks_exact(4);
    let mut bc = b.chunks_exact(4);
    for ((o, x), y) in (&mut oc).zip(&mut ac).zip(&mut bc) {
        let (xw, yw) = (word(x), word(y));
        let (x02, x13) = (sadd16(sxtb16(xw), off1), sadd16(sxtb16_ror8(xw), off1));
        let (y02, y13) = (sadd16(sxtb16(yw), off2), sadd16(sxtb16_ror8(yw), off2));
        if let [r0, r1, r2, r3] = o {
            *r0 = out(smlabb(x02, y02, 0));
            *r1 = out(smlabb(x13, y13, 0));
            *r2 = out(smlatt(x02, y02, 0));
            *r3 = out(smlatt(x13, y13, 0));
        }
    }
    let tail = oc.into_remainder().iter_mut();
    for ((o, &x), &y) in tail.zip(ac.remainder()).zip(bc.remainder()) {
        let xv = p.input1_offset.wrapping_add(i32::from(x));
        let yv = p.input2_offset.wrapping_add(i32::from(y));
        *o = out(xv.wrapping_mul(yv));
    }
    true
}
