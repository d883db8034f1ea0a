//! Post-training quantization (`mote compile --quantize int8`) of the MLPerf Tiny visual wake
//! words model, against the int8 model TFLite's own converter made from the same float model.
//!
//! Calibration: `models/images/*.png` and pictures made from them by cropping, flipping and
//! scaling (deterministic, written by this test into a temporary folder). Evaluation, on
//! pictures that are not in the calibration set: other crops / flips / scales of the same two
//! photographs, and the evaluation-only photographs in `models/images/eval`.
//!
//! Faithfulness is the SQNR of a model's output against the float model's output over the
//! evaluation set, `10 · log10(Σ y_float² / Σ (y − y_float)²)`. The float reference is mote's
//! float32 run of `vww_96_float.onnx` (which matches ONNX Runtime to 1e-7); TFLite's converter is
//! represented by `vww_96_int8.tflite`, which mote runs bit-exactly as its QDQ twin
//! `vww_96_int8.onnx` (input `int8 = pixel − 128`, output dequantized with its scale and zero
//! point). Acceptance (issue 3): mote's PTQ is at least as faithful as TFLite's converter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use image::DynamicImage;
use mote_cli::metadata::ImageSpec;
use std::path::{Path, PathBuf};

const FLOAT: &str = "models/mlperf-tiny/vww_96_float.onnx";
const TFLITE_INT8: &str = "models/mlperf-tiny/vww_96_int8.onnx";
/// 1/255: the float model takes pixel / 255.
const SCALE: &str = "0.003921569";

fn work_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ptq-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The pictures of `dir` (by file stem) whose stem is not in `exclude`.
fn pictures_in(dir: &Path, exclude: &[String]) -> Vec<(String, DynamicImage)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "png" || e == "jpg" || e == "jpeg")
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            (
                f.file_stem().unwrap().to_string_lossy().into_owned(),
                image::open(f).unwrap(),
            )
        })
        .filter(|(name, _)| !exclude.contains(name))
        .collect()
}

/// `models/images/*.png`.
fn source_pictures() -> Vec<(String, DynamicImage)> {
    pictures_in(&mote_tests::repo().join("models/images"), &[])
}

/// One variant of a picture: crop a window (fractions of the size: x, y, w, h), flip it, and
/// scale it (zoom < 1 shrinks the picture onto a canvas of its mean colour).
#[derive(Clone, Copy, Debug)]
struct Variant {
    crop: (f32, f32, f32, f32),
    flip: bool,
    zoom: f32,
}

fn apply(img: &DynamicImage, v: Variant) -> DynamicImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (x, y, cw, ch) = v.crop;
    let mut out = img.crop_imm(
        (x * w) as u32,
        (y * h) as u32,
        ((cw * w) as u32).max(8),
        ((ch * h) as u32).max(8),
    );
    if v.flip {
        out = out.fliph();
    }
    if v.zoom < 1.0 {
        let rgb = out.to_rgb8();
        let n = (rgb.width() * rgb.height()) as u64;
        let mut mean = [0u64; 3];
        for p in rgb.pixels() {
            for c in 0..3 {
                mean[c] += p[c] as u64;
            }
        }
        let fill = image::Rgb(mean.map(|m| (m / n.max(1)) as u8));
        let mut canvas = image::RgbImage::from_pixel(rgb.width(), rgb.height(), fill);
        let small = image::imageops::resize(
            &rgb,
            ((rgb.width() as f32 * v.zoom) as u32).max(4),
            ((rgb.height() as f32 * v.zoom) as u32).max(4),
            image::imageops::FilterType::Triangle,
        );
        let ox = (rgb.width() - small.width()) as i64 / 2;
        let oy = (rgb.height() - small.height()) as i64 / 2;
        image::imageops::overlay(&mut canvas, &small, ox, oy);
        out = DynamicImage::ImageRgb8(canvas);
    }
    out
}

/// Deterministic pseudo-random numbers in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32) / (1u64 << 24) as f32
    }
}

fn variants(seed: u64, n: usize) -> Vec<Variant> {
    let mut r = Lcg(seed);
    (0..n)
        .map(|_| {
            let cw = 0.45 + 0.55 * r.next();
            let ch = (cw * (0.8 + 0.4 * r.next())).min(1.0);
            let x = (1.0 - cw) * r.next();
            let y = (1.0 - ch) * r.next();
            let flip = r.next() < 0.5;
            let zoom = if r.next() < 0.25 {
                0.5 + 0.4 * r.next()
            } else {
                1.0
            };
            Variant {
                crop: (x, y, cw, ch),
                flip,
                zoom,
            }
        })
        .collect()
}

