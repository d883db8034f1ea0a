//! The display example on the bundled photographs with the MLPerf Tiny person detector (int8
//! visual wake words), compiled as `scripts/demo.sh` and `scripts/display.sh` compile it:
//! - the label and probability drawn are those of `mote run` on the same input (its output
//!   `.npy`, read as `mote run --image` reads it: dequantized, `probabilities`, `top_k`);
//! - the input is the one `mote run --image` builds (same pre-processing and quantization);
//! - the framebuffer drawn now is pixel for pixel the PNG committed next to this crate
//!   (`examples/display/astronaut.png`, `chelsea.png`): regenerate them with
//!   `MOTE_DISPLAY_BLESS=1 cargo test -p mote-example-display` after an intended change.
//!
//! The firmware's checksum is compared with the host's by `scripts/display.sh` (QEMU).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mote_cli::commands::run::{probabilities, top_k};
use mote_example_display::{
    banded_crc32, host, Band, DisplayError, Framebuffer, Scene, HEIGHT, WIDTH,
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn compile(out: &Path, image_options: bool) {
    let onnx = repo().join("models/mlperf-tiny/vww_96_int8.onnx");
    let mut args: Vec<OsString> = vec![
        "mote".into(),
        "compile".into(),
        onnx.into(),
        "-o".into(),
        out.into(),
        "--input-shape".into(),
        "input_1_int8=1,96,96,3".into(),
    ];
    if image_options {
        for a in [
            "--image-input",
            "input_1_int8",
            "--scale",
            "0.00392156862745098",
            "--label",
            "no_person",
            "--label",
            "person",
            "--name",
            "visual wake words (int8)",
        ] {
            args.push(a.into());
        }
    }
    assert_eq!(mote_cli::main_with_args(args), ExitCode::SUCCESS);
}

/// Compiled once per test (tests run in parallel: each writes its own file).
fn vww_model(test: &str) -> PathBuf {
    let out = tmp(&format!("display-vww_96_int8-{test}.mote"));
    compile(&out, true);
    out
}

/// `mote run MODEL --input X.npy --output Y.npy`, its output read back.
fn mote_run(model: &Path, input: &Path, name: &str) -> Vec<f32> {
    let y = tmp(&format!("display-{name}-out.npy"));
    let args: Vec<OsString> = vec![
        "mote".into(),
        "run".into(),
        model.into(),
        "--input".into(),
        input.into(),
        "--output".into(),
        y.clone().into(),
    ];
    assert_eq!(mote_cli::main_with_args(args), ExitCode::SUCCESS);
    let f = std::fs::File::open(&y).unwrap();
    npyz::NpyFile::new(std::io::BufReader::new(f))
        .unwrap()
        .into_vec::<f32>()
        .unwrap()
}

fn committed_png(photo: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(photo)
}

#[test]
fn person_and_no_person_drawn_as_committed() {
    let model_path = vww_model("drawn");
    let file = mote_cli::model::ModelFile::read(&model_path).unwrap();
    let model = file.model().unwrap();
    let out_q = model.output(0).unwrap().quant.unwrap();
    let labels = mote_cli::metadata::labels(model.file()).unwrap();
    let bless = std::env::var_os("MOTE_DISPLAY_BLESS").is_some();

    for (photo, expected) in [("astronaut.png", "person"), ("chelsea.png", "no_person")] {
        let r = host::render(&model, &repo().join("models/images").join(photo)).unwrap();

        // What `mote run` says on the same input.
        let x = tmp(&format!("display-{photo}.npy"));
        host::write_npy_i8(&x, &[1, 96, 96, 3], &r.input).unwrap();
        let raw = mote_run(&model_path, &x, photo);
        let scores: Vec<f32> = raw
            .iter()
            .map(|&v| (v - out_q.zero_point as f32) * out_q.scale)
            .collect();
        let (p, softmaxed) = probabilities(&scores);
        assert!(!softmaxed, "the VWW output is already a distribution");
        let top = top_k(&p, 1)[0];
        assert_eq!(r.label, labels[top], "{photo}");
        assert_eq!(r.label, expected, "{photo}");
        assert_eq!(r.probability, p[top], "{photo}");
        assert!(
            r.report.starts_with(&format!(
                "label: {}\nprobability: {:.4}\n",
                labels[top], p[top]
            )),
            "{photo}: {}",
            r.report
        );

        // Drawn band by band (for boards without RAM for the framebuffer), the rows are the
        // same: bands that divide the height and one that does not.
        let output = host::infer(&model, &r.input).unwrap();
        let scene = Scene::new(&model, &r.input, &output).unwrap();
        let whole = r.framebuffer.crc32();
        assert_eq!(
            banded_crc32(&scene, &mut Band::<24>::new()),
            whole,
            "{photo}"
        );
        assert_eq!(
            banded_crc32(&scene, &mut Band::<7>::new()),
            whole,
            "{photo}"
        );

        // The committed picture is what is drawn now, pixel for pixel.
        let drawn = host::to_image(&r.framebuffer);
        let path = committed_png(photo);
        if bless {
            drawn.save(&path).unwrap();
        }
        let committed = image::open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .to_rgb8();
        assert_eq!(committed.dimensions(), (WIDTH as u32, HEIGHT as u32));
        let differing = committed
            .pixels()
            .zip(drawn.pixels())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differing,
            0,
            "{photo}: {differing} pixels differ from {}",
            path.display()
        );
    }
}

