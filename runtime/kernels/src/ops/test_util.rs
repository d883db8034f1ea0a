//! Helpers shared by the kernels' unit tests (std is available under `cfg(test)`).
extern crate std;

use std::format;
use std::string::String;
use std::vec::Vec;

use crate::quant::{quantize_multiplier, Rounding};

/// Small deterministic generator (xorshift64*), so test data needs no extra crates.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// An integer in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An integer in `lo..=hi`, as f32 (exact: sums of such values stay exact in f32 and f64,
    /// so kernels can be compared bit for bit against naive f64 formulas).
    pub(crate) fn int(&mut self, lo: i32, hi: i32) -> f32 {
        let span = (hi - lo + 1) as u64;
        (lo + (self.next_u64() % span) as i32) as f32
    }

    /// A value in `[-1, 1)`.
    pub(crate) fn unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// `n` integers in `lo..=hi`.
    pub(crate) fn ints(&mut self, n: usize, lo: i32, hi: i32) -> Vec<f32> {
        (0..n).map(|_| self.int(lo, hi)).collect()
    }

    /// `n` values in `[-1, 1)`.
    pub(crate) fn units(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.unit()).collect()
    }
}

/// `Ok` when every `actual[i]` is within `tol · (1 + |expected[i]|)` of `expected[i]` and the
/// lengths match (NaNs must match NaNs).
pub(crate) fn close(actual: &[f32], expected: &[f32], tol: f32) -> Result<(), String> {
    if actual.len() != expected.len() {
        return Err(format!(
            "length {} != expected {}",
            actual.len(),
            expected.len()
        ));
    }
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let ok = if e.is_nan() {
            a.is_nan()
        } else {
            (a - e).abs() <= tol * (1.0 + e.abs())
        };
        if !ok {
            return Err(format!(
                "index {i}: got {a}, expected {e}\nactual   {actual:?}\nexpected {expected:?}"
            ));
        }
    }
    Ok(())
}

/// Asserts [`close`].
#[track_caller]
pub(crate) fn assert_close(actual: &[f32], expected: &[f32], tol: f32) {
    let r = close(actual, expected, tol);
    assert!(r.is_ok(), "{}", r.err().unwrap_or_default());
}

/// Permutes a dense row-major tensor of shape `dims`: output axis `i` is input axis `perm[i]`.
/// Written with per-element index decomposition (deliberately unlike the odometer kernels).
pub(crate) fn permute<T: Copy + Default>(data: &[T], dims: &[usize], perm: &[usize]) -> Vec<T> {
    let rank = dims.len();
    let out_dims: Vec<usize> = perm.iter().map(|&a| dims[a]).collect();
    let total: usize = dims.iter().product();
    let mut out = std::vec![T::default(); total];
    for (flat, o) in out.iter_mut().enumerate() {
        // Decompose the output index, then rebuild the input index.
        let mut rem = flat;
        let mut oidx = std::vec![0usize; rank];
        for a in (0..rank).rev() {
            oidx[a] = rem % out_dims[a];
            rem /= out_dims[a];
        }
        let mut iidx = std::vec![0usize; rank];
        for (i, &a) in perm.iter().enumerate() {
            iidx[a] = oidx[i];
        }
        let mut src = 0usize;
        for a in 0..rank {
            src = src * dims[a] + iidx[a];
        }
        *o = data[src];
    }
    out
}

/// `⌊a / b⌋` for `b > 0`.
fn floor_div(a: i128, b: i128) -> i128 {
    a.div_euclid(b)
}

fn saturate_i32(v: i128) -> i32 {
    v.clamp(i32::MIN as i128, i32::MAX as i128) as i32
}

/// `q / 2^e` rounded to nearest, ties away from zero (gemmlowp's `RoundingDivideByPOT` rule),
/// written as sign-magnitude integer arithmetic.
pub(crate) fn round_half_away_div_pot(q: i128, e: u32) -> i128 {
    let e = e.min(100);
    let d = 1i128 << e;
    let half = d / 2; // 0 when e == 0
    if q >= 0 {
        (q + half) / d
    } else {
        -((-q + half) / d)
    }
}

