//! The one definition of int8 arithmetic in mote: requantization, rounding, saturation.
//!
//! Every int8 kernel scales its 32-bit accumulator back to int8 through
//! [`multiply_by_quantized_multiplier`], exactly as the TFLite int8 specification
//! (`MultiplyByQuantizedMultiplier` in TFLite's `kernels/internal/common.cc`) does. The field uses
//! two roundings, and mote implements both, chosen per op by the compiler and recorded in the
//! model file (never a build flag):
//!
//! - [`Rounding::Double`]: gemmlowp's `SaturatingRoundingDoublingHighMul(x · 2^max(shift,0), m)`
//!   then `RoundingDivideByPOT(·, max(−shift, 0))`. This is what LiteRT (TFLite) is built with
//!   (`TFLITE_SINGLE_ROUNDING` is not defined there), so LiteRT's reference conv / depthwise /
//!   add / sub / mul / requantize kernels use it; TFLite Micro and CMSIS-NN use it by default.
//! - [`Rounding::Single`]: `(x · m + 2^(s−1)) >> s` with `s = 31 − shift`, in 64 bits — TFLite
//!   Micro / CMSIS-NN built with `TFLITE_SINGLE_ROUNDING` / `CMSIS_NN_USE_SINGLE_ROUNDING`.
//!
//! - [`Rounding::Float`]: `x · scale` in f32 arithmetic, rounded half to even, the scale stored
//!   as the f32's bits in the multiplier word: the requantization of ONNX Runtime's MLAS
//!   (`MlasRequantizeOutput`) and of XNNPACK's `fp32` kernels, which LiteRT's default delegate
//!   runs. mote's compiler writes it for convolutions and fully connected layers under
//!   `--rounding float`; see `docs/quantization.md`.
//!
//! (LiteRT's *reference* int8 fully connected kernel uses neither: it rounds
//! `acc · effective_scale` in double precision; see
//! [`fully_connected_s8_scaled`](crate::ops::fully_connected::fully_connected_s8_scaled).)
//!
//! A real multiplier `M > 0` is represented as `multiplier · 2^(shift − 31)` with `multiplier` in
//! `[2^30, 2^31)` ([`quantize_multiplier`], TFLite's `QuantizeMultiplier`).
//!
//! Rounding rules, written out (`⌊·⌋` is floor):
//! - `SaturatingRoundingDoublingHighMul(a, b) = ⌊(a·b + 2^30) / 2^31⌋` (round half up), except
//!   `a = b = i32::MIN`, which saturates to `i32::MAX` (the formula gives `2^31`, so "saturate the
//!   formula" describes both cases).
//! - `RoundingDivideByPOT(x, e)` = `x / 2^e` rounded to nearest, ties away from zero.
//! - Single rounding: `⌊(x·m + 2^(s−1)) / 2^s⌋` (round half up).

/// Which `MultiplyByQuantizedMultiplier` variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rounding {
    /// gemmlowp's doubling high multiply then rounding right shift (two roundings).
    #[default]
    Double,
    /// One 64-bit multiply, add half, shift (one rounding).
    Single,
    /// `x · f32::from_bits(multiplier)` in f32, rounded half to even (XNNPACK's and ONNX
    /// Runtime's); the shift is not used.
    Float,
}

