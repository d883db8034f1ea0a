//! A model whose structure and semantics have both been validated.

use crate::prepare::prepare;
use crate::Error;
use mote_format::{Storage, TensorInfo};

/// A model ready to run: the file's structure was checked by `mote-format`, and every op's
/// shapes, parameters and arena ranges by the runtime.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    pub(crate) file: mote_format::Model<'a>,
}

fn arena_range(t: &TensorInfo<'_>) -> Option<(usize, usize)> {
    match t.storage {
        Storage::Arena { offset } => Some((
            offset as usize,
            (offset as usize).checked_add(t.byte_len as usize)?,
        )),
        Storage::Const(_) => None,
    }
}

impl<'a> Model<'a> {
    /// Validates `bytes` (which must start 16-byte aligned) and returns the model.
    ///
    /// # Errors
    /// [`Error::Format`] for a damaged or foreign file, [`Error::InvalidOp`] for an op whose
    /// shapes or parameters do not fit together.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        let file = mote_format::Model::from_bytes(bytes)?;
        let model = Model { file };
        let inputs = file.inputs();
        for i in 0..file.op_count() {
            let op = prepare(&file, i)?;
            let bad = |reason| Error::InvalidOp {
                index: i as u32,
                reason,
            };
            let out = file.tensor(op.output).ok_or(bad("output tensor missing"))?;
            let (o0, o1) = arena_range(&out).ok_or(bad("op output is a constant"))?;
            if inputs.iter().any(|t| t == op.output) {
                return Err(bad("op overwrites a graph input"));
            }
            for t in op.inputs.iter() {
                let ti = file.tensor(t).ok_or(bad("input tensor missing"))?;
                if let Some((i0, i1)) = arena_range(&ti) {
                    if i0 < o1 && o0 < i1 && ti.byte_len > 0 && out.byte_len > 0 {
                        return Err(bad("output overlaps an input in the arena"));
                    }
                }
            }
        }
        Ok(model)
    }

    /// The underlying file view (tensors, ops, metadata).
    pub fn file(&self) -> &mote_format::Model<'a> {
        &self.file
    }

    /// Arena bytes the model needs.
    pub fn arena_len(&self) -> usize {
        self.file.arena_len()
    }

    /// Number of graph inputs.
    pub fn input_count(&self) -> usize {
        self.file.inputs().len()
    }

    /// Number of graph outputs.
    pub fn output_count(&self) -> usize {
        self.file.outputs().len()
    }

    /// Graph input `index`.
    pub fn input(&self, index: usize) -> Result<TensorInfo<'a>, Error> {
        let count = self.input_count();
        self.file
            .inputs()
            .get(index)
            .and_then(|t| self.file.tensor(t))
            .ok_or(Error::NoSuchTensor { index, count })
    }

    /// Graph output `index`.
    pub fn output(&self, index: usize) -> Result<TensorInfo<'a>, Error> {
        let count = self.output_count();
        self.file
            .outputs()
            .get(index)
            .and_then(|t| self.file.tensor(t))
            .ok_or(Error::NoSuchTensor { index, count })
    }
}
