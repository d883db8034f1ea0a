//! Failures and exit codes.
//!
//! Every failure is printed as one line, `error: ...`, with the whole cause chain joined by
//! `: ` (anyhow's `{:#}`), and the process exits with the code of its [`ExitKind`]:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | `mote verify`: an output's relative error exceeds `--rtol` |
//! | 2 | usage: bad command line (clap's default code) or options that contradict each other |
//! | 3 | invalid or unsupported model: the ONNX file does not compile, the `.mote` file is damaged, of another format version or fails validation, the model cannot run (also used for internal errors, which are bugs) |
//! | 4 | bad input file: a `.npy` of the wrong dtype or shape, an unreadable or undecodable image, a labels file that does not fit the model |
//! | 5 | I/O: a file cannot be read or written, ONNX Runtime cannot be found or loaded |

use std::fmt;
use std::process::ExitCode;

/// The class of a failure; decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// A verified output is beyond tolerance (exit 1).
    Verification,
    /// Bad command line (exit 2).
    Usage,
    /// Invalid or unsupported model (exit 3).
    Model,
    /// Bad input file: npy, image, labels (exit 4).
    Input,
    /// Reading or writing a file, loading a library (exit 5).
    Io,
}

impl ExitKind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitKind::Verification => 1,
            ExitKind::Usage => 2,
            ExitKind::Model => 3,
            ExitKind::Input => 4,
            ExitKind::Io => 5,
        }
    }
}

/// A failure: what went wrong (with its chain of causes) and which exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    /// The exit-code class.
    pub kind: ExitKind,
    /// The error and its context chain.
    pub error: anyhow::Error,
}

impl Failure {
    /// A failure of `kind` with message `msg`.
    pub fn new(kind: ExitKind, msg: impl fmt::Display) -> Self {
        Failure {
            kind,
            error: anyhow::anyhow!("{msg}"),
        }
    }

    /// The exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.code())
    }

    /// Adds context in front of the message (keeping the kind).
    pub fn context(self, ctx: impl fmt::Display + Send + Sync + 'static) -> Self {
        Failure {
            kind: self.kind,
            error: self.error.context(ctx),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line: the chain joined with ": ", newlines folded.
        let s = format!("{:#}", self.error);
        let one_line: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        write!(f, "{}", one_line.join(" "))
    }
}

/// Result of the CLI's functions.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Tags an error with an exit class and context.
pub trait Classify<T> {
    /// Maps the error to `kind`, with `ctx` in front of its message.
    fn or_fail<C: fmt::Display + Send + Sync + 'static>(self, kind: ExitKind, ctx: C) -> Result<T>;
    /// Like [`Classify::or_fail`], with the context computed lazily.
    fn or_fail_with<C: fmt::Display + Send + Sync + 'static, F: FnOnce() -> C>(
        self,
        kind: ExitKind,
        ctx: F,
    ) -> Result<T>;
}

impl<T, E> Classify<T> for std::result::Result<T, E>
where
    E: Into<anyhow::Error>,
{
    fn or_fail<C: fmt::Display + Send + Sync + 'static>(self, kind: ExitKind, ctx: C) -> Result<T> {
        self.map_err(|e| Failure {
            kind,
            error: e.into().context(ctx),
        })
    }
    fn or_fail_with<C: fmt::Display + Send + Sync + 'static, F: FnOnce() -> C>(
        self,
        kind: ExitKind,
        ctx: F,
    ) -> Result<T> {
        self.map_err(|e| Failure {
            kind,
            error: e.into().context(ctx()),
        })
    }
}

/// Returns early with a [`Failure`] of the given kind.
#[macro_export]
macro_rules! fail {
    ($kind:expr, $($arg:tt)+) => {
        return Err($crate::error::Failure::new($kind, format!($($arg)+)))
    };
}
