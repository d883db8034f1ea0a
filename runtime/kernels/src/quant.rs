//! The one definition of int8 arithmetic in mote: requantization, rounding, saturation.
//!
//! Every int8 kernel scales its 32-bit accumulator back to int8 through
//! [`multiply_by_quantized_multiplier`], exactly as the TFLite int8 specification
//! (`MultiplyByQuantizedMultiplier` in TFLite's `kernels/internal/common.h`) does. The field uses
//! two roundings, and mote implements both, chosen per op by the compiler and recorded in the
//! model file (never a build flag):
//!
//! - [`Rounding::Double`]: gemmlowp's `SaturatingRoundingDoublingHighMul(x · 2^max(shift,0), m)`
//!   then `RoundingDivideByPOT(·, max(−shift, 0))` — TFLite Micro and CMSIS-NN by default, and
//!   LiteRT's reference conv / depthwise / add / pooling kernels.
//! - [`Rounding::Single`]: `(x · m + 2^(s−1)) >> s` with `s = 31 − shift`, in 64 bits — LiteRT's
//!   reference fully connected kernel, and TFLite Micro / CMSIS-NN built with
//!   `TFLITE_SINGLE_ROUNDING` / `CMSIS_NN_USE_SINGLE_ROUNDING`.
//!
//! A real multiplier `M > 0` is represented as `multiplier · 2^(shift − 31)` with `multiplier` in
//! `[2^30, 2^31)` ([`quantize_multiplier`], TFLite's `QuantizeMultiplier`).

/// Which `MultiplyByQuantizedMultiplier` variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rounding {
    /// gemmlowp's doubling high multiply then rounding right shift (two roundings).
    #[default]
    Double,
    /// One 64-bit multiply, add half, shift (one rounding).
    Single,
}

/// `x · multiplier · 2^(shift − 31)`, rounded as `rounding` says, saturating to i32.
pub fn multiply_by_quantized_multiplier(
    x: i32,
    multiplier: i32,
    shift: i32,
    rounding: Rounding,
) -> i32 {
    let _ = (x, multiplier, shift, rounding);
    0
}

/// TFLite's `QuantizeMultiplier`: `(multiplier, shift)` with `real ≈ multiplier · 2^(shift−31)`,
/// `multiplier` in `[2^30, 2^31)` (or 0 for `real == 0`). Used by the compiler; in the runtime
/// crate so that there is one definition.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    let _ = real;
    (0, 0)
}
