//! Byte matrices (int8 activations) transposed 64 × 16 at a time with AVX-512: the SSE2 network
//! of 16 × 16 blocks ([`super::sse2`]) runs unchanged on zmm registers, where each 128-bit lane
//! is an independent 16 × 16 block. So 16 loads of whole source lines (64 bytes of a source row)
//! and the same 64 unpacks transpose four blocks at once, and each result register holds one
//! destination row of each block, stored lane by lane. Per 1 KiB: 16 loads, 64 unpacks, 64
//! stores, against 64, 256 and 64 with SSE2, whose 16-byte source reads also used a quarter of
//! each line they touched. Rows past the last whole 64 go to the SSE2 code.
//!
//! 4-byte matrices (f32) go 16 × 16 at a time, whole lines both ways: 16 loads, 64 shuffles
//! (two rounds of unpacks within 128-bit lanes, two of 128-bit lane shuffles), 16 stores; SSE2
//! needs 64 loads, 128 unpacks and 64 stores of quarter lines for the same kilobyte.
//!
//! Three planes (an RGB image's NCHW → NHWC at a model's input) are interleaved with permutes
//! instead ([`interleave3_bytes`], [`interleave3_words`]): each output line takes its pixels
//! from all three planes, which a square-block network would pad to 4 or 16 columns.

use core::arch::x86_64::*;

use crate::arch::x86::{Avx512Vbmi, Avx512Vnni};

/// `dst[r][c] = src[c][r]` for `src` = `[cols][rows]`, `dst` = `[rows][cols]`; `false` (nothing
/// written) without AVX-512 or when the lengths are not `rows · cols`.
pub(super) fn transpose_bytes(src: &[u8], dst: &mut [u8], rows: usize, cols: usize) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
        return false;
    };
    let done = blocks::<u8, 64, 16>(src, dst, rows, cols, |s, ss, d, ds| {
        // SAFETY: `tok` proves AVX-512 BW; `blocks` passes whole blocks inside the slices.
        unsafe { block64x16(tok, s, ss, d, ds) }
    });
    done.is_some_and(|rows64| super::sse2::transpose_bytes_from(src, dst, rows, cols, rows64))
}

/// The whole `R × C` blocks of a transpose (`R` destination rows of `C` elements), the columns
/// past the last whole block of those rows element by element; returns how many destination
/// rows are done (the rest go to the SSE2 code), `None` when the lengths are not `rows · cols`.
/// `block(src, src_stride, dst, dst_stride)` transposes one block.
fn blocks<T: Copy, const R: usize, const C: usize>(
    src: &[T],
    dst: &mut [T],
    rows: usize,
    cols: usize,
    block: impl Fn(*const T, usize, *mut T, usize),
) -> Option<usize> {
    let n = rows.saturating_mul(cols);
    if src.len() != n || dst.len() != n {
        return None;
    }
    let (rows_b, cols_b) = (rows - rows % R, cols - cols % C);
    let mut r0 = 0;
    while r0 < rows_b {
        let mut c0 = 0;
        while c0 < cols_b {
            // Source rows `c0 .. c0 + C ≤ cols` hold elements `r0 .. r0 + R ≤ rows`
            // (`src[c · rows + r]`), destination rows `r0 .. r0 + R` elements `c0 .. c0 + C`
            // (`dst[r · cols + c]`); both slices have `rows · cols` elements (checked above).
            block(
                src.as_ptr().wrapping_add(c0 * rows + r0),
                rows,
                dst.as_mut_ptr().wrapping_add(r0 * cols + c0),
                cols,
            );
            c0 += C;
        }
        for r in r0..r0 + R {
            for c in cols_b..cols {
                if let (Some(d), Some(&s)) = (dst.get_mut(r * cols + c), src.get(c * rows + r)) {
                    *d = s;
                }
            }
        }
        r0 += R;
    }
    Some(rows_b)
}