/// Writes `pictures` (with `with_originals`: as they are and flipped) and `per_picture`
/// variants of each (seeded) into `dir`.
fn write_set(
    pictures: &[(String, DynamicImage)],
    dir: &Path,
    seed: u64,
    per_picture: usize,
    with_originals: bool,
) -> usize {
    let mut count = 0;
    for (name, img) in pictures {
        if with_originals {
            img.save(dir.join(format!("{name}.png"))).unwrap();
            img.fliph()
                .save(dir.join(format!("{name}_flip.png")))
                .unwrap();
            count += 2;
        }
        for (k, v) in variants(seed ^ name.len() as u64, per_picture)
            .into_iter()
            .enumerate()
        {
            apply(img, v)
                .save(dir.join(format!("{name}_{seed}_{k:02}.png")))
                .unwrap();
            count += 1;
        }
    }
    count
}

fn cli(args: &[&str]) -> Result<(), mote_cli::Failure> {
    let mut argv = vec!["mote"];
    argv.extend_from_slice(args);
    let cli = <mote_cli::args::Cli as clap::Parser>::try_parse_from(&argv)
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    mote_cli::execute(&cli)
}

fn compile_ptq(calib: &Path, out: &Path, extra: &[&str]) -> Result<(), mote_cli::Failure> {
    let model = mote_tests::repo().join(FLOAT);
    let mut args = vec![
        "compile",
        model.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--input-shape",
        "input_1=1,96,96,3",
        "--scale",
        SCALE,
        "--quantize",
        "int8",
        "--calib",
        calib.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cli(&args)
}

/// A loaded model that runs one input at a time; inputs and outputs are real values (int8 ones
/// are quantized / dequantized with the tensor's recorded parameters).
struct Runner {
    bytes: mote_format::AlignedBytes,
}

impl Runner {
    fn new(bytes: &[u8]) -> Self {
        Runner {
            bytes: mote_format::AlignedBytes::from_slice(bytes),
        }
    }
    fn model(&self) -> mote_runtime::Model<'_> {
        mote_runtime::Model::from_bytes(self.bytes.as_bytes()).unwrap()
    }
    fn run(&self, x: &[f32]) -> Vec<f32> {
        let m = self.model();
        let mut arena = mote_format::AlignedBytes::zeroed(m.arena_len());
        let mut it = mote_runtime::Interpreter::new(&m, arena.as_bytes_mut()).unwrap();
        let input = m.input(0).unwrap();
        let bytes: Vec<u8> = match (input.dtype, input.quant) {
            (mote_format::DType::I8, Some(q)) => x
                .iter()
                .map(|&v| mote_compiler::ptq::quantize_value(v, q.scale, q.zero_point) as u8)
                .collect(),
            (mote_format::DType::F32, None) => x.iter().flat_map(|v| v.to_le_bytes()).collect(),
            other => panic!("input {other:?}"),
        };
        it.set_input(0, &bytes).unwrap();
        it.invoke().unwrap();
        let out = m.output(0).unwrap();
        let raw = it.output(0).unwrap();
        match (out.dtype, out.quant) {
            (mote_format::DType::I8, Some(q)) => raw
                .iter()
                .map(|&b| (b as i8 as i32 - q.zero_point) as f32 * q.scale)
                .collect(),
            (mote_format::DType::F32, None) => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            other => panic!("output {other:?}"),
        }
    }
}

fn compile_file(rel: &str, input: &str) -> Runner {
    let onnx = std::fs::read(mote_tests::repo().join(rel)).unwrap();
    let opts = mote_compiler::CompileOptions {
        input_shapes: vec![(input.to_string(), vec![1, 96, 96, 3])],
        ..Default::default()
    };
    Runner::new(&mote_compiler::compile(&onnx, &opts).unwrap().bytes)
}

#[derive(Default)]
struct Sqnr {
    signal: f64,
    noise: f64,
}

