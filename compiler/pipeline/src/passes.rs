//! Graph passes on the IR, before layout: fold per-channel multiply-adds (BatchNormalization)
//! into the producing convolution or fully connected layer, recognise HardSwish written out as
//! `x · clip(x + 3, 0, 6) / 6`, fuse activations into their producer, drop dead nodes.
//!
//! Why here: each fusion removes a whole pass over a tensor at run time, and doing it on the IR
//! (ONNX axis order, one output per node) keeps every rewrite a few lines long.

use crate::ir::*;
use mote_format::{ActivationKind, ActivationSpec};
use mote_onnx::{Tensor, TensorData};
use std::collections::HashMap;

/// Runs every pass to a fixed point.
pub fn optimize(g: &mut Graph) {
    sub_const_to_add(g);
    // Fold every per-channel affine first: once an activation is fused into the Add of a
    // BatchNormalization, that Add can no longer be folded into its convolution.
    while fold_channel_affine(g) {}
    while hardswish_pattern(g) {}
    loop {
        let mut changed = false;
        changed |= fold_channel_affine(g);
        changed |= hardswish_pattern(g);
        changed |= fuse_activation(g);
        changed |= remove_dead(g);
        if !changed {
            break;
        }
    }
}

fn producers(g: &Graph) -> HashMap<TId, usize> {
    g.nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.output, i))
        .collect()
}

fn const_f32(g: &Graph, t: TId) -> Option<&[f32]> {
    match g.value(t).map(|v| &v.data) {
        Some(TensorData::F32(v)) => Some(v),
        _ => None,
    }
}

/// `x - c` → `x + (-c)` for a constant `c` (exact), so the affine folding sees one form.
fn sub_const_to_add(g: &mut Graph) {
    for i in 0..g.nodes.len() {
        let n = &g.nodes[i];
        if let (
            Op::Binary {
                kind: BinaryKind::Sub,
                act,
            },
            [a, b],
        ) = (&n.op, n.inputs.as_slice())
        {
            let (a, b, act) = (*a, *b, *act);
            if let Some(v) = const_f32(g, b) {
                let neg: Vec<f32> = v.iter().map(|x| -x).collect();
                let dims = g.shape(b).to_vec();
                let name = format!("{}#neg", g.tensors[b].name);
                let nb = g.add_const(name, Tensor::f32(dims, neg));
                g.nodes[i].op = Op::Binary {
                    kind: BinaryKind::Add,
                    act,
                };
                g.nodes[i].inputs = vec![a, nb];
            }
        }
    }
}

/// Per-output-channel values of a constant that broadcasts only along `axis` of a rank-`rank`
/// output with `channels` channels (a scalar broadcasts to all).
fn per_channel(g: &Graph, t: TId, rank: usize, axis: usize, channels: usize) -> Option<Vec<f32>> {
    let v = const_f32(g, t)?;
    let s = g.shape(t);
    if s.len() > rank {
        return None;
    }
    let pad = rank - s.len();
    let mut chan_extent = 1;
    for (k, &d) in s.iter().enumerate() {
        if k + pad == axis {
            chan_extent = d;
        } else if d != 1 {
            return None;
        }
    }
    if chan_extent == channels {
        Some(v.to_vec())
    } else if chan_extent == 1 && v.len() == 1 {
        Some(vec![v[0]; channels])
    } else {
        None
    }
}

