//! Element-wise binary ops with numpy broadcasting: Add, Sub, Mul, Div, Max, Min.
//!
//! All three shapes have the same rank (the compiler prepends 1s); an axis of extent 1 in an
//! input broadcasts. Squeeze-excitation (`[N,H,W,C] · [N,1,1,C]`) and residual adds are the
//! cases that matter for speed.

mod reference;
#[cfg(test)]
mod tests;

use crate::{Activation, Shape};

/// Which binary operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`
    #[default]
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `max(a, b)`
    Max,
    /// `min(a, b)`
    Min,
}

/// Shapes and operation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinaryParams {
    /// The operation.
    pub op: BinaryOp,
    /// Shape of `a`.
    pub a: Shape,
    /// Shape of `b`.
    pub b: Shape,
    /// Shape of `output` (the broadcast of `a` and `b`).
    pub out: Shape,
    /// Fused activation.
    pub activation: Activation,
}

/// Runs `output = act(a op b)`.
pub fn binary_f32(p: &BinaryParams, a: &[f32], b: &[f32], output: &mut [f32]) {
    reference::binary_f32_reference(p, a, b, output)
}
