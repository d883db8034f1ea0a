//! Kernel throughput on layer shapes taken from the models (MobileNetV2, ResNeXt-50/29, MLPerf
//! Tiny VWW), every variant of each op's `IMPLS` list side by side, in GMAC/s (criterion's
//! "elem/s" throughput counts multiply-accumulates; for pooling it counts window taps read,
//! `output elements × kernel taps`).
//!
//! `cargo bench -p mote-kernels --features std --bench kernels [-- FILTER]`; variants whose instruction set the
//! host lacks are skipped. `-- peak` measures the machine's multiply-accumulate peak (below).
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mote_kernels::ops::binary::{AddS8Params, BinaryOp, BinaryParams, ADD_S8_IMPLS};
use mote_kernels::ops::conv2d::{
    conv2d_f32_cache_len, conv2d_f32_cached, conv2d_f32_fill_cache, Conv2dParams, Conv2dS8Params,
    CONV2D_F32_IMPLS, CONV2D_S8_IMPLS,
};
use mote_kernels::ops::fully_connected::{
    FullyConnectedParams, FullyConnectedS8Params, FULLY_CONNECTED_F32_IMPLS,
    FULLY_CONNECTED_S8_IMPLS,
};
use mote_kernels::ops::pool2d::{
    Pool2dParams, Pool2dS8Params, AVG_POOL_F32_IMPLS, AVG_POOL_S8_IMPLS, MAX_POOL_F32_IMPLS,
    MAX_POOL_S8_IMPLS,
};
use mote_kernels::quant::{quantize_multiplier, Rounding};
use mote_kernels::{Activation, Shape as TensorShape};

/// Deterministic bytes (no extra crates).
fn bytes(n: usize, seed: u64) -> Vec<i8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as i8
        })
        .collect()
}

fn floats(n: usize, seed: u64) -> Vec<f32> {
    bytes(n, seed)
        .into_iter()
        .map(|b| f32::from(b) / 128.0)
        .collect()
}

/// (name, h, w, in_c, out_c, kernel, stride, groups)
type Shape = (
    &'static str,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

const CONV_SHAPES: &[Shape] = &[
    ("mnv2_1x1_7x7x960_160", 7, 7, 960, 160, 1, 1, 1),
    ("mnv2_1x1_14x14x384_64", 14, 14, 384, 64, 1, 1, 1),
    ("mnv2_1x1_56x56x24_144", 56, 56, 24, 144, 1, 1, 1),
    ("mnv2_1x1_112x112x16_96", 112, 112, 16, 96, 1, 1, 1),
    ("resnext_1x1_56x56x256_128", 56, 56, 256, 128, 1, 1, 1),
    ("resnext_g32_3x3_56x56x128", 56, 56, 128, 128, 3, 1, 32),
    ("resnext_g32_3x3_28x28x256", 28, 28, 256, 256, 3, 1, 32),
    ("resnext29_g8_3x3_32x32x128", 32, 32, 128, 128, 3, 1, 8),
    ("resnext29_g8_3x3_16x16x512", 16, 16, 512, 512, 3, 1, 8),
    ("dense_3x3_56x56x64_64", 56, 56, 64, 64, 3, 1, 1),
    ("first_3x3_s2_224x224x3_32", 224, 224, 3, 32, 3, 2, 1),
    ("vww_first_3x3_s2_96x96x3_8", 96, 96, 3, 8, 3, 2, 1),
    ("resnext29_first_3x3_32x32x3_64", 32, 32, 3, 64, 3, 1, 1),
    ("resnet8_3x3_32x32x16_16", 32, 32, 16, 16, 3, 1, 1),
    ("vww_dw_3x3_48x48x8", 48, 48, 8, 8, 3, 1, 8),
    ("vww_1x1_48x48x8_16", 48, 48, 8, 16, 1, 1, 1),
    ("mnv2_dw_3x3_56x56x144", 56, 56, 144, 144, 3, 1, 144),
    ("mnv2_dw_3x3_s2_112x112x96", 112, 112, 96, 96, 3, 2, 96),
    ("mnv2_dw_3x3_7x7x960", 7, 7, 960, 960, 3, 1, 960),
];

fn geometry(&(_, h, w, ic, oc, k, s, groups): &Shape) -> Conv2dParams {
    let pad = k / 2;
    let out = |x: usize| (x + 2 * pad - k) / s + 1;
    Conv2dParams {
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
        activation: Activation::Relu,
    }
}

fn macs(g: &Conv2dParams) -> u64 {
    (g.out_h * g.out_w * g.out_c * g.kernel_h * g.kernel_w * g.in_c / g.groups) as u64
}

fn config(c: &mut Criterion) -> criterion::BenchmarkGroup<'_, criterion::measurement::WallTime> {
    let mut grp = c.benchmark_group("kernels");
    grp.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
    grp
}

