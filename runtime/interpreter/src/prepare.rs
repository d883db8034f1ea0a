//! Turns an op record into kernel parameters, checking that shapes and parameters agree.
//!
//! This runs once per op at load (validation) and again before each op at run time (a few dozen
//! integer operations), so no per-op state needs to be stored: the interpreter stays heap-free
//! without a size limit on the number of ops. A caller with memory to spare lends a
//! [`PreparedSlot`] per op and the run-time preparation is skipped.

// Indexing here is of fixed `[_; MAX_RANK]` shape arrays by an axis below a rank the reader has
// checked (≤ MAX_RANK), by `r - 1`/`r - 2` after checking `r >= 2`, and by axes and permutation
// entries after checking them against the rank: the bounds were validated at load, and
// indexing keeps the shape checks readable. Arithmetic stays denied (crate level): anything
// computed from model values is checked or saturating.
#![allow(clippy::indexing_slicing)]

use crate::Error;
use mote_format::{
    ActivationKind, ActivationSpec, BinaryKind, Conv2d, DType, IndexList, OpParams, PadKind,
    Pool2d, ReduceKind, ResizeCoordinate, ResizeMode, ResizeNearest, RoundingMode, TensorInfo,
};
use mote_kernels::ops::binary::{AddS8Params, MulS8Params};
use mote_kernels::ops::conv2d::Conv2dS8Params;
use mote_kernels::ops::fully_connected::FullyConnectedS8Params;
use mote_kernels::ops::pool2d::Pool2dS8Params;
use mote_kernels::ops::quantize::{DequantizeParams, QuantizeParams, RequantizeParams};
use mote_kernels::ops::reduce::MeanS8Params;
use mote_kernels::ops::softmax::SoftmaxS8Params;
use mote_kernels::ops::{
    binary::{BinaryOp, BinaryParams},
    conv2d::Conv2dParams,
    conv_transpose2d::ConvTranspose2dParams,
    fully_connected::FullyConnectedParams,
    matmul::MatMulParams,
    pad::{PadMode, PadParams},
    pool2d::Pool2dParams,
    reduce::ReduceParams,
    resize::{CoordinateMode, NearestMode, ResizeParams},
    slice::SliceParams,
    softmax::SoftmaxParams,
    transpose::TransposeParams,
};
use mote_kernels::quant::Rounding;
use mote_kernels::{Activation, Shape, MAX_RANK};

/// Kernel parameters of one op.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kernel {
    Conv2d(Conv2dParams),
    ConvTranspose2d(ConvTranspose2dParams),
    FullyConnected(FullyConnectedParams),
    MatMul(MatMulParams),
    Binary(BinaryParams),
    Unary(Activation),
    Concat {
        axis: usize,
    },
    Slice(SliceParams),
    MaxPool2d(Pool2dParams),
    AvgPool2d(Pool2dParams),
    ReduceMean(ReduceParams),
    Reshape,
    Transpose(TransposeParams),
    Softmax(SoftmaxParams),
    Pad {
        params: PadParams,
        value: f32,
    },
    Resize(ResizeParams),
    Conv2dS8(Conv2dS8Params),
    FullyConnectedS8(FullyConnectedS8Params),
    FullyConnectedS8Scaled(FullyConnectedS8Params),
    AddS8(AddS8Params),
    MulS8(MulS8Params),
    MaxPool2dS8(Pool2dS8Params),
    AvgPool2dS8(Pool2dS8Params),
    SoftmaxS8(SoftmaxS8Params),
    Quantize(QuantizeParams),
    Dequantize(DequantizeParams),
    Requantize(RequantizeParams),
    LookupS8,
    /// Elements after the channel axis (at least 1).
    DequantizeWeights {
        inner: usize,
    },
    MeanS8(MeanS8Params),
}

/// One op, ready to run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PreparedOp<'a> {
    pub kernel: Kernel,
    pub inputs: IndexList<'a>,
    pub output: u32,
    /// Element type of the output (data-movement ops work on any type).
    pub dtype: DType,
}

/// Room for one op's kernel parameters, prepared once by [`crate::Interpreter::with_prepared_ops`]
/// instead of before every run.
///
/// Why it exists: the interpreter keeps no per-op state of its own (heap-free, no limit on the
/// number of ops), so by default every inference decodes each op's record and its tensors'
/// shapes and quantization again. That is a few dozen integer operations per op, but on models
/// of a few million MACs it was 4–6 % of the inference (`perf record` of `mote bench
/// vww_int8.mote`: `prepare_checked`, `Model::tensor`, `decode_tensor`). A caller that can spare
/// the memory (272 bytes per op on x86-64) lends one slot per op; the contents are opaque.
#[derive(Clone, Copy, Debug, Default)]
pub struct PreparedSlot<'m>(pub(crate) Option<PreparedOp<'m>>);

pub(crate) fn activation(a: ActivationSpec) -> Activation {
    match a.kind {
        ActivationKind::None => Activation::None,
        ActivationKind::Relu => Activation::Relu,
        ActivationKind::Clip => Activation::Clip { min: a.a, max: a.b },
        ActivationKind::LeakyRelu => Activation::LeakyRelu { alpha: a.a },
        ActivationKind::Sigmoid => Activation::Sigmoid,
        ActivationKind::HardSigmoid => Activation::HardSigmoid {
            alpha: a.a,
            beta: a.b,
        },
        ActivationKind::HardSwish => Activation::HardSwish,
        ActivationKind::Tanh => Activation::Tanh,
    }
}

