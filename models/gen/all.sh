#!/usr/bin/env bash
# Generate every model of models/gen into OUTDIR (skipping the ones already up to date).
#
#   bash models/gen/all.sh OUTDIR        # e.g. bash models/gen/all.sh .cache/models
#
# Uses <repo>/.venv (made by scripts/python-env.sh, which this runs first). A model counts as
# up to date when OUTDIR/NAME.onnx is newer than NAME.py, _builder.py and requirements.txt.
# Prints one line per model; set CHECK=1 to also run check.py (checker + ONNX Runtime run) on
# each freshly generated model. Then ort_quantize.py writes ONNX Runtime's int8 QDQ versions of
# some of them and of the MLPerf Tiny float models (OUTDIR/NAME_qdq_s8.onnx, NAME_qdq_u8.onnx),
# also skipping the ones up to date.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ "$#" -ne 1 ]; then
    echo "usage: bash models/gen/all.sh OUTDIR" >&2
    exit 2
fi
mkdir -p "$1"
out="$(cd "$1" && pwd)"

bash "$repo/scripts/python-env.sh" >/dev/null
py="$repo/.venv/bin/python"

# Serialise concurrent callers (parallel tests) on a lock of this script file.
if command -v flock >/dev/null 2>&1; then
    exec 9<"${BASH_SOURCE[0]}"
    flock 9
fi

models=(mobilenet_v2 resnext50 resnext29 shufflenet_block mobilenet_v3_block)
for m in "${models[@]}"; do
    target="$out/$m.onnx"
    if [ -f "$target" ] && [ "$target" -nt "$here/$m.py" ] && [ "$target" -nt "$here/_builder.py" ] \
        && [ "$target" -nt "$repo/scripts/requirements.txt" ]; then
        echo "up to date: $target"
        continue
    fi
    "$py" "$here/$m.py" "$target"
    if [ "${CHECK:-0}" = 1 ]; then
        "$py" "$here/check.py" "$target"
    fi
done

# int8 QDQ models by ONNX Runtime's quantize_static (tests/ort_int8.rs); skips up-to-date files.
"$py" "$here/ort_quantize.py" "$out"
