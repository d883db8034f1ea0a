#!/usr/bin/env bash
# Runs every test of mote, installing first what the tests need (idempotent, fast when done):
#   - the Rust targets thumbv7em-none-eabihf and thumbv8m.main-none-eabihf (bare Cortex-M4F/M7
#     and M33/M55) and QEMU's system emulator for them (Debian package qemu-system-arm),
#   - Arm Linux cross compilers, qemu-user and the aarch64/armv7/iOS Rust targets
#     (scripts/arm-linux.sh, which also runs the Arm tests under QEMU),
#   - the nightly toolchain and cargo-fuzz (scripts/fuzz.sh: each fuzz target runs 45 s),
#   - a project-local Python environment (.venv) with onnx and onnxruntime 1.32, whose
#     libonnxruntime is the reference the parity tests load through the `ort` crate,
#   - ONNX's operator conformance data, LiteRT's reference outputs for the int8 models, and the
#     generated models (MobileNetV2, ResNeXt, ...) under .cache/.
# Nothing is skipped: a test whose reference is missing fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

step() { printf '==> %s\n' "$*"; }

step "Rust targets"
if command -v rustup >/dev/null 2>&1; then
    rustup component add clippy >/dev/null 2>&1 || rustup component add clippy
    for t in thumbv7em-none-eabihf thumbv8m.main-none-eabihf; do
        rustup target add "$t" >/dev/null 2>&1 || rustup target add "$t"
    done
fi

step "QEMU for the Cortex-M cores (qemu-system-arm)"
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    "${apt_get[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends qemu-system-arm >/dev/null
fi

step "Python environment (onnx, onnxruntime)"
bash scripts/python-env.sh
ORT_DYLIB_PATH="$(bash scripts/ort-lib-path.sh)"
export ORT_DYLIB_PATH

step "ONNX node conformance data"
export MOTE_ONNX_NODE_TESTS
MOTE_ONNX_NODE_TESTS="$(bash scripts/conformance-data.sh)"

step "LiteRT reference outputs (BUILTIN_REF) for the int8 models"
bash scripts/litert/all.sh "$repo/.cache/litert"

step "Generated models"
bash models/gen/all.sh "$repo/.cache/models"

step "Formatting (cargo fmt --check)"
rustup component add rustfmt >/dev/null 2>&1 || true
cargo fmt --all --check

step "Lints of the device crates: no unwrap/expect/panic!, no panicking indexing or overflow in validation"
cargo clippy --release -p mote-format -p mote-runtime -p mote-kernels --all-features -- -D warnings

step "no_std runtime for a bare Cortex-M4F (thumbv7em-none-eabihf)"
cargo build --release -p mote-runtime --no-default-features --target thumbv7em-none-eabihf

step "int8 MLPerf Tiny models on emulated Cortex-M4, M7 and M55, outputs equal to the host's"
bash targets/cortex-m/test.sh

step "Android: JNI library, Java API JUnit tests on the host JVM, Android static libraries"
bash scripts/android.sh  # Android: JNI library + Java API JUnit tests on the host JVM, Android static libraries

step "Display example: host and Cortex-M4 (QEMU) draw the same framebuffer"
bash scripts/display.sh

step "Arm Linux: aarch64 and armv7 builds, runtime tests and models under QEMU; C ABI for iOS"
bash scripts/arm-linux.sh

step "Fuzzing: model, onnx, npy and image targets, 45 s each (scripts/fuzz.sh)"
# A fixed libFuzzer seed: a CI run explores the same inputs for the same code, so a red run
# reproduces (the long runs of docs/fuzzing.md use random seeds).
FUZZ_FLAGS="${FUZZ_FLAGS:--seed=1}" bash scripts/fuzz.sh "${MOTE_FUZZ_SECONDS:-45}"

step "cargo test (workspace, release: whole models run on the reference kernels)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over all test binaries (cargo prints one per binary, the last often a
# doc-test run with nothing in it).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