fn shape(t: &TensorInfo<'_>) -> Shape {
    let mut s = Shape {
        dims: [1; MAX_RANK],
        rank: t.rank,
    };
    for (d, &v) in s.dims.iter_mut().zip(t.dims.iter()) {
        *d = v as usize;
    }
    s
}

struct Ctx<'m, 'a> {
    file: &'m mote_format::Model<'a>,
    index: u32,
    /// The op was validated when its model loaded ([`prepare_validated`]): checks whose cost
    /// grows with the constants (per-channel parameter ranges) are skipped.
    validated: bool,
}

impl<'a> Ctx<'_, 'a> {
    fn bad(&self, reason: &'static str) -> Error {
        Error::InvalidOp {
            index: self.index,
            reason,
        }
    }
    fn check(&self, ok: bool, reason: &'static str) -> Result<(), Error> {
        if ok {
            Ok(())
        } else {
            Err(self.bad(reason))
        }
    }
    fn tensor(&self, list: &IndexList<'a>, i: usize) -> Result<TensorInfo<'a>, Error> {
        list.get(i)
            .and_then(|t| self.file.tensor(t))
            .ok_or(self.bad("missing input tensor"))
    }
}

fn pos(v: u32) -> bool {
    (1..=1 << 16).contains(&v)
}

/// Prepares op `index` of `file`.
pub(crate) fn prepare<'a>(
    file: &mote_format::Model<'a>,
    index: usize,
) -> Result<PreparedOp<'a>, Error> {
    prepare_checked(file, index, false)
}

/// [`prepare`] for an op of a model that [`crate::Model::from_bytes`] validated (its bytes
/// borrowed unchanged since): every inference prepares every op again (the model is read in
/// place, nothing is kept between runs), and the per-channel range checks of the constants were
/// about 2 % of VWW's int8 inference (`perf`, 28 convolutions of up to 256 channels).
pub(crate) fn prepare_validated<'a>(
    file: &mote_format::Model<'a>,
    index: usize,
) -> Result<PreparedOp<'a>, Error> {
    prepare_checked(file, index, true)
}

