//! Every entry of [`CONV2D_S8_IMPLS`] / [`CONV2D_F32_IMPLS`] against the portable reference: bit
//! for bit for int8, relative 1e-5 for f32, on random shapes that hit the vector tails (channel
//! counts around 4, 8, 16, 32, 64), strides, paddings, dilations, groups, zero points ±128 and
//! extreme requantization parameters. Entries whose instruction set the host lacks print
//! "skipped".
extern crate std;

use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::reference::conv2d_f32_reference;
use super::reference_s8::conv2d_s8_reference;
use super::{Conv2dParams, Conv2dS8Params, CONV2D_F32_IMPLS, CONV2D_S8_IMPLS};
use crate::dispatch::Isa;
use crate::ops::test_util::{close, float_scale_bits, miri_max, Rng};
use crate::quant::Rounding;
use crate::Activation;

/// Which family of convolution a case is (so every fast path is exercised).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    OneByOne,
    Dense,
    Depthwise,
    SmallGroups,
    Grouped,
    FewChannels,
}

#[derive(Clone, Debug)]
struct Case {
    p: Conv2dS8Params,
    x: Vec<i8>,
    w: Vec<i8>,
    bias: Option<Vec<i32>>,
    m: Vec<i32>,
    s: Vec<i32>,
}

fn channels(rng: &mut Rng) -> usize {
    const C: [usize; 16] = [1, 3, 4, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 48, 64, 65];
    let c = if rng.below(6) == 0 {
        70 + rng.below(100) as usize
    } else {
        C[rng.below(C.len() as u64) as usize]
    };
    miri_max(c, 33)
}

