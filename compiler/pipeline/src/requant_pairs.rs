//! Dequantize → Quantize pairs with the same scale and zero point are the identity on int8.
//!
//! They appear where a QDQ model quantizes twice around an op that only moves axes: `DQ →
//! Transpose → Q` (a model converted from NHWC, every layer boundary of tf2onnx's output, the
//! layer probe's single-layer models). The Transpose costs nothing once [`crate::layout`]
//! cancels it against the kernels' NHWC, but the pair would stay: two passes over the tensor in
//! f32, which doubled the time of a one-layer model. Here the Quantize's readers read the
//! Dequantize's int8 input instead, and a Dequantize nobody reads any more goes too.
//!
//! Exact, not approximate: for an int8 `q` and `n = q − zero_point` (`|n| ≤ 255`), the runtime
//! computes `round_half_even(fl(fl(n · s) / s)) + zero_point`. Two roundings of relative error
//! at most 2^−24 each keep `fl(fl(n · s) / s)` within `255 · 2^−23 < 0.5` of `n` when `n · s`
//! is a normal float (a normal `s` at most 2^100, below), so the round trip gives `q` back for
//! every `q`; `round_trip_is_exact_for_every_int8` checks it against the kernels themselves.

use crate::layout::PGraph;
use mote_format::{DType, OpParams};

/// Largest scale the rewrite trusts (`255 · s` stays far from f32 overflow).
const MAX_SCALE: f32 = 1e30;

/// Whether `Quantize(Dequantize(q))` with this scale is `q` for every int8 `q`.
fn round_trip_exact(scale: f32) -> bool {
    scale.is_normal() && scale > 0.0 && scale <= MAX_SCALE
}

