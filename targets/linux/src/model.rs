//! Loading `.mote` files and running them with the interpreter.

use crate::error::{Classify, ExitKind, Failure, Result};
use crate::npy::shape_str;
use mote_format::{AlignedBytes, DType};
use std::path::Path;

/// A model file's bytes, 16-byte aligned as `Model::from_bytes` requires.
#[derive(Debug)]
pub struct ModelFile {
    /// Where it came from (for messages).
    pub origin: String,
    bytes: AlignedBytes,
}

/// A graph input or output.
#[derive(Clone, Debug, PartialEq)]
pub struct Port {
    /// Name.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<usize>,
}

impl Port {
    /// `name: float32 [1, 640]`.
    pub fn describe(&self) -> String {
        format!(
            "'{}' {} {}",
            self.name,
            self.dtype.name(),
            shape_str(&self.shape)
        )
    }
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

fn port(t: &mote_format::TensorInfo<'_>) -> Port {
    Port {
        name: t.name.to_string(),
        dtype: t.dtype,
        shape: t.shape().iter().map(|&d| d as usize).collect(),
    }
}

impl ModelFile {
    /// Reads a `.mote` file.
    ///
    /// # Errors
    /// Exit 5 if it cannot be read.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .or_fail_with(ExitKind::Io, || format!("cannot read {}", path.display()))?;
        Ok(Self::from_bytes(&bytes, path.display().to_string()))
    }

    /// Wraps bytes (e.g. just compiled).
    pub fn from_bytes(bytes: &[u8], origin: String) -> Self {
        ModelFile {
            origin,
            bytes: AlignedBytes::from_slice(bytes),
        }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_bytes()
    }

    /// Validates the file (structure and op semantics) and returns the runtime's view.
    ///
    /// # Errors
    /// Exit 3 for damaged, foreign or invalid files.
    pub fn model(&self) -> Result<mote_runtime::Model<'_>> {
        mote_runtime::Model::from_bytes(self.bytes.as_bytes()).or_fail_with(ExitKind::Model, || {
            format!("{}: invalid model", self.origin)
        })
    }
}

/// Inputs of a model.
pub fn inputs(m: &mote_runtime::Model<'_>) -> Result<Vec<Port>> {
    (0..m.input_count())
        .map(|i| {
            m.input(i)
                .map(|t| port(&t))
                .or_fail(ExitKind::Model, "invalid model")
        })
        .collect()
}

/// Outputs of a model.
pub fn outputs(m: &mote_runtime::Model<'_>) -> Result<Vec<Port>> {
    (0..m.output_count())
        .map(|i| {
            m.output(i)
                .map(|t| port(&t))
                .or_fail(ExitKind::Model, "invalid model")
        })
        .collect()
}

/// An arena for `m`.
pub fn arena<'m>(m: &mote_runtime::Model<'m>) -> RunMemory<'m> {
    RunMemory {
        arena: AlignedBytes::zeroed(m.arena_len()),
        // A host has the memory: the kernels that would repack their weights on every call pack
        // them once (`Interpreter::with_weight_cache`); 0 bytes where none would.
        cache: vec![0u8; mote_runtime::Interpreter::weight_cache_len(m).unwrap_or(0)],
        // Likewise every op's parameters, decoded once (`Interpreter::with_prepared_ops`).
        ops: vec![mote_runtime::PreparedSlot::default(); m.file().op_count()],
    }
}

/// What an interpreter runs in on a host: the model's arena, the kernels' weight cache and the
/// prepared ops.
pub struct RunMemory<'m> {
    arena: AlignedBytes,
    cache: Vec<u8>,
    ops: Vec<mote_runtime::PreparedSlot<'m>>,
}

/// Creates an interpreter, copies `inputs` (little-endian bytes, one per graph input) in.
///
/// # Errors
/// Exit 4 if the number or sizes of the inputs are wrong, exit 3 if the model cannot run.
pub fn bind<'m, 'a>(
    m: &'m mote_runtime::Model<'m>,
    arena: &'a mut RunMemory<'m>,
    inputs: &[Vec<u8>],
) -> Result<mote_runtime::Interpreter<'m, 'a>> {
    if inputs.len() != m.input_count() {
        return Err(Failure::new(
            ExitKind::Input,
            format!(
                "the model has {} inputs, {} given",
                m.input_count(),
                inputs.len()
            ),
        ));
    }
    let mut interp = mote_runtime::Interpreter::with_weight_cache(
        m,
        arena.arena.as_bytes_mut(),
        &mut arena.cache,
    )
    .and_then(|i| i.with_prepared_ops(&mut arena.ops))
    .or_fail(ExitKind::Model, "cannot create the interpreter")?;
    for (i, data) in inputs.iter().enumerate() {
        interp
            .set_input(i, data)
            .or_fail_with(ExitKind::Input, || format!("input {i}"))?;
    }
    Ok(interp)
}

/// `threads` threads for the convolutions ([`mote_runtime::Interpreter::with_workers`]).
///
/// # Errors
/// Exit 3 when the operating system will not start the threads.
pub fn pool(threads: u16) -> Result<mote_runtime::ThreadPool> {
    mote_runtime::ThreadPool::new(usize::from(threads))
        .or_fail(ExitKind::Model, "cannot start the threads")
}

/// Runs once and returns every output as floats.
///
/// # Errors
/// As [`bind`], and exit 3 if an op fails.
pub fn run_once(m: &mote_runtime::Model<'_>, inputs: &[Vec<u8>]) -> Result<Vec<Vec<f32>>> {
    let mut arena = arena(m);
    let mut interp = bind(m, &mut arena, inputs)?;
    interp
        .invoke()
        .or_fail(ExitKind::Model, "inference failed")?;
    collect_outputs(&interp)
}

/// Every output of an interpreter that has run, as floats.
///
/// # Errors
/// Exit 3 if an output cannot be read.
pub fn collect_outputs(interp: &mote_runtime::Interpreter<'_, '_>) -> Result<Vec<Vec<f32>>> {
    let m = interp.model();
    (0..m.output_count())
        .map(|i| {
            let t = m.output(i).or_fail(ExitKind::Model, "invalid model")?;
            let b = interp
                .output(i)
                .or_fail_with(ExitKind::Model, || format!("output {i}"))?;
            Ok(crate::npy::to_f32(t.dtype, b))
        })
        .collect()
}
