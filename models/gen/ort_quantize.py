#!/usr/bin/env python3
"""int8 QDQ models made by ONNX Runtime's post-training quantizer from mote's float models.

    python models/gen/ort_quantize.py OUTDIR [NAME ...]

For each float model (below) it writes ``OUTDIR/<name>_qdq_s8.onnx`` (int8 activations,
``QuantType.QInt8``) and ``OUTDIR/<name>_qdq_u8.onnx`` (uint8 activations, ``QuantType.QUInt8``,
ONNX Runtime's default). Both: ``onnxruntime.quantization.quantize_static`` in QDQ format
(``QuantFormat.QDQ``), int8 weights quantized per output channel (``per_channel=True``,
``weight_type=QInt8``, symmetric as ORT does for int8 weights), int32 biases, MinMax calibration.
The graph inputs and outputs stay float32: ORT puts a QuantizeLinear after the input and a
DequantizeLinear before the output.

Float models: the generated ``mobilenet_v3_block``, ``shufflenet_block`` and ``mobilenet_v2``
(read from OUTDIR, where ``models/gen/all.sh`` writes them first) and the MLPerf Tiny
``vww_96_float``, ``pretrainedResnet``, ``kws_ref_model_float32`` and ``ad01_fp32`` (from
``models/mlperf-tiny``). Before quantizing, each is prepared as follows:

1. the batch dimension is fixed to 1 (tf2onnx and the generators leave it symbolic) and stale
   ``value_info`` is dropped;
2. ``DequantizeLinear`` nodes whose inputs are all initializers are folded into float
   initializers (``kws_ref_model_float32.onnx`` stores five conv weights as int8 behind
   DequantizeLinear, as its ``.tflite`` does; ORT's quantizer would otherwise see them as
   activations);
3. ``onnxruntime.quantization.shape_inference.quant_pre_process`` (the pre-processing ORT's
   documentation recommends): ORT's basic graph optimizations, which fold BatchNormalization
   into Conv and constants into initializers, then ONNX shape inference. Its symbolic shape
   inference step is skipped (``skip_symbolic_shape=True``): it needs sympy, which the project
   venv does not have, and every shape is fixed after step 1 anyway.

Calibration (deterministic, no files needed): ``CALIB_SAMPLES`` = 16 standard-normal inputs from
``numpy.random.default_rng(CALIB_SEED)`` with ``CALIB_SEED`` = 20240; the same inputs for every
model of a given input shape, so every run writes the same files. (The test inputs of
``tests/ort_int8.rs`` are other standard-normal draws: the models are compared with ORT on the
distribution they were calibrated on.)

QOperator form (``QuantFormat.QOperator``, the same settings otherwise): ``<name>_qop_s8.onnx`` and
``<name>_qop_u8.onnx`` for the models of ``QOP_MODELS`` — ORT writes ``QLinearConv``, ``QGemm``,
``QLinearAdd``, ``QLinearMul``, ``QLinearConcat``, ``QLinearAveragePool``,
``QLinearGlobalAveragePool``, ``QLinearSoftmax`` — and for ``matmul_mlp``, a small float MLP made
here with ``MatMul`` layers (ORT writes ``QLinearMatMul``). ``integer_ops.onnx`` is built by hand
(``onnx.helper``; ORT's static quantizer never writes these ops): a float input quantized with a
fixed scale, ``ConvInteger`` and ``MatMulInteger`` on it with fixed int8 weights, each int32
result cast to float and scaled.

Prints one line per written file with its node count and QuantizeLinear/DequantizeLinear count.
Files newer than their float model, this script and ``scripts/requirements.txt`` are left alone
("up to date"). The output is deterministic: the same bytes on every run (same onnxruntime).
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MLPERF = os.path.join(REPO, "models", "mlperf-tiny")

CALIB_SEED = 20240
CALIB_SAMPLES = 16

# name -> ("gen" | "mlperf")
MODELS = {
    "mobilenet_v3_block": "gen",
    "shufflenet_block": "gen",
    "mobilenet_v2": "gen",
    "vww_96_float": "mlperf",
    "pretrainedResnet": "mlperf",
    "kws_ref_model_float32": "mlperf",
    "ad01_fp32": "mlperf",
}

VARIANTS = {"s8": QuantType.QInt8, "u8": QuantType.QUInt8}

# Models also written in QOperator form (name -> "gen" | "mlperf" | "here").
QOP_MODELS = {
    "pretrainedResnet": "mlperf",
    "shufflenet_block": "gen",
    "mobilenet_v3_block": "gen",
    "ad01_fp32": "mlperf",
    "matmul_mlp": "here",
}


def source_path(name: str, outdir: str) -> str:
    base = outdir if MODELS[name] == "gen" else MLPERF
    return os.path.join(base, f"{name}.onnx")


def fix_batch(model: onnx.ModelProto) -> None:
    """Batch dimension (the first, when symbolic) of every graph input and output := 1."""
    for vi in list(model.graph.input) + list(model.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].Clear()
            dims[0].dim_value = 1
        for d in dims[1:]:
            if not d.HasField("dim_value"):
                raise SystemExit(f"{vi.name}: symbolic dimension {d.dim_param} beyond the batch")
    del model.graph.value_info[:]


def fold_constant_dequantize(model: onnx.ModelProto) -> int:
    """Replaces DequantizeLinear(initializer, scale, zero point) by a float initializer."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    keep, folded = [], 0
    for n in g.node:
        if n.op_type == "DequantizeLinear" and all(i == "" or i in inits for i in n.input):
            x = numpy_helper.to_array(inits[n.input[0]]).astype(np.float32)
            s = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
            z = (numpy_helper.to_array(inits[n.input[2]]).astype(np.float32)
                 if len(n.input) > 2 and n.input[2] else np.zeros_like(s))
            axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
            if s.ndim == 1 and x.ndim > 1:
                shape = [1] * x.ndim
                shape[axis] = -1
                s, z = s.reshape(shape), z.reshape(shape)
            y = ((x - z) * s).astype(np.float32)
            g.initializer.append(numpy_helper.from_array(y, n.output[0]))
            folded += 1
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    unused = [t for t in g.initializer if t.name not in used]
    for t in unused:
        g.initializer.remove(t)
    return folded