fn conv_s8(c: &mut Criterion) {
    let mut grp = config(c);
    for shape in CONV_SHAPES {
        let g = geometry(shape);
        let p = Conv2dS8Params {
            geometry: g,
            input_offset: 5,
            output_offset: -3,
            act_min: -3,
            act_max: 127,
            rounding: Rounding::Double,
        };
        let x = bytes(g.in_h * g.in_w * g.in_c, 1);
        let w = bytes(g.out_c * g.kernel_h * g.kernel_w * g.in_c / g.groups, 2);
        let bias: Vec<i32> = (0..g.out_c as i32).map(|i| i * 37 - 500).collect();
        let m: Vec<i32> = (0..g.out_c)
            .map(|i| (1 << 30) + (i as i32) * 1_000_003)
            .collect();
        let s: Vec<i32> = (0..g.out_c).map(|i| -8 - (i % 4) as i32).collect();
        let mut y = vec![0i8; g.out_h * g.out_w * g.out_c];
        grp.throughput(Throughput::Elements(macs(&g)));
        for imp in CONV2D_S8_IMPLS {
            if !imp.isa.available() {
                eprintln!("{}: skipped (host lacks {})", imp.name, imp.isa.name());
                continue;
            }
            // Variants that do not cover a shape (the depthwise-only kernels on dense layers) are
            // not benchmarked on it.
            if !(imp.f)(&p, &x, &w, Some(&bias), &m, &s, &mut y) {
                continue;
            }
            grp.bench_function(format!("conv2d_s8/{}/{}", shape.0, imp.name), |b| {
                b.iter(|| (imp.f)(&p, black_box(&x), &w, Some(&bias), &m, &s, &mut y))
            });
        }
        // The best variant with `--rounding float` parameters (ReLU6-like clamp): f32 scales
        // in the multiplier words.
        let pf = Conv2dS8Params {
            rounding: Rounding::Float,
            ..p
        };
        let mf: Vec<i32> = (0..g.out_c)
            .map(|i| (0.0004f32 + i as f32 * 1e-6).to_bits() as i32)
            .collect();
        let best = CONV2D_S8_IMPLS
            .iter()
            .filter(|i| i.isa.available())
            .find(|i| (i.f)(&pf, &x, &w, Some(&bias), &mf, &s, &mut y));
        if let Some(imp) = best {
            grp.bench_function(format!("conv2d_s8/{}/float_rounding", shape.0), |b| {
                b.iter(|| (imp.f)(&pf, black_box(&x), &w, Some(&bias), &mf, &s, &mut y))
            });
        }
    }
}

fn conv_f32(c: &mut Criterion) {
    let mut grp = config(c);
    for shape in CONV_SHAPES {
        let g = geometry(shape);
        let x = floats(g.in_h * g.in_w * g.in_c, 1);
        let w = floats(g.out_c * g.kernel_h * g.kernel_w * g.in_c / g.groups, 2);
        let bias = floats(g.out_c, 3);
        let mut y = vec![0f32; g.out_h * g.out_w * g.out_c];
        grp.throughput(Throughput::Elements(macs(&g)));
        for imp in CONV2D_F32_IMPLS {
            if !imp.isa.available() {
                continue;
            }
            // Variants that do not cover a shape are not benchmarked on it.
            if !(imp.f)(&g, &x, &w, Some(&bias), &mut y) {
                continue;
            }
            grp.bench_function(format!("conv2d_f32/{}/{}", shape.0, imp.name), |b| {
                b.iter(|| (imp.f)(&g, black_box(&x), &w, Some(&bias), &mut y))
            });
        }
        // What a model runs on a host: the best variant with the weights packed once at load.
        let mut cache = vec![0f32; conv2d_f32_cache_len(&g, w.len(), true)];
        if !cache.is_empty() && conv2d_f32_fill_cache(&g, &w, true, &mut cache) {
            grp.bench_function(format!("conv2d_f32/{}/cached", shape.0), |b| {
                b.iter(|| conv2d_f32_cached(&g, black_box(&x), &w, Some(&bias), &cache, &mut y))
            });
        }
    }
}

