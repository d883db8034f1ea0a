#!/usr/bin/env bash
# Runs the on-target kernel check (src/bin/kernel_check.rs) on an emulated Cortex-M: every int8
# kernel variant the firmware is built with (Helium on the M55, the DSP extension on all three)
# against the portable reference, bit for bit, with the real instructions.
#
#   targets/cortex-m/kernel-check.sh [m4 m7 m55]      (default: m55)
#
# Needs what run.sh needs (QEMU, the Rust targets). Exit status 0 when every case matches.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cpus=("$@")
[ ${#cpus[@]} -gt 0 ] || cpus=(m55)
# The firmware's build script wants a model; any valid one (it is not used): the smallest
# checked-in MLPerf Tiny model, compiled by the host CLI.
repo="$(cd "$here/../.." && pwd)"
work="${MOTE_CM_TARGET_DIR:-$here/target}/kernel-check"
mkdir -p "$work"
if [ -z "${MOTE:-}" ]; then
    (cd "$repo" && cargo build --quiet --release -p mote-cli --bin mote)
    MOTE="$repo/target/release/mote"
fi
[ -f "$work/kws.mote" ] || "$MOTE" compile "$repo/models/mlperf-tiny/kws_ref_model.onnx" \
    -o "$work/kws.mote" --input-shape "input_1=1,49,10,1" >/dev/null
fail=0
for cpu in "${cpus[@]}"; do
    case "$cpu" in
        m4)  target=thumbv7em-none-eabihf;     rcpu=cortex-m4;  machine=(-M mps2-an386 -cpu cortex-m4) ;;
        m7)  target=thumbv7em-none-eabihf;     rcpu=cortex-m7;  machine=(-M mps2-an500 -cpu cortex-m7) ;;
        m55) target=thumbv8m.main-none-eabihf; rcpu=cortex-m55; machine=(-M mps3-an547) ;;
        *) echo "kernel-check.sh: cpu must be m4, m7 or m55 (got '$cpu')" >&2; exit 2 ;;
    esac
    tdir="${MOTE_CM_TARGET_DIR:-$here/target}/$cpu-O3"
    (
        cd "$here"
        unset CARGO_ENCODED_RUSTFLAGS
        MOTE_MODEL="$work/kws.mote" CARGO_TARGET_DIR="$tdir" RUSTFLAGS="-C target-cpu=$rcpu" \
            CARGO_PROFILE_RELEASE_OPT_LEVEL=3 \
            cargo build --quiet --release --target "$target" --features kernel-check --bin kernel-check
    )
    log="$work/$cpu.txt"
    if timeout "${MOTE_QEMU_TIMEOUT:-600}" "${QEMU:-qemu-system-arm}" "${machine[@]}" -nographic \
        -monitor none -serial none -semihosting-config enable=on,target=native \
        -kernel "$tdir/$target/release/kernel-check" >"$log" 2>&1 </dev/null; then
        sed "s/^/$cpu: /" "$log"
    else
        sed "s/^/$cpu: /" "$log" >&2
        echo "FAIL kernel check on $cpu" >&2
        fail=1
    fi
done
exit "$fail"
