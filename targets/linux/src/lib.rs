//! `mote`, the host command line: compile ONNX models into `.mote` files, inspect them, run them
//! with the interpreter, check them against ONNX Runtime, and measure their latency.
//!
//! ```text
//! mote compile model.onnx -o model.mote [--input-shape NAME=1,3,224,224 ...] [--name NAME]
//!         [--labels labels.txt | --label A --label B ...]
//!         [--image-input NAME] [--image-size HxW] [--image-layout nchw|nhwc]
//!         [--channel-order rgb|bgr] [--scale F] [--mean a,b,c] [--std a,b,c]
//!         [--rounding litert|tflm] [--allow-float]
//!         [--quantize int8 --calib DIR_OR_NPY [--calib-method minmax|percentile|mse]
//!          [--calib-percentile P] [--calib-limit N] [--io float|int8] [--report report.json]]
//! mote inspect model.mote [--json]
//! mote run model.mote --input in.npy [--input ...] [--output out.npy ...]
//! mote run model.mote --image photo.jpg [--top K]
//! mote verify model.onnx [--input in.npy ...] [--input-shape ...] [--rtol 1e-5] [--trials N] [--json]
//! mote bench model.mote [--iters N] [--warmup N] [--input in.npy ...] [--json] [--per-op]
//! ```
//!
//! Why it is a library with a thin `main`: the integration tests, the benches and the workspace
//! test crate call the same code the binary runs — in particular
//! [`onnxruntime::run_onnxruntime`], the ONNX Runtime reference every parity test uses.
//!
//! Every failure prints one line `error: ...` to stderr and exits with the code of its
//! [`error::ExitKind`] (see [`error`] for the table): 1 verification beyond tolerance, 2 usage,
//! 3 invalid or unsupported model, 4 bad input file, 5 I/O. The metadata keys `compile` records
//! are listed in [`metadata`].

#![warn(missing_docs)]

pub mod args;
pub mod calib;
pub mod commands;
pub mod error;
pub mod metadata;
pub mod model;
pub mod npy;
pub mod onnxruntime;
pub mod preprocess;
pub mod rng;
pub mod util;

pub use error::{ExitKind, Failure};
pub use onnxruntime::{int8_kernels_saturate, run_onnxruntime, run_onnxruntime_typed, TensorData};

use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;

/// Runs a parsed command.
///
/// # Errors
/// The command's [`Failure`].
pub fn execute(cli: &args::Cli) -> error::Result<()> {
    use args::Command::*;
    match &cli.command {
        Compile(a) => commands::compile::run(a),
        Inspect(a) => commands::inspect::run(a),
        Run(a) => commands::run::run(a),
        Verify(a) => commands::verify::run(a),
        Bench(a) => commands::bench::run(a),
    }
}

/// Folds clap's multi-line error into one line (without the usage block).
fn clap_one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut parts: Vec<&str> = Vec::new();
    let mut in_usage = false;
    for l in rendered.lines() {
        let t = l.trim();
        if t.starts_with("Usage:") {
            in_usage = true;
            continue;
        }
        if in_usage && (l.starts_with(' ') || t.is_empty()) {
            continue;
        }
        in_usage = false;
        if !t.is_empty() {
            parts.push(t);
        }
    }
    let s = parts.join(" ");
    s.strip_prefix("error: ").unwrap_or(&s).to_string()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// The whole program: parses `args` (the first is the program name), runs the command, prints
/// a failure as one `error:` line and returns the exit code. Never panics: a panic inside a
/// library is caught and reported as an internal error (exit 3), or as an I/O error (exit 5)
/// when standard output cannot be written (a closed pipe ends the program quietly, exit 0).
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| parse_and_execute(args));
    std::panic::set_hook(previous);
    match result {
        Ok(code) => code,
        Err(payload) => {
            let msg = panic_message(payload.as_ref()).replace('\n', " ");
            if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
                // The reader went away (`mote inspect m.mote | head`): stop quietly, like ripgrep.
                ExitCode::SUCCESS
            } else if msg.starts_with("failed printing to std") {
                eprintln!("error: {msg}");
                ExitCode::from(ExitKind::Io.code())
            } else {
                eprintln!("error: internal error (a bug in mote; please report it): {msg}");
                ExitCode::from(ExitKind::Model.code())
            }
        }
    }
}

fn parse_and_execute(args: Vec<OsString>) -> ExitCode {
    let cli = match args::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                | ErrorKind::MissingSubcommand => {
                    eprintln!("error: no command given (compile, inspect, run, verify, bench); try 'mote --help'");
                    ExitCode::from(ExitKind::Usage.code())
                }
                _ => {
                    eprintln!("error: {}", clap_one_line(&e));
                    ExitCode::from(ExitKind::Usage.code())
                }
            };
        }
    };
    match execute(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {f}");
            f.exit_code()
        }
    }
}
