//! int8 resize: nearest against the f32 kernel (picking elements must agree exactly), bilinear
//! against the exact bilinear value (power-of-two scales, where TFLite's Q10 coordinates are
//! exact) and against a literal per-element transcription of TFLite's `ResizeBilinearInteger`
//! (any sizes, channel counts that are not multiples of a vector width).
extern crate std;

use std::vec::Vec;

use super::{
    resize_f32, resize_s8, resize_s8_supported, CoordinateMode, NearestMode, ResizeMode,
    ResizeParams,
};
use crate::ops::test_util::Rng;
use crate::{Shape, MAX_RANK};

fn params(
    (n, h, w, c): (usize, usize, usize, usize),
    (oh, ow): (usize, usize),
    mode: ResizeMode,
    coordinate: CoordinateMode,
    nearest: NearestMode,
) -> ResizeParams {
    let mut scales = [1.0; MAX_RANK];
    scales[1] = oh as f32 / h as f32;
    scales[2] = ow as f32 / w as f32;
    ResizeParams {
        input: Shape::new(&[n, h, w, c]),
        out: Shape::new(&[n, oh, ow, c]),
        scales,
        mode,
        coordinate,
        nearest,
    }
}

fn random_i8(rng: &mut Rng, n: usize) -> Vec<i8> {
    (0..n).map(|_| rng.next_u64() as u8 as i8).collect()
}

fn run_s8(p: &ResizeParams, x: &[i8]) -> Vec<i8> {
    let mut y = std::vec![0x55i8; p.out.elements()];
    resize_s8(p, x, &mut y);
    y
}

#[test]
fn nearest_picks_what_the_f32_kernel_picks() {
    let mut rng = Rng::new(31);
    let coords = [
        CoordinateMode::HalfPixel,
        CoordinateMode::Asymmetric,
        CoordinateMode::AlignCorners,
        CoordinateMode::PytorchHalfPixel,
        CoordinateMode::TfHalfPixelForNn,
        CoordinateMode::HalfPixelSymmetric,
    ];
    let nearests = [
        NearestMode::RoundPreferFloor,
        NearestMode::RoundPreferCeil,
        NearestMode::Floor,
        NearestMode::Ceil,
    ];
    for &(h, w, c, oh, ow) in &[
        (3, 4, 5, 7, 9),
        (8, 8, 17, 16, 16),
        (5, 6, 3, 2, 3),
        (1, 1, 33, 3, 1),
    ] {
        for &coordinate in &coords {
            for &nearest in &nearests {
                let p = params(
                    (2, h, w, c),
                    (oh, ow),
                    ResizeMode::Nearest,
                    coordinate,
                    nearest,
                );
                let x = random_i8(&mut rng, p.input.elements());
                let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                let mut yf = std::vec![f32::NAN; p.out.elements()];
                resize_f32(&p, &xf, &mut yf);
                let want: Vec<i8> = yf.iter().map(|&v| v as i8).collect();
                assert_eq!(
                    run_s8(&p, &x),
                    want,
                    "{h}x{w}x{c} → {oh}x{ow} {coordinate:?} {nearest:?}"
                );
            }
        }
    }
}

