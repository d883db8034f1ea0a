//! Max and average pooling with AVX2: `max_pool2d_f32_avx2`, `avg_pool2d_f32_avx2`,
//! `max_pool2d_s8_avx2`, `avg_pool2d_s8_avx2`.
//!
//! Each output pixel's window is walked once per chunk of channels held in registers (32
//! floats or 32 int8 channels, four vectors), so a 3×3 max pool over 64 channels is two passes
//! of nine taps, each four loads and four `vmaxps`. The lane operations are the reference's:
//! `vmaxps(x, acc)` is `x > acc ? x : acc`, the reference's `if x > o { o = x }` including NaN
//! (skipped) and signed zeros; sums are added in tap order and divided once (`vdivps`, correctly
//! rounded like the scalar division). int8 averages sum in i32 (at most 2^16 taps, see
//! `MAX_AVG_S8_TAPS`) and divide in f32, exact there; the channels left over after the last
//! 8-channel vector (fewer than 8) take the reference's scalar arithmetic.

use core::arch::x86_64::*;

use super::reference::divisor;
use super::reference_s8::rounded_average;
use super::{
    avg_s8_vector_range, for_each_pixel, for_each_tap_offset, vector_geometry, Pool2dParams,
    Pool2dS8Params,
};
use crate::arch::x86::{pack_16_avx2, Avx2};
use crate::ops::util::clamp_s8;
use crate::Activation;

/// `max_pool2d_f32_avx2`: `false` (nothing written) when AVX2 is unavailable or the slices do
/// not match the geometry.
pub(crate) fn max_pool2d_f32(p: &Pool2dParams, input: &[f32], output: &mut [f32]) -> bool {
    f32_entry::<false>(p, input, output)
}

/// `avg_pool2d_f32_avx2` (see [`max_pool2d_f32`]).
pub(crate) fn avg_pool2d_f32(p: &Pool2dParams, input: &[f32], output: &mut [f32]) -> bool {
    f32_entry::<true>(p, input, output)
}

fn f32_entry<const AVG: bool>(p: &Pool2dParams, input: &[f32], output: &mut [f32]) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    if !vector_geometry(p, input.len(), output.len()) {
        return false;
    }
    // SAFETY: `t` proves AVX2; `vector_geometry` checked the slice lengths against the shapes.
    unsafe { pool_f32::<AVG>(t, p, input, output) };
    true
}

/// `max_pool2d_s8_avx2` (see [`max_pool2d_f32`]).
pub(crate) fn max_pool2d_s8(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    if !vector_geometry(&p.geometry, input.len(), output.len()) {
        return false;
    }
    // SAFETY: as in `f32_entry`.
    unsafe { max_s8(t, p, input, output) };
    true
}

/// `avg_pool2d_s8_avx2`: as [`max_pool2d_s8`], and declines windows of more than
/// `MAX_AVG_S8_TAPS` taps.
pub(crate) fn avg_pool2d_s8(p: &Pool2dS8Params, input: &[i8], output: &mut [i8]) -> bool {
    let Some(t) = Avx2::get() else {
        return false;
    };
    if !avg_s8_vector_range(p, input.len(), output.len()) {
        return false;
    }
    // SAFETY: as in `f32_entry`; at most `MAX_AVG_S8_TAPS` taps per window.
    unsafe { avg_s8(t, p, input, output) };
    true
}

