//! The committed C header is what cbindgen makes of the current source ("CI fails if it is
//! stale"). After changing the API, run `targets/c-abi/gen-header.sh` and commit
//! `include/mote.h`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

#[test]
fn committed_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen could not parse src/lib.rs");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let committed = std::fs::read(dir.join("include/mote.h")).unwrap_or_default();
    if fresh != committed {
        let fresh = String::from_utf8_lossy(&fresh);
        let committed = String::from_utf8_lossy(&committed);
        let first = fresh
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(fresh.lines().count().min(committed.lines().count()));
        panic!(
            "targets/c-abi/include/mote.h is stale (first difference at line {}): \
             run targets/c-abi/gen-header.sh and commit the header",
            first + 1
        );
    }
}
