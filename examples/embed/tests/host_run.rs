//! The embedded-model program computes what a normal host run computes: the model compiled at
//! build time is the one `mote_compiler` makes of the same ONNX file, the generated sizes are
//! the model's, and the output of `infer` (and of the binary) equals the interpreter's output
//! with a heap-allocated arena.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_example_embed::*;
use std::path::Path;

fn host_model() -> Vec<u8> {
    let onnx = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mlperf-tiny/ad01_int8.onnx"),
    )
    .unwrap();
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![("input_1".into(), vec![1, 640])],
        metadata: vec![("name".into(), "ad01 int8 (embedded)".into())],
        ..Default::default()
    };
    mote_compiler::compile(&onnx, &opts).unwrap().bytes
}

#[test]
fn embedded_run_equals_host_run() {
    let bytes = host_model();
    assert_eq!(MODEL.0.len(), bytes.len());
    assert!(
        MODEL.0 == bytes[..],
        "the embedded model differs from a fresh compile"
    );
    assert_eq!((MODEL.0.as_ptr() as usize) % 16, 0);

    let model = model().unwrap();
    assert_eq!(ARENA_BYTES, model.arena_len());
    assert_eq!(INPUT_LEN, 640);
    assert_eq!(OUTPUT_LEN, 640);

    let input = sample_input();
    let mut arena = new_arena();
    let mut out = [0i8; OUTPUT_LEN];
    infer(&model, &mut arena, &input, &mut out).unwrap();
    let expected = host_run(&bytes, &input);
    assert_eq!(out.to_vec(), expected);
    // Twice in the same arena: the same answer.
    infer(&model, &mut arena, &input, &mut out).unwrap();
    assert_eq!(out.to_vec(), expected);

    // The binary prints the same numbers.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_embed"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("output[0..16]: {:?}", &expected[..16])),
        "{stdout}"
    );
    let sum: i64 = expected.iter().map(|&v| v as i64).sum();
    assert!(stdout.contains(&format!("output sum: {sum}")), "{stdout}");
    let score = anomaly_score(&model, &input, &expected);
    assert!(score.is_finite() && score > 0.0);
    assert!(
        stdout.contains(&format!("anomaly score (reconstruction MSE): {score:.6}")),
        "{stdout}"
    );
}

fn host_run(bytes: &[u8], input: &[i8]) -> Vec<i8> {
    let aligned = mote_format::AlignedBytes::from_slice(bytes);
    let m = mote_runtime::Model::from_bytes(aligned.as_bytes()).unwrap();
    let mut arena = mote_format::AlignedBytes::zeroed(m.arena_len());
    let mut interp = mote_runtime::Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
    let data: Vec<u8> = input.iter().map(|&v| v as u8).collect();
    interp.set_input(0, &data).unwrap();
    interp.invoke().unwrap();
    interp.output(0).unwrap().iter().map(|&v| v as i8).collect()
}
