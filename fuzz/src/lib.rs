//! What the fuzz targets run, as plain functions: the targets in `fuzz_targets/` are one line
//! each. A crash the fuzzer finds is fixed where it happens, with a regression test there (e.g.
//! `mote_cli::npy`'s `huge_header_length_is_refused_before_allocating`), and the input is kept
//! under `fuzz/seeds/<target>/regression-*` so every later run replays it.
//!
//! Why the model target reseals the checksum: libFuzzer's mutations almost never keep the CRC-32
//! of a `.mote` file right, so without help every mutated file stops at `ChecksumMismatch` and
//! the structural checks behind it are never reached. The custom mutator ([`reseal`]) rewrites
//! the checksum after most mutations (7 in 8); the rest test the checksum itself.

use mote_format::AlignedBytes;

/// Where the CRC-32 of a `.mote` file is stored (bytes 16..20) and from where it is computed.
const CHECKSUM_AT: usize = 16;
const CHECKSUM_START: usize = 20;

/// The largest arena the model target lends: a valid file may ask for up to 4 GiB, which the
/// caller decides whether to lend; the real models need at most a few hundred KiB. Larger
/// requests are loaded and validated but not run, so one execution stays fast and bounded.
pub const MAX_FUZZ_ARENA: usize = 4 << 20;

/// Rewrites the checksum of a `.mote` file so that a mutated file reaches the checks behind it.
pub fn reseal(bytes: &mut [u8]) {
    if let Some(body) = bytes.get(CHECKSUM_START..) {
        let crc = crc32fast::hash(body).to_le_bytes();
        if let Some(field) = bytes.get_mut(CHECKSUM_AT..CHECKSUM_AT + 4) {
            field.copy_from_slice(&crc);
        }
    }
}

/// The model target: load (validate) the bytes as a model, set up an interpreter with the arena
/// the model asks for (up to [`MAX_FUZZ_ARENA`]), fill the inputs with a fixed pattern, run once
/// and read every output; also read the metadata the CLI reads (labels, image pre-processing).
/// Returns whether the model loaded.
pub fn model(data: &[u8]) -> bool {
    let aligned = AlignedBytes::from_slice(data);
    let Ok(model) = mote_runtime::Model::from_bytes(aligned.as_bytes()) else {
        return false;
    };
    let _ = mote_cli::metadata::labels(model.file());
    let _ = mote_cli::metadata::ImageSpec::from_model(model.file());
    if model.arena_len() > MAX_FUZZ_ARENA {
        return true;
    }
    let mut arena = AlignedBytes::zeroed(model.arena_len());
    // With the weight cache, as the CLI runs models (its packing reads the file's constants).
    let cache_len = mote_runtime::Interpreter::weight_cache_len(&model).unwrap_or(0);
    if cache_len > MAX_FUZZ_ARENA {
        return true;
    }
    let mut cache = vec![0u8; cache_len];
    let Ok(mut interp) =
        mote_runtime::Interpreter::with_weight_cache(&model, arena.as_bytes_mut(), &mut cache)
    else {
        return true;
    };
    for i in 0..model.input_count() {
        if let Ok(bytes) = interp.input_mut(i) {
            for (k, b) in bytes.iter_mut().enumerate() {
                // Small values of both signs, and f32 bit patterns around 1.0 (0x3f..).
                *b = if k % 4 == 3 {
                    0x3f
                } else {
                    (k as u8).wrapping_mul(37)
                };
            }
        }
    }
    if interp.invoke().is_ok() {
        for i in 0..model.output_count() {
            let _ = std::hint::black_box(interp.output(i));
        }
    }
    true
}

