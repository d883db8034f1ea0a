//! Post-training quantization (PTQ): a float model and calibration data in, int8 execution out.
//!
//! The float graph (after [`passes::optimize`]) is calibrated, then rewritten into exactly the
//! QDQ form a pre-quantized model has after import, so that [`qdq::lower`] turns it into integer
//! ops the same way it does tf2onnx's and ONNX Runtime's files:
//!
//! 1. **Calibration.** The float graph is compiled in memory with every activation tensor as a
//!    graph output and run on each calibration sample. Per tensor: min and max; for the
//!    `percentile` and `mse` methods also a second pass building a 2048-bin histogram over
//!    `[min, max]` (exact zeros counted apart).
//! 2. **Ranges** (per tensor, always including 0):
//!    `minmax` — the observed range; `percentile` — the `p`-th and `(100 − p)`-th percentiles
//!    (p = 99.99 by default); `mse` — the range minimising the expected quantization error over
//!    the histogram (rounding noise `scale² / 12` inside the range, clipping error outside, exact
//!    zeros free), by coordinate descent on the two ends.
//! 3. **Activations**: int8, asymmetric, per tensor, as the TFLite converter chooses them
//!    (`GetAsymmetricQuantizationParams`): `scale = (max − min) / 255`, zero point the nudged
//!    `−128 − min / scale` so that 0 is exact. Fixed or shared parameters where TFLite's int8
//!    kernels require them: Softmax and Sigmoid outputs scale 1/256, zero point −128; Tanh 1/128,
//!    0; max / average pooling (and global ReduceMean), Reshape, Transpose, Slice and Pad outputs
//!    share their input's. Concat and Add / Mul outputs take their own range (the lowering
//!    requantizes Concat inputs with other parameters).
//! 4. **Weights** of Conv (dense, grouped, depthwise) and fully connected layers: int8, symmetric,
//!    per output channel, `scale = max |w| / 127`, `q = round(w / scale)` (half away from zero, as
//!    TFLite's `SymmetricQuantizeFloatsPerChannel`); biases int32 `round(b / (s_in · s_w[c]))`.
//!    Where a bias would not fit (|q| > 2^30, channels whose weights are all but zero), the
//!    channel's weight scale is raised until it does, as TFLite's `AdjustWeightsForBiasScale`.
//!    Constant operands of Add / Sub / Mul / Concat: int8 per tensor, asymmetric.
//!    The integers go in `qorigin` / `quant` of fresh copies of the constants (the float values
//!    stay, for any part that runs in float with `--allow-float`).
//! 5. **Rewrite**: every activation tensor `t` gets `Quantize(t) → Dequantize` and its readers
//!    read the dequantized copy. Graph inputs: with float I/O (the default) a `Quantize` after the
//!    input and a `Dequantize` before each output; with int8 I/O the input and output tensors
//!    are themselves int8, their scale and zero point recorded in the file. Fused activations
//!    that cannot become an int8 clamp (anything but Relu / Clip) are first split off into their
//!    own node, which becomes a lookup table.
//!
//! After compilation, [`evaluate`] runs the float model and the int8 model side by side on the
//! calibration set and reports per layer the SQNR of the int8 tensor against the float one,
//! `10 · log10(Σ x² / Σ (dequant(q) − x)²)`, and per output the SQNR and top-1 agreement.

use crate::error::{CompileError, Result};
use crate::ir::*;
use crate::{passes, qdq, CompileOptions};
use mote_format::{ActivationKind, ActivationSpec};
use mote_onnx::{Tensor, TensorData};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// How activation ranges are chosen from the calibration data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CalibMethod {
    /// The observed minimum and maximum.
    #[default]
    MinMax,
    /// The `p`-th and `(100 − p)`-th percentiles ([`PtqOptions::percentile`]).
    Percentile,
    /// The range with the least expected quantization error (histogram search).
    Mse,
}

impl CalibMethod {
    /// The command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            CalibMethod::MinMax => "minmax",
            CalibMethod::Percentile => "percentile",
            CalibMethod::Mse => "mse",
        }
    }
}

/// Element type of a quantized model's graph inputs and outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IoType {
    /// float32 inputs and outputs; the model quantizes and dequantizes at its edges.
    #[default]
    Float,
    /// int8 inputs and outputs with their scale and zero point recorded in the file.
    Int8,
}

/// A progress callback: `(phase, done, total)`; phases are `"calibrating"`, `"histograms"`,
/// `"evaluating"`.
#[derive(Clone)]
pub struct Progress(pub Arc<ProgressFn>);

/// The function behind [`Progress`].
pub type ProgressFn = dyn Fn(&str, usize, usize) + Send + Sync;

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// Post-training quantization settings and data.
#[derive(Clone, Debug)]
pub struct PtqOptions {
    /// Calibration samples: per sample, one float vector per graph input (in declaration order,
    /// each with the input's element count).
    pub samples: Vec<Vec<Vec<f32>>>,
    /// Range selection.
    pub method: CalibMethod,
    /// Percentile kept by [`CalibMethod::Percentile`] (e.g. 99.99).
    pub percentile: f64,
    /// Graph input / output element type.
    pub io: IoType,
    /// Called as calibration and evaluation advance.
    pub progress: Option<Progress>,
}

