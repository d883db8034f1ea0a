#!/usr/bin/env python3
"""Write ONNX's backend node test cases to disk, in the layout of ONNX's repository.

    python tests/conformance/generate.py OUTDIR

The onnx wheel does not ship ``onnx/backend/test/data/node``, but it ships the generators
(``onnx.backend.test.case.node``). This script runs them and writes, for every case,

    OUTDIR/<test_name>/model.onnx
    OUTDIR/<test_name>/test_data_set_0/input_K.pb     (TensorProto / SequenceProto / ...)
    OUTDIR/<test_name>/test_data_set_0/output_K.pb

exactly as ``onnx/backend/test/cmd_tools.py generate-data`` writes the model cases (and as ONNX's
repository holds the node cases). Deterministic: ONNX seeds numpy (``np.random.seed(0)``) before
every exporter, and protobuf serialisation of these messages is stable; files are only rewritten
when their bytes change.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings

import onnx
from onnx import TensorProto, numpy_helper
from onnx.backend.test.case import node as node_cases


def serialize_value(value, value_info: onnx.ValueInfoProto) -> bytes:
    """Mirror of cmd_tools.generate_data's per-input/output serialisation."""
    t = value_info.type
    name = value_info.name
    if t.HasField("map_type"):
        return numpy_helper.from_dict(value, name).SerializeToString()
    if t.HasField("sequence_type"):
        return numpy_helper.from_list(value, name).SerializeToString()
    if t.HasField("optional_type"):
        return numpy_helper.from_optional(value, name).SerializeToString()
    assert t.HasField("tensor_type"), f"{name}: unsupported value type"
    if isinstance(value, TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(value, name).SerializeToString()


def write_if_changed(path: str, data: bytes) -> None:
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    with open(path, "wb") as f:
        f.write(data)


def case_files(case) -> dict[str, bytes]:
    assert case.model is not None and case.data_sets
    files = {"model.onnx": case.model.SerializeToString()}
    graph = case.model.graph
    for i, (inputs, outputs) in enumerate(case.data_sets):
        d = f"test_data_set_{i}"
        for j, value in enumerate(inputs):
            files[f"{d}/input_{j}.pb"] = serialize_value(value, graph.input[j])
        for j, value in enumerate(outputs):
            files[f"{d}/output_{j}.pb"] = serialize_value(value, graph.output[j])
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1].startswith("-"):
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)

    with warnings.catch_warnings():
        # Some reference implementations divide by zero on purpose (inf expectations).
        warnings.simplefilter("ignore", RuntimeWarning)
        cases = sorted(node_cases.collect_testcases(), key=lambda c: c.name)
    names = set()
    for case in cases:
        assert case.kind == "node" and case.name not in names, case.name
        names.add(case.name)
        case_dir = os.path.join(out, case.name)
        files = case_files(case)
        # Remove stray files from an earlier run so the directory holds exactly this case.
        if os.path.isdir(case_dir):
            for root, dirs, fnames in os.walk(case_dir, topdown=False):
                for fn in fnames:
                    rel = os.path.relpath(os.path.join(root, fn), case_dir)
                    if rel not in files:
                        os.remove(os.path.join(root, fn))
                for dn in dirs:
                    p = os.path.join(root, dn)
                    if not os.listdir(p):
                        os.rmdir(p)
        for rel, data in files.items():
            path = os.path.join(case_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_if_changed(path, data)

    # Drop case directories that no longer exist (e.g. after an onnx upgrade).
    for entry in os.listdir(out):
        p = os.path.join(out, entry)
        if entry.startswith("test_") and os.path.isdir(p) and entry not in names:
            shutil.rmtree(p)

    print(f"{len(cases)} ONNX {onnx.__version__} node test cases written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
