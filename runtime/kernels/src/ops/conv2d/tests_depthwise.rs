//! The dedicated depthwise variants (`conv2d_{s8,f32}_depthwise_*`) against the portable
//! reference on random depthwise shapes they cover: channel counts around and past the vector
//! widths and the 256-channel chunk, 1×1 to 12×12 inputs, padding on every side (including a
//! whole output row/column in the padding), strides 1 and 2 on each axis, kernels 3 and 5,
//! per-channel multipliers up to `i32::MAX` and `i32::MIN`, shifts from −31 to +30, zero points
//! at the int8 extremes, the three roundings (f32 scales for the float one). int8 bit for bit,
//! f32 within `1e-5 · (1 + |expected|)`.
//! And the shapes they must decline (leaving the output untouched).
extern crate std;

use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::reference::conv2d_f32_reference;
use super::reference_s8::conv2d_s8_reference;
use super::{Conv2dParams, Conv2dS8Params, CONV2D_F32_IMPLS, CONV2D_S8_IMPLS};
use crate::ops::test_util::{close, float_scale_bits, miri_max, Rng};
use crate::quant::Rounding;
use crate::Activation;

fn dw_s8_impls() -> impl Iterator<Item = &'static crate::dispatch::Impl<super::Conv2dS8Fn>> {
    CONV2D_S8_IMPLS
        .iter()
        .filter(|i| i.name.contains("depthwise"))
}

fn dw_f32_impls() -> impl Iterator<Item = &'static crate::dispatch::Impl<super::Conv2dF32Fn>> {
    CONV2D_F32_IMPLS
        .iter()
        .filter(|i| i.name.contains("depthwise"))
}

/// A covered depthwise geometry.
fn geometry(rng: &mut Rng) -> Conv2dParams {
    const C: [usize; 20] = [
        1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 96, 144,
    ];
    let r = |rng: &mut Rng, lo: usize, hi: usize| lo + rng.below((hi - lo + 1) as u64) as usize;
    let c = match rng.below(10) {
        // Several chunks (under Miri: one chunk and a 1-channel tail).
        0 => miri_max(r(rng, 250, 530), 257),
        1 => miri_max(r(rng, 66, 200), 65),
        _ => miri_max(C[rng.below(C.len() as u64) as usize], 65),
    };
    let kernel_h = if rng.below(2) == 0 { 3 } else { 5 };
    let kernel_w = if rng.below(5) == 0 {
        8 - kernel_h
    } else {
        kernel_h
    };
    let stride_h = r(rng, 1, 2);
    let stride_w = if rng.below(4) == 0 {
        3 - stride_h
    } else {
        stride_h
    };
    let in_h = miri_max(r(rng, 1, 12), 5);
    // Rows of 14 or more output pixels sometimes (the four-pixel path of the AVX-512 int8
    // kernel starts there).
    let in_w = if rng.below(3) == 0 {
        miri_max(r(rng, 13, 24), 5)
    } else {
        miri_max(r(rng, 1, 12), 5)
    };
    // Padding up to the kernel size minus one on each side (asymmetric allowed).
    let (pt, pb) = (r(rng, 0, kernel_h - 1), r(rng, 0, kernel_h - 1));
    let (pl, pr) = (r(rng, 0, kernel_w - 1), r(rng, 0, kernel_w - 1));
    let out = |i: usize, k: usize, s: usize, p0: usize, p1: usize| {
        ((i + p0 + p1).saturating_sub(k) / s + 1).max(1)
    };
    Conv2dParams {
        batch: miri_max(r(rng, 1, 2), 1),
        in_h,
        in_w,
        in_c: c,
        out_h: out(in_h, kernel_h, stride_h, pt, pb),
        out_w: out(in_w, kernel_w, stride_w, pl, pr),
        out_c: c,
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        dilation_h: 1,
        dilation_w: 1,
        pad_top: pt,
        pad_left: pl,
        groups: c,
        activation: Activation::None,
    }
}

struct Case {
    p: Conv2dS8Params,
    x: Vec<i8>,
    w: Vec<i8>,
    bias: Option<Vec<i32>>,
    m: Vec<i32>,
    s: Vec<i32>,
}