/// `x · multiplier · 2^(shift − 31)`, rounded as `rounding` says, saturating to i32.
///
/// Bit-exact with TFLite's `MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int
/// shift)` (both `TFLITE_SINGLE_ROUNDING` variants, `tensorflow/lite/kernels/internal/common.cc`)
/// wherever TFLite's result is defined:
/// - [`Rounding::Double`]: `multiplier` any i32, `shift ≤ 30`, and for `shift > 0`,
///   `x · 2^shift` must fit in i32 (TFLite computes `x * (1 << shift)` in `int`, which is
///   undefined behaviour on overflow). Right shifts up to 31 are gemmlowp's range.
/// - [`Rounding::Single`]: `multiplier ≥ 0`, `shift` in `[−31, 30]`, and the result must fit in
///   i32 (TFLite `DCHECK`s all three).
///
/// Outside that range mote does not crash and does not wrap: it returns the same rounding rule
/// applied to the exact product (`x · multiplier · 2^(shift−31)`, computed in 128 bits), saturated
/// to i32. Right shifts beyond 31 (`shift < −31`) keep the rounding rule of the variant (every
/// result is then 0 or −1, as the exact rule gives).
///
/// [`Rounding::Float`] is not a fixed-point rule: see [`mbqm_float`].
#[inline(always)]
pub fn multiply_by_quantized_multiplier(
    x: i32,
    multiplier: i32,
    shift: i32,
    rounding: Rounding,
) -> i32 {
    // The ranges every quantized model uses take a short inlined path (about 15 instructions on
    // a Cortex-M4); everything else, an out-of-line general one. Both compute the same rule, and
    // the tests compare them with an independent fixed-point oracle.
    match rounding {
        Rounding::Double => match mbqm_double_common(x, multiplier, shift) {
            Some(v) => v,
            None => mbqm_double(x, multiplier, shift),
        },
        Rounding::Single => match mbqm_single_common(x, multiplier, shift) {
            Some(v) => v,
            None => mbqm_single(x, multiplier, shift),
        },
        Rounding::Float => mbqm_float(x, multiplier),
    }
}

/// [`Rounding::Float`]: `rne(f32(x) · f32::from_bits(multiplier))`, saturated to i32 — each step
/// an IEEE single-precision operation rounding to nearest, ties to even, as MLAS's
/// `MlasRequantizeOutput` and XNNPACK's `fp32` requantization compute it (`cvtdq2ps`, `mulps`,
/// `cvtps2dq`); both clamp the product to the output range before converting, which gives the
/// same int8 result as this saturating conversion followed by the output clamp. A NaN product
/// gives 0 (the loader accepts only finite, positive scales, so kernels never see one).
///
/// Out of line: [`multiply_by_quantized_multiplier`] is inlined into every kernel, and this
/// branch's code inlined with it overflowed the Cortex-M55 firmware's 512 KiB code memory with
/// the VWW model by 2 KiB; the vector kernels have their own float stage.
#[inline(never)]
pub fn mbqm_float(x: i32, multiplier: i32) -> i32 {
    let y = x as f32 * f32::from_bits(multiplier as u32);
    // `as` saturates (NaN to 0).
    libm::rintf(y) as i32
}

/// One channel's `(multiplier, shift, rounding)`, prepared once per kernel call so that
/// [`apply`](PreparedMultiplier::apply) — equal to [`multiply_by_quantized_multiplier`] for every
/// `x` — takes the shortest path: for right shifts (`shift ≤ 0`, what every quantized layer has)
/// and `multiplier ≠ i32::MIN`, no saturation can happen and the per-`x` work is one 64-bit
/// multiply-accumulate, a shift and (double rounding) the rounding division; about 12
/// instructions on a Cortex-M4. Other parameters go through the general function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PreparedMultiplier {
    multiplier: i32,
    shift: i32,
    rounding: Rounding,
    /// `shift ∈ [−31, 0]`, `multiplier ≠ i32::MIN` and a fixed-point rounding.
    right_only: bool,
}

impl PreparedMultiplier {
    /// Prepares `multiply_by_quantized_multiplier(·, multiplier, shift, rounding)`.
    #[inline]
    pub fn new(multiplier: i32, shift: i32, rounding: Rounding) -> Self {
        PreparedMultiplier {
            multiplier,
            shift,
            rounding,
            right_only: rounding != Rounding::Float
                && (-31..=0).contains(&shift)
                && multiplier != i32::MIN,
        }
    }

    /// `multiply_by_quantized_multiplier(x, multiplier, shift, rounding)`, bit for bit.
    #[inline(always)]
    pub fn apply(self, x: i32) -> i32 {
        if !self.right_only {
            return multiply_by_quantized_multiplier(x, self.multiplier, self.shift, self.rounding);
        }
        // `right_only` excludes Rounding::Float (`new`), so two arms: a third cost the
        // Cortex-M55's VWW and KWS 0.7 % more instructions (targets/cortex-m/test.sh).
        if self.rounding == Rounding::Single {
            self.apply_right_single(x)
        } else {
            self.apply_right_double(x)
        }
    }

