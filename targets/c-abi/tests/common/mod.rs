//! Shared by the tests: compiling the MLPerf Tiny anomaly-detection model and running it with
//! the Rust runtime, the reference the C API must match.
#![allow(dead_code)]

use mote_format::AlignedBytes;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `models/mlperf-tiny/<name>.onnx` compiled with `input_1` of shape `[1, 640]`.
pub fn compile_ad01(name: &str) -> Vec<u8> {
    compile_mlperf_tiny(name, &[1, 640])
}

/// `models/mlperf-tiny/<name>.onnx` compiled with `input_1` of shape `shape`.
pub fn compile_mlperf_tiny(name: &str, shape: &[usize]) -> Vec<u8> {
    let path = repo().join(format!("models/mlperf-tiny/{name}.onnx"));
    let onnx = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![("input_1".into(), shape.to_vec())],
        ..Default::default()
    };
    mote_compiler::compile(&onnx, &opts)
        .unwrap_or_else(|e| panic!("compile {name}: {e}"))
        .bytes
}

/// A deterministic float32 input of `n` values in about [-1, 1].
pub fn input_f32(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as f32) * 0.37).sin() * 0.8 + ((i % 7) as f32) * 0.03)
        .collect()
}

/// Runs the model with the Rust runtime on one input's bytes; returns output 0's bytes.
pub fn run_rust(model: &[u8], input: &[u8]) -> Vec<u8> {
    let bytes = AlignedBytes::from_slice(model);
    let m = mote_runtime::Model::from_bytes(bytes.as_bytes()).expect("valid model");
    let mut arena = AlignedBytes::zeroed(m.arena_len());
    let mut i = mote_runtime::Interpreter::new(&m, arena.as_bytes_mut()).expect("arena");
    i.set_input(0, input).expect("input");
    i.invoke().expect("run");
    i.output(0).expect("output").to_vec()
}
