//! Layout assignment: from the IR's ONNX axis order to the physical layouts the kernels use.
//!
//! Every tensor gets a *physical permutation* `perm` (physical axis `j` holds logical axis
//! `perm[j]`). Spatial ops (Conv, pooling) want NHWC — what TFLite, CMSIS-NN and XNNPACK use,
//! because the channel loop is innermost and contiguous, which is where SIMD wins. Ops that do
//! not care (element-wise, Concat, Slice, Pad, Resize, Softmax, ReduceMean) keep whatever layout
//! their input has and have their axes renumbered. Ops that see the flat element order
//! (Reshape, FullyConnected, MatMul) and the graph's inputs and outputs want ONNX order.
//! A Transpose node only relabels axes, so it costs nothing; where a consumer wants another
//! layout than its producer gave, a physical transpose is inserted — unless only axes of
//! extent 1 move, which is a free reshape. Transposes that cancel thereby never move data.

use crate::error::{CompileError, Result};
use crate::fold::transpose_vals;
use crate::ir::*;
use mote_format::{
    ActivationKind, ActivationSpec, AddS8, Conv2d, ConvTranspose2d, MulS8, OpParams, Pool2d,
    QuantOutput, ReduceKind, Resize, RoundingMode, MAX_RANK,
};
use mote_kernels::quant::quantize_multiplier;
use mote_onnx::{Tensor, TensorData};
use std::collections::HashMap;

/// Which rounding the int8 ops use (recorded per op in the file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QuantRounding {
    /// LiteRT's reference kernels (`BUILTIN_REF`): double rounding, except single rounding in
    /// fully connected layers.
    #[default]
    LiteRtReference,
    /// TFLite Micro / CMSIS-NN: double rounding everywhere.
    Tflm,
    /// ONNX Runtime (MLAS) and XNNPACK: convolutions and fully connected layers scale in f32
    /// (`round(acc · scale)`, ties to even, `scale = s_x · s_w / s_y` in f32); other ops as
    /// `Tflm`.
    Float,
}

/// Physical tensor id.
pub type PId = usize;

/// A tensor in physical layout.
#[derive(Clone, Debug)]
pub struct PTensor {
    /// Name.
    pub name: String,
    /// Physical shape.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Per-tensor quantization (int8 activations).
    pub quant: Option<(f32, i32)>,
    /// Constant data in physical order.
    pub value: Option<Tensor>,
}

impl PTensor {
    /// Bytes of the tensor.
    pub fn byte_len(&self) -> usize {
        self.shape.iter().product::<usize>() * self.dtype.size()
    }
}

/// An op on physical tensors.
#[derive(Clone, Debug)]
pub struct POp {
    /// Node name.
    pub name: String,
    /// Parameters as stored in the file.
    pub params: OpParams,
    /// Inputs.
    pub inputs: Vec<PId>,
    /// Output.
    pub output: PId,
}

/// The graph the planner and writer see.
#[derive(Clone, Debug, Default)]
pub struct PGraph {
    /// Tensors.
    pub tensors: Vec<PTensor>,
    /// Ops in execution order.
    pub ops: Vec<POp>,
    /// Graph inputs.
    pub inputs: Vec<PId>,
    /// Graph outputs.
    pub outputs: Vec<PId>,
}

const NHWC: [usize; 4] = [0, 2, 3, 1];

fn identity(r: usize) -> Vec<usize> {
    (0..r).collect()
}

fn physical_shape(shape: &[usize], perm: &[usize]) -> Vec<usize> {
    perm.iter().map(|&p| shape[p]).collect()
}

/// Permutes a constant of any element type.
pub fn transpose_tensor(t: &Tensor, perm: &[usize]) -> Tensor {
    let (data, dims) = match &t.data {
        TensorData::F32(v) => {
            let (d, s) = transpose_vals(v, &t.dims, perm);
            (TensorData::F32(d), s)
        }
        TensorData::I8(v) => {
            let (d, s) = transpose_vals(v, &t.dims, perm);
            (TensorData::I8(d), s)
        }
        TensorData::I32(v) => {
            let (d, s) = transpose_vals(v, &t.dims, perm);
            (TensorData::I32(d), s)
        }
        other => {
            let v = Tensor {
                dims: t.dims.clone(),
                data: other.clone(),
            }
            .to_f32_vec();
            let (d, s) = transpose_vals(&v, &t.dims, perm);
            (TensorData::F32(d), s)
        }
    };
    Tensor { dims, data }
}

struct Layout<'g> {
    g: &'g Graph,
    p: PGraph,
    cur: HashMap<TId, (PId, Vec<usize>)>,
    cache: HashMap<(TId, Vec<usize>), PId>,
    rounding: QuantRounding,
    int8_weights: bool,
}

