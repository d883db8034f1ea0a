//! Element-wise activations, standalone or fused into the op that produces their input.
//!
//! Fusing matters because an activation run separately reads and writes the whole tensor again;
//! fused, it is applied to each value while it is still in a register.

/// An activation function with its parameters, as ONNX defines it.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, min), max)`; Relu6 is `Clip { min: 0, max: 6 }`.
    Clip {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// `x if x >= 0 else alpha * x`.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `max(0, min(1, alpha * x + beta))`.
    HardSigmoid {
        /// Slope.
        alpha: f32,
        /// Offset.
        beta: f32,
    },
    /// `x * max(0, min(1, x / 6 + 1/2))`.
    HardSwish,
    /// `tanh(x)`.
    Tanh,
}

impl Activation {
    /// The bounds `(lo, hi)` when the activation is a clamp (ReLU, Clip), which vector kernels
    /// apply in registers as `min(max(v, lo), hi)` (NaN gives `lo`, as [`Activation::apply`]);
    /// `None` for the others, applied to the stored values with [`Activation::apply_slice`].
    pub fn clamp_bounds(self) -> Option<(f32, f32)> {
        match self {
            Activation::Relu => Some((0.0, f32::INFINITY)),
            Activation::Clip { min, max } => Some((min, max)),
            _ => None,
        }
    }

    /// Applies the activation to one value.
    // `max(..).min(..)` rather than `clamp`: it maps NaN to the lower bound and cannot panic.
    #[allow(clippy::manual_clamp)]
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::None => x,
            Activation::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Activation::Clip { min, max } => x.max(min).min(max),
            Activation::LeakyRelu { alpha } => {
                if x >= 0.0 {
                    x
                } else {
                    alpha * x
                }
            }
            Activation::Sigmoid => 1.0 / (1.0 + libm::expf(-x)),
            Activation::HardSigmoid { alpha, beta } => (alpha * x + beta).max(0.0).min(1.0),
            Activation::HardSwish => x * (x * (1.0 / 6.0) + 0.5).max(0.0).min(1.0),
            Activation::Tanh => libm::tanhf(x),
        }
    }

    /// Applies the activation in place.
    pub fn apply_slice(self, values: &mut [f32]) {
        if self == Activation::None {
            return;
        }
        for v in values {
            *v = self.apply(*v);
        }
    }
}
