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
    /// int8 convolution (per-channel requantization).
    Conv2dS8 = 17,
    /// int8 fully connected.
    FullyConnectedS8 = 18,
    /// int8 add / sub with rescaling.
    AddS8 = 19,
    /// int8 multiply.
    MulS8 = 20,
    /// int8 max pooling.
    MaxPool2dS8 = 21,
    /// int8 average pooling.
    AvgPool2dS8 = 22,
    /// int8 softmax.
    SoftmaxS8 = 23,
    /// f32 → int8.
    Quantize = 24,
    /// int8 → f32.
    Dequantize = 25,
    /// int8 → int8 with another scale.
    Requantize = 26,
    /// int8 → int8 through a 256-entry table.
    LookupS8 = 27,
    /// Symmetric int8 weights → f32, one scale per channel (weights kept at a quarter of their
    /// float size in the file, dequantized into the arena just before the float op reads them).
    DequantizeWeights = 40,
    /// int8 mean over axes, requantized once.
    MeanS8 = 28,
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
            17 => OpCode::Conv2dS8,
            18 => OpCode::FullyConnectedS8,
            19 => OpCode::AddS8,
            20 => OpCode::MulS8,
            21 => OpCode::MaxPool2dS8,
            22 => OpCode::AvgPool2dS8,
            23 => OpCode::SoftmaxS8,
            24 => OpCode::Quantize,
            25 => OpCode::Dequantize,
            26 => OpCode::Requantize,
            27 => OpCode::LookupS8,
            40 => OpCode::DequantizeWeights,
            28 => OpCode::MeanS8,
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
            OpCode::Conv2dS8 => "Conv2dS8",
            OpCode::FullyConnectedS8 => "FullyConnectedS8",
            OpCode::AddS8 => "AddS8",
            OpCode::MulS8 => "MulS8",
            OpCode::MaxPool2dS8 => "MaxPool2dS8",
            OpCode::AvgPool2dS8 => "AvgPool2dS8",
            OpCode::SoftmaxS8 => "SoftmaxS8",
            OpCode::Quantize => "Quantize",
            OpCode::Dequantize => "Dequantize",
            OpCode::Requantize => "Requantize",
            OpCode::LookupS8 => "LookupS8",
            OpCode::DequantizeWeights => "DequantizeWeights",
            OpCode::MeanS8 => "MeanS8",
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

/// Which `MultiplyByQuantizedMultiplier` rounding an int8 op uses (see `docs/quantization.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u32)]
pub enum RoundingMode {
    /// gemmlowp doubling high multiply, then rounding shift.
    #[default]
    Double = 0,
    /// One 64-bit multiply and rounding shift.
    Single = 1,
    /// LiteRT's reference fully connected kernel: `round(acc · scale)` in double precision, the
    /// scale stored as the bits of an f64 (two int32 words per channel, low word first).
    DoubleScale = 2,
    /// ONNX Runtime's (MLAS) and XNNPACK's requantization: `round(f32(acc) · scale)` in f32, ties
    /// to even, the scale stored as the bits of an f32 in the multiplier word (shifts 0). Conv
    /// and fully connected layers only.
    FloatScale = 3,
}

/// The output stage of an int8 conv / fully connected layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QuantOutput {
    /// `−input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Rounding.
    pub rounding: RoundingMode,
}

/// int8 add/sub parameters (TFLite's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AddS8 {
    /// Subtract instead of add.
    pub subtract: bool,
    /// `−zp(a)`.
    pub input1_offset: i32,
    /// `−zp(b)`.
    pub input2_offset: i32,
    /// `zp(out)`.
    pub output_offset: i32,
    /// Left shift (20).
    pub left_shift: i32,
    /// Multiplier of a.
    pub input1_multiplier: i32,
    /// Shift of a.
    pub input1_shift: i32,
    /// Multiplier of b.
    pub input2_multiplier: i32,
    /// Shift of b.
    pub input2_shift: i32,
    /// Output multiplier.
    pub output_multiplier: i32,
    /// Output shift.
    pub output_shift: i32,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Rounding.
    pub rounding: RoundingMode,
}

