extern crate std;

use std::vec::Vec;

use super::{reduce_mean_f32, ReduceParams};
use crate::ops::test_util::{assert_close, Rng};
use crate::Shape;

/// Naive mean: for each output index, loop over the reduced sub-box explicitly (f64).
fn naive(dims: &[usize], mask: u32, x: &[f32]) -> Vec<f32> {
    let rank = dims.len();
    let out_dims: Vec<usize> = (0..rank)
        .map(|a| if mask & (1 << a) != 0 { 1 } else { dims[a] })
        .collect();
    let total_out: usize = out_dims.iter().product();
    let count: usize = (0..rank)
        .filter(|&a| mask & (1 << a) != 0)
        .map(|a| dims[a])
        .product();
    (0..total_out)
        .map(|o| {
            let mut sum = 0f64;
            for (i, &v) in x.iter().enumerate() {
                // Does input i project onto output o?
                let (mut rem_i, mut rem_o, mut hit) = (i, o, true);
                for a in (0..rank).rev() {
                    let ii = rem_i % dims[a];
                    let oi = rem_o % out_dims[a];
                    rem_i /= dims[a];
                    rem_o /= out_dims[a];
                    if out_dims[a] != 1 && ii != oi {
                        hit = false;
                    }
                }
                if hit {
                    sum += v as f64;
                }
            }
            (sum / count as f64) as f32
        })
        .collect()
}

fn run(dims: &[usize], mask: u32, x: &[f32]) -> Vec<f32> {
    let p = ReduceParams {
        input: Shape::new(dims),
        axes_mask: mask,
    };
    let n: usize = (0..dims.len())
        .map(|a| if mask & (1 << a) != 0 { 1 } else { dims[a] })
        .product();
    let mut y = std::vec![f32::NAN; n];
    reduce_mean_f32(&p, x, &mut y);
    y
}

#[test]
fn mean_over_h_w_of_nhwc() {
    // [1, 2, 2, 3]: channel c holds c, c + 10, c + 20, c + 30 → mean c + 15.
    let x: Vec<f32> = (0..4)
        .flat_map(|px| (0..3).map(move |c| (px * 10 + c) as f32))
        .collect();
    assert_eq!(run(&[1, 2, 2, 3], 0b0110, &x), [15.0, 16.0, 17.0]);
    // Batch 2, 5x4 spatial, 3 channels, against the naive projection.
    let x = Rng::new(2).units(2 * 5 * 4 * 3);
    assert_close(
        &run(&[2, 5, 4, 3], 0b0110, &x),
        &naive(&[2, 5, 4, 3], 0b0110, &x),
        1e-6,
    );
}

#[test]
fn other_axis_sets() {
    let dims = [2, 3, 4, 5];
    let x = Rng::new(9).units(120);
    for mask in [
        0b1000, 0b0001, 0b1010, 0b0101, 0b1111, 0b0111, 0b1110, 0b0000,
    ] {
        assert_close(&run(&dims, mask, &x), &naive(&dims, mask, &x), 1e-6);
    }
    // By hand: mean over the last axis of [[1, 2, 3], [4, 5, 9]].
    assert_eq!(
        run(&[2, 3], 0b10, &[1.0, 2.0, 3.0, 4.0, 5.0, 9.0]),
        [2.0, 6.0]
    );
    // Mean over the first axis.
    assert_eq!(
        run(&[2, 3], 0b01, &[1.0, 2.0, 3.0, 4.0, 5.0, 9.0]),
        [2.5, 3.5, 6.0]
    );
}
