//! Memory planning: one arena, every intermediate tensor at a fixed offset.
//!
//! Liveness: a buffer lives from the op that writes it to the last op that reads it; graph
//! inputs from the start to their last reader (their memory is reused after that, as in TFLite
//! Micro, so inputs are written again before every invoke) and graph outputs until the end. Reshapes are free: their output shares the input's buffer.
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
    let order: Vec<PId> = (0..n)
        .filter(|&t| used[t] && root[t] == t && p.tensors[t].value.is_none())
        .collect();
    // Greedy placement is order-sensitive; a handful of orders (largest first, earliest first,
    // longest-lived first, …) and first-fit vs best-fit are all cheap, so try them and keep the
    // smallest arena.
    let place = |order: &[PId], best_fit: bool| -> (usize, Vec<Option<usize>>) {
        let mut placed: Vec<(usize, usize)> = Vec::new();
        let mut placed_ids: Vec<PId> = Vec::new();
        let mut off = vec![None; n];
        let mut arena = 0usize;
        for &t in order {
            let mut conflicts: Vec<(usize, usize)> = placed
                .iter()
                .zip(placed_ids.iter())
                .filter(|&(_, &o)| first[o] <= last[t] && first[t] <= last[o])
                .map(|(&r, _)| r)
                .collect();
            conflicts.sort_unstable();
            // Candidate gaps between conflicting buffers (and after the last one).
            let mut at = 0usize;
            let mut best: Option<(usize, usize)> = None; // (gap size, offset)
            for &(a, sz) in &conflicts {
                if a >= at + size[t] {
                    let gap = a - at;
                    if !best_fit {
                        best = Some((gap, at));
                        break;
                    }
                    if best.is_none_or(|(g, _)| gap < g) {
                        best = Some((gap, at));
                    }
                }
                at = at.max(a + sz);
            }
            let chosen = match best {
                Some((_, o)) => o,
                None => at,
            };
            off[t] = Some(chosen);
            placed.push((chosen, size[t]));
            placed_ids.push(t);
            arena = arena.max(chosen + size[t]);
        }
        (arena, off)
    };
    let base: Vec<PId> = order.clone();
    let mut orders: Vec<Vec<PId>> = Vec::new();
    let mut o = base.clone();
    o.sort_by(|&a, &b| size[b].cmp(&size[a]).then(first[a].cmp(&first[b])));
    orders.push(o);
    let mut o = base.clone();
    o.sort_by(|&a, &b| first[a].cmp(&first[b]).then(size[b].cmp(&size[a])));
    orders.push(o);
    let mut o = base.clone();
    o.sort_by(|&a, &b| {
        (size[b] * (last[b] - first[b] + 1)).cmp(&(size[a] * (last[a] - first[a] + 1)))
    });
    orders.push(o);
    let mut o = base.clone();
    o.sort_by(|&a, &b| {
        (last[b] - first[b])
            .cmp(&(last[a] - first[a]))
            .then(size[b].cmp(&size[a]))
    });
    orders.push(o);
    let mut best: Option<(usize, Vec<Option<usize>>)> = None;
    for ord in &orders {
        for best_fit in [false, true] {
            let (a, off) = place(ord, best_fit);
            if best.as_ref().is_none_or(|(b, _)| a < *b) {
                best = Some((a, off));
            }
        }
    }
    let (arena, off) = best.unwrap_or((0, vec![None; n]));
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
