#!/usr/bin/env bash
# mote for Android (targets/android), as CI checks it on a Linux x86-64 host without the NDK:
#   1. installs what it needs when missing: JUnit 4 (Debian package junit4), a JDK (javac), the
#      Rust targets aarch64-linux-android and armv7-linux-androideabi;
#   2. builds the `mote` command and the JNI library for the host (libmote_jni.so, with the
#      test-only feature panic-probe), compiles the two MLPerf Tiny visual-wake-words models
#      (int8 and float) with `mote compile`;
#   3. compiles the Java API (as Java 8 bytecode, which every Android version accepts) and its
#      JUnit tests, and runs them on the host JVM: outputs are compared bit for bit with `mote run`;
#   4. builds the static library libmote_jni.a for both Android targets (no linker needed) and
#      checks that it exports the JNI entry points.
# Exits non-zero if anything fails. Idempotent; fast when done.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

step() { printf '==> android: %s\n' "$*"; }

android_targets=(aarch64-linux-android armv7-linux-androideabi)
junit_jars=(/usr/share/java/junit4.jar /usr/share/java/hamcrest-core.jar)

step "installs (junit4, JDK, Rust Android targets)"
missing=()
for jar in "${junit_jars[@]}"; do
    [[ -f "$jar" ]] || missing+=(junit4)
done
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $(printf '%s\n' "${missing[@]}" | sort -u)
fi
if command -v rustup >/dev/null 2>&1; then
    installed="$(rustup target list --installed)"
    for t in "${android_targets[@]}"; do
        grep -qx "$t" <<<"$installed" || rustup target add "$t"
    done
fi

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
out="$target_dir/android"
mkdir -p "$out"

step "host build: mote CLI and libmote_jni.so (feature panic-probe, for the tests)"
# One invocation, so the shared crates are built once with unified features.
cargo build --release -p mote-cli -p mote-android --features mote-android/panic-probe
mote="$target_dir/release/mote"
[[ -f "$target_dir/release/libmote_jni.so" ]] || { echo "no libmote_jni.so in $target_dir/release" >&2; exit 1; }

step "models: MLPerf Tiny visual wake words, int8 and float, compiled with mote compile"
"$mote" compile models/mlperf-tiny/vww_96_int8.onnx -o "$out/vww_96_int8.mote" \
    --input-shape input_1_int8=1,96,96,3 >/dev/null
"$mote" compile models/mlperf-tiny/vww_96_float.onnx -o "$out/vww_96_float.mote" \
    --input-shape input_1=1,96,96,3 >/dev/null

step "Java API and JUnit tests"
classes="$out/classes"
test_classes="$out/test-classes"
rm -rf "$classes" "$test_classes"
mkdir -p "$classes" "$test_classes"
cp_junit="$(IFS=:; echo "${junit_jars[*]}")"
javac --release 8 -Xlint:all,-options -Werror -encoding UTF-8 -d "$classes" \
    targets/android/java/src/dev/mote/*.java
javac --release 17 -Xlint:all -encoding UTF-8 -d "$test_classes" \
    -cp "$classes:$cp_junit" targets/android/java/test/dev/mote/*.java

log="$out/junit.log"
set +e
java -Djava.awt.headless=true \
    -Djava.library.path="$target_dir/release" \
    -Dmote.cli="$mote" -Dmote.models="$out" -Dmote.images="$repo/models/images" \
    -cp "$classes:$test_classes:$cp_junit" \
    org.junit.runner.JUnitCore dev.mote.ModelTest >"$log" 2>&1
junit_status=$?
set -e
cat "$log"
# JUnit 4 closes with "OK (N tests)" or "Tests run: N,  Failures: M".
awk '/^OK \(/ { gsub(/[()]/, ""); print "junit: " $2 " passed, 0 failed"; found = 1 }
     /^Tests run: / { gsub(/,/, ""); printf "junit: %d passed, %d failed\n", $3 - $5, $5; found = 1 }
     END { if (!found) print "junit: no summary line" }' "$log"
if [[ $junit_status -ne 0 ]]; then
    echo "android: JUnit failed (exit $junit_status)" >&2
    exit "$junit_status"
fi

step "Android static libraries (no NDK: staticlib needs no linker)"
for t in "${android_targets[@]}"; do
    cargo rustc --release -p mote-android --lib --crate-type staticlib --target "$t"
    lib="$target_dir/$t/release/libmote_jni.a"
    [[ -f "$lib" ]] || { echo "android: $lib was not built" >&2; exit 1; }
    for sym in Java_dev_mote_Model_nLoadBytes Java_dev_mote_Model_nRun Java_dev_mote_Model_nLastNanos; do
        grep -aq "$sym" "$lib" || { echo "android: $lib lacks $sym" >&2; exit 1; }
    done
    if grep -aq Java_dev_mote_PanicProbe "$lib"; then
        echo "android: $lib exports the test-only PanicProbe" >&2
        exit 1
    fi
    printf 'android: %s %s (%s bytes)\n' "$t" "$lib" "$(stat -c %s "$lib")"
done
