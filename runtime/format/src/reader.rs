//! The reader: validate once, then hand out views.

use crate::layout::*;
use crate::ops::{OpCode, OpParams};
use crate::Error;

/// A validated model, borrowing the file's bytes.
///
/// After [`Model::from_bytes`] succeeds, every record, index, string and constant range in the
/// file has been checked; accessors still return `Option` (never panicking on a logic slip), but
/// for a validated model they always return `Some` for indices below the counts.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    bytes: &'a [u8],
    arena_len: u32,
    version: (u16, u16),
    strings: &'a [u8],
    tensors: &'a [u8],
    ops: &'a [u8],
    indices: &'a [u8],
    params: &'a [u8],
    constants: &'a [u8],
    constants_offset: usize,
    io: &'a [u8],
    metadata: &'a [u8],
    quant: &'a [u8],
}

/// Affine quantization of a tensor: `real = scale · (q − zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quant {
    /// Scale (positive, finite).
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

/// A list of `u32` tensor indices inside the file.
#[derive(Clone, Copy, Debug)]
pub struct IndexList<'a> {
    bytes: &'a [u8],
}

impl<'a> IndexList<'a> {
    /// Number of indices.
    pub fn len(&self) -> usize {
        self.bytes.len() / 4
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    /// Index `i`.
    pub fn get(&self, i: usize) -> Option<u32> {
        rd_u32(self.bytes, i.checked_mul(4)?)
    }
    /// All indices.
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.bytes
            .chunks_exact(4)
            .filter_map(|c| c.try_into().ok().map(u32::from_le_bytes))
    }
}

/// One tensor's description.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorInfo<'a> {
    /// Name (from the ONNX graph where it had one).
    pub name: &'a str,
    /// Element type.
    pub dtype: DType,
    /// Extents in physical order; entries at `rank..` are 1.
    pub dims: [u32; MAX_RANK],
    /// Number of axes.
    pub rank: usize,
    /// Total bytes.
    pub byte_len: u32,
    /// Where the bytes live.
    pub storage: Storage<'a>,
    /// Quantization (int8 tensors).
    pub quant: Option<Quant>,
}

impl TensorInfo<'_> {
    /// The extents in use.
    pub fn shape(&self) -> &[u32] {
        self.dims.get(..self.rank).unwrap_or(&[])
    }
    /// Number of elements.
    pub fn elements(&self) -> usize {
        (self.byte_len as usize)
            .checked_div(self.dtype.size())
            .unwrap_or(0)
    }
}

/// One op, decoded.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo<'a> {
    /// Node name (from the ONNX graph).
    pub name: &'a str,
    /// Decoded parameters (their op code is `params.opcode()`).
    pub params: OpParams,
    /// Input tensor indices.
    pub inputs: IndexList<'a>,
    /// Output tensor indices.
    pub outputs: IndexList<'a>,
}

fn sub(bytes: &[u8], offset: usize, len: usize) -> Option<&[u8]> {
    bytes.get(offset..offset.checked_add(len)?)
}

fn str_at(strings: &[u8], off: u32, len: u32) -> Result<&str, Error> {
    let b = sub(strings, off as usize, len as usize).ok_or(Error::BadString)?;
    core::str::from_utf8(b).map_err(|_| Error::BadString)
}

/// The section found for `kind` (kinds are numbered from 1 in [`SectionKind::ALL`] order).
fn slot_of(found: &[Option<(usize, usize)>], kind: SectionKind) -> Option<(usize, usize)> {
    found
        .get((kind as usize).checked_sub(1)?)
        .copied()
        .flatten()
}