fn make_case(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let g = geometry(&mut rng);
    let zp = match rng.below(4) {
        0 => -128,
        1 => 127,
        _ => rng.int(-128, 127) as i32,
    };
    let (act_min, act_max) = match rng.below(3) {
        0 => (-128, 127),
        1 => (rng.int(-128, 0) as i32, 127),
        _ => {
            let a = rng.int(-128, 127) as i32;
            let b = rng.int(-128, 127) as i32;
            (a.min(b), a.max(b))
        }
    };
    let rounding = match rng.below(3) {
        0 => Rounding::Single,
        1 => Rounding::Float,
        _ => Rounding::Double,
    };
    // Mostly right shifts (the vector paths); sometimes a left shift or i32::MIN (scalar path).
    let odd_params = rng.below(6) == 0;
    let p = Conv2dS8Params {
        geometry: g,
        input_offset: -zp,
        output_offset: match rng.below(4) {
            0 => -128,
            1 => 127,
            _ => rng.int(-128, 127) as i32,
        },
        act_min,
        act_max,
        rounding,
    };
    let extreme = rng.below(4) == 0;
    let byte = |rng: &mut Rng| {
        if extreme {
            if rng.below(2) == 0 {
                -128
            } else {
                127
            }
        } else {
            rng.int(-128, 127) as i8
        }
    };
    let taps = g.kernel_h * g.kernel_w;
    let x: Vec<i8> = (0..g.batch * g.in_h * g.in_w * g.in_c)
        .map(|_| byte(&mut rng))
        .collect();
    let w: Vec<i8> = (0..g.out_c * taps).map(|_| byte(&mut rng)).collect();
    let bias = (rng.below(5) != 0).then(|| {
        (0..g.out_c)
            .map(|_| match rng.below(8) {
                0 => i32::MAX - rng.below(1000) as i32,
                1 => i32::MIN + rng.below(1000) as i32,
                _ => rng.int(-100_000, 100_000) as i32,
            })
            .collect()
    });
    let mut m = Vec::new();
    let mut s = Vec::new();
    // A third of the cases: every shift a right shift of 1 to 21, as trained models have (the
    // AVX-512 output stage then carries the output offset in its rounding addend).
    let typical_shifts = !odd_params && rng.below(3) == 0;
    for _ in 0..g.out_c {
        if rounding == Rounding::Float {
            m.push(float_scale_bits(&mut rng));
            s.push(0);
            continue;
        }
        let mult = match rng.below(8) {
            0 => i32::MAX,
            1 => i32::MAX - rng.below(16) as i32,
            2 => 1 << 30,
            3 if odd_params && rounding == Rounding::Double => i32::MIN,
            4 if rounding == Rounding::Double => -(1 << 30) - rng.below(1 << 30) as i32,
            _ => (1 << 30) + rng.below(1 << 30) as i32,
        };
        let shift = match rng.below(6) {
            _ if typical_shifts => -1 - rng.below(21) as i32,
            0 => -31,
            1 => 0,
            2 if odd_params => 1 + rng.below(30) as i32,
            _ => -(rng.below(21) as i32),
        };
        m.push(mult);
        s.push(shift);
    }
    Case {
        p,
        x,
        w,
        bias,
        m,
        s,
    }
}

fn out_len(p: &Conv2dParams) -> usize {
    p.batch * p.out_h * p.out_w * p.out_c
}

/// Every depthwise int8 variant the host runs must accept `c` and match the reference.
fn check_s8(c: &Case) -> Result<usize, String> {
    let g = &c.p.geometry;
    let mut want = vec![0x55i8; out_len(g)];
    conv2d_s8_reference(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut want);
    let mut ran = 0;
    for imp in dw_s8_impls() {
        if !imp.isa.supported_by_host() {
            continue;
        }
        let mut got = vec![0x55i8; out_len(g)];
        if !(imp.f)(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut got) {
            if !s8_covers(imp.name, g) {
                continue;
            }
            return Err(format!("{} declined {:?}", imp.name, c.p));
        }
        if !s8_covers(imp.name, g) {
            return Err(format!("{} accepted {:?}", imp.name, c.p));
        }
        if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
            return Err(format!(
                "{}: first difference at {i} (pixel {}, channel {}): got {} want {} (m {}, s {})\n{:?}",
                imp.name,
                i / g.out_c,
                i % g.out_c,
                got[i],
                want[i],
                c.m[i % g.out_c],
                c.s[i % g.out_c],
                c.p
            ));
        }
        ran += 1;
    }
    Ok(ran)
}

#[test]
fn depthwise_s8_matches_reference() {
    let mut ran = 0;
    for seed in 0..crate::ops::test_util::iterations(400u64) {
        let r = check_s8(&make_case(seed));
        assert!(r.is_ok(), "seed {seed}: {}", r.err().unwrap_or_default());
        ran += r.unwrap_or(0);
    }
    std::println!("depthwise s8: {ran} kernel runs, all bit-exact");
}