impl Layout<'_> {
    fn add(
        &mut self,
        name: String,
        shape: Vec<usize>,
        dtype: DType,
        quant: Option<(f32, i32)>,
        value: Option<Tensor>,
    ) -> PId {
        self.p.tensors.push(PTensor {
            name,
            shape,
            dtype,
            quant,
            value,
        });
        self.p.tensors.len() - 1
    }

    fn add_const(&mut self, name: String, value: Tensor) -> PId {
        let dtype = match value.data {
            TensorData::I8(_) => DType::I8,
            TensorData::I32(_) => DType::I32,
            _ => DType::F32,
        };
        self.add(name, value.dims.clone(), dtype, None, Some(value))
    }

    fn quant_of(&self, t: TId) -> Option<(f32, i32)> {
        self.g.tensors[t].quant.as_ref().and_then(|q| q.single())
    }

    /// Tensor `t` in layout `want`, converting if needed.
    fn get(&mut self, t: TId, want: &[usize], node: &str) -> Result<PId> {
        if let Some(&id) = self.cache.get(&(t, want.to_vec())) {
            return Ok(id);
        }
        let def = &self.g.tensors[t];
        if want.len() != def.shape.len() {
            return Err(CompileError::Graph(format!(
                "internal: layout rank mismatch for '{}'",
                def.name
            )));
        }
        let id = if let Some(v) = &def.value {
            let pv = transpose_tensor(v, want);
            let name = if want == identity(want.len()).as_slice() {
                def.name.clone()
            } else {
                format!("{}#{:?}", def.name, want)
            };
            let q = self.quant_of(t);
            let id = self.add_const(name, pv);
            self.p.tensors[id].quant = q;
            id
        } else {
            let (src, have) = self.cur.get(&t).cloned().ok_or_else(|| {
                CompileError::Graph(format!(
                    "internal: tensor '{}' used before it is produced",
                    def.name
                ))
            })?;
            if have == want {
                return Ok(src);
            }
            let shape = &def.shape;
            let nonunit = |perm: &[usize]| {
                perm.iter()
                    .copied()
                    .filter(|&a| shape[a] != 1)
                    .collect::<Vec<_>>()
            };
            let (dtype, q) = (def.dtype, self.quant_of(t));
            let out = self.add(
                format!("{}#{:?}", def.name, want),
                physical_shape(shape, want),
                dtype,
                q,
                None,
            );
            let params = if nonunit(&have) == nonunit(want) {
                OpParams::Reshape
            } else {
                let mut perm = [0u32; MAX_RANK];
                for (i, p) in perm.iter_mut().enumerate() {
                    *p = if i < want.len() {
                        have.iter().position(|&h| h == want[i]).unwrap_or(i) as u32
                    } else {
                        i as u32
                    };
                }
                OpParams::Transpose { perm }
            };
            self.p.ops.push(POp {
                name: format!("{node}#layout"),
                params,
                inputs: vec![src],
                output: out,
            });
            out
        };
        self.cache.insert((t, want.to_vec()), id);
        Ok(id)
    }

    /// Weights of a float Conv / fully connected layer in layout `want`. When they are exactly
    /// the dequantization of symmetric int8 weights in the source model (tf2onnx's hybrid
    /// models, QDQ graphs run partly in float) and `int8_weights` is set, the file keeps the
    /// int8 values and their scales — a quarter of the bytes, as the source and its `.tflite`
    /// twin store them — and a `DequantizeWeights` op expands them into the arena just before
    /// the layer. The expansion is checked bit for bit against the float weights here, so the
    /// layer computes exactly what it would with folded float weights; anything else keeps the
    /// float constant.
    fn float_weights(&mut self, t: TId, want: &[usize], node: &str) -> Result<PId> {
        let def = &self.g.tensors[t];
        let (Some(v), Some(q), Some(quant)) = (&def.value, &def.qorigin, &def.quant) else {
            return self.get(t, want, node);
        };
        let per_channel = quant.scales.len() > 1;
        let axis = if per_channel {
            want.iter().position(|&a| a == quant.axis)
        } else {
            Some(0)
        };
        let usable = self.int8_weights
            && matches!(q.data, TensorData::I8(_))
            && q.dims == def.shape
            && quant.zero_points.iter().all(|&z| z == 0)
            && !quant.scales.is_empty()
            && (!per_channel || def.shape.get(quant.axis) == Some(&quant.scales.len()));
        let (true, Some(axis)) = (usable, axis) else {
            return self.get(t, want, node);
        };
        if let Some(&id) = self.cache.get(&(t, want.to_vec())) {
            return Ok(id);
        }
        let qp = transpose_tensor(q, want);
        let float = transpose_tensor(v, want).to_f32_vec();
        let TensorData::I8(qv) = &qp.data else {
            return self.get(t, want, node);
        };
        let inner = if per_channel {
            qp.dims.get(axis + 1..).map_or(1, |d| d.iter().product())
        } else {
            qv.len()
        };
        let mut expanded = vec![0f32; qv.len()];
        mote_kernels::ops::quantize::dequantize_weights_s8_f32(
            qv,
            &quant.scales,
            inner,
            &mut expanded,
        );
        let exact = expanded.len() == float.len()
            && expanded
                .iter()
                .zip(&float)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if !exact || inner == 0 {
            return self.get(t, want, node);
        }
        let name = def.name.clone();
        let dims = qp.dims.clone();
        let qid = self.add_const(format!("{name}#int8"), qp);
        let sid = self.add_const(
            format!("{name}#scales"),
            Tensor::f32(vec![quant.scales.len()], quant.scales.clone()),
        );
        let out = self.add(format!("{name}#f32"), dims, DType::F32, None, None);
        self.p.ops.push(POp {
            name: format!("{node}#weights"),
            params: OpParams::DequantizeWeights { axis: axis as u32 },
            inputs: vec![qid, sid],
            output: out,
        });
        self.cache.insert((t, want.to_vec()), out);
        Ok(out)
    }

    fn perm_of(&self, t: TId) -> Vec<usize> {
        self.cur
            .get(&t)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| identity(self.g.shape(t).len()))
    }

    /// Defines the output of a node with layout `perm`.
    fn define(&mut self, t: TId, perm: Vec<usize>) -> PId {
        let def = &self.g.tensors[t];
        let (dtype, q) = (def.dtype, self.quant_of(t));
        let id = self.add(
            def.name.clone(),
            physical_shape(&def.shape, &perm),
            dtype,
            q,
            None,
        );
        self.cache.insert((t, perm.clone()), id);
        self.cur.insert(t, (id, perm));
        id
    }

    /// The layout of the largest runtime input, or identity.
    fn dominant(&self, inputs: &[TId], rank: usize) -> Vec<usize> {
        inputs
            .iter()
            .filter(|&&t| self.g.value(t).is_none() && self.g.shape(t).len() == rank)
            .max_by_key(|&&t| self.g.shape(t).iter().product::<usize>())
            .map(|&t| self.perm_of(t))
            .unwrap_or_else(|| identity(rank))
    }

    /// The rounding of an op other than a convolution or fully connected layer (and of those,
    /// [`Layout::weighted_rounding`]).
    fn rounding(&self, fully_connected: bool) -> RoundingMode {
        match (self.rounding, fully_connected) {
            (QuantRounding::LiteRtReference, true) => RoundingMode::DoubleScale,
            _ => RoundingMode::Double,
        }
    }

    /// The rounding of a convolution or fully connected layer: [`Layout::rounding`], or the f32
    /// scale of `--rounding float`.
    fn weighted_rounding(&self, fully_connected: bool) -> RoundingMode {
        match self.rounding {
            QuantRounding::Float => RoundingMode::FloatScale,
            _ => self.rounding(fully_connected),
        }
    }

    /// Per-channel multipliers and shifts of an int8 conv / FC (TFLite: the effective scale
    /// `input_scale · filter_scale / output_scale`, in double, then `QuantizeMultiplier`).
    fn requant_consts(&mut self, node: &str, x: TId, w: TId, out: TId) -> Result<(PId, PId)> {
        let bad = |m: &str| CompileError::Invalid {
            node: node.into(),
            op: "int8".into(),
            msg: m.into(),
        };
        let (sx, _) = self
            .quant_of(x)
            .ok_or_else(|| bad("input has no quantization"))?;
        let (sy, _) = self
            .quant_of(out)
            .ok_or_else(|| bad("output has no quantization"))?;
        let wq = self.g.tensors[w]
            .quant
            .clone()
            .ok_or_else(|| bad("weights have no quantization"))?;
        let (mut m, mut s) = (Vec::new(), Vec::new());
        for &sw in &wq.scales {
            if self.rounding == QuantRounding::Float {
                // ONNX Runtime's QLinearConv (`X_scale * W_scale[i] / Y_scale`) and XNNPACK
                // (`input_scale * kernel_scale / output_scale`): in f32, in this order.
                let scale = sx * sw / sy;
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(bad("requantization scale not finite and positive"));
                }
                m.push(scale.to_bits() as i32);
                s.push(0);
                continue;
            }
            let eff = sx as f64 * sw as f64 / sy as f64;
            let (mm, ss) = quantize_multiplier(eff);
            m.push(mm);
            s.push(ss);
        }
        let n = m.len();
        let mi = self.add_const(
            format!("{node}#multipliers"),
            Tensor {
                dims: vec![n],
                data: TensorData::I32(m),
            },
        );
        let si = self.add_const(
            format!("{node}#shifts"),
            Tensor {
                dims: vec![n],
                data: TensorData::I32(s),
            },
        );
        Ok((mi, si))
    }

    /// LiteRT's reference fully connected layer scales in double precision:
    /// `double(input_scale) · double(filter_scale) / double(output_scale)` per channel, stored
    /// as f64 bits in int32 word pairs (and an empty shifts tensor).
    fn double_scale_consts(&mut self, node: &str, x: TId, w: TId, out: TId) -> Result<(PId, PId)> {
        let bad = |m: &str| CompileError::Invalid {
            node: node.into(),
            op: "int8".into(),
            msg: m.into(),
        };
        let (sx, _) = self
            .quant_of(x)
            .ok_or_else(|| bad("input has no quantization"))?;
        let (sy, _) = self
            .quant_of(out)
            .ok_or_else(|| bad("output has no quantization"))?;
        let wq = self.g.tensors[w]
            .quant
            .clone()
            .ok_or_else(|| bad("weights have no quantization"))?;
        let mut words = Vec::new();
        for &sw in &wq.scales {
            let bits = (sx as f64 * sw as f64 / sy as f64).to_bits();
            words.push(bits as u32 as i32);
            words.push((bits >> 32) as u32 as i32);
        }
        let n = words.len();
        let mi = self.add_const(
            format!("{node}#scales"),
            Tensor {
                dims: vec![n],
                data: TensorData::I32(words),
            },
        );
        let si = self.add_const(
            format!("{node}#unused"),
            Tensor {
                dims: vec![0],
                data: TensorData::I32(vec![]),
            },
        );
        Ok((mi, si))
    }

    fn quant_output(
        &self,
        node: &str,
        x: TId,
        out: TId,
        act: &ActivationSpec,
        fully_connected: bool,
    ) -> Result<QuantOutput> {
        let bad = |m: &str| CompileError::Invalid {
            node: node.into(),
            op: "int8".into(),
            msg: m.into(),
        };
        let (_, zx) = self
            .quant_of(x)
            .ok_or_else(|| bad("input has no quantization"))?;
        let (sy, zy) = self
            .quant_of(out)
            .ok_or_else(|| bad("output has no quantization"))?;
        let (act_min, act_max) = act_range(act, sy, zy)
            .ok_or_else(|| bad("fused activation cannot run as an int8 clamp"))?;
        Ok(QuantOutput {
            input_offset: -zx,
            output_offset: zy,
            act_min,
            act_max,
            rounding: self.weighted_rounding(fully_connected),
        })
    }
}

