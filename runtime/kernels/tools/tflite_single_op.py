"""Builds one-operator .tflite models in memory and runs them with LiteRT's reference kernels.

Used by gen_tflite_vectors.py. Needs the `ai-edge-litert` wheel (which ships the flatbuffer schema
as `ai_edge_litert.schema_py_generated`) and `flatbuffers`, both in scripts/requirements.txt.
"""
import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S
from ai_edge_litert.interpreter import Interpreter, OpResolverType

I8, I32, F32 = S.TensorType.INT8, S.TensorType.INT32, S.TensorType.FLOAT32
NP = {I8: np.int8, I32: np.int32, F32: np.float32}


class Model:
    """Tensors and buffers of a one-subgraph model; `build` adds the single operator."""

    def __init__(self):
        self.tensors = []
        self.buffers = [S.BufferT()]  # buffer 0: the conventional empty buffer

    def tensor(self, shape, dtype, scale=None, zp=None, data=None, qdim=0):
        """Adds a tensor (constant when `data` is given; quantized when `scale` is given)."""
        t = S.TensorT()
        t.shape = list(shape)
        t.type = dtype
        t.name = "t%d" % len(self.tensors)
        b = S.BufferT()
        if data is not None:
            b.data = list(np.ascontiguousarray(data, dtype=NP[dtype]).tobytes())
        self.buffers.append(b)
        t.buffer = len(self.buffers) - 1
        if scale is not None:
            q = S.QuantizationParametersT()
            q.scale = [float(s) for s in np.atleast_1d(scale)]
            q.zeroPoint = [int(z) for z in np.atleast_1d(zp)]
            q.quantizedDimension = qdim
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def build(self, opcode, version, opts_type, opts, op_in, op_out, g_in, g_out):
        """The serialized model: one operator `opcode` (with its builtin options)."""
        oc = S.OperatorCodeT()
        oc.builtinCode = opcode
        oc.deprecatedBuiltinCode = min(opcode, 127)
        oc.version = version
        op = S.OperatorT()
        op.opcodeIndex = 0
        op.inputs, op.outputs = list(op_in), list(op_out)
        op.builtinOptionsType, op.builtinOptions = opts_type, opts
        sg = S.SubGraphT()
        sg.tensors, sg.operators = self.tensors, [op]
        sg.inputs, sg.outputs = list(g_in), list(g_out)
        m = S.ModelT()
        m.version = 3
        m.operatorCodes, m.subgraphs, m.buffers = [oc], [sg], self.buffers
        m.description = "mote kernel test vector"
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def run(model_bytes, inputs):
    """Runs the model once with the BUILTIN_REF resolver; returns the outputs."""
    it = Interpreter(model_content=model_bytes,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]