/// MobileNetV2 / VWW layer shapes.
#[test]
fn depthwise_s8_model_shapes() {
    let shapes = [
        (112, 32, 1),
        (112, 96, 2),
        (56, 144, 1),
        (56, 144, 2),
        (28, 192, 1),
        (14, 576, 1),
        (7, 960, 1),
        (48, 8, 1),
        (48, 16, 2),
        (3, 256, 1),
    ];
    // Under Miri only the last, small one (the others take hours there).
    let first = if cfg!(miri) { shapes.len() - 1 } else { 0 };
    for (i, &(hw, c, s)) in shapes.iter().enumerate().skip(first) {
        for rounding in [Rounding::Double, Rounding::Single] {
            let mut case = make_case(i as u64 + 7000);
            let g = &mut case.p.geometry;
            *g = Conv2dParams {
                batch: 1,
                in_h: hw,
                in_w: hw,
                in_c: c,
                out_h: hw / s,
                out_w: hw / s,
                out_c: c,
                kernel_h: 3,
                kernel_w: 3,
                stride_h: s,
                stride_w: s,
                dilation_h: 1,
                dilation_w: 1,
                pad_top: if s == 1 { 1 } else { 0 },
                pad_left: if s == 1 { 1 } else { 0 },
                groups: c,
                activation: Activation::None,
            };
            case.p.rounding = rounding;
            let mut rng = Rng::new(i as u64);
            case.x = (0..hw * hw * c).map(|_| rng.int(-128, 127) as i8).collect();
            case.w = (0..9 * c).map(|_| rng.int(-128, 127) as i8).collect();
            case.bias = Some((0..c).map(|_| rng.int(-5000, 5000) as i32).collect());
            case.m = (0..c)
                .map(|_| (1 << 30) + rng.below(1 << 30) as i32)
                .collect();
            case.s = (0..c).map(|_| -(rng.below(12) as i32) - 6).collect();
            let r = check_s8(&case);
            assert!(r.is_ok(), "shape {i}: {}", r.err().unwrap_or_default());
        }
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(300))]
    #[test]
    fn depthwise_s8_matches_reference_prop(seed in any::<u64>()) {
        let r = check_s8(&make_case(seed));
        prop_assert!(r.is_ok(), "{}", r.err().unwrap_or_default());
    }

    #[test]
    fn depthwise_f32_matches_reference_prop(seed in any::<u64>()) {
        let r = check_f32(seed);
        prop_assert!(r.is_ok(), "{}", r.err().unwrap_or_default());
    }
}

/// The AVX-512 int8 variant leaves 16 channels or fewer to the AVX2 one.
fn s8_covers(name: &str, g: &Conv2dParams) -> bool {
    #[cfg(target_arch = "x86_64")]
    if name == "conv2d_s8_depthwise_avx512" {
        return g.in_c >= super::depthwise_avx512::MIN_S8_CHANNELS
            || super::depthwise_avx512::covers_narrow(g);
    }
    let _ = (name, g);
    true
}

/// The AVX-512 f32 variant leaves fewer than 16 channels to the AVX2 one, but for 8 at stride
/// 1 along rows.
fn f32_covers(name: &str, g: &Conv2dParams) -> bool {
    #[cfg(target_arch = "x86_64")]
    if name == "conv2d_f32_depthwise_avx512" {
        return g.in_c >= super::depthwise_avx512::MIN_F32_CHANNELS
            || super::depthwise_avx512::covers_f32_pairs(g);
    }
    let _ = (name, g);
    true
}

fn check_f32(seed: u64) -> Result<usize, String> {
    let mut rng = Rng::new(seed);
    let mut g = geometry(&mut rng);
    g.activation = match rng.below(4) {
        0 => Activation::Relu,
        1 => Activation::Clip {
            min: -0.5,
            max: 6.0,
        },
        2 => Activation::Sigmoid,
        _ => Activation::None,
    };
    let taps = g.kernel_h * g.kernel_w;
    let x = rng.units(g.batch * g.in_h * g.in_w * g.in_c);
    let w = rng.units(g.out_c * taps);
    let b = (rng.below(4) != 0).then(|| rng.units(g.out_c));
    let mut want = vec![f32::NAN; out_len(&g)];
    conv2d_f32_reference(&g, &x, &w, b.as_deref(), &mut want);
    let mut ran = 0;
    for imp in dw_f32_impls() {
        if !imp.isa.supported_by_host() {
            continue;
        }
        let mut got = vec![f32::NAN; out_len(&g)];
        if !(imp.f)(&g, &x, &w, b.as_deref(), &mut got) {
            if !f32_covers(imp.name, &g) {
                continue;
            }
            return Err(format!("{} declined {g:?}", imp.name));
        }
        if !f32_covers(imp.name, &g) {
            return Err(format!("{} accepted {g:?}", imp.name));
        }
        close(&got, &want, 1e-5).map_err(|e| format!("{}: {e}\n{g:?}", imp.name))?;
        ran += 1;
    }
    Ok(ran)
}

