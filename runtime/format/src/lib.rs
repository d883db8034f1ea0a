//! The `.mote` model file.
//!
//! Why this shape: a model must run from a microcontroller's flash without being copied, so the
//! file is read in place — [`Model::from_bytes`] borrows the bytes, checks every offset, length,
//! index and parameter once, and afterwards hands out views into them. Weights are never copied
//! and sit 16-byte aligned for SIMD loads. All integers are little-endian; every record has a
//! fixed size so that a reader needs no heap and no recursion. `docs/format.md` is the
//! specification; this crate is its only reader and writer.
//!
//! ```
//! # #[cfg(feature = "write")] {
//! use mote_format::{ModelBuilder, DType, Storage, Model, OpParams};
//! let mut b = ModelBuilder::new();
//! let x = b.add_tensor("x", DType::F32, &[1, 4], Storage::Arena { offset: 0 });
//! let y = b.add_tensor("y", DType::F32, &[1, 4], Storage::Arena { offset: 16 });
//! b.add_op("copy", &OpParams::Reshape, &[x], &[y]);
//! b.set_io(&[x], &[y]);
//! b.set_arena_len(32);
//! let bytes = b.finish();
//! let aligned = mote_format::AlignedBytes::from_slice(&bytes);
//! let model = Model::from_bytes(aligned.as_bytes()).unwrap();
//! assert_eq!(model.op_count(), 1);
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// No unwrap, expect or panic! on any path a model file or input can reach (tests may).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// Every byte this crate reads comes from a file that may be hostile: no indexing that can panic,
// no arithmetic that can overflow on a value read from the file (checked or saturating
// arithmetic, `get`, `split_at_checked`). The writer is exempt (see `mod writer`).
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

#[cfg(feature = "write")]
extern crate alloc;

mod error;
mod layout;
mod ops;
mod reader;
// The writer builds a file from the compiler's own tables (it reads nothing from outside) and
// panics on a compiler bug rather than write a broken file.
#[cfg(feature = "write")]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod writer;

pub use error::Error;
pub use layout::{DType, SectionKind, Storage, FORMAT_MAJOR, FORMAT_MINOR, MAGIC, MAX_RANK};
pub use ops::{
    ActivationKind, ActivationSpec, AddS8, BinaryKind, Conv2d, ConvTranspose2d, MulS8, OpCode,
    OpParams, PadKind, Pool2d, QuantOutput, ReduceKind, Resize, ResizeCoordinate, ResizeMode,
    ResizeNearest, RoundingMode,
};
pub use reader::{IndexList, Model, OpInfo, Quant, TensorInfo};
#[cfg(feature = "write")]
pub use writer::{AlignedBytes, ModelBuilder};
