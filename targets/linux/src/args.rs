//! The command line (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// mote: compile ONNX models into compact .mote files and run them with a heap-free interpreter.
///
/// Exit codes: 0 success, 1 verification beyond tolerance, 2 usage, 3 invalid or unsupported
/// model, 4 bad input file (npy, image, labels), 5 I/O.
#[derive(Debug, Parser)]
#[command(
    name = "mote",
    version,
    long_about = None,
    max_term_width = 100,
    after_help = "Exit codes: 0 success, 1 verification beyond tolerance, 2 usage, 3 invalid or \
                  unsupported model, 4 bad input file (npy, image, labels), 5 I/O."
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile an ONNX model into a .mote file.
    Compile(Box<CompileArgs>),
    /// Show a .mote model: inputs, outputs, ops with shapes and MACs, memory.
    Inspect(InspectArgs),
    /// Run a .mote model on .npy inputs, or classify an image.
    Run(RunArgs),
    /// Compile an ONNX model in memory and compare mote's outputs with ONNX Runtime's.
    Verify(VerifyArgs),
    /// Measure a .mote model's latency.
    Bench(BenchArgs),
}

/// Pixel layout of an image input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImageLayout {
    /// [1, C, H, W]
    Nchw,
    /// [1, H, W, C]
    Nhwc,
}

impl ImageLayout {
    /// The metadata spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageLayout::Nchw => "nchw",
            ImageLayout::Nhwc => "nhwc",
        }
    }
}

/// Channel order of a 3-channel image input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChannelOrder {
    /// Red, green, blue.
    Rgb,
    /// Blue, green, red (Caffe, OpenCV).
    Bgr,
}

impl ChannelOrder {
    /// The metadata spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelOrder::Rgb => "rgb",
            ChannelOrder::Bgr => "bgr",
        }
    }
}

/// `mote compile`.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Where to write the .mote file.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Fix an input's shape (dynamic dimensions such as the batch), e.g. input_1=1,96,96,3.
    #[arg(long = "input-shape", value_name = "NAME=D0,D1,...", value_parser = parse_input_shape)]
    pub input_shapes: Vec<(String, Vec<usize>)>,
    /// Model name recorded in the file (default: the ONNX file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Class labels, one per line, in output order.
    #[arg(long, value_name = "FILE", conflicts_with = "label")]
    pub labels: Option<PathBuf>,
    /// A class label (repeat, in output order).
    #[arg(long = "label", value_name = "LABEL")]
    pub label: Vec<String>,
    /// Rounding of int8 requantization: `litert` reproduces LiteRT's reference kernels
    /// (BUILTIN_REF: fully connected layers round once), `tflm` TensorFlow Lite Micro and CMSIS-NN
    /// (double rounding everywhere) [default: litert].
    #[arg(long, value_enum, value_name = "MODE")]
    pub rounding: Option<RoundingArg>,
    /// In a quantized model, run the parts that cannot be lowered to int8 in float32 instead of
    /// failing (the error names them).
    #[arg(long)]
    pub allow_float: bool,
    /// Store float layers' weights as float32 even where the ONNX file has them as int8 with
    /// a DequantizeLinear (tf2onnx hybrid models). By default they stay int8 in the model file
    /// (a quarter of the size) and are expanded just before their layer, to the same values.
    #[arg(long)]
    pub float_weights: bool,
    /// Post-training quantization.
    #[command(flatten, next_help_heading = "Post-training quantization")]
    pub ptq: PtqArgs,
    /// Image pre-processing (`mote run --image`).
    #[command(
        flatten,
        next_help_heading = "Image pre-processing (for mote run --image and calibration images)"
    )]
    pub image: ImageArgs,
}

/// `--rounding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoundingArg {
    /// LiteRT's BUILTIN_REF kernels: double rounding, single rounding in fully connected layers.
    Litert,
    /// TensorFlow Lite Micro / CMSIS-NN: double rounding everywhere.
    Tflm,
    /// ONNX Runtime / XNNPACK: convolutions and fully connected layers scale in f32 (ties to
    /// even); other ops as tflm.
    Float,
}

/// `--quantize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QuantizeArg {
    /// int8 activations (per tensor), int8 weights (per output channel), int32 biases.
    Int8,
}

/// `--calib-method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CalibMethodArg {
    /// The observed minimum and maximum of each tensor.
    Minmax,
    /// The --calib-percentile-th percentile at each end (clips rare outliers).
    Percentile,
    /// The range with the least expected quantization error (histogram search).
    Mse,
}

