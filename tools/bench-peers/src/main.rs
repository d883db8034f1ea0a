//! `bench-peers`: mote beside ONNX Runtime, tract and LiteRT + XNNPACK on the same models, one
//! thread, batch 1, interleaved; prints the table of `docs/benchmarks.md`.
//!
//! ```text
//! bench-peers --gen DIR --mlperf DIR --python PY [--seconds S] [--per-op] [--only NAME]
//! ```
//!
//! Run by `scripts/bench-peers.sh`, which first makes every model file (`--gen`) and installs the
//! Python side. Why one process that holds every runtime: machine noise (other builds on a shared
//! two-core machine, frequency changes) must hit every runtime alike. For each model all runtimes
//! are loaded together, and each round runs one inference of each, in an order rotated by one
//! place every round (so no runtime always follows the same neighbour); the medians and the
//! per-round ratios mote / XNNPACK come from the same rounds. LiteRT runs in a Python process
//! (`litert_runner.py`) kept alive for the whole run and asked for one timed invoke at its turn.
//!
//! Timed region of each runtime: one inference call, inputs already in place (mote:
//! `Interpreter::invoke`; ONNX Runtime: `Session::run` on a prepared input tensor, output
//! allocation included as its API does it; tract: `SimpleState::run` on a cloned input;
//! LiteRT: `Interpreter.invoke()`, timed inside Python).
//!
//! Threads: one by default — ONNX Runtime intra-op and inter-op pools of 1; LiteRT
//! `num_threads=1`; mote without workers. `--threads N` gives mote a `ThreadPool` of N, ONNX
//! Runtime an intra-op pool of N and LiteRT `num_threads=N` (tract stays on one thread), and
//! each runtime's turn in a round is then three inferences of which the last is timed.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

/// One benchmark model and its files.
struct Spec {
    key: &'static str,
    label: &'static str,
    /// Float ONNX model (mote f32, ONNX Runtime f32, tract).
    onnx_f32: PathBuf,
    /// Its input name and fixed shape (batch 1).
    input: &'static str,
    shape: Vec<usize>,
    /// int8 ONNX QDQ model compiled by mote, with its input name.
    onnx_int8_mote: PathBuf,
    input_int8: &'static str,
    /// int8 QDQ model (uint8 activations) run by ONNX Runtime.
    onnx_int8_ort: PathBuf,
    tflite_f32: PathBuf,
    tflite_int8: PathBuf,
    /// Report throughput (GMAC/s) instead of latency.
    gmacs: bool,
}

fn specs(gen: &Path, mlperf: &Path) -> Vec<Spec> {
    let g = |n: &str| gen.join(n);
    let m = |n: &str| mlperf.join(n);
    let generated = |key: &'static str, label: &'static str, shape: Vec<usize>, gmacs: bool| Spec {
        key,
        label,
        onnx_f32: g(&format!("{key}.onnx")),
        input: "input",
        shape,
        onnx_int8_mote: g(&format!("{key}_qdq_s8.onnx")),
        input_int8: "input",
        onnx_int8_ort: g(&format!("{key}_qdq_u8.onnx")),
        tflite_f32: g(&format!("{key}_f32.tflite")),
        tflite_int8: g(&format!("{key}_int8.tflite")),
        gmacs,
    };
    let mlperf_tiny =
        |key: &'static str, label: &'static str, float: &str, int8: &str, hw: usize| Spec {
            key,
            label,
            onnx_f32: m(&format!("{float}.onnx")),
            input: "input_1",
            shape: vec![1, hw, hw, 3],
            onnx_int8_mote: m(&format!("{int8}.onnx")),
            input_int8: "input_1_int8",
            onnx_int8_ort: g(&format!("{float}_qdq_u8.onnx")),
            tflite_f32: m(&format!("{float}.tflite")),
            tflite_int8: m(&format!("{int8}.tflite")),
            gmacs: false,
        };
    vec![
        generated(
            "mobilenet_v2",
            "MobileNetV2 1.0, 224",
            vec![1, 3, 224, 224],
            false,
        ),
        generated(
            "resnext50",
            "ResNeXt-50 32x4d, 224",
            vec![1, 3, 224, 224],
            false,
        ),
        generated(
            "resnext29",
            "ResNeXt-29 8x16d, 32",
            vec![1, 3, 32, 32],
            false,
        ),
        mlperf_tiny("vww", "MLPerf Tiny VWW", "vww_96_float", "vww_96_int8", 96),
        mlperf_tiny(
            "resnet8",
            "MLPerf Tiny ResNet-8",
            "pretrainedResnet",
            "pretrainedResnet_quant",
            32,
        ),
        generated(
            "grouped_conv",
            "one grouped 3×3 layer, 4 channels per group (56×56×128, 32 groups)",
            vec![1, 128, 56, 56],
            true,
        ),
    ]
}