/// The requantization oracle: `multiply_by_quantized_multiplier` written from its rounding rules
/// in 128-bit arithmetic, with none of gemmlowp's structure (no nudges, masks or thresholds):
/// - Double: `q = ⌊(x·2^ls·m + 2^30) / 2^31⌋` saturated to i32, then `q / 2^rs` rounded half
///   away from zero;
/// - Single: `⌊(x·m + 2^(s−1)) / 2^s⌋` with `s = 31 − shift` (an exact left shift if `s ≤ 0`),
///   saturated;
/// - Float: the exact product of `x` rounded to f32 and the scale, computed in f64 (24 × 24
///   significant bits are exact there), rounded once to f32, then to an integer half to even in
///   f64 — not the f32 multiply the kernels use — saturated.
pub(crate) fn mbqm_oracle(x: i32, m: i32, shift: i32, rounding: Rounding) -> i32 {
    if rounding == Rounding::Float {
        let exact = f64::from(x as f32) * f64::from(f32::from_bits(m as u32));
        return f64::from(exact as f32).round_ties_even() as i32;
    }
    let (x, m) = (x as i128, m as i128);
    match rounding {
        Rounding::Double => {
            let ls = shift.clamp(0, 64) as u32;
            let rs = (-(shift as i64)).clamp(0, 100) as u32;
            let q = floor_div((x << ls) * m + (1 << 30), 1 << 31);
            let q = saturate_i32(q) as i128;
            saturate_i32(round_half_away_div_pot(q, rs))
        }
        Rounding::Single | Rounding::Float => {
            let s = 31 - shift as i64;
            if s <= 0 {
                saturate_i32((x * m) << (-s).min(64))
            } else {
                let s = s.min(126) as u32;
                saturate_i32(floor_div(x * m + (1i128 << (s - 1)), 1i128 << s))
            }
        }
    }
}

/// A random positive, finite f32 scale's bits for [`Rounding::Float`]: mostly in `[2^-14, 2^-2)`
/// (trained layers), sometimes a power of two (products on exact ties), large enough to clamp
/// and overflow i32, or tiny.
pub(crate) fn float_scale_bits(rng: &mut Rng) -> i32 {
    let scale = match rng.below(8) {
        0 => 2f32.powi(-(rng.int(0, 12) as i32)),
        1 => {
            2f32.powi(rng.int(0, 20) as i32) * (1.0 + rng.below(1 << 20) as f32 / (1 << 20) as f32)
        }
        2 => f32::MIN_POSITIVE * (1 + rng.below(1000)) as f32,
        _ => {
            let e = -(rng.int(2, 14) as i32);
            2f32.powi(e) * (1.0 + rng.below(1 << 23) as f32 / (1 << 23) as f32)
        }
    };
    scale.to_bits() as i32
}

/// LiteRT's per-channel conv/depthwise Prepare (`PopulateConvolutionQuantizationParams`): for
/// each channel, `QuantizeMultiplier((double)input_scale · (double)weight_scale /
/// (double)output_scale)`.
pub(crate) fn conv_multipliers(
    input_scale: f32,
    weight_scales: &[f32],
    output_scale: f32,
) -> (Vec<i32>, Vec<i32>) {
    weight_scales
        .iter()
        .map(|&w| {
            quantize_multiplier(f64::from(input_scale) * f64::from(w) / f64::from(output_scale))
        })
        .unzip()
}

/// `n` int8 values in `lo..=hi`.
pub(crate) fn i8s(rng: &mut Rng, n: usize, lo: i32, hi: i32) -> Vec<i8> {
    (0..n).map(|_| rng.int(lo, hi) as i8).collect()
}

/// Asserts two int8 slices are equal, reporting the first difference.
#[track_caller]
pub(crate) fn assert_s8_eq(actual: &[i8], expected: &[i8], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let first = (0..actual.len()).find(|&i| actual[i] != expected[i]);
    assert!(
        first.is_none(),
        "{what}: first difference at {first:?}\nactual   {actual:?}\nexpected {expected:?}"
    );
}

/// How many iterations a seeded test loop runs under Miri at most (see [`iterations`]).
pub(crate) const MIRI_ITERATIONS: u8 = 3;

/// `n`, or at most [`MIRI_ITERATIONS`] under Miri: loops over random seeds (each drawing odd
/// sizes that hit the SIMD tails) keep their first few seeds, enough for Miri to walk every
/// load and store of a kernel at its edges; the ordinary build runs all `n`.
pub(crate) fn iterations<T: Copy + Ord + From<u8>>(n: T) -> T {
    if cfg!(miri) {
        n.min(T::from(MIRI_ITERATIONS))
    } else {
        n
    }
}

/// `n`, capped at `max` under Miri: shapes drawn by the tests (channels, rows, columns) shrink
/// to sizes Miri interprets in seconds. Callers pick caps past the widest vector width plus one
/// (e.g. 33 channels: two 16-lane blocks and a 1-lane tail), so the loads and stores at the
/// edges still run; the ordinary build is unchanged.
pub(crate) fn miri_max(n: usize, max: usize) -> usize {
    if cfg!(miri) {
        n.min(max)
    } else {
        n
    }
}

/// Proptest settings with `cases` cases, or 2 under Miri (which runs the same code thousands of
/// times slower; two random cases still walk every path of a kernel once more, and the fixed
/// tests cover the edges). Failure persistence is off under Miri (no file system in isolation).
pub(crate) fn proptest_cases(cases: u32) -> proptest::test_runner::Config {
    if cfg!(miri) {
        proptest::test_runner::Config {
            cases: 2,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        }
    } else {
        proptest::test_runner::Config::with_cases(cases)
    }
}
