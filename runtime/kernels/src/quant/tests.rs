extern crate std;

use std::vec::Vec;

use fixed::types::{I1F31, I2F62, I32F32};
use proptest::prelude::*;

use super::{
    multiply_by_quantized_multiplier as mbqm, quantize_multiplier, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul as srdhm, Rounding,
};
use crate::ops::test_util::{mbqm_oracle, Rng};

/// Edge inputs: the i32 extremes, powers of two and their neighbours, small values.
fn edge_xs() -> Vec<i32> {
    let mut v = std::vec![
        i32::MIN,
        i32::MIN + 1,
        i32::MAX,
        i32::MAX - 1,
        -(1 << 30),
        1 << 30,
        (1 << 30) - 1,
        -(1 << 30) + 1,
        -65536,
        65535,
        -12345,
        98765,
        -3,
        -2,
        -1,
        0,
        1,
        2,
        3,
    ];
    let mut rng = Rng::new(7);
    v.extend((0..24).map(|_| rng.next_u64() as i32));
    v.extend((0..24).map(|_| (rng.next_u64() as i32) >> 12));
    v
}

/// Edge multipliers: the ends of `[2^30, 2^31)` and their neighbours, plus a few others.
fn edge_multipliers() -> Vec<i32> {
    let mut v = std::vec![
        1 << 30,
        (1 << 30) + 1,
        i32::MAX,
        i32::MAX - 1,
        1_518_500_250,
        1_717_986_918,
    ];
    let mut rng = Rng::new(11);
    v.extend((0..8).map(|_| (1 << 30) + (rng.next_u64() % (1 << 30)) as i32));
    v
}

