extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::{fully_connected_s8, fully_connected_s8_scaled, FullyConnectedS8Params};
use crate::ops::test_util::{assert_s8_eq, conv_multipliers, i8s, mbqm_oracle, Rng};
use crate::ops::tflite_vectors::{FcCase, FC};
use crate::quant::Rounding;

fn params(rows: usize, depth: usize, units: usize) -> FullyConnectedS8Params {
    FullyConnectedS8Params {
        rows,
        depth,
        units,
        input_offset: 0,
        output_offset: 0,
        act_min: -128,
        act_max: 127,
        rounding: Rounding::Double,
    }
}

#[test]
fn by_hand() {
    // x = [1, 2, 3] with zero point 1 -> [0, 1, 2]; rows of w: [1, 1, 1], [2, -1, 0].
    // acc = [3, -1] + bias [10, -10] = [13, -11]; per channel ×0.5 (2^30, 0) and ×2 (2^30, 2):
    // 6.5 -> 7 (SRDHM rounds half up), -22; output zero point 5 -> [12, -17].
    let p = FullyConnectedS8Params {
        input_offset: -1,
        output_offset: 5,
        ..params(1, 3, 2)
    };
    let mut y = [0i8; 2];
    fully_connected_s8(
        &p,
        &[1, 2, 3],
        &[1, 1, 1, 2, -1, 0],
        Some(&[10, -10]),
        &[1 << 30, 1 << 30],
        &[0, 2],
        &mut y,
    );
    assert_eq!(y, [12, -17]);
    // Per tensor: one multiplier for both.
    fully_connected_s8(
        &p,
        &[1, 2, 3],
        &[1, 1, 1, 2, -1, 0],
        Some(&[10, -10]),
        &[1 << 30],
        &[0],
        &mut y,
    );
    assert_eq!(y, [12, 0]); // -11 · 0.5 = -5.5 -> -5 (half up), + 5
                            // Scaled (LiteRT BUILTIN_REF): round half away from zero: 6.5 -> 7, -5.5 -> -6.
    fully_connected_s8_scaled(
        &p,
        &[1, 2, 3],
        &[1, 1, 1, 2, -1, 0],
        Some(&[10, -10]),
        &[0.5],
        &mut y,
    );
    assert_eq!(y, [12, -1]);
}

#[test]
fn litert_reference_rounds_ties_away_from_zero() {
    // Observed with ai-edge-litert 2.3.0, BUILTIN_REF, int8 FULLY_CONNECTED with input scale 1,
    // weight scale 1, output scale 2, zero points 0, weight [[1]]: input -127 gives -64
    // (round(-63.5) away from zero) where every MultiplyByQuantizedMultiplier gives -63.
    let p = params(1, 1, 1);
    let mut y = [0i8];
    fully_connected_s8_scaled(&p, &[-127], &[1], None, &[0.5], &mut y);
    assert_eq!(y, [-64]);
    fully_connected_s8(&p, &[-127], &[1], None, &[1 << 30], &[0], &mut y);
    assert_eq!(y, [-63]);
}

fn tflite_params(c: &FcCase) -> FullyConnectedS8Params {
    FullyConnectedS8Params {
        rows: c.rows,
        depth: c.depth,
        units: c.units,
        input_offset: -c.input_zero_point,
        output_offset: c.output_zero_point,
        act_min: c.act_min,
        act_max: c.act_max,
        rounding: Rounding::Double,
    }
}

#[test]
fn scaled_matches_litert_reference() {
    for (i, c) in FC.iter().enumerate() {
        let p = tflite_params(c);
        // LiteRT: (double)input_scale * (double)filter_scale / (double)output_scale.
        let scales: Vec<f64> = c
            .weight_scales
            .iter()
            .map(|&w| f64::from(c.input_scale) * f64::from(w) / f64::from(c.output_scale))
            .collect();
        let mut y = vec![0i8; c.rows * c.units];
        fully_connected_s8_scaled(&p, c.input, c.weights, Some(c.bias), &scales, &mut y);
        assert_s8_eq(&y, c.expected, &std::format!("case {i}"));
    }
}

#[test]
fn multiplier_form_is_within_one_of_litert_reference() {
    // The (multiplier, shift) form rounds twice; it may differ from BUILTIN_REF by one step, and
    // does on the generator's targeted cases (the last two), which is why the scaled form exists.
    let mut differ = 0;
    for c in FC {
        let p = tflite_params(c);
        let (m, s) = conv_multipliers(c.input_scale, c.weight_scales, c.output_scale);
        for rounding in [Rounding::Double, Rounding::Single] {
            let mut y = vec![0i8; c.rows * c.units];
            fully_connected_s8(
                &FullyConnectedS8Params { rounding, ..p },
                c.input,
                c.weights,
                Some(c.bias),
                &m,
                &s,
                &mut y,
            );
            for (&a, &b) in y.iter().zip(c.expected) {
                assert!((a as i32 - b as i32).abs() <= 1, "{a} vs {b}");
                differ += usize::from(a != b && rounding == Rounding::Double);
            }
        }
    }
    assert!(differ >= 6, "only {differ} outputs differ");
}

/// Naive twin: 64-bit sums over the unshifted input minus its zero point, oracle requantization.
fn naive(
    p: &FullyConnectedS8Params,
    x: &[i8],
    w: &[i8],
    bias: Option<&[i32]>,
    m: &[i32],
    s: &[i32],
) -> Vec<i8> {
    let mut y = Vec::new();
    for r in 0..p.rows {
        for u in 0..p.units {
            let mut acc: i64 = bias.map_or(0, |b| b[u] as i64);
            for k in 0..p.depth {
                acc +=
                    (x[r * p.depth + k] as i64 + p.input_offset as i64) * w[u * p.depth + k] as i64;
            }
            let i = if m.len() == 1 { 0 } else { u };
            let v = mbqm_oracle(acc as i32, m[i], s[i], p.rounding) as i64 + p.output_offset as i64;
            y.push(
                v.max(p.act_min as i64)
                    .min(p.act_max as i64)
                    .clamp(-128, 127) as i8,
            );
        }
    }
    y
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(512))]

    #[test]
    fn matches_naive_twin(
        rows in 1usize..=4,
        depth in 1usize..=70,
        units in 1usize..=21,
        zps in (-128i32..=127, -128i32..=127),
        per_channel in any::<bool>(),
        single in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let p = FullyConnectedS8Params {
            input_offset: -zps.0,
            output_offset: zps.1,
            rounding: if single { Rounding::Single } else { Rounding::Double },
            ..params(rows, depth, units)
        };
        let x = i8s(&mut rng, rows * depth, -128, 127);
        let w = i8s(&mut rng, units * depth, -127, 127);
        let bias: Vec<i32> = (0..units).map(|_| rng.int(-50_000, 50_000) as i32).collect();
        let n = if per_channel { units } else { 1 };
        let m: Vec<i32> = (0..n).map(|_| (1 << 30) + (rng.next_u64() % (1 << 30)) as i32).collect();
        let s: Vec<i32> = (0..n).map(|_| rng.int(-31, 4) as i32).collect();
        let mut y = vec![0i8; rows * units];
        fully_connected_s8(&p, &x, &w, Some(&bias), &m, &s, &mut y);
        prop_assert_eq!(y, naive(&p, &x, &w, Some(&bias), &m, &s));
    }
}