/// Exact bilinear value with ONNX's coordinates (clamped to the input), rounded half away
/// from zero, in f64 (exact for the power-of-two scales used).
fn exact_bilinear(p: &ResizeParams, x: &[i8]) -> Vec<i8> {
    let [n, h, w, c] = [
        p.input.dims[0],
        p.input.dims[1],
        p.input.dims[2],
        p.input.dims[3],
    ];
    let [oh, ow] = [p.out.dims[1], p.out.dims[2]];
    let coord = |o: usize, len_in: usize, len_out: usize| -> f64 {
        let s = len_out as f64 / len_in as f64;
        let c = match p.coordinate {
            CoordinateMode::HalfPixel => (o as f64 + 0.5) / s - 0.5,
            CoordinateMode::Asymmetric => o as f64 / s,
            CoordinateMode::AlignCorners => {
                o as f64 * (len_in as f64 - 1.0) / (len_out as f64 - 1.0)
            }
            _ => unreachable!(),
        };
        c.clamp(0.0, len_in as f64 - 1.0)
    };
    let mut out = Vec::new();
    for b in 0..n {
        for y in 0..oh {
            let cy = coord(y, h, oh);
            let (y0, fy) = (cy.floor() as usize, cy - cy.floor());
            let y1 = (y0 + 1).min(h - 1);
            for xx in 0..ow {
                let cx = coord(xx, w, ow);
                let (x0, fx) = (cx.floor() as usize, cx - cx.floor());
                let x1 = (x0 + 1).min(w - 1);
                for k in 0..c {
                    let v = |yy: usize, xi: usize| x[((b * h + yy) * w + xi) * c + k] as f64;
                    let r = v(y0, x0) * (1.0 - fy) * (1.0 - fx)
                        + v(y1, x0) * fy * (1.0 - fx)
                        + v(y0, x1) * (1.0 - fy) * fx
                        + v(y1, x1) * fy * fx;
                    out.push(r.round() as i8); // f64::round: half away from zero
                }
            }
        }
    }
    out
}

#[test]
fn bilinear_power_of_two_scales_are_exact() {
    let mut rng = Rng::new(7);
    for &(h, w, c, fh, fw) in &[
        (4, 4, 3, 2, 2),
        (3, 5, 17, 4, 2),
        (8, 2, 1, 2, 8),
        (1, 1, 9, 2, 4),
    ] {
        for coordinate in [CoordinateMode::HalfPixel, CoordinateMode::Asymmetric] {
            let p = params(
                (2, h, w, c),
                (h * fh, w * fw),
                ResizeMode::Linear,
                coordinate,
                NearestMode::Floor,
            );
            assert!(resize_s8_supported(&p));
            let x = random_i8(&mut rng, p.input.elements());
            assert_eq!(
                run_s8(&p, &x),
                exact_bilinear(&p, &x),
                "{h}x{w}x{c} ×{fh}×{fw} {coordinate:?}"
            );
        }
    }
    // align_corners 2 → 3 and 3 → 5: coordinates are multiples of 1/2, exact in Q10.
    for &(h, oh) in &[(2, 3), (3, 5)] {
        let p = params(
            (1, h, h, 5),
            (oh, oh),
            ResizeMode::Linear,
            CoordinateMode::AlignCorners,
            NearestMode::Floor,
        );
        let x = random_i8(&mut rng, p.input.elements());
        assert_eq!(
            run_s8(&p, &x),
            exact_bilinear(&p, &x),
            "align_corners {h} → {oh}"
        );
    }
}