fn prepare_checked<'a>(
    file: &mote_format::Model<'a>,
    index: usize,
    validated: bool,
) -> Result<PreparedOp<'a>, Error> {
    let cx = Ctx {
        file,
        index: index as u32,
        validated,
    };
    let op = file.op(index).ok_or(cx.bad("op record missing"))?;
    cx.check(op.outputs.len() == 1, "ops have exactly one output")?;
    let output = op.outputs.get(0).ok_or(cx.bad("missing output"))?;
    let out = file.tensor(output).ok_or(cx.bad("missing output tensor"))?;
    let n_in = op.inputs.len();
    let ins = &op.inputs;
    let all_f32 = || -> Result<(), Error> {
        cx.check(out.dtype == DType::F32, "this op computes in float32 only")?;
        for i in 0..n_in {
            cx.check(
                cx.tensor(ins, i)?.dtype == DType::F32,
                "this op computes in float32 only",
            )?;
        }
        Ok(())
    };
    let same_dtype = || -> Result<(), Error> {
        for i in 0..n_in {
            cx.check(
                cx.tensor(ins, i)?.dtype == out.dtype,
                "input and output types differ",
            )?;
        }
        Ok(())
    };
    let os = shape(&out);
    let kernel = match op.params {
        OpParams::Conv2d(c) => {
            cx.check(
                n_in == 2 || n_in == 3,
                "Conv2d takes input, weights and an optional bias",
            )?;
            all_f32()?;
            let mut p = conv_geometry(&cx, ins, &os, &c)?;
            if n_in == 3 {
                cx.check(
                    cx.tensor(ins, 2)?.elements() == p.out_c,
                    "bias length is not the number of output channels",
                )?;
            }
            p.activation = activation(c.activation);
            Kernel::Conv2d(p)
        }
        OpParams::Conv2dS8 { conv, q } => {
            cx.check(
                n_in == 5,
                "Conv2dS8 takes input, weights, bias, multipliers and shifts",
            )?;
            int8_io(&cx, ins, &out, 2)?;
            let geometry = conv_geometry(&cx, ins, &os, &conv)?;
            per_channel_tail(&cx, ins, 2, geometry.out_c, false, q.rounding)?;
            Kernel::Conv2dS8(Conv2dS8Params {
                geometry,
                input_offset: q.input_offset,
                output_offset: q.output_offset,
                act_min: q.act_min,
                act_max: q.act_max,
                rounding: rounding(q.rounding),
            })
        }
        OpParams::ConvTranspose2d(c) => {
            cx.check(
                n_in == 2 || n_in == 3,
                "ConvTranspose2d takes input, weights and an optional bias",
            )?;
            all_f32()?;
            let x = shape(&cx.tensor(ins, 0)?);
            let w = shape(&cx.tensor(ins, 1)?);
            cx.check(
                x.rank == 4 && w.rank == 4 && os.rank == 4,
                "ConvTranspose2d tensors must be 4-D",
            )?;
            cx.check(
                c.stride.iter().chain(c.dilation.iter()).all(|&v| pos(v)),
                "stride/dilation out of range",
            )?;
            cx.check(c.pads.iter().all(|&p| p <= 1 << 16), "padding out of range")?;
            let g = c.groups as usize;
            let [n, h, wd, ci] = [x.dims[0], x.dims[1], x.dims[2], x.dims[3]];
            let [co, kh, kw, cpg] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
            cx.check(
                g >= 1
                    && ci.checked_rem(g) == Some(0)
                    && co.checked_rem(g) == Some(0)
                    && cpg.checked_mul(g) == Some(ci),
                "groups do not divide the channels",
            )?;
            cx.check(
                os.dims[0] == n && os.dims[3] == co,
                "output batch/channels mismatch",
            )?;
            if n_in == 3 {
                cx.check(
                    cx.tensor(ins, 2)?.elements() == co,
                    "bias length is not the number of output channels",
                )?;
            }
            Kernel::ConvTranspose2d(ConvTranspose2dParams {
                batch: n,
                in_h: h,
                in_w: wd,
                in_c: ci,
                out_h: os.dims[1],
                out_w: os.dims[2],
                out_c: co,
                kernel_h: kh,
                kernel_w: kw,
                stride_h: c.stride[0] as usize,
                stride_w: c.stride[1] as usize,
                dilation_h: c.dilation[0] as usize,
                dilation_w: c.dilation[1] as usize,
                pad_top: c.pads[0] as usize,
                pad_left: c.pads[1] as usize,
                groups: g,
                activation: activation(c.activation),
            })
        }
        OpParams::FullyConnected { activation: a } => {
            cx.check(
                n_in == 2 || n_in == 3,
                "FullyConnected takes input, weights and an optional bias",
            )?;
            all_f32()?;
            let (rows, depth, units) = fc_geometry(&cx, ins, &out)?;
            if n_in == 3 {
                cx.check(
                    cx.tensor(ins, 2)?.elements() == units,
                    "bias length is not the number of units",
                )?;
            }
            Kernel::FullyConnected(FullyConnectedParams {
                rows,
                depth,
                units,
                activation: activation(a),
            })
        }
        OpParams::FullyConnectedS8 { q } => {
            cx.check(
                n_in == 5,
                "FullyConnectedS8 takes input, weights, bias, multipliers and shifts",
            )?;
            int8_io(&cx, ins, &out, 2)?;
            let (rows, depth, units) = fc_geometry(&cx, ins, &out)?;
            let double_scale = q.rounding == RoundingMode::DoubleScale;
            if double_scale {
                double_scale_tail(&cx, ins, 2, units)?;
            } else {
                per_channel_tail(&cx, ins, 2, units, true, q.rounding)?;
            }
            let p = FullyConnectedS8Params {
                rows,
                depth,
                units,
                input_offset: q.input_offset,
                output_offset: q.output_offset,
                act_min: q.act_min,
                act_max: q.act_max,
                rounding: rounding(q.rounding),
            };
            if double_scale {
                Kernel::FullyConnectedS8Scaled(p)
            } else {
                Kernel::FullyConnectedS8(p)
            }
        }
        OpParams::MatMul => {
            cx.check(n_in == 2, "MatMul takes two inputs")?;
            all_f32()?;
            let a = shape(&cx.tensor(ins, 0)?);
            let b = shape(&cx.tensor(ins, 1)?);
            cx.check(
                a.rank == b.rank && a.rank == os.rank && a.rank >= 2,
                "MatMul ranks differ",
            )?;
            let r = a.rank;
            cx.check(
                a.dims[r.saturating_sub(1)] == b.dims[r.saturating_sub(2)],
                "MatMul inner dimensions differ",
            )?;
            cx.check(
                os.dims[r.saturating_sub(2)] == a.dims[r.saturating_sub(2)]
                    && os.dims[r.saturating_sub(1)] == b.dims[r.saturating_sub(1)],
                "MatMul output shape",
            )?;
            for k in 0..r.saturating_sub(2) {
                let o = os.dims[k];
                cx.check(
                    (a.dims[k] == o || a.dims[k] == 1) && (b.dims[k] == o || b.dims[k] == 1),
                    "MatMul batch axes do not broadcast",
                )?;
            }
            Kernel::MatMul(MatMulParams { a, b, out: os })
        }
        OpParams::Binary {
            kind,
            activation: act,
        } => {
            cx.check(n_in == 2, "binary ops take two inputs")?;
            all_f32()?;
            let op = match kind {
                BinaryKind::Add => BinaryOp::Add,
                BinaryKind::Sub => BinaryOp::Sub,
                BinaryKind::Mul => BinaryOp::Mul,
                BinaryKind::Div => BinaryOp::Div,
                BinaryKind::Max => BinaryOp::Max,
                BinaryKind::Min => BinaryOp::Min,
            };
            let mut p = binary_shapes(&cx, ins, &os)?;
            p.op = op;
            p.activation = activation(act);
            Kernel::Binary(p)
        }
        OpParams::AddS8(a) => {
            cx.check(n_in == 2, "binary ops take two inputs")?;
            int8_io(&cx, ins, &out, 2)?;
            let mut shapes = binary_shapes(&cx, ins, &os)?;
            shapes.op = if a.subtract {
                BinaryOp::Sub
            } else {
                BinaryOp::Add
            };
            cx.check((0..=31).contains(&a.left_shift), "left shift out of range")?;
            Kernel::AddS8(AddS8Params {
                shapes,
                input1_offset: a.input1_offset,
                input2_offset: a.input2_offset,
                output_offset: a.output_offset,
                left_shift: a.left_shift,
                input1_multiplier: a.input1_multiplier,
                input1_shift: a.input1_shift,
                input2_multiplier: a.input2_multiplier,
                input2_shift: a.input2_shift,
                output_multiplier: a.output_multiplier,
                output_shift: a.output_shift,
                act_min: a.act_min,
                act_max: a.act_max,
                rounding: fixed_rounding(&cx, a.rounding)?,
            })
        }
        OpParams::MulS8(m) => {
            cx.check(n_in == 2, "binary ops take two inputs")?;
            int8_io(&cx, ins, &out, 2)?;
            let mut shapes = binary_shapes(&cx, ins, &os)?;
            shapes.op = BinaryOp::Mul;
            Kernel::MulS8(MulS8Params {
                shapes,
                input1_offset: m.input1_offset,
                input2_offset: m.input2_offset,
                output_offset: m.output_offset,
                output_multiplier: m.output_multiplier,
                output_shift: m.output_shift,
                act_min: m.act_min,
                act_max: m.act_max,
                rounding: fixed_rounding(&cx, m.rounding)?,
            })
        }
        OpParams::Unary { activation: a } => {
            cx.check(n_in == 1, "activations take one input")?;
            all_f32()?;
            cx.check(
                cx.tensor(ins, 0)?.byte_len == out.byte_len,
                "activation input and output sizes differ",
            )?;
            Kernel::Unary(activation(a))
        }
        OpParams::Concat { axis } => {
            cx.check(n_in >= 1, "Concat needs an input")?;
            same_dtype()?;
            let axis = axis as usize;
            cx.check(axis < os.rank, "Concat axis out of range")?;
            let mut total = 0usize;
            for i in 0..n_in {
                let s = shape(&cx.tensor(ins, i)?);
                cx.check(s.rank == os.rank, "Concat input rank differs")?;
                for k in 0..os.rank {
                    if k != axis {
                        cx.check(s.dims[k] == os.dims[k], "Concat inputs differ off the axis")?;
                    }
                }
                total = total.saturating_add(s.dims[axis]);
            }
            cx.check(
                total == os.dims[axis],
                "Concat output extent is not the sum of the inputs'",
            )?;
            Kernel::Concat { axis }
        }
        OpParams::Slice { starts, steps } => {
            cx.check(n_in == 1, "Slice takes one input")?;
            same_dtype()?;
            let x = shape(&cx.tensor(ins, 0)?);
            cx.check(x.rank == os.rank, "Slice ranks differ")?;
            let mut p = SliceParams {
                input: x,
                out: os,
                starts: [0; MAX_RANK],
                steps: [1; MAX_RANK],
            };
            for k in 0..os.rank {
                let (s, st, n, len) = (
                    starts[k] as i64,
                    steps[k] as i64,
                    os.dims[k] as i64,
                    x.dims[k] as i64,
                );
                cx.check(st != 0, "Slice step is zero")?;
                if n > 0 {
                    // Values from u32/i32 fields: no i64 overflow, checked all the same.
                    let last = n
                        .saturating_sub(1)
                        .checked_mul(st)
                        .and_then(|v| v.checked_add(s))
                        .unwrap_or(-1);
                    cx.check(
                        s >= 0 && s < len && last >= 0 && last < len,
                        "Slice reads outside the input",
                    )?;
                }
                p.starts[k] = s as isize;
                p.steps[k] = st as isize;
            }
            Kernel::Slice(p)
        }
        OpParams::MaxPool2d(pp) | OpParams::AvgPool2d(pp) => {
            cx.check(n_in == 1, "pooling takes one input")?;
            all_f32()?;
            let mut p = pool_geometry(&cx, ins, &os, &pp)?;
            p.activation = activation(pp.activation);
            if matches!(op.params, OpParams::MaxPool2d(_)) {
                Kernel::MaxPool2d(p)
            } else {
                Kernel::AvgPool2d(p)
            }
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
            cx.check(n_in == 1, "pooling takes one input")?;
            int8_io(&cx, ins, &out, 1)?;
            let p = Pool2dS8Params {
                geometry: pool_geometry(&cx, ins, &os, &pool)?,
                act_min,
                act_max,
            };
            if matches!(op.params, OpParams::MaxPool2dS8 { .. }) {
                Kernel::MaxPool2dS8(p)
            } else {
                Kernel::AvgPool2dS8(p)
            }
        }
        OpParams::Reduce {
            kind: ReduceKind::Mean,
            axes_mask,
        } => {
            cx.check(n_in == 1, "Reduce takes one input")?;
            all_f32()?;
            let x = shape(&cx.tensor(ins, 0)?);
            cx.check(axes_mask >> x.rank == 0, "reduced axis out of range")?;
            let kept: usize = (0..x.rank)
                .filter(|k| axes_mask & (1 << k) == 0)
                .map(|k| x.dims[k])
                .product();
            cx.check(out.elements() == kept, "Reduce output size")?;
            Kernel::ReduceMean(ReduceParams {
                input: x,
                axes_mask,
            })
        }
        OpParams::Reshape => {
            cx.check(n_in == 1, "Reshape takes one input")?;
            same_dtype()?;
            cx.check(
                cx.tensor(ins, 0)?.byte_len == out.byte_len,
                "Reshape changes the number of elements",
            )?;
            Kernel::Reshape
        }
        OpParams::Transpose { perm } => {
            cx.check(n_in == 1, "Transpose takes one input")?;
            same_dtype()?;
            let x = shape(&cx.tensor(ins, 0)?);
            cx.check(x.rank == os.rank, "Transpose ranks differ")?;
            let mut seen = 0u32;
            let mut p = [0usize; MAX_RANK];
            for k in 0..MAX_RANK {
                p[k] = if k < x.rank { perm[k] as usize } else { k };
                cx.check(
                    p[k] < MAX_RANK && (k >= x.rank || p[k] < x.rank),
                    "Transpose axis out of range",
                )?;
                cx.check(seen & (1 << p[k]) == 0, "Transpose perm repeats an axis")?;
                seen |= 1 << p[k];
                if k < x.rank {
                    cx.check(os.dims[k] == x.dims[p[k]], "Transpose output shape")?;
                }
            }
            Kernel::Transpose(TransposeParams { input: x, perm: p })
        }
        OpParams::Softmax { axis, flatten } => {
            cx.check(n_in == 1, "Softmax takes one input")?;
            all_f32()?;
            Kernel::Softmax(softmax_shape(&cx, ins, &os, axis, flatten)?)
        }
        OpParams::SoftmaxS8 {
            axis,
            flatten,
            input_multiplier,
            input_left_shift,
            diff_min,
        } => {
            cx.check(n_in == 1, "Softmax takes one input")?;
            int8_io(&cx, ins, &out, 1)?;
            cx.check(
                (0..=31).contains(&input_left_shift),
                "softmax left shift out of range",
            )?;
            Kernel::SoftmaxS8(SoftmaxS8Params {
                shape: softmax_shape(&cx, ins, &os, axis, flatten)?,
                input_multiplier,
                input_left_shift,
                diff_min,
            })
        }
        OpParams::Quantize { scale, zero_point } => {
            cx.check(n_in == 1, "Quantize takes one input")?;
            let x = cx.tensor(ins, 0)?;
            cx.check(
                x.dtype == DType::F32 && out.dtype == DType::I8,
                "Quantize maps float32 to int8",
            )?;
            cx.check(
                x.elements() == out.elements(),
                "Quantize changes the number of elements",
            )?;
            Kernel::Quantize(QuantizeParams { scale, zero_point })
        }
        OpParams::Dequantize { scale, zero_point } => {
            cx.check(n_in == 1, "Dequantize takes one input")?;
            let x = cx.tensor(ins, 0)?;
            cx.check(
                x.dtype == DType::I8 && out.dtype == DType::F32,
                "Dequantize maps int8 to float32",
            )?;
            cx.check(
                x.elements() == out.elements(),
                "Dequantize changes the number of elements",
            )?;
            Kernel::Dequantize(DequantizeParams { scale, zero_point })
        }
        OpParams::Requantize {
            input_zero_point,
            output_zero_point,
            multiplier,
            shift,
            rounding: r,
        } => {
            cx.check(n_in == 1, "Requantize takes one input")?;
            int8_io(&cx, ins, &out, 1)?;
            cx.check(
                cx.tensor(ins, 0)?.elements() == out.elements(),
                "Requantize changes the number of elements",
            )?;
            cx.check(
                (-31..=30).contains(&shift) && multiplier >= 0,
                "requantization multiplier out of range",
            )?;
            Kernel::Requantize(RequantizeParams {
                input_zero_point,
                output_zero_point,
                multiplier,
                shift,
                rounding: fixed_rounding(&cx, r)?,
            })
        }
        OpParams::MeanS8 {
            axes_mask,
            input_zero_point,
            output_zero_point,
            multiplier,
            shift,
            rounding: r,
        } => {
            cx.check(n_in == 1, "MeanS8 takes one input")?;
            int8_io(&cx, ins, &out, 1)?;
            let x = shape(&cx.tensor(ins, 0)?);
            cx.check(axes_mask >> x.rank == 0, "reduced axis out of range")?;
            let reduce = ReduceParams {
                input: x,
                axes_mask,
            };
            let kept: usize = (0..x.rank)
                .filter(|k| axes_mask & (1 << k) == 0)
                .map(|k| x.dims[k])
                .product();
            cx.check(out.elements() == kept, "MeanS8 output size")?;
            cx.check(
                mote_kernels::ops::reduce::reduced_count(&reduce) <= 1 << 23,
                "MeanS8 reduces more than 2^23 values (its int32 sums could overflow)",
            )?;
            cx.check(
                (-31..=30).contains(&shift) && multiplier >= 0,
                "requantization multiplier out of range",
            )?;
            cx.check(
                (-128..=127).contains(&input_zero_point)
                    && (-128..=127).contains(&output_zero_point),
                "int8 zero point outside [-128, 127]",
            )?;
            Kernel::MeanS8(MeanS8Params {
                reduce,
                input_zero_point,
                output_zero_point,
                multiplier,
                shift,
                rounding: fixed_rounding(&cx, r)?,
            })
        }
        OpParams::LookupS8 => {
            cx.check(n_in == 2, "LookupS8 takes input and table")?;
            int8_io(&cx, ins, &out, 2)?;
            cx.check(
                cx.tensor(ins, 0)?.elements() == out.elements(),
                "lookup changes the number of elements",
            )?;
            cx.check(
                cx.tensor(ins, 1)?.elements() == 256,
                "lookup table must have 256 entries",
            )?;
            Kernel::LookupS8
        }
        OpParams::DequantizeWeights { axis } => {
            cx.check(n_in == 2, "DequantizeWeights takes weights and scales")?;
            let (q, scales) = (cx.tensor(ins, 0)?, cx.tensor(ins, 1)?);
            cx.check(
                q.dtype == DType::I8 && scales.dtype == DType::F32 && out.dtype == DType::F32,
                "DequantizeWeights maps int8 to float32 with float32 scales",
            )?;
            cx.check(
                q.shape() == out.shape(),
                "DequantizeWeights changes the shape",
            )?;
            let axis = axis as usize;
            cx.check(
                axis < q.rank,
                "DequantizeWeights channel axis beyond the rank",
            )?;
            let channels = os.dims.get(axis).copied().unwrap_or(0);
            cx.check(
                scales.elements() == 1 || scales.elements() == channels,
                "DequantizeWeights needs one scale or one per channel",
            )?;
            let inner = if scales.elements() == 1 {
                out.elements()
            } else {
                os.dims
                    .get(axis.saturating_add(1)..q.rank)
                    .map_or(1, |d| d.iter().product())
            };
            cx.check(inner >= 1, "DequantizeWeights of an empty tensor")?;
            Kernel::DequantizeWeights { inner }
        }
        OpParams::Pad { kind, value, begin } => {
            cx.check(n_in == 1, "Pad takes one input")?;
            same_dtype()?;
            let x = shape(&cx.tensor(ins, 0)?);
            cx.check(x.rank == os.rank, "Pad ranks differ")?;
            let mut b = [0isize; MAX_RANK];
            for k in 0..x.rank {
                let (bg, inl, outl) = (begin[k] as i64, x.dims[k] as i64, os.dims[k] as i64);
                let end = outl.saturating_sub(inl).saturating_sub(bg);
                cx.check(
                    bg.abs() <= 1 << 24 && end.abs() <= 1 << 24,
                    "padding out of range",
                )?;
                match kind {
                    PadKind::Reflect => cx.check(
                        outl == 0 || (inl >= 1 && bg < inl && end < inl),
                        "reflect padding larger than the input",
                    )?,
                    PadKind::Edge => {
                        cx.check(outl == 0 || inl >= 1, "edge padding of an empty axis")?
                    }
                    PadKind::Constant => {}
                }
                b[k] = bg as isize;
            }
            let mode = match kind {
                PadKind::Constant => PadMode::Constant,
                PadKind::Reflect => PadMode::Reflect,
                PadKind::Edge => PadMode::Edge,
            };
            Kernel::Pad {
                params: PadParams {
                    input: x,
                    out: os,
                    begin: b,
                    mode,
                },
                value,
            }
        }
        OpParams::Resize(r) => {
            cx.check(n_in == 1, "Resize takes one input")?;
            same_dtype()?;
            cx.check(
                matches!(out.dtype, DType::F32 | DType::I8),
                "Resize runs on float32 or int8",
            )?;
            let x = shape(&cx.tensor(ins, 0)?);
            cx.check(x.rank == os.rank, "Resize ranks differ")?;
            for k in 0..x.rank {
                cx.check(os.dims[k] == 0 || x.dims[k] >= 1, "Resize of an empty axis")?;
            }
            let p = ResizeParams {
                input: x,
                out: os,
                scales: r.scales,
                mode: match r.mode {
                    ResizeMode::Nearest => mote_kernels::ops::resize::ResizeMode::Nearest,
                    ResizeMode::Linear => mote_kernels::ops::resize::ResizeMode::Linear,
                },
                coordinate: match r.coordinate {
                    ResizeCoordinate::HalfPixel => CoordinateMode::HalfPixel,
                    ResizeCoordinate::Asymmetric => CoordinateMode::Asymmetric,
                    ResizeCoordinate::AlignCorners => CoordinateMode::AlignCorners,
                    ResizeCoordinate::PytorchHalfPixel => CoordinateMode::PytorchHalfPixel,
                    ResizeCoordinate::TfHalfPixelForNn => CoordinateMode::TfHalfPixelForNn,
                    ResizeCoordinate::HalfPixelSymmetric => CoordinateMode::HalfPixelSymmetric,
                },
                nearest: match r.nearest {
                    ResizeNearest::RoundPreferFloor => NearestMode::RoundPreferFloor,
                    ResizeNearest::RoundPreferCeil => NearestMode::RoundPreferCeil,
                    ResizeNearest::Floor => NearestMode::Floor,
                    ResizeNearest::Ceil => NearestMode::Ceil,
                },
            };
            if out.dtype == DType::I8 {
                cx.check(
                    mote_kernels::ops::resize::resize_s8_supported(&p),
                    "int8 bilinear Resize needs NHWC 4-D resized on H and W with half_pixel, asymmetric or align_corners coordinates",
                )?;
            }
            Kernel::Resize(p)
        }
    };
    Ok(PreparedOp {
        kernel,
        inputs: op.inputs,
        output,
        dtype: out.dtype,
    })
}

