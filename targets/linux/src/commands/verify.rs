//! `mote verify`: mote against ONNX Runtime on the same inputs.

use crate::args::VerifyArgs;
use crate::error::{Classify, ExitKind, Failure, Result};
use crate::fail;
use crate::model::{self, ModelFile, Port};
use crate::npy::shape_str;
use crate::onnxruntime::TensorData;
use mote_compiler::CompileOptions;
use serde::Serialize;

/// How one output compares.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Comparison {
    /// max |mote - ort|.
    pub max_abs_error: f64,
    /// max |mote - ort| / max |ort| (0 when both are all zero; infinite when mote has NaNs
    /// where ORT does not).
    pub max_rel_error: f64,
    /// For `[1, K]` / `[K]` outputs: whether the arg-max agrees.
    pub top1_agree: Option<bool>,
}

/// Compares mote's output with ONNX Runtime's.
pub fn compare(shape: &[usize], mote: &[f32], ort: &[f32]) -> Comparison {
    let mut max_abs = 0f64;
    let mut max_ref = 0f64;
    let mut nan = mote.len() != ort.len();
    for (&a, &b) in mote.iter().zip(ort) {
        if a.is_nan() || b.is_nan() {
            nan |= a.is_nan() != b.is_nan();
            continue;
        }
        if a.is_infinite() || b.is_infinite() {
            nan |= a != b;
            continue;
        }
        max_abs = max_abs.max((a as f64 - b as f64).abs());
        max_ref = max_ref.max((b as f64).abs());
    }
    let max_rel = if nan {
        f64::INFINITY
    } else if max_abs == 0.0 {
        0.0
    } else if max_ref == 0.0 {
        f64::INFINITY
    } else {
        max_abs / max_ref
    };
    let classes = match shape {
        [1, k] | [k] if *k > 1 => Some(*k),
        _ => None,
    };
    let top1_agree = classes.map(|_| {
        let am = crate::commands::run::top_k(mote, 1);
        let ao = crate::commands::run::top_k(ort, 1);
        am == ao
    });
    Comparison {
        max_abs_error: if nan { f64::INFINITY } else { max_abs },
        max_rel_error: max_rel,
        top1_agree,
    }
}

#[derive(Serialize)]
struct OutputReport {
    name: String,
    shape: Vec<usize>,
    max_abs_error: f64,
    max_rel_error: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    top1_agreement: Option<String>,
    pass: bool,
}