/// 64 destination rows of 16 bytes from 16 source rows of 64 bytes: four 16 × 16 blocks, one
/// per 128-bit lane.
///
/// # Safety
/// AVX-512 BW (`_t`); `src + i · src_stride` readable for 64 bytes for `i < 16`,
/// `dst + j · dst_stride` writable for 16 bytes for `j < 64`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
#[inline]
unsafe fn block64x16(
    _t: Avx512Vnni,
    src: *const u8,
    src_stride: usize,
    dst: *mut u8,
    dst_stride: usize,
) {
    // As `sse2::block16`: source row `bitrev(i)` in slot `i`, four rounds pairing slots `i` and
    // `i + 8`; after them slot `j`, lane `q` holds destination row `16q + j`.
    const BITREV4: [usize; 16] = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
    let mut v = [_mm512_setzero_si512(); 16];
    for i in 0..16 {
        // SAFETY: source row `BITREV4[i] < 16` of the block (caller).
        v[i] = unsafe { _mm512_loadu_si512(src.add(BITREV4[i] * src_stride).cast()) };
    }
    macro_rules! round {
        ($v:expr, $lo:ident, $hi:ident) => {{
            let mut o = [_mm512_setzero_si512(); 16];
            for i in 0..8 {
                o[2 * i] = $lo($v[i], $v[i + 8]);
                o[2 * i + 1] = $hi($v[i], $v[i + 8]);
            }
            o
        }};
    }
    let v = round!(v, _mm512_unpacklo_epi8, _mm512_unpackhi_epi8);
    let v = round!(v, _mm512_unpacklo_epi16, _mm512_unpackhi_epi16);
    let v = round!(v, _mm512_unpacklo_epi32, _mm512_unpackhi_epi32);
    let v = round!(v, _mm512_unpacklo_epi64, _mm512_unpackhi_epi64);
    for (j, x) in v.iter().enumerate() {
        // SAFETY: destination rows `16q + j < 64` of the block (caller).
        unsafe {
            _mm_storeu_si128(dst.add(j * dst_stride).cast(), _mm512_castsi512_si128(*x));
            _mm_storeu_si128(
                dst.add((16 + j) * dst_stride).cast(),
                _mm512_extracti32x4_epi32::<1>(*x),
            );
            _mm_storeu_si128(
                dst.add((32 + j) * dst_stride).cast(),
                _mm512_extracti32x4_epi32::<2>(*x),
            );
            _mm_storeu_si128(
                dst.add((48 + j) * dst_stride).cast(),
                _mm512_extracti32x4_epi32::<3>(*x),
            );
        }
    }
}

/// [`transpose_bytes`] for 4-byte elements.
pub(super) fn transpose_words(src: &[u32], dst: &mut [u32], rows: usize, cols: usize) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
        return false;
    };
    let done = blocks::<u32, 16, 16>(src, dst, rows, cols, |s, ss, d, ds| {
        // SAFETY: `tok` proves AVX-512 F; `blocks` passes whole blocks inside the slices.
        unsafe { block16x16_words(tok, s, ss, d, ds) }
    });
    done.is_some_and(|rows16| super::sse2::transpose_words_from(src, dst, rows, cols, rows16))
}