/// (name, rows, depth, units, input offset): the classifiers read an average pool of ReLU
/// outputs (zero point −128, offset 128, as in the bench-peers models); 7 is any other offset.
const FC_SHAPES: &[(&str, usize, usize, usize, i32)] = &[
    ("mnv2_head_1280_1000", 1, 1280, 1000, 128),
    ("mnv2_head_1280_1000_offset7", 1, 1280, 1000, 7),
    ("resnext_head_2048_1000", 1, 2048, 1000, 128),
    ("kws_fc_64_12", 1, 64, 12, 7),
    ("batch8_256_256", 8, 256, 256, 7),
];

fn fc(c: &mut Criterion) {
    let mut grp = config(c);
    for &(name, rows, depth, units, input_offset) in FC_SHAPES {
        let p = FullyConnectedS8Params {
            rows,
            depth,
            units,
            input_offset,
            output_offset: 4,
            act_min: -128,
            act_max: 127,
            rounding: Rounding::Double,
        };
        let x = bytes(rows * depth, 1);
        let w = bytes(units * depth, 2);
        let bias: Vec<i32> = (0..units as i32).map(|i| i * 11 - 300).collect();
        let m = [1_518_500_250];
        let s = [-9];
        let mut y = vec![0i8; rows * units];
        grp.throughput(Throughput::Elements((rows * depth * units) as u64));
        for imp in FULLY_CONNECTED_S8_IMPLS {
            if !imp.isa.available() {
                continue;
            }
            grp.bench_function(format!("fully_connected_s8/{name}/{}", imp.name), |b| {
                b.iter(|| (imp.f)(&p, black_box(&x), &w, Some(&bias), &m, &s, &mut y))
            });
        }
        let pf = FullyConnectedParams {
            rows,
            depth,
            units,
            activation: Activation::None,
        };
        let xf = floats(rows * depth, 1);
        let wf = floats(units * depth, 2);
        let bf = floats(units, 3);
        let mut yf = vec![0f32; rows * units];
        for imp in FULLY_CONNECTED_F32_IMPLS {
            if !imp.isa.available() {
                continue;
            }
            grp.bench_function(format!("fully_connected_f32/{name}/{}", imp.name), |b| {
                b.iter(|| (imp.f)(&pf, black_box(&xf), &wf, Some(&bf), &mut yf))
            });
        }
    }
}

/// (name, elements): residual adds of the models.
const ADD_SHAPES: &[(&str, usize)] = &[
    ("resnext29_32x32x256", 32 * 32 * 256),
    ("mnv2_56x56x24", 56 * 56 * 24),
];

/// int8 residual Add with LiteRT's parameters for typical scales (throughput in elements/s).
fn add_s8(c: &mut Criterion) {
    let mut grp = config(c);
    for &(name, n) in ADD_SHAPES {
        let shape = TensorShape::new(&[1, n]);
        // LiteRT's Prepare for scales 0.031, 0.017 -> 0.045 (left shift 20), as the tests' helper.
        let (s1, s2, so) = (0.031f32, 0.017f32, 0.045f32);
        let twice_max = f64::from(2.0 * s1.max(s2));
        let (m1, sh1) = quantize_multiplier(f64::from(s1) / twice_max);
        let (m2, sh2) = quantize_multiplier(f64::from(s2) / twice_max);
        let (mo, sho) = quantize_multiplier(twice_max / f64::from((1u32 << 20) as f32 * so));
        let p = AddS8Params {
            shapes: BinaryParams {
                op: BinaryOp::Add,
                a: shape,
                b: shape,
                out: shape,
                activation: Activation::None,
            },
            input1_offset: 128,
            input2_offset: 3,
            output_offset: -100,
            left_shift: 20,
            input1_multiplier: m1,
            input1_shift: sh1,
            input2_multiplier: m2,
            input2_shift: sh2,
            output_multiplier: mo,
            output_shift: sho,
            act_min: -100,
            act_max: 127,
            rounding: Rounding::Double,
        };
        let a = bytes(n, 1);
        let b = bytes(n, 2);
        let mut y = vec![0i8; n];
        grp.throughput(Throughput::Elements(n as u64));
        for imp in ADD_S8_IMPLS {
            if !imp.isa.available() {
                continue;
            }
            grp.bench_function(format!("add_s8/{name}/{}", imp.name), |bch| {
                bch.iter(|| (imp.f)(&p, black_box(&a), &b, &mut y))
            });
        }
    }
}

