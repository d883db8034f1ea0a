//! ONNX → IR: fixes input shapes, folds constants, infers every shape and lowers each ONNX op to
//! the IR's op set (BatchNormalization to a per-channel multiply-add, Gemm/MatMul with constant
//! weights to FullyConnected, Split to Slices, GlobalAveragePool to a mean, Identity/Dropout to
//! nothing).

use crate::error::{CompileError, Result};
use crate::fold::{self, broadcast, Num};
use crate::ir::*;
use mote_format::{ActivationKind, ActivationSpec};
use mote_onnx::proto::{ModelProto, NodeProto};
use mote_onnx::{Attrs, Dim, Tensor, TensorData};
use std::collections::HashMap;

/// Import options.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Fixed shapes for graph inputs, by name (overrides the model's, fixes symbolic dims).
    pub input_shapes: Vec<(String, Vec<usize>)>,
}

#[derive(Clone, Debug)]
enum Val {
    Const(Tensor),
    Rt(TId),
}

struct Importer {
    g: Graph,
    vals: HashMap<String, Val>,
    const_ids: HashMap<String, TId>,
    opset: i64,
    unique: usize,
    /// Constants folded from `DequantizeLinear` of integers: the integers and their parameters.
    qorigin: HashMap<String, (Tensor, Quant)>,
}

/// Normalised slice of one tensor.
pub(crate) struct SliceSpec {
    pub starts: Vec<i64>,
    pub steps: Vec<i64>,
    pub out_dims: Vec<usize>,
}

fn node_name(n: &NodeProto) -> String {
    match n.name.as_deref() {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => format!(
            "<{}>",
            n.output.first().map(String::as_str).unwrap_or("unnamed")
        ),
    }
}

fn act(kind: ActivationKind, a: f32, b: f32) -> ActivationSpec {
    ActivationSpec { kind, a, b }
}

/// Output shape of a shape-only op (Reshape, Flatten, Squeeze, Unsqueeze).
pub(crate) fn reshape_like(
    op: &str,
    dims: &[usize],
    attrs: &Attrs<'_>,
    second: Option<&[i64]>,
    opset: i64,
) -> std::result::Result<Vec<usize>, String> {
    let r = dims.len() as i64;
    let total: usize = dims.iter().product();
    let e = |m: mote_onnx::OnnxError| m.to_string();
    match op {
        "Reshape" => {
            let shape = match second {
                Some(s) => s.to_vec(),
                None => attrs
                    .ints("shape")
                    .map_err(e)?
                    .ok_or("Reshape needs a constant shape")?,
            };
            let allowzero = attrs.int_or("allowzero", 0).map_err(e)? != 0;
            let mut out = Vec::with_capacity(shape.len());
            let mut infer = None;
            for (i, &d) in shape.iter().enumerate() {
                if d == -1 {
                    if infer.is_some() {
                        return Err("Reshape shape has two -1 entries".into());
                    }
                    infer = Some(i);
                    out.push(1);
                } else if d == 0 && !allowzero {
                    out.push(
                        *dims
                            .get(i)
                            .ok_or("Reshape 0 refers past the input's rank")?,
                    );
                } else if d < 0 {
                    return Err(format!("Reshape shape entry {d}"));
                } else {
                    out.push(d as usize);
                }
            }
            if let Some(i) = infer {
                let known: usize = out
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != i)
                    .map(|(_, &d)| d)
                    .product();
                if known == 0 || !total.is_multiple_of(known) {
                    return Err(format!("cannot reshape {dims:?} to {shape:?}"));
                }
                out[i] = total / known;
            }
            if out.iter().product::<usize>() != total {
                return Err(format!(
                    "cannot reshape {dims:?} ({total} elements) to {out:?}"
                ));
            }
            Ok(out)
        }
        "Flatten" => {
            let mut axis = attrs.int_or("axis", 1).map_err(e)?;
            if axis < 0 {
                axis += r;
            }
            if axis < 0 || axis > r {
                return Err("Flatten axis out of range".into());
            }
            let a: usize = dims[..axis as usize].iter().product();
            let b: usize = dims[axis as usize..].iter().product();
            Ok(vec![a, b])
        }
        "Squeeze" => {
            let axes = if opset >= 13 {
                second.map(|s| s.to_vec())
            } else {
                attrs.ints("axes").map_err(e)?
            };
            match axes {
                None => Ok(dims.iter().copied().filter(|&d| d != 1).collect()),
                Some(ax) => {
                    let ax: Vec<usize> = ax
                        .iter()
                        .map(|&a| if a < 0 { (a + r) as usize } else { a as usize })
                        .collect();
                    if ax.iter().any(|&a| a >= dims.len() || dims[a] != 1) {
                        return Err("Squeeze axis out of range or not of extent 1".into());
                    }
                    Ok(dims
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !ax.contains(i))
                        .map(|(_, &d)| d)
                        .collect())
                }
            }
        }
        "Unsqueeze" => {
            let ax = if opset >= 13 {
                second.map(|s| s.to_vec())
            } else {
                attrs.ints("axes").map_err(e)?
            }
            .ok_or("Unsqueeze needs axes")?;
            let out_r = r + ax.len() as i64;
            let mut ax: Vec<usize> = ax
                .iter()
                .map(|&a| {
                    if a < 0 {
                        (a + out_r) as usize
                    } else {
                        a as usize
                    }
                })
                .collect();
            ax.sort_unstable();
            if ax.iter().any(|&a| a as i64 >= out_r) || ax.windows(2).any(|w| w[0] == w[1]) {
                return Err("Unsqueeze axes out of range or repeated".into());
            }
            let mut out = Vec::new();
            let mut it = dims.iter();
            for i in 0..out_r as usize {
                if ax.contains(&i) {
                    out.push(1);
                } else {
                    out.push(*it.next().ok_or("Unsqueeze axes")?);
                }
            }
            Ok(out)
        }
        _ => Err(format!("not a reshape op: {op}")),
    }
}

/// ONNX Slice semantics: clamps starts/ends per step sign and computes the output shape.
pub(crate) fn slice_spec(
    node: &NodeProto,
    dims: &[usize],
    rest: Vec<Option<Vec<i64>>>,
    opset: i64,
) -> Result<SliceSpec> {
    let attrs = Attrs::new(node);
    let bad = |m: &str| CompileError::Invalid {
        node: node_name(node),
        op: "Slice".into(),
        msg: m.into(),
    };
    let r = dims.len();
    let (starts, ends, axes, steps) = if opset < 10 {
        (
            attrs.ints("starts")?.ok_or_else(|| bad("missing starts"))?,
            attrs.ints("ends")?.ok_or_else(|| bad("missing ends"))?,
            attrs.ints("axes")?,
            None,
        )
    } else {
        let get = |i: usize| rest.get(i).cloned().flatten();
        (
            get(0).ok_or_else(|| bad("starts must be constant"))?,
            get(1).ok_or_else(|| bad("ends must be constant"))?,
            get(2),
            get(3),
        )
    };
    let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(bad("starts, ends, axes and steps differ in length"));
    }
    let mut spec = SliceSpec {
        starts: vec![0; r],
        steps: vec![1; r],
        out_dims: dims.to_vec(),
    };
    for i in 0..starts.len() {
        let mut a = axes[i];
        if a < 0 {
            a += r as i64;
        }
        if a < 0 || a as usize >= r {
            return Err(bad("axis out of range"));
        }
        let a = a as usize;
        let d = dims[a] as i64;
        let step = steps[i];
        if step == 0 {
            return Err(bad("step 0"));
        }
        let (mut s, mut e) = (starts[i], ends[i]);
        if s < 0 {
            s += d;
        }
        if e < 0 {
            e += d;
        }
        if step > 0 {
            s = s.clamp(0, d);
            e = e.clamp(0, d);
        } else {
            s = s.clamp(0, (d - 1).max(0));
            e = e.clamp(-1, d - 1);
        }
        let len = if step > 0 {
            (e - s + step - 1) / step
        } else {
            (s - e + (-step) - 1) / (-step)
        }
        .max(0);
        spec.starts[a] = if len == 0 { 0 } else { s };
        spec.steps[a] = step;
        spec.out_dims[a] = len as usize;
    }
    Ok(spec)
}