#[test]
fn depthwise_f32_matches_reference() {
    let mut ran = 0;
    for seed in 0..crate::ops::test_util::iterations(400u64) {
        let r = check_f32(seed);
        assert!(r.is_ok(), "seed {seed}: {}", r.err().unwrap_or_default());
        ran += r.unwrap_or(0);
    }
    std::println!("depthwise f32: {ran} kernel runs, all within 1e-5");
}

/// Shapes outside the covered range are declined without touching the output.
#[test]
fn depthwise_declines_other_shapes() {
    let mut rng = Rng::new(99);
    let base = {
        let mut g = geometry(&mut rng);
        g.in_h = 6;
        g.in_w = 6;
        g.out_h = 6;
        g.out_w = 6;
        g.stride_h = 1;
        g.stride_w = 1;
        g.pad_top = 1;
        g.pad_left = 1;
        g.kernel_h = 3;
        g.kernel_w = 3;
        g.in_c = 32;
        g.out_c = 32;
        g.groups = 32;
        g
    };
    let variants: [fn(&mut Conv2dParams); 7] = [
        |g| g.dilation_h = 2,
        |g| g.dilation_w = 2,
        |g| g.stride_h = 3,
        |g| {
            g.kernel_h = 1;
            g.kernel_w = 1;
            g.pad_top = 0;
            g.pad_left = 0;
        },
        |g| {
            g.kernel_h = 7;
            g.kernel_w = 7;
        },
        // Depth multiplier 2.
        |g| g.out_c = 64,
        // Dense.
        |g| g.groups = 1,
    ];
    // The covered base shape is accepted.
    let mut all = vec![base];
    for v in variants {
        let mut g = base;
        v(&mut g);
        all.push(g);
    }
    for (i, g) in all.iter().enumerate() {
        let taps = g.kernel_h * g.kernel_w;
        let cpg = g.in_c / g.groups;
        let x = vec![1i8; g.batch * g.in_h * g.in_w * g.in_c];
        let w = vec![1i8; g.out_c * taps * cpg];
        let (m, s) = (vec![1 << 30; g.out_c], vec![-1; g.out_c]);
        let p = Conv2dS8Params {
            geometry: *g,
            input_offset: 0,
            output_offset: 0,
            act_min: -128,
            act_max: 127,
            rounding: Rounding::Double,
        };
        let xf = vec![1f32; x.len()];
        let wf = vec![1f32; w.len()];
        for imp in dw_s8_impls().filter(|i| i.isa.supported_by_host()) {
            let mut out = vec![0x55i8; out_len(g)];
            let ok = (imp.f)(&p, &x, &w, None, &m, &s, &mut out);
            assert_eq!(ok, i == 0, "{} on variant {i}", imp.name);
            if !ok {
                assert!(
                    out.iter().all(|&v| v == 0x55),
                    "{} wrote on declining",
                    imp.name
                );
            }
        }
        for imp in dw_f32_impls().filter(|i| i.isa.supported_by_host()) {
            let mut out = vec![7f32; out_len(g)];
            let ok = (imp.f)(g, &xf, &wf, None, &mut out);
            assert_eq!(
                ok,
                i == 0 && f32_covers(imp.name, g),
                "{} on variant {i}",
                imp.name
            );
            if !ok {
                assert!(
                    out.iter().all(|&v| v == 7.0),
                    "{} wrote on declining",
                    imp.name
                );
            }
        }
    }
    // Mismatched slice lengths are declined too.
    let g = base;
    let p = Conv2dS8Params {
        geometry: g,
        input_offset: 0,
        output_offset: 0,
        act_min: -128,
        act_max: 127,
        rounding: Rounding::Double,
    };
    let x = vec![0i8; g.in_h * g.in_w * g.in_c - 1];
    let w = vec![0i8; 9 * g.out_c];
    let (m, s) = (vec![1 << 30; g.out_c], vec![-1; g.out_c]);
    for imp in dw_s8_impls().filter(|i| i.isa.supported_by_host()) {
        let mut out = vec![0i8; out_len(&g)];
        assert!(!(imp.f)(&p, &x, &w, None, &m, &s, &mut out), "{}", imp.name);
    }
}
