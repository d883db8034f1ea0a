//! mote's compiler: ONNX in, `.mote` out.
//!
//! The pipeline, each stage a module: [`qoperator`] (ONNX Runtime's QOperator nodes rewritten
//! into QDQ form) → [`import`] (parse, fix shapes, fold constants, lower to the IR) → [`passes`] (fold BatchNorm, fuse activations, recognise HardSwish) → with
//! `--quantize`, [`ptq`] (calibrate, rewrite into QDQ form) → [`qdq`] (QDQ islands become int8
//! ops) → with `--io int8`, [`int8_io`] (no quantize at the inputs, no dequantize at the
//! outputs) → [`layout`] (NCHW →
//! the kernels' NHWC, free transposes) → [`requant_pairs`] (Dequantize → Quantize pairs that
//! the free transposes left) → [`plan`] (arena offsets) → write the file with
//! `mote_format::ModelBuilder`. [`inspect`] reads a compiled file back for `mote inspect`.

pub mod error;
pub mod fold;
pub mod import;
pub mod inspect;
pub mod int8_io;
pub mod ir;
pub mod layout;
pub mod passes;
pub mod plan;
pub mod ptq;
pub mod qdq;
pub mod qoperator;
pub mod requant_pairs;

pub use error::{CompileError, Result};
pub use mote_onnx::Tensor;

use mote_format::{ModelBuilder, Storage};

/// What to compile and how.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// Fixed shapes for graph inputs (`--input-shape NAME=1,3,224,224`).
    pub input_shapes: Vec<(String, Vec<usize>)>,
    /// Graph inputs to bake in as constants (their values).
    pub freeze: Vec<(String, Tensor)>,
    /// Metadata entries to record (model name, labels, image pre-processing).
    pub metadata: Vec<(String, String)>,
    /// Rounding of int8 requantization.
    pub rounding: layout::QuantRounding,
    /// In a quantized model, run what cannot be lowered to int8 in float32 instead of failing.
    pub allow_float: bool,
    /// Store every tensor's name (for layer-by-layer comparison with other runtimes); by default
    /// only graph inputs and outputs keep theirs.
    pub keep_names: bool,
    /// Post-training quantization of a float model to int8 (`--quantize int8`): calibration
    /// data and settings; see [`ptq`].
    pub quantize: Option<ptq::PtqOptions>,
    /// Store float layers' weights as float32 even where the source model has them as int8
    /// (tf2onnx hybrid models); by default they stay int8 in the file and are expanded into the
    /// arena before their layer, bit for bit the same values.
    pub float_weights: bool,
    /// int8 inputs and outputs for a quantized (QDQ) model (`--io int8` without
    /// `--quantize`): see [`int8_io`].
    pub int8_io: bool,
}

/// A compiled model and facts about it.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The `.mote` file.
    pub bytes: Vec<u8>,
    /// Arena bytes.
    pub arena_len: usize,
    /// Sum of all activation buffers.
    pub total_activation_bytes: usize,
    /// Lower bound for any arena plan.
    pub lower_bound: usize,
    /// With [`CompileOptions::quantize`]: per-layer SQNR and top-1 agreement on the
    /// calibration set.
    pub ptq_report: Option<ptq::Report>,
}

