//! Bit-exactness against LiteRT's reference kernels (`OpResolverType.BUILTIN_REF`) on the four
//! int8 MLPerf Tiny models: mote compiles the QDQ `.onnx` file (tf2onnx's conversion of the
//! `.tflite` file), LiteRT runs the `.tflite` file, and every output element must be identical.
//!
//! The reference data is made by `scripts/litert/all.sh .cache/litert` (the test command runs
//! it): random int8 inputs, LiteRT's outputs, and for the first input every intermediate tensor
//! (`experimental_preserve_all_tensors`), which the layer-by-layer test compares too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_compiler::layout::QuantRounding;
use std::path::PathBuf;

const MODELS: &[(&str, &str)] = &[
    ("vww_96_int8", "input_1_int8"),
    ("pretrainedResnet_quant", "input_1_int8"),
    ("kws_ref_model", "input_1"),
    ("ad01_int8", "input_1"),
];

fn data_dir(model: &str) -> PathBuf {
    let base = std::env::var("MOTE_LITERT_DATA").map(PathBuf::from).unwrap_or_else(|_| mote_tests::repo().join(".cache/litert"));
    base.join(model)
}

fn read_i8(path: &std::path::Path) -> (Vec<u64>, Vec<i8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e} (run `bash scripts/litert/all.sh .cache/litert`)", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<i8>().unwrap())
}

fn compile(model: &str, input: &str, shape: &[u64], rounding: QuantRounding) -> Vec<u8> {
    let onnx = std::fs::read(mote_tests::repo().join("models/mlperf-tiny").join(format!("{model}.onnx"))).unwrap();
    let mut dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    dims[0] = 1;
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(input.to_string(), dims)],
        rounding,
        keep_names: true,
        ..Default::default()
    };
    mote_compiler::compile(&onnx, &opts).unwrap_or_else(|e| panic!("{model}: {e}")).bytes
}

#[test]
fn outputs_bit_exact_with_litert_builtin_ref() {
    let mut report = Vec::new();
    for &(model, input) in MODELS {
        let dir = data_dir(model);
        let (in_shape, inputs) = read_i8(&dir.join("inputs.npy"));
        let (_, expected) = read_i8(&dir.join("outputs.npy"));
        let bytes = compile(model, input, &in_shape, QuantRounding::LiteRtReference);
        let aligned = mote_format::AlignedBytes::from_slice(&bytes);
        let m = mote_runtime::Model::from_bytes(aligned.as_bytes()).unwrap();
        let mut arena = mote_format::AlignedBytes::zeroed(m.arena_len());
        let mut it = mote_runtime::Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
        let n = in_shape[0] as usize;
        let per_in = inputs.len() / n;
        let per_out = expected.len() / n;
        let (mut exact, mut first_bad) = (0, None);
        for k in 0..n {
            let x: Vec<u8> = inputs[k * per_in..(k + 1) * per_in].iter().map(|&v| v as u8).collect();
            it.set_input(0, &x).unwrap();
            it.invoke().unwrap();
            let got: Vec<i8> = it.output(0).unwrap().iter().map(|&b| b as i8).collect();
            let want = &expected[k * per_out..(k + 1) * per_out];
            if got == want {
                exact += 1;
            } else if first_bad.is_none() {
                first_bad = Some(format!("input {k}: mote {:?}… LiteRT {:?}…", &got[..got.len().min(12)], &want[..want.len().min(12)]));
            }
        }
        println!("{model}: {exact}/{n} inputs bit-exact with LiteRT BUILTIN_REF");
        report.push((model, exact, n, first_bad));
    }
    for (model, exact, n, bad) in &report {
        assert_eq!(exact, n, "{model}: {}", bad.clone().unwrap_or_default());
    }
}

/// Every mote op whose output LiteRT also exposes (matched by tensor name) must produce the
/// same bytes, given the same model input.
#[test]
fn intermediate_tensors_bit_exact_with_litert() {
    for &(model, input) in MODELS {
        let dir = data_dir(model);
        let (in_shape, inputs) = read_i8(&dir.join("inputs.npy"));
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("tensors.json")).unwrap()).unwrap();
        let bytes = compile(model, input, &in_shape, QuantRounding::LiteRtReference);
        let aligned = mote_format::AlignedBytes::from_slice(&bytes);
        let m = mote_runtime::Model::from_bytes(aligned.as_bytes()).unwrap();
        let file = *m.file();
        let mut arena = mote_format::AlignedBytes::zeroed(m.arena_len());
        let mut it = mote_runtime::Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
        let per_in = inputs.len() / in_shape[0] as usize;
        let x: Vec<u8> = inputs[..per_in].iter().map(|&v| v as u8).collect();
        it.set_input(0, &x).unwrap();
        let mut compared = 0;
        for i in 0..file.op_count() {
            it.invoke_ops(i..i + 1).unwrap();
            let op = file.op(i).unwrap();
            let out = op.outputs.get(0).unwrap();
            let name = file.tensor(out).unwrap().name;
            let Some(t) = json["tensors"].as_array().unwrap().iter().find(|t| t["name"] == name) else { continue };
            let (_, want) = read_i8(&dir.join(t["file"].as_str().unwrap()));
            let got: Vec<i8> = it.tensor_bytes(out).unwrap().iter().map(|&b| b as i8).collect();
            let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            assert!(got.len() == want.len() && diff == 0, "{model}: op {i} ({}) output '{name}': {diff} of {} elements differ", op.params.opcode().name(), want.len());
            compared += 1;
        }
        println!("{model}: {compared} intermediate tensors bit-exact");
        assert!(compared >= file.op_count() / 2, "{model}: only {compared} of {} op outputs matched a LiteRT tensor by name", file.op_count());
    }
}
