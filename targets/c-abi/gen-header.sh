#!/usr/bin/env bash
# Regenerates include/mote.h from src/lib.rs with the cbindgen CLI (the version tests/header.rs
# uses as a library, so both produce the same bytes). Run it after changing the C API, and
# commit the header: `cargo test -p mote-c --test header` fails while it is stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
version=0.29.4
if ! cbindgen --version 2>/dev/null | grep -qx "cbindgen $version"; then
    cargo install cbindgen --version "=$version" --locked
fi
cbindgen --config cbindgen.toml --output include/mote.h src/lib.rs
echo "wrote $(pwd)/include/mote.h"
