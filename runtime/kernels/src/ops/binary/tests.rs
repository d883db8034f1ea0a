extern crate std;

use std::vec::Vec;

use proptest::prelude::*;

use super::{binary_f32, BinaryOp, BinaryParams};
use crate::ops::test_util::{close, Rng};
use crate::{Activation, Shape};

const OPS: [BinaryOp; 6] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Max,
    BinaryOp::Min,
];

fn apply(op: BinaryOp, x: f32, y: f32) -> f32 {
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Max => x.max(y),
        BinaryOp::Min => x.min(y),
    }
}

/// Naive broadcasting: decompose every output index, map it into each input (index 0 on
/// broadcast axes) and recompose.
fn naive(p: &BinaryParams, a: &[f32], b: &[f32]) -> Vec<f32> {
    let out = p.out.as_slice();
    (0..p.out.elements())
        .map(|flat| {
            let mut rem = flat;
            let (mut ia, mut ib, mut sa, mut sb) = (0, 0, 1, 1);
            for axis in (0..out.len()).rev() {
                let i = rem % out[axis];
                rem /= out[axis];
                let (da, db) = (p.a.dims[axis], p.b.dims[axis]);
                ia += if da == 1 { 0 } else { i * sa };
                ib += if db == 1 { 0 } else { i * sb };
                sa *= da;
                sb *= db;
            }
            p.activation.apply(apply(p.op, a[ia], b[ib]))
        })
        .collect()
}

fn run(
    op: BinaryOp,
    a_dims: &[usize],
    b_dims: &[usize],
    out_dims: &[usize],
    a: &[f32],
    b: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let p = BinaryParams {
        op,
        a: Shape::new(a_dims),
        b: Shape::new(b_dims),
        out: Shape::new(out_dims),
        activation: Activation::None,
    };
    let mut y = std::vec![f32::NAN; p.out.elements()];
    binary_f32(&p, a, b, &mut y);
    (y, naive(&p, a, b))
}

#[test]
fn broadcast_2345_with_1315_and_scalar() {
    let mut rng = Rng::new(1);
    let a = rng.ints(120, -9, 9);
    let b = rng.ints(15, 1, 9); // no zero divisors
    let s = [3.0f32];
    for op in OPS {
        let (y, e) = run(op, &[2, 3, 4, 5], &[1, 3, 1, 5], &[2, 3, 4, 5], &a, &b);
        assert_eq!(y, e, "{op:?} [2,3,4,5]·[1,3,1,5]");
        let (y, e) = run(op, &[1, 3, 1, 5], &[2, 3, 4, 5], &[2, 3, 4, 5], &b, &a);
        assert_eq!(y, e, "{op:?} [1,3,1,5]·[2,3,4,5]");
        let (y, e) = run(op, &[2, 3, 4, 5], &[1, 1, 1, 1], &[2, 3, 4, 5], &a, &s);
        assert_eq!(y, e, "{op:?} [2,3,4,5]·[1,1,1,1]");
        let (y, e) = run(op, &[1, 1, 1, 1], &[2, 3, 4, 5], &[2, 3, 4, 5], &s, &a);
        assert_eq!(y, e, "{op:?} [1,1,1,1]·[2,3,4,5]");
    }
    // Spot checks by hand: element [1, 2, 3, 4] of a + b reads a[119] and b[2·5 + 4].
    let (y, _) = run(
        BinaryOp::Add,
        &[2, 3, 4, 5],
        &[1, 3, 1, 5],
        &[2, 3, 4, 5],
        &a,
        &b,
    );
    assert_eq!(y[119], a[119] + b[14]);
    // Element [0, 1, 2, 0] reads a[20 + 10] and b[5].
    assert_eq!(y[30], a[30] + b[5]);
    let (y, _) = run(
        BinaryOp::Sub,
        &[1, 1, 1, 1],
        &[2, 3, 4, 5],
        &[2, 3, 4, 5],
        &s,
        &a,
    );
    assert_eq!(y[7], 3.0 - a[7]);
}