/// TFLite's `CalculateActivationRangeQuantized`: the clamp that a fused Relu / Relu6 / Clip
/// becomes in the output's integer domain (`zp + round(f / scale)`, round half away from zero).
pub fn act_range(act: &ActivationSpec, scale: f32, zp: i32) -> Option<(i32, i32)> {
    let q = |f: f32| zp.saturating_add((f / scale).round() as i32);
    match act.kind {
        ActivationKind::None => Some((-128, 127)),
        ActivationKind::Relu => Some((q(0.0).max(-128), 127)),
        ActivationKind::Clip => Some((q(act.a).clamp(-128, 127), q(act.b).clamp(-128, 127))),
        _ => None,
    }
}

fn axes6<T: Copy>(vals: &[T], perm: &[usize], fill: T) -> [T; MAX_RANK] {
    let mut out = [fill; MAX_RANK];
    for (j, &p) in perm.iter().enumerate() {
        out[j] = vals[p];
    }
    out
}

/// The 256-entry table of an activation between int8 tensors: dequantize, apply in f32,
/// quantize (round half to even, as ONNX's QuantizeLinear).
fn lookup_table(act: &ActivationSpec, (si, zi): (f32, i32), (so, zo): (f32, i32)) -> Vec<i8> {
    let f = mote_runtime_activation(act);
    (0..256)
        .map(|b| {
            let q = (b as u8) as i8 as i32;
            let x = (q - zi) as f32 * si;
            let y = f(x);
            ((y / so).round_ties_even() as i32 + zo).clamp(-128, 127) as i8
        })
        .collect()
}

