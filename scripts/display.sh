#!/usr/bin/env bash
# The display example end to end: the person detector (MLPerf Tiny VWW int8) drawn into a
# 240x240 RGB565 framebuffer by the same embedded-graphics code on the host and on an emulated
# Cortex-M4 (QEMU mps2-an386), for models/images/astronaut.png and chelsea.png. For each photo
# it checks that the firmware prints the host's lines (label, probability, framebuffer CRC-32).
# (That the host draws the PNGs committed under examples/display/ pixel for pixel, and the
# label and probability of `mote run`, is `cargo test -p mote-example-display`.)
#
#   scripts/display.sh [m4 m7 m55]      (default: m4; CI runs the default)
#
#   m4   Cortex-M4F, QEMU mps2-an386       m7   Cortex-M7, QEMU mps2-an500
#   m55  Cortex-M55 (Helium), QEMU mps3-an547, built at opt-level 3 as targets/cortex-m/run.sh does
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
    case " $* " in *" m55 "*)
        rustup target add thumbv8m.main-none-eabihf >/dev/null 2>&1 || rustup target add thumbv8m.main-none-eabihf ;;
    esac
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

cpus=("$@")
[ ${#cpus[@]} -gt 0 ] || cpus=(m4)
pass=0
fail=0
for photo in astronaut chelsea; do
    "$display" "$work/vww.mote" "models/images/$photo.png" \
        --png "$work/$photo.png" --npy "$work/$photo.npy" >"$work/${photo}_host.txt"
  for cpu in "${cpus[@]}"; do
    case "$cpu" in
        m4)  target=thumbv7em-none-eabihf;     rcpu=cortex-m4;  machine=(-M mps2-an386 -cpu cortex-m4); ns=40;    opt=s; name="Cortex-M4 (QEMU mps2-an386)" ;;
        m7)  target=thumbv7em-none-eabihf;     rcpu=cortex-m7;  machine=(-M mps2-an500 -cpu cortex-m7); ns=40;    opt=s; name="Cortex-M7 (QEMU mps2-an500)" ;;
        m55) target=thumbv8m.main-none-eabihf; rcpu=cortex-m55; machine=(-M mps3-an547);                ns=125/4; opt=3; name="Cortex-M55 (QEMU mps3-an547)" ;;
        *) echo "display.sh: unknown core '$cpu' (m4, m7 or m55)" >&2; exit 2 ;;
    esac

    # The firmware, with the picture the host made embedded in flash.
    tdir="${MOTE_CM_TARGET_DIR:-$repo/targets/cortex-m/target}/display-$cpu"
    if ! (
        cd targets/cortex-m
        unset CARGO_ENCODED_RUSTFLAGS
        MOTE_MODEL="$work/vww.mote" MOTE_INPUT="$work/$photo.npy" MOTE_NS_PER_TICK="$ns" \
            CARGO_TARGET_DIR="$tdir" RUSTFLAGS="-C target-cpu=$rcpu" CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
            cargo build --quiet --release --target "$target" --features display --bin display
    ); then
        echo "FAIL $photo: building the firmware failed ($cpu)" >&2
        fail=$((fail + 1))
        continue
    fi
    set +e
    # Output to files: a pipe closed early would leave QEMU spinning.
    timeout 300 qemu-system-arm "${machine[@]}" -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -icount shift=0 \
        -kernel "$tdir/$target/release/display" \
        >"$work/${photo}_$cpu.txt" 2>"$work/${photo}_$cpu.err" </dev/null
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
        cat "$work/${photo}_$cpu.txt" "$work/${photo}_$cpu.err" >&2
        echo "FAIL $photo: the firmware exited with status $rc on $name" >&2
        fail=$((fail + 1))
        continue
    fi
    if diff <(head -n 3 "$work/${photo}_$cpu.txt") "$work/${photo}_host.txt" >&2; then
        echo "ok   $photo: $name prints the host's lines:"
        sed 's/^/       /' "$work/${photo}_$cpu.txt"
        pass=$((pass + 1))
    else
        echo "FAIL $photo: the firmware's lines on $name differ from the host's (above: < firmware, > host)" >&2
        fail=$((fail + 1))
    fi
  done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
