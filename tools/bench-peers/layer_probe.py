#!/usr/bin/env python3
"""Single-layer latency of mote beside LiteRT + XNNPACK (one thread): where does XNNPACK win?

    .venv/bin/python tools/bench-peers/layer_probe.py [--rounds 5] [--seconds 0.4] [--nchw-io]
        [--only NAME ...]

scripts/bench-peers.sh compares whole models; this probe times one layer at a time, the layer
shapes that dominate MobileNetV2 and MLPerf Tiny's ResNet-8, so that a whole-model ratio can be
traced to a layer kind. Needs what scripts/bench-peers.sh sets up: the project venv ``.venv``
(onnx, onnxruntime, ai-edge-litert; run this script with it), the TensorFlow venv
``target/bench-peers/tf-venv`` (this script re-runs itself there with ``--build-tflite`` to
write the .tflite files) and a release build of the ``mote`` CLI (``target/release/mote``).
Everything it writes goes to ``target/layer-probe``.

The layers (batch 1; MACs = multiply-accumulates):

- ``mnv2_l4``: 1x1 conv 112x112x16 -> 96, bias, ReLU6 (MobileNetV2's first expansion);
- ``mnv2_l62``: 1x1 conv 7x7x320 -> 1280, bias, ReLU6 (MobileNetV2's last conv);
- ``mnv2_dw_s2``: depthwise 3x3 stride 2 on 112x112x96, bias, ReLU6 (Keras ``same`` padding
  pads the bottom/right row and column only, the ONNX copy one on each side: same output shape
  and MACs, one row/column of padding differs);
- ``mnv2_1x1_56_24_144``: 1x1 conv 56x56x24 -> 144, bias, ReLU6;
- ``rn8_3x3_16``: 3x3 conv stride 1, ``same`` padding, 32x32x16 -> 16, bias, ReLU;
- ``rn8_first``: 3x3 conv 32x32x3 -> 16, bias, ReLU (ResNet-8's first layer);
- ``add_32x32x16``: residual add of two [1, 32, 32, 16] inputs, then ReLU (no MACs);
- ``mnv2_fc``: fully connected 1280 -> 1000 with bias, input [1, 1280].

TFLite side (``--build-tflite``, TensorFlow venv): each layer built in Keras with random weights,
exported as a SavedModel and converted to ``NAME_f32.tflite`` and full-int8 ``NAME_int8.tflite``
as tools/bench-peers/tflite_models.py does (``TFLITE_BUILTINS_INT8``, per-channel int8
weights, int8 input and output, 8 standard-normal calibration samples, seed 0). Timed with
``ai_edge_litert.interpreter.Interpreter(num_threads=1)`` and its default XNNPACK delegate, one
``invoke()`` between two ``perf_counter_ns`` (loading and inputs from litert_runner.py).

mote side: the same layer as a float NCHW ONNX model written with models/gen/_builder.py
(``NAME.onnx``; the add model, with its two inputs, with ``onnx.helper``), quantized for int8
by models/gen/ort_quantize.py (``NAME_qdq_s8.onnx``: ONNX Runtime's QDQ quantizer, int8
activations, per-channel int8 weights, 16 standard-normal calibration samples; ReLU6/ReLU end
up in the output's quantization range, as in the .tflite), compiled with ``mote compile``
(int8: ``--io int8``, int8 input and output like the .tflite, as the bench-peers harness
compiles) and timed with ``mote bench --json`` (its median). The convolutions are compiled from
a copy with NHWC input and output (``*_nhwc.onnx``): a Transpose to NCHW after the input and
one back before the output, on the int8 side of a QDQ model. mote cancels them against its own
layout changes, so both runtimes run exactly the one layer, without a layout conversion that a
real network would not have between two layers. ``--nchw-io`` compiles the plain NCHW models
instead, adding mote's two layout Transposes to its time. The add model stays NCHW (an
elementwise op needs no layout change) and the fully connected one is [1, 1280].

Weights are random and differ between the .tflite and the .onnx copies (and so do the int8
scales): irrelevant for latency, which depends on shapes only.

Timing: for each of ``--rounds`` rounds, every model and both data types get one mote
measurement (``mote bench --iters N`` median, a separate process) followed by one LiteRT
measurement (median of N invokes, this process); N is picked per model so that one measurement
takes about ``--seconds``. The table reports the median over the rounds of each, their ratio
(mote / XNNPACK: below 1 means mote is faster; ``range``: the lowest and highest ratio of a
single round, a measure of the noise) and the throughput in GMAC/s. ``XNN part.`` is
the number of XNNPACK delegate nodes / ops in the .tflite (``1/1``: the one op runs in
XNNPACK; more than one delegate node would mean some op between them runs on TFLite's own
kernels); ``mote ops`` lists the ops of the compiled .mote. The load average is
printed before the run; above ``--max-load`` the script first waits (up to ``--wait``
seconds) for the machine to calm down.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "target", "layer-probe")
TF_PYTHON = os.path.join(REPO, "target", "bench-peers", "tf-venv", "bin", "python")
MOTE = os.path.join(REPO, "target", "release", "mote")

# name -> layer description: kind, input (H, W, C) or features, output channels, kernel,
# stride, activation. One table for both sides, so the two copies cannot drift apart.
LAYERS = {
    "mnv2_l4": dict(kind="conv", hwc=(112, 112, 16), cout=96, k=1, s=1, act="relu6"),
    "mnv2_l62": dict(kind="conv", hwc=(7, 7, 320), cout=1280, k=1, s=1, act="relu6"),
    "mnv2_dw_s2": dict(kind="dw", hwc=(112, 112, 96), cout=96, k=3, s=2, act="relu6"),
    "mnv2_1x1_56_24_144": dict(kind="conv", hwc=(56, 56, 24), cout=144, k=1, s=1, act="relu6"),
    "rn8_3x3_16": dict(kind="conv", hwc=(32, 32, 16), cout=16, k=3, s=1, act="relu"),
    "rn8_first": dict(kind="conv", hwc=(32, 32, 3), cout=16, k=3, s=1, act="relu"),
    "add_32x32x16": dict(kind="add", hwc=(32, 32, 16), act="relu"),
    "mnv2_fc": dict(kind="fc", features=1280, cout=1000, act=None),
}
DTYPES = ("int8", "f32")


def macs(spec: dict) -> int:
    if spec["kind"] == "fc":
        return spec["features"] * spec["cout"]
    if spec["kind"] == "add":
        return 0
    h, w, c = spec["hwc"]
    k, s = spec["k"], spec["s"]
    ho, wo = -(-h // s), -(-w // s)  # 'same' padding (and pads (k-1)/2 on each side in ONNX)
    per_out = k * k * (1 if spec["kind"] == "dw" else c)
    return ho * wo * spec["cout"] * per_out


# ------------------------------------------------------------------------------ TFLite (tf-venv)

def build_tflite(outdir: str, names: list[str]) -> None:
    """Writes OUTDIR/NAME_{f32,int8}.tflite (run in the TensorFlow venv)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    keras = tf.keras
    L = keras.layers

    def act(x, a):
        if a == "relu6":
            return L.ReLU(max_value=6.0)(x)
        return L.ReLU()(x) if a == "relu" else x

    def keras_model(spec):
        if spec["kind"] == "fc":
            inp = keras.Input((spec["features"],), batch_size=1)
            return keras.Model(inp, L.Dense(spec["cout"])(inp))
        inp = keras.Input(spec["hwc"], batch_size=1)
        if spec["kind"] == "add":
            inp2 = keras.Input(spec["hwc"], batch_size=1)
            return keras.Model([inp, inp2], act(L.Add()([inp, inp2]), spec["act"]))
        if spec["kind"] == "dw":
            y = L.DepthwiseConv2D(spec["k"], strides=spec["s"], padding="same", use_bias=True,
                                  depthwise_initializer="he_normal",
                                  bias_initializer="zeros")(inp)
        else:
            y = L.Conv2D(spec["cout"], spec["k"], strides=spec["s"], padding="same",
                         use_bias=True, kernel_initializer="he_normal",
                         bias_initializer="zeros")(inp)
        return keras.Model(inp, act(y, spec["act"]))

    def convert(saved: str, shapes: list[list[int]], int8: bool) -> bytes:
        # tools/bench-peers/tflite_models.py's convert(), for one or more inputs.
        conv = tf.lite.TFLiteConverter.from_saved_model(saved)
        if int8:
            rng = np.random.default_rng(0)
            samples = [[rng.standard_normal(s).astype(np.float32) for s in shapes]
                       for _ in range(8)]
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.representative_dataset = lambda: iter(samples)
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        return conv.convert()

    for name in names:
        keras.utils.set_random_seed(20261126)
        model = keras_model(LAYERS[name])
        shapes = [[1, *t.shape[1:]] for t in model.inputs]
        saved = tempfile.mkdtemp(prefix=f"{name}-savedmodel-")
        try:
            model.export(saved, format="tf_saved_model", verbose=False)
            for variant in DTYPES:
                path = os.path.join(outdir, f"{name}_{variant}.tflite")
                with open(path, "wb") as f:
                    f.write(convert(saved, shapes, variant == "int8"))
                print(f"wrote {path}", file=sys.stderr)
        finally:
            shutil.rmtree(saved, ignore_errors=True)