    /// Whether the multiplier takes the short path ([`apply_right_double`] /
    /// [`apply_right_single`]): a right shift (`shift ∈ [−31, 0]`) and `multiplier ≠ i32::MIN`.
    ///
    /// [`apply_right_double`]: PreparedMultiplier::apply_right_double
    /// [`apply_right_single`]: PreparedMultiplier::apply_right_single
    #[inline]
    pub fn is_right_shift(self) -> bool {
        self.right_only
    }

    /// The rounding it was prepared with.
    #[inline]
    pub fn rounding(self) -> Rounding {
        self.rounding
    }

    /// [`apply`](PreparedMultiplier::apply) for a multiplier with
    /// [`is_right_shift`](PreparedMultiplier::is_right_shift) and [`Rounding::Double`], without
    /// checking either (kernels check once per call); other multipliers get a wrong value, never
    /// a panic.
    #[inline(always)]
    pub fn apply_right_double(self, x: i32) -> i32 {
        let right = (self.shift.wrapping_neg() as u32) & 31;
        // SRDHM = ⌊(p + 2^30) / 2^31⌋, inside i32 because |p| < 2^62 (multiplier ≠ i32::MIN).
        let p = x as i64 * self.multiplier as i64;
        let h = (p.wrapping_add(1 << 30) >> 31) as i32;
        let mask = ((1u32 << right) - 1) as i32;
        let threshold = (mask >> 1) + ((h as u32) >> 31) as i32;
        (h >> right) + i32::from((h & mask) > threshold)
    }

    /// [`apply`](PreparedMultiplier::apply) for a multiplier with
    /// [`is_right_shift`](PreparedMultiplier::is_right_shift) and [`Rounding::Single`], without
    /// checking either; other multipliers get a wrong value, never a panic.
    #[inline(always)]
    pub fn apply_right_single(self, x: i32) -> i32 {
        // s = 31 + right ∈ [31, 62]; |p| < 2^62, so the result fits in i32.
        let s = 31 + ((self.shift.wrapping_neg() as u32) & 31);
        let p = x as i64 * self.multiplier as i64;
        (p.wrapping_add(1i64 << (s - 1)) >> s) as i32
    }
}

/// LiteRT `BUILTIN_REF`'s fully connected output scale, `round(acc as f64 · scale) as i32`
/// (C's `round`, ties away from zero; the cast saturating), in integer arithmetic: bit for bit
/// wherever its magnitude is at most `2^16`, and otherwise a value of the same sign and at least
/// that magnitude ([`apply_bounded`](PreparedScale::apply_bounded); an int8 output stage, which
/// adds a zero point well inside `±2^16` and clamps to int8, gives the same result).
///
/// A finite normal double is `scale = m · 2^−s` with a 53-bit integer `m ∈ [2^52, 2^53)`. For
/// `a = |acc| ≥ 1` the exact product is `P = X · 2^−s` with `X = a·m`, and the double product is
/// `p = RNE₅₃(P)`, `P` rounded to 53 significant bits, ties to even. With `2^L ≤ X < 2^(L+1)`
/// and `P < 2^51`, `round(p) = ⌊(X + 2^(s−1) + 2^(L−53)) / 2^s⌋`:
///
/// - `round(p) ≥ j` ⟺ `p ≥ t = j − ½`. The products near `t` have a unit in the last place
///   `u ≤ ½`, so `t` is a double with an even last mantissa bit and `p ≥ t` ⟺ `P ≥ t − u/2` (the
///   midpoint rounds to even, to `t`), with `u/2 = 2^(E−53)`, `E = L − s` the binade of the
///   products just below `t`.
/// - `⌊P + ½ + 2^(E−53)⌋ ≥ j` is the same condition for `P` in that binade; a `P` in a lower
///   binade is below `t` by more than the correction, one in a higher binade is above `t`.
///   (For `L = 52`, `a = 1`, the product is exact and the extra ½ unit of `X` changes nothing.)
/// - Both sides are odd in `acc` (RNE and `round` are symmetric): the sign is applied last.
///
/// In 32-bit steps: `a` is normalised to `a' = a·2^n ∈ [2^31, 2^32)` (`n` leading zeros), so
/// `X' = a'·m ∈ [2^83, 2^85)` (two 32×32→64 multiplies), `L' = L + n` is 83 or 84 (bit 84 of
/// `X'`), `s' = s + n`. For `s' ≥ 68`, `2^(s'−1)` is a multiple of `2^64`, so only the top word
/// of `X' + 2^(L'−53)` is shifted: `r = (⌊(X' + 2^(L'−53)) / 2^64⌋ + 2^(s'−65)) >> (s'−64)`
/// (exact, `r ≤ 2^17`). For `s' < 68`, `P ≥ 2^16`, so the double expression is at least `2^16`
/// in magnitude: `±2^16` is returned. Scales that are zero, subnormal or not
/// finite compute the double expression itself. The tests compare both forms on random,
/// near-tie, exhaustive and edge inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PreparedScale {
    scale: f64,
    m_lo: u32,
    m_hi: u32,
    /// `s` (`scale = m · 2^−s`).
    s: i32,
    negative: bool,
    normal: bool,
}

