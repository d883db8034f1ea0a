//! Deterministic random inputs (no dependency): SplitMix64 and the Box–Muller transform.

use crate::model::Port;
use mote_format::DType;

/// SplitMix64: a small, fast generator; the same seed gives the same stream everywhere.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
    /// Standard normal.
    pub fn normal(&mut self) -> f32 {
        let (u1, u2) = (self.uniform(), self.uniform());
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }
}

/// Standard-normal floats for `n` elements from `seed`.
pub fn normal_f32(n: usize, seed: u64) -> Vec<f32> {
    let mut r = SplitMix64::new(seed);
    (0..n).map(|_| r.normal()).collect()
}

/// Random little-endian input bytes for `port`: standard normal floats, or uniform integers in
/// the type's range for integer inputs. Input `k` of trial `seed` uses stream `seed * 1000 + k`.
pub fn random_input(port: &Port, seed: u64, k: usize) -> Vec<u8> {
    let s = seed.wrapping_mul(1000).wrapping_add(k as u64);
    let n = port.elements();
    let mut r = SplitMix64::new(s);
    match port.dtype {
        DType::F32 => normal_f32(n, s)
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect(),
        DType::I32 => (0..n)
            .flat_map(|_| ((r.next_u64() % 256) as i32 - 128).to_le_bytes())
            .collect(),
        DType::I8 | DType::U8 => (0..n).map(|_| r.next_u64() as u8).collect(),
    }
}