/// The core's multiply-accumulate peak from register-only loops (no loads; 12 independent
/// chains, enough to cover the instructions' latency), so the kernels' GMAC/s read as a fraction
/// of what this machine does: `peak/vpmaddwd_ymm` (AVX2 without VNNI: 16 int8·int8 products
/// summed in pairs per instruction, counted as 16 MACs; the `vpaddd` that accumulates them in a
/// kernel runs on other ports) and `peak/fma_f32_ymm` (8 f32 MACs per instruction); with
/// AVX-512 VNNI also `peak/vpdpbusd_zmm` (64 int8 MACs per instruction) and `peak/fma_f32_zmm`.
fn peak(c: &mut Criterion) {
    #[cfg(target_arch = "x86_64")]
    {
        const ROUNDS: u64 = 4096;
        const CHAINS: u64 = 12;
        let mut grp = config(c);
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            grp.throughput(Throughput::Elements(ROUNDS * CHAINS * 16));
            grp.bench_function("peak/vpmaddwd_ymm", |bch| {
                // SAFETY: AVX2 detected just above.
                bch.iter(|| unsafe { peak_x86::vpmaddwd(black_box(3), ROUNDS) })
            });
            grp.bench_function("peak/vpmaddwd_vpaddd_ymm", |bch| {
                // SAFETY: AVX2 detected just above.
                bch.iter(|| unsafe { peak_x86::vpmaddwd_vpaddd(black_box(3), ROUNDS) })
            });
            grp.throughput(Throughput::Elements(ROUNDS * CHAINS * 8));
            grp.bench_function("peak/fma_f32_ymm", |bch| {
                // SAFETY: AVX2 and FMA detected just above.
                bch.iter(|| unsafe { peak_x86::fma(black_box(0.5), ROUNDS) })
            });
        }
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vnni") {
            grp.throughput(Throughput::Elements(ROUNDS * CHAINS * 64));
            grp.bench_function("peak/vpdpbusd_zmm", |bch| {
                // SAFETY: AVX-512 F and VNNI detected just above.
                bch.iter(|| unsafe { peak_x86::vpdpbusd(black_box(3), ROUNDS) })
            });
            grp.throughput(Throughput::Elements(ROUNDS * CHAINS * 16));
            grp.bench_function("peak/fma_f32_zmm", |bch| {
                // SAFETY: AVX-512 F detected just above.
                bch.iter(|| unsafe { peak_x86::fma_zmm(black_box(0.5), ROUNDS) })
            });
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = c;
}

#[cfg(target_arch = "x86_64")]
mod peak_x86 {
    use std::arch::x86_64::*;

    /// `rounds` × 12 dependent-per-chain `vpmaddwd` on registers (each chain multiplies its own
    /// result, so nothing can be hoisted); returns a lane so nothing is dead.
    ///
    /// # Safety
    /// AVX2 available.
    #[target_feature(enable = "avx2")]
    pub unsafe fn vpmaddwd(seed: i16, rounds: u64) -> i32 {
        let b = _mm256_set1_epi16(seed);
        let mut acc = [_mm256_set1_epi16(1); 12];
        for _ in 0..rounds {
            for v in acc.iter_mut() {
                *v = _mm256_madd_epi16(*v, b);
            }
        }
        let mut s = _mm256_setzero_si256();
        for v in acc {
            s = _mm256_add_epi32(s, v);
        }
        _mm256_extract_epi32::<0>(s)
    }

    /// What an int8 GEMM tile without VNNI must run: `rounds` × 12 `vpmaddwd` each followed by
    /// the `vpaddd` that accumulates it (12 chains, registers only), the ceiling of the AVX2
    /// tiles below the `vpmaddwd`-only peak.
    ///
    /// # Safety
    /// AVX2 available.
    #[target_feature(enable = "avx2")]
    pub unsafe fn vpmaddwd_vpaddd(seed: i16, rounds: u64) -> i32 {
        let a = _mm256_set1_epi16(seed);
        let b = _mm256_set1_epi16(seed + 1);
        let mut acc = [_mm256_set1_epi16(1); 12];
        for _ in 0..rounds {
            for (i, v) in acc.iter_mut().enumerate() {
                let m = if i % 2 == 0 { a } else { b };
                *v = _mm256_add_epi32(m, _mm256_madd_epi16(*v, b));
            }
        }
        let mut s = _mm256_setzero_si256();
        for v in acc {
            s = _mm256_add_epi32(s, v);
        }
        _mm256_extract_epi32::<0>(s)
    }

