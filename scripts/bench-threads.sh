#!/usr/bin/env bash
# Speed-up of `mote bench --threads N` over one thread, per model, measured side by side.
#
#   bash scripts/bench-threads.sh [-n THREADS] [-r ROUNDS] [-s SECONDS] MODEL.mote...
#
# Each round runs `mote bench` once with one thread and once with THREADS (default 2), in
# alternating order, each for about SECONDS (default 2) of inferences after 100 warm-up ones;
# the table gives the median over ROUNDS (default 5) of each and of the per-round ratio, and the
# range of the per-round ratios (on a shared machine whose other cores are busy now and then, a
# round can lose its second core: the range shows it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
threads=2 rounds=5 seconds=2
while getopts "n:r:s:" o; do
    case "$o" in
        n) threads="$OPTARG" ;;
        r) rounds="$OPTARG" ;;
        s) seconds="$OPTARG" ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-n THREADS] [-r ROUNDS] [-s SECONDS] MODEL.mote..." >&2; exit 2; }
cargo build --release --quiet -p mote-cli --manifest-path "$repo/Cargo.toml" >&2
mote="${CARGO_TARGET_DIR:-$repo/target}/release/mote"
median_ms() { "$mote" bench "$1" --threads "$2" --iters "$3" --warmup 100 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])'; }
echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run; mote $(git -C "$repo" rev-parse --short HEAD)."
echo "Command: bash scripts/bench-threads.sh -n $threads -r $rounds -s $seconds $*"
echo
echo "| model | 1 thread, ms | $threads threads, ms | speed-up (median of rounds) | range over rounds |"
echo "|---|---:|---:|---:|---|"
for m in "$@"; do
    one_ms="$(median_ms "$m" 1 20)"
    iters="$(python3 -c "print(max(20, int($seconds * 1000 / $one_ms)))")"
    ones=() manys=()
    for r in $(seq "$rounds"); do
        if [ $((r % 2)) -eq 1 ]; then
            ones+=("$(median_ms "$m" 1 "$iters")"); manys+=("$(median_ms "$m" "$threads" "$iters")")
        else
            manys+=("$(median_ms "$m" "$threads" "$iters")"); ones+=("$(median_ms "$m" 1 "$iters")")
        fi
    done
    python3 - "$(basename "$m")" "${ones[*]}" "${manys[*]}" <<'PY'
import statistics as st, sys
name, ones, manys = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
ratios = [a / b for a, b in zip(ones, manys)]
print(f"| {name} | {st.median(ones):.3f} | {st.median(manys):.3f} | **{st.median(ratios):.2f}** | {min(ratios):.2f}–{max(ratios):.2f} |")
PY
done
