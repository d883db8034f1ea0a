//! The model file is compact: for every MLPerf Tiny model (float and int8) the `.mote` file is
//! smaller than the `.tflite` file of the same model (both in `models/mlperf-tiny/`, copied from
//! the MLPerf Tiny reference repository — see its README), and its overhead over the constant
//! bytes is small. The float keyword spotter is a tf2onnx "hybrid" model whose weights are int8
//! with a DequantizeLinear; by default mote keeps them int8 (as its `.tflite` twin does) and the
//! model computes bit for bit what it computes with the weights folded to float32
//! (`float_weights`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_format::AlignedBytes;
use mote_runtime::Model;

const MODELS: &[(&str, &str, &[usize])] = &[
    ("vww_96_float", "input_1", &[1, 96, 96, 3]),
    ("vww_96_int8", "input_1_int8", &[1, 96, 96, 3]),
    ("pretrainedResnet", "input_1", &[1, 32, 32, 3]),
    ("pretrainedResnet_quant", "input_1_int8", &[1, 32, 32, 3]),
    ("kws_ref_model_float32", "input_1", &[1, 49, 10, 1]),
    ("kws_ref_model", "input_1", &[1, 49, 10, 1]),
    ("ad01_fp32", "input_1", &[1, 640]),
    ("ad01_int8", "input_1", &[1, 640]),
];

fn compile(name: &str, input: &str, shape: &[usize], float_weights: bool) -> Vec<u8> {
    let dir = mote_tests::repo().join("models/mlperf-tiny");
    let onnx = std::fs::read(dir.join(format!("{name}.onnx"))).unwrap();
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(input.into(), shape.to_vec())],
        float_weights,
        ..Default::default()
    };
    mote_compiler::compile(&onnx, &opts).unwrap().bytes
}

#[test]
fn every_model_file_is_smaller_than_its_tflite_twin() {
    let dir = mote_tests::repo().join("models/mlperf-tiny");
    for &(name, input, shape) in MODELS {
        let bytes = compile(name, input, shape, false);
        let tflite = std::fs::metadata(dir.join(format!("{name}.tflite")))
            .unwrap()
            .len() as usize;
        let a = AlignedBytes::from_slice(&bytes);
        let m = mote_format::Model::from_bytes(a.as_bytes()).unwrap();
        let r = mote_compiler::inspect::report(&m);
        println!(
            "{name}: .mote {} bytes, .tflite {tflite} bytes ({:.3}x), constants {} bytes, overhead {} bytes",
            bytes.len(),
            bytes.len() as f64 / tflite as f64,
            r.constant_bytes,
            bytes.len() - r.constant_bytes as usize
        );
        assert!(bytes.len() < tflite, "{name}: {} >= {tflite}", bytes.len());
        assert!(
            bytes.len() - (r.constant_bytes as usize) < 16 * 1024,
            "{name}: overhead {} bytes",
            bytes.len() - r.constant_bytes as usize
        );
    }
}

#[test]
fn int8_weights_of_a_float_model_compute_what_float_weights_do() {
    let (name, input, shape) = ("kws_ref_model_float32", "input_1", &[1usize, 49, 10, 1][..]);
    let small = compile(name, input, shape, false);
    let large = compile(name, input, shape, true);
    assert!(
        small.len() * 2 < large.len(),
        "{} vs {}",
        small.len(),
        large.len()
    );
    let run = |bytes: &[u8], x: &[f32]| -> Vec<u8> {
        let a = AlignedBytes::from_slice(bytes);
        let m = Model::from_bytes(a.as_bytes()).unwrap();
        let mut arena = AlignedBytes::zeroed(m.arena_len());
        let mut it = mote_runtime::Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
        let xb: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
        it.set_input(0, &xb).unwrap();
        it.invoke().unwrap();
        it.output(0).unwrap().to_vec()
    };
    let mut seed = 0x2026_1126_u64;
    for _ in 0..4 {
        let x: Vec<f32> = (0..490)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((seed >> 33) as f32 / (1u64 << 31) as f32) * 60.0 - 30.0
            })
            .collect();
        assert_eq!(run(&small, &x), run(&large, &x));
    }
}
