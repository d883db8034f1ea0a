#!/usr/bin/env bash
# Create (or check) the project-local Python environment <repo>/.venv with the packages
# pinned in scripts/requirements.txt (onnx, onnxruntime, numpy).
#
#   bash scripts/python-env.sh        # from any directory
#
# Idempotent: a stamp file inside the venv holds the sha256 of requirements.txt; when it
# matches (and the venv's python runs), nothing is done. Needs python3 (3.11+) with the
# venv module (Debian: python3-venv) or pip, and network access to PyPI on the first run.
# Set PYTHON=/path/to/python3 to choose the interpreter the venv is made from.
# On success it prints exactly one line; on failure it prints pip's log and exits non-zero.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="$repo/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
py="${PYTHON:-python3}"

# Serialise concurrent callers (e.g. parallel test binaries) on a lock of this script file.
if command -v flock >/dev/null 2>&1; then
    exec 9<"${BASH_SOURCE[0]}"
    flock 9
fi

want="$(sha256sum "$req" | cut -d' ' -f1)"

venv_ok() {
    [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1
}

summary() {
    "$venv/bin/python" - <<'PY'
import importlib.metadata as m, sys
v = lambda n: m.version(n)
print(f"python env ready: {sys.prefix} (python {sys.version.split()[0]}, onnx {v('onnx')}, "
      f"onnxruntime {v('onnxruntime')}, numpy {v('numpy')})")
PY
}

if venv_ok && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    summary
    exit 0
fi

if ! command -v "$py" >/dev/null 2>&1; then
    echo "python-env.sh: '$py' not found; install python3 (3.11+) or set PYTHON" >&2
    exit 1
fi

log="$(mktemp "${TMPDIR:-/tmp}/mote-python-env.XXXXXX")"
trap 'rm -f "$log"' EXIT
fail() {
    echo "python-env.sh: $1" >&2
    cat "$log" >&2
    exit 1
}

if ! venv_ok; then
    rm -rf "$venv"
    if ! "$py" -m venv "$venv" >>"$log" 2>&1; then
        # Debian without python3-venv has no ensurepip: make a venv without pip and let the
        # system pip (>= 22.3 has --python) install into it.
        rm -rf "$venv"
        "$py" -m venv --without-pip "$venv" >>"$log" 2>&1 \
            || fail "cannot create a virtualenv with '$py -m venv' (Debian: apt-get install python3-venv)"
    fi
fi

if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    pip=("$venv/bin/python" -m pip)
else
    pip=("$py" -m pip --python "$venv/bin/python")
fi

"${pip[@]}" install --disable-pip-version-check --no-input --quiet --only-binary=:all: \
    -r "$req" >>"$log" 2>&1 || fail "pip install -r $req failed:"

"$venv/bin/python" -c 'import onnx, onnxruntime, numpy' >>"$log" 2>&1 \
    || fail "the installed packages do not import:"

echo "$want" >"$stamp"
summary
