#!/usr/bin/env bash
# Raspberry Pi class Arm Linux and the C ABI's iOS build, tested on an x86-64 Linux host (Debian).
# Called by scripts/test.sh; can be run alone: `bash scripts/arm-linux.sh`.
#
#   1. installs what it needs when missing: the Rust targets aarch64-unknown-linux-gnu,
#      thumbv7neon-unknown-linux-gnueabihf and aarch64-apple-ios (rustup); Debian's cross
#      compilers, Arm glibc and qemu-user (apt-get);
#   2. cross-compiles the `mote` CLI for both Linux targets (64-bit and 32-bit Raspberry Pi OS);
#   3. runs the tests of mote-format, mote-kernels and mote-runtime under qemu-aarch64 with
#      QEMU_CPU=cortex-a72 (Pi 4: no dot product), cortex-a76 (Pi 5: dot product) and max (dot
#      product and the int8 matrix multiply, like a Cortex-A710 or Neoverse N2 phone or server
#      core), and under qemu-arm with cortex-a7 (Pi 2); the kernels are built with `std`, so
#      their run-time CPU detection picks what the emulated CPU has, a probe checks that the CPU
#      model is seen, and MOTE_EXPECT_ISA makes the dispatch test fail unless the kernels pick
#      that CPU's instruction set;
#   4. compiles the MLPerf Tiny models of models/mlperf-tiny with the host `mote` (the int8 ones
#      twice: default rounding and `--rounding float`), runs each with the host build and with
#      the Arm builds under QEMU on the same input, and requires the int8
#      outputs to be identical byte for byte and the float outputs within a relative 1e-5
#      (max|arm - x86| <= 1e-5 * max|x86| per output: the x86 f32 kernels use FMA and another
#      summation order than the Arm ones);
#   5. builds the C ABI's static library for aarch64-apple-ios, and links examples/c/main.c
#      against the Arm Linux static libraries with the cross gcc and runs it under QEMU: its
#      output must equal the host build's line for line.
#
# Idempotent: installs are skipped when present and cargo rebuilds only what changed. It prints
# the wall time of each part at the end. The linkers and QEMU runners are set here through
# CARGO_TARGET_<TRIPLE>_LINKER / _RUNNER, so a plain host `cargo build` is unaffected.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

aarch64=aarch64-unknown-linux-gnu
armv7=thumbv7neon-unknown-linux-gnueabihf
ios=aarch64-apple-ios
aarch64_sysroot=/usr/aarch64-linux-gnu
armv7_sysroot=/usr/arm-linux-gnueabihf
aarch64_cpus=(cortex-a72 cortex-a76 max)
# The instruction set the kernels must pick on each (`mote_kernels::dispatch::best`).
declare -A expect_isa=([cortex-a72]=neon [cortex-a76]=neon_dotprod [max]=neon_i8mm)
armv7_cpu=cortex-a7
# Relative tolerance of float models, Arm against x86 (see 4. above).
f32_rtol=1e-5
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
work="$target_dir/arm-linux"
mkdir -p "$work"

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $aarch64_sysroot"
export CARGO_TARGET_THUMBV7NEON_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_THUMBV7NEON_UNKNOWN_LINUX_GNUEABIHF_RUNNER="qemu-arm -L $armv7_sysroot"

step() { printf '==> arm-linux: %s\n' "$*"; }
die() { printf 'arm-linux: error: %s\n' "$*" >&2; exit 1; }

timings=()
part_name=""
part_start=0
begin() { part_name="$1"; part_start="$(date +%s.%N)"; step "$1"; }
end() {
    timings+=("$(awk -v a="$part_start" -v b="$(date +%s.%N)" -v n="$part_name" 'BEGIN { printf "%7.1f s  %s", b - a, n }')")
}

