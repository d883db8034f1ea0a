#!/usr/bin/env bash
# Generate ONNX's backend node test cases into <repo>/.cache/onnx-node-tests (once).
#
#   bash scripts/conformance-data.sh      # prints the data directory on its last line
#
# Makes the venv first (scripts/python-env.sh), then runs tests/conformance/generate.py with
# the venv's python. A stamp file holds a hash of the generator and of requirements.txt; when
# it matches, nothing is regenerated.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$repo/.cache/onnx-node-tests"
gen="$repo/tests/conformance/generate.py"
stamp="$out/.stamp"

bash "$here/python-env.sh" >/dev/null
py="$repo/.venv/bin/python"

mkdir -p "$repo/.cache"
if command -v flock >/dev/null 2>&1; then
    exec 9<"${BASH_SOURCE[0]}"
    flock 9
fi

want="$(cat "$gen" "$here/requirements.txt" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "$out"
    exit 0
fi

tmp="$(mktemp -d "$repo/.cache/onnx-node-tests.tmp.XXXXXX")"
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
if ! "$py" "$gen" "$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -f "$tmp.log"
    echo "conformance-data.sh: generate.py failed" >&2
    exit 1
fi
rm -f "$tmp.log"
echo "$want" >"$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
