//! int8 models made by ONNX Runtime's own quantizer, against ONNX Runtime (issue 3).
//!
//! `models/gen/ort_quantize.py` (run by `models/gen/all.sh`) applies ORT's `quantize_static`
//! (per-channel int8 weights, int32 biases, MinMax calibration on 16 standard-normal inputs) to
//! seven float models, once with int8 activations (`_s8`) and once with uint8 activations
//! (`_u8`, ORT's default), in QDQ form (`_qdq_`, every model) and in QOperator form (`_qop_`,
//! the models of [`QOP_CASES`], among them `matmul_mlp`, which gives `QLinearMatMul`). Inputs and
//! outputs are float, with QuantizeLinear / DequantizeLinear at the edges. mote compiles each
//! file with the default options (rounding: LiteRT's reference kernels): every QDQ model runs
//! int8 throughout, without `allow_float`; the one QOperator model ORT leaves partly in float
//! ([`NEEDS_FLOAT`]) must fail with an error naming those nodes, and runs with `allow_float`.
//! mote and ORT (CPU, default graph optimizations) run on the same standard-normal inputs
//! (other draws than the calibration's). On x86-64 hosts without VNNI ORT's fused int8 kernels
//! saturate (`vpmaddubsw`; `mote_cli::int8_kernels_saturate`), so there ORT runs with graph
//! optimizations off (a QDQ model then computes in float and quantizes once) and a QOperator
//! model is compared with its QDQ twin, under the bounds measured that way
//! (`float_ref_max_lsb`). Values are compared in units of the quantization step
//! (LSB) of the tensor compared: `|mote − ORT| / scale`. `integer_ops.onnx` (hand-built
//! `ConvInteger` and `MatMulInteger`) is checked on its own: see
//! [`conv_integer_and_matmul_integer`].
//!
//! ## Why not bit-exact, and what is asserted
//!
//! ORT requantizes in float: every int8 value it writes is `round_half_even(exact)`, where
//! `exact` is the real-valued result divided by the output scale. mote follows LiteRT's
//! reference kernels, whose conv requantization rounds twice (gemmlowp's
//! `SaturatingRoundingDoublingHighMul`, then `RoundingDivideByPOT` by `rs` bits): the first
//! rounding moves the value by up to 2^-(rs+1) LSB, so an `exact` within 2^-(rs+1) of a .5
//! boundary can round the other way. Where the exact value is a tie (.5: frequent in bilinear
//! Resize ×2, average pooling and Add of a constant), mote rounds away from zero and ORT to
//! even. Each case is a 1-LSB difference.
//!
//! 1. **Layer by layer** (QDQ models): every mote op whose output is an int8 tensor of ORT's
//!    graph (a QuantizeLinear output, matched by name) is run on ORT's own int8 values of its
//!    inputs (as `litert_int8.rs` does with LiteRT), and must be within **1 LSB** ([`EXPECT_LSB`])
//!    of ORT on every element, for every op kind: global average pooling with a new output scale
//!    is one requantization (MeanS8), and the Requantize after the int8 softmax (TFLite's
//!    kernel writes scale 1/256, ORT's quantizer asks for 1/255) stays within 1 LSB.
//! 2. **Whole model**: the graph outputs, after running the whole network in each runtime. The
//!    1-LSB layer differences (0.07 % to 0.5 % of each model's layer elements) feed the next
//!    layers and spread, so the issue's expectation for one requantization, "at most 1 LSB on at
//!    most 0.1 % of the elements", holds end to end only for the fully connected models (ad01,
//!    matmul_mlp: `issue_tolerance`, asserted); for the others the test asserts the per-model
//!    bound `max_lsb` / `qop_max_lsb` (the measured maximum: 1 LSB for the ShuffleNet and
//!    MobileNetV3 blocks, 3 to 5 for the deeper MLPerf Tiny networks) and top-1 agreement
//!    ≥ [`MIN_TOP1`] = 90 %, and prints max LSB difference, the fraction of differing elements,
//!    top-1 agreement and whether the expectation is met.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_cli::TensorData;
use mote_format::DType;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// One ORT-quantized model: file stem, input name, input shape, random inputs for the
/// whole-model and the layer-by-layer comparison.
struct Case {
    name: &'static str,
    input: &'static str,
    shape: &'static [usize],
    trials: u64,
    layer_trials: u64,
    /// Whole-model bound at the outputs, in LSB (the measured maximum over the trials; see the
    /// module doc): QDQ form, and QOperator form (for the [`QOP_CASES`]).
    max_lsb: f64,
    qop_max_lsb: f64,
    /// The same bound where ORT's reference is its float path (hosts whose ORT int8 kernels
    /// saturate: `mote_cli::int8_kernels_saturate`; both forms then compare with the QDQ model
    /// run in float): measured on an AVX2-only AMD EPYC.
    float_ref_max_lsb: f64,
    /// Whether the outputs meet the issue's tolerance for one requantization
    /// ([`EXPECT_LSB`] on at most [`EXPECT_FRACTION`] of the elements), asserted for these.
    issue_tolerance: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "mobilenet_v3_block",
        input: "input",
        shape: &[1, 3, 64, 64],
        trials: 50,
        layer_trials: 2,
        max_lsb: 1.0,
        qop_max_lsb: 1.0,
        float_ref_max_lsb: 1.0,
        issue_tolerance: false,
    },
    Case {
        name: "shufflenet_block",
        input: "input",
        shape: &[1, 3, 64, 64],
        trials: 50,
        layer_trials: 2,
        max_lsb: 1.0,
        qop_max_lsb: 1.0,
        float_ref_max_lsb: 1.0,
        issue_tolerance: false,
    },
    Case {
        name: "mobilenet_v2",
        input: "input",
        shape: &[1, 3, 224, 224],
        trials: 3,
        layer_trials: 1,
        max_lsb: 3.0,
        qop_max_lsb: 0.0,
        float_ref_max_lsb: 3.0,
        issue_tolerance: false,
    },
    Case {
        name: "vww_96_float",
        input: "input_1",
        shape: &[1, 96, 96, 3],
        trials: 50,
        layer_trials: 2,
        max_lsb: 5.0,
        qop_max_lsb: 0.0,
        float_ref_max_lsb: 5.0,
        issue_tolerance: false,
    },
    Case {
        name: "pretrainedResnet",
        input: "input_1",
        shape: &[1, 32, 32, 3],
        trials: 50,
        layer_trials: 2,
        max_lsb: 4.0,
        qop_max_lsb: 5.0,
        float_ref_max_lsb: 7.0,
        issue_tolerance: false,
    },
    Case {
        name: "kws_ref_model_float32",
        input: "input_1",
        shape: &[1, 49, 10, 1],
        trials: 50,
        layer_trials: 2,
        max_lsb: 3.0,
        qop_max_lsb: 0.0,
        float_ref_max_lsb: 3.0,
        issue_tolerance: false,
    },
    Case {
        name: "ad01_fp32",
        input: "input_1",
        shape: &[1, 640],
        trials: 50,
        layer_trials: 2,
        max_lsb: 1.0,
        qop_max_lsb: 1.0,
        float_ref_max_lsb: 0.0,
        issue_tolerance: true,
    },
    Case {
        name: "matmul_mlp",
        input: "input",
        shape: &[1, 32],
        trials: 50,
        layer_trials: 0,
        max_lsb: 1.0,
        qop_max_lsb: 1.0,
        float_ref_max_lsb: 0.0,
        issue_tolerance: true,
    },
];

