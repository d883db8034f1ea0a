//! mote's interpreter: runs a validated `.mote` model with no heap and no OS.
//!
//! Why it looks like this: on a microcontroller the model sits in flash and RAM is a few hundred
//! kilobytes, so the caller lends one arena (`&mut [u8]`) whose size the model states, every
//! intermediate tensor lives at an offset planned by the compiler, and nothing is allocated.
//! [`Model::from_bytes`] checks the file's structure (in `mote-format`) and then the meaning of
//! every op — shapes, parameters, that outputs never overlap inputs — so that [`Interpreter`]
//! can run the kernels without checks. The split mirrors TFLite Micro's Prepare/Eval.
//!
//! ```no_run
//! # fn demo(bytes: &[u8], arena: &mut [u8]) -> Result<(), mote_runtime::Error> {
//! let model = mote_runtime::Model::from_bytes(bytes)?;
//! let mut interp = mote_runtime::Interpreter::new(&model, arena)?;
//! interp.input_f32_mut(0)?.fill(0.5);
//! interp.invoke()?;
//! let scores: &[f32] = interp.output_f32(0)?;
//! # let _ = scores; Ok(()) }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// No unwrap, expect or panic! on any path a model file or input can reach (tests may).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// A model file may be hostile. Validation (`model.rs`, `prepare.rs`) must not panic on what it
// reads: no indexing that can panic, no arithmetic that can overflow on model values (checked or
// saturating arithmetic). Where a module allows one of these, its header says which bounds were
// validated at load that make it safe. The kernels (`mote-kernels`) run only after validation:
// every shape and parameter they receive has been checked against the tensors' byte lengths,
// and they index with `get`/`chunks_exact`/zips or with bounds derived from those checks.
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

#[cfg(feature = "std")]
extern crate std;

mod error;
mod interpreter;
mod model;
mod prepare;
#[cfg(feature = "threads")]
mod threads;
#[cfg(feature = "workers")]
mod workers;

pub use error::Error;
pub use interpreter::{Interpreter, NoProfiler, Profiler};
pub use model::Model;
pub use mote_format as format;
pub use mote_format::{DType, OpCode, OpParams, Storage, TensorInfo};
/// Which instruction set the kernels use ([`dispatch::best`]) and a process-wide cap on it
/// ([`dispatch::set_limit`]), for hosts that compare instruction sets on one machine.
pub use mote_kernels::dispatch;
pub use prepare::PreparedSlot;
#[cfg(feature = "threads")]
pub use threads::ThreadPool;
#[cfg(feature = "workers")]
pub use workers::{Band, SequentialBands, Workers, MAX_BANDS, MIN_BAND_MACS_F32, MIN_BAND_MACS_S8};
