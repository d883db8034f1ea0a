//! mote's compute kernels.
//!
//! Why a crate of its own: kernels are the only code that will ever need `unsafe` (SIMD) and the
//! only code whose speed matters, so they are kept pure and separate from the model format and the
//! interpreter. A kernel is an infallible, allocation-free function of `(params, input slices,
//! output slice)`. Everything it relies on (shapes that fit the slices, valid strides, non-zero
//! sizes) was proven when the model was loaded; kernels only `debug_assert!`.
//!
//! Layout: one operator, one module under [`ops`]. Each module holds the contract (`Params`, the
//! maths, the layout) in `mod.rs`, the portable scalar reference in `reference.rs`, and later one
//! file per instruction set. Spatial tensors are NHWC; weights of convolutions are
//! `[out_channels, kernel_h, kernel_w, in_channels / groups]` (OHWI), as in TFLite and CMSIS-NN.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod activation;
pub mod ops;
pub mod quant;
pub mod shape;

pub use activation::Activation;
pub use shape::{Shape, MAX_RANK};
