extern crate std;

use super::{fully_connected_f32, FullyConnectedParams};
use crate::ops::test_util::Rng;
use crate::Activation;

#[test]
fn by_hand() {
    // input [2, 3], weights [units 2, depth 3].
    let p = FullyConnectedParams {
        rows: 2,
        depth: 3,
        units: 2,
        activation: Activation::None,
    };
    let x = [1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
    let w = [1.0, 0.0, -1.0, 0.5, 0.5, 0.5];
    let mut y = [0f32; 4];
    fully_connected_f32(&p, &x, &w, Some(&[10.0, 0.0]), &mut y);
    // Row 0: 1 − 3 + 10 = 8, 0.5·6 = 3; row 1: −1 − 1 + 10 = 8, 0.5·0 = 0.
    assert_eq!(y, [8.0, 3.0, 8.0, 0.0]);
    let p = FullyConnectedParams {
        activation: Activation::Relu,
        ..p
    };
    fully_connected_f32(&p, &x, &w, None, &mut y);
    assert_eq!(y, [0.0, 3.0, 0.0, 0.0]);
}

#[test]
fn against_naive() {
    let (m, k, n) = (3usize, 17usize, 5usize);
    let mut rng = Rng::new(4);
    let x = rng.ints(m * k, -5, 5);
    let w = rng.ints(n * k, -5, 5);
    let b = rng.ints(n, -5, 5);
    let p = FullyConnectedParams {
        rows: m,
        depth: k,
        units: n,
        activation: Activation::None,
    };
    let mut y = std::vec![0f32; m * n];
    fully_connected_f32(&p, &x, &w, Some(&b), &mut y);
    for i in 0..m {
        for j in 0..n {
            let e: f32 = b[j] + (0..k).map(|t| x[i * k + t] * w[j * k + t]).sum::<f32>();
            assert_eq!(y[i * n + j], e);
        }
    }
}