/// The bound of [`PreparedScale::apply_bounded`].
pub const SCALE_BOUND: i32 = 1 << 16;

impl PreparedScale {
    /// Prepares `round(acc as f64 · scale) as i32`.
    #[inline]
    pub fn new(scale: f64) -> Self {
        let bits = scale.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let m = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        PreparedScale {
            scale,
            m_lo: m as u32,
            m_hi: (m >> 32) as u32,
            s: 1075 - biased,
            negative: scale.is_sign_negative(),
            normal: biased != 0 && biased != 0x7ff,
        }
    }

    /// The double-precision expression `round(acc as f64 · scale) as i32` (the definition).
    #[inline]
    pub fn apply_double(self, acc: i32) -> i32 {
        // C's round(): half away from zero; `as i32` saturates and maps NaN to 0.
        libm::round(f64::from(acc) * self.scale) as i32
    }

    /// `v` with `v.clamp(−B, B) == apply_double(acc).clamp(−B, B)` for `B =`
    /// [`SCALE_BOUND`]: exact wherever `|apply_double(acc)| ≤ B`, and otherwise of the same sign
    /// with `|v| ≥ B`; in integers for every normal scale (see the type's docs).
    #[inline(always)]
    pub fn apply_bounded(self, acc: i32) -> i32 {
        if !self.normal {
            return self.apply_double(acc).clamp(-SCALE_BOUND, SCALE_BOUND);
        }
        let a = acc.unsigned_abs();
        let n = a.leading_zeros();
        // a' ∈ [2^31, 2^32), or 0 for acc = 0 (n = 32 shifts by 0).
        let a = a.wrapping_shl(n);
        let lo = u64::from(a) * u64::from(self.m_lo);
        // X' >> 32 < 2^53.
        let hi = u64::from(a) * u64::from(self.m_hi) + (lo >> 32);
        // 2^(L'−53): 2^30, or 2^31 when bit 84 of X' (bit 20 of its top word) is set.
        let bump = (1u32 << 30) << (((hi >> 52) as u32) & 1);
        let carry = u64::from((lo as u32).overflowing_add(bump).1);
        let top = ((hi + carry) >> 32) as u32;
        let sn = self.s.wrapping_add(n as i32);
        let r = if sn >= 68 {
            // ⌊(top + 2^(e−1)) / 2^e⌋ = (⌊top / 2^(e−1)⌋ + 1) / 2 for e = sn − 64 ≥ 4; top <
            // 2^22, so shifts past 31 (clamped to 31) give 0 as the true shift does.
            let e1 = (sn - 65).min(31) as u32;
            // top ≤ 2^21 + 1 and e1 ≥ 3: at most 2^17.
            (((top >> e1) + 1) >> 1) as i32
        } else if a == 0 {
            0
        } else {
            SCALE_BOUND
        };
        // −r when acc and scale have opposite signs: (r ^ m) − m with m = 0 or −1.
        let m = (acc >> 31) ^ -i32::from(self.negative);
        (r ^ m).wrapping_sub(m)
    }
}