#[test]
fn squeeze_excitation_and_outer_product() {
    // [N,H,W,C]·[N,1,1,C]: per-channel scale.
    let x: Vec<f32> = (0..2 * 2 * 3 * 4).map(|v| v as f32).collect();
    let s = [1.0, 2.0, 3.0, 4.0, -1.0, -2.0, -3.0, -4.0];
    let (y, e) = run(
        BinaryOp::Mul,
        &[2, 2, 3, 4],
        &[2, 1, 1, 4],
        &[2, 2, 3, 4],
        &x,
        &s,
    );
    assert_eq!(y, e);
    assert_eq!(&y[..4], &[0.0, 2.0, 6.0, 12.0]);
    assert_eq!(&y[12..16], &[12.0, 26.0, 42.0, 60.0]); // batch 0, h = 1
    assert_eq!(&y[24..28], &[-24.0, -50.0, -78.0, -108.0]); // batch 1
                                                            // [3,1]·[1,4] -> [3,4]: both inputs broadcast, on different axes.
    let (y, e) = run(
        BinaryOp::Mul,
        &[3, 1],
        &[1, 4],
        &[3, 4],
        &[1.0, 2.0, 3.0],
        &[1.0, 10.0, 100.0, 1000.0],
    );
    assert_eq!(y, e);
    assert_eq!(&y[4..8], &[2.0, 20.0, 200.0, 2000.0]);
    // Rank 0.
    let (y, _) = run(BinaryOp::Div, &[], &[], &[], &[1.0], &[4.0]);
    assert_eq!(y, [0.25]);
}

#[test]
fn fused_activation_and_nan_in_max() {
    let p = BinaryParams {
        op: BinaryOp::Add,
        a: Shape::new(&[4]),
        b: Shape::new(&[4]),
        out: Shape::new(&[4]),
        activation: Activation::Relu,
    };
    let mut y = [0f32; 4];
    binary_f32(&p, &[1.0, -2.0, 3.0, -4.0], &[0.5, 0.5, 0.5, 0.5], &mut y);
    assert_eq!(y, [1.5, 0.0, 3.5, 0.0]);
    let p = BinaryParams {
        op: BinaryOp::Max,
        activation: Activation::None,
        ..p
    };
    binary_f32(
        &p,
        &[f32::NAN, 1.0, 2.0, 5.0],
        &[1.0, f32::NAN, 3.0, 4.0],
        &mut y,
    );
    assert!(y[0].is_nan() && y[1].is_nan());
    assert_eq!(&y[2..], &[3.0, 5.0]);
}

/// A random broadcast triple: output extents, and for each input a mask of broadcast axes.
fn shapes() -> impl Strategy<Value = (Vec<usize>, Vec<bool>, Vec<bool>)> {
    (1usize..=6).prop_flat_map(|rank| {
        (
            proptest::collection::vec(1usize..=4, rank),
            proptest::collection::vec(any::<bool>(), rank),
            proptest::collection::vec(any::<bool>(), rank),
        )
    })
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(300))]
    #[test]
    fn matches_naive((out, a_bc, b_bc) in shapes(), op_i in 0usize..6, relu in any::<bool>(), seed in any::<u64>()) {
        let a_dims: Vec<usize> = out.iter().zip(&a_bc).map(|(&d, &bc)| if bc { 1 } else { d }).collect();
        let b_dims: Vec<usize> = out.iter().zip(&b_bc).map(|(&d, &bc)| if bc { 1 } else { d }).collect();
        let mut rng = Rng::new(seed);
        let a = rng.ints(a_dims.iter().product(), -9, 9);
        let b = rng.ints(b_dims.iter().product(), 1, 9);
        let p = BinaryParams {
            op: OPS[op_i],
            a: Shape::new(&a_dims),
            b: Shape::new(&b_dims),
            out: Shape::new(&out),
            activation: if relu { Activation::Relu } else { Activation::None },
        };
        let mut y = std::vec![f32::NAN; p.out.elements()];
        binary_f32(&p, &a, &b, &mut y);
        let r = close(&y, &naive(&p, &a, &b), 0.0);
        prop_assert!(r.is_ok(), "{:?} {:?} {:?}: {:?}", a_dims, b_dims, out, r.err());
    }
}
