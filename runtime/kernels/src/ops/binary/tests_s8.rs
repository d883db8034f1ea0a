extern crate std;

use std::vec;
use std::vec::Vec;

use super::{add_s8, mul_s8, AddS8Params, BinaryOp, BinaryParams, MulS8Params};
use crate::ops::test_util::{assert_s8_eq, i8s, mbqm_oracle, Rng};
use crate::ops::tflite_vectors::{BinaryCase, BINARY};
use crate::quant::{quantize_multiplier, Rounding};
use crate::{Activation, Shape};

fn shapes(op: BinaryOp, a: &[usize], b: &[usize], out: &[usize]) -> BinaryParams {
    BinaryParams {
        op,
        a: Shape::new(a),
        b: Shape::new(b),
        out: Shape::new(out),
        activation: Activation::None,
    }
}

/// LiteRT's int8 Add/Sub Prepare (`left_shift` 20): `twice_max = 2 · max(s1, s2)` (in f32),
/// input multipliers `s_i / twice_max`, output multiplier `twice_max / (2^20 · s_out)`, each
/// through `QuantizeMultiplierSmallerThanOneExp`.
#[allow(clippy::too_many_arguments)]
fn add_params(
    shapes: BinaryParams,
    (s1, z1): (f32, i32),
    (s2, z2): (f32, i32),
    (so, zo): (f32, i32),
    (act_min, act_max): (i32, i32),
) -> AddS8Params {
    let left_shift = 20;
    let twice_max = f64::from(2.0 * s1.max(s2));
    let (m1, sh1) = quantize_multiplier(f64::from(s1) / twice_max);
    let (m2, sh2) = quantize_multiplier(f64::from(s2) / twice_max);
    let (mo, sho) = quantize_multiplier(twice_max / f64::from((1 << left_shift) as f32 * so));
    AddS8Params {
        shapes,
        input1_offset: -z1,
        input2_offset: -z2,
        output_offset: zo,
        left_shift,
        input1_multiplier: m1,
        input1_shift: sh1,
        input2_multiplier: m2,
        input2_shift: sh2,
        output_multiplier: mo,
        output_shift: sho,
        act_min,
        act_max,
        rounding: Rounding::Double,
    }
}

/// LiteRT's int8 Mul Prepare: `QuantizeMultiplier(s1 · s2 / s_out)` with the product and
/// quotient evaluated in f32 (`input1->params.scale * input2->params.scale /
/// output->params.scale` on floats), then widened.
fn mul_params(
    shapes: BinaryParams,
    (s1, z1): (f32, i32),
    (s2, z2): (f32, i32),
    (so, zo): (f32, i32),
    (act_min, act_max): (i32, i32),
) -> MulS8Params {
    let (m, s) = quantize_multiplier(f64::from(s1 * s2 / so));
    MulS8Params {
        shapes,
        input1_offset: -z1,
        input2_offset: -z2,
        output_offset: zo,
        output_multiplier: m,
        output_shift: s,
        act_min,
        act_max,
        rounding: Rounding::Double,
    }
}

fn run_case(c: &BinaryCase) -> Vec<i8> {
    let op = match c.op {
        "add" => BinaryOp::Add,
        "sub" => BinaryOp::Sub,
        _ => BinaryOp::Mul,
    };
    let sh = shapes(op, c.a_shape, c.b_shape, c.out_shape);
    let q = (
        (c.a_scale, c.a_zero_point),
        (c.b_scale, c.b_zero_point),
        (c.output_scale, c.output_zero_point),
        (c.act_min, c.act_max),
    );
    let mut y = vec![0x55i8; sh.out.elements()];
    if op == BinaryOp::Mul {
        mul_s8(&mul_params(sh, q.0, q.1, q.2, q.3), c.a, c.b, &mut y);
    } else {
        add_s8(&add_params(sh, q.0, q.1, q.2, q.3), c.a, c.b, &mut y);
    }
    y
}

/// Includes three Mul cases (the last ones) whose inputs were chosen by the generator to tell
/// an f32 from an f64 evaluation of the real multiplier: they fail if `mul_params` computes
/// `s1 · s2 / s_out` in f64.
#[test]
fn matches_litert_reference_add_sub_mul() {
    for (i, c) in BINARY.iter().enumerate() {
        assert_s8_eq(
            &run_case(c),
            c.expected,
            &std::format!("case {i} ({})", c.op),
        );
    }
}

#[test]
fn add_and_sub_by_hand() {
    // Same scale 1 everywhere: real multipliers 1/2, 1/2 and 2 / 2^20.
    let sh = shapes(BinaryOp::Add, &[4], &[4], &[4]);
    let p = add_params(sh, (1.0, 0), (1.0, 0), (1.0, 0), (-128, 127));
    assert_eq!((p.input1_multiplier, p.input1_shift), (1 << 30, 0));
    assert_eq!((p.output_multiplier, p.output_shift), (1 << 30, -18));
    let mut y = [0i8; 4];
    add_s8(&p, &[1, -5, 100, -100], &[2, 3, 100, -100], &mut y);
    assert_eq!(y, [3, -2, 127, -128]);
    let p = AddS8Params {
        shapes: BinaryParams {
            op: BinaryOp::Sub,
            ..sh
        },
        ..p
    };
    add_s8(&p, &[1, -5, 100, -100], &[2, 3, -100, 100], &mut y);
    assert_eq!(y, [-1, -8, 127, -128]);
}

