//! ONNX Runtime as the reference for `mote verify` and the test suite.
//!
//! The library is the `libonnxruntime.so.1.32.0` of the PyPI `onnxruntime` wheel, loaded at run
//! time through `ort`'s `load-dynamic` feature (nothing is linked at build time). It is found,
//! in this order:
//! 1. the environment variable `ORT_DYLIB_PATH` (a file path);
//! 2. `<dir>/.venv/lib/python3.*/site-packages/onnxruntime/capi/libonnxruntime.so.1.32.0` for
//!    `<dir>` the current directory or any of its ancestors, then any ancestor of the running
//!    executable (so `target/release/mote` finds the repository's `.venv`, which
//!    `bash scripts/python-env.sh` creates);
//! 3. otherwise the error "ONNX Runtime library not found: run `bash scripts/python-env.sh` or
//!    set ORT_DYLIB_PATH".

use anyhow::{anyhow, bail, Context};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The library file name looked for in a venv.
pub const LIBRARY_NAME: &str = "libonnxruntime.so.1.32.0";

/// The message when no library is found.
pub const NOT_FOUND: &str =
    "ONNX Runtime library not found: run `bash scripts/python-env.sh` or set ORT_DYLIB_PATH";

fn in_venv(dir: &Path) -> Option<PathBuf> {
    let lib = dir.join(".venv").join("lib");
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3."))
        .map(|e| e.path())
        .collect();
    pythons.sort();
    pythons
        .into_iter()
        .map(|p| {
            p.join("site-packages")
                .join("onnxruntime")
                .join("capi")
                .join(LIBRARY_NAME)
        })
        .find(|p| p.is_file())
}

/// Where the ONNX Runtime library is (see the module documentation for the search order).
///
/// # Errors
/// [`NOT_FOUND`] when no library is found; an error naming the path when `ORT_DYLIB_PATH`
/// points to a missing file.
pub fn library_path() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("ORT_DYLIB_PATH={} is not a file", p.display());
        }
        return Ok(p);
    }
    let mut bases: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        bases.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    if let Ok(exe) = std::env::current_exe() {
        let exe = exe.canonicalize().unwrap_or(exe);
        bases.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    bases
        .iter()
        .find_map(|b| in_venv(b))
        .ok_or_else(|| anyhow!(NOT_FOUND))
}

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

fn environment() -> anyhow::Result<&'static ort::environment::Environment> {
    let env = ENV.get_or_init(|| {
        let path = library_path().map_err(|e| format!("{e:#}"))?;
        let builder = ort::init_from(&path)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", path.display()))?;
        builder.with_name("mote").build().map_err(|e| {
            format!(
                "cannot start ONNX Runtime (loaded from {}): {e}",
                path.display()
            )
        })
    });
    env.as_ref().map_err(|e| anyhow!("{e}"))
}

/// Loads ONNX Runtime (once per process) and returns the library's path.
///
/// # Errors
/// When the library cannot be found or loaded.
pub fn ensure_loaded() -> anyhow::Result<PathBuf> {
    environment()?;
    library_path()
}

/// Values of one input tensor, in its element type.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// float32
    F32(Vec<f32>),
    /// int8
    I8(Vec<i8>),
    /// uint8
    U8(Vec<u8>),
    /// int32
    I32(Vec<i32>),
}