# ---------------------------------------------------------------------------------------------
begin "installs (rustup targets, cross gcc, Arm glibc, qemu-user)"
missing=()
for cmd in qemu-aarch64 qemu-arm aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
[ -e "$aarch64_sysroot/lib/libc.so.6" ] || missing+=("$aarch64_sysroot/lib/libc.so.6")
[ -e "$armv7_sysroot/lib/libc.so.6" ] || missing+=("$armv7_sysroot/lib/libc.so.6")
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing with apt-get (missing: ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
        gcc-arm-linux-gnueabihf libc6-dev-armhf-cross >/dev/null
fi
command -v rustup >/dev/null 2>&1 || die "rustup is needed to add the Rust targets $aarch64 $armv7 $ios"
installed="$(rustup target list --installed)"
for t in "$aarch64" "$armv7" "$ios"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
end

# ---------------------------------------------------------------------------------------------
begin "build: mote CLI and libmote_c for x86-64 (host), $aarch64, $armv7"
cargo build --release -p mote-cli -p mote-c
for t in "$aarch64" "$armv7"; do
    cargo build --release -p mote-cli -p mote-c --target "$t"
done
host_mote="$target_dir/release/mote"
aarch64_mote="$target_dir/$aarch64/release/mote"
armv7_mote="$target_dir/$armv7/release/mote"
# The binaries start and report their version under emulation.
QEMU_CPU=cortex-a72 qemu-aarch64 -L "$aarch64_sysroot" "$aarch64_mote" --version
QEMU_CPU="$armv7_cpu" qemu-arm -L "$armv7_sysroot" "$armv7_mote" --version
end

# ---------------------------------------------------------------------------------------------
begin "CPU models: run-time feature detection under qemu-aarch64"
probe="$work/cpu-features"
if [ ! -x "$probe" ] || [ "$here/arm-linux/cpu-features.rs" -nt "$probe" ]; then
    rustc --edition 2021 -O --target "$aarch64" -C linker=aarch64-linux-gnu-gcc \
        -o "$probe" "$here/arm-linux/cpu-features.rs"
fi
for cpu in "${aarch64_cpus[@]}"; do
    seen="$(QEMU_CPU="$cpu" qemu-aarch64 -L "$aarch64_sysroot" "$probe")"
    echo "$cpu: $seen"
    case "$cpu:$seen" in
        cortex-a72:*asimd=yes*dotprod=no*i8mm=no*) ;;
        cortex-a76:*asimd=yes*dotprod=yes*i8mm=no*) ;;
        max:*asimd=yes*dotprod=yes*i8mm=yes*) ;;
        *) die "QEMU_CPU=$cpu: unexpected features ($seen); the kernel tests would not cover the path this CPU selects" ;;
    esac
done
end

# ---------------------------------------------------------------------------------------------
# The kernels with `std` (run-time detection), the format with its writer (the reader tests).
runtime_tests=(-p mote-format -p mote-kernels -p mote-runtime
    --features mote-format/write,mote-kernels/std,mote-runtime/std)
for cpu in "${aarch64_cpus[@]}"; do
    begin "tests of the runtime crates under qemu-aarch64, QEMU_CPU=$cpu"
    QEMU_CPU="$cpu" MOTE_EXPECT_ISA="${expect_isa[$cpu]}" \
        cargo test --release --target "$aarch64" "${runtime_tests[@]}"
    end
done
begin "tests of the runtime crates under qemu-arm, QEMU_CPU=$armv7_cpu"
QEMU_CPU="$armv7_cpu" cargo test --release --target "$armv7" "${runtime_tests[@]}"
end

# ---------------------------------------------------------------------------------------------
begin "mote run: MLPerf Tiny models, Arm under QEMU against the x86 host"
# model, input name, input shape, input type, `mote compile --rounding` (the int8 models also
# with `float`: the f32 output stage, FCVTNS on aarch64, the scalar rule on armv7, must give the
# x86 host's bytes too)
models=(
    "vww_96_int8 input_1_int8 1,96,96,3 int8 litert"
    "pretrainedResnet_quant input_1_int8 1,32,32,3 int8 litert"
    "kws_ref_model input_1 1,49,10,1 int8 litert"
    "ad01_int8 input_1 1,640 int8 litert"
    "vww_96_int8 input_1_int8 1,96,96,3 int8 float"
    "pretrainedResnet_quant input_1_int8 1,32,32,3 int8 float"
    "kws_ref_model input_1 1,49,10,1 int8 float"
    "ad01_int8 input_1 1,640 int8 float"
    "vww_96_float input_1 1,96,96,3 float32 litert"
    "pretrainedResnet input_1 1,32,32,3 float32 litert"
    "kws_ref_model_float32 input_1 1,49,10,1 float32 litert"
    "ad01_fp32 input_1 1,640 float32 litert"
)
results=()
failed=0
for entry in "${models[@]}"; do
    read -r model input shape dtype rounding <<<"$entry"
    label="$model"
    [ "$rounding" = litert ] || label="$model ($rounding)"
    dir="$work/models/$model"
    [ "$rounding" = litert ] || dir="$work/models/$model-$rounding"
    mkdir -p "$dir"
    "$host_mote" compile "models/mlperf-tiny/$model.onnx" -o "$dir/model.mote" \
        --input-shape "$input=$shape" --rounding "$rounding" >/dev/null
    python3 "$here/arm-linux/npy.py" gen "$dtype" "$shape" 2026 "$dir/input.npy"
    "$host_mote" run "$dir/model.mote" --input "$dir/input.npy" --output "$dir/x86_64.npy" >/dev/null
    runs=()
    for cpu in "${aarch64_cpus[@]}"; do
        runs+=("aarch64:$cpu")
    done
    runs+=("armv7:$armv7_cpu")
    for run in "${runs[@]}"; do
        arch="${run%%:*}"
        cpu="${run#*:}"
        out="$dir/$arch-$cpu.npy"
        rm -f "$out"
        if [ "$arch" = aarch64 ]; then
            QEMU_CPU="$cpu" qemu-aarch64 -L "$aarch64_sysroot" "$aarch64_mote" \
                run "$dir/model.mote" --input "$dir/input.npy" --output "$out" >/dev/null
        else
            QEMU_CPU="$cpu" qemu-arm -L "$armv7_sysroot" "$armv7_mote" \
                run "$dir/model.mote" --input "$dir/input.npy" --output "$out" >/dev/null
        fi
        if [ "$dtype" = int8 ]; then
            if cmp -s "$dir/x86_64.npy" "$out"; then
                verdict="bit-exact"
            else
                verdict="DIFFERS from x86 ($(cmp "$dir/x86_64.npy" "$out" | head -1))"
                failed=1
            fi
        else
            if verdict="$(python3 "$here/arm-linux/npy.py" compare-f32 "$dir/x86_64.npy" "$out" "$f32_rtol")"; then
                cmp -s "$dir/x86_64.npy" "$out" && verdict="bit-exact; $verdict"
            else
                failed=1
            fi
        fi
        results+=("$(printf '%-32s %-8s %-11s %s' "$label" "$arch" "$cpu" "$verdict")")
    done