/// QOperator models (both activation types) that compile only with `allow_float`, and the nodes
/// the compiler must name without it: ORT's QOperator quantizer leaves these in float between a
/// `DequantizeLinear` and a `QuantizeLinear` (the unfused `x·(x+3)/6` HardSwish: Div, then Pad
/// and GlobalAveragePool on its float result).
const NEEDS_FLOAT: &[(&str, &[&str])] = &[(
    "mobilenet_v3_block_qop",
    &["Div", "Pad", "GlobalAveragePool"],
)];

/// The two forms of ORT's quantizer: QDQ (every case) and QOperator (these cases).
const QOP_CASES: &[&str] = &[
    "pretrainedResnet",
    "shufflenet_block",
    "mobilenet_v3_block",
    "ad01_fp32",
    "matmul_mlp",
];

/// The expectation for one requantization: at most this many LSB…
const EXPECT_LSB: f64 = 1.0;
/// …on at most this fraction of the elements (printed for the outputs, not asserted there).
const EXPECT_FRACTION: f64 = 0.001;
/// Whole-model top-1 agreement (for `[1, K]` outputs).
const MIN_TOP1: f64 = 0.9;

fn gen_dir() -> PathBuf {
    std::env::var_os("MOTE_GEN_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| mote_tests::repo().join(".cache/models"))
}

fn case(name: &str) -> &'static Case {
    CASES.iter().find(|c| c.name == name).unwrap()
}

fn read_onnx(label: &str) -> Vec<u8> {
    let path = gen_dir().join(format!("{label}.onnx"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the ORT-quantized models are made by the test command (scripts/test.sh): \
             run `bash models/gen/all.sh .cache/models`",
            path.display()
        )
    })
}

