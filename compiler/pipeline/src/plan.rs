//! Memory planning: one arena, every intermediate tensor at a fixed offset.
//!
//! Liveness: a buffer lives from the op that writes it to the last op that reads it; graph
//! inputs live for the whole run (so a caller can invoke again without re-filling them) and
//! graph outputs until the end. Reshapes are free: their output shares the input's buffer.
//! Placement is greedy by size, largest first, at the lowest 16-byte aligned offset that does
//! not collide with an already placed buffer whose lifetime overlaps — the planner TFLite Micro
//! uses, which lands close to the lower bound on CNNs because their big tensors are short-lived.

use crate::layout::{PGraph, PId};
use mote_format::OpParams;

/// Where every physical tensor lives.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Arena offset per tensor (`None` for constants).
    pub offsets: Vec<Option<usize>>,
    /// Arena bytes.
    pub arena_len: usize,
    /// Sum of all activation buffers (what an arena without reuse would need).
    pub total_activation_bytes: usize,
    /// Max over ops of the bytes that must be live at once (no plan can do better).
    pub lower_bound: usize,
    /// Ops that became free aliases (Reshape), not emitted.
    pub elided: Vec<bool>,
}

const ALIGN: usize = 16;

fn align(v: usize) -> usize {
    v.div_ceil(ALIGN) * ALIGN
}

/// Plans `p`.
pub fn plan(p: &PGraph) -> Plan {
    let n = p.tensors.len();
    let bytes = |t: PId| p.tensors[t].byte_len();
    // Alias Reshape outputs onto their inputs.
    let mut root: Vec<PId> = (0..n).collect();
    let mut elided = vec![false; p.ops.len()];
    for (i, op) in p.ops.iter().enumerate() {
        if matches!(op.params, OpParams::Reshape) {
            let src = op.inputs[0];
            if p.tensors[src].value.is_none() {
                root[op.output] = root[src];
                elided[i] = true;
            }
        }
    }
    let find = |mut t: PId| {
        while root[t] != t {
            t = root[t];
        }
        t
    };
    let end = p.ops.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    let mut size = vec![0usize; n];
    let mut used = vec![false; n];
    let mut touch = |t: PId, at: usize, first: &mut Vec<usize>, last: &mut Vec<usize>| {
        let r = find(t);
        first[r] = first[r].min(at);
        last[r] = last[r].max(at);
        size[r] = size[r].max(align(bytes(t)));
        used[r] = true;
    };
    for &t in &p.inputs {
        touch(t, 0, &mut first, &mut last);
        touch(t, end, &mut first, &mut last);
    }
    for (i, op) in p.ops.iter().enumerate() {
        for &t in &op.inputs {
            if p.tensors[t].value.is_none() {
                touch(t, i, &mut first, &mut last);
            }
        }
        touch(op.output, i, &mut first, &mut last);
    }
    for &t in &p.outputs {
        if p.tensors[t].value.is_none() {
            touch(t, end, &mut first, &mut last);
        }
    }
    let mut order: Vec<PId> = (0..n)
        .filter(|&t| used[t] && root[t] == t && p.tensors[t].value.is_none())
        .collect();
    order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(first[a].cmp(&first[b])));
    let mut placed: Vec<(usize, usize, PId)> = Vec::new(); // (offset, size, id)
    let mut off = vec![None; n];
    let mut arena = 0usize;
    for &t in &order {
        let mut conflicts: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&(_, _, o)| first[o] <= last[t] && first[t] <= last[o])
            .map(|&(a, s, _)| (a, s))
            .collect();
        conflicts.sort_unstable();
        let mut at = 0usize;
        for (a, s) in conflicts {
            if at + size[t] <= a {
                break;
            }
            at = at.max(a + s);
        }
        off[t] = Some(at);
        placed.push((at, size[t], t));
        arena = arena.max(at + size[t]);
    }
    let mut offsets = vec![None; n];
    for (t, o) in offsets.iter_mut().enumerate() {
        if p.tensors[t].value.is_none() {
            *o = off[find(t)];
        }
    }
    let total_activation_bytes = order.iter().map(|&t| size[t]).sum();
    let lower_bound = (0..=end)
        .map(|i| {
            order
                .iter()
                .filter(|&&t| first[t] <= i && i <= last[t])
                .map(|&t| size[t])
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    Plan {
        offsets,
        arena_len: arena,
        total_activation_bytes,
        lower_bound,
        elided,
    }
}
