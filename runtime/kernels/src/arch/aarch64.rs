//! aarch64: CPU detection (NEON, dot product, int8 matrix multiply), the zero-sized tokens that
//! prove it, the vector form of the int8 output stage, and `sdot` and `smmla` through `asm!`
//! (`vdotq_s32` and `vmmlaq_s32` are nightly-only).
//!
//! The vector requantization is [`multiply_by_quantized_multiplier`] with
//! [`Rounding::Double`](crate::quant::Rounding::Double) on 4 lanes, for shifts in `[-31, 30]`:
//! `SQRDMULH` is gemmlowp's `SaturatingRoundingDoublingHighMul` exactly (it is what gemmlowp's
//! NEON path uses), and `RoundingDivideByPOT` is gemmlowp's NEON form (a `−1` fix-up for
//! negative values, then the rounding shift `SRSHL`). Lanes whose left shift would overflow are
//! reported so callers recompute them with the scalar function. The tests at the end compare it
//! with the scalar definition on edge values and every shift.
//!
//! [`multiply_by_quantized_multiplier`]: crate::quant::multiply_by_quantized_multiplier

use core::arch::aarch64::*;
use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

use super::OutputStage;
use crate::dispatch::Isa;

const DETECTED: u8 = 1;
const HAS_NEON: u8 = 2;
const HAS_DOTPROD: u8 = 4;
const HAS_I8MM: u8 = 8;

/// Detection result, `0` until the first query.
static FEATURES: AtomicU8 = AtomicU8::new(0);

#[cfg(any(feature = "std", test))]
fn detect() -> u8 {
    use std::arch::is_aarch64_feature_detected as has;
    let mut f = DETECTED;
    if has!("neon") {
        f |= HAS_NEON;
        if has!("dotprod") {
            f |= HAS_DOTPROD;
            if has!("i8mm") {
                f |= HAS_I8MM;
            }
        }
    }
    f
}

#[cfg(not(any(feature = "std", test)))]
fn detect() -> u8 {
    let mut f = DETECTED;
    if cfg!(target_feature = "neon") {
        f |= HAS_NEON;
        if cfg!(target_feature = "dotprod") {
            f |= HAS_DOTPROD;
            if cfg!(target_feature = "i8mm") {
                f |= HAS_I8MM;
            }
        }
    }
    f
}

/// Whether the host supports `isa` (detected once, then cached).
#[inline]
pub(crate) fn host_supports(isa: Isa) -> bool {
    let mut f = FEATURES.load(Ordering::Relaxed);
    if f == 0 {
        // Racing first calls compute the same value; storing it twice is harmless.
        f = detect();
        FEATURES.store(f, Ordering::Relaxed);
    }
    match isa {
        Isa::Reference => true,
        Isa::Neon => f & HAS_NEON != 0,
        Isa::NeonDotprod => f & HAS_DOTPROD != 0 && f & HAS_NEON != 0,
        // Set only together with the other two (`detect`).
        Isa::NeonI8mm => f & HAS_I8MM != 0,
        _ => false,
    }
}

/// Proof that NEON is available and allowed by [`crate::dispatch::set_limit`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Neon(());

impl Neon {
    /// A token if the instruction set is available.
    #[inline]
    pub(crate) fn get() -> Option<Self> {
        Isa::Neon.available().then_some(Neon(()))
    }
}

/// Proof that NEON and the dot-product instructions are available (and allowed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NeonDotprod(());

impl NeonDotprod {
    /// A token if the instruction set is available.
    #[inline]
    pub(crate) fn get() -> Option<Self> {
        Isa::NeonDotprod.available().then_some(NeonDotprod(()))
    }
}

/// Proof that NEON, the dot product and the int8 matrix multiply are available (and allowed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NeonI8mm(());

impl NeonI8mm {
    /// A token if the instruction set is available.
    #[inline]
    pub(crate) fn get() -> Option<Self> {
        Isa::NeonI8mm.available().then_some(NeonI8mm(()))
    }
}

