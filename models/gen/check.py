#!/usr/bin/env python3
"""Validate generated models: onnx.checker, then one ONNX Runtime run at batch 1 (and batch 2).

    python models/gen/check.py MODEL.onnx [MODEL.onnx ...]

For each model: ``onnx.checker.check_model`` (full check), a run with a deterministic
standard-normal input of batch 1 whose outputs must be finite, a batch-2 run whose first item
must equal the batch-1 result (the batch dimension is symbolic), and the range of the RMS of
every intermediate tensor (the random weights are scaled so that activations stay O(1)).
Exits non-zero on the first failure.
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
import onnxruntime as ort


def input_shape(vi: onnx.ValueInfoProto, batch: int) -> list[int]:
    dims = vi.type.tensor_type.shape.dim
    return [batch if d.dim_param else d.dim_value for d in dims]


def check(path: str) -> None:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds1 = {i.name: rng.standard_normal(input_shape(i, 1)).astype(np.float32)
              for i in model.graph.input}
    outs1 = sess.run(None, feeds1)
    for o, vi in zip(outs1, model.graph.output):
        if not np.all(np.isfinite(o)):
            raise SystemExit(f"{path}: output {vi.name} is not finite")
    feeds2 = {k: np.concatenate([v, rng.standard_normal(v.shape).astype(np.float32)])
              for k, v in feeds1.items()}
    outs2 = sess.run(None, feeds2)
    for o1, o2, vi in zip(outs1, outs2, model.graph.output):
        if not np.allclose(o1[0], o2[0], rtol=1e-4, atol=1e-5):
            raise SystemExit(f"{path}: output {vi.name} of batch 2 item 0 differs from batch 1")

    # Every float intermediate tensor as an extra output, to look at its magnitude.
    # (Integer tensors, e.g. of Shape -> Gather -> Concat chains, are skipped below.)
    names = [o for n in model.graph.node if n.op_type != "Constant" for o in n.output if o]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.output[:]
    probe.graph.output.extend(
        [onnx.helper.make_empty_tensor_value_info(n) for n in names])
    psess = ort.InferenceSession(probe.SerializeToString(), so,
                                 providers=["CPUExecutionProvider"])
    vals = psess.run(None, feeds1)
    rms = {n: float(np.sqrt(np.mean(np.square(v.astype(np.float64)))))
           for n, v in zip(names, vals) if v.dtype == np.float32 and v.size}
    lo = min(rms, key=rms.get)
    hi = max(rms, key=rms.get)
    desc = ", ".join(f"{vi.name} {list(o.shape)}" for o, vi in zip(outs1, model.graph.output))
    print(f"{path}: ok; outputs {desc}; intermediate RMS {rms[lo]:.3g} ({lo}) .. "
          f"{rms[hi]:.3g} ({hi})")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(f"usage: {argv[0]} MODEL.onnx...", file=sys.stderr)
        return 2
    for p in argv[1:]:
        check(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
