#!/usr/bin/env python3
"""Reference outputs of an int8 .tflite model from LiteRT's reference kernels (BUILTIN_REF).

    .venv/bin/python scripts/litert/reference.py MODEL.tflite OUTDIR --count N --seed S
        [--inputs FILE.npy] [--intermediates]

Writes
  OUTDIR/inputs.npy    int8, shape [N, *input_shape[1:]] (the model's batch axis of 1 replaced
                       by N): uniform over -128..127 from numpy.random.default_rng(S)
                       (rng.integers(-128, 128, size, dtype=int8)), or a copy of --inputs
  OUTDIR/outputs.npy   int8, shape [N, *output_shape[1:]]: LiteRT BUILTIN_REF output of each
                       input, run one at a time with batch 1
  OUTDIR/meta.json     tool versions, model sha256, input/output names, shapes, dtypes,
                       quantization, the resolver, the command
With --intermediates, for the FIRST input only:
  OUTDIR/tensors/<index>_<sanitized name>.npy  the model input and every tensor an op produced
                       (LiteRT's experimental_preserve_all_tensors=True), as LiteRT holds it
  OUTDIR/tensors.json  for each of those, in execution order: index, name, file, shape, dtype,
                       scale, zero_point, the producing op (builtin name, op index, its input
                       tensor indices; null for the model input)

Deterministic: the same arguments give byte-identical files (no time stamps, one thread).
--inputs accepts int8 arrays of shape [N, *input_shape[1:]], [N, *input_shape] or input_shape.
"""

import sys

sys.dont_write_bytecode = True  # keep scripts/litert/ free of __pycache__

import argparse
import json
import os
import re
import shlex

import numpy as np

from litert_common import (
    RESOLVER,
    check_execution_order,
    load_model,
    make_interpreter,
    op_code_name,
    quant_of,
    sanitize,
    sha256_file,
    versions,
)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run an int8 .tflite model with LiteRT's reference kernels (BUILTIN_REF) "
        "on random or given int8 inputs and save inputs, outputs and metadata.")
    p.add_argument("model", help="the .tflite file")
    p.add_argument("outdir", help="output folder (created)")
    p.add_argument("--count", type=int, help="number of random inputs (not with --inputs)")
    p.add_argument("--seed", type=int, help="seed of numpy.random.default_rng (not with --inputs)")
    p.add_argument("--inputs", help="an int8 .npy of inputs to use instead of random ones")
    p.add_argument("--intermediates", action="store_true",
                   help="also save every op's output tensor for the first input")
    a = p.parse_args(argv)
    if a.inputs is None:
        if a.count is None or a.seed is None:
            p.error("--count and --seed are required without --inputs")
        if a.count < 1:
            p.error("--count must be at least 1")
    elif a.seed is not None:
        p.error("--seed has no meaning with --inputs")
    return a


