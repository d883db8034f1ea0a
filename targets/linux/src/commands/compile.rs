//! `mote compile`.

use crate::args::CompileArgs;
use crate::error::{Classify, ExitKind, Failure, Result};
use crate::fail;
use crate::metadata::{self, ImageSpec};
use crate::model::{self, ModelFile};
use crate::util::{group, write_atomic};
use mote_compiler::{CompileOptions, Compiled};
use std::path::Path;

/// Compiles ONNX bytes, naming `origin` in errors (exit 3).
///
/// # Errors
/// Exit 3 when the model does not compile.
pub fn compile_bytes(onnx: &[u8], opts: &CompileOptions, origin: &Path) -> Result<Compiled> {
    mote_compiler::compile(onnx, opts).or_fail_with(ExitKind::Model, || {
        format!("cannot compile {}", origin.display())
    })
}

fn labels(a: &CompileArgs) -> Result<Option<(Vec<String>, String)>> {
    if let Some(path) = &a.labels {
        let text = std::fs::read_to_string(path)
            .or_fail_with(ExitKind::Io, || format!("cannot read {}", path.display()))?;
        let l = metadata::parse_labels(&text);
        if l.is_empty() {
            fail!(ExitKind::Input, "{}: no labels in the file", path.display());
        }
        return Ok(Some((l, path.display().to_string())));
    }
    if a.label.is_empty() {
        return Ok(None);
    }
    if let Some(l) = a.label.iter().find(|l| l.contains(['\n', '\r'])) {
        fail!(
            ExitKind::Usage,
            "--label {l:?}: a label cannot contain a line break"
        );
    }
    Ok(Some((a.label.clone(), "--label".into())))
}

/// The metadata for `a`, given a first compilation (for the input shapes).
fn image_metadata(a: &CompileArgs, first: &Compiled) -> Result<Vec<(String, String)>> {
    if !a.image.any() {
        return Ok(Vec::new());
    }
    let file = ModelFile::from_bytes(&first.bytes, "the compiled model".into());
    let m = file.model()?;
    let inputs = model::inputs(&m)?;
    let names = || {
        inputs
            .iter()
            .map(|p| format!("'{}'", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let port = match &a.image.image_input {
        Some(n) => match inputs.iter().find(|p| &p.name == n) {
            Some(p) => p,
            None => fail!(
                ExitKind::Usage,
                "--image-input {n}: the model has no input '{n}' (inputs: {})",
                names()
            ),
        },
        None => match inputs.as_slice() {
            [p] => p,
            _ => fail!(
                ExitKind::Usage,
                "the model has {} inputs ({}); name the image input with --image-input",
                inputs.len(),
                names()
            ),
        },
    };
    if !matches!(port.dtype, mote_format::DType::F32 | mote_format::DType::I8) {
        fail!(
            ExitKind::Usage,
            "--image-input {}: the input is {}; image pre-processing needs a float32 input",
            port.name,
            port.dtype.name()
        );
    }
    Ok(ImageSpec::from_args(&a.image, &port.name, &port.shape)?.to_metadata())
}

/// Runs `mote compile`.
///
/// # Errors
/// See the crate documentation for exit codes.
pub fn run(a: &CompileArgs) -> Result<()> {
    let onnx = std::fs::read(&a.model).or_fail_with(ExitKind::Io, || {
        format!("cannot read {}", a.model.display())
    })?;
    let name = match &a.name {
        Some(n) => n.clone(),
        None => a
            .model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into()),
    };
    let labels = labels(a)?;
    let mut opts = CompileOptions {
        input_shapes: a.input_shapes.clone(),
        metadata: vec![(metadata::NAME.into(), name)],
        ..Default::default()
    };
    if let Some((l, _)) = &labels {
        opts.metadata.push((metadata::LABELS.into(), l.join("\n")));
    }
    let mut compiled = compile_bytes(&onnx, &opts, &a.model)?;
    let image = image_metadata(a, &compiled)?;
    if !image.is_empty() {
        opts.metadata.extend(image);
        compiled = compile_bytes(&onnx, &opts, &a.model)?;
    }
    let file = ModelFile::from_bytes(&compiled.bytes, a.model.display().to_string());
    let m = file.model().map_err(|e| {
        e.context(format!(
            "the compiled model fails validation (a compiler bug; please report it with {})",
            a.model.display()
        ))
    })?;
    if let Some((l, from)) = &labels {
        let outs = model::outputs(&m)?;
        let classes = outs.first().map(|p| p.elements()).unwrap_or(0);
        if l.len() != classes {
            let desc = outs.first().map(|p| p.describe()).unwrap_or_default();
            // A labels file is a bad input file (4); --label options are a usage error (2).
            let kind = if a.labels.is_some() {
                ExitKind::Input
            } else {
                ExitKind::Usage
            };
            return Err(Failure::new(
                kind,
                format!(
                    "{from}: {} labels, but output {desc} has {classes} classes",
                    l.len()
                ),
            ));
        }
    }
    write_atomic(&a.output, &compiled.bytes)?;
    let report = mote_compiler::inspect::report(m.file());
    println!(
        "compiled {} -> {}: {} ops, {} bytes (constants {}), arena {} bytes, {} MACs",
        a.model.display(),
        a.output.display(),
        report.ops.len(),
        group(report.file_bytes as u64),
        group(report.constant_bytes as u64),
        group(report.arena_bytes as u64),
        group(report.macs)
    );
    Ok(())
}
