//! Runtime errors: `Copy`, no heap, each naming the problem with numbers a user can act on.

use core::fmt;

/// Why a model could not be loaded or run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The file's structure is invalid.
    Format(mote_format::Error),
    /// An op's shapes or parameters are inconsistent.
    InvalidOp {
        /// Op index (execution order).
        index: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// The arena is smaller than the model needs.
    ArenaTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        given: usize,
    },
    /// The arena does not start at a 16-byte aligned address.
    ArenaMisaligned,
    /// The weight cache lent to `Interpreter::with_weight_cache` is smaller than
    /// `Interpreter::weight_cache_len` says.
    WeightCacheTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        given: usize,
    },
    /// Fewer op slots were lent to `Interpreter::with_prepared_ops` than the model has ops.
    PreparedOpsTooFew {
        /// Slots needed (the model's op count).
        needed: usize,
        /// Slots given.
        given: usize,
    },
    /// No graph input or output with this index.
    NoSuchTensor {
        /// The index asked for.
        index: usize,
        /// How many there are.
        count: usize,
    },
    /// Input or output accessed with the wrong element type.
    WrongDType {
        /// Graph input/output position.
        index: usize,
        /// The model's type.
        expected: mote_format::DType,
        /// The type used.
        found: mote_format::DType,
    },
    /// Input data of the wrong size.
    WrongInputSize {
        /// Graph input position.
        index: usize,
        /// Bytes the model expects.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
}

impl From<mote_format::Error> for Error {
    fn from(e: mote_format::Error) -> Self {
        Error::Format(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Format(e) => write!(f, "{e}"),
            Error::InvalidOp { index, reason } => write!(f, "invalid model: op {index}: {reason}"),
            Error::ArenaTooSmall { needed, given } => {
                write!(
                    f,
                    "arena too small: the model needs {needed} bytes, {given} were given"
                )
            }
            Error::ArenaMisaligned => {
                write!(f, "the arena must start at a 16-byte aligned address")
            }
            Error::WeightCacheTooSmall { needed, given } => write!(
                f,
                "weight cache too small: the model needs {needed} bytes on this machine, {given} were given"
            ),
            Error::PreparedOpsTooFew { needed, given } => write!(
                f,
                "too few prepared-op slots: the model has {needed} ops, {given} slots were given"
            ),
            Error::NoSuchTensor { index, count } => {
                write!(f, "no input/output {index}: the model has {count}")
            }
            Error::WrongDType {
                index,
                expected,
                found,
            } => write!(
                f,
                "input/output {index} is {}, not {}",
                expected.name(),
                found.name()
            ),
            Error::WrongInputSize {
                index,
                expected,
                found,
            } => write!(
                f,
                "input {index} needs {expected} bytes, got {found} (check the shape and dtype)"
            ),
        }
    }
}

impl core::error::Error for Error {}
