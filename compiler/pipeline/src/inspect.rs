//! What `mote inspect` prints: ops with shapes, parameters and MACs, totals, memory.

use mote_format::{Model, OpParams, Storage};
use serde::Serialize;

/// One op's row.
#[derive(Clone, Debug, Serialize)]
pub struct OpRow {
    /// Index in execution order.
    pub index: usize,
    /// Op kind.
    pub op: String,
    /// Node name.
    pub name: String,
    /// Input shapes (physical).
    pub inputs: Vec<Vec<u32>>,
    /// Output shape (physical).
    pub output: Vec<u32>,
    /// Parameters, human-readable.
    pub params: String,
    /// Multiply-accumulates.
    pub macs: u64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Format version.
    pub format_version: String,
    /// File size.
    pub file_bytes: usize,
    /// Constant (weight) bytes.
    pub constant_bytes: usize,
    /// Arena bytes.
    pub arena_bytes: usize,
    /// The layer-by-layer lower bound of any arena plan: the largest sum, over one op, of the
    /// bytes of its arena-resident inputs and output.
    pub layer_lower_bound: usize,
    /// Number of parameters (elements of constant tensors).
    pub parameters: u64,
    /// Total MACs.
    pub macs: u64,
    /// Ops.
    pub ops: Vec<OpRow>,
    /// Inputs: (name, dtype, shape).
    pub inputs: Vec<(String, String, Vec<u32>)>,
    /// Outputs: (name, dtype, shape).
    pub outputs: Vec<(String, String, Vec<u32>)>,
    /// Metadata.
    pub metadata: Vec<(String, String)>,
}

/// MACs of op `i`.
pub fn op_macs(m: &Model<'_>, i: usize) -> u64 {
    let Some(op) = m.op(i) else { return 0 };
    let t = |k: usize| op.inputs.get(k).and_then(|x| m.tensor(x));
    let out = op.outputs.get(0).and_then(|x| m.tensor(x));
    let elems =
        |x: &mote_format::TensorInfo<'_>| x.shape().iter().map(|&d| d as u64).product::<u64>();
    match (op.params, out) {
        (OpParams::Conv2d(_) | OpParams::Conv2dS8 { .. }, Some(o)) => t(1)
            .map(|w| elems(&o) * w.shape().iter().skip(1).map(|&d| d as u64).product::<u64>())
            .unwrap_or(0),
        (OpParams::ConvTranspose2d(c), Some(_)) => match (t(0), t(1)) {
            // Every input pixel meets kH·kW·(out_c / groups) weights.
            (Some(x), Some(w)) => match w.shape() {
                [co, kh, kw, _] => {
                    elems(&x) * (*kh as u64) * (*kw as u64) * (*co as u64)
                        / (c.groups.max(1) as u64)
                }
                _ => 0,
            },
            _ => 0,
        },
        (OpParams::FullyConnected { .. } | OpParams::FullyConnectedS8 { .. }, Some(o)) => t(1)
            .map(|w| elems(&o) * w.shape().get(1).copied().unwrap_or(0) as u64)
            .unwrap_or(0),
        (OpParams::MatMul, Some(o)) => t(0)
            .map(|a| elems(&o) * a.shape().last().copied().unwrap_or(0) as u64)
            .unwrap_or(0),
        _ => 0,
    }
}

fn describe(p: &OpParams) -> String {
    match p {
        OpParams::Conv2d(c) => format!(
            "stride {:?} dil {:?} pads {:?} groups {} act {:?}",
            c.stride, c.dilation, c.pads, c.groups, c.activation.kind
        ),
        OpParams::ConvTranspose2d(c) => format!(
            "stride {:?} dil {:?} pads {:?} groups {} act {:?}",
            c.stride, c.dilation, c.pads, c.groups, c.activation.kind
        ),
        OpParams::FullyConnected { activation } => format!("act {:?}", activation.kind),
        OpParams::Binary { kind, activation } => format!("{kind:?} act {:?}", activation.kind),
        OpParams::Unary { activation } => format!("{:?}", activation.kind),
        OpParams::MaxPool2d(p) | OpParams::AvgPool2d(p) => format!(
            "kernel {:?} stride {:?} pads {:?}",
            p.kernel, p.stride, p.pads
        ),
        OpParams::Concat { axis } => format!("axis {axis}"),
        OpParams::Softmax { axis, .. } => format!("axis {axis}"),
        OpParams::Transpose { perm } => format!("perm {perm:?}"),
        OpParams::Reduce { axes_mask, .. } | OpParams::MeanS8 { axes_mask, .. } => {
            format!("mean axes mask {axes_mask:#b}")
        }
        OpParams::Pad { kind, .. } => format!("{kind:?}"),
        OpParams::Resize(r) => format!("{:?} {:?}", r.mode, r.coordinate),
        _ => String::new(),
    }
}

/// Max over ops of (distinct arena inputs + output) bytes.
pub fn layer_lower_bound(m: &Model<'_>) -> usize {
    let mut best = 0usize;
    for i in 0..m.op_count() {
        let Some(op) = m.op(i) else { continue };
        let mut seen: Vec<u32> = Vec::new();
        let mut sum = 0usize;
        for t in op.inputs.iter().chain(op.outputs.iter()) {
            if seen.contains(&t) {
                continue;
            }
            seen.push(t);
            if let Some(ti) = m.tensor(t) {
                if let Storage::Arena { .. } = ti.storage {
                    sum += ti.byte_len as usize;
                }
            }
        }
        best = best.max(sum);
    }
    best
}

/// Builds the report of a validated model.
pub fn report(m: &Model<'_>) -> Report {
    let mut ops = Vec::new();
    let mut macs = 0;
    for i in 0..m.op_count() {
        let Some(op) = m.op(i) else { continue };
        let inputs = op
            .inputs
            .iter()
            .filter_map(|t| m.tensor(t))
            .map(|t| t.shape().to_vec())
            .collect();
        let output = op
            .outputs
            .get(0)
            .and_then(|t| m.tensor(t))
            .map(|t| t.shape().to_vec())
            .unwrap_or_default();
        let mc = op_macs(m, i);
        macs += mc;
        ops.push(OpRow {
            index: i,
            op: op.params.opcode().name().to_string(),
            name: op.name.to_string(),
            inputs,
            output,
            params: describe(&op.params),
            macs: mc,
        });
    }
    let mut parameters = 0u64;
    for i in 0..m.tensor_count() {
        if let Some(t) = m.tensor(i as u32) {
            if let Storage::Const(_) = t.storage {
                parameters += t.elements() as u64;
            }
        }
    }
    let io = |l: mote_format::IndexList<'_>| {
        l.iter()
            .filter_map(|t| m.tensor(t))
            .map(|t| {
                // Quantized tensors show their parameters: a user must know them to feed int8.
                let dtype = match t.quant {
                    Some(q) => format!(
                        "{} (scale {}, zero point {})",
                        t.dtype.name(),
                        q.scale,
                        q.zero_point
                    ),
                    None => t.dtype.name().to_string(),
                };
                (t.name.to_string(), dtype, t.shape().to_vec())
            })
            .collect()
    };
    Report {
        format_version: format!("{}.{}", m.version().0, m.version().1),
        file_bytes: m.bytes().len(),
        constant_bytes: m.constants_len(),
        arena_bytes: m.arena_len(),
        layer_lower_bound: layer_lower_bound(m),
        parameters,
        macs,
        ops,
        inputs: io(m.inputs()),
        outputs: io(m.outputs()),
        metadata: m
            .metadata()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}