/// int8 mul parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MulS8 {
    /// `−zp(a)`.
    pub input1_offset: i32,
    /// `−zp(b)`.
    pub input2_offset: i32,
    /// `zp(out)`.
    pub output_offset: i32,
    /// Output multiplier.
    pub output_multiplier: i32,
    /// Output shift.
    pub output_shift: i32,
    /// Lower clamp.
    pub act_min: i32,
    /// Upper clamp.
    pub act_max: i32,
    /// Rounding.
    pub rounding: RoundingMode,
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
    /// Inputs: x (i8), weights (i8), bias (i32), multipliers (i32), shifts (i32).
    Conv2dS8 {
        /// Geometry (its activation is unused).
        conv: Conv2d,
        /// Output stage.
        q: QuantOutput,
    },
    /// Inputs: x (i8), weights (i8), bias (i32), multipliers (i32), shifts (i32).
    FullyConnectedS8 {
        /// Output stage.
        q: QuantOutput,
    },
    /// Inputs: a, b (i8).
    AddS8(AddS8),
    /// Inputs: a, b (i8).
    MulS8(MulS8),
    /// Input: x (i8); output shares its quantization.
    MaxPool2dS8 {
        /// Geometry (its activation is unused).
        pool: Pool2d,
        /// Lower clamp.
        act_min: i32,
        /// Upper clamp.
        act_max: i32,
    },
    /// Input: x (i8); output shares its quantization.
    AvgPool2dS8 {
        /// Geometry (its activation is unused).
        pool: Pool2d,
        /// Lower clamp.
        act_min: i32,
        /// Upper clamp.
        act_max: i32,
    },
    /// Input: x (i8); output scale 1/256, zero point −128.
    SoftmaxS8 {
        /// Physical axis.
        axis: u32,
        /// Opset < 13 flattening.
        flatten: bool,
        /// Fixed-point beta · input scale.
        input_multiplier: i32,
        /// Its left shift.
        input_left_shift: i32,
        /// Smallest difference that is not −∞.
        diff_min: i32,
    },
    /// Input: x (f32); output i8.
    Quantize {
        /// Scale.
        scale: f32,
        /// Zero point.
        zero_point: i32,
    },
    /// Input: x (i8); output f32.
    Dequantize {
        /// Scale.
        scale: f32,
        /// Zero point.
        zero_point: i32,
    },
    /// Inputs: q (i8 constant), scales (f32 constant, one per channel of `axis`, or a single
    /// one); output f32 of q's shape: `q as f32 · scales[channel]`.
    DequantizeWeights {
        /// The channel axis of q and the output.
        axis: u32,
    },
    /// Input: x (i8); output i8.
    Requantize {
        /// Input zero point.
        input_zero_point: i32,
        /// Output zero point.
        output_zero_point: i32,
        /// Multiplier.
        multiplier: i32,
        /// Shift.
        shift: i32,
        /// Rounding.
        rounding: RoundingMode,
    },
    /// Inputs: x (i8), table (i8, 256 entries).
    LookupS8,
    /// Input: x (i8); output i8 with the reduced axes of extent 1:
    /// `clamp(mbqm(Σ (q − input_zero_point), multiplier, shift) + output_zero_point)`, the
    /// multiplier holding `input_scale / (count · output_scale)`.
    MeanS8 {
        /// Bit i: physical axis i is reduced.
        axes_mask: u32,
        /// Input zero point.
        input_zero_point: i32,
        /// Output zero point.
        output_zero_point: i32,
        /// Multiplier.
        multiplier: i32,
        /// Shift.
        shift: i32,
        /// Rounding.
        rounding: RoundingMode,
    },
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
        self.at = self.at.saturating_add(4);
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
    fn rounding(&mut self) -> Result<RoundingMode, Error> {
        match self.u32()? {
            0 => Ok(RoundingMode::Double),
            1 => Ok(RoundingMode::Single),
            2 => Ok(RoundingMode::DoubleScale),
            3 => Ok(RoundingMode::FloatScale),
            _ => Err(self.bad("unknown rounding mode")),
        }
    }
    fn quant_output(&mut self) -> Result<QuantOutput, Error> {
        let q = QuantOutput {
            input_offset: self.i32()?,
            output_offset: self.i32()?,
            act_min: self.i32()?,
            act_max: self.i32()?,
            rounding: self.rounding()?,
        };
        self.clamp_range(q.act_min, q.act_max)?;
        Ok(q)
    }
    fn clamp_range(&self, lo: i32, hi: i32) -> Result<(), Error> {
        if (-128..=127).contains(&lo) && (-128..=127).contains(&hi) && lo <= hi {
            Ok(())
        } else {
            Err(self.bad("int8 clamp range outside [-128, 127]"))
        }
    }
    fn conv2d(&mut self) -> Result<Conv2d, Error> {
        Ok(Conv2d {
            stride: self.pair()?,
            dilation: self.pair()?,
            pads: self.quad()?,
            groups: self.u32()?,
            activation: self.activation()?,
        })
    }
    fn pool2d(&mut self) -> Result<Pool2d, Error> {
        Ok(Pool2d {
            kernel: self.pair()?,
            stride: self.pair()?,
            dilation: self.pair()?,
            pads: self.quad()?,
            count_include_pad: self.bool()?,
            activation: self.activation()?,
        })
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
            OpParams::Conv2dS8 { .. } => OpCode::Conv2dS8,
            OpParams::FullyConnectedS8 { .. } => OpCode::FullyConnectedS8,
            OpParams::AddS8(_) => OpCode::AddS8,
            OpParams::MulS8(_) => OpCode::MulS8,
            OpParams::MaxPool2dS8 { .. } => OpCode::MaxPool2dS8,
            OpParams::AvgPool2dS8 { .. } => OpCode::AvgPool2dS8,
            OpParams::SoftmaxS8 { .. } => OpCode::SoftmaxS8,
            OpParams::Quantize { .. } => OpCode::Quantize,
            OpParams::Dequantize { .. } => OpCode::Dequantize,
            OpParams::Requantize { .. } => OpCode::Requantize,
            OpParams::LookupS8 => OpCode::LookupS8,
            OpParams::DequantizeWeights { .. } => OpCode::DequantizeWeights,
            OpParams::MeanS8 { .. } => OpCode::MeanS8,
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
            OpCode::Conv2dS8 => OpParams::Conv2dS8 {
                conv: w.conv2d()?,
                q: w.quant_output()?,
            },
            OpCode::FullyConnectedS8 => OpParams::FullyConnectedS8 {
                q: w.quant_output()?,
            },
            OpCode::AddS8 => {
                let p = AddS8 {
                    subtract: w.bool()?,
                    input1_offset: w.i32()?,
                    input2_offset: w.i32()?,
                    output_offset: w.i32()?,
                    left_shift: w.i32()?,
                    input1_multiplier: w.i32()?,
                    input1_shift: w.i32()?,
                    input2_multiplier: w.i32()?,
                    input2_shift: w.i32()?,
                    output_multiplier: w.i32()?,
                    output_shift: w.i32()?,
                    act_min: w.i32()?,
                    act_max: w.i32()?,
                    rounding: w.rounding()?,
                };
                w.clamp_range(p.act_min, p.act_max)?;
                OpParams::AddS8(p)
            }
            OpCode::MulS8 => {
                let p = MulS8 {
                    input1_offset: w.i32()?,
                    input2_offset: w.i32()?,
                    output_offset: w.i32()?,
                    output_multiplier: w.i32()?,
                    output_shift: w.i32()?,
                    act_min: w.i32()?,
                    act_max: w.i32()?,
                    rounding: w.rounding()?,
                };
                w.clamp_range(p.act_min, p.act_max)?;
                OpParams::MulS8(p)
            }
            OpCode::MaxPool2dS8 | OpCode::AvgPool2dS8 => {
                let pool = w.pool2d()?;
                let (act_min, act_max) = (w.i32()?, w.i32()?);
                w.clamp_range(act_min, act_max)?;
                if opcode == OpCode::MaxPool2dS8 {
                    OpParams::MaxPool2dS8 {
                        pool,
                        act_min,
                        act_max,
                    }
                } else {
                    OpParams::AvgPool2dS8 {
                        pool,
                        act_min,
                        act_max,
                    }
                }
            }
            OpCode::SoftmaxS8 => OpParams::SoftmaxS8 {
                axis: w.u32()?,
                flatten: w.bool()?,
                input_multiplier: w.i32()?,
                input_left_shift: w.i32()?,
                diff_min: w.i32()?,
            },
            OpCode::Quantize | OpCode::Dequantize => {
                let scale = w.f32()?;
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(w.bad("quantization scale is not a positive finite number"));
                }
                let zero_point = w.i32()?;
                if !(-128..=127).contains(&zero_point) {
                    return Err(w.bad("int8 zero point outside [-128, 127]"));
                }
                if opcode == OpCode::Quantize {
                    OpParams::Quantize { scale, zero_point }
                } else {
                    OpParams::Dequantize { scale, zero_point }
                }
            }
            OpCode::DequantizeWeights => {
                let axis = w.u32()?;
                if axis as usize >= crate::MAX_RANK {
                    return Err(w.bad("channel axis beyond the largest rank"));
                }
                OpParams::DequantizeWeights { axis }
            }
            OpCode::Requantize => OpParams::Requantize {
                input_zero_point: w.i32()?,
                output_zero_point: w.i32()?,
                multiplier: w.i32()?,
                shift: w.i32()?,
                rounding: w.rounding()?,
            },
            OpCode::LookupS8 => OpParams::LookupS8,
            OpCode::MeanS8 => OpParams::MeanS8 {
                axes_mask: w.u32()?,
                input_zero_point: w.i32()?,
                output_zero_point: w.i32()?,
                multiplier: w.i32()?,
                shift: w.i32()?,
                rounding: w.rounding()?,
            },
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
        fn quant_output(out: &mut alloc::vec::Vec<u32>, q: &QuantOutput) {
            for v in [q.input_offset, q.output_offset, q.act_min, q.act_max] {
                out.push(v as u32);
            }
            out.push(q.rounding as u32);
        }
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
            OpParams::Conv2dS8 { conv, q } => {
                OpParams::Conv2d(*conv).encode(out);
                quant_output(out, q);
            }
            OpParams::FullyConnectedS8 { q } => quant_output(out, q),
            OpParams::AddS8(p) => {
                out.push(p.subtract as u32);
                for v in [
                    p.input1_offset,
                    p.input2_offset,
                    p.output_offset,
                    p.left_shift,
                    p.input1_multiplier,
                    p.input1_shift,
                    p.input2_multiplier,
                    p.input2_shift,
                    p.output_multiplier,
                    p.output_shift,
                    p.act_min,
                    p.act_max,
                ] {
                    out.push(v as u32);
                }
                out.push(p.rounding as u32);
            }
            OpParams::MulS8(p) => {
                for v in [
                    p.input1_offset,
                    p.input2_offset,
                    p.output_offset,
                    p.output_multiplier,
                    p.output_shift,
                    p.act_min,
                    p.act_max,
                ] {
                    out.push(v as u32);
                }
                out.push(p.rounding as u32);
            }
            OpParams::MaxPool2dS8 {
                pool,
                act_min,
                act_max,
            }
            | OpParams::AvgPool2dS8 {
                pool,
                act_min,
                act_max,
            } => {
                OpParams::MaxPool2d(*pool).encode(out);
                out.push(*act_min as u32);
                out.push(*act_max as u32);
            }
            OpParams::SoftmaxS8 {
                axis,
                flatten,
                input_multiplier,
                input_left_shift,
                diff_min,
            } => {
                out.push(*axis);
                out.push(*flatten as u32);
                out.push(*input_multiplier as u32);
                out.push(*input_left_shift as u32);
                out.push(*diff_min as u32);
            }
            OpParams::Quantize { scale, zero_point }
            | OpParams::Dequantize { scale, zero_point } => {
                out.push(scale.to_bits());
                out.push(*zero_point as u32);
            }
            OpParams::DequantizeWeights { axis } => out.push(*axis),
            OpParams::Requantize {
                input_zero_point,
                output_zero_point,
                multiplier,
                shift,
                rounding,
            } => {
                for v in [*input_zero_point, *output_zero_point, *multiplier, *shift] {
                    out.push(v as u32);
                }
                out.push(*rounding as u32);
            }
            OpParams::LookupS8 => {}
            OpParams::MeanS8 {
                axes_mask,
                input_zero_point,
                output_zero_point,
                multiplier,
                shift,
                rounding,
            } => {
                out.push(*axes_mask);
                for v in [*input_zero_point, *output_zero_point, *multiplier, *shift] {
                    out.push(v as u32);
                }
                out.push(*rounding as u32);
            }
        }
    }
}
