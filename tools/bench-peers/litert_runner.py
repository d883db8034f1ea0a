#!/usr/bin/env python3
"""LiteRT + XNNPACK as a timing server for the bench-peers harness (one request per line).

    python tools/bench-peers/litert_runner.py [--threads N]     # then, on stdin:
    load KEY PATH     -> "ok PARTITIONS OPS"   (N threads, default 1; XNNPACK delegate)
    run KEY           -> "ms FLOAT"                         (one timed invoke)
    drop KEY          -> "ok"
    quit

Why a server: the harness interleaves every runtime iteration by iteration (one inference of
mote, then ONNX Runtime, tract, LiteRT, ...), so LiteRT has to stay loaded between two of its
iterations. Each ``run`` times exactly one ``Interpreter.invoke()`` with
``time.perf_counter_ns`` around it, inside this process: the pipe round trip is outside the timed
region; the input is written before the clock starts. What remains inside is the Python binding's
call overhead (a few microseconds), a small bias against LiteRT on the tiniest models.

The interpreter is ``ai_edge_litert.interpreter.Interpreter(num_threads=N)`` (N = 1 unless
``--threads`` says otherwise) with its default
op resolver, which applies the XNNPACK delegate (float and int8). ``PARTITIONS`` is the number of
XNNPACK delegate nodes the interpreter made (each replaces a run of consecutive supported ops;
1 means the whole graph went to XNNPACK, more means some op between them runs on TFLite's own
kernels) and ``OPS`` the number of ops in the model.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter


THREADS = 1


def load(path: str):
    it = Interpreter(model_path=path, num_threads=THREADS)
    it.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in it.get_input_details():
        shape, dtype = d["shape"], d["dtype"]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            x = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
        else:
            x = rng.standard_normal(shape).astype(dtype)
        it.set_tensor(d["index"], x)
    ops = it._get_ops_details()  # noqa: SLF001 (the only way to see the execution plan)
    partitions = sum(str(o.get("op_name", "")) == "DELEGATE" for o in ops)
    it.invoke()
    return it, partitions, len(ops) - partitions


def main() -> None:
    global THREADS
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--threads":
        THREADS = int(args[1])
    elif args:
        sys.exit(f"usage: {sys.argv[0]} [--threads N]")
    models = {}
    out = sys.stdout
    for line in sys.stdin:
        parts = line.split(maxsplit=2)
        if not parts:
            continue
        cmd = parts[0]
        try:
            if cmd == "load":
                it, partitions, n_ops = load(parts[2].strip())
                models[parts[1]] = it
                out.write(f"ok {partitions} {n_ops}\n")
            elif cmd == "run":
                it = models[parts[1]]
                t = time.perf_counter_ns()
                it.invoke()
                dt = time.perf_counter_ns() - t
                out.write(f"ms {dt / 1e6:.6f}\n")
            elif cmd == "drop":
                models.pop(parts[1], None)
                out.write("ok\n")
            elif cmd == "quit":
                return
            else:
                out.write(f"error unknown command {cmd}\n")
        except Exception as e:  # noqa: BLE001 (reported to the caller, which stops)
            out.write(f"error {type(e).__name__}: {' '.join(str(e).split())}\n")
        out.flush()


if __name__ == "__main__":
    main()