impl Default for PtqOptions {
    fn default() -> Self {
        PtqOptions {
            samples: Vec::new(),
            method: CalibMethod::MinMax,
            percentile: 99.99,
            io: IoType::Float,
            progress: None,
        }
    }
}

/// One quantized activation tensor in the report.
#[derive(Clone, Debug, Serialize)]
pub struct LayerReport {
    /// The node that writes the tensor (the input's name for graph inputs).
    pub name: String,
    /// The op (`Input` for graph inputs).
    pub op: String,
    /// The tensor's name.
    pub tensor: String,
    /// Logical shape.
    pub shape: Vec<usize>,
    /// How the parameters were chosen: `calibrated`, `shared` (with the op's input) or `fixed`.
    pub rule: String,
    /// Smallest value seen in calibration.
    pub observed_min: f32,
    /// Largest value seen in calibration.
    pub observed_max: f32,
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
    /// SQNR in dB of the int8 tensor (dequantized) against the float model's, over the
    /// calibration set; `None` when the int8 tensor equals the float one exactly (or both are 0).
    pub sqnr_db: Option<f64>,
}

/// One graph output in the report.
#[derive(Clone, Debug, Serialize)]
pub struct OutputReport {
    /// Output name.
    pub name: String,
    /// SQNR in dB of the int8 model's output against the float model's, over the calibration
    /// set (`None` when identical).
    pub sqnr_db: Option<f64>,
    /// Samples whose arg-max (over the whole output) is the same in both models.
    pub top1_agree: usize,
    /// That as a fraction of the samples.
    pub top1_agreement: f64,
}

/// The quantization report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Range selection.
    pub method: CalibMethod,
    /// The percentile, for [`CalibMethod::Percentile`].
    pub percentile: Option<f64>,
    /// Graph I/O element type.
    pub io: IoType,
    /// Calibration samples (also the evaluation set of the numbers below).
    pub samples: usize,
    /// Every quantized activation tensor, in execution order (graph inputs first).
    pub layers: Vec<LayerReport>,
    /// Every graph output.
    pub outputs: Vec<OutputReport>,
}

/// Between [`quantize`] and [`evaluate`]: what the evaluation needs.
#[derive(Debug)]
pub struct Calibrated {
    /// The quantized graph before lowering.
    graph: Graph,
    /// The float model with every calibrated node output as a graph output, in `layers` order.
    float_model: Vec<u8>,
    /// Report entries (without SQNR) and where each tensor is.
    layers: Vec<Layer>,
    /// Graph output tensors of the quantized graph.
    outputs: Vec<TId>,
    /// For each graph output, the layer of the float tensor it stands for.
    output_layers: Vec<Option<usize>>,
}

#[derive(Debug)]
struct Layer {
    report: LayerReport,
    /// Graph input index, for input layers.
    input: Option<usize>,
    /// Index among the float model's outputs, for node outputs.
    float_out: Option<usize>,
    /// The int8 tensor in the quantized graph.
    q: TId,
}

/// Running min / max / histogram of one tensor.
#[derive(Clone, Debug)]
struct Stats {
    min: f32,
    max: f32,
    /// Histogram over `[lo, hi]` (non-zero values only).
    hist: Vec<u64>,
    zeros: u64,
    lo: f32,
    hi: f32,
}

const BINS: usize = 2048;
/// Largest |bias| in integers: leaves room in the int32 accumulator.
const BIAS_LIMIT: f64 = (1u64 << 30) as f64;

impl Stats {
    fn new() -> Self {
        Stats {
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            hist: Vec::new(),
            zeros: 0,
            lo: 0.0,
            hi: 0.0,
        }
    }

    fn observe(&mut self, v: &[f32]) {
        for &x in v {
            if x.is_finite() {
                self.min = self.min.min(x);
                self.max = self.max.max(x);
            }
        }
    }

    /// The range every range includes: observed values and 0.
    fn full(&self) -> (f32, f32) {
        if self.min > self.max {
            return (0.0, 0.0);
        }
        (self.min.min(0.0), self.max.max(0.0))
    }

    fn start_histogram(&mut self) {
        let (lo, hi) = self.full();
        self.lo = lo;
        self.hi = hi;
        self.hist = vec![0; BINS];
        self.zeros = 0;
    }

    fn bin_width(&self) -> f64 {
        (self.hi as f64 - self.lo as f64) / BINS as f64
    }

    fn add_histogram(&mut self, v: &[f32]) {
        let w = self.bin_width();
        if w <= 0.0 {
            self.zeros += v.len() as u64;
            return;
        }
        for &x in v {
            if x == 0.0 {
                self.zeros += 1;
            } else if x.is_finite() {
                let b = ((x as f64 - self.lo as f64) / w) as usize;
                self.hist[b.min(BINS - 1)] += 1;
            }
        }
    }

    fn center(&self, b: usize) -> f64 {
        self.lo as f64 + (b as f64 + 0.5) * self.bin_width()
    }

