//! Batched matrix product of two runtime tensors (ONNX MatMul when neither side is constant).
//!
//! `a` is `[..., M, K]`, `b` `[..., K, N]`, `output` `[..., M, N]`; all three have the same rank
//! (the compiler prepends 1s) and the batch axes broadcast numpy-style.

mod reference;
#[cfg(test)]
mod tests;

use crate::Shape;

/// Shapes of one batched matrix product (rank ≥ 2, same rank for all three).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MatMulParams {
    /// Shape of `a`.
    pub a: Shape,
    /// Shape of `b`.
    pub b: Shape,
    /// Shape of `output`.
    pub out: Shape,
}

/// Runs the batched product.
pub fn matmul_f32(p: &MatMulParams, a: &[f32], b: &[f32], output: &mut [f32]) {
    reference::matmul_f32_reference(p, a, b, output)
}
