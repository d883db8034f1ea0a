#!/usr/bin/env bash
# Runs the runtime crates' unit tests under Miri (undefined behaviour, out-of-bounds accesses,
# invalid pointer arithmetic in the kernels' `unsafe` code paths Miri can reach):
#
#   bash scripts/miri.sh [CRATE...]    # default: mote-format mote-runtime mote-kernels
#
# Installs the nightly toolchain with the miri and rust-src components (idempotent).
#
# Two passes over mote-kernels:
# 1. portable: under Miri `is_x86_feature_detected!` reports only the compile-time target
#    features, so the kernels take their portable paths (and the Arm DSP kernels' any-host
#    emulation);
# 2. AVX2 (x86_64 hosts, `MIRI_AVX2=0` skips it): the same tests built with
#    `-C target-feature=+avx2,+fma,+bmi2`, so the AVX2 kernels and their unaligned loads, masked
#    tails and stack buffers run under Miri (it emulates the AVX2/FMA intrinsics they use). Its
#    own target directory (target/miri-avx2) keeps the two builds from invalidating each other.
# The AVX-512 kernels are not run: Miri (nightly 2026-05) emulates `vpdpbusd`/`vpmaddwd` but not
# several other AVX-512 intrinsics they use (docs/fuzzing.md lists them).
#
# Under `cfg(miri)` the tests are Miri-sized: property tests run 2 cases each
# (`proptest_cases`), seeded loops 3 seeds (`iterations`) and random shapes are capped past the
# widest vector width plus one (`miri_max`, runtime/kernels/src/ops/test_util.rs); the
# model-sized shape lists keep their small edge shapes. Isolation is disabled only so that
# proptest may read the clock and its seed source.
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

if [ "$(uname -m)" = x86_64 ] && [ "${MIRI_AVX2:-1}" != 0 ] &&
    printf '%s\n' "${crates[@]}" | grep -qx mote-kernels; then
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/miri-avx2" \
        RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+avx2,+fma,+bmi2" \
        nice cargo +nightly miri test -p mote-kernels --all-features --tests
fi
