#!/usr/bin/env bash
# mote beside ONNX Runtime, tract and LiteRT + XNNPACK: one thread (or N), batch 1, interleaved
# rounds.
# Prints the table of docs/benchmarks.md (markdown) on stdout, progress on stderr.
#
#   bash scripts/bench-peers.sh [--seconds S] [--per-op] [--only KEY ...] [--threads N]
#
# KEY: mobilenet_v2 resnext50 resnext29 vww resnet8 grouped_conv. --seconds: timed seconds per
# model (default 20; at least 10 and at most 300 rounds). --per-op adds mote's per-layer-kind
# GMAC/s (the code of `mote bench --per-op`). --threads N: mote, ONNX Runtime and LiteRT on N
# threads (tract on one); each runtime's turn is then three inferences, the last timed.
#
# What it does (every step skips what is already up to date; the first run downloads
# TensorFlow, about 1.6 GB installed, and builds tract, several minutes):
# 1. scripts/python-env.sh: the project venv .venv (onnx, onnxruntime 1.32 whose shared library
#    ONNX Runtime runs from, ai-edge-litert = LiteRT with XNNPACK);
# 2. models/gen/all.sh and models/gen/grouped_conv.py write the float ONNX models into
#    target/bench-peers/models, and models/gen/ort_quantize.py their ONNX Runtime int8 QDQ
#    versions (int8 activations for mote, uint8 activations for ONNX Runtime), ResNeXt and the
#    grouped layer included;
# 3. a second venv target/bench-peers/tf-venv with tensorflow-cpu, in which
#    tools/bench-peers/tflite_models.py writes the .tflite copies (float and full int8) of the
#    generated models; the MLPerf Tiny models come as .tflite and .onnx from models/mlperf-tiny;
# 4. builds tools/bench-peers (its own cargo workspace: mote, ort, tract-onnx) and runs it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$repo/target/bench-peers"
models="$out/models"
tf_venv="$out/tf-venv"
tf_req="tensorflow-cpu==2.21.0"
mkdir -p "$models"
say() { echo "bench-peers.sh: $*" >&2; }

# 1. Project venv.
bash "$here/python-env.sh" >&2
py="$repo/.venv/bin/python"

# 2. ONNX models and ONNX Runtime's int8 versions.
bash "$repo/models/gen/all.sh" "$models" >&2
if ! [ "$models/grouped_conv.onnx" -nt "$repo/models/gen/grouped_conv.py" ]; then
    "$py" "$repo/models/gen/grouped_conv.py" "$models/grouped_conv.onnx" >&2
fi
"$py" - "$models" >&2 <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "models", "gen"))
import ort_quantize as q  # models/gen/ort_quantize.py, its list extended by the bench models

for name in ("resnext50", "resnext29", "grouped_conv"):
    q.MODELS[name] = "gen"
    q.quantize(name, sys.argv[1])
PY

# 3. TensorFlow venv and the .tflite copies.
if ! { [ -x "$tf_venv/bin/python" ] && [ "$(cat "$tf_venv/.stamp" 2>/dev/null)" = "$tf_req" ]; }; then
    say "installing $tf_req into $tf_venv (once)"
    rm -rf "$tf_venv"
    python3 -m venv "$tf_venv"
    "$tf_venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        --only-binary=:all: "$tf_req" >&2
    echo "$tf_req" >"$tf_venv/.stamp"
fi
"$tf_venv/bin/python" "$repo/tools/bench-peers/tflite_models.py" "$models" >&2

# 4. The harness.
say "building tools/bench-peers"
CARGO_TARGET_DIR="$repo/target" cargo build --release --quiet \
    --manifest-path "$repo/tools/bench-peers/Cargo.toml" >&2
ort_lib="$(bash "$here/ort-lib-path.sh")"

versions="$("$py" -c 'import importlib.metadata as m; v = m.version; print("onnxruntime", v("onnxruntime") + ", ai-edge-litert", v("ai-edge-litert"))')"
tract_version="$(sed -n '/^name = "tract-onnx"$/{n;s/^version = "\(.*\)"$/\1/p}' "$repo/tools/bench-peers/Cargo.lock")"
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
isa="$(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')"
threads=1
prev=""
for a in "$@"; do
    [ "$prev" = "--threads" ] && threads="$a"
    prev="$a"
done
if [ "$threads" = 1 ]; then used="one used per runtime"; else used="$threads threads per runtime, tract one"; fi
echo "Machine: $cpu ($isa), $(nproc) cores ($used), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) before the run. $(date -u '+%Y-%m-%d %H:%M UTC')."
echo "Runtimes: mote $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), $versions, tract-onnx $tract_version."
echo "Command: bash scripts/bench-peers.sh $*"
echo
cd "$repo"
"$repo/target/release/bench-peers" --gen "$models" --mlperf "$repo/models/mlperf-tiny" \
    --python "$py" --litert-runner "$repo/tools/bench-peers/litert_runner.py" \
    --ort-lib "$ort_lib" "$@"