fn fold_channel_affine(g: &mut Graph) -> bool {
    let prod = producers(g);
    for i in 0..g.nodes.len() {
        let (kind, x, c) = match (&g.nodes[i].op, g.nodes[i].inputs.as_slice()) {
            (
                Op::Binary {
                    kind: k @ (BinaryKind::Mul | BinaryKind::Add),
                    act,
                },
                [a, b],
            ) if act.kind == ActivationKind::None => {
                if g.value(*b).is_some() {
                    (*k, *a, *b)
                } else if g.value(*a).is_some() {
                    (*k, *b, *a)
                } else {
                    continue;
                }
            }
            _ => continue,
        };
        let Some(&p) = prod.get(&x) else { continue };
        if g.uses(x) != 1 || g.outputs.contains(&x) {
            continue;
        }
        let out_shape = g.shape(g.nodes[i].output).to_vec();
        if out_shape != g.shape(x) {
            continue; // the constant would broadcast the producer's output to a larger shape
        }
        let pn = g.nodes[p].clone();
        let (axis, channels) = match &pn.op {
            Op::Conv { act, .. } | Op::ConvTranspose { act, .. }
                if act.kind == ActivationKind::None =>
            {
                (1, out_shape.get(1).copied().unwrap_or(0))
            }
            Op::FullyConnected { act } if act.kind == ActivationKind::None => {
                (out_shape.len() - 1, *out_shape.last().unwrap_or(&0))
            }
            _ => continue,
        };
        let Some(vals) = per_channel(g, c, out_shape.len(), axis, channels) else {
            continue;
        };
        let (Some(w), true) = (
            pn.inputs.get(1).and_then(|&w| const_f32(g, w)),
            pn.inputs.get(1).is_some(),
        ) else {
            continue;
        };
        let mut w = w.to_vec();
        let wshape = g.shape(pn.inputs[1]).to_vec();
        let mut bias: Vec<f32> = match pn.inputs.get(2) {
            Some(&b) => match const_f32(g, b) {
                Some(v) => v.to_vec(),
                None => continue,
            },
            None => vec![0.0; channels],
        };
        if kind == BinaryKind::Mul {
            match &pn.op {
                Op::ConvTranspose { groups, .. } => {
                    // ONNX layout [C, M/g, kH, kW]: output channel = group·(M/g) + j.
                    let (cin, mg) = (wshape[0], wshape[1]);
                    let inner: usize = wshape[2..].iter().product();
                    let cpg = cin / groups.max(&1);
                    for ci in 0..cin {
                        for j in 0..mg {
                            let oc = (ci / cpg.max(1)) * mg + j;
                            for k in 0..inner {
                                w[(ci * mg + j) * inner + k] *= vals[oc];
                            }
                        }
                    }
                }
                _ => {
                    let per = w.len() / channels.max(1);
                    for (oc, chunk) in w.chunks_mut(per.max(1)).enumerate() {
                        chunk.iter_mut().for_each(|v| *v *= vals[oc]);
                    }
                }
            }
            bias.iter_mut().zip(vals.iter()).for_each(|(b, s)| *b *= s);
        } else {
            bias.iter_mut().zip(vals.iter()).for_each(|(b, s)| *b += s);
        }
        let nw = if kind == BinaryKind::Mul {
            let wname = format!("{}#folded", g.tensors[pn.inputs[1]].name);
            g.add_const(wname, Tensor::f32(wshape, w))
        } else {
            pn.inputs[1]
        };
        let bname = format!("{}#bias", pn.name);
        let nb = g.add_const(bname, Tensor::f32(vec![channels], bias));
        // A quantized model's bias is a dequantized int32 vector added to a layer without one:
        // keep the integers so the layer can run in int8.
        if kind == BinaryKind::Add && pn.inputs.get(2).is_none() {
            if let (Some(mut q), Some(quant)) =
                (g.tensors[c].qorigin.clone(), g.tensors[c].quant.clone())
            {
                if q.len() == channels {
                    q.dims = vec![channels];
                    g.tensors[nb].qorigin = Some(q);
                    g.tensors[nb].quant = Some(Quant { axis: 0, ..quant });
                }
            }
        }
        let out = g.nodes[i].output;
        let node = &mut g.nodes[p];
        node.inputs = vec![node.inputs[0], nw, nb];
        node.output = out;
        g.nodes.remove(i);
        return true;
    }
    false
}

fn is_const_scalar(g: &Graph, t: TId, v: f32) -> bool {
    const_f32(g, t).is_some_and(|x| !x.is_empty() && x.iter().all(|&y| y == v))
}