impl Sqnr {
    fn add(&mut self, reference: &[f32], test: &[f32]) {
        assert_eq!(reference.len(), test.len());
        for (&x, &y) in reference.iter().zip(test) {
            self.signal += (x as f64).powi(2);
            self.noise += (y as f64 - x as f64).powi(2);
        }
    }
    fn db(&self) -> f64 {
        10.0 * (self.signal / self.noise).log10()
    }
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap()
}

struct Scores {
    images: usize,
    ptq: Sqnr,
    tflite: Sqnr,
    ptq_top1: usize,
    tflite_top1: usize,
}

/// SQNR of the PTQ model and of TFLite's int8 model against the float model on the images of
/// `dir`.
fn score(dir: &Path, ptq: &Runner, float: &Runner, tflite: &Runner) -> Scores {
    let spec = ImageSpec::from_model(ptq.model().file()).unwrap().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| image::open(p).is_ok())
        .collect();
    files.sort();
    let mut s = Scores {
        images: 0,
        ptq: Sqnr::default(),
        tflite: Sqnr::default(),
        ptq_top1: 0,
        tflite_top1: 0,
    };
    for f in &files {
        let img = mote_cli::preprocess::load(f).unwrap();
        let x = mote_cli::preprocess::tensor(&img, &spec);
        let yf = float.run(&x);
        let yp = ptq.run(&x);
        let yt = tflite.run(&x);
        s.ptq.add(&yf, &yp);
        s.tflite.add(&yf, &yt);
        s.ptq_top1 += (argmax(&yf) == argmax(&yp)) as usize;
        s.tflite_top1 += (argmax(&yf) == argmax(&yt)) as usize;
        s.images += 1;
    }
    s
}

/// The evaluation-only photographs of `models/images/eval` (never used for calibration), as
/// they are, flipped, and in `per_picture` variants each, written into a folder.
fn other_pictures(per_picture: usize) -> Option<(usize, PathBuf)> {
    let d = mote_tests::repo().join("models/images/eval");
    let known: Vec<String> = source_pictures().into_iter().map(|(n, _)| n).collect();
    let pictures = pictures_in(&d, &known);
    if pictures.is_empty() {
        return None;
    }
    let out = work_dir("other");
    write_set(&pictures, &out, 5, per_picture, true);
    Some((pictures.len(), out))
}

