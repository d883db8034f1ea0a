//! Instruction-set shims: CPU detection, the tokens that prove it, and the vector forms of the
//! int8 output stage. No op logic lives here; ops call these from their `<isa>.rs` files.

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub(crate) mod x86;
