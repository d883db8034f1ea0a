//! Any bytes as an ONNX model: compile (an error, never a panic). See `mote_fuzz::onnx`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mote_fuzz::onnx(data);
});
