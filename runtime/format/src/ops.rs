//! Op codes and their parameters, as stored in the params section.
//!
//! Every op's parameters are a fixed number of little-endian 32-bit words, so decoding needs no
//! heap and a reader can check the count before looking inside. Axes, pads and permutations are
//! in *physical* order: the compiler already converted the ONNX graph to the layout the kernels
//! use (NHWC for spatial ops), so the runtime never reasons about layouts.

use crate::{Error, MAX_RANK};

/// Op codes. Numbers are part of the format: never reuse one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum OpCode {
    /// 2-D convolution (NHWC, OHWI weights), any groups.
    Conv2d = 1,
    /// 2-D transposed convolution.
    ConvTranspose2d = 2,
    /// Fully connected: `[rows, depth] × [units, depth]ᵀ`.
    FullyConnected = 3,
    /// Batched matrix product of two runtime tensors.
    MatMul = 4,
    /// Element-wise binary op with broadcasting.
    Binary = 5,
    /// Standalone activation.
    Unary = 6,
    /// Concatenation along one axis.
    Concat = 7,
    /// Strided slice.
    Slice = 8,
    /// Max pooling.
    MaxPool2d = 9,
    /// Average pooling.
    AvgPool2d = 10,
    /// Reduction over axes.
    Reduce = 11,
    /// Same bytes, new shape.
    Reshape = 12,
    /// Axis permutation.
    Transpose = 13,
    /// Softmax.
    Softmax = 14,
    /// Padding.
    Pad = 15,
    /// Resize.
    Resize = 16,
}

impl OpCode {
    /// Decodes the on-file code.
    pub fn from_code(code: u16) -> Option<OpCode> {
        Some(match code {
            1 => OpCode::Conv2d,
            2 => OpCode::ConvTranspose2d,
            3 => OpCode::FullyConnected,
            4 => OpCode::MatMul,
            5 => OpCode::Binary,
            6 => OpCode::Unary,
            7 => OpCode::Concat,
            8 => OpCode::Slice,
            9 => OpCode::MaxPool2d,
            10 => OpCode::AvgPool2d,
            11 => OpCode::Reduce,
            12 => OpCode::Reshape,
            13 => OpCode::Transpose,
            14 => OpCode::Softmax,
            15 => OpCode::Pad,
            16 => OpCode::Resize,
            _ => return None,
        })
    }

    /// Name used by `mote inspect`.
    pub fn name(self) -> &'static str {
        match self {
            OpCode::Conv2d => "Conv2d",
            OpCode::ConvTranspose2d => "ConvTranspose2d",
            OpCode::FullyConnected => "FullyConnected",
            OpCode::MatMul => "MatMul",
            OpCode::Binary => "Binary",
            OpCode::Unary => "Unary",
            OpCode::Concat => "Concat",
            OpCode::Slice => "Slice",
            OpCode::MaxPool2d => "MaxPool2d",
            OpCode::AvgPool2d => "AvgPool2d",
            OpCode::Reduce => "Reduce",
            OpCode::Reshape => "Reshape",
            OpCode::Transpose => "Transpose",
            OpCode::Softmax => "Softmax",
            OpCode::Pad => "Pad",
            OpCode::Resize => "Resize",
        }
    }
}

/// Activation kinds (fused or standalone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ActivationKind {
    /// Identity.
    None = 0,
    /// `max(x, 0)`.
    Relu = 1,
    /// `clamp(x, a, b)`.
    Clip = 2,
    /// slope `a` below zero.
    LeakyRelu = 3,
    /// logistic.
    Sigmoid = 4,
    /// `clamp(a·x + b, 0, 1)`.
    HardSigmoid = 5,
    /// `x · clamp(x/6 + 1/2, 0, 1)`.
    HardSwish = 6,
    /// `tanh`.
    Tanh = 7,
}

/// An activation with its two parameters (`a`, `b`; unused ones are 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationSpec {
    /// Which function.
    pub kind: ActivationKind,
    /// First parameter (Clip min, LeakyRelu alpha, HardSigmoid alpha).
    pub a: f32,
    /// Second parameter (Clip max, HardSigmoid beta).
    pub b: f32,
}