fn make_case(family: Family, seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let r = |rng: &mut Rng, lo: usize, hi: usize| lo + rng.below((hi - lo + 1) as u64) as usize;
    let (k_h, k_w) = match family {
        Family::OneByOne => (1, 1),
        Family::Depthwise if rng.below(4) == 0 => (5, 5),
        _ => {
            let k = [(3, 3), (3, 3), (2, 2), (1, 3), (3, 1), (5, 5), (2, 3)];
            k[rng.below(k.len() as u64) as usize]
        }
    };
    let (groups, cpg, opg) = match family {
        Family::OneByOne | Family::Dense => (1, channels(&mut rng), channels(&mut rng)),
        Family::Depthwise => (channels(&mut rng), 1, 1),
        Family::SmallGroups => {
            let c = if rng.below(2) == 0 { 4 } else { 8 };
            // Half the cases whole 16-lane blocks of groups (the AVX-512 f32 kernel's calls).
            let groups = if rng.below(2) == 0 {
                (16 / c) * r(&mut rng, 1, 4)
            } else {
                r(&mut rng, 2, 40)
            };
            (miri_max(groups, 3), c, c)
        }
        Family::Grouped => (
            miri_max(r(&mut rng, 2, 6), 2),
            channels(&mut rng),
            channels(&mut rng),
        ),
        Family::FewChannels => (1, r(&mut rng, 1, 3), channels(&mut rng)),
    };
    // Keep the depth within what every fast variant packs on its stack (1024).
    // Under Miri at most 17 input channels per group (a 16-lane vector and a tail).
    let cpg = miri_max(cpg.min(1024 / (k_h * k_w)), 17);
    let in_c = groups * cpg;
    let out_c = groups * opg;
    let stride = r(&mut rng, 1, 3);
    let (stride_h, stride_w) = if rng.below(4) == 0 {
        (stride, r(&mut rng, 1, 2))
    } else {
        (stride, stride)
    };
    let (dilation_h, dilation_w) = if rng.below(5) == 0 {
        (2, r(&mut rng, 1, 2))
    } else {
        (1, 1)
    };
    let pad_top = r(&mut rng, 0, 2).min((k_h - 1) * dilation_h);
    let pad_left = r(&mut rng, 0, 2).min((k_w - 1) * dilation_w);
    let in_h = miri_max(r(&mut rng, 1, 9), 3);
    // Rows of up to 26 pixels for small groups: tiles of 8 pixels whose windows are all inside
    // the input (the AVX-512 f32 kernel's interior path).
    let in_w_max = if family == Family::SmallGroups {
        26
    } else {
        11
    };
    let in_w = miri_max(r(&mut rng, 1, in_w_max), 4);
    let span = |i: usize, k: usize, d: usize, s: usize, p: usize| {
        // Output size for symmetric padding, at least 1.
        ((i + 2 * p).saturating_sub((k - 1) * d + 1) / s + 1).max(1)
    };
    let batch = miri_max(r(&mut rng, 1, 2), 1);
    let geometry = Conv2dParams {
        batch,
        in_h,
        in_w,
        in_c,
        out_h: span(in_h, k_h, dilation_h, stride_h, pad_top),
        out_w: span(in_w, k_w, dilation_w, stride_w, pad_left),
        out_c,
        kernel_h: k_h,
        kernel_w: k_w,
        stride_h,
        stride_w,
        dilation_h,
        dilation_w,
        pad_top,
        pad_left,
        groups,
        activation: Activation::None,
    };
    let zp = match rng.below(5) {
        0 => -128,
        1 => 127,
        _ => rng.int(-128, 127) as i32,
    };
    let (act_min, act_max) = match rng.below(4) {
        0 => (-128, 127),
        1 => {
            let z = rng.int(-128, 127) as i32;
            (z, 127)
        }
        2 => (-128, rng.int(-128, 127) as i32),
        _ => {
            let a = rng.int(-128, 127) as i32;
            let b = rng.int(-128, 127) as i32;
            (a.min(b), a.max(b))
        }
    };
    let rounding = match rng.below(5) {
        0 => Rounding::Single,
        1 => Rounding::Float,
        _ => Rounding::Double,
    };
    let p = Conv2dS8Params {
        geometry,
        input_offset: -zp,
        output_offset: rng.int(-128, 127) as i32,
        act_min,
        act_max,
        rounding,
    };
    let k_len = k_h * k_w * cpg;
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
    let x: Vec<i8> = (0..batch * in_h * in_w * in_c)
        .map(|_| byte(&mut rng))
        .collect();
    let w: Vec<i8> = (0..out_c * k_len).map(|_| byte(&mut rng)).collect();
    let bias = (rng.below(5) != 0).then(|| {
        (0..out_c)
            .map(|_| match rng.below(6) {
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
    let typical_shifts = rng.below(3) == 0;
    for _ in 0..out_c {
        if rounding == Rounding::Float {
            m.push(float_scale_bits(&mut rng));
            s.push(0);
            continue;
        }
        let mult = match rng.below(8) {
            0 => i32::MAX,
            1 => 1 << 30,
            2 if rounding == Rounding::Double => i32::MIN,
            3 if rounding == Rounding::Double => -(1 << 30) - rng.below(1 << 30) as i32,
            _ => (1 << 30) + rng.below(1 << 30) as i32,
        };
        let shift = match rng.below(6) {
            _ if typical_shifts => -(r(&mut rng, 1, 21) as i32),
            0 => -31,
            1 => r(&mut rng, 0, 30) as i32,
            _ => -(r(&mut rng, 0, 20) as i32),
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

/// Runs `f` and the reference; `Ok(accepted)` when equal.
fn check_s8(f: super::Conv2dS8Fn, c: &Case) -> Result<bool, String> {
    let g = &c.p.geometry;
    let mut want = vec![0x55i8; out_len(g)];
    conv2d_s8_reference(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut want);
    let mut got = vec![0x55i8; out_len(g)];
    let accepted = f(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut got);
    if !accepted {
        return Ok(false);
    }
    match (0..got.len()).find(|&i| got[i] != want[i]) {
        None => Ok(true),
        Some(i) => Err(format!(
            "first difference at {i} (pixel {}, channel {}): got {} want {}\n{:?}",
            i / g.out_c,
            i % g.out_c,
            got[i],
            want[i],
            c.p
        )),
    }
}

const FAMILIES: [Family; 6] = [
    Family::OneByOne,
    Family::Dense,
    Family::Depthwise,
    Family::SmallGroups,
    Family::Grouped,
    Family::FewChannels,
];

/// Every variant on many random cases of every family; the fast variants must accept the cases
/// they are written for.
#[test]
fn conv2d_s8_impls_match_reference() {
    for imp in CONV2D_S8_IMPLS {
        if !imp.isa.supported_by_host() {
            std::println!("{}: skipped (host lacks {})", imp.name, imp.isa.name());
            continue;
        }
        let (mut accepted, mut total, mut covered) = (0, 0, 0);
        for (fi, &family) in FAMILIES.iter().enumerate() {
            for seed in 0..crate::ops::test_util::iterations(120u64) {
                let c = make_case(family, seed * 31 + fi as u64 * 1_000_003);
                total += 1;
                covered += usize::from(covers(imp.name, &c));
                let r = check_s8(imp.f, &c);
                assert!(r.is_ok(), "{} {:?} seed {seed}: {:?}", imp.name, family, r);
                accepted += usize::from(r == Ok(true));
            }
        }
        std::println!("{}: {accepted}/{total} cases run, all bit-exact", imp.name);
        // Every family is covered by every general fast variant (parameters are in range by
        // construction), so nothing should fall back; the dedicated depthwise variants decline
        // the other shapes (`tests_depthwise` checks what they cover), the `SMMLA` one the
        // depthwise shapes ([`covers`]).
        if imp.name.contains("depthwise") {
            assert!(accepted > 0, "{} accepted nothing", imp.name);
        } else {
            assert_eq!(accepted, covered, "{} declined cases", imp.name);
            assert!(covered * 2 > total, "{} covers too little", imp.name);
        }
    }
}

/// A case with the parameters of a trained model's layer: double rounding, every shift a right
/// shift of 1 to 21, no activation clamp inside i8 (ReLU and ReLU6 outputs whose range is the
/// quantized range). The AVX-512 kernels then carry the output offset in the rounding addend and
/// narrow with saturation (`arch::x86::offset_folds`), a path random parameters reach only when
/// every channel's draw happens to be typical.
fn as_trained(mut c: Case, seed: u64) -> Case {
    let mut rng = Rng::new(seed ^ 0x7e57_ab1e);
    c.p.rounding = Rounding::Double;
    c.p.act_min = -128;
    c.p.act_max = 127;
    for (m, s) in c.m.iter_mut().zip(c.s.iter_mut()) {
        if *m == i32::MIN {
            *m = i32::MAX;
        }
        *s = -1 - rng.below(21) as i32;
    }
    c
}

/// Every variant on cases of every family with trained models' parameters ([`as_trained`]).
#[test]
fn conv2d_s8_impls_match_reference_trained_parameters() {
    for imp in CONV2D_S8_IMPLS {
        if !imp.isa.supported_by_host() {
            continue;
        }
        let (mut accepted, mut total, mut covered) = (0, 0, 0);
        for (fi, &family) in FAMILIES.iter().enumerate() {
            for seed in 0..crate::ops::test_util::iterations(80u64) {
                let seed = seed * 131 + fi as u64 * 7_000_003;
                let c = as_trained(make_case(family, seed), seed);
                total += 1;
                covered += usize::from(covers(imp.name, &c));
                let r = check_s8(imp.f, &c);
                assert!(r.is_ok(), "{} {:?} seed {seed}: {:?}", imp.name, family, r);
                accepted += usize::from(r == Ok(true));
            }
        }
        std::println!(
            "{}: {accepted}/{total} trained-parameter cases run, all bit-exact",
            imp.name
        );
        if !imp.name.contains("depthwise") {
            assert_eq!(accepted, covered, "{} declined cases", imp.name);
            assert!(covered * 2 > total, "{} covers too little", imp.name);
        }
    }
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(200))]
    #[test]
    fn conv2d_s8_impls_match_reference_prop(family in 0usize..6, seed in any::<u64>()) {
        let c = make_case(FAMILIES[family], seed);
        for imp in CONV2D_S8_IMPLS {
            if imp.isa != Isa::Reference && imp.isa.supported_by_host() {
                let r = check_s8(imp.f, &c);
                prop_assert!(r == Ok(covers(imp.name, &c)), "{}: {:?}", imp.name, r);
            }
        }
    }
}

/// The weight cache (`conv2d_s8_fill_cache` once, then `conv2d_s8_cached`) against the
/// reference on every family, bit for bit; on a host without the cached kernel the cache length
/// is 0 and the cached entry point runs the uncached dispatcher. A cache filled for other weights
/// must still be rejected by length when the shape differs, and an empty cache is ignored.
#[test]
fn conv2d_s8_weight_cache_matches_reference() {
    let mut cached_cases = 0;
    for (fi, &family) in FAMILIES.iter().enumerate() {
        for seed in 0..crate::ops::test_util::iterations(60u64) {
            let c = make_case(family, seed * 17 + fi as u64 * 999_983);
            let (len, filled, equal) = cached_run_matches(&c);
            assert_eq!(
                filled,
                len > 0,
                "{family:?} seed {seed}: fill {filled}, length {len}"
            );
            cached_cases += usize::from(filled);
            assert!(equal, "{family:?} seed {seed} (cache {len}): {:?}", c.p);
        }
    }
    std::println!("weight cache: {cached_cases} cases ran cached");
    if Isa::Avx512Vnni.supported_by_host() {
        assert!(cached_cases > 0, "no case used the cache");
    }
}

/// The f32 weight cache against the reference (within the f32 tolerance), on dense, 1×1 and
/// grouped shapes with 32-channel multiples per group (those it serves) and others (ignored).
#[test]
fn conv2d_f32_weight_cache_matches_reference() {
    let mut cached = 0;
    for seed in 0..crate::ops::test_util::iterations(80u64) {
        let mut rng = Rng::new(seed ^ 0xf32c);
        let groups = [1usize, 1, 2, 4][rng.below(4) as usize];
        let opg = [32usize, 64, 96, 24][rng.below(4) as usize];
        let cpg = [3usize, 8, 16, 40][rng.below(4) as usize];
        let k = [1usize, 3][rng.below(2) as usize];
        let (h, w) = (
            1 + rng.below(miri_max(9, 4) as u64) as usize,
            1 + rng.below(9) as usize,
        );
        let p = Conv2dParams {
            batch: 1,
            in_h: h + k - 1,
            in_w: w + k - 1,
            in_c: groups * cpg,
            out_h: h,
            out_w: w,
            out_c: groups * opg,
            kernel_h: k,
            kernel_w: k,
            stride_h: 1,
            stride_w: 1,
            dilation_h: 1,
            dilation_w: 1,
            pad_top: 0,
            pad_left: 0,
            groups,
            activation: [Activation::None, Activation::Relu][rng.below(2) as usize],
        };
        let x = rng.units(p.in_h * p.in_w * p.in_c);
        let wts = rng.units(p.out_c * k * k * cpg);
        let bias = rng.units(p.out_c);
        let len = super::conv2d_f32_cache_len(&p, wts.len(), true);
        let mut cache = vec![f32::NAN; len];
        let filled = super::conv2d_f32_fill_cache(&p, &wts, true, &mut cache);
        assert_eq!(filled, len > 0);
        cached += usize::from(filled);
        let mut want = vec![0f32; h * w * p.out_c];
        conv2d_f32_reference(&p, &x, &wts, Some(&bias), &mut want);
        let mut got = vec![f32::NAN; want.len()];
        super::conv2d_f32_cached(&p, &x, &wts, Some(&bias), &cache, &mut got);
        let r = close(&got, &want, 1e-5);
        assert!(r.is_ok(), "seed {seed}: {r:?} ({p:?})");
    }
    std::println!("f32 weight cache: {cached} cases ran cached");
    if Isa::Avx2.supported_by_host() {
        assert!(cached > 0, "no case used the cache");
    }
}

/// Whether variant `name` must accept case `c`: the dedicated depthwise variants cover depthwise
/// shapes with multiplier 1, kernels 3/5, strides 1/2, dilation 1 (the AVX-512 one from
/// `MIN_S8_CHANNELS` channels); the others everything.
fn covers(name: &str, c: &Case) -> bool {
    let g = &c.p.geometry;
    #[cfg(target_arch = "x86_64")]
    if name == "conv2d_s8_depthwise_avx512"
        && g.in_c < super::depthwise_avx512::MIN_S8_CHANNELS
        && !super::depthwise_avx512::covers_narrow(g)
    {
        return false;
    }
    // The x86 GEMMs pack a block of weights on the stack: depths above 4096 bytes are declined
    // (the reference runs them).
    let (cpg, opg) = (g.in_c / g.groups.max(1), g.out_c / g.groups.max(1));
    let deep = (g.kernel_h * g.kernel_w * cpg).next_multiple_of(4) > 4096;
    let x86_gemm = matches!(
        name,
        "conv2d_s8_avx2"
            | "conv2d_s8_avx2_vnni"
            | "conv2d_s8_avx2_vnni512"
            | "conv2d_s8_avx512_vnni"
    );
    if x86_gemm && deep && !(cpg == 1 && opg == 1) {
        return false;
    }
    if name.starts_with("conv2d_s8_avx2_vnni") {
        // GEMM calls only: depthwise and 4/8-channel groups are declined.
        let depthwise = cpg == 1 && opg == 1;
        let small_groups = g.groups > 1 && cpg == opg && (cpg == 4 || cpg == 8);
        return !depthwise && !small_groups;
    }
    if name == "conv2d_s8_neon_i8mm" {
        // Depthwise layers and depths whose quad of packed pairs overflows 16 KiB are declined.
        let depth = g.kernel_h * g.kernel_w * cpg;
        return !(cpg == 1 && opg == 1) && depth.next_multiple_of(16) * 4 <= 16 * 1024;
    }
    !name.contains("depthwise")
        || (g.groups == g.in_c && g.groups == g.out_c && super::depthwise_fast_shape(g))
}

/// Layer shapes from the models (MobileNetV2, ResNeXt, VWW), small enough to run in a test.
#[test]
#[cfg_attr(
    miri,
    ignore = "model-sized layers: hours under Miri; the random shapes cover the same paths"
)]
fn conv2d_s8_model_shapes() {
    model_shapes_s8();
    // Again with the AVX-512 window path's 16-pixel rows off: its pixel pairs (hosts without
    // VBMI) on the 8-channel first layers.
    #[cfg(target_arch = "x86_64")]
    {
        use core::sync::atomic::Ordering;
        super::avx512_vnni::LANES_OFF.store(true, Ordering::Relaxed);
        model_shapes_s8();
        super::avx512_vnni::LANES_OFF.store(false, Ordering::Relaxed);
    }
}

fn model_shapes_s8() {
    // (h, w, in_c, out_c, k, stride, groups)
    let shapes = [
        (7, 7, 960, 160, 1, 1, 1),
        (14, 14, 384, 64, 1, 1, 1),
        (14, 14, 128, 128, 3, 1, 32),
        (14, 14, 256, 256, 3, 2, 32),
        (12, 12, 8, 8, 3, 1, 8),
        (24, 24, 96, 96, 3, 2, 96),
        (33, 33, 3, 32, 3, 2, 1),
        // Eight output channels (VWW's first layer): the AVX-512 window path's rows of 16
        // pixels (or pixel pairs), an odd and an even output width.
        (33, 33, 3, 8, 3, 2, 1),
        (32, 32, 3, 8, 3, 2, 1),
        // Sixteen (ResNet-8's first layer): the same rows, four output vectors per 16 pixels;
        // a row of 5 pixels (one partial output vector after a full one).
        (32, 32, 3, 16, 3, 1, 1),
        (33, 33, 3, 16, 3, 2, 1),
        (9, 5, 3, 16, 3, 1, 1),
        // 72 channels: blocks of 64 and 8, the last not two pixels of one vector.
        (17, 17, 3, 72, 3, 2, 1),
        // Rows too wide for the AVX-512 window path's row buffer: the im2col path takes them.
        (3, 1000, 3, 8, 3, 1, 1),
        // A padded image over the AVX-512 per-tap path's buffer: per-tap pointers.
        (24, 24, 64, 16, 3, 1, 1),
        (9, 9, 64, 64, 3, 1, 4),
        (8, 8, 2048, 16, 1, 1, 1),
        // A depth of 9216 bytes (3×3 over 1024 channels): past what the AVX2 GEMM and the
        // `SMMLA` kernel's packed quad of channels hold, so both decline it.
        (4, 4, 1024, 8, 3, 1, 1),
        // Shallow pointwise layers over several of the AVX-512 GEMM's flipped-input strips (85
        // tiles of 16-deep rows, 42 of 32-deep), with a partial last tile.
        (33, 33, 16, 96, 1, 1, 1),
        (25, 25, 32, 16, 1, 1, 1),
        // Strided 1×1 layers (ResNet-8's shortcuts and others): the AVX-512 GEMM's gathered
        // strips, with a partial last tile (49, 256 and 1024 pixels: several strips), a
        // stride of 3 and an input whose last row and column no output reads.
        (13, 13, 20, 24, 1, 2, 1),
        (32, 32, 16, 32, 1, 2, 1),
        (16, 16, 32, 64, 1, 2, 1),
        (64, 64, 16, 16, 1, 2, 1),
        (14, 14, 64, 16, 1, 3, 1),
        // Depthwise: rows of four pixels (3×3, stride 1, wide rows), two chunks of channels
        // (5×5, 300), stride 2, and the 16-channel blocks of two pixels; each also through the
        // weight cache below.
        (20, 20, 40, 40, 3, 1, 40),
        (9, 9, 300, 300, 5, 1, 300),
        (14, 14, 64, 64, 3, 2, 64),
        (24, 24, 16, 16, 3, 2, 16),
    ];
    for (i, &(h, w, ic, oc, k, s, groups)) in shapes.iter().enumerate() {
        let mut c = make_case(Family::Dense, 1000 + i as u64);
        let mut rng = Rng::new(i as u64);
        let pad = k / 2;
        let out = |x: usize| (x + 2 * pad - k) / s + 1;
        c.p.geometry = Conv2dParams {
            batch: 1,
            in_h: h,
            in_w: w,
            in_c: ic,
            out_h: out(h),
            out_w: out(w),
            out_c: oc,
            kernel_h: k,
            kernel_w: k,
            stride_h: s,
            stride_w: s,
            dilation_h: 1,
            dilation_w: 1,
            pad_top: pad,
            pad_left: pad,
            groups,
            activation: Activation::None,
        };
        c.p.rounding = Rounding::Double;
        c.x = (0..h * w * ic).map(|_| rng.int(-128, 127) as i8).collect();
        c.w = (0..oc * k * k * ic / groups)
            .map(|_| rng.int(-128, 127) as i8)
            .collect();
        c.bias = Some((0..oc).map(|_| rng.int(-5000, 5000) as i32).collect());
        c.m = (0..oc)
            .map(|_| (1 << 30) + rng.below(1 << 30) as i32)
            .collect();
        c.s = (0..oc).map(|_| -(rng.below(12) as i32) - 6).collect();
        for imp in CONV2D_S8_IMPLS {
            if imp.isa.supported_by_host() {
                assert_eq!(
                    check_s8(imp.f, &c),
                    Ok(covers(imp.name, &c)),
                    "{} shape {i}",
                    imp.name
                );
            }
        }
        let (_, filled, equal) = cached_run_matches(&c);
        assert!(
            equal,
            "shape {i} through the weight cache (filled: {filled})"
        );
    }
}

/// Fills a weight cache for `c` (when its kernel uses one) and runs through it, through an empty
/// cache and through garbage of another length; returns the cache's length, whether it was
/// filled and whether all three outputs equal the reference's.
fn cached_run_matches(c: &Case) -> (usize, bool, bool) {
    let g = &c.p.geometry;
    let len = super::conv2d_s8_cache_len(&c.p, c.w.len(), c.bias.is_some());
    // 64-byte aligned storage: over-allocate and start at an aligned element.
    let mut store = vec![0x5a5a_5a5ai32; len + 16];
    let skip = store.as_ptr().align_offset(64).min(16);
    let cache = &mut store[skip..skip + len];
    let filled = super::conv2d_s8_fill_cache(&c.p, &c.w, c.bias.as_deref(), &c.m, &c.s, cache);
    let mut want = vec![0x55i8; out_len(g)];
    conv2d_s8_reference(&c.p, &c.x, &c.w, c.bias.as_deref(), &c.m, &c.s, &mut want);
    let mut equal = true;
    // Garbage one line longer than the call's cache is not the call's: ignored, not read.
    let other = vec![0x5a5a_5a5ai32; len + 32];
    let skip = other.as_ptr().align_offset(64).min(16);
    let other = if len > 0 {
        &other[skip..skip + len + 16]
    } else {
        &[][..]
    };
    for cache in [&*cache, &[][..], other] {
        let mut got = vec![0x55i8; out_len(g)];
        super::conv2d_s8_cached(
            &c.p,
            &c.x,
            &c.w,
            c.bias.as_deref(),
            &c.m,
            &c.s,
            cache,
            &mut got,
        );
        equal &= got == want;
    }
    (len, filled, equal)
}

/// Weights without −128 (the NEON micro-kernel then sums two products in i16 before widening:
/// `|x·w| ≤ 128·127`), with extreme inputs so the i16 pair sums reach ±32512.
#[test]
fn conv2d_s8_impls_weights_without_m128() {
    for imp in CONV2D_S8_IMPLS {
        if !imp.isa.supported_by_host() {
            std::println!("{}: skipped (host lacks {})", imp.name, imp.isa.name());
            continue;
        }
        let mut total = 0;
        for (fi, &family) in FAMILIES.iter().enumerate() {
            for seed in 0..crate::ops::test_util::iterations(60u64) {
                let mut c = make_case(family, seed * 7 + fi as u64 * 4_000_037);
                let mut rng = Rng::new(seed);
                for w in c.w.iter_mut() {
                    *w = if rng.below(2) == 0 { -127 } else { 127 };
                }
                for x in c.x.iter_mut() {
                    *x = if rng.below(3) == 0 { 127 } else { -128 };
                }
                // The depthwise-only kernels decline the other families (`covers`).
                assert_eq!(
                    check_s8(imp.f, &c),
                    Ok(covers(imp.name, &c)),
                    "{} {family:?} seed {seed}",
                    imp.name
                );
                total += covers(imp.name, &c) as usize;
            }
        }
        std::println!(
            "{}: {total} cases without -128 weights, all bit-exact",
            imp.name
        );
    }
}

/// Depthwise 3×3 (stride 1 and 2, with and without padding) on the channel counts of the
/// MLPerf Tiny and MobileNet models, past the vector tails and the 256-channel chunks, both
/// roundings, every variant.
#[test]
fn conv2d_s8_impls_depthwise_3x3() {
    let channels = [1, 8, 15, 16, 24, 32, 64, 96, 144, 257, 300];
    // Under Miri: a vector tail and one past the 256-channel chunk.
    let under_miri = [15, 257];
    let channels = if cfg!(miri) {
        &under_miri[..]
    } else {
        &channels[..]
    };
    let mut n = 0;
    for (i, &ch) in channels.iter().enumerate() {
        for (stride, pad) in [(1, 1), (2, 0), (2, 1), (1, 0)] {
            for rounding in [Rounding::Double, Rounding::Single] {
                let mut c = make_case(
                    Family::Depthwise,
                    5000 + i as u64 * 8 + stride as u64 * 2 + pad as u64,
                );
                let mut rng = Rng::new(i as u64 * 3 + stride as u64);
                let (h, w) = (5 + rng.below(6) as usize, 5 + rng.below(7) as usize);
                let (h, w) = (miri_max(h, 4), miri_max(w, 5));
                let out = |x: usize| (x + 2 * pad - 3) / stride + 1;
                c.p.geometry = Conv2dParams {
                    batch: 1,
                    in_h: h,
                    in_w: w,
                    in_c: ch,
                    out_h: out(h),
                    out_w: out(w),
                    out_c: ch,
                    kernel_h: 3,
                    kernel_w: 3,
                    stride_h: stride,
                    stride_w: stride,
                    dilation_h: 1,
                    dilation_w: 1,
                    pad_top: pad,
                    pad_left: pad,
                    groups: ch,
                    activation: Activation::None,
                };
                c.p.rounding = rounding;
                c.x = (0..h * w * ch).map(|_| rng.int(-128, 127) as i8).collect();
                c.w = (0..ch * 9).map(|_| rng.int(-128, 127) as i8).collect();
                c.bias = Some((0..ch).map(|_| rng.int(-5000, 5000) as i32).collect());
                c.m = (0..ch)
                    .map(|_| (1 << 30) + rng.below(1 << 30) as i32)
                    .collect();
                c.s = (0..ch).map(|_| -(rng.below(12) as i32) - 2).collect();
                for imp in CONV2D_S8_IMPLS {
                    if imp.isa.supported_by_host() {
                        assert_eq!(
                            check_s8(imp.f, &c),
                            Ok(covers(imp.name, &c)),
                            "{} ch {ch} s {stride} p {pad} {rounding:?}",
                            imp.name
                        );
                    }
                }
                n += 1;
            }
        }
    }
    std::println!("{n} depthwise 3x3 cases on every available variant, all bit-exact");
}

/// On aarch64 the three NEON entries are in the list, and the ones the (emulated) CPU supports
/// ran above: under `QEMU_CPU=cortex-a72` NEON only, under `cortex-a76` NEON and the dot
/// product, under `max` the int8 matrix multiply too.
#[cfg(target_arch = "aarch64")]
#[test]
fn conv2d_s8_aarch64_entries_listed() {
    let names: Vec<&str> = CONV2D_S8_IMPLS.iter().map(|i| i.name).collect();
    assert!(names.contains(&"conv2d_s8_neon"));
    assert!(names.contains(&"conv2d_s8_neon_dotprod"));
    assert!(names.contains(&"conv2d_s8_neon_i8mm"));
    for imp in CONV2D_S8_IMPLS {
        std::println!(
            "{}: host support = {}",
            imp.name,
            imp.isa.supported_by_host()
        );
    }
    assert!(Isa::Neon.supported_by_host(), "every aarch64 CPU has NEON");
}

// ---------------------------------------------------------------------------------------------
// f32
// ---------------------------------------------------------------------------------------------

fn make_case_f32(
    family: Family,
    seed: u64,
) -> (Conv2dParams, Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
    let c = make_case(family, seed);
    let mut g = c.p.geometry;
    let mut rng = Rng::new(seed ^ 0xf32);
    g.activation = match rng.below(4) {
        0 => Activation::Relu,
        1 => Activation::Clip { min: 0.0, max: 6.0 },
        _ => Activation::None,
    };
    let k_len = g.kernel_h * g.kernel_w * g.in_c / g.groups;
    let x = rng.units(c.x.len());
    let w = rng.units(g.out_c * k_len);
    let b = c.bias.map(|b| rng.units(b.len()));
    (g, x, w, b)
}

#[test]
fn conv2d_f32_impls_match_reference() {
    for imp in CONV2D_F32_IMPLS {
        if !imp.isa.supported_by_host() {
            std::println!("{}: skipped (host lacks {})", imp.name, imp.isa.name());
            continue;
        }
        let mut accepted = 0;
        let mut total = 0;
        for (fi, &family) in FAMILIES.iter().enumerate() {
            for seed in 0..crate::ops::test_util::iterations(80u64) {
                let (g, x, w, b) = make_case_f32(family, seed * 17 + fi as u64 * 7919);
                let mut want = vec![f32::NAN; out_len(&g)];
                conv2d_f32_reference(&g, &x, &w, b.as_deref(), &mut want);
                let mut got = vec![f32::NAN; out_len(&g)];
                total += 1;
                if (imp.f)(&g, &x, &w, b.as_deref(), &mut got) {
                    accepted += 1;
                    let r = close(&got, &want, 1e-5);
                    assert!(
                        r.is_ok(),
                        "{} {:?} seed {seed}: {:?}\n{g:?}",
                        imp.name,
                        family,
                        r
                    );
                }
            }
        }
        std::println!(
            "{}: {accepted}/{total} cases run, all within 1e-5",
            imp.name
        );
        assert!(accepted > 0, "{} accepted nothing", imp.name);
    }
}

/// Layers larger than the random cases: several bands of the x86 f32 GEMM's band path (40 × 40
/// × 16 takes three), windows read in place (no padding), grouped bands, a deep group beyond
/// the band path, dilation across bands.
#[test]
#[cfg_attr(miri, ignore = "model-sized layers: hours under Miri")]
fn conv2d_f32_impls_model_shapes() {
    // (h, w, in_c, out_c, k, stride, (pad_top, pad_left), dilation, groups)
    let shapes = [
        (40, 40, 16, 16, 3, 1, (1, 1), 1, 1),
        (40, 40, 16, 24, 3, 1, (0, 0), 1, 1),
        (41, 37, 32, 32, 3, 2, (1, 1), 1, 4),
        (30, 30, 24, 8, 3, 1, (2, 2), 2, 1),
        (24, 24, 64, 16, 3, 1, (1, 1), 1, 1),
        (40, 40, 3, 8, 3, 2, (1, 1), 1, 1),
        // Few output channels, short depths (the AVX-512 pixel-lane kernel): VWW's 1×1 8 → 16,
        // ResNet-8's first layer, a dilated stride-2 window, a row of 70 pixels (5 groups).
        (48, 48, 8, 16, 1, 1, (0, 0), 1, 1),
        (13, 11, 32, 16, 1, 1, (0, 0), 1, 1),
        (3, 5, 64, 16, 1, 1, (0, 0), 1, 1),
        (32, 32, 3, 16, 3, 1, (1, 1), 1, 1),
        (21, 23, 2, 8, 3, 2, (2, 2), 2, 1),
        (5, 141, 3, 8, 3, 2, (1, 1), 1, 1),
        // Left padding only, the windows inside the input on the right: not read in place.
        (20, 12, 8, 8, 3, 3, (0, 1), 1, 1),
    ];
    for (i, &(h, w, ic, oc, k, s, (pt, pl), d, groups)) in shapes.iter().enumerate() {
        let mut rng = Rng::new(7000 + i as u64);
        let out = |x: usize, pad: usize| (x + 2 * pad - (k - 1) * d - 1) / s + 1;
        let g = Conv2dParams {
            batch: 1,
            in_h: h,
            in_w: w,
            in_c: ic,
            out_h: out(h, pt),
            out_w: out(w, pl),
            out_c: oc,
            kernel_h: k,
            kernel_w: k,
            stride_h: s,
            stride_w: s,
            dilation_h: d,
            dilation_w: d,
            pad_top: pt,
            pad_left: pl,
            groups,
            activation: Activation::Relu,
        };
        let x = rng.units(h * w * ic);
        let wts = rng.units(oc * k * k * ic / groups);
        let b = rng.units(oc);
        let mut want = vec![f32::NAN; out_len(&g)];
        conv2d_f32_reference(&g, &x, &wts, Some(&b), &mut want);
        for imp in CONV2D_F32_IMPLS {
            if !imp.isa.supported_by_host() {
                continue;
            }
            let mut got = vec![f32::NAN; out_len(&g)];
            if (imp.f)(&g, &x, &wts, Some(&b), &mut got) {
                let r = close(&got, &want, 1e-5);
                assert!(r.is_ok(), "{} shape {i}: {r:?}", imp.name);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Arm DSP kernel, with its instructions emulated on this host (bit-identical to the real ones;
// under QEMU the firmware runs the real instructions, targets/cortex-m/test.sh).
// ---------------------------------------------------------------------------------------------

/// The DSP kernel covers every grouping (dense, depthwise, grouped) whose multipliers are all
/// right shifts (the property tests' depths stay within its im2col row); it declines left-shift
/// multipliers.
fn arm_dsp_covers(c: &Case) -> bool {
    let right =
        c.m.iter().zip(&c.s).all(|(&m, &s)| {
            crate::quant::PreparedMultiplier::new(m, s, c.p.rounding).is_right_shift()
        });
    right
}

#[test]
fn conv2d_s8_arm_dsp_matches_reference() {
    let mut total = 0;
    for (fi, &family) in FAMILIES.iter().enumerate() {
        for seed in 0..crate::ops::test_util::iterations(150u64) {
            let c = make_case(family, seed * 37 + fi as u64 * 999_331);
            let r = check_s8(super::arm_dsp::conv2d_s8_any_host, &c);
            assert!(r.is_ok(), "arm_dsp {family:?} seed {seed}: {r:?}");
            assert_eq!(r, Ok(arm_dsp_covers(&c)), "arm_dsp {family:?} seed {seed}");
            total += 1;
        }
    }
    std::println!("conv2d_s8_arm_dsp (emulated): {total} cases, all bit-exact or declined");
}

proptest! {
    #![proptest_config(crate::ops::test_util::proptest_cases(300))]
    #[test]
    fn conv2d_s8_arm_dsp_matches_reference_prop(family in 0usize..6, seed in any::<u64>()) {
        let c = make_case(FAMILIES[family], seed);
        let r = check_s8(super::arm_dsp::conv2d_s8_any_host, &c);
        prop_assert!(r == Ok(arm_dsp_covers(&c)), "{:?}", r);
    }
}

/// The MLPerf Tiny layer shapes (VWW, IC, KWS first layers, depthwise, pointwise) on the DSP
/// kernel.
#[test]
fn conv2d_s8_arm_dsp_mlperf_shapes() {
    // (h, w, in_c, out_c, kh, kw, stride, pad_t, pad_l, groups)
    let shapes = [
        (96, 96, 3, 8, 3, 3, 2, 0, 0, 1),
        (48, 48, 8, 8, 3, 3, 1, 1, 1, 8),
        (48, 48, 8, 16, 1, 1, 1, 0, 0, 1),
        (12, 12, 64, 64, 3, 3, 2, 0, 0, 64),
        (3, 3, 256, 256, 1, 1, 1, 0, 0, 1),
        (32, 32, 3, 16, 3, 3, 1, 1, 1, 1),
        (16, 16, 32, 64, 3, 3, 2, 0, 0, 1),
        (8, 8, 64, 64, 3, 3, 1, 1, 1, 1),
        (16, 16, 16, 32, 1, 1, 2, 0, 0, 1),
        (49, 10, 1, 64, 10, 4, 2, 4, 1, 1),
        (25, 5, 64, 64, 3, 3, 1, 1, 1, 64),
        (25, 5, 64, 64, 1, 1, 1, 0, 0, 1),
        // Depthwise rows wider than the row buffer (window-by-window path) and just inside it.
        (3, 70, 12, 12, 3, 3, 1, 1, 1, 12),
        (5, 66, 6, 6, 3, 3, 2, 1, 1, 6),
        (4, 62, 8, 8, 3, 3, 1, 1, 1, 8),
    ];
    // Under Miri only the row-buffer edge shapes (the others take hours there; the random
    // shapes cover their paths).
    let first = if cfg!(miri) { shapes.len() - 3 } else { 0 };
    // Both roundings take the same memory paths; Miri runs one.
    let roundings = [Rounding::Double, Rounding::Single];
    let roundings = if cfg!(miri) {
        &roundings[..1]
    } else {
        &roundings[..]
    };
    for (i, &(h, w, ic, oc, kh, kw, s, pt, pl, groups)) in shapes.iter().enumerate().skip(first) {
        for &rounding in roundings {
            let mut c = make_case(Family::Dense, 2000 + i as u64);
            let mut rng = Rng::new(i as u64 + 77);
            let out = |x: usize, k: usize, p: usize| (x + 2 * p - k) / s + 1;
            c.p.geometry = Conv2dParams {
                batch: 1,
                in_h: h,
                in_w: w,
                in_c: ic,
                out_h: out(h, kh, pt),
                out_w: out(w, kw, pl),
                out_c: oc,
                kernel_h: kh,
                kernel_w: kw,
                stride_h: s,
                stride_w: s,
                dilation_h: 1,
                dilation_w: 1,
                pad_top: pt,
                pad_left: pl,
                groups,
                activation: Activation::None,
            };
            c.p.rounding = rounding;
            c.x = (0..h * w * ic).map(|_| rng.int(-128, 127) as i8).collect();
            c.w = (0..oc * kh * kw * ic / groups)
                .map(|_| rng.int(-128, 127) as i8)
                .collect();
            c.bias = Some((0..oc).map(|_| rng.int(-5000, 5000) as i32).collect());
            c.m = (0..oc)
                .map(|_| (1 << 30) + rng.below(1 << 30) as i32)
                .collect();
            c.s = (0..oc).map(|_| -(rng.below(12) as i32) - 6).collect();
            assert_eq!(
                check_s8(super::arm_dsp::conv2d_s8_any_host, &c),
                Ok(true),
                "shape {i} {rounding:?}"
            );
        }
    }
}

/// Instruction-count probe (not a test; `--ignored`): runs `MOTE_PROBE=<kernel name>,<shape>,<reps>`
/// `reps` times on one MLPerf Tiny-like layer shape. Under `qemu-aarch64 -singlestep -d
/// nochain,exec` every executed instruction logs one line, so the difference between two
/// repetition counts is the kernel's dynamic instruction count (`scripts/aarch64-icount.sh`).
#[test]
#[ignore]
fn conv2d_s8_instruction_probe() {
    // (h, w, in_c, out_c, k, stride, pad, groups)
    let shapes = [
        (24, 24, 32, 64, 1, 1, 0, 1),
        (16, 16, 16, 32, 3, 1, 1, 1),
        (32, 32, 3, 16, 3, 2, 1, 1),
        (24, 24, 64, 64, 3, 1, 1, 64),
        (24, 24, 64, 64, 3, 2, 1, 64),
        (12, 12, 64, 128, 1, 1, 0, 1),
    ];
    let Ok(spec) = std::env::var("MOTE_PROBE") else {
        std::println!(
            "set MOTE_PROBE=<kernel>,<shape 0..{}>,<reps>",
            shapes.len() - 1
        );
        return;
    };
    let parts: Vec<&str> = spec.split(',').collect();
    assert_eq!(parts.len(), 3, "MOTE_PROBE");
    let imp = CONV2D_S8_IMPLS.iter().find(|i| i.name == parts[0]);
    assert!(imp.is_some(), "no kernel {}", parts[0]);
    let Some(imp) = imp else { return };
    let (h, w, ic, oc, k, s, pad, groups) = shapes[parts[1].parse::<usize>().unwrap_or(0)];
    let reps: usize = parts[2].parse().unwrap_or(1);
    let mut c = make_case(Family::Dense, 42);
    let mut rng = Rng::new(42);
    let out = |x: usize| (x + 2 * pad - k) / s + 1;
    c.p.geometry = Conv2dParams {
        batch: 1,
        in_h: h,
        in_w: w,
        in_c: ic,
        out_h: out(h),
        out_w: out(w),
        out_c: oc,
        kernel_h: k,
        kernel_w: k,
        stride_h: s,
        stride_w: s,
        dilation_h: 1,
        dilation_w: 1,
        pad_top: pad,
        pad_left: pad,
        groups,
        activation: Activation::None,
    };
    c.p.rounding = Rounding::Double;
    c.x = (0..h * w * ic).map(|_| rng.int(-128, 127) as i8).collect();
    c.w = (0..oc * k * k * ic / groups)
        .map(|_| rng.int(-128, 127) as i8)
        .collect();
    c.bias = Some((0..oc).map(|_| rng.int(-5000, 5000) as i32).collect());
    c.m = (0..oc)
        .map(|_| (1 << 30) + rng.below(1 << 30) as i32)
        .collect();
    c.s = (0..oc).map(|_| -(rng.below(12) as i32) - 6).collect();
    let mut y = vec![0i8; out_len(&c.p.geometry)];
    for _ in 0..reps {
        assert!((imp.f)(
            &c.p,
            &c.x,
            &c.w,
            c.bias.as_deref(),
            &c.m,
            &c.s,
            &mut y
        ));
    }
    std::println!(
        "{} shape {} reps {reps}: checksum {}",
        imp.name,
        parts[1],
        y.iter().map(|&v| i64::from(v)).sum::<i64>()
    );
}

// ---------------------------------------------------------------------------------------------
// Helium kernel, its vector code emulated on this host (bit-identical to the real instructions;
// under QEMU mps3-an547 the firmware runs them, targets/cortex-m/test.sh m55).
// ---------------------------------------------------------------------------------------------

/// The Helium kernel covers dense and grouped convolutions (im2col rows up to `MAX_K` bytes, or
/// read in place when dense) and 3×3 depthwise ones (dilation 1, channels a multiple of 4, padded rows up to
/// `MAX_DW_W` pixels) whose multipliers are all right shifts.
fn helium_covers(c: &Case) -> bool {
    let g = &c.p.geometry;
    let right =
        c.m.iter().zip(&c.s).all(|(&m, &s)| {
            crate::quant::PreparedMultiplier::new(m, s, c.p.rounding).is_right_shift()
        });
    let depthwise_kind = g.groups > 1 && g.in_c == g.groups && g.out_c == g.groups;
    let dense = !depthwise_kind
        && (g.kernel_h * g.kernel_w * g.in_c / g.groups <= super::arm_dsp::MAX_K
            || g.kernel_h == 1
                && g.kernel_w == 1
                && g.groups == 1
                && g.pad_top == 0
                && g.pad_left == 0
                && (g.out_h - 1) * g.stride_h < g.in_h
                && (g.out_w - 1) * g.stride_w < g.in_w);
    let depthwise = g.in_c == g.groups
        && g.out_c == g.groups
        && g.kernel_h == 3
        && g.kernel_w == 3
        && g.dilation_h == 1
        && g.dilation_w == 1
        && g.in_c.is_multiple_of(4)
        && (g.out_w - 1) * g.stride_w + 3 <= super::arm_dsp::MAX_DW_W;
    right && (dense || depthwise)
}

#[test]
fn conv2d_s8_helium_matches_reference() {
    let mut total = 0;
    let mut ran = 0;
    for (fi, &family) in FAMILIES.iter().enumerate() {
        for seed in 0..150u64 {
            let c = make_case(family, seed * 41 + fi as u64 * 999_331);
            let r = check_s8(super::helium::conv2d_s8_any_host, &c);
            assert!(r.is_ok(), "helium {family:?} seed {seed}: {r:?}");
            assert_eq!(
                r,
                Ok(helium_covers(&c)),
                "helium {family:?} seed {seed} {:?}",
                c.p
            );
            total += 1;
            ran += usize::from(r == Ok(true));
        }
    }
    std::println!(
        "conv2d_s8_helium (emulated): {total} cases, {ran} run bit-exact, the rest declined"
    );
    assert!(ran > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn conv2d_s8_helium_matches_reference_prop(family in 0usize..6, seed in any::<u64>()) {
        let c = make_case(FAMILIES[family], seed);
        let r = check_s8(super::helium::conv2d_s8_any_host, &c);
        prop_assert!(r == Ok(helium_covers(&c)), "{:?}", r);
    }
}
