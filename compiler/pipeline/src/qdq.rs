//! Quantized (QDQ) graphs → integer execution.
//!
//! tf2onnx and ONNX Runtime's `quantize_static` write int8 models as float ops between
//! `DequantizeLinear` and `QuantizeLinear` nodes: `DQ(x) → Conv(DQ(w), DQ(b)) → Relu → Q`. After
//! import and the float passes (which fuse the Relu and fold a separate bias Add into the conv),
//! each such island is a single float node whose run-time inputs come from `Dequantize` nodes,
//! whose constant inputs are dequantized integers (`qorigin`), and whose only reader is a
//! `Quantize` node. This pass rewires that node to read the integers and write the quantized
//! output directly, with exactly the scales and zero points of the file; the emitter then picks
//! the int8 kernel and derives its fixed-point parameters. Where input and output quantization
//! must agree (pooling, data movement, softmax's fixed output scale) a `Requantize` is inserted.
//! Anything left in float between quantized tensors is reported by [`check_integer_only`].

use crate::error::{CompileError, Result};
use crate::ir::*;
use mote_format::ActivationKind;
use mote_onnx::{Tensor, TensorData};
use std::collections::HashMap;

fn producers(g: &Graph) -> HashMap<TId, usize> {
    g.nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.output, i))
        .collect()
}

/// The integer twin of an input: a Dequantize's input, or a constant's quantized origin.
fn int_input(
    g: &mut Graph,
    prod: &HashMap<TId, usize>,
    cache: &mut HashMap<TId, TId>,
    t: TId,
) -> Option<TId> {
    if let Some(&c) = cache.get(&t) {
        return Some(c);
    }
    let found = if g.value(t).is_some() {
        let def = &g.tensors[t];
        let (q, quant) = (def.qorigin.clone()?, def.quant.clone()?);
        let name = format!("{}#q", def.name);
        let id = g.add_const(name, q);
        g.tensors[id].quant = Some(quant);
        id
    } else {
        let &p = prod.get(&t)?;
        match g.nodes[p].op {
            Op::Dequantize { scale, zero_point } => {
                let src = g.nodes[p].inputs[0];
                if g.tensors[src].quant.as_ref().and_then(|q| q.single())
                    != Some((scale, zero_point))
                {
                    // The same int8 tensor read with other parameters: give it its own view.
                    return None;
                }
                src
            }
            _ => return None,
        }
    };
    cache.insert(t, found);
    Some(found)
}

fn single(g: &Graph, t: TId) -> Option<(f32, i32)> {
    g.tensors[t].quant.as_ref().and_then(|q| q.single())
}

/// A `QuantizeLinear` that reads a pure data-movement op (Reshape, Transpose, Slice) of a float
/// tensor is moved in front of it: quantization is element-wise, so quantizing first and moving
/// the int8 bytes gives the same values, and the data movement no longer runs in float.
/// ONNX Runtime's and tf2onnx's graphs do this at the graph input (NHWC → NCHW transpose, or a
/// reshape, before the first QuantizeLinear). Repeats along chains of such ops.
fn hoist_quantize(g: &mut Graph) {
    loop {
        let prod = producers(g);
        let mut changed = false;
        for qi in 0..g.nodes.len() {
            let Op::Quantize { scale, zero_point } = g.nodes[qi].op else {
                continue;
            };
            let t = g.nodes[qi].inputs[0];
            let Some(&mi) = prod.get(&t) else { continue };
            let movement = matches!(
                g.nodes[mi].op,
                Op::Reshape | Op::Transpose { .. } | Op::Slice { .. }
            );
            let src = g.nodes[mi].inputs[0];
            if !movement
                || g.uses(t) != 1
                || g.outputs.contains(&t)
                || g.tensors[src].dtype != DType::F32
                || g.value(src).is_some()
            {
                continue;
            }
            let qout = g.nodes[qi].output;
            let name = format!("{}#quantized", g.tensors[src].name);
            let shape = g.shape(src).to_vec();
            let q = g.add_tensor(name, shape);
            g.tensors[q].dtype = DType::I8;
            g.tensors[q].quant = Some(Quant::per_tensor(scale, zero_point));
            let mut movement = g.nodes[mi].clone();
            movement.inputs[0] = q;
            movement.output = qout;
            let quantize = Node {
                name: g.nodes[qi].name.clone(),
                op: Op::Quantize { scale, zero_point },
                inputs: vec![src],
                output: q,
            };
            g.nodes[mi] = quantize;
            g.nodes[qi] = movement;
            changed = true;
            break;
        }
        if !changed {
            break;
        }
    }
}

