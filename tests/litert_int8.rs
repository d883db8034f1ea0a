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
    let base = std::env::var("MOTE_LITERT_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| mote_tests::repo().join(".cache/litert"));
    base.join(model)
}

fn read_i8(path: &std::path::Path) -> (Vec<u64>, Vec<i8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `bash scripts/litert/all.sh .cache/litert`)",
            path.display()
        )
    });
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<i8>().unwrap())
}

fn compile(model: &str, input: &str, shape: &[u64], rounding: QuantRounding) -> Vec<u8> {
    let onnx = std::fs::read(
        mote_tests::repo()
            .join("models/mlperf-tiny")
            .join(format!("{model}.onnx")),
    )
    .unwrap();
    let mut dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    dims[0] = 1;
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(input.to_string(), dims)],
        rounding,
        keep_names: true,
        ..Default::default()
    };
    mote_compiler::compile(&onnx, &opts)
        .unwrap_or_else(|e| panic!("{model}: {e}"))
        .bytes
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
            let x: Vec<u8> = inputs[k * per_in..(k + 1) * per_in]
                .iter()
                .map(|&v| v as u8)
                .collect();
            it.set_input(0, &x).unwrap();
            it.invoke().unwrap();
            let got: Vec<i8> = it.output(0).unwrap().iter().map(|&b| b as i8).collect();
            let want = &expected[k * per_out..(k + 1) * per_out];
            if got == want {
                exact += 1;
            } else if first_bad.is_none() {
                first_bad = Some(format!(
                    "input {k}: mote {:?}… LiteRT {:?}…",
                    &got[..got.len().min(12)],
                    &want[..want.len().min(12)]
                ));
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
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("tensors.json")).unwrap()).unwrap();
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
            let Some(t) = json["tensors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == name)
            else {
                continue;
            };
            let (_, want) = read_i8(&dir.join(t["file"].as_str().unwrap()));
            let got: Vec<i8> = it
                .tensor_bytes(out)
                .unwrap()
                .iter()
                .map(|&b| b as i8)
                .collect();
            let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            assert!(
                got.len() == want.len() && diff == 0,
                "{model}: op {i} ({}) output '{name}': {diff} of {} elements differ",
                op.params.opcode().name(),
                want.len()
            );
            compared += 1;
        }
        println!("{model}: {compared} intermediate tensors bit-exact");
        assert!(
            compared >= file.op_count() / 2,
            "{model}: only {compared} of {} op outputs matched a LiteRT tensor by name",
            file.op_count()
        );
    }
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul` then `RoundingDivideByPOT`, written out here
/// independently of `mote_kernels::quant` (the test's own oracle of double rounding).
fn double_rounding(acc: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.max(0);
    let right = (-shift).max(0);
    let a = (acc as i64) << left;
    let a = a.clamp(i32::MIN as i64, i32::MAX as i64);
    let prod = a * multiplier as i64;
    let nudge: i64 = if prod >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    let high = if a == i32::MIN as i64 && multiplier == i32::MIN {
        i32::MAX as i64
    } else {
        (prod + nudge) / (1i64 << 31)
    };
    if right == 0 {
        return high as i32;
    }
    let mask = (1i64 << right) - 1;
    let rem = high & mask;
    let threshold = (mask >> 1) + if high < 0 { 1 } else { 0 };
    ((high >> right) + if rem > threshold { 1 } else { 0 }) as i32
}

/// TFLite Micro rounds twice everywhere: in `tflm` mode every layer before the first fully
/// connected one equals LiteRT BUILTIN_REF, and each fully connected layer, fed LiteRT's own
/// input to that layer, equals the double-rounding formula.
#[test]
fn tflm_mode_layers_match_litert_and_double_rounding() {
    for &(model, input) in MODELS {
        let dir = data_dir(model);
        let (in_shape, inputs) = read_i8(&dir.join("inputs.npy"));
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("tensors.json")).unwrap()).unwrap();
        let tensors = json["tensors"].as_array().unwrap();
        let bytes = compile(model, input, &in_shape, QuantRounding::Tflm);
        let aligned = mote_format::AlignedBytes::from_slice(&bytes);
        let m = mote_runtime::Model::from_bytes(aligned.as_bytes()).unwrap();
        let file = *m.file();
        let mut arena = mote_format::AlignedBytes::zeroed(m.arena_len());
        let mut it = mote_runtime::Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
        let per_in = inputs.len() / in_shape[0] as usize;
        let x: Vec<u8> = inputs[..per_in].iter().map(|&v| v as u8).collect();
        it.set_input(0, &x).unwrap();
        let (mut before_fc, mut fc_layers, mut seen_fc) = (0, 0, false);
        for i in 0..file.op_count() {
            let op = file.op(i).unwrap();
            let out = op.outputs.get(0).unwrap();
            let name = file.tensor(out).unwrap().name;
            let litert = tensors.iter().find(|t| t["name"] == name);
            if let mote_format::OpParams::FullyConnectedS8 { q } = op.params {
                seen_fc = true;
                let litert =
                    litert.unwrap_or_else(|| panic!("{model}: no LiteRT tensor named {name}"));
                // Feed LiteRT's own input to this layer.
                let in_index = litert["op"]["inputs"][0].as_u64().unwrap();
                let lt_in = tensors
                    .iter()
                    .find(|t| t["index"].as_u64() == Some(in_index))
                    .unwrap();
                let (_, lt_x) = read_i8(&dir.join(lt_in["file"].as_str().unwrap()));
                let xin = op.inputs.get(0).unwrap();
                let dst = it.tensor_bytes_mut(xin).unwrap();
                assert_eq!(dst.len(), lt_x.len());
                dst.iter_mut().zip(&lt_x).for_each(|(d, &v)| *d = v as u8);
                it.invoke_ops(i..i + 1).unwrap();
                let got: Vec<i8> = it
                    .tensor_bytes(out)
                    .unwrap()
                    .iter()
                    .map(|&b| b as i8)
                    .collect();
                // The formula, from the layer's own constants.
                let w: Vec<i8> = it
                    .tensor_bytes(op.inputs.get(1).unwrap())
                    .unwrap()
                    .iter()
                    .map(|&b| b as i8)
                    .collect();
                let words = |t: u32| -> Vec<i32> {
                    it.tensor_bytes(t)
                        .unwrap()
                        .chunks_exact(4)
                        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                        .collect()
                };
                let (bias, mult, shift) = (
                    words(op.inputs.get(2).unwrap()),
                    words(op.inputs.get(3).unwrap()),
                    words(op.inputs.get(4).unwrap()),
                );
                let units = bias.len();
                let depth = w.len() / units;
                let rows = lt_x.len() / depth;
                let mut want = Vec::new();
                for r in 0..rows {
                    for n in 0..units {
                        let mut acc = bias[n];
                        for k in 0..depth {
                            acc += (lt_x[r * depth + k] as i32 + q.input_offset)
                                * w[n * depth + k] as i32;
                        }
                        let c = if mult.len() == 1 { 0 } else { n };
                        let v = double_rounding(acc, mult[c], shift[c]) + q.output_offset;
                        want.push(v.clamp(q.act_min, q.act_max) as i8);
                    }
                }
                assert_eq!(
                    got, want,
                    "{model}: fully connected op {i} differs from the double-rounding formula"
                );
                fc_layers += 1;
            } else {
                it.invoke_ops(i..i + 1).unwrap();
                if !seen_fc {
                    if let Some(t) = litert {
                        let (_, want) = read_i8(&dir.join(t["file"].as_str().unwrap()));
                        let got: Vec<i8> = it
                            .tensor_bytes(out)
                            .unwrap()
                            .iter()
                            .map(|&b| b as i8)
                            .collect();
                        assert_eq!(got, want, "{model}: op {i} before the first fully connected layer differs from LiteRT");
                        before_fc += 1;
                    }
                }
            }
        }
        println!("{model} (tflm rounding): {before_fc} layers before the first FC identical to LiteRT, {fc_layers} FC layers identical to the double-rounding formula");
        assert!(fc_layers >= 1);
    }
}
