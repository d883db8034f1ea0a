//! int8 mean against a naive oracle: exact integer sums per output (explicit projection of
//! every input index), requantized with the quantization module; and against the exact real
//! mean: at most 1 LSB off, exact on most elements.
extern crate std;

use std::vec::Vec;

use super::{mean_s8, reduced_count, MeanS8Params, ReduceParams};
use crate::ops::test_util::Rng;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier, Rounding};
use crate::Shape;

fn naive_sums(dims: &[usize], mask: u32, x: &[i8], zp: i32) -> Vec<i64> {
    let rank = dims.len();
    let out_dims: Vec<usize> = (0..rank)
        .map(|a| if mask & (1 << a) != 0 { 1 } else { dims[a] })
        .collect();
    let total_out: usize = out_dims.iter().product();
    let mut sums = std::vec![0i64; total_out];
    for (i, &v) in x.iter().enumerate() {
        let (mut rem, mut o, mut stride) = (i, 0usize, 1usize);
        for a in (0..rank).rev() {
            let ii = rem % dims[a];
            rem /= dims[a];
            if out_dims[a] != 1 {
                o += ii * stride;
            }
            stride *= out_dims[a];
        }
        sums[o] += v as i64 - zp as i64;
    }
    sums
}

#[test]
fn sums_every_reduced_value_once_and_requantizes_once() {
    let mut rng = Rng::new(5);
    let cases: &[(&[usize], u32)] = &[
        (&[1, 7, 7, 96], 0b0110),
        (&[2, 3, 5, 130], 0b0110),
        (&[1, 4, 4, 3], 0b1000),
        (&[2, 3, 4, 5], 0b1111),
        (&[2, 3, 4, 5], 0b0101),
        (&[3, 17], 0b01),
        (&[6], 0b0),
    ];
    let (mut exact_hits, mut total) = (0usize, 0usize);
    for &(dims, mask) in cases {
        let n: usize = dims.iter().product();
        let x: Vec<i8> = (0..n).map(|_| rng.next_u64() as u8 as i8).collect();
        let (zi, zo) = (rng.below(256) as i32 - 128, rng.below(256) as i32 - 128);
        let (si, so) = (
            0.02 + rng.unit() as f64 * 0.1,
            0.003 + rng.unit() as f64 * 0.05,
        );
        let reduce = ReduceParams {
            input: Shape::new(dims),
            axes_mask: mask,
        };
        let count = reduced_count(&reduce);
        let (multiplier, shift) = quantize_multiplier(si / (count as f64 * so));
        let p = MeanS8Params {
            reduce,
            input_zero_point: zi,
            output_zero_point: zo,
            multiplier,
            shift,
            rounding: Rounding::Double,
        };
        let sums = naive_sums(dims, mask, &x, zi);
        let mut y = std::vec![0x55i8; sums.len()];
        mean_s8(&p, &x, &mut y);
        for (k, (&got, &s)) in y.iter().zip(&sums).enumerate() {
            let want =
                (multiply_by_quantized_multiplier(s as i32, multiplier, shift, Rounding::Double)
                    + zo)
                    .clamp(-128, 127);
            assert_eq!(got as i32, want, "{dims:?} mask {mask:#b} output {k}");
            // The real mean in output units.
            let real = (s as f64 / count as f64 * si / so + zo as f64).clamp(-128.0, 127.0);
            assert!(
                (got as f64 - real).abs() <= 1.0,
                "{dims:?}: {got} vs exact {real}"
            );
            exact_hits += (got as f64 == real.round()) as usize;
        }
        total += y.len();
    }
    // The double-rounding multiply is off the exact product by at most 2^-(rs+1) LSB.
    assert!(
        exact_hits * 20 >= total * 19,
        "only {exact_hits}/{total} rounded as the exact mean"
    );
}