/// The columns, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    MoteInt8,
    /// mote int8 compiled with `--rounding float` (XNNPACK's and ONNX Runtime's requantization).
    MoteInt8Float,
    XnnInt8,
    MoteF32,
    XnnF32,
    OrtInt8,
    OrtF32,
    TractF32,
}

const COLS: [Col; 8] = [
    Col::MoteInt8,
    Col::MoteInt8Float,
    Col::XnnInt8,
    Col::MoteF32,
    Col::XnnF32,
    Col::OrtInt8,
    Col::OrtF32,
    Col::TractF32,
];

// ------------------------------------------------------------------------------------------ mote

/// `mote compile` in-process (the compiler call and options of the CLI, without its printing),
/// also written to `out` for `mote bench` / `mote inspect`. For the `int8` models:
/// `allow_float` (ONNX Runtime's quantizer leaves the classifier Gemm of the generated models in
/// float, and mote then runs that one layer in float32, under 1 % of the MACs, instead of
/// refusing the model), and int8 inputs and outputs (`mote compile --io int8`), as the int8
/// `.tflite` files LiteRT runs have (`inference_input_type = tf.int8` in tflite_models.py):
/// neither side then times a float quantization of the input or a dequantization of the output.
fn mote_compile(
    onnx: &Path,
    input: &str,
    shape: &[usize],
    out: &Path,
    int8: bool,
    rounding: mote_compiler::layout::QuantRounding,
) -> Result<Vec<u8>> {
    let bytes = std::fs::read(onnx).with_context(|| format!("cannot read {}", onnx.display()))?;
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(input.to_string(), shape.to_vec())],
        rounding,
        allow_float: int8,
        int8_io: int8,
        ..Default::default()
    };
    let compiled = mote_compiler::compile(&bytes, &opts)
        .map_err(|e| anyhow!("mote cannot compile {}: {e}", onnx.display()))?;
    std::fs::write(out, &compiled.bytes)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(compiled.bytes)
}

fn fail(e: mote_cli::Failure) -> anyhow::Error {
    anyhow!("{e}")
}

/// Random inputs for a compiled model (the `mote bench` defaults: seed 0).
fn mote_inputs(m: &mote_runtime::Model<'_>) -> Result<Vec<Vec<u8>>> {
    let ports = mote_cli::model::inputs(m).map_err(fail)?;
    Ok(ports
        .iter()
        .enumerate()
        .map(|(k, p)| mote_cli::rng::random_input(p, 0, k))
        .collect())
}

// -------------------------------------------------------------------------------------- LiteRT

struct Litert {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Litert {
    fn start(python: &Path, script: &Path, threads: u16) -> Result<Self> {
        let mut child = Command::new(python)
            .arg(script)
            .arg("--threads")
            .arg(threads.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {} {}", python.display(), script.display()))?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        Ok(Litert {
            child,
            stdin,
            stdout,
        })
    }

    fn ask(&mut self, line: &str) -> Result<String> {
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()?;
        let mut reply = String::new();
        if self.stdout.read_line(&mut reply)? == 0 {
            bail!("the LiteRT runner exited (request: {line})");
        }
        let reply = reply.trim().to_string();
        if reply.starts_with("error") {
            bail!("LiteRT: {reply} (request: {line})");
        }
        Ok(reply)
    }

    /// Loads a model; returns (XNNPACK partitions, ops).
    fn load(&mut self, key: &str, path: &Path) -> Result<(usize, usize)> {
        let r = self.ask(&format!("load {key} {}", path.display()))?;
        let mut it = r.split_whitespace().skip(1).map(|s| s.parse::<usize>());
        match (it.next(), it.next()) {
            (Some(Ok(p)), Some(Ok(n))) => Ok((p, n)),
            _ => bail!("LiteRT: unexpected reply '{r}'"),
        }
    }

    fn run(&mut self, key: &str) -> Result<f64> {
        let r = self.ask(&format!("run {key}"))?;
        r.strip_prefix("ms ")
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(|| anyhow!("LiteRT: unexpected reply '{r}'"))
    }
}

