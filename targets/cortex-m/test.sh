#!/usr/bin/env bash
# Runs the four int8 MLPerf Tiny models on the emulated Cortex-M4 (mps2-an386), Cortex-M7
# (mps2-an500) and Cortex-M55 (mps3-an547), and checks that every output element equals the
# host's `mote run` result; on the M55 also runs kernel-check.sh (every int8 kernel variant against
# the reference on the target). Exits non-zero on any mismatch, build failure or QEMU failure.
#
#   targets/cortex-m/test.sh [m4 m7 m55]      (default: all three cores)
#
# Needs (installs nothing): qemu-system-arm, the Rust targets thumbv7em-none-eabihf and
# thumbv8m.main-none-eabihf, and the project's Python environment (.venv, numpy) to make the
# inputs and compare the outputs. Builds the host CLI (cargo build --release -p mote-cli) unless
# MOTE names a mote binary. Work files go to targets/cortex-m/target/test.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cpus=("$@")
[ ${#cpus[@]} -gt 0 ] || cpus=(m4 m7 m55)

py="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$py" ] || { echo "test.sh: no Python at $py (run scripts/python-env.sh, or set PYTHON)" >&2; exit 2; }
if [ -z "${MOTE:-}" ]; then
    (cd "$repo" && cargo build --quiet --release -p mote-cli --bin mote)
    MOTE="$repo/target/release/mote"
fi
work="${MOTE_CM_TARGET_DIR:-$here/target}/test"
mkdir -p "$work"

# name | ONNX file | input name | input shape
models=(
    "vww|vww_96_int8|input_1_int8|1,96,96,3"
    "ic|pretrainedResnet_quant|input_1_int8|1,32,32,3"
    "kws|kws_ref_model|input_1|1,49,10,1"
    "ad|ad01_int8|input_1|1,640"
)

pass=0
fail=0
summary=()
for entry in "${models[@]}"; do
    IFS='|' read -r name onnx iname shape <<< "$entry"
    m="$work/$name.mote"
    x="$work/${name}_input.npy"
    y="$work/${name}_host.npy"
    "$MOTE" compile "$repo/models/mlperf-tiny/$onnx.onnx" -o "$m" --input-shape "$iname=$shape" >/dev/null
    # A deterministic int8 input covering the whole range (seeded; the same on every machine).
    "$py" -c "
import sys, numpy as np
shape = tuple(int(d) for d in sys.argv[2].split(','))
np.save(sys.argv[1], np.random.default_rng(2026).integers(-128, 128, size=shape, dtype=np.int8))
" "$x" "$shape"
    "$MOTE" run "$m" --input "$x" --output "$y" >/dev/null
    for cpu in "${cpus[@]}"; do
        log="$work/${name}_$cpu.txt"
        if ! "$here/run.sh" "$m" "$x" --cpu "$cpu" --all >"$log" 2>"$log.err"; then
            cat "$log" "$log.err" >&2
            echo "FAIL $name on $cpu: run.sh failed" >&2
            fail=$((fail + 1))
            continue
        fi
        if verdict="$("$py" -c "
import sys, numpy as np
host = np.load(sys.argv[1]).astype(np.float64).ravel()
line = open(sys.argv[2]).readline().split()
dev = np.array([float(v) for v in line], dtype=np.float64)
if dev.shape != host.shape:
    print(f'{dev.size} values, the host has {host.size}'); sys.exit(1)
bad = np.flatnonzero(dev != host)
if bad.size:
    i = bad[0]
    print(f'{bad.size} of {host.size} elements differ, first at {i}: {dev[i]} vs host {host[i]}')
    sys.exit(1)
print(f'{host.size} elements equal')
" "$y" "$log")"; then
            insns="$(sed -n 's/^instructions: //p' "$log")"
            echo "ok   $name on $cpu: $verdict, $insns instructions"
            summary+=("$name $cpu $insns")
            pass=$((pass + 1))
        else
            echo "FAIL $name on $cpu: $verdict" >&2
            fail=$((fail + 1))
        fi
    done
done

# A wrong input must be refused (here at build time: the shape does not fit the model).
if "$here/run.sh" "$work/ic.mote" "$work/kws_input.npy" --cpu "${cpus[0]}" >/dev/null 2>&1; then
    echo "FAIL run.sh accepted an input of the wrong shape" >&2
    fail=$((fail + 1))
else
    echo "ok   run.sh refuses an input of the wrong shape"
    pass=$((pass + 1))
fi

# The kernels one by one on the M55 (Helium and DSP variants against the reference, real
# instructions): kernel-check.sh.
case " ${cpus[*]} " in
    *" m55 "*)
        if MOTE="$MOTE" "$here/kernel-check.sh" m55; then
            pass=$((pass + 1))
        else
            echo "FAIL kernel check on m55" >&2
            fail=$((fail + 1))
        fi
        ;;
esac

echo
echo "instructions per inference (Helium kernels on the M55 and DSP kernels where they apply, else the portable ones):"
printf '  %-5s %-4s %14s\n' model core instructions
for s in "${summary[@]}"; do
    # shellcheck disable=SC2086
    printf '  %-5s %-4s %14s\n' $s
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