fn conv_out(inp: usize, k: usize, s: usize, d: usize, p0: usize, p1: usize) -> Option<usize> {
    let span = d * (k.max(1) - 1) + 1;
    (inp + p0 + p1).checked_sub(span).map(|v| v / s + 1)
}

/// Explicit pads for `auto_pad` SAME_UPPER / SAME_LOWER / VALID / NOTSET.
fn auto_pads(
    auto: &str,
    pads: Option<Vec<i64>>,
    in_hw: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
) -> std::result::Result<[usize; 4], String> {
    match auto {
        "NOTSET" | "" => {
            let p = pads.unwrap_or_else(|| vec![0; 4]);
            if p.len() != 4 || p.iter().any(|&v| !(0..=1 << 16).contains(&v)) {
                return Err(format!("pads {p:?} are not 4 values in 0..=65536"));
            }
            Ok([p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize])
        }
        "VALID" => Ok([0; 4]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut out = [0usize; 4];
            for i in 0..2 {
                let o = in_hw[i].div_ceil(s[i]);
                let need = ((o.max(1) - 1).saturating_mul(s[i]))
                    .saturating_add(d[i].saturating_mul(k[i].saturating_sub(1)))
                    .saturating_add(1)
                    .saturating_sub(in_hw[i]);
                let (small, big) = (need / 2, need - need / 2);
                if auto == "SAME_UPPER" {
                    out[i] = small;
                    out[i + 2] = big;
                } else {
                    out[i] = big;
                    out[i + 2] = small;
                }
            }
            Ok(out)
        }
        other => Err(format!("auto_pad {other} is not supported")),
    }
}

fn pair(
    v: Option<Vec<i64>>,
    default: usize,
    what: &str,
) -> std::result::Result<[usize; 2], String> {
    match v {
        None if default == 0 => Err(format!("{what} is required")),
        None => Ok([default; 2]),
        // At most 2^16: no real model comes near, and products of such values cannot overflow.
        Some(v) if v.len() == 2 && v.iter().all(|&x| (1..=1 << 16).contains(&x)) => {
            Ok([v[0] as usize, v[1] as usize])
        }
        Some(v) => Err(format!(
            "{what} {v:?}: only 2-D spatial ops with positive values are supported"
        )),
    }
}

impl Importer {
    fn fresh(&mut self, base: &str) -> String {
        self.unique += 1;
        format!("{base}#{}", self.unique)
    }

    fn const_tid(&mut self, name: &str, t: &Tensor) -> TId {
        if let Some(&id) = self.const_ids.get(name) {
            if self.g.value(id).map(|v| v == t).unwrap_or(false) {
                return id;
            }
        }
        let id = self.g.add_const(name, t.clone());
        self.const_ids.insert(name.to_string(), id);
        id
    }

    fn emit(
        &mut self,
        name: &str,
        op: Op,
        inputs: Vec<TId>,
        out_name: &str,
        shape: Vec<usize>,
    ) -> TId {
        let out = self.g.add_tensor(out_name, shape);
        // Data movement keeps the element type (int8 tensors are reshaped and transposed as they
        // are), and so do max pooling and resizing of an int8 tensor (ONNX Runtime's QOperator
        // graphs apply them to the integers: the maximum commutes with dequantization, and a
        // resize keeps the quantization); everything else computes in float32 until the
        // quantization pass lowers it.
        let int8_in = inputs
            .first()
            .is_some_and(|&i| self.g.tensors[i].dtype == DType::I8);
        if matches!(
            op,
            Op::Reshape
                | Op::Transpose { .. }
                | Op::Slice { .. }
                | Op::Concat { .. }
                | Op::Pad { .. }
        ) || (int8_in && matches!(op, Op::MaxPool(_) | Op::Resize { .. }))
        {
            if let Some(&i) = inputs.first() {
                let (dt, q) = (self.g.tensors[i].dtype, self.g.tensors[i].quant.clone());
                self.g.tensors[out].dtype = dt;
                self.g.tensors[out].quant = q;
            }
        }
        if let Op::Quantize { scale, zero_point } = op {
            self.g.tensors[out].dtype = DType::I8;
            self.g.tensors[out].quant = Some(Quant::per_tensor(scale, zero_point));
        }
        self.g.nodes.push(Node {
            name: name.to_string(),
            op,
            inputs,
            output: out,
        });
        out
    }

    fn reshape_rt(&mut self, name: &str, t: TId, shape: Vec<usize>) -> TId {
        if self.g.shape(t) == shape.as_slice() {
            return t;
        }
        let out = self.fresh(&self.g.tensors[t].name.clone());
        self.emit(name, Op::Reshape, vec![t], &out, shape)
    }

    /// A value as an IR tensor of `rank` (prepending 1s), f32.
    fn as_tensor(&mut self, node: &NodeProto, v: &Val, vname: &str, rank: usize) -> Result<TId> {
        match v {
            Val::Rt(t) => {
                let s = self.g.shape(*t).to_vec();
                if s.len() >= rank {
                    return Ok(*t);
                }
                let mut ns = vec![1; rank - s.len()];
                ns.extend(s);
                Ok(self.reshape_rt(&node_name(node), *t, ns))
            }
            Val::Const(c) => {
                let vals = match &c.data {
                    TensorData::F32(v) => v.clone(),
                    _ => c.to_f32_vec(),
                };
                let mut dims = c.dims.clone();
                while dims.len() < rank {
                    dims.insert(0, 1);
                }
                let t = Tensor::f32(dims.clone(), vals);
                let id = self.const_tid(vname, &t);
                if let Some((q, quant)) = self.qorigin.get(vname) {
                    let mut q = q.clone();
                    q.dims = dims;
                    let def = &mut self.g.tensors[id];
                    def.qorigin = Some(q);
                    def.quant = Some(quant.clone());
                }
                Ok(id)
            }
        }
    }

    /// Fully connected weights `[N, K]` from a constant `[K, N]` (or already `[N, K]`), scaled
    /// by `alpha`; quantized origins follow the transpose (per-channel axis included).
    fn weights_nk(&mut self, vname: &str, t: &Tensor, already_nk: bool, alpha: f32) -> TId {
        let v = t.to_f32_vec();
        let (vals, dims) = if already_nk {
            (v, t.dims.clone())
        } else {
            fold::transpose_vals(&v, &t.dims, &[1, 0])
        };
        let vals: Vec<f32> = vals.iter().map(|&x| x * alpha).collect();
        let id = self.const_tid(&format!("{vname}#w"), &Tensor::f32(dims.clone(), vals));
        if let (Some((q, quant)), true) = (self.qorigin.get(vname).cloned(), alpha == 1.0) {
            let data = if already_nk {
                Some(q.data.clone())
            } else {
                match &q.data {
                    TensorData::I8(d) => {
                        Some(TensorData::I8(fold::transpose_vals(d, &q.dims, &[1, 0]).0))
                    }
                    _ => None,
                }
            };
            if let Some(data) = data {
                let mut quant = quant;
                if quant.scales.len() > 1 && !already_nk {
                    quant.axis = 1 - quant.axis.min(1);
                }
                let def = &mut self.g.tensors[id];
                def.qorigin = Some(Tensor { dims, data });
                def.quant = Some(quant);
            }
        }
        id
    }

    fn shape_of(&self, v: &Val) -> Vec<usize> {
        match v {
            Val::Rt(t) => self.g.shape(*t).to_vec(),
            Val::Const(c) => c.dims.clone(),
        }
    }
}