impl Drop for Litert {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------- ORT

fn ort_environment(lib: &Path) -> Result<ort::environment::Environment> {
    let b = ort::init_from(lib)
        .map_err(|e| anyhow!("cannot load ONNX Runtime from {}: {e}", lib.display()))?;
    b.with_name("bench-peers")
        .build()
        .map_err(|e| anyhow!("cannot start ONNX Runtime: {e}"))
}

fn ort_session(
    env: &ort::environment::Environment,
    path: &Path,
    threads: u16,
) -> Result<ort::session::Session> {
    use ort::session::builder::GraphOptimizationLevel;
    let p = path.display();
    ort::session::Session::builder(env)
        .map_err(|e| anyhow!("ONNX Runtime, {p}: {e}"))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| anyhow!("ONNX Runtime, {p}: {e}"))?
        .with_intra_threads(usize::from(threads))
        .map_err(|e| anyhow!("ONNX Runtime, {p}: {e}"))?
        .with_inter_threads(1)
        .map_err(|e| anyhow!("ONNX Runtime, {p}: {e}"))?
        .commit_from_file(path)
        .map_err(|e| anyhow!("ONNX Runtime, {p}: {e}"))
}

/// A random input tensor for the session's only input (float, int8 or uint8).
fn ort_input(
    session: &ort::session::Session,
    shape: &[usize],
) -> Result<(String, ort::value::DynValue)> {
    let input = session.inputs().first().context("the model has no input")?;
    let name = input.name().to_string();
    let n: usize = shape.iter().product();
    let mut rng = mote_cli::rng::SplitMix64::new(7);
    let s = shape.to_vec();
    let dtype = format!("{:?}", input.dtype());
    let v: ort::value::DynValue = if dtype.contains("Int8") && !dtype.contains("Uint8") {
        let d: Vec<i8> = (0..n).map(|_| rng.next_u64() as i8).collect();
        ort::value::Tensor::from_array((s, d))?.into_dyn()
    } else if dtype.contains("Uint8") {
        let d: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
        ort::value::Tensor::from_array((s, d))?.into_dyn()
    } else {
        let d: Vec<f32> = (0..n).map(|_| rng.normal()).collect();
        ort::value::Tensor::from_array((s, d))?.into_dyn()
    };
    Ok((name, v))
}

// -------------------------------------------------------------------------------------- tract

type TractPlan = std::sync::Arc<tract_onnx::prelude::TypedRunnableModel>;

fn tract_plan(path: &Path, shape: &[usize]) -> Result<TractPlan> {
    use tract_onnx::prelude::*;
    let plan = tract_onnx::onnx()
        .model_for_path(path)
        .map_err(|e| anyhow!("tract, {}: {e:?}", path.display()))?
        .with_input_fact(0, f32::fact(shape).into())
        .map_err(|e| anyhow!("tract: {e:?}"))?
        .into_optimized()
        .map_err(|e| anyhow!("tract, {}: {e:?}", path.display()))?
        .into_runnable()
        .map_err(|e| anyhow!("tract: {e:?}"))?;
    Ok(plan)
}

// ----------------------------------------------------------------------------------- statistics

fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Median over rounds of a / b (paired: both from the same round).
fn paired_ratio(a: &[f64], b: &[f64]) -> f64 {
    let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    median(&r)
}

struct Row {
    label: String,
    macs: u64,
    gmacs: bool,
    rounds: usize,
    med: Vec<(Col, f64)>,
    ratio_int8: f64,
    ratio_int8_float: f64,
    ratio_f32: f64,
    notes: Vec<String>,
}