/// `SMMLA`: `a` and `b` each hold two rows of 8 signed bytes; lane `2i + j` of the result is
/// `acc[2i + j] + Σ_{k<8} a[8i + k]·b[8j + k]` (the 2×2 product `a · bᵀ` added to `acc`).
#[target_feature(enable = "neon,i8mm")]
#[inline]
pub(crate) fn smmla(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: `smmla` only reads and writes the named vector registers; the i8mm feature is
    // enabled on this function (its callers hold a `NeonI8mm` token).
    unsafe {
        asm!(
            "smmla {acc:v}.4s, {a:v}.16b, {b:v}.16b",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    acc
}

/// `acc + Σ_{b<4} a[4i+b]·b[4i+b]` per i32 lane (`SDOT` by vector), signed bytes.
#[target_feature(enable = "neon,dotprod")]
#[inline]
pub(crate) fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: `sdot` only reads and writes the named vector registers; the dot-product feature
    // is enabled on this function (its callers hold a `NeonDotprod` token).
    unsafe {
        asm!(
            "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    acc
}

/// Per-lane requantization constants for 4 lanes.
#[derive(Clone, Copy)]
pub(crate) struct Requant4 {
    mult: int32x4_t,
    left: int32x4_t,
    neg_left: int32x4_t,
    /// `−max(−shift, 0)`: SRSHL shifts right by a negative amount.
    neg_right: int32x4_t,
}

impl Requant4 {
    /// The same multiplier and shift (in `[-31, 30]`) on every lane.
    #[target_feature(enable = "neon")]
    #[inline]
    pub(crate) fn splat(mult: i32, shift: i32) -> Self {
        Self::new(vdupq_n_s32(mult), vdupq_n_s32(shift))
    }

    /// From 4 multipliers and 4 shifts (in `[-31, 30]`).
    #[target_feature(enable = "neon")]
    #[inline]
    pub(crate) fn new(mult: int32x4_t, shift: int32x4_t) -> Self {
        let zero = vdupq_n_s32(0);
        let left = vmaxq_s32(shift, zero);
        Requant4 {
            mult,
            left,
            neg_left: vnegq_s32(left),
            neg_right: vminq_s32(shift, zero),
        }
    }

    /// `multiply_by_quantized_multiplier(acc, mult, shift, Double)` per lane, and the mask of
    /// lanes whose left shift overflowed (those lanes are wrong; recompute them with the scalar
    /// function).
    #[target_feature(enable = "neon")]
    #[inline]
    pub(crate) fn mbqm(&self, acc: int32x4_t) -> (int32x4_t, uint32x4_t) {
        let xs = vshlq_s32(acc, self.left);
        let ovf = vmvnq_u32(vceqq_s32(vshlq_s32(xs, self.neg_left), acc));
        let v = vqrdmulhq_s32(xs, self.mult);
        // gemmlowp's RoundingDivideByPOT: −1 for negative values when shifting, then a
        // round-half-up shift gives ties away from zero.
        let fix = vshrq_n_s32::<31>(vandq_s32(v, self.neg_right));
        (vrshlq_s32(vqaddq_s32(v, fix), self.neg_right), ovf)
    }

    /// [`Requant4::mbqm`] and the output stage (clamp, output zero point).
    #[target_feature(enable = "neon")]
    #[inline]
    pub(crate) fn apply(&self, acc: int32x4_t, st: &OutputStage) -> (int32x4_t, uint32x4_t) {
        let (v, ovf) = self.mbqm(acc);
        (stage4(v, st), ovf)
    }
}

/// The output stage on 4 lanes: clamp to `[lo, hi]`, add the output zero point.
#[target_feature(enable = "neon")]
#[inline]
pub(crate) fn stage4(v: int32x4_t, st: &OutputStage) -> int32x4_t {
    let v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(st.lo)), vdupq_n_s32(st.hi));
    vaddq_s32(v, vdupq_n_s32(st.off))
}

/// Per-lane constants of [`multiply_by_quantized_multiplier`] with
/// [`Rounding::Single`](crate::quant::Rounding::Single) for 4 lanes, shifts in `[-31, 30]`.
///
/// Single rounding is `⌊(x·m + 2^(s−1)) / 2^s⌋` with `s = 31 − shift ∈ [1, 62]`, saturated to
/// i32: `SMULL` gives the exact 64-bit product, `SRSHL` by `−s` adds `2^(s−1)` and shifts with
/// an exact (unbounded) intermediate, and `SQXTN` saturates. That is the scalar rule for every
/// `x` and every multiplier (also negative ones and `i32::MIN`), so no lane needs a fallback.
#[derive(Clone, Copy)]
pub(crate) struct RequantSingle4 {
    mult: int32x4_t,
    /// `shift − 31` of lanes 0, 1 and of lanes 2, 3.
    neg_s: [int64x2_t; 2],
}

impl RequantSingle4 {
    /// From 4 multipliers and 4 shifts (in `[-31, 30]`).
    #[target_feature(enable = "neon")]
    #[inline]
    pub(crate) fn new(mult: int32x4_t, shift: int32x4_t) -> Self {
        let ns = vsubq_s32(shift, vdupq_n_s32(31));
        RequantSingle4 {
            mult,
            neg_s: [vmovl_s32(vget_low_s32(ns)), vmovl_high_s32(ns)],
        }
    }

    /// `multiply_by_quantized_multiplier(acc, mult, shift, Single)` per lane.
    #[target_feature(enable = "neon")]
    #[inline]
    pub(crate) fn mbqm(&self, acc: int32x4_t) -> int32x4_t {
        let lo = vrshlq_s64(
            vmull_s32(vget_low_s32(acc), vget_low_s32(self.mult)),
            self.neg_s[0],
        );
        let hi = vrshlq_s64(vmull_high_s32(acc, self.mult), self.neg_s[1]);
        vqmovn_high_s64(vqmovn_s64(lo), hi)
    }

    /// [`RequantSingle4::mbqm`] and the output stage.
    #[target_feature(enable = "neon")]
    #[inline]
    pub(crate) fn apply(&self, acc: int32x4_t, st: &OutputStage) -> int32x4_t {
        stage4(self.mbqm(acc), st)
    }
}

/// [`Rounding::Float`](crate::quant::Rounding::Float)'s output stage on 4 lanes:
/// `rne(clamp(f32(acc) · scale, lo, hi)) + off` (`SCVTF`, `FMUL`, the clamp, `FCVTNS`: round to
/// nearest, ties to even, whatever FPCR says), exact for stages with
/// [`OutputStage::float_exact`].
#[target_feature(enable = "neon")]
#[inline]
pub(crate) fn requant_float4(acc: int32x4_t, scale: float32x4_t, st: &OutputStage) -> int32x4_t {
    let y = vmulq_f32(vcvtq_f32_s32(acc), scale);
    let y = vminq_f32(
        vmaxq_f32(y, vdupq_n_f32(st.lo as f32)),
        vdupq_n_f32(st.hi as f32),
    );
    vaddq_s32(vcvtnq_s32_f32(y), vdupq_n_s32(st.off))
}

/// Narrows 16 i32 lanes already in `[-128, 127]` to bytes, in order.
#[target_feature(enable = "neon")]
#[inline]
pub(crate) fn narrow16(v: [int32x4_t; 4]) -> int8x16_t {
    let a = vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1]));
    let b = vcombine_s16(vmovn_s32(v[2]), vmovn_s32(v[3]));
    vcombine_s8(vmovn_s16(a), vmovn_s16(b))
}