fn mote_runtime_activation(a: &ActivationSpec) -> impl Fn(f32) -> f32 {
    let k = match a.kind {
        ActivationKind::None => mote_kernels::Activation::None,
        ActivationKind::Relu => mote_kernels::Activation::Relu,
        ActivationKind::Clip => mote_kernels::Activation::Clip { min: a.a, max: a.b },
        ActivationKind::LeakyRelu => mote_kernels::Activation::LeakyRelu { alpha: a.a },
        ActivationKind::Sigmoid => mote_kernels::Activation::Sigmoid,
        ActivationKind::HardSigmoid => mote_kernels::Activation::HardSigmoid {
            alpha: a.a,
            beta: a.b,
        },
        ActivationKind::HardSwish => mote_kernels::Activation::HardSwish,
        ActivationKind::Tanh => mote_kernels::Activation::Tanh,
    };
    move |x| k.apply(x)
}

/// Converts the IR into physical tensors and ops.
pub fn assign(g: &Graph, rounding: QuantRounding) -> Result<PGraph> {
    assign_with(g, rounding, false)
}

/// [`assign`], keeping int8 weights of float layers as int8 in the file when `int8_weights`
/// (see `Layout::float_weights`).
pub fn assign_with(g: &Graph, rounding: QuantRounding, int8_weights: bool) -> Result<PGraph> {
    let mut l = Layout {
        g,
        p: PGraph::default(),
        cur: HashMap::new(),
        cache: HashMap::new(),
        rounding,
        int8_weights,
    };
    for &t in &g.inputs {
        let r = g.shape(t).len();
        let id = l.define(t, identity(r));
        l.p.inputs.push(id);
    }
    for n in &g.nodes {
        let name = n.name.as_str();
        let out_rank = g.shape(n.output).len();
        let int8 = g.tensors[n.output].dtype == DType::I8;
        let bad = |m: &str| CompileError::Invalid {
            node: name.into(),
            op: crate::qdq::op_name(&n.op).into(),
            msg: m.into(),
        };
        let (params, inputs, out_perm): (OpParams, Vec<PId>, Vec<usize>) = match &n.op {
            Op::Conv {
                strides,
                dilations,
                pads,
                groups,
                act,
            } => {
                let x = l.get(n.inputs[0], &NHWC, name)?;
                let w = if int8 {
                    l.get(n.inputs[1], &NHWC, name)?
                } else {
                    l.float_weights(n.inputs[1], &NHWC, name)?
                };
                let mut ins = vec![x, w];
                if let Some(&b) = n.inputs.get(2) {
                    ins.push(l.get(b, &[0], name)?);
                }
                let conv = Conv2d {
                    stride: u2(strides),
                    dilation: u2(dilations),
                    pads: u4(pads),
                    groups: *groups as u32,
                    activation: *act,
                };
                if int8 {
                    let q = l.quant_output(name, n.inputs[0], n.output, act, false)?;
                    let (m, s) = l.requant_consts(name, n.inputs[0], n.inputs[1], n.output)?;
                    ins.extend([m, s]);
                    (
                        OpParams::Conv2dS8 {
                            conv: Conv2d {
                                activation: ActivationSpec::NONE,
                                ..conv
                            },
                            q,
                        },
                        ins,
                        NHWC.to_vec(),
                    )
                } else {
                    (OpParams::Conv2d(conv), ins, NHWC.to_vec())
                }
            }
            Op::ConvTranspose {
                strides,
                dilations,
                pads,
                groups,
                act,
            } => {
                let x = l.get(n.inputs[0], &NHWC, name)?;
                let wt = n.inputs[1];
                let w = if *groups == 1 {
                    l.get(wt, &[1, 2, 3, 0], name)?
                } else {
                    // [C, M/g, kH, kW] → [M, kH, kW, C/g], regrouping the output channels.
                    let v = g
                        .value(wt)
                        .ok_or_else(|| bad("grouped ConvTranspose needs constant weights"))?
                        .to_f32_vec();
                    let s = g.shape(wt);
                    let (c, mg, kh, kw) = (s[0], s[1], s[2], s[3]);
                    let cpg = c / groups;
                    let mut out = vec![0f32; v.len()];
                    for ci in 0..c {
                        let grp = ci / cpg;
                        for j in 0..mg {
                            let oc = grp * mg + j;
                            for y in 0..kh {
                                for x in 0..kw {
                                    out[((oc * kh + y) * kw + x) * cpg + ci % cpg] =
                                        v[((ci * mg + j) * kh + y) * kw + x];
                                }
                            }
                        }
                    }
                    l.add_const(
                        format!("{}#ohwi", g.tensors[wt].name),
                        Tensor::f32(vec![mg * groups, kh, kw, cpg], out),
                    )
                };
                let mut ins = vec![x, w];
                if let Some(&b) = n.inputs.get(2) {
                    ins.push(l.get(b, &[0], name)?);
                }
                let p = ConvTranspose2d {
                    stride: u2(strides),
                    dilation: u2(dilations),
                    pads: [pads[0] as u32, pads[1] as u32],
                    groups: *groups as u32,
                    activation: *act,
                };
                (OpParams::ConvTranspose2d(p), ins, NHWC.to_vec())
            }
            Op::FullyConnected { act } => {
                let xr = g.shape(n.inputs[0]).len();
                let x = l.get(n.inputs[0], &identity(xr), name)?;
                let w = if int8 {
                    l.get(n.inputs[1], &[0, 1], name)?
                } else {
                    l.float_weights(n.inputs[1], &[0, 1], name)?
                };
                let mut ins = vec![x, w];
                if let Some(&b) = n.inputs.get(2) {
                    ins.push(l.get(b, &[0], name)?);
                }
                if int8 {
                    let q = l.quant_output(name, n.inputs[0], n.output, act, true)?;
                    let (m, s) = if q.rounding == RoundingMode::DoubleScale {
                        l.double_scale_consts(name, n.inputs[0], n.inputs[1], n.output)?
                    } else {
                        l.requant_consts(name, n.inputs[0], n.inputs[1], n.output)?
                    };
                    ins.extend([m, s]);
                    (OpParams::FullyConnectedS8 { q }, ins, identity(out_rank))
                } else {
                    (
                        OpParams::FullyConnected { activation: *act },
                        ins,
                        identity(out_rank),
                    )
                }
            }
            Op::MatMul => {
                let id = identity(out_rank);
                let ins = vec![
                    l.get(n.inputs[0], &id, name)?,
                    l.get(n.inputs[1], &id, name)?,
                ];
                (OpParams::MatMul, ins, id)
            }
            Op::Binary { kind, act } => {
                let perm = l.dominant(&n.inputs, out_rank);
                let ins = vec![
                    l.get(n.inputs[0], &perm, name)?,
                    l.get(n.inputs[1], &perm, name)?,
                ];
                if int8 {
                    let (s1, z1) = l
                        .quant_of(n.inputs[0])
                        .ok_or_else(|| bad("input has no quantization"))?;
                    let (s2, z2) = l
                        .quant_of(n.inputs[1])
                        .ok_or_else(|| bad("input has no quantization"))?;
                    let (so, zo) = l
                        .quant_of(n.output)
                        .ok_or_else(|| bad("output has no quantization"))?;
                    let (act_min, act_max) = act_range(act, so, zo)
                        .ok_or_else(|| bad("fused activation cannot run as an int8 clamp"))?;
                    let params = match kind {
                        BinaryKind::Add | BinaryKind::Sub => {
                            // TFLite add.cc Prepare (int8): left_shift 20, inputs scaled by
                            // 1 / (2 · max input scale), output by that over 2^20 · out scale.
                            let left_shift = 20;
                            let twice_max = 2.0 * s1.max(s2);
                            let (m1, sh1) = quantize_multiplier(s1 as f64 / twice_max as f64);
                            let (m2, sh2) = quantize_multiplier(s2 as f64 / twice_max as f64);
                            let (mo, sho) = quantize_multiplier(
                                twice_max as f64 / ((1i32 << left_shift) as f32 * so) as f64,
                            );
                            OpParams::AddS8(AddS8 {
                                subtract: *kind == BinaryKind::Sub,
                                input1_offset: -z1,
                                input2_offset: -z2,
                                output_offset: zo,
                                left_shift,
                                input1_multiplier: m1,
                                input1_shift: sh1,
                                input2_multiplier: m2,
                                input2_shift: sh2,
                                output_multiplier: mo,
                                output_shift: sho,
                                act_min,
                                act_max,
                                rounding: l.rounding(false),
                            })
                        }
                        BinaryKind::Mul => {
                            // TFLite mul.cc computes this scale in float32.
                            let (mo, sho) = quantize_multiplier((s1 * s2 / so) as f64);
                            OpParams::MulS8(MulS8 {
                                input1_offset: -z1,
                                input2_offset: -z2,
                                output_offset: zo,
                                output_multiplier: mo,
                                output_shift: sho,
                                act_min,
                                act_max,
                                rounding: l.rounding(false),
                            })
                        }
                        _ => return Err(bad("only Add, Sub and Mul run in int8")),
                    };
                    (params, ins, perm)
                } else {
                    (
                        OpParams::Binary {
                            kind: *kind,
                            activation: *act,
                        },
                        ins,
                        perm,
                    )
                }
            }
            Op::Unary(a) => {
                let perm = l.perm_of(n.inputs[0]);
                (
                    OpParams::Unary { activation: *a },
                    vec![l.get(n.inputs[0], &perm, name)?],
                    perm,
                )
            }
            Op::Lookup(a) => {
                let perm = l.perm_of(n.inputs[0]);
                let qi = l
                    .quant_of(n.inputs[0])
                    .ok_or_else(|| bad("input has no quantization"))?;
                let qo = l
                    .quant_of(n.output)
                    .ok_or_else(|| bad("output has no quantization"))?;
                let table = lookup_table(a, qi, qo);
                let t = l.add_const(
                    format!("{name}#table"),
                    Tensor {
                        dims: vec![256],
                        data: TensorData::I8(table),
                    },
                );
                (
                    OpParams::LookupS8,
                    vec![l.get(n.inputs[0], &perm, name)?, t],
                    perm,
                )
            }
            Op::Quantize { scale, zero_point } | Op::Dequantize { scale, zero_point } => {
                // A Dequantize that produces a graph output (which wants ONNX order) moves its
                // int8 input into that order instead of leaving the f32 output to be
                // transposed: a quarter of the bytes (the grouped-layer model's NCHW output:
                // 0.40 ms as f32).
                let perm = if matches!(n.op, Op::Dequantize { .. }) && g.outputs.contains(&n.output)
                {
                    identity(g.shape(n.output).len())
                } else {
                    l.perm_of(n.inputs[0])
                };
                let p = if matches!(n.op, Op::Quantize { .. }) {
                    OpParams::Quantize {
                        scale: *scale,
                        zero_point: *zero_point,
                    }
                } else {
                    OpParams::Dequantize {
                        scale: *scale,
                        zero_point: *zero_point,
                    }
                };
                if !(-128..=127).contains(zero_point) {
                    return Err(bad("zero point outside the int8 range"));
                }
                (p, vec![l.get(n.inputs[0], &perm, name)?], perm)
            }
            Op::Requantize { factor } => {
                let perm = l.perm_of(n.inputs[0]);
                let (si, zi) = l
                    .quant_of(n.inputs[0])
                    .ok_or_else(|| bad("input has no quantization"))?;
                let (so, zo) = l
                    .quant_of(n.output)
                    .ok_or_else(|| bad("output has no quantization"))?;
                // TFLite's int8 → int8 Quantize: effective scale input / output (times the
                // factor of a division or multiplication by a constant folded in here).
                let (multiplier, shift) = quantize_multiplier(si as f64 * factor / so as f64);
                if multiplier < 0 || !(-31..=30).contains(&shift) {
                    return Err(bad("requantization scale out of the int8 range"));
                }
                let p = OpParams::Requantize {
                    input_zero_point: zi,
                    output_zero_point: zo,
                    multiplier,
                    shift,
                    rounding: l.rounding(false),
                };
                (p, vec![l.get(n.inputs[0], &perm, name)?], perm)
            }
            Op::Concat { axis } => {
                let perm = l.dominant(&n.inputs, out_rank);
                let mut ins = Vec::new();
                for &t in &n.inputs {
                    ins.push(l.get(t, &perm, name)?);
                }
                let pa = perm.iter().position(|&p| p == *axis).unwrap_or(0) as u32;
                (OpParams::Concat { axis: pa }, ins, perm)
            }
            Op::Slice { starts, steps } => {
                let perm = l.perm_of(n.inputs[0]);
                let s: Vec<i32> = starts.iter().map(|&v| v as i32).collect();
                let st: Vec<i32> = steps.iter().map(|&v| v as i32).collect();
                let p = OpParams::Slice {
                    starts: axes6(&s, &perm, 0),
                    steps: axes6(&st, &perm, 1),
                };
                (p, vec![l.get(n.inputs[0], &perm, name)?], perm)
            }
            Op::MaxPool(pa) | Op::AvgPool(pa) => {
                let p = Pool2d {
                    kernel: u2(&pa.kernel),
                    stride: u2(&pa.strides),
                    dilation: u2(&pa.dilations),
                    pads: u4(&pa.pads),
                    count_include_pad: pa.count_include_pad,
                    activation: pa.act,
                };
                let max = matches!(n.op, Op::MaxPool(_));
                let params = if int8 {
                    let (so, zo) = l
                        .quant_of(n.output)
                        .ok_or_else(|| bad("output has no quantization"))?;
                    if l.quant_of(n.inputs[0]) != Some((so, zo)) {
                        return Err(bad(
                            "int8 pooling needs equal input and output quantization",
                        ));
                    }
                    let (act_min, act_max) = act_range(&pa.act, so, zo)
                        .ok_or_else(|| bad("fused activation cannot run as an int8 clamp"))?;
                    let pool = Pool2d {
                        activation: ActivationSpec::NONE,
                        ..p
                    };
                    if max {
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
                } else if max {
                    OpParams::MaxPool2d(p)
                } else {
                    OpParams::AvgPool2d(p)
                };
                (
                    params,
                    vec![l.get(n.inputs[0], &NHWC, name)?],
                    NHWC.to_vec(),
                )
            }
            Op::ReduceMean { axes } => {
                let perm = l.perm_of(n.inputs[0]);
                let mut mask = 0u32;
                for (j, p) in perm.iter().enumerate() {
                    if axes.contains(p) {
                        mask |= 1 << j;
                    }
                }
                let in_rank = perm.len();
                let out_perm = if out_rank == in_rank {
                    perm.clone()
                } else {
                    perm.iter()
                        .filter(|p| !axes.contains(p))
                        .map(|&p| p - axes.iter().filter(|&&a| a < p).count())
                        .collect()
                };
                let params = if int8 {
                    let (si, zi) = l
                        .quant_of(n.inputs[0])
                        .ok_or_else(|| bad("input has no quantization"))?;
                    let (so, zo) = l
                        .quant_of(n.output)
                        .ok_or_else(|| bad("output has no quantization"))?;
                    let count: usize = axes.iter().map(|&a| g.shape(n.inputs[0])[a]).product();
                    let (multiplier, shift) =
                        quantize_multiplier(si as f64 / (count.max(1) as f64 * so as f64));
                    if multiplier < 0 || !(-31..=30).contains(&shift) {
                        return Err(bad("int8 mean scale out of range"));
                    }
                    OpParams::MeanS8 {
                        axes_mask: mask,
                        input_zero_point: zi,
                        output_zero_point: zo,
                        multiplier,
                        shift,
                        rounding: l.rounding(false),
                    }
                } else {
                    OpParams::Reduce {
                        kind: ReduceKind::Mean,
                        axes_mask: mask,
                    }
                };
                (params, vec![l.get(n.inputs[0], &perm, name)?], out_perm)
            }
            Op::Reshape => {
                let r = g.shape(n.inputs[0]).len();
                (
                    OpParams::Reshape,
                    vec![l.get(n.inputs[0], &identity(r), name)?],
                    identity(out_rank),
                )
            }
            Op::Transpose { perm } => {
                // Relabel only: the output is the input's bytes with another logical order.
                let have = l.perm_of(n.inputs[0]);
                let src = l.get(n.inputs[0], &have, name)?;
                let mut inv = vec![0usize; perm.len()];
                for (i, &p) in perm.iter().enumerate() {
                    inv[p] = i;
                }
                let out_perm: Vec<usize> = have.iter().map(|&h| inv[h]).collect();
                l.cur.insert(n.output, (src, out_perm.clone()));
                l.cache.insert((n.output, out_perm), src);
                continue;
            }
            Op::Softmax { axis, flatten } => {
                let perm = if *flatten {
                    identity(out_rank)
                } else {
                    l.perm_of(n.inputs[0])
                };
                let pa = perm.iter().position(|&p| p == *axis).unwrap_or(0) as u32;
                let params = if int8 {
                    let (si, _) = l
                        .quant_of(n.inputs[0])
                        .ok_or_else(|| bad("input has no quantization"))?;
                    if l.quant_of(n.output) != Some((1.0 / 256.0, -128)) {
                        return Err(bad(
                            "int8 softmax output must have scale 1/256 and zero point -128",
                        ));
                    }
                    let (input_multiplier, input_left_shift, diff_min) =
                        mote_kernels::ops::softmax::softmax_s8_params(1.0, si as f64);
                    OpParams::SoftmaxS8 {
                        axis: pa,
                        flatten: *flatten,
                        input_multiplier,
                        input_left_shift,
                        diff_min,
                    }
                } else {
                    OpParams::Softmax {
                        axis: pa,
                        flatten: *flatten,
                    }
                };
                (params, vec![l.get(n.inputs[0], &perm, name)?], perm)
            }
            Op::Pad { kind, value, begin } => {
                let perm = l.perm_of(n.inputs[0]);
                let b: Vec<i32> = begin.iter().map(|&v| v as i32).collect();
                (
                    OpParams::Pad {
                        kind: *kind,
                        value: *value,
                        begin: axes6(&b, &perm, 0),
                    },
                    vec![l.get(n.inputs[0], &perm, name)?],
                    perm,
                )
            }
            Op::Resize {
                mode,
                coordinate,
                nearest,
                scales,
            } => {
                // int8 bilinear is TFLite's NHWC kernel; everything else keeps its layout.
                let perm = if int8 && *mode == ResizeMode::Linear {
                    NHWC.to_vec()
                } else {
                    l.perm_of(n.inputs[0])
                };
                let p = Resize {
                    mode: *mode,
                    coordinate: *coordinate,
                    nearest: *nearest,
                    scales: axes6(scales, &perm, 1.0),
                };
                (
                    OpParams::Resize(p),
                    vec![l.get(n.inputs[0], &perm, name)?],
                    perm,
                )
            }
        };
        let out = l.define(n.output, out_perm);
        l.p.ops.push(POp {
            name: n.name.clone(),
            params,
            inputs,
            output: out,
        });
    }
    for &t in &g.outputs {
        let r = g.shape(t).len();
        let id = l.get(t, &identity(r), "output")?;
        // An output moved into ONNX order here (the int8 output of `--io int8`, read from an
        // NHWC layer) is the graph output: it takes the output's name, the NHWC tensor another.
        let name = &g.tensors[t].name;
        if l.p.tensors[id].name != *name {
            if let Some(&(src, _)) = l.cur.get(&t) {
                l.p.tensors[src].name = format!("{name}#nhwc");
            }
            l.p.tensors[id].name = name.clone();
        }
        l.p.outputs.push(id);
    }
    Ok(l.p)
}

fn u2(v: &[usize; 2]) -> [u32; 2] {
    [v[0] as u32, v[1] as u32]
}

fn u4(v: &[usize; 4]) -> [u32; 4] {
    [v[0] as u32, v[1] as u32, v[2] as u32, v[3] as u32]
}