    /// The `p`-th and `(100 − p)`-th percentiles (bin edges), widened to include 0.
    fn percentile(&self, p: f64) -> (f32, f32) {
        let total: u64 = self.hist.iter().sum::<u64>() + self.zeros;
        if total == 0 || self.bin_width() <= 0.0 {
            return self.full();
        }
        let tail = ((100.0 - p.clamp(50.0, 100.0)) / 100.0 * total as f64).floor() as u64;
        let zero_bin = (((0.0 - self.lo as f64) / self.bin_width()) as usize).min(BINS - 1);
        let count = |b: usize| self.hist[b] + if b == zero_bin { self.zeros } else { 0 };
        let w = self.bin_width();
        let (mut acc, mut lo) = (0u64, self.lo as f64);
        for b in 0..BINS {
            acc += count(b);
            if acc > tail {
                lo = self.lo as f64 + b as f64 * w;
                break;
            }
        }
        let (mut acc, mut hi) = (0u64, self.hi as f64);
        for b in (0..BINS).rev() {
            acc += count(b);
            if acc > tail {
                hi = self.lo as f64 + (b + 1) as f64 * w;
                break;
            }
        }
        ((lo as f32).min(0.0), (hi as f32).max(0.0))
    }

    /// Expected squared error of quantizing the histogram into `[lo, hi]`.
    fn mse(&self, lo: f32, hi: f32) -> f64 {
        let (s, z) = asymmetric_params(lo, hi);
        let (s, z) = (s as f64, z as f64);
        let (qlo, qhi) = (s * (-128.0 - z), s * (127.0 - z));
        let noise = s * s / 12.0;
        let mut e = 0.0;
        for (b, &n) in self.hist.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let v = self.center(b);
            let d = if v < qlo {
                (v - qlo) * (v - qlo)
            } else if v > qhi {
                (v - qhi) * (v - qhi)
            } else {
                noise
            };
            e += n as f64 * d;
        }
        e
    }

    /// The range with the least [`Stats::mse`]: coordinate descent over bin edges.
    fn mse_range(&self) -> (f32, f32) {
        let (lo0, hi0) = (self.lo, self.hi);
        if self.bin_width() <= 0.0 {
            return (lo0, hi0);
        }
        let edge = |b: usize| (self.lo as f64 + b as f64 * self.bin_width()) as f32;
        let zero_bin = (((0.0 - self.lo as f64) / self.bin_width()) as usize).min(BINS);
        let (mut lo, mut hi) = (lo0, hi0);
        for _ in 0..2 {
            if hi0 > 0.0 {
                let mut best = (self.mse(lo, hi), hi);
                for b in (zero_bin + 1..=BINS).rev().step_by(2) {
                    let c = edge(b).max(0.0);
                    let e = self.mse(lo, c);
                    if e < best.0 {
                        best = (e, c);
                    }
                }
                hi = best.1;
            }
            if lo0 < 0.0 {
                let mut best = (self.mse(lo, hi), lo);
                for b in (0..zero_bin).step_by(2) {
                    let c = edge(b).min(0.0);
                    let e = self.mse(c, hi);
                    if e < best.0 {
                        best = (e, c);
                    }
                }
                lo = best.1;
            }
        }
        (lo, hi)
    }
}

/// TFLite's `GetAsymmetricQuantizationParams` for int8: the range is widened to include 0,
/// `scale = (max − min) / 255`, and the zero point (from whichever end gives the smaller error)
/// is nudged onto an integer in [−128, 127] so that 0 is exact.
pub fn asymmetric_params(min: f32, max: f32) -> (f32, i32) {
    let (min, max) = (min.min(0.0) as f64, max.max(0.0) as f64);
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let scale = (max - min) / (qmax - qmin);
    if scale.is_nan() || scale <= 1e-30 || !scale.is_finite() {
        return (1.0, 0);
    }
    let scale = scale as f32 as f64;
    let zp_from_min = qmin - min / scale;
    let zp_from_max = qmax - max / scale;
    let err_min = qmin.abs() + (min / scale).abs();
    let err_max = qmax.abs() + (max / scale).abs();
    let zp = if err_min < err_max {
        zp_from_min
    } else {
        zp_from_max
    };
    let zp = if zp < qmin {
        qmin
    } else if zp > qmax {
        qmax
    } else {
        zp.round()
    };
    (scale as f32, zp as i32)
}

/// `clamp(round_half_even(x / scale) + zp)`, as ONNX QuantizeLinear and mote's Quantize op.
pub fn quantize_value(x: f32, scale: f32, zp: i32) -> i8 {
    ((x / scale).round_ties_even() as i32 + zp).clamp(-128, 127) as i8
}

fn err(msg: impl Into<String>) -> CompileError {
    CompileError::Graph(format!("post-training quantization: {}", msg.into()))
}

fn report_progress(opts: &PtqOptions, phase: &str, done: usize, total: usize) {
    if let Some(p) = &opts.progress {
        (p.0)(phase, done, total);
    }
}

