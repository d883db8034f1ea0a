//! The metadata keys `mote compile` records and `mote run` reads.
//!
//! A `.mote` file carries string key/value pairs (the metadata section, see `docs/format.md`).
//! The compiler always writes `compiler` (`mote <version>`) and, when the ONNX file names one,
//! `source.producer`. The CLI adds:
//!
//! | key | value | set by |
//! |---|---|---|
//! | `name` | model name | `--name` (default: the ONNX file's stem) |
//! | `labels` | class labels, one per line, in output order | `--labels FILE` or repeated `--label` |
//! | `image.input` | name of the graph input that takes an image | `--image-input` (or the only input) |
//! | `image.size` | `HxW` the image is resized to (bilinear, triangle filter) | `--image-size` or the input's shape |
//! | `image.layout` | `nchw` or `nhwc`: axis order of the image input | `--image-layout` or the input's shape |
//! | `image.channel_order` | `rgb` or `bgr` (3-channel inputs; 1-channel inputs take luma) | `--channel-order` (default `rgb`) |
//! | `image.scale` | decimal float: `value = (pixel * scale - mean[c]) / std[c]`, pixel in 0..=255 | `--scale` (default 1) |
//! | `image.mean` | comma-separated floats, one per channel (in the input's channel order) | `--mean` (default 0) |
//! | `image.std` | comma-separated floats, one per channel | `--std` (default 1) |
//! | `quantization` | how the model was quantized, e.g. `int8 post-training quantization; calibration: minmax over 40 sample(s); io: float` | `--quantize` |
//!
//! The `image.*` keys are written together, all of them, or not at all. Floats are written with
//! Rust's shortest round-trip formatting, so reading them back gives the same `f32`.

use crate::args::{ChannelOrder, ImageArgs, ImageLayout};
use crate::error::{ExitKind, Failure, Result};
use crate::fail;

/// Key of the model name.
pub const NAME: &str = "name";
/// Key of the newline-separated class labels.
pub const LABELS: &str = "labels";
/// Key of the image input's name.
pub const IMAGE_INPUT: &str = "image.input";
/// Key of the image size, `HxW`.
pub const IMAGE_SIZE: &str = "image.size";
/// Key of the image layout, `nchw` / `nhwc`.
pub const IMAGE_LAYOUT: &str = "image.layout";
/// Key of the channel order, `rgb` / `bgr`.
pub const IMAGE_CHANNEL_ORDER: &str = "image.channel_order";
/// Key of the pixel scale.
pub const IMAGE_SCALE: &str = "image.scale";
/// Key of the per-channel mean.
pub const IMAGE_MEAN: &str = "image.mean";
/// Key of the per-channel standard deviation.
pub const IMAGE_STD: &str = "image.std";
/// Key of the post-training quantization summary.
pub const QUANTIZATION: &str = "quantization";

/// Image pre-processing, as recorded in a model.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSpec {
    /// Graph input name.
    pub input: String,
    /// Height and width.
    pub size: (usize, usize),
    /// Axis order.
    pub layout: ImageLayout,
    /// Channel order.
    pub channel_order: ChannelOrder,
    /// Channels: 1 (luma) or 3.
    pub channels: usize,
    /// Pixel scale.
    pub scale: f32,
    /// Mean per channel (`channels` entries).
    pub mean: Vec<f32>,
    /// Standard deviation per channel (`channels` entries).
    pub std: Vec<f32>,
}

