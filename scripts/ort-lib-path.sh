#!/usr/bin/env bash
# Print the absolute path of the ONNX Runtime shared library shipped in the onnxruntime wheel
# of <repo>/.venv (made by scripts/python-env.sh), e.g. for ORT_DYLIB_PATH:
#
#   ORT_DYLIB_PATH="$(bash scripts/ort-lib-path.sh)"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
version="$(sed -n 's/^onnxruntime==\([0-9.]*\).*/\1/p' "$here/requirements.txt")"
version="${version:-1.32.0}"
lib="libonnxruntime.so.$version"

shopt -s nullglob
found=("$repo"/.venv/lib/python3.*/site-packages/onnxruntime/capi/"$lib")
if [ "${#found[@]}" -eq 0 ]; then
    echo "ort-lib-path.sh: $lib not found under $repo/.venv/lib/python3.*/site-packages/onnxruntime/capi/;" \
        "run 'bash scripts/python-env.sh' first" >&2
    exit 1
fi
echo "${found[0]}"