/// A positive, finite scalar float constant (all elements equal) with no quantized origin.
fn positive_scalar(g: &Graph, t: TId) -> Option<f64> {
    let def = &g.tensors[t];
    if def.qorigin.is_some() {
        return None;
    }
    let v = def.value.as_ref()?.to_f32_vec();
    let first = *v.first()?;
    (first.is_finite() && first > 0.0 && v.iter().all(|&x| x == first)).then_some(first as f64)
}

/// Whether a bilinear Resize from `s` to `o` (NCHW) runs as TFLite's integer kernel
/// (`mote_kernels::ops::resize`): H and W resized only, half-pixel / asymmetric coordinates with
/// scales equal to the sizes' ratio, or align-corners.
fn int8_bilinear(s: &[usize], o: &[usize], coordinate: ResizeCoordinate, scales: &[f32]) -> bool {
    if s.len() != 4 || o.len() != 4 || scales.len() != 4 || s[0] != o[0] || s[1] != o[1] {
        return false;
    }
    if scales[0] != 1.0 || scales[1] != 1.0 || s[2] == 0 || s[3] == 0 {
        return false;
    }
    let ratio = |a: usize| scales[a] == o[a] as f32 / s[a] as f32;
    match coordinate {
        ResizeCoordinate::HalfPixel | ResizeCoordinate::Asymmetric => ratio(2) && ratio(3),
        ResizeCoordinate::PytorchHalfPixel => ratio(2) && ratio(3) && o[2] > 1 && o[3] > 1,
        ResizeCoordinate::AlignCorners => true,
        _ => false,
    }
}

