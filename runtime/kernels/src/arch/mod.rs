//! Instruction-set shims: CPU detection, the tokens that prove it, and the vector forms of the
//! int8 output stage. No op logic lives here; ops call these from their `<isa>.rs` files.
//! [`OutputStage`] is shared by every instruction set.

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub(crate) mod x86;

// Compiled on every target: on Cortex-M with the DSP extension its functions are single
// instructions (`asm!`), elsewhere bit-identical Rust, so the DSP kernels are tested on any host.
#[cfg(any(test, target_arch = "arm"))]
#[allow(unsafe_code)]
pub(crate) mod arm_dsp;

// As `arm_dsp`: `asm!` with Helium (cfg(mote_helium)), bit-identical Rust elsewhere.
#[cfg(any(test, target_arch = "arm"))]
#[allow(unsafe_code)]
pub(crate) mod helium;

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
pub(crate) mod aarch64;

/// The int8 output stage's per-call constants, in the form the vector code uses:
/// `out = min(max(v, lo), hi) + off` with `lo = act_min − output_offset`,
/// `hi = act_max − output_offset`. For `−128 ≤ act_min ≤ act_max ≤ 127` and
/// `|output_offset| ≤ 2^30` this equals the scalar
/// `clamp_s8(v.saturating_add(output_offset), act_min, act_max)` for every i32 `v` (a saturated
/// sum lands beyond the same bound as the exact one).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
pub(crate) struct OutputStage {
    pub(crate) off: i32,
    pub(crate) lo: i32,
    pub(crate) hi: i32,
}

#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]
impl OutputStage {
    /// `None` when the parameters are outside the range where the vector form is exact.
    pub(crate) fn new(output_offset: i32, act_min: i32, act_max: i32) -> Option<Self> {
        let ok = (-128..=127).contains(&act_min)
            && (-128..=127).contains(&act_max)
            && act_min <= act_max
            && (-(1 << 30)..=(1 << 30)).contains(&output_offset);
        ok.then(|| OutputStage {
            off: output_offset,
            lo: act_min - output_offset,
            hi: act_max - output_offset,
        })
    }

    /// Whether the vector forms of [`Rounding::Float`](crate::quant::Rounding::Float)'s output
    /// stage (`rne(clamp(f32(acc) · scale, lo, hi)) + off`, the clamp before the rounding) are
    /// exact: the bounds `lo`, `hi` are integers of at most 2^15 in magnitude, so exact in f32,
    /// and rounding is monotone and keeps integers, so clamping first gives the scalar rule's
    /// result (clamp after rounding). `|off| ≤ 2^14` also lets the x86 forms add the offset in
    /// saturating i16 after narrowing (`arch::x86::float_offset_512`). Output offsets are
    /// zero points, inside [−128, 255]; the rest takes the scalar rule.
    pub(crate) fn float_exact(&self) -> bool {
        (-(1 << 14)..=(1 << 14)).contains(&self.off)
    }
}