pub(crate) fn rounding(r: RoundingMode) -> Rounding {
    match r {
        RoundingMode::Double | RoundingMode::DoubleScale => Rounding::Double,
        RoundingMode::Single => Rounding::Single,
        RoundingMode::FloatScale => Rounding::Float,
    }
}

/// [`rounding`] for ops whose multipliers are fixed-point only (everything but convolutions and
/// fully connected layers): a float scale is refused.
fn fixed_rounding(cx: &Ctx<'_, '_>, r: RoundingMode) -> Result<Rounding, Error> {
    cx.check(
        r != RoundingMode::FloatScale,
        "float-scale requantization is only for convolutions and fully connected layers",
    )?;
    Ok(rounding(r))
}

/// The first `n_data` inputs and the output are int8.
fn int8_io(
    cx: &Ctx<'_, '_>,
    ins: &IndexList<'_>,
    out: &TensorInfo<'_>,
    n_data: usize,
) -> Result<(), Error> {
    cx.check(out.dtype == DType::I8, "int8 op with a non-int8 output")?;
    for i in 0..n_data {
        cx.check(
            cx.tensor(ins, i)?.dtype == DType::I8,
            "int8 op with a non-int8 input",
        )?;
    }
    Ok(())
}

/// Bias, multipliers and shifts (inputs `first..first+3`): int32, one per channel (multipliers
/// and shifts may be one value when `per_tensor_ok`), shifts within what the requantization
/// supports.
fn per_channel_tail(
    cx: &Ctx<'_, '_>,
    ins: &IndexList<'_>,
    first: usize,
    channels: usize,
    per_tensor_ok: bool,
    mode: RoundingMode,
) -> Result<(), Error> {
    let bias = cx.tensor(ins, first)?;
    cx.check(
        bias.dtype == DType::I32 && bias.elements() == channels,
        "bias must be int32, one per output channel",
    )?;
    let m = cx.tensor(ins, first.saturating_add(1))?;
    let s = cx.tensor(ins, first.saturating_add(2))?;
    let n = m.elements();
    cx.check(
        m.dtype == DType::I32 && s.dtype == DType::I32,
        "multipliers and shifts must be int32",
    )?;
    cx.check(
        n == s.elements() && (n == channels || (per_tensor_ok && n == 1)),
        "one multiplier and shift per output channel",
    )?;
    let (mote_format::Storage::Const(sb), mote_format::Storage::Const(mb)) = (s.storage, m.storage)
    else {
        return Err(cx.bad("multipliers and shifts must be constant"));
    };
    if cx.validated {
        return Ok(());
    }
    for c in sb.chunks_exact(4) {
        let v = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        cx.check((-31..=30).contains(&v), "requantization shift out of range")?;
    }
    for c in mb.chunks_exact(4) {
        if mode == RoundingMode::FloatScale {
            let scale = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            cx.check(
                scale.is_finite() && scale > 0.0,
                "requantization scale not finite and positive",
            )?;
            continue;
        }
        cx.check(
            i32::from_le_bytes([c[0], c[1], c[2], c[3]]) >= 0,
            "negative requantization multiplier",
        )?;
    }
    Ok(())
}

