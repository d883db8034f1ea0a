//! Private helpers shared by the reference kernels: panic-free sub-slicing, a multi-index
//! "odometer" that keeps linear offsets up to date incrementally (no per-element division), and
//! the range of kernel taps that land inside an interval.

use crate::quant::{multiply_by_quantized_multiplier, Rounding};
use crate::MAX_RANK;

/// `s[start .. start + len]`, or an empty slice when that is out of bounds (never for validated
/// shapes; it keeps the kernels panic-free if a caller breaks the contract).
#[inline(always)]
pub(crate) fn sub<T>(s: &[T], start: usize, len: usize) -> &[T] {
    start
        .checked_add(len)
        .and_then(|end| s.get(start..end))
        .unwrap_or(&[])
}

/// Mutable twin of [`sub`].
#[inline(always)]
pub(crate) fn sub_mut<T>(s: &mut [T], start: usize, len: usize) -> &mut [T] {
    match start.checked_add(len).and_then(|end| s.get_mut(start..end)) {
        Some(x) => x,
        None => &mut [],
    }
}

/// The taps `t` in `0..k` whose position `start + t·dilation` lies in `[lo, hi)`, as the range
/// `first..end` (positions grow with `t`, so the valid taps are contiguous). Empty ranges come
/// back as `first == end`.
#[inline]
pub(crate) fn tap_range(
    start: isize,
    dilation: usize,
    k: usize,
    lo: isize,
    hi: isize,
) -> (usize, usize) {
    if dilation <= 1 {
        // The common case, without the divisions.
        let first = (lo - start).max(0) as usize;
        let end = ((hi - start).max(0) as usize).min(k);
        return (first.min(end), end);
    }
    let d = dilation as isize;
    // First tap with start + t·d >= lo.
    let first = if start >= lo {
        0
    } else {
        ((lo - start + d - 1) / d) as usize
    };
    // Number of taps with start + t·d < hi.
    let end = if start >= hi {
        0
    } else {
        ((hi - start + d - 1) / d) as usize
    };
    let end = end.min(k);
    (first.min(end), end)
}

/// Iterates over all multi-indices of a shape in row-major order, keeping `K` linear offsets
/// (each with its own per-axis stride, possibly 0 or negative) in step.
///
/// Usage: read `offsets`/`idx`, then call [`Odometer::advance`] until it returns `None`.
pub(crate) struct Odometer<const K: usize> {
    rank: usize,
    dims: [usize; MAX_RANK],
    /// Current multi-index (entries at `rank..` stay 0).
    pub(crate) idx: [usize; MAX_RANK],
    strides: [[isize; MAX_RANK]; K],
    /// Current offsets, one per stride set.
    pub(crate) offsets: [isize; K],
}

impl<const K: usize> Odometer<K> {
    /// An odometer over `dims` (at most [`MAX_RANK`] axes; extra axes are ignored) starting at
    /// the all-zero index, with the given initial offsets.
    pub(crate) fn new(
        dims: &[usize],
        strides: [[isize; MAX_RANK]; K],
        offsets: [isize; K],
    ) -> Self {
        let mut d = [1usize; MAX_RANK];
        let rank = dims.len().min(MAX_RANK);
        for (x, &v) in d.iter_mut().zip(dims.iter()) {
            *x = v;
        }
        Odometer {
            rank,
            dims: d,
            idx: [0; MAX_RANK],
            strides,
            offsets,
        }
    }

    /// Moves to the next multi-index. Returns the axis that was incremented (every later axis
    /// was reset to 0), or `None` once all indices have been visited.
    #[inline]
    pub(crate) fn advance(&mut self) -> Option<usize> {
        for a in (0..self.rank).rev() {
            let next = self.idx[a] + 1;
            if next < self.dims[a] {
                self.idx[a] = next;
                for k in 0..K {
                    self.offsets[k] += self.strides[k][a];
                }
                return Some(a);
            }
            // Wrap this axis back to 0.
            let back = self.idx[a] as isize;
            for k in 0..K {
                self.offsets[k] -= self.strides[k][a] * back;
            }
            self.idx[a] = 0;
        }
        None
    }
}

/// Converts an offset computed by an [`Odometer`] into an index (`None` if negative).
#[inline(always)]
pub(crate) fn to_index(off: isize) -> Option<usize> {
    usize::try_from(off).ok()
}

