//! Byte matrices (int8 activations) transposed 16 × 16 at a time with SSE2, part of every
//! x86-64 CPU (no detection): 16 loads, four rounds of 16 unpacks (bytes, words, dwords,
//! qwords), 16 stores; 4-byte matrices (f32) 4 × 4 at a time (two rounds of 4 unpacks), in
//! tiles of 16 × 16. The blocked portable walk copies one element at a time (about 2 ns per
//! element: the NCHW ↔ NHWC layout changes around a float model's quantized layers). The edges
//! that do not fill a block go element by element.

use core::arch::x86_64::*;

/// `dst[r][c] = src[c][r]` for `src` = `[cols][rows]`, `dst` = `[rows][cols]`; `false` (nothing
/// written) when the lengths are not `rows · cols`.
pub(super) fn transpose_bytes(src: &[u8], dst: &mut [u8], rows: usize, cols: usize) -> bool {
    transpose_bytes_from(src, dst, rows, cols, 0)
}

/// [`transpose_bytes`] for the destination rows from `r_start` on (the AVX-512 code has written
/// the ones before it).
pub(super) fn transpose_bytes_from(
    src: &[u8],
    dst: &mut [u8],
    rows: usize,
    cols: usize,
    r_start: usize,
) -> bool {
    let n = rows.saturating_mul(cols);
    if src.len() != n || dst.len() != n {
        return false;
    }
    let r_start = r_start.min(rows);
    let (rows16, cols16) = (r_start + (rows - r_start) / 16 * 16, cols - cols % 16);
    let mut r0 = r_start;
    while r0 < rows16 {
        let mut c0 = 0;
        while c0 < cols16 {
            // SAFETY: source rows `c0 .. c0 + 16 ≤ cols` hold elements `r0 .. r0 + 16 ≤ rows`
            // (`src[c · rows + r]`), destination rows `r0 .. r0 + 16` elements `c0 .. c0 + 16`
            // (`dst[r · cols + c]`); both slices have `rows · cols` bytes (checked above).
            unsafe {
                block16(
                    src.as_ptr().add(c0 * rows + r0),
                    rows,
                    dst.as_mut_ptr().add(r0 * cols + c0),
                    cols,
                )
            };
            c0 += 16;
        }
        r0 += 16;
    }
    // The edges: columns past `cols16` of the full rows, then the rows past `rows16`.
    for r in r_start..rows {
        let from = if r < rows16 { cols16 } else { 0 };
        for c in from..cols {
            if let (Some(d), Some(&s)) = (dst.get_mut(r * cols + c), src.get(c * rows + r)) {
                *d = s;
            }
        }
    }
    true
}

/// [`transpose_bytes`] for 4-byte elements.
pub(super) fn transpose_words(src: &[u32], dst: &mut [u32], rows: usize, cols: usize) -> bool {
    transpose_words_from(src, dst, rows, cols, 0)
}

/// [`transpose_words`] for the destination rows from `r_start` on (the AVX-512 code has written
/// the ones before it).
pub(super) fn transpose_words_from(
    src: &[u32],
    dst: &mut [u32],
    rows: usize,
    cols: usize,
    r_start: usize,
) -> bool {
    let n = rows.saturating_mul(cols);
    if src.len() != n || dst.len() != n {
        return false;
    }
    let r_start = r_start.min(rows);
    let (rows4, cols4) = (r_start + (rows - r_start) / 4 * 4, cols - cols % 4);
    // Tiles of 16 × 16 (a cache line of each source and destination row), 4 × 4 blocks inside.
    let mut r0 = r_start;
    while r0 < rows4 {
        let r_end = (r0 + 16).min(rows4);
        let mut c0 = 0;
        while c0 < cols4 {
            let c_end = (c0 + 16).min(cols4);
            let mut r = r0;
            while r < r_end {
                let mut c = c0;
                while c < c_end {
                    // SAFETY: source rows `c .. c + 4 ≤ cols` hold elements `r .. r + 4 ≤ rows`,
                    // destination rows `r .. r + 4` elements `c .. c + 4`; both slices have
                    // `rows · cols` elements (checked above).
                    unsafe {
                        block4(
                            src.as_ptr().add(c * rows + r),
                            rows,
                            dst.as_mut_ptr().add(r * cols + c),
                            cols,
                        )
                    };
                    c += 4;
                }
                r += 4;
            }
            c0 = c_end;
        }
        r0 = r_end;
    }
    for r in r_start..rows {
        let from = if r < rows4 { cols4 } else { 0 };
        for c in from..cols {
            if let (Some(d), Some(&s)) = (dst.get_mut(r * cols + c), src.get(c * rows + r)) {
                *d = s;
            }
        }
    }
    true
}

