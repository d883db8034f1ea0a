#!/usr/bin/env bash
# Regenerate src/onnx.proto.rs from proto/onnx.proto.
#
# The generated Rust is committed so that building mote-onnx needs neither
# protoc nor a build script: only the `prost` runtime crate from crates.io.
# Run this script only when proto/onnx.proto changes (e.g. a newer ONNX
# release). It needs cargo, network access to crates.io and rustfmt; it does
# NOT need protoc: the .proto is parsed by `protox` (pure Rust) and the code
# is emitted by `prost-build`.
#
# To update the proto itself, copy onnx.proto from the `onnx` Python package
# (site-packages/onnx/onnx.proto) or the ONNX repository, and update the
# version noted in HEADER below.
#
# Usage: compiler/onnx/regen.sh            (from anywhere)
set -euo pipefail

ONNX_VERSION="1.23.2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# A throwaway generator project (its own [workspace], so it is never part of
# the mote workspace). prost-build's major.minor must match the workspace's
# `prost` dependency.
mkdir -p "$WORK/gen/src" "$WORK/out"
cat > "$WORK/gen/Cargo.toml" <<'TOML'
[package]
name = "onnxgen"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
prost-build = "0.14"
protox = "0.10"
TOML
cat > "$WORK/gen/src/main.rs" <<'RS'
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (proto_dir, out_dir) = (&args[1], &args[2]);
    let fds = protox::compile(["onnx.proto"], [proto_dir])?;
    prost_build::Config::new().out_dir(out_dir).compile_fds(fds)?;
    Ok(())
}
RS

cargo run --quiet --manifest-path "$WORK/gen/Cargo.toml" -- "$HERE/proto" "$WORK/out"

OUT="$HERE/src/onnx.proto.rs"
{
  cat <<HEADER
// @generated — DO NOT EDIT BY HAND.
//
// Source: compiler/onnx/proto/onnx.proto, copied verbatim from the \`onnx\`
// Python package version ${ONNX_VERSION} (site-packages/onnx/onnx.proto;
// SPDX-License-Identifier: Apache-2.0).
// Generator: prost-build 0.14 + protox 0.10 (no protoc); see
// compiler/onnx/regen.sh, which produced this file.
//
HEADER
  cat "$WORK/out/onnx.rs"
} > "$OUT"
rustfmt --edition 2021 "$OUT"
echo "wrote $OUT"
