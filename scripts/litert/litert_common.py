"""Helpers shared by scripts/litert/reference.py and scripts/litert/ops.py.

Everything here reads a .tflite file two ways: through LiteRT's interpreter (what it executes)
and through the flatbuffer schema that ai-edge-litert ships (`schema_py_generated`, for the
builtin options, which the interpreter does not expose).
"""

import hashlib
import importlib.metadata
import platform
import re

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType

RESOLVER = "BUILTIN_REF"


def make_interpreter(model_path):
    """LiteRT interpreter with TFLite's reference kernels and every tensor kept after Invoke."""
    interp = Interpreter(
        model_path=str(model_path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
        num_threads=1,
    )
    interp.allocate_tensors()
    return interp


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions():
    v = importlib.metadata.version
    return {
        "python": platform.python_version(),
        "ai-edge-litert": v("ai-edge-litert"),
        "numpy": v("numpy"),
    }


def _enum_names(cls):
    return {val: name for name, val in vars(cls).items() if not name.startswith("_") and isinstance(val, int)}


BUILTIN_NAMES = _enum_names(schema.BuiltinOperator)
ACTIVATION_NAMES = _enum_names(schema.ActivationFunctionType)
PADDING_NAMES = _enum_names(schema.Padding)
TENSOR_TYPE_NAMES = _enum_names(schema.TensorType)
FC_WEIGHTS_FORMAT_NAMES = _enum_names(schema.FullyConnectedOptionsWeightsFormat)

# Options fields whose integer value is an enum, with the enum's names.
_ENUM_FIELDS = {
    "fusedActivationFunction": ACTIVATION_NAMES,
    "padding": PADDING_NAMES,
    "weightsFormat": FC_WEIGHTS_FORMAT_NAMES,
    "quantizedBiasType": TENSOR_TYPE_NAMES,
}


def load_model(model_path):
    """The model's flatbuffer as schema object-API (ModelT)."""
    with open(model_path, "rb") as f:
        return schema.ModelT.InitFromPackedBuf(f.read(), 0)


def op_code_name(model, op):
    oc = model.operatorCodes[op.opcodeIndex]
    # builtinCode is the 32-bit field; deprecatedBuiltinCode the int8 one of old files.
    code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
    if code == schema.BuiltinOperator.CUSTOM:
        return "CUSTOM:" + (oc.customCode.decode() if oc.customCode else "?")
    return BUILTIN_NAMES.get(code, str(code))


def op_options(op):
    """The operator's builtin options as an ordered dict of {field: value}, enums by name."""
    opts = op.builtinOptions
    if opts is None:
        return {}
    out = {}
    for k, val in vars(opts).items():
        if isinstance(val, np.ndarray):
            val = val.tolist()
        if k == "quantizedBiasType" and val == 0:
            val = "unset"  # 0 is the schema default (not FLOAT32): int32 bias for int8
        elif k in _ENUM_FIELDS and isinstance(val, int):
            val = _ENUM_FIELDS[k].get(val, val)
        out[k] = val
    return out


def sanitize(name, limit=96):
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")
    return (s[:limit] or "tensor")


def quant_of(detail):
    """(scale, zero_point, quantized_dimension) of a LiteRT tensor detail, JSON-ready:
    scalars for per-tensor quantization, lists for per-channel, None when not quantized."""
    qp = detail.get("quantization_parameters") or {}
    scales = np.asarray(qp.get("scales", []), dtype=np.float32)
    zps = np.asarray(qp.get("zero_points", []), dtype=np.int64)
    if scales.size == 0:
        return None, None, None
    # float32 -> Python float is exact, and json writes the shortest round-trip repr.
    sc = [float(x) for x in scales]
    zp = [int(x) for x in zps]
    if len(sc) == 1:
        return sc[0], zp[0], None
    return sc, zp, int(qp.get("quantized_dimension", 0))


def check_execution_order(interp, model):
    """LiteRT's executed op list must be the flatbuffer's operators, in order (no delegate
    replaced any node): then builtin options can be read from the flatbuffer by op index."""
    ops = interp._get_ops_details()
    sg = model.subgraphs[0]
    names = [op_code_name(model, op) for op in sg.operators]
    got = [o["op_name"] for o in ops]
    if got != names:
        raise SystemExit(f"LiteRT's op list {got} differs from the model's operators {names}")
    for o, op in zip(ops, sg.operators):
        if list(o["inputs"]) != list(op.inputs) or list(o["outputs"]) != list(op.outputs):
            raise SystemExit(f"op {o['index']}: LiteRT's tensors differ from the model's")
    return ops
