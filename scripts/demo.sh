#!/usr/bin/env bash
# The main job on a bundled model: build mote, compile the MLPerf Tiny person detector (int8,
# visual wake words) from models/, run it on two bundled photographs, print the answers and the
# latency. Needs only cargo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
mote=target/release/mote
out=target/demo
mkdir -p "$out"
"$mote" compile models/mlperf-tiny/vww_96_int8.onnx -o "$out/vww_96_int8.mote" \
    --input-shape input_1_int8=1,96,96,3 --image-input input_1_int8 \
    --scale 0.00392156862745098 --label no_person --label person --name "visual wake words (int8)"
for picture in models/images/astronaut.png models/images/chelsea.png; do
    echo "== $picture"
    "$mote" run "$out/vww_96_int8.mote" --image "$picture" --top 2
done
"$mote" bench "$out/vww_96_int8.mote" --iters 20