/// `x · 2^shift` fits in i32 (TFLite's domain for the double-rounding left shift).
fn left_shift_fits(x: i32, shift: i32) -> bool {
    shift <= 0 || {
        let v = (x as i64) << shift.min(40);
        v >= i32::MIN as i64 && v <= i32::MAX as i64
    }
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul` through the `fixed` crate: the exact Q2.62
/// product of two Q1.31 values, plus half an ulp of Q1.31, converted back (fixed-to-fixed
/// conversion rounds toward −∞), saturating.
fn srdhm_fixed(a: i32, b: i32) -> i32 {
    let p: I2F62 = I1F31::from_bits(a).wide_mul(I1F31::from_bits(b));
    let half_ulp = I2F62::from_bits(1 << 30);
    p.saturating_add(half_ulp)
        .saturating_to_num::<I1F31>()
        .to_bits()
}

/// gemmlowp's `RoundingDivideByPOT` through `fixed`: `x / 2^e` as an I32F32 (exact for
/// `e ≤ 31`), rounded by `fixed`'s `round` (ties away from zero).
fn rdbpot_fixed(x: i32, e: u32) -> i32 {
    I32F32::from_bits((x as i64) << (32 - e))
        .round()
        .to_num::<i32>()
}

#[test]
fn srdhm_matches_fixed_crate_and_saturates() {
    for &a in &edge_xs() {
        for &b in edge_xs().iter().chain(&edge_multipliers()) {
            assert_eq!(srdhm(a, b), srdhm_fixed(a, b), "srdhm({a}, {b})");
        }
    }
    assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
    // Ties round up (toward +inf): ±0.5 ulp.
    assert_eq!(srdhm(1, 1 << 30), 1); // 0.5 -> 1
    assert_eq!(srdhm(-1, 1 << 30), 0); // -0.5 -> 0
    assert_eq!(srdhm(-3, 1 << 30), -1); // -1.5 -> -1
}

#[test]
fn rounding_divide_by_pot_matches_fixed_crate() {
    for &x in &edge_xs() {
        for e in 0..=31u32 {
            assert_eq!(
                rounding_divide_by_pot(x, e as i32),
                rdbpot_fixed(x, e),
                "rdbpot({x}, {e})"
            );
        }
        // Past gemmlowp's range the rule continues: only -2^31 / 2^32 = -0.5 rounds to -1.
        for e in [32, 33, 40, 62, 63, 64, 1000, i32::MAX] {
            let expected = if x == i32::MIN && e == 32 { -1 } else { 0 };
            assert_eq!(rounding_divide_by_pot(x, e), expected, "rdbpot({x}, {e})");
        }
    }
    // Ties away from zero.
    assert_eq!(rounding_divide_by_pot(5, 1), 3);
    assert_eq!(rounding_divide_by_pot(-5, 1), -3);
    assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5
    assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25
}

#[test]
fn double_rounding_matches_oracles_on_edges() {
    for &x in &edge_xs() {
        for &m in &edge_multipliers() {
            for shift in -31..=30 {
                let got = mbqm(x, m, shift, Rounding::Double);
                assert_eq!(
                    got,
                    mbqm_oracle(x, m, shift, Rounding::Double),
                    "double x={x} m={m} shift={shift}"
                );
                if left_shift_fits(x, shift) {
                    // gemmlowp's composition, with both halves from the `fixed` crate.
                    let ls = shift.max(0);
                    let rs = (-shift).max(0) as u32;
                    let expected = rdbpot_fixed(srdhm_fixed(x << ls, m), rs);
                    assert_eq!(got, expected, "double/fixed x={x} m={m} shift={shift}");
                }
            }
        }
    }
}

#[test]
fn single_rounding_matches_oracle_on_edges() {
    for &x in &edge_xs() {
        for &m in edge_multipliers().iter().chain(&[0, 1, 1 << 16]) {
            for shift in -31..=30 {
                assert_eq!(
                    mbqm(x, m, shift, Rounding::Single),
                    mbqm_oracle(x, m, shift, Rounding::Single),
                    "single x={x} m={m} shift={shift}"
                );
            }
        }
    }
}

#[test]
fn out_of_range_arguments_follow_the_rule_and_saturate() {
    // Shifts beyond TFLite's range, and left shifts whose x·2^shift overflows: the documented
    // extension (the same rule on the exact product, saturated) is the oracle's formula.
    for &x in &edge_xs() {
        for &m in &[i32::MAX, 1 << 30, -(1 << 30), i32::MIN, 0] {
            for shift in [
                -200,
                -64,
                -63,
                -62,
                -33,
                -32,
                31,
                32,
                40,
                63,
                64,
                65,
                200,
                i32::MIN,
                i32::MAX,
            ]
            .iter()
            .copied()
            .chain(1..=30)
            {
                for rounding in [Rounding::Double, Rounding::Single] {
                    assert_eq!(
                        mbqm(x, m, shift, rounding),
                        mbqm_oracle(x, m, shift, rounding),
                        "{rounding:?} x={x} m={m} shift={shift}"
                    );
                }
            }
        }
    }
    assert_eq!(mbqm(i32::MAX, i32::MAX, 30, Rounding::Single), i32::MAX);
    assert_eq!(mbqm(i32::MIN, i32::MAX, 30, Rounding::Double), i32::MIN);
}

#[test]
fn by_hand() {
    // 0.5 exactly: (2^30, 0).
    assert_eq!(mbqm(100, 1 << 30, 0, Rounding::Double), 50);
    assert_eq!(mbqm(101, 1 << 30, 0, Rounding::Double), 51); // 50.5 -> 51
    assert_eq!(mbqm(-101, 1 << 30, 0, Rounding::Double), -50); // SRDHM rounds -50.5 up
    assert_eq!(mbqm(-101, 1 << 30, 0, Rounding::Single), -50);
    // 0.25 = (2^30, -1): the two roundings differ on x = -2 (-0.5) and x = -6 (-1.5):
    // double: SRDHM(-2, 2^30) = -1 (-1 exactly), then -1/2 rounds away from zero to -1;
    // single: (-2^31 + 2^31) >> 32 = 0. LiteRT 2.3.0's BUILTIN_REF int8 CONV_2D (input scale 1,
    // weight 1, output scale 4, zero points 0) returns -1 for x = -2 and -2 for x = -6: double.
    assert_eq!(mbqm(-2, 1 << 30, -1, Rounding::Double), -1);
    assert_eq!(mbqm(-2, 1 << 30, -1, Rounding::Single), 0);
    assert_eq!(mbqm(-6, 1 << 30, -1, Rounding::Double), -2);
    assert_eq!(mbqm(-6, 1 << 30, -1, Rounding::Single), -1);
    // Left shift: 3 · 0.5 · 2^4 = 24.
    assert_eq!(mbqm(3, 1 << 30, 4, Rounding::Double), 24);
    assert_eq!(mbqm(3, 1 << 30, 4, Rounding::Single), 24);
    // Largest multiplier, right shift 31: 2^31-1 · (2^31-1) / 2^62 ≈ 1 - 2^-30 -> 1.
    assert_eq!(mbqm(i32::MAX, i32::MAX, -31, Rounding::Double), 1);
    assert_eq!(mbqm(i32::MAX, i32::MAX, -31, Rounding::Single), 1);
}

#[test]
fn single_and_double_differ_by_at_most_one() {
    let mut rng = Rng::new(3);
    for _ in 0..crate::ops::test_util::iterations(20_000) {
        let x = (rng.next_u64() as i32) >> (rng.next_u64() % 31);
        let m = (1 << 30) + (rng.next_u64() % (1 << 30)) as i32;
        let shift = -((rng.next_u64() % 32) as i32);
        let d = mbqm(x, m, shift, Rounding::Double) as i64;
        let s = mbqm(x, m, shift, Rounding::Single) as i64;
        assert!((d - s).abs() <= 1, "x={x} m={m} shift={shift}: {d} vs {s}");
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(4096))]

    #[test]
    fn mbqm_matches_oracle(
        x in any::<i32>(),
        m in (1i32 << 30)..=i32::MAX,
        shift in -31i32..=30,
        single in any::<bool>(),
    ) {
        let rounding = if single { Rounding::Single } else { Rounding::Double };
        prop_assert_eq!(mbqm(x, m, shift, rounding), mbqm_oracle(x, m, shift, rounding));
    }
}

// ----------------------------------------------------------------------------- quantize_multiplier

/// `multiplier · 2^(shift − 31)` as f64 (exact).
fn value(m: i32, shift: i32) -> f64 {
    m as f64 * libm::pow(2.0, (shift - 31) as f64)
}

#[test]
fn quantize_multiplier_specific_values() {
    // Each expectation follows TFLite's QuantizeMultiplier step by step (frexp, round half
    // away from zero of q·2^31, fix-up at 2^31, flush below shift -31).
    assert_eq!(quantize_multiplier(0.0), (0, 0));
    assert_eq!(quantize_multiplier(-0.0), (0, 0));
    assert_eq!(quantize_multiplier(0.5), (1 << 30, 0)); // frexp = (0.5, 0)
    assert_eq!(quantize_multiplier(1.0), (1 << 30, 1)); // frexp = (0.5, 1)
    assert_eq!(quantize_multiplier(0.25), (1 << 30, -1));
    assert_eq!(quantize_multiplier(0.75), (3 << 29, 0));
    assert_eq!(quantize_multiplier(1024.0), (1 << 30, 11));
    assert_eq!(quantize_multiplier(libm::pow(2.0, 40.0)), (1 << 30, 41));
    // Smallest kept exponent: 2^-32 = 0.5 · 2^-31.
    assert_eq!(quantize_multiplier(libm::pow(2.0, -32.0)), (1 << 30, -31));
    // 2^-33 = 0.5 · 2^-32: shift -32 < -31, flushed to zero.
    assert_eq!(quantize_multiplier(libm::pow(2.0, -33.0)), (0, 0));
    assert_eq!(quantize_multiplier(1e-310), (0, 0)); // subnormal
                                                     // q·2^31 = 2^31 - 2^-9 rounds to 2^31: fixed up to (2^30, shift + 1).
    assert_eq!(
        quantize_multiplier(1.0 - libm::pow(2.0, -40.0)),
        (1 << 30, 1)
    );
    // A tie: q·2^31 = 2^30 + 0.5 rounds away from zero to 2^30 + 1 (ties-to-even would give
    // 2^30).
    assert_eq!(
        quantize_multiplier(0.5 + libm::pow(2.0, -32.0)),
        ((1 << 30) + 1, 0)
    );
    // 0.1 = 0.8 · 2^-3; 0.8 · 2^31 = 1717986918.4 -> 1717986918.
    assert_eq!(quantize_multiplier(0.1), (1_717_986_918, -3));
    // 1/3 = 0.666.. · 2^-1; · 2^31 = 1431655765.33 -> 1431655765.
    assert_eq!(quantize_multiplier(1.0 / 3.0), (1_431_655_765, -1));
    // Negative reals keep their sign, as in TFLite; -q·2^31 can reach -2^31, which TFLite's
    // fix-up (q_fixed == 2^31) does not touch.
    assert_eq!(quantize_multiplier(-0.5), (-(1 << 30), 0));
    assert_eq!(
        quantize_multiplier(-(1.0 - libm::pow(2.0, -40.0))),
        (i32::MIN, 0)
    );
    // Undefined in TFLite: non-finite inputs give zero.
    assert_eq!(quantize_multiplier(f64::NAN), (0, 0));
    assert_eq!(quantize_multiplier(f64::INFINITY), (0, 0));
    assert_eq!(quantize_multiplier(f64::NEG_INFINITY), (0, 0));
}

#[test]
fn quantize_multiplier_round_trips() {
    let mut rng = Rng::new(99);
    for i in 0..crate::ops::test_util::iterations(50_000) {
        // Log-uniform over [2^-31, 2^30].
        let e = -31.0 + 61.0 * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let real = libm::pow(2.0, e);
        let (m, shift) = quantize_multiplier(real);
        assert!((1 << 30..=i32::MAX).contains(&m), "#{i} real={real}: m={m}");
        // Rounding to 31 bits: off by at most half a unit of the multiplier, i.e. 2^-31
        // relative (2^-31 of the multiplier's lower bound 2^30 = 2^-32 of 2^31).
        let err = (value(m, shift) - real).abs();
        assert!(
            err <= libm::pow(2.0, (shift - 32) as f64),
            "#{i} real={real}: ({m}, {shift})"
        );
        assert!(err / real <= libm::pow(2.0, -31.0), "#{i} real={real}");
        // And it is the nearest such multiplier: m ± 1 are no better.
        for n in [m - 1, m.saturating_add(1)] {
            if (1 << 30..=i32::MAX).contains(&n) {
                assert!(
                    (value(n, shift) - real).abs() >= err,
                    "#{i} real={real}: {n} closer"
                );
            }
        }
    }
}

#[test]
fn quantize_multiplier_agrees_with_fixed_crate() {
    // The `fixed` crate converts q (in [0.5, 1)) to Q1.31 rounding to nearest, ties to even;
    // away from ties (which no random double hits) that is TFLite's round(q · 2^31).
    let mut rng = Rng::new(5);
    for _ in 0..crate::ops::test_util::iterations(20_000) {
        let q = 0.5 + 0.5 * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let shift = (rng.next_u64() % 40) as i32 - 31;
        let real = q * libm::pow(2.0, shift as f64);
        let scaled = q * 2_147_483_648.0; // exact
        if scaled - libm::floor(scaled) == 0.5 {
            continue; // a tie: the two rounding rules differ by design
        }
        let expected = I1F31::saturating_from_num(q).to_bits();
        let (m, s) = quantize_multiplier(real);
        if scaled >= 2_147_483_647.5 {
            // q rounds up to 1.0: TFLite's fix-up.
            assert_eq!((m, s), (1 << 30, shift + 1), "q={q}");
        } else {
            assert_eq!((m, s), (expected, shift), "q={q} shift={shift}");
        }
    }
}

/// The inlined common-range paths give exactly the general functions' results.
#[test]
fn common_paths_equal_the_general_ones() {
    let mut rng = Rng::new(0xc0ffee);
    let mut ms: Vec<i32> = std::vec![
        i32::MIN,
        i32::MIN + 1,
        i32::MAX,
        1 << 30,
        -(1 << 30),
        0,
        1,
        -1
    ];
    ms.extend((0..40).map(|_| rng.next_u64() as u32 as i32));
    for x in edge_xs() {
        for &m in &ms {
            for shift in -40..=40 {
                if let Some(v) = super::mbqm_double_common(x, m, shift) {
                    assert_eq!(
                        v,
                        super::mbqm_double(x, m, shift),
                        "double x={x} m={m} shift={shift}"
                    );
                }
                if let Some(v) = super::mbqm_single_common(x, m, shift) {
                    assert_eq!(
                        v,
                        super::mbqm_single(x, m, shift),
                        "single x={x} m={m} shift={shift}"
                    );
                }
            }
        }
    }
}

/// `PreparedMultiplier::apply` equals `multiply_by_quantized_multiplier` for every parameter.
#[test]
fn prepared_multiplier_equals_the_function() {
    let mut rng = Rng::new(0xbeef);
    let mut ms: Vec<i32> = std::vec![
        i32::MIN,
        i32::MIN + 1,
        i32::MAX,
        1 << 30,
        -(1 << 30),
        0,
        1,
        -1
    ];
    ms.extend((0..crate::ops::test_util::iterations(40)).map(|_| rng.next_u64() as u32 as i32));
    let mut xs = edge_xs();
    xs.extend((0..crate::ops::test_util::iterations(200)).map(|_| rng.next_u64() as u32 as i32));
    for rounding in [Rounding::Double, Rounding::Single] {
        for &m in &ms {
            for shift in -40..=35 {
                let p = super::PreparedMultiplier::new(m, shift, rounding);
                for &x in &xs {
                    assert_eq!(
                        p.apply(x),
                        mbqm(x, m, shift, rounding),
                        "x={x} m={m} shift={shift} {rounding:?}"
                    );
                }
            }
        }
    }
}

const C: i32 = super::SCALE_BOUND;

/// Scales for `PreparedScale`: LiteRT-style effective scales (f32 scales, multiplied then
/// divided in double), both ends of the integer path and its neighbours outside, and others.
fn prepared_scales(rng: &mut Rng) -> Vec<f64> {
    let up = |x: f64| f64::from_bits(x.to_bits() + 1);
    let down = |x: f64| f64::from_bits(x.to_bits() - 1);
    let lo = 2f64.powi(-43);
    let hi = 2f64.powi(20);
    let mut v = std::vec![
        lo,
        up(lo),
        down(lo),
        hi,
        down(hi),
        up(hi),
        1.0,
        0.5,
        down(1.0),
        up(0.5),
        0.25,
        1.5,
        -0.37,
        -lo,
        -down(hi),
        0.0,
        -0.0,
        f64::MIN_POSITIVE,
        5e-324,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        3.0e-3,
        0.0123456789,
    ];
    for _ in 0..crate::ops::test_util::iterations(120) {
        let f = |rng: &mut Rng, e: i32| {
            let m = 1.0 + (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
            m * 2f32.powi(e)
        };
        let (ei, ew, eo) = (
            -8 + rng.below(8) as i32,
            -10 + rng.below(6) as i32,
            -7 + rng.below(8) as i32,
        );
        let (si, sw, so) = (f(rng, ei), f(rng, ew), f(rng, eo));
        v.push(f64::from(si) * f64::from(sw) / f64::from(so));
    }
    // Random doubles across the integer path's exponents.
    for _ in 0..crate::ops::test_util::iterations(60) {
        let e = 980 + rng.below(63);
        v.push(f64::from_bits((e << 52) | (rng.next_u64() >> 12)));
    }
    v
}

/// Accumulators whose product with `scale` lies within a few units in the last place of a tie
/// `k + ½` (where the double product's own rounding decides `round`), plus random and edge ones.
fn prepared_scale_accs(rng: &mut Rng, scale: f64) -> Vec<i32> {
    let mut v = edge_xs();
    v.extend((0..64).map(|_| rng.next_u64() as i32));
    v.extend((0..64).map(|_| (rng.next_u64() as i32) >> (rng.below(31) as u32)));
    if scale.is_finite() && scale != 0.0 {
        for _ in 0..crate::ops::test_util::iterations(64) {
            // acc ≈ (k + ½) / scale for a k in the int8 range and beyond.
            let k = rng.below(600) as f64 - 300.0;
            let a = ((k + 0.5) / scale).round();
            if a.abs() < 2.0e9 {
                for d in -2..=2 {
                    v.push(a as i32 + d);
                }
            }
        }
    }
    v
}

/// `PreparedScale::apply` equals the double expression on random, near-tie and edge inputs,
/// and on scales built to make the double product land exactly on a tie or next to one.
#[test]
fn prepared_scale_equals_the_double_expression() {
    let mut rng = Rng::new(0x5ca1e);
    for scale in prepared_scales(&mut rng) {
        let p = super::PreparedScale::new(scale);
        for acc in prepared_scale_accs(&mut rng, scale) {
            assert_eq!(
                p.apply_bounded(acc).clamp(-C, C),
                p.apply_double(acc).clamp(-C, C),
                "acc={acc} scale={scale:e}"
            );
        }
    }
    // Scales around (k + ½) / acc: the double product of acc is a tie, or 1-3 ulps from one.
    let mut hits = 0;
    for _ in 0..crate::ops::test_util::iterations(20_000) {
        let acc = ((rng.next_u64() as i32) >> (rng.below(28) as u32)).max(3);
        let k = rng.below(256) as f64;
        let base = (k + 0.5) / f64::from(acc);
        for d in -3i64..=3 {
            let scale = f64::from_bits((base.to_bits() as i64 + d) as u64);
            let p = super::PreparedScale::new(scale);
            for a in [acc, -acc, acc - 1, acc.wrapping_add(1)] {
                let exact = f64::from(a) * scale;
                hits += usize::from(exact.fract().abs() == 0.5);
                assert_eq!(
                    p.apply_bounded(a).clamp(-C, C),
                    p.apply_double(a).clamp(-C, C),
                    "acc={a} scale={scale:e}"
                );
            }
        }
    }
    // About 1 in 15 of the scales lands on a tie: over 1000 in the full run, a few in the 3
    // iterations of a Miri run.
    let min_hits = if cfg!(miri) { 1 } else { 1000 };
    assert!(hits >= min_hits, "too few exact ties exercised: {hits}");
}

/// Exhaustive over a range of accumulators for a few scales (an int8 layer's accumulators lie
/// well inside ±2^22).
#[test]
#[cfg_attr(
    miri,
    ignore = "59 M evaluations of safe integer code (quant has no `unsafe`): days under Miri"
)]
fn prepared_scale_exhaustive_on_a_range() {
    let scales = [
        0.0123456789f64,
        1.0 / 3.0,
        2f64.powi(-43),
        0.003_921_568_627_450_98,
        0.75,
        2f64.powi(-10) * 1.000_000_1,
        1.0 / 256.0,
    ];
    for scale in scales {
        let p = super::PreparedScale::new(scale);
        for acc in -(1i32 << 22)..=(1 << 22) {
            assert_eq!(
                p.apply_bounded(acc).clamp(-C, C),
                p.apply_double(acc).clamp(-C, C),
                "acc={acc} scale={scale:e}"
            );
        }
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(4096))]

    /// `PreparedScale::apply` equals the double expression for any accumulator and any double.
    #[test]
    fn prepared_scale_matches_double(acc in any::<i32>(), bits in any::<u64>(), e in 960u64..1060) {
        for scale in [f64::from_bits(bits), f64::from_bits((bits & !(0x7ffu64 << 52)) | (e << 52))] {
            let p = super::PreparedScale::new(scale);
            prop_assert_eq!(p.apply_bounded(acc).clamp(-C, C), p.apply_double(acc).clamp(-C, C), "acc={} scale={:e}", acc, scale);
        }
    }
}

/// [`Rounding::Float`] against the oracle (exact product in f64, one rounding to f32, then half
/// to even) on edge accumulators, random ones, and scales of every kind: ties (powers of two),
/// products past i32 (saturation), tiny ones.
#[test]
fn float_rounding_matches_oracle() {
    let mut rng = Rng::new(7);
    let mut scales: Vec<i32> = (0..2000)
        .map(|_| crate::ops::test_util::float_scale_bits(&mut rng))
        .collect();
    scales.extend([0.5f32, 0.25, 1.0, 3.0e9, 1.0e-3].map(|s| s.to_bits() as i32));
    let mut xs = edge_xs();
    xs.extend((0..200).map(|_| rng.int(-1 << 20, 1 << 20) as i32));
    for &m in &scales {
        for &x in &xs {
            assert_eq!(
                mbqm(x, m, 0, Rounding::Float),
                mbqm_oracle(x, m, 0, Rounding::Float),
                "x {x} scale {}",
                f32::from_bits(m as u32)
            );
        }
    }
    // Ties go to even: 2.5 → 2, 3.5 → 4, −2.5 → −2.
    let half = 0.5f32.to_bits() as i32;
    assert_eq!(mbqm(5, half, 0, Rounding::Float), 2);
    assert_eq!(mbqm(7, half, 0, Rounding::Float), 4);
    assert_eq!(mbqm(-5, half, 0, Rounding::Float), -2);
    // Saturation, and the shift is not used.
    let big = 3.0e9f32.to_bits() as i32;
    assert_eq!(mbqm(1, big, 0, Rounding::Float), i32::MAX);
    assert_eq!(mbqm(-1, big, 0, Rounding::Float), i32::MIN);
    assert_eq!(mbqm(5, half, -7, Rounding::Float), 2);
}
