//! Portable scalar reference for int8 softmax, bit-exact with TFLite's quantized
//! `reference_ops::Softmax` (`kernels/internal/reference/softmax.h`, the template used for int8
//! input and int8 output by LiteRT's `BUILTIN_REF` resolver, `SoftmaxQuantized` with
//! `kReference`), with its Prepare (`PreprocessSoftmaxScaling`, `CalculateInputRadius` from
//! `kernels/internal/quantization_util.cc`) in [`softmax_s8_params_reference`].
//!
//! The fixed-point pieces are ports of gemmlowp's `fixedpoint.h` (`exp_on_negative_values`,
//! `exp_on_interval_between_negative_one_quarter_and_0_excl`,
//! `one_over_one_plus_x_for_x_in_0_1`, `Rescale`, `SaturatingRoundingMultiplyByPOT`,
//! `RoundingHalfSum`) and of TFLite's `GetReciprocal` (`kernels/internal/common.h`). Values are
//! raw `i32`s; the comments give their gemmlowp format `Qm` (`m` integer bits, `31 − m`
//! fractional bits). gemmlowp's non-saturating `+`/`−` are wrapping here (identical wherever
//! gemmlowp's are defined).
//!
//! TFLite works on the last axis; mote's `[outer, axis_len, inner]` view runs the same
//! computation on every `(outer, inner)` vector (elements `inner` apart).
use super::SoftmaxS8Params;
use crate::ops::util::{sub, sub_mut};
use crate::quant::{
    multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul as mul, Rounding,
};

/// Integer bits of the scaled input differences (`kScaledDiffIntegerBits`).
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (`kAccumulationIntegerBits`).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// gemmlowp's `SaturatingRoundingMultiplyByPOT<exponent>` on a raw i32: a saturating left shift
/// for `exponent > 0`, a rounding right shift for `exponent < 0`.
#[inline(always)]
fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent > 0 {
        let e = exponent.min(31);
        let threshold = ((1i64 << (31 - e)) - 1) as i32;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x << e
        }
    } else {
        rounding_divide_by_pot(x, -exponent)
    }
}

/// gemmlowp's `Rescale<dst>(FixedPoint<i32, src>)`.
#[inline(always)]
fn rescale(x: i32, src_integer_bits: i32, dst_integer_bits: i32) -> i32 {
    saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)
}

/// gemmlowp's `RoundingHalfSum`: `(a + b) / 2` rounded to nearest, ties away from zero.
#[inline(always)]
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// `exp(a)` for `a` in `[−1/4, 0)`: Q0 → Q0 (gemmlowp's Taylor expansion around −1/8).
#[inline(always)]
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
    const CONSTANT_1_OVER_3: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28); // a + 1/8
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
    let x4_over_24_plus_x3_over_6_plus_x2_over_2 = saturating_rounding_multiply_by_pot(
        mul(x4_over_4.wrapping_add(x3), CONSTANT_1_OVER_3).wrapping_add(x2),
        -1,
    );
    CONSTANT_TERM.wrapping_add(mul(
        CONSTANT_TERM,
        x.wrapping_add(x4_over_24_plus_x3_over_6_plus_x2_over_2),
    ))
}

/// gemmlowp's `exp_on_negative_values` for a Q5 input (`a ≤ 0`), returning Q0.
fn exp_on_negative_values(a: i32) -> i32 {
    const INTEGER_BITS: i32 = SCALED_DIFF_INTEGER_BITS;
    const FRACTIONAL_BITS: i32 = 31 - INTEGER_BITS;
    const ONE_QUARTER: i32 = 1 << (FRACTIONAL_BITS - 2);
    let mask = ONE_QUARTER - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(ONE_QUARTER);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(
        a_mod_quarter_minus_one_quarter,
        INTEGER_BITS,
        0,
    ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // Barrel shifter: exp(-2^e) factors for the bits of the remainder (gemmlowp's table; all
    // exponents below INTEGER_BITS apply).
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if INTEGER_BITS > exponent && remainder & (1 << (FRACTIONAL_BITS + exponent)) != 0 {
            result = mul(result, multiplier);
        }
    }
    // (gemmlowp's clamp below -32 only exists for more than 5 integer bits.)
    if a == 0 {
        i32::MAX // One in Q0
    } else {
        result
    }
}