impl ActivationSpec {
    /// No activation.
    pub const NONE: ActivationSpec = ActivationSpec {
        kind: ActivationKind::None,
        a: 0.0,
        b: 0.0,
    };
}

impl Default for ActivationSpec {
    fn default() -> Self {
        ActivationSpec::NONE
    }
}

/// Element-wise binary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum BinaryKind {
    /// `a + b`
    Add = 0,
    /// `a - b`
    Sub = 1,
    /// `a * b`
    Mul = 2,
    /// `a / b`
    Div = 3,
    /// `max`
    Max = 4,
    /// `min`
    Min = 5,
}

/// Reductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ReduceKind {
    /// Arithmetic mean.
    Mean = 0,
}

/// Padding modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum PadKind {
    /// Constant value.
    Constant = 0,
    /// Mirror, edge not repeated.
    Reflect = 1,
    /// Repeat the edge.
    Edge = 2,
}

/// Resize interpolation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ResizeMode {
    /// Nearest neighbour.
    Nearest = 0,
    /// Linear per resized axis.
    Linear = 1,
}

/// Resize coordinate transformation (ONNX names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ResizeCoordinate {
    /// `half_pixel`
    HalfPixel = 0,
    /// `asymmetric`
    Asymmetric = 1,
    /// `align_corners`
    AlignCorners = 2,
    /// `pytorch_half_pixel`
    PytorchHalfPixel = 3,
    /// `tf_half_pixel_for_nn`
    TfHalfPixelForNn = 4,
    /// `half_pixel_symmetric`
    HalfPixelSymmetric = 5,
}

/// Resize nearest rounding (ONNX names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ResizeNearest {
    /// `round_prefer_floor`
    RoundPreferFloor = 0,
    /// `round_prefer_ceil`
    RoundPreferCeil = 1,
    /// `floor`
    Floor = 2,
    /// `ceil`
    Ceil = 3,
}

/// Convolution parameters (input NHWC, weights OHWI, optional bias).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Conv2d {
    /// Strides (h, w).
    pub stride: [u32; 2],
    /// Dilations (h, w).
    pub dilation: [u32; 2],
    /// Pads: top, left, bottom, right.
    pub pads: [u32; 4],
    /// Groups.
    pub groups: u32,
    /// Fused activation.
    pub activation: ActivationSpec,
}

/// Transposed convolution parameters.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct ConvTranspose2d {
    /// Strides (h, w).
    pub stride: [u32; 2],
    /// Dilations (h, w).
    pub dilation: [u32; 2],
    /// Rows/columns cropped from the top/left of the full output.
    pub pads: [u32; 2],
    /// Groups.
    pub groups: u32,
    /// Fused activation.
    pub activation: ActivationSpec,
}

/// Pooling parameters.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Pool2d {
    /// Window (h, w).
    pub kernel: [u32; 2],
    /// Strides (h, w).
    pub stride: [u32; 2],
    /// Dilations (h, w).
    pub dilation: [u32; 2],
    /// Explicit pads: top, left, bottom, right.
    pub pads: [u32; 4],
    /// Average pooling: count padding in the divisor.
    pub count_include_pad: bool,
    /// Fused activation.
    pub activation: ActivationSpec,
}

/// Resize parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resize {
    /// Interpolation.
    pub mode: ResizeMode,
    /// Coordinate transformation.
    pub coordinate: ResizeCoordinate,
    /// Nearest rounding.
    pub nearest: ResizeNearest,
    /// Scale per physical axis.
    pub scales: [f32; MAX_RANK],
}