impl Row {
    fn get(&self, c: Col) -> f64 {
        self.med
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, v)| *v)
            .unwrap_or(f64::NAN)
    }
    fn cell(&self, c: Col) -> String {
        let ms = self.get(c);
        if !ms.is_finite() {
            return "—".to_string();
        }
        if self.gmacs {
            format!("{:.1} GMAC/s ({})", self.macs as f64 / ms / 1e6, fmt_ms(ms))
        } else {
            fmt_ms(ms)
        }
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn fmt_macs(m: u64) -> String {
    if m >= 1_000_000_000 {
        format!("{:.2} G", m as f64 / 1e9)
    } else {
        format!("{:.1} M", m as f64 / 1e6)
    }
}

// ------------------------------------------------------------------------------------- one model

struct Options {
    gen: PathBuf,
    seconds: f64,
    min_rounds: usize,
    max_rounds: usize,
    per_op: bool,
    threads: u16,
}

#[allow(clippy::too_many_lines)]
fn bench_model(
    spec: &Spec,
    opt: &Options,
    env: &ort::environment::Environment,
    litert: &mut Litert,
    per_op_out: &mut Vec<String>,
    pool: &mote_runtime::ThreadPool,
) -> Result<Row> {
    let mut notes = Vec::new();
    // mote: compile both variants with the current compiler.
    let mote_f32 = opt.gen.join(format!("{}_f32.mote", spec.key));
    let mote_int8 = opt.gen.join(format!("{}_int8.mote", spec.key));
    let mote_int8_float = opt.gen.join(format!("{}_int8_float.mote", spec.key));
    use mote_compiler::layout::QuantRounding;
    let bytes_f32 = mote_compile(
        &spec.onnx_f32,
        spec.input,
        &spec.shape,
        &mote_f32,
        false,
        QuantRounding::LiteRtReference,
    )?;
    let bytes_int8 = mote_compile(
        &spec.onnx_int8_mote,
        spec.input_int8,
        &spec.shape,
        &mote_int8,
        true,
        QuantRounding::LiteRtReference,
    )?;
    let bytes_int8_float = mote_compile(
        &spec.onnx_int8_mote,
        spec.input_int8,
        &spec.shape,
        &mote_int8_float,
        true,
        QuantRounding::Float,
    )?;
    let file_f32 =
        mote_cli::model::ModelFile::from_bytes(&bytes_f32, mote_f32.display().to_string());
    let file_int8 =
        mote_cli::model::ModelFile::from_bytes(&bytes_int8, mote_int8.display().to_string());
    let m_f32 = file_f32.model().map_err(fail)?;
    let m_int8 = file_int8.model().map_err(fail)?;
    let file_int8_float = mote_cli::model::ModelFile::from_bytes(
        &bytes_int8_float,
        mote_int8_float.display().to_string(),
    );
    let m_int8_float = file_int8_float.model().map_err(fail)?;
    let in_int8_float = mote_inputs(&m_int8_float)?;
    let mut arena_int8_float = mote_cli::model::arena(&m_int8_float);
    let mut it_int8_float =
        mote_cli::model::bind(&m_int8_float, &mut arena_int8_float, &in_int8_float)
            .map_err(fail)?
            .with_workers(pool);
    let macs = mote_compiler::inspect::report(m_f32.file()).macs;
    let in_f32 = mote_inputs(&m_f32)?;
    let in_int8 = mote_inputs(&m_int8)?;
    let mut arena_f32 = mote_cli::model::arena(&m_f32);
    let mut arena_int8 = mote_cli::model::arena(&m_int8);
    let mut it_f32 = mote_cli::model::bind(&m_f32, &mut arena_f32, &in_f32)
        .map_err(fail)?
        .with_workers(pool);
    let mut it_int8 = mote_cli::model::bind(&m_int8, &mut arena_int8, &in_int8)
        .map_err(fail)?
        .with_workers(pool);

    // ONNX Runtime.
    let mut ort_f32 = ort_session(env, &spec.onnx_f32, opt.threads)?;
    let mut ort_int8 = ort_session(env, &spec.onnx_int8_ort, opt.threads)?;
    let (ort_f32_name, ort_f32_in) = ort_input(&ort_f32, &spec.shape)?;
    let (ort_int8_name, ort_int8_in) = ort_input(&ort_int8, &spec.shape)?;

    // tract (float only: its int8 QDQ path is not trusted, see docs/benchmarks.md).
    let tract = tract_plan(&spec.onnx_f32, &spec.shape)?;
    let mut tract_state = tract.spawn().map_err(|e| anyhow!("tract: {e:?}"))?;
    let tract_input: tract_onnx::prelude::Tensor = {
        let n: usize = spec.shape.iter().product();
        let d = mote_cli::rng::normal_f32(n, 7);
        tract_onnx::prelude::Tensor::from_shape(&spec.shape, &d)
            .map_err(|e| anyhow!("tract input: {e:?}"))?
    };

    // LiteRT.
    let k_f32 = format!("{}_f32", spec.key);
    let k_int8 = format!("{}_int8", spec.key);
    let (p_f32, n_f32) = litert.load(&k_f32, &spec.tflite_f32)?;
    let (p_int8, n_int8) = litert.load(&k_int8, &spec.tflite_int8)?;
    notes.push(format!(
        "XNNPACK partitions: f32 {p_f32} for {n_f32} ops, int8 {p_int8} for {n_int8} ops"
    ));

    let mut run_one = |c: Col| -> Result<f64> {
        match c {
            Col::MoteInt8 | Col::MoteInt8Float | Col::MoteF32 => {
                let (it, inputs) = match c {
                    Col::MoteInt8 => (&mut it_int8, &in_int8),
                    Col::MoteInt8Float => (&mut it_int8_float, &in_int8_float),
                    _ => (&mut it_f32, &in_f32),
                };
                for (i, b) in inputs.iter().enumerate() {
                    it.set_input(i, b)
                        .map_err(|e| anyhow!("mote input: {e:?}"))?;
                }
                let t = Instant::now();
                it.invoke().map_err(|e| anyhow!("mote: {e:?}"))?;
                Ok(t.elapsed().as_secs_f64() * 1e3)
            }
            Col::OrtF32 | Col::OrtInt8 => {
                let (s, name, v) = if c == Col::OrtInt8 {
                    (&mut ort_int8, &ort_int8_name, &ort_int8_in)
                } else {
                    (&mut ort_f32, &ort_f32_name, &ort_f32_in)
                };
                let t = Instant::now();
                let out = s
                    .run(ort::inputs![name.as_str() => v.view()])
                    .map_err(|e| anyhow!("ONNX Runtime: {e}"))?;
                let ms = t.elapsed().as_secs_f64() * 1e3;
                drop(out);
                Ok(ms)
            }
            Col::TractF32 => {
                let input = tract_input.clone().into();
                let t = Instant::now();
                let out = tract_state
                    .run(std::iter::once(input).collect())
                    .map_err(|e| anyhow!("tract: {e:?}"))?;
                let ms = t.elapsed().as_secs_f64() * 1e3;
                drop(out);
                Ok(ms)
            }
            Col::XnnF32 => litert.run(&k_f32),
            Col::XnnInt8 => litert.run(&k_int8),
        }
    };

    // Warm-up: two untimed rounds; the second gives the round time.
    let mut round_ms = 0.0;
    for _ in 0..2 {
        let t = Instant::now();
        for &c in &COLS {
            run_one(c)?;
        }
        round_ms = t.elapsed().as_secs_f64() * 1e3;
    }
    let rounds =
        ((opt.seconds * 1e3 / round_ms.max(1e-3)) as usize).clamp(opt.min_rounds, opt.max_rounds);
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); COLS.len()];
    // With several threads, each turn runs three inferences and keeps the last: the threads of
    // the runtime before (XNNPACK's and ONNX Runtime's pools spin for a while after an
    // inference) are then no longer competing for the cores.
    let per_turn = if opt.threads > 1 { 3 } else { 1 };
    for r in 0..rounds {
        for k in 0..COLS.len() {
            let j = (k + r) % COLS.len();
            let mut ms = 0.0;
            for _ in 0..per_turn {
                ms = run_one(COLS[j])?;
            }
            times[j].push(ms);
        }
    }
    let idx = |c: Col| COLS.iter().position(|&x| x == c).unwrap_or(0);
    let med: Vec<(Col, f64)> = COLS.iter().map(|&c| (c, median(&times[idx(c)]))).collect();
    let ratio_int8 = paired_ratio(&times[idx(Col::MoteInt8)], &times[idx(Col::XnnInt8)]);
    let ratio_int8_float = paired_ratio(&times[idx(Col::MoteInt8Float)], &times[idx(Col::XnnInt8)]);
    let ratio_f32 = paired_ratio(&times[idx(Col::MoteF32)], &times[idx(Col::XnnF32)]);
    litert.ask(&format!("drop {k_f32}"))?;
    litert.ask(&format!("drop {k_int8}"))?;

    if opt.per_op {
        for (variant, m, inputs) in [
            ("int8", &m_int8, &in_int8),
            ("int8, `--rounding float`", &m_int8_float, &in_int8_float),
            ("f32", &m_f32, &in_f32),
        ] {
            let iters = ((opt.seconds * 1e3 / 4.0 / (round_ms / 4.0)) as u32).clamp(5, 200);
            let r = mote_cli::commands::bench::bench(m, inputs, iters, 2, true, spec.key, opt.threads)
                .map_err(fail)?;
            per_op_out.extend(per_op_summary(spec.label, variant, m, &r));
        }
    }

    Ok(Row {
        label: spec.label.to_string(),
        macs,
        gmacs: spec.gmacs,
        rounds,
        med,
        ratio_int8,
        ratio_int8_float,
        ratio_f32,
        notes,
    })
}

