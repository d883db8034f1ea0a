//! ONNX Runtime's QOperator form → QDQ form, before import.
//!
//! `quantize_static(..., quant_format=QOperator)` writes each quantized op as one node that takes
//! int8 (uint8) tensors with their scales and zero points: `QLinearConv`, `QLinearMatMul` (ONNX),
//! and the `com.microsoft` contrib ops `QGemm`, `QLinearAdd`, `QLinearMul`, `QLinearConcat`,
//! `QLinearAveragePool`, `QLinearGlobalAveragePool`, `QLinearSoftmax`, `QLinearSigmoid`,
//! `QLinearLeakyRelu`. Each is rewritten here into what it means —
//! `DequantizeLinear` of every quantized input, the float op with the same attributes,
//! `QuantizeLinear` with the output's parameters — so the QDQ lowering (`qdq.rs`) turns it into
//! the same integer op, with exactly the file's scales and zero points. The int32 bias of
//! `QLinearConv` / `QGemm` becomes a `DequantizeLinear` with scale `x_scale · w_scale` (per
//! output channel), zero point 0, as the operators define it.
//!
//! `ConvInteger` / `MatMulInteger` (int32 outputs: `Σ (x − x_zp)(w − w_zp)`) become the float
//! `Conv` / `MatMul` of `DequantizeLinear(·, 1, zp)` inputs (every int32 result is exact in
//! float32 up to 2^24), and a `Cast` to float of such a result is an identity. What follows them
//! (the `Cast`, a multiplication by the scales, a `QuantizeLinear`) is not an integer pattern,
//! so without `--allow-float` the compiler names those nodes; with it they run in float32.

use crate::error::{CompileError, Result};
use mote_onnx::proto::{attribute_proto::AttributeType, AttributeProto, GraphProto, NodeProto};
use mote_onnx::Tensor;

fn named(n: &NodeProto) -> String {
    n.name
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("<{}>", n.output.first().map_or("unnamed", |s| s.as_str())))
}

fn int_attr(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        i: Some(v),
        r#type: Some(AttributeType::Int as i32),
        ..Default::default()
    }
}

struct Expander<'a> {
    out: Vec<NodeProto>,
    init: Vec<mote_onnx::proto::TensorProto>,
    base: &'a NodeProto,
}

impl Expander<'_> {
    fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        output: &str,
        attrs: Vec<AttributeProto>,
        suffix: &str,
    ) {
        self.out.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: Some(format!("{}{suffix}", named(self.base))),
            op_type: Some(op.to_string()),
            domain: Some(String::new()),
            attribute: attrs,
            ..Default::default()
        });
    }

    /// `DequantizeLinear(x, scale, zp)` into a fresh name (`zp` may be empty).
    fn dq(&mut self, x: &str, scale: &str, zp: &str, axis: Option<i64>, tag: &str) -> String {
        let out = format!("{x}#dq{tag}");
        let mut ins = vec![x, scale];
        if !zp.is_empty() {
            ins.push(zp);
        }
        let attrs = axis.map(|a| vec![int_attr("axis", a)]).unwrap_or_default();
        self.node("DequantizeLinear", &ins, &out, attrs, &format!("#dq{tag}"));
        out
    }

    /// The float result `tmp` quantized into `output`.
    fn q(&mut self, tmp: &str, scale: &str, zp: &str, output: &str) {
        let mut ins = vec![tmp, scale];
        if !zp.is_empty() {
            ins.push(zp);
        }
        self.node("QuantizeLinear", &ins, output, vec![], "#q");
    }

    /// A constant 1.0 (scale of the integer-valued DequantizeLinear of ConvInteger).
    fn one(&mut self) -> String {
        let name = format!("{}#one", named(self.base));
        self.init.push(mote_onnx::tensor_to_proto(
            &name,
            &Tensor::f32(vec![], vec![1.0]),
        ));
        name
    }
}

fn attrs_without(n: &NodeProto, drop: &[&str]) -> Vec<AttributeProto> {
    n.attribute
        .iter()
        .filter(|a| !drop.contains(&a.name.as_deref().unwrap_or("")))
        .cloned()
        .collect()
}