/// Runs a compiled model on every sample; `visit` sees the interpreter after each run.
fn run_all(
    bytes: &[u8],
    n: usize,
    mut inputs: impl FnMut(usize) -> Vec<Vec<u8>>,
    mut visit: impl FnMut(usize, &mote_runtime::Interpreter<'_, '_>) -> Result<()>,
) -> Result<()> {
    let aligned = mote_format::AlignedBytes::from_slice(bytes);
    let model = mote_runtime::Model::from_bytes(aligned.as_bytes()).map_err(|e| {
        err(format!(
            "internal: the calibration model does not load: {e}"
        ))
    })?;
    let mut arena = mote_format::AlignedBytes::zeroed(model.arena_len());
    let mut it = mote_runtime::Interpreter::new(&model, arena.as_bytes_mut())
        .map_err(|e| err(format!("internal: {e}")))?;
    for k in 0..n {
        for (i, x) in inputs(k).iter().enumerate() {
            it.set_input(i, x)
                .map_err(|e| err(format!("sample {k}, input {i}: {e}")))?;
        }
        it.invoke()
            .map_err(|e| err(format!("sample {k}: the model fails: {e}")))?;
        visit(k, &it)?;
    }
    Ok(())
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn const_f32(g: &Graph, t: TId) -> Option<Vec<f32>> {
    match g.value(t).map(|v| &v.data) {
        Some(TensorData::F32(v)) => Some(v.clone()),
        _ => None,
    }
}

fn is_activation(g: &Graph, t: TId) -> bool {
    let d = &g.tensors[t];
    d.value.is_none() && d.dtype == DType::F32
}

/// Splits fused activations that cannot run as an int8 clamp into their own node (which the
/// lowering turns into a lookup table).
fn unfuse_activations(g: &mut Graph) {
    let mut i = 0;
    while i < g.nodes.len() {
        let slot = match &mut g.nodes[i].op {
            Op::Conv { act, .. } | Op::FullyConnected { act } | Op::Binary { act, .. } => Some(act),
            Op::MaxPool(pa) | Op::AvgPool(pa) => Some(&mut pa.act),
            _ => None,
        };
        let Some(slot) = slot else {
            i += 1;
            continue;
        };
        if matches!(
            slot.kind,
            ActivationKind::None | ActivationKind::Relu | ActivationKind::Clip
        ) {
            i += 1;
            continue;
        }
        let act = *slot;
        *slot = ActivationSpec::NONE;
        let out = g.nodes[i].output;
        let shape = g.shape(out).to_vec();
        let name = g.nodes[i].name.clone();
        let pre = g.add_tensor(format!("{}#preact", g.tensors[out].name), shape);
        g.nodes[i].output = pre;
        g.nodes.insert(
            i + 1,
            Node {
                name: format!("{name}#activation"),
                op: Op::Unary(act),
                inputs: vec![pre],
                output: out,
            },
        );
        i += 2;
    }
}

/// The float graph compiled with `outputs` as its graph outputs.
fn float_model(g: &Graph, outputs: &[TId], opts: &CompileOptions) -> Result<Vec<u8>> {
    let mut fg = g.clone();
    fg.outputs = outputs.to_vec();
    let o = CompileOptions {
        rounding: opts.rounding,
        allow_float: true,
        ..Default::default()
    };
    Ok(crate::emit(&fg, &o, "")?.bytes)
}

/// Calibrates the float graph `g` on `opts.samples` and rewrites it into QDQ form (see the
/// module documentation). Returns what [`evaluate`] needs.
///
/// # Errors
/// A [`CompileError::Graph`] for an already quantized model, missing or mis-shaped samples, or a
/// model that fails on them.
pub fn quantize(g: &mut Graph, opts: &PtqOptions, copts: &CompileOptions) -> Result<Calibrated> {
    if g.nodes
        .iter()
        .any(|n| matches!(n.op, Op::Quantize { .. } | Op::Dequantize { .. }))
        || g.tensors
            .iter()
            .any(|t| t.value.is_none() && t.dtype != DType::F32)
    {
        return Err(err(
            "the model is already quantized (it has QuantizeLinear / DequantizeLinear nodes or \
             int8 tensors); compile it without --quantize",
        ));
    }
    let n = opts.samples.len();
    if n == 0 {
        return Err(err("no calibration samples"));
    }
    for (k, s) in opts.samples.iter().enumerate() {
        if s.len() != g.inputs.len() {
            return Err(err(format!(
                "sample {k} has {} input(s), the model takes {}",
                s.len(),
                g.inputs.len()
            )));
        }
        for (i, (&t, v)) in g.inputs.iter().zip(s).enumerate() {
            let want: usize = g.shape(t).iter().product();
            if v.len() != want {
                return Err(err(format!(
                    "sample {k}, input {i} ('{}'): {} values, the input {:?} has {want}",
                    g.tensors[t].name,
                    v.len(),
                    g.shape(t)
                )));
            }
        }
    }
    unfuse_activations(g);

    // 1. Calibration.
    let node_outs: Vec<TId> = g
        .nodes
        .iter()
        .map(|n| n.output)
        .filter(|&t| is_activation(g, t))
        .collect();
    let fmodel = float_model(g, &node_outs, copts)?;
    let mut stats: HashMap<TId, Stats> = HashMap::new();
    for &t in g.inputs.iter().chain(&node_outs) {
        stats.insert(t, Stats::new());
    }
    let inputs = g.inputs.clone();
    let feed =
        |k: usize| -> Vec<Vec<u8>> { opts.samples[k].iter().map(|v| f32_bytes(v)).collect() };
    let observe = |stats: &mut HashMap<TId, Stats>,
                   k: usize,
                   it: &mote_runtime::Interpreter<'_, '_>,
                   hist: bool|
     -> Result<()> {
        for (i, &t) in inputs.iter().enumerate() {
            if let Some(s) = stats.get_mut(&t) {
                if hist {
                    s.add_histogram(&opts.samples[k][i]);
                } else {
                    s.observe(&opts.samples[k][i]);
                }
            }
        }
        for (j, &t) in node_outs.iter().enumerate() {
            let v = it
                .output_f32(j)
                .map_err(|e| err(format!("internal: {e}")))?;
            if let Some(s) = stats.get_mut(&t) {
                if hist {
                    s.add_histogram(v);
                } else {
                    s.observe(v);
                }
            }
        }
        Ok(())
    };
    report_progress(opts, "calibrating", 0, n);
    run_all(&fmodel, n, feed, |k, it| {
        observe(&mut stats, k, it, false)?;
        report_progress(opts, "calibrating", k + 1, n);
        Ok(())
    })?;
    if opts.method != CalibMethod::MinMax {
        stats.values_mut().for_each(Stats::start_histogram);
        report_progress(opts, "histograms", 0, n);
        run_all(&fmodel, n, feed, |k, it| {
            observe(&mut stats, k, it, true)?;
            report_progress(opts, "histograms", k + 1, n);
            Ok(())
        })?;
    }
    let range = |s: &Stats| -> (f32, f32) {
        match opts.method {
            CalibMethod::MinMax => s.full(),
            CalibMethod::Percentile => s.percentile(opts.percentile),
            CalibMethod::Mse => s.mse_range(),
        }
    };

    // 2-5. Parameters and rewrite.
    let mut params: HashMap<TId, (f32, i32)> = HashMap::new();
    let mut repl: HashMap<TId, TId> = HashMap::new();
    let mut qof: HashMap<TId, TId> = HashMap::new();
    let mut layers: Vec<Layer> = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    let layer_report = |g: &Graph, name: &str, op: &str, t: TId, rule: &str, p: (f32, i32)| {
        let s = stats.get(&t);
        LayerReport {
            name: name.to_string(),
            op: op.to_string(),
            tensor: g.tensors[t].name.clone(),
            shape: g.shape(t).to_vec(),
            rule: rule.to_string(),
            observed_min: s.map(|s| s.min).unwrap_or(0.0),
            observed_max: s.map(|s| s.max).unwrap_or(0.0),
            scale: p.0,
            zero_point: p.1,
            sqnr_db: None,
        }
    };
    for (i, &t) in inputs.iter().enumerate() {
        let Some(s) = stats.get(&t) else { continue };
        let (lo, hi) = range(s);
        let p = asymmetric_params(lo, hi);
        params.insert(t, p);
        let name = g.tensors[t].name.clone();
        let report = layer_report(g, &name, "Input", t, "calibrated", p);
        let q = if opts.io == IoType::Int8 {
            g.tensors[t].dtype = DType::I8;
            g.tensors[t].quant = Some(Quant::per_tensor(p.0, p.1));
            let dq = g.add_tensor(format!("{name}#dequantized"), g.shape(t).to_vec());
            nodes.push(Node {
                name: format!("{name}#dequantize"),
                op: Op::Dequantize {
                    scale: p.0,
                    zero_point: p.1,
                },
                inputs: vec![t],
                output: dq,
            });
            repl.insert(t, dq);
            t
        } else {
            let (q, dq) = qdq_pair(g, t, p, &name, &mut nodes);
            repl.insert(t, dq);
            q
        };
        qof.insert(t, q);
        layers.push(Layer {
            report,
            input: Some(i),
            float_out: None,
            q,
        });
    }
    let old = std::mem::take(&mut g.nodes);
    let float_index: HashMap<TId, usize> =
        node_outs.iter().enumerate().map(|(j, &t)| (t, j)).collect();
    for mut node in old {
        let in_p = node.inputs.first().and_then(|t| params.get(t)).copied();
        // Weights and constant operands.
        match &node.op {
            Op::Conv { .. } | Op::FullyConnected { .. } => {
                if let Some((s_in, _)) = in_p {
                    quantize_weights(g, &mut node, s_in);
                }
            }
            Op::Binary {
                kind: BinaryKind::Add | BinaryKind::Sub | BinaryKind::Mul,
                ..
            }
            | Op::Concat { .. } => {
                for k in 0..node.inputs.len() {
                    let c = node.inputs[k];
                    if g.value(c).is_some() {
                        if let Some(nc) = quantize_const(g, c, &node.name) {
                            node.inputs[k] = nc;
                        }
                    }
                }
            }
            _ => {}
        }
        let out = node.output;
        let op_name = match &node.op {
            Op::Conv { groups, .. } if *groups > 1 => {
                if g.shape(node.inputs[0]).get(1) == Some(groups) {
                    "DepthwiseConv"
                } else {
                    "GroupedConv"
                }
            }
            op => qdq::op_name(op),
        };
        let plan = if is_activation(g, out) {
            let shared = match &node.op {
                Op::MaxPool(_)
                | Op::AvgPool(_)
                | Op::Reshape
                | Op::Transpose { .. }
                | Op::Slice { .. }
                | Op::Pad { .. } => true,
                Op::ReduceMean { axes } => {
                    let s = g.shape(node.inputs[0]);
                    s.len() == 4 && *axes == vec![2, 3] && g.shape(out).len() == 4
                }
                _ => false,
            };
            let fixed = match &node.op {
                Op::Softmax { .. } => Some((1.0f32 / 256.0, -128)),
                Op::Unary(a) if a.kind == ActivationKind::Sigmoid => Some((1.0 / 256.0, -128)),
                Op::Unary(a) if a.kind == ActivationKind::Tanh => Some((1.0 / 128.0, 0)),
                _ => None,
            };
            match (shared, in_p, fixed) {
                (true, Some(p), _) => Some((p, "shared")),
                (_, _, Some(p)) => Some((p, "fixed")),
                _ => stats
                    .get(&out)
                    .map(&range)
                    .map(|(lo, hi)| (asymmetric_params(lo, hi), "calibrated")),
            }
        } else {
            None
        };
        node.inputs = node
            .inputs
            .iter()
            .map(|t| repl.get(t).copied().unwrap_or(*t))
            .collect();
        let node_name = node.name.clone();
        nodes.push(node);
        if let Some((p, rule)) = plan {
            params.insert(out, p);
            let report = layer_report(g, &node_name, op_name, out, rule, p);
            let tname = g.tensors[out].name.clone();
            let (q, dq) = qdq_pair(g, out, p, &tname, &mut nodes);
            repl.insert(out, dq);
            qof.insert(out, q);
            layers.push(Layer {
                report,
                input: None,
                float_out: float_index.get(&out).copied(),
                q,
            });
        }
    }
    g.nodes = nodes;
    // Graph outputs: the dequantized copy (float I/O) or the int8 tensor (int8 I/O), under the
    // output's name.
    let original_outputs = g.outputs.clone();
    let mut renamed: HashMap<TId, TId> = HashMap::new();
    for o in g.outputs.clone() {
        if renamed.contains_key(&o) || inputs.contains(&o) {
            continue;
        }
        let new = match opts.io {
            IoType::Int8 => qof.get(&o).copied(),
            IoType::Float => repl.get(&o).copied(),
        };
        if let Some(new) = new {
            let name = g.tensors[o].name.clone();
            g.tensors[o].name = format!("{name}#float");
            g.tensors[new].name = name;
            renamed.insert(o, new);
        }
    }
    for o in g.outputs.iter_mut() {
        if let Some(&r) = renamed.get(o) {
            *o = r;
        }
    }
    let layer_of: HashMap<TId, usize> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.input.is_none())
        .filter_map(|(k, l)| l.float_out.map(|j| (node_outs[j], k)))
        .collect();
    let output_layers = original_outputs
        .iter()
        .map(|o| layer_of.get(o).copied())
        .collect();
    Ok(Calibrated {
        graph: g.clone(),
        float_model: fmodel,
        outputs: g.outputs.clone(),
        output_layers,
        layers,
    })
}

