#!/usr/bin/env bash
# LiteRT BUILTIN_REF reference data for the four int8 MLPerf Tiny models.
#
#   bash scripts/litert/all.sh OUTDIR [--count N] [--seed S]     # from any directory
#
# For each model M of models/mlperf-tiny (vww_96_int8, pretrainedResnet_quant, kws_ref_model,
# ad01_int8) it runs scripts/litert/reference.py into OUTDIR/M/: N random int8 inputs (default
# 100, seed S, default 0), their outputs, meta.json, and every intermediate tensor of the first
# input (tensors/, tensors.json). A model whose OUTDIR/M/.stamp matches (sha256 of the model,
# the scripts, scripts/requirements.txt and the arguments) is skipped. It also checks that the
# committed op lists tests/litert/ops-M.txt still match what LiteRT executes.
# Uses <repo>/.venv, made or refreshed first by scripts/python-env.sh (idempotent).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
models=(vww_96_int8 pretrainedResnet_quant kws_ref_model ad01_int8)

usage() { echo "usage: bash scripts/litert/all.sh OUTDIR [--count N] [--seed S]" >&2; exit 2; }
[ $# -ge 1 ] || usage
out="$1"; shift
count=100
seed=0
while [ $# -gt 0 ]; do
    case "$1" in
        --count) [ $# -ge 2 ] || usage; count="$2"; shift 2 ;;
        --seed) [ $# -ge 2 ] || usage; seed="$2"; shift 2 ;;
        *) usage ;;
    esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"

bash "$repo/scripts/python-env.sh" >&2
py="$repo/.venv/bin/python"

# Relative paths from the repo root, so meta.json's command does not depend on the checkout.
cd "$repo"
for m in "${models[@]}"; do
    model="models/mlperf-tiny/$m.tflite"
    dir="$out/$m"
    args=("$model" "$dir" --count "$count" --seed "$seed" --intermediates)
    want="$({ sha256sum "$model" scripts/litert/reference.py scripts/litert/litert_common.py \
                scripts/requirements.txt; printf '%s\n' "${args[@]:2}"; } | sha256sum | cut -d' ' -f1)"
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ] \
        && [ -f "$dir/outputs.npy" ] && [ -f "$dir/meta.json" ] && [ -f "$dir/tensors.json" ]; then
        echo "litert: $m up to date ($dir)"
        continue
    fi
    rm -f "$dir/.stamp"
    "$py" scripts/litert/reference.py "${args[@]}"
    echo "$want" >"$dir/.stamp"
    echo "litert: $m: $count inputs -> $dir"
done

paths=()
for m in "${models[@]}"; do paths+=("models/mlperf-tiny/$m.tflite"); done
if ! "$py" scripts/litert/ops.py --check "${paths[@]}"; then
    echo "litert: regenerate with: .venv/bin/python scripts/litert/ops.py --write ${paths[*]}" >&2
    exit 1
fi
echo "litert: tests/litert/ops-*.txt match LiteRT's op lists"