impl<'a> Model<'a> {
    /// Checks everything in `bytes` and returns a view of the model.
    ///
    /// # Errors
    /// Any structural problem: wrong magic or version, damaged or truncated file, out-of-bounds
    /// or misaligned sections, invalid tensors or ops, arena offsets outside the arena.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        let avail = bytes.len() as u64;
        let trunc = |needed: usize| Error::Truncated {
            needed: needed as u64,
            available: avail,
        };
        if bytes.len() < 8 {
            if bytes.len() >= 4 && bytes.get(..4) != Some(&MAGIC[..]) {
                return Err(Error::BadMagic);
            }
            return Err(trunc(HEADER_LEN));
        }
        if bytes.get(..4) != Some(&MAGIC[..]) {
            return Err(Error::BadMagic);
        }
        let major = rd_u16(bytes, 4).ok_or(trunc(HEADER_LEN))?;
        let minor = rd_u16(bytes, 6).ok_or(trunc(HEADER_LEN))?;
        if major != FORMAT_MAJOR {
            return Err(Error::UnsupportedVersion {
                found: major,
                supported: FORMAT_MAJOR,
            });
        }
        if bytes.len() < HEADER_LEN {
            return Err(trunc(HEADER_LEN));
        }
        let header_len = rd_u32(bytes, 8).ok_or(trunc(HEADER_LEN))? as usize;
        let file_len = rd_u32(bytes, 12).ok_or(trunc(HEADER_LEN))? as u64;
        if file_len > avail {
            return Err(Error::Truncated {
                needed: file_len,
                available: avail,
            });
        }
        if file_len != avail {
            return Err(Error::LengthMismatch {
                header: file_len,
                actual: avail,
            });
        }
        let stored = rd_u32(bytes, 16).ok_or(trunc(HEADER_LEN))?;
        let computed = crc32fast::hash(bytes.get(CHECKSUM_START..).unwrap_or(&[]));
        if stored != computed {
            return Err(Error::ChecksumMismatch { stored, computed });
        }
        if header_len != HEADER_LEN {
            return Err(Error::BadSection {
                kind: 0,
                reason: "header length is not 48",
            });
        }
        if !(bytes.as_ptr() as usize).is_multiple_of(ALIGN) {
            return Err(Error::Misaligned);
        }
        let arena_len = rd_u32(bytes, 24).ok_or(trunc(HEADER_LEN))?;
        let section_count = rd_u32(bytes, 28).ok_or(trunc(HEADER_LEN))? as usize;
        if section_count > 64 {
            return Err(Error::BadSection {
                kind: 0,
                reason: "more than 64 sections",
            });
        }
        // At most 64 entries: no overflow, but checked all the same (the lint cannot know).
        let table_end = section_count
            .checked_mul(SECTION_ENTRY_LEN)
            .and_then(|n| n.checked_add(HEADER_LEN))
            .ok_or(trunc(HEADER_LEN))?;
        if table_end > bytes.len() {
            return Err(trunc(table_end));
        }
        let mut found: [Option<(usize, usize)>; 9] = [None; 9];
        for s in 0..section_count {
            let field = |w: usize| {
                s.checked_mul(SECTION_ENTRY_LEN)
                    .and_then(|at| at.checked_add(HEADER_LEN)?.checked_add(w))
                    .and_then(|at| rd_u32(bytes, at))
                    .ok_or(trunc(table_end))
            };
            let kind = field(0)?;
            let off = field(4)? as usize;
            let len = field(8)? as usize;
            let bad = |reason| Error::BadSection { kind, reason };
            let end = off
                .checked_add(len)
                .ok_or(bad("offset + length overflows"))?;
            if off < table_end || end > bytes.len() {
                return Err(bad("section lies outside the file body"));
            }
            if !off.is_multiple_of(4) {
                return Err(bad("section is not 4-byte aligned"));
            }
            let Some(slot) = SectionKind::ALL.iter().position(|k| *k as u32 == kind) else {
                // Unknown sections of the same major version are skipped (minor additions).
                continue;
            };
            match found.get_mut(slot) {
                Some(Some(_)) => return Err(bad("section appears twice")),
                Some(entry) => *entry = Some((off, len)),
                None => continue,
            }
        }
        let section = |k: SectionKind| -> Result<(usize, &'a [u8]), Error> {
            let (off, len) = slot_of(&found, k).ok_or(Error::BadSection {
                kind: k as u32,
                reason: "missing",
            })?;
            let b = sub(bytes, off, len).ok_or(Error::BadSection {
                kind: k as u32,
                reason: "out of bounds",
            })?;
            Ok((off, b))
        };
        let (_, strings) = section(SectionKind::Strings)?;
        let (_, tensors) = section(SectionKind::Tensors)?;
        let (_, ops) = section(SectionKind::Ops)?;
        let (_, indices) = section(SectionKind::Indices)?;
        let (_, params) = section(SectionKind::Params)?;
        let (constants_offset, constants) = section(SectionKind::Constants)?;
        let (_, io) = section(SectionKind::Io)?;
        let (_, metadata) = section(SectionKind::Metadata)?;
        // Optional: models without int8 tensors have no quantization records.
        let quant = match slot_of(&found, SectionKind::Quant) {
            None => &[][..],
            Some(_) => section(SectionKind::Quant)?.1,
        };
        let rec = |k: SectionKind, b: &[u8], n: usize| {
            if !b.len().is_multiple_of(n) {
                Err(Error::BadSection {
                    kind: k as u32,
                    reason: "length is not a whole number of records",
                })
            } else {
                Ok(())
            }
        };
        rec(SectionKind::Tensors, tensors, TENSOR_RECORD_LEN)?;
        rec(SectionKind::Ops, ops, OP_RECORD_LEN)?;
        rec(SectionKind::Indices, indices, 4)?;
        rec(SectionKind::Params, params, 4)?;
        rec(SectionKind::Metadata, metadata, META_RECORD_LEN)?;
        rec(SectionKind::Quant, quant, QUANT_RECORD_LEN)?;
        if constants_offset % ALIGN != 0 {
            return Err(Error::BadSection {
                kind: SectionKind::Constants as u32,
                reason: "constants are not 16-byte aligned",
            });
        }
        let model = Model {
            bytes,
            arena_len,
            version: (major, minor),
            strings,
            tensors,
            ops,
            indices,
            params,
            constants,
            constants_offset,
            io,
            metadata,
            quant,
        };
        model.validate_tensors()?;
        model.validate_ops()?;
        model.validate_io()?;
        for i in 0..model.metadata.len() / META_RECORD_LEN {
            for k in 0..2usize {
                let word = |w: usize| {
                    i.checked_mul(META_RECORD_LEN)
                        .and_then(|at| at.checked_add(k.checked_mul(8)?)?.checked_add(w))
                        .and_then(|at| rd_u32(metadata, at))
                        .ok_or(Error::BadString)
                };
                let off = word(0)?;
                let len = word(4)?;
                str_at(strings, off, len)?;
            }
        }
        Ok(model)
    }

    fn validate_tensors(&self) -> Result<(), Error> {
        for i in 0..self.tensor_count() {
            self.decode_tensor(i as u32)?;
        }
        Ok(())
    }

    fn decode_tensor(&self, index: u32) -> Result<TensorInfo<'a>, Error> {
        let bad = |reason| Error::BadTensor { index, reason };
        let at = (index as usize)
            .checked_mul(TENSOR_RECORD_LEN)
            .ok_or(bad("index out of range"))?;
        let r = sub(self.tensors, at, TENSOR_RECORD_LEN).ok_or(bad("index out of range"))?;
        let rd = |o: usize| rd_u32(r, o).ok_or(bad("record truncated"));
        let name = str_at(self.strings, rd(0)?, rd(4)?)?;
        let b = |o: usize| r.get(o).copied().ok_or(bad("record truncated"));
        let dtype = DType::from_code(b(8)?).ok_or(bad("unknown dtype"))?;
        let rank = b(9)? as usize;
        let storage_kind = b(10)?;
        if rank > MAX_RANK {
            return Err(bad("rank above 6"));
        }
        let mut dims = [1u32; MAX_RANK];
        let mut elements: u64 = 1;
        for (k, d) in dims.iter_mut().enumerate() {
            let v = rd(12usize.saturating_add(k.saturating_mul(4)))?;
            if k < rank {
                *d = v;
                elements = elements
                    .checked_mul(v as u64)
                    .ok_or(bad("element count overflows"))?;
            } else if v != 1 {
                return Err(bad("unused dimension is not 1"));
            }
        }
        let offset = rd(36)?;
        let byte_len = rd(40)?;
        let expect = elements
            .checked_mul(dtype.size() as u64)
            .ok_or(bad("byte length overflows"))?;
        if expect != byte_len as u64 {
            return Err(bad("byte length does not match shape and dtype"));
        }
        let storage = match storage_kind {
            0 => {
                if !(offset as usize).is_multiple_of(ALIGN) {
                    return Err(bad("arena offset not 16-byte aligned"));
                }
                let end = (offset as u64).saturating_add(byte_len as u64);
                if end > self.arena_len as u64 {
                    return Err(bad("arena range extends past the arena size"));
                }
                Storage::Arena { offset }
            }
            1 => {
                if !(offset as usize).is_multiple_of(ALIGN) {
                    return Err(bad("constant data not 16-byte aligned"));
                }
                let data = sub(self.constants, offset as usize, byte_len as usize)
                    .ok_or(bad("constant data outside the constants section"))?;
                Storage::Const(data)
            }
            _ => return Err(bad("unknown storage kind")),
        };
        let qi = rd(44)?;
        let quant = if qi == crate::layout::NO_QUANT {
            None
        } else {
            let at = (qi as usize)
                .checked_mul(QUANT_RECORD_LEN)
                .ok_or(bad("quantization index out of range"))?;
            let scale = f32::from_bits(
                rd_u32(self.quant, at).ok_or(bad("quantization index out of range"))?,
            );
            let zero_point = rd_u32(self.quant, at.saturating_add(4))
                .ok_or(bad("quantization index out of range"))? as i32;
            if !(scale.is_finite() && scale > 0.0) {
                return Err(bad("quantization scale is not a positive finite number"));
            }
            Some(Quant { scale, zero_point })
        };
        Ok(TensorInfo {
            name,
            dtype,
            dims,
            rank,
            byte_len,
            storage,
            quant,
        })
    }

    fn validate_ops(&self) -> Result<(), Error> {
        for i in 0..self.op_count() {
            self.decode_op(i)?;
        }
        Ok(())
    }

    fn decode_op(&self, index: usize) -> Result<OpInfo<'a>, Error> {
        let idx = index as u32;
        let bad = |reason| Error::BadOp { index: idx, reason };
        let at = index
            .checked_mul(OP_RECORD_LEN)
            .ok_or(bad("index out of range"))?;
        let r = sub(self.ops, at, OP_RECORD_LEN).ok_or(bad("index out of range"))?;
        let opcode_raw = rd_u16(r, 0).ok_or(bad("record truncated"))?;
        let rd = |o: usize| rd_u32(r, o).ok_or(bad("record truncated"));
        let opcode = OpCode::from_code(opcode_raw).ok_or(Error::UnknownOp {
            index: idx,
            opcode: opcode_raw,
        })?;
        let io_start = rd(4)? as usize;
        let n_in = rd_u16(r, 8).ok_or(bad("record truncated"))? as usize;
        let n_out = rd_u16(r, 10).ok_or(bad("record truncated"))? as usize;
        let p_start = rd(12)? as usize;
        let p_len = rd(16)? as usize;
        let name = str_at(self.strings, rd(20)?, rd(24)?)?;
        let io_bytes = sub(
            self.indices,
            io_start.checked_mul(4).ok_or(bad("io range overflows"))?,
            // u16 counts: (n_in + n_out) * 4 < 2^19, no overflow.
            n_in.saturating_add(n_out).saturating_mul(4),
        )
        .ok_or(bad("input/output list outside the indices section"))?;
        let (ib, ob) = io_bytes
            .split_at_checked(n_in.saturating_mul(4))
            .ok_or(bad("input/output list outside the indices section"))?;
        let inputs = IndexList { bytes: ib };
        let outputs = IndexList { bytes: ob };
        let n_tensors = self.tensor_count() as u32;
        if inputs.iter().chain(outputs.iter()).any(|t| t >= n_tensors) {
            return Err(bad("tensor index out of range"));
        }
        let pbytes = sub(
            self.params,
            p_start
                .checked_mul(4)
                .ok_or(bad("params range overflows"))?,
            p_len.checked_mul(4).ok_or(bad("params range overflows"))?,
        )
        .ok_or(bad("parameters outside the params section"))?;
        let params = OpParams::decode(idx, opcode, pbytes)?;
        Ok(OpInfo {
            name,
            params,
            inputs,
            outputs,
        })
    }

    fn io_lists(&self) -> Result<(IndexList<'a>, IndexList<'a>), Error> {
        let bad = |reason| Error::BadIo { reason };
        let n_in = rd_u32(self.io, 0).ok_or(bad("table truncated"))? as usize;
        let n_out = rd_u32(self.io, 4).ok_or(bad("table truncated"))? as usize;
        let total = n_in
            .checked_add(n_out)
            .and_then(|n| n.checked_mul(4))
            .ok_or(bad("counts overflow"))?;
        let b = sub(self.io, 8, total).ok_or(bad("table truncated"))?;
        if self.io.len() != total.saturating_add(8) {
            return Err(bad("table has trailing bytes"));
        }
        let (i, o) = b
            .split_at_checked(n_in.saturating_mul(4))
            .ok_or(bad("table truncated"))?;
        Ok((IndexList { bytes: i }, IndexList { bytes: o }))
    }

    fn validate_io(&self) -> Result<(), Error> {
        let (i, o) = self.io_lists()?;
        if o.is_empty() {
            return Err(Error::BadIo {
                reason: "the model has no outputs",
            });
        }
        let n = self.tensor_count() as u32;
        for t in i.iter().chain(o.iter()) {
            if t >= n {
                return Err(Error::BadIo {
                    reason: "tensor index out of range",
                });
            }
            if let Ok(TensorInfo {
                storage: Storage::Const(_),
                ..
            }) = self.decode_tensor(t)
            {
                if i.iter().any(|x| x == t) {
                    return Err(Error::BadIo {
                        reason: "a graph input is a constant",
                    });
                }
            }
        }
        Ok(())
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// Format version (major, minor).
    pub fn version(&self) -> (u16, u16) {
        self.version
    }
    /// Arena bytes the model needs.
    pub fn arena_len(&self) -> usize {
        self.arena_len as usize
    }
    /// Bytes of constant data (weights and other constants, with alignment padding).
    pub fn constants_len(&self) -> usize {
        self.constants.len()
    }
    /// Offset of the constants section in the file.
    pub fn constants_offset(&self) -> usize {
        self.constants_offset
    }
    /// Number of tensors.
    pub fn tensor_count(&self) -> usize {
        self.tensors.len() / TENSOR_RECORD_LEN
    }
    /// Number of ops.
    pub fn op_count(&self) -> usize {
        self.ops.len() / OP_RECORD_LEN
    }
    /// Tensor `index`.
    pub fn tensor(&self, index: u32) -> Option<TensorInfo<'a>> {
        self.decode_tensor(index).ok()
    }
    /// Where tensor `index`'s bytes live and how many there are: the part of [`Model::tensor`]
    /// an interpreter needs on every run to find an op's operands, without the name, shape and
    /// quantization (whose decoding, repeated for every operand of every op, was about 5 % of
    /// VWW's int8 inference: `perf record` of `mote bench vww_int8.mote --iters 40000`,
    /// `Model::tensor` and `decode_tensor` together, on a Zen 5). The record was validated with
    /// the model; this reads it again with bounds checks only.
    pub fn tensor_placement(&self, index: u32) -> Option<(Storage<'a>, u32)> {
        let r = sub(
            self.tensors,
            (index as usize).checked_mul(TENSOR_RECORD_LEN)?,
            TENSOR_RECORD_LEN,
        )?;
        let (offset, byte_len) = (rd_u32(r, 36)?, rd_u32(r, 40)?);
        let storage = match r.get(10)? {
            0 => Storage::Arena { offset },
            1 => Storage::Const(sub(self.constants, offset as usize, byte_len as usize)?),
            _ => return None,
        };
        Some((storage, byte_len))
    }
    /// Op `index` (execution order).
    pub fn op(&self, index: usize) -> Option<OpInfo<'a>> {
        self.decode_op(index).ok()
    }
    /// Graph input tensor indices, in ONNX declaration order.
    pub fn inputs(&self) -> IndexList<'a> {
        self.io_lists()
            .map(|(i, _)| i)
            .unwrap_or(IndexList { bytes: &[] })
    }
    /// Graph output tensor indices, in ONNX declaration order.
    pub fn outputs(&self) -> IndexList<'a> {
        self.io_lists()
            .map(|(_, o)| o)
            .unwrap_or(IndexList { bytes: &[] })
    }
    /// Metadata entries (key, value).
    pub fn metadata(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let strings = self.strings;
        self.metadata
            .chunks_exact(META_RECORD_LEN)
            .filter_map(move |r| {
                let k = str_at(strings, rd_u32(r, 0)?, rd_u32(r, 4)?).ok()?;
                let v = str_at(strings, rd_u32(r, 8)?, rd_u32(r, 12)?).ok()?;
                Some((k, v))
            })
    }
    /// The metadata value of `key`.
    pub fn meta(&self, key: &str) -> Option<&'a str> {
        self.metadata().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}
