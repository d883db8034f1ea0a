//! Every entry of the pooling `IMPLS` lists against the reference on random geometry (channel
//! counts that leave every tail: 1–70, past 64 and 32 and 8; strides, dilations, paddings,
//! ceil-mode windows, `count_include_pad`) and activations: int8 bit for bit, f32 equal value
//! for value (`==`, so the sign of a zero may differ; NaN where the reference has NaN; inputs
//! include NaN and signed zeros). Unsupported instruction sets print "skipped".
extern crate std;

use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::{
    Pool2dParams, Pool2dS8Params, AVG_POOL_F32_IMPLS, AVG_POOL_S8_IMPLS, MAX_POOL_F32_IMPLS,
    MAX_POOL_S8_IMPLS,
};
use crate::ops::test_util::Rng;
use crate::Activation;

/// A random valid geometry: windows never start past the padded input.
fn geometry(rng: &mut Rng) -> Pool2dParams {
    let kernel_h = 1 + rng.below(4) as usize;
    let kernel_w = 1 + rng.below(4) as usize;
    let dilation_h = 1 + rng.below(2) as usize;
    let dilation_w = 1 + rng.below(2) as usize;
    let stride_h = 1 + rng.below(3) as usize;
    let stride_w = 1 + rng.below(3) as usize;
    let pad = |rng: &mut Rng, k: usize| rng.below(k as u64) as usize;
    let (pad_top, pad_bottom) = (pad(rng, kernel_h), pad(rng, kernel_h));
    let (pad_left, pad_right) = (pad(rng, kernel_w), pad(rng, kernel_w));
    let span_h = dilation_h * (kernel_h - 1) + 1;
    let span_w = dilation_w * (kernel_w - 1) + 1;
    let in_h = span_h.saturating_sub(pad_top + pad_bottom).max(1) + rng.below(9) as usize;
    let in_w = span_w.saturating_sub(pad_left + pad_right).max(1) + rng.below(9) as usize;
    let ceil = rng.below(3) == 0;
    let out = |i: usize, lo: usize, hi: usize, span: usize, s: usize| {
        let room = i + lo + hi - span;
        if ceil {
            // ONNX ceil_mode: a last window may start past the padded end, never past the
            // input's end plus the leading pad.
            let o = room.div_ceil(s) + 1;
            if (o - 1) * s >= i + lo {
                o - 1
            } else {
                o
            }
        } else {
            room / s + 1
        }
    };
    let choices = [
        1, 2, 3, 5, 8, 9, 16, 17, 24, 31, 32, 33, 40, 48, 63, 64, 65, 70,
    ];
    Pool2dParams {
        batch: 1 + rng.below(2) as usize,
        in_h,
        in_w,
        channels: choices[rng.below(choices.len() as u64) as usize],
        out_h: out(in_h, pad_top, pad_bottom, span_h, stride_h),
        out_w: out(in_w, pad_left, pad_right, span_w, stride_w),
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        dilation_h,
        dilation_w,
        pad_top,
        pad_left,
        pad_bottom,
        pad_right,
        count_include_pad: rng.below(2) == 0,
        activation: match rng.below(5) {
            0 => Activation::Relu,
            1 => Activation::Clip {
                min: -0.5,
                max: 0.75,
            },
            2 => Activation::Sigmoid,
            _ => Activation::None,
        },
    }
}

fn lens(p: &Pool2dParams) -> (usize, usize) {
    let c = p.batch * p.channels;
    (c * p.in_h * p.in_w, c * p.out_h * p.out_w)
}

fn same_f32(got: &[f32], want: &[f32]) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| g == w || (g.is_nan() && w.is_nan()))
}

