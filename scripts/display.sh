#!/usr/bin/env bash
# The display example end to end: the person detector (MLPerf Tiny VWW int8) drawn into a
# 240x240 RGB565 framebuffer by the same embedded-graphics code on the host and on an emulated
# Cortex-M4 (QEMU mps2-an386), for models/images/astronaut.png and chelsea.png. For each photo
# it checks that the firmware prints the host's lines (label, probability, framebuffer CRC-32).
# (That the host draws the PNGs committed under examples/display/ pixel for pixel, and the
# label and probability of `mote run`, is `cargo test -p mote-example-display`.)
#
#   scripts/display.sh
#
# Installs what it needs when missing (idempotent): the Rust target thumbv7em-none-eabihf and
# QEMU (Debian's qemu-system-arm). Builds the host CLI and the display example (release), then
# the firmware's `display` binary once per photo (the picture is embedded in flash).
# Work files: target/display/. Ends with "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

if command -v rustup >/dev/null 2>&1; then
    rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || rustup target add thumbv7em-none-eabihf
fi
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-arm >/dev/null
fi

cargo build --quiet --release -p mote-cli --bin mote -p mote-example-display --bin display
mote="$repo/target/release/mote"
display="$repo/target/release/display"
work="$repo/target/display"
mkdir -p "$work"

# The model as scripts/demo.sh compiles it: image pre-processing and labels in its metadata.
"$mote" compile models/mlperf-tiny/vww_96_int8.onnx -o "$work/vww.mote" \
    --input-shape input_1_int8=1,96,96,3 --image-input input_1_int8 \
    --scale 0.00392156862745098 --label no_person --label person \
    --name "visual wake words (int8)" >/dev/null

pass=0
fail=0
for photo in astronaut chelsea; do
    "$display" "$work/vww.mote" "models/images/$photo.png" \
        --png "$work/$photo.png" --npy "$work/$photo.npy" >"$work/${photo}_host.txt"

    # The firmware, with the picture the host made embedded in flash.
    tdir="${MOTE_CM_TARGET_DIR:-$repo/targets/cortex-m/target}/display-m4"
    if ! (
        cd targets/cortex-m
        unset CARGO_ENCODED_RUSTFLAGS
        MOTE_MODEL="$work/vww.mote" MOTE_INPUT="$work/$photo.npy" MOTE_NS_PER_TICK=40 \
            CARGO_TARGET_DIR="$tdir" RUSTFLAGS="-C target-cpu=cortex-m4" \
            cargo build --quiet --release --target thumbv7em-none-eabihf --features display --bin display
    ); then
        echo "FAIL $photo: building the firmware failed" >&2
        fail=$((fail + 1))
        continue
    fi
    set +e
    # Output to files: a pipe closed early would leave QEMU spinning.
    timeout 300 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -icount shift=0 \
        -kernel "$tdir/thumbv7em-none-eabihf/release/display" \
        >"$work/${photo}_m4.txt" 2>"$work/${photo}_m4.err" </dev/null
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
        cat "$work/${photo}_m4.txt" "$work/${photo}_m4.err" >&2
        echo "FAIL $photo: the firmware exited with status $rc" >&2
        fail=$((fail + 1))
        continue
    fi
    if diff <(head -n 3 "$work/${photo}_m4.txt") "$work/${photo}_host.txt" >&2; then
        echo "ok   $photo: Cortex-M4 (QEMU mps2-an386) prints the host's lines:"
        sed 's/^/       /' "$work/${photo}_m4.txt"
        pass=$((pass + 1))
    else
        echo "FAIL $photo: the firmware's lines differ from the host's (above: < firmware, > host)" >&2
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