/// The ONNX target: compile any bytes as an ONNX model. Symbolic or unknown input dimensions are
/// fixed to 1 (what `--input-shape` would do) so that parseable models reach the importer and
/// the passes behind it. Returns whether it compiled; a compiled model is loaded too.
pub fn onnx(data: &[u8]) -> bool {
    let Ok(proto) = mote_onnx::parse_model(data) else {
        return false;
    };
    let mut opts = mote_compiler::CompileOptions::default();
    if let Some(g) = proto.graph.as_ref() {
        let initializers: Vec<&str> = g
            .initializer
            .iter()
            .filter_map(|t| t.name.as_deref())
            .collect();
        for vi in &g.input {
            let Some(name) = vi.name.as_deref() else {
                continue;
            };
            if initializers.contains(&name) {
                continue;
            }
            if let Some((_, dims)) = mote_onnx::value_info_shape(vi) {
                if dims
                    .iter()
                    .any(|d| !matches!(d, mote_onnx::Dim::Fixed(v) if *v >= 0))
                {
                    let shape = dims
                        .iter()
                        .map(|d| match d {
                            mote_onnx::Dim::Fixed(v) if *v >= 0 => *v as usize,
                            _ => 1,
                        })
                        .collect();
                    opts.input_shapes.push((name.to_string(), shape));
                }
            }
        }
    }
    match mote_compiler::compile(data, &opts) {
        Ok(c) => {
            let aligned = AlignedBytes::from_slice(&c.bytes);
            // What the compiler writes must load.
            if let Err(e) = mote_runtime::Model::from_bytes(aligned.as_bytes()) {
                panic!("a compiled model does not load: {e}");
            }
            true
        }
        Err(_) => false,
    }
}

/// The input shapes and dtypes the `.npy` target checks files against (the first byte of the
/// fuzz input picks one; the rest is the file).
const NPY_WANTS: [(mote_format::DType, &[usize]); 6] = [
    (mote_format::DType::F32, &[1, 4]),
    (mote_format::DType::F32, &[1, 3, 8, 8]),
    (mote_format::DType::I8, &[1, 49, 10, 1]),
    (mote_format::DType::U8, &[2, 3]),
    (mote_format::DType::I32, &[5]),
    (mote_format::DType::F32, &[]),
];

/// The `.npy` target: parse the bytes as an input file the way `mote run --input` does.
pub fn npy(data: &[u8]) -> bool {
    let Some((&pick, file)) = data.split_first() else {
        return false;
    };
    let (dtype, shape) = NPY_WANTS[pick as usize % NPY_WANTS.len()];
    let want = mote_cli::npy::Expected {
        name: "x",
        dtype,
        shape,
    };
    match mote_cli::npy::parse_input(file, "fuzz.npy", &want) {
        Ok(bytes) => {
            let n: usize = shape.iter().product::<usize>() * dtype.size();
            assert_eq!(bytes.len(), n, "parse_input returned the wrong byte count");
            true
        }
        Err(_) => false,
    }
}

/// Most bytes the image target lets a decoder allocate (the CLI allows
/// [`mote_cli::preprocess::MAX_DECODE_BYTES`]; the limit is the same code path, smaller so one
/// execution stays fast).
pub const MAX_FUZZ_IMAGE_BYTES: u64 = 16 << 20;

/// The image target: decode the bytes as `mote run --image` does and turn the picture into a
/// model input (resize, normalise) for a 3-channel NCHW and a 1-channel NHWC model.
pub fn image(data: &[u8]) -> bool {
    let Ok(img) = mote_cli::preprocess::decode(data, "fuzz image", MAX_FUZZ_IMAGE_BYTES) else {
        return false;
    };
    for spec in image_specs() {
        let x = mote_cli::preprocess::tensor(&img, &spec);
        assert_eq!(x.len(), spec.input_shape().iter().product::<usize>());
    }
    true
}

fn image_specs() -> [mote_cli::metadata::ImageSpec; 2] {
    use mote_cli::args::{ChannelOrder, ImageLayout};
    [
        mote_cli::metadata::ImageSpec {
            input: "x".into(),
            size: (12, 10),
            layout: ImageLayout::Nchw,
            channels: 3,
            channel_order: ChannelOrder::Bgr,
            scale: 1.0 / 255.0,
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
        },
        mote_cli::metadata::ImageSpec {
            input: "x".into(),
            size: (5, 7),
            layout: ImageLayout::Nhwc,
            channels: 1,
            channel_order: ChannelOrder::Rgb,
            scale: 1.0,
            mean: vec![0.0],
            std: vec![1.0],
        },
    ]
}