# ------------------------------------------------------------------------------ ONNX and mote

def build_onnx(name: str, outdir: str) -> str:
    """Writes OUTDIR/NAME.onnx (float, NCHW) with models/gen/_builder.py; returns its path."""
    sys.path.insert(0, os.path.join(REPO, "models", "gen"))
    import onnx
    from _builder import Net
    from onnx import TensorProto, helper

    spec = LAYERS[name]
    path = os.path.join(outdir, f"{name}.onnx")
    doc = f"layer probe {name}, random weights, tools/bench-peers/layer_probe.py"
    if spec["kind"] == "add":
        # Two graph inputs, which Net does not model: onnx.helper directly.
        h, w, c = spec["hwc"]
        vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, c, h, w])
              for n in ("a", "b", "output")]
        g = helper.make_graph([helper.make_node("Add", ["a", "b"], ["sum"], name="add"),
                               helper.make_node("Relu", ["sum"], ["output"], name="relu")],
                              name, vi[:2], vi[2:])
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8,
                                  doc_string=doc)
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, path)
        return path
    if spec["kind"] == "fc":
        net = Net(name, seed=7, input_chw=(spec["features"],), doc=doc)
        net.output(net.gemm("input", "fc", spec["cout"]), "output")
    else:
        h, w, c = spec["hwc"]
        net = Net(name, seed=7, input_chw=(c, h, w), doc=doc)
        groups = c if spec["kind"] == "dw" else 1
        y = net.conv("input", "conv", spec["cout"], spec["k"], spec["s"], groups=groups, bias=True)
        y = net.relu6(y, "act") if spec["act"] == "relu6" else net.relu(y, "act")
        net.output(y, "output")
    assert net.macs == macs(spec), (name, net.macs, macs(spec))
    onnx.save(net.build(), path)
    return path


