//! The compiler's graph: ONNX semantics (logical shapes, NCHW axes), fixed shapes, ops already
//! reduced to the set the runtime implements.
//!
//! Why a separate IR rather than working on the protobuf: after import every shape is known,
//! every constant is materialised and every attribute is normalised (pads as top/left/bottom/
//! right, negative axes resolved, defaults filled in), so the passes after it are small.

use mote_format::ActivationSpec;
use mote_onnx::Tensor;

/// Tensor id: index into [`Graph::tensors`].
pub type TId = usize;

/// One tensor of the graph.
#[derive(Clone, Debug)]
pub struct TensorDef {
    /// ONNX name.
    pub name: String,
    /// Logical shape (ONNX axis order).
    pub shape: Vec<usize>,
    /// Constant value (weights and other initializers), already in `shape`.
    pub value: Option<Tensor>,
    /// Element type at run time: F32, or I8 for quantized tensors (and I32 for biases).
    pub dtype: DType,
    /// Quantization of an integer tensor (runtime int8 or integer constant).
    pub quant: Option<Quant>,
    /// For a float constant that is exactly the dequantization of integers (QDQ weights and
    /// biases): those integers, with `quant` giving their scale(s) and zero point(s).
    pub qorigin: Option<Tensor>,
}

/// Affine quantization `real = scale · (q − zero_point)`, per tensor (one entry) or per
/// channel along `axis`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quant {
    /// Scales.
    pub scales: Vec<f32>,
    /// Zero points.
    pub zero_points: Vec<i32>,
    /// Channel axis (per-channel only).
    pub axis: usize,
}

impl Quant {
    /// Per-tensor parameters.
    pub fn per_tensor(scale: f32, zero_point: i32) -> Quant {
        Quant {
            scales: vec![scale],
            zero_points: vec![zero_point],
            axis: 0,
        }
    }
    /// The single scale and zero point, if per tensor.
    pub fn single(&self) -> Option<(f32, i32)> {
        match (self.scales.as_slice(), self.zero_points.as_slice()) {
            ([s], [z]) => Some((*s, *z)),
            ([s], []) => Some((*s, 0)),
            _ => None,
        }
    }
}

/// Element types.
pub use mote_format::DType;

/// Element-wise binary operations.
pub use mote_format::BinaryKind;

/// Resize settings.
pub use mote_format::{ResizeCoordinate, ResizeMode, ResizeNearest};

/// Padding modes.
pub use mote_format::PadKind;

/// An operation with normalised attributes; axes are logical (ONNX order).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Inputs: x `[N,C,H,W]`, w `[M, C/g, kH, kW]`, optional bias `[M]`.
    Conv {
        /// (h, w)
        strides: [usize; 2],
        /// (h, w)
        dilations: [usize; 2],
        /// top, left, bottom, right
        pads: [usize; 4],
        /// groups
        groups: usize,
        /// fused activation
        act: ActivationSpec,
    },
    /// Inputs: x `[N,C,H,W]`, w `[C, M/g, kH, kW]` (ONNX layout), optional bias `[M]`.
    ConvTranspose {
        /// (h, w)
        strides: [usize; 2],
        /// (h, w)
        dilations: [usize; 2],
        /// rows/columns cropped at top/left
        pads: [usize; 2],
        /// groups
        groups: usize,
        /// fused activation
        act: ActivationSpec,
    },
    /// Inputs: x `[..., K]`, w `[N, K]`, optional bias `[N]`. Output `[..., N]`.
    FullyConnected {
        /// fused activation
        act: ActivationSpec,
    },
    /// Inputs: a `[..., M, K]`, b `[..., K, N]`, same rank.
    MatMul,
    /// Inputs: a, b of the output's rank (broadcasting).
    Binary {
        /// which
        kind: BinaryKind,
        /// fused activation
        act: ActivationSpec,
    },
    /// A standalone activation.
    Unary(ActivationSpec),
    /// Concatenation.
    Concat {
        /// axis
        axis: usize,
    },
    /// Strided slice (starts already clamped, output shape set).
    Slice {
        /// per axis
        starts: Vec<i64>,
        /// per axis
        steps: Vec<i64>,
    },
    /// 2-D max pooling on `[N,C,H,W]`.
    MaxPool(PoolAttrs),
    /// 2-D average pooling on `[N,C,H,W]`.
    AvgPool(PoolAttrs),
    /// Mean over axes (output shape records keepdims or not).
    ReduceMean {
        /// reduced axes
        axes: Vec<usize>,
    },
    /// Same elements, new shape.
    Reshape,
    /// Axis permutation.
    Transpose {
        /// output axis i = input axis perm[i]
        perm: Vec<usize>,
    },
    /// Softmax.
    Softmax {
        /// axis
        axis: usize,
        /// opset < 13: softmax over all axes from `axis` on
        flatten: bool,
    },
    /// Padding.
    Pad {
        /// mode
        kind: PadKind,
        /// constant value
        value: f32,
        /// elements added before each axis
        begin: Vec<i64>,
    },
    /// f32 → int8 (ONNX QuantizeLinear, per tensor).
    Quantize {
        /// scale
        scale: f32,
        /// zero point
        zero_point: i32,
    },
    /// int8 → f32 (ONNX DequantizeLinear, per tensor).
    Dequantize {
        /// scale
        scale: f32,
        /// zero point
        zero_point: i32,
    },
    /// int8 → int8 with other parameters (inserted by the compiler), the real value multiplied
    /// by `factor` on the way (1 for a plain change of parameters; `1/c` for a division by a
    /// constant `c`, `c` for a multiplication).
    Requantize {
        /// Real factor applied to the value.
        factor: f64,
    },
    /// int8 → int8 through a table (an activation between DequantizeLinear and QuantizeLinear).
    Lookup(ActivationSpec),
    /// Resize.
    Resize {
        /// interpolation
        mode: ResizeMode,
        /// coordinate transform
        coordinate: ResizeCoordinate,
        /// nearest rounding
        nearest: ResizeNearest,
        /// per-axis scale
        scales: Vec<f32>,
    },
}

