//! `mote bench`: latency over many invocations, optionally per op.

use crate::args::BenchArgs;
use crate::error::{Classify, ExitKind, Result};
use crate::model::{self, ModelFile};
use crate::npy::shape_str;
use crate::util::{group, median, table};
use serde::Serialize;
use std::time::{Duration, Instant};

/// A [`mote_runtime::Profiler`] that sums each op's wall-clock time with `std::time::Instant`.
#[derive(Clone, Debug)]
pub struct OpTimer {
    start: Option<Instant>,
    /// Total time per op index.
    pub totals: Vec<Duration>,
}

impl OpTimer {
    /// A timer for `ops` ops.
    pub fn new(ops: usize) -> Self {
        OpTimer {
            start: None,
            totals: vec![Duration::ZERO; ops],
        }
    }
}

impl mote_runtime::Profiler for OpTimer {
    fn op_start(&mut self, _index: usize) {
        self.start = Some(Instant::now());
    }
    fn op_end(&mut self, index: usize) {
        if let (Some(s), Some(t)) = (self.start.take(), self.totals.get_mut(index)) {
            *t += s.elapsed();
        }
    }
}

/// One row of the per-op table.
#[derive(Clone, Debug, Serialize)]
pub struct OpTime {
    /// Op index (execution order).
    pub index: usize,
    /// Op kind.
    pub op: String,
    /// Node name.
    pub name: String,
    /// Output shape.
    pub output: Vec<u32>,
    /// Mean time per invocation, ms.
    pub ms: f64,
    /// Share of the summed op time, percent.
    pub share_pct: f64,
    /// Multiply-accumulates.
    pub macs: u64,
    /// GMAC/s achieved (0 for ops without MACs).
    pub gmacs: f64,
}

/// Latency statistics.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// Model file.
    pub model: String,
    /// Timed invocations.
    pub iters: u32,
    /// Untimed invocations before.
    pub warmup: u32,
    /// Median latency, ms.
    pub median_ms: f64,
    /// Fastest, ms.
    pub min_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Mean, ms.
    pub mean_ms: f64,
    /// Total MACs per invocation.
    pub macs: u64,
    /// Arena bytes.
    pub arena_bytes: usize,
    /// The instruction set the kernels used (`avx512_vnni`, `neon_dotprod`, `reference`...).
    pub isa: &'static str,
    /// Threads the convolutions ran on (`--threads`).
    pub threads: u16,
    /// Per-op times (with `--per-op`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ops: Option<Vec<OpTime>>,
}

