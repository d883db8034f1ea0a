//! Helpers shared by the kernels' unit tests (std is available under `cfg(test)`).
extern crate std;

use std::format;
use std::string::String;
use std::vec::Vec;

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