/// Compiles with the default options; for the models of [`NEEDS_FLOAT`], first checks that the
/// default options fail naming the listed nodes, then compiles with `allow_float`. Returns the
/// file and whether `allow_float` was used.
fn compile(case: &Case, label: &str, onnx: &[u8], keep_names: bool) -> (Vec<u8>, bool) {
    compile_with(case, label, onnx, keep_names, Default::default())
}

/// [`compile`] with a requantization rounding.
fn compile_with(
    case: &Case,
    label: &str,
    onnx: &[u8],
    keep_names: bool,
    rounding: mote_compiler::layout::QuantRounding,
) -> (Vec<u8>, bool) {
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(case.input.to_string(), case.shape.to_vec())],
        keep_names,
        rounding,
        ..Default::default()
    };
    let needs_float = NEEDS_FLOAT
        .iter()
        .find(|(n, _)| label.starts_with(n))
        .map(|(_, w)| *w);
    match (mote_compiler::compile(onnx, &opts), needs_float) {
        (Ok(c), None) => (c.bytes, false),
        (Ok(_), Some(_)) => {
            panic!("{label}: now compiles without allow_float; remove it from NEEDS_FLOAT")
        }
        (Err(e), None) => panic!("{label}: compile: {e}"),
        (Err(e), Some(nodes)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("--allow-float") && nodes.iter().all(|n| msg.contains(n)),
                "{label}: the error should name {nodes:?} and suggest --allow-float: {msg}"
            );
            let opts = mote_compiler::CompileOptions {
                allow_float: true,
                ..opts
            };
            let c = mote_compiler::compile(onnx, &opts)
                .unwrap_or_else(|e| panic!("{label}: compile with allow_float: {e}"));
            (c.bytes, true)
        }
    }
}

fn scalar(g: &mote_onnx::proto::GraphProto, name: &str) -> f32 {
    let t = g
        .initializer
        .iter()
        .find(|t| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no initializer {name}"));
    let v = mote_onnx::tensor_from_proto(t).unwrap().to_f32_vec();
    assert_eq!(v.len(), 1, "{name}: per-tensor quantization expected");
    v[0]
}

/// (scale, zero point) of a Q/DQ node.
fn node_quant(g: &mote_onnx::proto::GraphProto, n: &mote_onnx::proto::NodeProto) -> (f32, f32) {
    let zp = n
        .input
        .get(2)
        .filter(|s| !s.is_empty())
        .map_or(0.0, |z| scalar(g, z));
    (scalar(g, &n.input[1]), zp)
}

/// The quantization (scale, zero point) of each graph output: the parameters of the
/// DequantizeLinear (float output) or QuantizeLinear (integer output) that writes it.
fn output_quant(onnx: &[u8]) -> Vec<(f32, f32)> {
    let m = mote_onnx::parse_model(onnx).unwrap();
    let g = m.graph.as_ref().unwrap();
    g.output
        .iter()
        .map(|o| {
            let name = o.name.clone().unwrap_or_default();
            let n = g
                .node
                .iter()
                .find(|n| n.output.contains(&name))
                .unwrap_or_else(|| panic!("no node writes output {name}"));
            let op = n.op_type.clone().unwrap_or_default();
            assert!(
                op == "DequantizeLinear" || op == "QuantizeLinear",
                "output {name} is written by {op}, not by a Q/DQ node"
            );
            node_quant(g, n)
        })
        .collect()
}

fn elem_type(vi: &mote_onnx::proto::ValueInfoProto) -> i32 {
    use mote_onnx::proto::type_proto::Value;
    match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(Value::TensorType(t)) => t.elem_type.unwrap_or(0),
        _ => 0,
    }
}

/// The ONNX element types (1 float, 2 uint8, 3 int8) of the graph inputs and of the outputs.
fn elem_types(onnx: &[u8]) -> (Vec<i32>, Vec<i32>) {
    let m = mote_onnx::parse_model(onnx).unwrap();
    let g = m.graph.as_ref().unwrap();
    let inits: Vec<&str> = g
        .initializer
        .iter()
        .filter_map(|t| t.name.as_deref())
        .collect();
    let ins = g
        .input
        .iter()
        .filter(|vi| !inits.contains(&vi.name.as_deref().unwrap_or("")))
        .map(elem_type)
        .collect();
    (ins, g.output.iter().map(elem_type).collect())
}

/// Input `trial` (seeds other than the calibration's, which uses numpy's generator, seed
/// 20240): standard-normal floats, or uniform bytes for an int8 / uint8 input. Returns mote's
/// input bytes and ORT's tensor.
fn make_input(elem: i32, n: usize, trial: u64) -> (Vec<u8>, TensorData) {
    let seed = 7_000_000 + trial * 1000;
    match elem {
        1 => {
            let x = mote_cli::rng::normal_f32(n, seed);
            (
                x.iter().flat_map(|v| v.to_le_bytes()).collect(),
                TensorData::F32(x),
            )
        }
        2 | 3 => {
            let mut r = mote_cli::rng::SplitMix64::new(seed);
            let b: Vec<u8> = (0..n).map(|_| r.next_u64() as u8).collect();
            let t = if elem == 3 {
                TensorData::I8(b.iter().map(|&v| v as i8).collect())
            } else {
                TensorData::U8(b.clone())
            };
            (b, t)
        }
        t => panic!("input element type {t}"),
    }
}

