//! A standalone activation (one the compiler could not fuse into its producer).

mod reference;
#[cfg(test)]
mod tests;

use crate::Activation;

/// `output[i] = act(input[i])`; the slices have equal length.
pub fn activation_f32(act: Activation, input: &[f32], output: &mut [f32]) {
    reference::activation_f32_reference(act, input, output)
}