/// Inserts `t → Quantize → q → Dequantize → dq`; returns `(q, dq)`.
fn qdq_pair(g: &mut Graph, t: TId, p: (f32, i32), name: &str, nodes: &mut Vec<Node>) -> (TId, TId) {
    let shape = g.shape(t).to_vec();
    let q = g.add_tensor(format!("{name}#int8"), shape.clone());
    g.tensors[q].dtype = DType::I8;
    g.tensors[q].quant = Some(Quant::per_tensor(p.0, p.1));
    let dq = g.add_tensor(format!("{name}#dequantized"), shape);
    nodes.push(Node {
        name: format!("{name}#quantize"),
        op: Op::Quantize {
            scale: p.0,
            zero_point: p.1,
        },
        inputs: vec![t],
        output: q,
    });
    nodes.push(Node {
        name: format!("{name}#dequantize"),
        op: Op::Dequantize {
            scale: p.0,
            zero_point: p.1,
        },
        inputs: vec![q],
        output: dq,
    });
    (q, dq)
}

/// Per-output-channel symmetric int8 weights and int32 bias for a Conv / FullyConnected node
/// whose input has scale `s_in` (fresh constants; the node is rewired to them).
fn quantize_weights(g: &mut Graph, node: &mut Node, s_in: f32) {
    let Some(&w) = node.inputs.get(1) else { return };
    let Some(wv) = const_f32(g, w) else { return };
    let wshape = g.shape(w).to_vec();
    let m = wshape.first().copied().unwrap_or(0);
    if m == 0 || wv.len() % m != 0 {
        return;
    }
    let bias = match node.inputs.get(2) {
        Some(&b) => match const_f32(g, b) {
            Some(v) if v.len() == m => Some(v),
            _ => return,
        },
        None => None,
    };
    let per = wv.len() / m;
    let mut scales = Vec::with_capacity(m);
    let mut qw = Vec::with_capacity(wv.len());
    for c in 0..m {
        let chunk = &wv[c * per..(c + 1) * per];
        let amax = chunk.iter().fold(0.0f32, |a, &x| a.max(x.abs()));
        let mut s = amax / 127.0;
        if let Some(b) = &bias {
            // Raise the scale of near-zero channels until the bias fits.
            let need = (b[c].abs() as f64 / (s_in as f64 * BIAS_LIMIT)) as f32;
            if need > s {
                s = need * (1.0 + f32::EPSILON * 4.0);
            }
        }
        if s.is_nan() || s <= 0.0 || !s.is_finite() {
            s = 1.0;
        }
        scales.push(s);
        qw.extend(
            chunk
                .iter()
                .map(|&x| (x / s).round().clamp(-127.0, 127.0) as i8),
        );
    }
    let name = node.name.clone();
    let nw = g.add_const(format!("{name}#weights"), Tensor::f32(wshape.clone(), wv));
    g.tensors[nw].qorigin = Some(Tensor {
        dims: wshape,
        data: TensorData::I8(qw),
    });
    g.tensors[nw].quant = Some(Quant {
        scales: scales.clone(),
        zero_points: vec![0; m],
        axis: 0,
    });
    node.inputs[1] = nw;
    if let Some(b) = bias {
        let bscales: Vec<f32> = scales.iter().map(|&s| s_in * s).collect();
        let qb: Vec<i32> = b
            .iter()
            .zip(&scales)
            .map(|(&x, &s)| {
                (x as f64 / (s_in as f64 * s as f64))
                    .round()
                    .clamp(-BIAS_LIMIT, BIAS_LIMIT) as i32
            })
            .collect();
        let nb = g.add_const(format!("{name}#bias_q"), Tensor::f32(vec![m], b));
        g.tensors[nb].qorigin = Some(Tensor {
            dims: vec![m],
            data: TensorData::I32(qb),
        });
        g.tensors[nb].quant = Some(Quant {
            scales: bscales,
            zero_points: vec![0; m],
            axis: 0,
        });
        node.inputs[2] = nb;
    }
}