impl TensorData {
    /// Decodes little-endian `bytes` of a mote dtype.
    pub fn from_le_bytes(dtype: mote_format::DType, bytes: &[u8]) -> Self {
        use mote_format::DType;
        let words = |f: fn([u8; 4]) -> u32| -> Vec<u32> {
            bytes
                .chunks_exact(4)
                .map(|c| f([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        match dtype {
            DType::F32 => TensorData::F32(
                words(u32::from_le_bytes)
                    .into_iter()
                    .map(f32::from_bits)
                    .collect(),
            ),
            DType::I32 => TensorData::I32(
                words(u32::from_le_bytes)
                    .into_iter()
                    .map(|w| w as i32)
                    .collect(),
            ),
            DType::I8 => TensorData::I8(bytes.iter().map(|&b| b as i8).collect()),
            DType::U8 => TensorData::U8(bytes.to_vec()),
        }
    }
}

/// Runs an ONNX model with ONNX Runtime (CPU, default graph optimizations, one thread).
///
/// `inputs` are `(name, shape, values)` of float32 graph inputs; the result has one
/// `(shape, values)` per graph output, in the model's declaration order. Non-float outputs are
/// converted to `f32`. For inputs of other element types use [`run_onnxruntime_typed`].
///
/// # Errors
/// When ONNX Runtime cannot be found or loaded (the message says how to install it), rejects
/// the model, or an input is missing or of the wrong shape.
pub fn run_onnxruntime(
    onnx_bytes: &[u8],
    inputs: &[(String, Vec<usize>, Vec<f32>)],
) -> anyhow::Result<Vec<(Vec<usize>, Vec<f32>)>> {
    let typed: Vec<(String, Vec<usize>, TensorData)> = inputs
        .iter()
        .map(|(n, s, d)| (n.clone(), s.clone(), TensorData::F32(d.clone())))
        .collect();
    run_onnxruntime_typed(onnx_bytes, &typed)
}

/// Whether ONNX Runtime's int8 matrix kernels are inexact on this host: on x86-64 without VNNI
/// (neither AVX-512 VNNI nor AVX-VNNI) its MLAS library multiplies bytes with `vpmaddubsw`,
/// whose 16-bit pair sums saturate (`255 · 127 · 2 > 32767`), so a fused `QLinearConv` /
/// `QLinearMatMul` can be off by tens of quantization steps (measured on an AVX2-only AMD EPYC:
/// 32 LSB on the anomaly-detection model's dense layers; OpenVINO documents the same hardware
/// limit). There the reference runs with graph optimizations off, so a QDQ model's
/// `DequantizeLinear → Conv → QuantizeLinear` stays in float (the real-valued result, rounded
/// once when quantized), which is what ORT's fused kernels compute exactly elsewhere.
pub fn int8_kernels_saturate() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !(std::is_x86_feature_detected!("avx512vnni") || std::is_x86_feature_detected!("avxvnni"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`run_onnxruntime`] with inputs of any element type mote supports (int8 models).
///
/// # Errors
/// As [`run_onnxruntime`].
pub fn run_onnxruntime_typed(
    onnx_bytes: &[u8],
    inputs: &[(String, Vec<usize>, TensorData)],
) -> anyhow::Result<Vec<(Vec<usize>, Vec<f32>)>> {
    let env = environment()?;
    let mut builder = ort::session::Session::builder(env)
        .map_err(|e| anyhow!("{e}"))?
        .with_intra_threads(1)
        .map_err(|e| anyhow!("{e}"))?;
    if int8_kernels_saturate() {
        builder = builder
            .with_optimization_level(ort::session::builder::GraphOptimizationLevel::Disable)
            .map_err(|e| anyhow!("{e}"))?;
    }
    let mut session = builder
        .commit_from_memory(onnx_bytes)
        .map_err(|e| anyhow!("ONNX Runtime rejects the model: {e}"))?;
    let output_names: Vec<String> = session
        .outputs()
        .iter()
        .map(|o| o.name().to_string())
        .collect();
    let input_names: Vec<String> = session
        .inputs()
        .iter()
        .map(|o| o.name().to_string())
        .collect();
    for n in &input_names {
        if !inputs.iter().any(|(name, _, _)| name == n) {
            bail!("no value for ONNX Runtime input '{n}'");
        }
    }
    let mut values: Vec<(String, ort::session::SessionInputValue<'_>)> =
        Vec::with_capacity(inputs.len());
    for (name, shape, data) in inputs {
        if !input_names.iter().any(|n| n == name) {
            bail!("the ONNX model has no input '{name}' (it has {input_names:?})");
        }
        let err = |e: ort::Error| anyhow!("input '{name}': {e}");
        let s = shape.clone();
        let v: ort::session::SessionInputValue<'_> = match data {
            TensorData::F32(d) => ort::value::Tensor::from_array((s, d.clone()))
                .map_err(err)?
                .into(),
            TensorData::I8(d) => ort::value::Tensor::from_array((s, d.clone()))
                .map_err(err)?
                .into(),
            TensorData::U8(d) => ort::value::Tensor::from_array((s, d.clone()))
                .map_err(err)?
                .into(),
            TensorData::I32(d) => ort::value::Tensor::from_array((s, d.clone()))
                .map_err(err)?
                .into(),
        };
        values.push((name.clone(), v));
    }
    let outs = session
        .run(values)
        .map_err(|e| anyhow!("ONNX Runtime failed: {e}"))?;
    let mut result = Vec::with_capacity(output_names.len());
    for name in &output_names {
        let v = outs
            .get(name.as_str())
            .with_context(|| format!("ONNX Runtime returned no output '{name}'"))?;
        let (shape, data): (Vec<usize>, Vec<f32>) =
            if let Ok((s, d)) = v.try_extract_tensor::<f32>() {
                (s.iter().map(|&x| x.max(0) as usize).collect(), d.to_vec())
            } else if let Ok((s, d)) = v.try_extract_tensor::<i64>() {
                (
                    s.iter().map(|&x| x.max(0) as usize).collect(),
                    d.iter().map(|&x| x as f32).collect(),
                )
            } else if let Ok((s, d)) = v.try_extract_tensor::<i32>() {
                (
                    s.iter().map(|&x| x.max(0) as usize).collect(),
                    d.iter().map(|&x| x as f32).collect(),
                )
            } else if let Ok((s, d)) = v.try_extract_tensor::<i8>() {
                (
                    s.iter().map(|&x| x.max(0) as usize).collect(),
                    d.iter().map(|&x| x as f32).collect(),
                )
            } else if let Ok((s, d)) = v.try_extract_tensor::<u8>() {
                (
                    s.iter().map(|&x| x.max(0) as usize).collect(),
                    d.iter().map(|&x| x as f32).collect(),
                )
            } else {
                bail!("ONNX Runtime output '{name}' is not a numeric tensor");
            };
        result.push((shape, data));
    }
    Ok(result)
}
