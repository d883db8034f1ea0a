//! Which instruction set runs a kernel.
//!
//! Every op with faster variants keeps one list, `IMPLS`, of [`Impl`] entries, fastest first and
//! the portable reference last. The public kernel function walks that list and runs the first
//! entry whose [`Isa`] is [`available`](Isa::available) and which accepts the call (an entry may
//! decline a shape or a quantization it does not cover by returning `false`; the reference
//! accepts everything). The same lists drive the property tests (each entry against the
//! reference, bit for bit for int8) and the benchmarks, so adding a variant is one file and one
//! line.
//!
//! Availability: with the `std` feature, the host CPU is detected once, on first use, and the
//! answer cached in an atomic. Without `std`, availability is decided at compile time from the
//! enabled target features (`cfg(target_feature = ...)`). [`set_limit`] caps the choice at run
//! time (for example to compare against the reference on a whole model).

use core::sync::atomic::{AtomicU8, Ordering};

/// An instruction set a kernel variant is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// Portable scalar Rust: the oracle, always available.
    Reference,
    /// x86-64 AVX2 with FMA (x86-64-v3 class: Haswell, Zen 1 and later).
    Avx2,
    /// x86-64 AVX2 with AVX-VNNI (the VEX-encoded `vpdpbusd` on 256-bit vectors): Intel's
    /// client cores without AVX-512 (Alder Lake and later). Implies [`Isa::Avx2`].
    Avx2Vnni,
    /// x86-64 AVX-512 F/BW/VL with VNNI (`vpdpbusd`): Ice Lake, Sapphire Rapids, Zen 4, Zen 5.
    /// Implies [`Isa::Avx2`].
    Avx512Vnni,
    /// Arm Advanced SIMD (NEON): aarch64 (always present), 32-bit Arm built with
    /// `target_feature = "neon"` (e.g. `thumbv7neon-unknown-linux-gnueabihf`).
    Neon,
    /// aarch64 NEON with the dot-product instructions (`sdot`, Armv8.2 `dotprod`: Cortex-A55/A76
    /// and later, Raspberry Pi 5). Implies [`Isa::Neon`].
    NeonDotprod,
    /// aarch64 NEON with the dot product and the int8 matrix multiply (`smmla`, Armv8.6 `i8mm`:
    /// Cortex-A510/A710/X2 and later, Neoverse N2/V1/V2, Apple M2). Implies
    /// [`Isa::NeonDotprod`].
    NeonI8mm,
    /// Arm's DSP extension (SIMD32: `sxtb16`, `smlad`, `smlabb`…) of the Cortex-M4/M7/M33/M55.
    /// Chosen at compile time only: available when building for `thumbv7em-*` or
    /// `thumbv8m.main-*` (the build script sets `cfg(mote_arm_dsp)`), never on other hosts.
    ArmDsp,
    /// Helium, Arm's M-profile vector extension (MVE, integer), of the Cortex-M55/M85: 128-bit
    /// vectors, tail-predicated loops. Chosen at compile time only, like [`Isa::ArmDsp`], which
    /// it implies: the build script sets `cfg(mote_helium)` for `thumbv8m.main-*` built with
    /// `-C target-cpu=cortex-m55`/`cortex-m85` or `-C target-feature=+mve`.
    Helium,
}

impl Isa {
    /// Every instruction set, in increasing order of preference.
    pub const ALL: [Isa; 9] = [
        Isa::Reference,
        Isa::Avx2,
        Isa::Avx2Vnni,
        Isa::Avx512Vnni,
        Isa::Neon,
        Isa::NeonDotprod,
        Isa::NeonI8mm,
        Isa::ArmDsp,
        Isa::Helium,
    ];