/// A constant operand as int8 per tensor (asymmetric over its range and 0).
fn quantize_const(g: &mut Graph, c: TId, node: &str) -> Option<TId> {
    let v = const_f32(g, c)?;
    let (lo, hi) = v
        .iter()
        .fold((0.0f32, 0.0f32), |(a, b), &x| (a.min(x), b.max(x)));
    let (s, z) = asymmetric_params(lo, hi);
    let q: Vec<i8> = v.iter().map(|&x| quantize_value(x, s, z)).collect();
    let dims = g.shape(c).to_vec();
    let name = format!("{node}#{}", g.tensors[c].name);
    let nc = g.add_const(name, Tensor::f32(dims.clone(), v));
    g.tensors[nc].qorigin = Some(Tensor {
        dims,
        data: TensorData::I8(q),
    });
    g.tensors[nc].quant = Some(Quant::per_tensor(s, z));
    Some(nc)
}

/// Accumulates `Σ x²` and `Σ (y − x)²`.
#[derive(Clone, Copy, Debug, Default)]
struct Sqnr {
    signal: f64,
    noise: f64,
}

impl Sqnr {
    fn add(&mut self, reference: &[f32], test: impl Iterator<Item = f32>) {
        for (&x, y) in reference.iter().zip(test) {
            self.signal += x as f64 * x as f64;
            let d = y as f64 - x as f64;
            self.noise += d * d;
        }
    }
    fn db(&self) -> Option<f64> {
        if self.noise == 0.0 || self.signal == 0.0 {
            return None;
        }
        Some(10.0 * (self.signal / self.noise).log10())
    }
}