/// Pooling attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolAttrs {
    /// (h, w)
    pub kernel: [usize; 2],
    /// (h, w)
    pub strides: [usize; 2],
    /// (h, w)
    pub dilations: [usize; 2],
    /// top, left, bottom, right (explicit pads; ceil-mode windows are clipped by the kernel)
    pub pads: [usize; 4],
    /// average pooling: count pads in the divisor
    pub count_include_pad: bool,
    /// fused activation
    pub act: ActivationSpec,
}

/// One node.
#[derive(Clone, Debug)]
pub struct Node {
    /// ONNX node name (or a name made from its output).
    pub name: String,
    /// Operation.
    pub op: Op,
    /// Input tensors.
    pub inputs: Vec<TId>,
    /// Output tensor (every IR op has exactly one).
    pub output: TId,
}

/// A whole graph.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// All tensors.
    pub tensors: Vec<TensorDef>,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// Graph inputs.
    pub inputs: Vec<TId>,
    /// Graph outputs.
    pub outputs: Vec<TId>,
}

impl Graph {
    /// Adds a runtime tensor.
    pub fn add_tensor(&mut self, name: impl Into<String>, shape: Vec<usize>) -> TId {
        self.tensors.push(TensorDef {
            name: name.into(),
            shape,
            value: None,
            dtype: DType::F32,
            quant: None,
            qorigin: None,
        });
        self.tensors.len() - 1
    }

    /// Adds a constant tensor.
    pub fn add_const(&mut self, name: impl Into<String>, value: Tensor) -> TId {
        let shape = value.dims.clone();
        let dtype = match value.data {
            mote_onnx::TensorData::I8(_) => DType::I8,
            mote_onnx::TensorData::I32(_) => DType::I32,
            _ => DType::F32,
        };
        self.tensors.push(TensorDef {
            name: name.into(),
            shape,
            value: Some(value),
            dtype,
            quant: None,
            qorigin: None,
        });
        self.tensors.len() - 1
    }

    /// Shape of `t`.
    pub fn shape(&self, t: TId) -> &[usize] {
        self.tensors
            .get(t)
            .map(|d| d.shape.as_slice())
            .unwrap_or(&[])
    }

    /// Constant value of `t`, if it is a constant.
    pub fn value(&self, t: TId) -> Option<&Tensor> {
        self.tensors.get(t).and_then(|d| d.value.as_ref())
    }

    /// Number of nodes reading `t`, plus one if it is a graph output.
    pub fn uses(&self, t: TId) -> usize {
        self.nodes
            .iter()
            .map(|n| n.inputs.iter().filter(|&&i| i == t).count())
            .sum::<usize>()
            + self.outputs.iter().filter(|&&o| o == t).count()
    }
}
