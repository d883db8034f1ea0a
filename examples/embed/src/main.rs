//! `embed`: runs the model built into this binary on a fixed input and prints the result.
//!
//! The binary uses `std` to print; the inference path (`mote_example_embed::infer`) is `no_std`
//! and allocates nothing. The arena is a `static` (behind a `Mutex` because safe Rust hands out
//! `&mut` to a static only through a lock; firmware uses `static_cell` or
//! `cortex_m::singleton!` the same way).

use mote_example_embed::{
    anomaly_score, infer, model, new_arena, sample_input, Arena, ARENA_BYTES, MODEL, OUTPUT_LEN,
};
use std::process::ExitCode;
use std::sync::Mutex;

static ARENA: Mutex<Arena> = Mutex::new(new_arena());

fn main() -> ExitCode {
    let model = match model() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: embedded model: {e}");
            return ExitCode::FAILURE;
        }
    };
    let name = model.file().meta("name").unwrap_or("?");
    println!(
        "model: {name}, {} bytes embedded, arena {ARENA_BYTES} bytes (static)",
        MODEL.0.len()
    );
    let input = sample_input();
    let mut output = [0i8; OUTPUT_LEN];
    let result = match ARENA.lock() {
        Ok(mut arena) => infer(&model, &mut arena, &input, &mut output),
        Err(_) => {
            eprintln!("error: arena lock poisoned");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    println!("output[0..16]: {:?}", &output[..16]);
    let sum: i64 = output.iter().map(|&v| v as i64).sum();
    println!("output sum: {sum}");
    println!(
        "anomaly score (reconstruction MSE): {:.6}",
        anomaly_score(&model, &input, &output)
    );
    ExitCode::SUCCESS
}
