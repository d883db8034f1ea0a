//! The firmware pattern: a model compiled at build time and embedded in the program image, a
//! static arena sized from it, and inference with no heap, no file system and no OS.
//!
//! - `build.rs` compiles the ONNX model into `$OUT_DIR/model.mote` and writes the arena size
//!   and the input/output lengths as constants ([`ARENA_BYTES`], [`INPUT_LEN`], [`OUTPUT_LEN`]).
//! - [`MODEL`] is the file, embedded with `include_bytes!` in a 16-byte aligned static: on a
//!   microcontroller it stays in flash and the runtime reads the weights in place.
//! - [`Arena`] is a plain 16-byte aligned byte array of exactly [`ARENA_BYTES`]; the program
//!   decides where it lives (a `static`, a `static_cell::StaticCell`, `cortex_m::singleton!`, the
//!   stack of the inference task).
//! - [`model`] validates the file once (at boot); [`infer`] runs it. This crate is `no_std`
//!   without `alloc`, so nothing here can allocate. It builds for a bare Cortex-M as is:
//!   `cargo build -p mote-example-embed --lib --target thumbv7em-none-eabihf`.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use mote_runtime::{Error, Interpreter, Model};

include!(concat!(env!("OUT_DIR"), "/model_info.rs"));

/// `T`, placed at a 16-byte aligned address (what the model bytes and the arena need).
#[repr(C, align(16))]
pub struct Aligned<T: ?Sized>(pub T);

/// The compiled model, embedded in the program image.
pub static MODEL: &Aligned<[u8]> =
    &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.mote")));

/// The arena type: exactly the bytes the model needs, 16-byte aligned.
pub type Arena = Aligned<[u8; ARENA_BYTES]>;

/// A zeroed arena, usable in a `static` initialiser.
pub const fn new_arena() -> Arena {
    Aligned([0; ARENA_BYTES])
}

/// Validates the embedded model (once, at start-up: it checks every offset, shape and
/// parameter, so [`infer`] need not).
///
/// # Errors
/// Only if the embedded file is damaged.
pub fn model() -> Result<Model<'static>, Error> {
    Model::from_bytes(&MODEL.0)
}

/// Runs the model on `input` (int8, quantized with the input's scale and zero point) and
/// writes the int8 output to `output`. No allocation: the tensors live in `arena`.
///
/// # Errors
/// If `model` does not fit the constants generated with it (another model).
pub fn infer(
    model: &Model<'static>,
    arena: &mut Arena,
    input: &[i8; INPUT_LEN],
    output: &mut [i8; OUTPUT_LEN],
) -> Result<(), Error> {
    let mut interp = Interpreter::new(model, &mut arena.0)?;
    let dst = interp.input_mut(0)?;
    if dst.len() != INPUT_LEN {
        return Err(Error::WrongInputSize {
            index: 0,
            expected: dst.len(),
            found: INPUT_LEN,
        });
    }
    for (d, s) in dst.iter_mut().zip(input) {
        *d = *s as u8;
    }
    interp.invoke()?;
    for (d, s) in output.iter_mut().zip(interp.output(0)?) {
        *d = *s as i8;
    }
    Ok(())
}

/// A fixed test input: a smooth int8 pattern standing in for 5 frames of 128 log-mel bins.
pub fn sample_input() -> [i8; INPUT_LEN] {
    let mut x = [0i8; INPUT_LEN];
    for (i, v) in x.iter_mut().enumerate() {
        let (frame, bin) = ((i / 128) as i32, (i % 128) as i32);
        *v = ((bin * 3 + frame * 11) % 160 - 80) as i8;
    }
    x
}

/// The anomaly score of the autoencoder: the mean squared error between the input and its
/// reconstruction, in real units (both dequantized with their scale and zero point).
pub fn anomaly_score(model: &Model<'static>, input: &[i8], output: &[i8]) -> f32 {
    let deq = |t: Result<mote_runtime::TensorInfo<'_>, Error>| {
        t.ok()
            .and_then(|t| t.quant)
            .map_or((1.0, 0), |q| (q.scale, q.zero_point))
    };
    let ((si, zi), (so, zo)) = (deq(model.input(0)), deq(model.output(0)));
    let n = input.len().min(output.len()).max(1);
    let sum: f32 = input
        .iter()
        .zip(output)
        .map(|(&x, &y)| {
            let d = (x as i32 - zi) as f32 * si - (y as i32 - zo) as f32 * so;
            d * d
        })
        .sum();
    sum / n as f32
}
