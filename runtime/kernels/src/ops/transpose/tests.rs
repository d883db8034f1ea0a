extern crate std;

use std::vec::Vec;

use proptest::prelude::*;

use super::{transpose, TransposeParams};
use crate::ops::test_util::permute;
use crate::{Shape, MAX_RANK};

fn params(dims: &[usize], perm: &[usize]) -> TransposeParams {
    let mut p = TransposeParams {
        input: Shape::new(dims),
        perm: [0; MAX_RANK],
    };
    for (d, &s) in p.perm.iter_mut().zip(perm) {
        *d = s;
    }
    p
}

fn run<T: Copy + Default>(dims: &[usize], perm: &[usize], x: &[T]) -> Vec<T> {
    let mut y = std::vec![T::default(); x.len()];
    transpose(&params(dims, perm), x, &mut y);
    y
}

#[test]
fn matrix_by_hand() {
    // [2, 3] -> [3, 2].
    let y = run(&[2, 3], &[1, 0], &[1, 2, 3, 4, 5, 6]);
    assert_eq!(y, [1, 4, 2, 5, 3, 6]);
    // NCHW -> NHWC on [1, 2, 2, 2].
    let y = run(
        &[1, 2, 2, 2],
        &[0, 2, 3, 1],
        &[0u8, 1, 2, 3, 10, 11, 12, 13],
    );
    assert_eq!(y, [0, 10, 1, 11, 2, 12, 3, 13]);
}

#[test]
fn shufflenet_channel_shuffle_rank5() {
    // [N=2, g=3, C/g=4, H=2, W=3] with perm [0, 2, 1, 3, 4]: output [2, 4, 3, 2, 3].
    let dims = [2, 3, 4, 2, 3];
    let x: Vec<u32> = (0..2 * 3 * 4 * 2 * 3).collect();
    let y = run(&dims, &[0, 2, 1, 3, 4], &x);
    assert_eq!(y, permute(&x, &dims, &[0, 2, 1, 3, 4]));
    // By hand: output [n, c, g, h, w] = input [n, g, c, h, w]; element [1, 2, 0, 1, 2] of the
    // output is input [1, 0, 2, 1, 2] = 72 + 0 + 2·6 + 3 + 2.
    let out_index = (((4 + 2) * 3) * 2 + 1) * 3 + 2;
    assert_eq!(y[out_index], 72 + 12 + 3 + 2);
    // Channel order after the shuffle (n = 0, h = w = 0): c0g0, c0g1, c0g2, c1g0, ...
    let firsts: Vec<u32> = (0..12).map(|i| y[i * 6]).collect();
    assert_eq!(firsts, [0, 24, 48, 6, 30, 54, 12, 36, 60, 18, 42, 66]);
}

#[test]
fn size_one_axes_and_rank6() {
    let dims = [2, 1, 3, 1, 2, 2];
    let perm = [5, 3, 0, 4, 2, 1];
    let x: Vec<i16> = (0..24).collect();
    assert_eq!(run(&dims, &perm, &x), permute(&x, &dims, &perm));
    let y = run(&[1], &[0], &[7.5f32]);
    assert_eq!(y, [7.5]);
}

fn shape_and_perm() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (1usize..=6).prop_flat_map(|rank| {
        (
            proptest::collection::vec(1usize..=4, rank),
            Just((0..rank).collect::<Vec<usize>>()).prop_shuffle(),
        )
    })
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(300))]
    #[test]
    fn matches_naive_and_inverse_round_trips((dims, perm) in shape_and_perm()) {
        let x: Vec<u32> = (0..dims.iter().product::<usize>() as u32).collect();
        let y = run(&dims, &perm, &x);
        prop_assert_eq!(&y, &permute(&x, &dims, &perm));
        // Inverse permutation: inv[perm[i]] = i, applied to the permuted shape.
        let mut inv = std::vec![0usize; perm.len()];
        for (i, &a) in perm.iter().enumerate() {
            inv[a] = i;
        }
        let out_dims: Vec<usize> = perm.iter().map(|&a| dims[a]).collect();
        prop_assert_eq!(run(&out_dims, &inv, &y), x);
    }
}