/// `--io`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IoArg {
    /// float32 inputs and outputs (quantize / dequantize inside the model).
    Float,
    /// int8 inputs and outputs, their scale and zero point recorded in the file.
    Int8,
}

/// Post-training quantization options of `mote compile`.
#[derive(Debug, Args, Default, Clone)]
pub struct PtqArgs {
    /// Quantize a float model after training, calibrating on --calib.
    #[arg(long, value_enum, value_name = "TYPE", requires = "calib")]
    pub quantize: Option<QuantizeArg>,
    /// Calibration data: a folder of images (PNG, JPEG; pre-processed as the image options
    /// say, and recorded for mote run --image) or an .npy batch of shape [N, ...input shape].
    #[arg(long, value_name = "DIR_OR_NPY", requires = "quantize")]
    pub calib: Option<PathBuf>,
    /// How activation ranges are chosen [default: minmax].
    #[arg(long, value_enum, value_name = "METHOD", requires = "quantize")]
    pub calib_method: Option<CalibMethodArg>,
    /// Percentile kept at each end by --calib-method percentile [default: 99.99].
    #[arg(long, value_name = "P", requires = "quantize", value_parser = parse_percentile)]
    pub calib_percentile: Option<f64>,
    /// Use at most N calibration samples (the first N images in file-name order, or the first
    /// N rows of the batch).
    #[arg(long, value_name = "N", requires = "quantize", value_parser = clap::value_parser!(u64).range(1..))]
    pub calib_limit: Option<u64>,
    /// Element type of the quantized model's inputs and outputs [default: float]: with
    /// --quantize, or for a model quantized already (QDQ ONNX), whose input quantizations and
    /// output dequantizations it removes.
    #[arg(long, value_enum, value_name = "TYPE")]
    pub io: Option<IoArg>,
    /// Write the quantization report (per-layer SQNR, top-1 agreement) as JSON.
    #[arg(long, value_name = "FILE", requires = "quantize")]
    pub report: Option<PathBuf>,
}

/// Image pre-processing recorded at compile time.
#[derive(Debug, Args, Default, Clone)]
pub struct ImageArgs {
    /// The input that takes an image (default: the only input, when any other image option is given).
    #[arg(long, value_name = "NAME")]
    pub image_input: Option<String>,
    /// Size the image is resized to, HxW (default: from the input's shape).
    #[arg(long, value_name = "HxW", value_parser = parse_hw)]
    pub image_size: Option<(usize, usize)>,
    /// Layout of the image input (default: from the input's shape).
    #[arg(long, value_enum)]
    pub image_layout: Option<ImageLayout>,
    /// Channel order of the image input [default: rgb].
    #[arg(long, value_enum)]
    pub channel_order: Option<ChannelOrder>,
    /// Pixel scale: value = (pixel * scale - mean[c]) / std[c] [default: 1].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub scale: Option<f32>,
    /// Per-channel mean, one value or one per channel [default: 0].
    #[arg(long, value_name = "a,b,c", value_parser = parse_float_list, allow_negative_numbers = true)]
    pub mean: Option<FloatList>,
    /// Per-channel standard deviation, one value or one per channel [default: 1].
    #[arg(long, value_name = "a,b,c", value_parser = parse_float_list)]
    pub std: Option<FloatList>,
}

impl ImageArgs {
    /// True when any image option was given.
    pub fn any(&self) -> bool {
        self.image_input.is_some()
            || self.image_size.is_some()
            || self.image_layout.is_some()
            || self.channel_order.is_some()
            || self.scale.is_some()
            || self.mean.is_some()
            || self.std.is_some()
    }
}

/// `mote inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The .mote model.
    pub model: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Another file of the same model (e.g. its .tflite) to compare the file size with.
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
}

/// `mote run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The .mote model.
    pub model: PathBuf,
    /// Input .npy files, one per model input in declaration order (dtype and shape must match).
    #[arg(long = "input", value_name = "FILE.npy", conflicts_with = "image")]
    pub inputs: Vec<PathBuf>,
    /// Output .npy files, in declaration order (float32, with the model's output shapes).
    #[arg(long = "output", value_name = "FILE.npy", conflicts_with = "image")]
    pub outputs: Vec<PathBuf>,
    /// An image (PNG or JPEG) for a model compiled with image pre-processing.
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// With --image: how many classes to print.
    #[arg(long, default_value_t = 5, requires = "image")]
    pub top: usize,
    /// Threads for the convolutions: each layer with work enough is cut into this many bands
    /// of output rows, run at once (1: every layer whole, on one thread).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub threads: u16,
}

