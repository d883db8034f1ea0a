//! Build script: embeds one compiled model (and its input) into the firmware.
//!
//! Inputs (environment variables):
//! - `MOTE_MODEL`  path of the `.mote` file (required). It is validated here with `mote-format`,
//!   so a damaged file fails the build, and its header gives the arena size: the firmware's
//!   arena is a `static` of exactly that many bytes (`ARENA_BYTES`).
//! - `MOTE_INPUT`  `.npy` file(s) for the model's input(s), separated by `:` (optional; without
//!   it every input is zeros). Each must have exactly the input's dtype and shape, as for
//!   `mote run --input`; it is stored as the raw little-endian bytes the interpreter takes.
//! - `MOTE_MEMORY` the memory map: a name from `memory/` (`mps2`, `mps3-an547`,
//!   `nucleo-l4r5zi`, `nrf52840`, `rp2350`) or a path to a `memory.x`. Default: `mps2` for
//!   `thumbv7em-*` (QEMU mps2-an386/an500), `mps3-an547` for `thumbv8m.main-*`.
//! - `MOTE_NS_PER_TICK` set when running under QEMU with `-icount shift=0` (one instruction per
//!   virtual nanosecond): SysTick's period in ns, `N` or `N/D` (`40` on mps2 at 25 MHz,
//!   `125/4` on mps3-an547 at 32 MHz). The firmware then reports instructions; without it,
//!   it reports core clock cycles (real hardware).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use mote_format::DType;

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