/// One 4 × 4 block of 4-byte elements (strides in elements).
///
/// # Safety
/// `src + i · src_stride` readable and `dst + i · dst_stride` writable for 4 elements, `i < 4`.
#[target_feature(enable = "sse2")]
#[inline]
unsafe fn block4(src: *const u32, src_stride: usize, dst: *mut u32, dst_stride: usize) {
    // SAFETY: rows 0–3 of the block (caller).
    let [a, b, c, d] =
        [0, 1, 2, 3].map(|i| unsafe { _mm_loadu_si128(src.add(i * src_stride).cast()) });
    let (ab_lo, cd_lo) = (_mm_unpacklo_epi32(a, b), _mm_unpacklo_epi32(c, d));
    let (ab_hi, cd_hi) = (_mm_unpackhi_epi32(a, b), _mm_unpackhi_epi32(c, d));
    let out = [
        _mm_unpacklo_epi64(ab_lo, cd_lo),
        _mm_unpackhi_epi64(ab_lo, cd_lo),
        _mm_unpacklo_epi64(ab_hi, cd_hi),
        _mm_unpackhi_epi64(ab_hi, cd_hi),
    ];
    for (i, v) in out.iter().enumerate() {
        // SAFETY: row `i` of the block (caller).
        unsafe { _mm_storeu_si128(dst.add(i * dst_stride).cast(), *v) };
    }
}

/// One 16 × 16 block: 16 source rows of 16 bytes `src_stride` apart into 16 destination rows
/// `dst_stride` apart.
///
/// # Safety
/// `src + i · src_stride` readable and `dst + i · dst_stride` writable for 16 bytes, `i < 16`.
#[target_feature(enable = "sse2")]
#[inline]
unsafe fn block16(src: *const u8, src_stride: usize, dst: *mut u8, dst_stride: usize) {
    // Each round below pairs rows `i` and `i + 8` and interleaves them at 1, 2, 4, then 8 bytes,
    // the pair's results becoming rows `2i` and `2i + 1`: a row's bits move up one place per
    // round with the column's top bit coming in below, so after four rounds row `j` holds column
    // `j`, its bytes in the bit-reversed order of the rows they came from. Loading source row
    // `bitrev(i)` into slot `i` puts them in order.
    const BITREV4: [usize; 16] = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
    let mut v = [_mm_setzero_si128(); 16];
    for (x, &row) in v.iter_mut().zip(&BITREV4) {
        // SAFETY: row `row < 16` of the block (caller).
        *x = unsafe { _mm_loadu_si128(src.add(row * src_stride).cast()) };
    }
    macro_rules! round {
        ($v:expr, $lo:ident, $hi:ident) => {{
            let mut o = [_mm_setzero_si128(); 16];
            for i in 0..8 {
                o[2 * i] = $lo($v[i], $v[i + 8]);
                o[2 * i + 1] = $hi($v[i], $v[i + 8]);
            }
            o
        }};
    }
    let v = round!(v, _mm_unpacklo_epi8, _mm_unpackhi_epi8);
    let v = round!(v, _mm_unpacklo_epi16, _mm_unpackhi_epi16);
    let v = round!(v, _mm_unpacklo_epi32, _mm_unpackhi_epi32);
    let v = round!(v, _mm_unpacklo_epi64, _mm_unpackhi_epi64);
    for (i, x) in v.iter().enumerate() {
        // SAFETY: row `i` of the block (caller).
        unsafe { _mm_storeu_si128(dst.add(i * dst_stride).cast(), *x) };
    }
}
