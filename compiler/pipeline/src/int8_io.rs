//! int8 inputs and outputs for a quantized (QDQ) model: `mote compile --io int8`.
//!
//! An int8 model exported as QDQ ONNX takes and returns float: its first op quantizes the
//! input and its last dequantizes the output. An application that already holds int8 data (a
//! camera pipeline, the previous model of a cascade), or a benchmark that compares with LiteRT's
//! int8-I/O models, wants neither: the quantize reads 4 bytes per element and writes 1, and on a
//! single layer it can cost as much as the layer. This pass drops them. Each float input whose
//! every reader is a `QuantizeLinear` (one scale and zero point) becomes an int8 input with that
//! quantization recorded in the file; each float output made by a `DequantizeLinear` becomes
//! its int8 operand, under the output's name, with its quantization. The values a caller sees
//! are the int8 tensors the float model quantized and dequantized, bit for bit.
//!
//! A model whose inputs or outputs are not quantized that way is refused with the tensor's name
//! (a float output computed in float, an input read by a float op): `--io int8` would otherwise
//! silently keep float there.

use std::collections::HashMap;

use crate::error::{CompileError, Result};
use crate::ir::{DType, Graph, Op, Quant, TId};

/// Turns the float inputs and outputs of a lowered quantized graph into int8 ones (see the
/// module documentation).
///
/// # Errors
/// [`CompileError::Graph`] naming the first input not read only by one quantization, or the
/// first output not made by a dequantization of an int8 tensor.
pub fn int8_io(g: &mut Graph) -> Result<()> {
    let mut drop = vec![false; g.nodes.len()];
    let mut rename: HashMap<TId, TId> = HashMap::new();
    for &t in &g.inputs.clone() {
        if g.tensors[t].dtype != DType::F32 {
            continue;
        }
        let name = g.tensors[t].name.clone();
        let readers: Vec<usize> = (0..g.nodes.len())
            .filter(|&i| g.nodes[i].inputs.contains(&t))
            .collect();
        let mut params = None;
        for &i in &readers {
            let Op::Quantize { scale, zero_point } = g.nodes[i].op else {
                return Err(CompileError::Graph(format!(
                    "--io int8: input '{name}' is read by a float op ('{}'), not only by \
                     QuantizeLinear; keep --io float for this model",
                    g.nodes[i].name
                )));
            };
            if params.is_some_and(|p| p != (scale, zero_point)) {
                return Err(CompileError::Graph(format!(
                    "--io int8: input '{name}' is quantized with two different scales or zero \
                     points"
                )));
            }
            params = Some((scale, zero_point));
        }
        let Some((scale, zero_point)) = params else {
            return Err(CompileError::Graph(format!(
                "--io int8: input '{name}' is not quantized (no QuantizeLinear reads it)"
            )));
        };
        if g.outputs.contains(&t) {
            return Err(CompileError::Graph(format!(
                "--io int8: input '{name}' is also an output"
            )));
        }
        g.tensors[t].dtype = DType::I8;
        g.tensors[t].quant = Some(Quant::per_tensor(scale, zero_point));
        for i in readers {
            drop[i] = true;
            rename.insert(g.nodes[i].output, t);
        }
    }
    for k in 0..g.outputs.len() {
        let o = g.outputs[k];
        if g.tensors[o].dtype != DType::F32 {
            continue;
        }
        let name = g.tensors[o].name.clone();
        let producer = g.nodes.iter().position(|n| n.output == o);
        let q = producer.and_then(|i| match g.nodes[i].op {
            Op::Dequantize { .. } => g.nodes[i].inputs.first().copied(),
            _ => None,
        });
        let (Some(i), Some(q)) = (producer, q) else {
            return Err(CompileError::Graph(format!(
                "--io int8: output '{name}' is computed in float, not dequantized from int8; \
                 keep --io float for this model"
            )));
        };
        // The int8 operand after any input rename above (a model that only requantizes).
        let q = rename.get(&q).copied().unwrap_or(q);
        if g.tensors[q].dtype != DType::I8 || g.uses(o) != 1 || g.outputs.contains(&q) {
            return Err(CompileError::Graph(format!(
                "--io int8: output '{name}' is not the only use of a dequantized int8 tensor"
            )));
        }
        drop[i] = true;
        g.tensors[o].name = format!("{name}#float");
        g.tensors[q].name = name;
        g.outputs[k] = q;
    }
    let mut kept = Vec::with_capacity(g.nodes.len());
    for (node, dropped) in std::mem::take(&mut g.nodes).into_iter().zip(drop) {
        if !dropped {
            kept.push(node);
        }
    }
    for node in &mut kept {
        for i in &mut node.inputs {
            if let Some(&r) = rename.get(i) {
                *i = r;
            }
        }
    }
    g.nodes = kept;
    Ok(())
}