#[test]
fn the_input_is_what_mote_run_image_feeds() {
    // The picture embedded in the firmware is the input `mote run --image` feeds the model:
    // its pre-processing, quantized as its run_image quantizes (scale, round half to even,
    // zero point, clamp).
    let model = vww_model("input");
    let file = mote_cli::model::ModelFile::read(&model).unwrap();
    let m = file.model().unwrap();
    let photo = repo().join("models/images/astronaut.png");
    let input = host::image_input(&m, &photo).unwrap();
    // The same quantized input is what mote_cli's own run_image path computes.
    let spec = mote_cli::metadata::ImageSpec::from_model(m.file())
        .unwrap()
        .unwrap();
    let img = mote_cli::preprocess::load(&photo).unwrap();
    let q = m.input(0).unwrap().quant.unwrap();
    let expected: Vec<u8> = mote_cli::preprocess::tensor(&img, &spec)
        .iter()
        .map(|v| {
            ((v / q.scale).round_ties_even() as i32 + q.zero_point).clamp(-128, 127) as i8 as u8
        })
        .collect();
    assert_eq!(input, expected);
}

#[test]
fn models_that_cannot_be_drawn_are_refused() {
    // Without image metadata and labels.
    let plain = tmp("display-plain.mote");
    compile(&plain, false);
    let file = mote_cli::model::ModelFile::read(&plain).unwrap();
    let m = file.model().unwrap();
    let input = vec![0u8; 96 * 96 * 3];
    let output = [0u8, 0];
    assert!(matches!(
        Scene::new(&m, &input, &output),
        Err(DisplayError::Metadata("image.input"))
    ));
    assert!(
        host::image_input(&m, &repo().join("models/images/chelsea.png"))
            .unwrap_err()
            .to_string()
            .contains("--image-input")
    );

    // With metadata: wrong lengths, and scores that are no distribution.
    let model = vww_model("refused");
    let file = mote_cli::model::ModelFile::read(&model).unwrap();
    let m = file.model().unwrap();
    assert_eq!(
        Scene::new(&m, &input[1..], &output).err(),
        Some(DisplayError::Length)
    );
    assert_eq!(
        Scene::new(&m, &input, &output[..1]).err(),
        Some(DisplayError::Length)
    );
    // int8 -128 and -128 dequantize to 0 and 0: no distribution.
    let zeros = [0x80u8, 0x80];
    assert_eq!(
        Scene::new(&m, &input, &zeros).err(),
        Some(DisplayError::Output)
    );
    // 0.5 / 0.5 is one: ties go to the lower index, as in `mote run`'s top_k.
    let halves = [0u8, 0];
    let s = Scene::new(&m, &input, &halves).unwrap();
    assert_eq!((s.class, s.label, s.probability), (0, "no_person", 0.5));
    assert_eq!(s.shown_label().as_str(), "no person");
    assert_eq!(s.shown_probability().as_str(), "50.0%");
    // A black picture (int8 -128 everywhere) draws black pixels in the picture's area.
    let black = vec![0x80u8; 96 * 96 * 3];
    let s = Scene::new(&m, &black, &halves).unwrap();
    let mut fb = Box::new(Framebuffer::new());
    let Ok(()) = s.draw(fb.as_mut());
    assert_eq!(s.picture.rgb(0, 0), [0, 0, 0]);
    // White (int8 127 = pixel 255).
    let white = vec![0x7fu8; 96 * 96 * 3];
    let s = Scene::new(&m, &white, &halves).unwrap();
    assert_eq!(s.picture.rgb(95, 95), [255, 255, 255]);
    let Ok(()) = s.draw(fb.as_mut());
    assert_eq!(
        fb.pixel(24 + 191, 8 + 191),
        embedded_graphics::pixelcolor::Rgb565::new(31, 63, 31)
    );
}