class NormalReader(CalibrationDataReader):
    """CALIB_SAMPLES standard-normal feeds for the model's (fixed-shape) float inputs."""

    def __init__(self, model: onnx.ModelProto):
        inits = {t.name for t in model.graph.initializer}
        shapes = [(vi.name, [d.dim_value for d in vi.type.tensor_type.shape.dim])
                  for vi in model.graph.input if vi.name not in inits]
        rng = np.random.default_rng(CALIB_SEED)
        self.feeds = [{n: rng.standard_normal(s).astype(np.float32) for n, s in shapes}
                      for _ in range(CALIB_SAMPLES)]
        self.it = iter(self.feeds)

    def get_next(self):
        return next(self.it, None)

    def rewind(self):
        self.it = iter(self.feeds)


def up_to_date(targets: list[str], sources: list[str]) -> bool:
    if not all(os.path.isfile(t) for t in targets):
        return False
    oldest = min(os.path.getmtime(t) for t in targets)
    return all(os.path.getmtime(s) < oldest for s in sources)


def quantize(name: str, outdir: str) -> None:
    src = source_path(name, outdir)
    if not os.path.isfile(src):
        raise SystemExit(f"{src}: missing (run `bash models/gen/all.sh {outdir}` first)")
    targets = [os.path.join(outdir, f"{name}_qdq_{v}.onnx") for v in VARIANTS]
    sources = [src, os.path.abspath(__file__), os.path.join(REPO, "scripts", "requirements.txt")]
    if up_to_date(targets, sources):
        for t in targets:
            print(f"up to date: {t}")
        return
    model = onnx.load(src)
    fix_batch(model)
    folded = fold_constant_dequantize(model)
    with tempfile.TemporaryDirectory() as tmp:
        fixed = os.path.join(tmp, "fixed.onnx")
        prep = os.path.join(tmp, "prep.onnx")
        onnx.save(model, fixed)
        quant_pre_process(fixed, prep, skip_symbolic_shape=True)
        prepared = onnx.load(prep)
        for (variant, act), target in zip(VARIANTS.items(), targets):
            quantize_static(
                prep,
                target,
                NormalReader(prepared),
                quant_format=QuantFormat.QDQ,
                activation_type=act,
                weight_type=QuantType.QInt8,
                per_channel=True,
                calibrate_method=CalibrationMethod.MinMax,
            )
            q = onnx.load(target)
            onnx.checker.check_model(q)
            n_q = sum(n.op_type == "QuantizeLinear" for n in q.graph.node)
            n_dq = sum(n.op_type == "DequantizeLinear" for n in q.graph.node)
            extra = f", {folded} constant DequantizeLinear folded first" if folded else ""
            print(f"wrote {target}: {len(q.graph.node)} nodes, {n_q} QuantizeLinear, "
                  f"{n_dq} DequantizeLinear ({variant} activations{extra})")


