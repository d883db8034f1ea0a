//! Instruction-set shims: CPU detection, the tokens that prove it, and the vector forms of the
//! int8 output stage. No op logic lives here; ops call these from their `<isa>.rs` files.

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub(crate) mod x86;

// Compiled on every target: on Cortex-M with the DSP extension its functions are single
// instructions (`asm!`), elsewhere bit-identical Rust, so the DSP kernels are tested on any host.
#[cfg(any(test, target_arch = "arm"))]
#[allow(unsafe_code)]
pub(crate) mod arm_dsp;
