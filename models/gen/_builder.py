"""Small ONNX graph builder shared by the model generators in this folder (onnx.helper + numpy).

The graphs are laid out the way PyTorch's TorchScript exporter (torch.onnx.export, opset 17,
dynamic batch) writes torchvision models:

* initializers named after the module path (``features.0.0.weight``, ``layer1.0.bn1.running_var``),
  node names and tensor names after the module scope (``/features/features.0/features.0.0/Conv``,
  ``.../Conv_output_0``);
* Conv without bias, followed by BatchNormalization (epsilon 1e-5, momentum 0.9, one output);
* Relu and ReLU6 as separate nodes, ReLU6 as Clip with min/max given as inputs (opset >= 11 form);
* the head as Flatten + Gemm (transB=1);
* input ``input`` of shape [N, C, H, W] with the symbolic batch dimension ``N``.

Weights are random but deterministic (numpy ``default_rng`` with a fixed seed, drawn in graph
order): He-normal for convolutions followed by a rectifier, LeCun-normal (gain 1) for linear ones,
BatchNormalization with gamma ~ U(0.5, 1.5), beta ~ N(0, 0.1), mean ~ N(0, 0.1), var ~ U(0.5, 1.5).

The builder tracks every tensor's shape (batch 1) so that it can count parameters and
multiply-accumulates (MACs) of Conv and Gemm nodes, the usual way papers and torchvision report them.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # what opset 17 needs (torch.onnx.export writes IR 8 for opset 17 too)


def _conv_out(size: int, k: int, s: int, p0: int, p1: int, d: int = 1, ceil: bool = False) -> int:
    eff = d * (k - 1) + 1
    num = size + p0 + p1 - eff
    return (-(-num // s) if ceil else num // s) + 1


class Net:
    def __init__(self, name: str, seed: int, input_chw: tuple[int, int, int], doc: str = ""):
        self.name = name
        self.doc = doc
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.shapes: dict[str, list[int]] = {}
        self.consts: dict[str, np.ndarray] = {}  # values of constant tensors (for shape chains)
        self.used_names: set[str] = set()
        self.params = 0  # torchvision's count: weights, biases, BN gamma and beta
        self.bn_stats = 0  # BN running mean/var elements (buffers, not parameters)
        self.macs = 0
        self.inputs = [("input", input_chw)]
        self.shapes["input"] = [1, *input_chw]
        self.outputs: list[tuple[str, str]] = []  # (tensor, graph output name)

    # ---------------------------------------------------------------- naming helpers
    @staticmethod
    def scope(mod: str) -> str:
        """Module path 'features.1.conv.0.0' -> torch scope '/features/features.1/...'."""
        if not mod:
            return ""
        parts = mod.split(".")
        return "".join("/" + ".".join(parts[: i + 1]) for i in range(len(parts)))

    def _node_name(self, mod: str, op: str) -> str:
        base = f"{self.scope(mod)}/{op}"
        name, i = base, 0
        while name in self.used_names:
            i += 1
            name = f"{base}_{i}"
        self.used_names.add(name)
        return name

    def node(self, op: str, inputs: list[str], mod: str = "", n_out: int = 1, **attrs) -> list[str]:
        name = self._node_name(mod, op)
        outs = [f"{name}_output_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs

    def init(self, name: str, arr: np.ndarray, param: bool = True) -> str:
        assert all(t.name != name for t in self.inits), name
        self.inits.append(numpy_helper.from_array(arr, name))
        self.consts[name] = arr
        if param:
            self.params += arr.size
        return name

    def const_node(self, value: np.ndarray, mod: str = "") -> str:
        """A Constant node, as torch emits for literals used in shape arithmetic and scalars."""
        (out,) = self.node("Constant", [], mod, value=numpy_helper.from_array(value))
        self.consts[out] = value
        self.shapes[out] = list(value.shape)
        return out

    # ---------------------------------------------------------------- weights
    def _normal(self, shape, std) -> np.ndarray:
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def _uniform(self, shape, lo, hi) -> np.ndarray:
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    # ---------------------------------------------------------------- layers
    def conv(self, x: str, mod: str, cout: int, k: int, stride: int = 1, pad: int | None = None,
             groups: int = 1, bias: bool = False, gain: float = 2.0, scale: float = 1.0) -> str:
        n, cin, h, w = self.shapes[x]
        assert cin % groups == 0 and cout % groups == 0, (mod, cin, cout, groups)
        pad = (k - 1) // 2 if pad is None else pad
        fan_in = cin // groups * k * k
        wt = self._normal((cout, cin // groups, k, k), math.sqrt(gain / fan_in) * scale)
        ins = [x, self.init(f"{mod}.weight", wt)]
        if bias:
            bound = 1.0 / math.sqrt(fan_in)
            ins.append(self.init(f"{mod}.bias", self._uniform((cout,), -bound, bound)))
        (y,) = self.node("Conv", ins, mod, dilations=[1, 1], group=groups, kernel_shape=[k, k],
                         pads=[pad] * 4, strides=[stride, stride])
        ho, wo = _conv_out(h, k, stride, pad, pad), _conv_out(w, k, stride, pad, pad)
        self.shapes[y] = [n, cout, ho, wo]
        self.macs += cout * ho * wo * fan_in
        return y

    def bn(self, x: str, mod: str) -> str:
        c = self.shapes[x][1]
        gamma = self._uniform((c,), 0.5, 1.5)
        beta = self._normal((c,), 0.1)
        mean = self._normal((c,), 0.1)
        var = self._uniform((c,), 0.5, 1.5)
        ins = [x, self.init(f"{mod}.weight", gamma), self.init(f"{mod}.bias", beta),
               self.init(f"{mod}.running_mean", mean, param=False),
               self.init(f"{mod}.running_var", var, param=False)]
        self.bn_stats += 2 * c
        (y,) = self.node("BatchNormalization", ins, mod, epsilon=1e-5, momentum=0.9)
        self.shapes[y] = list(self.shapes[x])
        return y

    def same_shape(self, op: str, x: str, mod: str, extra_inputs=(), **attrs) -> str:
        (y,) = self.node(op, [x, *extra_inputs], mod, **attrs)
        self.shapes[y] = list(self.shapes[x])
        return y

    def relu(self, x: str, mod: str) -> str:
        return self.same_shape("Relu", x, mod)

    def relu6(self, x: str, mod: str, const_nodes: bool = False) -> str:
        """nn.ReLU6 -> Clip(x, min, max) with min/max as inputs (opset 11+)."""
        if const_nodes:
            lo = self.const_node(np.array(0.0, np.float32), mod)
            hi = self.const_node(np.array(6.0, np.float32), mod)
        else:
            lo, hi = self._scalar_init("clip_min", 0.0), self._scalar_init("clip_max", 6.0)
        return self.same_shape("Clip", x, mod, [lo, hi])

    def _scalar_init(self, key: str, v: float) -> str:
        name = f"onnx::{key}_{v:g}"
        if name not in self.consts:
            self.init(name, np.array(v, np.float32), param=False)
        return name

    def conv_bn(self, x: str, mod_conv: str, mod_bn: str, cout: int, k: int, stride: int = 1,
                groups: int = 1, act: str | None = "relu", mod_act: str | None = None,
                scale: float = 1.0, pad: int | None = None, gain: float | None = None) -> str:
        if gain is None:
            gain = 1.0 if act is None else 2.0
        y = self.conv(x, mod_conv, cout, k, stride, pad=pad, groups=groups, gain=gain, scale=scale)
        y = self.bn(y, mod_bn)
        if act == "relu":
            y = self.relu(y, mod_act or mod_bn)
        elif act == "relu6":
            y = self.relu6(y, mod_act or mod_bn)
        elif act == "hardswish":
            y = self.same_shape("HardSwish", y, mod_act or mod_bn)
        else:
            assert act is None, act
        return y

    def binary(self, op: str, a: str, b: str, mod: str) -> str:
        (y,) = self.node(op, [a, b], mod)
        sa, sb = self.shapes[a], self.shapes[b]
        r = max(len(sa), len(sb))
        sa, sb = [1] * (r - len(sa)) + sa, [1] * (r - len(sb)) + sb
        assert all(p == q or p == 1 or q == 1 for p, q in zip(sa, sb)), (op, sa, sb)
        self.shapes[y] = [max(p, q) for p, q in zip(sa, sb)]
        return y

    def maxpool(self, x: str, mod: str, k: int, s: int, p: int) -> str:
        n, c, h, w = self.shapes[x]
        (y,) = self.node("MaxPool", [x], mod, ceil_mode=0, dilations=[1, 1], kernel_shape=[k, k],
                         pads=[p] * 4, strides=[s, s])
        self.shapes[y] = [n, c, _conv_out(h, k, s, p, p), _conv_out(w, k, s, p, p)]
        return y

    def avgpool(self, x: str, mod: str, k: int, s: int, p: int, count_include_pad: int) -> str:
        n, c, h, w = self.shapes[x]
        (y,) = self.node("AveragePool", [x], mod, ceil_mode=0, count_include_pad=count_include_pad,
                         kernel_shape=[k, k], pads=[p] * 4, strides=[s, s])
        self.shapes[y] = [n, c, _conv_out(h, k, s, p, p), _conv_out(w, k, s, p, p)]
        return y

    def global_avgpool(self, x: str, mod: str) -> str:
        n, c = self.shapes[x][:2]
        (y,) = self.node("GlobalAveragePool", [x], mod)
        self.shapes[y] = [n, c, 1, 1]
        return y

    def flatten(self, x: str, mod: str) -> str:
        s = self.shapes[x]
        (y,) = self.node("Flatten", [x], mod, axis=1)
        self.shapes[y] = [s[0], int(np.prod(s[1:]))]
        return y

    def gemm(self, x: str, mod: str, nout: int) -> str:
        n, k = self.shapes[x]
        bound = 1.0 / math.sqrt(k)
        w = self._normal((nout, k), math.sqrt(1.0 / k))
        b = self._uniform((nout,), -bound, bound)
        (y,) = self.node("Gemm", [x, self.init(f"{mod}.weight", w), self.init(f"{mod}.bias", b)],
                         mod, alpha=1.0, beta=1.0, transB=1)
        self.shapes[y] = [n, nout]
        self.macs += nout * k
        return y

    def concat(self, xs: list[str], mod: str, axis: int = 1) -> str:
        (y,) = self.node("Concat", xs, mod, axis=axis)
        s = list(self.shapes[xs[0]])
        s[axis] = sum(self.shapes[t][axis] for t in xs)
        self.shapes[y] = s
        return y

    # ---------------------------------------------------------------- model
    def output(self, x: str, name: str) -> None:
        self.outputs.append((x, name))

    def build(self) -> onnx.ModelProto:
        # Rename each graph output tensor to its public name (torch names outputs this way too).
        nodes = self.nodes
        for tensor, public in self.outputs:
            for nd in nodes:
                for i, o in enumerate(nd.output):
                    if o == tensor:
                        nd.output[i] = public
                for i, o in enumerate(nd.input):
                    if o == tensor:
                        nd.input[i] = public
            self.shapes[public] = self.shapes[tensor]

        def vi(name, shape):
            return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", *shape[1:]])

        graph = helper.make_graph(
            nodes, self.name,
            inputs=[vi(n, [1, *chw]) for n, chw in self.inputs],
            outputs=[vi(p, self.shapes[p]) for _, p in self.outputs],
            initializer=self.inits,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
            producer_name="mote models/gen", producer_version="1", doc_string=self.doc,
        )
        onnx.checker.check_model(model, full_check=True)
        return model

    def summary(self) -> str:
        return (f"{self.name}: params {self.params:,} ({self.params / 1e6:.2f} M; conv/gemm weights "
                f"and biases + BN gamma/beta, as torchvision counts; BN running stats "
                f"{self.bn_stats:,} more), MACs {self.macs:,} ({self.macs / 1e6:.1f} M; "
                f"Conv + Gemm, batch 1)")


def main(build_fn) -> None:
    """Common entry point: ``python NAME.py OUT.onnx``."""
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print(f"usage: {sys.argv[0]} OUT.onnx", file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    net = build_fn()
    model = net.build()
    d = os.path.dirname(os.path.abspath(out))
    os.makedirs(d, exist_ok=True)
    tmp = f"{out}.tmp.{os.getpid()}"
    onnx.save(model, tmp)
    os.replace(tmp, out)
    print(net.summary())