/// Runs the compiled model on one input; outputs as real values (integer outputs dequantized
/// with their own parameters).
fn run_mote(bytes: &[u8], input: &[u8]) -> Vec<Vec<f32>> {
    let aligned = mote_format::AlignedBytes::from_slice(bytes);
    let model = mote_runtime::Model::from_bytes(aligned.as_bytes()).unwrap();
    let mut arena = mote_format::AlignedBytes::zeroed(model.arena_len());
    let mut it = mote_runtime::Interpreter::new(&model, arena.as_bytes_mut()).unwrap();
    it.set_input(0, input).unwrap();
    it.invoke().unwrap();
    (0..model.output_count())
        .map(|i| {
            let t = model.output(i).unwrap();
            match t.dtype {
                DType::F32 => it.output_f32(i).unwrap().to_vec(),
                DType::I8 | DType::U8 => {
                    let q = t.quant.expect("quantized output without parameters");
                    it.output(i)
                        .unwrap()
                        .iter()
                        .map(|&b| {
                            let v = if t.dtype == DType::I8 {
                                b as i8 as i32
                            } else {
                                b as i32
                            };
                            (v - q.zero_point) as f32 * q.scale
                        })
                        .collect()
                }
                DType::I32 => panic!("int32 output"),
            }
        })
        .collect()
}

fn arg_max(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold(
            (0, f32::NEG_INFINITY),
            |b, (i, &x)| if x > b.1 { (i, x) } else { b },
        )
        .0
}

/// Whole model: the graph outputs of mote and ORT over `case.trials` inputs.
fn whole_model(case: &Case, label: &str) -> Result<(), String> {
    let onnx = read_onnx(label);
    // Where ORT's fused int8 kernels saturate (x86-64 without VNNI: `int8_kernels_saturate`),
    // a QOperator model's `QLinearConv` / `QLinearMatMul` cannot be the reference; its QDQ twin
    // (the same quantizer run, same scales, zero points and weights) runs in float instead.
    let reference = if label.contains("_qop_") && mote_cli::int8_kernels_saturate() {
        read_onnx(&label.replace("_qop_", "_qdq_"))
    } else {
        onnx.clone()
    };
    let (bytes, allow_float) = compile(case, label, &onnx, false);
    let quant = output_quant(&onnx);
    let (in_types, out_types) = elem_types(&onnx);
    assert_eq!(in_types.len(), 1, "{label}: one graph input expected");
    let n: usize = case.shape.iter().product();
    let (mut max_lsb, mut differing, mut elements, mut top1, mut tried) = (0f64, 0, 0, 0, 0);
    for trial in 0..case.trials {
        let (mote_in, ort_in) = make_input(in_types[0], n, trial);
        let ours = run_mote(&bytes, &mote_in);
        let theirs = mote_cli::run_onnxruntime_typed(
            &reference,
            &[(case.input.to_string(), case.shape.to_vec(), ort_in)],
        )
        .unwrap_or_else(|e| panic!("{label}: ONNX Runtime: {e:#}"));
        assert_eq!(ours.len(), theirs.len(), "{label}: number of outputs");
        for (k, (a, (shape, b))) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a.len(), b.len(), "{label}: output {k} size");
            let (scale, zp) = quant[k];
            // ORT's integer outputs come back as their integer values.
            let b: Vec<f32> = if out_types[k] == 1 {
                b.clone()
            } else {
                b.iter().map(|&v| (v - zp) * scale).collect()
            };
            for (x, y) in a.iter().zip(&b) {
                let lsb = ((x - y).abs() / scale).round() as f64;
                max_lsb = max_lsb.max(if lsb.is_nan() { f64::INFINITY } else { lsb });
                differing += (lsb != 0.0) as usize;
            }
            elements += a.len();
            if matches!(shape.as_slice(), [1, c] if *c > 1) {
                top1 += (arg_max(a) == arg_max(&b)) as usize;
                tried += 1;
            }
        }
    }
    let frac = differing as f64 / elements as f64;
    let meets = max_lsb <= EXPECT_LSB && frac <= EXPECT_FRACTION;
    println!(
        "ort_int8 outputs | {label:<28} | {:>2} inputs | max diff {max_lsb} LSB | differing {differing}/{elements} = {:.3} % | top-1 {} | ≤1 LSB on ≤0.1 %: {} | {}",
        case.trials,
        100.0 * frac,
        if tried > 0 { format!("{top1}/{tried}") } else { "n/a".into() },
        if meets { "yes" } else { "no" },
        if allow_float { "allow_float" } else { "int8 throughout" }
    );
    let mut bad = Vec::new();
    let bound = if mote_cli::int8_kernels_saturate() {
        case.float_ref_max_lsb
    } else if label.contains("_qop_") {
        case.qop_max_lsb
    } else {
        case.max_lsb
    };
    if max_lsb > bound {
        bad.push(format!(
            "{label}: outputs differ by up to {max_lsb} LSB (bound {bound})"
        ));
    }
    if case.issue_tolerance && !meets {
        bad.push(format!(
            "{label}: {:.3} % of the outputs differ (at most {} % expected)",
            100.0 * frac,
            100.0 * EXPECT_FRACTION
        ));
    }
    if tried > 0 && (top1 as f64) < MIN_TOP1 * tried as f64 {
        bad.push(format!(
            "{label}: top-1 agrees on {top1}/{tried} inputs only"
        ));
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}