/// Bias and f64 scales (as int32 word pairs) of LiteRT's reference fully connected kernel; the
/// last tail input (shifts) is unused.
fn double_scale_tail(
    cx: &Ctx<'_, '_>,
    ins: &IndexList<'_>,
    first: usize,
    channels: usize,
) -> Result<(), Error> {
    let bias = cx.tensor(ins, first)?;
    cx.check(
        bias.dtype == DType::I32 && bias.elements() == channels,
        "bias must be int32, one per output channel",
    )?;
    let m = cx.tensor(ins, first.saturating_add(1))?;
    cx.check(
        m.dtype == DType::I32,
        "scales must be stored as int32 word pairs",
    )?;
    let n = m.elements();
    cx.check(
        channels.checked_mul(2) == Some(n) || n == 2,
        "one f64 scale per output channel, or one",
    )?;
    let mote_format::Storage::Const(b) = m.storage else {
        return Err(cx.bad("scales must be constant"));
    };
    for c in b.chunks_exact(8) {
        let v = f64::from_bits(u64::from_le_bytes([
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
        ]));
        cx.check(
            v.is_finite() && v > 0.0 && v < 1.0e6,
            "fully connected scale out of range",
        )?;
    }
    Ok(())
}

fn conv_geometry(
    cx: &Ctx<'_, '_>,
    ins: &IndexList<'_>,
    os: &Shape,
    c: &Conv2d,
) -> Result<Conv2dParams, Error> {
    let x = shape(&cx.tensor(ins, 0)?);
    let w = shape(&cx.tensor(ins, 1)?);
    cx.check(
        x.rank == 4 && w.rank == 4 && os.rank == 4,
        "Conv2d tensors must be 4-D",
    )?;
    cx.check(
        c.stride.iter().chain(c.dilation.iter()).all(|&v| pos(v)),
        "stride/dilation out of range",
    )?;
    cx.check(c.pads.iter().all(|&p| p <= 1 << 16), "padding out of range")?;
    let g = c.groups as usize;
    let [n, h, wd, ci] = [x.dims[0], x.dims[1], x.dims[2], x.dims[3]];
    let [co, kh, kw, cpg] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
    cx.check(
        g >= 1
            && ci.checked_rem(g) == Some(0)
            && co.checked_rem(g) == Some(0)
            && cpg.checked_mul(g) == Some(ci),
        "groups do not divide the channels",
    )?;
    cx.check(kh >= 1 && kw >= 1, "empty kernel")?;
    cx.check(
        os.dims[0] == n && os.dims[3] == co,
        "Conv2d output batch/channels mismatch",
    )?;
    let out_len = |inp: usize, k: usize, s: u32, d: u32, p0: u32, p1: u32| -> Option<usize> {
        let span = (d as usize)
            .checked_mul(k.checked_sub(1)?)?
            .checked_add(1)?;
        let padded = inp.checked_add(p0 as usize)?.checked_add(p1 as usize)?;
        padded
            .checked_sub(span)?
            .checked_div(s as usize)?
            .checked_add(1)
    };
    cx.check(
        out_len(h, kh, c.stride[0], c.dilation[0], c.pads[0], c.pads[2]) == Some(os.dims[1])
            && out_len(wd, kw, c.stride[1], c.dilation[1], c.pads[1], c.pads[3])
                == Some(os.dims[2]),
        "Conv2d output size does not follow from input, kernel, stride and pads",
    )?;
    Ok(Conv2dParams {
        batch: n,
        in_h: h,
        in_w: wd,
        in_c: ci,
        out_h: os.dims[1],
        out_w: os.dims[2],
        out_c: co,
        kernel_h: kh,
        kernel_w: kw,
        stride_h: c.stride[0] as usize,
        stride_w: c.stride[1] as usize,
        dilation_h: c.dilation[0] as usize,
        dilation_w: c.dilation[1] as usize,
        pad_top: c.pads[0] as usize,
        pad_left: c.pads[1] as usize,
        groups: g,
        activation: Activation::None,
    })
}

