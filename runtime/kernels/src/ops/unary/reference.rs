//! Portable scalar reference for the standalone activation.
use crate::Activation;

pub(super) fn activation_f32_reference(act: Activation, input: &[f32], output: &mut [f32]) {
    debug_assert_eq!(input.len(), output.len());
    for (o, &x) in output.iter_mut().zip(input) {
        *o = act.apply(x);
    }
}