/// A QuantizeLinear output of ORT's graph: its (scale, zero point) in the file.
struct OrtTensor {
    shape: Vec<usize>,
    values: Vec<f32>,
    zero_point: f32,
}

/// ORT's int8 (uint8) values of every QuantizeLinear output (made graph outputs), by name.
fn ort_quantized_tensors(
    onnx: &[u8],
    input: &str,
    shape: &[usize],
    x: TensorData,
) -> HashMap<String, OrtTensor> {
    use prost::Message;
    let mut m = mote_onnx::parse_model(onnx).unwrap();
    let g = m.graph.as_mut().unwrap();
    // The output zero point's input slot of every node that writes an int8 (uint8) tensor:
    // QuantizeLinear, and ORT's QOperator ops.
    let zp_slot = |op: &str| match op {
        "QuantizeLinear" => Some(2),
        "QLinearConv" | "QLinearMatMul" | "QLinearAdd" | "QLinearMul" => Some(7),
        "QGemm" => Some(8),
        "QLinearConcat" => Some(1),
        "QLinearAveragePool"
        | "QLinearGlobalAveragePool"
        | "QLinearSoftmax"
        | "QLinearSigmoid"
        | "QLinearLeakyRelu" => Some(4),
        _ => None,
    };
    let mut q: Vec<(String, f32)> = Vec::new();
    for n in &g.node {
        let op = n.op_type.as_deref().unwrap_or("");
        if let Some(zp) = zp_slot(op).and_then(|slot| n.input.get(slot).filter(|z| !z.is_empty())) {
            q.push((n.output[0].clone(), scalar(g, zp)));
        } else if matches!(
            op,
            "Reshape"
                | "Flatten"
                | "Transpose"
                | "Squeeze"
                | "Unsqueeze"
                | "Slice"
                | "Split"
                | "MaxPool"
        ) {
            // Data movement on int8 tensors (QOperator graphs): same quantization as the input.
            let src = n.input.first().cloned().unwrap_or_default();
            if let Some(&(_, zp)) = q.iter().find(|(name, _)| *name == src) {
                for o in n.output.iter().filter(|o| !o.is_empty()) {
                    q.push((o.clone(), zp));
                }
            }
        }
    }
    let n_out = g.output.len();
    for (name, _) in &q {
        if !g.output.iter().any(|o| o.name.as_deref() == Some(name)) {
            g.output.push(mote_onnx::proto::ValueInfoProto {
                name: Some(name.clone()),
                ..Default::default()
            });
        }
    }
    let names: Vec<String> = g
        .output
        .iter()
        .map(|o| o.name.clone().unwrap_or_default())
        .collect();
    let zps: HashMap<&str, f32> = q.iter().map(|(n, z)| (n.as_str(), *z)).collect();
    let probe = m.encode_to_vec();
    let outs = mote_cli::run_onnxruntime_typed(&probe, &[(input.to_string(), shape.to_vec(), x)])
        .unwrap_or_else(|e| panic!("ONNX Runtime (all QuantizeLinear outputs exposed): {e:#}"));
    names
        .into_iter()
        .zip(outs)
        .enumerate()
        .filter(|(i, (name, _))| *i >= n_out || zps.contains_key(name.as_str()))
        .map(|(_, (name, (shape, values)))| {
            let zero_point = zps[name.as_str()];
            (
                name,
                OrtTensor {
                    shape,
                    values,
                    zero_point,
                },
            )
        })
        .collect()
}