def dump(path, obj):
    text = json.dumps(obj, indent=1)
    # Lists of plain numbers (shapes, indices, per-channel scales) on one line.
    text = re.sub(r"\[\s*([-0-9.e+, \n]*?)\s*\]",
                  lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")


def tensor_meta(detail):
    scale, zp, qdim = quant_of(detail)
    m = {
        "index": int(detail["index"]),
        "name": detail["name"],
        "shape": [int(x) for x in detail["shape"]],
        "dtype": np.dtype(detail["dtype"]).name,
        "scale": scale,
        "zero_point": zp,
    }
    if qdim is not None:
        m["quantized_dimension"] = qdim
    return m


def load_inputs(a, in_shape):
    per = tuple(int(x) for x in in_shape[1:])
    if a.inputs is None:
        rng = np.random.default_rng(a.seed)
        return rng.integers(-128, 128, size=(a.count, *per), dtype=np.int8)
    x = np.load(a.inputs, allow_pickle=False)
    if x.dtype != np.int8:
        raise SystemExit(f"{a.inputs}: dtype {x.dtype}, expected int8")
    if x.shape == tuple(int(s) for s in in_shape):
        x = x.reshape((int(in_shape[0]), *per))
    elif x.ndim == len(per) + 2 and x.shape[1] == 1 and x.shape[2:] == per:
        x = x.reshape((x.shape[0], *per))
    if x.shape[1:] != per:
        raise SystemExit(f"{a.inputs}: shape {x.shape} does not fit the model input "
                         f"{[int(s) for s in in_shape]} (expected [N, {', '.join(map(str, per))}])")
    if a.count is not None and a.count != x.shape[0]:
        raise SystemExit(f"{a.inputs} holds {x.shape[0]} inputs, --count says {a.count}")
    return np.ascontiguousarray(x)


def main(argv):
    a = parse_args(argv)
    interp = make_interpreter(a.model)
    model = load_model(a.model)
    if len(model.subgraphs) != 1:
        raise SystemExit(f"{a.model}: {len(model.subgraphs)} subgraphs, only 1 is supported")
    ops = check_execution_order(interp, model)
    ins, outs = interp.get_input_details(), interp.get_output_details()
    if len(ins) != 1 or len(outs) != 1:
        raise SystemExit(f"{a.model}: {len(ins)} inputs and {len(outs)} outputs, need 1 and 1")
    ind, outd = ins[0], outs[0]
    for d in (ind, outd):
        if d["dtype"] != np.int8 or int(d["shape"][0]) != 1:
            raise SystemExit(f"{a.model}: tensor {d['name']!r} is {np.dtype(d['dtype']).name} "
                             f"{list(d['shape'])}; need int8 with batch 1")

    x = load_inputs(a, ind["shape"])
    n = x.shape[0]
    y = np.empty((n, *[int(s) for s in outd["shape"][1:]]), dtype=np.int8)
    details = {d["index"]: d for d in interp.get_tensor_details()}
    produced = None
    for i in range(n):
        interp.set_tensor(ind["index"], x[i:i + 1])
        interp.invoke()
        y[i] = interp.get_tensor(outd["index"])[0]
        if i == 0 and a.intermediates:
            # Copy now: the next set_tensor/invoke overwrites the buffers.
            produced = [(ind["index"], None, interp.get_tensor(ind["index"]).copy())]
            for o in ops:
                for t in o["outputs"]:
                    produced.append((int(t), o, interp.get_tensor(int(t)).copy()))

    os.makedirs(a.outdir, exist_ok=True)
    np.save(os.path.join(a.outdir, "inputs.npy"), x)
    np.save(os.path.join(a.outdir, "outputs.npy"), y)

    if a.intermediates:
        tdir = os.path.join(a.outdir, "tensors")
        os.makedirs(tdir, exist_ok=True)
        for f in os.listdir(tdir):  # no stale files from another model or version
            if f.endswith(".npy"):
                os.remove(os.path.join(tdir, f))
        listing = []
        for idx, o, val in produced:
            m = tensor_meta(details[idx])
            fname = f"{idx}_{sanitize(m['name'])}.npy"
            np.save(os.path.join(tdir, fname), val)
            m["file"] = "tensors/" + fname
            if list(val.shape) != m["shape"] or val.dtype.name != m["dtype"]:
                raise SystemExit(f"tensor {idx}: LiteRT returned {val.dtype} {val.shape}")
            m["op"] = None if o is None else {
                "index": int(o["index"]),
                "builtin": o["op_name"],
                "inputs": [int(t) for t in o["inputs"]],
                "outputs": [int(t) for t in o["outputs"]],
            }
            listing.append(m)
        dump(os.path.join(a.outdir, "tensors.json"), {
            "model": os.path.basename(a.model),
            "input_index": 0,
            "note": "tensors of inputs.npy[0]: the model input, then every op output in "
                    "execution order; op = producing op (builtin name, execution index, "
                    "input and output tensor indices); a -1 input is an omitted optional one",
            "tensors": listing,
        })

    meta = {
        "model": os.path.basename(a.model),
        "model_sha256": sha256_file(a.model),
        "versions": versions(),
        "resolver": RESOLVER,
        "interpreter": "ai_edge_litert.interpreter.Interpreter(model_path, "
                       "experimental_op_resolver_type=OpResolverType.BUILTIN_REF, "
                       "experimental_preserve_all_tensors=True, num_threads=1)",
        "count": int(n),
        "inputs_source": ({"random": "numpy.random.default_rng(seed).integers(-128, 128, "
                                     "size=(count, *input_shape[1:]), dtype=int8)",
                           "seed": a.seed}
                          if a.inputs is None else {"file": a.inputs}),
        "input": tensor_meta(ind),
        "output": tensor_meta(outd),
        "inputs_npy": {"shape": list(x.shape), "dtype": "int8"},
        "outputs_npy": {"shape": list(y.shape), "dtype": "int8"},
        "ops": [o["op_name"] for o in ops],
        "intermediates": bool(a.intermediates),
        "command": shlex.join(["python3", *sys.argv]),
    }
    dump(os.path.join(a.outdir, "meta.json"), meta)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