/// # Safety
/// AVX2 available; slice lengths checked by `vector_geometry`.
#[target_feature(enable = "avx2,fma")]
unsafe fn pool_f32<const AVG: bool>(_t: Avx2, p: &Pool2dParams, input: &[f32], output: &mut [f32]) {
    let c = p.channels;
    let x = input.as_ptr();
    let y = output.as_mut_ptr();
    let clamp = p
        .activation
        .clamp_bounds()
        .map(|(lo, hi)| (_mm256_set1_ps(lo), _mm256_set1_ps(hi)));
    let scalar_act = clamp.is_none() && p.activation != Activation::None;
    let init = if AVG {
        _mm256_setzero_ps()
    } else {
        _mm256_set1_ps(f32::NEG_INFINITY)
    };
    let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for_each_pixel(p, |n, o, w| {
        // The divisor (average), `None` for a window without taps (the reference's 0).
        let div = AVG
            .then(|| divisor(p, w))
            .filter(|&d| d > 0)
            .map(|d| _mm256_set1_ps(d as f32));
        let finish = |acc: __m256| -> __m256 {
            let v = match (AVG, div) {
                (false, _) => acc,
                (true, Some(d)) => _mm256_div_ps(acc, d),
                (true, None) => _mm256_setzero_ps(),
            };
            match clamp {
                Some((lo, hi)) => _mm256_min_ps(_mm256_max_ps(v, lo), hi),
                None => v,
            }
        };
        let step = |acc: __m256, v: __m256| {
            if AVG {
                _mm256_add_ps(acc, v)
            } else {
                _mm256_max_ps(v, acc)
            }
        };
        let mut ch = 0;
        while ch + 32 <= c {
            let mut acc = [init; 4];
            for_each_tap_offset(p, n, w, |at| {
                for (j, a) in acc.iter_mut().enumerate() {
                    // SAFETY: a tap inside the input; channels `ch + 8j .. + 8 ≤ c` of it.
                    *a = step(*a, unsafe { _mm256_loadu_ps(x.add(at + ch + 8 * j)) });
                }
            });
            for (j, a) in acc.iter().enumerate() {
                // SAFETY: channels `ch + 8j .. + 8 ≤ c` of output pixel `o`.
                unsafe { _mm256_storeu_ps(y.add(o + ch + 8 * j), finish(*a)) };
            }
            ch += 32;
        }
        while ch < c {
            let lanes = (c - ch).min(8);
            let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes as i32), idx);
            let mut acc = init;
            for_each_tap_offset(p, n, w, |at| {
                // SAFETY: a tap inside the input; channels `ch .. ch + lanes ≤ c` of it (the
                // other lanes masked off, not read).
                acc = step(acc, unsafe { _mm256_maskload_ps(x.add(at + ch), mask) });
            });
            // SAFETY: channels `ch .. ch + lanes ≤ c` of output pixel `o`.
            unsafe { _mm256_maskstore_ps(y.add(o + ch), mask, finish(acc)) };
            ch += 8;
        }
        if scalar_act {
            // SAFETY: the `c` floats of output pixel `o`.
            let px = unsafe { core::slice::from_raw_parts_mut(y.add(o), c) };
            p.activation.apply_slice(px);
        }
    });
}

/// Loads `width` (32, 16 or 8) bytes into the low bytes of a vector (the others unspecified).
///
/// # Safety
/// AVX2 available; `src` readable for `width` bytes.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load_bytes(src: *const i8, width: usize) -> __m256i {
    // SAFETY: `width` readable bytes (caller).
    unsafe {
        match width {
            32 => _mm256_loadu_si256(src.cast()),
            16 => _mm256_castsi128_si256(_mm_loadu_si128(src.cast())),
            _ => _mm256_castsi128_si256(_mm_loadl_epi64(src.cast())),
        }
    }
}

/// Stores the low `width` (32, 16 or 8) bytes of `v`.
///
/// # Safety
/// AVX2 available; `dst` writable for `width` bytes.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store_bytes(dst: *mut i8, v: __m256i, width: usize) {
    // SAFETY: `width` writable bytes (caller).
    unsafe {
        match width {
            32 => _mm256_storeu_si256(dst.cast(), v),
            16 => _mm_storeu_si128(dst.cast(), _mm256_castsi256_si128(v)),
            _ => _mm_storel_epi64(dst.cast(), _mm256_castsi256_si128(v)),
        }
    }
}

/// # Safety
/// AVX2 available; slice lengths checked by `vector_geometry`.
#[target_feature(enable = "avx2,fma")]
unsafe fn max_s8(_t: Avx2, q: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    let p = &q.geometry;
    let c = p.channels;
    let x = input.as_ptr();
    let y = output.as_mut_ptr();
    // `clamp_s8` of a value already in i8: saturating both bounds to i8 first gives the same.
    let (lo8, hi8) = (q.act_min.clamp(-128, 127), q.act_max.clamp(-128, 127));
    let (lo, hi) = (_mm256_set1_epi8(lo8 as i8), _mm256_set1_epi8(hi8 as i8));
    let init = _mm256_set1_epi8(i8::MIN);
    for_each_pixel(p, |n, o, w| {
        let mut ch = 0;
        while ch + 64 <= c {
            let mut acc = [init; 2];
            for_each_tap_offset(p, n, w, |at| {
                for (j, a) in acc.iter_mut().enumerate() {
                    // SAFETY: channels `ch + 32j .. + 32 ≤ c` of a tap inside the input.
                    let v = unsafe { _mm256_loadu_si256(x.add(at + ch + 32 * j).cast()) };
                    *a = _mm256_max_epi8(*a, v);
                }
            });
            for (j, a) in acc.iter().enumerate() {
                let v = _mm256_min_epi8(_mm256_max_epi8(*a, lo), hi);
                // SAFETY: channels `ch + 32j .. + 32 ≤ c` of output pixel `o`.
                unsafe { _mm256_storeu_si256(y.add(o + ch + 32 * j).cast(), v) };
            }
            ch += 64;
        }
        // Fewer than 64 channels left: one vector of 32, 16, 8 bytes as they fit.
        for width in [32, 16, 8] {
            if ch + width <= c {
                let mut acc = init;
                for_each_tap_offset(p, n, w, |at| {
                    // SAFETY: channels `ch .. ch + width ≤ c` of a tap inside the input.
                    acc = _mm256_max_epi8(acc, unsafe { load_bytes(x.add(at + ch), width) });
                });
                let v = _mm256_min_epi8(_mm256_max_epi8(acc, lo), hi);
                // SAFETY: channels `ch .. ch + width ≤ c` of output pixel `o`.
                unsafe { store_bytes(y.add(o + ch), v, width) };
                ch += width;
            }
        }
        // Fewer than 8: the reference's arithmetic.
        for k in ch..c {
            let mut m = i8::MIN;
            // SAFETY: channel `k < c` of a tap inside the input.
            for_each_tap_offset(p, n, w, |at| m = m.max(unsafe { *x.add(at + k) }));
            // SAFETY: channel `k < c` of output pixel `o`.
            unsafe { *y.add(o + k) = clamp_s8(i32::from(m), q.act_min, q.act_max) };
        }
    });
}

