//! Every entry of the quantize / dequantize `IMPLS` lists against the reference, bit for bit:
//! ties (x/scale = k + 0.5), NaN, ±∞, huge values, denormals, lengths around 16.
extern crate std;

use std::vec;
use std::vec::Vec;

use super::reference::{dequantize_s8_f32_reference, quantize_f32_s8_reference};
use super::{DequantizeParams, QuantizeParams, DEQUANTIZE_S8_F32_IMPLS, QUANTIZE_F32_S8_IMPLS};
use crate::ops::test_util::Rng;

#[test]
fn quantize_dequantize_impls_match_reference() {
    for imp in QUANTIZE_F32_S8_IMPLS {
        let state = if imp.isa.supported_by_host() {
            "run"
        } else {
            "skipped"
        };
        std::println!("{}: {state}", imp.name);
    }
    let mut rng = Rng::new(3);
    let specials = [
        0.0,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        f32::MIN,
        1e-40,
        -1e-40,
        3e9,
        -3e9,
    ];
    for case in 0..crate::ops::test_util::iterations(400) {
        let n = rng.below(70) as usize;
        let scale = match case % 4 {
            0 => 1.0,
            1 => 0.5,
            2 => 0.0078125,
            _ => 0.001 + rng.unit().abs() * 0.1,
        };
        let zp = if case % 5 == 0 {
            -128
        } else {
            rng.int(-128, 127) as i32
        };
        let x: Vec<f32> = (0..n)
            .map(|_| match rng.below(5) {
                // Exact ties k + 0.5 in units of the scale.
                0 => (rng.int(-300, 300) + 0.5) * scale,
                1 => specials[rng.below(specials.len() as u64) as usize],
                _ => rng.unit() * 200.0 * scale,
            })
            .collect();
        let p = QuantizeParams {
            scale,
            zero_point: zp,
        };
        let mut want = vec![0i8; n];
        quantize_f32_s8_reference(&p, &x, &mut want);
        for imp in QUANTIZE_F32_S8_IMPLS {
            if imp.isa.supported_by_host() {
                let mut got = vec![0x55i8; n];
                assert!((imp.f)(&p, &x, &mut got), "{} declined", imp.name);
                assert_eq!(got, want, "{} {p:?} {x:?}", imp.name);
            }
        }
        let q: Vec<i8> = (0..n).map(|_| rng.int(-128, 127) as i8).collect();
        let d = DequantizeParams {
            scale,
            zero_point: zp,
        };
        let mut want = vec![0f32; n];
        dequantize_s8_f32_reference(&d, &q, &mut want);
        for imp in DEQUANTIZE_S8_F32_IMPLS {
            if imp.isa.supported_by_host() {
                let mut got = vec![f32::NAN; n];
                assert!((imp.f)(&d, &q, &mut got), "{} declined", imp.name);
                let same = got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{} {d:?}", imp.name);
            }
        }
    }
}
