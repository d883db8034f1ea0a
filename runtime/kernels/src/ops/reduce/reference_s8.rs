//! Portable scalar reference for the int8 mean.
//!
//! Heap-free: the output is walked in order; when the last axis is kept (the channels of a
//! global average pool over NHWC) a block of up to [`BLOCK`] contiguous output values is summed
//! at once into stack accumulators, visiting every reduced position of the block's input
//! (offsets rebuilt from the index of each position); otherwise each output value is summed on
//! its own.
use super::MeanS8Params;
use crate::ops::util::sub;
use crate::quant::multiply_by_quantized_multiplier;
use crate::MAX_RANK;

/// Output values summed together.
const BLOCK: usize = 64;

pub(super) fn mean_s8_reference(p: &MeanS8Params, input: &[i8], output: &mut [i8]) {
    let shape = p.reduce.input;
    let rank = shape.rank.clamp(1, MAX_RANK);
    let reduced = |a: usize| a < shape.rank && p.reduce.axes_mask & (1u32 << a) != 0;
    let strides = shape.strides();
    let last = rank - 1;
    // Trailing kept run: summed as a block.
    let inner = if reduced(last) { 1 } else { shape.dims[last] };
    let head = if reduced(last) { rank } else { last };
    let kept: [usize; MAX_RANK] = core::array::from_fn(|a| {
        if a < head && !reduced(a) {
            shape.dims[a]
        } else {
            1
        }
    });
    let red: [usize; MAX_RANK] = core::array::from_fn(|a| {
        if a < head && reduced(a) {
            shape.dims[a]
        } else {
            1
        }
    });
    let rows: usize = kept[..head].iter().product();
    let count: usize = red[..head].iter().product();
    debug_assert_eq!(output.len(), rows * inner);
    let mut out_off = 0usize;
    for row in 0..rows {
        // Input offset of this output row (reduced axes at 0).
        let mut base = 0usize;
        let mut r = row;
        for a in (0..head).rev() {
            base += (r % kept[a]) * strides[a];
            r /= kept[a];
        }
        let mut start = 0usize;
        while start < inner {
            let n = BLOCK.min(inner - start);
            let mut acc = [0i32; BLOCK];
            for k in 0..count {
                let mut off = base + start;
                let mut rem = k;
                for a in (0..head).rev() {
                    off += (rem % red[a]) * strides[a];
                    rem /= red[a];
                }
                for (s, &q) in acc.iter_mut().zip(sub(input, off, n)) {
                    *s = s.wrapping_add(i32::from(q) - p.input_zero_point);
                }
            }
            for (o, &s) in output.iter_mut().skip(out_off).take(n).zip(acc.iter()) {
                let v = multiply_by_quantized_multiplier(s, p.multiplier, p.shift, p.rounding)
                    .saturating_add(p.output_zero_point);
                *o = v.clamp(-128, 127) as i8;
            }
            out_off += n;
            start += n;
        }
    }
}