fn argmax(v: impl Iterator<Item = f32>) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, x) in v.enumerate() {
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

/// Dequantized values of an interpreter's output or tensor bytes.
fn values(bytes: &[u8], info: &mote_format::TensorInfo<'_>) -> Vec<f32> {
    match (info.dtype, info.quant) {
        (DType::I8, Some(q)) => bytes
            .iter()
            .map(|&b| (b as i8 as i32 - q.zero_point) as f32 * q.scale)
            .collect(),
        (DType::I8, None) => bytes.iter().map(|&b| b as i8 as f32).collect(),
        _ => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    }
}

/// Runs the float model and the quantized model side by side on the calibration set and
/// measures, per layer and per output, how closely int8 follows float.
///
/// # Errors
/// Internal errors only (the quantized graph already compiled once).
pub fn evaluate(cal: Calibrated, opts: &PtqOptions, copts: &CompileOptions) -> Result<Report> {
    let Calibrated {
        mut graph,
        float_model: fmodel,
        mut layers,
        outputs,
        output_layers,
    } = cal;
    let n = opts.samples.len();
    let n_out = outputs.len();
    // The int8 model with every quantized node output as a graph output too.
    let mut eval_index: Vec<Option<usize>> = vec![None; layers.len()];
    for (k, l) in layers.iter().enumerate() {
        if l.float_out.is_none() {
            continue;
        }
        eval_index[k] = Some(match graph.outputs.iter().position(|&o| o == l.q) {
            Some(j) => j,
            None => {
                graph.outputs.push(l.q);
                graph.outputs.len() - 1
            }
        });
    }
    qdq::lower(&mut graph)?;
    passes::optimize(&mut graph);
    qdq::check_integer_only(&graph, copts.allow_float)?;
    let eval_opts = CompileOptions {
        rounding: copts.rounding,
        allow_float: copts.allow_float,
        ..Default::default()
    };
    let qmodel = crate::emit(&graph, &eval_opts, "")?.bytes;
    let aligned = mote_format::AlignedBytes::from_slice(&qmodel);
    let qm = mote_runtime::Model::from_bytes(aligned.as_bytes())
        .map_err(|e| err(format!("internal: the quantized model does not load: {e}")))?;
    let mut qarena = mote_format::AlignedBytes::zeroed(qm.arena_len());
    let mut qit = mote_runtime::Interpreter::new(&qm, qarena.as_bytes_mut())
        .map_err(|e| err(format!("internal: {e}")))?;
    let input_params: Vec<Option<(f32, i32)>> = (0..graph.inputs.len())
        .map(|i| {
            qm.input(i)
                .ok()
                .filter(|t| t.dtype == DType::I8)
                .and_then(|t| t.quant)
                .map(|q| (q.scale, q.zero_point))
        })
        .collect();
    let internal = |e: mote_runtime::Error| err(format!("internal: {e}"));
    let mut sq = vec![Sqnr::default(); layers.len()];
    let mut out_sq = vec![Sqnr::default(); n_out];
    let mut agree = vec![0usize; n_out];
    report_progress(opts, "evaluating", 0, n);
    let feed =
        |k: usize| -> Vec<Vec<u8>> { opts.samples[k].iter().map(|v| f32_bytes(v)).collect() };
    run_all(&fmodel, n, feed, |k, fit| {
        // The quantized model on the same sample.
        for (i, x) in opts.samples[k].iter().enumerate() {
            let bytes = match input_params.get(i).copied().flatten() {
                Some((s, z)) => x.iter().map(|&v| quantize_value(v, s, z) as u8).collect(),
                None => f32_bytes(x),
            };
            qit.set_input(i, &bytes)
                .map_err(|e| err(format!("sample {k}, input {i}: {e}")))?;
        }
        qit.invoke()
            .map_err(|e| err(format!("sample {k}: the quantized model fails: {e}")))?;
        let q_values = |j: usize| -> Result<Vec<f32>> {
            let info = qm.output(j).map_err(internal)?;
            Ok(values(qit.output(j).map_err(internal)?, &info))
        };
        for (k2, l) in layers.iter().enumerate() {
            if let Some(i) = l.input {
                // Graph inputs: the quantization error of the samples themselves.
                let x = &opts.samples[k][i];
                let (s, z) = (l.report.scale, l.report.zero_point);
                sq[k2].add(
                    x,
                    x.iter()
                        .map(|&v| (quantize_value(v, s, z) as i32 - z) as f32 * s),
                );
            } else if let (Some(fj), Some(qj)) = (l.float_out, eval_index[k2]) {
                let x = fit.output_f32(fj).map_err(internal)?;
                sq[k2].add(x, q_values(qj)?.into_iter());
            }
        }
        for (o, lk) in output_layers.iter().enumerate() {
            let Some(fj) = lk.and_then(|lk| layers[lk].float_out) else {
                continue;
            };
            let x = fit.output_f32(fj).map_err(internal)?;
            let y = q_values(o)?;
            if argmax(x.iter().copied()) == argmax(y.iter().copied()) {
                agree[o] += 1;
            }
            out_sq[o].add(x, y.into_iter());
        }
        report_progress(opts, "evaluating", k + 1, n);
        Ok(())
    })?;
    for (l, s) in layers.iter_mut().zip(&sq) {
        l.report.sqnr_db = s.db();
    }
    let outputs = outputs
        .iter()
        .enumerate()
        .map(|(o, &t)| OutputReport {
            name: graph.tensors[t].name.clone(),
            sqnr_db: out_sq[o].db(),
            top1_agree: agree[o],
            top1_agreement: agree[o] as f64 / n.max(1) as f64,
        })
        .collect();
    Ok(Report {
        method: opts.method,
        percentile: (opts.method == CalibMethod::Percentile).then_some(opts.percentile),
        io: opts.io,
        samples: n,
        layers: layers.into_iter().map(|l| l.report).collect(),
        outputs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asymmetric_params_match_tflite() {
        // A Relu output [0, 6]: zero point -128, scale 6/255.
        let (s, z) = asymmetric_params(0.0, 6.0);
        assert_eq!(z, -128);
        assert!((s - 6.0 / 255.0).abs() < 1e-9);
        // Symmetric-ish range: 0 exact.
        let (s, z) = asymmetric_params(-1.0, 1.0);
        assert_eq!(z, 0);
        assert!((s - 2.0 / 255.0).abs() < 1e-9);
        let (s, z) = asymmetric_params(-3.0, 1.0);
        assert_eq!((0.0f32 / s).round() as i32 + z, z);
        assert!((-128..=127).contains(&z));
        // Ranges always include 0.
        let (_, z) = asymmetric_params(2.0, 5.0);
        assert_eq!(z, -128);
        // Degenerate range.
        assert_eq!(asymmetric_params(0.0, 0.0), (1.0, 0));
    }

    #[test]
    fn percentile_and_mse_clip_outliers() {
        let mut s = Stats::new();
        let mut v: Vec<f32> = (0..100_000).map(|i| (i % 1000) as f32 / 1000.0).collect();
        v.push(100.0);
        s.observe(&v);
        s.start_histogram();
        s.add_histogram(&v);
        assert_eq!(s.full(), (0.0, 100.0));
        let (lo, hi) = s.percentile(99.99);
        assert_eq!(lo, 0.0);
        assert!(hi < 1.1 && hi > 0.9, "{hi}");
        // Expected error with the range [0, c]: 10^5 values with rounding noise (c/255)²/12
        // each, plus the outlier clipped: (100 − c)². Least at c = 100 / (1 + 10^5/(12·255²)).
        let best = 100.0 / (1.0 + 1e5 / (12.0 * 255.0 * 255.0));
        let (lo, hi) = s.mse_range();
        assert_eq!(lo, 0.0);
        assert!((hi - best).abs() < 0.2, "{hi} vs {best}");
    }
}
