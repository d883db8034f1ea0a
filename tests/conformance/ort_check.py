#!/usr/bin/env python3
"""Run ONNX node test cases through ONNX Runtime and compare with the reference outputs.

    python tests/conformance/ort_check.py DATADIR [LIST]

LIST defaults to candidates.txt beside this script (lines starting with '#' are skipped).
Tolerance as ONNX's backend tests: rtol 1e-3, atol 1e-7. Prints the differing cases and a last
line 'ort_check: N match, N differ, N skipped' (skipped: non-tensor inputs or outputs). Exit status 0
whatever the result: this is a survey of the reference data, not a gate.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def load_tensor(path: str) -> np.ndarray:
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(f"usage: {argv[0]} DATADIR [LIST]", file=sys.stderr)
        return 2
    root = argv[1]
    lst = argv[2] if len(argv) == 3 else os.path.join(os.path.dirname(__file__), "candidates.txt")
    with open(lst) as f:
        names = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    so = ort.SessionOptions()
    so.log_severity_level = 4
    passed = failed = skipped = 0
    for name in names:
        d = os.path.join(root, name)
        model = onnx.load(os.path.join(d, "model.onnx"))
        vis = [*model.graph.input, *model.graph.output]
        if not all(vi.type.HasField("tensor_type") for vi in vis):
            skipped += 1
            continue
        data = os.path.join(d, "test_data_set_0")
        try:
            sess = ort.InferenceSession(os.path.join(d, "model.onnx"), so,
                                        providers=["CPUExecutionProvider"])
            feeds = {vi.name: load_tensor(os.path.join(data, f"input_{k}.pb"))
                     for k, vi in enumerate(model.graph.input)}
            outs = sess.run(None, feeds)
            for k, out in enumerate(outs):
                ref = load_tensor(os.path.join(data, f"output_{k}.pb"))
                np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-7,
                                           err_msg=f"output {k}")
            passed += 1
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            msg = " ".join(str(e).split())[:160]
            print(f"DIFF {name}: {msg}")
    print(f"ort_check: {passed} match, {failed} differ, {skipped} skipped (non-tensor)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