// ---------------------------------------------------------------------------------- per-op kinds

/// The layer kind of a convolution from its weight shape `[out, kh, kw, in / groups]` and input
/// shape (NHWC: channels last).
fn conv_kind(inputs: &[Vec<u32>]) -> Option<&'static str> {
    let w = inputs.get(1)?;
    let x = inputs.first()?;
    let (kh, kw, cig) = (*w.get(1)?, *w.get(2)?, *w.get(3)?);
    let cin = *x.last()?;
    let groups = cin.checked_div(cig)?;
    Some(match (kh, kw) {
        (1, 1) if groups == 1 => "1×1 conv",
        _ if cig == 1 && groups > 1 => "depthwise",
        _ if groups > 1 => "grouped conv",
        (3, 3) => "dense 3×3 conv",
        _ => "other dense conv",
    })
}

fn per_op_summary(
    label: &str,
    variant: &str,
    m: &mote_runtime::Model<'_>,
    r: &mote_cli::commands::bench::BenchResult,
) -> Vec<String> {
    let report = mote_compiler::inspect::report(m.file());
    let Some(ops) = &r.ops else { return Vec::new() };
    // kind -> (ms, macs, best single layer GMAC/s, its name)
    let mut kinds: Vec<(&'static str, f64, u64, f64, String)> = Vec::new();
    let total_ms: f64 = ops.iter().map(|o| o.ms).sum();
    for o in ops {
        let Some(row) = report.ops.get(o.index) else {
            continue;
        };
        let kind = if o.op.starts_with("Conv2d") {
            conv_kind(&row.inputs).unwrap_or("other conv")
        } else if o.op.starts_with("FullyConnected") {
            "fully connected"
        } else {
            continue;
        };
        // The best rate among the kind's layers of at least a tenth of its longest layer's time
        // (shorter ones are timed too coarsely). An absolute 0.01 ms let only a
        // kind's first layer in on the MLPerf Tiny models, so their column showed that layer.
        match kinds.iter_mut().find(|k| k.0 == kind) {
            Some(k) => {
                k.1 += o.ms;
                k.2 += o.macs;
            }
            None => kinds.push((kind, o.ms, o.macs, 0.0, String::new())),
        }
    }
    for k in kinds.iter_mut() {
        let of_kind = |o: &&mote_cli::commands::bench::OpTime| {
            let kind = if o.op.starts_with("Conv2d") {
                report
                    .ops
                    .get(o.index)
                    .and_then(|row| conv_kind(&row.inputs))
                    .unwrap_or("other conv")
            } else {
                "fully connected"
            };
            kind == k.0 && (o.op.starts_with("Conv2d") || o.op.starts_with("FullyConnected"))
        };
        let longest = ops.iter().filter(of_kind).map(|o| o.ms).fold(0.0, f64::max);
        if let Some(o) = ops
            .iter()
            .filter(of_kind)
            .filter(|o| o.ms >= 0.1 * longest)
            .max_by(|a, b| a.gmacs.total_cmp(&b.gmacs))
        {
            k.3 = o.gmacs;
            k.4 = o.name.clone();
        }
    }
    kinds.sort_by(|a, b| b.1.total_cmp(&a.1));
    kinds
        .iter()
        .take(3)
        .map(|(kind, ms, macs, best, name)| {
            format!(
                "| {label} | {variant} | {kind} | {:.0} % | {:.1} | {:.1} (`{name}`) |",
                ms / total_ms * 100.0,
                *macs as f64 / ms / 1e6,
                best
            )
        })
        .collect()
}

// ------------------------------------------------------------------------------------------ main

struct Args {
    gen: PathBuf,
    mlperf: PathBuf,
    python: PathBuf,
    runner: PathBuf,
    ort_lib: PathBuf,
    seconds: f64,
    per_op: bool,
    only: Vec<String>,
    threads: u16,
}

fn parse_args() -> Result<Args> {
    let mut a = std::env::args().skip(1);
    let mut gen = None;
    let mut mlperf = None;
    let mut python = None;
    let mut runner = None;
    let mut ort_lib = None;
    let mut seconds = 20.0;
    let mut per_op = false;
    let mut only = Vec::new();
    let mut threads = 1u16;
    while let Some(k) = a.next() {
        let mut v = || a.next().ok_or_else(|| anyhow!("{k} needs a value"));
        match k.as_str() {
            "--gen" => gen = Some(PathBuf::from(v()?)),
            "--mlperf" => mlperf = Some(PathBuf::from(v()?)),
            "--python" => python = Some(PathBuf::from(v()?)),
            "--litert-runner" => runner = Some(PathBuf::from(v()?)),
            "--ort-lib" => ort_lib = Some(PathBuf::from(v()?)),
            "--seconds" => seconds = v()?.parse().context("--seconds")?,
            "--per-op" => per_op = true,
            "--only" => only.push(v()?),
            "--threads" => {
                threads = v()?.parse().context("--threads")?;
                if !(1..=16).contains(&threads) {
                    bail!("--threads: 1 to 16");
                }
            }
            _ => bail!("unknown argument {k}"),
        }
    }
    let need = |o: Option<PathBuf>, n: &str| o.ok_or_else(|| anyhow!("{n} is required"));
    Ok(Args {
        gen: need(gen, "--gen")?,
        mlperf: need(mlperf, "--mlperf")?,
        python: need(python, "--python")?,
        runner: need(runner, "--litert-runner")?,
        ort_lib: need(ort_lib, "--ort-lib")?,
        seconds,
        per_op,
        only,
        threads,
    })
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let env = ort_environment(&args.ort_lib)?;
    let mut litert = Litert::start(&args.python, &args.runner, args.threads)?;
    // One pool for every model, made on this thread, which runs the inferences: it is a member.
    let pool = mote_runtime::ThreadPool::new(usize::from(args.threads))
        .map_err(|e| anyhow!("cannot start {} threads: {e}", args.threads))?;
    let opt = Options {
        gen: args.gen.clone(),
        seconds: args.seconds,
        min_rounds: 10,
        max_rounds: 300,
        per_op: args.per_op,
        threads: args.threads,
    };
    let mut rows = Vec::new();
    let mut per_op = Vec::new();
    for spec in specs(&args.gen, &args.mlperf) {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == spec.key) {
            continue;
        }
        eprintln!("bench-peers: {} ...", spec.label);
        let row = bench_model(&spec, &opt, &env, &mut litert, &mut per_op, &pool)
            .with_context(|| spec.label.to_string())?;
        eprintln!(
            "bench-peers: {}: {} rounds, mote/XNNPACK int8 {:.2} (float rounding {:.2}), f32 {:.2}",
            spec.label, row.rounds, row.ratio_int8, row.ratio_int8_float, row.ratio_f32
        );
        rows.push(row);
    }

    println!("| model (MACs) | mote int8 | XNNPACK int8 | **mote / XNNPACK int8** | mote int8, `--rounding float` | **its ratio** | mote f32 | XNNPACK f32 | **mote / XNNPACK f32** | ONNX Runtime int8 (u8 acts) / f32 | tract f32 | rounds |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} ({}) | {} | {} | **{:.2}** | {} | **{:.2}** | {} | {} | **{:.2}** | {} / {} | {} | {} |",
            r.label,
            fmt_macs(r.macs),
            r.cell(Col::MoteInt8),
            r.cell(Col::XnnInt8),
            r.ratio_int8,
            r.cell(Col::MoteInt8Float),
            r.ratio_int8_float,
            r.cell(Col::MoteF32),
            r.cell(Col::XnnF32),
            r.ratio_f32,
            r.cell(Col::OrtInt8),
            r.cell(Col::OrtF32),
            r.cell(Col::TractF32),
            r.rounds
        );
    }
    println!();
    for r in &rows {
        for n in &r.notes {
            println!("- {}: {n}", r.label);
        }
    }
    if !per_op.is_empty() {
        println!();
        println!(
            "mote per layer kind (`mote bench --per-op`, the three costliest kinds per model):"
        );
        println!();
        println!("| model | mote | layer kind | share of time | GMAC/s (all layers of the kind) | best single layer GMAC/s |");
        println!("|---|---|---|---|---|---|");
        for l in &per_op {
            println!("{l}");
        }
    }
    Ok(())
}