fn join(v: &[f32]) -> String {
    v.iter()
        .map(|x| format!("{x}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl ImageSpec {
    /// The metadata entries.
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        vec![
            (IMAGE_INPUT.into(), self.input.clone()),
            (
                IMAGE_SIZE.into(),
                format!("{}x{}", self.size.0, self.size.1),
            ),
            (IMAGE_LAYOUT.into(), self.layout.as_str().into()),
            (
                IMAGE_CHANNEL_ORDER.into(),
                self.channel_order.as_str().into(),
            ),
            (IMAGE_SCALE.into(), format!("{}", self.scale)),
            (IMAGE_MEAN.into(), join(&self.mean)),
            (IMAGE_STD.into(), join(&self.std)),
        ]
    }

    /// The expected input shape.
    pub fn input_shape(&self) -> Vec<usize> {
        let (h, w) = self.size;
        match self.layout {
            ImageLayout::Nchw => vec![1, self.channels, h, w],
            ImageLayout::Nhwc => vec![1, h, w, self.channels],
        }
    }

    /// Builds the spec from `mote compile`'s options and the input's shape.
    ///
    /// # Errors
    /// Usage errors for options that do not fit the input (exit 2).
    pub fn from_args(a: &ImageArgs, input: &str, shape: &[usize]) -> Result<ImageSpec> {
        let usage = ExitKind::Usage;
        if shape.len() != 4 || shape[0] != 1 {
            fail!(usage, "--image-input: input '{input}' has shape {shape:?}; an image input must be 4-D with batch 1 ([1,C,H,W] or [1,H,W,C])");
        }
        let is_ch = |d: usize| d == 1 || d == 3;
        let layout = match a.image_layout {
            Some(l) => l,
            None if is_ch(shape[1]) && !is_ch(shape[3]) => ImageLayout::Nchw,
            None if is_ch(shape[3]) && !is_ch(shape[1]) => ImageLayout::Nhwc,
            None if is_ch(shape[1]) && is_ch(shape[3]) => {
                fail!(usage, "--image-input: cannot tell the layout of input '{input}' from its shape {shape:?}; give --image-layout nchw or nhwc")
            }
            None => fail!(
                usage,
                "--image-input: input '{input}' has shape {shape:?}: no axis of 1 or 3 channels at position 1 (nchw) or 3 (nhwc)"
            ),
        };
        let (channels, h, w) = match layout {
            ImageLayout::Nchw => (shape[1], shape[2], shape[3]),
            ImageLayout::Nhwc => (shape[3], shape[1], shape[2]),
        };
        if !is_ch(channels) {
            fail!(usage, "--image-layout {}: input '{input}' of shape {shape:?} would have {channels} channels; images have 1 or 3", layout.as_str());
        }
        if let Some(size) = a.image_size {
            if size != (h, w) {
                fail!(usage, "--image-size {}x{} does not match input '{input}' of shape {shape:?} ({}x{} in {} layout)", size.0, size.1, h, w, layout.as_str());
            }
        }
        let per_channel = |name: &str,
                           v: &Option<crate::args::FloatList>,
                           default: f32|
         -> Result<Vec<f32>> {
            match v.as_ref().map(|l| &l.0) {
                None => Ok(vec![default; channels]),
                Some(v) if v.len() == 1 => Ok(vec![v[0]; channels]),
                Some(v) if v.len() == channels => Ok(v.clone()),
                Some(v) => Err(Failure::new(usage, format!("--{name} has {} values; input '{input}' has {channels} channels (give 1 or {channels})", v.len()))),
            }
        };
        let mean = per_channel("mean", &a.mean, 0.0)?;
        let std = per_channel("std", &a.std, 1.0)?;
        if std.contains(&0.0) {
            fail!(usage, "--std must not contain 0");
        }
        let scale = a.scale.unwrap_or(1.0);
        if !scale.is_finite() {
            fail!(usage, "--scale must be a finite number");
        }
        Ok(ImageSpec {
            input: input.to_string(),
            size: (h, w),
            layout,
            channel_order: a.channel_order.unwrap_or(ChannelOrder::Rgb),
            channels,
            scale,
            mean,
            std,
        })
    }

    /// Reads the spec from a model's metadata; `Ok(None)` when the model records none.
    ///
    /// # Errors
    /// Invalid-model errors (exit 3) for missing or malformed keys.
    pub fn from_model(m: &mote_format::Model<'_>) -> Result<Option<ImageSpec>> {
        let Some(input) = m.meta(IMAGE_INPUT) else {
            return Ok(None);
        };
        let bad = |key: &str, v: &str, what: &str| {
            Failure::new(
                ExitKind::Model,
                format!("metadata '{key}' = '{v}' is not {what}"),
            )
        };
        let get = |key: &'static str| {
            m.meta(key).ok_or_else(|| {
                Failure::new(
                    ExitKind::Model,
                    format!("metadata '{key}' is missing (the model has '{IMAGE_INPUT}')"),
                )
            })
        };
        let size_s = get(IMAGE_SIZE)?;
        let size = crate::args::parse_hw(size_s).map_err(|_| bad(IMAGE_SIZE, size_s, "HxW"))?;
        let layout = match get(IMAGE_LAYOUT)? {
            "nchw" => ImageLayout::Nchw,
            "nhwc" => ImageLayout::Nhwc,
            v => return Err(bad(IMAGE_LAYOUT, v, "nchw or nhwc")),
        };
        let channel_order = match get(IMAGE_CHANNEL_ORDER)? {
            "rgb" => ChannelOrder::Rgb,
            "bgr" => ChannelOrder::Bgr,
            v => return Err(bad(IMAGE_CHANNEL_ORDER, v, "rgb or bgr")),
        };
        let scale_s = get(IMAGE_SCALE)?;
        let scale: f32 = scale_s
            .parse()
            .map_err(|_| bad(IMAGE_SCALE, scale_s, "a number"))?;
        let mean_s = get(IMAGE_MEAN)?;
        let mean = crate::args::parse_floats(mean_s)
            .map_err(|_| bad(IMAGE_MEAN, mean_s, "comma-separated numbers"))?;
        let std_s = get(IMAGE_STD)?;
        let std = crate::args::parse_floats(std_s)
            .map_err(|_| bad(IMAGE_STD, std_s, "comma-separated numbers"))?;
        let channels = mean.len();
        if !(channels == 1 || channels == 3) || std.len() != channels {
            return Err(Failure::new(ExitKind::Model, format!("metadata '{IMAGE_MEAN}' and '{IMAGE_STD}' must have 1 or 3 values each (found {} and {})", mean.len(), std.len())));
        }
        Ok(Some(ImageSpec {
            input: input.to_string(),
            size,
            layout,
            channel_order,
            channels,
            scale,
            mean,
            std,
        }))
    }
}