/// Runs `mote verify`.
///
/// # Errors
/// Exit 1 when an output is beyond `--rtol`, else see the crate documentation.
pub fn run(a: &VerifyArgs) -> Result<()> {
    let onnx = std::fs::read(&a.model).or_fail_with(ExitKind::Io, || {
        format!("cannot read {}", a.model.display())
    })?;
    let opts = CompileOptions {
        input_shapes: a.input_shapes.clone(),
        ..Default::default()
    };
    let compiled = crate::commands::compile::compile_bytes(&onnx, &opts, &a.model)?;
    let file = ModelFile::from_bytes(&compiled.bytes, format!("{} (compiled)", a.model.display()));
    let m = file.model()?;
    let in_ports = model::inputs(&m)?;
    let out_ports = model::outputs(&m)?;
    let trials: Vec<Vec<Vec<u8>>> = if a.inputs.is_empty() {
        (0..a.trials.max(1) as u64)
            .map(|seed| {
                in_ports
                    .iter()
                    .enumerate()
                    .map(|(k, p)| crate::rng::random_input(p, seed, k))
                    .collect()
            })
            .collect()
    } else {
        vec![crate::commands::run::read_inputs(&in_ports, &a.inputs)?]
    };
    crate::onnxruntime::ensure_loaded().map_err(|error| Failure {
        kind: ExitKind::Io,
        error,
    })?;
    let n_out = out_ports.len();
    let mut worst = vec![Comparison::default(); n_out];
    let mut agree = vec![0usize; n_out];
    for inputs in &trials {
        let mote_out = model::run_once(&m, inputs)?;
        let ort_in: Vec<(String, Vec<usize>, TensorData)> = in_ports
            .iter()
            .zip(inputs)
            .map(|(p, b)| {
                (
                    p.name.clone(),
                    p.shape.clone(),
                    TensorData::from_le_bytes(p.dtype, b),
                )
            })
            .collect();
        let ort_out = crate::onnxruntime::run_onnxruntime_typed(&onnx, &ort_in)
            .or_fail_with(ExitKind::Model, || {
                format!("ONNX Runtime on {}", a.model.display())
            })?;
        if ort_out.len() != n_out {
            fail!(
                ExitKind::Model,
                "ONNX Runtime gives {} outputs, mote {}",
                ort_out.len(),
                n_out
            );
        }
        for (k, (p, (os, ov))) in out_ports.iter().zip(&ort_out).enumerate() {
            if os.iter().product::<usize>() != p.elements() {
                fail!(
                    ExitKind::Model,
                    "output {}: ONNX Runtime's shape is {}",
                    p.describe(),
                    shape_str(os)
                );
            }
            let c = compare(&p.shape, &mote_out[k], ov);
            let w = &mut worst[k];
            w.max_abs_error = w.max_abs_error.max(c.max_abs_error);
            w.max_rel_error = w.max_rel_error.max(c.max_rel_error);
            if c.max_rel_error.is_nan() {
                w.max_rel_error = f64::INFINITY;
            }
            if let Some(t) = c.top1_agree {
                w.top1_agree = Some(w.top1_agree.unwrap_or(true) && t);
                agree[k] += t as usize;
            }
        }
    }
    let n = trials.len();
    let reports: Vec<OutputReport> = out_ports
        .iter()
        .zip(&worst)
        .zip(&agree)
        .map(
            |((p, w), &ag): ((&Port, &Comparison), &usize)| OutputReport {
                name: p.name.clone(),
                shape: p.shape.clone(),
                max_abs_error: w.max_abs_error,
                max_rel_error: w.max_rel_error,
                top1_agreement: w.top1_agree.map(|_| format!("{ag}/{n}")),
                pass: w.max_rel_error <= a.rtol,
            },
        )
        .collect();
    let pass = reports.iter().all(|r| r.pass);
    if a.json {
        let v = serde_json::json!({
            "model": a.model.display().to_string(),
            "trials": n,
            "rtol": a.rtol,
            "pass": pass,
            "outputs": reports,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).or_fail(ExitKind::Model, "json")?
        );
    } else {
        let src = if a.inputs.is_empty() {
            format!("{n} random input(s), seeds 0..{n}")
        } else {
            "the given inputs".into()
        };
        println!(
            "{}: mote vs ONNX Runtime on {src}, rtol {:e}",
            a.model.display(),
            a.rtol
        );
        for r in &reports {
            let top1 = r
                .top1_agreement
                .as_ref()
                .map(|t| format!(", top-1 agreement {t}"))
                .unwrap_or_default();
            println!(
                "  {} {}: max abs error {:.3e}, max rel error {:.3e}{top1}  {}",
                r.name,
                shape_str(&r.shape),
                r.max_abs_error,
                r.max_rel_error,
                if r.pass { "ok" } else { "FAIL" }
            );
        }
    }
    if !pass {
        let bad: Vec<String> = reports
            .iter()
            .filter(|r| !r.pass)
            .map(|r| format!("'{}' ({:.3e})", r.name, r.max_rel_error))
            .collect();
        return Err(Failure::new(
            ExitKind::Verification,
            format!(
                "{}: relative error beyond --rtol {:e} for output {}",
                a.model.display(),
                a.rtol,
                bad.join(", ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::compare;

    #[test]
    fn relative_error_is_max_abs_over_max_reference() {
        let c = compare(&[1, 3], &[1.0, 2.0, 3.5], &[1.0, 2.5, 4.0]);
        assert_eq!(c.max_abs_error, 0.5);
        assert_eq!(c.max_rel_error, 0.125);
        assert_eq!(c.top1_agree, Some(true));
        assert_eq!(compare(&[2, 2], &[0.0; 4], &[0.0; 4]).max_rel_error, 0.0);
        assert_eq!(compare(&[2, 2], &[0.0; 4], &[0.0; 4]).top1_agree, None);
    }

    #[test]
    fn nan_and_disagreement_fail() {
        assert!(compare(&[2], &[f32::NAN, 1.0], &[0.0, 1.0])
            .max_rel_error
            .is_infinite());
        assert_eq!(
            compare(&[2], &[f32::NAN, 1.0], &[f32::NAN, 1.0]).max_rel_error,
            0.0
        );
        assert!(compare(&[2], &[1.0, 0.0], &[0.0, 0.0])
            .max_rel_error
            .is_infinite());
        assert_eq!(
            compare(&[1, 2], &[0.6, 0.4], &[0.4, 0.6]).top1_agree,
            Some(false)
        );
    }
}