/// # Safety
/// AVX2 available; slice lengths checked by `vector_geometry`; windows of at most
/// `MAX_AVG_S8_TAPS` taps.
#[target_feature(enable = "avx2,fma")]
unsafe fn avg_s8(_t: Avx2, q: &Pool2dS8Params, input: &[i8], output: &mut [i8]) {
    let p = &q.geometry;
    let c = p.channels;
    let x = input.as_ptr();
    let y = output.as_mut_ptr();
    let (lo, hi) = (_mm256_set1_epi32(q.act_min), _mm256_set1_epi32(q.act_max));
    for_each_pixel(p, |n, o, w| {
        let count = divisor(p, w);
        let half = _mm256_set1_epi32((count / 2) as i32);
        let div = _mm256_set1_ps(count as f32);
        // TFLite's `(sum ± count/2) / count` (truncating), exact in f32 below 2^24
        // (`MAX_AVG_S8_TAPS`), then the clamp; a window without taps gives 0.
        let finish = |sum: __m256i| -> __m256i {
            let q = if count == 0 {
                _mm256_setzero_si256()
            } else {
                let rounded = _mm256_add_epi32(sum, _mm256_sign_epi32(half, sum));
                _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(rounded), div))
            };
            _mm256_min_epi32(_mm256_max_epi32(q, lo), hi)
        };
        let mut ch = 0;
        while ch + 32 <= c {
            let mut acc = [_mm256_setzero_si256(); 4];
            for_each_tap_offset(p, n, w, |at| {
                for (j, a) in acc.iter_mut().enumerate() {
                    // SAFETY: channels `ch + 8j .. + 8 ≤ c` of a tap inside the input.
                    let v = unsafe { _mm_loadl_epi64(x.add(at + ch + 8 * j).cast()) };
                    *a = _mm256_add_epi32(*a, _mm256_cvtepi8_epi32(v));
                }
            });
            let lo16 = pack_16_avx2(finish(acc[0]), finish(acc[1]));
            let hi16 = pack_16_avx2(finish(acc[2]), finish(acc[3]));
            // SAFETY: channels `ch .. ch + 32 ≤ c` of output pixel `o`.
            unsafe {
                _mm_storeu_si128(y.add(o + ch).cast(), lo16);
                _mm_storeu_si128(y.add(o + ch + 16).cast(), hi16);
            }
            ch += 32;
        }
        while ch + 8 <= c {
            let mut acc = _mm256_setzero_si256();
            for_each_tap_offset(p, n, w, |at| {
                // SAFETY: channels `ch .. ch + 8 ≤ c` of a tap inside the input.
                let v = unsafe { _mm_loadl_epi64(x.add(at + ch).cast()) };
                acc = _mm256_add_epi32(acc, _mm256_cvtepi8_epi32(v));
            });
            let v = finish(acc);
            let bytes = pack_16_avx2(v, v);
            // SAFETY: channels `ch .. ch + 8 ≤ c` of output pixel `o`.
            unsafe { _mm_storel_epi64(y.add(o + ch).cast(), bytes) };
            ch += 8;
        }
        // Fewer than 8: the reference's arithmetic.
        for k in ch..c {
            let mut sum = 0i64;
            // SAFETY: channel `k < c` of a tap inside the input.
            for_each_tap_offset(p, n, w, |at| sum += i64::from(unsafe { *x.add(at + k) }));
            let avg = if count == 0 {
                0
            } else {
                rounded_average(sum, count as i64)
            };
            // SAFETY: channel `k < c` of output pixel `o`; |avg| ≤ 128.
            unsafe { *y.add(o + k) = clamp_s8(avg as i32, q.act_min, q.act_max) };
        }
    });
}
