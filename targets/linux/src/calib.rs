//! Calibration data for `mote compile --quantize int8 --calib DIR_OR_NPY`.
//!
//! - A folder: every file in it (not its subfolders), in file-name order, decoded as an image
//!   (PNG or JPEG, told by the contents) and pre-processed exactly as `mote run --image` does
//!   ([`crate::preprocess`]) with the compile command's image options. Files that do not decode
//!   are skipped with a warning; a folder with no readable image is an error naming it.
//! - An `.npy` file: a float32 batch `[N, ...input shape]` (or `[N, ...]` replacing a batch
//!   axis of 1), one sample per row, used as it is.
//!
//! Only models with one input can be calibrated this way.

use crate::error::{Classify, ExitKind, Result};
use crate::fail;
use crate::metadata::ImageSpec;
use crate::model::Port;
use crate::npy::shape_str;
use std::path::Path;

/// Calibration samples (per sample, one vector per model input) and the files skipped.
#[derive(Debug, Default)]
pub struct Calibration {
    /// The samples.
    pub samples: Vec<Vec<Vec<f32>>>,
    /// Files of a calibration folder that could not be decoded as images.
    pub skipped: Vec<String>,
    /// What the samples are, for messages: "12 images from pics/", "64 rows of batch.npy".
    pub description: String,
}

/// Reads the calibration data at `path` for a model with inputs `ports`.
///
/// # Errors
/// Exit 2 for a model with more than one input; exit 4 for a folder without readable images or
/// an `.npy` file of the wrong dtype or shape; exit 5 when `path` cannot be read.
pub fn load(
    path: &Path,
    limit: Option<usize>,
    ports: &[Port],
    spec: Option<&ImageSpec>,
) -> Result<Calibration> {
    let [port] = ports else {
        fail!(
            ExitKind::Usage,
            "--calib: calibration data can be given for models with one input; this one has {}",
            ports.len()
        );
    };
    let meta = std::fs::metadata(path).or_fail_with(ExitKind::Io, || {
        format!("--calib: cannot read {}", path.display())
    })?;
    if meta.is_dir() {
        let Some(spec) = spec else {
            fail!(
                ExitKind::Usage,
                "--calib {}: calibration images need an image input (see the image options)",
                path.display()
            );
        };
        images(path, limit, spec)
    } else {
        batch(path, limit, port)
    }
}

fn images(dir: &Path, limit: Option<usize>, spec: &ImageSpec) -> Result<Calibration> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .or_fail_with(ExitKind::Io, || {
            format!("--calib: cannot read {}", dir.display())
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut out = Calibration::default();
    for f in &files {
        if limit.is_some_and(|l| out.samples.len() >= l) {
            break;
        }
        match crate::preprocess::load(f) {
            Ok(img) => out
                .samples
                .push(vec![crate::preprocess::tensor(&img, spec)]),
            Err(_) => out.skipped.push(
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        }
    }
    if out.samples.is_empty() {
        fail!(
            ExitKind::Input,
            "--calib {}: no readable images in the calibration folder ({} file(s){}; PNG and JPEG are supported)",
            dir.display(),
            files.len(),
            if files.is_empty() { "" } else { ", none decodes as an image" }
        );
    }
    out.description = format!("{} image(s) from {}", out.samples.len(), dir.display());
    Ok(out)
}

fn batch(path: &Path, limit: Option<usize>, port: &Port) -> Result<Calibration> {
    let bytes = std::fs::read(path).or_fail_with(ExitKind::Io, || {
        format!("--calib: cannot read {}", path.display())
    })?;
    let npy = npyz::NpyFile::new(&bytes[..]).or_fail_with(ExitKind::Input, || {
        format!(
            "--calib {}: not a valid .npy file (or a folder of images)",
            path.display()
        )
    })?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let is_f32 = matches!(npy.dtype(), npyz::DType::Plain(t)
        if t.type_char() == npyz::TypeChar::Float && t.size_field() == 4);
    if !is_f32 {
        fail!(
            ExitKind::Input,
            "--calib {}: the batch must be float32 (input {})",
            path.display(),
            port.describe()
        );
    }
    if npy.order() == npyz::Order::Fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        fail!(
            ExitKind::Input,
            "--calib {}: Fortran-order arrays are not supported; save it with numpy.ascontiguousarray",
            path.display()
        );
    }
    let per = port.elements();
    let fits = shape.len() == port.shape.len() + 1 && shape[1..] == port.shape[..]
        || (port.shape.first() == Some(&1)
            && shape.len() == port.shape.len()
            && shape[1..] == port.shape[1..]);
    if !fits || per == 0 {
        fail!(
            ExitKind::Input,
            "--calib {}: batch of shape {} does not fit input {} (expected [N, {}])",
            path.display(),
            shape_str(&shape),
            port.describe(),
            port.shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let data: Vec<f32> = npy.into_vec::<f32>().or_fail_with(ExitKind::Input, || {
        format!("--calib {}: cannot read the array data", path.display())
    })?;
    let mut n = shape[0];
    if data.len() != n * per {
        fail!(
            ExitKind::Input,
            "--calib {}: the array holds {} values, the shape needs {}",
            path.display(),
            data.len(),
            n * per
        );
    }
    if n == 0 {
        fail!(
            ExitKind::Input,
            "--calib {}: the batch is empty",
            path.display()
        );
    }
    if let Some(l) = limit {
        n = n.min(l);
    }
    Ok(Calibration {
        samples: data
            .chunks_exact(per)
            .take(n)
            .map(|c| vec![c.to_vec()])
            .collect(),
        skipped: Vec::new(),
        description: format!("{n} row(s) of {}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(shape: &[usize]) -> Port {
        Port {
            name: "x".into(),
            dtype: mote_format::DType::F32,
            shape: shape.to_vec(),
        }
    }

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mote-calib-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::create_dir_all(&d);
        d
    }

    #[test]
    fn npy_batches_with_and_without_the_batch_axis() {
        let d = tmp("npy");
        let data: Vec<f32> = (0..24).map(|v| v as f32).collect();
        for (i, shape) in [vec![4, 1, 2, 3], vec![4, 2, 3]].iter().enumerate() {
            let f = d.join(format!("b{i}.npy"));
            let bytes = crate::npy::f32_bytes(shape, &data);
            assert!(bytes.is_ok());
            let Ok(bytes) = bytes else { return };
            assert!(std::fs::write(&f, bytes).is_ok());
            let c = load(&f, Some(3), &[port(&[1, 2, 3])], None);
            assert!(
                matches!(&c, Ok(c) if c.samples.len() == 3 && c.samples[1][0] == data[6..12]),
                "{c:?}"
            );
            // Wrong shape: exit 4.
            let c = load(&f, None, &[port(&[1, 3, 2, 1])], None);
            assert!(matches!(&c, Err(e) if e.kind == ExitKind::Input), "{c:?}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_folder_without_images_is_an_input_error_naming_it() {
        let d = tmp("noimg");
        assert!(std::fs::write(d.join("notes.txt"), "not a picture").is_ok());
        let spec = ImageSpec {
            input: "x".into(),
            size: (2, 2),
            layout: crate::args::ImageLayout::Nhwc,
            channel_order: crate::args::ChannelOrder::Rgb,
            channels: 3,
            scale: 1.0,
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        let c = load(&d, None, &[port(&[1, 2, 2, 3])], Some(&spec));
        assert!(
            matches!(&c, Err(e) if e.kind == ExitKind::Input
                && e.to_string().contains(&d.display().to_string())
                && e.to_string().contains("no readable images")),
            "{c:?}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
