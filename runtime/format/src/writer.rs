//! The writer, used by the compiler (feature `write`).

use crate::layout::*;
use crate::ops::OpParams;
use alloc::vec::Vec;

/// Collects tensors, ops and metadata, then writes a model file.
#[derive(Default, Debug, Clone)]
pub struct ModelBuilder {
    strings: Vec<u8>,
    tensors: Vec<u8>,
    ops: Vec<u8>,
    indices: Vec<u32>,
    params: Vec<u32>,
    constants: Vec<u8>,
    inputs: Vec<u32>,
    outputs: Vec<u32>,
    metadata: Vec<u8>,
    quant: Vec<u8>,
    arena_len: u32,
}

fn push_u32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn pad_to(v: &mut Vec<u8>, align: usize) {
    while !v.len().is_multiple_of(align) {
        v.push(0);
    }
}

impl ModelBuilder {
    /// An empty model.
    pub fn new() -> Self {
        Self::default()
    }

    fn string(&mut self, s: &str) -> (u32, u32) {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        (off, s.len() as u32)
    }

    /// Adds a tensor and returns its index. For [`Storage::Const`] the bytes are copied into the
    /// constants section (16-byte aligned). Dims beyond 6 are dropped (the compiler checks rank).
    pub fn add_tensor(
        &mut self,
        name: &str,
        dtype: DType,
        dims: &[usize],
        storage: Storage<'_>,
    ) -> u32 {
        self.add_tensor_quant(name, dtype, dims, storage, None)
    }

    /// Adds a tensor with quantization parameters.
    pub fn add_tensor_quant(
        &mut self,
        name: &str,
        dtype: DType,
        dims: &[usize],
        storage: Storage<'_>,
        quant: Option<crate::Quant>,
    ) -> u32 {
        let index = (self.tensors.len() / TENSOR_RECORD_LEN) as u32;
        let (so, sl) = self.string(name);
        let elements: usize = dims.iter().product();
        let byte_len = (elements * dtype.size()) as u32;
        let (kind, offset) = match storage {
            Storage::Arena { offset } => (0u8, offset),
            Storage::Const(data) => {
                pad_to(&mut self.constants, ALIGN);
                let off = self.constants.len() as u32;
                self.constants.extend_from_slice(data);
                (1u8, off)
            }
        };
        let t = &mut self.tensors;
        push_u32(t, so);
        push_u32(t, sl);
        t.extend_from_slice(&[dtype as u8, dims.len().min(MAX_RANK) as u8, kind, 0]);
        for k in 0..MAX_RANK {
            push_u32(t, dims.get(k).map(|&d| d as u32).unwrap_or(1));
        }
        push_u32(t, offset);
        push_u32(t, byte_len);
        let q = match quant {
            None => NO_QUANT,
            Some(q) => {
                let i = (self.quant.len() / 8) as u32;
                self.quant
                    .extend_from_slice(&q.scale.to_bits().to_le_bytes());
                self.quant.extend_from_slice(&q.zero_point.to_le_bytes());
                i
            }
        };
        push_u32(&mut self.tensors, q);
        index
    }

