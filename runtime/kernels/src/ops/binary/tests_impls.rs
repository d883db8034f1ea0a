//! Every entry of [`ADD_S8_IMPLS`] and [`MUL_S8_IMPLS`] against the reference, bit for bit, on
//! random lengths (tails of 16) and quantization parameters (zero points ±128, negative and
//! extreme multipliers, output shifts that overflow). Unsupported instruction sets print
//! "skipped".
extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::reference_s8::{add_s8_element, add_s8_reference, mul_s8_reference};
use super::{AddS8Params, BinaryOp, BinaryParams, MulS8Params, ADD_S8_IMPLS, MUL_S8_IMPLS};
use crate::ops::test_util::Rng;
use crate::quant::Rounding;
use crate::{Activation, Shape};

fn shapes(rng: &mut Rng, op: BinaryOp) -> (BinaryParams, usize) {
    let dims = [
        1 + rng.below(3) as usize,
        1 + rng.below(9) as usize,
        1 + rng.below(70) as usize,
    ];
    let s = Shape::new(&dims);
    let n = dims.iter().product();
    (
        BinaryParams {
            op,
            a: s,
            b: s,
            out: s,
            activation: Activation::None,
        },
        n,
    )
}

fn mult(rng: &mut Rng) -> i32 {
    match rng.below(6) {
        0 => i32::MAX,
        1 => i32::MIN,
        2 => -(1 << 30) - rng.below(1 << 30) as i32,
        _ => (1 << 30) + rng.below(1 << 30) as i32,
    }
}

fn zp_offset(rng: &mut Rng) -> i32 {
    match rng.below(4) {
        0 => 128,
        1 => -127,
        _ => rng.int(-127, 128) as i32,
    }
}

fn act(rng: &mut Rng) -> (i32, i32) {
    let a = rng.int(-128, 127) as i32;
    let b = rng.int(-128, 127) as i32;
    if rng.below(2) == 0 {
        (-128, 127)
    } else {
        (a.min(b), a.max(b))
    }
}

