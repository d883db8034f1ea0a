//! The example on the bundled photographs with the MLPerf Tiny person detector (int8 visual wake
//! words), compiled as `scripts/demo.sh` compiles it: the astronaut is a person, the cat is not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `mote compile` of the VWW int8 model with the options of scripts/demo.sh.
fn vww_model() -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("classify-vww_96_int8.mote");
    let onnx = repo().join("models/mlperf-tiny/vww_96_int8.onnx");
    let args: Vec<std::ffi::OsString> = vec![
        "mote".into(),
        "compile".into(),
        onnx.into(),
        "-o".into(),
        out.clone().into(),
        "--input-shape".into(),
        "input_1_int8=1,96,96,3".into(),
        "--image-input".into(),
        "input_1_int8".into(),
        "--scale".into(),
        "0.00392156862745098".into(),
        "--label".into(),
        "no_person".into(),
        "--label".into(),
        "person".into(),
        "--name".into(),
        "visual wake words (int8)".into(),
    ];
    assert_eq!(mote_cli::main_with_args(args), ExitCode::SUCCESS);
    out
}

#[test]
fn person_and_no_person() {
    let model = vww_model();
    let bytes = mote_example_classify::read_model(&model).unwrap();
    for (photo, expected) in [("astronaut.png", "person"), ("chelsea.png", "no_person")] {
        let path = repo().join("models/images").join(photo);
        let top = mote_example_classify::classify(bytes.as_bytes(), &path, 2).unwrap();
        assert_eq!(top.len(), 2, "{photo}: {top:?}");
        assert_eq!(top[0].label, expected, "{photo}: {top:?}");
        assert!(top[0].probability > 0.5, "{photo}: {top:?}");
        let sum: f32 = top.iter().map(|p| p.probability).sum();
        assert!((sum - 1.0).abs() < 1e-3, "{photo}: {top:?}");
    }

    // The binary prints the same, label first.
    let out = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg(&model)
        .arg(repo().join("models/images/astronaut.png"))
        .arg("2")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout.lines().nth(1).unwrap_or("");
    assert!(first.trim_start().starts_with("person "), "{stdout}");

    // A model without image metadata is refused with a hint.
    let plain = Path::new(env!("CARGO_TARGET_TMPDIR")).join("classify-plain.mote");
    let onnx = repo().join("models/mlperf-tiny/vww_96_int8.onnx");
    let args: Vec<std::ffi::OsString> = vec![
        "mote".into(),
        "compile".into(),
        onnx.into(),
        "-o".into(),
        plain.clone().into(),
        "--input-shape".into(),
        "input_1_int8=1,96,96,3".into(),
    ];
    assert_eq!(mote_cli::main_with_args(args), ExitCode::SUCCESS);
    let bytes = mote_example_classify::read_model(&plain).unwrap();
    let err = mote_example_classify::classify(
        bytes.as_bytes(),
        &repo().join("models/images/chelsea.png"),
        1,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--image-input"), "{err}");
}