    /// Short lower-case name, as used in kernel names (`conv2d_s8_avx2`).
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Reference => "reference",
            Isa::Avx2 => "avx2",
            Isa::Avx2Vnni => "avx2_vnni",
            Isa::Avx512Vnni => "avx512_vnni",
            Isa::Neon => "neon",
            Isa::NeonDotprod => "neon_dotprod",
            Isa::NeonI8mm => "neon_i8mm",
            Isa::ArmDsp => "arm_dsp",
            Isa::Helium => "helium",
        }
    }

    /// Whether this host can run kernels written for `self` (detected once with `std`, decided
    /// at compile time without it) and [`set_limit`] allows it.
    #[inline]
    pub fn available(self) -> bool {
        self <= limit() && self.supported_by_host()
    }

    /// Whether the host supports `self`, ignoring [`set_limit`].
    #[inline]
    pub fn supported_by_host(self) -> bool {
        match self {
            Isa::Reference => true,
            Isa::ArmDsp => cfg!(mote_arm_dsp),
            Isa::Helium => cfg!(mote_helium),
            _ => host_supports(self),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn host_supports(isa: Isa) -> bool {
    crate::arch::x86::host_supports(isa)
}

#[cfg(target_arch = "aarch64")]
#[inline]
fn host_supports(isa: Isa) -> bool {
    crate::arch::aarch64::host_supports(isa)
}

/// 32-bit Arm: NEON is chosen at compile time (`target_feature = "neon"`), there is no dot
/// product on the cores that run 32-bit code.
#[cfg(target_arch = "arm")]
#[inline]
fn host_supports(isa: Isa) -> bool {
    isa == Isa::Neon && cfg!(target_feature = "neon")
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm")))]
#[inline]
fn host_supports(_isa: Isa) -> bool {
    false
}

/// The most preferred instruction set that is [`available`](Isa::available).
pub fn best() -> Isa {
    Isa::ALL
        .iter()
        .rev()
        .copied()
        .find(|i| i.available())
        .unwrap_or(Isa::Reference)
}

/// No limit: the default.
const NO_LIMIT: u8 = u8::MAX;
static LIMIT: AtomicU8 = AtomicU8::new(NO_LIMIT);

/// Caps the instruction sets the kernels may use from now on, process-wide: `set_limit(Isa::Reference)`
/// makes every kernel run its portable reference (for bisecting a difference, or measuring the
/// speed-up). Kernels already running are not affected.
pub fn set_limit(max: Isa) {
    LIMIT.store(max as u8, Ordering::Relaxed);
}

/// Removes the cap set by [`set_limit`].
pub fn clear_limit() {
    LIMIT.store(NO_LIMIT, Ordering::Relaxed);
}

#[inline]
fn limit() -> Isa {
    let v = LIMIT.load(Ordering::Relaxed);
    Isa::ALL
        .iter()
        .copied()
        .find(|i| *i as u8 == v)
        .unwrap_or(Isa::Helium)
}

/// One variant of a kernel: its name (`<op>_<dtype>[_<variant>]_<isa>`), its instruction set,
/// and the function. `F` is the op's function type; for ops with several variants it returns
/// `bool`: `false` when the variant does not cover the call (shape, quantization parameters) or
/// its instruction set is not available, in which case it has not written anything.
#[derive(Clone, Copy)]
pub struct Impl<F> {
    /// Kernel name, e.g. `conv2d_s8_avx512_vnni`.
    pub name: &'static str,
    /// The instruction set it needs.
    pub isa: Isa,
    /// The kernel.
    pub f: F,
}

impl<F> core::fmt::Debug for Impl<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Impl")
            .field("name", &self.name)
            .field("isa", &self.isa)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::{best, Isa};

    /// Shows which instruction set the kernels dispatch to on this host; with `MOTE_EXPECT_ISA`
    /// set (e.g. `neon_dotprod` under `QEMU_CPU=cortex-a76`, `neon` under `cortex-a72`), fails
    /// unless that is the one picked, so CI proves each code path really ran.
    #[test]
    fn dispatcher_picks_expected_isa() {
        let picked = best();
        std::println!(
            "dispatch: best instruction set on this host = {}",
            picked.name()
        );
        if let Ok(want) = std::env::var("MOTE_EXPECT_ISA") {
            assert_eq!(picked.name(), want, "MOTE_EXPECT_ISA");
        }
    }

    #[test]
    fn isa_order_matches_discriminants() {
        for (i, isa) in Isa::ALL.iter().enumerate() {
            assert_eq!(*isa as usize, i);
        }
    }
}