/// TFLite's `ResizeBilinearInteger`, transcribed statement by statement (4-D loops, C++
/// truncating division), with `lower` additionally bounded by the last row.
fn tflite_literal(p: &ResizeParams, x: &[i8]) -> Vec<i8> {
    let d = |s: &Shape, i: usize| s.dims[i] as i64;
    let (batches, ih, iw, depth) = (
        d(&p.input, 0),
        d(&p.input, 1),
        d(&p.input, 2),
        d(&p.input, 3),
    );
    let (oh, ow) = (d(&p.out, 1), d(&p.out, 2));
    let align = p.coordinate == CoordinateMode::AlignCorners;
    let half = p.coordinate == CoordinateMode::HalfPixel;
    let mut hs = ((1 << 10) * ih + oh / 2) / oh;
    let mut ws = ((1 << 10) * iw + ow / 2) / ow;
    if align && oh > 1 {
        hs = ((1 << 10) * (ih - 1) + (oh - 1) / 2) / (oh - 1);
    }
    if align && ow > 1 {
        ws = ((1 << 10) * (iw - 1) + (ow - 1) / 2) / (ow - 1);
    }
    let civ = |value: i64, scale: i64, size: i64| {
        let sv = if half {
            value * scale + scale / 2 - (1 << 9)
        } else {
            value * scale
        };
        let lb = std::cmp::min(std::cmp::max(sv / (1 << 10), 0), size - 1);
        let ub = std::cmp::min((sv + (1 << 10) - 1) / (1 << 10), size - 1);
        (sv, lb, ub)
    };
    let off = |b: i64, y: i64, xx: i64, c: i64| (((b * ih + y) * iw + xx) * depth + c) as usize;
    let mut out = Vec::new();
    for b in 0..batches {
        for y in 0..oh {
            let (input_y, y0, y1) = civ(y, hs, ih);
            for xx in 0..ow {
                let (input_x, x0, x1) = civ(xx, ws, iw);
                for c in 0..depth {
                    let ll = x[off(b, y0, x0, c)] as i64
                        * ((1 << 10) - (input_y - (1 << 10) * y0))
                        * ((1 << 10) - (input_x - (1 << 10) * x0));
                    let lu = x[off(b, y1, x0, c)] as i64
                        * (input_y - (1 << 10) * y0)
                        * ((1 << 10) - (input_x - (1 << 10) * x0));
                    let rl = x[off(b, y0, x1, c)] as i64
                        * ((1 << 10) - (input_y - (1 << 10) * y0))
                        * (input_x - (1 << 10) * x0);
                    let ru = x[off(b, y1, x1, c)] as i64
                        * (input_y - (1 << 10) * y0)
                        * (input_x - (1 << 10) * x0);
                    let o20 = ll + lu + rl + ru;
                    let round = if o20 > 0 { 1 << 19 } else { -(1 << 19) };
                    out.push(((o20 + round) / (1 << 20)) as i8);
                }
            }
        }
    }
    out
}

#[test]
fn bilinear_matches_tflite_integer_kernel_on_any_sizes() {
    let mut rng = Rng::new(11);
    for _ in 0..crate::ops::test_util::iterations(60) {
        let h = 1 + rng.below(7) as usize;
        let w = 1 + rng.below(7) as usize;
        let c = 1 + rng.below(35) as usize;
        let oh = 1 + rng.below(13) as usize;
        let ow = 1 + rng.below(13) as usize;
        let coordinate = [
            CoordinateMode::HalfPixel,
            CoordinateMode::Asymmetric,
            CoordinateMode::AlignCorners,
        ][rng.below(3) as usize];
        let p = params(
            (1 + rng.below(2) as usize, h, w, c),
            (oh, ow),
            ResizeMode::Linear,
            coordinate,
            NearestMode::Floor,
        );
        assert!(resize_s8_supported(&p));
        let x = random_i8(&mut rng, p.input.elements());
        assert_eq!(
            run_s8(&p, &x),
            tflite_literal(&p, &x),
            "{h}x{w}x{c} → {oh}x{ow} {coordinate:?}"
        );
    }
}

#[test]
fn bilinear_outside_the_tflite_kernel_is_not_supported() {
    let base = params(
        (1, 4, 4, 3),
        (8, 8),
        ResizeMode::Linear,
        CoordinateMode::HalfPixel,
        NearestMode::Floor,
    );
    assert!(resize_s8_supported(&base));
    let mut p = base;
    p.coordinate = CoordinateMode::TfHalfPixelForNn;
    assert!(!resize_s8_supported(&p));
    let mut p = base;
    p.scales[1] = 2.5; // the coordinates would follow 2.5, TFLite's the sizes' ratio 2
    assert!(!resize_s8_supported(&p));
    let mut p = base;
    p.out.dims[3] = 4; // channels resized
    p.scales[3] = 4.0 / 3.0;
    assert!(!resize_s8_supported(&p));
    let mut p = base;
    p.coordinate = CoordinateMode::PytorchHalfPixel;
    assert!(resize_s8_supported(&p));
    p.out.dims[1] = 1;
    p.scales[1] = 0.25;
    assert!(!resize_s8_supported(&p));
}
