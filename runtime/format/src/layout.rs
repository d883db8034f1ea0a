//! Byte layout of the file: header, section table and fixed-size records.
//!
//! ```text
//! offset size  header (48 bytes)
//!  0      4    magic "MOTE"
//!  4      2    major version      6  2  minor version
//!  8      4    header length (48) 12 4  file length
//! 16      4    CRC-32 (IEEE) of bytes [20, file length)
//! 20      4    flags (0)          24 4  arena bytes needed
//! 28      4    section count      32 16 reserved (0)
//! 48      16×n section table: kind u32, offset u32, length u32, reserved u32
//! ```

/// File magic.
pub const MAGIC: [u8; 4] = *b"MOTE";
/// Major version: readers refuse any other.
pub const FORMAT_MAJOR: u16 = 1;
/// Minor version: additions a reader of the same major may ignore.
pub const FORMAT_MINOR: u16 = 0;
/// Highest tensor rank.
pub const MAX_RANK: usize = 6;

pub(crate) const HEADER_LEN: usize = 48;
pub(crate) const SECTION_ENTRY_LEN: usize = 16;
pub(crate) const TENSOR_RECORD_LEN: usize = 48;
pub(crate) const OP_RECORD_LEN: usize = 32;
pub(crate) const META_RECORD_LEN: usize = 16;
pub(crate) const QUANT_RECORD_LEN: usize = 8;
/// Alignment of the constants section and of each constant in it, and of arena offsets.
pub(crate) const ALIGN: usize = 16;
pub(crate) const CHECKSUM_START: usize = 20;
/// No quantization record.
pub(crate) const NO_QUANT: u32 = u32::MAX;

/// Section kinds. Each appears at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum SectionKind {
    /// UTF-8 bytes referenced by `(offset, length)` pairs.
    Strings = 1,
    /// Tensor records (48 bytes each).
    Tensors = 2,
    /// Op records in execution order (32 bytes each).
    Ops = 3,
    /// `u32` tensor indices: op inputs/outputs.
    Indices = 4,
    /// `u32` words: op parameters.
    Params = 5,
    /// Constant tensor data, 16-byte aligned.
    Constants = 6,
    /// Graph inputs and outputs: `n_in u32, n_out u32`, then the tensor indices.
    Io = 7,
    /// Metadata: (key, value) string reference pairs (16 bytes each).
    Metadata = 8,
    /// Quantization records: scale f32, zero point i32 (8 bytes each), referenced by tensors.
    Quant = 9,
}

impl SectionKind {
    pub(crate) const ALL: [SectionKind; 9] = [
        SectionKind::Strings,
        SectionKind::Tensors,
        SectionKind::Ops,
        SectionKind::Indices,
        SectionKind::Params,
        SectionKind::Constants,
        SectionKind::Io,
        SectionKind::Metadata,
        SectionKind::Quant,
    ];
}

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum DType {
    /// IEEE 754 binary32.
    F32 = 1,
    /// Signed 8-bit integer.
    I8 = 2,
    /// Unsigned 8-bit integer.
    U8 = 3,
    /// Signed 32-bit integer (biases of int8 layers).
    I32 = 4,
}

impl DType {
    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::I8 | DType::U8 => 1,
        }
    }

    /// Decodes the on-file code.
    pub const fn from_code(code: u8) -> Option<DType> {
        match code {
            1 => Some(DType::F32),
            2 => Some(DType::I8),
            3 => Some(DType::U8),
            4 => Some(DType::I32),
            _ => None,
        }
    }

    /// Lower-case name, as numpy spells it.
    pub const fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::I32 => "int32",
        }
    }
}

/// Where a tensor's bytes live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage<'a> {
    /// In the caller's arena, at a planned offset.
    Arena {
        /// Byte offset into the arena (16-byte aligned).
        offset: u32,
    },
    /// In the model file (weights, biases, other constants).
    Const(&'a [u8]),
}

pub(crate) fn rd_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

pub(crate) fn rd_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(s.try_into().ok()?))
}