/// `mote verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Input .npy files, one per model input (default: random normal inputs from a fixed seed).
    #[arg(long = "input", value_name = "FILE.npy")]
    pub inputs: Vec<PathBuf>,
    /// Fix an input's shape, as for `mote compile`.
    #[arg(long = "input-shape", value_name = "NAME=D0,D1,...", value_parser = parse_input_shape)]
    pub input_shapes: Vec<(String, Vec<usize>)>,
    /// Largest allowed relative error max|mote - ort| / max|ort| per output.
    #[arg(long, default_value_t = 1e-5)]
    pub rtol: f64,
    /// Number of random inputs (seeds 0..N) when no --input is given.
    #[arg(long, default_value_t = 1, conflicts_with = "inputs")]
    pub trials: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `mote bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The .mote model.
    pub model: PathBuf,
    /// Timed invocations.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub iters: u32,
    /// Untimed invocations first.
    #[arg(long, default_value_t = 10)]
    pub warmup: u32,
    /// Input .npy files (default: random normal inputs from a fixed seed).
    #[arg(long = "input", value_name = "FILE.npy")]
    pub inputs: Vec<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Time every op and print a per-layer table sorted by cost.
    #[arg(long)]
    pub per_op: bool,
    /// Use no instruction set above this one (reference, avx2, avx2_vnni, avx512_vnni, neon,
    /// neon_dotprod, neon_i8mm), to measure what each kernel family gives on this machine;
    /// default: the best the CPU has.
    #[arg(long, value_name = "ISA", value_parser = parse_isa)]
    pub isa: Option<mote_runtime::dispatch::Isa>,
    /// Threads for the convolutions: each layer with work enough is cut into this many bands
    /// of output rows, run at once (1: every layer whole, on one thread).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub threads: u16,
}

/// Parses an instruction-set name as the kernels spell it (`avx2`, `neon_dotprod`, ...).
pub fn parse_isa(s: &str) -> Result<mote_runtime::dispatch::Isa, String> {
    use mote_runtime::dispatch::Isa;
    Isa::ALL
        .iter()
        .copied()
        .find(|i| i.name() == s)
        .ok_or_else(|| {
            let names: Vec<&str> = Isa::ALL.iter().map(|i| i.name()).collect();
            format!(
                "'{s}' is not an instruction set; one of: {}",
                names.join(", ")
            )
        })
}

/// Parses `NAME=1,3,224,224`.
pub fn parse_input_shape(s: &str) -> Result<(String, Vec<usize>), String> {
    let (name, dims) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=D0,D1,... (e.g. input=1,3,224,224)"))?;
    if name.is_empty() {
        return Err(format!("'{s}' has no input name before '='"));
    }
    let dims = dims
        .split(',')
        .map(|d| {
            let d = d.trim();
            match d.parse::<usize>() {
                Ok(v) if v > 0 => Ok(v),
                _ => Err(format!("'{d}' in '{s}' is not a positive dimension")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((name.to_string(), dims))
}

/// Parses `HxW`.
pub fn parse_hw(s: &str) -> Result<(usize, usize), String> {
    let err = || format!("'{s}' is not HxW (e.g. 224x224)");
    let (h, w) = s.split_once(['x', 'X']).ok_or_else(err)?;
    let h: usize = h.trim().parse().map_err(|_| err())?;
    let w: usize = w.trim().parse().map_err(|_| err())?;
    if h == 0 || w == 0 {
        return Err(err());
    }
    Ok((h, w))
}

/// Parses a percentile in (50, 100].
pub fn parse_percentile(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if p > 50.0 && p <= 100.0 => Ok(p),
        _ => Err(format!(
            "'{s}' is not a percentile in (50, 100] (e.g. 99.99)"
        )),
    }
}

/// A comma-separated list of floats (one option value).
#[derive(Clone, Debug, PartialEq)]
pub struct FloatList(pub Vec<f32>);

/// Parses `a,b,c` (finite floats) as one option value.
pub fn parse_float_list(s: &str) -> Result<FloatList, String> {
    parse_floats(s).map(FloatList)
}

/// Parses `a,b,c` (finite floats).
pub fn parse_floats(s: &str) -> Result<Vec<f32>, String> {
    s.split(',')
        .map(|v| match v.trim().parse::<f32>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(format!("'{}' in '{s}' is not a number", v.trim())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_option_parses() {
        let r = Cli::try_parse_from([
            "mote",
            "compile",
            "m.onnx",
            "-o",
            "m.mote",
            "--input-shape",
            "x=1,3,8,8",
            "--name",
            "n",
            "--label",
            "a",
            "--label",
            "b",
            "--image-input",
            "x",
            "--image-size",
            "8x8",
            "--image-layout",
            "nchw",
            "--channel-order",
            "bgr",
            "--scale",
            "-0.5",
            "--mean=-1,2,3",
            "--std",
            "2",
        ]);
        assert!(
            matches!(
                r,
                Ok(Cli {
                    command: Command::Compile(_)
                })
            ),
            "{r:?}"
        );
        let Ok(Cli {
            command: Command::Compile(c),
        }) = r
        else {
            return;
        };
        assert_eq!(c.image.mean, Some(FloatList(vec![-1.0, 2.0, 3.0])));
        assert_eq!(c.image.std, Some(FloatList(vec![2.0])));
        assert_eq!(c.image.scale, Some(-0.5));
        assert_eq!(c.input_shapes, vec![("x".to_string(), vec![1, 3, 8, 8])]);
        assert_eq!(c.image.image_size, Some((8, 8)));
        let r = Cli::try_parse_from([
            "mote",
            "compile",
            "m.onnx",
            "-o",
            "m.mote",
            "--quantize",
            "int8",
            "--calib",
            "pics",
            "--calib-method",
            "percentile",
            "--calib-percentile",
            "99.9",
            "--calib-limit",
            "8",
            "--io",
            "int8",
            "--report",
            "r.json",
            "--rounding",
            "tflm",
            "--allow-float",
        ]);
        assert!(
            matches!(
                r,
                Ok(Cli {
                    command: Command::Compile(_)
                })
            ),
            "{r:?}"
        );
        let Ok(Cli {
            command: Command::Compile(c),
        }) = r
        else {
            return;
        };
        assert_eq!(c.ptq.quantize, Some(QuantizeArg::Int8));
        assert_eq!(c.ptq.calib_method, Some(CalibMethodArg::Percentile));
        assert_eq!(c.ptq.calib_percentile, Some(99.9));
        assert_eq!(c.ptq.calib_limit, Some(8));
        assert_eq!(c.ptq.io, Some(IoArg::Int8));
        assert_eq!(c.rounding, Some(RoundingArg::Tflm));
        assert!(c.allow_float);
        // --quantize needs --calib, and the calibration options need --quantize.
        for argv in [
            &[
                "mote",
                "compile",
                "m.onnx",
                "-o",
                "m.mote",
                "--quantize",
                "int8",
            ][..],
            &["mote", "compile", "m.onnx", "-o", "m.mote", "--calib", "d"],
            &[
                "mote", "compile", "m.onnx", "-o", "m.mote", "--report", "r.json",
            ],
        ] {
            assert!(Cli::try_parse_from(argv).is_err(), "{argv:?}");
        }
        for argv in [
            vec!["mote", "inspect", "m.mote", "--json"],
            vec![
                "mote", "run", "m.mote", "--input", "a.npy", "--input", "b.npy", "--output",
                "o.npy",
            ],
            vec!["mote", "run", "m.mote", "--image", "p.png", "--top", "3"],
            vec![
                "mote",
                "verify",
                "m.onnx",
                "--input-shape",
                "x=1,2",
                "--rtol",
                "1e-4",
                "--trials",
                "3",
                "--json",
            ],
            vec![
                "mote", "bench", "m.mote", "--iters", "5", "--warmup", "1", "--json", "--per-op",
            ],
        ] {
            assert!(Cli::try_parse_from(&argv).is_ok(), "{argv:?}");
        }
        assert!(Cli::try_parse_from([
            "mote", "run", "m.mote", "--image", "p.png", "--input", "a.npy"
        ])
        .is_err());
        assert!(Cli::try_parse_from(["mote", "bench", "m.mote", "--iters", "0"]).is_err());
    }

    #[test]
    fn value_parsers() {
        assert_eq!(parse_input_shape("a=b=1,2"), Ok(("a=b".into(), vec![1, 2])));
        assert!(parse_input_shape("a=1,0").is_err());
        assert!(parse_input_shape("=1").is_err());
        assert!(parse_input_shape("a").is_err());
        assert_eq!(parse_hw("96x64"), Ok((96, 64)));
        assert!(parse_hw("96").is_err());
        assert!(parse_hw("0x4").is_err());
        assert!(parse_floats("1,nan").is_err());
    }
}