fn check(seed: u64) -> Result<(), std::string::String> {
    let mut rng = Rng::new(seed);
    let op = if rng.below(2) == 0 {
        BinaryOp::Add
    } else {
        BinaryOp::Sub
    };
    let (shapes_add, n) = shapes(&mut rng, op);
    let a: Vec<i8> = (0..n).map(|_| rng.int(-128, 127) as i8).collect();
    let b: Vec<i8> = (0..n).map(|_| rng.int(-128, 127) as i8).collect();
    let (act_min, act_max) = act(&mut rng);
    let p = AddS8Params {
        shapes: shapes_add,
        input1_offset: zp_offset(&mut rng),
        input2_offset: zp_offset(&mut rng),
        output_offset: rng.int(-128, 127) as i32,
        left_shift: if rng.below(4) == 0 {
            rng.below(23) as i32
        } else {
            20
        },
        input1_multiplier: mult(&mut rng),
        input1_shift: -(rng.below(32) as i32),
        input2_multiplier: mult(&mut rng),
        input2_shift: -(rng.below(32) as i32),
        output_multiplier: mult(&mut rng),
        output_shift: rng.below(40) as i32 - 31 + if rng.below(4) == 0 { 20 } else { 0 },
        act_min,
        act_max,
        rounding: Rounding::Double,
    };
    let p = AddS8Params {
        output_shift: p.output_shift.min(30),
        ..p
    };
    let mut want = vec![0i8; n];
    add_s8_reference(&p, &a, &b, &mut want);
    // The Cortex-M kernel (any host), both roundings.
    for rounding in [Rounding::Double, Rounding::Single] {
        let p = AddS8Params { rounding, ..p };
        let mut want = vec![0i8; n];
        add_s8_reference(&p, &a, &b, &mut want);
        let mut got = vec![0x55i8; n];
        if !super::arm_dsp::add_s8_any_host(&p, &a, &b, &mut got) {
            return Err(std::format!("add_s8_arm_dsp declined {p:?}"));
        }
        if got != want {
            return Err(std::format!("add_s8_arm_dsp: {got:?} != {want:?} ({p:?})"));
        }
        // The Helium kernel (vector code emulated): double rounding with a right-shift output
        // multiplier and int8 clamp bounds, else declined.
        let mut got = vec![0x55i8; n];
        let covered = rounding == Rounding::Double
            && crate::quant::PreparedMultiplier::new(p.output_multiplier, p.output_shift, rounding)
                .is_right_shift()
            && (-128..=127).contains(&p.act_min)
            && (-128..=127).contains(&p.act_max);
        if super::helium::add_s8_any_host(&p, &a, &b, &mut got) != covered {
            return Err(std::format!("add_s8_helium: accepted != {covered} ({p:?})"));
        }
        if covered && got != want {
            return Err(std::format!("add_s8_helium: {got:?} != {want:?} ({p:?})"));
        }
    }
    for imp in ADD_S8_IMPLS {
        if imp.isa.supported_by_host() {
            let mut got = vec![0x55i8; n];
            if !(imp.f)(&p, &a, &b, &mut got) {
                return Err(std::format!("{} declined {p:?}", imp.name));
            }
            if got != want {
                return Err(std::format!("{}: {got:?} != {want:?} ({p:?})", imp.name));
            }
        }
    }
    let (shapes_mul, n) = shapes(&mut rng, BinaryOp::Mul);
    let a: Vec<i8> = (0..n).map(|_| rng.int(-128, 127) as i8).collect();
    let b: Vec<i8> = (0..n).map(|_| rng.int(-128, 127) as i8).collect();
    let (act_min, act_max) = act(&mut rng);
    let q = MulS8Params {
        shapes: shapes_mul,
        input1_offset: zp_offset(&mut rng),
        input2_offset: zp_offset(&mut rng),
        output_offset: rng.int(-128, 127) as i32,
        output_multiplier: mult(&mut rng),
        output_shift: rng.below(50) as i32 - 31,
        act_min,
        act_max,
        rounding: Rounding::Double,
    };
    let mut want = vec![0i8; n];
    mul_s8_reference(&q, &a, &b, &mut want);
    // The Cortex-M kernel (any host), both roundings.
    for rounding in [Rounding::Double, Rounding::Single] {
        let q = MulS8Params { rounding, ..q };
        let mut want = vec![0i8; n];
        mul_s8_reference(&q, &a, &b, &mut want);
        let mut got = vec![0x55i8; n];
        if !super::arm_dsp::mul_s8_any_host(&q, &a, &b, &mut got) {
            return Err(std::format!("mul_s8_arm_dsp declined {q:?}"));
        }
        if got != want {
            return Err(std::format!("mul_s8_arm_dsp: {got:?} != {want:?} ({q:?})"));
        }
    }
    for imp in MUL_S8_IMPLS {
        if imp.isa.supported_by_host() {
            let mut got = vec![0x55i8; n];
            if !(imp.f)(&q, &a, &b, &mut got) {
                return Err(std::format!("{} declined {q:?}", imp.name));
            }
            if got != want {
                return Err(std::format!("{}: {got:?} != {want:?} ({q:?})", imp.name));
            }
        }
    }
    Ok(())
}

#[test]
fn add_mul_s8_impls_match_reference() {
    for imp in ADD_S8_IMPLS {
        let state = if imp.isa.supported_by_host() {
            "run"
        } else {
            "skipped"
        };
        std::println!("{}: {state}", imp.name);
    }
    for imp in MUL_S8_IMPLS {
        let state = if imp.isa.supported_by_host() {
            "run"
        } else {
            "skipped"
        };
        std::println!("{}: {state}", imp.name);
    }
    for seed in 0..crate::ops::test_util::iterations(1000) {
        let r = check(seed);
        assert!(r.is_ok(), "seed {seed}: {r:?}");
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(300))]
    #[test]
    fn add_mul_s8_impls_match_reference_prop(seed in any::<u64>()) {
        let r = check(seed);
        prop_assert!(r.is_ok(), "{:?}", r);
    }
}