/// Removes every Dequantize → Quantize pair of equal parameters from `p` (see the module docs).
/// Returns the number of Quantize ops removed.
pub fn remove(p: &mut PGraph) -> usize {
    let mut producer = vec![None; p.tensors.len()];
    for (i, op) in p.ops.iter().enumerate() {
        if let Some(slot) = producer.get_mut(op.output) {
            *slot = Some(i);
        }
    }
    // `alias[t] = Some(src)`: readers of `t` read `src` instead.
    let mut alias = vec![None; p.tensors.len()];
    let mut dead = vec![false; p.ops.len()];
    let mut removed = 0;
    for (i, op) in p.ops.iter().enumerate() {
        let OpParams::Quantize { scale, zero_point } = op.params else {
            continue;
        };
        let Some(&t) = op.inputs.first() else {
            continue;
        };
        let Some(j) = producer.get(t).copied().flatten() else {
            continue;
        };
        let dq = &p.ops[j];
        let same = matches!(dq.params, OpParams::Dequantize { scale: s, zero_point: z }
            if s.to_bits() == scale.to_bits() && z == zero_point);
        let Some(&src) = dq.inputs.first() else {
            continue;
        };
        let int8 = |t: usize| p.tensors.get(t).is_some_and(|x| x.dtype == DType::I8);
        if !same
            || !round_trip_exact(scale)
            || !int8(src)
            || !int8(op.output)
            || p.tensors[src].shape != p.tensors[op.output].shape
            // A graph output keeps its own tensor (name, place in the arena).
            || p.outputs.contains(&op.output)
        {
            continue;
        }
        // A Dequantize whose input was itself a removed pair's output reads that pair's source.
        alias[op.output] = Some(alias[src].unwrap_or(src));
        dead[i] = true;
        removed += 1;
    }
    if removed == 0 {
        return 0;
    }
    for op in &mut p.ops {
        for t in &mut op.inputs {
            if let Some(src) = alias[*t] {
                *t = src;
            }
        }
    }
    let mut i = 0;
    p.ops.retain(|_| {
        i += 1;
        !dead[i - 1]
    });
    // Dequantize ops that only fed a removed Quantize.
    loop {
        let mut read = vec![false; p.tensors.len()];
        for op in &p.ops {
            for &t in &op.inputs {
                read[t] = true;
            }
        }
        for &t in &p.outputs {
            read[t] = true;
        }
        let before = p.ops.len();
        p.ops
            .retain(|op| !matches!(op.params, OpParams::Dequantize { .. }) || read[op.output]);
        if p.ops.len() == before {
            break;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{POp, PTensor};
    use mote_kernels::ops::quantize::{
        dequantize_s8_f32, quantize_f32_s8, DequantizeParams, QuantizeParams,
    };

    /// The exactness argument of the module docs, against the runtime's own kernels (every
    /// instruction set this host has, as the interpreter dispatches), on scales across the whole
    /// accepted range and every zero point's worst cases.
    #[test]
    fn round_trip_is_exact_for_every_int8() {
        let q: Vec<i8> = (i8::MIN..=i8::MAX).collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut scales = vec![
            f32::MIN_POSITIVE,
            MAX_SCALE,
            1.0,
            0.1,
            1.0 / 3.0,
            0.007_843_138,
        ];
        for _ in 0..4000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Random mantissa, exponent from 2^-126 to 2^98 (all below `MAX_SCALE`).
            let bits = ((seed >> 32) as u32 & 0x007f_ffff) | ((1 + (seed % 225) as u32) << 23);
            scales.push(f32::from_bits(bits));
        }
        for &scale in &scales {
            assert!(round_trip_exact(scale), "{scale:e}");
            for zero_point in [-128, -1, 0, 5, 127] {
                let mut f = vec![0f32; q.len()];
                dequantize_s8_f32(&DequantizeParams { scale, zero_point }, &q, &mut f);
                let mut back = vec![0i8; q.len()];
                quantize_f32_s8(&QuantizeParams { scale, zero_point }, &f, &mut back);
                assert_eq!(back, q, "scale {scale:e}, zero point {zero_point}");
            }
        }
        assert!(!round_trip_exact(f32::MIN_POSITIVE / 2.0));
        assert!(!round_trip_exact(1e31));
        assert!(!round_trip_exact(f32::NAN));
    }

    fn tensor(name: &str, dtype: DType) -> PTensor {
        PTensor {
            name: name.into(),
            shape: vec![1, 4, 4, 8],
            dtype,
            quant: None,
            value: None,
        }
    }

    fn op(params: OpParams, input: usize, output: usize) -> POp {
        POp {
            name: format!("op{output}"),
            params,
            inputs: vec![input],
            output,
        }
    }

    /// int8 input → Dequantize → Quantize → Dequantize → Quantize(other scale) → Dequantize
    /// (output), the second pair with the second Dequantize's output also read by the output.
    fn graph(second_scale: f32) -> PGraph {
        let dq = |scale| OpParams::Dequantize {
            scale,
            zero_point: 3,
        };
        let q = |scale| OpParams::Quantize {
            scale,
            zero_point: 3,
        };
        PGraph {
            tensors: vec![
                tensor("x", DType::I8),
                tensor("a", DType::F32),
                tensor("b", DType::I8),
                tensor("c", DType::F32),
                tensor("d", DType::I8),
                tensor("y", DType::F32),
            ],
            ops: vec![
                op(dq(0.5), 0, 1),
                op(q(0.5), 1, 2),
                op(dq(0.25), 2, 3),
                op(q(second_scale), 3, 4),
                op(dq(0.25), 4, 5),
            ],
            inputs: vec![0],
            outputs: vec![5],
        }
    }

    #[test]
    fn equal_pairs_go_and_others_stay() {
        // Both pairs equal: the chain is one Dequantize of the input.
        let mut p = graph(0.25);
        assert_eq!(remove(&mut p), 2);
        assert_eq!(p.ops.len(), 1);
        assert_eq!((p.ops[0].inputs.as_slice(), p.ops[0].output), (&[0][..], 5));
        // The second pair's scales differ: only the first goes.
        let mut p = graph(0.3);
        assert_eq!(remove(&mut p), 1);
        let kept: Vec<(usize, usize)> = p.ops.iter().map(|o| (o.inputs[0], o.output)).collect();
        assert_eq!(kept, [(0, 3), (3, 4), (4, 5)]);
    }

    #[test]
    fn a_quantize_that_is_a_graph_output_stays() {
        let mut p = graph(0.25);
        p.outputs = vec![2];
        p.ops.truncate(2);
        assert_eq!(remove(&mut p), 0);
        assert_eq!(p.ops.len(), 2);
    }
}