/// ORT's values in mote's physical layout and zero point, if the shapes can be matched:
/// `nhwc` chooses NCHW → NHWC for 4-D tensors.
fn ort_to_mote(t: &OrtTensor, mote_shape: &[usize], mote_zp: i32, nhwc: bool) -> Option<Vec<i32>> {
    let offset = t.zero_point as i32 - mote_zp;
    let ints: Vec<i32> = t.values.iter().map(|&v| v as i32 - offset).collect();
    if nhwc {
        let s = &t.shape;
        if s.len() != 4 || [s[0], s[2], s[3], s[1]] != *mote_shape {
            return None;
        }
        let (n, c, h, w) = (s[0], s[1], s[2], s[3]);
        let mut out = vec![0; ints.len()];
        for b in 0..n {
            for ch in 0..c {
                for y in 0..h {
                    for x in 0..w {
                        out[((b * h + y) * w + x) * c + ch] = ints[((b * c + ch) * h + y) * w + x];
                    }
                }
            }
        }
        Some(out)
    } else if t.shape == mote_shape
        || (t.shape.len() != 4
            && t.shape.iter().product::<usize>() == mote_shape.iter().product::<usize>())
    {
        Some(ints)
    } else {
        None
    }
}

fn int8_values(bytes: &[u8]) -> Vec<i32> {
    bytes.iter().map(|&b| b as i8 as i32).collect()
}

/// Layer by layer: each mote op fed ORT's int8 inputs; see the module doc for the bounds.
fn layer_by_layer(case: &Case, label: &str) -> Result<(), String> {
    layers(case, label, false)
}

/// [`layer_by_layer`] with `mote compile --rounding float`: convolutions and fully connected
/// layers requantize as ONNX Runtime's MLAS does (`round_half_even(f32(acc) · scale)`, the
/// scale `x_scale · w_scale / y_scale` in f32), so on ORT's own inputs they must equal ORT's
/// int8 outputs exactly — 0 LSB on every element — in the uint8-activation models (ORT's
/// default), where ORT runs its int8 kernels (a host with VNNI; without, ORT computes QDQ models
/// in float and the bound stays 1 LSB). The int8-activation twins and the other ops (which keep
/// double rounding) stay under the 1-LSB bound.
fn layer_by_layer_float(case: &Case, label: &str) -> Result<(), String> {
    layers(case, label, true)
}