/// Layout changes (the blocked 2-D path): NCHW → NHWC and back, batched, with extents that
/// cross the tile sides (64 bytes: 64 int8, 16 f32 elements) and leave partial tiles.
#[test]
fn layout_changes_across_tiles() {
    for &dims in &[
        [1usize, 3, 224, 5],
        [2, 3, 13, 11],
        [1, 130, 9, 15],
        [3, 17, 1, 70],
        [1, 1, 7, 9],
    ] {
        let n: usize = dims.iter().product();
        // Under Miri only the shapes of at most a thousand elements (they still cross the
        // 64-element int8 tile and leave partial tiles).
        if cfg!(miri) && n > 1000 {
            continue;
        }
        let x8: Vec<i8> = (0..n).map(|i| (i * 7 % 251) as i8).collect();
        let x32: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
        for perm in [[0, 2, 3, 1], [0, 3, 1, 2], [0, 1, 3, 2]] {
            assert_eq!(
                run(&dims, &perm, &x8),
                permute(&x8, &dims, &perm),
                "{dims:?} {perm:?}"
            );
            assert_eq!(
                run(&dims, &perm, &x32),
                permute(&x32, &dims, &perm),
                "{dims:?} {perm:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(100))]
    #[test]
    fn layout_changes_match_naive(
        b in 1usize..=3,
        c in 1usize..=crate::ops::test_util::miri_max(140, 20),
        hw in 1usize..=crate::ops::test_util::miri_max(150, 20),
    ) {
        let dims = [b, c, hw];
        let x: Vec<u16> = (0..b * c * hw).map(|i| i as u16).collect();
        prop_assert_eq!(run(&dims, &[0, 2, 1], &x), permute(&x, &dims, &[0, 2, 1]));
        let x8: Vec<u8> = x.iter().map(|&v| v as u8).collect();
        prop_assert_eq!(run(&dims, &[0, 2, 1], &x8), permute(&x8, &dims, &[0, 2, 1]));
    }
}

/// The x86 byte transposes against the naive one on their own (the dispatch above picks one per
/// host): whole 64 × 16 and 16 × 16 blocks, and rows and columns past them.
#[cfg(target_arch = "x86_64")]
#[test]
fn x86_byte_transposes_match_naive() {
    for &(rows, cols) in &[
        (64usize, 16usize),
        (3136, 128),
        (130, 33),
        (200, 7),
        (63, 17),
        (1, 1),
    ] {
        if cfg!(miri) && rows * cols > 5000 {
            continue;
        }
        // `src` is [cols][rows].
        let src: Vec<u8> = (0..rows * cols).map(|i| (i * 13 % 251) as u8).collect();
        let want = permute(&src, &[1, cols, rows], &[0, 2, 1]);
        let mut got = std::vec![0u8; rows * cols];
        assert!(super::sse2::transpose_bytes(&src, &mut got, rows, cols));
        assert_eq!(got, want, "sse2 {rows} x {cols}");
        let mut got = std::vec![0u8; rows * cols];
        if super::avx512::transpose_bytes(&src, &mut got, rows, cols) {
            assert_eq!(got, want, "avx512 {rows} x {cols}");
        } else {
            std::println!("avx512: skipped (host lacks AVX-512)");
        }
    }
}

/// The VBMI interleave of three byte planes (NCHW → NHWC of an RGB int8 image) against the
/// naive transpose: whole 64-pixel runs, runs with a tail, tails alone.
#[cfg(target_arch = "x86_64")]
#[test]
fn x86_interleave3_bytes_matches_naive() {
    for rows in [0usize, 1, 63, 64, 65, 127, 128, 200, 224 * 224] {
        if cfg!(miri) && rows > 5000 {
            continue;
        }
        let src: Vec<u8> = (0..3 * rows).map(|i| (i * 29 % 253) as u8).collect();
        let want = permute(&src, &[1, 3, rows], &[0, 2, 1]);
        let mut got = std::vec![0u8; 3 * rows];
        if super::avx512::interleave3_bytes(&src, &mut got, rows) {
            assert_eq!(got, want, "vbmi {rows}");
        } else {
            std::println!("vbmi: skipped (host lacks AVX-512 VBMI)");
        }
    }
    // Wrong lengths: nothing done.
    let mut out = [0u8; 9];
    assert!(!super::avx512::interleave3_bytes(&[0u8; 8], &mut out, 3));
}

/// As [`x86_interleave3_bytes_matches_naive`] for 4-byte elements (f32 images).
#[cfg(target_arch = "x86_64")]
#[test]
fn x86_interleave3_words_matches_naive() {
    for rows in [0usize, 1, 15, 16, 17, 31, 32, 50, 224 * 224] {
        if cfg!(miri) && rows > 5000 {
            continue;
        }
        let src: Vec<u32> = (0..3 * rows).map(|i| i as u32 * 2_654_435_761).collect();
        let want = permute(&src, &[1, 3, rows], &[0, 2, 1]);
        let mut got = std::vec![0u32; 3 * rows];
        if super::avx512::interleave3_words(&src, &mut got, rows) {
            assert_eq!(got, want, "avx512 {rows}");
        } else {
            std::println!("avx512: skipped (host lacks AVX-512)");
        }
    }
    let mut out = [0u32; 9];
    assert!(!super::avx512::interleave3_words(&[0u32; 8], &mut out, 3));
}

/// As [`x86_byte_transposes_match_naive`] for the 4-byte transposes.
#[cfg(target_arch = "x86_64")]
#[test]
fn x86_word_transposes_match_naive() {
    for &(rows, cols) in &[
        (16usize, 16usize),
        (3136, 128),
        (130, 33),
        (40, 7),
        (15, 17),
        (1, 1),
    ] {
        if cfg!(miri) && rows * cols > 5000 {
            continue;
        }
        let src: Vec<u32> = (0..rows * cols).map(|i| i as u32 * 2_654_435_761).collect();
        let want = permute(&src, &[1, cols, rows], &[0, 2, 1]);
        let mut got = std::vec![0u32; rows * cols];
        assert!(super::sse2::transpose_words(&src, &mut got, rows, cols));
        assert_eq!(got, want, "sse2 {rows} x {cols}");
        let mut got = std::vec![0u32; rows * cols];
        if super::avx512::transpose_words(&src, &mut got, rows, cols) {
            assert_eq!(got, want, "avx512 {rows} x {cols}");
        } else {
            std::println!("avx512: skipped (host lacks AVX-512)");
        }
    }
}