/// One 16 × 16 block of 4-byte elements (strides in elements).
///
/// # Safety
/// AVX-512 F (`_t`); `src + i · src_stride` readable and `dst + i · dst_stride` writable for
/// 16 elements, `i < 16`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
#[inline]
unsafe fn block16x16_words(
    _t: Avx512Vnni,
    src: *const u32,
    src_stride: usize,
    dst: *mut u32,
    dst_stride: usize,
) {
    let mut r = [_mm512_setzero_si512(); 16];
    for (i, v) in r.iter_mut().enumerate() {
        // SAFETY: source row `i < 16` of the block (caller).
        *v = unsafe { _mm512_loadu_si512(src.add(i * src_stride).cast()) };
    }
    // Within each 128-bit lane: rows 4k .. 4k + 4 become a 4 × 4 block transposed (dword then
    // qword interleaves).
    let mut t = [_mm512_setzero_si512(); 16];
    for k in 0..8 {
        t[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    for k in 0..4 {
        r[4 * k] = _mm512_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
        r[4 * k + 1] = _mm512_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
        r[4 * k + 2] = _mm512_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
        r[4 * k + 3] = _mm512_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    // Then the 4 × 4 arrangement of those blocks: lanes (0, 2) and (1, 3) of register pairs
    // four apart, then eight apart.
    for k in 0..4 {
        t[k] = _mm512_shuffle_i32x4::<0x88>(r[k], r[k + 4]);
        t[k + 4] = _mm512_shuffle_i32x4::<0xdd>(r[k], r[k + 4]);
        t[k + 8] = _mm512_shuffle_i32x4::<0x88>(r[k + 8], r[k + 12]);
        t[k + 12] = _mm512_shuffle_i32x4::<0xdd>(r[k + 8], r[k + 12]);
    }
    for k in 0..8 {
        r[k] = _mm512_shuffle_i32x4::<0x88>(t[k], t[k + 8]);
        r[k + 8] = _mm512_shuffle_i32x4::<0xdd>(t[k], t[k + 8]);
    }
    for (i, v) in r.iter().enumerate() {
        // SAFETY: destination row `i < 16` of the block (caller).
        unsafe { _mm512_storeu_si512(dst.add(i * dst_stride).cast(), *v) };
    }
}

/// Output vector `k` of [`interleave3_bytes`] (bytes `64k .. 64k + 64` of 64 interleaved
/// pixels): byte `j` is channel `(64k + j) % 3` of pixel `(64k + j) / 3`. The first table picks
/// channels 0 and 1 from the pair (plane 0, plane 1) with `vpermt2b` (indices 64 and up are the
/// second plane); the second picks channel 2 from plane 2 with a masked `vpermb`, the mask the
/// third value.
const INTERLEAVE3: ([[u8; 64]; 3], [[u8; 64]; 3], [u64; 3]) = {
    let mut ab = [[0u8; 64]; 3];
    let mut c = [[0u8; 64]; 3];
    let mut mask = [0u64; 3];
    let mut k = 0;
    while k < 3 {
        let mut j = 0;
        while j < 64 {
            let g = 64 * k + j;
            let (p, ch) = (g / 3, g % 3);
            if ch == 2 {
                c[k][j] = p as u8;
                mask[k] |= 1 << j;
            } else {
                ab[k][j] = (p + 64 * ch) as u8;
            }
            j += 1;
        }
        k += 1;
    }
    (ab, c, mask)
};

/// Three byte planes of `rows` elements (`src` = `[3][rows]`: an RGB image's channels, NCHW)
/// interleaved into `dst` = `[rows][3]` (NHWC): per 64 pixels three loads, six byte permutes
/// (VBMI) and three whole-line stores, where the portable zip moves one byte at a time (a
/// 224 × 224 int8 image 0.030 ms, 1 % of MobileNetV2's int8 inference). `false` (nothing
/// written) without VBMI or when the lengths are not `3 · rows`.
pub(super) fn interleave3_bytes(src: &[u8], dst: &mut [u8], rows: usize) -> bool {
    let Some(vbmi) = Avx512Vnni::get().and_then(Avx512Vbmi::get) else {
        return false;
    };
    interleave3_runs(src, dst, rows, 64, |src, dst, whole| {
        // SAFETY: VBMI proven; pixels `0 .. whole` of each plane and bytes `0 .. 3 · whole`
        // of `dst` exist (`interleave3_runs` checked the lengths).
        unsafe { interleave3_bytes_vbmi(vbmi, src, dst, rows, whole) }
    })
}

/// The length check and the scalar tail of the two interleaves: `runs(src, dst, whole)`
/// interleaves pixels `0 .. whole` (a multiple of `lanes`), the rest one pixel at a time.
/// `false` (nothing written) when the lengths are not `3 · rows`.
fn interleave3_runs<T: Copy>(
    src: &[T],
    dst: &mut [T],
    rows: usize,
    lanes: usize,
    runs: impl FnOnce(&[T], &mut [T], usize),
) -> bool {
    if src.len() != 3 * rows || dst.len() != 3 * rows {
        return false;
    }
    let whole = rows - rows % lanes;
    runs(src, dst, whole);
    let (a, rest) = src.split_at(rows);
    let (b, c) = rest.split_at(rows);
    for (p, o) in dst.chunks_exact_mut(3).enumerate().skip(whole) {
        if let (Some(&x), Some(&y), Some(&z)) = (a.get(p), b.get(p), c.get(p)) {
            o.copy_from_slice(&[x, y, z]);
        }
    }
    true
}

/// # Safety
/// AVX-512 VBMI (`_t`); `src` holds `3 · rows` bytes, `dst` at least `3 · whole`,
/// `whole ≤ rows` a multiple of 64.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx2")]
unsafe fn interleave3_bytes_vbmi(
    _t: Avx512Vbmi,
    src: &[u8],
    dst: &mut [u8],
    rows: usize,
    whole: usize,
) {
    let (tab_ab, tab_c, mask) = &INTERLEAVE3;
    // SAFETY: 64 bytes each.
    let (ab, c) = unsafe {
        (
            tab_ab.map(|t| _mm512_loadu_si512(t.as_ptr().cast())),
            tab_c.map(|t| _mm512_loadu_si512(t.as_ptr().cast())),
        )
    };
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    let mut p = 0;
    while p < whole {
        // SAFETY: pixels `p .. p + 64 ≤ whole ≤ rows` of the three planes; output bytes
        // `3p .. 3p + 192 ≤ 3 · whole` (caller).
        unsafe {
            let x0 = _mm512_loadu_si512(s.add(p).cast());
            let x1 = _mm512_loadu_si512(s.add(rows + p).cast());
            let x2 = _mm512_loadu_si512(s.add(2 * rows + p).cast());
            for k in 0..3 {
                let v = _mm512_permutex2var_epi8(x0, ab[k], x1);
                let v = _mm512_mask_permutexvar_epi8(v, mask[k], c[k], x2);
                _mm512_storeu_si512(d.add(3 * p + 64 * k).cast(), v);
            }
        }
        p += 64;
    }
}

/// [`INTERLEAVE3`] for 4-byte elements, 16 pixels per vector (`vpermt2d`, masked `vpermd`).
const INTERLEAVE3_WORDS: ([[u32; 16]; 3], [[u32; 16]; 3], [u16; 3]) = {
    let mut ab = [[0u32; 16]; 3];
    let mut c = [[0u32; 16]; 3];
    let mut mask = [0u16; 3];
    let mut k = 0;
    while k < 3 {
        let mut j = 0;
        while j < 16 {
            let g = 16 * k + j;
            let (p, ch) = (g / 3, g % 3);
            if ch == 2 {
                c[k][j] = p as u32;
                mask[k] |= 1 << j;
            } else {
                ab[k][j] = (p + 16 * ch) as u32;
            }
            j += 1;
        }
        k += 1;
    }
    (ab, c, mask)
};

/// [`interleave3_bytes`] for 4-byte elements (an f32 RGB image, NCHW → NHWC): per 16 pixels
/// three loads, six dword permutes (AVX-512F) and three stores (a 224 × 224 f32 image 0.071 ms
/// with the portable zip, 1 % of MobileNetV2's f32 inference). `false` (nothing written)
/// without AVX-512 or when the lengths are not `3 · rows`.
pub(super) fn interleave3_words(src: &[u32], dst: &mut [u32], rows: usize) -> bool {
    let Some(tok) = Avx512Vnni::get() else {
        return false;
    };
    interleave3_runs(src, dst, rows, 16, |src, dst, whole| {
        // SAFETY: AVX-512F proven; pixels `0 .. whole` of each plane and elements
        // `0 .. 3 · whole` of `dst` exist (`interleave3_runs` checked the lengths).
        unsafe { interleave3_words_avx512(tok, src, dst, rows, whole) }
    })
}

/// # Safety
/// AVX-512F (`_t`); `src` holds `3 · rows` elements, `dst` at least `3 · whole`, `whole ≤ rows`
/// a multiple of 16.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
unsafe fn interleave3_words_avx512(
    _t: Avx512Vnni,
    src: &[u32],
    dst: &mut [u32],
    rows: usize,
    whole: usize,
) {
    let (tab_ab, tab_c, mask) = &INTERLEAVE3_WORDS;
    // SAFETY: 16 dwords each.
    let (ab, c) = unsafe {
        (
            tab_ab.map(|t| _mm512_loadu_si512(t.as_ptr().cast())),
            tab_c.map(|t| _mm512_loadu_si512(t.as_ptr().cast())),
        )
    };
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    let mut p = 0;
    while p < whole {
        // SAFETY: pixels `p .. p + 16 ≤ whole ≤ rows` of the three planes; output elements
        // `3p .. 3p + 48 ≤ 3 · whole` (caller).
        unsafe {
            let x0 = _mm512_loadu_si512(s.add(p).cast());
            let x1 = _mm512_loadu_si512(s.add(rows + p).cast());
            let x2 = _mm512_loadu_si512(s.add(2 * rows + p).cast());
            for k in 0..3 {
                let v = _mm512_permutex2var_epi32(x0, ab[k], x1);
                let v = _mm512_mask_permutexvar_epi32(v, mask[k], c[k], x2);
                _mm512_storeu_si512(d.add(3 * p + 16 * k).cast(), v);
            }
        }
        p += 16;
    }
}