/// The labels recorded in a model, if any.
pub fn labels(m: &mote_format::Model<'_>) -> Option<Vec<String>> {
    m.meta(LABELS)
        .map(|s| s.lines().map(str::to_string).collect())
}

/// Parses a labels file: one label per line; trailing empty lines and `\r` are dropped.
pub fn parse_labels(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    while v.last().is_some_and(|l| l.trim().is_empty()) {
        v.pop();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_size_are_inferred_from_the_shape() {
        let a = ImageArgs {
            image_input: Some("x".into()),
            ..Default::default()
        };
        let s = ImageSpec::from_args(&a, "x", &[1, 3, 224, 160]);
        assert!(
            matches!(&s, Ok(s) if s.layout == ImageLayout::Nchw && s.size == (224, 160) && s.channels == 3)
        );
        let s = ImageSpec::from_args(&a, "x", &[1, 96, 64, 1]);
        assert!(
            matches!(&s, Ok(s) if s.layout == ImageLayout::Nhwc && s.size == (96, 64) && s.mean == vec![0.0])
        );
        // Ambiguous, wrong rank, wrong batch: usage errors.
        for shape in [&[1, 3, 8, 3][..], &[1, 640], &[2, 3, 8, 8], &[1, 5, 8, 8]] {
            assert!(
                matches!(ImageSpec::from_args(&a, "x", shape), Err(f) if f.kind == ExitKind::Usage),
                "{shape:?}"
            );
        }
        let explicit = ImageArgs {
            image_layout: Some(ImageLayout::Nhwc),
            ..a.clone()
        };
        assert!(
            matches!(ImageSpec::from_args(&explicit, "x", &[1, 3, 8, 3]), Ok(s) if s.size == (3, 8))
        );
    }

    #[test]
    fn metadata_round_trips() {
        let a = ImageArgs {
            image_input: Some("in".into()),
            channel_order: Some(ChannelOrder::Bgr),
            scale: Some(1.0 / 255.0),
            mean: Some(crate::args::FloatList(vec![0.485, 0.456, 0.406])),
            std: Some(crate::args::FloatList(vec![0.229])),
            ..Default::default()
        };
        let spec = ImageSpec::from_args(&a, "in", &[1, 3, 4, 4]);
        assert!(spec.is_ok());
        let Ok(spec) = spec else { return };
        let mut b = mote_format::ModelBuilder::new();
        let x = b.add_tensor(
            "in",
            mote_format::DType::F32,
            &[1, 3, 4, 4],
            mote_format::Storage::Arena { offset: 0 },
        );
        let y = b.add_tensor(
            "y",
            mote_format::DType::F32,
            &[1, 3, 4, 4],
            mote_format::Storage::Arena { offset: 192 },
        );
        b.add_op("r", &mote_format::OpParams::Reshape, &[x], &[y]);
        b.set_io(&[x], &[y]);
        b.set_arena_len(384);
        for (k, v) in spec.to_metadata() {
            b.set_meta(&k, &v);
        }
        let bytes = mote_format::AlignedBytes::from_slice(&b.finish());
        let m = mote_format::Model::from_bytes(bytes.as_bytes());
        assert!(m.is_ok(), "{m:?}");
        let Ok(m) = m else { return };
        let back = ImageSpec::from_model(&m);
        assert!(
            matches!(&back, Ok(Some(s)) if *s == spec),
            "{back:?} vs {spec:?}"
        );
    }

    #[test]
    fn labels_file_parsing() {
        assert_eq!(
            parse_labels("a\r\nb\n\n \n"),
            vec!["a".to_string(), "b".to_string()]
        );
        assert!(parse_labels("\n\n").is_empty());
    }
}
