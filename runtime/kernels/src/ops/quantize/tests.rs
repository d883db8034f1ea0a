extern crate std;

use std::vec;
use std::vec::Vec;

use super::{
    dequantize_s8_f32, dequantize_weights_s8_f32, lookup_s8, quantize_f32_s8, requantize_s8,
    DequantizeParams, QuantizeParams, RequantizeParams,
};
use crate::ops::test_util::{assert_s8_eq, mbqm_oracle, Rng};
use crate::ops::tflite_vectors::{DEQUANTIZE, QUANTIZE, REQUANTIZE};
use crate::quant::{quantize_multiplier, Rounding};

fn all_s8() -> Vec<i8> {
    (-128..=127).collect()
}

#[test]
fn quantize_matches_onnx_reference() {
    for (i, c) in QUANTIZE.iter().enumerate() {
        let p = QuantizeParams {
            scale: c.scale,
            zero_point: c.zero_point,
        };
        let mut y = vec![0i8; c.input.len()];
        quantize_f32_s8(&p, c.input, &mut y);
        assert_s8_eq(&y, c.expected, &std::format!("case {i}"));
    }
}

#[test]
fn quantize_rounds_half_to_even_and_saturates() {
    let p = QuantizeParams {
        scale: 1.0,
        zero_point: 0,
    };
    let x = [
        0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 126.5, 127.5, -128.5, -129.0,
    ];
    let mut y = [0i8; 11];
    quantize_f32_s8(&p, &x, &mut y);
    assert_eq!(y, [0, 2, 2, 0, -2, -2, 0, 126, 127, -128, -128]);
    let x = [
        1e30,
        -1e30,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        3e9,
        -3e9,
    ];
    let mut y = [0i8; 7];
    let p = QuantizeParams {
        scale: 0.5,
        zero_point: 10,
    };
    quantize_f32_s8(&p, &x, &mut y);
    assert_eq!(y, [127, -128, 127, -128, 10, 127, -128]);
    // Zero point added after rounding: 1.25 / 0.5 = 2.5 -> 2, + 10.
    quantize_f32_s8(&p, &[1.25], &mut y[..1]);
    assert_eq!(y[0], 12);
}

#[test]
fn dequantize_matches_litert_reference() {
    for (i, c) in DEQUANTIZE.iter().enumerate() {
        let p = DequantizeParams {
            scale: c.scale,
            zero_point: c.zero_point,
        };
        let mut y = vec![0f32; 256];
        dequantize_s8_f32(&p, &all_s8(), &mut y);
        for (j, (&a, &b)) in y.iter().zip(c.expected).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "case {i} [{j}]: {a} vs {b}");
        }
    }
}

#[test]
fn requantize_matches_litert_reference() {
    for (i, c) in REQUANTIZE.iter().enumerate() {
        // LiteRT's int8 -> int8 QUANTIZE Prepare: QuantizeMultiplier(input_scale / output_scale)
        // in double.
        let (multiplier, shift) =
            quantize_multiplier(f64::from(c.input_scale) / f64::from(c.output_scale));
        let p = RequantizeParams {
            input_zero_point: c.input_zero_point,
            output_zero_point: c.output_zero_point,
            multiplier,
            shift,
            rounding: Rounding::Double,
        };
        let mut y = vec![0i8; 256];
        requantize_s8(&p, &all_s8(), &mut y);
        assert_s8_eq(&y, c.expected, &std::format!("case {i}"));
    }
}

#[test]
fn requantize_matches_oracle_for_both_roundings() {
    let mut rng = Rng::new(4);
    for case in 0..crate::ops::test_util::iterations(200) {
        let p = RequantizeParams {
            input_zero_point: rng.int(-128, 127) as i32,
            output_zero_point: rng.int(-128, 127) as i32,
            multiplier: (1 << 30) + (rng.next_u64() % (1 << 30)) as i32,
            shift: rng.int(-31, 8) as i32,
            rounding: if case % 2 == 0 {
                Rounding::Double
            } else {
                Rounding::Single
            },
        };
        let mut y = vec![0i8; 256];
        requantize_s8(&p, &all_s8(), &mut y);
        let want: Vec<i8> = all_s8()
            .iter()
            .map(|&q| {
                let v = mbqm_oracle(
                    q as i32 - p.input_zero_point,
                    p.multiplier,
                    p.shift,
                    p.rounding,
                );
                (v as i64 + p.output_zero_point as i64).clamp(-128, 127) as i8
            })
            .collect();
        assert_s8_eq(&y, &want, &std::format!("case {case}"));
    }
}

#[test]
fn lookup_indexes_by_twos_complement_byte() {
    // table[b] = b as i8 reversed, so the byte order is visible.
    let mut table = [0i8; 256];
    for (i, t) in table.iter_mut().enumerate() {
        *t = (255 - i) as u8 as i8;
    }
    let x = [0i8, 1, 127, -128, -1];
    let mut y = [0i8; 5];
    lookup_s8(&table, &x, &mut y);
    // 0 -> table[0] = 255 as i8 = -1; 1 -> -2; 127 -> 128 as i8 = -128; -128 (byte 128) -> 127;
    // -1 (byte 255) -> 0.
    assert_eq!(y, [-1, -2, -128, 127, 0]);
}

#[test]
fn dequantize_weights_uses_each_channels_scale() {
    // Shape [2, 3, 2], channel axis 1 (inner = 2): scales cycle per block of two elements.
    let q: [i8; 12] = [1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 127, -128];
    let scales = [0.5f32, 0.25, 2.0];
    let mut y = [0f32; 12];
    dequantize_weights_s8_f32(&q, &scales, 2, &mut y);
    assert_eq!(
        y,
        [0.5, -0.5, 0.5, -0.5, 6.0, -6.0, 2.0, -2.0, 1.25, -1.25, 254.0, -256.0]
    );
    // One scale for the whole tensor; an empty scale list writes nothing.
    let mut z = [7f32; 3];
    dequantize_weights_s8_f32(&[1, 2, 3], &[0.5], 3, &mut z);
    assert_eq!(z, [0.5, 1.0, 1.5]);
    dequantize_weights_s8_f32(&[1, 2, 3], &[], 3, &mut z);
    assert_eq!(z, [0.5, 1.0, 1.5]);
}