/// [`mbqm_double`] for shifts in `[-31, 30]` with `x · 2^shift` inside i32 (TFLite's defined
/// range); `None` elsewhere.
///
/// `SaturatingRoundingDoublingHighMul(a, b)` is `⌊(a·b + 2^30) / 2^31⌋` (gemmlowp's nudge of
/// `1 − 2^30` for negative products with a division truncating toward zero gives the same
/// integer), which is one 64-bit multiply-accumulate and a shift (`smlal` on Arm); only
/// `a = b = i32::MIN` exceeds i32 and saturates. `RoundingDivideByPOT(v, e)` for `e` in `[0, 31]`:
/// `(v >> e) + (remainder > threshold)`.
#[inline(always)]
fn mbqm_double_common(x: i32, multiplier: i32, shift: i32) -> Option<i32> {
    let (a, right) = if shift <= 0 {
        if shift < -31 {
            return None;
        }
        (x, (-shift) as u32)
    } else {
        if shift > 30 {
            return None;
        }
        let shifted = (x as i64) << shift;
        if shifted < i32::MIN as i64 || shifted > i32::MAX as i64 {
            return None;
        }
        (shifted as i32, 0)
    };
    let h = (a as i64 * multiplier as i64 + (1 << 30)) >> 31;
    let h = if h > i32::MAX as i64 {
        i32::MAX
    } else {
        h as i32
    };
    // right ≤ 31: the mask fits in i32 (0 for right = 0, which returns h unchanged).
    let mask = ((1u32 << right) - 1) as i32;
    let remainder = h & mask;
    let threshold = (mask >> 1) + i32::from(h < 0);
    Some((h >> right) + i32::from(remainder > threshold))
}