done
printf '%s\n' "${results[@]}"
[ "$failed" = 0 ] || die "Arm outputs differ from the x86 host's (above)"
end

# ---------------------------------------------------------------------------------------------
begin "C ABI: examples/c on Arm Linux under QEMU against the host; staticlib for $ios"
c_model="$work/models/vww_96_int8/model.mote"
c_input="$work/models/vww_96_int8/input.raw"
# The example reads raw tensor bytes: the .npy's data after its header.
python3 - "$work/models/vww_96_int8/input.npy" "$c_input" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
(hlen,) = struct.unpack("<H", data[8:10])
open(sys.argv[2], "wb").write(data[10 + hlen:])
PY
cflags=(-O2 -Wall -Wextra -Werror -std=c11 -D_POSIX_C_SOURCE=200112L -I targets/c-abi/include)
# What Rust's standard library needs from glibc (as examples/c/Makefile).
ldlibs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
cc "${cflags[@]}" examples/c/main.c "$target_dir/release/libmote_c.a" "${ldlibs[@]}" \
    -o "$work/mote_example-x86_64"
aarch64-linux-gnu-gcc "${cflags[@]}" examples/c/main.c "$target_dir/$aarch64/release/libmote_c.a" \
    "${ldlibs[@]}" -o "$work/mote_example-aarch64"
arm-linux-gnueabihf-gcc "${cflags[@]}" examples/c/main.c "$target_dir/$armv7/release/libmote_c.a" \
    "${ldlibs[@]}" -o "$work/mote_example-armv7"
"$work/mote_example-x86_64" -a "$c_model" "$c_input" >"$work/c-x86_64.txt"
for cpu in "${aarch64_cpus[@]}"; do
    QEMU_CPU="$cpu" qemu-aarch64 -L "$aarch64_sysroot" "$work/mote_example-aarch64" -a "$c_model" "$c_input" \
        >"$work/c-aarch64-$cpu.txt"
done
QEMU_CPU="$armv7_cpu" qemu-arm -L "$armv7_sysroot" "$work/mote_example-armv7" -a "$c_model" "$c_input" \
    >"$work/c-armv7.txt"
for f in "$work"/c-aarch64-*.txt "$work/c-armv7.txt"; do
    diff -u "$work/c-x86_64.txt" "$f" || die "examples/c prints something else on $(basename "$f" .txt)"
done
head -3 "$work/c-x86_64.txt"
echo "examples/c (vww_96_int8, every output): aarch64 (${aarch64_cpus[*]}) and armv7 print the same as x86-64"
# iOS: a static library needs no Apple linker, so it builds here; linking it into an app is Xcode's job.
cargo rustc --release -p mote-c --target "$ios" --crate-type staticlib
ios_lib="$target_dir/$ios/release/libmote_c.a"
[ -s "$ios_lib" ] || die "no $ios_lib"
grep -q "_mote_model_load" "$ios_lib" || die "$ios_lib exports no _mote_model_load"
echo "$ios_lib: $(du -h "$ios_lib" | cut -f1)"
end

# ---------------------------------------------------------------------------------------------
step "wall time per part"
printf '%s\n' "${timings[@]}"
