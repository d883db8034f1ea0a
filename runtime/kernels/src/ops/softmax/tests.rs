extern crate std;

use std::vec::Vec;

use super::{softmax_f32, SoftmaxParams};
use crate::ops::test_util::{assert_close, Rng};

/// Direct formula in f64: exp(x) / Σ exp(x) (no max subtraction; fine for small inputs).
fn direct(p: &SoftmaxParams, x: &[f32]) -> Vec<f32> {
    let mut y = std::vec![0f32; x.len()];
    for o in 0..p.outer {
        for j in 0..p.inner {
            let at = |a: usize| (o * p.axis_len + a) * p.inner + j;
            let sum: f64 = (0..p.axis_len).map(|a| (x[at(a)] as f64).exp()).sum();
            for a in 0..p.axis_len {
                y[at(a)] = ((x[at(a)] as f64).exp() / sum) as f32;
            }
        }
    }
    y
}

#[test]
fn rows_sum_to_one_and_match_formula() {
    let p = SoftmaxParams {
        outer: 3,
        axis_len: 10,
        inner: 1,
    };
    let mut rng = Rng::new(5);
    let x: Vec<f32> = rng.units(30).iter().map(|v| v * 4.0).collect();
    let mut y = std::vec![0f32; 30];
    softmax_f32(&p, &x, &mut y);
    for row in y.chunks_exact(10) {
        let s: f32 = row.iter().sum();
        assert!((s - 1.0).abs() < 1e-6, "row sum {s}");
        assert!(row.iter().all(|&v| v > 0.0));
    }
    assert_close(&y, &direct(&p, &x), 1e-6);
}

#[test]
fn middle_axis_with_inner_stride() {
    // [2, 4, 3], softmax over the axis of length 4 (values 3 apart in memory).
    let p = SoftmaxParams {
        outer: 2,
        axis_len: 4,
        inner: 3,
    };
    let x: Vec<f32> = (0..24).map(|v| (v % 7) as f32 * 0.7 - 2.0).collect();
    let mut y = std::vec![0f32; 24];
    softmax_f32(&p, &x, &mut y);
    assert_close(&y, &direct(&p, &x), 1e-6);
    for o in 0..2 {
        for j in 0..3 {
            let s: f32 = (0..4).map(|a| y[(o * 4 + a) * 3 + j]).sum();
            assert!((s - 1.0).abs() < 1e-6);
        }
    }
}

#[test]
fn by_hand_and_large_inputs_are_stable() {
    let p = SoftmaxParams {
        outer: 1,
        axis_len: 2,
        inner: 1,
    };
    let mut y = [0f32; 2];
    softmax_f32(&p, &[0.0, 0.0], &mut y);
    assert_eq!(y, [0.5, 0.5]);
    // ln 3: [1/4, 3/4].
    softmax_f32(&p, &[0.0, 3f32.ln()], &mut y);
    assert_close(&y, &[0.25, 0.75], 1e-6);
    // Without subtracting the maximum, exp(1000) would overflow to inf and give NaN.
    // (1000 + ln 3 is only representable to ~6e-5 in f32, hence the looser tolerance.)
    softmax_f32(&p, &[1000.0, 1000.0 + 3f32.ln()], &mut y);
    assert_close(&y, &[0.25, 0.75], 1e-4);
    let p = SoftmaxParams {
        outer: 1,
        axis_len: 3,
        inner: 1,
    };
    let mut y = [0f32; 3];
    softmax_f32(&p, &[-1e30, 5.0, -1e30], &mut y);
    assert_eq!(y, [0.0, 1.0, 0.0]);
}