def nhwc_io(src: str, dst: str) -> str:
    """Copy of a one-input, one-output NCHW model with NHWC input and output: a Transpose after
    the input and one before the output. In a QDQ model they go on the int8 side (after the
    input's QuantizeLinear, before the output's DequantizeLinear), where `mote compile --io
    int8` can drop the QuantizeLinear/DequantizeLinear pair. mote cancels the Transposes
    against its own NHWC layout changes."""
    import onnx
    from onnx import helper

    m = onnx.load(src)
    g = m.graph
    (vin,), (vout,) = g.input, g.output
    nodes = list(g.node)
    # Input: the edge to re-route is the graph input, or the output of the Q that reads it.
    readers = [n for n in nodes if vin.name in n.input]
    q = readers[0] if len(readers) == 1 and readers[0].op_type == "QuantizeLinear" else None
    edge = q.output[0] if q else vin.name
    for n in nodes:
        n.input[:] = [f"{edge}_nchw" if x == edge else x for x in n.input]
    nodes.insert(nodes.index(q) + 1 if q else 0, helper.make_node(
        "Transpose", [edge], [f"{edge}_nchw"], name="probe/to_nchw", perm=[0, 3, 1, 2]))
    # Output: the graph output, or the input of the DQ that writes it.
    writer = next(n for n in nodes if vout.name in n.output)
    dq = writer if writer.op_type == "DequantizeLinear" else None
    edge = dq.input[0] if dq else vout.name
    for n in nodes:
        n.output[:] = [f"{edge}_nchw" if x == edge else x for x in n.output]
    if dq:
        dq.input[0] = edge
    nodes.insert(nodes.index(dq) if dq else len(nodes), helper.make_node(
        "Transpose", [f"{edge}_nchw"], [edge], name="probe/to_nhwc", perm=[0, 2, 3, 1]))
    del g.node[:]
    g.node.extend(nodes)
    for vi in (vin, vout):
        shape = vi.type.tensor_type.shape
        n_, c, h, w = [d.dim_value or 1 for d in shape.dim]
        shape.Clear()
        for d in (n_, h, w, c):
            shape.dim.add().dim_value = d
    del g.value_info[:]
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, dst)
    return dst


