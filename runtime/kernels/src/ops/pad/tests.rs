extern crate std;

use std::vec::Vec;

use super::{pad, PadMode, PadParams};
use crate::{Shape, MAX_RANK};

fn params(in_dims: &[usize], begin: &[isize], out_dims: &[usize], mode: PadMode) -> PadParams {
    let mut p = PadParams {
        input: Shape::new(in_dims),
        out: Shape::new(out_dims),
        begin: [0; MAX_RANK],
        mode,
    };
    p.begin[..begin.len()].copy_from_slice(begin);
    p
}

fn run(p: &PadParams, value: i32, x: &[i32]) -> Vec<i32> {
    let mut y = std::vec![-999; p.out.elements()];
    pad(p, value, x, &mut y);
    y
}

#[test]
fn one_dimensional_modes_by_hand() {
    let x = [1, 2, 3];
    // Values checked against numpy.pad([1, 2, 3], (2, 2), mode).
    assert_eq!(
        run(&params(&[3], &[2], &[7], PadMode::Reflect), 0, &x),
        [3, 2, 1, 2, 3, 2, 1]
    );
    assert_eq!(
        run(&params(&[3], &[2], &[7], PadMode::Edge), 0, &x),
        [1, 1, 1, 2, 3, 3, 3]
    );
    assert_eq!(
        run(&params(&[3], &[2], &[7], PadMode::Constant), 9, &x),
        [9, 9, 1, 2, 3, 9, 9]
    );
    // Pads wider than the input: numpy.pad([1, 2, 3], (4, 5), "reflect").
    assert_eq!(
        run(&params(&[3], &[4], &[12], PadMode::Reflect), 0, &x),
        [1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2]
    );
    // A length-1 axis reflects onto itself.
    assert_eq!(
        run(&params(&[1], &[2], &[5], PadMode::Reflect), 0, &[7]),
        [7; 5]
    );
    // Negative begin crops; the end may crop too.
    assert_eq!(
        run(&params(&[3], &[-1], &[1], PadMode::Constant), 0, &x),
        [2]
    );
    assert_eq!(
        run(&params(&[3], &[-1], &[4], PadMode::Edge), 0, &x),
        [2, 3, 3, 3]
    );
    assert_eq!(
        run(&params(&[3], &[-2], &[3], PadMode::Reflect), 0, &x),
        [3, 2, 1]
    );
}

#[test]
fn two_dimensional_reflect_and_edge_by_hand() {
    // [[1 2 3], [4 5 6]] padded by one row above, one below, two columns left, one right.
    let x = [1, 2, 3, 4, 5, 6];
    let p = params(&[2, 3], &[1, 2], &[4, 6], PadMode::Reflect);
    #[rustfmt::skip]
    assert_eq!(run(&p, 0, &x), [
        6, 5, 4, 5, 6, 5,
        3, 2, 1, 2, 3, 2,
        6, 5, 4, 5, 6, 5,
        3, 2, 1, 2, 3, 2,
    ]);
    let p = params(&[2, 3], &[1, 2], &[4, 6], PadMode::Edge);
    #[rustfmt::skip]
    assert_eq!(run(&p, 0, &x), [
        1, 1, 1, 2, 3, 3,
        1, 1, 1, 2, 3, 3,
        4, 4, 4, 5, 6, 6,
        4, 4, 4, 5, 6, 6,
    ]);
    let p = params(&[2, 3], &[1, 2], &[4, 6], PadMode::Constant);
    #[rustfmt::skip]
    assert_eq!(run(&p, 0, &x), [
        0, 0, 0, 0, 0, 0,
        0, 0, 1, 2, 3, 0,
        0, 0, 4, 5, 6, 0,
        0, 0, 0, 0, 0, 0,
    ]);
}

#[test]
fn nhwc_spatial_padding_against_naive() {
    // [1, 3, 4, 2] padded by (1, 2) rows and (2, 1) columns: every mode vs a per-element
    // formula.
    let (h, w, c) = (3usize, 4usize, 2usize);
    let x: Vec<i32> = (0..(h * w * c) as i32).collect();
    for mode in [PadMode::Constant, PadMode::Reflect, PadMode::Edge] {
        let p = params(&[1, h, w, c], &[0, 1, 2, 0], &[1, h + 3, w + 3, c], mode);
        let y = run(&p, -1, &x);
        let map = |o: usize, begin: usize, n: usize| -> Option<usize> {
            let j = o as i64 - begin as i64;
            let n = n as i64;
            let j = match mode {
                PadMode::Constant => j,
                PadMode::Edge => j.clamp(0, n - 1),
                PadMode::Reflect if j < 0 => -j,
                PadMode::Reflect if j >= n => 2 * (n - 1) - j,
                PadMode::Reflect => j,
            };
            (0..n).contains(&j).then_some(j as usize)
        };
        for oh in 0..h + 3 {
            for ow in 0..w + 3 {
                for ch in 0..c {
                    let e = match (map(oh, 1, h), map(ow, 2, w)) {
                        (Some(ih), Some(iw)) => x[(ih * w + iw) * c + ch],
                        _ => -1,
                    };
                    assert_eq!(
                        y[(oh * (w + 3) + ow) * c + ch],
                        e,
                        "{mode:?} at {oh},{ow},{ch}"
                    );
                }
            }
        }
    }
}

#[test]
fn generic_over_f32() {
    let p = params(&[2], &[1], &[4], PadMode::Constant);
    let mut y = [0f32; 4];
    pad(&p, 0.5, &[1.0, 2.0], &mut y);
    assert_eq!(y, [0.5, 1.0, 2.0, 0.5]);
}
