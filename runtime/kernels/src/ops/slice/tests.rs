extern crate std;

use std::vec::Vec;

use proptest::prelude::*;

use super::{slice, SliceParams};
use crate::{Shape, MAX_RANK};

fn params(in_dims: &[usize], starts: &[isize], steps: &[isize], out_dims: &[usize]) -> SliceParams {
    let mut p = SliceParams {
        input: Shape::new(in_dims),
        out: Shape::new(out_dims),
        starts: [0; MAX_RANK],
        steps: [1; MAX_RANK],
    };
    p.starts[..starts.len()].copy_from_slice(starts);
    p.steps[..steps.len()].copy_from_slice(steps);
    p
}

/// Naive: every output element's input index computed from scratch.
fn naive<T: Copy>(p: &SliceParams, x: &[T]) -> Vec<T> {
    let (ind, outd) = (p.input.as_slice(), p.out.as_slice());
    (0..p.out.elements())
        .map(|flat| {
            let mut rem = flat;
            let mut src = 0isize;
            let mut stride = 1isize;
            for a in (0..outd.len()).rev() {
                let i = (rem % outd[a]) as isize;
                rem /= outd[a];
                src += (p.starts[a] + i * p.steps[a]) * stride;
                stride *= ind[a] as isize;
            }
            x[src as usize]
        })
        .collect()
}

fn run<T: Copy + Default>(p: &SliceParams, x: &[T]) -> Vec<T> {
    let mut y = std::vec![T::default(); p.out.elements()];
    slice(p, x, &mut y);
    y
}

#[test]
fn one_dimensional_by_hand() {
    let x: Vec<i32> = (0..10).collect();
    // x[8::-3] = [8, 5, 2]
    assert_eq!(run(&params(&[10], &[8], &[-3], &[3]), &x), [8, 5, 2]);
    // x[::-1]
    assert_eq!(
        run(&params(&[10], &[9], &[-1], &[10]), &x),
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    );
    // x[2:7]
    assert_eq!(run(&params(&[10], &[2], &[1], &[5]), &x), [2, 3, 4, 5, 6]);
    // x[1::4]
    assert_eq!(run(&params(&[10], &[1], &[4], &[3]), &x), [1, 5, 9]);
}

#[test]
fn mixed_steps_rank3_by_hand() {
    // x[3, 4, 5] = 100·i + 10·j + k; take x[2::-2, 1:4:2, 4::-3].
    let mut x = Vec::new();
    for i in 0..3 {
        for j in 0..4 {
            for k in 0..5 {
                x.push(100 * i + 10 * j + k);
            }
        }
    }
    let p = params(&[3, 4, 5], &[2, 1, 4], &[-2, 2, -3], &[2, 2, 2]);
    assert_eq!(run(&p, &x), [214, 211, 234, 231, 14, 11, 34, 31]);
    assert_eq!(run(&p, &x), naive(&p, &x));
    // A split-like slice of the channel axis of an NHWC tensor.
    let p = params(&[3, 4, 5], &[0, 0, 2], &[1, 1, 1], &[3, 4, 2]);
    let y = run(&p, &x);
    assert_eq!(&y[..4], &[2, 3, 12, 13]);
    assert_eq!(y, naive(&p, &x));
}

fn case() -> impl Strategy<Value = (Vec<usize>, Vec<(isize, isize, usize)>)> {
    // Per axis: input extent, then (start, step, output extent) that stays in range.
    proptest::collection::vec(1usize..=5, 1..=MAX_RANK).prop_flat_map(|dims| {
        let axes: Vec<_> = dims
            .iter()
            .map(|&d| {
                (0..d as isize, prop_oneof![-3isize..=-1, 1isize..=3]).prop_map(
                    move |(start, step)| {
                        // Number of elements start, start + step, ... inside [0, d).
                        let n = if step > 0 {
                            (d as isize - 1 - start) / step + 1
                        } else {
                            start / (-step) + 1
                        };
                        (start, step, n as usize)
                    },
                )
            })
            .collect();
        (Just(dims), axes)
    })
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(300))]
    #[test]
    fn matches_naive((dims, axes) in case()) {
        let starts: Vec<isize> = axes.iter().map(|a| a.0).collect();
        let steps: Vec<isize> = axes.iter().map(|a| a.1).collect();
        let out: Vec<usize> = axes.iter().map(|a| a.2).collect();
        let p = params(&dims, &starts, &steps, &out);
        let x: Vec<u32> = (0..p.input.elements() as u32).collect();
        prop_assert_eq!(run(&p, &x), naive(&p, &x));
    }
}
