//! Shared helpers of the cross-crate tests: paths, running a compiled model, comparing outputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// Output tensors: (shape, values).
pub type Outputs = Vec<(Vec<usize>, Vec<f32>)>;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Compiles the MLPerf Tiny model `models/mlperf-tiny/{model}.onnx` with input `input` of
/// `shape`; returns the model file's bytes.
pub fn compiled_mlperf_tiny(model: &str, input: &str, shape: &[usize]) -> Vec<u8> {
    let onnx = std::fs::read(
        repo()
            .join("models/mlperf-tiny")
            .join(format!("{model}.onnx")),
    )
    .unwrap();
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(input.into(), shape.to_vec())],
        ..Default::default()
    };
    mote_compiler::compile(&onnx, &opts).unwrap().bytes
}

/// Compiles `onnx` and runs it on `inputs` (f32, in declaration order); returns the outputs.
pub fn compile_and_run(
    onnx: &[u8],
    opts: &mote_compiler::CompileOptions,
    inputs: &[Vec<f32>],
) -> Result<Outputs, String> {
    let compiled = mote_compiler::compile(onnx, opts).map_err(|e| format!("compile: {e}"))?;
    run_compiled(&compiled.bytes, inputs)
}

/// Runs a compiled model.
pub fn run_compiled(bytes: &[u8], inputs: &[Vec<f32>]) -> Result<Outputs, String> {
    let aligned = mote_format::AlignedBytes::from_slice(bytes);
    let model =
        mote_runtime::Model::from_bytes(aligned.as_bytes()).map_err(|e| format!("load: {e}"))?;
    let mut arena = mote_format::AlignedBytes::zeroed(model.arena_len());
    let mut it = mote_runtime::Interpreter::new(&model, arena.as_bytes_mut())
        .map_err(|e| format!("arena: {e}"))?;
    for (i, data) in inputs.iter().enumerate() {
        let dst = it.input_f32_mut(i).map_err(|e| format!("input {i}: {e}"))?;
        if dst.len() != data.len() {
            return Err(format!(
                "input {i}: {} values, model wants {}",
                data.len(),
                dst.len()
            ));
        }
        dst.copy_from_slice(data);
    }
    it.invoke().map_err(|e| format!("invoke: {e}"))?;
    let mut outs = Vec::new();
    for i in 0..model.output_count() {
        let t = model.output(i).map_err(|e| e.to_string())?;
        let v = it.output_f32(i).map_err(|e| e.to_string())?.to_vec();
        outs.push((t.shape().iter().map(|&d| d as usize).collect(), v));
    }
    Ok(outs)
}

/// Max |a − b| and max |a − b| / max |b|.
pub fn errors(ours: &[f32], reference: &[f32]) -> (f32, f32) {
    let max_abs = ours
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let scale = reference.iter().map(|b| b.abs()).fold(0.0f32, f32::max);
    (
        max_abs,
        if scale > 0.0 {
            max_abs / scale
        } else {
            max_abs
        },
    )
}