/// One kernel tap of a (grouped) convolution: for every group `g` and each of its `opg` outputs
/// `oc = g·opg + j`, adds the dot product of the group's `cpg` input channels `x[g·cpg ..]`
/// with `weights[oc·k_len + tap ..][.. cpg]` to `out[oc]`.
///
/// Each output accumulates sequentially over the input channels, so its summation order is the
/// natural one whatever the blocking: four outputs are processed side by side only to give the
/// CPU four independent addition chains. Depthwise (`cpg == 1`) is a plain multiply-add per
/// output.
#[inline]
pub(crate) fn accumulate_tap(
    out: &mut [f32],
    x: &[f32],
    weights: &[f32],
    k_len: usize,
    tap: usize,
    cpg: usize,
    opg: usize,
) {
    if cpg == 0 || opg == 0 {
        return;
    }
    if cpg == 1 {
        for (g, (&xv, out_g)) in x.iter().zip(out.chunks_exact_mut(opg)).enumerate() {
            let w0 = g * opg * k_len + tap;
            for (j, o) in out_g.iter_mut().enumerate() {
                if let Some(&w) = weights.get(w0 + j * k_len) {
                    *o += xv * w;
                }
            }
        }
        return;
    }
    for (g, (xg, out_g)) in x
        .chunks_exact(cpg)
        .zip(out.chunks_exact_mut(opg))
        .enumerate()
    {
        let row = |j: usize| sub(weights, (g * opg + j) * k_len + tap, cpg);
        let mut quads = out_g.chunks_exact_mut(4);
        let mut j = 0;
        for quad in &mut quads {
            if let [o0, o1, o2, o3] = quad {
                let (w0, w1, w2, w3) = (row(j), row(j + 1), row(j + 2), row(j + 3));
                let (mut a0, mut a1, mut a2, mut a3) = (*o0, *o1, *o2, *o3);
                let ws = w0.iter().zip(w1).zip(w2).zip(w3);
                for (&xv, (((&v0, &v1), &v2), &v3)) in xg.iter().zip(ws) {
                    a0 += xv * v0;
                    a1 += xv * v1;
                    a2 += xv * v2;
                    a3 += xv * v3;
                }
                (*o0, *o1, *o2, *o3) = (a0, a1, a2, a3);
            }
            j += 4;
        }
        for o in quads.into_remainder() {
            let mut acc = *o;
            for (&xv, &w) in xg.iter().zip(row(j)) {
                acc += xv * w;
            }
            *o = acc;
            j += 1;
        }
    }
}

/// `Σ w · (x + input_offset)` over two equally long slices, wrapping in 32 bits.
#[inline(always)]
pub(crate) fn dot_s8(x: &[i8], w: &[i8], input_offset: i32) -> i32 {
    let mut acc = 0i32;
    for (&xv, &wv) in x.iter().zip(w) {
        acc =
            acc.wrapping_add(i32::from(wv).wrapping_mul(i32::from(xv).wrapping_add(input_offset)));
    }
    acc
}

/// The int8 output stage shared by conv and fully connected: requantize, add the output zero
/// point, clamp to the activation range (TFLite: `std::max` then `std::min`), then to int8.
#[inline(always)]
pub(crate) fn requantize_output(
    acc: i32,
    multiplier: i32,
    shift: i32,
    rounding: Rounding,
    output_offset: i32,
    act_min: i32,
    act_max: i32,
) -> i8 {
    let v = multiply_by_quantized_multiplier(acc, multiplier, shift, rounding)
        .saturating_add(output_offset);
    clamp_s8(v, act_min, act_max)
}

/// [`requantize_output`] with the multiplier prepared once per channel.
#[inline(always)]
#[cfg_attr(not(any(test, target_arch = "arm")), allow(dead_code))]
pub(crate) fn requantize_output_prepared(
    acc: i32,
    m: crate::quant::PreparedMultiplier,
    output_offset: i32,
    act_min: i32,
    act_max: i32,
) -> i8 {
    clamp_s8(m.apply(acc).saturating_add(output_offset), act_min, act_max)
}

/// TFLite's output clamp: `max(v, act_min)` then `min(·, act_max)`, then saturated to int8 (a
/// no-op for activation ranges inside int8, which the loader guarantees; `max`/`min` rather than
/// `clamp`, which would panic if a caller broke `act_min <= act_max`).
#[inline(always)]
pub(crate) fn clamp_s8(v: i32, act_min: i32, act_max: i32) -> i8 {
    v.max(act_min).min(act_max).clamp(-128, 127) as i8
}
