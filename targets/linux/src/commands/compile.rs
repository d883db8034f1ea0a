//! `mote compile`.

use crate::args::{CalibMethodArg, CompileArgs, IoArg, RoundingArg};
use crate::error::{Classify, ExitKind, Failure, Result};
use crate::fail;
use crate::metadata::{self, ImageSpec};
use crate::model::{self, ModelFile};
use crate::util::{group, table, write_atomic};
use mote_compiler::layout::QuantRounding;
use mote_compiler::ptq::{self, CalibMethod, IoType, PtqOptions};
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

/// The image pre-processing for `a`, given a first compilation (for the input shapes): when
/// any image option is given, or when `calibrating` from a folder of images.
fn image_spec(a: &CompileArgs, first: &Compiled, calibrating: bool) -> Result<Option<ImageSpec>> {
    if !a.image.any() && !calibrating {
        return Ok(None);
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
    Ok(Some(ImageSpec::from_args(
        &a.image,
        &port.name,
        &port.shape,
    )?))
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:>12} [{bar:32}] {pos}/{len} samples ({elapsed})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Post-training quantization settings from the command line.
fn ptq_options(
    a: &CompileArgs,
    first: &Compiled,
    spec: Option<&ImageSpec>,
    bar: &indicatif::ProgressBar,
) -> Result<Option<PtqOptions>> {
    let (Some(_), Some(calib)) = (a.ptq.quantize, &a.ptq.calib) else {
        return Ok(None);
    };
    let file = ModelFile::from_bytes(&first.bytes, "the compiled model".into());
    let m = file.model()?;
    let ports = model::inputs(&m)?;
    let limit = a.ptq.calib_limit.map(|l| l as usize);
    let data = crate::calib::load(calib, limit, &ports, spec)?;
    if !data.skipped.is_empty() {
        eprintln!(
            "warning: --calib {}: skipped {} file(s) that are not PNG or JPEG images: {}",
            calib.display(),
            data.skipped.len(),
            data.skipped.join(", ")
        );
    }
    let method = match a.ptq.calib_method.unwrap_or(CalibMethodArg::Minmax) {
        CalibMethodArg::Minmax => CalibMethod::MinMax,
        CalibMethodArg::Percentile => CalibMethod::Percentile,
        CalibMethodArg::Mse => CalibMethod::Mse,
    };
    let io = match a.ptq.io.unwrap_or(IoArg::Float) {
        IoArg::Float => IoType::Float,
        IoArg::Int8 => IoType::Int8,
    };
    println!(
        "calibrating on {} ({} method)",
        data.description,
        method.name()
    );
    let b = bar.clone();
    let progress = ptq::Progress(std::sync::Arc::new(move |phase: &str, done, total| {
        if b.length() != Some(total as u64) {
            b.set_length(total as u64);
        }
        if done == 0 {
            b.set_position(0);
            b.set_message(phase.to_string());
        } else {
            b.set_position(done as u64);
        }
    }));
    Ok(Some(PtqOptions {
        samples: data.samples,
        method,
        percentile: a.ptq.calib_percentile.unwrap_or(99.99),
        io,
        progress: Some(progress),
    }))
}

fn db(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("{x:.1}"),
        None => "exact".into(),
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let tail: String = s
        .chars()
        .rev()
        .take(n - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// The quantization report as text.
pub fn report_text(r: &ptq::Report) -> String {
    let rows: Vec<Vec<String>> = r
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            vec![
                i.to_string(),
                short(&l.name, 40),
                l.op.clone(),
                format!("{:.3}..{:.3}", l.observed_min, l.observed_max),
                format!("{:.6}", l.scale),
                l.zero_point.to_string(),
                l.rule.clone(),
                db(l.sqnr_db),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "#",
            "layer",
            "op",
            "observed range",
            "scale",
            "zp",
            "params",
            "SQNR dB",
        ],
        &rows,
        &[true, false, false, true, true, true, false, true],
    );
    for o in &r.outputs {
        out.push_str(&format!(
            "output '{}': SQNR {} dB, top-1 agreement {}/{} ({:.1} %)\n",
            o.name,
            db(o.sqnr_db),
            o.top1_agree,
            r.samples,
            o.top1_agreement * 100.0
        ));
    }
    out
}

/// The `--report` JSON: the report with the model paths.
pub fn report_json(r: &ptq::Report, model: &Path, output: &Path) -> Result<Vec<u8>> {
    let mut v = serde_json::to_value(r).or_fail(ExitKind::Model, "internal: report")?;
    if let Some(o) = v.as_object_mut() {
        o.insert("model".into(), model.display().to_string().into());
        o.insert("output".into(), output.display().to_string().into());
    }
    let mut bytes = serde_json::to_vec_pretty(&v).or_fail(ExitKind::Model, "internal: report")?;
    bytes.push(b'\n');
    Ok(bytes)
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
        rounding: match a.rounding.unwrap_or(RoundingArg::Litert) {
            RoundingArg::Litert => QuantRounding::LiteRtReference,
            RoundingArg::Tflm => QuantRounding::Tflm,
            RoundingArg::Float => QuantRounding::Float,
        },
        allow_float: a.allow_float,
        float_weights: a.float_weights,
        // With --quantize the calibrated rewrite chooses the I/O type itself.
        int8_io: a.ptq.quantize.is_none() && a.ptq.io == Some(IoArg::Int8),
        ..Default::default()
    };
    if let Some((l, _)) = &labels {
        opts.metadata.push((metadata::LABELS.into(), l.join("\n")));
    }
    let mut compiled = compile_bytes(&onnx, &opts, &a.model)?;
    let calib_images = a.ptq.quantize.is_some() && a.ptq.calib.as_ref().is_some_and(|c| c.is_dir());
    let spec = image_spec(a, &compiled, calib_images)?;
    let bar = progress_bar();
    let quantize = ptq_options(a, &compiled, spec.as_ref(), &bar)?;
    if let Some(spec) = &spec {
        opts.metadata.extend(spec.to_metadata());
    }
    if let Some(q) = &quantize {
        opts.metadata.push((
            metadata::QUANTIZATION.into(),
            format!(
                "int8 post-training quantization; calibration: {} over {} sample(s); io: {}",
                q.method.name(),
                q.samples.len(),
                match q.io {
                    IoType::Float => "float",
                    IoType::Int8 => "int8",
                }
            ),
        ));
    }
    if spec.is_some() || quantize.is_some() {
        opts.quantize = quantize;
        let result = compile_bytes(&onnx, &opts, &a.model);
        bar.finish_and_clear();
        compiled = result?;
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
    if let Some(r) = &compiled.ptq_report {
        print!("{}", report_text(r));
        if let Some(path) = &a.ptq.report {
            write_atomic(path, &report_json(r, &a.model, &a.output)?)?;
            println!("report written to {}", path.display());
        }
    }
    Ok(())
}