#[test]
fn vww_ptq_is_at_least_as_faithful_as_the_tflite_converter() {
    let pictures = source_pictures();
    let calib = work_dir("calib");
    let n_calib = write_set(&pictures, &calib, 1, 14, true);
    let heldout = work_dir("heldout");
    let n_eval = write_set(&pictures, &heldout, 2, 12, false);
    println!(
        "calibration: {n_calib} pictures made from models/images; evaluation: {n_eval} other \
         crops / flips / scales of them"
    );
    let float = compile_file(FLOAT, "input_1");
    let tflite = compile_file(TFLITE_INT8, "input_1_int8");
    let mut sets = vec![("held-out variants of models/images".to_string(), heldout)];
    let (n, d) = other_pictures(6).expect("models/images/eval holds the evaluation photographs");
    sets.push((
        format!("{n} evaluation-only photographs (models/images/eval) and variants"),
        d,
    ));
    let out = work_dir("models");
    let mut failures = Vec::new();
    for method in ["minmax", "percentile", "mse"] {
        let path = out.join(format!("vww_{method}.mote"));
        compile_ptq(&calib, &path, &["--calib-method", method]).unwrap();
        let ptq = Runner::new(&std::fs::read(&path).unwrap());
        for (name, dir) in &sets {
            let s = score(dir, &ptq, &float, &tflite);
            println!(
                "vww_96 {method:>10} on {name} ({} images): SQNR vs float: mote PTQ {:.2} dB, \
                 TFLite converter {:.2} dB; top-1 agreement: mote {}/{}, TFLite {}/{}",
                s.images,
                s.ptq.db(),
                s.tflite.db(),
                s.ptq_top1,
                s.images,
                s.tflite_top1,
                s.images
            );
            if method == "minmax" && s.ptq.db() < s.tflite.db() {
                failures.push(format!(
                    "{name}: mote {:.2} dB < TFLite {:.2} dB",
                    s.ptq.db(),
                    s.tflite.db()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn int8_io_records_scale_and_zero_point() {
    let calib = work_dir("calib-io");
    write_set(&source_pictures(), &calib, 3, 3, true);
    let dir = work_dir("io");
    let (f, i) = (dir.join("float_io.mote"), dir.join("int8_io.mote"));
    compile_ptq(&calib, &f, &[]).unwrap();
    compile_ptq(&calib, &i, &["--io", "int8"]).unwrap();
    let (rf, ri) = (
        Runner::new(&std::fs::read(&f).unwrap()),
        Runner::new(&std::fs::read(&i).unwrap()),
    );
    let (mf, mi) = (rf.model(), ri.model());
    let (fin, fout) = (mf.input(0).unwrap(), mf.output(0).unwrap());
    assert_eq!(
        (fin.dtype, fout.dtype),
        (mote_format::DType::F32, mote_format::DType::F32)
    );
    let (iin, iout) = (mi.input(0).unwrap(), mi.output(0).unwrap());
    assert_eq!(
        (iin.dtype, iout.dtype),
        (mote_format::DType::I8, mote_format::DType::I8)
    );
    assert_eq!((iin.name, iout.name), ("input_1", "Identity"));
    let qi = iin.quant.expect("int8 input has a scale and zero point");
    let qo = iout.quant.expect("int8 output has a scale and zero point");
    println!(
        "int8 I/O: input scale {} zp {}, output scale {} zp {}",
        qi.scale, qi.zero_point, qo.scale, qo.zero_point
    );
    // Pixels / 255 in [0, 1]: the zero point is -128; softmax: 1/256, -128.
    assert_eq!(qi.zero_point, -128);
    assert!(
        qi.scale > 0.9 / 255.0 && qi.scale <= 1.0 / 255.0 + 1e-6,
        "{}",
        qi.scale
    );
    assert_eq!((qo.scale, qo.zero_point), (1.0 / 256.0, -128));
    // Same integer computation: the float-I/O model quantizes its input with the same
    // parameters, so both give the same outputs.
    let spec = ImageSpec::from_model(mi.file()).unwrap().unwrap();
    for (_, img) in source_pictures() {
        let x = mote_cli::preprocess::tensor(&img, &spec);
        assert_eq!(rf.run(&x), ri.run(&x));
    }
    // The image pre-processing is recorded for `mote run --image`.
    assert!(mi.file().meta("quantization").unwrap().contains("io: int8"));
}

#[test]
fn report_has_a_finite_sqnr_per_layer() {
    let calib = work_dir("calib-report");
    write_set(&source_pictures(), &calib, 4, 2, true);
    let dir = work_dir("report");
    let report = dir.join("report.json");
    compile_ptq(
        &calib,
        &dir.join("m.mote"),
        &["--report", report.to_str().unwrap(), "--calib-limit", "5"],
    )
    .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["samples"], 5);
    assert_eq!(r["method"], "minmax");
    let layers = r["layers"].as_array().unwrap();
    // Input, the layout transpose, 27 conv layers, pooling, flatten, fully connected, softmax.
    assert!(layers.len() >= 30, "{} layers", layers.len());
    let ops = |op: &str| layers.iter().filter(|l| l["op"] == op).count();
    assert_eq!((ops("Conv"), ops("DepthwiseConv")), (14, 13));
    for l in layers {
        let s = l["sqnr_db"].as_f64();
        assert!(
            s.is_some_and(|s| s.is_finite() && s > 10.0),
            "layer {}: {:?}",
            l["name"],
            l["sqnr_db"]
        );
        assert!(l["scale"].as_f64().unwrap() > 0.0);
    }
    let out = &r["outputs"][0];
    assert_eq!(out["name"], "Identity");
    assert!(out["sqnr_db"].as_f64().unwrap() > 20.0);
    assert_eq!(out["top1_agree"], 5);
}

#[test]
fn a_calibration_folder_without_images_is_a_clear_error() {
    let dir = work_dir("no-images");
    std::fs::write(dir.join("readme.txt"), "no pictures here").unwrap();
    let out = work_dir("no-images-out").join("m.mote");
    let e = compile_ptq(&dir, &out, &[]).unwrap_err();
    let msg = e.to_string();
    println!("{msg}");
    assert_eq!(e.kind, mote_cli::ExitKind::Input);
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
    assert!(msg.contains("no readable images"), "{msg}");
    assert!(!out.exists());
    // An empty folder too.
    let empty = work_dir("empty");
    let e = compile_ptq(&empty, &out, &[]).unwrap_err();
    assert_eq!(e.kind, mote_cli::ExitKind::Input);
    assert!(e.to_string().contains(&empty.display().to_string()));
}