/// Every pair of input bytes through every variant against the reference (itself checked
/// against its element function), for multipliers that make exact ties of both roundings common (below) next to
/// LiteRT-like ones, both ops, with and without ReLU-like clamps.
#[test]
fn add_s8_impls_match_reference_on_every_byte_pair() {
    let all: Vec<(i8, i8)> = (0..=255u8)
        .flat_map(|x| (0..=255u8).map(move |y| (x as i8, y as i8)))
        .collect();
    let (a, b): (Vec<i8>, Vec<i8>) = all.iter().copied().unzip();
    let n = a.len();
    let shape = Shape::new(&[n]);
    let cases = [
        // (m1, s1, m2, s2, mo, so, offsets, clamp)
        (
            1 << 30,
            -1,
            1 << 30,
            0,
            1 << 30,
            -19,
            (128, -128, 0),
            (-128, 127),
        ),
        (
            1 << 30,
            -5,
            1 << 30,
            -3,
            1 << 30,
            -17,
            (3, -7, -5),
            (-128, 127),
        ),
        (
            (1 << 30) + 1,
            0,
            1 << 30,
            -2,
            1 << 30,
            -20,
            (0, 0, 1),
            (-3, 127),
        ),
        (
            1_518_500_250,
            0,
            1_073_741_824,
            -1,
            1_431_655_765,
            -18,
            (17, 23, -9),
            (-128, 127),
        ),
        (
            2_000_000_001,
            -2,
            1_200_000_003,
            0,
            1_700_000_011,
            -21,
            (-100, 90, 12),
            (-20, 100),
        ),
        // `3·2^10`: odd `x + offset` lands exactly on the doubling multiply's tie; the output
        // multiplier `2^30` halves the sum, a tie for every odd sum.
        (3 << 10, 0, 3 << 10, -1, 1 << 30, 0, (0, 0, 0), (-128, 127)),
        (
            3 << 10,
            -1,
            3 << 11,
            -2,
            1 << 30,
            -1,
            (5, -3, 2),
            (-128, 127),
        ),
    ];
    if cfg!(miri) {
        return;
    }
    for &(m1, s1, m2, s2, mo, so, (o1, o2, oo), (lo, hi)) in &cases {
        for op in [BinaryOp::Add, BinaryOp::Sub] {
            let p = AddS8Params {
                shapes: BinaryParams {
                    op,
                    a: shape,
                    b: shape,
                    out: shape,
                    activation: Activation::None,
                },
                input1_offset: o1,
                input2_offset: o2,
                output_offset: oo,
                left_shift: 20,
                input1_multiplier: m1,
                input1_shift: s1,
                input2_multiplier: m2,
                input2_shift: s2,
                output_multiplier: mo,
                output_shift: so,
                act_min: lo,
                act_max: hi,
                rounding: Rounding::Double,
            };
            let mut want = std::vec![0i8; n];
            add_s8_reference(&p, &a, &b, &mut want);
            for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
                assert_eq!(want[i], add_s8_element(&p, x, y), "x={x} y={y}");
            }
            for imp in ADD_S8_IMPLS {
                if !imp.isa.supported_by_host() {
                    std::println!("skipped {}: host lacks {:?}", imp.name, imp.isa);
                    continue;
                }
                let mut out = std::vec![0i8; n];
                assert!(
                    (imp.f)(&p, &a, &b, &mut out),
                    "{} declined {m1} {mo}",
                    imp.name
                );
                for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
                    assert_eq!(out[i], want[i], "{} x={x} y={y} m1={m1} mo={mo}", imp.name);
                }
            }
            // The AVX-512 table kernel's quotient form with fewer fraction bits than its 20:
            // sums near an output boundary, and so its fallback, become common.
            #[cfg(target_arch = "x86_64")]
            for frac_bits in [2, 3, 4, 6, 9, 13, 17, 20, 24] {
                let mut out = std::vec![0i8; n];
                let taken =
                    super::avx512_vnni::add_s8_table_frac_bits(&p, &a, &b, &mut out, frac_bits);
                if taken.is_none() {
                    std::println!("skipped the table kernel: host lacks AVX-512 VBMI");
                    break;
                }
                assert_eq!(taken, Some(true), "{frac_bits} bits declined");
                for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
                    assert_eq!(out[i], want[i], "{frac_bits} bits: x={x} y={y} mo={mo}");
                }
            }
        }
    }
}