fn layers(case: &Case, label: &str, float: bool) -> Result<(), String> {
    if label.contains("_qop_") && mote_cli::int8_kernels_saturate() {
        // ORT's QOperator layers are the saturating kernels themselves on this host (see
        // `whole_model`); the QDQ twin's layers are checked by the QDQ test, so here the
        // QOperator import is checked end to end against the twin.
        println!("ort_int8 layers  | {label:<28} | host without VNNI: ORT's QLinear kernels saturate, outputs checked against the QDQ twin");
        return whole_model(case, label);
    }
    let label = label.to_string();
    let onnx = read_onnx(&label);
    let rounding = if float {
        mote_compiler::layout::QuantRounding::Float
    } else {
        mote_compiler::layout::QuantRounding::LiteRtReference
    };
    let (bytes, _) = compile_with(case, &label, &onnx, true, rounding);
    // ORT's uint8-activation convolutions requantize in MLAS's QGEMM output stage; with int8
    // activations its convolutions take another path, which differed on 11 of MobileNetV2's
    // 7.0 M layer elements (1 LSB; ad01, the ShuffleNet block and VWW were exact): uint8 is
    // held to 0 LSB, int8 to 1.
    let exact_weighted = float && !mote_cli::int8_kernels_saturate() && label.ends_with("_u8");
    let (in_types, _) = elem_types(&onnx);
    let n: usize = case.shape.iter().product();
    let aligned = mote_format::AlignedBytes::from_slice(&bytes);
    let m = mote_runtime::Model::from_bytes(aligned.as_bytes()).unwrap();
    let file = *m.file();
    let mut arena = mote_format::AlignedBytes::zeroed(m.arena_len());
    let mut it = mote_runtime::Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
    // per mote op kind: (differing, elements, max LSB, layers, largest bound)
    let mut kinds: BTreeMap<String, (usize, usize, i32, usize, i32)> = BTreeMap::new();
    let mut bad = Vec::new();
    let mut compared_ops = 0;
    for trial in 0..case.layer_trials {
        let (mote_in, ort_in) = make_input(in_types[0], n, trial);
        let ort = ort_quantized_tensors(&onnx, case.input, case.shape, ort_in);
        it.set_input(0, &mote_in).unwrap();
        let mut nhwc: HashMap<String, bool> = HashMap::new();
        compared_ops = 0;
        for i in 0..file.op_count() {
            let op = file.op(i).unwrap();
            // ORT's values of the inputs it has (int8 tensors of a known layout).
            for k in 0..op.inputs.len() {
                let tid = op.inputs.get(k).unwrap();
                let t = file.tensor(tid).unwrap();
                let (Some(o), Some(q)) = (ort.get(t.name), t.quant) else {
                    continue;
                };
                if t.dtype != DType::I8 {
                    continue;
                }
                let shape: Vec<usize> = t.shape().iter().map(|&d| d as usize).collect();
                // The layout chosen where mote wrote the tensor, or the only one that fits (a
                // tensor no op writes: an elided Reshape's alias).
                let v = match nhwc.get(t.name) {
                    Some(&l) => ort_to_mote(o, &shape, q.zero_point, l),
                    None => match (
                        ort_to_mote(o, &shape, q.zero_point, true),
                        ort_to_mote(o, &shape, q.zero_point, false),
                    ) {
                        (Some(v), None) | (None, Some(v)) => Some(v),
                        _ => None,
                    },
                };
                let Some(v) = v else {
                    continue;
                };
                let dst = it.tensor_bytes_mut(tid).unwrap();
                dst.iter_mut()
                    .zip(&v)
                    .for_each(|(d, &x)| *d = x.clamp(-128, 127) as i8 as u8);
            }
            it.invoke_ops(i..i + 1).unwrap();
            let out = op.outputs.get(0).unwrap();
            let t = file.tensor(out).unwrap();
            let (Some(o), Some(q)) = (ort.get(t.name), t.quant) else {
                continue;
            };
            if t.dtype != DType::I8 {
                continue;
            }
            let shape: Vec<usize> = t.shape().iter().map(|&d| d as usize).collect();
            let got = int8_values(it.tensor_bytes(out).unwrap());
            // The layout: the candidate whose shape fits (both fit when C = H = W: the closer).
            let mut best: Option<(bool, Vec<i32>, i64)> = None;
            for l in [true, false] {
                if let Some(want) = ort_to_mote(o, &shape, q.zero_point, l) {
                    let d: i64 = got
                        .iter()
                        .zip(&want)
                        .map(|(a, b)| (a - b).abs() as i64)
                        .sum();
                    if best.as_ref().is_none_or(|b| d < b.2) {
                        best = Some((l, want, d));
                    }
                }
            }
            let Some((l, want, _)) = best else {
                bad.push(format!(
                    "{label}: op {i} '{}': shape {shape:?}, ORT {:?}",
                    t.name, o.shape
                ));
                continue;
            };
            nhwc.insert(t.name.to_string(), l);
            let diff: Vec<i32> = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).collect();
            let max = diff.iter().copied().max().unwrap_or(0);
            let kind = op.params.opcode().name();
            // Every op, on ORT's own inputs: at most 1 LSB (module doc); with the float
            // rounding, convolutions and fully connected layers exactly.
            let weighted = kind.starts_with("Conv2dS8") || kind.starts_with("FullyConnectedS8");
            let bound = if exact_weighted && weighted {
                0
            } else {
                EXPECT_LSB as i32
            };
            let what = kind.to_string();
            let e = kinds
                .entry(what.split(' ').next().unwrap().to_string())
                .or_default();
            e.0 += diff.iter().filter(|&&d| d > 0).count();
            e.1 += diff.len();
            e.2 = e.2.max(max);
            e.3 += 1;
            e.4 = e.4.max(bound);
            compared_ops += 1;
            if max > bound {
                bad.push(format!(
                    "{label}: op {i} {what} '{}' differs from ORT by {max} LSB (bound {bound}) on ORT's own inputs",
                    op.name
                ));
            }
        }
    }
    let (d, e): (usize, usize) = kinds.values().fold((0, 0), |a, k| (a.0 + k.0, a.1 + k.1));
    let per_kind: Vec<String> = kinds
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} ×{} {:.3} % max {} (bound {})",
                v.3 / case.layer_trials as usize,
                100.0 * v.0 as f64 / v.1 as f64,
                v.2,
                v.4
            )
        })
        .collect();
    println!(
        "ort_int8 layers  | {label:<28} | {} | {} input(s) | {compared_ops} of {} ops compared on ORT's inputs | differing {d}/{e} = {:.3} % | {}",
        if float { "rounding float" } else { "rounding litert" },
        case.layer_trials,
        file.op_count(),
        100.0 * d as f64 / e.max(1) as f64,
        per_kind.join(", ")
    );
    if compared_ops == 0 {
        bad.push(format!(
            "{label}: no mote op output matched an ORT QuantizeLinear output by name"
        ));
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}