fn fc_geometry(
    cx: &Ctx<'_, '_>,
    ins: &IndexList<'_>,
    out: &TensorInfo<'_>,
) -> Result<(usize, usize, usize), Error> {
    let x = cx.tensor(ins, 0)?;
    let w = shape(&cx.tensor(ins, 1)?);
    cx.check(
        w.rank == 2 && x.rank >= 1,
        "FullyConnected weights must be 2-D",
    )?;
    let (units, depth) = (w.dims[0], w.dims[1]);
    cx.check(
        depth >= 1 && x.elements().checked_rem(depth) == Some(0),
        "input length is not a multiple of the weights' depth",
    )?;
    let rows = x.elements().checked_div(depth).unwrap_or(0);
    cx.check(
        rows.checked_mul(units) == Some(out.elements()),
        "output size is not rows × units",
    )?;
    Ok((rows, depth, units))
}

fn binary_shapes(cx: &Ctx<'_, '_>, ins: &IndexList<'_>, os: &Shape) -> Result<BinaryParams, Error> {
    let a = shape(&cx.tensor(ins, 0)?);
    let b = shape(&cx.tensor(ins, 1)?);
    cx.check(
        a.rank == os.rank && b.rank == os.rank,
        "binary op ranks differ",
    )?;
    for k in 0..os.rank {
        let o = os.dims[k];
        cx.check(
            (a.dims[k] == o || a.dims[k] == 1) && (b.dims[k] == o || b.dims[k] == 1),
            "shapes do not broadcast to the output",
        )?;
    }
    Ok(BinaryParams {
        op: BinaryOp::Add,
        a,
        b,
        out: *os,
        activation: Activation::None,
    })
}

