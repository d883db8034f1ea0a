//! `display MODEL.mote PHOTO [--png OUT.png] [--npy OUT.npy]`
//!
//! Runs the person detector on a photo, draws the result into the 240×240 RGB565 framebuffer
//! with the same code as the firmware, and prints the label, the probability and the
//! framebuffer's CRC-32 (the lines the firmware prints). `--png` saves the framebuffer,
//! `--npy` the model's int8 input (the picture the firmware build embeds: `MOTE_INPUT`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use mote_example_display::host;

const USAGE: &str = "usage: display MODEL.mote PHOTO [--png OUT.png] [--npy OUT.npy]";

fn run() -> Result<()> {
    let mut positional = Vec::new();
    let (mut png, mut npy) = (None, None);
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--png") => png = Some(PathBuf::from(args.next().ok_or_else(|| anyhow!(USAGE))?)),
            Some("--npy") => npy = Some(PathBuf::from(args.next().ok_or_else(|| anyhow!(USAGE))?)),
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => positional.push(PathBuf::from(a)),
        }
    }
    let [model_path, photo] = positional.as_slice() else {
        bail!(USAGE);
    };
    let bytes = mote_cli::model::ModelFile::read(model_path).map_err(|f| anyhow!("{f}"))?;
    let model = bytes.model().map_err(|f| anyhow!("{f}"))?;
    let r = host::render(&model, photo)?;
    if let Some(p) = &npy {
        let shape: Vec<usize> = model
            .input(0)
            .map_err(|e| anyhow!("{e}"))?
            .shape()
            .iter()
            .map(|&d| d as usize)
            .collect();
        host::write_npy_i8(p, &shape, &r.input)?;
    }
    if let Some(p) = &png {
        host::to_image(&r.framebuffer)
            .save(p)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    print!("{}", r.report);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("display: {e:#}");
            ExitCode::FAILURE
        }
    }
}
