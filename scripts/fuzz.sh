#!/usr/bin/env bash
# Fuzzes mote with cargo fuzz (libFuzzer, AddressSanitizer): each target for SECONDS (default 60).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     # targets: model onnx npy image (default: all)
#
# Targets (fuzz/fuzz_targets, the code they run is fuzz/src/lib.rs):
#   model  any bytes as a .mote file: load, interpreter set-up, one run with the arena it asks for
#   onnx   any bytes as an ONNX model: compile (symbolic input dimensions fixed to 1)
#   npy    any bytes as a `mote run --input` .npy file
#   image  any bytes as a `mote run --image` picture: decode, resize, normalise
#
# Installs what it needs, idempotently: the nightly toolchain (rustup) and cargo-fuzz (crates.io).
# Seeds: fuzz/seeds/* (committed) and, for the model target, the MLPerf Tiny models and the seed
# ONNX models compiled by `mote compile` into fuzz/seeds-generated/model. New corpus entries go
# to fuzz/corpus/<target>, crashes to fuzz/artifacts/<target>, libFuzzer's log to fuzz/logs/<target>.log; the script fails if any target
# crashed (libFuzzer's exit code), after running all of them. A summary line per target
# (executions, crashes) is printed at the end. Extra libFuzzer flags: FUZZ_FLAGS="-jobs=2 ...".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model onnx npy image)

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Seeds for the model target: compiled models (regenerated when the compiler changes).
mote="$repo/target/release/mote"
cargo build --release -p mote-cli --quiet
gen="$repo/fuzz/seeds-generated/model"
mkdir -p "$gen"
compile_seed() { # ONNX OUT [--input-shape ...]
    local onnx="$1" out="$2"
    shift 2
    if [ ! -f "$out" ] || [ "$out" -ot "$mote" ]; then
        "$mote" compile "$onnx" -o "$out" "$@" >/dev/null
    fi
}
m="$repo/models/mlperf-tiny"
compile_seed "$m/ad01_int8.onnx" "$gen/ad01_int8.mote" --input-shape input_1=1,640
compile_seed "$m/ad01_fp32.onnx" "$gen/ad01_fp32.mote" --input-shape input_1=1,640
compile_seed "$m/kws_ref_model.onnx" "$gen/kws_ref_model.mote" --input-shape input_1=1,49,10,1
compile_seed "$m/kws_ref_model_float32.onnx" "$gen/kws_ref_model_float32.mote" --input-shape input_1=1,49,10,1
compile_seed "$m/pretrainedResnet_quant.onnx" "$gen/pretrainedResnet_quant.mote" --input-shape input_1_int8=1,32,32,3
for f in "$repo"/fuzz/seeds/onnx/*.onnx; do
    # regression-* seeds are hostile files that must not compile.
    case "$(basename "$f")" in regression-*) continue ;; esac
    compile_seed "$f" "$gen/$(basename "$f" .onnx).mote"
done

cd "$repo/fuzz"
# --debug-assertions: arithmetic overflow panics (and is found) as in a debug build.
cargo +nightly fuzz build --debug-assertions
summary=()
status=0
for t in "${targets[@]}"; do
    case "$t" in
        # MODEL_MAX_LEN: 2 MB takes every seed whole (the largest, ad01_fp32, is 1 MB) at a few
        # hundred executions a second; 40000 keeps the int8 keyword-spotting model (34 KB) and
        # the operator seeds at thousands a second (what the long run used).
        model) seeds="seeds-generated/model"; max_len="${MODEL_MAX_LEN:-2000000}" ;;
        onnx) seeds="seeds/onnx"; max_len=8192 ;;
        npy) seeds="seeds/npy"; max_len=4096 ;;
        image) seeds="seeds/image"; max_len=4096 ;;
        *) echo "unknown target $t" >&2; exit 2 ;;
    esac
    mkdir -p "corpus/$t" "artifacts/$t" logs
    log="logs/$t.log"
    printf '==> fuzz %s for %s s\n' "$t" "$secs"
    set +e
    # -rss_limit_mb: 2 GiB of memory for one execution is a bug (unbounded allocation);
    # -timeout: one execution running 20 s is a hang.
    # shellcheck disable=SC2086
    nice cargo +nightly fuzz run --debug-assertions "$t" "corpus/$t" "$seeds" -- \
        -max_total_time="$secs" -max_len="$max_len" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1
    rc=$?
    set -e
    # Executions: libFuzzer's final stat, or (fork mode, FUZZ_FLAGS=-fork=N) the last "#N" line.
    execs="$(awk '/stat::number_of_executed_units:/ { s += $2; st = 1 }
                  /^#[0-9]+/ { n = substr($1, 2) + 0; if (n > last) last = n }
                  END { print (st ? s : last) + 0 }' "$log")"
    crashes="$(find "artifacts/$t" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l)"
    if [ "$rc" -ne 0 ]; then
        status=1
        grep -E 'ERROR|panicked|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
    fi
    summary+=("$t: $execs executions in $secs s, exit $rc, $crashes crash/oom/timeout files in fuzz/artifacts/$t")
done
printf '%s\n' "${summary[@]}"
exit "$status"