fn pool_geometry(
    cx: &Ctx<'_, '_>,
    ins: &IndexList<'_>,
    os: &Shape,
    pp: &Pool2d,
) -> Result<Pool2dParams, Error> {
    let x = shape(&cx.tensor(ins, 0)?);
    cx.check(x.rank == 4 && os.rank == 4, "pooling tensors must be 4-D")?;
    cx.check(
        x.dims[0] == os.dims[0] && x.dims[3] == os.dims[3],
        "pooling batch/channels mismatch",
    )?;
    cx.check(
        pp.kernel
            .iter()
            .chain(pp.stride.iter())
            .chain(pp.dilation.iter())
            .all(|&v| pos(v)),
        "kernel/stride/dilation out of range",
    )?;
    cx.check(
        pp.pads.iter().all(|&p| p <= 1 << 16),
        "padding out of range",
    )?;
    Ok(Pool2dParams {
        batch: x.dims[0],
        in_h: x.dims[1],
        in_w: x.dims[2],
        channels: x.dims[3],
        out_h: os.dims[1],
        out_w: os.dims[2],
        kernel_h: pp.kernel[0] as usize,
        kernel_w: pp.kernel[1] as usize,
        stride_h: pp.stride[0] as usize,
        stride_w: pp.stride[1] as usize,
        dilation_h: pp.dilation[0] as usize,
        dilation_w: pp.dilation[1] as usize,
        pad_top: pp.pads[0] as usize,
        pad_left: pp.pads[1] as usize,
        pad_bottom: pp.pads[2] as usize,
        pad_right: pp.pads[3] as usize,
        count_include_pad: pp.count_include_pad,
        activation: Activation::None,
    })
}

fn softmax_shape(
    cx: &Ctx<'_, '_>,
    ins: &IndexList<'_>,
    os: &Shape,
    axis: u32,
    flatten: bool,
) -> Result<SoftmaxParams, Error> {
    let x = shape(&cx.tensor(ins, 0)?);
    let axis = axis as usize;
    cx.check(axis < x.rank && x == *os, "Softmax axis or shape")?;
    let outer: usize = x.dims[..axis].iter().product();
    let (axis_len, inner) = if flatten {
        (x.dims[axis..x.rank].iter().product(), 1)
    } else {
        (
            x.dims[axis],
            x.dims[axis.saturating_add(1)..x.rank].iter().product(),
        )
    };
    Ok(SoftmaxParams {
        outer,
        axis_len,
        inner,
    })
}
