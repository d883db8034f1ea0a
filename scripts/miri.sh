#!/usr/bin/env bash
# Runs the runtime crates' unit tests under Miri (undefined behaviour, out-of-bounds accesses,
# invalid pointer arithmetic in the kernels' `unsafe` code paths Miri can reach):
#
#   bash scripts/miri.sh [CRATE...]    # default: mote-format mote-runtime mote-kernels
#
# Installs the nightly toolchain with the miri and rust-src components (idempotent). Under Miri
# `is_x86_feature_detected!` reports only the compile-time target features, so the kernels take
# their portable paths (the SIMD twins are checked against them bit for bit by the ordinary
# tests); property tests run 2 cases each (`proptest_cases` in runtime/kernels/src/ops/test_util.rs)
# and a few long exhaustive tests are reduced under `cfg(miri)`. Isolation is disabled only so
# that proptest may read the clock and its seed source.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

crates=("$@")
[ ${#crates[@]} -gt 0 ] || crates=(mote-format mote-runtime mote-kernels)

if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^miri'; then
    rustup toolchain install nightly --profile minimal --component miri,rust-src
fi
cargo +nightly miri setup >/dev/null

export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
args=()
for c in "${crates[@]}"; do args+=(-p "$c"); done
# --tests: unit tests and the crates' own tests/ (reader.rs, errors.rs: small built models);
# doc-tests are left out. --all-features: the writer (ModelBuilder) the tests build models with.
nice cargo +nightly miri test "${args[@]}" --all-features --tests
