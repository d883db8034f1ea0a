//! Compiles `models/mlperf-tiny/ad01_int8.onnx` (the MLPerf Tiny anomaly detector, int8) into
//! `$OUT_DIR/model.mote` and writes `$OUT_DIR/model_info.rs` with the sizes the program needs at
//! compile time: the arena (`ARENA_BYTES`) and the input and output lengths. A firmware build
//! does the same, or runs `mote compile` and `mote inspect --json` in its own build step.

use std::fmt::Write as _;
use std::path::PathBuf;

/// The model, and the shape of its input (ONNX leaves the batch dimension open).
const ONNX: &str = "../../models/mlperf-tiny/ad01_int8.onnx";
const INPUT: (&str, [usize; 2]) = ("input_1", [1, 640]);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={ONNX}");
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let onnx = std::fs::read(ONNX).map_err(|e| format!("{ONNX}: {e}"))?;
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(INPUT.0.to_string(), INPUT.1.to_vec())],
        metadata: vec![("name".into(), "ad01 int8 (embedded)".into())],
        ..Default::default()
    };
    let compiled = mote_compiler::compile(&onnx, &opts).map_err(|e| format!("{ONNX}: {e}"))?;
    std::fs::write(out_dir.join("model.mote"), &compiled.bytes)?;

    // Read the sizes back off the file, as the runtime will see them.
    let aligned = mote_format::AlignedBytes::from_slice(&compiled.bytes);
    let model = mote_format::Model::from_bytes(aligned.as_bytes()).map_err(|e| format!("{e}"))?;
    let tensor = |list: mote_format::IndexList<'_>| {
        list.get(0)
            .and_then(|t| model.tensor(t))
            .ok_or("the model has no input or output")
    };
    let input = tensor(model.inputs())?;
    let output = tensor(model.outputs())?;
    let mut info = String::new();
    writeln!(
        info,
        "/// Arena bytes the model needs (the compiler's memory plan)."
    )?;
    writeln!(
        info,
        "pub const ARENA_BYTES: usize = {};",
        model.arena_len()
    )?;
    writeln!(
        info,
        "/// Elements of the input ({}, {}).",
        input.name,
        input.dtype.name()
    )?;
    writeln!(info, "pub const INPUT_LEN: usize = {};", input.elements())?;
    writeln!(
        info,
        "/// Elements of the output ({}, {}).",
        output.name,
        output.dtype.name()
    )?;
    writeln!(info, "pub const OUTPUT_LEN: usize = {};", output.elements())?;
    std::fs::write(out_dir.join("model_info.rs"), info)?;
    Ok(())
}