/// The parameters of one op, decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OpParams {
    /// Inputs: x, weights, optional bias.
    Conv2d(Conv2d),
    /// Inputs: x, weights, optional bias.
    ConvTranspose2d(ConvTranspose2d),
    /// Inputs: x, weights `[units, depth]`, optional bias.
    FullyConnected {
        /// Fused activation.
        activation: ActivationSpec,
    },
    /// Inputs: a, b.
    MatMul,
    /// Inputs: a, b.
    Binary {
        /// Operation.
        kind: BinaryKind,
        /// Fused activation.
        activation: ActivationSpec,
    },
    /// Input: x.
    Unary {
        /// The activation.
        activation: ActivationSpec,
    },
    /// Inputs: any number ≥ 1.
    Concat {
        /// Physical axis.
        axis: u32,
    },
    /// Input: x.
    Slice {
        /// Start per physical axis.
        starts: [i32; MAX_RANK],
        /// Step per physical axis.
        steps: [i32; MAX_RANK],
    },
    /// Input: x.
    MaxPool2d(Pool2d),
    /// Input: x.
    AvgPool2d(Pool2d),
    /// Input: x.
    Reduce {
        /// Reduction.
        kind: ReduceKind,
        /// Bit i: physical axis i is reduced.
        axes_mask: u32,
    },
    /// Input: x. Output has the same bytes.
    Reshape,
    /// Input: x.
    Transpose {
        /// Output axis i is input axis `perm[i]`.
        perm: [u32; MAX_RANK],
    },
    /// Input: x.
    Softmax {
        /// Physical axis.
        axis: u32,
        /// Opset < 13 semantics: all axes from `axis` on form one.
        flatten: bool,
    },
    /// Input: x.
    Pad {
        /// Mode.
        kind: PadKind,
        /// Constant value (f32 bits; for integer tensors, the value as f32).
        value: f32,
        /// Elements added before each physical axis (negative crops).
        begin: [i32; MAX_RANK],
    },
    /// Input: x.
    Resize(Resize),
}

struct Words<'a> {
    words: &'a [u8],
    at: usize,
    op: u32,
}

impl Words<'_> {
    fn u32(&mut self) -> Result<u32, Error> {
        let v = crate::layout::rd_u32(self.words, self.at).ok_or(Error::BadOp {
            index: self.op,
            reason: "parameters too short for the op code",
        })?;
        self.at += 4;
        Ok(v)
    }
    fn i32(&mut self) -> Result<i32, Error> {
        Ok(self.u32()? as i32)
    }
    fn f32(&mut self) -> Result<f32, Error> {
        let v = f32::from_bits(self.u32()?);
        if v.is_nan() {
            return Err(Error::BadOp {
                index: self.op,
                reason: "NaN parameter",
            });
        }
        Ok(v)
    }
    fn bool(&mut self) -> Result<bool, Error> {
        match self.u32()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::BadOp {
                index: self.op,
                reason: "boolean parameter is neither 0 nor 1",
            }),
        }
    }
    fn bad(&self, reason: &'static str) -> Error {
        Error::BadOp {
            index: self.op,
            reason,
        }
    }
    fn pair(&mut self) -> Result<[u32; 2], Error> {
        Ok([self.u32()?, self.u32()?])
    }
    fn quad(&mut self) -> Result<[u32; 4], Error> {
        Ok([self.u32()?, self.u32()?, self.u32()?, self.u32()?])
    }
    fn i32s(&mut self) -> Result<[i32; MAX_RANK], Error> {
        let mut out = [0i32; MAX_RANK];
        for v in out.iter_mut() {
            *v = self.i32()?;
        }
        Ok(out)
    }
    fn activation(&mut self) -> Result<ActivationSpec, Error> {
        let kind = match self.u32()? {
            0 => ActivationKind::None,
            1 => ActivationKind::Relu,
            2 => ActivationKind::Clip,
            3 => ActivationKind::LeakyRelu,
            4 => ActivationKind::Sigmoid,
            5 => ActivationKind::HardSigmoid,
            6 => ActivationKind::HardSwish,
            7 => ActivationKind::Tanh,
            _ => return Err(self.bad("unknown activation kind")),
        };
        Ok(ActivationSpec {
            kind,
            a: self.f32()?,
            b: self.f32()?,
        })
    }
}