/// Lowers every float node between Dequantize and Quantize nodes to integer execution.
pub fn lower(g: &mut Graph) -> Result<()> {
    hoist_quantize(g);
    let mut cache: HashMap<TId, TId> = HashMap::new();
    let mut remove = vec![false; g.nodes.len()];
    let mut after: HashMap<usize, Vec<Node>> = HashMap::new();
    let n_nodes = g.nodes.len();
    for i in 0..n_nodes {
        if matches!(
            g.nodes[i].op,
            Op::Quantize { .. } | Op::Dequantize { .. } | Op::Requantize { .. } | Op::Lookup(_)
        ) {
            continue;
        }
        let out = g.nodes[i].output;
        if g.outputs.contains(&out) || g.uses(out) != 1 {
            continue;
        }
        let Some(qi) = g.nodes.iter().position(|n| n.inputs.contains(&out)) else {
            continue;
        };
        if !matches!(g.nodes[qi].op, Op::Quantize { .. }) || remove[qi] {
            continue;
        }
        let qout = g.nodes[qi].output;
        let prod = producers(g);
        let inputs = g.nodes[i].inputs.clone();
        // Division or multiplication of an int8 tensor by a positive float constant (ORT leaves
        // the `/ 6` of an unfused HardSwish unquantized): one requantization with the constant
        // folded into the scale.
        if let (
            Op::Binary {
                kind: kind @ (BinaryKind::Div | BinaryKind::Mul),
                act,
            },
            [a, b],
        ) = (&g.nodes[i].op, inputs.as_slice())
        {
            let (kind, act, a, b) = (*kind, *act, *a, *b);
            let same_shape = |x: TId| g.shape(x) == g.shape(out);
            let found = if let (Some(c), true) = (positive_scalar(g, b), same_shape(a)) {
                Some((a, if kind == BinaryKind::Div { 1.0 / c } else { c }))
            } else if let (Some(c), true, BinaryKind::Mul) =
                (positive_scalar(g, a), same_shape(b), kind)
            {
                Some((b, c))
            } else {
                None
            };
            if let (Some((x, factor)), ActivationKind::None) = (found, act.kind) {
                if let Some(xi) = int_input(g, &prod, &mut cache, x) {
                    if g.tensors[xi].dtype == DType::I8
                        && single(g, xi).is_some()
                        && single(g, qout).is_some()
                    {
                        g.nodes[i].op = Op::Requantize { factor };
                        g.nodes[i].inputs = vec![xi];
                        g.nodes[i].output = qout;
                        remove[qi] = true;
                        continue;
                    }
                }
            }
        }
        let mut ints = Vec::new();
        for &t in &inputs {
            match int_input(g, &prod, &mut cache, t) {
                Some(x) => ints.push(x),
                None => break,
            }
        }
        let op = g.nodes[i].op.clone();
        let name = g.nodes[i].name.clone();
        // Bias: int32 origin; weights: int8 origin with zero points 0.
        let ok = match &op {
            Op::Conv { .. } | Op::FullyConnected { .. } => {
                ints.len() == inputs.len()
                    && g.tensors[ints[1]].dtype == DType::I8
                    && g.tensors[ints[1]]
                        .quant
                        .as_ref()
                        .is_some_and(|q| q.zero_points.iter().all(|&z| z == 0))
                    && ints
                        .get(2)
                        .is_none_or(|&b| g.tensors[b].dtype == DType::I32)
                    && single(g, ints[0]).is_some()
            }
            Op::Binary {
                kind: BinaryKind::Add | BinaryKind::Sub | BinaryKind::Mul,
                ..
            } => {
                ints.len() == 2
                    && ints
                        .iter()
                        .all(|&t| g.tensors[t].dtype == DType::I8 && single(g, t).is_some())
            }
            Op::MaxPool(_)
            | Op::AvgPool(_)
            | Op::Softmax { .. }
            | Op::Unary(_)
            | Op::Reshape
            | Op::Transpose { .. }
            | Op::Slice { .. }
            | Op::Pad { .. }
            | Op::Concat { .. } => {
                ints.len() == inputs.len()
                    && ints
                        .iter()
                        .all(|&t| g.tensors[t].dtype == DType::I8 && single(g, t).is_some())
            }
            Op::Resize {
                mode,
                coordinate,
                scales,
                ..
            } => {
                ints.len() == 1
                    && g.tensors[ints[0]].dtype == DType::I8
                    && single(g, ints[0]).is_some()
                    && (*mode == ResizeMode::Nearest
                        || int8_bilinear(g.shape(inputs[0]), g.shape(out), *coordinate, scales))
            }
            Op::ReduceMean { .. } => {
                ints.len() == 1
                    && g.tensors[ints[0]].dtype == DType::I8
                    && single(g, ints[0]).is_some()
            }
            _ => false,
        };
        if !ok {
            continue;
        }
        let Some(out_q) = single(g, qout) else {
            continue;
        };
        // Conv / FC without bias get a zero int32 bias.
        if matches!(op, Op::Conv { .. } | Op::FullyConnected { .. }) && ints.len() == 2 {
            let ch = g.shape(ints[1])[0];
            let z = g.add_const(
                format!("{name}#zero_bias"),
                Tensor {
                    dims: vec![ch],
                    data: TensorData::I32(vec![0; ch]),
                },
            );
            ints.push(z);
        }
        // Concat: inputs with other parameters are requantized to the output's first.
        if let Op::Concat { .. } = op {
            for (k, slot) in ints.iter_mut().enumerate() {
                if single(g, *slot) != Some(out_q) {
                    let shape = g.shape(*slot).to_vec();
                    let r = g.add_tensor(format!("{name}#rq{k}"), shape);
                    g.tensors[r].dtype = DType::I8;
                    g.tensors[r].quant = Some(Quant::per_tensor(out_q.0, out_q.1));
                    after.entry(usize::MAX - i).or_default().push(Node {
                        name: format!("{name}#requantize"),
                        op: Op::Requantize { factor: 1.0 },
                        inputs: vec![*slot],
                        output: r,
                    });
                    *slot = r;
                }
            }
        }
        let in_q = single(g, ints[0]);
        let fixed_out = match op {
            Op::Softmax { .. } => Some((1.0f32 / 256.0, -128)),
            _ => None,
        };
        let new_op = match op {
            Op::Unary(a) => Op::Lookup(a),
            // GlobalAveragePool with unchanged quantization: TFLite's average pool (one
            // rounding of the mean). With another output scale, an int8 mean (`MeanS8`), which
            // folds the count into its one requantization instead of rounding twice.
            Op::ReduceMean { axes }
                if g.shape(inputs[0]).len() == 4
                    && axes == vec![2, 3]
                    && g.shape(out).len() == 4
                    && in_q == Some(out_q) =>
            {
                let s = g.shape(inputs[0]);
                Op::AvgPool(PoolAttrs {
                    kernel: [s[2], s[3]],
                    strides: [1, 1],
                    dilations: [1, 1],
                    pads: [0; 4],
                    count_include_pad: false,
                    act: mote_format::ActivationSpec::NONE,
                })
            }
            // An average pool whose window is the whole (unpadded) input is a global mean: with
            // another output scale, MeanS8 rounds once where AvgPool + Requantize rounds twice.
            Op::AvgPool(pa)
                if in_q != Some(out_q)
                    && pa.act.kind == ActivationKind::None
                    && pa.pads == [0; 4]
                    && g.shape(inputs[0]).len() == 4
                    && pa.kernel == [g.shape(inputs[0])[2], g.shape(inputs[0])[3]]
                    && g.shape(out).get(2..) == Some(&[1, 1][..]) =>
            {
                Op::ReduceMean { axes: vec![2, 3] }
            }
            Op::Pad { kind, value, begin } => {
                // The pad value in the integer domain.
                let (s, z) = in_q.unwrap_or((1.0, 0));
                let q = ((value / s).round_ties_even() as i32 + z).clamp(-128, 127) as f32;
                Op::Pad {
                    kind,
                    value: q,
                    begin,
                }
            }
            o => o,
        };
        let must_match = matches!(
            new_op,
            Op::MaxPool(_)
                | Op::AvgPool(_)
                | Op::Reshape
                | Op::Transpose { .. }
                | Op::Slice { .. }
                | Op::Pad { .. }
                | Op::Resize { .. }
        );
        let natural_out = if must_match { in_q } else { fixed_out };
        if matches!(new_op, Op::Lookup(a) if a.kind == ActivationKind::None) {
            continue;
        }
        g.nodes[i].op = new_op;
        g.nodes[i].inputs = ints;
        match natural_out {
            Some(nq) if nq != out_q => {
                let shape = g.shape(out).to_vec();
                let mid = g.add_tensor(format!("{name}#int8"), shape);
                g.tensors[mid].dtype = DType::I8;
                g.tensors[mid].quant = Some(Quant::per_tensor(nq.0, nq.1));
                g.nodes[i].output = mid;
                after.entry(i).or_default().push(Node {
                    name: format!("{name}#requantize"),
                    op: Op::Requantize { factor: 1.0 },
                    inputs: vec![mid],
                    output: qout,
                });
            }
            _ => g.nodes[i].output = qout,
        }
        remove[qi] = true;
    }
    let old = std::mem::take(&mut g.nodes);
    for (i, n) in old.into_iter().enumerate() {
        if let Some(before) = after.remove(&(usize::MAX - i)) {
            g.nodes.extend(before);
        }
        if !remove[i] {
            g.nodes.push(n);
        }
        if let Some(extra) = after.remove(&i) {
            g.nodes.extend(extra);
        }
    }
    Ok(())
}