/// Rewrites the QOperator nodes of `graph` (see the module doc). Returns whether any was found.
pub fn expand(graph: &mut GraphProto) -> Result<bool> {
    let mut changed = false;
    let nodes = std::mem::take(&mut graph.node);
    let mut out_nodes = Vec::with_capacity(nodes.len());
    for n in nodes {
        let op = n.op_type.clone().unwrap_or_default();
        let domain = n.domain.clone().unwrap_or_default();
        let ms = domain == "com.microsoft";
        let std_op = domain.is_empty() || domain == "ai.onnx";
        let known = (std_op
            && matches!(
                op.as_str(),
                "QLinearConv" | "QLinearMatMul" | "ConvInteger" | "MatMulInteger"
            ))
            || (ms
                && matches!(
                    op.as_str(),
                    "QGemm"
                        | "QLinearAdd"
                        | "QLinearMul"
                        | "QLinearConcat"
                        | "QLinearAveragePool"
                        | "QLinearGlobalAveragePool"
                        | "QLinearSoftmax"
                        | "QLinearSigmoid"
                        | "QLinearLeakyRelu"
                ));
        if !known {
            out_nodes.push(n);
            continue;
        }
        changed = true;
        let bad = |m: &str| CompileError::Invalid {
            node: named(&n),
            op: op.clone(),
            msg: m.to_string(),
        };
        let inp = |i: usize| n.input.get(i).map(String::as_str).unwrap_or("");
        let output = n.output.first().cloned().ok_or_else(|| bad("no output"))?;
        let tmp = format!("{output}#float");
        let mut e = Expander {
            out: Vec::new(),
            init: Vec::new(),
            base: &n,
        };
        match op.as_str() {
            "QLinearConv" => {
                if inp(0).is_empty() || inp(3).is_empty() || inp(6).is_empty() {
                    return Err(bad("missing x, w or y_scale"));
                }
                let x = e.dq(inp(0), inp(1), inp(2), None, "0");
                let w = e.dq(inp(3), inp(4), inp(5), Some(0), "1");
                let mut ins = vec![x, w];
                if !inp(8).is_empty() {
                    let bscale = format!("{output}#bias_scale");
                    e.node("Mul", &[inp(1), inp(4)], &bscale, vec![], "#bias_scale");
                    ins.push(e.dq(inp(8), &bscale, "", Some(0), "2"));
                }
                let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
                e.node("Conv", &refs, &tmp, attrs_without(&n, &[]), "");
                e.q(&tmp, inp(6), inp(7), &output);
            }
            "QLinearMatMul" => {
                let a = e.dq(inp(0), inp(1), inp(2), None, "0");
                let b = e.dq(inp(3), inp(4), inp(5), Some(-1), "1");
                e.node("MatMul", &[&a, &b], &tmp, vec![], "");
                e.q(&tmp, inp(6), inp(7), &output);
            }
            "QGemm" => {
                let trans_b = n
                    .attribute
                    .iter()
                    .find(|a| a.name.as_deref() == Some("transB"))
                    .and_then(|a| a.i)
                    .unwrap_or(0);
                let a = e.dq(inp(0), inp(1), inp(2), None, "0");
                let b = e.dq(
                    inp(3),
                    inp(4),
                    inp(5),
                    Some(if trans_b != 0 { 0 } else { 1 }),
                    "1",
                );
                let mut ins = vec![a, b];
                if !inp(6).is_empty() {
                    let cscale = format!("{output}#bias_scale");
                    e.node("Mul", &[inp(1), inp(4)], &cscale, vec![], "#bias_scale");
                    ins.push(e.dq(inp(6), &cscale, "", Some(0), "2"));
                }
                let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
                let quantized_out = !inp(7).is_empty();
                let target = if quantized_out {
                    tmp.clone()
                } else {
                    output.clone()
                };
                e.node("Gemm", &refs, &target, attrs_without(&n, &[]), "");
                if quantized_out {
                    e.q(&tmp, inp(7), inp(8), &output);
                }
            }
            "QLinearAdd" | "QLinearMul" => {
                let a = e.dq(inp(0), inp(1), inp(2), None, "0");
                let b = e.dq(inp(3), inp(4), inp(5), None, "1");
                let f = if op == "QLinearAdd" { "Add" } else { "Mul" };
                e.node(f, &[&a, &b], &tmp, vec![], "");
                e.q(&tmp, inp(6), inp(7), &output);
            }
            "QLinearConcat" => {
                // Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) triples.
                if n.input.len() < 5 || (n.input.len() - 2) % 3 != 0 {
                    return Err(bad("inputs are not y_scale, y_zero_point and triples"));
                }
                let mut ins = Vec::new();
                for k in 0..(n.input.len() - 2) / 3 {
                    let i = 2 + 3 * k;
                    ins.push(e.dq(inp(i), inp(i + 1), inp(i + 2), None, &k.to_string()));
                }
                let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
                e.node("Concat", &refs, &tmp, attrs_without(&n, &[]), "");
                e.q(&tmp, inp(0), inp(1), &output);
            }
            "QLinearAveragePool" | "QLinearGlobalAveragePool" => {
                let channels_last = n
                    .attribute
                    .iter()
                    .find(|a| a.name.as_deref() == Some("channels_last"))
                    .and_then(|a| a.i)
                    .unwrap_or(0);
                if channels_last != 0 {
                    return Err(CompileError::Unsupported {
                        node: named(&n),
                        op: op.clone(),
                        msg: "channels_last = 1".into(),
                    });
                }
                let x = e.dq(inp(0), inp(1), inp(2), None, "0");
                let f = op.trim_start_matches("QLinear");
                e.node(f, &[&x], &tmp, attrs_without(&n, &["channels_last"]), "");
                e.q(&tmp, inp(3), inp(4), &output);
            }
            "QLinearSoftmax" => {
                let x = e.dq(inp(0), inp(1), inp(2), None, "0");
                e.node("Softmax", &[&x], &tmp, attrs_without(&n, &["opset"]), "");
                e.q(&tmp, inp(3), inp(4), &output);
            }
            "QLinearSigmoid" | "QLinearLeakyRelu" => {
                let x = e.dq(inp(0), inp(1), inp(2), None, "0");
                let f = op.trim_start_matches("QLinear");
                e.node(f, &[&x], &tmp, attrs_without(&n, &[]), "");
                e.q(&tmp, inp(3), inp(4), &output);
            }
            "ConvInteger" | "MatMulInteger" => {
                let one = e.one();
                let x = e.dq(inp(0), &one, inp(2), None, "0");
                let w = e.dq(inp(1), &one, inp(3), None, "1");
                let f = op.trim_end_matches("Integer");
                e.node(f, &[&x, &w], &output, attrs_without(&n, &[]), "");
            }
            _ => return Err(bad("internal: unhandled QOperator op")),
        }
        out_nodes.extend(e.out);
        graph.initializer.extend(e.init);
    }
    graph.node = out_nodes;
    Ok(changed)
}
