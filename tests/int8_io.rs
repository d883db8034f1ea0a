//! `mote compile --io int8` on quantized (QDQ) models: the int8-I/O file computes the same int8
//! values as the float-I/O one.
//!
//! Both compilations of each ONNX Runtime-quantized model (`models/gen/ort_quantize.py`, int8
//! activations) run on the same data: the float-I/O model on `x = scale · (q − zero_point)` for
//! random int8 `q` (the input's own scale and zero point, read from the int8-I/O file), which
//! its QuantizeLinear maps back to `q` exactly, and the int8-I/O model on `q` itself. The
//! float-I/O outputs must equal the int8-I/O outputs dequantized with the scale and zero point
//! the file records (`scale · (y − zero_point)` in f32, as the runtime's Dequantize computes it),
//! element for element. The model references come from ONNX Runtime's quantizer; nothing here
//! is a hard-coded expected output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_format::DType;
use std::path::PathBuf;

fn gen_dir() -> PathBuf {
    std::env::var_os("MOTE_GEN_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| mote_tests::repo().join(".cache/models"))
}

/// (file, input, shape)
const CASES: &[(&str, &str, &[usize])] = &[
    ("ad01_fp32_qdq_s8.onnx", "input_1", &[1, 640]),
    ("mobilenet_v3_block_qdq_s8.onnx", "input", &[1, 3, 64, 64]),
    ("shufflenet_block_qdq_s8.onnx", "input", &[1, 3, 64, 64]),
];

fn compile(path: &PathBuf, input: &str, shape: &[usize], int8_io: bool) -> Vec<u8> {
    let onnx = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run models/gen/all.sh)", path.display()));
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(input.to_string(), shape.to_vec())],
        int8_io,
        ..Default::default()
    };
    mote_compiler::compile(&onnx, &opts)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .bytes
}

#[test]
fn int8_io_outputs_are_the_float_io_outputs_quantized() {
    for &(file, input, shape) in CASES {
        let path = gen_dir().join(file);
        let float_io = mote_format::AlignedBytes::from_slice(&compile(&path, input, shape, false));
        let int8_io = mote_format::AlignedBytes::from_slice(&compile(&path, input, shape, true));
        let mf = mote_runtime::Model::from_bytes(float_io.as_bytes()).unwrap();
        let mq = mote_runtime::Model::from_bytes(int8_io.as_bytes()).unwrap();
        let qin = mq.input(0).unwrap();
        assert_eq!(qin.dtype, DType::I8, "{file}: input not int8");
        assert_eq!(mf.input(0).unwrap().dtype, DType::F32, "{file}");
        let qp = qin.quant.expect("input quantization recorded");
        let n = qin.elements();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let q: Vec<i8> = (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as i8
            })
            .collect();
        let x: Vec<f32> = q
            .iter()
            .map(|&v| qp.scale * (v as i32 - qp.zero_point) as f32)
            .collect();

        let mut af = mote_format::AlignedBytes::zeroed(mf.arena_len());
        let mut itf = mote_runtime::Interpreter::new(&mf, af.as_bytes_mut()).unwrap();
        itf.input_f32_mut(0).unwrap().copy_from_slice(&x);
        itf.invoke().unwrap();
        let mut aq = mote_format::AlignedBytes::zeroed(mq.arena_len());
        let mut itq = mote_runtime::Interpreter::new(&mq, aq.as_bytes_mut()).unwrap();
        let bytes: Vec<u8> = q.iter().map(|&v| v as u8).collect();
        itq.set_input(0, &bytes).unwrap();
        itq.invoke().unwrap();

        assert_eq!(mf.output_count(), mq.output_count(), "{file}");
        assert!(
            mq.file().op_count() < mf.file().op_count(),
            "{file}: nothing removed"
        );
        for o in 0..mq.output_count() {
            let info = mq.output(o).unwrap();
            assert_eq!(info.dtype, DType::I8, "{file}: output {o} not int8");
            assert_eq!(info.name, mf.output(o).unwrap().name, "{file}: output name");
            let op = info.quant.expect("output quantization recorded");
            let want = itf.output_f32(o).unwrap();
            let got = itq.output(o).unwrap();
            assert_eq!(want.len(), got.len(), "{file}");
            for (i, (&w, &g)) in want.iter().zip(got).enumerate() {
                let d = op.scale * ((g as i8) as i32 - op.zero_point) as f32;
                assert_eq!(d.to_bits(), w.to_bits(), "{file}: output {o} element {i}");
            }
            println!("{file}: output {o}, {} elements equal", want.len());
        }
    }
}

#[test]
fn int8_io_refuses_a_float_model() {
    let path = gen_dir().join("mobilenet_v3_block.onnx");
    let onnx = std::fs::read(&path).unwrap();
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![("input".into(), vec![1, 3, 64, 64])],
        int8_io: true,
        allow_float: true,
        ..Default::default()
    };
    let e = mote_compiler::compile(&onnx, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--io int8") && e.contains("'input'"), "{e}");
}