def matmul_mlp(path: str) -> None:
    """[1, 32] → MatMul 32×24 → Relu → MatMul 24×10 (with bias Adds), weights from a fixed seed."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(7)
    w1 = numpy_helper.from_array((rng.standard_normal((32, 24)) / 4).astype(np.float32), "w1")
    b1 = numpy_helper.from_array((rng.standard_normal(24) / 8).astype(np.float32), "b1")
    w2 = numpy_helper.from_array((rng.standard_normal((24, 10)) / 4).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["input", "w1"], ["h0"], name="mm1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="bias1"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu1"),
        helper.make_node("MatMul", ["h2", "w2"], ["output"], name="mm2"),
    ]
    g = helper.make_graph(
        nodes, "matmul_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 32])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        [w1, b1, w2])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def integer_ops(path: str) -> None:
    """QuantizeLinear(input [1, 2, 8, 8]) → ConvInteger (4×2×3×3, pads 1) and, on the flattened
    input, MatMulInteger (128×6); each int32 result → Cast(float) → Mul(x_scale · w_scale)."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(11)
    xs, xz = 0.03, 5
    wc = rng.integers(-127, 128, (4, 2, 3, 3)).astype(np.int8)
    wm = rng.integers(-127, 128, (128, 6)).astype(np.int8)
    inits = [
        numpy_helper.from_array(np.array(xs, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(xz, np.int8), "x_zp"),
        numpy_helper.from_array(wc, "wc"),
        numpy_helper.from_array(wm, "wm"),
        numpy_helper.from_array(np.array(xs * 0.01, np.float32), "sc"),
        numpy_helper.from_array(np.array(xs * 0.02, np.float32), "sm"),
        numpy_helper.from_array(np.array([1, 128], np.int64), "flat"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "x_scale", "x_zp"], ["xq"], name="quantize"),
        helper.make_node("ConvInteger", ["xq", "wc", "x_zp"], ["ci"], name="conv_integer",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Cast", ["ci"], ["cf"], name="cast_conv", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["cf", "sc"], ["conv_out"], name="scale_conv"),
        helper.make_node("Reshape", ["xq", "flat"], ["xflat"], name="flatten"),
        helper.make_node("MatMulInteger", ["xflat", "wm", "x_zp"], ["mi"], name="matmul_integer"),
        helper.make_node("Cast", ["mi"], ["mf"], name="cast_matmul", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["mf", "sm"], ["matmul_out"], name="scale_matmul"),
    ]
    g = helper.make_graph(
        nodes, "integer_ops",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("conv_out", TensorProto.FLOAT, [1, 4, 8, 8]),
         helper.make_tensor_value_info("matmul_out", TensorProto.FLOAT, [1, 6])],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def quantize_qop(name: str, outdir: str) -> None:
    """``<name>_qop_{s8,u8}.onnx``: as :func:`quantize`, in QOperator form."""
    if QOP_MODELS[name] == "here":
        src = os.path.join(outdir, f"{name}.onnx")
        if not (os.path.isfile(src) and os.path.getmtime(src) > os.path.getmtime(__file__)):
            matmul_mlp(src)
    else:
        src = (os.path.join(outdir, f"{name}.onnx") if QOP_MODELS[name] == "gen"
               else os.path.join(MLPERF, f"{name}.onnx"))
    targets = [os.path.join(outdir, f"{name}_qop_{v}.onnx") for v in VARIANTS]
    sources = [src, os.path.abspath(__file__), os.path.join(REPO, "scripts", "requirements.txt")]
    if up_to_date(targets, sources):
        for t in targets:
            print(f"up to date: {t}")
        return
    model = onnx.load(src)
    fix_batch(model)
    fold_constant_dequantize(model)
    with tempfile.TemporaryDirectory() as tmp:
        fixed = os.path.join(tmp, "fixed.onnx")
        prep = os.path.join(tmp, "prep.onnx")
        onnx.save(model, fixed)
        quant_pre_process(fixed, prep, skip_symbolic_shape=True)
        prepared = onnx.load(prep)
        for (variant, act), target in zip(VARIANTS.items(), targets):
            quantize_static(prep, target, NormalReader(prepared),
                            quant_format=QuantFormat.QOperator, activation_type=act,
                            weight_type=QuantType.QInt8, per_channel=True,
                            calibrate_method=CalibrationMethod.MinMax)
            q = onnx.load(target)
            ops = sorted({(n.domain + "." if n.domain else "") + n.op_type for n in q.graph.node})
            print(f"wrote {target}: {len(q.graph.node)} nodes ({variant} activations): {', '.join(ops)}")


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python models/gen/ort_quantize.py OUTDIR [NAME ...]")
    outdir = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    for n in names:
        if n not in MODELS:
            raise SystemExit(f"unknown model {n} (known: {', '.join(MODELS)})")
    os.makedirs(outdir, exist_ok=True)
    for n in names:
        quantize(n, outdir)
    if len(sys.argv) == 2:
        for n in QOP_MODELS:
            quantize_qop(n, outdir)
        # The QDQ twins of the models made here (the same quantizer run in QDQ form): the
        # reference for their QOperator files on hosts where ORT's QLinear kernels saturate
        # (tests/ort_int8.rs).
        for n, kind in QOP_MODELS.items():
            if kind == "here":
                MODELS[n] = "gen"
                quantize(n, outdir)
        target = os.path.join(outdir, "integer_ops.onnx")
        if os.path.isfile(target) and os.path.getmtime(target) > os.path.getmtime(__file__):
            print(f"up to date: {target}")
        else:
            integer_ops(target)
            print(f"wrote {target}")


if __name__ == "__main__":
    main()