impl OpParams {
    /// The op code these parameters belong to.
    pub fn opcode(&self) -> OpCode {
        match self {
            OpParams::Conv2d(_) => OpCode::Conv2d,
            OpParams::ConvTranspose2d(_) => OpCode::ConvTranspose2d,
            OpParams::FullyConnected { .. } => OpCode::FullyConnected,
            OpParams::MatMul => OpCode::MatMul,
            OpParams::Binary { .. } => OpCode::Binary,
            OpParams::Unary { .. } => OpCode::Unary,
            OpParams::Concat { .. } => OpCode::Concat,
            OpParams::Slice { .. } => OpCode::Slice,
            OpParams::MaxPool2d(_) => OpCode::MaxPool2d,
            OpParams::AvgPool2d(_) => OpCode::AvgPool2d,
            OpParams::Reduce { .. } => OpCode::Reduce,
            OpParams::Reshape => OpCode::Reshape,
            OpParams::Transpose { .. } => OpCode::Transpose,
            OpParams::Softmax { .. } => OpCode::Softmax,
            OpParams::Pad { .. } => OpCode::Pad,
            OpParams::Resize(_) => OpCode::Resize,
        }
    }

    /// Decodes the parameter words (`bytes`, a multiple of 4) of op `index`.
    pub(crate) fn decode(index: u32, opcode: OpCode, bytes: &[u8]) -> Result<OpParams, Error> {
        let mut w = Words {
            words: bytes,
            at: 0,
            op: index,
        };
        let params = match opcode {
            OpCode::Conv2d => OpParams::Conv2d(Conv2d {
                stride: w.pair()?,
                dilation: w.pair()?,
                pads: w.quad()?,
                groups: w.u32()?,
                activation: w.activation()?,
            }),
            OpCode::ConvTranspose2d => OpParams::ConvTranspose2d(ConvTranspose2d {
                stride: w.pair()?,
                dilation: w.pair()?,
                pads: w.pair()?,
                groups: w.u32()?,
                activation: w.activation()?,
            }),
            OpCode::FullyConnected => OpParams::FullyConnected {
                activation: w.activation()?,
            },
            OpCode::MatMul => OpParams::MatMul,
            OpCode::Binary => {
                let kind = match w.u32()? {
                    0 => BinaryKind::Add,
                    1 => BinaryKind::Sub,
                    2 => BinaryKind::Mul,
                    3 => BinaryKind::Div,
                    4 => BinaryKind::Max,
                    5 => BinaryKind::Min,
                    _ => return Err(w.bad("unknown binary op kind")),
                };
                OpParams::Binary {
                    kind,
                    activation: w.activation()?,
                }
            }
            OpCode::Unary => OpParams::Unary {
                activation: w.activation()?,
            },
            OpCode::Concat => OpParams::Concat { axis: w.u32()? },
            OpCode::Slice => OpParams::Slice {
                starts: w.i32s()?,
                steps: w.i32s()?,
            },
            OpCode::MaxPool2d | OpCode::AvgPool2d => {
                let p = Pool2d {
                    kernel: w.pair()?,
                    stride: w.pair()?,
                    dilation: w.pair()?,
                    pads: w.quad()?,
                    count_include_pad: w.bool()?,
                    activation: w.activation()?,
                };
                if opcode == OpCode::MaxPool2d {
                    OpParams::MaxPool2d(p)
                } else {
                    OpParams::AvgPool2d(p)
                }
            }
            OpCode::Reduce => {
                let kind = match w.u32()? {
                    0 => ReduceKind::Mean,
                    _ => return Err(w.bad("unknown reduction")),
                };
                OpParams::Reduce {
                    kind,
                    axes_mask: w.u32()?,
                }
            }
            OpCode::Reshape => OpParams::Reshape,
            OpCode::Transpose => {
                let mut perm = [0u32; MAX_RANK];
                for p in perm.iter_mut() {
                    *p = w.u32()?;
                }
                OpParams::Transpose { perm }
            }
            OpCode::Softmax => OpParams::Softmax {
                axis: w.u32()?,
                flatten: w.bool()?,
            },
            OpCode::Pad => {
                let kind = match w.u32()? {
                    0 => PadKind::Constant,
                    1 => PadKind::Reflect,
                    2 => PadKind::Edge,
                    _ => return Err(w.bad("unknown pad mode")),
                };
                OpParams::Pad {
                    kind,
                    value: w.f32()?,
                    begin: w.i32s()?,
                }
            }
            OpCode::Resize => {
                let mode = match w.u32()? {
                    0 => ResizeMode::Nearest,
                    1 => ResizeMode::Linear,
                    _ => return Err(w.bad("unknown resize mode")),
                };
                let coordinate = match w.u32()? {
                    0 => ResizeCoordinate::HalfPixel,
                    1 => ResizeCoordinate::Asymmetric,
                    2 => ResizeCoordinate::AlignCorners,
                    3 => ResizeCoordinate::PytorchHalfPixel,
                    4 => ResizeCoordinate::TfHalfPixelForNn,
                    5 => ResizeCoordinate::HalfPixelSymmetric,
                    _ => return Err(w.bad("unknown resize coordinate mode")),
                };
                let nearest = match w.u32()? {
                    0 => ResizeNearest::RoundPreferFloor,
                    1 => ResizeNearest::RoundPreferCeil,
                    2 => ResizeNearest::Floor,
                    3 => ResizeNearest::Ceil,
                    _ => return Err(w.bad("unknown resize nearest mode")),
                };
                let mut scales = [1.0f32; MAX_RANK];
                for s in scales.iter_mut() {
                    *s = w.f32()?;
                    if !(s.is_finite() && *s > 0.0) {
                        return Err(w.bad("resize scale is not a positive finite number"));
                    }
                }
                OpParams::Resize(Resize {
                    mode,
                    coordinate,
                    nearest,
                    scales,
                })
            }
        };
        if w.at != bytes.len() {
            return Err(Error::BadOp {
                index,
                reason: "parameters longer than the op code needs",
            });
        }
        Ok(params)
    }