/// [`mbqm_single`] for shifts in `[-31, 30]` (TFLite's range); `None` elsewhere.
#[inline(always)]
fn mbqm_single_common(x: i32, multiplier: i32, shift: i32) -> Option<i32> {
    if !(-31..=30).contains(&shift) {
        return None;
    }
    // s in [1, 62]: |x·m| ≤ 2^62, so p + 2^(s−1) < 2^63.
    let s = (31 - shift) as u32;
    let p = x as i64 * multiplier as i64;
    Some(saturate_i64((p + (1i64 << (s - 1))) >> s))
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul` (ARM `VQRDMULH`): `⌊(a·b + 2^30) / 2^31⌋`,
/// saturated (only `a = b = i32::MIN` saturates). Written as gemmlowp writes it: a nudge of
/// `2^30` (or `1 − 2^30` for negative products) and a division that truncates toward zero.
#[inline(always)]
pub(crate) fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // |ab + nudge| < 2^62, so the quotient fits in i32 (the one overflow was handled above).
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
/// gemmlowp asserts `0 ≤ exponent ≤ 31`; a negative exponent is taken as 0, and exponents past
/// 31 follow the same rule (in 64 bits).
#[inline(always)]
pub(crate) fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent <= 0 {
        return x;
    }
    if exponent <= 31 {
        let mask = ((1i64 << exponent) - 1) as i32;
        let remainder = x & mask;
        let threshold = (mask >> 1) + i32::from(x < 0);
        return (x >> exponent) + i32::from(remainder > threshold);
    }
    // Same formula in 64 bits; past 62 the result no longer changes.
    let e = exponent.min(62);
    let x = x as i64;
    let mask = (1i64 << e) - 1;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i64::from(x < 0);
    ((x >> e) + i64::from(remainder > threshold)) as i32
}

/// Saturates an i128 to i32.
#[inline(always)]
fn saturate_i128(v: i128) -> i32 {
    if v > i32::MAX as i128 {
        i32::MAX
    } else if v < i32::MIN as i128 {
        i32::MIN
    } else {
        v as i32
    }
}

/// Saturates an i64 to i32.
#[inline(always)]
fn saturate_i64(v: i64) -> i32 {
    if v > i32::MAX as i64 {
        i32::MAX
    } else if v < i32::MIN as i64 {
        i32::MIN
    } else {
        v as i32
    }
}

/// Double rounding: `RoundingDivideByPOT(SRDHM(x · 2^ls, m), rs)`, for every input.
#[cold]
#[inline(never)]
fn mbqm_double(x: i32, multiplier: i32, shift: i32) -> i32 {
    if shift <= 0 {
        // -shift cannot overflow in i64.
        let right = (-(shift as i64)).min(i32::MAX as i64) as i32;
        return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), right);
    }
    // Left shift; TFLite requires x · 2^shift to fit in i32.
    let ls = shift.min(64) as u32;
    if ls < 32 {
        let shifted = (x as i64) << ls;
        if shifted >= i32::MIN as i64 && shifted <= i32::MAX as i64 {
            return saturating_rounding_doubling_high_mul(shifted as i32, multiplier);
        }
    }
    // Out of TFLite's range: the same rule (round half up of x·m·2^ls / 2^31) on the exact
    // product, saturated. |x·m| ≤ 2^62, so x·m·2^64 still fits in i128; larger shifts of a
    // non-zero product saturate anyway.
    let p = ((x as i128) * (multiplier as i128)) << ls;
    saturate_i128((p + (1i128 << 30)).div_euclid(1i128 << 31))
}

/// Single rounding: `(x·m + 2^(s−1)) >> s`, `s = 31 − shift`, for every input.
#[cold]
#[inline(never)]
fn mbqm_single(x: i32, multiplier: i32, shift: i32) -> i32 {
    let total_shift = 31 - shift as i64;
    let p = x as i64 * multiplier as i64;
    if (1..=62).contains(&total_shift) {
        // TFLite's range (shift in [-31, 30]): |p| ≤ 2^62, p + 2^61 < 2^63.
        let s = total_shift as u32;
        return saturate_i64((p + (1i64 << (s - 1))) >> s);
    }
    if total_shift > 62 {
        // Right shifts past TFLite's range, same rule in 128 bits (s ≤ 126 gives the same
        // result as any larger shift, since |p| ≤ 2^62).
        let s = total_shift.min(126) as u32;
        return saturate_i128(((p as i128) + (1i128 << (s - 1))) >> s);
    }
    // total_shift ≤ 0: an exact left shift, saturated.
    let ls = (-total_shift).min(64) as u32;
    saturate_i128((p as i128) << ls)
}

/// TFLite's `QuantizeMultiplier` (`tensorflow/lite/kernels/internal/quantization_util.cc`):
/// `(multiplier, shift)` with `real ≈ multiplier · 2^(shift−31)`, `multiplier` in `[2^30, 2^31)`
/// (or 0 for `real == 0`).
///
/// Exactly TFLite's steps: `q = frexp(real, &shift)`, `q_fixed = round(q · 2^31)` (ties away from
/// zero); `q_fixed == 2^31` becomes `2^30` with `shift + 1`; `shift < −31` flushes to `(0, 0)`.
/// Negative reals give negative multipliers, as in TFLite (valid for [`Rounding::Double`] only).
/// Non-finite inputs (TFLite: undefined) give `(0, 0)`. The `TFLITE_SINGLE_ROUNDING` build of
/// TFLite additionally clamps `shift > 30` to `(2^31 − 1, 30)`; that only concerns reals
/// `≥ 2^30`, which no quantized model uses, and is not applied here.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if real == 0.0 || !real.is_finite() {
        return (0, 0);
    }
    let (q, mut shift) = libm::frexp(real);
    // q in ±[0.5, 1): q · 2^31 is exact, and |round(q · 2^31)| ≤ 2^31.
    let mut q_fixed = libm::round(q * 2_147_483_648.0) as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    // In [-2^31, 2^31 - 1] after the fix-up.
    (q_fixed as i32, shift)
}

#[cfg(test)]
mod tests;