#[test]
fn mul_by_hand_with_broadcast() {
    // [2, 2] · [2, 1] with zero points 1 and -1, output scale such that the real multiplier is
    // 1/4 = (2^30, -1): (a - 1)(b + 1) / 4.
    let sh = shapes(BinaryOp::Mul, &[2, 2], &[2, 1], &[2, 2]);
    let p = mul_params(sh, (1.0, 1), (1.0, -1), (4.0, 0), (-128, 127));
    assert_eq!((p.output_multiplier, p.output_shift), (1 << 30, -1));
    let mut y = [0i8; 4];
    mul_s8(&p, &[3, 5, -1, 1], &[3, -3], &mut y);
    // (2·4, 4·4, −2·−2, 0·−2) / 4 = (2, 4, 1, 0)
    assert_eq!(y, [2, 4, 1, 0]);
}

/// Naive twin for Add/Sub/Mul with explicit multi-index broadcasting (4-D, numpy rule).
fn naive(
    p_add: Option<&AddS8Params>,
    p_mul: Option<&MulS8Params>,
    sh: &BinaryParams,
    a: &[i8],
    b: &[i8],
) -> Vec<i8> {
    let out: Vec<usize> = sh.out.as_slice().to_vec();
    let total: usize = out.iter().product();
    let index = |shape: &Shape, idx: &[usize]| -> usize {
        let mut off = 0;
        for (ax, &i) in idx.iter().enumerate() {
            let d = shape.dims[ax];
            off = off * d + if d == 1 { 0 } else { i };
        }
        off
    };
    let mut y = Vec::with_capacity(total);
    for flat in 0..total {
        let mut idx = vec![0usize; out.len()];
        let mut rem = flat;
        for ax in (0..out.len()).rev() {
            idx[ax] = rem % out[ax];
            rem /= out[ax];
        }
        let x1 = a[index(&sh.a, &idx)] as i32;
        let x2 = b[index(&sh.b, &idx)] as i32;
        let v = if let Some(p) = p_add {
            let r = p.rounding;
            let s1 = mbqm_oracle(
                (x1 + p.input1_offset) << p.left_shift,
                p.input1_multiplier,
                p.input1_shift,
                r,
            );
            let s2 = mbqm_oracle(
                (x2 + p.input2_offset) << p.left_shift,
                p.input2_multiplier,
                p.input2_shift,
                r,
            );
            let raw = if sh.op == BinaryOp::Sub {
                s1 - s2
            } else {
                s1 + s2
            };
            let o = mbqm_oracle(raw, p.output_multiplier, p.output_shift, r) + p.output_offset;
            o.max(p.act_min).min(p.act_max)
        } else if let Some(p) = p_mul {
            let prod = (x1 + p.input1_offset) * (x2 + p.input2_offset);
            let o = mbqm_oracle(prod, p.output_multiplier, p.output_shift, p.rounding)
                + p.output_offset;
            o.max(p.act_min).min(p.act_max)
        } else {
            0
        };
        y.push(v.clamp(-128, 127) as i8);
    }
    y
}

#[test]
fn random_broadcasts_match_naive_twin() {
    let mut rng = Rng::new(42);
    for case in 0..crate::ops::test_util::iterations(300) {
        let rank = 1 + (rng.next_u64() % 4) as usize;
        let out: Vec<usize> = (0..rank)
            .map(|_| 1 + (rng.next_u64() % 5) as usize)
            .collect();
        let a: Vec<usize> = out
            .iter()
            .map(|&d| if rng.below(3) == 0 { 1 } else { d })
            .collect();
        let b: Vec<usize> = out
            .iter()
            .map(|&d| if rng.below(3) == 0 { 1 } else { d })
            .collect();
        let op = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul][case % 3];
        let sh = shapes(op, &a, &b, &out);
        let xa = i8s(&mut rng, sh.a.elements(), -128, 127);
        let xb = i8s(&mut rng, sh.b.elements(), -128, 127);
        let sc = |rng: &mut Rng| 0.005 + 0.5 * (rng.next_u64() % 1000) as f32 / 1000.0;
        let zp = |rng: &mut Rng| rng.int(-128, 127) as i32;
        let q1 = (sc(&mut rng), zp(&mut rng));
        let q2 = (sc(&mut rng), zp(&mut rng));
        let qo = (
            sc(&mut rng) * if op == BinaryOp::Mul { 20.0 } else { 1.0 },
            zp(&mut rng),
        );
        let act = (rng.int(-128, -20) as i32, rng.int(20, 127) as i32);
        let rounding = if case % 2 == 0 {
            Rounding::Double
        } else {
            Rounding::Single
        };
        let mut y = vec![0i8; sh.out.elements()];
        let want = if op == BinaryOp::Mul {
            let p = MulS8Params {
                rounding,
                ..mul_params(sh, q1, q2, qo, act)
            };
            mul_s8(&p, &xa, &xb, &mut y);
            naive(None, Some(&p), &sh, &xa, &xb)
        } else {
            let p = AddS8Params {
                rounding,
                ..add_params(sh, q1, q2, qo, act)
            };
            add_s8(&p, &xa, &xb, &mut y);
            naive(Some(&p), None, &sh, &xa, &xb)
        };
        assert_s8_eq(
            &y,
            &want,
            &std::format!("case {case} {op:?} {a:?} {b:?} -> {out:?}"),
        );
    }
}
