//! Errors of the model reader: small, `Copy`, no strings on the heap, each naming what is wrong.

use core::fmt;

/// Why a byte string is not a valid model file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes end before a structure does.
    Truncated {
        /// Bytes the structure needs.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// The file does not start with `MOTE`.
    BadMagic,
    /// The file was written for another major version of the format.
    UnsupportedVersion {
        /// Major version in the file.
        found: u16,
        /// Major version this reader understands.
        supported: u16,
    },
    /// The length recorded in the header is not the length of the bytes.
    LengthMismatch {
        /// Length in the header.
        header: u64,
        /// Length of the bytes given.
        actual: u64,
    },
    /// The payload checksum does not match: the file is damaged.
    ChecksumMismatch {
        /// Checksum stored in the header.
        stored: u32,
        /// Checksum of the bytes.
        computed: u32,
    },
    /// The bytes do not start at a 16-byte aligned address (constants must be aligned for SIMD
    /// loads; use an aligned buffer).
    Misaligned,
    /// A section is missing, repeated, out of bounds or badly aligned.
    BadSection {
        /// The section kind number.
        kind: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// A string reference is out of bounds or not UTF-8.
    BadString,
    /// A tensor record is invalid.
    BadTensor {
        /// Tensor index.
        index: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// An op record is invalid.
    BadOp {
        /// Op index in execution order.
        index: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// The op code is not one this reader knows.
    UnknownOp {
        /// Op index.
        index: u32,
        /// The code found.
        opcode: u16,
    },
    /// The graph input/output table is invalid.
    BadIo {
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated { needed, available } => write!(
                f,
                "model file truncated: a structure needs {needed} bytes but only {available} are there"
            ),
            Error::BadMagic => write!(f, "not a mote model file (wrong magic; expected \"MOTE\")"),
            Error::UnsupportedVersion { found, supported } => write!(
                f,
                "model format version {found} is not supported (this runtime reads version {supported}); recompile the model with a matching mote"
            ),
            Error::LengthMismatch { header, actual } => write!(
                f,
                "model file length {actual} does not match the {header} bytes recorded in its header (truncated or padded file)"
            ),
            Error::ChecksumMismatch { stored, computed } => write!(
                f,
                "model file is corrupted: checksum {computed:#010x} does not match the stored {stored:#010x}"
            ),
            Error::Misaligned => write!(f, "model bytes must start at a 16-byte aligned address"),
            Error::BadSection { kind, reason } => write!(f, "invalid section {kind}: {reason}"),
            Error::BadString => write!(f, "invalid string reference"),
            Error::BadTensor { index, reason } => write!(f, "invalid tensor {index}: {reason}"),
            Error::BadOp { index, reason } => write!(f, "invalid op {index}: {reason}"),
            Error::UnknownOp { index, opcode } => {
                write!(f, "op {index} has unknown op code {opcode} (model needs a newer runtime)")
            }
            Error::BadIo { reason } => write!(f, "invalid graph inputs/outputs: {reason}"),
        }
    }
}

impl core::error::Error for Error {}
