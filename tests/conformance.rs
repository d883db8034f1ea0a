//! ONNX's operator conformance suite (the node tests shipped with the `onnx` package), run
//! through the same path users take: compile the test's model, run it, compare with the
//! expected outputs stored beside it.
//!
//! `conformance/allowlist.txt` lists the cases that must pass (like tract's `node.txt`); a
//! listed case that fails fails the test. `MOTE_CONFORMANCE=all` instead tries every case in
//! `conformance/candidates.txt` and prints which pass (to grow the allow-list).
//!
//! Node-test models have no initializers: weights and shape inputs are graph inputs. A user's
//! model has them as initializers, so the runner freezes every input after the first as a
//! constant — except for ops whose inputs are all data (element-wise ops, Concat, MatMul),
//! where they stay runtime inputs so broadcasting between two runtime tensors is exercised.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mote_onnx::TensorData;
use std::collections::BTreeMap;
use std::path::Path;

const RUNTIME_INPUT_OPS: &[&str] = &["Add", "Sub", "Mul", "Div", "Concat", "MatMul", "Max", "Min"];

fn run_case(dir: &Path) -> Result<(), String> {
    let onnx = std::fs::read(dir.join("model.onnx")).map_err(|e| format!("read model: {e}"))?;
    let model = mote_onnx::parse_model(&onnx).map_err(|e| e.to_string())?;
    let graph = model.graph.as_ref().ok_or("no graph")?;
    let op = graph
        .node
        .first()
        .and_then(|n| n.op_type.clone())
        .unwrap_or_default();
    let keep_runtime = RUNTIME_INPUT_OPS.contains(&op.as_str()) && graph.node.len() == 1;
    let data = dir.join("test_data_set_0");
    let mut opts = mote_compiler::CompileOptions::default();
    let mut inputs = Vec::new();
    for (k, vi) in graph.input.iter().enumerate() {
        let bytes = std::fs::read(data.join(format!("input_{k}.pb")))
            .map_err(|e| format!("input {k}: {e}"))?;
        let t = mote_onnx::tensor_from_proto(
            &mote_onnx::parse_tensor(&bytes).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        let name = vi.name.clone().unwrap_or_default();
        let is_f32 = matches!(t.data, TensorData::F32(_));
        if k == 0 || (keep_runtime && is_f32) {
            if !is_f32 {
                return Err(format!("input {k} is {}", t.dtype_name()));
            }
            opts.input_shapes.push((name, t.dims.clone()));
            inputs.push(t.to_f32_vec());
        } else {
            opts.freeze.push((name, t));
        }
    }
    let outs = mote_tests::compile_and_run(&onnx, &opts, &inputs)?;
    for (k, (shape, got)) in outs.iter().enumerate() {
        let bytes = std::fs::read(data.join(format!("output_{k}.pb")))
            .map_err(|e| format!("output {k}: {e}"))?;
        let t = mote_onnx::tensor_from_proto(
            &mote_onnx::parse_tensor(&bytes).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        if !matches!(t.data, TensorData::F32(_)) {
            return Err(format!("output {k} is {}", t.dtype_name()));
        }
        if *shape != t.dims {
            return Err(format!(
                "output {k}: shape {shape:?}, expected {:?}",
                t.dims
            ));
        }
        let want = t.to_f32_vec();
        // ONNX's backend test defaults: rtol 1e-3, atol 1e-7.
        for (i, (a, b)) in got.iter().zip(want.iter()).enumerate() {
            if !((a - b).abs() <= 1e-7 + 1e-3 * b.abs() || (a.is_nan() && b.is_nan())) {
                return Err(format!("output {k}[{i}] = {a}, expected {b}"));
            }
        }
    }
    Ok(())
}

fn data_dir() -> std::path::PathBuf {
    match std::env::var("MOTE_ONNX_NODE_TESTS") {
        Ok(p) => p.into(),
        Err(_) => mote_tests::repo().join(".cache/onnx-node-tests"),
    }
}

fn list(file: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(mote_tests::repo().join("tests/conformance").join(file))
        .expect("list file");
    let mut op = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("# ") {
            if !rest.starts_with(' ') && !rest.contains(' ') {
                op = rest.to_string();
            }
            continue;
        }
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        out.push((op.clone(), l.to_string()));
    }
    out
}

#[test]
fn onnx_node_conformance() {
    let dir = data_dir();
    assert!(
        dir.is_dir(),
        "ONNX node tests not found at {}: run `bash scripts/conformance-data.sh`",
        dir.display()
    );
    let all = std::env::var("MOTE_CONFORMANCE")
        .map(|v| v == "all")
        .unwrap_or(false);
    let cases = if all {
        list("candidates.txt")
    } else {
        list("allowlist.txt")
    };
    let mut per_op: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for (op, case) in &cases {
        let res = run_case(&dir.join(case));
        let e = per_op.entry(op.clone()).or_default();
        e.1 += 1;
        match res {
            Ok(()) => {
                e.0 += 1;
                if all {
                    println!("PASS {case}");
                }
            }
            Err(msg) => {
                if all {
                    println!("FAIL {case}: {msg}");
                }
                failures.push(format!("{case}: {msg}"));
            }
        }
    }
    println!("conformance per op (passed/attempted):");
    let (mut p, mut n) = (0, 0);
    for (op, (ok, tried)) in &per_op {
        println!("  {op:<20} {ok}/{tried}");
        p += ok;
        n += tried;
    }
    println!("  total {p}/{n}");
    if !all {
        assert!(
            failures.is_empty(),
            "allow-listed conformance cases failed:\n{}",
            failures.join("\n")
        );
    }
}
