//! `mote run`.

use crate::args::RunArgs;
use crate::error::{Classify, ExitKind, Failure, Result};
use crate::fail;
use crate::metadata::{self, ImageSpec};
use crate::model::{self, ModelFile, Port};
use crate::npy::{self, shape_str};
use std::time::Instant;

/// Reads one `.npy` per input, checked against the model.
///
/// # Errors
/// Exit 4 for a wrong count, dtype or shape; exit 5 for unreadable files.
pub fn read_inputs(ports: &[Port], files: &[std::path::PathBuf]) -> Result<Vec<Vec<u8>>> {
    if files.len() != ports.len() {
        let list = ports
            .iter()
            .map(Port::describe)
            .collect::<Vec<_>>()
            .join(", ");
        fail!(
            ExitKind::Input,
            "the model has {} input(s) ({list}), {} --input file(s) given",
            ports.len(),
            files.len()
        );
    }
    ports
        .iter()
        .zip(files)
        .map(|(p, f)| {
            npy::read_input(
                f,
                &npy::Expected {
                    name: &p.name,
                    dtype: p.dtype,
                    shape: &p.shape,
                },
            )
        })
        .collect()
}

/// Probabilities from an output: the values themselves when they already are a distribution,
/// else their softmax.
pub fn probabilities(v: &[f32]) -> (Vec<f32>, bool) {
    let sum: f64 = v.iter().map(|&x| x as f64).sum();
    if v.iter().all(|&x| (0.0..=1.0).contains(&x)) && (sum - 1.0).abs() < 1e-3 {
        return (v.to_vec(), false);
    }
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f64> = v.iter().map(|&x| ((x - max) as f64).exp()).collect();
    let s: f64 = e.iter().sum();
    (e.iter().map(|&x| (x / s) as f32).collect(), true)
}

/// Indices of the `k` largest values, largest first (ties: lower index first; NaN last).
pub fn top_k(v: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (v[a], v[b]);
        match (x.is_nan(), y.is_nan()) {
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => y.total_cmp(&x).then(a.cmp(&b)),
        }
    });
    idx.truncate(k);
    idx
}

fn run_image(a: &RunArgs, file: &ModelFile, path: &std::path::Path) -> Result<()> {
    let m = file.model()?;
    let Some(spec) = ImageSpec::from_model(m.file()).map_err(|e| e.context(file.origin.clone()))?
    else {
        fail!(ExitKind::Usage, "{}: the model records no image pre-processing; compile it with --image-input (and --scale, --mean, --std as the model needs), or run it with --input FILE.npy", file.origin);
    };
    let ports = model::inputs(&m)?;
    if ports.len() != 1 {
        fail!(
            ExitKind::Usage,
            "{}: --image needs a model with one input; this one has {}",
            file.origin,
            ports.len()
        );
    }
    let port = &ports[0];
    if port.name != spec.input
        || port.shape != spec.input_shape()
        || !matches!(port.dtype, mote_format::DType::F32 | mote_format::DType::I8)
    {
        fail!(
            ExitKind::Model,
            "{}: the image metadata ({} {}) does not fit input {}",
            file.origin,
            spec.input,
            shape_str(&spec.input_shape()),
            port.describe()
        );
    }
    let t0 = Instant::now();
    let img = crate::preprocess::load(path)?;
    let x = crate::preprocess::tensor(&img, &spec);
    let pre_ms = t0.elapsed().as_secs_f64() * 1e3;
    // An int8 input (a quantized model with int8 IO) takes the picture quantized with the
    // input's own scale and zero point, as ONNX's QuantizeLinear would.
    let input_quant = m.input(0).ok().and_then(|t| t.quant);
    let bytes: Vec<u8> = match (port.dtype, input_quant) {
        (mote_format::DType::I8, Some(q)) => x
            .iter()
            .map(|v| {
                ((v / q.scale).round_ties_even() as i32 + q.zero_point).clamp(-128, 127) as i8 as u8
            })
            .collect(),
        (mote_format::DType::I8, None) => fail!(
            ExitKind::Model,
            "{}: the int8 input has no quantization parameters",
            file.origin
        ),
        _ => x.iter().flat_map(|v| v.to_le_bytes()).collect(),
    };
    let pool = model::pool(a.threads)?;
    let mut arena = model::arena(&m);
    let mut interp = model::bind(&m, &mut arena, &[bytes])?.with_workers(&pool);
    let t1 = Instant::now();
    interp
        .invoke()
        .or_fail(ExitKind::Model, "inference failed")?;
    let ms = t1.elapsed().as_secs_f64() * 1e3;
    let outs = model::collect_outputs(&interp)?;
    let scores = outs
        .first()
        .ok_or_else(|| Failure::new(ExitKind::Model, "the model has no outputs"))?;
    // Quantized outputs are dequantized before they are read as scores.
    let dequantized: Vec<f32>;
    let scores = match m.output(0).ok().and_then(|t| t.quant.map(|q| (t.dtype, q))) {
        Some((mote_format::DType::I8, q)) => {
            dequantized = scores
                .iter()
                .map(|&v| (v - q.zero_point as f32) * q.scale)
                .collect();
            &dequantized
        }
        _ => scores,
    };
    let (p, _) = probabilities(scores);
    let labels = metadata::labels(m.file());
    for i in top_k(&p, a.top.max(1)) {
        let label = labels
            .as_ref()
            .and_then(|l| l.get(i))
            .cloned()
            .unwrap_or_else(|| format!("class {i}"));
        println!("{label}: {:.4}", p[i]);
    }
    println!("latency: {ms:.3} ms (inference), {pre_ms:.1} ms (decode and resize)");
    Ok(())
}