    /// Appends an op (execution order is insertion order).
    pub fn add_op(&mut self, name: &str, params: &OpParams, inputs: &[u32], outputs: &[u32]) {
        let (so, sl) = self.string(name);
        let io_start = self.indices.len() as u32;
        self.indices.extend_from_slice(inputs);
        self.indices.extend_from_slice(outputs);
        let p_start = self.params.len() as u32;
        params.encode(&mut self.params);
        let p_len = self.params.len() as u32 - p_start;
        let o = &mut self.ops;
        o.extend_from_slice(&(params.opcode() as u16).to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        push_u32(o, io_start);
        o.extend_from_slice(&(inputs.len() as u16).to_le_bytes());
        o.extend_from_slice(&(outputs.len() as u16).to_le_bytes());
        push_u32(o, p_start);
        push_u32(o, p_len);
        push_u32(o, so);
        push_u32(o, sl);
        push_u32(o, 0);
    }

    /// Sets the graph inputs and outputs.
    pub fn set_io(&mut self, inputs: &[u32], outputs: &[u32]) {
        self.inputs = inputs.to_vec();
        self.outputs = outputs.to_vec();
    }

    /// Sets the arena size the model needs.
    pub fn set_arena_len(&mut self, len: usize) {
        self.arena_len = len as u32;
    }

    /// Adds a metadata entry.
    pub fn set_meta(&mut self, key: &str, value: &str) {
        let (ko, kl) = self.string(key);
        let (vo, vl) = self.string(value);
        for x in [ko, kl, vo, vl] {
            push_u32(&mut self.metadata, x);
        }
    }

    /// Writes the file.
    pub fn finish(self) -> Vec<u8> {
        let mut io = Vec::new();
        push_u32(&mut io, self.inputs.len() as u32);
        push_u32(&mut io, self.outputs.len() as u32);
        for &t in self.inputs.iter().chain(self.outputs.iter()) {
            push_u32(&mut io, t);
        }
        let words = |w: &[u32]| w.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let sections: [(SectionKind, Vec<u8>); 9] = [
            (SectionKind::Tensors, self.tensors),
            (SectionKind::Ops, self.ops),
            (SectionKind::Indices, words(&self.indices)),
            (SectionKind::Params, words(&self.params)),
            (SectionKind::Io, io),
            (SectionKind::Metadata, self.metadata),
            (SectionKind::Quant, self.quant),
            (SectionKind::Strings, self.strings),
            (SectionKind::Constants, self.constants),
        ];
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
        out.extend_from_slice(&FORMAT_MINOR.to_le_bytes());
        push_u32(&mut out, HEADER_LEN as u32);
        push_u32(&mut out, 0); // file length, patched below
        push_u32(&mut out, 0); // checksum, patched below
        push_u32(&mut out, 0); // flags
        push_u32(&mut out, self.arena_len);
        push_u32(&mut out, sections.len() as u32);
        out.extend_from_slice(&[0u8; 16]);
        let table_at = out.len();
        out.resize(table_at + sections.len() * SECTION_ENTRY_LEN, 0);
        for (i, (kind, data)) in sections.iter().enumerate() {
            pad_to(
                &mut out,
                if *kind == SectionKind::Constants {
                    ALIGN
                } else {
                    4
                },
            );
            let off = out.len() as u32;
            out.extend_from_slice(data);
            let e = table_at + i * SECTION_ENTRY_LEN;
            out[e..e + 4].copy_from_slice(&(*kind as u32).to_le_bytes());
            out[e + 4..e + 8].copy_from_slice(&off.to_le_bytes());
            out[e + 8..e + 12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        }
        let len = out.len() as u32;
        out[12..16].copy_from_slice(&len.to_le_bytes());
        let crc = crc32fast::hash(&out[CHECKSUM_START..]);
        out[16..20].copy_from_slice(&crc.to_le_bytes());
        out
    }
}

/// A heap buffer whose bytes start 16-byte aligned, as [`crate::Model::from_bytes`] requires.
///
/// Built from 16-byte blocks whose type is `align(16)`: `u128` would not do, its alignment is
/// only 8 on 32-bit Arm (and the allocator then returns 8-byte aligned memory).
#[derive(Clone, Debug, Default)]
pub struct AlignedBytes {
    blocks: Vec<Block>,
    len: usize,
}

/// Sixteen bytes, 16-byte aligned on every target.
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(16))]
struct Block([u8; 16]);

impl AlignedBytes {
    /// Copies `bytes` into an aligned buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut blocks = alloc::vec![Block::default(); bytes.len().div_ceil(16)];
        for (block, chunk) in blocks.iter_mut().zip(bytes.chunks(16)) {
            block.0[..chunk.len()].copy_from_slice(chunk);
        }
        AlignedBytes {
            blocks,
            len: bytes.len(),
        }
    }

    /// An aligned, zeroed buffer of `len` bytes (e.g. an arena).
    pub fn zeroed(len: usize) -> Self {
        AlignedBytes {
            blocks: alloc::vec![Block::default(); len.div_ceil(16)],
            len,
        }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        let all: &[u8] = bytemuck::cast_slice(&self.blocks);
        all.get(..self.len).unwrap_or(all)
    }

    /// The bytes, mutably.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        let len = self.len;
        let all: &mut [u8] = bytemuck::cast_slice_mut(&mut self.blocks);
        let n = all.len();
        &mut all[..len.min(n)]
    }
}