def quantize_onnx(name: str, outdir: str) -> str:
    """OUTDIR/NAME_qdq_s8.onnx by models/gen/ort_quantize.py (as scripts/bench-peers.sh)."""
    sys.path.insert(0, os.path.join(REPO, "models", "gen"))
    import ort_quantize as q

    q.MODELS[name] = "gen"
    q.quantize(name, outdir)
    return os.path.join(outdir, f"{name}_qdq_s8.onnx")


def input_shape_flags(path: str) -> list[str]:
    import onnx

    flags = []
    for vi in onnx.load(path).graph.input:
        dims = [d.dim_value if d.HasField("dim_value") else 1
                for d in vi.type.tensor_type.shape.dim]
        flags += ["--input-shape", f"{vi.name}={','.join(map(str, dims))}"]
    return flags


def mote_compile(onnx_path: str, out: str, int8: bool) -> str:
    """Compiles; returns a note ('' or what had to be allowed). Raises on failure."""
    cmd = [MOTE, "compile", onnx_path, "-o", out, *input_shape_flags(onnx_path)]
    if int8:
        cmd += ["--io", "int8"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode == 0:
        return ""
    if int8:  # a layer mote cannot lower to int8: run it in float, and say so
        r2 = subprocess.run(cmd + ["--allow-float"], capture_output=True, text=True)
        if r2.returncode == 0:
            return "needed --allow-float: " + " ".join(r.stderr.split())[:200]
    raise RuntimeError(" ".join((r.stderr or r.stdout).split())[:400])


def mote_ops(path: str) -> str:
    """The op kinds of a compiled model (from `mote inspect`)."""
    r = subprocess.run([MOTE, "inspect", path], capture_output=True, text=True, check=True)
    lines = r.stdout.split("\nops:\n", 1)[1].splitlines()[1:]
    return "+".join(ln.split()[1] for ln in lines if ln.strip())


def mote_bench(path: str, iters: int) -> float:
    r = subprocess.run([MOTE, "bench", path, "--json", "--iters", str(iters),
                        "--warmup", str(max(10, iters // 20))],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["median_ms"]


# ------------------------------------------------------------------------------ LiteRT

def litert_load(path: str):
    sys.path.insert(0, HERE)
    from litert_runner import load  # one thread, XNNPACK, random inputs, partition count

    return load(path)


def litert_bench(it, iters: int) -> float:
    times = []
    for _ in range(max(3, iters // 20)):
        it.invoke()
    for _ in range(iters):
        t = time.perf_counter_ns()
        it.invoke()
        times.append(time.perf_counter_ns() - t)
    return statistics.median(times) / 1e6


# ------------------------------------------------------------------------------ driver

def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wait_for_quiet(max_load: float, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while float(loadavg().split()[0]) > max_load and time.monotonic() < deadline:
        print(f"load average {loadavg()} above {max_load}: waiting", file=sys.stderr)
        time.sleep(20)
    if float(loadavg().split()[0]) > max_load:
        print(f"load average still {loadavg()}: timing anyway", file=sys.stderr)


def iters_for(ms: float, seconds: float) -> int:
    return int(min(20000, max(200, seconds * 1e3 / max(ms, 1e-4))))


def fmt_ms(v: float | None) -> str:
    return "-" if v is None else (f"{v:.4f}" if v < 0.1 else f"{v:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.4,
                    help="target duration of one measurement (one runtime, one model)")
    ap.add_argument("--only", nargs="+", choices=list(LAYERS), default=list(LAYERS))
    ap.add_argument("--nchw-io", action="store_true",
                    help="convolutions with NCHW input/output (mote adds layout Transposes)")
    ap.add_argument("--max-load", type=float, default=1.0)
    ap.add_argument("--wait", type=float, default=600, help="seconds to wait for --max-load")
    ap.add_argument("--build-tflite", metavar="OUTDIR", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.build_tflite:  # second life, in the TensorFlow venv
        build_tflite(args.build_tflite, args.only)
        return

    os.makedirs(OUT, exist_ok=True)
    names = args.only
    errors: dict[tuple[str, str], str] = {}

    # 1. The .tflite files (in the TensorFlow venv), unless newer than this script.
    me = os.path.getmtime(os.path.abspath(__file__))
    stale = [n for n in names for d in DTYPES
             if not (os.path.isfile(p := os.path.join(OUT, f"{n}_{d}.tflite"))
                     and os.path.getmtime(p) > me)]
    if stale:
        r = subprocess.run([TF_PYTHON, os.path.abspath(__file__), "--build-tflite", OUT,
                            "--only", *dict.fromkeys(stale)], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            raise SystemExit("building the .tflite files failed")

    # 2. ONNX, int8 QDQ, .mote; load the .tflite files.
    mote_files, mote_notes, interps, parts = {}, {}, {}, {}
    for name in names:
        try:
            srcs = {"f32": build_onnx(name, OUT)}
            srcs["int8"] = quantize_onnx(name, OUT)
            if not args.nchw_io and LAYERS[name]["kind"] in ("conv", "dw"):
                srcs = {d: nhwc_io(p, p.replace(".onnx", "_nhwc.onnx")) for d, p in srcs.items()}
        except Exception as e:  # noqa: BLE001 (reported in the table)
            for d in DTYPES:
                errors[(name, d)] = f"ONNX: {type(e).__name__}: {e}"
            srcs = {}
        for d, src in srcs.items():
            out = os.path.join(OUT, f"{name}_{d}{'_nchw' if args.nchw_io else ''}.mote")
            try:
                mote_notes[(name, d)] = mote_compile(src, out, d == "int8")
                mote_files[(name, d)] = out
                mote_notes[(name, d)] = " ".join(
                    filter(None, [mote_ops(out), mote_notes[(name, d)]]))
            except Exception as e:  # noqa: BLE001
                errors[(name, d)] = f"mote compile: {e}"
        for d in DTYPES:
            try:
                it, p, n = litert_load(os.path.join(OUT, f"{name}_{d}.tflite"))
                interps[(name, d)], parts[(name, d)] = it, f"{p}/{n}"
            except Exception as e:  # noqa: BLE001
                errors[(name, d)] = errors.get((name, d), "") + f" LiteRT: {e}"

    # 3. Timing: calibrate the iteration counts, then interleaved rounds.
    wait_for_quiet(args.max_load, args.wait)
    load_before = loadavg()
    keys = [(n, d) for n in names for d in DTYPES]
    iters_m, iters_x = {}, {}
    for k in keys:
        try:
            if k in mote_files:
                iters_m[k] = iters_for(mote_bench(mote_files[k], 50), args.seconds)
        except subprocess.CalledProcessError as e:
            errors[k] = f"mote bench: {' '.join(e.stderr.split())[:400]}"
            del mote_files[k]
        try:
            if k in interps:
                iters_x[k] = iters_for(litert_bench(interps[k], 50), args.seconds)
        except Exception as e:  # noqa: BLE001
            errors[k] = errors.get(k, "") + f" LiteRT invoke: {e}"
            del interps[k]
    t_mote = {k: [] for k in keys}
    t_xnn = {k: [] for k in keys}
    for rnd in range(args.rounds):
        print(f"round {rnd + 1}/{args.rounds} (load {loadavg()})", file=sys.stderr)
        for k in keys:
            if k in mote_files:
                t_mote[k].append(mote_bench(mote_files[k], iters_m[k]))
            if k in interps:
                t_xnn[k].append(litert_bench(interps[k], iters_x[k]))
    load_after = loadavg()

    # 4. The table.
    print(f"Load average before the timed run: {load_before}; after: {load_after}. "
          f"{args.rounds} rounds, about {args.seconds} s per measurement, one thread.")
    print(f"Command: .venv/bin/python tools/bench-peers/layer_probe.py {' '.join(sys.argv[1:])}"
          .rstrip())
    print()
    print("| layer | dtype | MACs | mote ms | XNNPACK ms | mote/XNN | range | mote GMAC/s "
          "| XNN GMAC/s | XNN part. | mote ops |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for key in keys:
        m = macs(LAYERS[key[0]])
        tm = statistics.median(t_mote[key]) if t_mote[key] else None
        tx = statistics.median(t_xnn[key]) if t_xnn[key] else None
        per_round = [a / b for a, b in zip(t_mote[key], t_xnn[key])]
        cells = [
            *key,
            f"{m / 1e6:.2f} M" if m else "-",
            fmt_ms(tm),
            fmt_ms(tx),
            f"{tm / tx:.2f}" if tm and tx else "-",
            f"{min(per_round):.2f}-{max(per_round):.2f}" if per_round else "-",
            *(f"{m / t / 1e6:.1f}" if t and m else "-" for t in (tm, tx)),
            parts.get(key, "-"),
            mote_notes.get(key, "-"),
        ]
        print(f"| {' | '.join(cells)} |")
    if errors:
        print()
        for (name, d), e in errors.items():
            print(f"- {name} {d}: {e.strip()}")


if __name__ == "__main__":
    main()
