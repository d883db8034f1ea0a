//! Compile errors: one line each, naming the node, the op and what was expected.

use thiserror::Error;

/// Why a model could not be compiled.
#[derive(Debug, Error)]
pub enum CompileError {
    /// The ONNX file could not be read.
    #[error(transparent)]
    Onnx(#[from] mote_onnx::OnnxError),
    /// An operator mote does not implement.
    #[error(
        "unsupported operator {op} (node '{node}'); see docs/operators.md for the supported list"
    )]
    UnsupportedOp {
        /// Node name.
        node: String,
        /// ONNX op type.
        op: String,
    },
    /// A supported operator used in a way mote does not implement.
    #[error("node '{node}' ({op}): {msg}")]
    Unsupported {
        /// Node name.
        node: String,
        /// ONNX op type.
        op: String,
        /// What is not supported.
        msg: String,
    },
    /// The model is inconsistent (shapes, missing inputs, bad attributes).
    #[error("node '{node}' ({op}): {msg}")]
    Invalid {
        /// Node name.
        node: String,
        /// ONNX op type.
        op: String,
        /// What is wrong.
        msg: String,
    },
    /// A graph input has a dimension that is not fixed.
    #[error("input '{input}' has a dynamic dimension {dim} ('{symbol}'); fix it with --input-shape {input}={suggest}")]
    DynamicDim {
        /// Input name.
        input: String,
        /// Axis.
        dim: usize,
        /// The symbolic name.
        symbol: String,
        /// A suggested shape (batch 1 for the symbolic axes).
        suggest: String,
    },
    /// A `--input-shape` option that does not fit the model.
    #[error("--input-shape: {0}")]
    InputShape(String),
    /// Anything else about the graph as a whole.
    #[error("{0}")]
    Graph(String),
}

/// Result alias.
pub type Result<T, E = CompileError> = std::result::Result<T, E>;