    /// Appends the parameter words.
    #[cfg(feature = "write")]
    pub(crate) fn encode(&self, out: &mut alloc::vec::Vec<u32>) {
        fn act(out: &mut alloc::vec::Vec<u32>, a: &ActivationSpec) {
            out.extend_from_slice(&[a.kind as u32, a.a.to_bits(), a.b.to_bits()]);
        }
        match self {
            OpParams::Conv2d(c) => {
                out.extend_from_slice(&c.stride);
                out.extend_from_slice(&c.dilation);
                out.extend_from_slice(&c.pads);
                out.push(c.groups);
                act(out, &c.activation);
            }
            OpParams::ConvTranspose2d(c) => {
                out.extend_from_slice(&c.stride);
                out.extend_from_slice(&c.dilation);
                out.extend_from_slice(&c.pads);
                out.push(c.groups);
                act(out, &c.activation);
            }
            OpParams::FullyConnected { activation } | OpParams::Unary { activation } => {
                act(out, activation)
            }
            OpParams::MatMul | OpParams::Reshape => {}
            OpParams::Binary { kind, activation } => {
                out.push(*kind as u32);
                act(out, activation);
            }
            OpParams::Concat { axis } => out.push(*axis),
            OpParams::Slice { starts, steps } => {
                out.extend(starts.iter().map(|&v| v as u32));
                out.extend(steps.iter().map(|&v| v as u32));
            }
            OpParams::MaxPool2d(p) | OpParams::AvgPool2d(p) => {
                out.extend_from_slice(&p.kernel);
                out.extend_from_slice(&p.stride);
                out.extend_from_slice(&p.dilation);
                out.extend_from_slice(&p.pads);
                out.push(p.count_include_pad as u32);
                act(out, &p.activation);
            }
            OpParams::Reduce { kind, axes_mask } => {
                out.push(*kind as u32);
                out.push(*axes_mask);
            }
            OpParams::Transpose { perm } => out.extend_from_slice(perm),
            OpParams::Softmax { axis, flatten } => {
                out.push(*axis);
                out.push(*flatten as u32);
            }
            OpParams::Pad { kind, value, begin } => {
                out.push(*kind as u32);
                out.push(value.to_bits());
                out.extend(begin.iter().map(|&v| v as u32));
            }
            OpParams::Resize(r) => {
                out.push(r.mode as u32);
                out.push(r.coordinate as u32);
                out.push(r.nearest as u32);
                out.extend(r.scales.iter().map(|s| s.to_bits()));
            }
        }
    }
}
