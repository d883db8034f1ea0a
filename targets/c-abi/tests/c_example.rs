//! `examples/c/main.c`, compiled with the system C compiler against the static library this
//! crate builds, prints the same output as the Rust runtime (every float bit for bit) on the
//! MLPerf Tiny anomaly-detection model, from a raw input file and from zeros.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// `libmote_c.a` of this build: cargo builds every crate type of the library before the tests,
/// into the profile directory (and, hashed, into `deps/`, where the test binary runs from).
fn static_lib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let profile = deps.parent().unwrap();
    let plain = profile.join("libmote_c.a");
    if plain.exists() {
        return plain;
    }
    // Otherwise the newest hashed copy in deps/.
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(deps)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.starts_with("libmote_c") && n.ends_with(".a")
        })
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p).unwrap_or_else(|| {
        panic!(
            "no libmote_c.a in {} or {}",
            profile.display(),
            deps.display()
        )
    })
}

/// Compiles examples/c/main.c as its Makefile does.
fn build_example(dir: &Path) -> PathBuf {
    let repo = common::repo();
    let exe = dir.join("mote_example");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args([
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-std=c11",
            "-D_POSIX_C_SOURCE=200112L",
        ])
        .arg("-I")
        .arg(repo.join("targets/c-abi/include"))
        .arg(repo.join("examples/c/main.c"))
        .arg(static_lib())
        .args([
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
        ])
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(
        out.status.success(),
        "{cc} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs the example with `-a` and returns its stdout and the values printed for output 0.
fn run_example(exe: &Path, args: &[&Path]) -> (String, Vec<f32>) {
    let out = Command::new(exe).arg("-a").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{} failed: {}\n{stdout}",
        exe.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let values = stdout
        .lines()
        .skip_while(|l| !l.starts_with("output 0:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .flat_map(|l| l.split_whitespace().map(|v| v.parse::<f32>().unwrap()))
        .collect();
    (stdout, values)
}

fn as_f32(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn c_example_prints_the_rust_runtimes_output() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mote-c-example");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = build_example(&dir);

    let model = common::compile_ad01("ad01_fp32");
    let model_path = dir.join("ad01_fp32.mote");
    std::fs::write(&model_path, &model).unwrap();

    // From a raw input file.
    let input: Vec<u8> = common::input_f32(640)
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let input_path = dir.join("input.bin");
    std::fs::write(&input_path, &input).unwrap();
    let expected = as_f32(&common::run_rust(&model, &input));
    let (stdout, got) = run_example(&exe, &[&model_path, &input_path]);
    assert!(
        stdout.starts_with(&format!("mote {}: ", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    assert!(
        stdout.contains("input 0: 'input_1' float32 [1, 640] <- "),
        "{stdout}"
    );
    assert_eq!(got.len(), 640, "{stdout}");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(
            g.to_bits(),
            e.to_bits(),
            "output element {i}: C {g}, Rust {e}"
        );
    }

    // From zeros, written in place through mote_session_input_ptr.
    let expected = as_f32(&common::run_rust(&model, &vec![0u8; 2560]));
    let (stdout, got) = run_example(&exe, &[&model_path]);
    assert!(stdout.contains("<- zeros"), "{stdout}");
    assert_eq!(got, expected);

    // A wrong-size input file is reported with the runtime's message.
    let short = dir.join("short.bin");
    std::fs::write(&short, [0u8; 12]).unwrap();
    let out = Command::new(&exe)
        .arg(&model_path)
        .arg(&short)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("input 0 needs 2560 bytes, got 12"), "{err}");
}
