//! Why a call failed, as the Java exception it becomes.
//!
//! Every kind is one class of `dev.mote` (or of `java.lang` where Java already has the right
//! one), so an app can catch exactly what it can handle: a damaged download
//! (`InvalidModelException`), a model for a newer runtime (`UnsupportedVersionException`), an
//! input of the wrong size (`WrongSizeException`), ...

use mote_runtime::format::Error as FormatError;
use mote_runtime::Error;

/// The kind of failure; [`Kind::class`] names the Java exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The bytes are not a valid .mote model.
    InvalidModel,
    /// The model was written for another major version of the .mote format.
    UnsupportedVersion,
    /// The model bytes do not start at a 16-byte aligned address.
    Misaligned,
    /// No input or output with this index.
    NoSuchTensor,
    /// Data of the wrong byte length for an input or output.
    WrongSize,
    /// A tensor accessed with the wrong element type.
    WrongDType,
    /// A call out of order: a run with an input not written since the last run, or outputs
    /// read before a run.
    InvalidState,
    /// The model was closed (its handle is 0).
    Closed,
    /// An argument Java should not have passed (a heap buffer where a direct one is needed).
    IllegalArgument,
    /// Memory for the model copy or the arena could not be allocated.
    OutOfMemory,
    /// Another runtime error.
    Runtime,
    /// A bug in mote: a broken invariant, or a panic caught at the JNI boundary.
    Internal,
}

impl Kind {
    /// The JNI name of the Java exception class.
    pub fn class(self) -> &'static str {
        match self {
            Kind::InvalidModel => "dev/mote/InvalidModelException",
            Kind::UnsupportedVersion => "dev/mote/UnsupportedVersionException",
            Kind::Misaligned => "dev/mote/MisalignedException",
            Kind::NoSuchTensor => "dev/mote/NoSuchTensorException",
            Kind::WrongSize => "dev/mote/WrongSizeException",
            Kind::WrongDType => "dev/mote/WrongDTypeException",
            Kind::InvalidState => "dev/mote/InvalidStateException",
            Kind::Closed => "dev/mote/ModelClosedException",
            Kind::IllegalArgument => "java/lang/IllegalArgumentException",
            Kind::OutOfMemory => "java/lang/OutOfMemoryError",
            Kind::Runtime => "dev/mote/MoteException",
            Kind::Internal => "dev/mote/InternalException",
        }
    }
}

/// A failure on its way to Java: the kind picks the exception class, the message is its text.
#[derive(Debug)]
pub struct Failure {
    /// Which exception.
    pub kind: Kind,
    /// The exception's message.
    pub message: String,
}

impl Failure {
    /// A failure of `kind` saying `message`.
    pub fn new(kind: Kind, message: String) -> Self {
        Failure { kind, message }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let kind = match e {
            Error::Format(FormatError::Misaligned) | Error::ArenaMisaligned => Kind::Misaligned,
            Error::Format(FormatError::UnsupportedVersion { .. }) => Kind::UnsupportedVersion,
            Error::Format(_) | Error::InvalidOp { .. } => Kind::InvalidModel,
            Error::NoSuchTensor { .. } => Kind::NoSuchTensor,
            Error::WrongDType { .. } => Kind::WrongDType,
            Error::WrongInputSize { .. } => Kind::WrongSize,
            _ => Kind::Runtime,
        };
        Failure::new(kind, e.to_string())
    }
}

/// A JNI call failed. When it threw a Java exception (an out-of-bounds array region, an
/// `OutOfMemoryError`), that exception is pending and is the one Java sees; otherwise this
/// becomes a `MoteException` with the JNI error's text.
impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Self {
        Failure::new(Kind::Runtime, format!("JNI call failed: {e}"))
    }
}