fn check(name: &str, form: &str, f: fn(&Case, &str) -> Result<(), String>) {
    let c = case(name);
    assert!(form == "qdq" || QOP_CASES.contains(&name));
    let failures: Vec<String> = ["s8", "u8"]
        .iter()
        .filter_map(|v| f(c, &format!("{name}_{form}_{v}")).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

macro_rules! model_tests {
    ($($outputs:ident, $layers:ident, $name:literal;)*) => {$(
        #[test]
        fn $outputs() {
            check($name, "qdq", whole_model);
        }
        #[test]
        fn $layers() {
            check($name, "qdq", layer_by_layer);
        }
    )*};
}

model_tests! {
    mobilenet_v3_block_outputs, mobilenet_v3_block_layers, "mobilenet_v3_block";
    shufflenet_block_outputs, shufflenet_block_layers, "shufflenet_block";
    mobilenet_v2_outputs, mobilenet_v2_layers, "mobilenet_v2";
    vww_96_float_outputs, vww_96_float_layers, "vww_96_float";
    pretrained_resnet_outputs, pretrained_resnet_layers, "pretrainedResnet";
    kws_ref_model_float32_outputs, kws_ref_model_float32_layers, "kws_ref_model_float32";
    ad01_fp32_outputs, ad01_fp32_layers, "ad01_fp32";
}

macro_rules! qoperator_tests {
    ($($outputs:ident, $name:literal;)*) => {$(
        #[test]
        fn $outputs() {
            check($name, "qop", whole_model);
        }
    )*};
}

macro_rules! float_rounding_tests {
    ($($layers:ident, $name:literal;)*) => {$(
        #[test]
        fn $layers() {
            check($name, "qdq", layer_by_layer_float);
        }
    )*};
}

float_rounding_tests! {
    mobilenet_v2_layers_float_rounding, "mobilenet_v2";
    shufflenet_block_layers_float_rounding, "shufflenet_block";
    vww_96_float_layers_float_rounding, "vww_96_float";
    ad01_fp32_layers_float_rounding, "ad01_fp32";
}

qoperator_tests! {
    pretrained_resnet_qoperator_outputs, "pretrainedResnet";
    shufflenet_block_qoperator_outputs, "shufflenet_block";
    mobilenet_v3_block_qoperator_outputs, "mobilenet_v3_block";
    ad01_fp32_qoperator_outputs, "ad01_fp32";
    matmul_mlp_qoperator_outputs, "matmul_mlp";
}

#[test]
fn pretrained_resnet_qoperator_layers() {
    check("pretrainedResnet", "qop", layer_by_layer);
}

#[test]
fn shufflenet_block_qoperator_layers() {
    check("shufflenet_block", "qop", layer_by_layer);
}

#[test]
fn ad01_fp32_qoperator_layers() {
    check("ad01_fp32", "qop", layer_by_layer);
}

/// `ConvInteger` and `MatMulInteger` (`integer_ops.onnx`, built by `ort_quantize.py`): imported,
/// but their int32 results are scaled by a float `Mul`, which is no integer pattern, so the
/// default options fail naming both nodes; with `allow_float` the model runs in float32 and
/// agrees with ORT to float rounding.
#[test]
fn conv_integer_and_matmul_integer() {
    let onnx = read_onnx("integer_ops");
    let shape = vec![1usize, 2, 8, 8];
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![("input".into(), shape.clone())],
        ..Default::default()
    };
    let msg = mote_compiler::compile(&onnx, &opts)
        .expect_err("integer_ops compiled without allow_float")
        .to_string();
    assert!(
        msg.contains("conv_integer")
            && msg.contains("matmul_integer")
            && msg.contains("--allow-float"),
        "{msg}"
    );
    let opts = mote_compiler::CompileOptions {
        allow_float: true,
        ..opts
    };
    let bytes = mote_compiler::compile(&onnx, &opts).unwrap().bytes;
    // |mote − ORT| relative to the largest |ORT| output of the tensor (mote folds the scale
    // multiplication into the weights, so its float rounding differs from ORT's).
    let mut worst = 0f32;
    for trial in 0..20 {
        let (mote_in, ort_in) = make_input(1, shape.iter().product(), trial);
        let ours = run_mote(&bytes, &mote_in);
        let theirs =
            mote_cli::run_onnxruntime_typed(&onnx, &[("input".into(), shape.clone(), ort_in)])
                .unwrap();
        for (a, (_, b)) in ours.iter().zip(&theirs) {
            assert_eq!(a.len(), b.len());
            let range = b.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            for (x, y) in a.iter().zip(b) {
                worst = worst.max((x - y).abs() / range);
            }
        }
    }
    println!("ort_int8 integer_ops | 20 inputs | ConvInteger, MatMulInteger with allow_float | max relative diff {worst:e}");
    assert!(worst < 1e-5, "relative difference {worst}");
}
