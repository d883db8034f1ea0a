extern crate std;

use std::vec::Vec;

use super::{matmul_f32, MatMulParams};
use crate::ops::test_util::Rng;
use crate::Shape;

fn run(a_dims: &[usize], b_dims: &[usize], out_dims: &[usize], a: &[f32], b: &[f32]) -> Vec<f32> {
    let p = MatMulParams {
        a: Shape::new(a_dims),
        b: Shape::new(b_dims),
        out: Shape::new(out_dims),
    };
    let mut y = std::vec![f32::NAN; p.out.elements()];
    matmul_f32(&p, a, b, &mut y);
    y
}

#[test]
fn by_hand() {
    // [2, 3] · [3, 2]
    let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
    assert_eq!(
        run(&[2, 3], &[3, 2], &[2, 2], &a, &b),
        [58.0, 64.0, 139.0, 154.0]
    );
}

#[test]
fn broadcast_batches_against_naive() {
    // a [2, 1, 3, 4] · b [1, 3, 4, 2] → [2, 3, 3, 2]
    let (ad, bd, od) = ([2, 1, 3, 4], [1, 3, 4, 2], [2, 3, 3, 2]);
    let mut rng = Rng::new(8);
    let a = rng.ints(24, -5, 5);
    let b = rng.ints(24, -5, 5);
    let y = run(&ad, &bd, &od, &a, &b);
    for i in 0..2 {
        for j in 0..3 {
            for m in 0..3 {
                for n in 0..2 {
                    let e: f32 = (0..4)
                        .map(|k| a[(i * 3 + m) * 4 + k] * b[(j * 4 + k) * 2 + n])
                        .sum();
                    assert_eq!(y[((i * 3 + j) * 3 + m) * 2 + n], e, "{i} {j} {m} {n}");
                }
            }
        }
    }
}
