//! A convolution cut into bands of output rows, each a convolution of its own.
//!
//! Why: a host with several cores runs one layer's bands side by side (the interpreter's
//! `Workers`), with no kernel knowing about threads. Output rows of one image are contiguous in
//! NHWC, so a band's output is one slice; its input is the band of input rows its windows reach,
//! also one slice; and its geometry is the layer's with fewer rows and the top padding that is
//! left (the bottom padding is implicit: rows past `in_h` read as padding in every kernel). Each
//! output pixel sees the same taps in the same order as in the whole layer, so int8 bands are
//! bit-exact with it by construction, and the tests below check it.

use core::ops::Range;

use super::Conv2dParams;

/// A band of output rows `rows` of a single-image convolution (`batch == 1`) `g`: the band's own
/// geometry and the element ranges of its input and output within the layer's.
///
/// `None` when `g` has several images, `rows` is empty or past `out_h`, an extent overflows, or
/// the band's windows reach no input row (a layer padded by more than its window): such a layer
/// runs whole.
pub fn output_row_band(
    g: &Conv2dParams,
    rows: Range<usize>,
) -> Option<(Conv2dParams, Range<usize>, Range<usize>)> {
    if g.batch != 1 || rows.start >= rows.end || rows.end > g.out_h || g.in_h == 0 {
        return None;
    }
    // The first input row the band's windows start at, in padded coordinates, and the row past
    // the last one they reach.
    let first = rows.start.checked_mul(g.stride_h)?;
    let reach = g.kernel_h.checked_sub(1)?.checked_mul(g.dilation_h)?;
    let end = (rows.end - 1)
        .checked_mul(g.stride_h)?
        .checked_add(reach)?
        .checked_add(1)?;
    let in_start = first.saturating_sub(g.pad_top).min(g.in_h);
    let in_end = end.saturating_sub(g.pad_top).min(g.in_h);
    let band = Conv2dParams {
        in_h: in_end.saturating_sub(in_start),
        out_h: rows.end - rows.start,
        pad_top: g.pad_top.saturating_sub(first),
        ..*g
    };
    if band.in_h == 0 {
        return None;
    }
    let in_row = g.in_w.checked_mul(g.in_c)?;
    let out_row = g.out_w.checked_mul(g.out_c)?;
    Some((
        band,
        in_start.checked_mul(in_row)?..in_end.checked_mul(in_row)?,
        rows.start.checked_mul(out_row)?..rows.end.checked_mul(out_row)?,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ops::conv2d::{conv2d_f32, conv2d_s8, Conv2dS8Params};
    use crate::quant::Rounding;
    use crate::Activation;
    use proptest::prelude::*;
    use std::{vec, vec::Vec};

    fn geometry(
        (in_h, in_w, in_c, out_c, groups): (usize, usize, usize, usize, usize),
        (k, stride, dil, pad_top, pad_left): (usize, usize, usize, usize, usize),
    ) -> Option<Conv2dParams> {
        let span = (k - 1) * dil + 1;
        let out_h = (in_h + 2 * pad_top).checked_sub(span)? / stride + 1;
        let out_w = (in_w + 2 * pad_left).checked_sub(span)? / stride + 1;
        Some(Conv2dParams {
            batch: 1,
            in_h,
            in_w,
            in_c: in_c * groups,
            out_h,
            out_w,
            out_c: out_c * groups,
            kernel_h: k,
            kernel_w: k,
            stride_h: stride,
            stride_w: stride,
            dilation_h: dil,
            dilation_w: dil,
            pad_top,
            pad_left,
            groups,
            activation: Activation::None,
        })
    }

    /// Splits `out_h` into `parts` bands as the interpreter does (sizes differ by at most one).
    fn bands(out_h: usize, parts: usize) -> impl Iterator<Item = Range<usize>> {
        let parts = parts.clamp(1, out_h);
        (0..parts).map(move |k| k * out_h / parts..(k + 1) * out_h / parts)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// The bands, each run as its own convolution by the dispatching kernels, write what the
        /// whole layer writes: bit for bit in int8, and in f32 too when the same kernel runs.
        #[test]
        fn bands_match_the_whole_layer(
            shape in (1usize..12, 1usize..9, 1usize..20, 1usize..20, 1usize..3),
            window in (1usize..6, 1usize..4, 1usize..3, 0usize..3, 0usize..3),
            parts in 1usize..6,
            seed in any::<u64>(),
        ) {
            let Some(g) = geometry(shape, window) else { return Ok(()) };
            let mut rng = seed | 1;
            let mut next = move || { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng };
            let x: Vec<i8> = (0..g.in_h * g.in_w * g.in_c).map(|_| next() as i8).collect();
            let w: Vec<i8> = (0..g.out_c * g.kernel_h * g.kernel_w * (g.in_c / g.groups))
                .map(|_| next() as i8).collect();
            let b: Vec<i32> = (0..g.out_c).map(|_| (next() % 20001) as i32 - 10000).collect();
            let m: Vec<i32> = (0..g.out_c).map(|_| (1 << 30) + (next() % (1 << 30)) as i32).collect();
            let s: Vec<i32> = (0..g.out_c).map(|_| -((next() % 12) as i32) - 4).collect();
            let p = Conv2dS8Params {
                geometry: g,
                input_offset: (next() % 256) as i32 - 127,
                output_offset: (next() % 256) as i32 - 128,
                act_min: -128,
                act_max: 127,
                rounding: Rounding::Double,
            };
            let mut whole = vec![0i8; g.out_h * g.out_w * g.out_c];
            conv2d_s8(&p, &x, &w, Some(&b), &m, &s, &mut whole);
            let mut banded = vec![0i8; whole.len()];
            for rows in bands(g.out_h, parts) {
                let r = rows.start * g.out_w * g.out_c..rows.end * g.out_w * g.out_c;
                let Some((bg, xr, yr)) = output_row_band(&g, rows.clone()) else {
                    // Only a band whose windows lie wholly in the padding has no input rows.
                    let first = rows.start * g.stride_h;
                    let end = (rows.end - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
                    prop_assert!(end <= g.pad_top || first >= g.pad_top + g.in_h);
                    banded[r.clone()].copy_from_slice(&whole[r]);
                    continue;
                };
                prop_assert_eq!(&yr, &r);
                prop_assert_eq!(bg.out_h, rows.len());
                let bp = Conv2dS8Params { geometry: bg, ..p };
                conv2d_s8(&bp, &x[xr], &w, Some(&b), &m, &s, &mut banded[yr]);
            }
            prop_assert_eq!(&banded, &whole);

            let xf: Vec<f32> = x.iter().map(|&v| f32::from(v) / 16.0).collect();
            let wf: Vec<f32> = w.iter().map(|&v| f32::from(v) / 64.0).collect();
            let bf: Vec<f32> = b.iter().map(|&v| v as f32 / 1024.0).collect();
            let mut whole = vec![0f32; banded.len()];
            conv2d_f32(&g, &xf, &wf, Some(&bf), &mut whole);
            let mut banded = vec![f32::NAN; whole.len()];
            for rows in bands(g.out_h, parts) {
                let Some((bg, xr, yr)) = output_row_band(&g, rows.clone()) else {
                    let r = rows.start * g.out_w * g.out_c..rows.end * g.out_w * g.out_c;
                    banded[r.clone()].copy_from_slice(&whole[r]);
                    continue;
                };
                conv2d_f32(&bg, &xf[xr], &wf, Some(&bf), &mut banded[yr]);
            }
            for (a, e) in banded.iter().zip(&whole) {
                prop_assert!((a - e).abs() <= 1e-5 * (1.0 + e.abs()), "{} vs {}", a, e);
            }
        }
    }

    #[test]
    fn several_images_and_empty_bands_are_refused() {
        let g = geometry((8, 8, 4, 4, 1), (3, 1, 1, 1, 1)).unwrap();
        assert!(output_row_band(&g, 0..8).is_some());
        assert!(output_row_band(&g, 3..3).is_none());
        assert!(output_row_band(&g, 7..9).is_none());
        assert!(output_row_band(&Conv2dParams { batch: 2, ..g }, 0..4).is_none());
    }

    #[test]
    fn a_band_keeps_the_padding_that_is_left() {
        // 3×3, stride 2, pad 1, 9 input rows -> 5 output rows; rows 1..3 start at padded row 2
        // (input row 1) and reach padded row 6 (input row 5).
        let g = geometry((9, 4, 2, 3, 1), (3, 2, 1, 1, 1)).unwrap();
        assert_eq!(g.out_h, 5);
        let (b, xr, yr) = output_row_band(&g, 1..3).unwrap();
        assert_eq!((b.in_h, b.pad_top, b.out_h), (5, 0, 2));
        assert_eq!(xr, 8..48);
        assert_eq!(yr, 6..18);
        let (b, xr, _) = output_row_band(&g, 0..1).unwrap();
        assert_eq!((b.in_h, b.pad_top, xr), (2, 1, 0..16));
    }
}
