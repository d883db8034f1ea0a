//! End-to-end tests of the `mote` binary on the committed models.
//!
//! They run the built binary (`CARGO_BIN_EXE_mote`) as a user would and check outputs, exit
//! codes and the one-line error messages. The ONNX Runtime tests need the library from
//! `bash scripts/python-env.sh` (or `ORT_DYLIB_PATH`); without it they fail, never skip.

use mote_onnx::proto::{
    tensor_shape_proto::{dimension, Dimension},
    type_proto, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MOTE: &str = env!("CARGO_BIN_EXE_mote");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn model(name: &str) -> String {
    repo()
        .join("models")
        .join("mlperf-tiny")
        .join(name)
        .display()
        .to_string()
}

fn image(name: &str) -> String {
    repo()
        .join("models")
        .join("images")
        .join(name)
        .display()
        .to_string()
}

/// A fresh directory for one test.
fn scratch(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("mote-cli-tests")
        .join(test);
    let _ = std::fs::remove_dir_all(&d);
    assert!(
        std::fs::create_dir_all(&d).is_ok(),
        "cannot create {}",
        d.display()
    );
    d
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn mote(args: &[&str]) -> Run {
    let out = Command::new(MOTE).args(args).output();
    assert!(out.is_ok(), "cannot start {MOTE}: {out:?}");
    let Ok(out): Result<Output, _> = out else {
        return Run {
            code: -1,
            stdout: String::new(),
            stderr: String::new(),
        };
    };
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs and asserts success.
fn ok(args: &[&str]) -> Run {
    let r = mote(args);
    assert_eq!(
        r.code, 0,
        "mote {args:?} failed (exit {}):\nstdout: {}\nstderr: {}",
        r.code, r.stdout, r.stderr
    );
    r
}

/// Runs and asserts failure with `code` and exactly one `error:` line on stderr.
fn fails(args: &[&str], code: i32) -> String {
    let r = mote(args);
    assert_eq!(
        r.code, code,
        "mote {args:?}: expected exit {code}, got {}:\nstdout: {}\nstderr: {}",
        r.code, r.stdout, r.stderr
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one stderr line, got: {:?}",
        r.stderr
    );
    assert!(r.stderr.starts_with("error: "), "stderr: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "stderr: {}", r.stderr);
    r.stderr
}

fn json(s: &str) -> serde_json::Value {
    let v = serde_json::from_str(s);
    assert!(v.is_ok(), "not JSON ({v:?}): {s}");
    v.unwrap_or_default()
}

fn write_npy(path: &Path, shape: &[usize], data: &[f32]) {
    let bytes = mote_cli::npy::f32_bytes(shape, data);
    assert!(bytes.is_ok());
    assert!(std::fs::write(path, bytes.unwrap_or_default()).is_ok());
}

fn read_npy(path: &Path) -> (Vec<u64>, String, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_default();
    let npy = npyz::NpyFile::new(&bytes[..]);
    assert!(npy.is_ok(), "{} is not an .npy file", path.display());
    let Ok(npy) = npy else {
        return (vec![], String::new(), vec![]);
    };
    let shape = npy.shape().to_vec();
    let dtype = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    };
    (shape, dtype, npy.into_vec::<f32>().unwrap_or_default())
}

/// Writes an .npy of any dtype (`descr` as numpy spells it) from raw data bytes.
fn write_raw_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) {
    let dims: String = shape.iter().map(|d| format!("{d}, ")).collect();
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}").into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut f = b"\x93NUMPY\x01\x00".to_vec();
    f.extend_from_slice(&(header.len() as u16).to_le_bytes());
    f.extend_from_slice(&header);
    f.extend_from_slice(data);
    assert!(std::fs::write(path, f).is_ok());
}

fn compile_ad01(dir: &Path) -> String {
    let out = p(&dir.join("ad01.mote"));
    ok(&[
        "compile",
        &model("ad01_fp32.onnx"),
        "-o",
        &out,
        "--input-shape",
        "input_1=1,640",
    ]);
    out
}

/// `mote compile models/mlperf-tiny/{onnx}` into `dir` with `--input-shape {shape}`.
fn compile_with_shape(dir: &Path, onnx: &str, shape: &str) -> String {
    let out = p(&dir.join(onnx.replace(".onnx", ".mote")));
    ok(&["compile", &model(onnx), "-o", &out, "--input-shape", shape]);
    out
}

fn compile_vww(dir: &Path) -> String {
    let out = p(&dir.join("vww.mote"));
    ok(&[
        "compile",
        &model("vww_96_float.onnx"),
        "-o",
        &out,
        "--input-shape",
        "input_1=1,96,96,3",
        "--image-input",
        "input_1",
        "--scale",
        "0.00392156862745098",
        "--label",
        "no_person",
        "--label",
        "person",
    ]);
    out
}

fn normal(n: usize, seed: u64) -> Vec<f32> {
    mote_cli::rng::normal_f32(n, seed)
}

// ---------------------------------------------------------------------------------------------
// Small ONNX models built here (prost), for multi-input/output and image layouts.

fn vi(name: &str, shape: &[i64]) -> ValueInfoProto {
    let dims = shape
        .iter()
        .map(|&d| Dimension {
            value: Some(dimension::Value::DimValue(d)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto { dim: dims }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(name.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs,
        ..Default::default()
    }
}

fn onnx(
    nodes: Vec<NodeProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
) -> Vec<u8> {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(13),
        }],
        producer_name: Some("mote-cli tests".into()),
        graph: Some(GraphProto {
            name: Some("g".into()),
            node: nodes,
            input: inputs,
            output: outputs,
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// s = a + b, m = a * b, over [2, 3].
fn two_in_two_out() -> Vec<u8> {
    onnx(
        vec![
            node("Add", "add", &["a", "b"], &["s"], vec![]),
            node("Mul", "mul", &["a", "b"], &["m"], vec![]),
        ],
        vec![vi("a", &[2, 3]), vi("b", &[2, 3])],
        vec![vi("s", &[2, 3]), vi("m", &[2, 3])],
    )
}

/// Mean of each channel of an image input, [1, 3].
fn channel_means(nhwc: bool) -> Vec<u8> {
    let perm = AttributeProto {
        name: Some("perm".into()),
        r#type: Some(7),
        ints: vec![0, 3, 1, 2],
        ..Default::default()
    };
    let (mut nodes, x, input) = if nhwc {
        (
            vec![node("Transpose", "t", &["x"], &["xt"], vec![perm])],
            "xt",
            vi("x", &[1, 8, 8, 3]),
        )
    } else {
        (vec![], "x", vi("x", &[1, 3, 8, 8]))
    };
    nodes.push(node("GlobalAveragePool", "gap", &[x], &["g"], vec![]));
    nodes.push(node("Flatten", "flat", &["g"], &["y"], vec![]));
    onnx(nodes, vec![input], vec![vi("y", &[1, 3])])
}

fn write_png(path: &Path, rgb: [u8; 3]) {
    let img = image::RgbImage::from_pixel(16, 16, image::Rgb(rgb));
    assert!(img.save(path).is_ok());
}

// ---------------------------------------------------------------------------------------------
// compile + run

#[test]
fn compile_and_run_ad01_on_npy() {
    let d = scratch("compile_and_run_ad01_on_npy");
    let m = compile_ad01(&d);
    let names: Vec<String> = std::fs::read_dir(&d)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        names,
        vec!["ad01.mote".to_string()],
        "the atomic write must leave no temporary file"
    );
    let x = normal(640, 1);
    let (xin, yout) = (d.join("x.npy"), d.join("y.npy"));
    write_npy(&xin, &[1, 640], &x);
    let r = ok(&["run", &m, "--input", &p(&xin), "--output", &p(&yout)]);
    assert!(r.stdout.contains("latency"), "{}", r.stdout);
    let (shape, dtype, y) = read_npy(&yout);
    assert_eq!(shape, vec![1, 640]);
    assert_eq!(dtype, "<f4");
    assert_eq!(y.len(), 640);
    assert!(y.iter().all(|v| v.is_finite()));
    assert!(y.iter().any(|&v| v != 0.0), "all outputs are zero");
    // Same input through ONNX Runtime, via the library.
    let onnx = std::fs::read(model("ad01_fp32.onnx")).unwrap_or_default();
    let reference = mote_cli::run_onnxruntime(&onnx, &[("input_1".to_string(), vec![1, 640], x)]);
    assert!(reference.is_ok(), "{reference:?}");
    let reference = reference.unwrap_or_default();
    assert_eq!(reference.len(), 1);
    assert_eq!(reference[0].0, vec![1, 640]);
    let c = mote_cli::commands::verify::compare(&[1, 640], &y, &reference[0].1);
    assert!(c.max_rel_error <= 1e-5, "{c:?}");
}

#[test]
fn run_without_output_prints_a_summary() {
    let d = scratch("run_without_output_prints_a_summary");
    let m = compile_ad01(&d);
    let xin = d.join("x.npy");
    write_npy(&xin, &[1, 640], &normal(640, 2));
    let r = ok(&["run", &m, "--input", &p(&xin)]);
    assert!(
        r.stdout.contains("'Identity' float32 [1, 640]: min"),
        "{}",
        r.stdout
    );
}

#[test]
fn two_inputs_and_two_outputs_in_declaration_order() {
    let d = scratch("two_inputs_and_two_outputs_in_declaration_order");
    let src = d.join("addmul.onnx");
    assert!(std::fs::write(&src, two_in_two_out()).is_ok());
    let m = p(&d.join("addmul.mote"));
    ok(&["compile", &p(&src), "-o", &m]);
    let a: Vec<f32> = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let b: Vec<f32> = vec![0.5, -1.0, 2.0, 0.0, 10.0, -3.0];
    let (fa, fb, fs, fm) = (
        d.join("a.npy"),
        d.join("b.npy"),
        d.join("s.npy"),
        d.join("m.npy"),
    );
    write_npy(&fa, &[2, 3], &a);
    write_npy(&fb, &[2, 3], &b);
    ok(&[
        "run",
        &m,
        "--input",
        &p(&fa),
        "--input",
        &p(&fb),
        "--output",
        &p(&fs),
        "--output",
        &p(&fm),
    ]);
    let (ss, _, s) = read_npy(&fs);
    let (ms, _, mm) = read_npy(&fm);
    assert_eq!(ss, vec![2, 3]);
    assert_eq!(ms, vec![2, 3]);
    assert_eq!(s, a.iter().zip(&b).map(|(x, y)| x + y).collect::<Vec<_>>());
    assert_eq!(mm, a.iter().zip(&b).map(|(x, y)| x * y).collect::<Vec<_>>());
    // Only the first output requested.
    let f1 = d.join("only.npy");
    ok(&[
        "run",
        &m,
        "--input",
        &p(&fa),
        "--input",
        &p(&fb),
        "--output",
        &p(&f1),
    ]);
    assert_eq!(read_npy(&f1).2, s);
    // Too few inputs, too many outputs.
    let e = fails(&["run", &m, "--input", &p(&fa)], 4);
    assert!(e.contains("2 input(s)") && e.contains("1 --input"), "{e}");
    fails(
        &[
            "run",
            &m,
            "--input",
            &p(&fa),
            "--input",
            &p(&fb),
            "--output",
            "x.npy",
            "--output",
            "y.npy",
            "--output",
            "z.npy",
        ],
        2,
    );
    // verify with given inputs.
    let r = ok(&[
        "verify",
        &p(&src),
        "--input",
        &p(&fa),
        "--input",
        &p(&fb),
        "--json",
    ]);
    let v = json(&r.stdout);
    assert_eq!(v["outputs"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["outputs"][0]["max_rel_error"].as_f64(), Some(0.0));
}

#[test]
fn int8_model_takes_int8_npy_and_writes_float32() {
    let d = scratch("int8_model_npy");
    let m = compile_with_shape(&d, "vww_96_int8.onnx", "input_1_int8=1,96,96,3");
    let x = d.join("x.npy");
    let data: Vec<u8> = (0..96 * 96 * 3).map(|i| ((i * 7919) % 256) as u8).collect();
    write_raw_npy(&x, "|i1", &[1, 96, 96, 3], &data);
    let y = d.join("y.npy");
    ok(&["run", &m, "--input", &p(&x), "--output", &p(&y)]);
    let (shape, dtype, v) = read_npy(&y);
    assert_eq!(shape, vec![1, 2]);
    assert_eq!(dtype, "<f4");
    assert!(
        v.iter()
            .all(|&x| x == x.round() && (-128.0..=127.0).contains(&x)),
        "{v:?}"
    );
    // A float32 file for the int8 input.
    let xf = d.join("xf.npy");
    write_npy(&xf, &[1, 96, 96, 3], &vec![0.0; 96 * 96 * 3]);
    let e = fails(&["run", &m, "--input", &p(&xf)], 4);
    assert!(e.contains("expects dtype int8, found float32"), "{e}");
}

#[test]
fn threads_give_the_outputs_of_one_thread() {
    // ResNet-8's float 3×3 layers (2.4 M MACs) are cut into bands at the default thresholds.
    let d = scratch("threads_outputs");
    let m = compile_with_shape(&d, "pretrainedResnet.onnx", "input_1=1,32,32,3");
    let x = d.join("x.npy");
    write_npy(&x, &[1, 32, 32, 3], &normal(32 * 32 * 3, 11));
    let (one, two) = (d.join("one.npy"), d.join("two.npy"));
    ok(&["run", &m, "--input", &p(&x), "--output", &p(&one)]);
    ok(&[
        "run",
        &m,
        "--input",
        &p(&x),
        "--output",
        &p(&two),
        "--threads",
        "2",
    ]);
    let (_, _, a) = read_npy(&one);
    let (_, _, b) = read_npy(&two);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "{a:?} vs {b:?}");
    }
    let v = json(
        &ok(&[
            "bench",
            &m,
            "--iters",
            "3",
            "--warmup",
            "1",
            "--json",
            "--threads",
            "2",
        ])
        .stdout,
    );
    assert_eq!(v["threads"].as_u64(), Some(2), "{v}");
    let e = fails(&["bench", &m, "--threads", "0"], 2);
    assert!(e.contains("--threads"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// inspect, bench

#[test]
fn inspect_json_parses() {
    let d = scratch("inspect_json_parses");
    let m = compile_ad01(&d);
    let v = json(&ok(&["inspect", &m, "--json"]).stdout);
    assert_eq!(v["macs"].as_u64(), Some(264_192));
    assert!(v["arena_bytes"].as_u64().is_some_and(|a| a > 0));
    assert!(v["file_bytes"].as_u64().is_some_and(|a| a > 1_000_000));
    assert_eq!(v["inputs"][0][0].as_str(), Some("input_1"));
    assert_eq!(v["outputs"][0][2], serde_json::json!([1, 640]));
    assert_eq!(v["ops"].as_array().map(Vec::len), Some(10));
    assert!(v["metadata"]
        .as_array()
        .is_some_and(|m| m.iter().any(|kv| kv[0] == "name" && kv[1] == "ad01_fp32")));
    let t = ok(&["inspect", &m]).stdout;
    assert!(
        t.contains("264,192 MACs") && t.contains("FullyConnected"),
        "{t}"
    );
}

#[test]
fn bench_json_has_median() {
    let d = scratch("bench_json_has_median");
    let m = compile_ad01(&d);
    let v = json(&ok(&["bench", &m, "--iters", "5", "--warmup", "1", "--json"]).stdout);
    let med = v["median_ms"].as_f64().unwrap_or(-1.0);
    let min = v["min_ms"].as_f64().unwrap_or(-1.0);
    let max = v["max_ms"].as_f64().unwrap_or(-1.0);
    assert!(med > 0.0 && min > 0.0 && min <= med && med <= max, "{v}");
    assert_eq!(v["iters"].as_u64(), Some(5));
    assert!(v.get("ops").is_none());
}

#[test]
fn bench_per_op_covers_every_op() {
    let d = scratch("bench_per_op_covers_every_op");
    let m = compile_ad01(&d);
    let v = json(
        &ok(&[
            "bench", &m, "--iters", "3", "--warmup", "0", "--json", "--per-op",
        ])
        .stdout,
    );
    let ops = v["ops"].as_array().cloned().unwrap_or_default();
    assert_eq!(ops.len(), 10);
    let share: f64 = ops.iter().filter_map(|o| o["share_pct"].as_f64()).sum();
    assert!((share - 100.0).abs() < 0.01, "{share}");
    let ms: Vec<f64> = ops.iter().filter_map(|o| o["ms"].as_f64()).collect();
    assert!(
        ms.windows(2).all(|w| w[0] >= w[1]),
        "not sorted by cost: {ms:?}"
    );
    assert_eq!(
        ops.iter().filter_map(|o| o["macs"].as_u64()).sum::<u64>(),
        264_192
    );
    let t = ok(&["bench", &m, "--iters", "2", "--per-op"]).stdout;
    assert!(t.contains("GMAC/s") && t.contains("share %"), "{t}");
}

#[test]
fn bench_isa_caps_the_kernels_and_rejects_unknown_names() {
    let d = scratch("bench_isa");
    let m = compile_ad01(&d);
    let v = json(
        &ok(&[
            "bench",
            &m,
            "--iters",
            "2",
            "--warmup",
            "0",
            "--json",
            "--isa",
            "reference",
        ])
        .stdout,
    );
    assert_eq!(v["isa"].as_str(), Some("reference"), "{v}");
    let best = json(&ok(&["bench", &m, "--iters", "2", "--warmup", "0", "--json"]).stdout);
    assert!(
        best["isa"].as_str().is_some_and(|s| !s.is_empty()),
        "{best}"
    );
    let e = fails(&["bench", &m, "--isa", "sse9"], 2);
    assert!(e.contains("sse9") && e.contains("avx2"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// images

#[test]
fn vww_says_person_on_the_astronaut_and_no_person_on_the_cat() {
    let d = scratch("vww_images");
    let m = compile_vww(&d);
    let r = ok(&["run", &m, "--image", &image("astronaut.png")]);
    let first = r.stdout.lines().next().unwrap_or_default().to_string();
    let prob: f64 = first
        .strip_prefix("person: ")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(-1.0);
    assert!((0.88..=0.94).contains(&prob), "astronaut: {}", r.stdout);
    assert!(
        r.stdout.contains("latency:") && r.stdout.contains(" ms"),
        "{}",
        r.stdout
    );
    let r = ok(&["run", &m, "--image", &image("chelsea.png"), "--top", "1"]);
    assert!(
        r.stdout.starts_with("no_person: 0.9"),
        "chelsea: {}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
    let v = json(&ok(&["inspect", &m, "--json"]).stdout);
    let meta: Vec<(String, String)> =
        serde_json::from_value(v["metadata"].clone()).unwrap_or_default();
    let get = |k: &str| {
        meta.iter()
            .find(|(a, _)| a == k)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("labels"), "no_person\nperson");
    assert_eq!(get("image.input"), "input_1");
    assert_eq!(get("image.size"), "96x96");
    assert_eq!(get("image.layout"), "nhwc");
    assert_eq!(get("image.channel_order"), "rgb");
    assert_eq!(get("image.scale").parse::<f32>().ok(), Some(1.0 / 255.0));
    assert_eq!(get("image.mean"), "0,0,0");
    assert_eq!(get("image.std"), "1,1,1");
}

/// Expected softmax over per-channel values of a solid image.
fn expected_probs(px: [f32; 3], scale: f32, mean: [f32; 3], std: [f32; 3]) -> Vec<f32> {
    let v: Vec<f32> = (0..3).map(|c| (px[c] * scale - mean[c]) / std[c]).collect();
    let mx = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = v.iter().map(|x| (x - mx).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

fn parse_top(stdout: &str) -> Vec<(String, f32)> {
    stdout
        .lines()
        .filter(|l| !l.starts_with("latency"))
        .filter_map(|l| {
            l.rsplit_once(": ")
                .map(|(a, b)| (a.to_string(), b.trim().parse().unwrap_or(-1.0)))
        })
        .collect()
}

#[test]
fn image_preprocessing_nchw_nhwc_bgr_mean_std() {
    let d = scratch("image_preprocessing");
    let png = d.join("solid.png");
    write_png(&png, [200, 100, 20]);
    for (nhwc, layout) in [(false, "nchw"), (true, "nhwc")] {
        let src = d.join(format!("means_{layout}.onnx"));
        assert!(std::fs::write(&src, channel_means(nhwc)).is_ok());
        let shape = if nhwc { "x=1,8,8,3" } else { "x=1,3,8,8" };
        // Layout inferred from the shape; labels from a file.
        let labels = d.join("labels.txt");
        assert!(std::fs::write(&labels, "c0\nc1\nc2\n\n").is_ok());
        let m = p(&d.join(format!("rgb_{layout}.mote")));
        ok(&[
            "compile",
            &p(&src),
            "-o",
            &m,
            "--input-shape",
            shape,
            "--image-input",
            "x",
            "--scale",
            "0.01",
            "--mean",
            "1,0.5,0",
            "--std",
            "0.5,1,2",
            "--labels",
            &p(&labels),
        ]);
        let v = json(&ok(&["inspect", &m, "--json"]).stdout);
        assert!(
            v["metadata"].as_array().is_some_and(|a| a
                .iter()
                .any(|kv| kv[0] == "image.layout" && kv[1] == layout)),
            "{v}"
        );
        let top = parse_top(&ok(&["run", &m, "--image", &p(&png), "--top", "3"]).stdout);
        let want = expected_probs([200.0, 100.0, 20.0], 0.01, [1.0, 0.5, 0.0], [0.5, 1.0, 2.0]);
        assert_eq!(top.len(), 3, "{top:?}");
        for (label, prob) in &top {
            let c: usize = label.trim_start_matches('c').parse().unwrap_or(9);
            assert!(
                (prob - want.get(c).copied().unwrap_or(-1.0)).abs() < 2e-4,
                "{layout}: {top:?} vs {want:?}"
            );
        }
        // BGR: channel 0 of the input takes blue.
        let m = p(&d.join(format!("bgr_{layout}.mote")));
        ok(&[
            "compile",
            &p(&src),
            "-o",
            &m,
            "--input-shape",
            shape,
            "--image-input",
            "x",
            "--channel-order",
            "bgr",
            "--scale",
            "0.01",
            "--image-layout",
            layout,
            "--image-size",
            "8x8",
        ]);
        let top = parse_top(&ok(&["run", &m, "--image", &p(&png), "--top", "3"]).stdout);
        let want = expected_probs([20.0, 100.0, 200.0], 0.01, [0.0; 3], [1.0; 3]);
        for (label, prob) in &top {
            let c: usize = label.trim_start_matches("class ").parse().unwrap_or(9);
            assert!(
                (prob - want.get(c).copied().unwrap_or(-1.0)).abs() < 2e-4,
                "bgr {layout}: {top:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn image_option_errors() {
    let d = scratch("image_option_errors");
    let src = d.join("means.onnx");
    assert!(std::fs::write(&src, channel_means(false)).is_ok());
    let s = p(&src);
    let out = p(&d.join("x.mote"));
    let e = fails(&["compile", &s, "-o", &out, "--image-input", "nope"], 2);
    assert!(e.contains("no input 'nope'"), "{e}");
    let e = fails(
        &[
            "compile",
            &s,
            "-o",
            &out,
            "--image-input",
            "x",
            "--image-size",
            "4x4",
        ],
        2,
    );
    assert!(e.contains("does not match"), "{e}");
    let e = fails(
        &[
            "compile",
            &s,
            "-o",
            &out,
            "--image-input",
            "x",
            "--mean",
            "1,2",
        ],
        2,
    );
    assert!(e.contains("--mean has 2 values"), "{e}");
    let e = fails(
        &["compile", &s, "-o", &out, "--label", "a", "--label", "b"],
        2,
    );
    assert!(e.contains("2 labels") && e.contains("3 classes"), "{e}");
    let labels = d.join("l.txt");
    assert!(std::fs::write(&labels, "a\nb\n").is_ok());
    let e = fails(&["compile", &s, "-o", &out, "--labels", &p(&labels)], 4);
    assert!(e.contains("l.txt") && e.contains("2 labels"), "{e}");
    assert!(
        !d.join("x.mote").exists(),
        "no file may be written on failure"
    );
    // Image run on a model without image metadata; an undecodable image.
    ok(&["compile", &s, "-o", &out]);
    let e = fails(&["run", &out, "--image", &image("chelsea.png")], 2);
    assert!(e.contains("no image pre-processing"), "{e}");
    ok(&["compile", &s, "-o", &out, "--image-input", "x"]);
    let bogus = d.join("bogus.png");
    assert!(std::fs::write(&bogus, b"not a picture").is_ok());
    let e = fails(&["run", &out, "--image", &p(&bogus)], 4);
    assert!(e.contains("bogus.png"), "{e}");
    fails(&["run", &out, "--image", &p(&d.join("missing.png"))], 5);
}

// ---------------------------------------------------------------------------------------------
// errors

#[test]
fn compile_without_input_shape_for_a_symbolic_batch_fails_with_a_hint() {
    let d = scratch("compile_symbolic_batch");
    let out = d.join("ad01.mote");
    let e = fails(&["compile", &model("ad01_fp32.onnx"), "-o", &p(&out)], 3);
    assert!(e.contains("--input-shape") && e.contains("input_1"), "{e}");
    assert!(!out.exists());
    let e = fails(
        &[
            "compile",
            &model("ad01_fp32.onnx"),
            "-o",
            &p(&out),
            "--input-shape",
            "input_1=1,641",
        ],
        3,
    );
    assert!(e.contains("641"), "{e}");
    let e = fails(
        &[
            "compile",
            &model("ad01_fp32.onnx"),
            "-o",
            &p(&out),
            "--input-shape",
            "input_1",
        ],
        2,
    );
    assert!(e.contains("--input-shape"), "{e}");
}

#[test]
fn run_with_wrong_input_shape_names_expected_and_found() {
    let d = scratch("run_wrong_shape");
    let m = compile_ad01(&d);
    let x = d.join("x.npy");
    write_npy(&x, &[1, 641], &vec![0.0; 641]);
    let e = fails(&["run", &m, "--input", &p(&x)], 4);
    assert!(
        e.contains("[1, 640]")
            && e.contains("[1, 641]")
            && e.contains("x.npy")
            && e.contains("input_1"),
        "{e}"
    );
    write_npy(&x, &[640], &vec![0.0; 640]);
    let e = fails(&["run", &m, "--input", &p(&x)], 4);
    assert!(e.contains("expects shape [1, 640], found [640]"), "{e}");
}

#[test]
fn run_with_wrong_dtype_or_bad_files() {
    let d = scratch("run_wrong_dtype");
    let m = compile_ad01(&d);
    let x = d.join("x64.npy");
    write_raw_npy(&x, "<f8", &[1, 640], &vec![0u8; 640 * 8]);
    let e = fails(&["run", &m, "--input", &p(&x)], 4);
    assert!(e.contains("float32") && e.contains("float64"), "{e}");
    // Not an .npy; missing; truncated data.
    let e = fails(&["run", &m, "--input", &m], 4);
    assert!(e.contains("not a valid .npy"), "{e}");
    fails(&["run", &m, "--input", &p(&d.join("missing.npy"))], 5);
    let good = d.join("x.npy");
    write_npy(&good, &[1, 640], &vec![1.0; 640]);
    let bytes = std::fs::read(&good).unwrap_or_default();
    let cut = d.join("cut.npy");
    assert!(std::fs::write(&cut, &bytes[..bytes.len() - 100]).is_ok());
    fails(&["run", &m, "--input", &p(&cut)], 4);
    // Output into a missing directory.
    fails(
        &[
            "run",
            &m,
            "--input",
            &p(&good),
            "--output",
            &p(&d.join("no/such/dir/y.npy")),
        ],
        5,
    );
}

#[test]
fn damaged_model_files_are_rejected() {
    let d = scratch("damaged_models");
    let m = compile_ad01(&d);
    let bytes = std::fs::read(&m).unwrap_or_default();
    let bad = d.join("bad.mote");
    // Flip a byte in the weights: checksum.
    let mut flipped = bytes.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x40;
    assert!(std::fs::write(&bad, &flipped).is_ok());
    let e = fails(&["inspect", &p(&bad)], 3);
    assert!(e.contains("bad.mote") && e.contains("corrupted"), "{e}");
    // Truncated.
    assert!(std::fs::write(&bad, &bytes[..bytes.len() / 3]).is_ok());
    let e = fails(&["run", &p(&bad), "--input", "x.npy"], 3);
    assert!(e.contains("truncated"), "{e}");
    // Another major version.
    let mut v2 = bytes.clone();
    v2[4] = 2;
    assert!(std::fs::write(&bad, &v2).is_ok());
    let e = fails(&["bench", &p(&bad)], 3);
    assert!(e.contains("version 2"), "{e}");
    // Not a model at all; missing.
    let e = fails(&["inspect", &model("ad01_fp32.onnx")], 3);
    assert!(e.contains("not a mote model"), "{e}");
    fails(&["inspect", &p(&d.join("missing.mote"))], 5);
    let e = fails(&["compile", &m, "-o", &p(&d.join("y.mote"))], 3);
    assert!(e.contains("ONNX"), "{e}");
}

/// `mote compile` writes through a temporary file and a rename: a compile that fails, whether in
/// the compiler or while writing, leaves the good model that was there untouched and no
/// temporary file behind. Also pins the unsupported-op message (node and op named).
#[test]
fn failed_compiles_keep_the_existing_model_intact() {
    let d = scratch("compile_atomic");
    let good_onnx = d.join("good.onnx");
    assert!(std::fs::write(&good_onnx, two_in_two_out()).is_ok());
    let out = d.join("model.mote");
    ok(&["compile", &p(&good_onnx), "-o", &p(&out)]);
    let good = std::fs::read(&out).unwrap_or_default();
    assert!(!good.is_empty());
    let unchanged = |what: &str| {
        assert_eq!(
            std::fs::read(&out).unwrap_or_default(),
            good,
            "{what}: the existing model changed"
        );
        let names: Vec<String> = std::fs::read_dir(&d)
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            names.iter().all(|n| !n.contains(".tmp")),
            "{what}: a temporary file was left: {names:?}"
        );
    };
    // An operator mote does not implement: exit 3, the message names the node and the op.
    let einsum = d.join("einsum.onnx");
    let bytes = onnx(
        vec![node("Einsum", "the_einsum", &["a", "b"], &["s"], vec![])],
        vec![vi("a", &[2, 3]), vi("b", &[2, 3])],
        vec![vi("s", &[2, 3])],
    );
    assert!(std::fs::write(&einsum, bytes).is_ok());
    let e = fails(&["compile", &p(&einsum), "-o", &p(&out)], 3);
    assert!(
        e.contains("unsupported operator Einsum") && e.contains("'the_einsum'"),
        "{e}"
    );
    unchanged("unsupported op");
    // Not ONNX at all (a truncated download).
    let cut = d.join("cut.onnx");
    let full = two_in_two_out();
    assert!(std::fs::write(&cut, &full[..full.len() / 2]).is_ok());
    fails(&["compile", &p(&cut), "-o", &p(&out)], 3);
    unchanged("truncated ONNX");
    // The write itself fails (the destination is a directory): exit 5, nothing left behind.
    let dir_out = d.join("taken");
    assert!(std::fs::create_dir_all(&dir_out).is_ok());
    let e = fails(&["compile", &p(&good_onnx), "-o", &p(&dir_out)], 5);
    assert!(e.contains("cannot write"), "{e}");
    assert!(dir_out.is_dir());
    unchanged("failed write");
}

/// Compile errors name the node and the op: an inconsistent model (shapes that do not
/// broadcast), a supported op in a form mote does not implement (3-D pooling), a graph output
/// nobody produces. Each is one line, exit 3.
#[test]
fn compile_errors_name_the_node_and_op() {
    let d = scratch("compile_errors");
    let out = d.join("m.mote");
    let write = |name: &str, bytes: Vec<u8>| {
        let f = d.join(name);
        assert!(std::fs::write(&f, bytes).is_ok());
        p(&f)
    };
    let bad_add = write(
        "bad_add.onnx",
        onnx(
            vec![node("Add", "the_add", &["a", "b"], &["s"], vec![])],
            vec![vi("a", &[2, 3]), vi("b", &[4, 5])],
            vec![vi("s", &[2, 3])],
        ),
    );
    let e = fails(&["compile", &bad_add, "-o", &p(&out)], 3);
    assert!(e.contains("the_add") && e.contains("Add"), "{e}");
    let kernel = AttributeProto {
        name: Some("kernel_shape".into()),
        r#type: Some(7),
        ints: vec![2, 2, 2],
        ..Default::default()
    };
    let pool3d = write(
        "pool3d.onnx",
        onnx(
            vec![node(
                "AveragePool",
                "the_pool",
                &["x"],
                &["y"],
                vec![kernel],
            )],
            vec![vi("x", &[1, 1, 4, 4, 4])],
            vec![vi("y", &[1, 1, 3, 3, 3])],
        ),
    );
    let e = fails(&["compile", &pool3d, "-o", &p(&out)], 3);
    assert!(e.contains("the_pool") && e.contains("AveragePool"), "{e}");
    let dangling = write(
        "dangling.onnx",
        onnx(
            vec![node("Add", "add", &["a", "b"], &["s"], vec![])],
            vec![vi("a", &[2, 3]), vi("b", &[2, 3])],
            vec![vi("nobody_makes_me", &[2, 3])],
        ),
    );
    let e = fails(&["compile", &dangling, "-o", &p(&out)], 3);
    assert!(e.contains("nobody_makes_me"), "{e}");
    // No outputs at all (fuzzer find: it compiled into a file the runtime refused).
    let none = write(
        "no_outputs.onnx",
        onnx(
            vec![node("Add", "add", &["a", "b"], &["s"], vec![])],
            vec![vi("a", &[2, 3]), vi("b", &[2, 3])],
            vec![],
        ),
    );
    let e = fails(&["compile", &none, "-o", &p(&out)], 3);
    assert!(e.contains("no outputs"), "{e}");
    assert!(!out.exists());
}

/// Found by the fuzzer (`scripts/fuzz.sh`, onnx target; the input is
/// `fuzz/seeds/onnx/regression-gemm-inner-dims.onnx`): a Gemm whose A (3x4) and B (6x4) disagree
/// on K compiled into a Transpose the runtime then refused at load. Now the compiler names the
/// node and both shapes.
#[test]
fn gemm_with_mismatched_inner_dimensions_is_a_compile_error() {
    let d = scratch("gemm_inner_dims");
    let out = d.join("m.mote");
    let f = d.join("gemm.onnx");
    let bytes = onnx(
        vec![node("Gemm", "the_gemm", &["a", "b"], &["y"], vec![])],
        vec![vi("a", &[3, 4]), vi("b", &[6, 4])],
        vec![vi("y", &[3, 4])],
    );
    assert!(std::fs::write(&f, bytes).is_ok());
    let e = fails(&["compile", &p(&f), "-o", &p(&out)], 3);
    assert!(
        e.contains("the_gemm") && e.contains("inner dimensions differ") && !e.contains("internal"),
        "{e}"
    );
    assert!(!out.exists());
}

/// Found by the fuzzer (the clean-clone CI of 2026-11-28, onnx target; the input is
/// `fuzz/seeds/onnx/regression-concat-mixed-types.onnx`): a Concat of an int8 and a float32 graph
/// input compiled into a model the runtime refused at load ("input and output types differ").
/// Now a compile error naming both element types.
#[test]
fn concat_of_mixed_element_types_is_a_compile_error() {
    let d = scratch("concat_mixed_types");
    let out = d.join("m.mote");
    let f = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds/onnx/regression-concat-mixed-types.onnx");
    let e = fails(&["compile", &p(&f), "-o", &p(&out)], 3);
    assert!(
        e.contains("Concat")
            && e.contains("different element types (I8 and F32)")
            && !e.contains("compiler bug"),
        "{e}"
    );
    assert!(!out.exists());
}

/// Found by the fuzzer (the clean-clone CI of 2026-11-29, onnx target; the input is
/// `fuzz/seeds/onnx/regression-leakyrelu-nan-alpha.onnx`): a LeakyRelu whose `alpha` is NaN
/// compiled into a model the runtime refused at load ("NaN parameter"). Now NaN float
/// attributes are a compile error naming node and attribute, and so are the NaN constants that
/// reach the same parameters (Clip's bounds, Pad's value).
#[test]
fn nan_parameters_are_compile_errors() {
    let d = scratch("nan_parameters");
    let out = d.join("m.mote");
    let compile_err = |name: &str, bytes: Vec<u8>| {
        let f = d.join(name);
        assert!(std::fs::write(&f, bytes).is_ok());
        let e = fails(&["compile", &p(&f), "-o", &p(&out)], 3);
        assert!(!out.exists(), "{name}");
        e
    };
    let nan_alpha = AttributeProto {
        name: Some("alpha".into()),
        r#type: Some(1),
        f: Some(f32::NAN),
        ..Default::default()
    };
    let e = compile_err(
        "leaky.onnx",
        onnx(
            vec![node(
                "LeakyRelu",
                "the_leaky",
                &["x"],
                &["y"],
                vec![nan_alpha],
            )],
            vec![vi("x", &[1, 4])],
            vec![vi("y", &[1, 4])],
        ),
    );
    assert!(
        e.contains("the_leaky") && e.contains("'alpha'") && e.contains("NaN"),
        "{e}"
    );
    let constant = |name: &str, v: f32| {
        let value = AttributeProto {
            name: Some("value".into()),
            r#type: Some(4),
            t: Some(TensorProto {
                data_type: Some(1),
                float_data: vec![v],
                ..Default::default()
            }),
            ..Default::default()
        };
        node("Constant", name, &[], &[name], vec![value])
    };
    let e = compile_err(
        "clip.onnx",
        onnx(
            vec![
                constant("lo", f32::NAN),
                node("Clip", "the_clip", &["x", "lo"], &["y"], vec![]),
            ],
            vec![vi("x", &[1, 4])],
            vec![vi("y", &[1, 4])],
        ),
    );
    assert!(e.contains("the_clip") && e.contains("NaN"), "{e}");
    let pads = AttributeProto {
        name: Some("value".into()),
        r#type: Some(4),
        t: Some(TensorProto {
            dims: vec![4],
            data_type: Some(7),
            int64_data: vec![0, 1, 0, 1],
            ..Default::default()
        }),
        ..Default::default()
    };
    let e = compile_err(
        "pad.onnx",
        onnx(
            vec![
                node("Constant", "pads", &[], &["pads"], vec![pads]),
                constant("v", f32::NAN),
                node("Pad", "the_pad", &["x", "pads", "v"], &["y"], vec![]),
            ],
            vec![vi("x", &[1, 4])],
            vec![vi("y", &[1, 6])],
        ),
    );
    assert!(e.contains("the_pad") && e.contains("NaN"), "{e}");
    // The fuzzer's own input (its third dimension is symbolic; the fuzz target sets it to 1).
    let f = repo().join("fuzz/seeds/onnx/regression-leakyrelu-nan-alpha.onnx");
    let e = fails(
        &[
            "compile",
            &p(&f),
            "-o",
            &p(&out),
            "--input-shape",
            "x=3,4,1",
        ],
        3,
    );
    assert!(e.contains("LeakyRelu") && e.contains("NaN"), "{e}");
}

/// Found by the fuzzer (`scripts/fuzz.sh`, onnx target; the input is
/// `fuzz/seeds/onnx/regression-conv-empty-kernel.onnx`): a Conv whose weights (a graph input)
/// have a zero-sized kernel, [1, 1, 0, 3], compiled into a model the runtime refused at load
/// ("empty kernel"). Now a compile error naming the node and the weights' shape; the same for
/// ConvTranspose.
#[test]
fn convolutions_with_an_empty_kernel_are_compile_errors() {
    let d = scratch("conv_empty_kernel");
    let out = d.join("m.mote");
    let f = repo().join("fuzz/seeds/onnx/regression-conv-empty-kernel.onnx");
    let e = fails(&["compile", &p(&f), "-o", &p(&out)], 3);
    assert!(
        e.contains("Conv") && e.contains("empty kernel: weights of shape [1, 1, 0, 3]"),
        "{e}"
    );
    let f = d.join("convtranspose.onnx");
    let bytes = onnx(
        vec![node(
            "ConvTranspose",
            "the_deconv",
            &["x", "w"],
            &["y"],
            vec![],
        )],
        vec![vi("x", &[1, 2, 4, 4]), vi("w", &[2, 1, 3, 0])],
        vec![vi("y", &[1, 1, 6, 3])],
    );
    assert!(std::fs::write(&f, bytes).is_ok());
    let e = fails(&["compile", &p(&f), "-o", &p(&out)], 3);
    assert!(
        e.contains("the_deconv") && e.contains("empty kernel"),
        "{e}"
    );
    assert!(!out.exists());
}

/// Found by the fuzzer (`scripts/fuzz.sh`, onnx target): a MaxPool without `kernel_shape`
/// made the importer subtract 1 from a zero kernel (a panic, reported as an internal error).
/// Now a one-line error naming the node, as are kernels and strides past 65536.
#[test]
fn maxpool_without_kernel_shape_is_an_error_not_a_panic() {
    let d = scratch("maxpool_no_kernel");
    let f = d.join("pool.onnx");
    let bytes = onnx(
        vec![node("MaxPool", "the_pool", &["x"], &["y"], vec![])],
        vec![vi("x", &[1, 1, 4, 4])],
        vec![vi("y", &[1, 1, 4, 4])],
    );
    assert!(std::fs::write(&f, bytes).is_ok());
    let e = fails(&["compile", &p(&f), "-o", &p(&d.join("m.mote"))], 3);
    assert!(
        e.contains("the_pool") && e.contains("kernel_shape is required") && !e.contains("internal"),
        "{e}"
    );
    let huge = AttributeProto {
        name: Some("kernel_shape".into()),
        r#type: Some(7),
        ints: vec![1 << 40, 2],
        ..Default::default()
    };
    let bytes = onnx(
        vec![node("MaxPool", "the_pool", &["x"], &["y"], vec![huge])],
        vec![vi("x", &[1, 1, 4, 4])],
        vec![vi("y", &[1, 1, 4, 4])],
    );
    assert!(std::fs::write(&f, bytes).is_ok());
    let e = fails(&["compile", &p(&f), "-o", &p(&d.join("m.mote"))], 3);
    assert!(e.contains("the_pool") && !e.contains("internal"), "{e}");
}

/// `--calib` with a folder holding no readable picture: exit 4, the message names the folder.
#[test]
fn calibration_folder_without_images_is_an_input_error() {
    let d = scratch("calib_no_images");
    let m = d.join("means.onnx");
    assert!(std::fs::write(&m, channel_means(false)).is_ok());
    let calib = d.join("calib");
    assert!(std::fs::create_dir_all(&calib).is_ok());
    assert!(std::fs::write(calib.join("notes.txt"), "not a picture").is_ok());
    assert!(std::fs::write(calib.join("broken.png"), b"\x89PNG\r\n\x1a\n broken").is_ok());
    let out = d.join("q.mote");
    let e = fails(
        &[
            "compile",
            &p(&m),
            "-o",
            &p(&out),
            "--quantize",
            "int8",
            "--calib",
            &p(&calib),
        ],
        4,
    );
    assert!(
        e.contains("no readable images") && e.contains("calib"),
        "{e}"
    );
    assert!(!out.exists());
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    fails(&["frobnicate"], 2);
    fails(&[], 2);
    fails(&["compile"], 2);
    fails(&["bench", "m.mote", "--iters", "0"], 2);
    fails(
        &["run", "m.mote", "--image", "a.png", "--input", "a.npy"],
        2,
    );
    fails(&["run", "m.mote", "--top", "3"], 2);
    let r = ok(&["--help"]);
    assert!(
        r.stdout.contains("compile") && r.stdout.contains("verify"),
        "{}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// verify (needs ONNX Runtime: fails, never skips, without it)

#[test]
fn ort_library_is_found() {
    let path = mote_cli::onnxruntime::ensure_loaded();
    assert!(
        path.is_ok(),
        "{:#}",
        path.err().map(|e| e.to_string()).unwrap_or_default()
    );
}

#[test]
fn verify_ad01_within_1e_5() {
    let r = ok(&[
        "verify",
        &model("ad01_fp32.onnx"),
        "--input-shape",
        "input_1=1,640",
        "--trials",
        "3",
        "--json",
    ]);
    let v = json(&r.stdout);
    assert_eq!(v["pass"].as_bool(), Some(true), "{v}");
    assert_eq!(v["trials"].as_u64(), Some(3));
    let rel = v["outputs"][0]["max_rel_error"]
        .as_f64()
        .unwrap_or(f64::INFINITY);
    assert!(rel <= 1e-5, "{v}");
    // The table form, then a tolerance below the error found: exit 1.
    let t = ok(&[
        "verify",
        &model("ad01_fp32.onnx"),
        "--input-shape",
        "input_1=1,640",
    ])
    .stdout;
    assert!(t.contains("max rel error") && t.contains("ok"), "{t}");
    if rel > 0.0 {
        let tight = format!("{:e}", rel / 2.0);
        let e = fails(
            &[
                "verify",
                &model("ad01_fp32.onnx"),
                "--input-shape",
                "input_1=1,640",
                "--trials",
                "3",
                "--rtol",
                &tight,
            ],
            1,
        );
        assert!(e.contains("Identity"), "{e}");
    }
}

#[test]
fn verify_vww_with_given_input_and_top1() {
    let d = scratch("verify_vww");
    let x = d.join("x.npy");
    write_npy(
        &x,
        &[1, 96, 96, 3],
        &normal(96 * 96 * 3, 7)
            .iter()
            .map(|v| v.abs() * 0.3)
            .collect::<Vec<_>>(),
    );
    let v = json(
        &ok(&[
            "verify",
            &model("vww_96_float.onnx"),
            "--input-shape",
            "input_1=1,96,96,3",
            "--input",
            &p(&x),
            "--json",
        ])
        .stdout,
    );
    assert_eq!(v["pass"].as_bool(), Some(true), "{v}");
    assert_eq!(
        v["outputs"][0]["top1_agreement"].as_str(),
        Some("1/1"),
        "{v}"
    );
    assert!(
        v["outputs"][0]["max_rel_error"]
            .as_f64()
            .is_some_and(|e| e <= 1e-5),
        "{v}"
    );
}

#[test]
fn verify_reports_a_missing_ort_library() {
    let r = Command::new(MOTE)
        .args([
            "verify",
            &model("ad01_fp32.onnx"),
            "--input-shape",
            "input_1=1,640",
        ])
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output();
    assert!(r.is_ok());
    let Ok(r) = r else { return };
    assert_eq!(r.status.code(), Some(5));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(
        e.starts_with("error: ") && e.contains("ORT_DYLIB_PATH") && e.lines().count() == 1,
        "{e}"
    );
}