/// For a `DequantizeLinear` of constant integers: the integers (uint8 shifted to int8) and
/// their quantization, so that int8 kernels can use them exactly.
fn dequantized_origin(node: &NodeProto, ins: &[Option<Val>]) -> Result<Option<(Tensor, Quant)>> {
    let get = |i: usize| match ins.get(i).cloned().flatten() {
        Some(Val::Const(t)) => Some(t),
        _ => None,
    };
    let (Some(x), Some(scale)) = (get(0), get(1)) else {
        return Ok(None);
    };
    let zp = get(2);
    let attrs = Attrs::new(node);
    let rank = x.dims.len() as i64;
    let mut axis = attrs.int_or("axis", 1)?;
    if axis < 0 {
        axis += rank;
    }
    let scales = scale.to_f32_vec();
    let mut zps: Vec<i32> = zp
        .as_ref()
        .and_then(|z| z.to_i64_vec())
        .unwrap_or_else(|| vec![0; scales.len()])
        .iter()
        .map(|&v| v as i32)
        .collect();
    let data = match (&x.data, zp.as_ref().map(|z| &z.data)) {
        (TensorData::I8(_), _) | (TensorData::I32(_), _) => x.data.clone(),
        (TensorData::U8(v), _) => {
            zps.iter_mut().for_each(|z| *z -= 128);
            TensorData::I8(v.iter().map(|&b| (b as i16 - 128) as i8).collect())
        }
        _ => return Ok(None),
    };
    let quant = Quant {
        scales,
        zero_points: zps,
        axis: if axis >= 0 { axis as usize } else { 0 },
    };
    Ok(Some((
        Tensor {
            dims: x.dims.clone(),
            data,
        },
        quant,
    )))
}

/// Imports an ONNX model.
pub fn import(model: &ModelProto, opts: &ImportOptions) -> Result<Graph> {
    let opset = mote_onnx::default_opset(model)?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| CompileError::Graph("the model has no graph".into()))?;
    let mut im = Importer {
        g: Graph::default(),
        vals: HashMap::new(),
        const_ids: HashMap::new(),
        opset,
        unique: 0,
        qorigin: HashMap::new(),
    };
    for init in &graph.initializer {
        let name = init.name.clone().unwrap_or_default();
        let t = mote_onnx::tensor_from_proto(init)?;
        im.vals.insert(name, Val::Const(t));
    }
    for (name, _) in &opts.input_shapes {
        if !graph
            .input
            .iter()
            .any(|i| i.name.as_deref() == Some(name.as_str()))
        {
            let names: Vec<&str> = graph
                .input
                .iter()
                .filter_map(|i| i.name.as_deref())
                .collect();
            return Err(CompileError::InputShape(format!(
                "the model has no input '{name}' (inputs: {})",
                names.join(", ")
            )));
        }
    }
    for input in &graph.input {
        let name = input.name.clone().unwrap_or_default();
        if im.vals.contains_key(&name) {
            continue; // an initializer with a default value (IR < 4): a constant
        }
        let (elem, dims) = mote_onnx::value_info_shape(input)
            .ok_or_else(|| CompileError::Graph(format!("input '{name}' has no tensor shape")))?;
        let dtype = match elem {
            1 => DType::F32,
            3 => DType::I8,
            _ => {
                return Err(CompileError::Graph(format!(
                    "input '{name}' has ONNX element type {elem}; mote takes float32 or int8 inputs"
                )))
            }
        };
        let shape = if let Some((_, s)) = opts.input_shapes.iter().find(|(n, _)| *n == name) {
            if s.len() != dims.len() {
                return Err(CompileError::InputShape(format!(
                    "input '{name}' has rank {}, the option gives {} dims",
                    dims.len(),
                    s.len()
                )));
            }
            for (k, (d, &v)) in dims.iter().zip(s.iter()).enumerate() {
                if let Dim::Fixed(f) = d {
                    if *f as usize != v {
                        return Err(CompileError::InputShape(format!(
                            "input '{name}' axis {k} is fixed to {f} by the model, not {v}"
                        )));
                    }
                }
            }
            s.clone()
        } else {
            let mut s = Vec::new();
            for (k, d) in dims.iter().enumerate() {
                match d {
                    Dim::Fixed(v) if *v >= 0 => s.push(*v as usize),
                    other => {
                        let symbol = match other {
                            Dim::Symbolic(x) => x.clone(),
                            _ => "?".into(),
                        };
                        let suggest: Vec<String> = dims
                            .iter()
                            .map(|d| match d {
                                Dim::Fixed(v) => v.to_string(),
                                _ => "1".into(),
                            })
                            .collect();
                        return Err(CompileError::DynamicDim {
                            input: name.clone(),
                            dim: k,
                            symbol,
                            suggest: suggest.join(","),
                        });
                    }
                }
            }
            s
        };
        if shape.len() > mote_format::MAX_RANK {
            return Err(CompileError::Graph(format!(
                "input '{name}' has rank {} (at most 6 supported)",
                shape.len()
            )));
        }
        let t = im.g.add_tensor(name.clone(), shape);
        im.g.tensors[t].dtype = dtype;
        im.g.inputs.push(t);
        im.vals.insert(name, Val::Rt(t));
    }
    for node in &graph.node {
        import_node(&mut im, node)?;
    }
    for out in &graph.output {
        let name = out.name.clone().unwrap_or_default();
        let v = im.vals.get(&name).cloned().ok_or_else(|| {
            CompileError::Graph(format!("graph output '{name}' is not produced by any node"))
        })?;
        let t = match v {
            Val::Rt(t) => t,
            Val::Const(c) => {
                let f = Tensor::f32(c.dims.clone(), c.to_f32_vec());
                im.g.add_const(name.clone(), f)
            }
        };
        im.g.outputs.push(t);
    }
    Ok(im.g)
}

const FOLDABLE_ONLY: &[&str] = &[
    "Shape",
    "Size",
    "Gather",
    "Cast",
    "Constant",
    "ConstantOfShape",
    "Range",
    "Equal",
    "Where",
    "Expand",
    "Neg",
    "Sqrt",
    "Reciprocal",
    "Floor",
    "Ceil",
    "Not",
    "Less",
    "Greater",
    "Pow",
];

fn import_node(im: &mut Importer, node: &NodeProto) -> Result<()> {
    let op = node.op_type.clone().unwrap_or_default();
    let name = node_name(node);
    let domain = node.domain.as_deref().unwrap_or("");
    if !(domain.is_empty() || domain == "ai.onnx") {
        return Err(CompileError::UnsupportedOp {
            node: name,
            op: format!("{domain}.{op}"),
        });
    }
    let mut ins: Vec<Option<Val>> = Vec::new();
    for i in &node.input {
        if i.is_empty() {
            ins.push(None);
        } else {
            let v = im
                .vals
                .get(i)
                .cloned()
                .ok_or_else(|| CompileError::Invalid {
                    node: name.clone(),
                    op: op.clone(),
                    msg: format!("input '{i}' is not defined before this node"),
                })?;
            ins.push(Some(v));
        }
    }
    let all_const = ins.iter().all(|v| matches!(v, None | Some(Val::Const(_))));
    // Shape/Size of a runtime tensor are known at compile time.
    if (op == "Shape" || op == "Size") && !all_const {
        let dims = ins
            .first()
            .cloned()
            .flatten()
            .map(|v| im.shape_of(&v))
            .unwrap_or_default();
        let placeholder = Num {
            vals: vec![0.0; dims.iter().product()],
            dims,
            kind: fold::Kind::F32,
        };
        let outs = fold::fold(node, &[Some(placeholder)], im.opset)?.unwrap_or_default();
        for (o, n) in node.output.iter().zip(outs) {
            im.vals.insert(o.clone(), Val::Const(n.to_tensor()));
        }
        return Ok(());
    }
    if all_const && op != "Split" {
        let nums: Vec<Option<Num>> = ins
            .iter()
            .map(|v| {
                v.as_ref().and_then(|v| {
                    if let Val::Const(t) = v {
                        Some(Num::from_tensor(t))
                    } else {
                        None
                    }
                })
            })
            .collect();
        if let Some(outs) = fold::fold(node, &nums, im.opset)? {
            if op == "DequantizeLinear" {
                if let (Some(o), Some(origin)) =
                    (node.output.first(), dequantized_origin(node, &ins)?)
                {
                    im.qorigin.insert(o.clone(), origin);
                }
            }
            for (o, n) in node.output.iter().zip(outs) {
                im.vals.insert(o.clone(), Val::Const(n.to_tensor()));
            }
            return Ok(());
        }
    }
    // A Cast to float32 of a float32 run-time tensor (after ConvInteger / MatMulInteger, which
    // mote imports as float ops with integer values) changes nothing.
    if op == "Cast" && Attrs::new(node).int_or("to", 0)? == 1 {
        if let Some(Some(Val::Rt(t))) = ins.first() {
            if im.g.tensors[*t].dtype == DType::F32 {
                if let Some(o) = node.output.first() {
                    im.vals.insert(o.clone(), Val::Rt(*t));
                }
                return Ok(());
            }
        }
    }
    if FOLDABLE_ONLY.contains(&op.as_str()) {
        return Err(CompileError::Unsupported {
            node: name,
            op,
            msg: "supported only on constant inputs (it would run at run time)".into(),
        });
    }
    lower(im, node, &op, &name, &ins)
}