    /// `rounds` × 12 chained `vpdpbusd` on 512-bit registers (64 int8 MACs each: the issue's
    /// VNNI peak).
    ///
    /// # Safety
    /// AVX-512 F and VNNI available.
    #[target_feature(enable = "avx512f,avx512vnni")]
    pub unsafe fn vpdpbusd(seed: i8, rounds: u64) -> i32 {
        let a = _mm512_set1_epi8(seed);
        let b = _mm512_set1_epi8(seed.wrapping_add(1));
        let mut acc = [_mm512_set1_epi32(1); 12];
        for _ in 0..rounds {
            for v in acc.iter_mut() {
                *v = _mm512_dpbusd_epi32(*v, a, b);
            }
        }
        let mut s = _mm512_setzero_si512();
        for v in acc {
            s = _mm512_add_epi32(s, v);
        }
        _mm512_reduce_add_epi32(s)
    }

    /// `rounds` × 12 chained f32 FMAs on 512-bit registers.
    ///
    /// # Safety
    /// AVX-512 F available.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn fma_zmm(seed: f32, rounds: u64) -> f32 {
        let a = _mm512_set1_ps(seed);
        let b = _mm512_set1_ps(0.999);
        let mut acc = [_mm512_set1_ps(1.0); 12];
        for _ in 0..rounds {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_ps(*v, b, a);
            }
        }
        let mut s = _mm512_setzero_ps();
        for v in acc {
            s = _mm512_add_ps(s, v);
        }
        _mm512_reduce_add_ps(s)
    }

    /// `rounds` × 12 chained f32 FMAs on registers.
    ///
    /// # Safety
    /// AVX2 and FMA available.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn fma(seed: f32, rounds: u64) -> f32 {
        let a = _mm256_set1_ps(seed);
        let b = _mm256_set1_ps(0.999);
        let mut acc = [_mm256_set1_ps(1.0); 12];
        for _ in 0..rounds {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_ps(*v, b, a);
            }
        }
        let mut s = _mm256_setzero_ps();
        for v in acc {
            s = _mm256_add_ps(s, v);
        }
        _mm256_cvtss_f32(s)
    }
}

/// (name, max, in_h = in_w, channels, kernel, stride, pad): the models' pooling layers.
const POOL_SHAPES: &[(&str, bool, usize, usize, usize, usize, usize)] = &[
    ("resnext_max_3x3_s2_112x112x64", true, 112, 64, 3, 2, 1),
    ("mnv2_global_avg_7x7x1280", false, 7, 1280, 7, 1, 0),
    ("resnet8_avg_8x8x64", false, 8, 64, 8, 8, 0),
];

fn pool(c: &mut Criterion) {
    let mut grp = config(c);
    for &(name, max, side, channels, kernel, stride, pad) in POOL_SHAPES {
        let out = (side + 2 * pad - kernel) / stride + 1;
        let g = Pool2dParams {
            batch: 1,
            in_h: side,
            in_w: side,
            channels,
            out_h: out,
            out_w: out,
            kernel_h: kernel,
            kernel_w: kernel,
            stride_h: stride,
            stride_w: stride,
            dilation_h: 1,
            dilation_w: 1,
            pad_top: pad,
            pad_left: pad,
            pad_bottom: pad,
            pad_right: pad,
            count_include_pad: false,
            activation: Activation::None,
        };
        let q = Pool2dS8Params {
            geometry: g,
            act_min: -128,
            act_max: 127,
        };
        grp.throughput(Throughput::Elements(
            (out * out * channels * kernel * kernel) as u64,
        ));
        let (f32s, s8s) = if max {
            (MAX_POOL_F32_IMPLS, MAX_POOL_S8_IMPLS)
        } else {
            (AVG_POOL_F32_IMPLS, AVG_POOL_S8_IMPLS)
        };
        let x = floats(side * side * channels, 1);
        let mut y = vec![0f32; out * out * channels];
        for imp in f32s.iter().filter(|i| i.isa.available()) {
            grp.bench_function(format!("pool2d_f32/{name}/{}", imp.name), |b| {
                b.iter(|| (imp.f)(&g, black_box(&x), &mut y))
            });
        }
        let xs = bytes(side * side * channels, 1);
        let mut ys = vec![0i8; out * out * channels];
        for imp in s8s.iter().filter(|i| i.isa.available()) {
            grp.bench_function(format!("pool2d_s8/{name}/{}", imp.name), |b| {
                b.iter(|| (imp.f)(&q, black_box(&xs), &mut ys))
            });
        }
    }
}

criterion_group!(benches, peak, conv_s8, conv_f32, fc, add_s8, pool);
criterion_main!(benches);