fn main() {
    for v in [
        "MOTE_MODEL",
        "MOTE_INPUT",
        "MOTE_MEMORY",
        "MOTE_NS_PER_TICK",
    ] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR is not set")));
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| fail("no manifest dir")));

    memory_map(&manifest, &out);

    let model_path = env::var_os("MOTE_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            fail(
                "set MOTE_MODEL to a compiled .mote file (mote compile model.onnx -o model.mote), \
             e.g. MOTE_MODEL=model.mote MOTE_INPUT=input.npy cargo build --release; \
             or use run.sh",
            )
        });
    println!("cargo:rerun-if-changed={}", model_path.display());
    let bytes =
        fs::read(&model_path).unwrap_or_else(|e| fail(format!("{}: {e}", model_path.display())));

    // Validate on the host exactly as the firmware will (the reader needs 16-byte alignment).
    let mut buf = vec![0u8; bytes.len() + 16];
    let off = buf.as_ptr().align_offset(16);
    let aligned = &mut buf[off..off + bytes.len()];
    aligned.copy_from_slice(&bytes);
    let model = mote_format::Model::from_bytes(aligned)
        .unwrap_or_else(|e| fail(format!("{}: {e}", model_path.display())));
    let header_arena = bytes
        .get(24..28)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or_else(|| fail("truncated header"));
    if header_arena != model.arena_len() {
        fail("arena length in the header disagrees with the reader");
    }
    fs::write(out.join("model.mote"), &bytes).unwrap_or_else(|e| fail(e));

    // Inputs: one .npy per graph input, in order.
    let n_inputs = model.inputs().len();
    let files: Vec<PathBuf> = match env::var_os("MOTE_INPUT") {
        Some(v) if !v.is_empty() => env::split_paths(&v).collect(),
        _ => Vec::new(),
    };
    if !files.is_empty() && files.len() != n_inputs {
        fail(format!(
            "the model has {n_inputs} input(s), MOTE_INPUT names {} file(s)",
            files.len()
        ));
    }
    let mut blob: Vec<u8> = Vec::new();
    let mut ranges = Vec::new();
    for (k, t) in model.inputs().iter().enumerate() {
        let info = model
            .tensor(t)
            .unwrap_or_else(|| fail(format!("input {k} names no tensor")));
        // Keep each input 16-byte aligned inside the blob.
        while blob.len() % 16 != 0 {
            blob.push(0);
        }
        let start = blob.len();
        match files.get(k) {
            Some(f) => {
                println!("cargo:rerun-if-changed={}", f.display());
                let data = read_npy(f, info.name, info.dtype, info.shape());
                blob.extend_from_slice(&data);
            }
            None => blob.resize(start + info.byte_len as usize, 0),
        }
        ranges.push((start, blob.len() - start));
    }
    fs::write(out.join("input.bin"), &blob).unwrap_or_else(|e| fail(e));

    let ns_per_tick = match env::var("MOTE_NS_PER_TICK") {
        Ok(s) if !s.trim().is_empty() => {
            let (n, d) = s.trim().split_once('/').unwrap_or((s.trim(), "1"));
            let n: u64 = n
                .parse()
                .unwrap_or_else(|_| fail("MOTE_NS_PER_TICK: N or N/D"));
            let d: u64 = d
                .parse()
                .unwrap_or_else(|_| fail("MOTE_NS_PER_TICK: N or N/D"));
            if n == 0 || d == 0 {
                fail("MOTE_NS_PER_TICK must be positive");
            }
            format!("Some(({n}, {d}))")
        }
        _ => "None".to_string(),
    };

    let name = model
        .meta("name")
        .map(str::to_string)
        .or_else(|| {
            model_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let mut g = String::new();
    let _ = writeln!(g, "// Generated by build.rs from {}.", model_path.display());
    let _ = writeln!(g, "/// Arena bytes the model needs (header offset 24).");
    let _ = writeln!(g, "pub const ARENA_BYTES: usize = {};", model.arena_len());
    let _ = writeln!(g, "/// Size of the embedded model file.");
    let _ = writeln!(g, "pub const MODEL_BYTES: usize = {};", bytes.len());
    let _ = writeln!(g, "/// Ops in the model (the profile table's capacity).");
    let _ = writeln!(
        g,
        "pub const OP_COUNT: usize = {};",
        model.op_count().max(1)
    );
    let _ = writeln!(g, "/// Size of the embedded input blob.");
    let _ = writeln!(g, "pub const INPUT_BYTES: usize = {};", blob.len());
    let _ = writeln!(g, "/// (offset, length) of each graph input in the blob.");
    let _ = writeln!(
        g,
        "pub const INPUTS: [(usize, usize); {}] = {:?};",
        ranges.len(),
        ranges
    );
    let _ = writeln!(
        g,
        "/// Whether the inputs came from .npy files (else zeros)."
    );
    let _ = writeln!(
        g,
        "pub const INPUT_FROM_FILE: bool = {};",
        !files.is_empty()
    );
    let _ = writeln!(g, "/// The model's name.");
    let _ = writeln!(g, "pub const MODEL_NAME: &str = {name:?};");
    let _ = writeln!(
        g,
        "/// SysTick period in QEMU virtual ns (= instructions with -icount shift=0)."
    );
    let _ = writeln!(
        g,
        "pub const NS_PER_TICK: Option<(u64, u64)> = {ns_per_tick};"
    );
    fs::write(out.join("config.rs"), g).unwrap_or_else(|e| fail(e));
}

/// Copies the chosen memory map to OUT_DIR/memory.x, where cortex-m-rt's link.x includes it.
fn memory_map(manifest: &Path, out: &Path) {
    let target = env::var("TARGET").unwrap_or_default();
    let choice = env::var("MOTE_MEMORY").ok().filter(|s| !s.is_empty());
    let path = match choice {
        Some(c) if c.ends_with(".x") || c.contains('/') => PathBuf::from(c),
        Some(c) => manifest.join("memory").join(format!("{c}.x")),
        None if target.starts_with("thumbv8m.main") => manifest.join("memory/mps3-an547.x"),
        None => manifest.join("memory/mps2.x"),
    };
    println!("cargo:rerun-if-changed={}", path.display());
    let text = fs::read(&path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    fs::write(out.join("memory.x"), text).unwrap_or_else(|e| fail(e));
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}

/// Reads a .npy with exactly `dtype` and `shape` (C order, either byte order), as `mote run`
/// does, and returns its elements as little-endian bytes.
fn read_npy(path: &Path, name: &str, dtype: DType, shape: &[u32]) -> Vec<u8> {
    use npyz::TypeChar;
    let ctx = |m: &str| -> ! { fail(format!("{}: input '{name}': {m}", path.display())) };
    let f = fs::File::open(path).unwrap_or_else(|e| ctx(&e.to_string()));
    let npy = npyz::NpyFile::new(BufReader::new(f)).unwrap_or_else(|_| ctx("not a valid .npy"));
    let (want_c, want_size) = match dtype {
        DType::F32 => (TypeChar::Float, 4),
        DType::I8 => (TypeChar::Int, 1),
        DType::U8 => (TypeChar::Uint, 1),
        DType::I32 => (TypeChar::Int, 4),
    };
    let ok = matches!(npy.dtype(), npyz::DType::Plain(t)
        if t.type_char() == want_c && t.size_field() == want_size);
    if !ok {
        ctx(&format!(
            "expects dtype {}, found {:?}",
            dtype.name(),
            npy.dtype()
        ));
    }
    let want: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    if npy.shape() != want.as_slice() {
        ctx(&format!(
            "expects shape {:?}, found {:?}",
            want,
            npy.shape()
        ));
    }
    if npy.order() == npyz::Order::Fortran && want.iter().filter(|&&d| d > 1).count() > 1 {
        ctx("Fortran-order arrays are not supported");
    }
    let bad = |_: std::io::Error| -> ! { ctx("cannot read the array data") };
    match dtype {
        DType::F32 => npy
            .into_vec::<f32>()
            .unwrap_or_else(|e| bad(e))
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect(),
        DType::I32 => npy
            .into_vec::<i32>()
            .unwrap_or_else(|e| bad(e))
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect(),
        DType::I8 => npy
            .into_vec::<i8>()
            .unwrap_or_else(|e| bad(e))
            .iter()
            .map(|&x| x as u8)
            .collect(),
        DType::U8 => npy.into_vec::<u8>().unwrap_or_else(|e| bad(e)),
    }
}