/// Op names are for profiles and error messages; exporters' names can run to hundreds of bytes,
/// so at most 64 are kept.
fn short_name(name: &str) -> &str {
    let mut end = name.len().min(64);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Compiles ONNX bytes into a `.mote` file.
///
/// # Errors
/// A [`CompileError`] naming the node and op for unsupported or inconsistent models.
pub fn compile(onnx: &[u8], opts: &CompileOptions) -> Result<Compiled> {
    let mut model = mote_onnx::parse_model(onnx)?;
    // A graph without outputs computes nothing, and a model file without outputs does not load
    // (fuzzer find: such a graph compiled into a file the runtime refused).
    if model.graph.as_ref().is_none_or(|g| g.output.is_empty()) {
        return Err(CompileError::Graph("the graph has no outputs".into()));
    }
    if let Some(g) = model.graph.as_mut() {
        qoperator::expand(g)?;
    }
    if !opts.freeze.is_empty() {
        if let Some(g) = model.graph.as_mut() {
            for (name, t) in &opts.freeze {
                g.initializer.push(mote_onnx::tensor_to_proto(name, t));
            }
        }
    }
    let mut g = import::import(
        &model,
        &import::ImportOptions {
            input_shapes: opts.input_shapes.clone(),
        },
    )?;
    passes::optimize(&mut g);
    let calibrated = match &opts.quantize {
        Some(q) => Some(ptq::quantize(&mut g, q, opts)?),
        None => None,
    };
    qdq::lower(&mut g)?;
    passes::optimize(&mut g);
    if opts.int8_io {
        int8_io::int8_io(&mut g)?;
    }
    qdq::check_integer_only(&g, opts.allow_float)?;
    let producer = model.producer_name.clone().unwrap_or_default();
    let mut compiled = emit(&g, opts, &producer)?;
    if let (Some(cal), Some(q)) = (calibrated, &opts.quantize) {
        compiled.ptq_report = Some(ptq::evaluate(cal, q, opts)?);
    }
    Ok(compiled)
}

/// Lays out, plans and writes a lowered graph.
pub(crate) fn emit(g: &ir::Graph, opts: &CompileOptions, producer: &str) -> Result<Compiled> {
    let mut p = layout::assign_with(g, opts.rounding, !opts.float_weights)?;
    requant_pairs::remove(&mut p);
    let plan = plan::plan(&p);
    let mut b = ModelBuilder::new();
    let mut ids = vec![u32::MAX; p.tensors.len()];
    let mut tensor_id = |b: &mut ModelBuilder, t: usize| -> Result<u32> {
        if ids[t] != u32::MAX {
            return Ok(ids[t]);
        }
        let pt = &p.tensors[t];
        if pt.shape.len() > mote_format::MAX_RANK {
            return Err(CompileError::Graph(format!(
                "tensor '{}' has rank {} (at most 6 supported)",
                pt.name,
                pt.shape.len()
            )));
        }
        let bytes: Vec<u8>;
        let storage = match (&pt.value, plan.offsets[t]) {
            (Some(v), _) => {
                bytes = match &v.data {
                    mote_onnx::TensorData::I8(d) => d.iter().map(|&x| x as u8).collect(),
                    mote_onnx::TensorData::I32(d) => {
                        d.iter().flat_map(|x| x.to_le_bytes()).collect()
                    }
                    _ => v
                        .to_f32_vec()
                        .iter()
                        .flat_map(|x| x.to_le_bytes())
                        .collect(),
                };
                Storage::Const(&bytes)
            }
            (None, Some(o)) => Storage::Arena { offset: o as u32 },
            (None, None) => Storage::Arena { offset: 0 },
        };
        // Graph inputs and outputs keep their names (users address them); intermediate tensors
        // are named by the op that writes them, so their (often 200-byte) names are not stored.
        let keep = opts.keep_names || p.inputs.contains(&t) || p.outputs.contains(&t);
        let quant = pt
            .quant
            .map(|(scale, zero_point)| mote_format::Quant { scale, zero_point });
        let id = b.add_tensor_quant(
            if keep { &pt.name } else { "" },
            pt.dtype,
            &pt.shape,
            storage,
            quant,
        );
        ids[t] = id;
        Ok(id)
    };
    let model_inputs: Vec<u32> = p
        .inputs
        .iter()
        .map(|&t| tensor_id(&mut b, t))
        .collect::<Result<_>>()?;
    for (i, op) in p.ops.iter().enumerate() {
        if plan.elided[i] {
            continue;
        }
        let ins: Vec<u32> = op
            .inputs
            .iter()
            .map(|&t| tensor_id(&mut b, t))
            .collect::<Result<_>>()?;
        let out = tensor_id(&mut b, op.output)?;
        b.add_op(short_name(&op.name), &op.params, &ins, &[out]);
    }
    let model_outputs: Vec<u32> = p
        .outputs
        .iter()
        .map(|&t| tensor_id(&mut b, t))
        .collect::<Result<_>>()?;
    b.set_io(&model_inputs, &model_outputs);
    b.set_arena_len(plan.arena_len);
    if !producer.is_empty() {
        b.set_meta("source.producer", producer);
    }
    b.set_meta("compiler", concat!("mote ", env!("CARGO_PKG_VERSION")));
    for (k, v) in &opts.metadata {
        b.set_meta(k, v);
    }
    let bytes = b.finish();
    if bytes.len() > u32::MAX as usize {
        return Err(CompileError::Graph("the model is larger than 4 GiB".into()));
    }
    Ok(Compiled {
        bytes,
        arena_len: plan.arena_len,
        total_activation_bytes: plan.total_activation_bytes,
        lower_bound: plan.lower_bound,
        ptq_report: None,
    })
}