/// Widens 16 bytes to 4 vectors of i32, in order.
#[target_feature(enable = "neon")]
#[inline]
pub(crate) fn widen16(v: int8x16_t) -> [int32x4_t; 4] {
    let lo = vmovl_s8(vget_low_s8(v));
    let hi = vmovl_high_s8(v);
    [
        vmovl_s16(vget_low_s16(lo)),
        vmovl_high_s16(lo),
        vmovl_s16(vget_low_s16(hi)),
        vmovl_high_s16(hi),
    ]
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::ops::test_util::Rng;
    use crate::quant::{multiply_by_quantized_multiplier, Rounding};

    fn scalar(x: i32, m: i32, s: i32, st: &OutputStage) -> i32 {
        let v = multiply_by_quantized_multiplier(x, m, s, Rounding::Double);
        i32::from(
            v.saturating_add(st.off)
                .max(st.lo + st.off)
                .min(st.hi + st.off)
                .clamp(-128, 127) as i8,
        )
    }

    #[test]
    fn neon_requant_matches_scalar() {
        if !Isa::Neon.supported_by_host() {
            std::println!("skipped: host lacks neon");
            return;
        }
        let xs = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            1 << 15,
            -(1 << 15),
            (1 << 20) + 1,
            -(1 << 20) - 1,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
            1 << 30,
            -(1 << 30),
            12345,
            -98765,
        ];
        let ms = [
            0,
            1,
            -1,
            1 << 30,
            (1 << 30) + 1,
            i32::MAX,
            i32::MIN,
            i32::MIN + 1,
            -(1 << 30),
            1_518_500_250,
        ];
        let mut rng = Rng::new(7);
        let mut cases = Vec::new();
        for s in -31..=30 {
            for &x in &xs {
                for &m in &ms {
                    cases.push((x, m, s));
                }
            }
            for _ in 0..400 {
                let x = (rng.next_u64() as i32) >> (rng.below(32) as u32);
                cases.push((x, rng.next_u64() as i32, s));
            }
        }
        for &(off, lo, hi) in &[
            (0, -128, 127),
            (-128, -128, 127),
            (127, 0, 6),
            (1 << 30, -5, 100),
        ] {
            let st = OutputStage::new(off, lo, hi);
            assert!(st.is_some(), "stage {off} {lo} {hi}");
            let Some(st) = st else { return };
            for chunk in cases.chunks(4) {
                let (mut x, mut m, mut s) = ([0i32; 4], [0i32; 4], [0i32; 4]);
                for (i, &(a, b, c)) in chunk.iter().enumerate() {
                    (x[i], m[i], s[i]) = (a, b, c);
                }
                // SAFETY: NEON detected above; the arrays hold 4 lanes.
                let (out, ovf) = unsafe {
                    let r = Requant4::new(vld1q_s32(m.as_ptr()), vld1q_s32(s.as_ptr()));
                    let (v, ovf) = r.apply(vld1q_s32(x.as_ptr()), &st);
                    let (mut o, mut f) = ([0i32; 4], [0u32; 4]);
                    vst1q_s32(o.as_mut_ptr(), v);
                    vst1q_u32(f.as_mut_ptr(), ovf);
                    (o, f)
                };
                for i in 0..chunk.len() {
                    let overflow = s[i] > 0 && (i64::from(x[i]) << s[i]) != i64::from(x[i] << s[i]);
                    assert_eq!(ovf[i] != 0, overflow, "ovf x={} s={}", x[i], s[i]);
                    if !overflow {
                        assert_eq!(
                            out[i],
                            scalar(x[i], m[i], s[i], &st),
                            "x={} m={} s={}",
                            x[i],
                            m[i],
                            s[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn neon_requant_single_matches_scalar() {
        if !Isa::Neon.supported_by_host() {
            std::println!("skipped: host lacks neon");
            return;
        }
        let xs = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            1 << 15,
            -(1 << 15),
            (1 << 20) + 1,
            -(1 << 20) - 1,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
            1 << 30,
            -(1 << 30),
            12345,
            -98765,
        ];
        let ms = [
            0,
            1,
            -1,
            1 << 30,
            (1 << 30) + 1,
            i32::MAX,
            i32::MIN,
            i32::MIN + 1,
            -(1 << 30),
            1_518_500_250,
        ];
        let mut rng = Rng::new(11);
        let mut cases = Vec::new();
        for s in -31..=30 {
            for &x in &xs {
                for &m in &ms {
                    cases.push((x, m, s));
                }
            }
            for _ in 0..400 {
                let x = (rng.next_u64() as i32) >> (rng.below(32) as u32);
                cases.push((x, rng.next_u64() as i32, s));
            }
        }
        for chunk in cases.chunks(4) {
            let (mut x, mut m, mut s) = ([0i32; 4], [0i32; 4], [0i32; 4]);
            for (i, &(a, b, c)) in chunk.iter().enumerate() {
                (x[i], m[i], s[i]) = (a, b, c);
            }
            // SAFETY: NEON detected above; the arrays hold 4 lanes.
            let out = unsafe {
                let r = RequantSingle4::new(vld1q_s32(m.as_ptr()), vld1q_s32(s.as_ptr()));
                let mut o = [0i32; 4];
                vst1q_s32(o.as_mut_ptr(), r.mbqm(vld1q_s32(x.as_ptr())));
                o
            };
            for i in 0..chunk.len() {
                let want = multiply_by_quantized_multiplier(x[i], m[i], s[i], Rounding::Single);
                assert_eq!(out[i], want, "x={} m={} s={}", x[i], m[i], s[i]);
            }
        }
    }

    #[test]
    fn smmla_matches_scalar() {
        if !Isa::NeonI8mm.supported_by_host() {
            std::println!("skipped: host lacks i8mm");
            return;
        }
        let mut rng = Rng::new(5);
        for _ in 0..200 {
            let a: [i8; 16] = core::array::from_fn(|_| rng.next_u64() as i8);
            let b: [i8; 16] = core::array::from_fn(|_| rng.next_u64() as i8);
            let c: [i32; 4] = core::array::from_fn(|_| rng.next_u64() as i32);
            // SAFETY: i8mm detected above; arrays of the loaded sizes.
            let got = unsafe {
                let v = smmla(
                    vld1q_s32(c.as_ptr()),
                    vld1q_s8(a.as_ptr()),
                    vld1q_s8(b.as_ptr()),
                );
                let mut o = [0i32; 4];
                vst1q_s32(o.as_mut_ptr(), v);
                o
            };
            for i in 0..2 {
                for j in 0..2 {
                    let want = (0..8).fold(c[2 * i + j], |s, k| {
                        s.wrapping_add(i32::from(a[8 * i + k]) * i32::from(b[8 * j + k]))
                    });
                    assert_eq!(got[2 * i + j], want);
                }
            }
        }
    }

    #[test]
    fn sdot_matches_scalar() {
        if !Isa::NeonDotprod.supported_by_host() {
            std::println!("skipped: host lacks dotprod");
            return;
        }
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let a: [i8; 16] = core::array::from_fn(|_| rng.next_u64() as i8);
            let b: [i8; 16] = core::array::from_fn(|_| rng.next_u64() as i8);
            let c: [i32; 4] = core::array::from_fn(|_| rng.next_u64() as i32);
            // SAFETY: dotprod detected above; arrays of the loaded sizes.
            let got = unsafe {
                let v = sdot(
                    vld1q_s32(c.as_ptr()),
                    vld1q_s8(a.as_ptr()),
                    vld1q_s8(b.as_ptr()),
                );
                let mut o = [0i32; 4];
                vst1q_s32(o.as_mut_ptr(), v);
                o
            };
            for l in 0..4 {
                let want = (0..4).fold(c[l], |s, k| {
                    s.wrapping_add(i32::from(a[4 * l + k]) * i32::from(b[4 * l + k]))
                });
                assert_eq!(got[l], want);
            }
        }
    }
}
