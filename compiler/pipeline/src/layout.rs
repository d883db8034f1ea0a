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
    ActivationSpec, Conv2d, ConvTranspose2d, OpParams, Pool2d, ReduceKind, Resize, MAX_RANK,
};
use std::collections::HashMap;

/// Physical tensor id.
pub type PId = usize;

/// A tensor in physical layout.
#[derive(Clone, Debug)]
pub struct PTensor {
    /// Name.
    pub name: String,
    /// Physical shape.
    pub shape: Vec<usize>,
    /// Constant data in physical order.
    pub value: Option<Vec<f32>>,
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

struct Layout<'g> {
    g: &'g Graph,
    p: PGraph,
    cur: HashMap<TId, (PId, Vec<usize>)>,
    cache: HashMap<(TId, Vec<usize>), PId>,
}

impl Layout<'_> {
    fn add(&mut self, name: String, shape: Vec<usize>, value: Option<Vec<f32>>) -> PId {
        self.p.tensors.push(PTensor { name, shape, value });
        self.p.tensors.len() - 1
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
            let vals = v.to_f32_vec();
            let (pv, ps) = transpose_vals(&vals, &def.shape, want);
            let name = if want == identity(want.len()).as_slice() {
                def.name.clone()
            } else {
                format!("{}#{:?}", def.name, want)
            };
            self.add(name, ps, Some(pv))
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
            let out = self.add(
                format!("{}#{:?}", def.name, want),
                physical_shape(shape, want),
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

    fn perm_of(&self, t: TId) -> Vec<usize> {
        self.cur
            .get(&t)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| identity(self.g.shape(t).len()))
    }

    /// Defines the output of a node with layout `perm`.
    fn define(&mut self, t: TId, perm: Vec<usize>) -> PId {
        let def = &self.g.tensors[t];
        let id = self.add(def.name.clone(), physical_shape(&def.shape, &perm), None);
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
}

fn axes6<T: Copy>(vals: &[T], perm: &[usize], fill: T) -> [T; MAX_RANK] {
    let mut out = [fill; MAX_RANK];
    for (j, &p) in perm.iter().enumerate() {
        out[j] = vals[p];
    }
    out
}

/// Converts the IR into physical tensors and ops.
pub fn assign(g: &Graph) -> Result<PGraph> {
    let mut l = Layout {
        g,
        p: PGraph::default(),
        cur: HashMap::new(),
        cache: HashMap::new(),
    };
    for &t in &g.inputs {
        let r = g.shape(t).len();
        let id = l.define(t, identity(r));
        l.p.inputs.push(id);
    }
    for n in &g.nodes {
        let name = n.name.as_str();
        let out_rank = g.shape(n.output).len();
        let (params, inputs, out_perm): (OpParams, Vec<PId>, Vec<usize>) = match &n.op {
            Op::Conv {
                strides,
                dilations,
                pads,
                groups,
                act,
            } => {
                let x = l.get(n.inputs[0], &NHWC, name)?;
                let w = l.get(n.inputs[1], &NHWC, name)?;
                let mut ins = vec![x, w];
                if let Some(&b) = n.inputs.get(2) {
                    ins.push(l.get(b, &[0], name)?);
                }
                let p = Conv2d {
                    stride: u2(strides),
                    dilation: u2(dilations),
                    pads: u4(pads),
                    groups: *groups as u32,
                    activation: *act,
                };
                (OpParams::Conv2d(p), ins, NHWC.to_vec())
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
                        .ok_or_else(|| CompileError::Unsupported {
                            node: name.into(),
                            op: "ConvTranspose".into(),
                            msg: "grouped ConvTranspose needs constant weights".into(),
                        })?
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
                    l.add(
                        format!("{}#ohwi", g.tensors[wt].name),
                        vec![mg * groups, kh, kw, cpg],
                        Some(out),
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
                let mut ins = vec![
                    l.get(n.inputs[0], &identity(xr), name)?,
                    l.get(n.inputs[1], &[0, 1], name)?,
                ];
                if let Some(&b) = n.inputs.get(2) {
                    ins.push(l.get(b, &[0], name)?);
                }
                (
                    OpParams::FullyConnected { activation: *act },
                    ins,
                    identity(out_rank),
                )
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
                (
                    OpParams::Binary {
                        kind: *kind,
                        activation: *act,
                    },
                    ins,
                    perm,
                )
            }
            Op::Unary(a) => {
                let perm = l.perm_of(n.inputs[0]);
                (
                    OpParams::Unary { activation: *a },
                    vec![l.get(n.inputs[0], &perm, name)?],
                    perm,
                )
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
                let params = if matches!(n.op, Op::MaxPool(_)) {
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
                (
                    OpParams::Reduce {
                        kind: ReduceKind::Mean,
                        axes_mask: mask,
                    },
                    vec![l.get(n.inputs[0], &perm, name)?],
                    out_perm,
                )
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
                (
                    OpParams::Softmax {
                        axis: pa,
                        flatten: *flatten,
                    },
                    vec![l.get(n.inputs[0], &perm, name)?],
                    perm,
                )
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
                let perm = l.perm_of(n.inputs[0]);
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
        l.p.outputs.push(id);
    }
    let _ = ActivationSpec::NONE;
    Ok(l.p)
}

fn u2(v: &[usize; 2]) -> [u32; 2] {
    [v[0] as u32, v[1] as u32]
}

fn u4(v: &[usize; 4]) -> [u32; 4] {
    [v[0] as u32, v[1] as u32, v[2] as u32, v[3] as u32]
}
