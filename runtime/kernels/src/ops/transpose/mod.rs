//! Axis permutation: `output` axis `i` is `input` axis `perm[i]`.
//!
//! Generic over the element type. The compiler only emits a Transpose where data really moves
//! (a layout change between NCHW-style and NHWC-style consumers, or ShuffleNet's shuffle).

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512;
// Not in Helium builds: their code memory goes to the Helium kernels (QEMU's mps3-an547 gives
// the M55 512 KiB, and VWW's firmware fills it), and MCU models rarely transpose.
#[cfg(not(mote_helium))]
mod blocked;
mod reference;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod sse2;
#[cfg(test)]
mod tests;

use crate::{Shape, MAX_RANK};

/// Input shape and permutation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TransposeParams {
    /// Shape of the input.
    pub input: Shape,
    /// `perm[i]` is the input axis that becomes output axis `i`.
    pub perm: [usize; MAX_RANK],
}

/// Permutes `input` into `output`.
pub fn transpose<T: Copy>(p: &TransposeParams, input: &[T], output: &mut [T]) {
    #[cfg(not(mote_helium))]
    if blocked::transpose_2d(p, input, output) {
        return;
    }
    reference::transpose_reference(p, input, output)
}