fn summary(p: &Port, v: &[f32]) -> String {
    if v.len() <= 16 {
        let vals = v
            .iter()
            .map(|x| format!("{x:.6}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{}: [{vals}]", p.describe())
    } else {
        let min = v.iter().copied().fold(f32::INFINITY, f32::min);
        let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        format!(
            "{}: min {min:.6}, max {max:.6}, mean {mean:.6}",
            p.describe()
        )
    }
}

/// Runs `mote run`.
///
/// # Errors
/// See the crate documentation for exit codes.
pub fn run(a: &RunArgs) -> Result<()> {
    let file = ModelFile::read(&a.model)?;
    if let Some(img) = &a.image {
        return run_image(a, &file, img);
    }
    let m = file.model()?;
    let in_ports = model::inputs(&m)?;
    let out_ports = model::outputs(&m)?;
    if a.inputs.is_empty() {
        fail!(
            ExitKind::Usage,
            "give one --input FILE.npy per model input ({}), or --image FILE",
            in_ports
                .iter()
                .map(Port::describe)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if a.outputs.len() > out_ports.len() {
        fail!(
            ExitKind::Usage,
            "{} --output files given, the model has {} output(s)",
            a.outputs.len(),
            out_ports.len()
        );
    }
    let inputs = read_inputs(&in_ports, &a.inputs)?;
    let pool = model::pool(a.threads)?;
    let mut arena = model::arena(&m);
    let mut interp = model::bind(&m, &mut arena, &inputs)?.with_workers(&pool);
    let t = Instant::now();
    interp
        .invoke()
        .or_fail(ExitKind::Model, "inference failed")?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let outs = model::collect_outputs(&interp)?;
    for (k, (p, v)) in out_ports.iter().zip(&outs).enumerate() {
        match a.outputs.get(k) {
            Some(path) => {
                npy::write_f32(path, &p.shape, v)?;
                println!("{}: wrote {}", p.describe(), path.display());
            }
            None => println!("{}", summary(p, v)),
        }
    }
    println!("latency: {ms:.3} ms");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{probabilities, top_k};

    #[test]
    fn top_k_orders_by_value_then_index() {
        assert_eq!(top_k(&[0.1, 0.7, 0.2, 0.7], 3), vec![1, 3, 2]);
        assert_eq!(top_k(&[f32::NAN, 0.5], 2), vec![1, 0]);
        assert_eq!(top_k(&[1.0], 5), vec![0]);
    }

    #[test]
    fn probabilities_pass_through_or_softmax() {
        let (p, soft) = probabilities(&[0.25, 0.75]);
        assert!(!soft);
        assert_eq!(p, vec![0.25, 0.75]);
        let (p, soft) = probabilities(&[0.0, 0.0, 2.0_f32.ln()]);
        assert!(soft);
        assert!((p[2] - 0.5).abs() < 1e-6 && (p[0] - 0.25).abs() < 1e-6);
    }
}