fn check(seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let p = geometry(&mut rng);
    let (n_in, n_out) = lens(&p);
    let x: Vec<f32> = (0..n_in)
        .map(|_| match rng.below(40) {
            0 => f32::NAN,
            1 => -0.0,
            2 => 0.0,
            _ => rng.unit() * 2.0 - 1.0,
        })
        .collect();
    for (impls, reference) in [(MAX_POOL_F32_IMPLS, "max"), (AVG_POOL_F32_IMPLS, "avg")] {
        let mut want = vec![0f32; n_out];
        let last = impls.len() - 1;
        (impls[last].f)(&p, &x, &mut want);
        for imp in &impls[..last] {
            if imp.isa.supported_by_host() {
                let mut got = vec![7.0f32; n_out];
                if !(imp.f)(&p, &x, &mut got) {
                    return Err(format!("{} declined {p:?}", imp.name));
                }
                if !same_f32(&got, &want) {
                    return Err(format!(
                        "{} ({reference}): {got:?} != {want:?} ({p:?})",
                        imp.name
                    ));
                }
            }
        }
    }
    let xs: Vec<i8> = (0..n_in)
        .map(|_| match rng.below(8) {
            0 => -128,
            1 => 127,
            _ => rng.int(-128, 127) as i8,
        })
        .collect();
    let bound = |rng: &mut Rng| match rng.below(4) {
        0 => -300 + rng.below(600) as i32,
        _ => rng.int(-128, 127) as i32,
    };
    let (a, b) = (bound(&mut rng), bound(&mut rng));
    let q = Pool2dS8Params {
        geometry: p,
        act_min: if rng.below(3) == 0 { -128 } else { a.min(b) },
        act_max: if rng.below(3) == 0 { 127 } else { a.max(b) },
    };
    for impls in [MAX_POOL_S8_IMPLS, AVG_POOL_S8_IMPLS] {
        let mut want = vec![0i8; n_out];
        let last = impls.len() - 1;
        (impls[last].f)(&q, &xs, &mut want);
        for imp in &impls[..last] {
            if imp.isa.supported_by_host() {
                let mut got = vec![0x55i8; n_out];
                if !(imp.f)(&q, &xs, &mut got) {
                    return Err(format!("{} declined {q:?}", imp.name));
                }
                if got != want {
                    return Err(format!("{}: {got:?} != {want:?} ({q:?})", imp.name));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn pool2d_impls_match_reference() {
    for imp in MAX_POOL_F32_IMPLS.iter().chain(AVG_POOL_F32_IMPLS) {
        let state = if imp.isa.supported_by_host() {
            "run"
        } else {
            "skipped"
        };
        std::println!("{}: {state}", imp.name);
    }
    for imp in MAX_POOL_S8_IMPLS.iter().chain(AVG_POOL_S8_IMPLS) {
        let state = if imp.isa.supported_by_host() {
            "run"
        } else {
            "skipped"
        };
        std::println!("{}: {state}", imp.name);
    }
    for seed in 0..crate::ops::test_util::iterations(600) {
        let r = check(seed);
        assert!(r.is_ok(), "seed {seed}: {r:?}");
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(200))]
    #[test]
    fn pool2d_impls_match_reference_prop(seed in any::<u64>()) {
        let r = check(seed);
        prop_assert!(r.is_ok(), "{:?}", r);
    }
}

/// Global average pooling at the vector kernels' limit: a 256 × 256 window (2^16 taps, the
/// most `MAX_AVG_S8_TAPS` allows) of all −128 or all 127, where the rounded sums are largest,
/// and mixed values; one tap more is declined (the reference takes it).
#[test]
fn avg_pool2d_s8_impls_exact_at_the_tap_limit() {
    for (side_h, side_w) in [(256usize, 256usize), (257, 256)] {
        let g = Pool2dParams {
            batch: 1,
            in_h: side_h,
            in_w: side_w,
            channels: 9,
            out_h: 1,
            out_w: 1,
            kernel_h: side_h,
            kernel_w: side_w,
            stride_h: 1,
            stride_w: 1,
            dilation_h: 1,
            dilation_w: 1,
            ..Default::default()
        };
        let q = Pool2dS8Params {
            geometry: g,
            act_min: -128,
            act_max: 127,
        };
        let n = side_h * side_w * 9;
        let mut rng = Rng::new(side_h as u64);
        for fill in [Some(-128i8), Some(127), None] {
            let x: Vec<i8> = (0..n)
                .map(|i| {
                    fill.unwrap_or(if i % 9 < 4 {
                        rng.int(-128, 127) as i8
                    } else {
                        100
                    })
                })
                .collect();
            let mut want = vec![0i8; 9];
            let last = AVG_POOL_S8_IMPLS.len() - 1;
            (AVG_POOL_S8_IMPLS[last].f)(&q, &x, &mut want);
            for imp in &AVG_POOL_S8_IMPLS[..last] {
                if imp.isa.supported_by_host() {
                    let mut got = vec![0x55i8; 9];
                    let took = (imp.f)(&q, &x, &mut got);
                    assert_eq!(took, side_h * side_w <= 1 << 16, "{}", imp.name);
                    if took {
                        assert_eq!(got, want, "{} {fill:?}", imp.name);
                    }
                }
            }
        }
    }
}