fn hardswish_pattern(g: &mut Graph) -> bool {
    let prod = producers(g);
    let node_of = |t: TId| prod.get(&t).map(|&i| (i, &g.nodes[i]));
    for i in 0..g.nodes.len() {
        let n = &g.nodes[i];
        // (1) Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)  (2) Mul(x, Div(Clip(Add(x,3),0,6), 6))
        // (3) Mul(x, HardSigmoid(x; 1/6, 1/2))
        let Op::Binary { kind, act } = &n.op else {
            continue;
        };
        if act.kind != ActivationKind::None || n.inputs.len() != 2 {
            continue;
        }
        let clip_of_x_plus_3 = |t: TId, x: TId| -> Option<Vec<usize>> {
            let (ci, c) = node_of(t)?;
            let Op::Unary(a) = &c.op else { return None };
            if !(a.kind == ActivationKind::Clip && a.a == 0.0 && a.b == 6.0) {
                return None;
            }
            let (ai, ad) = node_of(c.inputs[0])?;
            let Op::Binary {
                kind: BinaryKind::Add,
                act,
            } = &ad.op
            else {
                return None;
            };
            if act.kind != ActivationKind::None {
                return None;
            }
            let ok = (ad.inputs[0] == x && is_const_scalar(g, ad.inputs[1], 3.0))
                || (ad.inputs[1] == x && is_const_scalar(g, ad.inputs[0], 3.0));
            (ok && g.shape(ad.output) == g.shape(x)).then(|| vec![ci, ai])
        };
        let mut found: Option<(TId, Vec<usize>)> = None;
        if *kind == BinaryKind::Div && is_const_scalar(g, n.inputs[1], 6.0) {
            if let Some((mi, m)) = node_of(n.inputs[0]) {
                if let Op::Binary {
                    kind: BinaryKind::Mul,
                    act,
                } = &m.op
                {
                    if act.kind == ActivationKind::None {
                        for (x, y) in [(m.inputs[0], m.inputs[1]), (m.inputs[1], m.inputs[0])] {
                            if let Some(mut dead) = clip_of_x_plus_3(y, x) {
                                dead.push(mi);
                                found = Some((x, dead));
                                break;
                            }
                        }
                    }
                }
            }
        } else if *kind == BinaryKind::Mul {
            for (x, y) in [(n.inputs[0], n.inputs[1]), (n.inputs[1], n.inputs[0])] {
                if let Some((di, d)) = node_of(y) {
                    match &d.op {
                        Op::Binary {
                            kind: BinaryKind::Div,
                            act,
                        } if act.kind == ActivationKind::None
                            && is_const_scalar(g, d.inputs[1], 6.0) =>
                        {
                            if let Some(mut dead) = clip_of_x_plus_3(d.inputs[0], x) {
                                dead.push(di);
                                found = Some((x, dead));
                            }
                        }
                        Op::Unary(a)
                            if a.kind == ActivationKind::HardSigmoid
                                && (a.a - 1.0 / 6.0).abs() < 1e-7
                                && a.b == 0.5
                                && d.inputs[0] == x =>
                        {
                            found = Some((x, vec![di]));
                        }
                        _ => {}
                    }
                }
                if found.is_some() {
                    break;
                }
            }
        }
        let Some((x, dead)) = found else { continue };
        if g.shape(x) != g.shape(n.output) {
            continue;
        }
        // The intermediate values must have no other readers.
        if dead.iter().any(|&d| g.uses(g.nodes[d].output) != 1) {
            continue;
        }
        g.nodes[i].op = Op::Unary(ActivationSpec {
            kind: ActivationKind::HardSwish,
            a: 0.0,
            b: 0.0,
        });
        g.nodes[i].inputs = vec![x];
        return true; // the dead intermediates go in remove_dead
    }
    false
}

fn fuse_activation(g: &mut Graph) -> bool {
    let prod = producers(g);
    for i in 0..g.nodes.len() {
        let Op::Unary(a) = g.nodes[i].op.clone() else {
            continue;
        };
        let x = g.nodes[i].inputs[0];
        let Some(&p) = prod.get(&x) else { continue };
        if g.uses(x) != 1 || g.outputs.contains(&x) {
            continue;
        }
        let slot = match &mut g.nodes[p].op {
            Op::Conv { act, .. }
            | Op::ConvTranspose { act, .. }
            | Op::FullyConnected { act }
            | Op::Binary { act, .. } => act,
            Op::MaxPool(pa) | Op::AvgPool(pa) => &mut pa.act,
            _ => continue,
        };
        if slot.kind != ActivationKind::None {
            continue;
        }
        *slot = a;
        g.nodes[p].output = g.nodes[i].output;
        g.nodes.remove(i);
        return true;
    }
    false
}

fn remove_dead(g: &mut Graph) -> bool {
    let before = g.nodes.len();
    loop {
        let mut used = vec![false; g.tensors.len()];
        for &o in &g.outputs {
            used[o] = true;
        }
        for n in &g.nodes {
            for &i in &n.inputs {
                used[i] = true;
            }
        }
        let n0 = g.nodes.len();
        g.nodes.retain(|n| used[n.output]);
        if g.nodes.len() == n0 {
            break;
        }
    }
    g.nodes.len() != before
}