/// In a quantized model, every compute op must run on integers unless `allow_float`.
pub fn check_integer_only(g: &Graph, allow_float: bool) -> Result<()> {
    let quantized = g
        .nodes
        .iter()
        .any(|n| matches!(n.op, Op::Quantize { .. } | Op::Dequantize { .. }))
        || g.tensors
            .iter()
            .any(|t| t.dtype == DType::I8 && t.value.is_none());
    if !quantized || allow_float {
        return Ok(());
    }
    let float: Vec<String> = g
        .nodes
        .iter()
        .filter(|n| {
            !matches!(
                n.op,
                Op::Quantize { .. } | Op::Dequantize { .. } | Op::Requantize { .. } | Op::Lookup(_)
            ) && g.tensors[n.output].dtype == DType::F32
        })
        .map(|n| format!("'{}' ({})", n.name, op_name(&n.op)))
        .collect();
    if float.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = float.iter().take(8).map(String::as_str).collect();
    Err(CompileError::Graph(format!(
        "this quantized model has {} node(s) that cannot run in int8: {}{}; pass --allow-float to run them in float32",
        float.len(),
        shown.join(", "),
        if float.len() > 8 { ", …" } else { "" }
    )))
}

/// Short op name for messages.
pub fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Conv { .. } => "Conv",
        Op::ConvTranspose { .. } => "ConvTranspose",
        Op::FullyConnected { .. } => "FullyConnected",
        Op::MatMul => "MatMul",
        Op::Binary { .. } => "Binary",
        Op::Unary(_) => "Activation",
        Op::Concat { .. } => "Concat",
        Op::Slice { .. } => "Slice",
        Op::MaxPool(_) => "MaxPool",
        Op::AvgPool(_) => "AveragePool",
        Op::ReduceMean { .. } => "ReduceMean",
        Op::Reshape => "Reshape",
        Op::Transpose { .. } => "Transpose",
        Op::Softmax { .. } => "Softmax",
        Op::Pad { .. } => "Pad",
        Op::Resize { .. } => "Resize",
        Op::Quantize { .. } => "QuantizeLinear",
        Op::Dequantize { .. } => "DequantizeLinear",
        Op::Requantize { .. } => "Requantize",
        Op::Lookup(_) => "Lookup",
    }
}