fn lower(
    im: &mut Importer,
    node: &NodeProto,
    op: &str,
    name: &str,
    ins: &[Option<Val>],
) -> Result<()> {
    let attrs = Attrs::new(node);
    let bad = |m: String| CompileError::Invalid {
        node: name.to_string(),
        op: op.to_string(),
        msg: m,
    };
    let unsup = |m: String| CompileError::Unsupported {
        node: name.to_string(),
        op: op.to_string(),
        msg: m,
    };
    let input = |i: usize| -> Result<Val> {
        ins.get(i)
            .cloned()
            .flatten()
            .ok_or_else(|| bad(format!("missing input {i}")))
    };
    let const_input = |i: usize| -> Result<Option<Tensor>> {
        match ins.get(i).cloned().flatten() {
            None => Ok(None),
            Some(Val::Const(t)) => Ok(Some(t)),
            Some(Val::Rt(_)) => Err(unsup(format!("input {i} must be a constant"))),
        }
    };
    let in_name = |i: usize| node.input.get(i).cloned().unwrap_or_default();
    let out0 = node
        .output
        .first()
        .cloned()
        .ok_or_else(|| bad("no output".into()))?;
    let opset = im.opset;
    let set = |im: &mut Importer, t: TId| {
        im.vals.insert(out0.clone(), Val::Rt(t));
    };
    let x = input(0)?;
    let xs = im.shape_of(&x);
    match op {
        "DequantizeLinear" | "QuantizeLinear" => {
            let scale = const_input(1)?
                .ok_or_else(|| bad("scale must be a constant".into()))?
                .to_f32_vec();
            let zp_t = const_input(2)?;
            let zp = zp_t
                .as_ref()
                .and_then(|z| z.to_i64_vec())
                .unwrap_or_else(|| vec![0]);
            let (&[scale], &[zp]) = (scale.as_slice(), zp.as_slice()) else {
                return Err(unsup(
                    "per-axis quantization of a tensor computed at run time".into(),
                ));
            };
            if !(scale.is_finite() && scale > 0.0) {
                return Err(bad(format!("scale {scale}")));
            }
            // uint8 is int8 shifted by 128: the same real values with zero point − 128.
            let unsigned = matches!(zp_t.as_ref().map(|z| &z.data), Some(TensorData::U8(_)));
            let zero_point = if unsigned { zp as i32 - 128 } else { zp as i32 };
            let xt = im.as_tensor(node, &x, &in_name(0), xs.len())?;
            if op == "DequantizeLinear" {
                if im.g.tensors[xt].dtype != DType::I8 {
                    return Err(unsup(
                        "DequantizeLinear of a run-time tensor that is not int8".into(),
                    ));
                }
                if im.g.tensors[xt].quant.is_none() {
                    im.g.tensors[xt].quant = Some(Quant::per_tensor(scale, zero_point));
                    // The int8 tensor may come from a graph input through reshapes and
                    // transposes (tf2onnx's NHWC → NCHW): they carry the same quantization.
                    let mut t = xt;
                    while let Some(n) = im.g.nodes.iter().find(|n| n.output == t) {
                        let movement =
                            matches!(n.op, Op::Reshape | Op::Transpose { .. } | Op::Slice { .. });
                        let Some(&src) = n.inputs.first() else { break };
                        if !movement
                            || im.g.tensors[src].dtype != DType::I8
                            || im.g.tensors[src].quant.is_some()
                        {
                            break;
                        }
                        im.g.tensors[src].quant = Some(Quant::per_tensor(scale, zero_point));
                        t = src;
                    }
                }
                let o = im.emit(
                    name,
                    Op::Dequantize { scale, zero_point },
                    vec![xt],
                    &out0,
                    xs,
                );
                set(im, o);
            } else {
                let o = im.emit(
                    name,
                    Op::Quantize { scale, zero_point },
                    vec![xt],
                    &out0,
                    xs,
                );
                set(im, o);
            }
        }
        "Identity" | "Dropout" => {
            let training = if opset >= 12 {
                const_input(2)?
                    .map(|t| t.to_f32_vec().first().copied().unwrap_or(0.0) != 0.0)
                    .unwrap_or(false)
            } else {
                attrs.int_or("is_test", 1)? == 0
            };
            if op == "Dropout" && training {
                return Err(unsup("training mode (random masks)".into()));
            }
            im.vals.insert(out0.clone(), x);
            if node.output.len() > 1
                && op == "Dropout"
                && node.output.get(1).is_some_and(|m| !m.is_empty())
            {
                return Err(unsup("the mask output of Dropout".into()));
            }
        }
        "Relu" | "Sigmoid" | "Tanh" | "HardSwish" | "LeakyRelu" | "HardSigmoid" | "Clip" => {
            let a = match op {
                "Relu" => act(ActivationKind::Relu, 0.0, 0.0),
                "Sigmoid" => act(ActivationKind::Sigmoid, 0.0, 0.0),
                "Tanh" => act(ActivationKind::Tanh, 0.0, 0.0),
                "HardSwish" => act(ActivationKind::HardSwish, 0.0, 0.0),
                "LeakyRelu" => act(
                    ActivationKind::LeakyRelu,
                    attrs.float_or("alpha", 0.01)?,
                    0.0,
                ),
                "HardSigmoid" => act(
                    ActivationKind::HardSigmoid,
                    attrs.float_or("alpha", 0.2)?,
                    attrs.float_or("beta", 0.5)?,
                ),
                _ => {
                    let (lo, hi) = if opset < 11 {
                        (
                            attrs.float_or("min", f32::MIN)?,
                            attrs.float_or("max", f32::MAX)?,
                        )
                    } else {
                        let f = |t: Option<Tensor>, d: f32| {
                            t.and_then(|t| t.to_f32_vec().first().copied()).unwrap_or(d)
                        };
                        (f(const_input(1)?, f32::MIN), f(const_input(2)?, f32::MAX))
                    };
                    if lo.is_nan() || hi.is_nan() {
                        return Err(bad(format!("bounds [{lo}, {hi}] include NaN")));
                    }
                    act(ActivationKind::Clip, lo, hi)
                }
            };
            let t = im.as_tensor(node, &x, &in_name(0), 0)?;
            let o = im.emit(name, Op::Unary(a), vec![t], &out0, xs);
            set(im, o);
        }
        "Add" | "Sub" | "Mul" | "Div" | "Max" | "Min" => {
            if ins.len() != 2 {
                return Err(unsup("only two inputs".into()));
            }
            let y = input(1)?;
            let ys = im.shape_of(&y);
            let out = broadcast(&xs, &ys)
                .ok_or_else(|| bad(format!("shapes {xs:?} and {ys:?} do not broadcast")))?;
            let a = im.as_tensor(node, &x, &in_name(0), out.len())?;
            let b = im.as_tensor(node, &y, &in_name(1), out.len())?;
            let kind = match op {
                "Add" => BinaryKind::Add,
                "Sub" => BinaryKind::Sub,
                "Mul" => BinaryKind::Mul,
                "Div" => BinaryKind::Div,
                "Max" => BinaryKind::Max,
                _ => BinaryKind::Min,
            };
            let o = im.emit(
                name,
                Op::Binary {
                    kind,
                    act: ActivationSpec::NONE,
                },
                vec![a, b],
                &out0,
                out,
            );
            set(im, o);
        }
        "Conv" => {
            if xs.len() != 4 {
                return Err(unsup(format!(
                    "only 2-D convolution (4-D input) is supported; input is {}-D",
                    xs.len()
                )));
            }
            let w = input(1)?;
            let ws = im.shape_of(&w);
            if ws.len() != 4 {
                return Err(bad(format!("weights of shape {ws:?}")));
            }
            let groups = attrs.int_or("group", 1)?.max(1) as usize;
            let k = [ws[2], ws[3]];
            if k.contains(&0) {
                return Err(bad(format!("empty kernel: weights of shape {ws:?}")));
            }
            if let Some(ks) = attrs.ints("kernel_shape")? {
                if ks.len() != 2 || ks[0] as usize != k[0] || ks[1] as usize != k[1] {
                    return Err(bad(format!(
                        "kernel_shape {ks:?} disagrees with weights {ws:?}"
                    )));
                }
            }
            let s = pair(attrs.ints("strides")?, 1, "strides").map_err(unsup)?;
            let d = pair(attrs.ints("dilations")?, 1, "dilations").map_err(unsup)?;
            let pads = auto_pads(
                &attrs.string_or("auto_pad", "NOTSET")?,
                attrs.ints("pads")?,
                [xs[2], xs[3]],
                k,
                s,
                d,
            )
            .map_err(unsup)?;
            if xs[1] != ws[1] * groups || !ws[0].is_multiple_of(groups) {
                return Err(bad(format!(
                    "input channels {} do not match weights {ws:?} with group {groups}",
                    xs[1]
                )));
            }
            let oh = conv_out(xs[2], k[0], s[0], d[0], pads[0], pads[2])
                .ok_or_else(|| bad("kernel larger than the padded input".into()))?;
            let ow = conv_out(xs[3], k[1], s[1], d[1], pads[1], pads[3])
                .ok_or_else(|| bad("kernel larger than the padded input".into()))?;
            let xt = im.as_tensor(node, &x, &in_name(0), 4)?;
            let wt = im.as_tensor(node, &w, &in_name(1), 4)?;
            let mut inputs = vec![xt, wt];
            if let Some(b) = ins.get(2).cloned().flatten() {
                inputs.push(im.as_tensor(node, &b, &in_name(2), 1)?);
            }
            let o = im.emit(
                name,
                Op::Conv {
                    strides: s,
                    dilations: d,
                    pads,
                    groups,
                    act: ActivationSpec::NONE,
                },
                inputs,
                &out0,
                vec![xs[0], ws[0], oh, ow],
            );
            set(im, o);
        }
        "ConvTranspose" => {
            if xs.len() != 4 {
                return Err(unsup("only 2-D transposed convolution is supported".into()));
            }
            let w = input(1)?;
            let ws = im.shape_of(&w);
            let groups = attrs.int_or("group", 1)?.max(1) as usize;
            if ws.len() != 4 || ws[0] != xs[1] || !xs[1].is_multiple_of(groups) {
                return Err(bad(format!("weights {ws:?} do not fit input {xs:?}")));
            }
            let k = [ws[2], ws[3]];
            if k.contains(&0) {
                return Err(bad(format!("empty kernel: weights of shape {ws:?}")));
            }
            let s = pair(attrs.ints("strides")?, 1, "strides").map_err(unsup)?;
            let d = pair(attrs.ints("dilations")?, 1, "dilations").map_err(unsup)?;
            let op_pad = attrs.ints("output_padding")?.unwrap_or_else(|| vec![0, 0]);
            let full = |i: usize| {
                s[i].saturating_mul(xs[2 + i].saturating_sub(1))
                    .saturating_add(op_pad.get(i).copied().unwrap_or(0).clamp(0, 1 << 16) as usize)
                    .saturating_add(k[i].saturating_sub(1).saturating_mul(d[i]))
                    .saturating_add(1)
            };
            let auto = attrs.string_or("auto_pad", "NOTSET")?;
            let (pt, pl, oh, ow) = if let Some(os) = attrs.ints("output_shape")? {
                let os: Vec<usize> = os.iter().rev().take(2).rev().map(|&v| v as usize).collect();
                let mut p = [0usize; 2];
                for i in 0..2 {
                    let total = full(i).saturating_sub(os[i]);
                    p[i] = if auto == "SAME_UPPER" {
                        total / 2
                    } else {
                        total - total / 2
                    };
                }
                (p[0], p[1], os[0], os[1])
            } else if auto == "SAME_UPPER" || auto == "SAME_LOWER" {
                let mut p = [0usize; 2];
                let mut o = [0usize; 2];
                for i in 0..2 {
                    o[i] = xs[2 + i] * s[i];
                    let total = full(i).saturating_sub(o[i]);
                    p[i] = if auto == "SAME_UPPER" {
                        total / 2
                    } else {
                        total - total / 2
                    };
                }
                (p[0], p[1], o[0], o[1])
            } else {
                let p = attrs.ints("pads")?.unwrap_or_else(|| vec![0; 4]);
                if p.len() != 4 {
                    return Err(bad("pads must have 4 values".into()));
                }
                let oh = full(0)
                    .checked_sub((p[0] + p[2]) as usize)
                    .ok_or_else(|| bad("pads larger than the output".into()))?;
                let ow = full(1)
                    .checked_sub((p[1] + p[3]) as usize)
                    .ok_or_else(|| bad("pads larger than the output".into()))?;
                (p[0] as usize, p[1] as usize, oh, ow)
            };
            let xt = im.as_tensor(node, &x, &in_name(0), 4)?;
            let wt = im.as_tensor(node, &w, &in_name(1), 4)?;
            let mut inputs = vec![xt, wt];
            if let Some(b) = ins.get(2).cloned().flatten() {
                inputs.push(im.as_tensor(node, &b, &in_name(2), 1)?);
            }
            let o = im.emit(
                name,
                Op::ConvTranspose {
                    strides: s,
                    dilations: d,
                    pads: [pt, pl],
                    groups,
                    act: ActivationSpec::NONE,
                },
                inputs,
                &out0,
                vec![xs[0], ws[1] * groups, oh, ow],
            );
            set(im, o);
        }
        "Gemm" => {
            let (ta, tb) = (
                attrs.int_or("transA", 0)? != 0,
                attrs.int_or("transB", 0)? != 0,
            );
            let (alpha, beta) = (attrs.float_or("alpha", 1.0)?, attrs.float_or("beta", 1.0)?);
            if xs.len() != 2 {
                return Err(bad("Gemm input A must be 2-D".into()));
            }
            let mut a = im.as_tensor(node, &x, &in_name(0), 2)?;
            if ta {
                let s = vec![xs[1], xs[0]];
                let nm = im.fresh(&out0);
                a = im.emit(name, Op::Transpose { perm: vec![1, 0] }, vec![a], &nm, s);
            }
            let (m, kdim) = if ta { (xs[1], xs[0]) } else { (xs[0], xs[1]) };
            let bv = input(1)?;
            let bs = im.shape_of(&bv);
            if bs.len() != 2 {
                return Err(bad("Gemm input B must be 2-D".into()));
            }
            let (kb, n) = if tb { (bs[1], bs[0]) } else { (bs[0], bs[1]) };
            if kb != kdim {
                return Err(bad(format!(
                    "Gemm inner dimensions differ: A is {m}x{kdim}, B is {}x{} (transB={}), K {kdim} vs {kb}",
                    bs[0], bs[1], tb as u8
                )));
            }
            let wt = match &bv {
                Val::Const(t) => im.weights_nk(&in_name(1), t, tb, alpha),
                Val::Rt(_) => {
                    if alpha != 1.0 {
                        return Err(unsup("alpha != 1 with runtime B".into()));
                    }
                    let b = im.as_tensor(node, &bv, &in_name(1), 2)?;
                    if tb {
                        b
                    } else {
                        let nm = im.fresh(&in_name(1));
                        im.emit(
                            name,
                            Op::Transpose { perm: vec![1, 0] },
                            vec![b],
                            &nm,
                            vec![n, kdim],
                        )
                    }
                }
            };
            let mut inputs = vec![a, wt];
            let mut add_after: Option<TId> = None;
            if let Some(c) = ins.get(2).cloned().flatten() {
                let cs = im.shape_of(&c);
                let vec_like =
                    cs.iter().product::<usize>() == n && cs.last().copied().unwrap_or(1) == n;
                match (&c, vec_like) {
                    (Val::Const(t), true) => {
                        let vals = t.to_f32_vec().iter().map(|&v| v * beta).collect();
                        let b =
                            im.const_tid(&format!("{}#b", in_name(2)), &Tensor::f32(vec![n], vals));
                        // A quantized model's bias (DequantizeLinear of int32): keep the
                        // integers, so that the layer can run in int8.
                        if let (Some((q, quant)), 1.0) = (im.qorigin.get(&in_name(2)), beta) {
                            if q.len() == n {
                                let mut q = q.clone();
                                q.dims = vec![n];
                                let quant = Quant {
                                    axis: 0,
                                    ..quant.clone()
                                };
                                im.g.tensors[b].qorigin = Some(q);
                                im.g.tensors[b].quant = Some(quant);
                            }
                        }
                        inputs.push(b);
                    }
                    (Val::Const(t), false) if beta != 0.0 => {
                        let vals = t.to_f32_vec().iter().map(|&v| v * beta).collect();
                        let mut dims = cs.clone();
                        while dims.len() < 2 {
                            dims.insert(0, 1);
                        }
                        add_after = Some(
                            im.const_tid(&format!("{}#b", in_name(2)), &Tensor::f32(dims, vals)),
                        );
                    }
                    (Val::Rt(_), _) if beta == 1.0 => {
                        add_after = Some(im.as_tensor(node, &c, &in_name(2), 2)?);
                    }
                    (Val::Const(_), false) => {}
                    _ => return Err(unsup("beta != 1 with a runtime C".into())),
                }
            }
            if add_after.is_none() {
                let o = im.emit(
                    name,
                    Op::FullyConnected {
                        act: ActivationSpec::NONE,
                    },
                    inputs,
                    &out0,
                    vec![m, n],
                );
                set(im, o);
            } else if let Some(c) = add_after {
                let nm = im.fresh(&out0);
                let fc = im.emit(
                    name,
                    Op::FullyConnected {
                        act: ActivationSpec::NONE,
                    },
                    inputs,
                    &nm,
                    vec![m, n],
                );
                let cs = im.g.shape(c).to_vec();
                let out =
                    broadcast(&[m, n], &cs).ok_or_else(|| bad("C does not broadcast".into()))?;
                let o = im.emit(
                    name,
                    Op::Binary {
                        kind: BinaryKind::Add,
                        act: ActivationSpec::NONE,
                    },
                    vec![fc, c],
                    &out0,
                    out,
                );
                set(im, o);
            }
        }
        "MatMul" => {
            let y = input(1)?;
            let ys = im.shape_of(&y);
            if xs.is_empty() || ys.is_empty() {
                return Err(bad("MatMul of a scalar".into()));
            }
            if let (Val::Const(bt), 2) = (&y, ys.len()) {
                // Constant right-hand side: a fully connected layer over the rows of x.
                let (kdim, n) = (ys[0], ys[1]);
                if xs[xs.len() - 1] != kdim {
                    return Err(bad(format!("shapes {xs:?} and {ys:?} do not multiply")));
                }
                let wt = im.weights_nk(&in_name(1), bt, false, 1.0);
                let a = im.as_tensor(node, &x, &in_name(0), 1)?;
                let mut out = xs.clone();
                let last = out.len() - 1;
                out[last] = n;
                let o = im.emit(
                    name,
                    Op::FullyConnected {
                        act: ActivationSpec::NONE,
                    },
                    vec![a, wt],
                    &out0,
                    out,
                );
                set(im, o);
            } else {
                let (xa, ya) = (xs.len() == 1, ys.len() == 1);
                let x2 = if xa { vec![1, xs[0]] } else { xs.clone() };
                let y2 = if ya { vec![ys[0], 1] } else { ys.clone() };
                let r = x2.len().max(y2.len());
                let pad = |s: &Vec<usize>| {
                    let mut v = vec![1; r - s.len()];
                    v.extend(s);
                    v
                };
                let (xp, yp) = (pad(&x2), pad(&y2));
                if xp[r - 1] != yp[r - 2] {
                    return Err(bad(format!("shapes {xs:?} and {ys:?} do not multiply")));
                }
                let batch = broadcast(&xp[..r - 2], &yp[..r - 2])
                    .ok_or_else(|| bad("batch axes do not broadcast".into()))?;
                let mut out = batch.clone();
                out.push(xp[r - 2]);
                out.push(yp[r - 1]);
                let a0 = im.as_tensor(node, &x, &in_name(0), 1)?;
                let a = im.reshape_rt(name, a0, xp);
                let b0 = im.as_tensor(node, &y, &in_name(1), 1)?;
                let b = match &y {
                    Val::Const(c) => im.const_tid(
                        &format!("{}#mm", in_name(1)),
                        &Tensor::f32(yp.clone(), c.to_f32_vec()),
                    ),
                    Val::Rt(_) => im.reshape_rt(name, b0, yp),
                };
                let mut final_shape = out.clone();
                if ya {
                    final_shape.pop();
                }
                if xa {
                    final_shape.remove(final_shape.len() - if ya { 1 } else { 2 });
                }
                if final_shape == out {
                    let o = im.emit(name, Op::MatMul, vec![a, b], &out0, out);
                    set(im, o);
                } else {
                    let nm = im.fresh(&out0);
                    let mm = im.emit(name, Op::MatMul, vec![a, b], &nm, out);
                    let o = im.emit(name, Op::Reshape, vec![mm], &out0, final_shape);
                    set(im, o);
                }
            }
        }
        "BatchNormalization" => {
            if node.output.iter().skip(1).any(|o| !o.is_empty())
                || attrs.int_or("training_mode", 0)? != 0
            {
                return Err(unsup("training mode".into()));
            }
            let eps = attrs.float_or("epsilon", 1e-5)?;
            let get = |i: usize| -> Result<Vec<f32>> {
                Ok(const_input(i)?
                    .ok_or_else(|| bad(format!("missing input {i}")))?
                    .to_f32_vec())
            };
            let (scale, bias, mean, var) = (get(1)?, get(2)?, get(3)?, get(4)?);
            let c = xs.get(1).copied().unwrap_or(1);
            if [&scale, &bias, &mean, &var].iter().any(|v| v.len() != c) {
                return Err(bad("parameters do not have one value per channel".into()));
            }
            let mul: Vec<f32> = (0..c).map(|i| scale[i] / (var[i] + eps).sqrt()).collect();
            let add: Vec<f32> = (0..c).map(|i| bias[i] - mean[i] * mul[i]).collect();
            let mut dims = vec![1; xs.len()];
            dims[1] = c;
            let xt = im.as_tensor(node, &x, &in_name(0), xs.len())?;
            let mt = im.const_tid(&format!("{name}#scale"), &Tensor::f32(dims.clone(), mul));
            let at = im.const_tid(&format!("{name}#shift"), &Tensor::f32(dims, add));
            let nm = im.fresh(&out0);
            let m = im.emit(
                name,
                Op::Binary {
                    kind: BinaryKind::Mul,
                    act: ActivationSpec::NONE,
                },
                vec![xt, mt],
                &nm,
                xs.clone(),
            );
            let o = im.emit(
                name,
                Op::Binary {
                    kind: BinaryKind::Add,
                    act: ActivationSpec::NONE,
                },
                vec![m, at],
                &out0,
                xs,
            );
            set(im, o);
        }
        "Concat" => {
            let r = xs.len();
            let mut axis = attrs
                .int("axis")?
                .ok_or_else(|| bad("missing axis".into()))?;
            if axis < 0 {
                axis += r as i64;
            }
            if axis < 0 || axis as usize >= r {
                return Err(bad("axis out of range".into()));
            }
            let axis = axis as usize;
            let mut inputs = Vec::new();
            let mut out = xs.clone();
            out[axis] = 0;
            for i in 0..ins.len() {
                let v = input(i)?;
                let s = im.shape_of(&v);
                if s.len() != r || (0..r).any(|k| k != axis && s[k] != xs[k]) {
                    return Err(bad(format!("input {i} of shape {s:?} does not fit {xs:?}")));
                }
                out[axis] += s[axis];
                if s[axis] > 0 {
                    inputs.push(im.as_tensor(node, &v, &in_name(i), r)?);
                }
            }
            // Concat moves elements as they are: one element type for all its inputs (fuzzer
            // find: an int8 and a float32 graph input compiled to a model that did not load).
            if let Some(&first) = inputs.first() {
                let dt = im.g.tensors[first].dtype;
                if let Some(&other) = inputs.iter().find(|&&t| im.g.tensors[t].dtype != dt) {
                    return Err(bad(format!(
                        "inputs of different element types ({:?} and {:?}); mote concatenates one type",
                        dt, im.g.tensors[other].dtype
                    )));
                }
            }
            let o = im.emit(name, Op::Concat { axis }, inputs, &out0, out);
            set(im, o);
        }
        "Split" => {
            let r = xs.len() as i64;
            let mut axis = attrs.int_or("axis", 0)?;
            if axis < 0 {
                axis += r;
            }
            if axis < 0 || axis >= r {
                return Err(bad("axis out of range".into()));
            }
            let axis = axis as usize;
            let n_out = node.output.len();
            let sizes: Vec<usize> = match if opset >= 13 {
                const_input(1)?.and_then(|t| t.to_i64_vec())
            } else {
                attrs.ints("split")?
            } {
                Some(s) => s.iter().map(|&v| v.max(0) as usize).collect(),
                None => {
                    let len = xs[axis];
                    let n = attrs
                        .int("num_outputs")?
                        .map(|v| v as usize)
                        .unwrap_or(n_out)
                        .max(1);
                    let chunk = len.div_ceil(n);
                    (0..n)
                        .map(|i| chunk.min(len.saturating_sub(i * chunk)))
                        .collect()
                }
            };
            if sizes.len() != n_out || sizes.iter().sum::<usize>() != xs[axis] {
                return Err(bad(format!(
                    "split sizes {sizes:?} do not cover axis {axis} of {xs:?}"
                )));
            }
            let xt = im.as_tensor(node, &x, &in_name(0), xs.len())?;
            let mut start = 0usize;
            for (o, &sz) in node.output.iter().zip(sizes.iter()) {
                let mut starts = vec![0i64; xs.len()];
                starts[axis] = if sz == 0 { 0 } else { start as i64 };
                let mut out = xs.clone();
                out[axis] = sz;
                let t = im.emit(
                    name,
                    Op::Slice {
                        starts,
                        steps: vec![1; xs.len()],
                    },
                    vec![xt],
                    o,
                    out,
                );
                im.vals.insert(o.clone(), Val::Rt(t));
                start += sz;
            }
        }
        "Slice" => {
            let rest: Vec<Option<Vec<i64>>> = (1..ins.len())
                .map(|i| const_input(i).map(|t| t.and_then(|t| t.to_i64_vec())))
                .collect::<Result<_>>()?;
            let spec = slice_spec(node, &xs, rest, opset)?;
            let xt = im.as_tensor(node, &x, &in_name(0), xs.len())?;
            let o = im.emit(
                name,
                Op::Slice {
                    starts: spec.starts,
                    steps: spec.steps,
                },
                vec![xt],
                &out0,
                spec.out_dims,
            );
            set(im, o);
        }
        "MaxPool" | "AveragePool" => {
            if xs.len() != 4 {
                return Err(unsup("only 2-D pooling (4-D input) is supported".into()));
            }
            if op == "MaxPool" && node.output.get(1).is_some_and(|s| !s.is_empty()) {
                return Err(unsup("the Indices output of MaxPool".into()));
            }
            let k = pair(attrs.ints("kernel_shape")?, 0, "kernel_shape").map_err(unsup)?;
            let s = pair(attrs.ints("strides")?, 1, "strides").map_err(unsup)?;
            let d = pair(attrs.ints("dilations")?, 1, "dilations").map_err(unsup)?;
            let ceil = attrs.int_or("ceil_mode", 0)? != 0;
            let pads = auto_pads(
                &attrs.string_or("auto_pad", "NOTSET")?,
                attrs.ints("pads")?,
                [xs[2], xs[3]],
                k,
                s,
                d,
            )
            .map_err(unsup)?;
            let mut out = [0usize; 2];
            for i in 0..2 {
                let span = d[i]
                    .saturating_mul(k[i].saturating_sub(1))
                    .saturating_add(1);
                let padded = xs[2 + i]
                    .saturating_add(pads[i])
                    .saturating_add(pads[i + 2]);
                let num = padded
                    .checked_sub(span)
                    .ok_or_else(|| bad("window larger than the padded input".into()))?;
                let mut o = if ceil {
                    num.div_ceil(s[i]) + 1
                } else {
                    num / s[i] + 1
                };
                if ceil && (o - 1).saturating_mul(s[i]) >= xs[2 + i].saturating_add(pads[i]) {
                    o -= 1;
                }
                out[i] = o;
            }
            let pa = PoolAttrs {
                kernel: k,
                strides: s,
                dilations: d,
                pads,
                count_include_pad: attrs.int_or("count_include_pad", 0)? != 0,
                act: ActivationSpec::NONE,
            };
            let xt = im.as_tensor(node, &x, &in_name(0), 4)?;
            let irop = if op == "MaxPool" {
                Op::MaxPool(pa)
            } else {
                Op::AvgPool(pa)
            };
            let o = im.emit(
                name,
                irop,
                vec![xt],
                &out0,
                vec![xs[0], xs[1], out[0], out[1]],
            );
            set(im, o);
        }
        "GlobalAveragePool" => {
            let axes: Vec<usize> = (2..xs.len()).collect();
            let mut out = xs.clone();
            for &a in &axes {
                out[a] = 1;
            }
            let xt = im.as_tensor(node, &x, &in_name(0), xs.len())?;
            let o = im.emit(name, Op::ReduceMean { axes }, vec![xt], &out0, out);
            set(im, o);
        }
        "ReduceMean" => {
            let r = xs.len() as i64;
            let axes = if opset >= 18 {
                const_input(1)?.and_then(|t| t.to_i64_vec())
            } else {
                attrs.ints("axes")?
            };
            let keep = attrs.int_or("keepdims", 1)? != 0;
            let axes: Vec<usize> = match axes {
                Some(a) if !a.is_empty() => {
                    let mut v = Vec::new();
                    for &ax in &a {
                        let n = if ax < 0 { ax + r } else { ax };
                        if n < 0 || n >= r {
                            return Err(bad("axis out of range".into()));
                        }
                        v.push(n as usize);
                    }
                    v
                }
                _ => {
                    if attrs.int_or("noop_with_empty_axes", 0)? != 0 {
                        im.vals.insert(out0.clone(), x);
                        return Ok(());
                    }
                    (0..xs.len()).collect()
                }
            };
            let out: Vec<usize> = if keep {
                xs.iter()
                    .enumerate()
                    .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
                    .collect()
            } else {
                xs.iter()
                    .enumerate()
                    .filter(|(i, _)| !axes.contains(i))
                    .map(|(_, &d)| d)
                    .collect()
            };
            let xt = im.as_tensor(node, &x, &in_name(0), xs.len())?;
            let o = im.emit(name, Op::ReduceMean { axes }, vec![xt], &out0, out);
            set(im, o);
        }
        "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => {
            let second = match ins.get(1).cloned().flatten() {
                None => None,
                Some(Val::Const(t)) => t.to_i64_vec(),
                Some(Val::Rt(_)) => return Err(unsup(
                    "the shape/axes input must be constant (fix input shapes with --input-shape)"
                        .into(),
                )),
            };
            let out = reshape_like(op, &xs, &attrs, second.as_deref(), opset).map_err(bad)?;
            let xt = im.as_tensor(node, &x, &in_name(0), xs.len())?;
            let o = im.emit(name, Op::Reshape, vec![xt], &out0, out);
            set(im, o);
        }
        "Transpose" => {
            let r = xs.len();
            let perm: Vec<usize> = match attrs.ints("perm")? {
                Some(p) => p.iter().map(|&v| v as usize).collect(),
                None => (0..r).rev().collect(),
            };
            let mut sorted = perm.clone();
            sorted.sort_unstable();
            if sorted != (0..r).collect::<Vec<_>>() {
                return Err(bad(format!(
                    "perm {perm:?} is not a permutation of {r} axes"
                )));
            }
            let out = perm.iter().map(|&p| xs[p]).collect();
            let xt = im.as_tensor(node, &x, &in_name(0), r)?;
            let o = im.emit(name, Op::Transpose { perm }, vec![xt], &out0, out);
            set(im, o);
        }
        "Softmax" => {
            let r = xs.len() as i64;
            let default = if opset >= 13 { -1 } else { 1 };
            let mut axis = attrs.int_or("axis", default)?;
            if axis < 0 {
                axis += r;
            }
            if axis < 0 || axis >= r.max(1) {
                return Err(bad("axis out of range".into()));
            }
            let flatten = opset < 13 && (axis as usize) < xs.len() - 1;
            let xt = im.as_tensor(node, &x, &in_name(0), xs.len())?;
            let o = im.emit(
                name,
                Op::Softmax {
                    axis: axis as usize,
                    flatten,
                },
                vec![xt],
                &out0,
                xs,
            );
            set(im, o);
        }
        "Pad" => {
            let r = xs.len();
            let mode = attrs.string_or("mode", "constant")?;
            let kind = match mode.as_str() {
                "constant" => PadKind::Constant,
                "reflect" => PadKind::Reflect,
                "edge" => PadKind::Edge,
                m => return Err(unsup(format!("mode '{m}'"))),
            };
            let (pads, value, axes) = if opset < 11 {
                (
                    attrs
                        .ints("pads")?
                        .ok_or_else(|| bad("missing pads".into()))?,
                    attrs.float_or("value", 0.0)?,
                    None,
                )
            } else {
                let p = const_input(1)?
                    .and_then(|t| t.to_i64_vec())
                    .ok_or_else(|| bad("pads must be a constant".into()))?;
                let v = const_input(2)?
                    .and_then(|t| t.to_f32_vec().first().copied())
                    .unwrap_or(0.0);
                let a = const_input(3)?.and_then(|t| t.to_i64_vec());
                if v.is_nan() {
                    return Err(bad("constant_value is NaN".into()));
                }
                (p, v, a)
            };
            let axes: Vec<usize> = match axes {
                Some(a) => a
                    .iter()
                    .map(|&v| {
                        if v < 0 {
                            (v + r as i64) as usize
                        } else {
                            v as usize
                        }
                    })
                    .collect(),
                None => (0..r).collect(),
            };
            if pads.len() != 2 * axes.len() || axes.iter().any(|&a| a >= r) {
                return Err(bad(format!("pads {pads:?} do not fit rank {r}")));
            }
            let mut begin = vec![0i64; r];
            let mut out = xs.clone();
            for (i, &a) in axes.iter().enumerate() {
                begin[a] = pads[i];
                let o = xs[a] as i64 + pads[i] + pads[i + axes.len()];
                if o < 0 {
                    return Err(bad("negative output extent".into()));
                }
                out[a] = o as usize;
            }
            let xt = im.as_tensor(node, &x, &in_name(0), r)?;
            let o = im.emit(name, Op::Pad { kind, value, begin }, vec![xt], &out0, out);
            set(im, o);
        }
        "Resize" | "Upsample" => {
            let r = xs.len();
            let mode = match attrs.string_or("mode", "nearest")?.as_str() {
                "nearest" => ResizeMode::Nearest,
                "linear" | "bilinear" => ResizeMode::Linear,
                m => return Err(unsup(format!("mode '{m}'"))),
            };
            if attrs.int_or("antialias", 0)? != 0 {
                return Err(unsup("antialias".into()));
            }
            let policy = attrs.string_or("keep_aspect_ratio_policy", "stretch")?;
            if policy != "stretch" {
                return Err(unsup(format!("keep_aspect_ratio_policy '{policy}'")));
            }
            let v10 = op == "Upsample" || opset < 11;
            let coord = if v10 {
                "asymmetric".to_string()
            } else {
                attrs.string_or("coordinate_transformation_mode", "half_pixel")?
            };
            let coordinate = match coord.as_str() {
                "half_pixel" => ResizeCoordinate::HalfPixel,
                "asymmetric" => ResizeCoordinate::Asymmetric,
                "align_corners" => ResizeCoordinate::AlignCorners,
                "pytorch_half_pixel" => ResizeCoordinate::PytorchHalfPixel,
                "tf_half_pixel_for_nn" => ResizeCoordinate::TfHalfPixelForNn,
                "half_pixel_symmetric" => ResizeCoordinate::HalfPixelSymmetric,
                m => return Err(unsup(format!("coordinate_transformation_mode '{m}'"))),
            };
            let nearest = match if v10 {
                "floor".to_string()
            } else {
                attrs.string_or("nearest_mode", "round_prefer_floor")?
            }
            .as_str()
            {
                "round_prefer_floor" => ResizeNearest::RoundPreferFloor,
                "round_prefer_ceil" => ResizeNearest::RoundPreferCeil,
                "floor" => ResizeNearest::Floor,
                "ceil" => ResizeNearest::Ceil,
                m => return Err(unsup(format!("nearest_mode '{m}'"))),
            };
            let (scales_in, sizes_in) = if v10 {
                let s = if op == "Upsample" && opset < 9 {
                    attrs.floats("scales")?
                } else {
                    const_input(1)?.map(|t| t.to_f32_vec())
                };
                (s, None)
            } else {
                (
                    const_input(2)?
                        .map(|t| t.to_f32_vec())
                        .filter(|v| !v.is_empty()),
                    const_input(3)?
                        .and_then(|t| t.to_i64_vec())
                        .filter(|v| !v.is_empty()),
                )
            };
            let axes: Vec<usize> = match attrs.ints("axes")? {
                Some(a) => a
                    .iter()
                    .map(|&v| {
                        if v < 0 {
                            (v + r as i64) as usize
                        } else {
                            v as usize
                        }
                    })
                    .collect(),
                None => (0..r).collect(),
            };
            let mut scales = vec![1.0f32; r];
            let mut out = xs.clone();
            if let Some(sz) = sizes_in {
                if sz.len() != axes.len() {
                    return Err(bad("sizes do not match the axes".into()));
                }
                for (i, &a) in axes.iter().enumerate() {
                    out[a] = sz[i].max(0) as usize;
                    scales[a] = out[a] as f32 / xs[a].max(1) as f32;
                }
            } else if let Some(sc) = scales_in {
                if sc.len() != axes.len() {
                    return Err(bad("scales do not match the axes".into()));
                }
                for (i, &a) in axes.iter().enumerate() {
                    if !(sc[i] > 0.0 && sc[i].is_finite()) {
                        return Err(bad(format!("scale {}", sc[i])));
                    }
                    scales[a] = sc[i];
                    out[a] = (xs[a] as f64 * sc[i] as f64).floor() as usize;
                }
            } else {
                return Err(bad("neither scales nor sizes given".into()));
            }
            let xt = im.as_tensor(node, &x, &in_name(0), r)?;
            let o = im.emit(
                name,
                Op::Resize {
                    mode,
                    coordinate,
                    nearest,
                    scales,
                },
                vec![xt],
                &out0,
                out,
            );
            set(im, o);
        }
        _ => {
            return Err(CompileError::UnsupportedOp {
                node: name.to_string(),
                op: op.to_string(),
            })
        }
    }
    Ok(())
}
