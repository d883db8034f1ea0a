#!/usr/bin/env bash
# Dynamic instruction counts of the aarch64 int8 convolution kernels under qemu-user (there is no
# aarch64 hardware in CI): `qemu-aarch64 -singlestep -d nochain,exec` logs one line per executed
# instruction; running the probe test with 1 and 2 repetitions, the difference is
# one kernel call, without the test harness and data setup. A proxy for time only (no caches,
# no dual issue, every instruction weighs 1).
#
#   bash scripts/aarch64-icount.sh [shape ...]      # shapes: indices of the probe's table
#
# MOTE_ICOUNT_KERNELS="kernel:cpu ..." picks the kernels (default: the reference, then each NEON
# kernel on the CPU that selects it); the last column compares with the first kernel listed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# MOTE_ICOUNT_BIN: an already built test binary (e.g. a copy, so rebuilding meanwhile is safe).
bin="${MOTE_ICOUNT_BIN:-}"
[ -n "$bin" ] || bin="$(cargo test --release -p mote-kernels --target aarch64-unknown-linux-gnu --lib --no-run \
    --message-format=json 2>/dev/null | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)"
[ -x "$bin" ] || { echo "no test binary" >&2; exit 1; }
count() { # cpu kernel shape reps
    QEMU_CPU="$1" MOTE_PROBE="$2,$3,$4" qemu-aarch64 -L /usr/aarch64-linux-gnu -singlestep \
        -d nochain,exec -D /dev/fd/3 "$bin" --ignored --exact \
        ops::conv2d::tests_impls::conv2d_s8_instruction_probe --test-threads 1 3>&1 >/dev/null 2>&1 \
        | grep -c '^Trace'
}
shapes=("$@")
[ "${#shapes[@]}" -gt 0 ] || shapes=(0 1 2 3 4 5)
printf '| shape | kernel | CPU | instructions / call | vs reference |\n|---|---|---|---|---|\n'
for s in "${shapes[@]}"; do
    ref=""
    for kc in ${MOTE_ICOUNT_KERNELS:-conv2d_s8_reference:cortex-a72 conv2d_s8_neon:cortex-a72 conv2d_s8_neon_dotprod:cortex-a76 conv2d_s8_neon_i8mm:max}; do
        k="${kc%%:*}"; cpu="${kc##*:}"
        a="$(count "$cpu" "$k" "$s" 1)"; b="$(count "$cpu" "$k" "$s" 2)"
        n=$(( b - a ))
        [ -n "$ref" ] || ref="$n"
        printf '| %s | %s | %s | %d | %s |\n' "$s" "$k" "$cpu" "$n" \
            "$(awk -v r="$ref" -v n="$n" 'BEGIN { printf "%.2fx fewer", r / n }')"
    done
done
