#!/usr/bin/env bash
# Instruction counts and footprint of the four int8 MLPerf Tiny models on the emulated cores, in
# both rounding modes, as a Markdown table (the microcontroller table of docs/benchmarks-mcu.md).
#
#   targets/cortex-m/bench.sh [m4 m7 m55]      (default: all three cores)
#
# Per model, core and rounding mode (`litert`, the default, and `tflm`): executed instructions
# for one inference (QEMU -icount, see run.sh), the estimated latency at the board clock below
# assuming one instruction per cycle (a proxy: real cores stall on flash wait states and
# multi-cycle instructions, and the M7 dual-issues), flash (runtime code, i.e. .text + .rodata
# without the model, and the model bytes) and RAM (arena + statics + stack high-water mark, the
# stack painted before the run). Clocks: Cortex-M4 120 MHz (NUCLEO-L4R5ZI, the MLPerf Tiny
# reference board), Cortex-M7 216 MHz (NUCLEO-F767ZI), Cortex-M55 400 MHz (Alif Ensemble E7 HP).
#
# MODELS="VWW KWS" limits the models. Every output is also compared with the host's `mote run` (last column; exit status 1 if any
# differs). Needs what test.sh needs (QEMU, the Rust targets, .venv). Builds the host CLI unless MOTE is set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cpus=("$@")
[ ${#cpus[@]} -gt 0 ] || cpus=(m4 m7 m55)
py="${PYTHON:-$repo/.venv/bin/python}"
if [ -z "${MOTE:-}" ]; then
    (cd "$repo" && cargo build --quiet --release -p mote-cli --bin mote)
    MOTE="$repo/target/release/mote"
fi
work="${MOTE_CM_TARGET_DIR:-$here/target}/bench"
mkdir -p "$work"

models=(
    "VWW|vww_96_int8|input_1_int8|1,96,96,3"
    "IC|pretrainedResnet_quant|input_1_int8|1,32,32,3"
    "KWS|kws_ref_model|input_1|1,49,10,1"
    "AD|ad01_int8|input_1|1,640"
)
mhz() { case "$1" in m4) echo 120 ;; m7) echo 216 ;; m55) echo 400 ;; esac; }

echo "| model | core | rounding | instructions | est. ms @ MHz | flash code | flash model | RAM (arena + statics + stack) | output = host |"
echo "|---|---|---|---:|---:|---:|---:|---:|---|"
fail=0
for entry in "${models[@]}"; do
    IFS='|' read -r name onnx iname shape <<< "$entry"
    case " ${MODELS:-VWW IC KWS AD} " in *" $name "*) ;; *) continue ;; esac
    x="$work/${name}_input.npy"
    "$py" -c "
import sys, numpy as np
shape = tuple(int(d) for d in sys.argv[2].split(','))
np.save(sys.argv[1], np.random.default_rng(2026).integers(-128, 128, size=shape, dtype=np.int8))
" "$x" "$shape"
    for rounding in litert tflm; do
        m="$work/${name}_$rounding.mote"
        "$MOTE" compile "$repo/models/mlperf-tiny/$onnx.onnx" -o "$m" --input-shape "$iname=$shape" \
            --rounding "$rounding" >/dev/null
        y="$work/${name}_${rounding}_host.npy"
        "$MOTE" run "$m" --input "$x" --output "$y" >/dev/null
        for cpu in "${cpus[@]}"; do
            log="$work/${name}_${rounding}_$cpu.txt"
            "$here/run.sh" "$m" "$x" --cpu "$cpu" --all >"$log"
            if "$py" -c "
import sys, numpy as np
host = np.load(sys.argv[1]).astype(np.float64).ravel()
dev = np.array([float(v) for v in open(sys.argv[2]).readline().split()])
sys.exit(0 if dev.shape == host.shape and (dev == host).all() else 1)
" "$y" "$log"; then same=yes; else same=NO; fail=1; fi
            insns="$(sed -n 's/^instructions: //p' "$log")"
            # flash: T bytes = code C (...) + model M + input I
            code="$(sed -n 's/^flash: .* = code \([0-9]*\) .*/\1/p' "$log")"
            model="$(sed -n 's/^flash: .* + model \([0-9]*\) .*/\1/p' "$log")"
            ram="$(sed -n 's/^ram: \([0-9]*\) bytes = arena \([0-9]*\) + other statics \([0-9]*\) + stack high-water \([0-9]*\).*/\1 = \2 + \3 + \4/p' "$log")"
            f="$(mhz "$cpu")"
            ms="$(awk -v n="$insns" -v f="$f" 'BEGIN { printf "%.1f", n / (f * 1000) }')"
            printf '| %s | %s | %s | %s | %s @ %s | %s | %s | %s | %s |\n' \
                "$name" "$cpu" "$rounding" "$insns" "$ms" "$f" "$code" "$model" "$ram" "$same"
        done
    done
done
exit "$fail"