/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1`: `1 / (1 + a)` for `a` in `[0, 1)`, Q0 → Q0
/// (Newton–Raphson division in Q2).
fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const CONSTANT_48_OVER_17: i32 = 1_515_870_810; // Q2
    const CONSTANT_NEG_32_OVER_17: i32 = -1_010_580_540; // Q2
    const ONE_Q2: i32 = 1 << 29;
    let half_denominator = rounding_half_sum(a, i32::MAX); // (a + 1) / 2, Q0
    let mut x = CONSTANT_48_OVER_17.wrapping_add(mul(half_denominator, CONSTANT_NEG_32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x); // Q2
        let one_minus_half_denominator_times_x = ONE_Q2.wrapping_sub(half_denominator_times_x);
        // Q2 · Q2 = Q4, rescaled to Q2.
        x = x.wrapping_add(rescale(mul(x, one_minus_half_denominator_times_x), 4, 2));
    }
    // ExactMulByPot<-1> turns Q2 into Q1 (same raw value), then Rescale<0>.
    rescale(x, 1, 0)
}

/// TFLite's `GetReciprocal(x, x_integer_digits, &num_bits_over_unit)`: a Q0 value close to
/// `2^num_bits_over_unit / x` (for `x` in Q`x_integer_digits`), and `num_bits_over_unit`.
fn get_reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros();
    let num_bits_over_unit = x_integer_digits - headroom_plus_one as i32;
    let shifted_sum_minus_one = (x as u32)
        .checked_shl(headroom_plus_one)
        .unwrap_or(0)
        .wrapping_sub(1 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

/// TFLite's int8 softmax Prepare for the reference kernel: `PreprocessSoftmaxScaling(beta,
/// input_scale, 5)` (double-rounding build: the real multiplier `beta · input_scale · 2^26` is
/// capped at `2^31 − 1`, then `QuantizeMultiplierGreaterThanOne`) and `diff_min =
/// −CalculateInputRadius(5, input_left_shift)` = `−⌊31 · 2^26 / 2^input_left_shift⌋`.
///
/// TFLite aborts (`TFLITE_CHECK`) when `beta · input_scale · 2^26 ≤ 1`; here the multiplier is
/// still computed (its shift is then ≤ 0) and the radius uses `2^input_left_shift` as a real.
pub(super) fn softmax_s8_params_reference(beta: f64, input_scale: f64) -> (i32, i32, i32) {
    const MAX_REAL_MULTIPLIER: f64 = 2_147_483_647.0; // (1LL << 31) - 1.0
    let real = (beta * input_scale * (1u64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64)
        .min(MAX_REAL_MULTIPLIER);
    let (multiplier, left_shift) = quantize_multiplier(real);
    let max_input_rescaled = ((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) as f64
        * (1u64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64
        / libm::pow(2.0, f64::from(left_shift));
    let radius = libm::floor(max_input_rescaled);
    // `as` saturates (and maps NaN to 0); the radius is below 2^31 for every left_shift >= 0.
    (multiplier, left_shift, -(radius as i32))
}

/// `exp(diff · beta · input_scale)` in Q0 for one input difference (`diff ≥ diff_min`):
/// `MultiplyByQuantizedMultiplierGreaterThanOne` (= the double-rounding
/// `MultiplyByQuantizedMultiplier` for shifts ≥ 0) into Q5, then `exp_on_negative_values`.
#[inline(always)]
fn exp_of_diff(p: &SoftmaxS8Params, diff: i32) -> i32 {
    let scaled = multiply_by_quantized_multiplier(
        diff,
        p.input_multiplier,
        p.input_left_shift,
        Rounding::Double,
    );
    exp_on_negative_values(scaled)
}

pub(super) fn softmax_s8_reference(p: &SoftmaxS8Params, input: &[i8], output: &mut [i8]) {
    let s = &p.shape;
    debug_assert_eq!(input.len(), s.outer * s.axis_len * s.inner);
    debug_assert_eq!(output.len(), input.len());
    if s.inner == 0 {
        return;
    }
    let block = s.axis_len * s.inner;
    for o in 0..s.outer {
        let in_block = sub(input, o * block, block);
        let out_block = sub_mut(output, o * block, block);
        for j in 0..s.inner {
            // The `axis_len` values of this softmax, `inner` apart.
            let xs = || in_block.iter().skip(j).step_by(s.inner);
            let max_in_row = i32::from(xs().copied().max().unwrap_or(i8::MIN));

            // Sum of exponentials in Q12 (wraps past 4095 · 2^19, i.e. for more than ~4096
            // maximal elements, exactly where TFLite's int32 sum would overflow).
            let mut sum_of_exps = 0i32;
            for &x in xs() {
                let diff = i32::from(x) - max_in_row;
                if diff >= p.diff_min {
                    let e = exp_of_diff(p, diff);
                    sum_of_exps =
                        sum_of_exps.wrapping_add(rescale(e, 0, ACCUMULATION_INTEGER_BITS));
                }
            }

            let (shifted_scale, num_bits_over_unit) =
                get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
            // TFLite CHECKs 0 <= exponent <= 31 (always true while the sum does not wrap).
            let exponent = (num_bits_over_unit + 31 - 8).clamp(0, 31);

            for (y, &x) in out_block.iter_mut().skip(j).step_by(s.inner).zip(xs()) {
                let diff = i32::from(x) - max_in_row;
                *y = if diff >= p.diff_min {
                    let e = exp_of_diff(p, diff);
                    let unsat = rounding_divide_by_pot(mul(shifted_scale, e), exponent);
                    unsat.wrapping_add(-128).clamp(-128, 127) as i8
                } else {
                    i8::MIN
                };
            }
        }
    }
}
