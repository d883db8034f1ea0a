extern crate std;

use std::vec;
use std::vec::Vec;

use super::{softmax_s8, softmax_s8_params, SoftmaxParams, SoftmaxS8Params};
use crate::ops::test_util::{assert_s8_eq, i8s, permute, Rng};
use crate::ops::tflite_vectors::SOFTMAX;

fn params(outer: usize, axis_len: usize, inner: usize, beta: f32, scale: f32) -> SoftmaxS8Params {
    let (input_multiplier, input_left_shift, diff_min) =
        softmax_s8_params(f64::from(beta), f64::from(scale));
    SoftmaxS8Params {
        shape: SoftmaxParams {
            outer,
            axis_len,
            inner,
        },
        input_multiplier,
        input_left_shift,
        diff_min,
    }
}

#[test]
fn params_by_hand() {
    // beta · scale · 2^26 = 2^26 / 16 = 2^22 -> QuantizeMultiplier: (2^30, 23); the radius
    // ⌊31 · 2^26 / 2^23⌋ = 248.
    assert_eq!(softmax_s8_params(1.0, 1.0 / 16.0), (1 << 30, 23, -248));
    // scale 1: 2^26 -> (2^30, 27), radius ⌊31 · 2^26 / 2^27⌋ = 15.
    assert_eq!(softmax_s8_params(1.0, 1.0), (1 << 30, 27, -15));
    // A huge product is capped at 2^31 - 1 = (2^31 - 1, 31) · 2^-31 · 2^31; radius 0.
    assert_eq!(softmax_s8_params(1.0, 100.0), (i32::MAX, 31, 0));
}

#[test]
fn matches_litert_reference() {
    for (i, c) in SOFTMAX.iter().enumerate() {
        let p = params(c.outer, c.axis_len, 1, c.beta, c.input_scale);
        let mut y = vec![0x55i8; c.expected.len()];
        softmax_s8(&p, c.input, &mut y);
        assert_s8_eq(&y, c.expected, &std::format!("case {i}"));
    }
}

#[test]
fn inner_axis_is_the_same_computation() {
    // [outer, axis, inner] equals transposing the axis last and running with inner = 1.
    let mut rng = Rng::new(8);
    for &(outer, axis_len, inner) in &[(2usize, 7usize, 3usize), (1, 13, 5), (3, 1, 4), (2, 40, 2)]
    {
        let x = i8s(&mut rng, outer * axis_len * inner, -128, 127);
        let p = params(outer, axis_len, inner, 1.0, 0.07);
        let mut y = vec![0i8; x.len()];
        softmax_s8(&p, &x, &mut y);
        let xt = permute(&x, &[outer, axis_len, inner], &[0, 2, 1]);
        let pt = params(outer * inner, axis_len, 1, 1.0, 0.07);
        let mut yt = vec![0i8; x.len()];
        softmax_s8(&pt, &xt, &mut yt);
        let back = permute(&yt, &[outer, inner, axis_len], &[0, 2, 1]);
        assert_s8_eq(&y, &back, &std::format!("{outer}x{axis_len}x{inner}"));
    }
}

/// Float softmax of the dequantized input, in output units (1/256, offset by -128).
fn float_reference(x: &[i8], beta: f64, scale: f64) -> Vec<f64> {
    let max = x.iter().copied().max().unwrap_or(0) as f64;
    let e: Vec<f64> = x
        .iter()
        .map(|&v| ((v as f64 - max) * beta * scale).exp())
        .collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum * 256.0 - 128.0).collect()
}

#[test]
fn close_to_float_softmax_and_sums_to_256() {
    let mut rng = Rng::new(21);
    for &scale in &[0.004f32, 0.02, 0.0625, 0.1, 0.25, 0.5, 1.0] {
        for &beta in &[1.0f32, 0.5, 2.0] {
            for &len in &[1usize, 2, 5, 10, 33, 100, 1000] {
                let x = i8s(&mut rng, len, -128, 127);
                let p = params(1, len, 1, beta, scale);
                let mut y = vec![0i8; len];
                softmax_s8(&p, &x, &mut y);
                let f = float_reference(&x, f64::from(beta), f64::from(scale));
                for (i, (&q, &r)) in y.iter().zip(&f).enumerate() {
                    // Within one step of the float result (values below the output range, and
                    // differences past diff_min, which TFLite maps to -128, are within a step of it
                    // too).
                    assert!(
                        (q as f64 - r.max(-128.0)).abs() <= 1.0,
                        "scale {scale} beta {beta} len {len} [{i}]: {q} vs {r}"
                    );
                }
                // Outputs are probabilities in steps of 1/256: their sum stays close to 1.
                let total: i64 = y.iter().map(|&q| q as i64 + 128).sum();
                assert!(
                    (total - 256).unsigned_abs() as usize <= len.div_ceil(2) + 1,
                    "scale {scale} beta {beta} len {len}: sum {total}"
                );
            }
        }
    }
}

#[test]
fn degenerate_rows() {
    // A single element is probability 1 -> 127 (256·1 - 128 saturates at 127).
    let p = params(1, 1, 1, 1.0, 0.1);
    let mut y = [0i8];
    softmax_s8(&p, &[-40], &mut y);
    assert_eq!(y, [127]);
    // Equal elements split evenly: 4 × 1/4 = 64 - 128 = -64.
    let p = params(1, 4, 1, 1.0, 0.1);
    let mut y = [0i8; 4];
    softmax_s8(&p, &[7, 7, 7, 7], &mut y);
    assert_eq!(y, [-64; 4]);
    // A dominant element with a large scale: the others fall below diff_min and are -128.
    let p = params(1, 3, 1, 1.0, 1.0);
    softmax_s8(&p, &[100, 0, -128], &mut y[..3]);
    assert_eq!(&y[..3], &[127, -128, -128]);
}