/// Benchmarks a validated model on `threads` threads (see [`model::pool`]).
///
/// # Errors
/// Exit 4 for bad inputs, exit 3 if inference fails or the threads do not start.
#[allow(clippy::too_many_arguments)]
pub fn bench(
    m: &mote_runtime::Model<'_>,
    inputs: &[Vec<u8>],
    iters: u32,
    warmup: u32,
    per_op: bool,
    origin: &str,
    threads: u16,
) -> Result<BenchResult> {
    let pool = model::pool(threads)?;
    let mut arena = model::arena(m);
    let mut interp = model::bind(m, &mut arena, inputs)?.with_workers(&pool);
    // The arena space of the inputs is reused during a run: write them before every invoke
    // (outside the timed region).
    let refill = |interp: &mut mote_runtime::Interpreter<'_, '_>| -> Result<()> {
        for (i, b) in inputs.iter().enumerate() {
            interp.set_input(i, b).or_fail(ExitKind::Input, "input")?;
        }
        Ok(())
    };
    for _ in 0..warmup {
        refill(&mut interp)?;
        interp
            .invoke()
            .or_fail(ExitKind::Model, "inference failed")?;
    }
    let mut times = Vec::with_capacity(iters as usize);
    let n_ops = m.file().op_count();
    let mut timer = OpTimer::new(n_ops);
    for _ in 0..iters {
        refill(&mut interp)?;
        let t = Instant::now();
        if per_op {
            interp
                .invoke_profiled(&mut timer)
                .or_fail(ExitKind::Model, "inference failed")?;
        } else {
            interp
                .invoke()
                .or_fail(ExitKind::Model, "inference failed")?;
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let report = mote_compiler::inspect::report(m.file());
    let ops = per_op.then(|| {
        let total: f64 = timer.totals.iter().map(|d| d.as_secs_f64()).sum();
        let mut rows: Vec<OpTime> = report
            .ops
            .iter()
            .map(|o| {
                let secs = timer
                    .totals
                    .get(o.index)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0)
                    / iters as f64;
                OpTime {
                    index: o.index,
                    op: o.op.clone(),
                    name: o.name.clone(),
                    output: o.output.clone(),
                    ms: secs * 1e3,
                    share_pct: if total > 0.0 {
                        secs * iters as f64 / total * 100.0
                    } else {
                        0.0
                    },
                    macs: o.macs,
                    gmacs: if secs > 0.0 {
                        o.macs as f64 / secs / 1e9
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        rows.sort_by(|a, b| b.ms.total_cmp(&a.ms).then(a.index.cmp(&b.index)));
        rows
    });
    Ok(BenchResult {
        model: origin.to_string(),
        iters,
        warmup,
        median_ms: median(&times),
        min_ms: times.iter().copied().fold(f64::INFINITY, f64::min),
        max_ms: times.iter().copied().fold(0.0, f64::max),
        mean_ms: times.iter().sum::<f64>() / times.len().max(1) as f64,
        macs: report.macs,
        arena_bytes: report.arena_bytes,
        isa: mote_runtime::dispatch::best().name(),
        threads,
        ops,
    })
}

/// Runs `mote bench`.
///
/// # Errors
/// See the crate documentation for exit codes.
pub fn run(a: &BenchArgs) -> Result<()> {
    if let Some(isa) = a.isa {
        if !isa.supported_by_host() {
            return Err(crate::error::Failure::new(
                ExitKind::Usage,
                format!("--isa {}: this CPU does not support it", isa.name()),
            ));
        }
        // Before the model loads: kernels that pack weights at load pack them for this choice.
        mote_runtime::dispatch::set_limit(isa);
    }
    let file = ModelFile::read(&a.model)?;
    let m = file.model()?;
    let ports = model::inputs(&m)?;
    let inputs = if a.inputs.is_empty() {
        ports
            .iter()
            .enumerate()
            .map(|(k, p)| crate::rng::random_input(p, 0, k))
            .collect()
    } else {
        crate::commands::run::read_inputs(&ports, &a.inputs)?
    };
    let r = bench(
        &m,
        &inputs,
        a.iters,
        a.warmup,
        a.per_op,
        &file.origin,
        a.threads,
    )?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&r).or_fail(ExitKind::Model, "json")?
        );
        return Ok(());
    }
    println!(
        "{}: median {:.3} ms, min {:.3} ms, max {:.3} ms over {} iterations ({} warm-up); {} MACs, arena {} bytes, kernels {}{}",
        r.model,
        r.median_ms,
        r.min_ms,
        r.max_ms,
        r.iters,
        r.warmup,
        group(r.macs),
        group(r.arena_bytes as u64),
        r.isa,
        if r.threads > 1 {
            format!(", {} threads", r.threads)
        } else {
            String::new()
        }
    );
    if let Some(ops) = &r.ops {
        let rows: Vec<Vec<String>> = ops
            .iter()
            .map(|o| {
                vec![
                    o.index.to_string(),
                    o.op.clone(),
                    o.name.clone(),
                    shape_str(&o.output),
                    format!("{:.4}", o.ms),
                    format!("{:.1}", o.share_pct),
                    group(o.macs),
                    if o.macs > 0 {
                        format!("{:.2}", o.gmacs)
                    } else {
                        "-".into()
                    },
                ]
            })
            .collect();
        print!(
            "{}",
            table(
                &["#", "op", "name", "output", "time ms", "share %", "MACs", "GMAC/s"],
                &rows,
                &[true, false, false, false, true, true, true, true]
            )
        );
    }
    Ok(())
}
