#!/usr/bin/env bash
# Runs a compiled model on an emulated Cortex-M and prints its output and instruction count.
#
#   targets/cortex-m/run.sh MODEL.mote INPUT.npy [--cpu m4|m7|m55] [--per-op] [--all]
#
#   --cpu m4   Cortex-M4F, QEMU mps2-an386, thumbv7em-none-eabihf (default)
#   --cpu m7   Cortex-M7,  QEMU mps2-an500, thumbv7em-none-eabihf
#   --cpu m55  Cortex-M55 (Helium), QEMU mps3-an547, thumbv8m.main-none-eabihf
#   --per-op   also print the per-op instruction table
#   --all      print everything the firmware printed (per-op table, footprint)
#
# INPUT.npy must have the model input's exact dtype and shape, as for `mote run --input`.
# Several inputs: join the paths with ':'. It builds the firmware (targets/cortex-m) with the
# model and input embedded, runs it under QEMU with -icount shift=0 (one instruction per virtual
# nanosecond, so SysTick readings are deterministic instruction counts), and prints
#   line 1..n      each output's values, separated by single spaces
#   instructions:  executed instructions for one inference (interpreter + kernels)
#   flash:, ram:   the firmware's footprint
# Exit status: 0 success; the firmware's code if it failed (1 invalid model, 2 inference error,
# 3 HardFault, 101 panic), 124 on timeout, 2 for bad usage or a failed build.
#
# Needs: cargo with the Rust targets (rustup target add thumbv7em-none-eabihf
# thumbv8m.main-none-eabihf) and QEMU (Debian: apt-get install qemu-system-arm). Installs nothing.
# Environment: MOTE_CM_TARGET_DIR (build folder, default targets/cortex-m/target),
# MOTE_QEMU_TIMEOUT (seconds, default 600), QEMU (the qemu-system-arm binary),
# CARGO_PROFILE_RELEASE_OPT_LEVEL (default: s for m4/m7, 3 for m55).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

cpu=m4
show=default
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cpu) [ $# -ge 2 ] || usage; cpu="$2"; shift 2 ;;
        --cpu=*) cpu="${1#--cpu=}"; shift ;;
        --per-op) show=per-op; shift ;;
        --all) show=all; shift ;;
        -h|--help) usage ;;
        -*) echo "run.sh: unknown option $1" >&2; usage ;;
        *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -eq 2 ] || usage
model="${args[0]}"
input="${args[1]}"

case "$cpu" in
    m4)  target=thumbv7em-none-eabihf;     rcpu=cortex-m4;  machine=(-M mps2-an386 -cpu cortex-m4); ns=40;    opt=s ;;
    m7)  target=thumbv7em-none-eabihf;     rcpu=cortex-m7;  machine=(-M mps2-an500 -cpu cortex-m7); ns=40;    opt=s ;;
    m55) target=thumbv8m.main-none-eabihf; rcpu=cortex-m55; machine=(-M mps3-an547);                ns=125/4; opt=3 ;;
    *) echo "run.sh: --cpu must be m4, m7 or m55 (got '$cpu')" >&2; exit 2 ;;
esac
# ns: SysTick period in ns at the machine's clock (25 MHz on mps2, 32 MHz on mps3-an547).
# opt: the release opt-level. On the M4/M7 (reference kernels) "s" gives half the code of "3"
# and slightly fewer instructions; on the M55, "3" lets LLVM vectorise loops with Helium
# (about 25% fewer instructions). CARGO_PROFILE_RELEASE_OPT_LEVEL overrides it.
opt="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-$opt}"

abspath() { (cd "$(dirname "$1")" && printf '%s/%s' "$(pwd)" "$(basename "$1")"); }
[ -f "$model" ] || { echo "run.sh: no such model file: $model" >&2; exit 2; }
model="$(abspath "$model")"
inputs=()
IFS=':' read -r -a parts <<< "$input"
for p in "${parts[@]}"; do
    [ -f "$p" ] || { echo "run.sh: no such input file: $p" >&2; exit 2; }
    inputs+=("$(abspath "$p")")
done
input="$(IFS=':'; echo "${inputs[*]}")"

qemu="${QEMU:-qemu-system-arm}"
command -v "$qemu" >/dev/null 2>&1 || {
    echo "run.sh: $qemu not found; install QEMU (Debian: apt-get install qemu-system-arm)" >&2
    exit 2
}
sysroot="$(rustc --print sysroot)"
[ -d "$sysroot/lib/rustlib/$target" ] || {
    echo "run.sh: the Rust target $target is not installed; run: rustup target add $target" >&2
    exit 2
}

# One build folder per CPU: the RUSTFLAGS differ, and each keeps its dependencies built.
tdir="${MOTE_CM_TARGET_DIR:-$here/target}/$cpu-O$opt"
elf="$tdir/$target/release/mote-cortex-m"
(
    cd "$here"
    unset CARGO_ENCODED_RUSTFLAGS
    MOTE_MODEL="$model" MOTE_INPUT="$input" MOTE_NS_PER_TICK="$ns" \
        CARGO_TARGET_DIR="$tdir" RUSTFLAGS="-C target-cpu=$rcpu" \
        CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
        cargo build --quiet --release --target "$target"
) || { echo "run.sh: building the firmware failed" >&2; exit 2; }

out="$(mktemp)"
err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT
# QEMU's output goes to files: a pipe closed early (| head) would leave QEMU spinning.
set +e
timeout "${MOTE_QEMU_TIMEOUT:-600}" "$qemu" "${machine[@]}" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" >"$out" 2>"$err" </dev/null
rc=$?
set -e
if [ $rc -ne 0 ]; then
    cat "$out"
    cat "$err" >&2
    if [ $rc -eq 124 ]; then
        echo "run.sh: QEMU timed out after ${MOTE_QEMU_TIMEOUT:-600} s ($cpu)" >&2
    else
        echo "run.sh: the firmware failed on $cpu (exit status $rc)" >&2
    fi
    exit $rc
fi
cat "$err" >&2
case "$show" in
    all) cat "$out" ;;
    per-op) grep -v '^model: ' "$out" ;;
    *) grep -v -e '^op ' -e '^model: ' "$out" ;;
esac
