//! Float parity with ONNX Runtime on whole models (issue 2): mote compiles each float model,
//! mote and ONNX Runtime (the `libonnxruntime` of the PyPI wheel, loaded by `mote_cli` through
//! the `ort` crate) run it on the same standard-normal inputs, and for every output
//!
//! ```text
//! max relative error = max |mote − ORT| / max |ORT|  ≤  1e-5
//! ```
//!
//! over [`TRIALS`] inputs (SplitMix64 + Box–Muller, `mote_cli::rng::normal_f32`, seed
//! `1000 · trial + input index`: the same numbers on every machine).
//!
//! Models: the four float MLPerf Tiny models of `models/mlperf-tiny` and the five models the
//! scripts of `models/gen` generate into `.cache/models` (the test command makes them; a missing
//! one fails the test and says how to make it — nothing is skipped). A missing ONNX Runtime
//! library fails too.
//!
//! Each model prints one table line: max abs error, max relative error, top-1 agreement (for
//! `[1, K]` outputs). The VWW-on-a-photograph check ("person" on astronaut.png) is in
//! `targets/linux/tests/cli.rs`, through the `mote run --image` path users take.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// Random inputs per model.
const TRIALS: u64 = 2;
/// The acceptance bound of issue 2.
const MAX_REL: f64 = 1e-5;

/// Where the generated models are: `MOTE_GEN_MODELS`, else `<repo>/.cache/models`.
fn gen_dir() -> PathBuf {
    std::env::var_os("MOTE_GEN_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| mote_tests::repo().join(".cache/models"))
}

fn model_path(file: &str, generated: bool) -> PathBuf {
    if generated {
        gen_dir().join(file)
    } else {
        mote_tests::repo().join("models/mlperf-tiny").join(file)
    }
}

fn read_model(file: &str, generated: bool) -> Vec<u8> {
    let path = model_path(file, generated);
    std::fs::read(&path).unwrap_or_else(|e| {
        if generated {
            panic!(
                "{}: {e}; the generated models are made by the test command \
                 (scripts/test.sh): run `bash models/gen/all.sh .cache/models`",
                path.display()
            )
        } else {
            panic!("{}: {e}", path.display())
        }
    })
}

/// Compiles and runs `file` with mote and ONNX Runtime; prints the table line and asserts.
fn parity(label: &str, file: &str, generated: bool, input: &str, shape: &[usize]) {
    let onnx = read_model(file, generated);
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(input.to_string(), shape.to_vec())],
        ..Default::default()
    };
    let compiled =
        mote_compiler::compile(&onnx, &opts).unwrap_or_else(|e| panic!("{label}: compile: {e}"));
    let n: usize = shape.iter().product();
    // (max abs, max rel, top-1 agreements, top-1 comparisons, shape) per output
    let mut worst: Vec<(f64, f64, usize, usize, Vec<usize>)> = Vec::new();
    for trial in 0..TRIALS {
        let x = mote_cli::rng::normal_f32(n, trial * 1000);
        let ours = mote_tests::run_compiled(&compiled.bytes, std::slice::from_ref(&x))
            .unwrap_or_else(|e| panic!("{label}: mote: {e}"));
        let theirs = mote_cli::run_onnxruntime(&onnx, &[(input.to_string(), shape.to_vec(), x)])
            .unwrap_or_else(|e| panic!("{label}: ONNX Runtime: {e:#}"));
        assert_eq!(ours.len(), theirs.len(), "{label}: number of outputs");
        if worst.is_empty() {
            worst = ours
                .iter()
                .map(|(s, _)| (0.0, 0.0, 0, 0, s.clone()))
                .collect();
        }
        for (k, ((s, a), (rs, b))) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(
                s.iter().product::<usize>(),
                rs.iter().product::<usize>(),
                "{label}: output {k}: mote shape {s:?}, ONNX Runtime {rs:?}"
            );
            let c = mote_cli::commands::verify::compare(s, a, b);
            let w = &mut worst[k];
            w.0 = w.0.max(c.max_abs_error);
            // NaN (mote NaN where ORT is not) counts as infinitely wrong.
            w.1 = if c.max_rel_error.is_nan() {
                f64::INFINITY
            } else {
                w.1.max(c.max_rel_error)
            };
            if let Some(t) = c.top1_agree {
                w.2 += t as usize;
                w.3 += 1;
            }
        }
    }
    for (k, (abs, rel, agree, tried, s)) in worst.iter().enumerate() {
        let top1 = if *tried > 0 {
            format!("{agree}/{tried}")
        } else {
            "n/a".into()
        };
        println!(
            "ort_parity | {label:<22} | output {k} {s:?} | max abs {abs:.3e} | max rel {rel:.3e} | top-1 {top1:>5} | {TRIALS} inputs",
        );
    }
    for (k, (_, rel, agree, tried, _)) in worst.iter().enumerate() {
        assert!(
            *rel <= MAX_REL,
            "{label}: output {k}: max relative error {rel:e} > {MAX_REL:e}"
        );
        assert_eq!(
            agree, tried,
            "{label}: output {k}: top-1 disagrees with ORT"
        );
    }
}

#[test]
fn vww_96_float() {
    parity(
        "vww_96_float",
        "vww_96_float.onnx",
        false,
        "input_1",
        &[1, 96, 96, 3],
    );
}

#[test]
fn pretrained_resnet() {
    parity(
        "pretrainedResnet",
        "pretrainedResnet.onnx",
        false,
        "input_1",
        &[1, 32, 32, 3],
    );
}

#[test]
fn kws_ref_model_float32() {
    parity(
        "kws_ref_model_float32",
        "kws_ref_model_float32.onnx",
        false,
        "input_1",
        &[1, 49, 10, 1],
    );
}

#[test]
fn ad01_fp32() {
    parity("ad01_fp32", "ad01_fp32.onnx", false, "input_1", &[1, 640]);
}

#[test]
fn mobilenet_v2() {
    parity(
        "mobilenet_v2",
        "mobilenet_v2.onnx",
        true,
        "input",
        &[1, 3, 224, 224],
    );
}

#[test]
fn resnext50_32x4d() {
    parity(
        "resnext50 (32x4d)",
        "resnext50.onnx",
        true,
        "input",
        &[1, 3, 224, 224],
    );
}

#[test]
fn resnext29() {
    parity(
        "resnext29 (8x16d)",
        "resnext29.onnx",
        true,
        "input",
        &[1, 3, 32, 32],
    );
}

#[test]
fn shufflenet_block() {
    parity(
        "shufflenet_block",
        "shufflenet_block.onnx",
        true,
        "input",
        &[1, 3, 64, 64],
    );
}

#[test]
fn mobilenet_v3_block() {
    parity(
        "mobilenet_v3_block",
        "mobilenet_v3_block.onnx",
        true,
        "input",
        &[1, 3, 64, 64],
    );
}
